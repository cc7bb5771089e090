//! The quantization / parity library (no CLI needed).

use l2core::eval::Tolerance;
use l2core::model::quantize::{parity, quantize, with_parity, MIN_AGREEMENT};
use l2core::model::Precision;
use l2core::testing::synthetic_model;
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
    assert!((p.reference.unwrap().fpr.unwrap() - fp as f64 / 100.0).abs() < 1e-12);
    assert!(p.to_string().contains("decision agreement"));
    assert_eq!(p.tolerance, Tolerance::agreement(MIN_AGREEMENT));
    let e = p.clone().with_tolerance(Tolerance::agreement(1.0 + 1e-9)).check().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Check);
    assert!(p.clone().with_tolerance(Tolerance::agreement(0.0)).check().is_ok());
    let q = with_parity(q, &p).unwrap();
    assert_eq!(q.meta().quantization.as_ref().unwrap().rows, 200);
    // The record survives the model file.
    let back = Model::from_bytes(&q.to_bytes().unwrap()).unwrap();
    assert_eq!(back.meta().quantization, q.meta().quantization);
    assert_eq!(back.score_embeddings(&x).unwrap(), q.score_embeddings(&x).unwrap());
}
