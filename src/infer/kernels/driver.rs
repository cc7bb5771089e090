//! The arguments the inference microkernels tile over ([`FloatArgs`], [`IntArgs`]), run by the one
//! driver of `crate::cpu::tiling`, and the const-generic tile dispatch table.

use super::pack::{PackedFloat, Pod, BLOCK};
use super::{FloatCall, IntCall};
pub(crate) use crate::cpu::tiling::{drive, Micro, Shape};

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
