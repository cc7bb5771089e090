//! Stored layers: what a model file holds and inference kernels are built from, at one of three
//! precisions.

use crate::error::{Error, Result};
use half::f16;
use serde::{Deserialize, Serialize};

/// Numeric precision of stored weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// IEEE single precision.
    #[default]
    F32,
    /// IEEE half precision weights, f32 accumulation.
    F16,
    /// Symmetric per-output-channel int8 weights, dynamic per-row int8 activations, i32 accumulation.
    Int8,
}

impl Precision {
    /// Lowercase name (`f32`, `f16`, `int8`).
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
            Precision::Int8 => "int8",
        }
    }
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Precision {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "f32" | "fp32" | "float32" => Ok(Precision::F32),
            "f16" | "fp16" | "float16" | "half" => Ok(Precision::F16),
            "int8" | "i8" => Ok(Precision::Int8),
            _ => Err(Error::param("precision", s, "expected f32, f16 or int8")),
        }
    }
}

/// A layer's weights as stored in the model file, in one of the three precisions.
#[derive(Debug, Clone, PartialEq)]
pub enum LayerWeights {
    /// Row-major `[outputs][inputs]` f32.
    F32(Vec<f32>),
    /// Row-major `[outputs][inputs]` f16.
    F16(Vec<f16>),
    /// Row-major `[outputs][inputs]` int8 with one f32 scale per output row: `w = q * scale[row]`.
    Int8 {
        /// Quantized weights.
        q: Vec<i8>,
        /// Per-output-channel scales.
        scale: Vec<f32>,
    },
}

/// A stored layer: what the model file holds and what inference kernels are built from.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Weights.
    pub weights: LayerWeights,
    /// f32 bias `[outputs]` (bias stays f32 at every precision).
    pub bias: Vec<f32>,
}

impl LayerWeights {
    /// The precision of these weights.
    pub fn precision(&self) -> Precision {
        match self {
            LayerWeights::F32(_) => Precision::F32,
            LayerWeights::F16(_) => Precision::F16,
            LayerWeights::Int8 { .. } => Precision::Int8,
        }
    }

    /// Check a `rows x cols` matrix: length, finite values, one non-negative scale per row (int8);
    /// `what` names it in errors.
    pub fn check(&self, rows: usize, cols: usize, what: &str) -> Result<()> {
        if rows == 0 || cols == 0 {
            return Err(Error::shape(what, "non-empty matrix", format!("{rows} x {cols}")));
        }
        let (len, finite) = match self {
            LayerWeights::F32(w) => (w.len(), w.iter().all(|v| v.is_finite())),
            LayerWeights::F16(w) => (w.len(), w.iter().all(|v| v.is_finite())),
            LayerWeights::Int8 { q, scale } => {
                if scale.len() != rows {
                    return Err(Error::shape(format!("{what}.scale"), rows, scale.len()));
                }
                (q.len(), scale.iter().all(|s| s.is_finite() && *s >= 0.0))
            }
        };
        if Some(len) != rows.checked_mul(cols) {
            return Err(Error::shape(format!("{what}.weight"), format!("{rows} x {cols}"), len));
        }
        if !finite {
            return Err(Error::InvalidData(format!("{what} holds non-finite values")));
        }
        Ok(())
    }

    /// The f32 values of a matrix with `cols` columns (dequantized: `q * scale[row]` for int8).
    pub fn to_f32(&self, cols: usize) -> Vec<f32> {
        match self {
            LayerWeights::F32(w) => w.clone(),
            LayerWeights::F16(w) => w.iter().map(|v| v.to_f32()).collect(),
            LayerWeights::Int8 { q, scale } => q
                .chunks_exact(cols.max(1))
                .zip(scale)
                .flat_map(|(row, &s)| row.iter().map(move |&v| f32::from(v) * s))
                .collect(),
        }
    }
}

impl Layer {
    /// The precision of this layer's weights.
    pub fn precision(&self) -> Precision {
        self.weights.precision()
    }

    /// Check internal consistency (lengths, finite values); `what` names the layer in errors.
    pub fn check(&self, what: &str) -> Result<()> {
        self.weights.check(self.outputs, self.inputs, what)?;
        if self.bias.len() != self.outputs {
            return Err(Error::shape(format!("{what}.bias"), self.outputs, self.bias.len()));
        }
        if !self.bias.iter().all(|v| v.is_finite()) {
            return Err(Error::InvalidData(format!("{what} holds non-finite values")));
        }
        Ok(())
    }
}
