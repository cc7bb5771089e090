//! `l2 bench` (feature `bench`; not in libl2 or the Python wheel): latency and throughput per precision,
//! single thread and all threads, embedder, MLP and end to end, side by side with ONNX Runtime when the
//! build and the host have it. [`run()`] measures (the suite of measurements), [`measure`] holds the two timing
//! loops, [`report`] the results and their tables, and `ort` the ONNX Runtime side.

pub mod measure;
#[cfg(feature = "onnx")]
mod ort;
pub mod report;
mod suite;

pub use report::{BenchReport, Ratio, Stage, StageResult, ViewCounts};
pub use suite::{file_prompts, run, BenchOptions};

use crate::error::{Error, Result};
use crate::nn::Precision;
use crate::testing::synthetic_model;
use crate::Model;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `l2 bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Model file (f32 models are also measured quantized to f16 and int8, in memory).
    #[arg(required_unless_present = "synthetic")]
    pub model: Option<PathBuf>,
    /// Measure an untrained network of the default shape (512-256-128-64-1) instead of a model file.
    #[arg(long, conflicts_with = "model")]
    pub synthetic: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Batch sizes for throughput.
    #[arg(long, value_delimiter = ',', default_values_t = [32usize, 256, 4096])]
    pub batch: Vec<usize>,
    /// Thread counts [default: 1 and all available threads].
    #[arg(long, value_delimiter = ',')]
    pub threads: Vec<usize>,
    /// Precisions to measure [default: f32, f16, int8 for an f32 model, else the model's own].
    #[arg(long, value_delimiter = ',')]
    pub precision: Vec<Precision>,
    /// Minimum seconds per throughput figure.
    #[arg(long, default_value_t = 0.3)]
    pub min_seconds: f64,
    /// Timed batch-1 calls per latency figure.
    #[arg(long, default_value_t = 20_000)]
    pub latency_samples: usize,
    /// Prompt length in characters.
    #[arg(long, default_value_t = 200)]
    pub prompt_chars: usize,
    /// Skip the ONNX Runtime comparison.
    #[arg(long)]
    pub no_ort: bool,
    /// Time the texts of this labelled CSV instead of synthetic prompts: each text of at least
    /// --prompt-chars characters, cut to that many (shorter ones are not used; the report counts them).
    #[arg(long)]
    pub prompts: Option<PathBuf>,
}

/// `l2 bench`.
pub fn bench(a: &BenchArgs) -> Result<()> {
    let model = match &a.model {
        Some(p) => Model::load(p)?,
        None => synthetic_model(512, &[256, 128, 64], 42)?,
    };
    let mut opts = BenchOptions {
        batches: a.batch.clone(),
        min_seconds: a.min_seconds,
        latency_samples: a.latency_samples,
        prompt_chars: a.prompt_chars,
        precisions: (!a.precision.is_empty()).then(|| a.precision.clone()),
        ort: !a.no_ort,
        ..BenchOptions::default()
    };
    if !a.threads.is_empty() {
        opts.threads = a.threads.clone();
    }
    if let Some(path) = &a.prompts {
        let loaded = crate::data::read_csv(path, &crate::data::LoadOptions::default())?;
        let texts: Vec<&str> = loaded.records.iter().map(|r| r.text.as_str()).collect();
        opts.prompts = Some(file_prompts(&texts, a.prompt_chars, &path.display().to_string())?);
    }
    let report = run(&model, &opts)?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&report).map_err(|e| Error::json("bench report", e))?);
    } else {
        outln!("{report}");
    }
    Ok(())
}
