//! `l2 gate`: the release gate, candidate against baseline.

use crate::data::{self, Record};
use crate::error::{Error, Result};
use crate::gate::{self, Contender, GateParams, GateReport, SimSet};
use crate::registry::Registry;
use crate::Model;
use clap::Args;
use std::path::{Path, PathBuf};

/// Gate criteria as flags; each default is the library default (the seed's criteria).
#[derive(Debug, Args, Clone)]
pub struct GateFlags {
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
        set!(sim_prompts, max_sim_fp, max_tpr_drop, fpr_tolerance, max_p95_ms, latency_samples);
        p.check()?;
        Ok(p)
    }

    /// The simulation prompts: the file, or generated.
    pub fn sim(&self, params: &GateParams) -> Result<SimSet> {
        match &self.benign_sim {
            Some(p) => gate::sim::read_sim_file(p),
            None => Ok(gate::sim::simulated_benign(params.sim_prompts, params.sim_seed)),
        }
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

/// A baseline given as a file or a registry version: (display name, model, file path).
pub fn load_baseline(spec: &str, registry: Option<&Path>) -> Result<(String, Model, PathBuf)> {
    let p = Path::new(spec);
    if p.is_file() {
        return Ok((spec.to_string(), Model::load(p)?, p.to_path_buf()));
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
                reason:
                    "has no production model: promote one (l2 registry promote VERSION --stage production) or give \
                         --baseline MODEL"
                        .into(),
            }
        }
        other => other,
    })?;
    let path = reg.dir().join(&entry.file);
    Ok((format!("registry {} {} ({})", reg.dir().display(), entry.name(), entry.stage), model, path))
}

/// Hard negatives for the gate: built-in (unless disabled) + a user file.
pub fn hard_negatives(builtin: bool, user: Option<&Path>) -> Result<Vec<Record>> {
    let mut out = if builtin { data::corpus::hard_negatives() } else { Vec::new() };
    if let Some(p) = user {
        let rows = data::read_csv(p, &Default::default())?.records;
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

/// Run the gate and print it; an error of kind Check (exit 1) when it fails.
#[allow(clippy::too_many_arguments)]
pub fn gate_and_report(
    candidate: &Contender<'_>,
    baseline: &Contender<'_>,
    test: &[Record],
    hard: &[Record],
    flags: &GateFlags,
    json: bool,
    report_dir: Option<&Path>,
) -> Result<GateReport> {
    let params = flags.to_params()?;
    let sim = flags.sim(&params)?;
    let report = gate::run(candidate, baseline, test, hard, &sim, &params)?;
    if json {
        println!("{}", report.to_json()?);
    } else {
        print!("{report}");
    }
    if let Some(dir) = report_dir.or(flags.report.as_deref()) {
        let md = gate::report::write(&report, dir)?;
        if !json {
            println!("report written to {}", md.display());
        }
    }
    Ok(report)
}

/// `l2 gate`.
pub fn run(a: &GateArgs) -> Result<()> {
    let candidate = Model::load(&a.candidate)?;
    let (bname, baseline, bpath) = load_baseline(&a.baseline, a.registry.as_deref())?;
    let test = crate::pipeline::load_eval_data(&a.data, false, None)?.records;
    let hard = hard_negatives(!a.no_builtin_hard_negatives, a.hard_negatives.as_deref())?;
    let report = gate_and_report(
        &Contender { name: a.candidate.display().to_string(), model: &candidate, path: Some(a.candidate.clone()) },
        &Contender { name: bname, model: &baseline, path: Some(bpath) },
        &test,
        &hard,
        &a.flags,
        a.json,
        None,
    )?;
    if report.passed {
        Ok(())
    } else {
        let failed: Vec<&str> =
            report.criteria.iter().filter(|c| c.status == gate::Status::Fail).map(|c| c.name.as_str()).collect();
        Err(Error::Check(format!("release gate FAIL: {}", failed.join(", "))))
    }
}
