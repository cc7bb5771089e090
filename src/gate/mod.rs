//! The release gate: a candidate model against a baseline (a model file or the registry's production
//! model), side by side on labelled test data, plus absolute checks. Every figure comes from
//! [`crate::eval`] (reports, comparison, curves, histograms, latency). Criteria, each a setting of
//! [`GateParams`] with the seed's value as default:
//!
//! | criterion | passes when |
//! |---|---|
//! | `max_fpr` | the candidate's FPR on the test data is below 1% (the seed's must-have) |
//! | `min_tpr` | the candidate's TPR is above 95% |
//! | `min_f1` | the candidate's F1 is above 0.95 |
//! | `fpr` | the candidate's FPR is not above the baseline's (no regression) |
//! | `tpr` | the candidate's TPR is at most 2 points below the baseline's |
//! | `hard_negatives` | every hard negative (built-in set + those in the test data) scores benign |
//! | `production_simulation` | fewer than 100 false positives on 10,000 benign-like prompts |
//! | `latency_p95` | P95 of one-prompt scoring (embed + network) below 10 ms |
//! | `onnx_equivalence` | when an export `<candidate>.onnx` exists: ONNX Runtime scores it like the model (else N/A) |
//!
//! The gate passes when no criterion fails: a candidate that merely matches a weak baseline does not
//! pass. The production simulation prompts come from a file (`--benign-sim`) or, by default, from the
//! built-in corpus generator run with seeds other than the training corpus's ([`sim::simulated_benign`]).

pub mod report;
pub mod sim;

