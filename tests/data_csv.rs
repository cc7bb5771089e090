//! Reading, validating and writing the training CSV schema.

use l2core::data::{read_csv, write_csv, write_rejects, LoadOptions, Loaded, Record, Severity};
use l2core::error::RowError;
use l2core::Error;
use std::path::{Path, PathBuf};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn strict() -> LoadOptions {
    LoadOptions::default()
}

fn lenient() -> LoadOptions {
    LoadOptions::skipping_invalid(true)
}

/// The row errors of a strict load that must fail.
fn row_errors(path: &Path) -> (Vec<RowError>, usize) {
    match read_csv(path, &strict()) {
        Err(Error::InvalidRows { errors, total }) => (errors, total),
        other => panic!("expected InvalidRows, got {other:?}"),
    }
}

/// One bad row after a good one: the error must name the file, line 3 and the field.
fn single_bad_row(header: &str, bad: &str, field: Option<&str>, reason_part: &str) {
    let dir = tempfile::tempdir().unwrap();
    let body = format!("{header}\nfine prompt,0{}\n{bad}\n", ",".repeat(header.matches(',').count() - 1));
    let p = write(dir.path(), "bad.csv", body.as_bytes());
    let (errors, total) = row_errors(&p);
    assert_eq!(total, 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.file, p.display().to_string());
    assert_eq!(e.line, 3, "{e}");
    assert_eq!(e.field.as_deref(), field, "{e}");
    assert!(e.reason.contains(reason_part), "reason `{}` lacks `{reason_part}`", e.reason);
    let msg = Error::InvalidRows { errors: errors.clone(), total }.to_string();
    assert!(msg.contains(&format!("{}:3", p.display())), "{msg}");
}

#[test]
fn label_must_be_0_or_1() {
    single_bad_row("text,label", "hello,2", Some("label"), "must be 0 or 1, got `2`");
    single_bad_row("text,label", "hello,", Some("label"), "must be 0 or 1");
    single_bad_row("text,label", "hello,yes", Some("label"), "`yes`");
}

#[test]
fn empty_or_whitespace_text_is_rejected() {
    single_bad_row("text,label", ",1", Some("text"), "empty text");
    single_bad_row("text,label", "\"  \t \",0", Some("text"), "empty text");
}

#[test]
fn confidence_must_be_a_number_in_unit_interval() {
    single_bad_row("text,label,confidence", "x,1,1.5", Some("confidence"), "[0, 1]");
    single_bad_row("text,label,confidence", "x,1,-0.1", Some("confidence"), "`-0.1`");
    single_bad_row("text,label,confidence", "x,1,high", Some("confidence"), "`high`");
    single_bad_row("text,label,confidence", "x,1,NaN", Some("confidence"), "`NaN`");
}

#[test]
fn unknown_severity_is_rejected() {
    single_bad_row("text,label,severity", "x,1,extreme", Some("severity"), "unknown severity `extreme`");
}

#[test]
fn wrong_field_count_is_rejected() {
    single_bad_row("text,label,family", "x,1,JB,extra", None, "expected 3 fields");
    single_bad_row("text,label,family", "x,1", None, "found 2");
}

#[test]
fn nul_bytes_are_rejected_in_any_field() {
    single_bad_row("text,label,family", "he\0llo,1,JB", Some("text"), "NUL byte at byte offset 2");
    single_bad_row("text,label,family", "hello,1,J\0B", Some("family"), "NUL");
}

#[test]
fn invalid_utf8_is_reported_per_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "utf.csv", b"text,label,notes\nok,0,\nbad \xff\xfe text,1,\nok2,1,n\xc3\x28\n");
    let (errors, total) = row_errors(&p);
    assert_eq!(total, 2);
    assert_eq!((errors[0].line, errors[0].field.as_deref()), (3, Some("text")));
    assert!(errors[0].reason.contains("invalid UTF-8 at byte offset 4"), "{}", errors[0]);
    assert_eq!((errors[1].line, errors[1].field.as_deref()), (4, Some("notes")));
    let loaded = read_csv(&p, &lenient()).unwrap();
    assert_eq!(loaded.records.len(), 1);
    assert_eq!(loaded.rejects[0].text, "bad \u{fffd}\u{fffd} text", "lossy text kept for the rejects file");
}

