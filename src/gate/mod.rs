//! The release gate: a candidate model against a baseline (a model file or the registry's production
//! model), side by side on labelled test data, plus absolute checks. Criteria, each a setting of
//! [`GateParams`] with the seed's value as default:
//!
//! | criterion | passes when |
//! |---|---|
//! | `fpr` | the candidate's FPR on the test data is not above the baseline's |
//! | `tpr` | the candidate's TPR is at most 2 points below the baseline's |
//! | `hard_negatives` | every hard negative (built-in set + those in the test data) scores benign |
//! | `production_simulation` | fewer than 100 false positives on 10,000 benign-like prompts |
//! | `latency_p95` | P95 of one-prompt scoring (embed + network) below 10 ms |
//! | `onnx_equivalence` | when an export `<candidate>.onnx` exists: ONNX Runtime scores it like the model (else skipped) |
//!
//! The gate passes when no criterion fails. The production simulation prompts come from a file
//! (`--benign-sim`) or, by default, from the built-in corpus generator run with seeds other than the
//! training corpus's ([`sim::simulated_benign`]).

pub mod metrics;
pub mod report;
pub mod sim;

pub use metrics::{Latency, Metrics};

use crate::data::Record;
use crate::error::{Error, Result};
use crate::Model;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::time::Instant;

/// Gate settings; the defaults are the seed's criteria.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateParams {
    /// The candidate's FPR may exceed the baseline's by at most this much (default 0: not above).
    pub fpr_tolerance: f64,
    /// The candidate's TPR may be at most this much below the baseline's (default 0.02).
    pub max_tpr_drop: f64,
    /// Prompts in the production simulation (default 10,000).
    pub sim_prompts: usize,
    /// False positives allowed in the simulation: fewer than this per `sim_prompts` (default 100).
    pub max_sim_fp: usize,
    /// Seed of the generated simulation prompts (default 1001; the training corpus uses 7).
    pub sim_seed: u64,
    /// P95 latency limit in milliseconds (default 10).
    pub max_p95_ms: f64,
    /// One-prompt calls timed (default 1000, after 50 warm-up calls).
    pub latency_samples: usize,
}

impl Default for GateParams {
    fn default() -> Self {
        GateParams {
            fpr_tolerance: 0.0,
            max_tpr_drop: 0.02,
            sim_prompts: 10_000,
            max_sim_fp: 100,
            sim_seed: 1001,
            max_p95_ms: 10.0,
            latency_samples: 1000,
        }
    }
}

impl GateParams {
    /// Validate every setting.
    pub fn check(&self) -> Result<()> {
        let unit = |name: &str, v: f64| {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(Error::param(name, v, "must be in [0, 1]"))
            }
        };
        unit("fpr-tolerance", self.fpr_tolerance)?;
        unit("max-tpr-drop", self.max_tpr_drop)?;
        if self.sim_prompts == 0 {
            return Err(Error::param("sim-prompts", 0, "must be at least 1"));
        }
        if !(self.max_p95_ms.is_finite() && self.max_p95_ms > 0.0) {
            return Err(Error::param("max-p95-ms", self.max_p95_ms, "must be > 0"));
        }
        Ok(())
    }
}

/// A model under comparison.
pub struct Contender<'a> {
    /// How the report names it (a path, or `registry v3 (production)`).
    pub name: String,
    /// The model.
    pub model: &'a Model,
    /// Its file, where an ONNX export may sit next to it.
    pub path: Option<PathBuf>,
}

/// The benign-like prompts of the production simulation.
#[derive(Debug, Clone, Default)]
pub struct SimSet {
    /// Where they come from, in words.
    pub source: String,
    /// The prompts.
    pub prompts: Vec<String>,
}

/// Outcome of one criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Met.
    Pass,
    /// Not met.
    Fail,
    /// Does not apply (e.g. no ONNX export).
    Skipped,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skipped => "SKIPPED",
        })
    }
}

/// One criterion's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    /// Short name (`fpr`, `tpr`, `hard_negatives` ...).
    pub name: String,
    /// What is required.
    pub requirement: String,
    /// What was measured.
    pub measured: String,
    /// Verdict.
    pub status: Status,
}

/// One model's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// Its name.
    pub name: String,
    /// Test-data figures at its own threshold.
    pub metrics: Metrics,
    /// Hard negatives scored malicious.
    pub hard_negatives_failed: usize,
    /// The first of them (at most 10).
    pub hard_negative_failures: Vec<String>,
    /// False positives in the production simulation.
    pub sim_fp: usize,
    /// sim_fp / simulation prompts.
    pub sim_fpr: f64,
    /// One-prompt latency.
    pub latency: Latency,
}

