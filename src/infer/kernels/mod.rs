//! CPU kernels for the forward passes, picked once per scorer from the CPU's features.
//!
//! [`Kernel`] (in `crate::cpu`) names the paths and probes the CPU; [`Ops::new`] turns a kernel into a
//! table of layer functions, chosen once, so that scoring never matches on the instruction set (the
//! op-table idea of sonos/tract). Each SIMD path is a zero-sized microkernel type (`avx2::Avx2`,
//! `avx512::Avx512`, `amx::Amx`) run by the one tiling driver in `driver`, instantiated inside thin
//! `#[target_feature]` entry points, the pattern of bluss/matrixmultiply.
//!
//! All kernels read the same packed weight layouts (`pack`), built once at `Scorer::new`:
//! * f32 / f16: output blocks of 16 channels, `[block][input][16]`, so one 64-byte (f32) or 32-byte (f16)
//!   load feeds 16 output accumulators per input; an activation is broadcast. The `avx512fp16` path packs
//!   f16 weights in blocks of 32 (one 64-byte vector of halves).
//! * int8: `[block][input / 4][16][4]` bytes, the operand shape of `vpdpbusd` (each 32-bit lane multiplies
//!   4 activation bytes by 4 weight bytes and accumulates in i32) and of the AMX `tdpbusd` B tile; the
//!   inputs are padded with zero weights to a multiple of 64 (whole AMX tiles).
//!
//! Int8 arithmetic is exact integer math, so every int8 path returns bit-identical scores:
//! * activations are quantized per row, symmetric: `s = max|x| / 127`, `q = round_half_even(x * (127 /
//!   max|x|))` clamped to [-127, 127] (an all-zero row gives `s = 0`, `q = 0`);
//! * `acc[o] = sum_i q[i] * w[o][i]` in i32 (at most 127 * 127 * inputs, far inside i32 for any layer
//!   below 130k inputs);
//! * dequantize: `y[o] = (acc[o] as f32) * (scale[o] * s) + bias[o]` with a separate multiply and add (no
//!   FMA, which would round differently), then ReLU on hidden layers, then the next layer quantizes `y`.
//!
//! VNNI's `vpdpbusd` and AMX's `tdpbusd` multiply *unsigned* activation bytes by signed weight bytes.
//! Those kernels therefore store activations offset by +128 (`u = q + 128`, in [1, 255]) and subtract the
//! precomputed per-output correction `128 * sum_i w[o][i]` from the accumulator:
//! `sum u*w = sum q*w + 128 * sum w`. Products of 4 bytes fit an i32 lane without saturation
//! (`vpdpbusd`, not `vpdpbusds`). Plain AVX2 (no VNNI) uses `vpmaddubsw` with the sign trick instead:
//! `|q| * (w * sign(q))`, where a pair sum is at most `2 * 127 * 127 < 32767`, so the i16 saturation of
//! `vpmaddubsw` never triggers; `vpmaddwd` by ones widens to i32.
//!
//! f32 and f16 paths use FMA and a different summation grouping than the scalar reference, so their
//! scores agree with it within a tolerance, not bit for bit (tests: |score difference| <= 1e-5). The
//! opt-in `avx512fp16` f16 path multiplies in half precision (see `fp16`), with its own documented
//! tolerance.

#[cfg(target_arch = "x86_64")]
pub(crate) mod amx;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
pub(crate) mod driver;
#[cfg(target_arch = "x86_64")]
pub(crate) mod fp16;
pub(crate) mod pack;
pub(crate) mod scalar;

use crate::error::Result;
use pack::{PackedF16, PackedF32, PackedI8};

pub use crate::cpu::Kernel;

/// Rows processed together by a forward pass (bounds the per-thread scratch; a multiple of the tile
/// heights 4, 6 and 16).
pub(crate) const CHUNK: usize = 96;

/// One float layer: rows `0..m` of `y` (row stride `ys`, all `blocks * 16` columns written) =
/// `relu?(x W + bias)` from rows of `x` (row stride `xs`, `l.inputs` values each).
pub(crate) struct FloatCall<'a, P> {
    pub x: &'a [f32],
    pub xs: usize,
    pub m: usize,
    pub l: &'a P,
    pub y: &'a mut [f32],
    pub ys: usize,
    pub relu: bool,
}

