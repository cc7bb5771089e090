//! The CPU paths every compute kernel of the crate (inference and training) is built for: one feature
//! probe, one naming scheme, one environment variable.
//!
//! A [`Kernel`] names an instruction-set level. [`Kernel::detect`] picks the best one this CPU (and, for
//! AMX, this operating system) supports; `L2_KERNEL=scalar|avx2|avxvnni|avx512|avx512fp16|amx` forces
//! one for the whole process, for scoring and training alike. Forcing a path the CPU lacks is an error,
//! never a silent fallback. What each level runs:
//!
//! | kernel | requires | inference | training |
//! |---|---|---|---|
//! | `scalar` | nothing | portable reference | portable loops |
//! | `avx2` | AVX2, FMA, F16C | f32/f16 FMA, int8 `vpmaddubsw` | AVX2 GEMM |
//! | `avxvnni` | `avx2` + AVX-VNNI | as `avx2`, int8 `vpdpbusd` (256-bit) | as `avx2` |
//! | `avx512` | `avx2` + AVX-512 F/BW/VL/VNNI | f32/f16 FMA, int8 `vpdpbusd` (512-bit) | AVX-512 GEMM |
//! | `amx` | `avx512` + AMX-TILE/INT8, Linux XTILEDATA permission | as `avx512`, int8 in AMX tiles (`tdpbusd`) from 16 rows on | as `avx512` |
//! | `avx512fp16` | `avx512` + AVX512-FP16 | as `avx512`, f16 *in half-precision arithmetic* | as `avx512` |
//!
//! `avx512fp16` is the one path that changes the numbers beyond summation order (its f16 scores are
//! within 5e-3 of the f32-arithmetic paths, see `infer::kernels::fp16`), so [`Kernel::detect`] never
//! picks it: a process opts in with `L2_KERNEL=avx512fp16`. Every kernel except `scalar` is x86-64
//! only. AMX needs the kernel's permission to use the tile data state: [`amx_permitted`] asks for it
//! once per process (`arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)`); a refusal makes the `amx`
//! kernel unavailable.

pub mod tiling;

use crate::error::{Error, Result};
use std::sync::OnceLock;

/// The environment variable that forces a [`Kernel`] for the process.
pub const KERNEL_ENV: &str = "L2_KERNEL";

/// An instruction-set path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kernel {
    /// Portable Rust, no SIMD assumptions; the reference every other path is tested against.
    Scalar,
    /// AVX2 + FMA + F16C.
    Avx2,
    /// AVX2 + FMA + F16C with AVX-VNNI (`vpdpbusd` on 256-bit vectors) for int8.
    AvxVnni,
    /// AVX-512 F/BW/VL with AVX-512 VNNI.
    Avx512,
    /// `Avx512` with AVX512-FP16: f16 layers in half-precision arithmetic (opt-in, never detected).
    Avx512Fp16,
    /// `Avx512` with AMX tiles (TILE, INT8) for batched int8.
    Amx,
}

impl Kernel {
    /// Every kernel: the order of [`Kernel::detect`]'s preference, then the opt-in `avx512fp16`.
    pub const ALL: [Kernel; 6] =
        [Kernel::Amx, Kernel::Avx512, Kernel::AvxVnni, Kernel::Avx2, Kernel::Scalar, Kernel::Avx512Fp16];

