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

/// Line breaks: `\n`, `\r\n` and a lone `\r` are one each.
fn breaks(b: &[u8]) -> u64 {
    let lone_cr = |i: usize| b[i] == b'\r' && b.get(i + 1) != Some(&b'\n');
    (0..b.len()).filter(|&i| b[i] == b'\n' || lone_cr(i)).count() as u64
}

/// Physical lines: the line breaks, and a last line without one.
fn physical_lines(b: &[u8]) -> u64 {
    breaks(b) + u64::from(b.last().is_some_and(|&c| c != b'\n' && c != b'\r'))
}

#[test]
fn random_inputs_never_panic_and_every_row_is_counted() {
    let mut rng = Rng::new(2024);
    let headers: &[&[u8]] = &[b"text,label\n", b"text,label,severity,confidence\n", b"label,text,notes\r\n", b""];
    for _ in 0..3_000 {
        let mut bytes = headers[rng.below(headers.len())].to_vec();
        bytes.extend(random_body(&mut rng));
        let lines = physical_lines(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes));
        let lenient = parse_csv(&bytes, "fuzz.csv", &LoadOptions::skipping_invalid(true));
        let strict = parse_csv(&bytes, "fuzz.csv", &LoadOptions::default());
        match lenient {
            Ok(l) => {
                // Every physical line (counted here, independently of the reader) is a header, row,
                // rejected or blank line: nothing is swallowed.
                let t = l.lines;
                assert_eq!(t.total, lines, "{bytes:?}");
                assert_eq!(t.header + t.rows + t.rejected + t.blank, lines, "{bytes:?}");
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

/// Texts the writer must quote (commas, quotes, CR, LF, CRLF) read back exactly, on the lines the
/// writer put them.
#[test]
fn random_texts_round_trip_through_write_and_read() {
    const ATOMS: &[&str] = &["a", "b c", ",", "\"", "\"\"", "\n", "\r\n", "\r", "é", " ", "x\"y", "'"];
    let mut rng = Rng::new(7);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rt.csv");
    for _ in 0..200 {
        let rows: Vec<l2core::data::Record> = (0..1 + rng.below(20))
            .map(|i| {
                let mut t: String = (0..1 + rng.below(8)).map(|_| ATOMS[rng.below(ATOMS.len())]).collect();
                t.push_str(&format!(" #{i}"));
                l2core::data::Record::new(t, (i % 2) as u8)
            })
            .collect();
        l2core::data::write_csv(&path, &rows).unwrap();
        let back = l2core::data::read_csv(&path, &LoadOptions::default()).unwrap();
        let texts: Vec<&str> = back.records.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, rows.iter().map(|r| r.text.as_str()).collect::<Vec<_>>());
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(back.lines.total, physical_lines(&bytes));
        // Each record starts on the line after the previous one ended.
        let mut line = 2;
        for r in &back.records {
            assert_eq!(r.origin.line, line, "{bytes:?}");
            line += breaks(r.text.as_bytes()) + 1;
        }
    }
}