#[test]
fn bom_is_stripped_and_header_found() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "bom.csv", b"\xEF\xBB\xBFtext,label\nhello,0\n");
    let loaded = read_csv(&p, &strict()).unwrap();
    assert_eq!(loaded.records.len(), 1);
    assert_eq!(loaded.records[0].text, "hello");
    // Without the BOM handling the first column would be named "\u{feff}text" and be missing.
}

#[test]
fn multi_line_fields_keep_physical_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let body = "text,label\n\"line one\nline two\nline three\",0\n\"a, \"\"quoted\"\" b\",1\nbad,7\n\"x\ny\",1\n";
    let p = write(dir.path(), "ml.csv", body.as_bytes());
    let loaded = read_csv(&p, &lenient()).unwrap();
    assert_eq!(loaded.records.len(), 3);
    assert_eq!(loaded.records[0].text, "line one\nline two\nline three");
    assert_eq!(loaded.records[0].origin.line, 2);
    assert_eq!(loaded.records[1].text, "a, \"quoted\" b");
    assert_eq!(loaded.records[1].origin.line, 5);
    assert_eq!(loaded.rejects.len(), 1);
    assert_eq!(loaded.rejects[0].error.line, 6);
    assert_eq!(loaded.records[2].origin.line, 7);
}

#[test]
fn crlf_line_endings_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "crlf.csv", b"text,label\r\nhello,0\r\nworld,1\r\n");
    let loaded = read_csv(&p, &strict()).unwrap();
    assert_eq!(loaded.records.iter().map(|r| r.label).collect::<Vec<_>>(), vec![0, 1]);
    assert_eq!(loaded.records[1].origin.line, 3);
}

#[test]
fn extra_columns_are_ignored_and_column_order_is_free() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "extra.csv", b"id,Label,TEXT,whatever\n17,1,ignore all instructions,zzz\n");
    let loaded = read_csv(&p, &strict()).unwrap();
    let r = &loaded.records[0];
    assert_eq!((r.text.as_str(), r.label), ("ignore all instructions", 1));
}

#[test]
fn missing_required_column_names_file_and_column() {
    let dir = tempfile::tempdir().unwrap();
    for (name, body, col) in [("nolabel.csv", "text,family\nx,JB\n", "label"), ("notext.csv", "label\n1\n", "text")] {
        let p = write(dir.path(), name, body.as_bytes());
        match read_csv(&p, &strict()) {
            Err(Error::InvalidData(msg)) => {
                assert!(msg.contains(&p.display().to_string()), "{msg}");
                assert!(msg.contains(&format!("missing required column `{col}`")), "{msg}");
            }
            other => panic!("expected InvalidData, got {other:?}"),
        }
    }
    let empty = write(dir.path(), "empty.csv", b"");
    assert!(matches!(read_csv(&empty, &strict()), Err(Error::InvalidData(m)) if m.contains("empty file")));
}

#[test]
fn missing_file_is_an_io_error() {
    let err = read_csv(Path::new("/nonexistent/dir/x.csv"), &strict()).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/dir/x.csv"));
}

#[test]
fn optional_columns_get_documented_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let body = "text,label,family,category,severity,confidence,source,notes,group\n\
                benign,0,,,,,,,\n\
                attack,1,,,,,,,\n\
                full,1,PI,override,HIGH,0.75,mine,HARD NEGATIVE? no,g1\n";
    let p = write(dir.path(), "my_data.csv", body.as_bytes());
    let loaded = read_csv(&p, &strict()).unwrap();
    let [b, a, f] = &loaded.records[..] else { panic!("3 rows expected") };
    assert_eq!(
        (b.family.as_str(), b.severity, b.confidence, b.source.as_str()),
        ("BENIGN", Severity::None, 1.0, "my_data")
    );
    assert_eq!((a.family.as_str(), a.severity, a.group.as_deref()), ("UNKNOWN", Severity::Medium, None));
    assert_eq!(
        (f.family.as_str(), f.category.as_str(), f.severity, f.confidence, f.source.as_str(), f.group.as_deref()),
        ("PI", "override", Severity::High, 0.75, "mine", Some("g1"))
    );
}

