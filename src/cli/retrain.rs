//! `l2 retrain`: the reinforcement loop in one command ([`crate::pipeline::retrain`]): reinforce ->
//! merge with the existing data -> train -> gate against production -> register, and promote only on
//! PASS. This module parses the flags and prints the job's steps.

use super::gate::GateFlags;
use super::progress::CliProgress;
use super::reinforce::ReinforceFlags;
use super::train::TrainFlags;
use crate::error::Result;
use crate::pipeline::retrain::{retrain, RetrainConfig, RetrainObserver, Step};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `l2 retrain`.
#[derive(Debug, Args)]
pub struct RetrainArgs {
    /// False positives: a JSON report (`l2 eval --fp-report`) or a CSV with prompt and category columns.
    #[arg(long = "fp", value_name = "FILE")]
    pub fp: PathBuf,
    /// Existing training CSV(s): merged with the reinforcement rows; their attacks are augmented.
    #[arg(long = "train", value_name = "CSV", required = true)]
    pub train: Vec<PathBuf>,
    /// Labelled test CSV(s) for the gate.
    #[arg(long = "test", value_name = "CSV", required = true)]
    pub test: Vec<PathBuf>,
    /// The registry (default: L2_REGISTRY).
    #[arg(long, value_name = "DIR")]
    pub registry: Option<PathBuf>,
    /// The baseline: a model file or a registry version.
    #[arg(long, default_value = "production")]
    pub baseline: String,
    /// Working directory: reinforced.csv, composition.json, candidate.l2, gate/ (report + plots).
    #[arg(long, default_value = "l2-retrain")]
    pub out_dir: PathBuf,
    /// Train and gate, but neither register nor promote.
    #[arg(long)]
    pub dry_run: bool,
    /// Print no training progress.
    #[arg(short, long)]
    pub quiet: bool,
    /// Reinforcement settings.
    #[command(flatten)]
    pub reinforce: ReinforceFlags,
    /// Training settings.
    #[command(flatten)]
    pub training: TrainFlags,
    /// Gate criteria.
    #[command(flatten)]
    pub gate: GateFlags,
}

impl RetrainArgs {
    /// The job's settings.
    pub fn to_config(&self) -> Result<RetrainConfig> {
        let candidate = self.out_dir.join("candidate.l2");
        Ok(RetrainConfig {
            false_positives: self.fp.clone(),
            train: self.train.clone(),
            test: self.test.clone(),
            hard_negatives: self.reinforce.hard_negatives.clone(),
            baseline: self.baseline.clone(),
            registry: self.registry.clone(),
            out_dir: self.out_dir.clone(),
            dry_run: self.dry_run,
            reinforce: self.reinforce.to_params()?,
            training: self.training.to_config(Vec::new(), &candidate)?,
            gate: self.gate.to_params()?,
            benign_sim: self.gate.benign_sim.clone(),
            report_dir: self.gate.report.clone(),
        })
    }
}

/// The job's steps are printed on stdout; training progress goes to the progress display.
impl RetrainObserver for CliProgress {
    fn on_step(&mut self, step: Step<'_>) {
        match step {
            Step::Reinforcing => outln!("== 1. reinforce"),
            Step::Reinforced { composition, .. } => out!("{composition}"),
            Step::Training { reinforcement_rows } => {
                outln!("== 2. train on the existing data + {reinforcement_rows} reinforcement rows")
            }
            Step::Trained { model, path } => {
                outln!("candidate written to {} (threshold {:.4})", path.display(), model.threshold())
            }
            Step::Gating { baseline } => outln!("== 3. gate against {baseline}"),
            Step::Gated { report, markdown } => {
                out!("{report}");
                outln!("report written to {}", markdown.display());
            }
            Step::Registering => outln!("== 4. register"),
            Step::Registered { entry: None, .. } => outln!("dry run: not registered"),
            Step::Registered { entry: Some(e), promoted: true } => {
                outln!("registered {} and promoted it to {}", e.name(), e.stage)
            }
            Step::Registered { entry: Some(e), promoted: false } => {
                outln!("registered {} (not promoted: the gate failed)", e.name())
            }
        }
    }
}

/// `l2 retrain`: exit 0 only when the gate passed.
pub fn run(a: &RetrainArgs) -> Result<()> {
    let config = a.to_config()?;
    retrain(&config, &mut CliProgress::new(a.quiet))?.check()
}
