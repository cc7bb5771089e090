//! CPU kernels for the forward passes, picked once at runtime from the CPU's features.
//!
//! Each instruction set gets one `#[inline(always)]` generic body (in `scalar`, `avx2`, `avx512`)
//! compiled through thin `#[target_feature]` wrappers, the pattern of bluss/matrixmultiply and
//! sonos/tract. [`Kernel::detect`] picks the best path the CPU has (cached in a `OnceLock`);
//! `L2_KERNEL=scalar|avx2|avxvnni|avx512` forces one, and forcing a path the CPU lacks is an error, never
//! a silent fallback. `L2_KERNEL=amx` is recognised and refused: no AMX kernel is built (the development
//! and CI hosts of this version have no AMX, so it could not be verified).
//!
//! All kernels read the same packed weight layouts (`pack`), built once at `Scorer::new`:
//! * f32 / f16: output blocks of 16 channels, `[block][input][16]`, so one 64-byte (f32) or 32-byte (f16)
//!   load feeds 16 output accumulators per input; an activation is broadcast.
//! * int8: `[block][input / 4][16][4]` bytes, the operand shape of `vpdpbusd` (each 32-bit lane multiplies
//!   4 activation bytes by 4 weight bytes and accumulates in i32).
//!
//! Int8 arithmetic is exact integer math, so every int8 path returns bit-identical scores:
//! * activations are quantized per row, symmetric: `s = max|x| / 127`, `q = round_half_even(x * (127 /
//!   max|x|))` clamped to [-127, 127] (an all-zero row gives `s = 0`, `q = 0`);
//! * `acc[o] = sum_i q[i] * w[o][i]` in i32 (at most 127 * 127 * inputs, far inside i32 for any layer
//!   below 130k inputs);
//! * dequantize: `y[o] = (acc[o] as f32) * (scale[o] * s) + bias[o]` with a separate multiply and add (no
//!   FMA, which would round differently), then ReLU on hidden layers, then the next layer quantizes `y`.
//!
//! VNNI's `vpdpbusd` multiplies *unsigned* activation bytes by signed weight bytes. The VNNI kernels
//! therefore store activations offset by +128 (`u = q + 128`, in [1, 255]) and subtract the precomputed
//! per-output correction `128 * sum_i w[o][i]` from the accumulator:
//! `sum u*w = sum q*w + 128 * sum w`. Products of 4 bytes fit an i32 lane without saturation
//! (`vpdpbusd`, not `vpdpbusds`). Plain AVX2 (no VNNI) uses `vpmaddubsw` with the sign trick instead:
//! `|q| * (w * sign(q))`, where a pair sum is at most `2 * 127 * 127 < 32767`, so the i16 saturation of
//! `vpmaddubsw` never triggers; `vpmaddwd` by ones widens to i32.
//!
//! f32 and f16 paths use FMA and a different summation grouping than the scalar reference, so their
//! scores agree with it within a tolerance, not bit for bit (tests: |score difference| <= 1e-5).

#[cfg(target_arch = "x86_64")]
pub(crate) mod avx2;
#[cfg(target_arch = "x86_64")]
pub(crate) mod avx512;
pub(crate) mod pack;
pub(crate) mod scalar;

use crate::error::{Error, Result};
use std::sync::OnceLock;

/// Rows processed together by a forward pass (bounds the per-thread scratch; a multiple of the tile
/// heights 4 and 6).
pub(crate) const CHUNK: usize = 96;

/// An instruction-set path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kernel {
    /// Portable Rust, no SIMD assumptions; the reference every other path is tested against.
    Scalar,
    /// AVX2 + FMA + F16C (int8 through `vpmaddubsw`).
    Avx2,
    /// AVX2 + FMA + F16C with AVX-VNNI (`vpdpbusd` on 256-bit vectors) for int8.
    AvxVnni,
    /// AVX-512 F/BW with AVX-512 VNNI.
    Avx512,
}

impl Kernel {
    /// Every kernel, best first.
    pub const ALL: [Kernel; 4] = [Kernel::Avx512, Kernel::AvxVnni, Kernel::Avx2, Kernel::Scalar];

    /// The name `L2_KERNEL` accepts.
    pub fn as_str(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Avx2 => "avx2",
            Kernel::AvxVnni => "avxvnni",
            Kernel::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run the path.
    pub fn supported(self) -> bool {
        match self {
            Kernel::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => {
                is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") && is_x86_feature_detected!("f16c")
            }
            #[cfg(target_arch = "x86_64")]
            Kernel::AvxVnni => Kernel::Avx2.supported() && is_x86_feature_detected!("avxvnni"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx512bw")
                    && is_x86_feature_detected!("avx512vnni")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The kernels this CPU supports, best first.
    pub fn available() -> Vec<Kernel> {
        Kernel::ALL.into_iter().filter(|k| k.supported()).collect()
    }

    /// The best kernel this CPU supports (ignores `L2_KERNEL`).
    pub fn detect() -> Kernel {
        Kernel::ALL.into_iter().find(|k| k.supported()).unwrap_or(Kernel::Scalar)
    }

    /// The process-wide choice: `L2_KERNEL` when set, else [`Kernel::detect`]. Computed once; an error
    /// when `L2_KERNEL` names an unknown path or one this CPU lacks.
    pub fn selected() -> Result<Kernel> {
        static CHOICE: OnceLock<std::result::Result<Kernel, (String, String)>> = OnceLock::new();
        CHOICE
            .get_or_init(|| match std::env::var("L2_KERNEL") {
                Ok(v) if !v.trim().is_empty() => {
                    let k: Kernel = v.parse().map_err(|e: Error| (v.clone(), e.to_string()))?;
                    if k.supported() {
                        Ok(k)
                    } else {
                        Err((v, format!("this CPU lacks the features of the {k} kernel")))
                    }
                }
                _ => Ok(Kernel::detect()),
            })
            .clone()
            .map_err(|(v, why)| Error::param("L2_KERNEL", v, why))
    }

    /// An error unless this CPU supports the path.
    pub fn require(self) -> Result<Kernel> {
        if self.supported() {
            Ok(self)
        } else {
            Err(Error::param("kernel", self, "this CPU lacks the features of this kernel"))
        }
    }
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Kernel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scalar" => Ok(Kernel::Scalar),
            "avx2" => Ok(Kernel::Avx2),
            "avxvnni" | "avx-vnni" => Ok(Kernel::AvxVnni),
            "avx512" | "avx-512" => Ok(Kernel::Avx512),
            "amx" => Err(Error::param(
                "L2_KERNEL",
                s,
                "no AMX kernel is built in this version (it could not be verified on hosts without AMX)",
            )),
            _ => Err(Error::param("L2_KERNEL", s, "expected scalar, avx2, avxvnni or avx512")),
        }
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

/// True when every value is finite (branch-free so it vectorises).
#[inline]
pub(crate) fn all_finite(x: &[f32]) -> bool {
    x.iter().fold(0u32, |a, v| a | u32::from(v.to_bits() & 0x7f80_0000 == 0x7f80_0000)) == 0
}
