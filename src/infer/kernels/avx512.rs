//! AVX-512 (F, BW, VNNI) path: register tiles of up to 6 rows x 4 blocks of 16 outputs (24 zmm
//! accumulators), or 2 rows x 8 blocks for batch 1-2 so enough independent FMA / `vpdpbusd` chains hide
//! their latency. Layer loops run output panels outer and row tiles inner, so a panel of weights stays
//! hot in L1/L2 across the rows of a chunk.

use super::pack::{PackedF16, PackedF32, PackedI8, BLOCK};
use core::arch::x86_64::*;

const RMAX: usize = 6;

/// Match a runtime (rows, blocks) pair to a const-generic tile; `$h` is the tile's first const parameter.
macro_rules! dispatch {
    ($f:ident, $h:tt, $r:expr, $b:expr, $args:tt) => {
        dispatch!(@arms $f, $h, ($r, $b), $args;
            (1, 1) (1, 2) (1, 3) (1, 4) (1, 8) (2, 1) (2, 2) (2, 3) (2, 4) (2, 8)
            (3, 1) (3, 2) (3, 3) (3, 4) (4, 1) (4, 2) (4, 3) (4, 4)
            (5, 1) (5, 2) (5, 3) (5, 4) (6, 1) (6, 2) (6, 3) (6, 4))
    };
    (@arms $f:ident, $h:tt, $rb:expr, $args:tt; $(($R:literal, $B:literal))*) => {
        match $rb {
            $(($R, $B) => $f::<$h, $R, $B> $args,)*
            _ => unreachable!("tile shape outside the dispatch table"),
        }
    };
}

