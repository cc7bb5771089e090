//! AVX2 + FMA + F16C microkernels (16 ymm registers): tiles of up to 6 rows x 1 block of 16 outputs
//! (12 accumulators), or 2 rows x 2 blocks for batch 1-2. int8 uses AVX-VNNI `vpdpbusd` in
//! `Avx2<true>` (the `avxvnni` kernel) and `vpmaddubsw` with the sign trick in `Avx2<false>` (see the
//! parent module docs).

use super::driver::{drive, tile_table, FloatArgs, IntArgs, Micro, Shape};
use super::pack::{PackedF16, PackedF32, BLOCK};
use super::{FloatCall, IntCall, QuantCall};
use core::arch::x86_64::*;

const RMAX: usize = 6;

/// The AVX2 microkernel; `V` selects AVX-VNNI for int8 (see [`Micro`]).
pub(crate) struct Avx2<const V: bool>;

#[inline(always)]
fn shape(m: usize, r_left: usize, b_left: usize) -> (usize, usize) {
    if m <= 2 {
        (r_left.min(2), b_left.min(2))
    } else {
        (r_left.min(RMAX), 1)
    }
}

/// A float weight element, widened to 8 f32 lanes.
pub(crate) trait Wide8: Copy {
    /// # Safety
    /// `p` points at 8 readable elements; the CPU has AVX2 and F16C.
    unsafe fn load8(p: *const Self) -> __m256;
}

impl Wide8 for f32 {
    #[inline(always)]
    unsafe fn load8(p: *const f32) -> __m256 {
        _mm256_loadu_ps(p)
    }
}

impl Wide8 for u16 {
    #[inline(always)]
    unsafe fn load8(p: *const u16) -> __m256 {
        _mm256_cvtph_ps(_mm_loadu_si128(p.cast()))
    }
}

impl<const V: bool> Shape for Avx2<V> {
    #[inline(always)]
    fn panel(m: usize, left: usize) -> usize {
        shape(m, m, left).1
    }
    #[inline(always)]
    fn rows(m: usize, left: usize, bw: usize) -> usize {
        shape(m, left, bw).0
    }
}

