//! The portable path: plain Rust over the packed layouts, no instruction-set assumptions. It is the
//! reference the SIMD paths are tested against.
//!
//! The call structs (`FloatCall`, `QuantCall`, `IntCall`) state each function's contract; `Ops` checks
//! the lengths before calling.

use super::pack::{PackedF16, PackedF32, BLOCK};
use super::{FloatCall, IntCall, QuantCall};

/// True when every value is finite.
pub(crate) fn all_finite(x: &[f32]) -> bool {
    super::all_finite(x)
}

/// f32 weights; `relu` on hidden layers.
pub(crate) fn f32_layer(c: FloatCall<'_, PackedF32>) {
    let w = c.l.w.as_slice();
    float_layer(c.x, c.xs, c.m, c.l.inputs, c.l.blocks, c.l.bias.as_slice(), c.y, c.ys, c.relu, |idx| w[idx]);
}

/// f16 weights widened to f32.
pub(crate) fn f16_layer(c: FloatCall<'_, PackedF16>) {
    let w = c.l.w.as_slice();
    float_layer(c.x, c.xs, c.m, c.l.inputs, c.l.blocks, c.l.bias.as_slice(), c.y, c.ys, c.relu, |idx| {
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

/// Quantize rows into signed bytes, the reference form (see the parent module docs).
pub(crate) fn quantize_rows(c: QuantCall<'_>) {
    for r in 0..c.m {
        let row = &c.x[r * c.xs..r * c.xs + c.k];
        let (s, inv) = super::row_scale(super::absmax(row));
        c.sx[r] = s;
        super::quantize_row(row, inv, &mut c.q[r * c.qs..r * c.qs + super::padded(c.k)], false);
    }
}

/// int8 layer over signed quantized activations.
pub(crate) fn i8_layer(c: IntCall<'_>) {
    let l = c.l;
    let w = l.w.as_slice();
    let (scale, bias) = (l.scale.as_slice(), l.bias.as_slice());
    for r in 0..c.m {
        let qr = &c.q[r * c.qs..r * c.qs + l.k4 * 4];
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
                let mut v = (a as f32) * (scale[o] * c.sx[r]) + bias[o];
                if c.relu {
                    v = v.max(0.0);
                }
                c.y[r * c.ys + o] = v;
            }
        }
    }
}
