//! Packed weight layouts (see the parent module docs) and 64-byte aligned buffers.

use crate::nn::{Layer, LayerWeights};
use std::marker::PhantomData;

/// Output channels per block: one 512-bit vector of f32 / i32.
pub(crate) const BLOCK: usize = 16;

#[repr(C, align(64))]
#[derive(Clone, Copy)]
struct Line([u8; 64]);

/// Plain-old-data element types a [`ABuf`] may hold (every bit pattern valid, no drop).
pub(crate) trait Pod: Copy + Default + 'static {}
impl Pod for f32 {}
impl Pod for u16 {}
impl Pod for i8 {}
impl Pod for u8 {}
impl Pod for i32 {}

/// A zero-initialised, 64-byte aligned buffer of `len` values.
pub(crate) struct ABuf<T: Pod> {
    lines: Vec<Line>,
    len: usize,
    _t: PhantomData<T>,
}

impl<T: Pod> Clone for ABuf<T> {
    fn clone(&self) -> Self {
        ABuf { lines: self.lines.clone(), len: self.len, _t: PhantomData }
    }
}

impl<T: Pod> Default for ABuf<T> {
    fn default() -> Self {
        ABuf { lines: Vec::new(), len: 0, _t: PhantomData }
    }
}

impl<T: Pod> std::fmt::Debug for ABuf<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ABuf<{}>[{}]", std::any::type_name::<T>(), self.len)
    }
}

impl<T: Pod> ABuf<T> {
    pub(crate) fn zeroed(len: usize) -> Self {
        let bytes = len * std::mem::size_of::<T>();
        ABuf { lines: vec![Line([0; 64]); bytes.div_ceil(64)], len, _t: PhantomData }
    }

    /// Grow (never shrink) to at least `len` values; contents are unspecified afterwards.
    pub(crate) fn ensure(&mut self, len: usize) {
        if self.len < len {
            *self = Self::zeroed(len);
        }
    }

    pub(crate) fn as_slice(&self) -> &[T] {
        // SAFETY: `lines` holds at least `len * size_of::<T>()` initialised bytes, aligned to 64 (>= the
        // alignment of every Pod type), and every bit pattern is a valid T.
        unsafe { std::slice::from_raw_parts(self.lines.as_ptr().cast::<T>(), self.len) }
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as in `as_slice`, with unique access through `&mut self`.
        unsafe { std::slice::from_raw_parts_mut(self.lines.as_mut_ptr().cast::<T>(), self.len) }
    }
}

/// A dense float layer with weights `W` (f32, or f16 as raw bits) as `[group][input][lanes]`: groups of
/// `lanes` output channels (16, or 32 for the half-precision path), so one vector load feeds `lanes`
/// accumulators per input. Blocks (of 16) are padded to whole groups, the bias to whole blocks.
#[derive(Debug, Clone)]
pub(crate) struct PackedFloat<W: Pod> {
    pub inputs: usize,
    pub blocks: usize,
    pub lanes: usize,
    pub w: ABuf<W>,
    pub bias: ABuf<f32>,
    /// Largest |weight| (bounds the half-precision sums of the `avx512fp16` path).
    pub wmax: f32,
}

/// f32 weights in groups of 16.
pub(crate) type PackedF32 = PackedFloat<f32>;
/// f16 weights (raw bits).
pub(crate) type PackedF16 = PackedFloat<u16>;

/// An int8 layer as `[block][input / 4][16][4]` (inputs padded to a multiple of 64), with per-channel
/// scales, bias and the VNNI offset correction `128 * sum_i w[o][i]`, all padded to whole blocks
/// (padding weights are 0).
#[derive(Debug, Clone)]
pub(crate) struct PackedI8 {
    pub inputs: usize,
    pub blocks: usize,
    /// Groups of 4 inputs (`inputs` rounded up to 64, divided by 4).
    pub k4: usize,
    pub w: ABuf<i8>,
    pub scale: ABuf<f32>,
    pub bias: ABuf<f32>,
    pub corr: ABuf<i32>,
}

