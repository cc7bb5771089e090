//! Post-training quantization of f32 layers to f16 or int8: the one quantizer (`l2 quantize` and the
//! ONNX export's precision conversion both use it; the model-level job with its parity check is
//! `crate::model::quantize`).
//!
//! int8: symmetric per-output-channel weights, `scale[o] = max_i |w[o][i]| / 127`,
//! `q = round_half_even(w / scale)` in [-127, 127] (a zero row gets scale 0). Activations are quantized
//! at run time, per row (see [`crate::infer::kernels`]). f16: IEEE half, round to nearest even. Biases stay
//! f32.

use crate::error::{Error, Result};
use crate::nn::{Layer, LayerWeights, Precision};
use half::f16;

/// Quantize f32 layers to `precision` (f32 returns a copy); an error for a non-f32 source.
pub fn quantize_layers(layers: &[Layer], precision: Precision) -> Result<Vec<Layer>> {
    layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let weights = quantize_matrix(&l.weights, l.inputs, precision).map_err(|_| {
                Error::param(
                    "precision",
                    l.precision(),
                    format!("layer {i} is {}: quantize from an f32 model", l.precision()),
                )
            })?;
            Ok(Layer { inputs: l.inputs, outputs: l.outputs, weights, bias: l.bias.clone() })
        })
        .collect()
}

/// Quantize an f32 matrix of `cols` columns to `precision`, one int8 scale per row (a layer's output
/// channel, an embedding table's feature); an error for a non-f32 source.
pub fn quantize_matrix(w: &LayerWeights, cols: usize, precision: Precision) -> Result<LayerWeights> {
    let LayerWeights::F32(w) = w else {
        return Err(Error::param("precision", w.precision(), "quantize from f32 weights"));
    };
    Ok(match precision {
        Precision::F32 => LayerWeights::F32(w.clone()),
        Precision::F16 => LayerWeights::F16(w.iter().map(|&v| f16::from_f32(v)).collect()),
        Precision::Int8 => {
            let mut q = Vec::with_capacity(w.len());
            let mut scale = Vec::with_capacity(w.len() / cols.max(1));
            for row in w.chunks_exact(cols.max(1)) {
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
    })
}
