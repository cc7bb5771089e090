//! AVX-512 (F, BW, VL, VNNI) microkernels: register tiles of up to 6 rows x 4 blocks of 16 outputs (24
//! zmm accumulators), or 2 rows x 8 blocks for batch 1-2 so enough independent FMA / `vpdpbusd` chains
//! hide their latency.

use super::driver::{drive, tile_table, FloatArgs, IntArgs, Micro, Shape};
use super::pack::{PackedF16, PackedF32, BLOCK};
use super::{FloatCall, IntCall, QuantCall};
use core::arch::x86_64::*;

const RMAX: usize = 6;

/// The AVX-512 microkernel (see [`Micro`]).
pub(crate) struct Avx512;

/// Blocks per panel for `m` rows: wide panels for 1-2 rows, else 4 (the table has 1..=4 and 8).
#[inline(always)]
fn panel_blocks(m: usize, left: usize) -> usize {
    let want = if m <= 2 { 8 } else { 4 };
    match left.min(want) {
        n @ 1..=4 => n,
        8 => 8,
        _ => 4,
    }
}

#[inline(always)]
fn tile_rows(left: usize, bw: usize) -> usize {
    left.min(if bw == 8 { 2 } else { RMAX })
}

/// A float weight element, widened to 16 f32 lanes.
pub(crate) trait Wide16: Copy {
    /// # Safety
    /// `p` points at 16 readable elements; the CPU has AVX-512F.
    unsafe fn load16(p: *const Self) -> __m512;
}

impl Wide16 for f32 {
    #[inline(always)]
    unsafe fn load16(p: *const f32) -> __m512 {
        _mm512_loadu_ps(p)
    }
}

impl Wide16 for u16 {
    #[inline(always)]
    unsafe fn load16(p: *const u16) -> __m512 {
        _mm512_cvtph_ps(_mm256_loadu_si256(p.cast()))
    }
}

impl Shape for Avx512 {
    #[inline(always)]
    fn panel(m: usize, left: usize) -> usize {
        panel_blocks(m, left)
    }
    #[inline(always)]
    fn rows(_m: usize, left: usize, bw: usize) -> usize {
        tile_rows(left, bw)
    }
}

impl<W: Wide16> Micro<FloatArgs<W>> for Avx512 {
    #[inline(always)]
    unsafe fn tile(a: &FloatArgs<W>, r0: usize, b0: usize, rh: usize, bw: usize) {
        let (x, w, bias, y) = a.at(r0, b0);
        tile_table!(ftile::<W>(x, a.xs, a.k, w, bias, y, a.ys, a.relu) at (rh, bw), in [
            (1, 1) (1, 2) (1, 3) (1, 4) (1, 8) (2, 1) (2, 2) (2, 3) (2, 4) (2, 8)
            (3, 1) (3, 2) (3, 3) (3, 4) (4, 1) (4, 2) (4, 3) (4, 4)
            (5, 1) (5, 2) (5, 3) (5, 4) (6, 1) (6, 2) (6, 3) (6, 4)])
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn ftile<W: Wide16, const R: usize, const B: usize>(
    x: *const f32,
    xs: usize,
    k: usize,
    w: *const W,
    bias: *const f32,
    y: *mut f32,
    ys: usize,
    relu: bool,
) {
    let mut acc = [[_mm512_setzero_ps(); B]; R];
    for b in 0..B {
        let bv = _mm512_loadu_ps(bias.add(b * BLOCK));
        for row in acc.iter_mut() {
            row[b] = bv;
        }
    }
    for i in 0..k {
        let mut wv = [_mm512_setzero_ps(); B];
        for (b, v) in wv.iter_mut().enumerate() {
            *v = W::load16(w.add((b * k + i) * BLOCK));
        }
        for (r, row) in acc.iter_mut().enumerate() {
            let xv = _mm512_set1_ps(*x.add(r * xs + i));
            for b in 0..B {
                row[b] = _mm512_fmadd_ps(xv, wv[b], row[b]);
            }
        }
    }
    let z = _mm512_setzero_ps();
    for (r, row) in acc.iter().enumerate() {
        for (b, &v) in row.iter().enumerate() {
            let v = if relu { _mm512_max_ps(v, z) } else { v };
            _mm512_storeu_ps(y.add(r * ys + b * BLOCK), v);
        }
    }
}

/// True when every value is finite.
///
/// # Safety
/// As [`f32_layer`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(crate) unsafe fn all_finite(x: &[f32]) -> bool {
    super::all_finite(x)
}

/// f32 layer (see `scalar::f32_layer` for the contract).
///
/// # Safety
/// The CPU must support the `avx512` kernel; `x`/`y` must hold `m` rows at their strides.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(crate) unsafe fn f32_layer(c: FloatCall<'_, PackedF32>) {
    let (m, blocks) = (c.m, c.l.blocks);
    drive::<_, Avx512>(&FloatArgs::new(c), m, blocks);
}

/// f16 layer: half weights widened with `vcvtph2ps`, f32 FMA.
///
/// # Safety
/// As [`f32_layer`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(crate) unsafe fn f16_layer(c: FloatCall<'_, PackedF16>) {
    let (m, blocks) = (c.m, c.l.blocks);
    drive::<_, Avx512>(&FloatArgs::new(c), m, blocks);
}

