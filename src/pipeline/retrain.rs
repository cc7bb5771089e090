//! The retrain job, the reinforcement loop in one call: production false positives -> reinforcement
//! rows ([`crate::reinforce`]) -> merged with the existing training data -> the training job
//! ([`super::train_observed`]) -> the release gate against the baseline ([`crate::gate`]) -> registered
//! ([`crate::registry`]) and promoted to production only on PASS.
//!
//! Working files in `out_dir`: `reinforced.csv`, `composition.json`, `candidate.l2` (and
//! `candidate.l2.rejects.csv` when rows are rejected), `gate/` (the gate's markdown, plots and JSON),
//! and last `retrain.json`, the [`RetrainSummary`] (what hosts without the Rust types read).

use super::{JobObserver, TrainConfig, TrainOutcome};
use crate::error::{Error, Result};
use crate::gate::{self, Baseline, Contender, GateParams, GateReport, SimSet};
use crate::registry::{Entry, Registry, Stage};
use crate::reinforce::{reinforce_files, Composition, InputFiles, ReinforceParams};
use crate::Model;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Everything the retrain job needs; the JSON form (field names as here; `false_positives`, `train`
/// and `test` are required) is what the C API and the Python package accept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrainConfig {
    /// False positives: a JSON report (`l2 eval --fp-report`) or a CSV with prompt and category columns.
    pub false_positives: PathBuf,
    /// Existing training CSVs: merged with the reinforcement rows; their attacks are augmented.
    pub train: Vec<PathBuf>,
    /// Labelled test CSVs for the gate; none of their texts is written as reinforcement.
    pub test: Vec<PathBuf>,
    /// Extra hard negatives (a CSV of benign rows): mixed into the reinforcement rows and checked by the
    /// gate, on top of the built-in set (unless `reinforce.builtin_hard_negatives` is false).
    pub hard_negatives: Option<PathBuf>,
    /// The baseline: a model file, or a registry version (default `production`).
    pub baseline: String,
    /// The registry (default: `L2_REGISTRY`).
    pub registry: Option<PathBuf>,
    /// Working directory (default `l2-retrain`).
    pub out_dir: PathBuf,
    /// Train and gate, but neither register nor promote.
    pub dry_run: bool,
    /// Reinforcement settings.
    pub reinforce: ReinforceParams,
    /// Training settings; `data` is replaced by `train` plus the reinforcement rows, and `rejects`
    /// defaults to `<out_dir>/candidate.l2.rejects.csv`.
    pub training: TrainConfig,
    /// Gate criteria.
    pub gate: GateParams,
    /// Benign-like prompts for the gate's production simulation (default: generated).
    pub benign_sim: Option<PathBuf>,
    /// Where the gate writes its report (default `<out_dir>/gate`).
    pub report_dir: Option<PathBuf>,
}

impl Default for RetrainConfig {
    fn default() -> Self {
        RetrainConfig {
            false_positives: PathBuf::new(),
            train: Vec::new(),
            test: Vec::new(),
            hard_negatives: None,
            baseline: "production".into(),
            registry: None,
            out_dir: PathBuf::from("l2-retrain"),
            dry_run: false,
            reinforce: ReinforceParams::default(),
            training: TrainConfig::default(),
            gate: GateParams::default(),
            benign_sim: None,
            report_dir: None,
        }
    }
}

impl RetrainConfig {
    /// Parse the JSON form (unknown keys are an error naming them).
    pub fn from_json(json: &str) -> Result<RetrainConfig> {
        super::parse_config(json, "retrain config")
    }

    /// Validate every setting before any work is done.
    pub fn check(&self) -> Result<()> {
        if self.false_positives.as_os_str().is_empty() {
            return Err(Error::param("false_positives", "<none>", "give the false-positive report (JSON or CSV)"));
        }
        if self.train.is_empty() {
            return Err(Error::param(
                "train",
                "<none>",
                "give the existing training CSV(s): their attacks are augmented",
            ));
        }
        if self.test.is_empty() {
            return Err(Error::param("test", "<none>", "give the labelled test CSV(s) the gate runs on"));
        }
        self.reinforce.check()?;
        self.training.check()?;
        self.gate.check()
    }