/// Quantize rows `0..m` of `x` (first `k` values, row stride `xs`) into bytes `q` (row stride `qs`,
/// padded to [`padded`]`(k)`), scales into `sx`.
pub(crate) struct QuantCall<'a> {
    pub x: &'a [f32],
    pub xs: usize,
    pub k: usize,
    pub m: usize,
    pub q: &'a mut [u8],
    pub qs: usize,
    pub sx: &'a mut [f32],
}

/// One int8 layer over rows quantized by a [`QuantCall`] of the same kernel; `y` as in [`FloatCall`].
/// `q` holds `m` rows rounded up to a multiple of 16 (AMX reads whole tiles; the extra rows' results
/// are discarded).
pub(crate) struct IntCall<'a> {
    pub q: &'a [u8],
    pub qs: usize,
    pub sx: &'a [f32],
    pub m: usize,
    pub l: &'a PackedI8,
    pub y: &'a mut [f32],
    pub ys: usize,
    pub relu: bool,
}

impl<P: pack::Layout> FloatCall<'_, P> {
    fn check(&self) {
        let (m, l) = (self.m, self.l);
        assert!(
            m == 0 || (self.x.len() >= (m - 1) * self.xs + l.inputs() && self.y.len() >= (m - 1) * self.ys + l.width()),
            "float layer: short buffers"
        );
    }
}

impl QuantCall<'_> {
    fn check(&self) {
        let m = self.m;
        assert!(
            m <= self.sx.len()
                && self.qs >= padded(self.k)
                && (m == 0 || (self.x.len() >= (m - 1) * self.xs + self.k && self.q.len() >= m * self.qs)),
            "quantize_rows: short buffers"
        );
    }
}

impl IntCall<'_> {
    fn check(&self) {
        let (m, l) = (self.m, self.l);
        assert!(
            m <= self.sx.len()
                && self.qs >= l.row_bytes()
                && self.q.len() >= m.div_ceil(16) * 16 * self.qs
                && (m == 0 || self.y.len() >= (m - 1) * self.ys + pack::Layout::width(l)),
            "i8_layer: short buffers"
        );
    }
}

type Check = unsafe fn(&[f32]) -> bool;
type FloatLayer<P> = unsafe fn(FloatCall<'_, P>);
type Quantize = unsafe fn(QuantCall<'_>);
type IntLayer = unsafe fn(IntCall<'_>);

/// The layer functions of one kernel, chosen once ([`Ops::new`]). An `Ops` exists only for a kernel
/// this CPU supports, which is what makes calling its `#[target_feature]` entries sound; the methods
/// check the buffer lengths the entries rely on.
pub(crate) struct Ops {
    kernel: Kernel,
    all_finite: Check,
    f32_layer: FloatLayer<PackedF32>,
    f16_layer: FloatLayer<PackedF16>,
    quantize_rows: Quantize,
    i8_layer: IntLayer,
    /// Output lanes per group of the f16 weight packing this kernel reads.
    f16_lanes: usize,
}

impl std::fmt::Debug for Ops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ops({})", self.kernel)
    }
}

static SCALAR: Ops = Ops {
    kernel: Kernel::Scalar,
    all_finite: scalar::all_finite,
    f32_layer: scalar::f32_layer,
    f16_layer: scalar::f16_layer,
    quantize_rows: scalar::quantize_rows,
    i8_layer: scalar::i8_layer,
    f16_lanes: pack::BLOCK,
};

#[cfg(target_arch = "x86_64")]
static AVX2: Ops = Ops {
    kernel: Kernel::Avx2,
    all_finite: avx2::all_finite,
    f32_layer: avx2::f32_layer,
    f16_layer: avx2::f16_layer,
    quantize_rows: avx2::quantize_rows,
    i8_layer: avx2::i8_layer,
    f16_lanes: pack::BLOCK,
};

#[cfg(target_arch = "x86_64")]
static AVXVNNI: Ops =
    Ops { kernel: Kernel::AvxVnni, quantize_rows: avx2::quantize_rows_offset, i8_layer: avx2::i8_layer_vnni, ..AVX2 };

#[cfg(target_arch = "x86_64")]
static AVX512: Ops = Ops {
    kernel: Kernel::Avx512,
    all_finite: avx512::all_finite,
    f32_layer: avx512::f32_layer,
    f16_layer: avx512::f16_layer,
    quantize_rows: avx512::quantize_rows,
    i8_layer: avx512::i8_layer,
    f16_lanes: pack::BLOCK,
};

#[cfg(target_arch = "x86_64")]
static AVX512FP16: Ops =
    Ops { kernel: Kernel::Avx512Fp16, f16_layer: fp16::f16_layer, f16_lanes: fp16::LANES, ..AVX512 };

#[cfg(target_arch = "x86_64")]
static AMX: Ops = Ops { kernel: Kernel::Amx, i8_layer: amx::i8_layer, ..AVX512 };

impl Ops {
    /// The table of `kernel`; an error when this CPU lacks it.
    pub(crate) fn new(kernel: Kernel) -> Result<&'static Ops> {
        Ok(match kernel.require()? {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => &AVX2,
            #[cfg(target_arch = "x86_64")]
            Kernel::AvxVnni => &AVXVNNI,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => &AVX512,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512Fp16 => &AVX512FP16,
            #[cfg(target_arch = "x86_64")]
            Kernel::Amx => &AMX,
            _ => &SCALAR,
        })
    }

    /// The kernel of this table.
    pub(crate) fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Output lanes per group of the f16 packing this kernel reads ([`PackedF16::new`]).
    pub(crate) fn f16_lanes(&self) -> usize {
        self.f16_lanes
    }

    /// True when every value of `x` is finite.
    pub(crate) fn all_finite(&self, x: &[f32]) -> bool {
        // SAFETY: the table exists only for a supported kernel (`Ops::new`).
        unsafe { (self.all_finite)(x) }
    }

    /// An f32 layer.
    pub(crate) fn f32_layer(&self, c: FloatCall<'_, PackedF32>) {
        c.check();
        // SAFETY: the table exists only for a supported kernel (`Ops::new`); lengths checked above.
        unsafe { (self.f32_layer)(c) }
    }

    /// An f16 layer.
    pub(crate) fn f16_layer(&self, c: FloatCall<'_, PackedF16>) {
        c.check();
        assert_eq!(c.l.lanes, self.f16_lanes, "f16 layer packed for another kernel");
        // SAFETY: as in `f32_layer`.
        unsafe { (self.f16_layer)(c) }
    }

    /// Quantize rows into this kernel's byte form.
    pub(crate) fn quantize_rows(&self, c: QuantCall<'_>) {
        c.check();
        // SAFETY: as in `f32_layer`.
        unsafe { (self.quantize_rows)(c) }
    }

    /// An int8 layer.
    pub(crate) fn i8_layer(&self, c: IntCall<'_>) {
        c.check();
        // SAFETY: as in `f32_layer`.
        unsafe { (self.i8_layer)(c) }
    }
}

