//! The MLP through linfa's `Fit` / `Predict` traits.

use l2core::rng::Rng;
use l2core::train::linfa::MlpParams;
use l2core::train::TrainParams;
use l2core::Error;
use linfa::prelude::*;
use ndarray016::{Array1, Array2};

fn blobs(n: usize, dims: usize, seed: u64) -> (Array2<f32>, Array1<bool>) {
    let mut rng = Rng::new(seed);
    let y: Array1<bool> = (0..n).map(|i| i % 2 == 1).collect();
    let x = Array2::from_shape_fn((n, dims), |(i, _)| if y[i] { 1.5 } else { -1.5 } + 0.5 * rng.normal());
    (x, y)
}

fn params(epochs: usize) -> MlpParams {
    let p = TrainParams {
        hidden: vec![8],
        epochs,
        learning_rate: 1e-2,
        batch_size: 16,
        dropout: 0.0,
        patience: 0,
        ..TrainParams::default()
    };
    MlpParams::new(p.check().unwrap())
}

#[test]
fn fit_and_predict_round_trip_with_bool_and_usize_targets() {
    let (x, y) = blobs(300, 6, 1);
    let ds = Dataset::new(x.clone(), y.clone());
    let model = params(10).fit(&ds).unwrap();
    let proba: Array1<f32> = model.predict(&x);
    let classes: Array1<bool> = model.predict(&x);
    assert_eq!(proba.len(), 300);
    let correct = classes.iter().zip(y.iter()).filter(|(a, b)| a == b).count();
    assert!(correct >= 297, "{correct}/300");
    assert!(proba.iter().zip(classes.iter()).all(|(&p, &c)| (p >= 0.5) == c));
    assert_eq!(model.predict_proba(&x).unwrap(), proba);
    // 15% of each class held out for early stopping: 255 training rows.
    assert_eq!(model.history().epochs.len(), 10);

    let yu: Array1<usize> = y.mapv(usize::from);
    let mu = params(10).fit(&Dataset::new(x.clone(), yu)).unwrap();
    assert_eq!(mu.mlp(), model.mlp(), "usize 0/1 targets train exactly like bool ones");
}

#[test]
fn dataset_weights_are_the_loss_weights() {
    // One input, conflicting labels, positives weighted 3: the fitted probability approaches 0.75.
    let n = 200;
    let x = Array2::from_elem((n, 3), 0.5f32);
    let y: Array1<bool> = (0..n).map(|i| i % 2 == 1).collect();
    let w: Array1<f32> = y.mapv(|v| if v { 3.0 } else { 1.0 });
    let base = params(40).validation_fraction(0.0).unwrap();
    let weighted = base.fit(&Dataset::new(x.clone(), y.clone()).with_weights(w)).unwrap();
    let plain = base.fit(&Dataset::new(x.clone(), y)).unwrap();
    let pw: Array1<f32> = weighted.predict(&x);
    let pp: Array1<f32> = plain.predict(&x);
    assert!((pw[0] - 0.75).abs() < 0.03, "{}", pw[0]);
    assert!((pp[0] - 0.5).abs() < 0.03, "{}", pp[0]);
}

#[test]
fn bad_targets_and_shapes_are_errors_not_panics() {
    let (x, _) = blobs(20, 4, 2);
    let bad: Array1<usize> = (0..20).map(|i| i % 3).collect();
    let e = params(1).fit(&Dataset::new(x.clone(), bad)).unwrap_err();
    assert!(matches!(e, Error::InvalidData(_)) && e.to_string().contains("target 2"), "{e}");
    let (x, y) = blobs(40, 4, 3);
    let ds = Dataset::new(x, y).with_weights(Array1::from_elem(39, 1.0));
    assert!(matches!(params(1).fit(&ds), Err(Error::Shape { .. })));
    assert!(params(1).validation_fraction(1.5).is_err());

    let (x, y) = blobs(60, 4, 4);
    let model = params(2).fit(&Dataset::new(x, y)).unwrap();
    let wrong = Array2::<f32>::zeros((5, 7));
    assert!(matches!(model.predict_proba(&wrong), Err(Error::Shape { .. })));
    let p: Array1<f32> = model.predict(&wrong);
    assert!(p.iter().all(|v| v.is_nan()), "a width mismatch yields NaN, not a panic");
    let c: Array1<bool> = model.predict(&wrong);
    assert!(c.iter().all(|&v| !v));
}
