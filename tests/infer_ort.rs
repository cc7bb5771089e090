//! The ONNX graphs `l2 bench` gives ONNX Runtime compute the same network: the f32 graph matches the
//! native f32 scores, the dynamic-int8 graph stays near them. Needs the `onnx` feature and
//! `ORT_DYLIB_PATH`; skips (with a note) when the runtime library is not configured.
#![cfg(feature = "onnx")]

use l2core::infer::bench::synthetic_model;
use l2core::infer::ort_graph::{build, Session};
use l2core::model::Precision;

#[test]
fn ort_graphs_score_like_the_native_engine() {
    if std::env::var_os("ORT_DYLIB_PATH").is_none() {
        eprintln!("skipped: ORT_DYLIB_PATH is not set");
        return;
    }
    let model = synthetic_model(96, &[40, 20], 5).unwrap();
    let mut rng = l2core::rng::Rng::new(3);
    let n = 50;
    let x: Vec<f32> = (0..n * 96).map(|_| rng.normal() * 0.3).collect();
    let native = model.score_embeddings(&x).unwrap();
    for (p, tol) in [(Precision::F32, 1e-5f32), (Precision::Int8, 0.05)] {
        let (bytes, _) = build(&model, p).unwrap();
        let s = Session::new(&bytes).unwrap();
        let mut out = vec![0f32; n];
        s.run_into(&x, n, &mut out).unwrap();
        let worst = out.iter().zip(&native).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst <= tol, "{p}: ORT vs native max |diff| {worst} > {tol}");
        // ORT quantizes activations per tensor, so its int8 score of a row depends on the batch.
        if p == Precision::F32 {
            assert!((s.run(&x[..96], 1).unwrap() - out[0]).abs() <= 1e-6);
        }
    }
    assert!(build(&model, Precision::F16).is_err());
}
