//! Evaluation: what a model is judged by, and the one vocabulary for it. Confusion counts and rates
//! ([`Confusion`], [`Rates`]; an empty class gives `None`), threshold calibration for a target FPR,
//! metrics with Wilson intervals, the report with its PASS/FAIL criteria ([`Criterion`], [`Status`],
//! [`Targets`]), ROC/PR curves and score histograms, baseline-vs-candidate comparison, the parity of
//! one scorer against another ([`Parity`]), latency percentiles ([`Latency`]) and the false-positive
//! report the reinforcement loop reads, and the family and severity heads' evaluation ([`heads`]). The release gate, quantization, ONNX validation and training's
//! validation figures all count and compare through this module.
//!
//! Conventions throughout: malicious (label 1) is the positive class and a row is flagged when its score
//! is `>= threshold`. Rows with equal scores always get the same decision.

mod calibrate;
mod compare;
mod confusion;
mod curves;
mod fp_report;
pub mod heads;
mod latency;
mod metrics;
mod parity;
mod report;

pub use calibrate::{calibrate, calibrate_with, Calibration, CalibrationRule};
pub use compare::{compare, Comparison, CriterionChange, MetricChange, Verdict};
pub use confusion::{ratio, Confusion, Rates};
pub use curves::{pr_curve, roc_curve, score_histogram, thin, Histogram, PrPoint, RocPoint};
pub use fp_report::{
    fp_report, severity_for_score, CategoryCount, FeedbackLine, FlaggedRow, FpDetail, FpReport, FpTally, Threat, LAYER,
    UNCATEGORIZED,
};
pub use heads::{evaluate_head, ClassScore, HeadReport};
pub use latency::Latency;
pub use metrics::{auc, wilson, Z95};
pub use parity::{Parity, Tolerance};
pub use report::{
    evaluate, evaluate_with, Criterion, GroupRate, HardNegativeMiss, HardNegatives, Report, Status, Targets,
    DISPLAY_TEXT_CHARS, MAX_FPR, MIN_F1, MIN_TPR, RECALL_AT_FPR,
};
