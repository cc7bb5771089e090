//! Evaluation: threshold calibration for a target FPR, metrics with Wilson intervals, the report with
//! the seed's PASS/FAIL criteria, and ROC/PR curves.
//!
//! CONTRACT (skeleton): the signatures below are what the rest of the crate calls. Bodies are being
//! written by the evaluation work item.

use crate::data::Record;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// A calibrated decision threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Scores `>= threshold` are malicious.
    pub threshold: f32,
    /// The FPR target asked for.
    pub target_fpr: f64,
    /// FPR at the threshold on the calibration data.
    pub fpr: f64,
    /// Wilson 95% interval of that FPR.
    pub fpr_ci95: (f64, f64),
    /// TPR at the threshold on the calibration data.
    pub tpr: f64,
}

/// Pick, on calibration data, the threshold with the highest TPR whose FPR is <= `target_fpr`.
pub fn calibrate(scores: &[f32], labels: &[u8], target_fpr: f64) -> Result<Calibration> {
    let _ = (scores, labels, target_fpr);
    todo!("evaluation work item")
}

/// Wilson score interval for `k` successes in `n` trials at normal quantile `z` (1.96 for 95%).
pub fn wilson(k: usize, n: usize, z: f64) -> (f64, f64) {
    let _ = (k, n, z);
    todo!("evaluation work item")
}

/// The evaluation report (see the module docs); `Display` prints the human table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Rows evaluated.
    pub n: usize,
    /// Threshold used.
    pub threshold: f32,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} rows", self.n)
    }
}

/// Evaluate `scores` (one per record) at `threshold`.
pub fn evaluate(scores: &[f32], records: &[Record], threshold: f32) -> Result<Report> {
    let _ = (scores, records, threshold);
    todo!("evaluation work item")
}

impl Report {
    /// Whether every PASS/FAIL criterion passes.
    pub fn passed(&self) -> bool {
        todo!("evaluation work item")
    }
}
