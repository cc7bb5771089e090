//! AVX512-FP16 f16 path: the f16 weights times the activations in half precision (`vfmadd231ph`, 32
//! lanes a vector, twice the f32 FMA rate), with partial sums widened to f32 every [`G`] inputs.
//!
//! The weights are packed in groups of 32 outputs (`PackedF16` with 32 lanes: one 64-byte vector of
//! halves per input). The activations of a row are scaled by a power of two `2^(t - e)` before they are
//! rounded to half, where `2^e` bounds the row's largest |x| and `t` comes from the layer's largest
//! |w| so that no half product and no half partial sum of `G` terms can exceed `2^15 < 65504`: a sum
//! can never overflow to infinity, whatever the input. The f32 result is scaled back by the exact
//! inverse power of two, then bias and ReLU are applied in f32.
//!
//! Rounding the activations to half (11 significant bits) and summing in half makes this path less
//! exact than the f32-arithmetic f16 paths: on the default 512-256-128-64-1 network its scores differ
//! from an f64 reference of the same weights by up to ~1e-3 (`tests/infer_kernels.rs` holds it to
//! `FP16_TOL` = 5e-3 on scores in [0, 1], instead of 1e-5), which is why the kernel is opt-in
//! (`L2_KERNEL=avx512fp16`, see `crate::cpu`). Summing 16 instead of 32 products before widening was
//! measured to change the error little: most of it comes from the rounding of activations and of each
//! FMA result, not from the length of the half sums.
//! The half instructions are written with `asm!` (their intrinsics are unstable in Rust 1.95).

use super::driver::{drive, FloatArgs, Micro, Shape};
use super::pack::{PackedF16, BLOCK};
use super::{FloatCall, CHUNK};
use core::arch::asm;
use core::arch::x86_64::*;

/// Inputs summed in half precision before the partial sums are widened to f32.
pub(crate) const G: usize = 32;

/// Output lanes of a weight group (one zmm of halves).
pub(crate) const LANES: usize = 32;

/// The AVX512-FP16 microkernel (see [`Micro`]).
pub(crate) struct Fp16;

/// A layer call with the per-row scales of the activations.
pub(crate) struct Fp16Args {
    base: FloatArgs<u16>,
    /// `2^(t - e_r)` per row: multiplies the activations before rounding to half.
    sc: [f32; CHUNK],
    /// `2^(e_r - t)`: brings the sums back.
    inv: [f32; CHUNK],
}

impl Shape for Fp16 {
    #[inline(always)]
    fn panel(m: usize, left: usize) -> usize {
        let groups = (left / 2).min(if m <= 2 { 4 } else { 2 });
        groups * 2
    }
    #[inline(always)]
    fn rows(_m: usize, left: usize, bw: usize) -> usize {
        left.min(if bw > 4 { 2 } else { 4 })
    }
}

impl Micro<Fp16Args> for Fp16 {
    #[inline(always)]
    unsafe fn tile(a: &Fp16Args, r0: usize, b0: usize, rh: usize, bw: usize) {
        let (x, w, bias, y) = a.base.at(r0, b0);
        let (sc, inv) = (a.sc.as_ptr().add(r0), a.inv.as_ptr().add(r0));
        let f = &a.base;
        macro_rules! table {
            ($(($R:literal, $B:literal))*) => {
                match (rh, bw / 2) {
                    $(($R, $B) => htile::<$R, $B>(x, f.xs, f.k, w, bias, y, f.ys, f.relu, sc, inv),)*
                    _ => unreachable!("tile shape outside the dispatch table"),
                }
            };
        }
        table!((1, 1)(1, 2)(1, 3)(1, 4)(2, 1)(2, 2)(2, 3)(2, 4)(3, 1)(3, 2)(4, 1)(4, 2))
    }
}

/// One row's chunk of activations in half precision, where the FMAs broadcast from.
#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Halves([u16; G]);

