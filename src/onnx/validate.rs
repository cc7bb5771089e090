//! Equivalence check of an exported graph: run it in ONNX Runtime and compare with the native engine on
//! real inputs, as a [`Parity`] held to [`tolerance_for`] the graph's precision. A graph that scores
//! differently (NeMo Guardrails once shipped an export that flagged every benign prompt) fails
//! [`Parity::check`] with [`Error::Check`].

use super::export::Exported;
use crate::embed::SparseRows;
use crate::error::{Error, Result};
use crate::eval::{Parity, Tolerance};
use crate::infer::sparse::SparseScorer;
use crate::infer::Scorer;
use crate::model::Weights;
use crate::nn::Precision;
use crate::onnx_runtime::{library_path, OnnxSession, SessionOptions};
use crate::Model;

/// Rows per ONNX Runtime call (bounds memory on large validation sets).
const BATCH: usize = 1024;

/// The tolerance of an export at `p`: f32 and f16 (the graph holds the very same weights; only summation
/// order differs): max |score diff| 1e-4 and 100% decision agreement; int8: max diff 0.05 and >= 99.9%
/// agreement (the native int8 kernels may also quantize activations, the graph does not).
pub fn tolerance_for(p: Precision) -> Tolerance {
    match p {
        Precision::F32 | Precision::F16 => Tolerance { max_abs_diff: Some(1e-4), min_agreement: 1.0 },
        Precision::Int8 => Tolerance { max_abs_diff: Some(0.05), min_agreement: 0.999 },
    }
}

/// Run `exported` in ONNX Runtime on `x` (`n x dims` row-major embeddings) and compare with the native
/// engine scoring the same layers. When the export converted the precision, [`Parity::source`] compares
/// the graph with the model itself too (informational). Returns the parity whether or not it passes;
/// call [`Parity::check`] to fail on a violation.
pub fn validate_embeddings(model: &Model, exported: &Exported, x: &[f32]) -> Result<Parity> {
    let Weights::Mlp(layers) = &exported.weights else {
        return Err(Error::param(
            "export",
            "wide_deep",
            "a wide-and-deep graph is validated on features, not embeddings",
        ));
    };
    let d = model.dims();
    if d == 0 || !x.len().is_multiple_of(d) {
        return Err(Error::shape("validation embeddings", format!("n x {d}"), format!("{} floats", x.len())));
    }
    let n = x.len() / d;
    if n == 0 {
        return Err(Error::InvalidData("no rows to validate the ONNX export on".into()));
    }
    if layers.first().map(|l| l.inputs) != Some(d) {
        return Err(Error::shape("exported graph input", d, layers.first().map_or(0, |l| l.inputs)));
    }
    let session = session(exported)?;
    let mut onnx = Vec::with_capacity(n);
    for chunk in x.chunks(BATCH * d) {
        let rows = chunk.len() / d;
        onnx.extend(checked_output(session.run_f32(chunk, rows, d)?, rows)?);
    }
    let native = if exported.precision == model.precision() {
        model.score_embeddings(x)?
    } else {
        let mut out = vec![0.0; n];
        Scorer::new(layers)?.score_into(x, &mut out)?;
        out
    };
    let source = (exported.precision != model.precision()).then(|| model.score_embeddings(x)).transpose()?;
    compare(model, exported, &native, &onnx, source.as_deref())
}

