//! Training: weighted BCE, AdamW, dropout, early stopping; linfa `Fit`/`Predict` for the MLP; a
//! weighted logistic-regression baseline.
//!
//! CONTRACT: the signatures of [`TrainParams`], [`TrainSet`], [`EpochStats`], [`History`],
//! [`TrainObserver`] and [`fit_mlp`] are what the rest of the crate calls.
//!
//! The network is `dims -> hidden... -> 1` with ReLU and inverted dropout after every hidden layer,
//! trained on weighted BCE-with-logits ([`loss`]) by AdamW ([`adamw`]) in seeded mini-batches. A step is
//! three small matrix products per layer ([`gemm`], AVX-512 / AVX2 / portable, chosen at run time)
//! over buffers allocated once per run, single-threaded by design (the engine is meant to train next
//! to other work on small machines; a run is reproducible bit for bit for a seed on one kernel path).
//!
//! Early stopping watches the validation loss after each epoch; the epoch with the lowest one is the
//! network returned (also when `patience` is 0, which only disables stopping early).
//!
//! Loss normalisation: a batch's loss is `sum_i w_i l_i / rows` (the mean over the batch of the weighted
//! losses, PyTorch's `BCEWithLogitsLoss(weight=w)`); the reported train and validation losses are
//! `sum_i w_i l_i / n` over the set (training loss with dropout on, as the batches saw it). AdamW decays
//! the weight matrices only, not the biases. Dropout is inverted: kept units are scaled by `1/(1-p)`
//! during training, so inference uses the weights as they are.

pub mod adamw;
mod fit;
pub mod gemm;
pub mod heads;
pub mod linfa;
pub mod logistic;
pub mod loss;
mod net;
mod params;
pub mod sparse;

pub use fit::{check_set, evaluate_mlp, fit_mlp_with, SetMetrics};
pub use gemm::Kernel;
pub use params::MAX_WIDTH;

use crate::error::{Error, Result};
use crate::nn::Mlp;
use serde::{Deserialize, Serialize};

/// Training settings with the documented defaults (those of the built-in default model, a
/// wide-and-deep network over sparse n-grams; [`TrainParams::seed`] is the original MLP recipe);
/// validate with [`TrainParams::check`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainParams {
    /// Hidden layer widths: of the MLP, or of the wide-and-deep tail after the bag (default [32]).
    pub hidden: Vec<usize>,
    /// Dropout probability after each hidden ReLU (and the bag's, for wide-and-deep; default 0).
    pub dropout: f32,
    /// AdamW learning rate (default 1e-3).
    pub learning_rate: f32,
    /// AdamW decoupled weight decay (default 0).
    pub weight_decay: f32,
    /// AdamW beta1 (default 0.9).
    pub beta1: f32,
    /// AdamW beta2 (default 0.999).
    pub beta2: f32,
    /// AdamW epsilon (default 1e-8).
    pub epsilon: f32,
    /// Mini-batch size (default 64).
    pub batch_size: usize,
    /// Maximum epochs (default 6).
    pub epochs: usize,
    /// Early-stopping patience in epochs (default 2; 0 disables early stopping).
    pub patience: usize,
    /// Seed for initialisation, shuffling and dropout (default 42).
    pub seed: u64,
    /// Width of the embedding bag over sparse n-gram features (wide-and-deep networks only; default 32:
    /// ahead of 64 in and out of distribution with half the table, docs/quality-sweep.md).
    pub embed: usize,
    /// Give a wide-and-deep network its linear ("wide") term over the sparse features (default true).
    pub wide: bool,
    /// The validation figure that picks the epoch to keep and drives early stopping, for
    /// wide-and-deep networks (default `recall_at_fpr`; the MLP always watches the validation loss).
    pub select: Select,
    /// Weight of each softmax head's loss (family, severity) beside the binary loss, for wide-and-deep
    /// networks with heads (default 0.3: chosen so that the binary head's quality stays within noise of
    /// the binary-only network, see docs/quality.md).
    pub head_weight: f32,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            hidden: vec![32],
            dropout: 0.0,
            learning_rate: 1e-3,
            weight_decay: 0.0,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            batch_size: 64,
            epochs: 6,
            patience: 2,
            seed: 42,
            embed: 32,
            wide: true,
            select: Select::RecallAtFpr,
            head_weight: 0.3,
        }
    }
}