/// What the call checks need of a packed layer.
pub(crate) trait Layout {
    /// Input values per row.
    fn inputs(&self) -> usize;
    /// Output columns written per row (whole blocks).
    fn width(&self) -> usize;
}

impl<W: Pod> Layout for PackedFloat<W> {
    fn inputs(&self) -> usize {
        self.inputs
    }
    fn width(&self) -> usize {
        self.blocks * BLOCK
    }
}

impl Layout for PackedI8 {
    fn inputs(&self) -> usize {
        self.inputs
    }
    fn width(&self) -> usize {
        self.blocks * BLOCK
    }
}

fn padded_bias(l: &Layer, blocks: usize) -> ABuf<f32> {
    let mut b = ABuf::zeroed(blocks * BLOCK);
    b.as_mut_slice()[..l.outputs].copy_from_slice(&l.bias);
    b
}

impl<W: Pod> PackedFloat<W> {
    /// Pack `l` in groups of `lanes` outputs; `get(o * inputs + i)` yields the weight of output `o`,
    /// input `i`.
    fn pack(l: &Layer, lanes: usize, wmax: f32, get: impl Fn(usize) -> W) -> Self {
        let blocks = l.outputs.div_ceil(lanes) * (lanes / BLOCK);
        let k = l.inputs;
        let mut w = ABuf::<W>::zeroed(blocks * k * BLOCK);
        let dst = w.as_mut_slice();
        for o in 0..l.outputs {
            let (g, j) = (o / lanes, o % lanes);
            for i in 0..k {
                dst[(g * k + i) * lanes + j] = get(o * k + i);
            }
        }
        PackedFloat { inputs: k, blocks, lanes, w, bias: padded_bias(l, blocks), wmax }
    }
}

impl PackedF32 {
    /// `None` unless the layer holds f32 weights.
    pub(crate) fn new(l: &Layer) -> Option<Self> {
        let LayerWeights::F32(src) = &l.weights else { return None };
        Some(Self::pack(l, BLOCK, src.iter().fold(0f32, |a, v| a.max(v.abs())), |idx| src[idx]))
    }
}

impl PackedF16 {
    /// `None` unless the layer holds f16 weights; `lanes` is 16 or 32.
    pub(crate) fn new(l: &Layer, lanes: usize) -> Option<Self> {
        let LayerWeights::F16(src) = &l.weights else { return None };
        let wmax = src.iter().fold(0f32, |a, v| a.max(v.to_f32().abs()));
        Some(Self::pack(l, lanes, wmax, |idx| src[idx].to_bits()))
    }
}

impl PackedI8 {
    /// `None` unless the layer holds int8 weights.
    pub(crate) fn new(l: &Layer) -> Option<Self> {
        let LayerWeights::Int8 { q, scale } = &l.weights else { return None };
        let blocks = l.outputs.div_ceil(BLOCK);
        // Whole AMX tiles of 16 groups (64 inputs); the padding weights are 0 and add nothing.
        let k4 = super::padded(l.inputs) / 4;
        let k = l.inputs;
        let mut w = ABuf::<i8>::zeroed(blocks * k4 * BLOCK * 4);
        let mut corr = ABuf::<i32>::zeroed(blocks * BLOCK);
        let mut sc = ABuf::<f32>::zeroed(blocks * BLOCK);
        let dst = w.as_mut_slice();
        for o in 0..l.outputs {
            let (b, j) = (o / BLOCK, o % BLOCK);
            let mut sum = 0i32;
            for i in 0..k {
                let v = q[o * k + i];
                sum += i32::from(v);
                dst[((b * k4 + i / 4) * BLOCK + j) * 4 + i % 4] = v;
            }
            corr.as_mut_slice()[o] = 128 * sum;
            sc.as_mut_slice()[o] = scale[o];
        }
        Some(PackedI8 { inputs: k, blocks, k4, w, scale: sc, bias: padded_bias(l, blocks), corr })
    }

    /// Bytes per quantized activation row (inputs rounded up to 64).
    pub(crate) fn row_bytes(&self) -> usize {
        self.k4 * 4
    }
}
