//! Inference: forward passes over stored layers at f32, f16 and int8.
//!
//! CONTRACT (skeleton): [`Scorer`]'s public signatures are what the rest of the crate calls; the
//! inference work item replaces this reference implementation with the optimised kernels.

use crate::error::{Error, Result};
use crate::model::{Layer, LayerWeights, Precision};

/// A ready-to-run network: immutable, `Send + Sync`, shareable across threads.
#[derive(Debug, Clone)]
pub struct Scorer {
    layers: Vec<Layer>,
    precision: Precision,
}

impl Scorer {
    /// Build from stored layers (already checked by the model file loader).
    pub fn new(layers: &[Layer]) -> Result<Scorer> {
        let precision = layers.first().map(Layer::precision).unwrap_or_default();
        if let Some(l) = layers.iter().find(|l| l.precision() != precision) {
            return Err(Error::param("precision", l.precision(), "all layers must share one precision"));
        }
        Ok(Scorer { layers: layers.to_vec(), precision })
    }

    /// Input width.
    pub fn input_dims(&self) -> usize {
        self.layers.first().map_or(0, |l| l.inputs)
    }

    /// Weight precision.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Score `n` row-major embeddings `x` (`n x input_dims`) into `out` (`n`): sigmoid probabilities.
    pub fn score_into(&self, x: &[f32], out: &mut [f32]) -> Result<()> {
        let d = self.input_dims();
        if d == 0 || x.len() % d != 0 {
            return Err(Error::shape("embeddings", format!("n x {d}"), format!("{} floats", x.len())));
        }
        if out.len() != x.len() / d {
            return Err(Error::shape("scores output", x.len() / d, out.len()));
        }
        for (row, o) in x.chunks_exact(d).zip(out.iter_mut()) {
            *o = self.score_one(row)?;
        }
        Ok(())
    }

    /// Score one embedding.
    pub fn score_one(&self, x: &[f32]) -> Result<f32> {
        if x.len() != self.input_dims() {
            return Err(Error::shape("embedding", self.input_dims(), x.len()));
        }
        let mut cur = x.to_vec();
        for (i, l) in self.layers.iter().enumerate() {
            let mut next = l.bias.clone();
            for (o, acc) in next.iter_mut().enumerate() {
                let row = o * l.inputs..(o + 1) * l.inputs;
                *acc += match &l.weights {
                    LayerWeights::F32(w) => w[row].iter().zip(&cur).map(|(a, b)| a * b).sum::<f32>(),
                    LayerWeights::F16(w) => w[row].iter().zip(&cur).map(|(a, b)| a.to_f32() * b).sum::<f32>(),
                    LayerWeights::Int8 { q, scale } => {
                        scale[o] * q[row].iter().zip(&cur).map(|(a, b)| f32::from(*a) * b).sum::<f32>()
                    }
                };
            }
            if i + 1 < self.layers.len() {
                next.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            cur = next;
        }
        Ok(sigmoid(cur[0]))
    }
}

/// Numerically stable logistic function.
#[inline]
pub fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}
