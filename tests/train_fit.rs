//! `fit_mlp` end to end: learning, determinism, early stopping, cancellation, weights, bad input.

use l2core::infer::Scorer;
use l2core::model::Mlp;
use l2core::rng::Rng;
use l2core::testing;
use l2core::train::{evaluate_mlp, fit_mlp, EpochStats, Silent, TrainObserver, TrainParams, TrainSet};
use l2core::Error;

struct Owned {
    x: Vec<f32>,
    y: Vec<f32>,
    w: Vec<f32>,
    dims: usize,
}

impl Owned {
    fn set(&self) -> TrainSet<'_> {
        TrainSet { x: &self.x, dims: self.dims, y: &self.y, w: &self.w }
    }
}

/// Two well separated Gaussian blobs (centres +-1.5 on every axis, sd 0.5).
fn blobs(n: usize, dims: usize, seed: u64) -> Owned {
    let mut rng = Rng::new(seed);
    let mut x = Vec::with_capacity(n * dims);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let label = (i % 2) as f32;
        let centre = if label == 1.0 { 1.5 } else { -1.5 };
        x.extend((0..dims).map(|_| centre + 0.5 * rng.normal()));
        y.push(label);
    }
    Owned { x, y, w: vec![1.0; n], dims }
}

fn quick(hidden: Vec<usize>, epochs: usize) -> TrainParams {
    TrainParams {
        hidden,
        epochs,
        learning_rate: 1e-2,
        batch_size: 16,
        patience: 0,
        dropout: 0.0,
        ..TrainParams::default()
    }
}

fn score(mlp: &Mlp, x: &[f32]) -> f32 {
    Scorer::new(&mlp.to_layers()).unwrap().score_one(x).unwrap()
}

#[test]
fn learns_a_separable_problem_to_zero_error() {
    let (train, val) = (blobs(400, 16, 1), blobs(200, 16, 2));
    let p = quick(vec![16, 8], 15).check().unwrap();
    let (mlp, history) = fit_mlp(&p, &train.set(), &val.set(), &mut Silent).unwrap();
    let m = evaluate_mlp(&mlp, &val.set()).unwrap();
    assert_eq!((m.fpr, m.tpr), (Some(0.0), Some(1.0)), "{m:?}");
    assert!(m.loss < 0.05, "{m:?}");
    let first = &history.epochs[0];
    assert!(history.epochs.last().unwrap().train_loss < first.train_loss);
    assert_eq!(history.epochs.len(), 15);
    assert!(!history.stopped_early);
}

#[test]
fn a_rerun_with_the_same_seed_is_bit_identical_and_another_seed_differs() {
    let (train, val) = testing::teacher_split(1500, 300, 32, 5);
    let p = TrainParams { hidden: vec![32, 16], epochs: 2, ..TrainParams::default() }.check().unwrap();
    let run = |p: &l2core::train::ValidTrainParams| fit_mlp(p, &train.set(), &val.set(), &mut Silent).unwrap();
    let (a, ha) = run(&p);
    let (b, hb) = run(&p);
    assert_eq!(a, b);
    let strip = |h: &l2core::train::History| {
        h.epochs.iter().map(|e| (e.train_loss, e.val_loss, e.val_fpr, e.val_tpr)).collect::<Vec<_>>()
    };
    assert_eq!(strip(&ha), strip(&hb));
    let other = TrainParams { seed: 7, hidden: vec![32, 16], epochs: 2, ..TrainParams::default() }.check().unwrap();
    assert_ne!(run(&other).0, a);
}

#[test]
fn early_stopping_restores_the_best_epoch_when_validation_loss_rises() {
    // Validation is the training data with every label flipped: the better the fit, the worse the
    // validation loss, so it rises after the first epoch.
    let train = blobs(300, 8, 3);
    let val = Owned { y: train.y.iter().map(|y| 1.0 - y).collect(), x: train.x.clone(), w: train.w.clone(), dims: 8 };
    let p = TrainParams { patience: 2, ..quick(vec![8], 20) }.check().unwrap();
    let (mlp, history) = fit_mlp(&p, &train.set(), &val.set(), &mut Silent).unwrap();
    let losses: Vec<f64> = history.epochs.iter().map(|e| e.val_loss).collect();
    let argmin = losses.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).unwrap().0 + 1;
    assert_eq!(history.best_epoch, argmin, "{losses:?}");
    assert!(history.stopped_early);
    assert_eq!(history.epochs.len(), history.best_epoch + 2, "stops `patience` epochs after the best");
    assert!(losses.last().unwrap() > &losses[argmin - 1]);
    let kept = evaluate_mlp(&mlp, &val.set()).unwrap().loss;
    assert_eq!(kept, losses[argmin - 1], "the returned network is the best epoch's");
}

