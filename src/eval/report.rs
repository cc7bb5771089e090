//! The evaluation report: confusion matrix, rates with Wilson intervals, ranking metrics, per-family and
//! per-category rates, hard negatives, and the seed's PASS/FAIL criteria.

use super::calibrate::calibrate;
use super::confusion::Confusion;
use super::heads::HeadReport;
use super::metrics::{average_precision, check_finite, roc_auc, wilson, Z95};
use crate::data::Record;
use crate::error::{Error, Result};
use crate::printable::cell;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The seed's criteria: FPR below this.
pub const MAX_FPR: f64 = 0.01;
/// The seed's criteria: TPR above this.
pub const MIN_TPR: f64 = 0.95;
/// The seed's criteria: F1 above this.
pub const MIN_F1: f64 = 0.95;
/// The FPR at which [`Report::recall_at_1pct_fpr`] is read.
pub const RECALL_AT_FPR: f64 = 0.01;
/// Characters of a prompt shown in the human table.
pub const DISPLAY_TEXT_CHARS: usize = 60;

/// The seed's absolute detection criteria, each a setting with the seed's value as default: a model
/// passes when its FPR is below `max_fpr`, its TPR above `min_tpr` and its F1 above `min_f1`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Targets {
    /// FPR must be below this (default [`MAX_FPR`], 1%).
    pub max_fpr: f64,
    /// TPR must be above this (default [`MIN_TPR`], 95%).
    pub min_tpr: f64,
    /// F1 must be above this (default [`MIN_F1`], 0.95).
    pub min_f1: f64,
}

impl Default for Targets {
    fn default() -> Self {
        Targets { max_fpr: MAX_FPR, min_tpr: MIN_TPR, min_f1: MIN_F1 }
    }
}

impl Targets {
    /// Validate every setting; the error names it (`max-fpr`, `min-tpr`, `min-f1`).
    pub fn check(&self) -> Result<()> {
        for (name, v) in [("max-fpr", self.max_fpr), ("min-tpr", self.min_tpr), ("min-f1", self.min_f1)] {
            if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
                return Err(Error::param(name, v, "must be in [0, 1]"));
            }
        }
        Ok(())
    }
}

/// A rate as a short percentage for criterion names: `0.01` -> `1%`, `0.005` -> `0.5%`.
fn pct_label(v: f64) -> String {
    let s = format!("{:.4}", v * 100.0);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// Rows of one family or category and how many of them the model flagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRate {
    /// The family or category (`(none)` for an empty category).
    pub name: String,
    /// Rows in the group.
    pub rows: usize,
    /// Rows scoring at or above the threshold.
    pub flagged: usize,
    /// `flagged / rows`: the detection rate of a malicious family, the FPR of a benign category.
    pub rate: f64,
}

/// A hard negative the model flagged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HardNegativeMiss {
    /// The prompt, in full (the table truncates it).
    pub text: String,
    /// Its score.
    pub score: f32,
    /// `file:line` it was read from (`row-<index>` for rows without an origin).
    pub origin: String,
}

/// How the model did on hard negatives (see [`Record::is_hard_negative`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HardNegatives {
    /// Hard negatives evaluated.
    pub total: usize,
    /// Those scoring below the threshold.
    pub passed: usize,
    /// Every flagged one, highest score first.
    pub misclassified: Vec<HardNegativeMiss>,
}

/// Outcome of one criterion (of the evaluation report and of the release gate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// Met.
    #[serde(rename = "PASS")]
    Pass,
    /// Not met, or not measurable on this data (e.g. TPR without malicious rows).
    #[serde(rename = "FAIL")]
    Fail,
    /// Nothing to check (all hard negatives pass when there are none; no ONNX export to compare).
    #[serde(rename = "N/A")]
    NotApplicable,
}

impl Status {
    /// `Pass` when `ok`, else `Fail`.
    pub fn of(ok: bool) -> Status {
        if ok {
            Status::Pass
        } else {
            Status::Fail
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::NotApplicable => "N/A",
        })
    }
}

