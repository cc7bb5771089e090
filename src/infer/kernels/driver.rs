//! The one tiling driver of every SIMD layer, with the register-tile microkernel as a type parameter
//! (the `GemmKernel` pattern of bluss/matrixmultiply): an instruction set is a zero-sized type that says
//! how wide a panel of output blocks and how tall a tile of rows it takes, and computes one tile. The
//! driver and the microkernels are `#[inline(always)]`, so each `#[target_feature]` entry point (in
//! `avx2`, `avx512`, `amx`) compiles its own copy with its instruction set.
//!
//! Loop order: output panels outer, row tiles inner, so a panel of weights stays hot in L1/L2 across
//! the rows of a chunk.

use super::pack::{PackedFloat, Pod, BLOCK};
use super::{FloatCall, IntCall};

/// The tile shapes of an instruction set.
pub(crate) trait Shape {
    /// Output blocks of the next panel, for a layer of `m` rows with `left` blocks to go (>= 1).
    fn panel(m: usize, left: usize) -> usize;
    /// Rows of the next tile of a `bw`-block panel, `left` rows to go (>= 1).
    fn rows(m: usize, left: usize, bw: usize) -> usize;
}

/// A register-tile microkernel over layer arguments `A`.
pub(crate) trait Micro<A>: Shape {
    /// Compute the `rh x bw` tile at row `r0`, block `b0`.
    ///
    /// # Safety
    /// The CPU runs the microkernel's instruction set and `a` describes valid buffers for `m` rows.
    unsafe fn tile(a: &A, r0: usize, b0: usize, rh: usize, bw: usize);
}

/// Run microkernel `K` over `m` rows and `blocks` output blocks of `a`.
///
/// # Safety
/// As [`Micro::tile`].
#[inline(always)]
pub(crate) unsafe fn drive<A, K: Micro<A>>(a: &A, m: usize, blocks: usize) {
    let mut b0 = 0;
    while b0 < blocks {
        let bw = K::panel(m, blocks - b0);
        let mut r0 = 0;
        while r0 < m {
            let rh = K::rows(m, m - r0, bw);
            K::tile(a, r0, b0, rh, bw);
            r0 += rh;
        }
        b0 += bw;
    }
}

/// A float layer: `y = relu?(x W + bias)`, weights `[block][input][16]` of element `W` (f32, or f16
/// bits).
pub(crate) struct FloatArgs<W> {
    pub x: *const f32,
    pub xs: usize,
    pub k: usize,
    pub w: *const W,
    pub bias: *const f32,
    pub y: *mut f32,
    pub ys: usize,
    pub relu: bool,
}

impl<W> FloatArgs<W> {
    /// `(x, w, bias, y)` at row `r0`, block `b0`.
    #[inline(always)]
    pub unsafe fn at(&self, r0: usize, b0: usize) -> (*const f32, *const W, *const f32, *mut f32) {
        (
            self.x.add(r0 * self.xs),
            self.w.add(b0 * self.k * BLOCK),
            self.bias.add(b0 * BLOCK),
            self.y.add(r0 * self.ys + b0 * BLOCK),
        )
    }
}

impl<W: Pod> FloatArgs<W> {
    /// The pointers of a checked call.
    #[inline(always)]
    pub fn new(c: FloatCall<'_, PackedFloat<W>>) -> Self {
        let l = c.l;
        FloatArgs {
            x: c.x.as_ptr(),
            xs: c.xs,
            k: l.inputs,
            w: l.w.as_slice().as_ptr(),
            bias: l.bias.as_slice().as_ptr(),
            y: c.y.as_mut_ptr(),
            ys: c.ys,
            relu: c.relu,
        }
    }
}

/// An int8 layer over quantized activations `q` (row stride `qs`, per-row scales `sx`).
pub(crate) struct IntArgs {
    pub q: *const u8,
    pub qs: usize,
    pub k4: usize,
    pub w: *const i8,
    pub corr: *const i32,
    pub scale: *const f32,
    pub bias: *const f32,
    pub sx: *const f32,
    pub y: *mut f32,
    pub ys: usize,
    pub relu: bool,
}

/// Pointers of an int8 tile.
pub(crate) struct IntTile {
    pub q: *const u8,
    pub w: *const i8,
    pub corr: *const i32,
    pub scale: *const f32,
    pub bias: *const f32,
    pub sx: *const f32,
    pub y: *mut f32,
}

impl IntArgs {
    /// The pointers of a checked call.
    #[inline(always)]
    pub fn new(c: IntCall<'_>) -> Self {
        let l = c.l;
        IntArgs {
            q: c.q.as_ptr(),
            qs: c.qs,
            k4: l.k4,
            w: l.w.as_slice().as_ptr(),
            corr: l.corr.as_slice().as_ptr(),
            scale: l.scale.as_slice().as_ptr(),
            bias: l.bias.as_slice().as_ptr(),
            sx: c.sx.as_ptr(),
            y: c.y.as_mut_ptr(),
            ys: c.ys,
            relu: c.relu,
        }
    }

    /// The tile at row `r0`, block `b0`.
    #[inline(always)]
    pub unsafe fn at(&self, r0: usize, b0: usize) -> IntTile {
        IntTile {
            q: self.q.add(r0 * self.qs),
            w: self.w.add(b0 * self.k4 * BLOCK * 4),
            corr: self.corr.add(b0 * BLOCK),
            scale: self.scale.add(b0 * BLOCK),
            bias: self.bias.add(b0 * BLOCK),
            sx: self.sx.add(r0),
            y: self.y.add(r0 * self.ys + b0 * BLOCK),
        }
    }
}

/// Match a runtime `(rows, blocks)` pair to a const-generic tile function `$f::<[$h,] R, B>`.
macro_rules! tile_table {
    ($f:ident :: <$h:tt> $args:tt at $rb:expr, in [$(($R:literal, $B:literal))*]) => {
        match $rb {
            $(($R, $B) => $f::<$h, $R, $B> $args,)*
            _ => unreachable!("tile shape outside the dispatch table"),
        }
    };
    ($f:ident $args:tt at $rb:expr, in [$(($R:literal, $B:literal))*]) => {
        match $rb {
            $(($R, $B) => $f::<$R, $B> $args,)*
            _ => unreachable!("tile shape outside the dispatch table"),
        }
    };
}
pub(crate) use tile_table;
