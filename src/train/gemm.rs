//! Small single-threaded f32 matrix products for the training step.
//!
//! Training multiplies small matrices (a batch of 32 rows against 512 x 256 weights), so the fixed
//! overhead of a general BLAS (packing, threading, dispatch) matters as much as peak throughput. One
//! operation covers the three products of a dense layer's step:
//!
//! `C[m x n] (+)= A[m x k] * B[k x n]`, where `A` is read through arbitrary row/column strides (so a
//! transposed operand costs nothing) and `B`, `C` are row-major with leading dimensions.
//!
//! The kernel keeps an `MR x NR` tile of `C` in registers and streams a broadcast of `A` against rows
//! of `B`. Edges use masked loads and stores, so any shape works without padding. The instruction set is
//! picked once per training run ([`Kernel::select`]): AVX-512F, AVX2+FMA, or a portable loop that
//! runs everywhere. `L2_TRAIN_KERNEL=portable|avx2|avx512` forces a path (an error if the CPU lacks it).

use crate::error::{Error, Result};

/// Which instruction set the training kernels use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// Plain Rust loops (vectorised by the compiler for the baseline target); runs on any CPU.
    Portable,
    /// x86-64 AVX2 + FMA, 6 x 16 register tile.
    Avx2,
    /// x86-64 AVX-512F, 8 x 32 register tile.
    Avx512,
}

/// The environment variable that forces a kernel.
pub const KERNEL_ENV: &str = "L2_TRAIN_KERNEL";

