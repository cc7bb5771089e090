//! Post-training quantization of an f32 model to f16 or int8, and the parity check against its source.
//!
//! int8: symmetric per-output-channel weights, `scale[o] = max_i |w[o][i]| / 127`,
//! `q = round_half_even(w / scale)` in [-127, 127] (a zero row gets scale 0). Activations are quantized
//! at run time, per row (see [`crate::infer::kernels`]). f16: IEEE half, round to nearest even. Biases stay
//! f32. The quantized model is a normal model file (same embedder, threshold and metadata) whose
//! metadata records the precision and a [`QuantizationInfo`].

use crate::error::{Error, Result};
use crate::model::{weights_sha256, Layer, LayerWeights, Precision, QuantizationInfo};
use crate::Model;
use half::f16;
use serde::Serialize;
use std::collections::BTreeMap;

/// The decision agreement a quantized model must reach against its f32 source (99.9%).
pub const MIN_AGREEMENT: f64 = 0.999;

/// Quantize f32 layers to `precision` (f32 returns a copy); an error for a non-f32 source.
pub fn quantize_layers(layers: &[Layer], precision: Precision) -> Result<Vec<Layer>> {
    layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let LayerWeights::F32(w) = &l.weights else {
                return Err(Error::param(
                    "precision",
                    l.precision(),
                    format!("layer {i} is {}: quantize from an f32 model", l.precision()),
                ));
            };
            let weights = match precision {
                Precision::F32 => LayerWeights::F32(w.clone()),
                Precision::F16 => LayerWeights::F16(w.iter().map(|&v| f16::from_f32(v)).collect()),
                Precision::Int8 => {
                    let mut q = Vec::with_capacity(w.len());
                    let mut scale = Vec::with_capacity(l.outputs);
                    for row in w.chunks_exact(l.inputs) {
                        let amax = row.iter().fold(0f32, |a, v| a.max(v.abs()));
                        let s = amax / 127.0;
                        scale.push(s);
                        q.extend(row.iter().map(|&v| {
                            if s > 0.0 {
                                (v / s).round_ties_even().clamp(-127.0, 127.0) as i8
                            } else {
                                0
                            }
                        }));
                    }
                    LayerWeights::Int8 { q, scale }
                }
            };
            Ok(Layer { inputs: l.inputs, outputs: l.outputs, weights, bias: l.bias.clone() })
        })
        .collect()
}

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
    let layers = quantize_layers(model.layers(), precision)?;
    let mut meta = model.meta().clone();
    meta.precision = precision;
    meta.quantization = (precision != Precision::F32).then(|| QuantizationInfo {
        source_precision: model.precision(),
        source_weights_sha256: weights_sha256(model.layers()),
        rows: 0,
        max_abs_diff: 0.0,
        decision_agreement: 1.0,
        details: BTreeMap::new(),
    });
    Model::new(meta, layers)
}

/// Error rates of one model at its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    /// False-positive rate on the benign rows.
    pub fpr: f64,
    /// True-positive rate on the malicious rows.
    pub tpr: f64,
}

/// How closely a quantized model follows its f32 source on some rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parity {
    /// Precision of the quantized model.
    pub precision: Precision,
    /// Rows compared.
    pub rows: usize,
    /// Decision threshold used for both.
    pub threshold: f32,
    /// max |score difference|.
    pub max_abs_diff: f64,
    /// mean |score difference|.
    pub mean_abs_diff: f64,
    /// Share of rows with the same decision.
    pub decision_agreement: f64,
    /// Rows whose decision differs.
    pub disagreements: usize,
    /// Rows whose f32 score lies within `max_abs_diff` of the threshold: the rows quantization error of
    /// the observed size could flip (explains a failing agreement on a model whose scores crowd the
    /// threshold).
    pub near_threshold: usize,
    /// The f32 model's rates (when labels were given).
    pub source: Option<Rates>,
    /// The quantized model's rates (when labels were given).
    pub quantized: Option<Rates>,
}