/// Run a wide-and-deep `exported` graph in ONNX Runtime on sparse feature `rows` (as
/// [`Model::features`] gives them) and compare with the native engine scoring the same network, as
/// [`validate_embeddings`] does for an MLP.
pub fn validate_features(model: &Model, exported: &Exported, rows: &SparseRows) -> Result<Parity> {
    let (Weights::WideDeep { net, .. }, Some(own)) = (&exported.weights, model.sparse_scorer()) else {
        return Err(Error::param("export", "mlp", "an MLP graph is validated on embeddings, not features"));
    };
    let n = rows.rows();
    if n == 0 {
        return Err(Error::InvalidData("no rows to validate the ONNX export on".into()));
    }
    rows.check(net.features, "validation features")?;
    let session = session(exported)?;
    let hw: usize = net.heads.iter().map(|h| h.labels.len()).sum();
    let mut onnx = Vec::with_capacity(n);
    let mut onnx_heads = Vec::with_capacity(n * hw);
    for first in (0..n).step_by(BATCH) {
        let last = (first + BATCH).min(n);
        // Pad every row to the longest in the batch: index 0 with value 0 adds nothing.
        let k = (first..last).map(|r| rows.row(r).0.len()).max().unwrap_or(0).max(1);
        let (mut index, mut value) = (vec![0i64; (last - first) * k], vec![0f32; (last - first) * k]);
        for r in first..last {
            let (idx, val) = rows.row(r);
            let at = (r - first) * k;
            index[at..at + idx.len()].iter_mut().zip(idx).for_each(|(o, &i)| *o = i64::from(i));
            value[at..at + val.len()].copy_from_slice(val);
        }
        let mut outputs = session.run_index_value_all((&index, &value), last - first, k)?.into_iter();
        let first_output = outputs.next().ok_or_else(|| Error::Check("the exported graph gave no output".into()))?;
        onnx.extend(checked_output(first_output, last - first)?);
        // The heads' outputs, row by row in the native layout (each head's labels side by side).
        let heads: Vec<(Vec<f32>, Vec<i64>)> = outputs.collect();
        for (h, (_, shape)) in net.heads.iter().zip(&heads) {
            if shape[..] != [(last - first) as i64, h.labels.len() as i64] {
                return Err(Error::Check(format!("the {} head's output has shape {shape:?}", h.kind)));
            }
        }
        for r in 0..last - first {
            for (h, (data, _)) in net.heads.iter().zip(&heads) {
                let k = h.labels.len();
                onnx_heads.extend_from_slice(&data[r * k..(r + 1) * k]);
            }
        }
    }
    let mut native = vec![0.0; n];
    let mut native_heads = vec![0.0; n * hw];
    SparseScorer::new(net.clone())?.classify_into(rows, &mut native, &mut native_heads)?;
    let source = if exported.precision == model.precision() {
        None
    } else {
        let mut out = vec![0.0; n];
        own.score_into(rows, &mut out)?;
        Some(out)
    };
    let mut parity = compare(model, exported, &native, &onnx, source.as_deref())?;
    if hw > 0 {
        if onnx_heads.len() != native_heads.len() {
            return Err(Error::Check(format!(
                "the exported graph gave {} head probabilities, the network {}",
                onnx_heads.len(),
                native_heads.len()
            )));
        }
        let diff = native_heads.iter().zip(&onnx_heads).fold(0f64, |m, (a, b)| {
            let d = if a.is_finite() && b.is_finite() { f64::from((a - b).abs()) } else { f64::INFINITY };
            m.max(d)
        });
        parity.heads_max_abs_diff = Some(diff);
    }
    Ok(parity)
}

/// A session on the exported bytes whose inputs and output are the ones the export names.
fn session(exported: &Exported) -> Result<OnnxSession> {
    let session = OnnxSession::from_memory(&exported.bytes, "<exported graph>", &SessionOptions::default())?;
    if session.input_names() != exported.input_names() || session.output_names() != exported.output_names() {
        return Err(Error::Check(format!(
            "exported graph has inputs {:?} and outputs {:?}, expected {:?} and {:?}",
            session.input_names(),
            session.output_names(),
            exported.input_names(),
            exported.output_names()
        )));
    }
    Ok(session)
}

fn checked_output((scores, shape): (Vec<f32>, Vec<i64>), rows: usize) -> Result<Vec<f32>> {
    if shape != [rows as i64, 1] || scores.len() != rows {
        return Err(Error::Check(format!("exported graph returned shape {shape:?}, expected [{rows}, 1]")));
    }
    Ok(scores)
}

/// The parity of the graph's scores against the native engine's, with the model's own (`source`,
/// when the export converted the precision) as information.
fn compare(model: &Model, exported: &Exported, native: &[f32], onnx: &[f32], source: Option<&[f32]>) -> Result<Parity> {
    let threshold = model.threshold();
    let graph = |what: &str| format!("ONNX export ({}) vs {what}", exported.precision);
    let mut parity = Parity::measure(
        graph("the native engine"),
        exported.precision,
        native,
        onnx,
        threshold,
        None,
        tolerance_for(exported.precision),
    )?;
    if let Some(source) = source {
        let gap = Parity::measure(
            graph(&format!("the {} model", model.precision())),
            exported.precision,
            source,
            onnx,
            threshold,
            None,
            Tolerance::agreement(0.0),
        )?;
        parity.source = Some(Box::new(gap));
    }
    parity.runtime = Some(library_path().map(|p| p.display().to_string()).unwrap_or_default());
    Ok(parity)
}

/// Read `texts` as the model reads them (embeddings for an MLP, canonical n-gram features for a
/// wide-and-deep network), then [`validate_embeddings`] or [`validate_features`].
pub fn validate_texts(model: &Model, exported: &Exported, texts: &[&str]) -> Result<Parity> {
    match model.weights() {
        Weights::Mlp(_) => validate_embeddings(model, exported, &model.dense_embedder()?.embed(texts)?),
        Weights::WideDeep { .. } => validate_features(model, exported, &model.features(texts)?),
    }
}