    /// Refuse to run when a file the job writes (in `out_dir`, the report directory, the rejects
    /// file) is one of its inputs ([`crate::fsutil::check_outputs`]).
    pub fn check_outputs(&self) -> Result<()> {
        let baseline = PathBuf::from(&self.baseline);
        let mut inputs: Vec<&Path> = vec![self.false_positives.as_path()];
        inputs.extend(self.train.iter().chain(&self.test).chain(&self.hard_negatives).map(PathBuf::as_path));
        inputs.extend(self.benign_sim.as_deref());
        if baseline.is_file() {
            inputs.push(&baseline);
        }
        let out = &self.out_dir;
        let rejects = self.training.rejects.clone().unwrap_or_else(|| out.join("candidate.l2.rejects.csv"));
        let mut outputs: Vec<(&str, PathBuf)> = vec![
            ("out_dir", out.join("reinforced.csv")),
            ("out_dir", out.join("composition.json")),
            ("out_dir", self.candidate_path()),
            ("rejects", rejects),
            ("out_dir", out.join("retrain.json")),
        ];
        outputs.extend(crate::gate::report::outputs(&self.report_dir()));
        let outputs: Vec<(&str, &Path)> = outputs.iter().map(|(n, p)| (*n, p.as_path())).collect();
        crate::fsutil::check_outputs(&inputs, &outputs)
    }

    /// The candidate model's path.
    pub fn candidate_path(&self) -> PathBuf {
        self.out_dir.join("candidate.l2")
    }

    /// The gate report's directory.
    pub fn report_dir(&self) -> PathBuf {
        self.report_dir.clone().unwrap_or_else(|| self.out_dir.join("gate"))
    }
}

/// A step of the job, reported as it happens (hosts print them).
#[derive(Debug)]
#[non_exhaustive]
pub enum Step<'a> {
    /// Reinforcement starts.
    Reinforcing,
    /// The reinforcement rows are written.
    Reinforced {
        /// Their composition.
        composition: &'a Composition,
        /// Rows written.
        rows: usize,
    },
    /// Training on the existing data plus the reinforcement rows starts.
    Training {
        /// Reinforcement rows added.
        reinforcement_rows: usize,
    },
    /// The candidate is trained and saved.
    Trained {
        /// It.
        model: &'a Model,
        /// Where it was written.
        path: &'a Path,
    },
    /// The gate starts.
    Gating {
        /// The baseline's name.
        baseline: &'a str,
    },
    /// The gate has decided and written its report.
    Gated {
        /// The report.
        report: &'a GateReport,
        /// Its markdown file.
        markdown: &'a Path,
    },
    /// Registration starts.
    Registering,
    /// The candidate is registered (`None` in a dry run), and promoted when the gate passed.
    Registered {
        /// The new registry entry.
        entry: Option<&'a Entry>,
        /// Whether it went to production.
        promoted: bool,
    },
}

/// Progress of the retrain job: its steps, and the training job's phases, batches and epochs.
pub trait RetrainObserver: JobObserver {
    /// A step happened.
    fn on_step(&mut self, step: Step<'_>) {
        let _ = step;
    }
}

impl RetrainObserver for crate::train::Silent {}

/// What the retrain job produced. The job succeeds when every step ran, whether or not the gate
/// passed: see [`RetrainOutcome::check`].
#[derive(Debug)]
pub struct RetrainOutcome {
    /// The reinforcement rows' composition.
    pub composition: Composition,
    /// The training job's outcome (the candidate is `training.model`).
    pub training: TrainOutcome,
    /// Where the candidate was written.
    pub candidate_path: PathBuf,
    /// The gate's report.
    pub gate: GateReport,
    /// The gate's markdown report file.
    pub gate_markdown: PathBuf,
    /// The registry entry of the candidate (`None` in a dry run).
    pub registered: Option<Entry>,
    /// Whether the candidate was promoted to production.
    pub promoted: bool,
}

impl RetrainOutcome {
    /// `Ok` when the gate passed, else [`Error::Check`] naming the failed criteria.
    pub fn check(&self) -> Result<()> {
        self.gate.check()
    }

    /// The outcome in short, as `retrain.json` holds it.
    pub fn summary(&self) -> RetrainSummary {
        RetrainSummary {
            passed: self.gate.passed,
            failed: self.gate.failed().into_iter().map(String::from).collect(),
            candidate: self.candidate_path.clone(),
            threshold: self.training.model.threshold(),
            reinforcement_rows: self.composition.total,
            gate_markdown: self.gate_markdown.clone(),
            registered: self.registered.as_ref().map(Entry::name),
            promoted: self.promoted,
        }
    }
}

