//! The reinforcement loop end to end through the `l2` command: a weak production model, its false
//! positives on benign traffic (`l2 eval --fp-report`), `l2 retrain` (reinforce -> merge -> train ->
//! gate -> register), and the false-positive rate on held-back false positives the loop never saw.

use l2core::data::{self, corpus, normalize_text, Record, SplitParams};
use l2core::eval::FpReport;
use l2core::Model;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{Command, Output};

fn l2(args: &[&str], dir: &Path) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_l2")).args(args).current_dir(dir).output().unwrap();
    eprintln!(
        "$ l2 {}\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn ok(args: &[&str], dir: &Path) -> String {
    let out = l2(args, dir);
    assert!(out.status.success(), "l2 {} failed", args.join(" "));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Benign, non-hard-negative rows of the corpus generated with `seed`: stand-in production traffic.
fn benign_traffic(seed: u64) -> Vec<Record> {
    corpus::generate(&corpus::CorpusParams { seed })
        .into_iter()
        .filter(|r| r.label == 0 && !r.is_hard_negative())
        .collect()
}

fn flagged(model: &Model, texts: &[&str]) -> usize {
    model.score_texts(texts).unwrap().iter().filter(|&&s| model.decide(s)).count()
}

#[test]
fn the_loop_lowers_false_positives_on_prompts_it_never_saw() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Training and test data from the built-in corpus.
    let split =
        data::split(corpus::generate(&Default::default()), &SplitParams { train: 0.8, val: 0.0, test: 0.2, seed: 42 })
            .unwrap();
    data::write_csv(&dir.join("train.csv"), &split.train).unwrap();
    data::write_csv(&dir.join("test.csv"), &split.test).unwrap();

    // A deliberately weak production model: one epoch, a tiny network, a loose threshold.
    ok(
        &[
            "train",
            "train.csv",
            "-o",
            "weak.l2",
            "--epochs",
            "1",
            "--hidden",
            "8",
            "--dims",
            "256",
            "--target-fpr",
            "0.05",
            "-q",
        ],
        dir,
    );
    ok(&["registry", "--registry", "reg", "add", "weak.l2", "--note", "weak"], dir);
    ok(&["registry", "--registry", "reg", "promote", "v1", "--stage", "production"], dir);

    // Its false positives on benign traffic.
    data::write_csv(&dir.join("traffic.csv"), &benign_traffic(100)).unwrap();
    ok(&["eval", "weak.l2", "traffic.csv", "--fp-report", "fp.json"], dir);
    let report = FpReport::read(&dir.join("fp.json")).unwrap();
    assert!(report.false_positives >= 20, "the weak model should flag benign traffic: {}", report.false_positives);

    // Hold back every other false positive (and any that is in the training data anyway).
    let train_texts: HashSet<String> = split.train.iter().map(|r| normalize_text(&r.text)).collect();
    let (mut keep, mut held) = (Vec::new(), Vec::new());
    for (i, d) in report.fp_details.iter().enumerate() {
        if i % 2 == 0 {
            keep.push(d.clone());
        } else if !train_texts.contains(&normalize_text(&d.prompt)) {
            held.push(d.prompt.clone());
        }
    }
    let mut categories: BTreeMap<String, l2core::eval::CategoryCount> = BTreeMap::new();
    for d in &keep {
        categories.entry(d.category.clone()).or_default().fp += 1;
    }
    for (name, c) in &report.categories {
        categories.entry(name.clone()).or_default().total = c.total;
    }
    let kept = FpReport { total: report.total, false_positives: keep.len(), fp_details: keep, categories };
    kept.write(&dir.join("fp_keep.json")).unwrap();
    assert!(held.len() >= 10, "{} held-back false positives", held.len());

    // The loop.
    let out = l2(
        &[
            "retrain",
            "--fp",
            "fp_keep.json",
            "--train",
            "train.csv",
            "--test",
            "test.csv",
            "--registry",
            "reg",
            "--out-dir",
            "loop",
            "--epochs",
            "12",
            "--lr",
            "0.001",
            "--dims",
            "256",
            "-q",
            "--latency-samples",
            "200",
        ],
        dir,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let passed = stdout.contains("Release gate: PASS");
    assert!(passed || stdout.contains("Release gate: FAIL"), "the gate's verdict is printed");
    assert_eq!(out.status.code(), Some(if passed { 0 } else { 1 }), "exit 0 only on PASS");

    // What it wrote.
    let loop_dir = dir.join("loop");
    let composition: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(loop_dir.join("composition.json")).unwrap()).unwrap();
    let unique = composition["unique_fps"].as_u64().unwrap();
    assert_eq!(composition["selected_fps"].as_u64().unwrap(), (unique as f64 * 0.6).ceil() as u64);
    assert!(composition["benign_share"].as_f64().unwrap() <= 0.65);
    for f in ["gate.md", "roc.svg", "hist_baseline.svg", "hist_candidate.svg", "gate.json"] {
        assert!(loop_dir.join("gate").join(f).is_file(), "{f}");
    }
    let reinforced = data::read_csv(&loop_dir.join("reinforced.csv"), &Default::default()).unwrap().records;
    let reinforced_texts: HashSet<String> = reinforced.iter().map(|r| normalize_text(&r.text)).collect();
    assert!(held.iter().all(|h| !reinforced_texts.contains(&normalize_text(h))), "held-back prompts stay unseen");
    assert!(
        split.test.iter().all(|r| !reinforced_texts.contains(&normalize_text(&r.text))),
        "no reinforcement row repeats a test row"
    );

    // Registered; promoted only on PASS.
    let reg = l2core::registry::Registry::open(dir.join("reg"));
    let v2 = reg.show("v2").unwrap();
    let production = reg.show("production").unwrap().version;
    assert_eq!(production, if passed { 2 } else { 1 });
    assert!(v2.note.contains(if passed { "gate PASS" } else { "gate FAIL" }), "{}", v2.note);

    // Fewer false positives on the held-back ones and on fresh benign traffic.
    let weak = Model::load(dir.join("weak.l2")).unwrap();
    let candidate = Model::load(loop_dir.join("candidate.l2")).unwrap();
    let held_refs: Vec<&str> = held.iter().map(String::as_str).collect();
    let (w, c) = (flagged(&weak, &held_refs), flagged(&candidate, &held_refs));
    eprintln!("held-back false positives flagged: weak {w}/{n}, candidate {c}/{n}", n = held.len());
    assert_eq!(w, held.len(), "they are the weak model's false positives");
    assert!(c * 2 < w, "the candidate flags {c} of {w}");
    let fresh = benign_traffic(200);
    let fresh_refs: Vec<&str> = fresh.iter().map(|r| r.text.as_str()).collect();
    let (wf, cf) = (flagged(&weak, &fresh_refs), flagged(&candidate, &fresh_refs));
    eprintln!("fresh benign traffic flagged: weak {wf}/{n}, candidate {cf}/{n}", n = fresh.len());
    assert!(cf < wf);
}

