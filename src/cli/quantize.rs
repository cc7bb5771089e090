//! `l2 quantize`: an f32 model to f16 or int8, with the parity check against the source.

use crate::error::{Error, Result};
use crate::eval::Tolerance;
use crate::model::quantize::{parity_texts, quantize, with_parity, MIN_AGREEMENT};
use crate::model::Weights;
use crate::nn::{LayerWeights, Precision};
use crate::{data, Model};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `l2 quantize`.
#[derive(Debug, Args)]
pub struct QuantizeArgs {
    /// The f32 model file.
    pub model: PathBuf,
    /// Target precision: int8 or f16.
    #[arg(long)]
    pub precision: Precision,
    /// Output model file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Labelled CSV files to measure parity on (validation data); without any, parity is not measured.
    #[arg(long)]
    pub data: Vec<PathBuf>,
    /// Minimum decision agreement with the f32 model (default 0.999); below it the command fails (exit 1)
    /// and writes nothing.
    #[arg(long, default_value_t = MIN_AGREEMENT)]
    pub min_agreement: f64,
    /// Continue past invalid rows of --data, writing them to the rejects file.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Rejects file [default: quantize.rejects.csv].
    #[arg(long, default_value = "quantize.rejects.csv")]
    pub rejects: PathBuf,
    /// Print the parity as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `l2 quantize`.
pub fn quantize_cmd(a: &QuantizeArgs) -> Result<()> {
    if a.precision == Precision::F32 {
        return Err(Error::param("precision", a.precision, "expected int8 or f16"));
    }
    if !(0.0..=1.0).contains(&a.min_agreement) {
        return Err(Error::param("min-agreement", a.min_agreement, "must be in [0, 1]"));
    }
    let mut inputs = super::data::paths(&a.data);
    inputs.push(&a.model);
    crate::fsutil::check_outputs(&inputs, &[("output", &a.output), ("rejects", &a.rejects)])?;
    let source = Model::load(&a.model)?;
    let mut quantized = quantize(&source, a.precision)?;
    if a.data.is_empty() {
        warnln!("no --data given: parity against f32 not measured (the metadata records 0 rows)");
    } else {
        let loaded = data::load_files_keeping_rejects(&a.data, a.skip_invalid, Some(&a.rejects))?;
        if !loaded.rejects.is_empty() {
            warnln!("{} row(s) rejected, written to {}", loaded.rejects.len(), a.rejects.display());
        }
        if loaded.records.is_empty() {
            return Err(Error::InvalidData("--data holds no valid rows to measure parity on".into()));
        }
        let texts: Vec<&str> = loaded.records.iter().map(|r| r.text.as_str()).collect();
        let labels: Vec<u8> = loaded.records.iter().map(|r| r.label).collect();
        let p = parity_texts(&source, &quantized, &texts, Some(&labels))?
            .with_tolerance(Tolerance::agreement(a.min_agreement));
        if a.json {
            outln!("{}", serde_json::to_string_pretty(&p).map_err(|e| Error::json("parity", e))?);
        } else {
            outln!("{p}");
        }
        p.check()?;
        quantized = with_parity(quantized, &p)?;
    }
    quantized.save(&a.output)?;
    warnln!("wrote {} ({} model, {} bytes of weights)", a.output.display(), a.precision, weight_bytes(&quantized));
    Ok(())
}

fn weight_bytes(m: &Model) -> usize {
    let bytes = |w: &LayerWeights| match w {
        LayerWeights::F32(w) => w.len() * 4,
        LayerWeights::F16(w) => w.len() * 2,
        LayerWeights::Int8 { q, scale } => q.len() + scale.len() * 4,
    };
    match m.weights() {
        Weights::Mlp(layers) => layers.iter().map(|l| bytes(&l.weights)).sum(),
        Weights::WideDeep { net, .. } => {
            bytes(&net.table)
                + net.tail.iter().map(|l| bytes(&l.weights)).sum::<usize>()
                + net.wide.as_ref().map_or(0, |w| w.len() * 4)
        }
    }
}
