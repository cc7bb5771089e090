//! The f32 MLP as training builds it: dense layers, ReLU between them, one sigmoid output.

use super::{Layer, LayerWeights};
use crate::error::{Error, Result};

/// One f32 dense layer as training sees it: `y = W x + b`, `W` row-major `[outputs][inputs]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dense {
    /// Input width.
    pub inputs: usize,
    /// Output width.
    pub outputs: usize,
    /// Row-major `[outputs][inputs]`.
    pub weight: Vec<f32>,
    /// `[outputs]`.
    pub bias: Vec<f32>,
}

/// The f32 MLP: hidden layers with ReLU, a final layer with one output (a logit; the score is its
/// sigmoid).
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp {
    /// Layers, input first; the last has `outputs == 1`.
    pub layers: Vec<Dense>,
}

impl Mlp {
    /// He-initialised network `dims -> hidden... -> 1`, deterministic for `seed`.
    pub fn init(dims: usize, hidden: &[usize], seed: u64) -> Result<Mlp> {
        if dims == 0 {
            return Err(Error::param("dims", 0, "must be at least 1"));
        }
        if let Some(z) = hidden.iter().position(|&h| h == 0) {
            return Err(Error::param("hidden", format!("{hidden:?}"), format!("layer {z} has width 0")));
        }
        let mut rng = crate::rng::Rng::new(seed);
        let mut widths = vec![dims];
        widths.extend_from_slice(hidden);
        widths.push(1);
        let layers = widths
            .windows(2)
            .map(|w| {
                let (inputs, outputs) = (w[0], w[1]);
                let std = (2.0 / inputs as f32).sqrt();
                Dense {
                    inputs,
                    outputs,
                    weight: (0..inputs * outputs).map(|_| rng.normal() * std).collect(),
                    bias: vec![0.0; outputs],
                }
            })
            .collect();
        Ok(Mlp { layers })
    }

    /// Input width.
    pub fn input_dims(&self) -> usize {
        self.layers.first().map_or(0, |l| l.inputs)
    }

    /// Hidden widths (all layers but the last).
    pub fn hidden(&self) -> Vec<usize> {
        self.layers.iter().take(self.layers.len().saturating_sub(1)).map(|l| l.outputs).collect()
    }

    /// The stored (f32) form.
    pub fn to_layers(&self) -> Vec<Layer> {
        self.layers
            .iter()
            .map(|d| Layer {
                inputs: d.inputs,
                outputs: d.outputs,
                weights: LayerWeights::F32(d.weight.clone()),
                bias: d.bias.clone(),
            })
            .collect()
    }

    /// Back from f32 stored layers; an error for other precisions.
    pub fn from_layers(layers: &[Layer]) -> Result<Mlp> {
        let layers = layers
            .iter()
            .enumerate()
            .map(|(i, l)| match &l.weights {
                LayerWeights::F32(w) => {
                    Ok(Dense { inputs: l.inputs, outputs: l.outputs, weight: w.clone(), bias: l.bias.clone() })
                }
                _ => Err(Error::param("precision", l.precision(), format!("layer {i} is not f32"))),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Mlp { layers })
    }
}

/// Numerically stable logistic function: the network's output (a logit) to a probability.
#[inline]
pub fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}