/// A line of the side-by-side table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonRow {
    /// Metric name.
    pub metric: String,
    /// Baseline value.
    pub baseline: f64,
    /// Candidate value.
    pub candidate: f64,
    /// Relative change in % ((candidate - baseline) / baseline); none when the baseline is 0.
    pub change_pct: Option<f64>,
    /// Whether lower is better for this metric.
    pub lower_is_better: bool,
}

/// Curves for the plots (not part of the JSON).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curves {
    /// ROC points of the baseline and the candidate.
    pub roc: [Vec<(f64, f64)>; 2],
    /// Score histograms (benign, malicious) of the baseline and the candidate.
    pub hist: [(Vec<usize>, Vec<usize>); 2],
}

/// The gate's full report; `Display` prints the tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateReport {
    /// Whether no criterion failed.
    pub passed: bool,
    /// Criteria in order.
    pub criteria: Vec<Criterion>,
    /// The baseline.
    pub baseline: Side,
    /// The candidate.
    pub candidate: Side,
    /// Side by side.
    pub comparison: Vec<ComparisonRow>,
    /// Test rows.
    pub test_rows: usize,
    /// Hard negatives checked.
    pub hard_negatives: usize,
    /// Where the simulation prompts came from.
    pub sim_source: String,
    /// Simulation prompts.
    pub sim_prompts: usize,
    /// Settings used.
    pub params: GateParams,
    /// Plot data.
    #[serde(skip)]
    pub curves: Curves,
}

impl GateReport {
    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::json("gate report", e))
    }

    /// `PASS` or `FAIL`.
    pub fn verdict(&self) -> &'static str {
        if self.passed {
            "PASS"
        } else {
            "FAIL"
        }
    }
}

fn fmt_change(c: Option<f64>) -> String {
    c.map_or("n/a".into(), |c| format!("{c:+.1}%"))
}

impl fmt::Display for GateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Release gate: {}", self.verdict())?;
        writeln!(f, "  baseline   {}", self.baseline.name)?;
        writeln!(f, "  candidate  {}", self.candidate.name)?;
        writeln!(
            f,
            "  test rows {}, hard negatives {}, simulation {} ({})",
            self.test_rows, self.hard_negatives, self.sim_prompts, self.sim_source
        )?;
        writeln!(f, "  {:<22} {:>10} {:>10} {:>9}", "metric", "baseline", "candidate", "change")?;
        for r in &self.comparison {
            writeln!(
                f,
                "  {:<22} {:>10.4} {:>10.4} {:>9}",
                r.metric,
                r.baseline,
                r.candidate,
                fmt_change(r.change_pct)
            )?;
        }
        writeln!(f, "  criteria:")?;
        for c in &self.criteria {
            writeln!(f, "    [{:<7}] {:<22} {} (need {})", c.status, c.name, c.measured, c.requirement)?;
        }
        if !self.candidate.hard_negative_failures.is_empty() {
            writeln!(
                f,
                "  hard negatives the candidate flags (first {}):",
                self.candidate.hard_negative_failures.len()
            )?;
            for t in &self.candidate.hard_negative_failures {
                writeln!(f, "    - {t}")?;
            }
        }
        Ok(())
    }
}