#[test]
fn patience_zero_runs_every_epoch_but_still_returns_the_best() {
    let train = blobs(200, 8, 4);
    let val = Owned { y: train.y.iter().map(|y| 1.0 - y).collect(), x: train.x.clone(), w: train.w.clone(), dims: 8 };
    let p = quick(vec![8], 6).check().unwrap();
    let (mlp, history) = fit_mlp(&p, &train.set(), &val.set(), &mut Silent).unwrap();
    assert_eq!(history.epochs.len(), 6);
    assert!(!history.stopped_early);
    let best = history.epochs[history.best_epoch - 1].val_loss;
    assert_eq!(evaluate_mlp(&mlp, &val.set()).unwrap().loss, best);
}

struct CancelAt {
    batch: Option<usize>,
    epoch: Option<usize>,
    batches_seen: usize,
    epochs_seen: Vec<usize>,
}

impl TrainObserver for CancelAt {
    fn on_batch(&mut self, _epoch: usize, done: usize, total: usize) -> bool {
        assert!(done >= 1 && done <= total);
        self.batches_seen += 1;
        Some(self.batches_seen) != self.batch
    }
    fn on_epoch(&mut self, stats: &EpochStats) -> bool {
        self.epochs_seen.push(stats.epoch);
        Some(stats.epoch) != self.epoch
    }
}

#[test]
fn an_observer_returning_false_cancels() {
    let (train, val) = (blobs(200, 8, 5), blobs(50, 8, 6));
    let p = quick(vec![8], 5).check().unwrap();
    let mut obs = CancelAt { batch: Some(3), epoch: None, batches_seen: 0, epochs_seen: vec![] };
    assert!(matches!(fit_mlp(&p, &train.set(), &val.set(), &mut obs), Err(Error::Cancelled)));
    assert_eq!(obs.batches_seen, 3);
    let mut obs = CancelAt { batch: None, epoch: Some(2), batches_seen: 0, epochs_seen: vec![] };
    assert!(matches!(fit_mlp(&p, &train.set(), &val.set(), &mut obs), Err(Error::Cancelled)));
    assert_eq!(obs.epochs_seen, vec![1, 2]);
    assert_eq!(obs.batches_seen, 2 * 200usize.div_ceil(16));
}

/// One input, conflicting labels: the loss-minimising probability is `w1 / (w0 + w1)`.
fn conflicting(w_pos: f32, w_neg: f32) -> Owned {
    let mut rng = Rng::new(9);
    let point: Vec<f32> = (0..4).map(|_| rng.normal()).collect();
    let n = 200;
    Owned {
        x: (0..n).flat_map(|_| point.clone()).collect(),
        y: (0..n).map(|i| (i % 2) as f32).collect(),
        w: (0..n).map(|i| if i % 2 == 1 { w_pos } else { w_neg }).collect(),
        dims: 4,
    }
}

#[test]
fn the_loss_honours_sample_weights() {
    let p = TrainParams { batch_size: 20, ..quick(vec![4], 40) }.check().unwrap();
    for (wp, wn, want) in [(3.0, 1.0, 0.75), (1.0, 1.0, 0.5), (1.0, 4.0, 0.2)] {
        let data = conflicting(wp, wn);
        let (mlp, h) = fit_mlp(&p, &data.set(), &data.set(), &mut Silent).unwrap();
        let got = score(&mlp, &data.x[..4]);
        assert!((got - want).abs() < 0.03, "weights {wp}/{wn}: p = {got}, want {want}");
        // The reported loss is mean(w * bce): check it against the closed form at the fitted p.
        let (pp, n) = (f64::from(got), data.y.len() as f64);
        let closed = (f64::from(wp) * -(pp.ln()) + f64::from(wn) * -((1.0 - pp).ln())) * (n / 2.0) / n;
        let reported = h.epochs[h.best_epoch - 1].val_loss;
        assert!((reported - closed).abs() < 1e-4, "reported {reported} vs {closed}");
    }
}

