//! `l2 export`: the model as a standard ONNX graph, optionally validated against the native engine in
//! ONNX Runtime.

use crate::error::{Error, Result};
use crate::model::Precision;
use crate::{data, onnx, Model};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `l2 export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Model file.
    pub model: PathBuf,
    /// Where to write the ONNX graph.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Weight precision of the graph: f32, f16 or int8 [default: the model's own].
    #[arg(long)]
    pub precision: Option<Precision>,
    /// Activations of an int8 graph: `float` (weights through DequantizeLinear), `dynamic` (quantized
    /// per row + MatMulInteger), `per_tensor` (ONNX Runtime's `quantize_dynamic` form), or `auto`:
    /// whichever of `float` and `dynamic` this build's native int8 kernels compute.
    #[arg(long, default_value = "auto")]
    pub int8_activations: onnx::Int8Activations,
    /// Run the graph in ONNX Runtime and compare with the native engine (exit 1 when they differ:
    /// f32/f16 need 100% decision agreement, int8 >= 99.9%).
    #[arg(long)]
    pub validate: bool,
    /// Labelled CSV files whose texts the validation scores [default: the built-in corpus].
    #[arg(long, num_args = 1..)]
    pub data: Vec<PathBuf>,
    /// Continue past invalid rows of --data, writing them to the rejects file.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Rejects file for --data [default: export.rejects.csv].
    #[arg(long, default_value = "export.rejects.csv")]
    pub rejects: PathBuf,
    /// Embedding cache directory for the validation texts (see `l2 train --embed-cache`).
    #[arg(long)]
    pub embed_cache: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `l2 export`. With `--validate` the file is written only when the check passes, so a graph that
/// scores differently never lands where a deployment would pick it up.
pub fn export(a: &ExportArgs) -> Result<()> {
    let mut inputs = super::data::paths(&a.data);
    inputs.push(&a.model);
    crate::fsutil::check_outputs(&inputs, &[("output", &a.output), ("rejects", &a.rejects)])?;
    let model = Model::load(&a.model)?;
    let opts = onnx::ExportOptions { precision: a.precision, int8_activations: a.int8_activations };
    let exported = onnx::export_with(&model, &opts)?;
    let mut result = serde_json::json!({
        "output": a.output.display().to_string(),
        "precision": exported.precision,
        "opset": onnx::OPSET,
        "bytes": exported.bytes.len(),
    });
    if a.validate {
        let report = validate(a, &model, &exported)?;
        if a.json {
            result["validation"] = report;
        }
    }
    crate::fsutil::write_atomic(&a.output, &exported.bytes)?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&result).map_err(|e| Error::json("export result", e))?);
    } else {
        let inputs = match exported.weights {
            crate::model::Weights::Mlp(_) => format!("input `{}` float [N, {}]", onnx::INPUT_NAME, model.dims()),
            crate::model::Weights::WideDeep { .. } => format!(
                "inputs `{}` int64 [N, K] and `{}` float [N, K] (features of a {}-entry vocabulary, padded \
                 with index 0 and value 0)",
                onnx::FEATURE_INDEX,
                onnx::FEATURE_VALUE,
                model.dims()
            ),
        };
        outln!(
            "wrote {} ({} weights, opset {}, {} bytes): {inputs}, output `{}` float [N, 1]",
            a.output.display(),
            exported.precision,
            onnx::OPSET,
            exported.bytes.len(),
            onnx::OUTPUT_NAME
        );
    }
    Ok(())
}

/// Runs the check, prints its summary (unless `--json`), and returns the report as JSON; an
/// `Error::Check` (nothing written) when it fails.
#[cfg(feature = "onnx")]
fn validate(a: &ExportArgs, model: &Model, exported: &onnx::Exported) -> Result<serde_json::Value> {
    let records = if a.data.is_empty() {
        data::corpus::generate(&Default::default())
    } else {
        let loaded = data::load_files_keeping_rejects(&a.data, a.skip_invalid, Some(&a.rejects))?;
        if !loaded.rejects.is_empty() {
            warnln!("{} row(s) rejected, written to {}", loaded.rejects.len(), a.rejects.display());
        }
        loaded.records
    };
    let texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    if a.embed_cache.is_some() && model.embedder().is_none() {
        eprintln!("note: --embed-cache is not used: a wide-and-deep model reads n-gram features, not embeddings");
    }
    let report = match a.embed_cache.as_ref().filter(|_| model.embedder().is_some()) {
        Some(dir) => {
            let cached = crate::embed::EmbeddingCache::new(dir)?.wrap(model.meta().embedder.build()?)?;
            onnx::validate_embeddings(model, exported, &crate::embed::Embedder::embed(&cached, &texts)?)?
        }
        None => onnx::validate_texts(model, exported, &texts)?,
    };
    if !a.json {
        outln!(
            "validation on {} rows in ONNX Runtime ({}): max |score diff| {:.3e}, mean {:.3e}, decision \
             agreement {:.3}% at threshold {} ({} disagreements) -> {}",
            report.rows,
            report.runtime.as_deref().unwrap_or("?"),
            report.max_abs_diff,
            report.mean_abs_diff,
            report.decision_agreement * 100.0,
            report.threshold,
            report.disagreements,
            if report.passed() { "PASS" } else { "FAIL" }
        );
        if let Some(src) = &report.source {
            outln!(
                "vs the {} source model: max |score diff| {:.3e}, decision agreement {:.3}%",
                model.precision(),
                src.max_abs_diff,
                src.decision_agreement * 100.0
            );
        }
    }
    report.check().map_err(|e| match e {
        Error::Check(m) => Error::Check(format!("{m}; {} was not written", a.output.display())),
        other => other,
    })?;
    serde_json::to_value(&report).map_err(|e| Error::json("validation report", e))
}

#[cfg(not(feature = "onnx"))]
fn validate(_: &ExportArgs, _: &Model, _: &onnx::Exported) -> Result<serde_json::Value> {
    let _ = (data::corpus::generate, data::load_files_keeping_rejects);
    Err(Error::param("validate", true, "needs l2core built with the `onnx` cargo feature (ONNX Runtime)"))
}
