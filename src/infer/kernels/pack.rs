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

/// A dense layer with f32 weights as `[block][input][16]`, bias padded to whole blocks.
#[derive(Debug, Clone)]
pub(crate) struct PackedF32 {
    pub inputs: usize,
    pub blocks: usize,
    pub w: ABuf<f32>,
    pub bias: ABuf<f32>,
}

/// As [`PackedF32`] with IEEE half weights (raw bits).
#[derive(Debug, Clone)]
pub(crate) struct PackedF16 {
    pub inputs: usize,
    pub blocks: usize,
    pub w: ABuf<u16>,
    pub bias: ABuf<f32>,
}

/// An int8 layer as `[block][input / 4][16][4]`, with per-channel scales, bias and the VNNI offset
/// correction `128 * sum_i w[o][i]`, all padded to whole blocks (padding weights are 0).
#[derive(Debug, Clone)]
pub(crate) struct PackedI8 {
    pub inputs: usize,
    pub blocks: usize,
    /// Groups of 4 inputs (`inputs` rounded up to 4, divided by 4).
    pub k4: usize,
    pub w: ABuf<i8>,
    pub scale: ABuf<f32>,
    pub bias: ABuf<f32>,
    pub corr: ABuf<i32>,
}

fn padded_bias(l: &Layer, blocks: usize) -> ABuf<f32> {
    let mut b = ABuf::zeroed(blocks * BLOCK);
    b.as_mut_slice()[..l.outputs].copy_from_slice(&l.bias);
    b
}

/// Pack a float layer: `get(o, i)` yields the weight of output `o`, input `i`.
fn pack_float<T: Pod>(l: &Layer, get: impl Fn(usize) -> T) -> (usize, ABuf<T>) {
    let blocks = l.outputs.div_ceil(BLOCK);
    let k = l.inputs;
    let mut w = ABuf::<T>::zeroed(blocks * k * BLOCK);
    let dst = w.as_mut_slice();
    for o in 0..l.outputs {
        let (b, j) = (o / BLOCK, o % BLOCK);
        for i in 0..k {
            dst[(b * k + i) * BLOCK + j] = get(o * k + i);
        }
    }
    (blocks, w)
}

impl PackedF32 {
    /// `None` unless the layer holds f32 weights.
    pub(crate) fn new(l: &Layer) -> Option<Self> {
        let LayerWeights::F32(src) = &l.weights else { return None };
        let (blocks, w) = pack_float(l, |idx| src[idx]);
        Some(PackedF32 { inputs: l.inputs, blocks, w, bias: padded_bias(l, blocks) })
    }
}

impl PackedF16 {
    /// `None` unless the layer holds f16 weights.
    pub(crate) fn new(l: &Layer) -> Option<Self> {
        let LayerWeights::F16(src) = &l.weights else { return None };
        let (blocks, w) = pack_float(l, |idx| src[idx].to_bits());
        Some(PackedF16 { inputs: l.inputs, blocks, w, bias: padded_bias(l, blocks) })
    }
}

impl PackedI8 {
    /// `None` unless the layer holds int8 weights.
    pub(crate) fn new(l: &Layer) -> Option<Self> {
        let LayerWeights::Int8 { q, scale } = &l.weights else { return None };
        let blocks = l.outputs.div_ceil(BLOCK);
        let k4 = l.inputs.div_ceil(4);
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

    /// Bytes per quantized activation row (inputs rounded up to 4).
    pub(crate) fn row_bytes(&self) -> usize {
        self.k4 * 4
    }
}
