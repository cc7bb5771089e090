//! The wide-and-deep network over sparse features.
//!
//! For a row of features `x` (vocabulary indices `j` with values `x_j`):
//! * deep: `h = relu(bias + sum_j x_j * table[j])` (an embedding bag: the sum of the touched rows of
//!   `table`, `[features][embed]`), then the dense `tail` (`embed -> hidden... -> 1`, ReLU between);
//! * wide: `sum_j x_j * wide[j]` (a linear model over the same features);
//! * logit = deep + wide; score = sigmoid(logit).
//!
//! Scoring costs `nnz * embed` multiply-adds for the bag plus the small tail, whatever the vocabulary.
//!
//! Optional softmax [`Head`]s (family, severity) read the tail's last hidden layer beside the binary
//! output: they share every layer but the last.

use super::heads::{check_heads, Head};
use super::{Dense, Layer, LayerWeights, Mlp, Precision};
use crate::error::{Error, Result};

/// The f32 network as training produces it.
#[derive(Debug, Clone, PartialEq)]
pub struct WideDeep {
    /// Vocabulary size (rows of `table`, length of `wide`).
    pub features: usize,
    /// Embedding width.
    pub embed: usize,
    /// `[features][embed]` row-major.
    pub table: Vec<f32>,
    /// `[embed]`.
    pub bias: Vec<f32>,
    /// `embed -> hidden... -> 1`.
    pub tail: Mlp,
    /// `[features]`, when the network has the linear term.
    pub wide: Option<Vec<f32>>,
    /// Heads on the tail's last hidden layer, in [`super::HeadKind::ALL`] order (empty: none).
    pub heads: Vec<Head>,
}

impl WideDeep {
    /// Hidden widths of the tail (without its output).
    pub fn hidden(&self) -> Vec<usize> {
        self.tail.hidden()
    }

    /// The stored form at f32.
    pub fn to_stored(&self) -> StoredWideDeep {
        StoredWideDeep {
            features: self.features,
            embed: self.embed,
            table: LayerWeights::F32(self.table.clone()),
            bias: self.bias.clone(),
            tail: self.tail.to_layers(),
            wide: self.wide.clone(),
            heads: self.heads.clone(),
        }
    }

    /// Check lengths and values; `what` names the network in errors.
    pub fn check(&self) -> Result<()> {
        self.to_stored().check()
    }
}

/// The network as the model file stores it and inference reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredWideDeep {
    /// Vocabulary size.
    pub features: usize,
    /// Embedding width.
    pub embed: usize,
    /// The embedding table, `[features][embed]` (int8 with one scale per row, a feature's embedding).
    pub table: LayerWeights,
    /// Bag bias `[embed]` (f32 at every precision).
    pub bias: Vec<f32>,
    /// The tail's stored layers (f32 at every precision: a few thousand weights).
    pub tail: Vec<Layer>,
    /// The linear term `[features]` (f32 at every precision: it is one number per feature).
    pub wide: Option<Vec<f32>>,
    /// Heads on the tail's last hidden layer (f32 at every precision).
    pub heads: Vec<Head>,
}

impl StoredWideDeep {
    /// Weight precision.
    pub fn precision(&self) -> Precision {
        self.table.precision()
    }

    /// Check shapes, finiteness, and that the tail is f32.
    pub fn check(&self) -> Result<()> {
        let (k, e) = (self.features, self.embed);
        if k == 0 || e == 0 {
            return Err(Error::shape("wide_deep", "features and embed >= 1", format!("{k} x {e}")));
        }
        k.checked_mul(e).ok_or_else(|| Error::shape("deep.table", "a size that fits memory", "overflow"))?;
        self.table.check(k, e, "deep.table")?;
        if let LayerWeights::Int8 { q, .. } = &self.table {
            if q.contains(&i8::MIN) {
                return Err(Error::InvalidData("deep.table: int8 rows must be in [-127, 127]".into()));
            }
        }
        if self.bias.len() != e {
            return Err(Error::shape("deep.bias", e, self.bias.len()));
        }
        if let Some(w) = &self.wide {
            if w.len() != k {
                return Err(Error::shape("wide.weight", k, w.len()));
            }
        }
        if self.bias.iter().chain(self.wide.iter().flatten()).any(|v| !v.is_finite()) {
            return Err(Error::InvalidData("wide_deep: a bias or wide weight is not finite".into()));
        }
        let mut inputs = e;
        for (i, l) in self.tail.iter().enumerate() {
            l.check(&format!("tail.{i}"))?;
            if l.inputs != inputs {
                return Err(Error::shape(format!("tail.{i}.inputs"), inputs, l.inputs));
            }
            if l.precision() != Precision::F32 {
                return Err(Error::model("<layers>", format!("tail layer {i} is {}, expected f32", l.precision())));
            }
            inputs = l.outputs;
        }
        if self.tail.is_empty() || inputs != 1 {
            return Err(Error::shape("tail", "layers ending in one output", format!("{} layers", self.tail.len())));
        }
        if !self.heads.is_empty() {
            if self.tail.len() < 2 {
                return Err(Error::model("<heads>", "heads read a hidden layer; this tail has none"));
            }
            check_heads(&self.heads, self.tail[self.tail.len() - 1].inputs)?;
        }
        Ok(())
    }

    /// The tail without its output layer, in f32: the layers the heads read through.
    pub fn trunk(&self) -> Vec<Dense> {
        let body = &self.tail[..self.tail.len().saturating_sub(1)];
        body.iter()
            .map(|l| Dense {
                inputs: l.inputs,
                outputs: l.outputs,
                weight: l.weights.to_f32(l.inputs),
                bias: l.bias.clone(),
            })
            .collect()
    }

    /// The f32 network (dequantized when stored at a lower precision).
    pub fn to_f32(&self) -> WideDeep {
        let table = self.table.to_f32(self.embed);
        let tail = Mlp {
            layers: self
                .tail
                .iter()
                .map(|l| Dense {
                    inputs: l.inputs,
                    outputs: l.outputs,
                    weight: l.weights.to_f32(l.inputs),
                    bias: l.bias.clone(),
                })
                .collect(),
        };
        WideDeep {
            features: self.features,
            embed: self.embed,
            table,
            bias: self.bias.clone(),
            tail,
            wide: self.wide.clone(),
            heads: self.heads.clone(),
        }
    }
}
