//! Equivalence check of an exported graph: run it in ONNX Runtime and compare with the native engine on
//! real inputs. A graph that scores differently (NeMo Guardrails once shipped an export that flagged
//! every benign prompt) fails with [`Error::Check`].

use super::export::{Exported, INPUT_NAME, OUTPUT_NAME};
use super::runtime::{library_path, OnnxSession, SessionOptions};
use crate::error::{Error, Result};
use crate::infer::Scorer;
use crate::model::Precision;
use crate::Model;
use serde::{Deserialize, Serialize};

/// Rows per ONNX Runtime call (bounds memory on large validation sets).
const BATCH: usize = 1024;

/// Pass criteria.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    /// Largest allowed |score difference|.
    pub max_abs_diff: f64,
    /// Smallest allowed share of rows with the same decision at the threshold.
    pub min_agreement: f64,
}

impl Tolerance {
    /// Defaults: f32 and f16 (the graph holds the very same weights; only summation order differs):
    /// max diff 1e-4 and 100% agreement; int8: max diff 0.05 and >= 99.9% agreement (the native int8
    /// kernels may also quantize activations, the graph does not).
    pub fn for_precision(p: Precision) -> Tolerance {
        match p {
            Precision::F32 | Precision::F16 => Tolerance { max_abs_diff: 1e-4, min_agreement: 1.0 },
            Precision::Int8 => Tolerance { max_abs_diff: 0.05, min_agreement: 0.999 },
        }
    }
}

/// Outcome of [`validate_embeddings`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// Precision of the exported graph.
    pub precision: Precision,
    /// Rows compared.
    pub rows: usize,
    /// Decision threshold used.
    pub threshold: f32,
    /// max |ONNX score - native score|.
    pub max_abs_diff: f64,
    /// mean |ONNX score - native score|.
    pub mean_abs_diff: f64,
    /// Share of rows with the same decision at the threshold.
    pub decision_agreement: f64,
    /// Rows with different decisions.
    pub disagreements: usize,
    /// When the export converted precision: max |ONNX score - source model score| (informational).
    pub source_max_abs_diff: Option<f64>,
    /// When the export converted precision: agreement with the source model (informational).
    pub source_decision_agreement: Option<f64>,
    /// The criteria.
    pub tolerance: Tolerance,
    /// The ONNX Runtime library that ran the graph.
    pub runtime_library: String,
}

impl ValidationReport {
    /// Whether both criteria hold.
    pub fn passed(&self) -> bool {
        self.max_abs_diff <= self.tolerance.max_abs_diff && self.decision_agreement >= self.tolerance.min_agreement
    }

    /// `Err(Error::Check)` naming the violated criterion.
    pub fn check(&self) -> Result<()> {
        if self.passed() {
            return Ok(());
        }
        Err(Error::Check(format!(
            "ONNX export ({}) differs from the native engine on {} rows: max |score diff| {:.3e} (allowed {:.1e}), \
             decision agreement {:.4}% (required {:.2}%, {} disagreements at threshold {})",
            self.precision,
            self.rows,
            self.max_abs_diff,
            self.tolerance.max_abs_diff,
            self.decision_agreement * 100.0,
            self.tolerance.min_agreement * 100.0,
            self.disagreements,
            self.threshold
        )))
    }
}

/// Run `exported` in ONNX Runtime on `x` (`n x dims` row-major embeddings) and compare with the native
/// engine scoring the same layers. Returns the report whether or not it passes; call
/// [`ValidationReport::check`] to fail on a violation.
pub fn validate_embeddings(model: &Model, exported: &Exported, x: &[f32]) -> Result<ValidationReport> {
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
    let (max, mean, agree) = compare(&onnx, &native, threshold);
    let (source_max_abs_diff, source_decision_agreement) = if exported.precision != model.precision() {
        let (m, _, a) = compare(&onnx, &model.score_embeddings(x)?, threshold);
        (Some(m), Some(a as f64 / n as f64))
    } else {
        (None, None)
    };
    Ok(ValidationReport {
        precision: exported.precision,
        rows: n,
        threshold,
        max_abs_diff: max,
        mean_abs_diff: mean,
        decision_agreement: agree as f64 / n as f64,
        disagreements: n - agree,
        source_max_abs_diff,
        source_decision_agreement,
        tolerance: Tolerance::for_precision(exported.precision),
        runtime_library: library_path().map(|p| p.display().to_string()).unwrap_or_default(),
    })
}

/// Embed `texts` with the model's embedder, then [`validate_embeddings`].
pub fn validate_texts(model: &Model, exported: &Exported, texts: &[&str]) -> Result<ValidationReport> {
    let x = model.embedder().embed(texts)?;
    validate_embeddings(model, exported, &x)
}

/// (max |diff|, mean |diff|, rows with the same decision). A NaN on either side counts as maximal
/// difference and a disagreement.
fn compare(a: &[f32], b: &[f32], threshold: f32) -> (f64, f64, usize) {
    let mut max = 0.0f64;
    let mut sum = 0.0f64;
    let mut agree = 0;
    for (&x, &y) in a.iter().zip(b) {
        let d = if x.is_finite() && y.is_finite() { f64::from((x - y).abs()) } else { f64::INFINITY };
        max = max.max(d);
        sum += d;
        if d.is_finite() && (x >= threshold) == (y >= threshold) {
            agree += 1;
        }
    }
    (max, sum / a.len().max(1) as f64, agree)
}

#[cfg(test)]
mod tests {
    #[test]
    fn compare_counts_nan_as_disagreement() {
        let (max, _, agree) = super::compare(&[0.2, f32::NAN, 0.9], &[0.2, 0.1, 0.4], 0.5);
        assert!(max.is_infinite());
        assert_eq!(agree, 1);
    }
}