fn rates(scores: &[f32], labels: &[u8], threshold: f32) -> Rates {
    let (mut fp, mut neg, mut tp, mut pos) = (0usize, 0usize, 0usize, 0usize);
    for (&s, &l) in scores.iter().zip(labels) {
        let flag = s >= threshold;
        if l == 0 {
            neg += 1;
            fp += usize::from(flag);
        } else {
            pos += 1;
            tp += usize::from(flag);
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { f64::NAN } else { a as f64 / b as f64 };
    Rates { fpr: ratio(fp, neg), tpr: ratio(tp, pos) }
}

/// Compare `quantized` against `source` on `n x dims` embeddings `x` (with optional 0/1 labels).
pub fn parity(source: &Model, quantized: &Model, x: &[f32], labels: Option<&[u8]>) -> Result<Parity> {
    if source.dims() != quantized.dims() {
        return Err(Error::shape("quantized model dims", source.dims(), quantized.dims()));
    }
    let a = source.score_embeddings(x)?;
    let b = quantized.score_embeddings(x)?;
    if let Some(l) = labels {
        if l.len() != a.len() {
            return Err(Error::shape("parity labels", a.len(), l.len()));
        }
    }
    let threshold = source.threshold();
    let mut max_abs = 0f64;
    let mut sum_abs = 0f64;
    let mut disagree = 0usize;
    for (&s, &q) in a.iter().zip(&b) {
        let d = f64::from((s - q).abs());
        max_abs = max_abs.max(d);
        sum_abs += d;
        disagree += usize::from((s >= threshold) != (q >= threshold));
    }
    let n = a.len();
    let near = a.iter().filter(|&&s| f64::from((s - threshold).abs()) <= max_abs).count();
    Ok(Parity {
        precision: quantized.precision(),
        rows: n,
        threshold,
        max_abs_diff: max_abs,
        mean_abs_diff: if n == 0 { 0.0 } else { sum_abs / n as f64 },
        decision_agreement: if n == 0 { 1.0 } else { 1.0 - disagree as f64 / n as f64 },
        disagreements: disagree,
        near_threshold: near,
        source: labels.map(|l| rates(&a, l, threshold)),
        quantized: labels.map(|l| rates(&b, l, quantized.threshold())),
    })
}

/// [`parity`] on texts (embedded with the source model's embedder).
pub fn parity_texts(source: &Model, quantized: &Model, texts: &[&str], labels: Option<&[u8]>) -> Result<Parity> {
    let x = source.embedder().embed(texts)?;
    parity(source, quantized, &x, labels)
}

impl Parity {
    /// [`Error::Check`] when the decision agreement is below `min` (e.g. [`MIN_AGREEMENT`]).
    pub fn check(&self, min: f64) -> Result<()> {
        if self.decision_agreement < min {
            return Err(Error::Check(format!(
                "{} model agrees with f32 on {:.4}% of {} rows ({} decisions differ), below the required {:.1}%",
                self.precision,
                100.0 * self.decision_agreement,
                self.rows,
                self.disagreements,
                100.0 * min
            )));
        }
        Ok(())
    }
}

impl std::fmt::Display for Parity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "parity of {} against f32 on {} rows (threshold {:.4}):",
            self.precision, self.rows, self.threshold
        )?;
        writeln!(f, "  max |score diff|   {:.6}", self.max_abs_diff)?;
        writeln!(f, "  mean |score diff|  {:.6}", self.mean_abs_diff)?;
        writeln!(f, "  decision agreement {:.4}% ({} differ)", 100.0 * self.decision_agreement, self.disagreements)?;
        write!(f, "  rows within max |score diff| of the threshold: {}", self.near_threshold)?;
        if let (Some(s), Some(q)) = (self.source, self.quantized) {
            write!(
                f,
                "\n  FPR f32 {:.4}  {} {:.4}\n  TPR f32 {:.4}  {} {:.4}",
                s.fpr, self.precision, q.fpr, s.tpr, self.precision, q.tpr
            )?;
        }
        Ok(())
    }
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
    if let (Some(s), Some(q)) = (p.source, p.quantized) {
        for (k, v) in [("fpr_source", s.fpr), ("tpr_source", s.tpr), ("fpr", q.fpr), ("tpr", q.tpr)] {
            if v.is_finite() {
                info.details.insert(k.into(), v);
            }
        }
    }
    model.with_meta(meta)
}
