//! `l2 reinforce`: false positives -> Strategy-4 training rows.

use crate::error::Result;
use crate::reinforce::{reinforce_files, InputFiles, ReinforceParams};
use clap::Args;
use std::path::PathBuf;

/// Reinforcement settings as flags; each default is the library default (the seed's values).
#[derive(Debug, Args, Clone)]
pub struct ReinforceFlags {
    /// Share of unique false positives to cover, most frequent first [default: 0.6].
    #[arg(long)]
    pub coverage: Option<f64>,
    /// Variations per selected false positive [default: 8].
    #[arg(long)]
    pub variations: Option<usize>,
    /// Benign share the malicious augmentation aims at, at most 0.65 [default: 0.617].
    #[arg(long)]
    pub target_benign_share: Option<f64>,
    /// Leave out the built-in hard negatives.
    #[arg(long)]
    pub no_builtin_hard_negatives: bool,
    /// Extra hard negatives: a CSV in the training schema (benign rows).
    #[arg(long, value_name = "CSV")]
    pub hard_negatives: Option<PathBuf>,
    /// Write only variations, not the selected false positives themselves.
    #[arg(long)]
    pub no_originals: bool,
    /// Seed [default: 42].
    #[arg(long)]
    pub reinforce_seed: Option<u64>,
}

impl ReinforceFlags {
    /// The settings, validated.
    pub fn to_params(&self) -> Result<ReinforceParams> {
        let mut p = ReinforceParams::default();
        if let Some(v) = self.coverage {
            p.coverage = v;
        }
        if let Some(v) = self.variations {
            p.variations = v;
        }
        if let Some(v) = self.target_benign_share {
            p.target_benign_share = v;
        }
        if let Some(v) = self.reinforce_seed {
            p.seed = v;
        }
        p.builtin_hard_negatives = !self.no_builtin_hard_negatives;
        p.include_originals = !self.no_originals;
        p.check()?;
        Ok(p)
    }
}

/// Arguments of `l2 reinforce`.
#[derive(Debug, Args)]
pub struct ReinforceArgs {
    /// False positives: a JSON report (`l2 eval --fp-report`), the JSON-lines feedback file of `l2 serve
    /// --feedback`, or a CSV with prompt and category columns.
    #[arg(long = "fp", value_name = "FILE")]
    pub fp: PathBuf,
    /// Existing training CSV(s): the attacks to augment.
    #[arg(long = "train", value_name = "CSV", required = true)]
    pub train: Vec<PathBuf>,
    /// Test CSV(s) the new model will be gated on: none of their texts is written.
    #[arg(long, value_name = "CSV")]
    pub holdout: Vec<PathBuf>,
    /// Output CSV in the training schema.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Also write the composition report as JSON here.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Print the composition report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Settings.
    #[command(flatten)]
    pub flags: ReinforceFlags,
}

/// `l2 reinforce`.
pub fn run(a: &ReinforceArgs) -> Result<()> {
    let params = a.flags.to_params()?;
    let files = InputFiles {
        false_positives: a.fp.clone(),
        training: a.train.clone(),
        hard_negatives: a.flags.hard_negatives.clone(),
        holdout: a.holdout.clone(),
    };
    let mut inputs = vec![files.false_positives.as_path()];
    inputs.extend(files.training.iter().chain(&files.holdout).chain(&files.hard_negatives).map(|p| p.as_path()));
    let mut outputs = vec![("output", a.output.as_path())];
    outputs.extend(a.report.as_deref().map(|p| ("report", p)));
    crate::fsutil::check_outputs(&inputs, &outputs)?;
    let out = reinforce_files(&files, &params)?;
    crate::data::write_csv(&a.output, &out.records)?;
    let json = out.composition.to_json()?;
    if let Some(p) = &a.report {
        crate::fsutil::write_atomic(p, json.as_bytes())?;
    }
    if a.json {
        outln!("{json}");
    } else {
        out!("{}", out.composition);
        outln!("wrote {} rows to {}", out.records.len(), a.output.display());
    }
    Ok(())
}
