//! `l2 gate`: the release gate, candidate against baseline.

use crate::data;
use crate::error::Result;
use crate::gate::{self, Baseline, Contender, GateParams, SimSet};
use crate::Model;
use clap::Args;
use std::path::PathBuf;

/// Gate criteria as flags; each default is the library default (the seed's criteria).
#[derive(Debug, Args, Clone)]
pub struct GateFlags {
    /// The candidate's FPR on the test data must be below this [default: 0.01].
    #[arg(long)]
    pub max_fpr: Option<f64>,
    /// The candidate's TPR on the test data must be above this [default: 0.95].
    #[arg(long)]
    pub min_tpr: Option<f64>,
    /// The candidate's F1 on the test data must be above this [default: 0.95].
    #[arg(long)]
    pub min_f1: Option<f64>,
    /// Prompts in the generated production simulation [default: 10000].
    #[arg(long)]
    pub sim_prompts: Option<usize>,
    /// False positives allowed: fewer than this per --sim-prompts [default: 100].
    #[arg(long)]
    pub max_sim_fp: Option<usize>,
    /// How far the candidate's TPR may fall below the baseline's [default: 0.02].
    #[arg(long)]
    pub max_tpr_drop: Option<f64>,
    /// How far the candidate's FPR may rise above the baseline's [default: 0].
    #[arg(long)]
    pub fpr_tolerance: Option<f64>,
    /// P95 latency limit in ms [default: 10].
    #[arg(long)]
    pub max_p95_ms: Option<f64>,
    /// One-prompt calls timed for the latency criterion [default: 1000].
    #[arg(long)]
    pub latency_samples: Option<usize>,
    /// Benign-like prompts for the production simulation: a CSV (benign rows) or one prompt per line
    /// [default: generated from the built-in corpus with seed 1001 on].
    #[arg(long, value_name = "FILE")]
    pub benign_sim: Option<PathBuf>,
    /// Write the markdown report with SVG plots (gate.md, roc.svg, hist_*.svg, gate.json) into DIR.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
}

impl GateFlags {
    /// The settings, validated.
    pub fn to_params(&self) -> Result<GateParams> {
        let mut p = GateParams::default();
        macro_rules! set {
            ($($f:ident),*) => { $(if let Some(v) = self.$f { p.$f = v; })* };
        }
        set!(
            max_fpr,
            min_tpr,
            min_f1,
            sim_prompts,
            max_sim_fp,
            max_tpr_drop,
            fpr_tolerance,
            max_p95_ms,
            latency_samples
        );
        p.check()?;
        Ok(p)
    }
}

/// Arguments of `l2 gate`.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// The candidate model file.
    pub candidate: PathBuf,
    /// The baseline: a model file, or a registry version (production, staging, v3).
    #[arg(long, default_value = "production")]
    pub baseline: String,
    /// Registry for a registry baseline (default: L2_REGISTRY).
    #[arg(long, value_name = "DIR")]
    pub registry: Option<PathBuf>,
    /// Labelled test CSV(s).
    #[arg(long = "data", value_name = "CSV", required = true)]
    pub data: Vec<PathBuf>,
    /// Extra hard negatives (CSV, benign rows) on top of the built-in set and the test data's.
    #[arg(long, value_name = "CSV")]
    pub hard_negatives: Option<PathBuf>,
    /// Leave out the built-in hard negatives.
    #[arg(long)]
    pub no_builtin_hard_negatives: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Criteria.
    #[command(flatten)]
    pub flags: GateFlags,
}

/// `l2 gate`.
pub fn run(a: &GateArgs) -> Result<()> {
    let params = a.flags.to_params()?;
    if let Some(dir) = &a.flags.report {
        let mut inputs = super::data::paths(&a.data);
        inputs.push(&a.candidate);
        inputs.extend(a.hard_negatives.as_deref().into_iter().chain(a.flags.benign_sim.as_deref()));
        let baseline = std::path::PathBuf::from(&a.baseline);
        if baseline.is_file() {
            inputs.push(&baseline);
        }
        let outputs = gate::report::outputs(dir);
        let outputs: Vec<(&str, &std::path::Path)> = outputs.iter().map(|(n, p)| (*n, p.as_path())).collect();
        crate::fsutil::check_outputs(&inputs, &outputs)?;
    }
    let candidate = Model::load(&a.candidate)?;
    let baseline = Baseline::load(&a.baseline, a.registry.as_deref())?;
    let test = data::load_files_keeping_rejects(&a.data, false, None)?.records;
    let hard = gate::hard_negatives(!a.no_builtin_hard_negatives, a.hard_negatives.as_deref())?;
    let sim = SimSet::load(a.flags.benign_sim.as_deref(), &params)?;
    let report = gate::run(
        &Contender { name: a.candidate.display().to_string(), model: &candidate, path: Some(a.candidate.clone()) },
        &baseline.contender(),
        &test,
        &hard,
        &sim,
        &params,
    )?;
    if a.json {
        outln!("{}", report.to_json()?);
    } else {
        out!("{report}");
    }
    if let Some(dir) = &a.flags.report {
        let md = gate::report::write(&report, dir)?;
        if !a.json {
            outln!("report written to {}", md.display());
        }
    }
    report.check()
}
