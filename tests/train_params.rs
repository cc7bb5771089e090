//! `TrainParams::check` accepts the defaults and rejects each bad setting, naming it.

use l2core::train::{Select, TrainParams};
use l2core::Error;

fn rejected_as(p: TrainParams, name: &str) {
    match p.check() {
        Err(Error::InvalidParam { name: got, .. }) => assert_eq!(got, name, "wrong setting named"),
        other => panic!("expected `{name}` to be rejected, got {other:?}"),
    }
}

#[test]
fn defaults_pass_and_are_the_documented_ones() {
    let p = TrainParams::default().check().expect("defaults are valid");
    assert_eq!(p.hidden, vec![32]);
    assert_eq!((p.dropout, p.learning_rate, p.weight_decay), (0.0, 1e-3, 0.0));
    assert_eq!((p.batch_size, p.epochs, p.patience), (64, 6, 2));
    assert_eq!((p.embed, p.wide, p.select), (32, true, Select::RecallAtFpr));
}

#[test]
fn the_seed_preset_is_the_original_recipe() {
    let p = TrainParams::seed().check().expect("the seed recipe is valid");
    assert_eq!(p.hidden, vec![256, 128, 64]);
    assert_eq!((p.dropout, p.learning_rate, p.weight_decay), (0.3, 1e-4, 1e-3));
    assert_eq!((p.batch_size, p.epochs, p.patience, p.seed), (32, 12, 3, 42));
    assert_eq!(p.select, Select::ValLoss);
}

#[test]
fn each_bad_setting_is_rejected_by_its_name() {
    let d = TrainParams::default;
    rejected_as(TrainParams { hidden: vec![], ..d() }, "hidden");
    rejected_as(TrainParams { hidden: vec![16, 0], ..d() }, "hidden");
    for v in [1.0, -0.1, f32::NAN, 2.0] {
        rejected_as(TrainParams { dropout: v, ..d() }, "dropout");
    }
    for v in [0.0, -1e-3, f32::INFINITY, f32::NAN] {
        rejected_as(TrainParams { learning_rate: v, ..d() }, "learning_rate");
    }
    for v in [-1e-3, f32::NAN, f32::INFINITY] {
        rejected_as(TrainParams { weight_decay: v, ..d() }, "weight_decay");
    }
    rejected_as(TrainParams { weight_decay: 10.0, learning_rate: 0.5, ..d() }, "weight_decay");
    for v in [1.0, -0.1, f32::NAN] {
        rejected_as(TrainParams { beta1: v, ..d() }, "beta1");
        rejected_as(TrainParams { beta2: v, ..d() }, "beta2");
    }
    for v in [0.0, -1e-8, f32::NAN] {
        rejected_as(TrainParams { epsilon: v, ..d() }, "epsilon");
    }
    rejected_as(TrainParams { batch_size: 0, ..d() }, "batch_size");
    rejected_as(TrainParams { epochs: 0, ..d() }, "epochs");
}

#[test]
fn edge_values_that_are_allowed_pass() {
    let d = TrainParams::default;
    for p in [
        TrainParams { dropout: 0.0, ..d() },
        TrainParams { weight_decay: 0.0, ..d() },
        TrainParams { beta1: 0.0, ..d() },
        TrainParams { patience: 0, ..d() },
        TrainParams { batch_size: 1, epochs: 1, hidden: vec![1], ..d() },
    ] {
        p.check().unwrap_or_else(|e| panic!("{p:?} should pass: {e}"));
    }
}
