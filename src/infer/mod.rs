//! Inference: forward passes over stored layers at f32, f16 and int8.
//!
//! CONTRACT: [`Scorer`]'s public signatures are what the rest of the crate calls.
//!
//! [`Scorer::new`] packs the layers once into the kernels' layouts and picks the CPU path
//! ([`Kernel::selected`]: best available, or `L2_KERNEL`) as a table of layer functions. Scoring runs rows in chunks of up to 96 through
//! per-thread scratch buffers, so after a thread's first call neither [`Scorer::score_one`] nor
//! [`Scorer::score_into`] allocates. The int8 pass quantizes activations per row, dynamically and
//! symmetrically, multiplies in i32, and dequantizes to f32 between layers (bias, ReLU, re-quantize);
//! see [`kernels`] for the exact arithmetic, which every int8 path reproduces bit for bit.

pub mod kernels;
pub mod quantize;
pub mod sparse;

use crate::error::{Error, Result};
use crate::nn::{sigmoid, Layer, LayerWeights, Precision};
use kernels::pack::{ABuf, Layout, PackedF16, PackedF32, PackedI8};
pub use kernels::Kernel;
use kernels::{FloatCall, IntCall, Ops, QuantCall, CHUNK};
use std::cell::RefCell;

#[derive(Debug, Clone)]
enum Net {
    F32(Vec<PackedF32>),
    F16(Vec<PackedF16>),
    Int8(Vec<PackedI8>),
}

impl Net {
    /// Output columns of the widest packed layer (the f32 activation row stride).
    fn widest(&self) -> usize {
        match self {
            Net::F32(l) => l.iter().map(Layout::width).max(),
            Net::F16(l) => l.iter().map(Layout::width).max(),
            Net::Int8(l) => l.iter().map(Layout::width).max(),
        }
        .unwrap_or(0)
    }
}

/// A ready-to-run network: immutable, `Send + Sync`, shareable across threads.
#[derive(Debug, Clone)]
pub struct Scorer {
    net: Net,
    precision: Precision,
    ops: &'static Ops,
    input_dims: usize,
    /// Row stride of the f32 activation scratch: the widest layer, in whole blocks.
    y_stride: usize,
    /// Row stride of the quantized activation scratch (int8).
    q_stride: usize,
}