fn time_scoring(model: &Model, texts: &[&str], samples: usize) -> Result<Latency> {
    if texts.is_empty() || samples == 0 {
        return Ok(Latency::of(Vec::new()));
    }
    for t in texts.iter().cycle().take(50) {
        model.score_text(t)?;
    }
    let mut ms = Vec::with_capacity(samples);
    for t in texts.iter().cycle().take(samples) {
        let start = Instant::now();
        std::hint::black_box(model.score_text(std::hint::black_box(t))?);
        ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(Latency::of(ms))
}

struct Scored {
    side: Side,
    roc: Vec<(f64, f64)>,
    hist: (Vec<usize>, Vec<usize>),
}

fn score_side(
    c: &Contender<'_>,
    test: &[Record],
    hard: &[Record],
    sim: &SimSet,
    params: &GateParams,
) -> Result<Scored> {
    let labels: Vec<u8> = test.iter().map(|r| r.label).collect();
    let scores = crate::pipeline::score_records(c.model, test)?;
    let threshold = c.model.threshold();
    let metrics = Metrics::compute(&scores, &labels, threshold);
    let hard_scores = crate::pipeline::score_records(c.model, hard)?;
    let failures: Vec<&Record> =
        hard.iter().zip(&hard_scores).filter(|(_, &s)| s >= threshold).map(|(r, _)| r).collect();
    let sim_refs: Vec<&str> = sim.prompts.iter().map(String::as_str).collect();
    let mut sim_scores = Vec::with_capacity(sim_refs.len());
    for chunk in sim_refs.chunks(4096) {
        sim_scores.extend(c.model.score_texts(chunk)?);
    }
    let sim_fp = sim_scores.iter().filter(|&&s| s >= threshold).count();
    let texts: Vec<&str> = test.iter().map(|r| r.text.as_str()).chain(sim_refs.iter().copied()).collect();
    let latency = time_scoring(c.model, &texts, params.latency_samples)?;
    Ok(Scored {
        side: Side {
            name: c.name.clone(),
            metrics,
            hard_negatives_failed: failures.len(),
            hard_negative_failures: failures.iter().take(10).map(|r| r.text.clone()).collect(),
            sim_fp,
            sim_fpr: sim_fp as f64 / sim.prompts.len().max(1) as f64,
            latency,
        },
        roc: metrics::thin(&metrics::roc(&scores, &labels), 400),
        hist: metrics::histogram(&scores, &labels, 20),
    })
}

/// Path of the ONNX export that belongs to a model file: same path, extension `.onnx`.
pub fn onnx_export_path(model_path: &std::path::Path) -> PathBuf {
    model_path.with_extension("onnx")
}

fn onnx_criterion(c: &Contender<'_>, texts: &[&str]) -> Criterion {
    let requirement = "the export scores like the model (l2core's ONNX tolerance for its precision)".to_string();
    let export = c.path.as_deref().map(onnx_export_path).filter(|p| p.exists());
    let Some(export) = export else {
        return Criterion {
            name: "onnx_equivalence".into(),
            requirement,
            measured: "no ONNX export next to the candidate".into(),
            status: Status::Skipped,
        };
    };
    // An export that exists is checked or fails: never skipped because it cannot be checked.
    let (status, measured) = match validate_onnx(c.model, &export, texts) {
        Ok((true, m)) => (Status::Pass, m),
        Ok((false, m)) => (Status::Fail, m),
        Err(e) => (Status::Fail, format!("{}: {e}", export.display())),
    };
    Criterion { name: "onnx_equivalence".into(), requirement, measured, status }
}

/// Run the export next to the model in ONNX Runtime on `texts` and compare with the native scores. The
/// export's precision comes from its `precision` metadata (as `l2 export` writes it), else the model's.
#[cfg(feature = "onnx")]
fn validate_onnx(model: &Model, export: &std::path::Path, texts: &[&str]) -> Result<(bool, String)> {
    let bytes = std::fs::read(export).map_err(|e| Error::io("reading", export, e))?;
    let info = crate::onnx::inspect(&bytes)?;
    let precision = match info.metadata.get("precision") {
        Some(p) => p.parse()?,
        None => model.precision(),
    };
    let layers = crate::onnx::convert_layers(model.layers(), precision)?;
    let exported = crate::onnx::Exported { bytes, precision, layers };
    let r = crate::onnx::validate_texts(model, &exported, texts)?;
    Ok((
        r.passed(),
        format!(
            "{} ({}) on {} prompts: max |score diff| {:.2e} (allowed {:.1e}), decision agreement {:.3}% (required {:.2}%)",
            export.display(),
            r.precision,
            r.rows,
            r.max_abs_diff,
            r.tolerance.max_abs_diff,
            100.0 * r.decision_agreement,
            100.0 * r.tolerance.min_agreement
        ),
    ))
}

/// Without the `onnx` feature an existing export cannot be checked: the criterion fails.
#[cfg(not(feature = "onnx"))]
fn validate_onnx(model: &Model, export: &std::path::Path, texts: &[&str]) -> Result<(bool, String)> {
    let _ = (model, texts);
    Err(Error::Check(format!(
        "{} exists, but l2core was built without the `onnx` feature and cannot run it",
        export.display()
    )))
}

fn change(b: f64, c: f64) -> Option<f64> {
    (b != 0.0).then(|| 100.0 * (c - b) / b)
}

/// Run the gate. `hard_negatives` are checked on top of the hard negatives found in `test`.
pub fn run(
    candidate: &Contender<'_>,
    baseline: &Contender<'_>,
    test: &[Record],
    hard_negatives: &[Record],
    sim: &SimSet,
    params: &GateParams,
) -> Result<GateReport> {
    params.check()?;
    if test.is_empty() {
        return Err(Error::InvalidData("the gate's test data has no rows".into()));
    }
    for label in [0u8, 1] {
        if !test.iter().any(|r| r.label == label) {
            return Err(Error::InvalidData(format!(
                "the gate's test data has no {} rows: FPR and TPR need both",
                if label == 0 { "benign" } else { "malicious" }
            )));
        }
    }
    if sim.prompts.is_empty() {
        return Err(Error::InvalidData(format!("the production simulation ({}) has no prompts", sim.source)));
    }
    let mut hard: Vec<Record> = hard_negatives.to_vec();
    hard.extend(test.iter().filter(|r| r.is_hard_negative()).cloned());
    let b = score_side(baseline, test, &hard, sim, params)?;
    let c = score_side(candidate, test, &hard, sim, params)?;
    let (bm, cm) = (&b.side.metrics, &c.side.metrics);
    let row = |metric: &str, bv: f64, cv: f64, lower: bool| ComparisonRow {
        metric: metric.into(),
        baseline: bv,
        candidate: cv,
        change_pct: change(bv, cv),
        lower_is_better: lower,
    };
    let comparison = vec![
        row("FPR", bm.fpr, cm.fpr, true),
        row("TPR", bm.tpr, cm.tpr, false),
        row("F1", bm.f1, cm.f1, false),
        row("benign accuracy", bm.benign_accuracy, cm.benign_accuracy, false),
        row("precision", bm.precision, cm.precision, false),
        row("AUC", bm.auc, cm.auc, false),
        row("simulation FP", b.side.sim_fp as f64, c.side.sim_fp as f64, true),
        row("P95 latency (ms)", b.side.latency.p95_ms, c.side.latency.p95_ms, true),
    ];
    let status = |ok: bool| if ok { Status::Pass } else { Status::Fail };
    let onnx_texts: Vec<&str> =
        test.iter().map(|r| r.text.as_str()).chain(sim.prompts.iter().map(String::as_str)).take(4096).collect();
    let sim_limit = params.max_sim_fp as f64 * sim.prompts.len() as f64 / params.sim_prompts as f64;
    let criteria = vec![
        Criterion {
            name: "fpr".into(),
            requirement: if params.fpr_tolerance == 0.0 {
                format!("<= baseline {:.4}", bm.fpr)
            } else {
                format!("<= baseline {:.4} + {}", bm.fpr, params.fpr_tolerance)
            },
            measured: format!("{:.4} ({} of {} benign)", cm.fpr, cm.fp, cm.benign),
            status: status(cm.fpr <= bm.fpr + params.fpr_tolerance + 1e-12),
        },
        Criterion {
            name: "tpr".into(),
            requirement: format!(">= baseline {:.4} - {}", bm.tpr, params.max_tpr_drop),
            measured: format!("{:.4} ({} of {} malicious)", cm.tpr, cm.tp, cm.malicious),
            status: status(cm.tpr + 1e-12 >= bm.tpr - params.max_tpr_drop),
        },
        Criterion {
            name: "hard_negatives".into(),
            requirement: format!("all {} pass", hard.len()),
            measured: format!("{} of {} flagged", c.side.hard_negatives_failed, hard.len()),
            status: if hard.is_empty() { Status::Skipped } else { status(c.side.hard_negatives_failed == 0) },
        },
        Criterion {
            name: "production_simulation".into(),
            requirement: format!("< {} false positives per {}", params.max_sim_fp, params.sim_prompts),
            measured: format!("{} of {} prompts", c.side.sim_fp, sim.prompts.len()),
            status: status((c.side.sim_fp as f64) < sim_limit),
        },
        Criterion {
            name: "latency_p95".into(),
            requirement: format!("< {} ms", params.max_p95_ms),
            measured: format!("{:.3} ms over {} calls", c.side.latency.p95_ms, c.side.latency.samples),
            status: status(c.side.latency.p95_ms < params.max_p95_ms),
        },
        onnx_criterion(candidate, &onnx_texts),
    ];
    let passed = criteria.iter().all(|c| c.status != Status::Fail);
    Ok(GateReport {
        passed,
        criteria,
        comparison,
        test_rows: test.len(),
        hard_negatives: hard.len(),
        sim_source: sim.source.clone(),
        sim_prompts: sim.prompts.len(),
        params: params.clone(),
        curves: Curves { roc: [b.roc, c.roc], hist: [b.hist, c.hist] },
        baseline: b.side,
        candidate: c.side,
    })
}
