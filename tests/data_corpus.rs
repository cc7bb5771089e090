//! The built-in corpus, the built-in hard negatives, and loading the shared public data when present.

use l2core::data::corpus::{generate, hard_negatives, CorpusParams, SOURCE};
use l2core::data::{
    dedupe, load_files, normalize_text, read_csv, split, write_csv, BalanceReport, LoadOptions, SplitParams,
};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

#[test]
fn corpus_is_deterministic_for_a_seed() {
    let a = generate(&CorpusParams::default());
    let b = generate(&CorpusParams::default());
    assert_eq!(a, b);
    let c = generate(&CorpusParams { seed: 8 });
    assert_ne!(a.iter().map(|r| &r.text).collect::<Vec<_>>(), c.iter().map(|r| &r.text).collect::<Vec<_>>());
}

#[test]
fn corpus_composition() {
    let rows = generate(&CorpusParams::default());
    assert!((4_000..=6_000).contains(&rows.len()), "{} rows", rows.len());
    let rep = BalanceReport::compute(&rows);
    assert!((0.55..=0.60).contains(&rep.benign_share), "benign share {}", rep.benign_share);
    assert!(rep.warnings.is_empty() || rep.warnings.iter().all(|w| !w.contains("harmful")));
    let fam: HashMap<&str, usize> = rep.families.iter().map(|(f, c)| (f.as_str(), *c)).collect();
    for f in ["JB", "PI", "CMD", "PII"] {
        assert!(fam.get(f).copied().unwrap_or(0) >= 300, "family {f}: {:?}", fam.get(f));
    }
    let cats: HashSet<&str> = rows.iter().filter(|r| r.label == 0).map(|r| r.category.as_str()).collect();
    for c in [
        "programming",
        "technical_docs",
        "conversational",
        "edge_cases",
        "professional",
        "education",
        "general_knowledge",
        "creative",
        "hard_negative",
    ] {
        assert!(cats.contains(c), "benign category {c} missing");
    }
    let hn = rows.iter().filter(|r| r.is_hard_negative()).count();
    assert!(hn >= 250, "{hn} hard negatives in the corpus");
    for r in &rows {
        assert_eq!(r.source, SOURCE);
        assert!(r.group.is_some(), "every row has a group: {}", r.text);
        assert!((0.0..=1.0).contains(&r.confidence));
        assert!(!r.text.trim().is_empty());
        assert_eq!(r.is_malicious(), r.family != "BENIGN", "{}", r.text);
        assert_eq!(r.is_malicious(), r.severity != l2core::data::Severity::None, "{}", r.text);
        assert!(!r.text.contains('\0'));
    }
    let severities: HashSet<_> = rows.iter().filter(|r| r.label == 1).map(|r| r.severity).collect();
    assert!(severities.len() >= 3, "{severities:?}");
    // Groups are templates: many rows per group, enough groups per family for a split.
    let groups: HashSet<&str> = rows.iter().filter_map(|r| r.group.as_deref()).collect();
    assert!(groups.len() > 150 && groups.len() < rows.len() / 2, "{} groups", groups.len());
    // The generator already leaves nothing for dedupe to remove.
    let (kept, rejects, stats) = dedupe(rows.clone());
    assert_eq!((kept.len(), rejects.len()), (rows.len(), 0), "{stats:?}");
}

#[test]
fn corpus_variants_of_a_template_land_in_one_split() {
    let rows = generate(&CorpusParams::default());
    let s = split(rows, &SplitParams::default()).unwrap();
    let mut home: HashMap<String, usize> = HashMap::new();
    for (i, part) in [&s.train, &s.val, &s.test].iter().enumerate() {
        for r in part.iter() {
            let g = r.group.clone().unwrap();
            assert_eq!(*home.entry(g.clone()).or_insert(i), i, "group {g} straddles splits");
        }
        for f in ["JB", "PI", "CMD", "PII", "BENIGN"] {
            assert!(part.iter().any(|r| r.family == f), "split {i} lacks {f}");
        }
        assert!(part.iter().any(|r| r.is_hard_negative()), "split {i} lacks hard negatives");
    }
}

#[test]
fn corpus_round_trips_through_csv() {
    let rows = generate(&CorpusParams::default());
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("corpus.csv");
    write_csv(&p, &rows).unwrap();
    let back = read_csv(&p, &LoadOptions::default()).unwrap().records;
    assert_eq!(back.len(), rows.len());
    for (a, b) in rows.iter().zip(&back) {
        assert_eq!(
            (&a.text, a.label, &a.family, &a.group, a.confidence),
            (&b.text, b.label, &b.family, &b.group, b.confidence)
        );
    }
}

#[test]
fn at_least_250_distinct_hard_negatives() {
    let hn = hard_negatives();
    let distinct: HashSet<String> = hn.iter().map(|r| normalize_text(&r.text)).collect();
    assert!(distinct.len() >= 250, "{} distinct hard negatives", distinct.len());
    assert_eq!(distinct.len(), hn.len());
    for r in &hn {
        assert!(r.is_hard_negative(), "{}", r.text);
        assert!(r.notes.starts_with("HARD NEGATIVE:"), "{}", r.notes);
        assert_eq!((r.label, r.confidence, r.family.as_str()), (0, 1.0, "BENIGN"));
        assert!(!r.text.contains(['{', '}']) || r.text.contains(":(){"), "unfilled slot in {}", r.text);
    }
    assert_eq!(hn, hard_negatives(), "deterministic");
    let texts: Vec<&str> = hn.iter().map(|r| r.text.as_str()).collect();
    for needle in ["rm -rf", "SQL injection", "admin", "prompt injection", "kill"] {
        assert!(texts.iter().any(|t| t.contains(needle)), "no hard negative mentions {needle}");
    }
}

/// `../shared/data/public/*.csv` from the repository root (or `$L2_SHARED_DATA/public`), when present.
fn public_files() -> Option<Vec<PathBuf>> {
    let base = std::env::var_os("L2_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    let dir = base.join("public");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    (!files.is_empty()).then_some(files)
}

#[test]
fn shared_public_data_loads_without_errors() {
    let Some(files) = public_files() else {
        eprintln!("skipped: ../shared/data/public not present (set L2_SHARED_DATA to point elsewhere)");
        return;
    };
    for f in &files {
        let one = read_csv(f, &LoadOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(!one.records.is_empty(), "{}", f.display());
    }
    let loaded = load_files(&files, &LoadOptions::default()).unwrap();
    assert!(loaded.rejects.is_empty(), "{:?}", &loaded.rejects[..loaded.rejects.len().min(3)]);
    let rep = BalanceReport::compute(&loaded.records);
    assert!(rep.benign > 0 && rep.malicious > 0, "{rep}");
    let s = split(loaded.records, &SplitParams::default()).unwrap();
    assert!(!s.val.is_empty() && !s.test.is_empty());
}