    /// The name `L2_KERNEL` accepts.
    pub fn as_str(self) -> &'static str {
        match self {
            Kernel::Scalar => "scalar",
            Kernel::Avx2 => "avx2",
            Kernel::AvxVnni => "avxvnni",
            Kernel::Avx512 => "avx512",
            Kernel::Avx512Fp16 => "avx512fp16",
            Kernel::Amx => "amx",
        }
    }

    /// Whether this CPU (and for `Amx`, the operating system) can run the path.
    pub fn supported(self) -> bool {
        let f = features();
        match self {
            Kernel::Scalar => true,
            Kernel::Avx2 => f.avx2 && f.fma && f.f16c,
            Kernel::AvxVnni => Kernel::Avx2.supported() && f.avxvnni,
            Kernel::Avx512 => Kernel::Avx2.supported() && f.avx512f && f.avx512bw && f.avx512vl && f.avx512vnni,
            Kernel::Avx512Fp16 => Kernel::Avx512.supported() && f.avx512fp16,
            Kernel::Amx => Kernel::Avx512.supported() && f.amx_tile && f.amx_int8 && amx_permitted(),
        }
    }

    /// The kernels this CPU supports, in [`Kernel::ALL`]'s order.
    pub fn available() -> Vec<Kernel> {
        Kernel::ALL.into_iter().filter(|k| k.supported()).collect()
    }

    /// Whether [`Kernel::detect`] may pick this kernel (all but the opt-in `avx512fp16`).
    pub fn detectable(self) -> bool {
        self != Kernel::Avx512Fp16
    }

    /// The best kernel this CPU supports, `avx512fp16` aside (ignores `L2_KERNEL`).
    pub fn detect() -> Kernel {
        Kernel::ALL.into_iter().find(|k| k.detectable() && k.supported()).unwrap_or(Kernel::Scalar)
    }

    /// The process-wide choice: `L2_KERNEL` when set, else [`Kernel::detect`]. Computed once; an error
    /// when `L2_KERNEL` names an unknown path or one this CPU lacks.
    pub fn selected() -> Result<Kernel> {
        static CHOICE: OnceLock<std::result::Result<Kernel, (String, String)>> = OnceLock::new();
        CHOICE
            .get_or_init(|| match std::env::var(KERNEL_ENV) {
                Ok(v) if !v.trim().is_empty() => {
                    let k: Kernel = v.parse().map_err(|e: Error| (v.clone(), e.to_string()))?;
                    k.require().map_err(|e| (v, e.to_string()))
                }
                _ => Ok(Kernel::detect()),
            })
            .clone()
            .map_err(|(v, why)| Error::param(KERNEL_ENV, v, why))
    }

    /// `self`, or an error naming what this CPU lacks.
    pub fn require(self) -> Result<Kernel> {
        if self.supported() {
            Ok(self)
        } else {
            let why = if self == Kernel::Amx && Kernel::Avx512.supported() && features().amx_int8 {
                "the operating system refused AMX tile data (arch_prctl ARCH_REQ_XCOMP_PERM)"
            } else {
                "this CPU lacks the features of this kernel"
            };
            Err(Error::param("kernel", self, why))
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
        let name = s.trim().to_ascii_lowercase().replace('-', "");
        Kernel::ALL.into_iter().find(|k| k.as_str() == name).ok_or_else(|| {
            let names: Vec<_> = Kernel::ALL.iter().rev().map(|k| k.as_str()).collect();
            Error::param(KERNEL_ENV, s, format!("expected one of {}", names.join(", ")))
        })
    }
}

/// The CPU features the kernels use, read once.
#[derive(Debug, Clone, Copy, Default)]
struct Features {
    avx2: bool,
    fma: bool,
    f16c: bool,
    avxvnni: bool,
    avx512f: bool,
    avx512bw: bool,
    avx512vl: bool,
    avx512vnni: bool,
    avx512fp16: bool,
    amx_tile: bool,
    amx_int8: bool,
}

fn features() -> Features {
    static F: OnceLock<Features> = OnceLock::new();
    *F.get_or_init(probe)
}