/// One criterion with its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// Short name, e.g. `FPR < 1%` (the report) or `tpr` (the gate).
    pub name: String,
    /// What is required, where the name does not say it (e.g. `>= baseline 0.9500 - 0.02`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub requirement: String,
    /// The measured value, when measurable.
    pub value: Option<f64>,
    /// The outcome.
    pub status: Status,
    /// The value in words (e.g. `0.80% (4/500)`), or why it could not be measured.
    pub detail: String,
}

/// The evaluation report; `Display` prints the human table, serde gives the `--json` form (and the
/// copy kept in the model file's metadata).
///
/// Rates that are undefined on the data (FPR without benign rows, TPR without malicious rows, precision
/// with nothing flagged ...) are `None` (`null` in JSON, `n/a` in the table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Rows evaluated.
    pub n: usize,
    /// Threshold used (scores `>= threshold` are malicious).
    pub threshold: f32,
    /// Benign rows.
    pub benign: usize,
    /// Malicious rows.
    pub malicious: usize,
    /// Decisions at the threshold.
    pub confusion: Confusion,
    /// `fp / benign`.
    pub fpr: Option<f64>,
    /// Wilson 95% interval of the FPR (`(0, 1)` without benign rows).
    pub fpr_ci95: (f64, f64),
    /// `tp / malicious` (recall).
    pub tpr: Option<f64>,
    /// Wilson 95% interval of the TPR.
    pub tpr_ci95: (f64, f64),
    /// `tp / (tp + fp)`; `None` when nothing is flagged.
    pub precision: Option<f64>,
    /// `2tp / (2tp + fp + fn)` (the harmonic mean of precision and recall, and 0 when `tp = 0`); `None` only
    /// when there are neither malicious rows nor flags.
    pub f1: Option<f64>,
    /// `(tp + tn) / n`.
    pub accuracy: f64,
    /// `tn / benign` (= 1 − FPR).
    pub benign_accuracy: Option<f64>,
    /// ROC AUC as the Mann-Whitney statistic, ties counting 1/2.
    pub roc_auc: Option<f64>,
    /// PR AUC as average precision: `Σ_k (R_k − R_{k−1}) · P_k` over distinct score thresholds from the
    /// highest down (tied rows enter together), no interpolation.
    pub pr_auc: Option<f64>,
    /// The highest TPR of any threshold whose FPR on *this* data is <= 1% (an oracle threshold, chosen as
    /// [`super::calibrate`] does, for comparing models independently of their calibrated threshold).
    pub recall_at_1pct_fpr: Option<f64>,
    /// Detection rate per family, over malicious rows, by name.
    pub by_family: Vec<GroupRate>,
    /// False-positive rate per category, over benign rows, by name.
    pub by_category: Vec<GroupRate>,
    /// Hard negatives.
    pub hard_negatives: HardNegatives,
    /// The criteria, in order: FPR < 1%, TPR > 95%, F1 > 0.95 (the [`Targets`] evaluated with), all hard
    /// negatives pass.
    pub criteria: Vec<Criterion>,
    /// The family and severity heads, for a model that has them ([`Report::with_heads`]; empty for
    /// one without, and in reports written before heads existed).
    #[serde(default)]
    pub heads: Vec<HeadReport>,
}

impl Report {
    /// The report with the heads' evaluation added.
    pub fn with_heads(mut self, heads: Vec<HeadReport>) -> Report {
        self.heads = heads;
        self
    }

    /// The evaluation of the `kind` head, if the model has one.
    pub fn head(&self, kind: crate::nn::HeadKind) -> Option<&HeadReport> {
        self.heads.iter().find(|h| h.kind == kind)
    }

    /// Whether no criterion fails (a criterion with nothing to check, `N/A`, does not fail).
    pub fn passed(&self) -> bool {
        self.criteria.iter().all(|c| c.status != Status::Fail)
    }
}