/// `R` rows x `B` groups of 32 outputs.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512fp16,avx2,fma,f16c")]
unsafe fn htile<const R: usize, const B: usize>(
    x: *const f32,
    xs: usize,
    k: usize,
    w: *const u16,
    bias: *const f32,
    y: *mut f32,
    ys: usize,
    relu: bool,
    sc: *const f32,
    inv: *const f32,
) {
    let mut xh = [Halves([0; G]); R];
    let mut acc = [[[_mm512_setzero_ps(); 2]; B]; R];
    let mut i0 = 0;
    while i0 < k {
        let g = G.min(k - i0);
        for (r, row) in xh.iter_mut().enumerate() {
            let s = _mm512_set1_ps(*sc.add(r));
            for h in 0..G / 16 {
                let n = g.saturating_sub(h * 16).min(16);
                let mask = ((1u32 << n) - 1) as __mmask16;
                let v = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, x.add(r * xs + i0 + h * 16)), s);
                let hv = _mm512_cvtps_ph::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(v);
                _mm256_storeu_si256(row.0.as_mut_ptr().add(h * 16).cast(), hv);
            }
        }
        let mut hacc = [[_mm512_setzero_si512(); B]; R];
        for i in 0..g {
            let mut wv = [_mm512_setzero_si512(); B];
            for (b, v) in wv.iter_mut().enumerate() {
                *v = _mm512_loadu_si512(w.add((b * k + i0 + i) * LANES).cast());
            }
            for (r, row) in hacc.iter_mut().enumerate() {
                let xp = xh[r].0.as_ptr().add(i);
                for (b, hv) in row.iter_mut().enumerate() {
                    asm!(
                        "vfmadd231ph {a}, {w}, word ptr [{x}]{{1to32}}",
                        a = inout(zmm_reg) *hv,
                        w = in(zmm_reg) wv[b],
                        x = in(reg) xp,
                        options(pure, readonly, nostack, preserves_flags)
                    );
                }
            }
        }
        for (row, hrow) in acc.iter_mut().zip(&hacc) {
            for (a, &hv) in row.iter_mut().zip(hrow) {
                a[0] = _mm512_add_ps(a[0], _mm512_cvtph_ps(_mm512_castsi512_si256(hv)));
                a[1] = _mm512_add_ps(a[1], _mm512_cvtph_ps(_mm512_extracti64x4_epi64::<1>(hv)));
            }
        }
        i0 += G;
    }
    let z = _mm512_setzero_ps();
    for (r, row) in acc.iter().enumerate() {
        let iv = _mm512_set1_ps(*inv.add(r));
        for (b, a) in row.iter().enumerate() {
            for (h, &v) in a.iter().enumerate() {
                let o = b * LANES + h * BLOCK;
                let mut v = _mm512_add_ps(_mm512_mul_ps(v, iv), _mm512_loadu_ps(bias.add(o)));
                if relu {
                    v = _mm512_max_ps(v, z);
                }
                _mm512_storeu_ps(y.add(r * ys + o), v);
            }
        }
    }
}

/// The exponent `t` of a layer: with activations below `2^t` and weights at most `wmax`, a product is
/// at most `2^15 / G` and a half sum of `G` of them at most `2^15`.
fn layer_exponent(wmax: f32) -> i32 {
    if wmax > 0.0 {
        ((32768.0 / (G as f32 * wmax)).log2().floor() as i32).min(15)
    } else {
        15
    }
}

/// `(2^(t - e), 2^(e - t))` for a row whose largest |x| is `amax` (`2^e > amax`), the exponent clamped
/// to the normal range so both stay finite and exact.
fn row_scales(amax: f32, t: i32) -> (f32, f32) {
    if amax == 0.0 {
        return (1.0, 1.0);
    }
    let e = ((amax.to_bits() >> 23) & 0xff) as i32 - 126;
    let d = (t - e).clamp(-126, 126);
    (f32::from_bits(((d + 127) as u32) << 23), f32::from_bits(((127 - d) as u32) << 23))
}

/// f16 layer in half-precision arithmetic (see the module docs).
///
/// # Safety
/// The CPU must support the `avx512fp16` kernel and the call's lengths must have been checked
/// (`Ops::f16_layer`), with the layer packed in groups of 32.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512fp16,avx2,fma,f16c")]
pub(crate) unsafe fn f16_layer(c: FloatCall<'_, PackedF16>) {
    debug_assert_eq!(c.l.lanes, LANES);
    let (m, l, xs, ys) = (c.m, c.l, c.xs, c.ys);
    let t = layer_exponent(l.wmax);
    let base = FloatArgs::new(c);
    let mut r0 = 0;
    while r0 < m {
        let rows = (m - r0).min(CHUNK);
        let mut a = Fp16Args {
            base: FloatArgs { x: base.x.add(r0 * xs), y: base.y.add(r0 * ys), ..base },
            sc: [1.0; CHUNK],
            inv: [1.0; CHUNK],
        };
        for r in 0..rows {
            let row = std::slice::from_raw_parts(a.base.x.add(r * xs), l.inputs);
            (a.sc[r], a.inv[r]) = row_scales(super::absmax(row), t);
        }
        drive::<_, Fp16>(&a, rows, l.blocks);
        r0 += rows;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_exact_inverse_powers_of_two_that_bound_the_row() {
        for amax in [1e-30f32, 0.001, 0.5, 1.0, 3.0, 1e6, 3e38] {
            for t in [-20, 0, 9, 15] {
                let (s, inv) = row_scales(amax, t);
                assert_eq!(s * inv, 1.0, "{amax} {t}");
                assert!(s.is_finite() && inv.is_finite());
                if (-100..100).contains(&(t - ((amax.to_bits() >> 23) & 0xff) as i32 + 126)) {
                    assert!(amax * s < 2f32.powi(t), "{amax} {t}");
                }
            }
        }
        assert_eq!(row_scales(0.0, 9), (1.0, 1.0));
        // Largest |w| 0.5 with G = 32: t = log2(2^15 / 16) = 11.
        assert_eq!(layer_exponent(0.5), 11);
        assert_eq!(layer_exponent(0.0), 15);
        assert_eq!(layer_exponent(1e-9), 15);
    }
}
