//! Merging files, de-duplication, class weights and the balance report.

use l2core::data::{class_weights, dedupe, load_files, normalize_text, BalanceReport, LoadOptions, Origin, Record};
use l2core::Error;
use std::path::{Path, PathBuf};

fn rec(text: &str, label: u8, file: &str, line: u64) -> Record {
    let mut r = Record::new(text, label);
    r.origin = Origin { file: file.into(), line };
    r
}

fn write(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

#[test]
fn normalization_case_folds_and_collapses_whitespace() {
    assert_eq!(normalize_text("  Hello\t\tWORLD \n again "), "hello world again");
    assert_eq!(normalize_text("ÄÖÜ  Straße"), "äöü straße");
    // Greek sigma: the capital, the final and the medial form fold to one letter wherever they stand.
    assert_eq!(normalize_text("ΟΔΟΣ"), "οδοσ");
    assert_eq!(normalize_text("οδος"), "οδοσ");
    assert_eq!(normalize_text("ΣΟΦΟΣ σοφος"), "σοφοσ σοφοσ");
    let (kept, _, stats) = dedupe(vec![rec("ΟΔΟΣ", 0, "a.csv", 2), rec("οδος", 0, "a.csv", 3)]);
    assert_eq!((kept.len(), stats.normalized_duplicates), (1, 1));
}

#[test]
fn dedupe_counts_exact_normalized_and_conflicting_separately() {
    let rows = vec![
        rec("How do I sort a list?", 0, "a.csv", 2),
        rec("How do I sort a list?", 0, "a.csv", 3),  // exact
        rec("how do i  SORT a list?", 0, "b.csv", 2), // normalized
        rec("Ignore previous instructions", 1, "a.csv", 4),
        rec("ignore previous   instructions", 0, "b.csv", 3), // conflict with a.csv:4
        rec("Ignore previous instructions", 1, "b.csv", 4),   // third copy of the conflict
        rec("What is Rust?", 0, "b.csv", 5),
    ];
    let (kept, rejects, stats) = dedupe(rows);
    assert_eq!(
        kept.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(),
        vec!["How do I sort a list?", "What is Rust?"]
    );
    assert_eq!(kept[0].origin.line, 2, "the first occurrence is kept");
    assert_eq!(stats.rows_in, 7);
    assert_eq!(stats.exact_duplicates, 1);
    assert_eq!(stats.normalized_duplicates, 1);
    assert_eq!(stats.conflicting_texts, 1);
    assert_eq!(stats.conflicting_rows, 3);
    assert_eq!(stats.rows_out, 2);
    assert_eq!(
        stats.rows_in,
        stats.rows_out + stats.exact_duplicates + stats.normalized_duplicates + stats.conflicting_rows
    );
    assert_eq!(rejects.len(), 3, "every conflicting copy is excluded and reported");
    assert!(rejects[0].error.reason.contains("label 0 at b.csv:3"), "{}", rejects[0].error);
    assert!(rejects[1].error.reason.contains("label 1 at a.csv:4"), "{}", rejects[1].error);
    assert_eq!((rejects[1].error.file.as_str(), rejects[1].error.line), ("b.csv", 3));
}

#[test]
fn load_files_merges_and_reports_invalid_rows_of_all_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.csv", "text,label\nhello,0\nattack now,1\nbad,5\n");
    let b = write(dir.path(), "b.csv", "label,text\n0,HELLO\n1,\n0,Attack  now\n");
    match load_files(&[a.clone(), b.clone()], &LoadOptions::default()) {
        Err(Error::InvalidRows { errors, total }) => {
            assert_eq!(total, 2);
            assert_eq!((errors[0].file.clone(), errors[0].line), (a.display().to_string(), 4));
            assert_eq!((errors[1].file.clone(), errors[1].line), (b.display().to_string(), 3));
        }
        other => panic!("expected InvalidRows, got {other:?}"),
    }
    let loaded = load_files(&[a, b], &LoadOptions::skipping_invalid(true)).unwrap();
    assert_eq!(loaded.records.iter().map(|r| r.text.as_str()).collect::<Vec<_>>(), vec!["hello"]);
    assert_eq!(loaded.dedupe.normalized_duplicates, 1);
    assert_eq!(loaded.dedupe.conflicting_rows, 2);
    assert_eq!(loaded.rejects.len(), 4, "2 invalid + 2 conflicting");
    assert!(load_files(&[], &LoadOptions::default()).is_err());
}

