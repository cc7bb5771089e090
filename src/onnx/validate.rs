//! Equivalence check of an exported graph: run it in ONNX Runtime and compare with the native engine on
//! real inputs, as a [`Parity`] held to [`tolerance_for`] the graph's precision. A graph that scores
//! differently (NeMo Guardrails once shipped an export that flagged every benign prompt) fails
//! [`Parity::check`] with [`Error::Check`].

use super::export::{Exported, INPUT_NAME, OUTPUT_NAME};
use crate::error::{Error, Result};
use crate::eval::{Parity, Tolerance};
use crate::infer::Scorer;
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
    let d = model.dims();
    if d == 0 || !x.len().is_multiple_of(d) {
        return Err(Error::shape("validation embeddings", format!("n x {d}"), format!("{} floats", x.len())));
    }
    let n = x.len() / d;
    if n == 0 {
        return Err(Error::InvalidData("no rows to validate the ONNX export on".into()));
    }
    if exported.layers.first().map(|l| l.inputs) != Some(d) {
        return Err(Error::shape("exported graph input", d, exported.layers.first().map_or(0, |l| l.inputs)));
    }
    let session = OnnxSession::from_memory(&exported.bytes, "<exported graph>", &SessionOptions::default())?;
    if session.input_names() != [INPUT_NAME] || session.output_names() != [OUTPUT_NAME] {
        return Err(Error::Check(format!(
            "exported graph has inputs {:?} and outputs {:?}, expected [{INPUT_NAME:?}] and [{OUTPUT_NAME:?}]",
            session.input_names(),
            session.output_names()
        )));
    }
    let mut onnx = Vec::with_capacity(n);
    for chunk in x.chunks(BATCH * d) {
        let rows = chunk.len() / d;
        let (scores, shape) = session.run_f32(chunk, rows, d)?;
        if shape != [rows as i64, 1] || scores.len() != rows {
            return Err(Error::Check(format!("exported graph returned shape {shape:?}, expected [{rows}, 1]")));
        }
        onnx.extend(scores);
    }
    let native = if exported.precision == model.precision() {
        model.score_embeddings(x)?
    } else {
        let mut out = vec![0.0; n];
        Scorer::new(&exported.layers)?.score_into(x, &mut out)?;
        out
    };
    let threshold = model.threshold();
    let graph = |what: &str| format!("ONNX export ({}) vs {what}", exported.precision);
    let mut parity = Parity::measure(
        graph("the native engine"),
        exported.precision,
        &native,
        &onnx,
        threshold,
        None,
        tolerance_for(exported.precision),
    )?;
    if exported.precision != model.precision() {
        let source = model.score_embeddings(x)?;
        let gap = Parity::measure(
            graph(&format!("the {} model", model.precision())),
            exported.precision,
            &source,
            &onnx,
            threshold,
            None,
            Tolerance::agreement(0.0),
        )?;
        parity.source = Some(Box::new(gap));
    }
    parity.runtime = Some(library_path().map(|p| p.display().to_string()).unwrap_or_default());
    Ok(parity)
}

/// Embed `texts` with the model's embedder, then [`validate_embeddings`].
pub fn validate_texts(model: &Model, exported: &Exported, texts: &[&str]) -> Result<Parity> {
    let Some(embedder) = model.embedder() else {
        return Err(Error::param("model", "wide_deep", "ONNX validation of wide-and-deep models is not built yet"));
    };
    let x = embedder.embed(texts)?;
    validate_embeddings(model, exported, &x)
}
