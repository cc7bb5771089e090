//! Side-by-side comparison of two evaluation reports (baseline vs candidate), as the release gate shows it.

use super::report::{Report, Status};
use crate::nn::HeadKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Whether the candidate moved a metric the right way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Improved.
    Better,
    /// Regressed.
    Worse,
    /// Equal (to 1e-12).
    Same,
    /// One side has no value.
    #[serde(rename = "n/a")]
    NotComparable,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Same => "same",
            Verdict::NotComparable => "n/a",
        })
    }
}

/// One metric of both models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricChange {
    /// Metric name.
    pub metric: String,
    /// Baseline value.
    pub baseline: Option<f64>,
    /// Candidate value.
    pub candidate: Option<f64>,
    /// `candidate − baseline`.
    pub delta: Option<f64>,
    /// Relative change `(candidate − baseline) / baseline · 100`; `None` when the baseline is 0 (and the
    /// candidate is not) or a side is missing.
    pub change_pct: Option<f64>,
    /// Whether higher values are better for this metric (false for FPR).
    pub higher_is_better: bool,
    /// The direction of the change.
    pub verdict: Verdict,
    /// Whether the value is a rate shown in percent.
    pub percent: bool,
}

/// Baseline vs candidate; `Display` prints the side-by-side table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The metrics, in table order.
    pub metrics: Vec<MetricChange>,
    /// Whether the baseline meets every criterion.
    pub baseline_passed: bool,
    /// Whether the candidate meets every criterion.
    pub candidate_passed: bool,
    /// The seed's criteria for both models.
    pub criteria: Vec<CriterionChange>,
}

/// One criterion's outcome for both models.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionChange {
    /// The criterion, e.g. `FPR < 1%`.
    pub name: String,
    /// The baseline's outcome.
    pub baseline: Status,
    /// The candidate's outcome (`N/A` if the candidate's report lacks the criterion).
    pub candidate: Status,
}

impl MetricChange {
    /// One metric of both models: the delta, the relative change and the verdict follow from the values.
    pub fn new(metric: &str, b: Option<f64>, c: Option<f64>, higher_is_better: bool, percent: bool) -> MetricChange {
        change(metric, b, c, higher_is_better, percent)
    }

    /// The baseline's value as the tables show it (`12.50%`, `0.9500`, `n/a`).
    pub fn baseline_text(&self) -> String {
        value(self.baseline, self.percent)
    }

    /// The candidate's value as the tables show it.
    pub fn candidate_text(&self) -> String {
        value(self.candidate, self.percent)
    }

    /// The relative change as the tables show it (`+1.5%`, `n/a`).
    pub fn change_text(&self) -> String {
        self.change_pct.map_or_else(|| "n/a".into(), |p| format!("{p:+.1}%"))
    }
}

fn change(metric: &str, b: Option<f64>, c: Option<f64>, higher_is_better: bool, percent: bool) -> MetricChange {
    let (delta, change_pct, verdict) = match (b, c) {
        (Some(b), Some(c)) => {
            let d = c - b;
            let rel = if b != 0.0 {
                Some(d / b * 100.0)
            } else if d == 0.0 {
                Some(0.0)
            } else {
                None
            };
            let v = if d.abs() <= 1e-12 {
                Verdict::Same
            } else if (d > 0.0) == higher_is_better {
                Verdict::Better
            } else {
                Verdict::Worse
            };
            (Some(d), rel, v)
        }
        _ => (None, None, Verdict::NotComparable),
    };
    MetricChange {
        metric: metric.to_string(),
        baseline: b,
        candidate: c,
        delta,
        change_pct,
        higher_is_better,
        verdict,
        percent,
    }
}

fn hard_negative_pass_rate(r: &Report) -> Option<f64> {
    let h = &r.hard_negatives;
    (h.total > 0).then(|| h.passed as f64 / h.total as f64)
}