fn group_rates<'a>(rows: impl Iterator<Item = (&'a str, bool)>) -> Vec<GroupRate> {
    let mut map: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (name, flagged) in rows {
        let e = map.entry(name).or_default();
        e.0 += 1;
        e.1 += flagged as usize;
    }
    map.into_iter()
        .map(|(name, (rows, flagged))| GroupRate {
            name: if name.is_empty() { "(none)".to_string() } else { name.to_string() },
            rows,
            flagged,
            rate: flagged as f64 / rows as f64,
        })
        .collect()
}

fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

fn criterion(name: String, value: Option<f64>, ok: impl Fn(f64) -> bool, detail: String, missing: &str) -> Criterion {
    let (status, detail) = match value {
        Some(v) => (Status::of(ok(v)), detail),
        None => (Status::Fail, missing.to_string()),
    };
    Criterion { name, requirement: String::new(), value, status, detail }
}

/// The labels of `records`, each checked to be 0 or 1 (an error names the row's file and line).
pub(crate) fn record_labels(records: &[Record]) -> Result<Vec<u8>> {
    records
        .iter()
        .map(|r| match r.label {
            0 | 1 => Ok(r.label),
            other => Err(Error::InvalidRows {
                errors: vec![crate::error::RowError {
                    file: r.origin.file.clone(),
                    line: r.origin.line,
                    field: Some("label".into()),
                    reason: format!("must be 0 or 1, got {other}"),
                }],
                total: 1,
            }),
        })
        .collect()
}

/// Where a row came from, for listings: `file:line`, or `row-<index>` (0-based) when it has no origin.
pub(crate) fn origin_of(r: &Record, index: usize) -> String {
    if r.origin.file.is_empty() {
        format!("row-{index}")
    } else {
        format!("{}:{}", r.origin.file, r.origin.line)
    }
}

/// Evaluate `scores` (one per record) at `threshold` on the seed's criteria ([`Targets::default`]): a
/// row is flagged (predicted malicious) when its score is `>= threshold`.
///
/// Errors: lengths differ, no rows, a non-finite score or threshold, a label other than 0/1.
pub fn evaluate(scores: &[f32], records: &[Record], threshold: f32) -> Result<Report> {
    evaluate_with(scores, records, threshold, &Targets::default())
}

