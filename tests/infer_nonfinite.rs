//! Fail-closed scoring: a finite input that overflows inside the network (issue 12, item 6: a row of
//! 3.4e38 scored NaN "successfully", and NaN >= threshold is false, i.e. benign) is an error on every
//! kernel this CPU has, at every precision, alone or in a batch; the rows around it score as usual.

use l2core::infer::quantize::quantize_layers;
use l2core::infer::{Kernel, Scorer};
use l2core::model::{Mlp, Precision};
use l2core::rng::Rng;

const DIMS: usize = 48;

fn huge_row() -> Vec<f32> {
    let mut x = vec![0.0f32; DIMS];
    x.iter_mut().step_by(2).for_each(|v| *v = 3.4e38);
    x.iter_mut().skip(1).step_by(2).for_each(|v| *v = -3.4e38);
    x
}

fn normal_rows(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n * DIMS).map(|_| rng.normal()).collect()
}

#[test]
fn an_overflowing_row_is_an_error_on_every_kernel_and_precision() {
    let layers = Mlp::init(DIMS, &[32, 16], 5).unwrap().to_layers();
    for precision in [Precision::F32, Precision::F16, Precision::Int8] {
        let stored = quantize_layers(&layers, precision).unwrap();
        for kernel in Kernel::available() {
            let scorer = Scorer::with_kernel(&stored, kernel).unwrap();
            let what = format!("{precision} on {kernel}");
            let err = scorer.score_one(&huge_row()).expect_err(&what).to_string();
            assert!(err.contains("non-finite") && err.contains("row 0"), "{what}: {err}");
            // In a batch (two chunks), the error names the row; the batch without it scores finitely.
            let mut x = normal_rows(150, 9);
            x[130 * DIMS..131 * DIMS].copy_from_slice(&huge_row());
            let mut out = vec![0.0f32; 150];
            let err = scorer.score_into(&x, &mut out).expect_err(&what).to_string();
            assert!(err.contains("row 130"), "{what}: {err}");
            let good = normal_rows(150, 9);
            scorer.score_into(&good, &mut out).unwrap();
            assert!(out.iter().all(|s| s.is_finite() && (0.0..=1.0).contains(s)), "{what}");
        }
    }
}

#[test]
fn no_model_host_api_turns_an_uncomputable_score_into_a_decision() {
    let model = l2core::testing::synthetic_model(DIMS, &[16], 3).unwrap();
    assert!(model.score_embeddings(&huge_row()).is_err());
    let mut out = [0.5f32];
    assert!(model.score_embeddings_into(&huge_row(), &mut out).is_err());
    // Threads split the rows; the error still surfaces.
    let mut x = normal_rows(64, 1);
    x[40 * DIMS..41 * DIMS].copy_from_slice(&huge_row());
    let mut out = vec![0.0f32; 64];
    assert!(model.scorer().score_into_threads(&x, &mut out, 2).is_err());
}