use crate::data::Record;
use crate::error::{Error, Result};
use crate::eval::{self, Comparison, Criterion, Histogram, Latency, MetricChange, RocPoint, Status, Targets};
use crate::printable::cell;
use crate::registry::Registry;
use crate::Model;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// Gate settings; the defaults are the seed's criteria.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GateParams {
    /// The candidate's FPR on the test data must be below this (default 0.01).
    pub max_fpr: f64,
    /// The candidate's TPR must be above this (default 0.95).
    pub min_tpr: f64,
    /// The candidate's F1 must be above this (default 0.95).
    pub min_f1: f64,
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
        let t = Targets::default();
        GateParams {
            max_fpr: t.max_fpr,
            min_tpr: t.min_tpr,
            min_f1: t.min_f1,
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
        self.targets().check()?;
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

    /// The absolute detection criteria, as the evaluation report takes them.
    pub fn targets(&self) -> Targets {
        Targets { max_fpr: self.max_fpr, min_tpr: self.min_tpr, min_f1: self.min_f1 }
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

/// A baseline loaded from a model file or a registry version ([`Baseline::load`]).
pub struct Baseline {
    /// How the report names it.
    pub name: String,
    /// The model.
    pub model: Model,
    /// Its file.
    pub path: PathBuf,
}

impl Baseline {
    /// `spec` is a model file, or a registry version (`production`, `staging`, `v3`) of the registry
    /// `registry` (default: `L2_REGISTRY`).
    pub fn load(spec: &str, registry: Option<&Path>) -> Result<Baseline> {
        let p = Path::new(spec);
        if p.is_file() {
            return Ok(Baseline { name: spec.to_string(), model: Model::load(p)?, path: p.to_path_buf() });
        }
        let reg = Registry::from_arg_or_env(registry).map_err(|_| {
            Error::param(
                "baseline",
                spec,
                "is neither a model file nor, without --registry or L2_REGISTRY, a registry version",
            )
        })?;
        let (entry, model) = reg.load_model(spec).map_err(|e| match e {
            Error::Registry { path, reason }
                if spec.eq_ignore_ascii_case("production") && reason.starts_with("no version") =>
            {
                Error::Registry {
                    path,
                    reason: "has no production model: promote one (l2 registry promote VERSION --stage production) \
                             or give --baseline MODEL"
                        .into(),
                }
            }
            other => other,
        })?;
        let path = reg.dir().join(&entry.file);
        Ok(Baseline {
            name: format!("registry {} {} ({})", reg.dir().display(), entry.name(), entry.stage),
            model,
            path,
        })
    }

    /// As a contender of [`run`].
    pub fn contender(&self) -> Contender<'_> {
        Contender { name: self.name.clone(), model: &self.model, path: Some(self.path.clone()) }
    }
}

/// Hard negatives for the gate: the built-in set (when `builtin`) and the benign rows of a user CSV (a
/// malicious row there is an error naming it).
pub fn hard_negatives(builtin: bool, user: Option<&Path>) -> Result<Vec<Record>> {
    let mut out = if builtin { crate::data::corpus::hard_negatives() } else { Vec::new() };
    if let Some(p) = user {
        let rows = crate::data::read_csv(p, &Default::default())?.records;
        if let Some(m) = rows.iter().find(|r| r.label == 1) {
            return Err(Error::InvalidData(format!(
                "{}:{}: hard negatives must be benign",
                p.display(),
                m.origin.line
            )));
        }
        out.extend(rows);
    }
    Ok(out)
}

/// The benign-like prompts of the production simulation.
#[derive(Debug, Clone, Default)]
pub struct SimSet {
    /// Where they come from, in words.
    pub source: String,
    /// The prompts.
    pub prompts: Vec<String>,
}

impl SimSet {
    /// The prompts of `file` ([`sim::read_sim_file`]), or without one the generated set of `params`
    /// ([`sim::simulated_benign`]).
    pub fn load(file: Option<&Path>, params: &GateParams) -> Result<SimSet> {
        match file {
            Some(p) => sim::read_sim_file(p),
            None => Ok(sim::simulated_benign(params.sim_prompts, params.sim_seed)),
        }
    }
}

/// One model's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// Its name.
    pub name: String,
    /// The evaluation report on the test data at its own threshold (with the gate's [`Targets`]).
    pub report: eval::Report,
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

/// Curves for the plots (not part of the JSON).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Curves {
    /// ROC points of the baseline and the candidate (at most 400 each).
    pub roc: [Vec<RocPoint>; 2],
    /// Score histograms (20 bins) of the baseline and the candidate.
    pub hist: [Histogram; 2],
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
    /// Side by side: the evaluation reports compared, plus the simulation's false positives and the
    /// P95 latency.
    pub comparison: Comparison,
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

    /// Names of the failed criteria.
    pub fn failed(&self) -> Vec<&str> {
        self.criteria.iter().filter(|c| c.status == Status::Fail).map(|c| c.name.as_str()).collect()
    }

    /// `Ok` on PASS, else [`Error::Check`] naming the failed criteria.
    pub fn check(&self) -> Result<()> {
        if self.passed {
            Ok(())
        } else {
            Err(Error::Check(format!("release gate FAIL: {}", self.failed().join(", "))))
        }
    }
}

impl fmt::Display for GateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Release gate: {}", self.verdict())?;
        writeln!(f, "  baseline   {}", cell(&self.baseline.name))?;
        writeln!(f, "  candidate  {}", cell(&self.candidate.name))?;
        writeln!(
            f,
            "  test rows {}, hard negatives {}, simulation {} ({})",
            self.test_rows, self.hard_negatives, self.sim_prompts, self.sim_source
        )?;
        writeln!(f, "  {:<22} {:>10} {:>10} {:>9}", "metric", "baseline", "candidate", "change")?;
        for m in &self.comparison.metrics {
            writeln!(
                f,
                "  {:<22} {:>10} {:>10} {:>9}",
                m.metric,
                m.baseline_text(),
                m.candidate_text(),
                m.change_text()
            )?;
        }
        writeln!(f, "  criteria:")?;
        for c in &self.criteria {
            writeln!(f, "    [{:<7}] {:<22} {} (need {})", c.status, c.name, c.detail, c.requirement)?;
        }
        if !self.candidate.hard_negative_failures.is_empty() {
            writeln!(
                f,
                "  hard negatives the candidate flags (first {}):",
                self.candidate.hard_negative_failures.len()
            )?;
            for t in &self.candidate.hard_negative_failures {
                writeln!(f, "    - {}", cell(t))?;
            }
        }
        Ok(())
    }
}

struct Scored {
    side: Side,
    roc: Vec<RocPoint>,
    hist: Histogram,
}

