//! The weighted logistic-regression baseline honours sample weights.

use l2core::rng::Rng;
use l2core::train::logistic::{fit_logistic, LogisticParams, WeightedLogistic};
use l2core::train::TrainSet;
use l2core::Error;
use linfa::prelude::*;
use ndarray016::{Array1, Array2};

/// Noisy linear teacher (|beta| = 2, noise sd `noise`): overlapping classes, so weights move the optimum.
fn data(n: usize, dims: usize, seed: u64, noise: f32) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Rng::new(seed);
    let beta: Vec<f32> = (0..dims).map(|_| rng.normal()).collect();
    let norm = beta.iter().map(|b| b * b).sum::<f32>().sqrt();
    let beta: Vec<f32> = beta.iter().map(|b| 2.0 * b / norm).collect();
    let mut x = Vec::with_capacity(n * dims);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f32> = (0..dims).map(|_| rng.normal()).collect();
        let z: f32 = row.iter().zip(&beta).map(|(a, b)| a * b).sum::<f32>() + 0.3 + noise * rng.normal();
        y.push(if z > 0.0 { 1.0 } else { 0.0 });
        x.extend(row);
    }
    (x, y)
}

fn fit(x: &[f32], y: &[f32], w: &[f32], dims: usize) -> WeightedLogistic {
    let m = fit_logistic(&LogisticParams::default(), &TrainSet { x, dims, y, w }).unwrap();
    assert!(m.converged, "{} iterations", m.iterations);
    m
}

fn max_diff(a: &WeightedLogistic, b: &WeightedLogistic) -> f64 {
    a.coef.iter().zip(&b.coef).map(|(p, q)| (p - q).abs()).fold((a.intercept - b.intercept).abs(), f64::max)
}

#[test]
fn duplicating_rows_equals_doubling_their_weights_and_weights_change_the_fit() {
    let dims = 5;
    let (x, y) = data(300, dims, 1, 1.0);
    let ones = vec![1.0; 300];
    // Rows 0..60 duplicated, versus the same rows with weight 2.
    let mut xd = x.clone();
    xd.extend_from_slice(&x[..60 * dims]);
    let mut yd = y.clone();
    yd.extend_from_slice(&y[..60]);
    let dup = fit(&xd, &yd, &vec![1.0; 360], dims);
    let w2: Vec<f32> = (0..300).map(|i| if i < 60 { 2.0 } else { 1.0 }).collect();
    let doubled = fit(&x, &y, &w2, dims);
    let plain = fit(&x, &y, &ones, dims);
    assert!(max_diff(&dup, &doubled) < 1e-5, "dup vs doubled: {}", max_diff(&dup, &doubled));
    assert!(max_diff(&plain, &doubled) > 1e-2, "weights had no effect: {}", max_diff(&plain, &doubled));
    // Up-weighting the positives raises the intercept.
    let wpos: Vec<f32> = y.iter().map(|&v| if v == 1.0 { 5.0 } else { 1.0 }).collect();
    assert!(fit(&x, &y, &wpos, dims).intercept > plain.intercept + 0.5);
}

#[test]
fn fits_a_linear_problem_and_serves_through_linfa() {
    let dims = 4;
    let (x, y) = data(400, dims, 2, 0.2);
    let xa = Array2::from_shape_vec((400, dims), x.clone()).unwrap();
    let ya: Array1<bool> = y.iter().map(|&v| v == 1.0).collect();
    let model = LogisticParams::default().fit(&Dataset::new(xa.clone(), ya.clone())).unwrap();
    let direct = fit(&x, &y, &[1.0; 400], dims);
    assert!(max_diff(&model, &direct) < 1e-9);
    let classes: Array1<bool> = model.predict(&xa);
    let acc = classes.iter().zip(&ya).filter(|(a, b)| a == b).count() as f64 / 400.0;
    assert!(acc > 0.9, "{acc} {direct:?}");
    let p: Array1<f32> = model.predict(&xa);
    assert!((p[0] - model.predict_one(&x[..dims]).unwrap()).abs() < 1e-6);
    let wrong: Array1<f32> = model.predict(&Array2::<f32>::zeros((3, dims + 1)));
    assert!(wrong.iter().all(|v| v.is_nan()));
}

#[test]
fn bad_settings_and_data_are_rejected() {
    for (p, name) in [
        (LogisticParams { l2: -1.0, ..Default::default() }, "l2"),
        (LogisticParams { max_iter: 0, ..Default::default() }, "max_iter"),
        (LogisticParams { tol: 0.0, ..Default::default() }, "tol"),
    ] {
        assert!(matches!(p.check(), Err(Error::InvalidParam { name: n, .. }) if n == name));
    }
    let x = vec![0.0f32; 8];
    let one_class = TrainSet { x: &x, dims: 2, y: &[1.0; 4], w: &[1.0; 4] };
    assert!(matches!(fit_logistic(&LogisticParams::default(), &one_class), Err(Error::Training(_))));
}