#[test]
fn reinforce_from_a_csv_and_gate_exit_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let rows = corpus::generate(&Default::default());
    data::write_csv(&dir.join("train.csv"), &rows).unwrap();
    std::fs::write(
        dir.join("fps.csv"),
        "prompt,category,count\nHow do I kill a zombie process on Linux?,programming,4\n\
         Explain how SQL injection works so I can prevent it,security,2\nWrite a poem about the sea,creative,1\n",
    )
    .unwrap();
    let stdout = ok(
        &["reinforce", "--fp", "fps.csv", "--train", "train.csv", "-o", "r.csv", "--variations", "4", "--json"],
        dir,
    );
    let c: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(c["selected_fps"], 2);
    assert_eq!(c["fp_variations"], 8);
    let out = data::read_csv(&dir.join("r.csv"), &Default::default()).unwrap().records;
    assert_eq!(out.len() as u64, c["total"].as_u64().unwrap());
    assert!(out.iter().all(|r| r.source == "reinforced" || r.source == "augmented" || r.is_hard_negative()));
    // A benign share above 65% is refused.
    let bad = l2(
        &["reinforce", "--fp", "fps.csv", "--train", "train.csv", "-o", "x.csv", "--target-benign-share", "0.7"],
        dir,
    );
    assert_eq!(bad.status.code(), Some(3));
    assert!(!dir.join("x.csv").exists());

    // A model that flags everything fails the gate against itself-with-a-sane-threshold: exit 1, JSON out.
    let split = data::split(rows, &SplitParams { train: 0.8, val: 0.0, test: 0.2, seed: 1 }).unwrap();
    data::write_csv(&dir.join("test.csv"), &split.test).unwrap();
    ok(&["train", "train.csv", "-o", "m.l2", "--epochs", "1", "--hidden", "8", "--dims", "128", "-q"], dir);
    Model::load(dir.join("m.l2")).unwrap().with_threshold(0.0).unwrap().save(dir.join("all.l2")).unwrap();
    let g = l2(
        &[
            "gate",
            "all.l2",
            "--baseline",
            "m.l2",
            "--data",
            "test.csv",
            "--json",
            "--sim-prompts",
            "500",
            "--latency-samples",
            "50",
        ],
        dir,
    );
    assert_eq!(g.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&g.stdout).unwrap();
    assert_eq!(v["passed"], false);
    let names: Vec<&str> = v["criteria"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "max_fpr",
            "min_tpr",
            "min_f1",
            "fpr",
            "tpr",
            "hard_negatives",
            "production_simulation",
            "latency_p95",
            "onnx_equivalence"
        ]
    );
    // A registry baseline that does not exist is an error, not a silent pass.
    let missing = l2(&["gate", "m.l2", "--baseline", "production", "--registry", "noreg", "--data", "test.csv"], dir);
    assert_eq!(missing.status.code(), Some(4));
}