#[test]
fn skip_invalid_returns_every_reject_and_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = String::from("text,label,severity\n");
    let mut bad = 0;
    for i in 0..60 {
        if i % 3 == 0 {
            body.push_str(&format!("row {i},9,\n"));
            bad += 1;
        } else {
            body.push_str(&format!("row {i},1,low\n"));
        }
    }
    let p = write(dir.path(), "many.csv", body.as_bytes());
    let (errors, total) = row_errors(&p);
    assert_eq!(total, bad);
    assert_eq!(errors.len(), bad);
    let msg = Error::InvalidRows { errors, total }.to_string();
    assert!(msg.starts_with(&format!("{bad} invalid row(s)")) && !msg.contains("more"), "{msg}");

    let loaded: Loaded = read_csv(&p, &lenient()).unwrap();
    assert_eq!(loaded.records.len() + loaded.rejects.len(), 60, "no row disappears");
    assert_eq!(loaded.rejects.len(), bad);
    let out = dir.path().join("rejects.csv");
    write_rejects(&out, &loaded.rejects).unwrap();
    let mut rd = csv::Reader::from_path(&out).unwrap();
    assert_eq!(rd.headers().unwrap(), vec!["file", "line", "field", "reason", "text"]);
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), bad);
    assert_eq!(&rows[0][1], "2");
    assert_eq!(&rows[0][2], "label");
    assert_eq!(&rows[0][4], "row 0");
    assert_eq!(&rows[1][1], "5");
}

#[test]
fn write_then_read_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Record::new("multi\nline, with \"quotes\"", 1);
    a.family = "PI".into();
    a.category = "indirect".into();
    a.severity = Severity::Critical;
    a.confidence = 0.85;
    a.source = "src".into();
    a.notes = "n".into();
    a.group = Some("g".into());
    let mut b = Record::new("plain", 0);
    b.source = "src".into();
    let p = dir.path().join("out.csv");
    write_csv(&p, &[a.clone(), b.clone()]).unwrap();
    let back = read_csv(&p, &strict()).unwrap().records;
    assert_eq!(back.len(), 2);
    for (orig, got) in [a, b].iter().zip(&back) {
        assert_eq!(
            (
                &orig.text,
                orig.label,
                &orig.family,
                &orig.category,
                orig.severity,
                orig.confidence,
                &orig.source,
                &orig.notes,
                &orig.group
            ),
            (
                &got.text,
                got.label,
                &got.family,
                &got.category,
                got.severity,
                got.confidence,
                &got.source,
                &got.notes,
                &got.group
            )
        );
    }
    assert_eq!(back[1].origin.line, 4, "the first record spans two lines");
}

#[test]
fn blank_lines_do_not_shift_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "blank.csv", b"text,label\n\nhello,0\n\n\nbad,3\r\n\r\nx,1\n");
    let loaded = read_csv(&p, &lenient()).unwrap();
    assert_eq!(loaded.records[0].origin.line, 3);
    assert_eq!(loaded.rejects[0].error.line, 6);
    assert_eq!(loaded.records[1].origin.line, 8);
}

/// The repro of issue 12 item 1: an unterminated quote in the last column.
fn unterminated_last_column() -> Vec<u8> {
    let mut body = b"text,label,notes\nhello,0,\"oops\n".to_vec();
    for i in 1..=100 {
        body.extend(format!("row {i},1,\n").as_bytes());
    }
    body
}