impl<W: Wide8, const V: bool> Micro<FloatArgs<W>> for Avx2<V> {
    #[inline(always)]
    unsafe fn tile(a: &FloatArgs<W>, r0: usize, b0: usize, rh: usize, bw: usize) {
        let (x, w, bias, y) = a.at(r0, b0);
        tile_table!(ftile::<W>(x, a.xs, a.k, w, bias, y, a.ys, a.relu) at (rh, bw), in [
            (1, 1) (1, 2) (2, 1) (2, 2) (3, 1) (4, 1) (5, 1) (6, 1)])
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn ftile<W: Wide8, const R: usize, const B: usize>(
    x: *const f32,
    xs: usize,
    k: usize,
    w: *const W,
    bias: *const f32,
    y: *mut f32,
    ys: usize,
    relu: bool,
) {
    let mut acc = [[[_mm256_setzero_ps(); 2]; B]; R];
    for b in 0..B {
        for h in 0..2 {
            let bv = _mm256_loadu_ps(bias.add(b * BLOCK + h * 8));
            for row in acc.iter_mut() {
                row[b][h] = bv;
            }
        }
    }
    for i in 0..k {
        let mut wv = [[_mm256_setzero_ps(); 2]; B];
        for (b, v) in wv.iter_mut().enumerate() {
            for (h, vh) in v.iter_mut().enumerate() {
                *vh = W::load8(w.add((b * k + i) * BLOCK + h * 8));
            }
        }
        for (r, row) in acc.iter_mut().enumerate() {
            let xv = _mm256_set1_ps(*x.add(r * xs + i));
            for b in 0..B {
                for h in 0..2 {
                    row[b][h] = _mm256_fmadd_ps(xv, wv[b][h], row[b][h]);
                }
            }
        }
    }
    let z = _mm256_setzero_ps();
    for (r, row) in acc.iter().enumerate() {
        for (b, blk) in row.iter().enumerate() {
            for (h, &v) in blk.iter().enumerate() {
                let v = if relu { _mm256_max_ps(v, z) } else { v };
                _mm256_storeu_ps(y.add(r * ys + b * BLOCK + h * 8), v);
            }
        }
    }
}

/// True when every value is finite.
///
/// # Safety
/// As [`f32_layer`].
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn all_finite(x: &[f32]) -> bool {
    super::all_finite(x)
}

/// f32 layer (see `scalar::f32_layer` for the contract).
///
/// # Safety
/// The CPU must support AVX2, FMA and F16C; `x`/`y` must hold `m` rows at their strides.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn f32_layer(c: FloatCall<'_, PackedF32>) {
    let (m, blocks) = (c.m, c.l.blocks);
    drive::<_, Avx2<false>>(&FloatArgs::new(c), m, blocks);
}

/// f16 layer: half weights widened with `vcvtph2ps`.
///
/// # Safety
/// As [`f32_layer`].
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn f16_layer(c: FloatCall<'_, PackedF16>) {
    let (m, blocks) = (c.m, c.l.blocks);
    drive::<_, Avx2<false>>(&FloatArgs::new(c), m, blocks);
}

/// Quantize rows into signed bytes (plain AVX2).
///
/// # Safety
/// As [`f32_layer`].
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn quantize_rows(c: QuantCall<'_>) {
    quantize_body(c, false);
}

/// Quantize rows into +128 offset bytes (AVX-VNNI).
///
/// # Safety
/// As [`f32_layer`].
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn quantize_rows_offset(c: QuantCall<'_>) {
    quantize_body(c, true);
}

#[inline(always)]
unsafe fn quantize_body(c: QuantCall<'_>, offset: bool) {
    let QuantCall { x, xs, k, m, q, qs, sx } = c;
    let full = k / 8;
    let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    for (r, sxr) in sx[..m].iter_mut().enumerate() {
        let row = x.as_ptr().add(r * xs);
        let mut mx = _mm256_setzero_ps();
        for c in 0..full {
            mx = _mm256_max_ps(mx, _mm256_and_ps(_mm256_loadu_ps(row.add(c * 8)), abs_mask));
        }
        let mut lanes = [0f32; 8];
        _mm256_storeu_ps(lanes.as_mut_ptr(), mx);
        let mut amax = lanes.iter().fold(0f32, |a, &b| a.max(b));
        for i in full * 8..k {
            amax = amax.max((*row.add(i)).abs());
        }
        let (s, inv) = super::row_scale(amax);
        *sxr = s;
        let invv = _mm256_set1_ps(inv);
        let (lo, hi) = (_mm256_set1_epi32(-127), _mm256_set1_epi32(127));
        let off = _mm256_set1_epi32(if offset { 128 } else { 0 });
        let qr = q.as_mut_ptr().add(r * qs);
        for c in 0..full {
            let v = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
                _mm256_loadu_ps(row.add(c * 8)),
                invv,
            ));
            let i = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(_mm256_cvttps_epi32(v), lo), hi), off);
            // Pack 8 i32 (each in [0, 255] or [-127, 127]) to 8 bytes: keep the low byte of each lane.
            let b = _mm256_shuffle_epi8(
                i,
                _mm256_setr_epi8(
                    0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1, -1, -1, -1, -1, -1,
                    -1, -1, -1, -1, -1, -1,
                ),
            );
            let lo4 = _mm256_extract_epi32::<0>(b) as u32;
            let hi4 = _mm256_extract_epi32::<4>(b) as u32;
            qr.add(c * 8).cast::<u64>().write_unaligned(u64::from(lo4) | (u64::from(hi4) << 32));
        }
        let tail = std::slice::from_raw_parts(row.add(full * 8), k - full * 8);
        super::quantize_row(
            tail,
            inv,
            std::slice::from_raw_parts_mut(qr.add(full * 8), super::padded(k) - full * 8),
            offset,
        );
    }
}