#[cfg(target_arch = "x86_64")]
fn probe() -> Features {
    // std's detection does not cover AMX on stable Rust: read CPUID leaf 7 (EDX bit 24 AMX-TILE, bit 25
    // AMX-INT8) and check that the OS enabled the tile state in XCR0 (bits 17 XTILECFG, 18 XTILEDATA).
    let (amx_tile, amx_int8) = {
        use std::arch::x86_64::{__cpuid, __cpuid_count};
        // Leaf 7 is read only when leaf 0 reports it.
        let max_leaf = __cpuid(0).eax;
        let edx = if max_leaf >= 7 { __cpuid_count(7, 0).edx } else { 0 };
        let os = is_x86_feature_detected!("xsave") && {
            // SAFETY: XGETBV is available when the CPU reports XSAVE (checked just before).
            let xcr0 = unsafe { xgetbv0() };
            xcr0 & (0b11 << 17) == 0b11 << 17
        };
        (os && edx & (1 << 24) != 0, os && edx & (1 << 25) != 0)
    };
    Features {
        avx2: is_x86_feature_detected!("avx2"),
        fma: is_x86_feature_detected!("fma"),
        f16c: is_x86_feature_detected!("f16c"),
        avxvnni: is_x86_feature_detected!("avxvnni"),
        avx512f: is_x86_feature_detected!("avx512f"),
        avx512bw: is_x86_feature_detected!("avx512bw"),
        avx512vl: is_x86_feature_detected!("avx512vl"),
        avx512vnni: is_x86_feature_detected!("avx512vnni"),
        avx512fp16: is_x86_feature_detected!("avx512fp16"),
        amx_tile,
        amx_int8,
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn probe() -> Features {
    Features::default()
}

/// XCR0 (the OS-enabled state components).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "xsave")]
unsafe fn xgetbv0() -> u64 {
    std::arch::x86_64::_xgetbv(0)
}

/// Whether this process may use the AMX tile data state. On Linux the kernel grants it per process on
/// request (`arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)`, since Linux 5.16); the request is
/// made once, on first call. Elsewhere AMX is not used.
pub fn amx_permitted() -> bool {
    static OK: OnceLock<bool> = OnceLock::new();
    *OK.get_or_init(|| {
        let f = features();
        f.amx_tile && f.amx_int8 && request_amx()
    })
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn request_amx() -> bool {
    const ARCH_REQ_XCOMP_PERM: libc::c_long = 0x1023;
    const XFEATURE_XTILEDATA: libc::c_long = 18;
    // SAFETY: arch_prctl with ARCH_REQ_XCOMP_PERM only changes this process's permitted XSAVE features.
    unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0 }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
fn request_amx() -> bool {
    false
}

/// Hint the CPU to load every cache line of `s` (a table row about to be read). A hint only: it reads
/// no data and changes no result. Sparse features touch rows scattered over tables far larger than the
/// caches, so the loops over them (the training and scoring bags) ask for a row a few features ahead.
#[inline(always)]
pub fn prefetch<T>(s: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // Every line the slice touches: a row that does not start on a line boundary straddles one
        // more line than its length suggests.
        let start = s.as_ptr() as usize;
        let end = start + std::mem::size_of_val(s);
        let mut line = start & !63;
        while line < end {
            // SAFETY: SSE is part of the x86_64 baseline, and a prefetch reads no memory: it cannot
            // fault, whatever the address.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line as *const i8) };
            line += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = s;
}

/// Ask Linux to back `data`'s memory with transparent huge pages now (`madvise(MADV_COLLAPSE)` on the
/// 2 MiB-aligned part of it), for a large table read at random: with 4 KiB pages nearly every row read
/// of a table of tens of megabytes also misses the TLB. A hint only: contents and results are the
/// same; returns whether the kernel did it (false on other systems, before Linux 6.1, with THP set to
/// `never`, or for a table smaller than one huge page).
pub fn collapse_huge_pages<T>(data: &[T]) -> bool {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        // The kernel ABI's value (libc names it only for glibc targets).
        const MADV_COLLAPSE: libc::c_int = 25;
        let start = data.as_ptr() as usize;
        let end = start + std::mem::size_of_val(data);
        let (lo, hi) = (start.next_multiple_of(HUGE), end & !(HUGE - 1));
        if hi <= lo {
            return false;
        }
        // SAFETY: the range lies inside `data`'s allocation, which this process owns and keeps mapped
        // for the call; MADV_COLLAPSE moves the pages' contents into huge pages and changes no byte.
        unsafe { libc::madvise(lo as *mut libc::c_void, hi - lo, MADV_COLLAPSE) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = data;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_errors() {
        for k in Kernel::ALL {
            assert_eq!(k.as_str().parse::<Kernel>().unwrap(), k);
            assert_eq!(k.require().is_ok(), k.supported());
        }
        assert_eq!("AVX-512".parse::<Kernel>().unwrap(), Kernel::Avx512);
        assert_eq!("avx512-fp16".parse::<Kernel>().unwrap(), Kernel::Avx512Fp16);
        let e = "sse9".parse::<Kernel>().unwrap_err().to_string();
        assert!(e.contains("L2_KERNEL") && e.contains("amx"), "{e}");
    }

    #[test]
    fn levels_nest_and_scalar_is_always_there() {
        let avail = Kernel::available();
        assert!(avail.contains(&Kernel::Scalar));
        assert_eq!(Kernel::detect(), avail[0]);
        assert_ne!(Kernel::detect(), Kernel::Avx512Fp16);
        let implies = |a: Kernel, b: Kernel| !a.supported() || b.supported();
        assert!(implies(Kernel::Amx, Kernel::Avx512));
        assert!(implies(Kernel::Avx512Fp16, Kernel::Avx512));
        assert!(implies(Kernel::Avx512, Kernel::Avx2));
        assert!(implies(Kernel::AvxVnni, Kernel::Avx2));
        eprintln!("kernels on this host: {avail:?}");
    }
}
