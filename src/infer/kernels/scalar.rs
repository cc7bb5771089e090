//! The portable path: plain Rust over the packed layouts, no instruction-set assumptions. It is the
//! reference the SIMD paths are tested against.
//!
//! Every layer function computes rows `0..m` of `y` (row stride `ys`, all `blocks * 16` columns
//! written) from rows of `x` (row stride `xs`). Callers check the lengths.

use super::pack::{PackedF16, PackedF32, PackedI8, BLOCK};

/// f32 weights; `relu` on hidden layers.
pub(crate) fn f32_layer(x: &[f32], xs: usize, m: usize, l: &PackedF32, y: &mut [f32], ys: usize, relu: bool) {
    let w = l.w.as_slice();
    float_layer(x, xs, m, l.inputs, l.blocks, l.bias.as_slice(), y, ys, relu, |idx| w[idx]);
}

/// f16 weights widened to f32.
pub(crate) fn f16_layer(x: &[f32], xs: usize, m: usize, l: &PackedF16, y: &mut [f32], ys: usize, relu: bool) {
    let w = l.w.as_slice();
    float_layer(x, xs, m, l.inputs, l.blocks, l.bias.as_slice(), y, ys, relu, |idx| {
        half::f16::from_bits(w[idx]).to_f32()
    });
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn float_layer(
    x: &[f32],
    xs: usize,
    m: usize,
    k: usize,
    blocks: usize,
    bias: &[f32],
    y: &mut [f32],
    ys: usize,
    relu: bool,
    w: impl Fn(usize) -> f32,
) {
    for r in 0..m {
        let xr = &x[r * xs..r * xs + k];
        for b in 0..blocks {
            let mut acc = [0f32; BLOCK];
            acc.copy_from_slice(&bias[b * BLOCK..(b + 1) * BLOCK]);
            for (i, &xv) in xr.iter().enumerate() {
                let base = (b * k + i) * BLOCK;
                for (j, a) in acc.iter_mut().enumerate() {
                    *a += xv * w(base + j);
                }
            }
            if relu {
                acc.iter_mut().for_each(|a| *a = a.max(0.0));
            }
            y[r * ys + b * BLOCK..r * ys + (b + 1) * BLOCK].copy_from_slice(&acc);
        }
    }
}

/// Quantize rows of `x` (first `k` values of each) into signed bytes `q` (row stride `qs`), scales in `sx`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn quantize_rows(x: &[f32], xs: usize, k: usize, m: usize, q: &mut [u8], qs: usize, sx: &mut [f32]) {
    quantize_rows_body(x, xs, k, m, q, qs, sx, false);
}

/// The quantization every kernel shares (see the parent module docs).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(crate) fn quantize_rows_body(
    x: &[f32],
    xs: usize,
    k: usize,
    m: usize,
    q: &mut [u8],
    qs: usize,
    sx: &mut [f32],
    offset: bool,
) {
    for r in 0..m {
        let row = &x[r * xs..r * xs + k];
        let (s, inv) = super::row_scale(super::absmax(row));
        sx[r] = s;
        super::quantize_row(row, inv, &mut q[r * qs..(r + 1) * qs], offset);
    }
}

/// int8 layer over signed quantized activations `q` (row stride `qs`, scales `sx`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn i8_layer(q: &[u8], qs: usize, sx: &[f32], m: usize, l: &PackedI8, y: &mut [f32], ys: usize, relu: bool) {
    let w = l.w.as_slice();
    let (scale, bias) = (l.scale.as_slice(), l.bias.as_slice());
    for r in 0..m {
        let qr = &q[r * qs..r * qs + l.k4 * 4];
        for b in 0..l.blocks {
            let mut acc = [0i32; BLOCK];
            for g in 0..l.k4 {
                let wg = &w[(b * l.k4 + g) * BLOCK * 4..(b * l.k4 + g + 1) * BLOCK * 4];
                for (j, a) in acc.iter_mut().enumerate() {
                    for t in 0..4 {
                        *a += i32::from(qr[g * 4 + t] as i8) * i32::from(wg[j * 4 + t]);
                    }
                }
            }
            for (j, &a) in acc.iter().enumerate() {
                let o = b * BLOCK + j;
                let mut v = (a as f32) * (scale[o] * sx[r]) + bias[o];
                if relu {
                    v = v.max(0.0);
                }
                y[r * ys + o] = v;
            }
        }
    }
}