impl TrainParams {
    /// The seed's recipe: MLP [256, 128, 64], dropout 0.3, AdamW lr 1e-4 with weight decay 1e-3,
    /// batch 32, 12 epochs, patience 3 on validation loss, seed 42.
    pub fn seed() -> TrainParams {
        TrainParams {
            hidden: vec![256, 128, 64],
            dropout: 0.3,
            learning_rate: 1e-4,
            weight_decay: 1e-3,
            batch_size: 32,
            epochs: 12,
            patience: 3,
            select: Select::ValLoss,
            ..TrainParams::default()
        }
    }
}

/// Settings that passed [`TrainParams::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidTrainParams(pub(crate) TrainParams);

impl std::ops::Deref for ValidTrainParams {
    type Target = TrainParams;
    fn deref(&self) -> &TrainParams {
        &self.0
    }
}

/// What early stopping watches on the validation set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Select {
    /// The lowest weighted BCE.
    #[default]
    ValLoss,
    /// The highest ROC AUC.
    Auc,
    /// The highest recall at the calibration FPR target ([`SELECT_FPR`]), ties broken by AUC.
    RecallAtFpr,
}

/// The FPR at which [`Select::RecallAtFpr`] reads recall.
pub const SELECT_FPR: f64 = 0.01;

/// A row-major training matrix with labels and per-sample weights.
#[derive(Debug, Clone, Copy)]
pub struct TrainSet<'a> {
    /// `n x dims` row-major features.
    pub x: &'a [f32],
    /// Feature width.
    pub dims: usize,
    /// `n` labels, 0.0 or 1.0.
    pub y: &'a [f32],
    /// `n` sample weights (class weights, confidence ...).
    pub w: &'a [f32],
}

impl TrainSet<'_> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }
    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
}

/// One epoch's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based epoch.
    pub epoch: usize,
    /// Mean weighted BCE over the training set (dropout on).
    pub train_loss: f64,
    /// Mean weighted BCE on the validation set (dropout off).
    pub val_loss: f64,
    /// Validation false-positive rate at 0.5 (always present in training, which needs both classes).
    pub val_fpr: Option<f64>,
    /// Validation true-positive rate at 0.5.
    pub val_tpr: Option<f64>,
    /// Wall-clock seconds for the epoch.
    pub seconds: f64,
    /// Validation ROC AUC (wide-and-deep training; absent for the MLP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_auc: Option<f64>,
    /// Validation recall at [`SELECT_FPR`] (wide-and-deep training; absent for the MLP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub val_recall_at_fpr: Option<f64>,
}

/// The per-epoch history kept in the model's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct History {
    /// Every epoch run.
    pub epochs: Vec<EpochStats>,
    /// The epoch whose weights were kept (1-based; lowest validation loss).
    pub best_epoch: usize,
    /// Whether early stopping ended training before `epochs`.
    pub stopped_early: bool,
}

/// Receives progress; return `false` from either method to cancel (training then fails with
/// [`crate::Error::Cancelled`]).
pub trait TrainObserver {
    /// After each mini-batch: epoch (1-based), batches done in this epoch, batches per epoch.
    fn on_batch(&mut self, epoch: usize, done: usize, total: usize) -> bool {
        let _ = (epoch, done, total);
        true
    }
    /// After each epoch.
    fn on_epoch(&mut self, stats: &EpochStats) -> bool {
        let _ = stats;
        true
    }
}

/// An observer that ignores everything.
pub struct Silent;
impl TrainObserver for Silent {}

/// Train the MLP on `train`, early-stopping on `val`; returns the best epoch's network and the history.
///
/// Errors: an empty set, a feature width that differs from `train.dims` or between the sets, labels
/// other than 0/1, negative or non-finite weights, non-finite features, a class missing from either
/// set ([`crate::Error::InvalidData`] / [`crate::Error::Shape`] / [`crate::Error::Training`]); a
/// non-finite loss (divergence) is [`crate::Error::Training`]; an observer returning `false` is
/// [`crate::Error::Cancelled`]. The kernel is [`Kernel::selected`]'s (`L2_KERNEL` forces one, for scoring and training alike).
pub fn fit_mlp(
    params: &ValidTrainParams,
    train: &TrainSet<'_>,
    val: &TrainSet<'_>,
    observer: &mut dyn TrainObserver,
) -> Result<(Mlp, History)> {
    fit_mlp_with(params, train, val, observer, Kernel::selected()?)
}

/// The error of a training loss that is no longer finite (at `epoch`, 1-based `batch`).
pub(crate) fn diverged(loss: f64, epoch: usize, batch: usize, learning_rate: f32) -> Error {
    Error::Training(format!(
        "diverged: the training loss is {loss} at epoch {epoch}, batch {batch}; lower learning_rate (now {learning_rate})"
    ))
}