#[inline(always)]
unsafe fn dot4<const V: bool>(acc: __m256i, x: __m256i, ax: __m256i, w: __m256i) -> __m256i {
    if V {
        _mm256_dpbusd_avx_epi32(acc, x, w)
    } else {
        let p = _mm256_maddubs_epi16(ax, _mm256_sign_epi8(w, x));
        _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)))
    }
}

impl<const V: bool> Micro<IntArgs> for Avx2<V> {
    #[inline(always)]
    unsafe fn tile(a: &IntArgs, r0: usize, b0: usize, rh: usize, bw: usize) {
        let t = a.at(r0, b0);
        tile_table!(itile::<V>(t.q, a.qs, a.k4, t.w, t.corr, t.scale, t.bias, t.sx, t.y, a.ys, a.relu) at (rh, bw), in [
            (1, 1) (1, 2) (2, 1) (2, 2) (3, 1) (4, 1) (5, 1) (6, 1)])
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn itile<const V: bool, const R: usize, const B: usize>(
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
    let mut acc = [[[_mm256_setzero_si256(); 2]; B]; R];
    for g in 0..k4 {
        let mut wv = [[_mm256_setzero_si256(); 2]; B];
        for (b, v) in wv.iter_mut().enumerate() {
            let base = w.add((b * k4 + g) * BLOCK * 4);
            v[0] = _mm256_loadu_si256(base.cast());
            v[1] = _mm256_loadu_si256(base.add(32).cast());
        }
        for (r, row) in acc.iter_mut().enumerate() {
            let xb = _mm256_set1_epi32(q.add(r * qs + g * 4).cast::<i32>().read_unaligned());
            let ax = if V { xb } else { _mm256_abs_epi8(xb) };
            for b in 0..B {
                for h in 0..2 {
                    row[b][h] = dot4::<V>(row[b][h], xb, ax, wv[b][h]);
                }
            }
        }
    }
    let z = _mm256_setzero_ps();
    for b in 0..B {
        for h in 0..2 {
            let o = b * BLOCK + h * 8;
            let c = if V { _mm256_loadu_si256(corr.add(o).cast()) } else { _mm256_setzero_si256() };
            let sc = _mm256_loadu_ps(scale.add(o));
            let bi = _mm256_loadu_ps(bias.add(o));
            for (r, row) in acc.iter().enumerate() {
                let f = _mm256_cvtepi32_ps(_mm256_sub_epi32(row[b][h], c));
                let comb = _mm256_mul_ps(sc, _mm256_set1_ps(*sx.add(r)));
                let mut v = _mm256_add_ps(_mm256_mul_ps(f, comb), bi);
                if relu {
                    v = _mm256_max_ps(v, z);
                }
                _mm256_storeu_ps(y.add(r * ys + o), v);
            }
        }
    }
}

/// int8 layer over signed activations (`vpmaddubsw` sign trick).
///
/// # Safety
/// As [`f32_layer`]; `q` must hold `m` rows of `l.row_bytes()` at stride `qs`, `sx` `m` scales.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn i8_layer(c: IntCall<'_>) {
    let (m, blocks) = (c.m, c.l.blocks);
    drive::<_, Avx2<false>>(&IntArgs::new(c), m, blocks);
}

/// int8 layer over +128 offset activations with AVX-VNNI.
///
/// # Safety
/// As [`i8_layer`], and the CPU must support AVX-VNNI.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,fma,f16c,avxvnni")]
pub(crate) unsafe fn i8_layer_vnni(c: IntCall<'_>) {
    let (m, blocks) = (c.m, c.l.blocks);
    drive::<_, Avx2<true>>(&IntArgs::new(c), m, blocks);
}
