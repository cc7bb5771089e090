//! `l2 retrain`: the reinforcement loop in one command: reinforce -> merge with the existing data ->
//! train -> gate against production -> register, and promote only on PASS.

use super::gate::{gate_and_report, hard_negatives, load_baseline, GateFlags};
use super::reinforce::ReinforceFlags;
use super::train::TrainFlags;
use crate::error::{Error, Result};
use crate::gate::{Contender, Status};
use crate::pipeline;
use crate::registry::{Registry, Stage};
use crate::reinforce::{reinforce_files, InputFiles};
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

/// `l2 retrain`.
pub fn run(a: &RetrainArgs) -> Result<()> {
    std::fs::create_dir_all(&a.out_dir).map_err(|e| Error::io("creating directory", &a.out_dir, e))?;
    let registry = if a.dry_run { None } else { Some(Registry::from_arg_or_env(a.registry.as_deref())?) };
    // Everything that can be checked up front is, before the expensive steps.
    let params = a.reinforce.to_params()?;
    a.gate.to_params()?;
    let (bname, baseline, bpath) = load_baseline(&a.baseline, a.registry.as_deref())?;

    println!("== 1. reinforce");
    let files = InputFiles {
        false_positives: a.fp.clone(),
        training: a.train.clone(),
        hard_negatives: a.reinforce.hard_negatives.clone(),
        holdout: a.test.clone(),
    };
    let reinforced = reinforce_files(&files, &params)?;
    let reinforced_csv = a.out_dir.join("reinforced.csv");
    crate::data::write_csv(&reinforced_csv, &reinforced.records)?;
    crate::fsutil::write_atomic(&a.out_dir.join("composition.json"), reinforced.composition.to_json()?.as_bytes())?;
    print!("{}", reinforced.composition);

    println!("== 2. train on the existing data + {} reinforcement rows", reinforced.records.len());
    let candidate_path = a.out_dir.join("candidate.l2");
    let mut data = a.train.clone();
    data.push(reinforced_csv);
    let config = a.training.to_config(data, &candidate_path)?;
    let outcome = pipeline::train_observed(&config, None, &mut super::progress::CliProgress::new(a.quiet))?;
    outcome.model.save(&candidate_path)?;
    println!("candidate written to {} (threshold {:.4})", candidate_path.display(), outcome.model.threshold());

    println!("== 3. gate against {bname}");
    let test = pipeline::load_eval_data(&a.test, false, None)?.records;
    let hard = hard_negatives(!a.reinforce.no_builtin_hard_negatives, a.reinforce.hard_negatives.as_deref())?;
    let report = gate_and_report(
        &Contender {
            name: candidate_path.display().to_string(),
            model: &outcome.model,
            path: Some(candidate_path.clone()),
        },
        &Contender { name: bname, model: &baseline, path: Some(bpath) },
        &test,
        &hard,
        &a.gate,
        false,
        Some(&a.gate.report.clone().unwrap_or_else(|| a.out_dir.join("gate"))),
    )?;

    println!("== 4. register");
    let failed: Vec<&str> =
        report.criteria.iter().filter(|c| c.status == Status::Fail).map(|c| c.name.as_str()).collect();
    match &registry {
        None => println!("dry run: not registered"),
        Some(reg) => {
            let note = format!(
                "retrain from {}: gate {}{}",
                a.fp.display(),
                report.verdict(),
                if failed.is_empty() { String::new() } else { format!(" ({})", failed.join(", ")) }
            );
            let entry = reg.add(&candidate_path, &note)?;
            if report.passed {
                let e = reg.promote(&entry.name(), Stage::Production)?;
                println!("registered {} and promoted it to {}", e.name(), e.stage);
            } else {
                println!("registered {} (not promoted: the gate failed)", entry.name());
            }
        }
    }
    if report.passed {
        Ok(())
    } else {
        Err(Error::Check(format!("release gate FAIL: {}", failed.join(", "))))
    }
}