#[test]
fn a_passing_gate_promotes_and_rollback_restores_the_old_model() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let split =
        data::split(corpus::generate(&Default::default()), &SplitParams { train: 0.8, val: 0.0, test: 0.2, seed: 3 })
            .unwrap();
    data::write_csv(&dir.join("train.csv"), &split.train).unwrap();
    // Loose criteria (explicit settings, the absolute ones included: a 3-epoch model is not a release
    // candidate) and a test set without hard negatives: this gate is meant to pass, so the test sees the
    // promote path (the strict default gate is exercised above).
    let test: Vec<Record> = split.test.into_iter().filter(|r| !r.is_hard_negative()).collect();
    data::write_csv(&dir.join("test.csv"), &test).unwrap();
    data::write_csv(&dir.join("traffic.csv"), &benign_traffic(300)).unwrap();
    ok(
        &[
            "train",
            "train.csv",
            "-o",
            "weak.l2",
            "--epochs",
            "1",
            "--hidden",
            "8",
            "--dims",
            "128",
            "--target-fpr",
            "0.05",
            "-q",
        ],
        dir,
    );
    ok(&["eval", "weak.l2", "traffic.csv", "--fp-report", "fp.json"], dir);
    ok(&["registry", "--registry", "reg", "add", "weak.l2"], dir);
    ok(&["registry", "--registry", "reg", "promote", "v1", "--stage", "production"], dir);
    let retrain = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "retrain",
            "--fp",
            "fp.json",
            "--train",
            "train.csv",
            "--test",
            "test.csv",
            "--registry",
            "reg",
            "--out-dir",
            out,
            "--epochs",
            "3",
            "--lr",
            "0.001",
            "--dims",
            "128",
            "--hidden",
            "32",
            "-q",
            "--no-builtin-hard-negatives",
            "--max-fpr",
            "1",
            "--min-tpr",
            "0",
            "--min-f1",
            "0",
            "--fpr-tolerance",
            "1",
            "--max-tpr-drop",
            "1",
            "--max-sim-fp",
            "10000",
            "--sim-prompts",
            "1000",
            "--latency-samples",
            "50",
        ];
        args.extend_from_slice(extra);
        l2(&args, dir)
    };
    let dry = retrain("dry", &["--dry-run"]);
    assert!(dry.status.success());
    assert!(String::from_utf8_lossy(&dry.stdout).contains("dry run: not registered"));
    assert_eq!(l2core::registry::Registry::open(dir.join("reg")).list().unwrap().len(), 1);

    let out = retrain("loop", &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Release gate: PASS"));
    assert!(out.status.success());
    let reg = l2core::registry::Registry::open(dir.join("reg"));
    assert_eq!(reg.show("production").unwrap().version, 2);
    ok(&["registry", "--registry", "reg", "rollback"], dir);
    assert_eq!(reg.show("production").unwrap().version, 1);
    assert_eq!(reg.show("v2").unwrap().stage, l2core::registry::Stage::Archived);
}