/// Quantize rows into the VNNI (+128 offset) form.
///
/// # Safety
/// As [`f32_layer`].
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(crate) unsafe fn quantize_rows(c: QuantCall<'_>) {
    let QuantCall { x, xs, k, m, q, qs, sx } = c;
    let full = k / 16;
    let abs_mask = _mm512_set1_epi32(0x7fff_ffff);
    for (r, sxr) in sx[..m].iter_mut().enumerate() {
        let row = x.as_ptr().add(r * xs);
        // Four independent max chains (max is exact, so the grouping does not matter).
        let abs = |c: usize| {
            _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(_mm512_loadu_ps(row.add(c * 16))), abs_mask))
        };
        let mut mx = [_mm512_setzero_ps(); 4];
        let mut c = 0;
        while c + 4 <= full {
            for (j, m) in mx.iter_mut().enumerate() {
                *m = _mm512_max_ps(*m, abs(c + j));
            }
            c += 4;
        }
        for c in c..full {
            mx[0] = _mm512_max_ps(mx[0], abs(c));
        }
        let mut amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(mx[0], mx[1]), _mm512_max_ps(mx[2], mx[3])));
        for i in full * 16..k {
            amax = amax.max((*row.add(i)).abs());
        }
        let (s, inv) = super::row_scale(amax);
        *sxr = s;
        let invv = _mm512_set1_ps(inv);
        let (lo, hi, off) = (_mm512_set1_epi32(-127), _mm512_set1_epi32(127), _mm512_set1_epi32(128));
        let qr = q.as_mut_ptr().add(r * qs);
        for c in 0..full {
            let v = _mm512_mul_ps(_mm512_loadu_ps(row.add(c * 16)), invv);
            // Round half to even explicitly (not through MXCSR), as `round_ties_even` does.
            let i = _mm512_cvt_roundps_epi32::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(v);
            let i = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(i, lo), hi), off);
            _mm_storeu_si128(qr.add(c * 16).cast(), _mm512_cvtepi32_epi8(i));
        }
        let tail = std::slice::from_raw_parts(row.add(full * 16), k - full * 16);
        super::quantize_row(
            tail,
            inv,
            std::slice::from_raw_parts_mut(qr.add(full * 16), super::padded(k) - full * 16),
            true,
        );
    }
}

impl Micro<IntArgs> for Avx512 {
    #[inline(always)]
    unsafe fn tile(a: &IntArgs, r0: usize, b0: usize, rh: usize, bw: usize) {
        let t = a.at(r0, b0);
        tile_table!(itile(t.q, a.qs, a.k4, t.w, t.corr, t.scale, t.bias, t.sx, t.y, a.ys, a.relu) at (rh, bw), in [
            (1, 1) (1, 2) (1, 3) (1, 4) (1, 8) (2, 1) (2, 2) (2, 3) (2, 4) (2, 8)
            (3, 1) (3, 2) (3, 3) (3, 4) (4, 1) (4, 2) (4, 3) (4, 4)
            (5, 1) (5, 2) (5, 3) (5, 4) (6, 1) (6, 2) (6, 3) (6, 4)])
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn itile<const R: usize, const B: usize>(
    q: *const u8,
    qs: usize,
    k4: usize,
    w: *const i8,
    corr: *const i32,
    scale: *const f32,
    bias: *const f32,
    sx: *const f32,
    y: *mut f32,
    ys: usize,
    relu: bool,
) {
    let mut acc = [[_mm512_setzero_si512(); B]; R];
    for g in 0..k4 {
        let mut wv = [_mm512_setzero_si512(); B];
        for (b, v) in wv.iter_mut().enumerate() {
            *v = _mm512_loadu_si512(w.add((b * k4 + g) * BLOCK * 4).cast());
        }
        for (r, row) in acc.iter_mut().enumerate() {
            let xb = _mm512_set1_epi32(q.add(r * qs + g * 4).cast::<i32>().read_unaligned());
            for b in 0..B {
                row[b] = _mm512_dpbusd_epi32(row[b], xb, wv[b]);
            }
        }
    }
    for b in 0..B {
        for (r, row) in acc.iter().enumerate() {
            dequant16(
                row[b],
                corr.add(b * BLOCK),
                scale.add(b * BLOCK),
                bias.add(b * BLOCK),
                *sx.add(r),
                y.add(r * ys + b * BLOCK),
                relu,
            );
        }
    }
}

/// `y[0..16] = relu?(((acc - corr) as f32) * (scale * sx) + bias)`: the documented dequantization, a
/// separate multiply and add (no FMA), shared with the AMX path so both round alike.
#[inline(always)]
pub(crate) unsafe fn dequant16(
    acc: __m512i,
    corr: *const i32,
    scale: *const f32,
    bias: *const f32,
    sx: f32,
    y: *mut f32,
    relu: bool,
) {
    let f = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc, _mm512_loadu_si512(corr.cast())));
    let comb = _mm512_mul_ps(_mm512_loadu_ps(scale), _mm512_set1_ps(sx));
    let mut v = _mm512_add_ps(_mm512_mul_ps(f, comb), _mm512_loadu_ps(bias));
    if relu {
        v = _mm512_max_ps(v, _mm512_setzero_ps());
    }
    _mm512_storeu_ps(y, v);
}

/// int8 layer over offset activations (see the parent module docs for the +128 correction).
///
/// # Safety
/// As [`f32_layer`]; `q` must hold `m` rows of `l.row_bytes()` at stride `qs`, `sx` `m` scales.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(crate) unsafe fn i8_layer(c: IntCall<'_>) {
    let (m, blocks) = (c.m, c.l.blocks);
    drive::<_, Avx512>(&IntArgs::new(c), m, blocks);
}
