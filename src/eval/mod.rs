//! Evaluation: threshold calibration for a target FPR, metrics with Wilson intervals, the report with
//! the seed's PASS/FAIL criteria, ROC/PR curves and score histograms, the false-positive report the
//! reinforcement loop reads, and baseline-vs-candidate comparison.
//!
//! Conventions throughout: malicious (label 1) is the positive class and a row is flagged when its score
//! is `>= threshold`. Rows with equal scores always get the same decision.

mod calibrate;
mod compare;
mod curves;
mod fp_report;
mod metrics;
mod report;

pub use calibrate::{calibrate, Calibration};
pub use compare::{compare, Comparison, CriterionChange, MetricChange, Verdict};
pub use curves::{pr_curve, roc_curve, score_histogram, Histogram, PrPoint, RocPoint};
pub use fp_report::{
    fp_report, severity_for_score, CategoryCount, FlaggedRow, FpDetail, FpReport, FpTally, Threat, LAYER, UNCATEGORIZED,
};
pub use metrics::{wilson, Z95};
pub use report::{
    evaluate, Confusion, Criterion, GroupRate, HardNegativeMiss, HardNegatives, Report, Status, DISPLAY_TEXT_CHARS,
    MAX_FPR, MIN_F1, MIN_TPR, RECALL_AT_FPR,
};