impl Kernel {
    /// Lowercase name, as accepted by `L2_TRAIN_KERNEL`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::Portable => "portable",
            Kernel::Avx2 => "avx2",
            Kernel::Avx512 => "avx512",
        }
    }

    /// Whether this CPU can run the kernel.
    pub fn available(self) -> bool {
        match self {
            Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => {
                is_x86_feature_detected!("avx512f")
                    && is_x86_feature_detected!("avx2")
                    && is_x86_feature_detected!("fma")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The fastest kernel this CPU runs.
    pub fn detect() -> Kernel {
        [Kernel::Avx512, Kernel::Avx2].into_iter().find(|k| k.available()).unwrap_or(Kernel::Portable)
    }

    /// Every kernel this CPU runs (for tests and benchmarks).
    pub fn all_available() -> Vec<Kernel> {
        [Kernel::Portable, Kernel::Avx2, Kernel::Avx512].into_iter().filter(|k| k.available()).collect()
    }

    /// The kernel named by `L2_TRAIN_KERNEL`, else [`Kernel::detect`]. Naming an unknown kernel or one
    /// the CPU cannot run is an error, not a silent fallback.
    pub fn select() -> Result<Kernel> {
        match std::env::var(KERNEL_ENV) {
            Ok(v) if !v.is_empty() => {
                let k = v.parse::<Kernel>()?;
                if !k.available() {
                    return Err(Error::param(KERNEL_ENV, &v, "this CPU does not support that instruction set"));
                }
                Ok(k)
            }
            _ => Ok(Kernel::detect()),
        }
    }
}

impl std::str::FromStr for Kernel {
    type Err = Error;
    fn from_str(s: &str) -> Result<Kernel> {
        match s.to_ascii_lowercase().as_str() {
            "portable" => Ok(Kernel::Portable),
            "avx2" => Ok(Kernel::Avx2),
            "avx512" => Ok(Kernel::Avx512),
            _ => Err(Error::param(KERNEL_ENV, s, "expected portable, avx2 or avx512")),
        }
    }
}

/// Define `fn $name(kernel: Kernel, args...)` that runs the `#[inline(always)]` function `$body`
/// compiled for `kernel`'s instruction set, so that its plain element-wise loops are vectorised with
/// that ISA's registers (one body, thin `#[target_feature]` wrappers, a portable fallback).
macro_rules! isa_dispatch {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) => $body:path) => {
        $(#[$meta])*
        #[allow(clippy::too_many_arguments)]
        $vis fn $name(kernel: $crate::train::gemm::Kernel, $($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                unsafe fn avx512($($arg: $ty),*) {
                    $body($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn avx2($($arg: $ty),*) {
                    $body($($arg),*)
                }
                match kernel {
                    $crate::train::gemm::Kernel::Avx512 if $crate::train::gemm::Kernel::Avx512.available() => {
                        return unsafe { avx512($($arg),*) }
                    }
                    $crate::train::gemm::Kernel::Avx2 if $crate::train::gemm::Kernel::Avx2.available() => {
                        return unsafe { avx2($($arg),*) }
                    }
                    _ => {}
                }
            }
            let _ = kernel;
            $body($($arg),*)
        }
    };
}
pub(crate) use isa_dispatch;

/// `C = A * B` (or `C += A * B` with `accumulate`), see the module docs. `A(i, p)` is
/// `a[i * rsa + p * csa]`; `B(p, j)` is `b[p * ldb + j]`; `C(i, j)` is `c[i * ldc + j]`.
///
/// Panics when a slice is too short for the given shape: callers are the training step's own buffers,
/// never user input.
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    kernel: Kernel,
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    (rsa, csa): (usize, usize),
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(ldc >= n && (m - 1) * ldc + n <= c.len(), "gemm: C too short");
    if k == 0 {
        if !accumulate {
            (0..m).for_each(|i| c[i * ldc..i * ldc + n].fill(0.0));
        }
        return;
    }
    assert!((m - 1) * rsa + (k - 1) * csa < a.len(), "gemm: A too short");
    assert!(ldb >= n && (k - 1) * ldb + n <= b.len(), "gemm: B too short");
    match kernel {
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx512 if Kernel::Avx512.available() => unsafe {
            x86::gemm_avx512(m, n, k, a.as_ptr(), rsa, csa, b.as_ptr(), ldb, c.as_mut_ptr(), ldc, accumulate)
        },
        #[cfg(target_arch = "x86_64")]
        Kernel::Avx2 if Kernel::Avx2.available() => unsafe {
            x86::gemm_avx2(m, n, k, a.as_ptr(), rsa, csa, b.as_ptr(), ldb, c.as_mut_ptr(), ldc, accumulate)
        },
        _ => gemm_portable(m, n, k, a, rsa, csa, b, ldb, c, ldc, accumulate),
    }
}

/// Portable path: a 4 x 8 register tile the compiler vectorises for the baseline target, plain loops
/// for the edges.
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
fn gemm_portable(
    m: usize,
    n: usize,
    k: usize,
    a: &[f32],
    rsa: usize,
    csa: usize,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
    accumulate: bool,
) {
    const MR: usize = 4;
    const NR: usize = 8;
    let (mf, nf) = (m / MR * MR, n / NR * NR);
    for i0 in (0..mf).step_by(MR) {
        for j0 in (0..nf).step_by(NR) {
            let mut acc = [[0.0f32; NR]; MR];
            for p in 0..k {
                let brow = &b[p * ldb + j0..p * ldb + j0 + NR];
                for r in 0..MR {
                    let av = a[(i0 + r) * rsa + p * csa];
                    for j in 0..NR {
                        acc[r][j] += av * brow[j];
                    }
                }
            }
            for r in 0..MR {
                let crow = &mut c[(i0 + r) * ldc + j0..(i0 + r) * ldc + j0 + NR];
                for j in 0..NR {
                    crow[j] = if accumulate { crow[j] + acc[r][j] } else { acc[r][j] };
                }
            }
        }
    }
    let mut simple = |rows: std::ops::Range<usize>, cols: std::ops::Range<usize>| {
        for i in rows {
            let crow = &mut c[i * ldc + cols.start..i * ldc + cols.end];
            if !accumulate {
                crow.fill(0.0);
            }
            for p in 0..k {
                let av = a[i * rsa + p * csa];
                let brow = &b[p * ldb + cols.start..p * ldb + cols.end];
                for (cv, bv) in crow.iter_mut().zip(brow) {
                    *cv += av * bv;
                }
            }
        }
    };
    simple(0..mf, nf..n);
    simple(mf..m, 0..n);
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments, clippy::needless_range_loop)]
mod x86 {
    use std::arch::x86_64::*;

    macro_rules! edge_rows {
        ($tile:ident, $rem:expr, $($args:expr),*) => {
            match $rem {
                1 => $tile::<1>($($args),*),
                2 => $tile::<2>($($args),*),
                3 => $tile::<3>($($args),*),
                4 => $tile::<4>($($args),*),
                5 => $tile::<5>($($args),*),
                6 => $tile::<6>($($args),*),
                7 => $tile::<7>($($args),*),
                _ => {}
            }
        };
    }

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn gemm_avx512(
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
        acc: bool,
    ) {
        const MR: usize = 8;
        const NR: usize = 32;
        let mut j = 0;
        while j < n {
            let nl = (n - j).min(NR);
            let bj = b.add(j);
            let mut i = 0;
            while i + MR <= m {
                tile512::<MR>(k, a.add(i * rsa), rsa, csa, bj, ldb, c.add(i * ldc + j), ldc, nl, acc);
                i += MR;
            }
            if i < m {
                let (ai, ci) = (a.add(i * rsa), c.add(i * ldc + j));
                edge_rows!(tile512, m - i, k, ai, rsa, csa, bj, ldb, ci, ldc, nl, acc);
            }
            j += NR;
        }
    }

    #[inline(always)]
    unsafe fn mask16(n: usize) -> __mmask16 {
        if n >= 16 {
            0xFFFF
        } else {
            ((1u32 << n) - 1) as __mmask16
        }
    }

    #[inline(always)]
    unsafe fn tile512<const MR: usize>(
        k: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
        nl: usize,
        acc: bool,
    ) {
        let m0 = mask16(nl);
        let m1 = mask16(nl.saturating_sub(16));
        let mut c0 = [_mm512_setzero_ps(); MR];
        let mut c1 = [_mm512_setzero_ps(); MR];
        if m1 == 0 {
            for p in 0..k {
                let b0 = _mm512_maskz_loadu_ps(m0, b.add(p * ldb));
                let ap = a.add(p * csa);
                for r in 0..MR {
                    c0[r] = _mm512_fmadd_ps(_mm512_set1_ps(*ap.add(r * rsa)), b0, c0[r]);
                }
            }
        } else {
            for p in 0..k {
                let bp = b.add(p * ldb);
                let b0 = _mm512_loadu_ps(bp);
                let b1 = _mm512_maskz_loadu_ps(m1, bp.add(16));
                let ap = a.add(p * csa);
                for r in 0..MR {
                    let av = _mm512_set1_ps(*ap.add(r * rsa));
                    c0[r] = _mm512_fmadd_ps(av, b0, c0[r]);
                    c1[r] = _mm512_fmadd_ps(av, b1, c1[r]);
                }
            }
        }
        for r in 0..MR {
            let cp = c.add(r * ldc);
            let cp1 = cp.wrapping_add(16);
            if acc {
                c0[r] = _mm512_add_ps(c0[r], _mm512_maskz_loadu_ps(m0, cp));
                if m1 != 0 {
                    c1[r] = _mm512_add_ps(c1[r], _mm512_maskz_loadu_ps(m1, cp1));
                }
            }
            _mm512_mask_storeu_ps(cp, m0, c0[r]);
            if m1 != 0 {
                _mm512_mask_storeu_ps(cp1, m1, c1[r]);
            }
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn gemm_avx2(
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
        acc: bool,
    ) {
        const MR: usize = 6;
        const NR: usize = 16;
        let mut j = 0;
        while j < n {
            let nl = (n - j).min(NR);
            let bj = b.add(j);
            let mut i = 0;
            while i + MR <= m {
                tile256::<MR>(k, a.add(i * rsa), rsa, csa, bj, ldb, c.add(i * ldc + j), ldc, nl, acc);
                i += MR;
            }
            if i < m {
                let (ai, ci) = (a.add(i * rsa), c.add(i * ldc + j));
                edge_rows!(tile256, m - i, k, ai, rsa, csa, bj, ldb, ci, ldc, nl, acc);
            }
            j += NR;
        }
    }

    #[inline(always)]
    unsafe fn mask8(n: usize) -> __m256i {
        let n = n.min(8) as i32;
        _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
    }

    #[inline(always)]
    unsafe fn tile256<const MR: usize>(
        k: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: *const f32,
        ldb: usize,
        c: *mut f32,
        ldc: usize,
        nl: usize,
        acc: bool,
    ) {
        let full = nl == 16;
        let m0 = mask8(nl);
        let m1 = mask8(nl.saturating_sub(8));
        let mut c0 = [_mm256_setzero_ps(); MR];
        let mut c1 = [_mm256_setzero_ps(); MR];
        for p in 0..k {
            let bp = b.add(p * ldb);
            let (b0, b1) = if full {
                (_mm256_loadu_ps(bp), _mm256_loadu_ps(bp.add(8)))
            } else {
                (_mm256_maskload_ps(bp, m0), _mm256_maskload_ps(bp.wrapping_add(8), m1))
            };
            let ap = a.add(p * csa);
            for r in 0..MR {
                let av = _mm256_set1_ps(*ap.add(r * rsa));
                c0[r] = _mm256_fmadd_ps(av, b0, c0[r]);
                c1[r] = _mm256_fmadd_ps(av, b1, c1[r]);
            }
        }
        for r in 0..MR {
            let cp = c.add(r * ldc);
            let cp1 = cp.wrapping_add(8);
            if acc {
                c0[r] = _mm256_add_ps(c0[r], _mm256_maskload_ps(cp, m0));
                c1[r] = _mm256_add_ps(c1[r], _mm256_maskload_ps(cp1, m1));
            }
            _mm256_maskstore_ps(cp, m0, c0[r]);
            _mm256_maskstore_ps(cp1, m1, c1[r]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[allow(clippy::too_many_arguments)]
    fn reference(m: usize, n: usize, k: usize, a: &[f32], rsa: usize, csa: usize, b: &[f32], ldb: usize) -> Vec<f64> {
        let mut c = vec![0.0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| f64::from(a[i * rsa + p * csa]) * f64::from(b[p * ldb + j])).sum();
            }
        }
        c
    }

    #[test]
    fn every_available_kernel_matches_the_reference_on_odd_shapes_and_strides() {
        let mut rng = Rng::new(7);
        let shapes =
            [(1, 1, 1), (3, 5, 7), (8, 32, 16), (9, 33, 17), (32, 256, 64), (17, 1, 64), (64, 40, 32), (13, 48, 0)];
        for kernel in Kernel::all_available() {
            for &(m, n, k) in &shapes {
                for transposed in [false, true] {
                    let (rsa, csa) = if transposed { (1, m) } else { (k, 1) };
                    let a: Vec<f32> = (0..m * k.max(1)).map(|_| rng.normal()).collect();
                    let ldb = n + 3;
                    let b: Vec<f32> = (0..k.max(1) * ldb).map(|_| rng.normal()).collect();
                    let ldc = n + 1;
                    let init: Vec<f32> = (0..m * ldc).map(|_| rng.normal()).collect();
                    let want = reference(m, n, k, &a, rsa, csa, &b, ldb);
                    for accumulate in [false, true] {
                        let mut c = init.clone();
                        gemm(kernel, (m, n, k), &a, (rsa, csa), &b, ldb, &mut c, ldc, accumulate);
                        for i in 0..m {
                            for j in 0..ldc {
                                let got = f64::from(c[i * ldc + j]);
                                if j >= n {
                                    assert_eq!(c[i * ldc + j], init[i * ldc + j], "{kernel:?} wrote past n");
                                    continue;
                                }
                                let base = if accumulate { f64::from(init[i * ldc + j]) } else { 0.0 };
                                let w = want[i * n + j] + base;
                                assert!(
                                    (got - w).abs() < 1e-4 * (1.0 + w.abs()),
                                    "{kernel:?} {m}x{n}x{k} t={transposed} acc={accumulate} ({i},{j}): {got} vs {w}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn forcing_an_unknown_kernel_is_an_error() {
        assert!("sse9".parse::<Kernel>().is_err());
        assert_eq!("AVX2".parse::<Kernel>().ok(), Some(Kernel::Avx2));
        assert!(Kernel::detect().available());
    }
}
