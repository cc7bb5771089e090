//! `l2 bench` (feature `bench`): the library report and the command.
#![cfg(feature = "bench")]

use l2core::cli::bench::{run, BenchOptions, Stage};
use l2core::testing::synthetic_model;

fn l2(args: &[&str]) -> i32 {
    l2core::cli::run(std::iter::once("l2").chain(args.iter().copied()))
}

#[test]
fn bench_reports_every_stage_and_precision() {
    let model = synthetic_model(64, &[32], 2).unwrap();
    let opts = BenchOptions {
        batches: vec![8, 64],
        threads: vec![1, 2],
        latency_samples: 50,
        min_seconds: 0.01,
        prompt_chars: 50,
        ort: false,
        ..BenchOptions::default()
    };
    let r = run(&model, &opts).unwrap();
    assert_eq!(r.results.len(), 1 + 2 * 3);
    assert_eq!(r.results.iter().filter(|s| s.stage == Stage::Mlp).count(), 3);
    for s in &r.results {
        assert!(s.latency.p50_us > 0.0 && s.latency.p50_us <= s.latency.p99_us, "{s:?}");
        assert_eq!(s.throughput.len(), 4);
        assert!(s.throughput.iter().all(|t| t.samples_per_s > 0.0));
    }
    assert!(r.ort_note.is_some() && r.ratios.is_empty());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["macs_per_sample"], 64 * 32 + 32);
    assert!(r.to_string().contains("int8"));
    assert!(run(&model, &BenchOptions { batches: vec![0], ..opts.clone() }).is_err());
}

#[test]
fn bench_cli_runs_on_a_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("m.l2");
    synthetic_model(32, &[16], 1).unwrap().save(&src).unwrap();
    let code = l2(&[
        "bench",
        src.to_str().unwrap(),
        "--json",
        "--batch",
        "4",
        "--threads",
        "1",
        "--min-seconds",
        "0.01",
        "--latency-samples",
        "20",
        "--no-ort",
    ]);
    assert_eq!(code, 0);
    assert_eq!(l2(&["bench", "--batch", "4"]), 2);
}