fn score_side(
    c: &Contender<'_>,
    test: &[Record],
    hard: &[Record],
    sim: &SimSet,
    params: &GateParams,
) -> Result<Scored> {
    let labels: Vec<u8> = test.iter().map(|r| r.label).collect();
    let threshold = c.model.threshold();
    let (report, answers) = c.model.evaluate(test, threshold, &params.targets())?;
    let scores: Vec<f32> = answers.iter().map(|a| a.scored.score).collect();
    let hard_scores = c.model.score_records(hard)?;
    let failures: Vec<&Record> =
        hard.iter().zip(&hard_scores).filter(|(_, &s)| s >= threshold).map(|(r, _)| r).collect();
    let sim_refs: Vec<&str> = sim.prompts.iter().map(String::as_str).collect();
    let mut sim_scores = Vec::with_capacity(sim_refs.len());
    for chunk in sim_refs.chunks(4096) {
        sim_scores.extend(c.model.score_texts(chunk)?);
    }
    let sim_fp = sim_scores.iter().filter(|&&s| s >= threshold).count();
    let texts: Vec<&str> = test.iter().map(|r| r.text.as_str()).chain(sim_refs.iter().copied()).collect();
    let latency = Latency::time(50, params.latency_samples, |i| {
        std::hint::black_box(c.model.score_text(std::hint::black_box(texts[i % texts.len()]))?);
        Ok(())
    })?;
    Ok(Scored {
        side: Side {
            name: c.name.clone(),
            report,
            hard_negatives_failed: failures.len(),
            hard_negative_failures: failures.iter().take(10).map(|r| r.text.clone()).collect(),
            sim_fp,
            sim_fpr: sim_fp as f64 / sim.prompts.len().max(1) as f64,
            latency,
        },
        roc: eval::thin(&eval::roc_curve(&scores, &labels)?, 400),
        hist: eval::score_histogram(&scores, &labels, 20)?,
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
            value: None,
            status: Status::NotApplicable,
            detail: "no ONNX export next to the candidate".into(),
        };
    };
    // An export that exists is checked or fails: never skipped because it cannot be checked.
    let (status, value, detail) = match validate_onnx(c.model, &export, texts) {
        Ok((p, m)) => (Status::of(p.passed()), Some(p.decision_agreement), m),
        Err(e) => (Status::Fail, None, format!("{}: {e}", export.display())),
    };
    Criterion { name: "onnx_equivalence".into(), requirement, value, status, detail }
}

/// Run the export next to the model in ONNX Runtime on `texts` and compare with the native scores. The
/// export's precision comes from its `precision` metadata (as `l2 export` writes it), else the model's.
#[cfg(feature = "onnx")]
fn validate_onnx(model: &Model, export: &std::path::Path, texts: &[&str]) -> Result<(eval::Parity, String)> {
    let bytes = std::fs::read(export).map_err(|e| Error::io("reading", export, e))?;
    let info = crate::onnx::inspect(&bytes)?;
    let precision = match info.metadata.get("precision") {
        Some(p) => p.parse()?,
        None => model.precision(),
    };
    let weights = crate::onnx::convert_weights(model.weights(), precision)?;
    let exported = crate::onnx::Exported { bytes, precision, weights };
    let r = crate::onnx::validate_texts(model, &exported, texts)?;
    let allowed = r.tolerance.max_abs_diff.map_or_else(|| "unbounded".into(), |m| format!("{m:.1e}"));
    let detail = format!(
        "{} ({}) on {} prompts: max |score diff| {:.2e} (allowed {allowed}), decision agreement {:.3}% (required {:.2}%)",
        export.display(),
        r.precision,
        r.rows,
        r.max_abs_diff,
        100.0 * r.decision_agreement,
        100.0 * r.tolerance.min_agreement
    );
    Ok((r, detail))
}

/// Without the `onnx` feature an existing export cannot be checked: the criterion fails.
#[cfg(not(feature = "onnx"))]
fn validate_onnx(model: &Model, export: &std::path::Path, texts: &[&str]) -> Result<(eval::Parity, String)> {
    let _ = (model, texts);
    Err(Error::Check(format!(
        "{} exists, but l2core was built without the `onnx` feature and cannot run it",
        export.display()
    )))
}

