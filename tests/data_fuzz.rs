//! Randomised robustness: mutated CSV bytes never panic the reader, and every data row is accounted for
//! (a record or a reject) with a line number inside the file.

use l2core::data::{parse_csv, LoadOptions};
use l2core::rng::Rng;

const PIECES: &[&[u8]] = &[
    b"hello",
    b"1",
    b"0",
    b"2",
    b",",
    b"\n",
    b"\r\n",
    b"\"",
    b"\"\"",
    b"\0",
    b"\xff",
    b"\xc3",
    b"\xEF\xBB\xBF",
    b"  ",
    b"high",
    b"bogus",
    b"0.5",
    b"1.5",
    b"NaN",
    b"JB",
    b"\xe2\x82\xac",
    b"text",
    b"label",
];

fn random_body(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..rng.below(60) {
        out.extend_from_slice(PIECES[rng.below(PIECES.len())]);
    }
    out
}

#[test]
fn random_inputs_never_panic_and_every_row_is_counted() {
    let mut rng = Rng::new(2024);
    let headers: &[&[u8]] = &[b"text,label\n", b"text,label,severity,confidence\n", b"label,text,notes\r\n", b""];
    for _ in 0..3_000 {
        let mut bytes = headers[rng.below(headers.len())].to_vec();
        bytes.extend(random_body(&mut rng));
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let lenient = parse_csv(&bytes, "fuzz.csv", &LoadOptions { skip_invalid: true });
        let strict = parse_csv(&bytes, "fuzz.csv", &LoadOptions::default());
        match lenient {
            Ok(l) => {
                // csv-level record count, independent of our parser, to check nothing was dropped.
                let data: &[u8] = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
                let n = csv::ReaderBuilder::new().flexible(true).from_reader(data).byte_records().count();
                assert_eq!(l.records.len() + l.rejects.len(), n, "{bytes:?}");
                for r in &l.records {
                    assert!((2..=lines).contains(&r.origin.line), "line {} of {lines}", r.origin.line);
                    assert!(!r.text.trim().is_empty() && !r.text.contains('\0'));
                }
                for r in &l.rejects {
                    assert!((2..=lines).contains(&r.error.line), "line {} of {lines}", r.error.line);
                }
                assert_eq!(strict.is_ok(), l.rejects.is_empty());
            }
            Err(e) => {
                assert!(strict.is_err());
                assert!(e.to_string().contains("fuzz.csv"), "{e}");
            }
        }
    }
}