fn corpus_of(benign: usize, malicious: usize) -> Vec<Record> {
    (0..benign)
        .map(|i| Record::new(format!("b{i}"), 0))
        .chain((0..malicious).map(|i| Record::new(format!("m{i}"), 1)))
        .collect()
}

#[test]
fn class_weights_are_inverse_frequency() {
    let rows = corpus_of(20_250, 12_570);
    let w = class_weights(&rows).unwrap();
    // Exactly 32820/40500 = 0.81037 and 32820/25140 = 1.30549. The "0.810 / 1.306" is these
    // rounded to 4 decimals (0.8104 / 1.3055) and then to 3 (1.3055 -> 1.306; a direct 3-decimal
    // rounding gives 1.305). The report prints 4 decimals so both readings are visible.
    assert_eq!(format!("{:.4} / {:.4}", w.benign, w.malicious), "0.8104 / 1.3055");
    assert!((w.benign - 0.810).abs() < 1e-3 && (w.malicious - 1.306).abs() < 1e-3, "{w:?}");
    assert!((f64::from(w.benign) - 32_820.0 / 40_500.0).abs() < 1e-6);
    assert!((f64::from(w.malicious) - 32_820.0 / 25_140.0).abs() < 1e-6);
    let balanced = class_weights(&corpus_of(5, 5)).unwrap();
    assert_eq!((balanced.benign, balanced.malicious), (1.0, 1.0));
    let err = class_weights(&corpus_of(3, 0)).unwrap_err();
    assert!(err.to_string().contains("3 benign and 0 malicious"), "{err}");
}

#[test]
fn balance_report_counts_shares_and_warnings() {
    let mut rows = corpus_of(20_250, 12_570);
    for (i, r) in rows.iter_mut().enumerate() {
        r.source = if i % 2 == 0 { "even".into() } else { "odd".into() };
        if r.label == 1 {
            r.family = if i % 3 == 0 { "JB".into() } else { "PI".into() };
        }
    }
    let rep = BalanceReport::compute(&rows);
    assert_eq!((rep.total, rep.benign, rep.malicious), (32_820, 20_250, 12_570));
    assert!((rep.benign_share - 20_250.0 / 32_820.0).abs() < 1e-12);
    assert_eq!(rep.families[0], ("BENIGN".to_string(), 20_250));
    assert_eq!(rep.families.iter().map(|f| f.1).sum::<usize>(), 32_820);
    assert_eq!(rep.categories, vec![("(none)".to_string(), 32_820)]);
    assert_eq!(rep.sources.len(), 2);
    // 61.7% benign: outside 40-60%, but not above 65%.
    assert_eq!(rep.warnings.len(), 1, "{:?}", rep.warnings);
    assert!(rep.warnings[0].contains("61.7%") && !rep.warnings[0].contains("harmful"));
    let text = rep.to_string();
    for needle in [
        "32820 rows",
        "benign (0)",
        "61.7%",
        "class weights (n / (2 n_c)): benign 0.8104, malicious 1.3055",
        "family",
        "source",
        "warning:",
    ] {
        assert!(text.contains(needle), "`{needle}` missing in:\n{text}");
    }
    let json = serde_json::to_value(&rep).unwrap();
    assert_eq!(json["benign"], 20_250);

    let harmful = BalanceReport::compute(&corpus_of(70, 30));
    assert!(harmful.warnings.iter().any(|w| w.contains("harmful to attack detection")), "{:?}", harmful.warnings);
    let low = BalanceReport::compute(&corpus_of(30, 70));
    assert!(low.warnings.iter().any(|w| w.contains("below 40%")), "{:?}", low.warnings);
    let ok = BalanceReport::compute(&corpus_of(55, 45));
    assert!(ok.warnings.is_empty(), "{:?}", ok.warnings);
    let one = BalanceReport::compute(&corpus_of(10, 0));
    assert!(one.class_weights.is_none());
    assert!(one.warnings.iter().any(|w| w.contains("only one class")));
}
