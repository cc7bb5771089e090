//! The training job end to end: load (or generate) data, de-duplicate, split, embed, train, calibrate
//! the threshold on validation, evaluate on test, and assemble the [`Model`] with its metadata.
//! The CLI, the C API and the Python package all train through [`train`].
//!
//! CONTRACT (skeleton): being written by the integration work item.

use crate::data::{BalanceReport, ClassWeights, DedupeStats, Record, SplitParams};
use crate::embed::{EmbedderSpec, HashSpec};
use crate::error::Result;
use crate::eval::{Calibration, Report};
use crate::train::{TrainObserver, TrainParams};
use crate::Model;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Everything a training job needs; every field has a documented default, and the JSON form (field
/// names as here) is what the C API and the Python package accept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Training CSV files; empty means the built-in corpus.
    pub data: Vec<PathBuf>,
    /// Embedder (default: the hashing embedder, 512 dims).
    pub embedder: EmbedderSpec,
    /// Network and optimiser settings.
    pub train: TrainParams,
    /// Split fractions and seed.
    pub split: SplitParams,
    /// FPR the threshold is calibrated for on the validation split (default 0.01).
    pub target_fpr: f64,
    /// Continue past invalid rows (written to `rejects`) instead of failing.
    pub skip_invalid: bool,
    /// Where to write rejected rows (default: `<output>.rejects.csv` from the CLI; none here).
    pub rejects: Option<PathBuf>,
    /// Class weights to use instead of the inverse-frequency ones.
    pub class_weights: Option<ClassWeights>,
    /// Multiply each row's weight by its `confidence` (default true).
    pub use_confidence: bool,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            data: Vec::new(),
            embedder: EmbedderSpec::Hash(HashSpec::default()),
            train: TrainParams::default(),
            split: SplitParams::default(),
            target_fpr: 0.01,
            skip_invalid: false,
            rejects: None,
            class_weights: None,
            use_confidence: true,
        }
    }
}

/// What a training job produced.
#[derive(Debug)]
pub struct TrainOutcome {
    /// The trained, calibrated model (f32).
    pub model: Model,
    /// Balance of the de-duplicated data.
    pub balance: BalanceReport,
    /// De-duplication counts.
    pub dedupe: DedupeStats,
    /// Rows rejected (invalid or conflicting), all written to `rejects` when set.
    pub rejected: usize,
    /// The threshold calibration on validation.
    pub calibration: Calibration,
    /// The test-split report.
    pub report: Report,
}

/// Run a training job. `records`, when given, is used instead of `config.data` (e.g. a DataFrame from
/// Python).
pub fn train(config: &TrainConfig, records: Option<Vec<Record>>, observer: &mut dyn TrainObserver) -> Result<TrainOutcome> {
    let _ = (config, records, observer);
    todo!("integration work item")
}