/// The candidate's absolute criterion `name`: its report's criterion `index` (0 FPR, 1 TPR, 2 F1, the
/// order [`eval::evaluate_with`] writes them in), renamed after the gate setting that sets it.
fn absolute(name: &str, side: &Side, index: usize) -> Criterion {
    match side.report.criteria.get(index) {
        Some(r) => Criterion {
            name: name.into(),
            requirement: r.name.clone(),
            value: r.value,
            status: r.status,
            detail: r.detail.clone(),
        },
        None => Criterion {
            name: name.into(),
            requirement: String::new(),
            value: None,
            status: Status::Fail,
            detail: "not in the evaluation report".into(),
        },
    }
}

fn rate(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".into(), |v| format!("{v:.4}"))
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
    let (br, cr) = (&b.side.report, &c.side.report);
    let mut comparison = eval::compare(br, cr);
    let count = |s: &Side| Some(s.sim_fp as f64);
    let p95 = |s: &Side| Some(s.latency.p95_ms());
    comparison.metrics.push(MetricChange::new("simulation FP", count(&b.side), count(&c.side), false, false));
    comparison.metrics.push(MetricChange::new("P95 latency (ms)", p95(&b.side), p95(&c.side), false, false));
    let onnx_texts: Vec<&str> =
        test.iter().map(|r| r.text.as_str()).chain(sim.prompts.iter().map(String::as_str)).take(4096).collect();
    let sim_limit = params.max_sim_fp as f64 * sim.prompts.len() as f64 / params.sim_prompts as f64;
    // The test data has both classes (checked above), so both rates exist.
    let (b_fpr, c_fpr, b_tpr, c_tpr) = (br.fpr, cr.fpr, br.tpr, cr.tpr);
    let criteria = vec![
        absolute("max_fpr", &c.side, 0),
        absolute("min_tpr", &c.side, 1),
        absolute("min_f1", &c.side, 2),
        Criterion {
            name: "fpr".into(),
            requirement: if params.fpr_tolerance == 0.0 {
                format!("<= baseline {}", rate(b_fpr))
            } else {
                format!("<= baseline {} + {}", rate(b_fpr), params.fpr_tolerance)
            },
            value: c_fpr,
            status: Status::of(matches!((b_fpr, c_fpr), (Some(b), Some(c)) if c <= b + params.fpr_tolerance + 1e-12)),
            detail: format!("{} ({} of {} benign)", rate(c_fpr), cr.confusion.fp, cr.benign),
        },
        Criterion {
            name: "tpr".into(),
            requirement: format!(">= baseline {} - {}", rate(b_tpr), params.max_tpr_drop),
            value: c_tpr,
            status: Status::of(matches!((b_tpr, c_tpr), (Some(b), Some(c)) if c + 1e-12 >= b - params.max_tpr_drop)),
            detail: format!("{} ({} of {} malicious)", rate(c_tpr), cr.confusion.tp, cr.malicious),
        },
        Criterion {
            name: "hard_negatives".into(),
            requirement: format!("all {} pass", hard.len()),
            value: (!hard.is_empty()).then_some(c.side.hard_negatives_failed as f64),
            status: if hard.is_empty() { Status::NotApplicable } else { Status::of(c.side.hard_negatives_failed == 0) },
            detail: format!("{} of {} flagged", c.side.hard_negatives_failed, hard.len()),
        },
        Criterion {
            name: "production_simulation".into(),
            requirement: format!("< {} false positives per {}", params.max_sim_fp, params.sim_prompts),
            value: Some(c.side.sim_fp as f64),
            status: Status::of((c.side.sim_fp as f64) < sim_limit),
            detail: format!("{} of {} prompts", c.side.sim_fp, sim.prompts.len()),
        },
        Criterion {
            name: "latency_p95".into(),
            requirement: format!("< {} ms", params.max_p95_ms),
            value: Some(c.side.latency.p95_ms()),
            status: Status::of(c.side.latency.p95_ms() < params.max_p95_ms),
            detail: format!("{:.3} ms over {} calls", c.side.latency.p95_ms(), c.side.latency.samples),
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
