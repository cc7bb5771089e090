//! The ONNX Runtime side of `l2 bench` (feature `onnx`): the same weights exported by the one ONNX
//! writer ([`crate::onnx::export_with`]) and run with one intra-op thread per session. f32 is the plain
//! `Gemm` graph; int8 is the graph ONNX Runtime's own `quantize_dynamic` makes
//! ([`Int8Activations::DynamicPerTensor`]), so each engine is measured with its own int8 method.

use super::measure;
use super::report::{Stage, StageResult};
use super::suite::{BenchOptions, Inputs};
use crate::error::{Error, Result};
use crate::nn::Precision;
use crate::onnx::{export_with, ExportOptions, Int8Activations, INPUT_NAME};
use crate::onnx_runtime::{OnnxSession, SessionOptions};
use crate::Model;

/// The graph of `model` at `precision` for ONNX Runtime, and its description in the report.
fn graph(model: &Model, precision: Precision) -> Result<(Vec<u8>, &'static str)> {
    let (acts, path) = match precision {
        Precision::F32 => (Int8Activations::Float, "Gemm f32"),
        Precision::Int8 => (Int8Activations::DynamicPerTensor, "MatMulInteger"),
        Precision::F16 => return Err(Error::param("precision", "f16", "the ORT comparison covers f32 and int8")),
    };
    let exported = export_with(model, &ExportOptions { precision: Some(precision), int8_activations: acts })?;
    Ok((exported.bytes, path))
}

/// Score `rows` rows of `x` in `session`, leaving the scores inside ONNX Runtime's output (as a host
/// that only reads them would): no copy out is timed.
fn run(session: &OnnxSession, x: &[f32], rows: usize) -> Result<()> {
    let cols = x.len() / rows.max(1);
    session.with_session(|s| {
        let bad = |what: &str, e: &dyn std::fmt::Display| Error::model("<bench graph>", format!("{what}: {e}"));
        let t = ort::value::TensorRef::from_array_view(([rows, cols], x)).map_err(|e| bad("input tensor", &e))?;
        let out = s.run(ort::inputs![INPUT_NAME => t]).map_err(|e| bad("run", &e))?;
        let (_, data) = out[0].try_extract_tensor::<f32>().map_err(|e| bad("output", &e))?;
        std::hint::black_box(data.first().copied());
        Ok(())
    })
}

/// ONNX Runtime's results for the f32 and int8 precisions among `precisions`.
pub(super) fn results(
    model: &Model,
    precisions: &[Precision],
    inp: &Inputs,
    opts: &BenchOptions,
) -> Result<Vec<StageResult>> {
    let mut out = Vec::new();
    let max_threads = opts.threads.iter().copied().max().unwrap_or(1);
    let session_opts = SessionOptions { intra_threads: 1, optimize: true };
    for &p in precisions.iter().filter(|p| matches!(p, Precision::F32 | Precision::Int8)) {
        let (bytes, path) = graph(model, p)?;
        let sessions = (0..max_threads)
            .map(|_| OnnxSession::from_memory(&bytes, "<bench graph>", &session_opts))
            .collect::<Result<Vec<_>>>()?;
        let d = inp.dims;
        let n = inp.texts.len();
        let lat = measure::latency(opts.latency_samples.min(5000), |i| {
            let r = i % n;
            run(&sessions[0], &inp.x[r * d..(r + 1) * d], 1)
        })?;
        let mut tp = Vec::new();
        for &t in &opts.threads {
            for &b in &opts.batches {
                tp.push(measure::throughput(b, t, opts.min_seconds, |th, first, rows| {
                    let mut left = rows;
                    let mut at = first % n;
                    while left > 0 {
                        let k = left.min(n - at);
                        run(&sessions[th], &inp.x[at * d..(at + k) * d], k)?;
                        left -= k;
                        at = 0;
                    }
                    Ok(())
                })?);
            }
        }
        out.push(StageResult {
            stage: Stage::Mlp,
            engine: "onnxruntime".into(),
            precision: Some(p),
            path: path.into(),
            latency: lat,
            throughput: tp,
        });
    }
    Ok(out)
}