#[test]
fn bad_input_gives_clear_errors() {
    let p = quick(vec![4], 1).check().unwrap();
    let good = blobs(20, 4, 8);
    let fit = |t: &Owned, v: &Owned| fit_mlp(&p, &t.set(), &v.set(), &mut Silent).map(|_| ()).unwrap_err();
    let empty = Owned { x: vec![], y: vec![], w: vec![], dims: 4 };
    assert!(fit(&empty, &good).to_string().contains("train set is empty"));
    assert!(fit(&good, &empty).to_string().contains("validation set is empty"));
    let short = Owned { x: good.x[..good.x.len() - 1].to_vec(), ..blobs(20, 4, 8) };
    assert!(matches!(fit(&short, &good), Error::Shape { .. }));
    let narrow = blobs(20, 3, 8);
    assert!(matches!(fit(&good, &narrow), Error::Shape { .. }));
    let mut half = blobs(20, 4, 8);
    half.y[3] = 0.5;
    assert!(fit(&half, &good).to_string().contains("row 3: label must be 0 or 1"));
    for bad in [-1.0, f32::NAN, f32::INFINITY] {
        let mut neg = blobs(20, 4, 8);
        neg.w[5] = bad;
        assert!(fit(&neg, &good).to_string().contains("row 5: weight"), "{bad}");
    }
    let mut nan_x = blobs(20, 4, 8);
    nan_x.x[9] = f32::NAN;
    assert!(fit(&nan_x, &good).to_string().contains("row 2: feature 1 is not finite"));
    let one_class = Owned { y: vec![1.0; 20], ..blobs(20, 4, 8) };
    let e = fit(&one_class, &good);
    assert!(matches!(e, Error::Training(_)) && e.to_string().contains("no benign"), "{e}");
    assert!(fit(&good, &one_class).to_string().contains("validation set has no benign"));
}

#[test]
fn divergence_is_a_training_error() {
    let p = TrainParams { learning_rate: 1e30, weight_decay: 0.0, ..quick(vec![8, 8], 3) }.check().unwrap();
    let (train, val) = (blobs(200, 8, 10), blobs(40, 8, 11));
    match fit_mlp(&p, &train.set(), &val.set(), &mut Silent) {
        Err(Error::Training(m)) => assert!(m.contains("diverged"), "{m}"),
        other => panic!("expected a divergence error, got {:?}", other.map(|r| r.1)),
    }
}

#[test]
fn every_kernel_this_cpu_has_trains_and_they_agree_closely() {
    let (train, val) = (blobs(400, 16, 12), blobs(100, 16, 13));
    let p = TrainParams { dropout: 0.3, ..quick(vec![16, 8], 5) }.check().unwrap();
    let runs: Vec<_> = l2core::train::Kernel::available()
        .into_iter()
        .map(|k| l2core::train::fit_mlp_with(&p, &train.set(), &val.set(), &mut Silent, k).unwrap())
        .collect();
    for (mlp, h) in &runs {
        assert_eq!(evaluate_mlp(mlp, &val.set()).unwrap().fpr, Some(0.0));
        let (a, b) = (h.epochs[0].val_loss, runs[0].1.epochs[0].val_loss);
        assert!((a - b).abs() < 1e-3 * b.max(1e-3), "kernels disagree after one epoch: {a} vs {b}");
    }
}

#[test]
fn a_network_too_large_to_allocate_is_a_settings_error() {
    let (train, val) = (blobs(20, 4, 14), blobs(20, 4, 15));
    let p = TrainParams { hidden: vec![65_536, 65_536], ..quick(vec![], 1) }.check().unwrap();
    match fit_mlp(&p, &train.set(), &val.set(), &mut Silent) {
        Err(Error::InvalidParam { name, .. }) => assert_eq!(name, "hidden"),
        other => panic!("{:?}", other.map(|r| r.1)),
    }
}
