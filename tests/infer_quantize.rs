//! The quantization / parity library and the bench library (no CLI needed).

use l2core::infer::bench::{run as bench_run, synthetic_model, BenchOptions, Stage};
use l2core::infer::quantize::{parity, quantize, with_parity, MIN_AGREEMENT};
use l2core::model::Precision;
use l2core::{ErrorKind, Model};

#[test]
fn parity_counts_disagreements_and_the_gate_is_a_check_error() {
    let model = synthetic_model(32, &[16], 9).unwrap();
    let q = quantize(&model, Precision::Int8).unwrap();
    let mut rng = l2core::rng::Rng::new(1);
    let x: Vec<f32> = (0..200 * 32).map(|_| rng.normal()).collect();
    let labels: Vec<u8> = (0..200).map(|i| (i % 2) as u8).collect();
    let p = parity(&model, &q, &x, Some(&labels)).unwrap();
    let a = model.score_embeddings(&x).unwrap();
    let b = q.score_embeddings(&x).unwrap();
    let t = model.threshold();
    let differ = a.iter().zip(&b).filter(|(x, y)| (**x >= t) != (**y >= t)).count();
    let max = a.iter().zip(&b).map(|(x, y)| f64::from((x - y).abs())).fold(0.0, f64::max);
    assert_eq!(p.rows, 200);
    assert_eq!(p.disagreements, differ);
    assert_eq!(p.max_abs_diff, max);
    assert_eq!(p.near_threshold, a.iter().filter(|s| f64::from((**s - t).abs()) <= max).count());
    assert!(p.near_threshold >= differ);
    assert!((p.decision_agreement - (1.0 - differ as f64 / 200.0)).abs() < 1e-12);
    let fp = a.iter().zip(&labels).filter(|(s, l)| **l == 0 && **s >= t).count();
    assert!((p.source.unwrap().fpr - fp as f64 / 100.0).abs() < 1e-12);
    assert!(p.to_string().contains("decision agreement"));
    let e = p.check(1.0 + 1e-9).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Check);
    assert!(p.check(0.0).is_ok());
    let _ = MIN_AGREEMENT;
    let q = with_parity(q, &p).unwrap();
    assert_eq!(q.meta().quantization.as_ref().unwrap().rows, 200);
    // The record survives the model file.
    let back = Model::from_bytes(&q.to_bytes().unwrap()).unwrap();
    assert_eq!(back.meta().quantization, q.meta().quantization);
    assert_eq!(back.score_embeddings(&x).unwrap(), q.score_embeddings(&x).unwrap());
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
    let r = bench_run(&model, &opts).unwrap();
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
    assert!(bench_run(&model, &BenchOptions { batches: vec![0], ..opts.clone() }).is_err());
}
