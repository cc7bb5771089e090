//! Small single-threaded f32 matrix products for the training step.
//!
//! Training multiplies small matrices (a batch of 32 rows against 512 x 256 weights), so the fixed
//! overhead of a general BLAS (packing, threading, dispatch) matters as much as peak throughput. One
//! operation covers the three products of a dense layer's step:
//!
//! `C[m x n] (+)= A[m x k] * B[k x n]`, where `A` is read through arbitrary row/column strides (so a
//! transposed operand costs nothing) and `B`, `C` are row-major with leading dimensions.
//!
//! Each instruction set is a microkernel type run by the one tiling driver of `crate::cpu::tiling`: it
//! keeps an `MR x NR` tile of `C` in registers and streams a broadcast of `A` against rows of `B`; edges
//! use masked loads and stores, so any shape works without padding. The path is the process's
//! [`Kernel`] (`L2_KERNEL`, shared with inference): `avx512`, `avx512fp16` and `amx` run the AVX-512F
//! kernel (8 x 32 tile), `avx2` and `avxvnni` the AVX2 + FMA one (6 x 16), `scalar` a portable 4 x 8
//! loop the compiler vectorises for the baseline target. Every path is deterministic, so a training run
//! is reproducible bit for bit for a seed on one kernel path.

use crate::cpu::tiling::{drive, fixed_shape, Micro};
pub use crate::cpu::Kernel;

/// The training code path of a kernel: the GEMM and element-wise instruction set it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    Portable,
    Avx2,
    Avx512,
}

impl Isa {
    /// The path `kernel` trains with (callers have checked that the CPU supports `kernel`).
    pub(crate) fn of(kernel: Kernel) -> Isa {
        match kernel {
            Kernel::Scalar => Isa::Portable,
            Kernel::Avx2 | Kernel::AvxVnni => Isa::Avx2,
            Kernel::Avx512 | Kernel::Avx512Fp16 | Kernel::Amx => Isa::Avx512,
        }
    }
}

/// Define `fn $name(kernel: Kernel, args...)` that runs the `#[inline(always)]` function `$body`
/// compiled for `kernel`'s training path ([`Isa::of`]), so that its plain element-wise loops are
/// vectorised with that ISA's registers (one body, thin `#[target_feature]` wrappers, the portable
/// build for `scalar`).
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
                if kernel.supported() {
                    match $crate::train::gemm::Isa::of(kernel) {
                        $crate::train::gemm::Isa::Avx512 => return unsafe { avx512($($arg),*) },
                        $crate::train::gemm::Isa::Avx2 => return unsafe { avx2($($arg),*) },
                        $crate::train::gemm::Isa::Portable => {}
                    }
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
    let g = GemmArgs { k, a: a.as_ptr(), rsa, csa, b: b.as_ptr(), ldb, c: c.as_mut_ptr(), ldc, acc: accumulate };
    match Isa::of(kernel) {
        // SAFETY (both arms): the kernel is supported (checked) and the slices hold the shape (asserted).
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 if kernel.supported() => unsafe { x86::gemm_avx512(&g, m, n) },
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if kernel.supported() => unsafe { x86::gemm_avx2(&g, m, n) },
        // SAFETY: as above; the portable microkernel needs no CPU feature.
        _ => unsafe { drive::<_, Portable>(&g, m, n) },
    }
}

/// One product for the driver: tiles of rows of `C` by panels of columns (see the module docs).
pub(crate) struct GemmArgs {
    k: usize,
    a: *const f32,
    rsa: usize,
    csa: usize,
    b: *const f32,
    ldb: usize,
    c: *mut f32,
    ldc: usize,
    acc: bool,
}

impl GemmArgs {
    /// `(A, B, C)` at row `i`, column `j`.
    #[inline(always)]
    unsafe fn at(&self, i: usize, j: usize) -> (*const f32, *const f32, *mut f32) {
        (self.a.add(i * self.rsa), self.b.add(j), self.c.add(i * self.ldc + j))
    }
}

/// The portable microkernel: a 4 x 8 register tile the compiler vectorises for the baseline target,
/// plain loops for partial tiles.
struct Portable;

const PMR: usize = 4;
const PNR: usize = 8;

fixed_shape!(Portable, units PNR, rows PMR);

impl Micro<GemmArgs> for Portable {
    #[inline(always)]
    unsafe fn tile(g: &GemmArgs, i: usize, j: usize, rh: usize, nl: usize) {
        let (a, b, c) = g.at(i, j);
        if rh == PMR && nl == PNR {
            portable_tile(g, a, b, c);
        } else {
            portable_edge(g, a, b, c, rh, nl);
        }
    }
}