#[derive(Default)]
struct Scratch {
    a: ABuf<f32>,
    b: ABuf<f32>,
    q: ABuf<u8>,
    sx: ABuf<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl Scorer {
    /// Build from stored layers with the process-wide kernel ([`Kernel::selected`]).
    pub fn new(layers: &[Layer]) -> Result<Scorer> {
        Scorer::with_kernel(layers, Kernel::selected()?)
    }

    /// Build for a given kernel; an error when this CPU lacks it.
    pub fn with_kernel(layers: &[Layer], kernel: Kernel) -> Result<Scorer> {
        let ops = Ops::new(kernel)?;
        let precision = layers.first().map(Layer::precision).unwrap_or_default();
        for (i, l) in layers.iter().enumerate() {
            let what = format!("layers.{i}");
            if l.precision() != precision {
                return Err(Error::param("precision", l.precision(), "all layers must share one precision"));
            }
            l.check(&what)?;
            if i > 0 && layers[i - 1].outputs != l.inputs {
                return Err(Error::shape(format!("{what}.inputs"), layers[i - 1].outputs, l.inputs));
            }
            if let LayerWeights::Int8 { q, .. } = &l.weights {
                if q.contains(&i8::MIN) {
                    return Err(Error::InvalidData(format!(
                        "{what}: int8 weights must be symmetric, in [-127, 127] (found -128)"
                    )));
                }
            }
        }
        if let Some(l) = layers.last() {
            if l.outputs != 1 {
                return Err(Error::shape("last layer outputs", 1, l.outputs));
            }
        }
        let bad = |i: usize| Error::model("<layers>", format!("layer {i} could not be packed"));
        let net = match precision {
            Precision::F32 => Net::F32(
                layers
                    .iter()
                    .enumerate()
                    .map(|(i, l)| PackedF32::new(l).ok_or_else(|| bad(i)))
                    .collect::<Result<_>>()?,
            ),
            Precision::F16 => Net::F16(
                layers
                    .iter()
                    .enumerate()
                    .map(|(i, l)| PackedF16::new(l, ops.f16_lanes()).ok_or_else(|| bad(i)))
                    .collect::<Result<_>>()?,
            ),
            Precision::Int8 => Net::Int8(
                layers
                    .iter()
                    .enumerate()
                    .map(|(i, l)| PackedI8::new(l).ok_or_else(|| bad(i)))
                    .collect::<Result<_>>()?,
            ),
        };
        let y_stride = net.widest();
        let q_stride = layers.iter().map(|l| kernels::padded(l.inputs)).max().unwrap_or(0);
        Ok(Scorer { net, precision, ops, input_dims: layers.first().map_or(0, |l| l.inputs), y_stride, q_stride })
    }

    /// Input width.
    pub fn input_dims(&self) -> usize {
        self.input_dims
    }

    /// Weight precision.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The CPU path this scorer runs.
    pub fn kernel(&self) -> Kernel {
        self.ops.kernel()
    }

    /// Score `n` row-major embeddings `x` (`n x input_dims`) into `out` (`n`): sigmoid probabilities.
    /// Non-finite inputs are an error, and so is a non-finite value anywhere in the network (a finite
    /// input too large for the weights overflows): a score that could not be computed is never
    /// returned, so no caller can mistake it for a benign one. On an error `out` holds no usable
    /// scores.
    pub fn score_into(&self, x: &[f32], out: &mut [f32]) -> Result<()> {
        self.run_into(x, out, true)
    }

    /// [`Scorer::score_into`] without the final sigmoid: the logits (for networks whose last layer is
    /// one part of a larger sum, as the wide-and-deep tail is).
    pub fn logits_into(&self, x: &[f32], out: &mut [f32]) -> Result<()> {
        self.run_into(x, out, false)
    }

    fn run_into(&self, x: &[f32], out: &mut [f32], sigmoid_out: bool) -> Result<()> {
        let d = self.input_dims;
        if d == 0 || !x.len().is_multiple_of(d) {
            return Err(Error::shape("embeddings", format!("n x {d}"), format!("{} floats", x.len())));
        }
        if out.len() != x.len() / d {
            return Err(Error::shape("scores output", x.len() / d, out.len()));
        }
        if !self.ops.all_finite(x) {
            let at = x.iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Err(Error::InvalidData(format!(
                "embedding row {} column {} is not finite ({})",
                at / d,
                at % d,
                x[at]
            )));
        }
        let mut run = |s: &mut Scratch| {
            s.a.ensure(CHUNK * self.y_stride);
            s.b.ensure(CHUNK * self.y_stride);
            s.q.ensure(CHUNK * self.q_stride);
            s.sx.ensure(CHUNK);
            for (c, (xc, oc)) in x.chunks(CHUNK * d).zip(out.chunks_mut(CHUNK)).enumerate() {
                self.forward(xc, oc, s, sigmoid_out).map_err(|(row, layer)| (c * CHUNK + row, layer))?;
            }
            Ok(())
        };
        let ran = SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut s) => run(&mut s),
            // Only reachable if scoring re-enters itself on this thread; correct, just allocating.
            Err(_) => run(&mut Scratch::default()),
        });
        ran.map_err(|(row, layer)| {
            Error::InvalidData(format!(
                "embedding row {row}: layer {layer} of the network computed a non-finite value (the input is too \
                 large for the weights); no score can be computed for it"
            ))
        })
    }

    /// Score one embedding (no heap allocation after the thread's first call).
    pub fn score_one(&self, x: &[f32]) -> Result<f32> {
        if x.len() != self.input_dims {
            return Err(Error::shape("embedding", self.input_dims, x.len()));
        }
        let mut out = [0f32];
        self.score_into(x, &mut out)?;
        Ok(out[0])
    }

    /// [`Scorer::score_into`] split over `threads` scoped threads by contiguous rows (1 = this thread).
    pub fn score_into_threads(&self, x: &[f32], out: &mut [f32], threads: usize) -> Result<()> {
        let d = self.input_dims.max(1);
        let n = out.len();
        let threads = threads.clamp(1, n.max(1));
        if threads == 1 || x.len() != n * d {
            return self.score_into(x, out);
        }
        let per = n.div_ceil(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = x
                .chunks(per * d)
                .zip(out.chunks_mut(per))
                .map(|(xc, oc)| s.spawn(move || self.score_into(xc, oc)))
                .collect();
            handles
                .into_iter()
                .try_for_each(|h| h.join().unwrap_or_else(|_| Err(Error::Check("a scoring thread panicked".into()))))
        })
    }

    /// One chunk (`out.len() <= CHUNK` rows) through every layer; on a non-finite activation, the
    /// (row, layer) where it appeared.
    fn forward(
        &self,
        x: &[f32],
        out: &mut [f32],
        s: &mut Scratch,
        sigmoid_out: bool,
    ) -> std::result::Result<(), (usize, usize)> {
        let m = out.len();
        let ys = self.y_stride;
        let (mut cur, mut next) = (s.a.as_mut_slice(), s.b.as_mut_slice());
        let k = self.ops;
        match &self.net {
            Net::F32(layers) => {
                let n = layers.len();
                for (i, l) in layers.iter().enumerate() {
                    let (src, xs): (&[f32], usize) = if i == 0 { (x, self.input_dims) } else { (&*cur, ys) };
                    k.f32_layer(FloatCall { x: src, xs, m, l, y: next, ys, relu: i + 1 < n });
                    check_finite(k, next, m, ys, l.width()).map_err(|r| (r, i))?;
                    std::mem::swap(&mut cur, &mut next);
                }
            }
            Net::F16(layers) => {
                let n = layers.len();
                for (i, l) in layers.iter().enumerate() {
                    let (src, xs): (&[f32], usize) = if i == 0 { (x, self.input_dims) } else { (&*cur, ys) };
                    k.f16_layer(FloatCall { x: src, xs, m, l, y: next, ys, relu: i + 1 < n });
                    check_finite(k, next, m, ys, l.width()).map_err(|r| (r, i))?;
                    std::mem::swap(&mut cur, &mut next);
                }
            }
            Net::Int8(layers) => {
                let n = layers.len();
                let (q, sx) = (s.q.as_mut_slice(), s.sx.as_mut_slice());
                let qs = self.q_stride;
                for (i, l) in layers.iter().enumerate() {
                    let (src, xs): (&[f32], usize) = if i == 0 { (x, self.input_dims) } else { (&*cur, ys) };
                    k.quantize_rows(QuantCall { x: src, xs, k: l.inputs, m, q, qs, sx });
                    k.i8_layer(IntCall { q, qs, sx, m, l, y: next, ys, relu: i + 1 < n });
                    check_finite(k, next, m, ys, l.width()).map_err(|r| (r, i))?;
                    std::mem::swap(&mut cur, &mut next);
                }
            }
        }
        for (r, o) in out.iter_mut().enumerate() {
            *o = if sigmoid_out { sigmoid(cur[r * ys]) } else { cur[r * ys] };
        }
        Ok(())
    }
}

/// The first of `m` rows (stride `ys`) whose first `width` activations hold a non-finite value. Only
/// the columns this layer wrote are read: the rest of the scratch may hold anything.
fn check_finite(k: &Ops, y: &[f32], m: usize, ys: usize, width: usize) -> std::result::Result<(), usize> {
    match (0..m).find(|&r| !k.all_finite(&y[r * ys..r * ys + width])) {
        Some(r) => Err(r),
        None => Ok(()),
    }
}
