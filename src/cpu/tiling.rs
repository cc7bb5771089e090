//! The one tiling driver of every SIMD kernel in the crate (inference layers and the training GEMM),
//! with the register-tile microkernel as a type parameter: the `GemmKernel` pattern of
//! bluss/matrixmultiply. An instruction set is a zero-sized type that says how wide a panel of output
//! columns and how tall a tile of rows it takes ([`Shape`]) and computes one tile ([`Micro`]). The driver
//! and the microkernels are `#[inline(always)]`, so each `#[target_feature]` entry point compiles its own
//! copy with its instruction set, and only those thin entry points carry `#[target_feature]`.
//!
//! Loop order: output panels outer, row tiles inner, so a panel of weights stays hot in L1/L2 across
//! the rows.

/// The tile shapes of an instruction set.
pub(crate) trait Shape {
    /// Output units (blocks or columns) of the next panel, for `m` rows with `left` units to go (>= 1).
    fn panel(m: usize, left: usize) -> usize;
    /// Rows of the next tile of a `bw`-unit panel, `left` rows to go (>= 1).
    fn rows(m: usize, left: usize, bw: usize) -> usize;
}

/// A register-tile microkernel over arguments `A`.
pub(crate) trait Micro<A>: Shape {
    /// Compute the `rh x bw` tile at row `r0`, unit `b0`.
    ///
    /// # Safety
    /// The CPU runs the microkernel's instruction set and `a` describes valid buffers for `m` rows.
    unsafe fn tile(a: &A, r0: usize, b0: usize, rh: usize, bw: usize);
}

/// Run microkernel `K` over `m` rows and `units` output units (blocks or columns) of `a`.
///
/// # Safety
/// As [`Micro::tile`].
#[inline(always)]
pub(crate) unsafe fn drive<A, K: Micro<A>>(a: &A, m: usize, units: usize) {
    let mut b0 = 0;
    while b0 < units {
        let bw = K::panel(m, units - b0);
        let mut r0 = 0;
        while r0 < m {
            let rh = K::rows(m, m - r0, bw);
            K::tile(a, r0, b0, rh, bw);
            r0 += rh;
        }
        b0 += bw;
    }
}

/// `impl Shape for $t` with fixed panels of `$units` units and tiles of `$rows` rows (edges take what
/// is left).
macro_rules! fixed_shape {
    ($t:ty, units $units:expr, rows $rows:expr) => {
        impl $crate::cpu::tiling::Shape for $t {
            #[inline(always)]
            fn panel(_m: usize, left: usize) -> usize {
                left.min($units)
            }
            #[inline(always)]
            fn rows(_m: usize, left: usize, _bw: usize) -> usize {
                left.min($rows)
            }
        }
    };
}
pub(crate) use fixed_shape;
