//! `l2_retrain`: the library's retrain job from its JSON settings, through the C entry point.

use l2::status::l2_status;
use l2::train::l2_retrain;
use l2core::data::{self, corpus, Record, SplitParams};
use l2core::embed::{EmbedderSpec, HashSpec};
use l2core::pipeline::{self, TrainConfig};
use std::ffi::CString;
use std::ptr::{null, null_mut};

fn call(json: &str, passed: &mut bool) -> l2_status {
    let c = CString::new(json).unwrap();
    l2_retrain(c.as_ptr(), None, null_mut(), passed)
}

/// The calling thread's last error detail (to say why a call failed).
fn last_error() -> String {
    let mut buf = vec![0u8; 4096];
    let mut n = 0usize;
    l2::error::l2_last_error_message(buf.as_mut_ptr().cast(), buf.len(), &mut n);
    String::from_utf8_lossy(&buf[..n.min(buf.len())]).into_owned()
}

#[test]
fn retrain_runs_the_loop_and_reports_whether_the_gate_passed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let split =
        data::split(corpus::generate(&Default::default()), &SplitParams { train: 0.8, val: 0.0, test: 0.2, seed: 1 })
            .unwrap();
    data::write_csv(&dir.join("train.csv"), &split.train).unwrap();
    data::write_csv(&dir.join("test.csv"), &split.test).unwrap();
    // A weak production model and its false positives on benign traffic.
    let mut weak = TrainConfig { data: vec![dir.join("train.csv")], ..TrainConfig::preset("seed").unwrap() };
    weak.embedder = EmbedderSpec::Hash(HashSpec::with_dims(128));
    weak.train.epochs = 1;
    weak.train.hidden = vec![8];
    let weak = pipeline::train(&weak, None, &mut l2core::train::Silent).unwrap().model;
    weak.save(dir.join("weak.l2")).unwrap();
    let traffic: Vec<Record> =
        corpus::generate(&corpus::CorpusParams { seed: 100 }).into_iter().filter(|r| r.label == 0).collect();
    let scores = weak.score_records(&traffic).unwrap();
    l2core::eval::fp_report(&scores, &traffic, weak.threshold(), "weak").unwrap().write(&dir.join("fp.json")).unwrap();

    let out = dir.join("loop");
    let config = serde_json::json!({
        "false_positives": dir.join("fp.json"),
        "train": [dir.join("train.csv")],
        "test": [dir.join("test.csv")],
        "baseline": dir.join("weak.l2"),
        "out_dir": out,
        "dry_run": true,
        "training": {"train": {"epochs": 1, "hidden": [8]}},
        "gate": {"sim_prompts": 200, "latency_samples": 20},
    });
    let mut passed = true;
    assert_eq!(call(&config.to_string(), &mut passed), l2_status::Ok, "{}", last_error());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("retrain.json")).unwrap()).unwrap();
    assert_eq!(summary["passed"], passed);
    assert_eq!(summary["failed"].as_array().unwrap().is_empty(), passed);
    assert!(summary["registered"].is_null(), "a dry run registers nothing");
    assert!(out.join("candidate.l2").is_file() && out.join("gate").join("gate.json").is_file());

    // Bad calls: nothing runs, the status says why.
    let mut bad = config.clone();
    bad["no_such_key"] = 1.into();
    assert_eq!(call(&bad.to_string(), &mut passed), l2_status::InvalidJson);
    let mut missing = config.clone();
    missing["train"] = serde_json::json!([]);
    assert_eq!(call(&missing.to_string(), &mut passed), l2_status::InvalidParam);
    assert_eq!(l2_retrain(null(), None, null_mut(), &mut passed), l2_status::NullParameter);
    let c = CString::new(config.to_string()).unwrap();
    assert_eq!(l2_retrain(c.as_ptr(), None, null_mut(), null_mut()), l2_status::NullParameter);
}