/// Blocks per panel for `m` rows: wide panels for 1-2 rows, else 4 (the table has 1..=4 and 8).
#[inline(always)]
pub(crate) fn panel_blocks(m: usize, left: usize) -> usize {
    let want = if m <= 2 { 8 } else { 4 };
    match left.min(want) {
        n @ 1..=4 => n,
        8 => 8,
        _ => 4,
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn ftile<const H: bool, const R: usize, const B: usize>(
    x: *const f32,
    xs: usize,
    k: usize,
    w32: *const f32,
    w16: *const u16,
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
            let off = (b * k + i) * BLOCK;
            *v = if H {
                _mm512_cvtph_ps(_mm256_loadu_si256(w16.add(off).cast()))
            } else {
                _mm512_loadu_ps(w32.add(off))
            };
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

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn float_body<const H: bool>(
    x: &[f32],
    xs: usize,
    m: usize,
    k: usize,
    blocks: usize,
    w32: *const f32,
    w16: *const u16,
    bias: *const f32,
    y: &mut [f32],
    ys: usize,
    relu: bool,
) {
    debug_assert!(m == 0 || (x.len() >= (m - 1) * xs + k && y.len() >= (m - 1) * ys + blocks * BLOCK));
    let mut b0 = 0;
    while b0 < blocks {
        let bw = panel_blocks(m, blocks - b0);
        let mut r0 = 0;
        while r0 < m {
            let rh = (m - r0).min(if bw == 8 { 2 } else { RMAX });
            let args = (
                x.as_ptr().add(r0 * xs),
                xs,
                k,
                w32.wrapping_add(b0 * k * BLOCK),
                w16.wrapping_add(b0 * k * BLOCK),
                bias.add(b0 * BLOCK),
                y.as_mut_ptr().add(r0 * ys + b0 * BLOCK),
                ys,
                relu,
            );
            dispatch!(ftile, H, rh, bw, (args.0, args.1, args.2, args.3, args.4, args.5, args.6, args.7, args.8));
            r0 += rh;
        }
        b0 += bw;
    }
}

/// f32 layer (see `scalar::f32_layer` for the contract).
///
/// # Safety
/// The CPU must support AVX-512 F/BW/VNNI, FMA and F16C; `x`/`y` must hold `m` rows at their strides.
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
pub(crate) unsafe fn f32_layer(x: &[f32], xs: usize, m: usize, l: &PackedF32, y: &mut [f32], ys: usize, relu: bool) {
    float_body::<false>(
        x,
        xs,
        m,
        l.inputs,
        l.blocks,
        l.w.as_slice().as_ptr(),
        std::ptr::null(),
        l.bias.as_slice().as_ptr(),
        y,
        ys,
        relu,
    );
}

/// f16 layer: half weights widened with `vcvtph2ps`, f32 FMA.
///
/// # Safety
/// As [`f32_layer`].
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
pub(crate) unsafe fn f16_layer(x: &[f32], xs: usize, m: usize, l: &PackedF16, y: &mut [f32], ys: usize, relu: bool) {
    float_body::<true>(
        x,
        xs,
        m,
        l.inputs,
        l.blocks,
        std::ptr::null(),
        l.w.as_slice().as_ptr(),
        l.bias.as_slice().as_ptr(),
        y,
        ys,
        relu,
    );
}

/// Quantize rows into the VNNI (+128 offset) form.
///
/// # Safety
/// As [`f32_layer`].
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
pub(crate) unsafe fn quantize_rows(x: &[f32], xs: usize, k: usize, m: usize, q: &mut [u8], qs: usize, sx: &mut [f32]) {
    debug_assert!(m == 0 || (x.len() >= (m - 1) * xs + k && q.len() >= m * qs && qs >= k.div_ceil(4) * 4));
    let full = k / 16;
    let abs_mask = _mm512_set1_epi32(0x7fff_ffff);
    for (r, sxr) in sx[..m].iter_mut().enumerate() {
        let row = x.as_ptr().add(r * xs);
        let mut mx = _mm512_setzero_ps();
        for c in 0..full {
            let v =
                _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(_mm512_loadu_ps(row.add(c * 16))), abs_mask));
            mx = _mm512_max_ps(mx, v);
        }
        let mut amax = _mm512_reduce_max_ps(mx);
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
        super::quantize_row(tail, inv, std::slice::from_raw_parts_mut(qr.add(full * 16), qs - full * 16), true);
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn itile<const U: bool, const R: usize, const B: usize>(
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
    let z = _mm512_setzero_ps();
    for b in 0..B {
        let c = _mm512_loadu_si512(corr.add(b * BLOCK).cast());
        let sc = _mm512_loadu_ps(scale.add(b * BLOCK));
        let bi = _mm512_loadu_ps(bias.add(b * BLOCK));
        for (r, row) in acc.iter().enumerate() {
            let f = _mm512_cvtepi32_ps(_mm512_sub_epi32(row[b], c));
            let comb = _mm512_mul_ps(sc, _mm512_set1_ps(*sx.add(r)));
            let mut v = _mm512_add_ps(_mm512_mul_ps(f, comb), bi);
            if relu {
                v = _mm512_max_ps(v, z);
            }
            _mm512_storeu_ps(y.add(r * ys + b * BLOCK), v);
        }
    }
}

/// int8 layer over offset activations (see the parent module docs for the +128 correction).
///
/// # Safety
/// As [`f32_layer`]; `q` must hold `m` rows of `l.row_bytes()` at stride `qs`, `sx` `m` scales.
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni,avx2,fma,f16c")]
pub(crate) unsafe fn i8_layer(
    q: &[u8],
    qs: usize,
    sx: &[f32],
    m: usize,
    l: &PackedI8,
    y: &mut [f32],
    ys: usize,
    relu: bool,
) {
    debug_assert!(m == 0 || (q.len() >= (m - 1) * qs + l.row_bytes() && sx.len() >= m));
    debug_assert!(m == 0 || y.len() >= (m - 1) * ys + l.blocks * BLOCK);
    let w = l.w.as_slice().as_ptr();
    let mut b0 = 0;
    while b0 < l.blocks {
        let bw = panel_blocks(m, l.blocks - b0);
        let mut r0 = 0;
        while r0 < m {
            let rh = (m - r0).min(if bw == 8 { 2 } else { RMAX });
            let args = (
                q.as_ptr().add(r0 * qs),
                qs,
                l.k4,
                w.add(b0 * l.k4 * BLOCK * 4),
                l.corr.as_slice().as_ptr().add(b0 * BLOCK),
                l.scale.as_slice().as_ptr().add(b0 * BLOCK),
                l.bias.as_slice().as_ptr().add(b0 * BLOCK),
                sx.as_ptr().add(r0),
                y.as_mut_ptr().add(r0 * ys + b0 * BLOCK),
                ys,
                relu,
            );
            dispatch!(
                itile,
                true,
                rh,
                bw,
                (args.0, args.1, args.2, args.3, args.4, args.5, args.6, args.7, args.8, args.9, args.10)
            );
            r0 += rh;
        }
        b0 += bw;
    }
}
