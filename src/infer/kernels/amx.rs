//! AMX int8 microkernel: `tdpbusd` on tiles of 16 rows x 64 bytes, up to 2 x 2 accumulator tiles (32
//! rows x 32 outputs) per step, with the AVX-512 dequantization of the VNNI path (so scores are
//! bit-identical to it: the integer sums are exact either way).
//!
//! Operand layouts need no repacking: an A tile is 16 rows of the quantized activations (+128 offset,
//! `vpdpbusd`'s form) at their row stride, and a B tile is 16 groups of 4 inputs of one packed output
//! block (`[block][input / 4][16][4]`, 64 bytes per group), which is `tdpbusd`'s layout. `PackedI8` pads
//! the groups of 4 inputs to a multiple of 16 (zero weights), so every K step is a full tile.
//!
//! Below [`MIN_ROWS`] rows a 16-row tile would mostly compute padding: those chunks run the AVX-512
//! VNNI microkernel instead. The tile instructions are written with `asm!` (the AMX intrinsics and
//! target features are unstable in Rust 1.95); the tile registers are used by nothing else in the
//! process, and each layer call configures them (`ldtilecfg`) and releases them (`tilerelease`).

use super::avx512::{dequant16, Avx512};
use super::driver::{drive, IntArgs, IntTile, Micro};
use super::pack::BLOCK;
use super::IntCall;
use crate::cpu::tiling::fixed_shape;
use core::arch::asm;
use core::arch::x86_64::*;

/// Chunks of fewer rows use the AVX-512 VNNI microkernel.
pub(crate) const MIN_ROWS: usize = 16;

/// Rows of one tile.
const TROWS: usize = 16;

/// The AMX microkernel (see [`Micro`]).
pub(crate) struct Amx;

/// Palette 1, tiles 0-7 all 16 rows x 64 bytes: 0-3 accumulators (16 x 16 i32), 4-5 activations,
/// 6-7 weights.
#[repr(C, align(64))]
struct TileConfig([u8; 64]);

impl TileConfig {
    fn new() -> Self {
        let mut c = [0u8; 64];
        c[0] = 1;
        for t in 0..8 {
            c[16 + 2 * t..18 + 2 * t].copy_from_slice(&64u16.to_le_bytes());
            c[48 + t] = TROWS as u8;
        }
        TileConfig(c)
    }
}

fixed_shape!(Amx, units 2, rows 2 * TROWS);

impl Micro<IntArgs> for Amx {
    #[inline(always)]
    unsafe fn tile(a: &IntArgs, r0: usize, b0: usize, rh: usize, bw: usize) {
        let t = a.at(r0, b0);
        match (rh > TROWS, bw) {
            (false, 1) => amx_tile::<1, 1>(a, &t, rh),
            (false, _) => amx_tile::<1, 2>(a, &t, rh),
            (true, 1) => amx_tile::<2, 1>(a, &t, rh),
            (true, _) => amx_tile::<2, 2>(a, &t, rh),
        }
    }
}

/// `RT` activation tiles x `BT` weight tiles: accumulators `tmm(2 i + j)`.
#[inline(always)]
unsafe fn amx_tile<const RT: usize, const BT: usize>(a: &IntArgs, t: &IntTile, rh: usize) {
    let qs = a.qs;
    let wstride = 64usize;
    // The next output block's weights start k4 groups of 64 bytes later.
    let (w0, w1) = (t.w.cast::<u8>(), t.w.cast::<u8>().add(a.k4 * 64));
    asm!("tilezero tmm0", options(nostack));
    if BT == 2 {
        asm!("tilezero tmm1", options(nostack));
    }
    if RT == 2 {
        asm!("tilezero tmm2", options(nostack));
        if BT == 2 {
            asm!("tilezero tmm3", options(nostack));
        }
    }
    for kt in 0..a.k4 / 16 {
        let (qa, wb) = (t.q.add(kt * 64), kt * 16 * 64);
        asm!("tileloadd tmm4, [{p} + {s}*1]", p = in(reg) qa, s = in(reg) qs, options(nostack, readonly));
        asm!("tileloadd tmm6, [{p} + {s}*1]", p = in(reg) w0.add(wb), s = in(reg) wstride, options(nostack, readonly));
        asm!("tdpbusd tmm0, tmm4, tmm6", options(nostack, nomem));
        if BT == 2 {
            asm!("tileloadd tmm7, [{p} + {s}*1]", p = in(reg) w1.add(wb), s = in(reg) wstride, options(nostack, readonly));
            asm!("tdpbusd tmm1, tmm4, tmm7", options(nostack, nomem));
        }
        if RT == 2 {
            asm!("tileloadd tmm5, [{p} + {s}*1]", p = in(reg) qa.add(TROWS * qs), s = in(reg) qs, options(nostack, readonly));
            asm!("tdpbusd tmm2, tmm5, tmm6", options(nostack, nomem));
            if BT == 2 {
                asm!("tdpbusd tmm3, tmm5, tmm7", options(nostack, nomem));
            }
        }
    }
    #[repr(C, align(64))]
    struct Acc([[i32; TROWS * BLOCK]; 4]);
    // Written by `tilestored` before it is read (only the tiles this shape uses).
    let mut acc = std::mem::MaybeUninit::<Acc>::uninit();
    let c: *mut i32 = acc.as_mut_ptr().cast();
    let ct = |t: usize| c.add(t * TROWS * BLOCK);
    let cs = BLOCK * 4;
    asm!("tilestored [{p} + {s}*1], tmm0", p = in(reg) ct(0), s = in(reg) cs, options(nostack));
    if BT == 2 {
        asm!("tilestored [{p} + {s}*1], tmm1", p = in(reg) ct(1), s = in(reg) cs, options(nostack));
    }
    if RT == 2 {
        asm!("tilestored [{p} + {s}*1], tmm2", p = in(reg) ct(2), s = in(reg) cs, options(nostack));
        if BT == 2 {
            asm!("tilestored [{p} + {s}*1], tmm3", p = in(reg) ct(3), s = in(reg) cs, options(nostack));
        }
    }
    for i in 0..RT {
        for r in 0..rh.saturating_sub(i * TROWS).min(TROWS) {
            let row = i * TROWS + r;
            let sx = *t.sx.add(row);
            for j in 0..BT {
                let acc = _mm512_load_si512(ct(2 * i + j).add(r * BLOCK).cast());
                let o = j * BLOCK;
                dequant16(acc, t.corr.add(o), t.scale.add(o), t.bias.add(o), sx, t.y.add(row * a.ys + o), a.relu);
            }
        }
    }
}

/// int8 layer over +128 offset activations: AMX tiles from [`MIN_ROWS`] rows on, AVX-512 VNNI below.
///
/// # Safety
/// The CPU must support the `amx` kernel (which includes the OS permission for tile data), and the
/// call's lengths must have been checked (`Ops::i8_layer`).
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")]
pub(crate) unsafe fn i8_layer(c: IntCall<'_>) {
    let (m, blocks) = (c.m, c.l.blocks);
    debug_assert!(
        c.q.len() >= m.div_ceil(TROWS) * TROWS * c.qs && c.l.k4.is_multiple_of(16) && c.qs.is_multiple_of(64)
    );
    let args = IntArgs::new(c);
    if m < MIN_ROWS {
        drive::<_, Avx512>(&args, m, blocks);
        return;
    }
    let cfg = TileConfig::new();
    asm!("ldtilecfg [{p}]", p = in(reg) cfg.0.as_ptr(), options(nostack, readonly));
    drive::<_, Amx>(&args, m, blocks);
    asm!("tilerelease", options(nostack, nomem));
}