#[allow(clippy::needless_range_loop)]
#[inline(always)]
unsafe fn portable_tile(g: &GemmArgs, a: *const f32, b: *const f32, c: *mut f32) {
    let mut acc = [[0.0f32; PNR]; PMR];
    for p in 0..g.k {
        let brow = std::slice::from_raw_parts(b.add(p * g.ldb), PNR);
        for r in 0..PMR {
            let av = *a.add(r * g.rsa + p * g.csa);
            for j in 0..PNR {
                acc[r][j] += av * brow[j];
            }
        }
    }
    for r in 0..PMR {
        let crow = std::slice::from_raw_parts_mut(c.add(r * g.ldc), PNR);
        for j in 0..PNR {
            crow[j] = if g.acc { crow[j] + acc[r][j] } else { acc[r][j] };
        }
    }
}

/// A partial tile, element by element: `c = (c or 0) + sum_p a * b` in order of `p`.
#[inline(always)]
unsafe fn portable_edge(g: &GemmArgs, a: *const f32, b: *const f32, c: *mut f32, rh: usize, nl: usize) {
    for r in 0..rh {
        let crow = std::slice::from_raw_parts_mut(c.add(r * g.ldc), nl);
        if !g.acc {
            crow.fill(0.0);
        }
        for p in 0..g.k {
            let av = *a.add(r * g.rsa + p * g.csa);
            let brow = std::slice::from_raw_parts(b.add(p * g.ldb), nl);
            for (cv, bv) in crow.iter_mut().zip(brow) {
                *cv += av * bv;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::needless_range_loop)]
mod x86 {
    use super::{drive, fixed_shape, GemmArgs, Micro};
    use std::arch::x86_64::*;

    /// Match a tile height to a const-generic tile function.
    macro_rules! rows_table {
        ($tile:ident $args:tt at $rh:expr, in [$($R:literal)*]) => {
            match $rh {
                $($R => $tile::<$R> $args,)*
                _ => unreachable!("tile height outside the dispatch table"),
            }
        };
    }

    /// AVX-512F: 8 x 32 tiles (16 zmm accumulators).
    pub(super) struct Avx512;

    fixed_shape!(Avx512, units 32, rows 8);

    impl Micro<GemmArgs> for Avx512 {
        #[inline(always)]
        unsafe fn tile(g: &GemmArgs, i: usize, j: usize, rh: usize, nl: usize) {
            let (a, b, c) = g.at(i, j);
            rows_table!(tile512(g, a, b, c, nl) at rh, in [1 2 3 4 5 6 7 8]);
        }
    }

    /// # Safety
    /// The CPU has AVX-512F; the buffers hold the shape (asserted by `gemm`).
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn gemm_avx512(g: &GemmArgs, m: usize, n: usize) {
        drive::<_, Avx512>(g, m, n);
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
    unsafe fn tile512<const MR: usize>(g: &GemmArgs, a: *const f32, b: *const f32, c: *mut f32, nl: usize) {
        let (k, rsa, csa, ldb, ldc) = (g.k, g.rsa, g.csa, g.ldb, g.ldc);
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
            if g.acc {
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

    /// AVX2 + FMA: 6 x 16 tiles (12 ymm accumulators).
    pub(super) struct Avx2;

    fixed_shape!(Avx2, units 16, rows 6);

    impl Micro<GemmArgs> for Avx2 {
        #[inline(always)]
        unsafe fn tile(g: &GemmArgs, i: usize, j: usize, rh: usize, nl: usize) {
            let (a, b, c) = g.at(i, j);
            rows_table!(tile256(g, a, b, c, nl) at rh, in [1 2 3 4 5 6]);
        }
    }

    /// # Safety
    /// The CPU has AVX2 and FMA; the buffers hold the shape (asserted by `gemm`).
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn gemm_avx2(g: &GemmArgs, m: usize, n: usize) {
        drive::<_, Avx2>(g, m, n);
    }

    #[inline(always)]
    unsafe fn mask8(n: usize) -> __m256i {
        let n = n.min(8) as i32;
        _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
    }

    #[inline(always)]
    unsafe fn tile256<const MR: usize>(g: &GemmArgs, a: *const f32, b: *const f32, c: *mut f32, nl: usize) {
        let (k, rsa, csa, ldb, ldc) = (g.k, g.rsa, g.csa, g.ldb, g.ldc);
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
            if g.acc {
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
        for kernel in Kernel::available() {
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
    fn every_kernel_has_a_training_path() {
        for k in Kernel::ALL {
            let want = match k {
                Kernel::Scalar => Isa::Portable,
                Kernel::Avx2 | Kernel::AvxVnni => Isa::Avx2,
                _ => Isa::Avx512,
            };
            assert_eq!(Isa::of(k), want);
        }
        eprintln!("training kernels on this host: {:?}", Kernel::available());
    }
}