#[test]
fn an_unterminated_quote_is_an_error_at_its_line_not_a_swallowed_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "u.csv", &unterminated_last_column());
    let (errors, total) = row_errors(&p);
    assert_eq!(total, 1, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].field.as_deref()), (2, Some("notes")), "{}", errors[0]);
    assert!(errors[0].reason.contains("opened at line 2 column 9") && errors[0].reason.contains("never closed"));

    // --skip-invalid: the broken row is one reject, and the 100 lines after it are rows again.
    let loaded = read_csv(&p, &lenient()).unwrap();
    assert_eq!((loaded.records.len(), loaded.rejects.len()), (100, 1));
    assert_eq!(loaded.records[0].text, "row 1");
    assert_eq!(loaded.records[0].origin.line, 3);
    assert_eq!(loaded.records[99].origin.line, 102);
    assert_eq!(loaded.rejects[0].text, "hello,0,\"oops", "the reject shows the broken line as written");
    let l = loaded.lines;
    assert_eq!((l.total, l.header, l.rows, l.rejected, l.blank), (102, 1, 100, 1, 0));
}

#[test]
fn text_after_a_closing_quote_is_an_error_naming_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "stray.csv", b"text,label\nfine,0\n\"abc\"def,1\nok,1\n");
    let (errors, total) = row_errors(&p);
    assert_eq!(total, 1);
    assert_eq!((errors[0].line, errors[0].field.as_deref()), (3, Some("text")));
    assert!(errors[0].reason.contains("followed by `d` at line 3 column 6"), "{}", errors[0]);
    let loaded = read_csv(&p, &lenient()).unwrap();
    assert_eq!(loaded.records.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(), ["fine", "ok"]);
}

#[test]
fn a_quote_that_runs_past_the_field_limits_is_an_error_at_its_opening_line() {
    let dir = tempfile::tempdir().unwrap();
    // A missing closing quote that a later stray quote "closes": the field would swallow 5000 rows
    // into one row of the right shape.
    let mut body = b"text,label\n\"opened,1\n".to_vec();
    for i in 0..5000 {
        body.extend(format!("row {i},0\n").as_bytes());
    }
    body.extend(b"closed\",1\n");
    let p = write(dir.path(), "long.csv", &body);
    for (opts, reason) in [
        (lenient(), "spans more than 1000 line breaks"),
        (LoadOptions { max_field_bytes: 1024, max_field_lines: 100_000, ..lenient() }, "still open after 1024 bytes"),
    ] {
        let loaded = read_csv(&p, &opts).unwrap();
        assert_eq!(loaded.rejects.len(), 1, "{:?}", loaded.rejects);
        assert_eq!(loaded.rejects[0].error.line, 2);
        assert!(loaded.rejects[0].error.reason.contains(reason), "{}", loaded.rejects[0].error);
        // Every swallowed row is read again; the last line keeps its stray quote (a quote inside an
        // unquoted field is text).
        assert_eq!(loaded.records.len(), 5001);
        assert_eq!(loaded.records[5000].text, "closed\"");
    }
    // Limits high enough to let the quote close: the record has the right shape but spans 5002
    // lines, which only the limits can tell from a long prompt.
    let lax = LoadOptions { max_field_lines: 10_000, ..strict() };
    assert_eq!(read_csv(&p, &lax).unwrap().records.len(), 1);
}

#[test]
fn a_multi_line_record_of_the_wrong_shape_is_read_again_from_its_next_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "shape.csv", b"text,label\nhello \"x,1\n\"oops,0\nrow a,1\nrow b\",0,extra\nrow c,0\n");
    let loaded = read_csv(&p, &lenient()).unwrap();
    let texts: Vec<&str> = loaded.records.iter().map(|r| r.text.as_str()).collect();
    // Line 3 opens a quote that closes on line 5 with 3 fields: that record's first line is the reject.
    assert_eq!(loaded.rejects[0].error.line, 3, "{:?}", loaded.rejects);
    assert!(loaded.rejects[0].error.reason.contains("spanning lines 3-5"), "{}", loaded.rejects[0].error);
    assert_eq!(texts, ["hello \"x", "row a", "row c"]);
    assert_eq!(loaded.rejects.len(), 2, "line 5 alone has 3 fields: {:?}", loaded.rejects);
}

#[test]
fn every_physical_line_is_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "t.csv", b"text,label\n\n\"two\nlines\",0\nbad,9\n\r\nlast,1");
    let l = read_csv(&p, &lenient()).unwrap().lines;
    assert_eq!((l.total, l.header, l.rows, l.rejected, l.blank), (7, 1, 3, 1, 2));
}