/// [`evaluate`] with other criteria than the seed's.
pub fn evaluate_with(scores: &[f32], records: &[Record], threshold: f32, targets: &Targets) -> Result<Report> {
    targets.check()?;
    if scores.len() != records.len() {
        return Err(Error::shape(
            "scores vs records",
            format!("{} scores (one per record)", records.len()),
            scores.len(),
        ));
    }
    if records.is_empty() {
        return Err(Error::InvalidData("nothing to evaluate: no rows".into()));
    }
    if !threshold.is_finite() {
        return Err(Error::param("threshold", threshold, "must be a finite number"));
    }
    check_finite(scores)?;
    let labels = record_labels(records)?;

    let c = Confusion::count(scores, &labels, threshold);
    let (benign, malicious) = (c.benign(), c.malicious());
    let n = records.len();
    let (fpr, tpr, f1) = (c.fpr(), c.tpr(), c.f1());
    let recall_at_1pct_fpr =
        if benign > 0 && malicious > 0 { Some(calibrate(scores, &labels, RECALL_AT_FPR)?.tpr) } else { None };

    let by_family = group_rates(
        records.iter().zip(scores).filter(|(r, _)| r.label == 1).map(|(r, &s)| (r.family.as_str(), s >= threshold)),
    );
    let by_category = group_rates(
        records.iter().zip(scores).filter(|(r, _)| r.label == 0).map(|(r, &s)| (r.category.as_str(), s >= threshold)),
    );

    let mut hard = HardNegatives::default();
    for (i, (r, &s)) in records.iter().zip(scores).enumerate() {
        if r.is_hard_negative() {
            hard.total += 1;
            if s < threshold {
                hard.passed += 1;
            } else {
                hard.misclassified.push(HardNegativeMiss { text: r.text.clone(), score: s, origin: origin_of(r, i) });
            }
        }
    }
    hard.misclassified.sort_by(|a, b| b.score.total_cmp(&a.score));

    let criteria = vec![
        criterion(
            format!("FPR < {}", pct_label(targets.max_fpr)),
            fpr,
            |v| v < targets.max_fpr,
            fpr.map(|v| format!("{} ({}/{})", pct(v), c.fp, benign)).unwrap_or_default(),
            "no benign rows to measure it on",
        ),
        criterion(
            format!("TPR > {}", pct_label(targets.min_tpr)),
            tpr,
            |v| v > targets.min_tpr,
            tpr.map(|v| format!("{} ({}/{})", pct(v), c.tp, malicious)).unwrap_or_default(),
            "no malicious rows to measure it on",
        ),
        criterion(
            format!("F1 > {}", targets.min_f1),
            f1,
            |v| v > targets.min_f1,
            f1.map(|v| format!("{v:.4}")).unwrap_or_default(),
            "no malicious rows and nothing flagged",
        ),
        if hard.total == 0 {
            Criterion {
                name: "All hard negatives pass".into(),
                requirement: String::new(),
                value: None,
                status: Status::NotApplicable,
                detail: "no hard negatives in the data".into(),
            }
        } else {
            let share = hard.passed as f64 / hard.total as f64;
            Criterion {
                name: "All hard negatives pass".into(),
                requirement: String::new(),
                value: Some(share),
                status: Status::of(hard.passed == hard.total),
                detail: format!("{}/{} pass", hard.passed, hard.total),
            }
        },
    ];

    Ok(Report {
        n,
        threshold,
        benign,
        malicious,
        confusion: c,
        fpr,
        fpr_ci95: wilson(c.fp, benign, Z95),
        tpr,
        tpr_ci95: wilson(c.tp, malicious, Z95),
        precision: c.precision(),
        f1,
        accuracy: c.accuracy().unwrap_or_default(),
        benign_accuracy: c.benign_accuracy(),
        roc_auc: roc_auc(scores, &labels),
        pr_auc: average_precision(scores, &labels),
        recall_at_1pct_fpr,
        by_family,
        by_category,
        hard_negatives: hard,
        criteria,
        heads: Vec::new(),
    })
}