/// Compare `candidate` against `baseline` on FPR, TPR, precision, F1, accuracy, benign accuracy, ROC AUC,
/// PR AUC, recall at 1% FPR and the hard-negative pass rate, the heads' macro-F1, accuracy and severity
/// MAE when either model has heads, and on the seed's criteria.
pub fn compare(baseline: &Report, candidate: &Report) -> Comparison {
    let (b, c) = (baseline, candidate);
    let metrics = vec![
        change("FPR", b.fpr, c.fpr, false, true),
        change("TPR", b.tpr, c.tpr, true, true),
        change("precision", b.precision, c.precision, true, true),
        change("F1", b.f1, c.f1, true, false),
        change("accuracy", Some(b.accuracy), Some(c.accuracy), true, true),
        change("benign accuracy", b.benign_accuracy, c.benign_accuracy, true, true),
        change("ROC AUC", b.roc_auc, c.roc_auc, true, false),
        change("PR AUC", b.pr_auc, c.pr_auc, true, false),
        change("recall @ 1% FPR", b.recall_at_1pct_fpr, c.recall_at_1pct_fpr, true, true),
        change("hard negatives pass", hard_negative_pass_rate(b), hard_negative_pass_rate(c), true, true),
    ];
    // The heads, when either side has them: (head, metric, value, higher is better, percent).
    type HeadMetric = fn(&super::heads::HeadReport) -> Option<f64>;
    let head_metrics: [(HeadKind, &str, HeadMetric, bool, bool); 4] = [
        (HeadKind::Family, "family macro-F1", |h| h.macro_f1, true, false),
        (HeadKind::Family, "family accuracy", |h| h.accuracy, true, true),
        (HeadKind::Severity, "severity accuracy", |h| h.accuracy, true, true),
        (HeadKind::Severity, "severity MAE", |h| h.mae, false, false),
    ];
    let mut metrics = metrics;
    for (kind, name, value, higher, percent) in head_metrics {
        let (hb, hc) = (b.head(kind), c.head(kind));
        if hb.is_some() || hc.is_some() {
            metrics.push(change(name, hb.and_then(value), hc.and_then(value), higher, percent));
        }
    }
    let criteria = b
        .criteria
        .iter()
        .map(|bc| {
            let cs = c.criteria.iter().find(|cc| cc.name == bc.name).map_or(Status::NotApplicable, |cc| cc.status);
            CriterionChange { name: bc.name.clone(), baseline: bc.status, candidate: cs }
        })
        .collect();
    Comparison { metrics, baseline_passed: b.passed(), candidate_passed: c.passed(), criteria }
}

fn value(v: Option<f64>, percent: bool) -> String {
    match v {
        Some(v) if percent => format!("{:.2}%", v * 100.0),
        Some(v) => format!("{v:.4}"),
        None => "n/a".into(),
    }
}

impl Comparison {
    /// The comparison as GitHub-flavoured markdown tables (metrics, then criteria), for gate reports.
    pub fn to_markdown(&self) -> String {
        let mut s = String::from("| metric | baseline | candidate | change | verdict |\n|---|---:|---:|---:|---|\n");
        for m in &self.metrics {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                m.metric,
                m.baseline_text(),
                m.candidate_text(),
                m.change_text(),
                m.verdict
            ));
        }
        s.push_str("\n| criterion | baseline | candidate |\n|---|---|---|\n");
        for c in &self.criteria {
            s.push_str(&format!("| {} | {} | {} |\n", c.name, c.baseline, c.candidate));
        }
        let pf = |p: bool| if p { "**PASS**" } else { "**FAIL**" };
        s.push_str(&format!("| overall | {} | {} |\n", pf(self.baseline_passed), pf(self.candidate_passed)));
        s
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = self.metrics.iter().map(|m| m.metric.len()).max().unwrap_or(6).max(6);
        writeln!(f, "{:<w$}  {:>10}  {:>10}  {:>9}  verdict", "metric", "baseline", "candidate", "change")?;
        for m in &self.metrics {
            writeln!(
                f,
                "{:<w$}  {:>10}  {:>10}  {:>9}  {}",
                m.metric,
                m.baseline_text(),
                m.candidate_text(),
                m.change_text(),
                m.verdict
            )?;
        }
        let cw = self.criteria.iter().map(|c| c.name.len()).max().unwrap_or(8).max(8);
        writeln!(f)?;
        writeln!(f, "{:<cw$}  {:>8}  {:>9}", "criteria", "baseline", "candidate")?;
        for c in &self.criteria {
            writeln!(f, "{:<cw$}  {:>8}  {:>9}", c.name, c.baseline, c.candidate)?;
        }
        let pf = |p: bool| if p { "PASS" } else { "FAIL" };
        write!(f, "{:<cw$}  {:>8}  {:>9}", "overall", pf(self.baseline_passed), pf(self.candidate_passed))
    }
}