/// Per-row symmetric int8 quantization parameters of `y` (`len` values): `(scale, 127 / max|y|)`, both 0
/// for an all-zero row. Shared by every kernel so the integer inputs are identical.
#[inline(always)]
pub(crate) fn row_scale(absmax: f32) -> (f32, f32) {
    if absmax > 0.0 {
        (absmax / 127.0, 127.0 / absmax)
    } else {
        (0.0, 0.0)
    }
}

/// Largest |v|, order-independent (max is exact), written so compilers vectorise it.
#[inline(always)]
pub(crate) fn absmax(v: &[f32]) -> f32 {
    let mut m = [0f32; 16];
    let mut chunks = v.chunks_exact(16);
    for c in &mut chunks {
        for j in 0..16 {
            m[j] = m[j].max(c[j].abs());
        }
    }
    for (j, x) in chunks.remainder().iter().enumerate() {
        m[j] = m[j].max(x.abs());
    }
    m.iter().fold(0f32, |a, &b| a.max(b))
}

/// Bytes of a quantized row of `k` values: `k` rounded up to whole AMX tiles of 64 (see `pack`).
#[inline(always)]
pub(crate) fn padded(k: usize) -> usize {
    k.div_ceil(64) * 64
}

/// Quantize `y` with `inv = 127 / max|y|` into `q` (padded tail zeroed); `offset` adds 128 (VNNI form).
#[inline(always)]
pub(crate) fn quantize_row(y: &[f32], inv: f32, q: &mut [u8], offset: bool) {
    let add = if offset { 128i32 } else { 0 };
    for (d, &v) in q.iter_mut().zip(y) {
        let r = (v * inv).round_ties_even().clamp(-127.0, 127.0) as i32;
        *d = (r + add) as u8;
    }
    for d in q.iter_mut().skip(y.len()) {
        *d = add as u8;
    }
}

/// True when every value is finite (branch-free so it vectorises; each kernel compiles its own copy).
#[inline(always)]
pub(crate) fn all_finite(x: &[f32]) -> bool {
    x.iter().fold(0u32, |a, v| a | u32::from(v.to_bits() & 0x7f80_0000 == 0x7f80_0000)) == 0
}