/// One line for the table: control characters (newlines in multi-line CSV fields) become spaces and the
/// text is cut to `max` characters with an ellipsis.
pub(crate) fn display_text(text: &str, max: usize) -> String {
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if clean.chars().count() <= max {
        clean
    } else {
        let mut s: String = clean.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

fn opt_pct(x: Option<f64>) -> String {
    x.map(pct).unwrap_or_else(|| "n/a".into())
}

fn opt_dec(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.4}")).unwrap_or_else(|| "n/a".into())
}

fn ci(x: Option<f64>, ci: (f64, f64)) -> String {
    match x {
        Some(_) => format!("[{}, {}]", pct(ci.0), pct(ci.1)),
        None => String::new(),
    }
}

fn write_groups(
    f: &mut fmt::Formatter<'_>,
    title: &str,
    flagged: &str,
    rate: &str,
    groups: &[GroupRate],
) -> fmt::Result {
    if groups.is_empty() {
        return Ok(());
    }
    let w = groups.iter().map(|g| g.name.chars().count()).max().unwrap_or(0).max(title.len());
    writeln!(f)?;
    writeln!(f, "{title:<w$}  {:>7}  {flagged:>8}  {rate:>8}", "rows")?;
    for g in groups {
        writeln!(f, "{:<w$}  {:>7}  {:>8}  {:>8}", cell(&g.name), g.rows, g.flagged, pct(g.rate))?;
    }
    Ok(())
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.confusion;
        writeln!(
            f,
            "Evaluation: {} rows ({} benign, {} malicious), threshold {:.4}",
            self.n, self.benign, self.malicious, self.threshold
        )?;
        writeln!(f)?;
        writeln!(f, "{:<18}  {:>12}  {:>15}", "", "pred. benign", "pred. malicious")?;
        writeln!(f, "{:<18}  {:>12}  {:>15}", "actual benign", c.tn, c.fp)?;
        writeln!(f, "{:<18}  {:>12}  {:>15}", "actual malicious", c.fn_, c.tp)?;
        writeln!(f)?;
        writeln!(f, "{:<18}  {:>9}  95% CI (Wilson)", "metric", "value")?;
        let rows: [(&str, String, String); 10] = [
            ("FPR", opt_pct(self.fpr), ci(self.fpr, self.fpr_ci95)),
            ("TPR (recall)", opt_pct(self.tpr), ci(self.tpr, self.tpr_ci95)),
            ("precision", opt_pct(self.precision), String::new()),
            ("F1", opt_dec(self.f1), String::new()),
            ("accuracy", pct(self.accuracy), String::new()),
            ("benign accuracy", opt_pct(self.benign_accuracy), String::new()),
            ("ROC AUC", opt_dec(self.roc_auc), String::new()),
            ("PR AUC (AP)", opt_dec(self.pr_auc), String::new()),
            ("recall @ 1% FPR", opt_pct(self.recall_at_1pct_fpr), String::new()),
            ("threshold", format!("{:.4}", self.threshold), String::new()),
        ];
        for (name, value, interval) in rows {
            writeln!(f, "{}", format!("{name:<18}  {value:>9}  {interval}").trim_end())?;
        }
        write_groups(f, "family (malicious)", "detected", "rate", &self.by_family)?;
        write_groups(f, "category (benign)", "flagged", "FPR", &self.by_category)?;
        let h = &self.hard_negatives;
        writeln!(f)?;
        writeln!(f, "Hard negatives: {}/{} pass", h.passed, h.total)?;
        if !h.misclassified.is_empty() {
            let w = h.misclassified.iter().map(|m| m.origin.chars().count()).max().unwrap_or(0).max(6);
            writeln!(f, "  {:>7}  {:<w$}  text", "score", "origin")?;
            for m in &h.misclassified {
                writeln!(
                    f,
                    "  {:>7.4}  {:<w$}  {}",
                    m.score,
                    cell(&m.origin),
                    display_text(&m.text, DISPLAY_TEXT_CHARS)
                )?;
            }
        }
        for head in &self.heads {
            writeln!(f)?;
            write!(f, "{head}")?;
        }
        writeln!(f)?;
        writeln!(f, "Criteria")?;
        let w = self.criteria.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &self.criteria {
            writeln!(f, "  {:<4}  {:<w$}  {}", c.status, c.name, c.detail)?;
        }
        write!(f, "Overall: {}", if self.passed() { "PASS" } else { "FAIL" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criterion_names_follow_the_targets() {
        assert_eq!((pct_label(0.01), pct_label(0.95), pct_label(0.005)), ("1%".into(), "95%".into(), "0.5%".into()));
        let rows: Vec<Record> = (0..4).map(|i| Record::new(format!("t{i}"), u8::from(i >= 2))).collect();
        let r =
            evaluate_with(&[0.1, 0.2, 0.8, 0.9], &rows, 0.5, &Targets { max_fpr: 0.05, ..Targets::default() }).unwrap();
        let names: Vec<&str> = r.criteria.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["FPR < 5%", "TPR > 95%", "F1 > 0.95", "All hard negatives pass"]);
        assert!(evaluate_with(&[0.1], &rows[..1], 0.5, &Targets { min_f1: 1.5, ..Targets::default() }).is_err());
    }

    #[test]
    fn display_text_truncates_on_char_boundaries_and_flattens_lines() {
        assert_eq!(display_text("a\nb", 10), "a b");
        assert_eq!(display_text("ééééé", 3), "éé…");
    }
}
