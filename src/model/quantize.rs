//! Quantizing a model: the f32 model's layers through the one quantizer
//! ([`crate::infer::quantize::quantize_layers`]) into a normal model file at f16 or int8 (same embedder,
//! threshold and metadata), and its parity against the source ([`crate::eval::Parity`]), which the
//! metadata records as a [`QuantizationInfo`].

use super::{Model, QuantizationInfo, StoredWideDeep, Weights};
use crate::error::{Error, Result};
use crate::eval::{Parity, Tolerance};
use crate::infer::quantize::{quantize_layers, quantize_matrix};
use crate::nn::Precision;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The decision agreement a quantized model must reach against its f32 source (99.9%).
pub const MIN_AGREEMENT: f64 = 0.999;

/// A new model at `precision` with the same embedder, threshold and metadata; its
/// [`QuantizationInfo`] names the source and holds no parity yet (`rows` 0; see [`with_parity`]).
pub fn quantize(model: &Model, precision: Precision) -> Result<Model> {
    if model.precision() != Precision::F32 {
        return Err(Error::param(
            "precision",
            model.precision(),
            "the source model must be f32 (quantizing a quantized model compounds the error)",
        ));
    }
    let weights = match model.weights() {
        Weights::Mlp(layers) => Weights::Mlp(quantize_layers(layers, precision)?),
        Weights::WideDeep { featurizer, net } => {
            // The table is nearly all of the weights; the tail (a few thousand) and the wide term (one
            // number per feature) stay f32, which keeps the decisions of the quantized model on the
            // f32 one's.
            let table = quantize_matrix(&net.table, net.embed, precision)?;
            Weights::WideDeep {
                featurizer: featurizer.clone(),
                net: Arc::new(StoredWideDeep { table, ..(**net).clone() }),
            }
        }
    };
    let mut meta = model.meta().clone();
    meta.precision = precision;
    meta.quantization = (precision != Precision::F32).then(|| QuantizationInfo {
        source_precision: model.precision(),
        source_weights_sha256: model.weights_sha256(),
        rows: 0,
        max_abs_diff: 0.0,
        decision_agreement: 1.0,
        details: BTreeMap::new(),
    });
    Model::assemble(meta, weights)
}

/// Compare `quantized` against `source` on `n x dims` embeddings `x` (with optional 0/1 labels), held to
/// [`MIN_AGREEMENT`] (see [`Parity::with_tolerance`] for another).
pub fn parity(source: &Model, quantized: &Model, x: &[f32], labels: Option<&[u8]>) -> Result<Parity> {
    if source.dims() != quantized.dims() {
        return Err(Error::shape("quantized model dims", source.dims(), quantized.dims()));
    }
    measure(source, quantized, &source.score_embeddings(x)?, &quantized.score_embeddings(x)?, labels)
}

/// Parity of `quantized` against `source` on texts, each scored as the models score them (through
/// their text spec and featuriser), held to [`MIN_AGREEMENT`].
pub fn parity_texts(source: &Model, quantized: &Model, texts: &[&str], labels: Option<&[u8]>) -> Result<Parity> {
    if source.dims() != quantized.dims() || source.meta().architecture.kind != quantized.meta().architecture.kind {
        return Err(Error::shape("quantized model", source.dims(), quantized.dims()));
    }
    measure(source, quantized, &source.score_texts(texts)?, &quantized.score_texts(texts)?, labels)
}

/// The parity of `quantized`'s scores `b` against `source`'s `a`, held to [`MIN_AGREEMENT`].
fn measure(source: &Model, quantized: &Model, a: &[f32], b: &[f32], labels: Option<&[u8]>) -> Result<Parity> {
    Parity::measure(
        format!("{} model vs {}", quantized.precision(), source.precision()),
        quantized.precision(),
        a,
        b,
        source.threshold(),
        labels,
        Tolerance::agreement(MIN_AGREEMENT),
    )
}

/// `model` with its [`QuantizationInfo`] updated from `p` (FPR/TPR of both go into `details`).
pub fn with_parity(model: Model, p: &Parity) -> Result<Model> {
    let mut meta = model.meta().clone();
    let Some(info) = meta.quantization.as_mut() else {
        return Err(Error::param("precision", model.precision(), "the model carries no quantization record"));
    };
    info.rows = p.rows;
    info.max_abs_diff = p.max_abs_diff;
    info.decision_agreement = p.decision_agreement;
    info.details.insert("mean_abs_diff".into(), p.mean_abs_diff);
    if let (Some(s), Some(q)) = (p.reference, p.candidate) {
        for (k, v) in [("fpr_source", s.fpr), ("tpr_source", s.tpr), ("fpr", q.fpr), ("tpr", q.tpr)] {
            if let Some(v) = v {
                info.details.insert(k.into(), v);
            }
        }
    }
    model.with_meta(meta)
}