/// The retrain job's outcome in short (`<out_dir>/retrain.json`; the C and Python calls return it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetrainSummary {
    /// Whether the gate passed.
    pub passed: bool,
    /// The criteria that failed.
    pub failed: Vec<String>,
    /// The candidate model file.
    pub candidate: PathBuf,
    /// Its calibrated threshold.
    pub threshold: f32,
    /// Reinforcement rows trained on besides the existing data.
    pub reinforcement_rows: usize,
    /// The gate's markdown report (plots and `gate.json` next to it).
    pub gate_markdown: PathBuf,
    /// The registry version of the candidate (`None` in a dry run).
    pub registered: Option<String>,
    /// Whether it was promoted to production.
    pub promoted: bool,
}

impl RetrainSummary {
    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::json("retrain summary", e))
    }
}

/// Run the retrain job (see the module docs). Everything that can be checked up front (settings, the
/// registry, the baseline, the simulation prompts) is, before the expensive steps.
pub fn retrain(config: &RetrainConfig, observer: &mut dyn RetrainObserver) -> Result<RetrainOutcome> {
    config.check()?;
    let out = &config.out_dir;
    config.check_outputs()?;
    std::fs::create_dir_all(out).map_err(|e| Error::io("creating directory", out, e))?;
    let registry = if config.dry_run { None } else { Some(Registry::from_arg_or_env(config.registry.as_deref())?) };
    let baseline = Baseline::load(&config.baseline, config.registry.as_deref())?;
    let sim = SimSet::load(config.benign_sim.as_deref(), &config.gate)?;

    observer.on_step(Step::Reinforcing);
    let files = InputFiles {
        false_positives: config.false_positives.clone(),
        training: config.train.clone(),
        hard_negatives: config.hard_negatives.clone(),
        holdout: config.test.clone(),
    };
    let reinforced = reinforce_files(&files, &config.reinforce)?;
    let reinforced_csv = out.join("reinforced.csv");
    crate::data::write_csv(&reinforced_csv, &reinforced.records)?;
    crate::fsutil::write_atomic(&out.join("composition.json"), reinforced.composition.to_json()?.as_bytes())?;
    let rows = reinforced.records.len();
    observer.on_step(Step::Reinforced { composition: &reinforced.composition, rows });

    observer.on_step(Step::Training { reinforcement_rows: rows });
    let candidate_path = config.candidate_path();
    let mut training = config.training.clone();
    training.data = config.train.clone();
    training.data.push(reinforced_csv);
    if training.rejects.is_none() {
        training.rejects = Some(out.join("candidate.l2.rejects.csv"));
    }
    let trained = super::train_observed(&training, None, observer)?;
    trained.model.save(&candidate_path)?;
    observer.on_step(Step::Trained { model: &trained.model, path: &candidate_path });

    observer.on_step(Step::Gating { baseline: &baseline.name });
    let test = crate::data::load_files_keeping_rejects(&config.test, false, None)?.records;
    let hard = gate::hard_negatives(config.reinforce.builtin_hard_negatives, config.hard_negatives.as_deref())?;
    let candidate = Contender {
        name: candidate_path.display().to_string(),
        model: &trained.model,
        path: Some(candidate_path.clone()),
    };
    let report = gate::run(&candidate, &baseline.contender(), &test, &hard, &sim, &config.gate)?;
    let markdown = gate::report::write(&report, &config.report_dir())?;
    observer.on_step(Step::Gated { report: &report, markdown: &markdown });

    observer.on_step(Step::Registering);
    let (registered, promoted) = match &registry {
        None => (None, false),
        Some(reg) => {
            let failed = report.failed();
            let note = format!(
                "retrain from {}: gate {}{}",
                config.false_positives.display(),
                report.verdict(),
                if failed.is_empty() { String::new() } else { format!(" ({})", failed.join(", ")) }
            );
            let entry = reg.add(&candidate_path, &note)?;
            if report.passed {
                (Some(reg.promote(&entry.name(), Stage::Production)?), true)
            } else {
                (Some(entry), false)
            }
        }
    };
    observer.on_step(Step::Registered { entry: registered.as_ref(), promoted });
    let outcome = RetrainOutcome {
        composition: reinforced.composition,
        training: trained,
        candidate_path,
        gate: report,
        gate_markdown: markdown,
        registered,
        promoted,
    };
    crate::fsutil::write_atomic(&out.join("retrain.json"), outcome.summary().to_json()?.as_bytes())?;
    Ok(outcome)
}
