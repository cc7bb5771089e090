//! Scoring the wide-and-deep network on sparse rows: an embedding bag over the touched table rows,
//! the dense tail through [`Scorer`], plus the linear term. Cost is proportional to the non-zeros.
//!
//! The bag sums in f32 in ascending feature order, one row at a time: `h[e] = bias[e] + sum_j (x_j *
//! s_j) * t[j][e]`, where `t` is the stored row (f32, f16 widened exactly, or int8) and `s_j` its
//! scale (1 for f32 and f16). The same order on every machine gives the same bag; the tail is scored
//! by the dense kernels (int8 exact, f32/f16 within their documented tolerance).
//!
//! [`SparseScorer::classify_into`] also runs the network's heads on the same bags: the tail's hidden
//! layers once more in plain f32 ([`crate::nn::heads::trunk_into`], one fixed order on every machine)
//! and each head's softmax. The binary scores are the ones [`SparseScorer::score_into`] returns.

mod axpy;

use super::Scorer;
use crate::cpu::{collapse_huge_pages, prefetch};
use crate::embed::SparseRows;
use crate::error::{Error, Result};
use crate::nn::heads::trunk_into;
use crate::nn::{Dense, LayerWeights, StoredWideDeep};
use std::cell::RefCell;
use std::sync::Arc;

/// Rows whose bags are computed before the tail runs on them together.
const BLOCK: usize = 64;

/// How many features ahead the bag prefetches table rows (enough to cover a memory latency with
/// the arithmetic of the rows in between, few enough to stay within the CPU's outstanding misses).
const AHEAD: usize = 8;

/// A ready-to-run wide-and-deep network. Immutable, `Send + Sync`.
#[derive(Debug, Clone)]
pub struct SparseScorer {
    net: Arc<StoredWideDeep>,
    tail: Scorer,
    /// The tail without its output layer, for the heads.
    trunk: Vec<Dense>,
    /// Outputs of all heads together (0: no heads).
    head_width: usize,
    /// Sum table rows with AVX2 (every kernel but `scalar`; the same results, see [`axpy`]).
    simd: bool,
}

/// Per-thread buffers: bags, logits, and the trunk activation the heads read (two, swapped per layer).
#[derive(Default)]
struct Buffers {
    bags: Vec<f32>,
    logits: Vec<f32>,
    hidden: Vec<f32>,
    swap: Vec<f32>,
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
}

impl SparseScorer {
    /// Build from a stored network (checked).
    pub fn new(net: Arc<StoredWideDeep>) -> Result<SparseScorer> {
        net.check()?;
        let tail = Scorer::new(&net.tail)?;
        let trunk = if net.heads.is_empty() { Vec::new() } else { net.trunk() };
        let head_width = net.heads.iter().map(|h| h.labels.len()).sum();
        // The table is the one large structure a prompt reads at random; on 4 KiB pages nearly every
        // row read would also miss the TLB.
        match &net.table {
            LayerWeights::F32(t) => collapse_huge_pages(t),
            LayerWeights::F16(t) => collapse_huge_pages(t),
            LayerWeights::Int8 { q, .. } => collapse_huge_pages(q),
        };
        let simd = cfg!(target_arch = "x86_64") && tail.kernel() != crate::cpu::Kernel::Scalar;
        Ok(SparseScorer { net, tail, trunk, head_width, simd })
    }

    /// Outputs of all heads together: the row width of [`SparseScorer::classify_into`]'s `heads`.
    pub fn head_width(&self) -> usize {
        self.head_width
    }

    /// The stored network.
    pub fn net(&self) -> &Arc<StoredWideDeep> {
        &self.net
    }

    /// The tail's scorer (its kernel and precision).
    pub fn tail(&self) -> &Scorer {
        &self.tail
    }

    /// Sigmoid scores of `rows` into `out` (one per row).
    pub fn score_into(&self, rows: &SparseRows, out: &mut [f32]) -> Result<()> {
        self.run(rows, out, None)
    }

    /// Scores into `out` and every head's probabilities into `heads` (`rows x head_width`, heads in
    /// the network's order, each row of a head summing to 1).
    pub fn classify_into(&self, rows: &SparseRows, out: &mut [f32], heads: &mut [f32]) -> Result<()> {
        if heads.len() != rows.rows() * self.head_width {
            return Err(Error::shape("head outputs", rows.rows() * self.head_width, heads.len()));
        }
        self.run(rows, out, Some(heads))
    }

    fn run(&self, rows: &SparseRows, out: &mut [f32], mut heads: Option<&mut [f32]>) -> Result<()> {
        if out.len() != rows.rows() {
            return Err(Error::shape("scores output", rows.rows(), out.len()));
        }
        if let Some(&bad) = rows.indices.iter().find(|&&i| i as usize >= self.net.features) {
            return Err(Error::shape("feature index", format!("< {}", self.net.features), bad));
        }
        if let Some(v) = rows.values.iter().find(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!("a feature value is not finite ({v})")));
        }
        let (e, hw) = (self.net.embed, self.head_width);
        let mut run = |buf: &mut Buffers| -> Result<()> {
            buf.bags.resize(BLOCK * e, 0.0);
            buf.logits.resize(BLOCK, 0.0);
            for (b, chunk) in out.chunks_mut(BLOCK).enumerate() {
                let first = b * BLOCK;
                let n = chunk.len();
                for r in 0..n {
                    self.bag(rows, first + r, &mut buf.bags[r * e..(r + 1) * e]);
                }
                self.tail.logits_into(&buf.bags[..n * e], &mut buf.logits[..n])?;
                for (r, o) in chunk.iter_mut().enumerate() {
                    let z = buf.logits[r] + self.wide(rows, first + r);
                    if !z.is_finite() {
                        return Err(Error::InvalidData(format!("row {}: the score is not finite", first + r)));
                    }
                    *o = crate::nn::sigmoid(z);
                }
                if let Some(heads) = heads.as_deref_mut() {
                    for r in 0..n {
                        trunk_into(&self.trunk, &buf.bags[r * e..(r + 1) * e], &mut buf.swap, &mut buf.hidden);
                        let mut at = (first + r) * hw;
                        for h in &self.net.heads {
                            let k = h.labels.len();
                            let p = &mut heads[at..at + k];
                            h.probs_into(&buf.hidden, p);
                            if p.iter().any(|v| !v.is_finite()) {
                                return Err(Error::InvalidData(format!(
                                    "row {}: the {} head computed a non-finite value",
                                    first + r,
                                    h.kind
                                )));
                            }
                            at += k;
                        }
                    }
                }
            }
            Ok(())
        };
        BUFFERS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => run(&mut buf),
            Err(_) => run(&mut Buffers::default()),
        })
    }

    /// `relu(bias + sum_j x_j table[j])` of row `r` into `h`.
    fn bag(&self, rows: &SparseRows, r: usize, h: &mut [f32]) {
        let net = &*self.net;
        let e = net.embed;
        h.copy_from_slice(&net.bias);
        let (idx, val) = rows.row(r);
        let simd = self.simd;
        match &net.table {
            LayerWeights::F32(t) => {
                for (k, (&j, &x)) in idx.iter().zip(val).enumerate() {
                    self.prefetch_ahead(idx, k, |a| &t[a * e..(a + 1) * e]);
                    axpy::f32(h, &t[j as usize * e..(j as usize + 1) * e], x, simd);
                }
            }
            LayerWeights::F16(t) => {
                for (k, (&j, &x)) in idx.iter().zip(val).enumerate() {
                    self.prefetch_ahead(idx, k, |a| &t[a * e..(a + 1) * e]);
                    axpy::f16(h, &t[j as usize * e..(j as usize + 1) * e], x, simd);
                }
            }
            LayerWeights::Int8 { q, scale } => {
                for (k, (&j, &x)) in idx.iter().zip(val).enumerate() {
                    self.prefetch_ahead(idx, k, |a| {
                        prefetch(&scale[a..a + 1]);
                        &q[a * e..(a + 1) * e]
                    });
                    let xs = x * scale[j as usize];
                    axpy::i8(h, &q[j as usize * e..(j as usize + 1) * e], xs, simd);
                }
            }
        }
        h.iter_mut().for_each(|v| *v = v.max(0.0));
    }

    /// Start loading the table row (and wide weight) of the feature `AHEAD` places after `k`: a
    /// large vocabulary's table does not fit in cache, and a bag is a chain of independent row
    /// reads whose memory latency, not arithmetic, sets its cost. A hint only: no effect on results.
    #[inline(always)]
    fn prefetch_ahead<'t, T: 't>(&self, idx: &[u32], k: usize, row: impl FnOnce(usize) -> &'t [T]) {
        if let Some(&a) = idx.get(k + AHEAD) {
            let a = a as usize;
            prefetch(row(a));
            if let Some(w) = &self.net.wide {
                prefetch(&w[a..a + 1]);
            }
        }
    }

    fn wide(&self, rows: &SparseRows, r: usize) -> f32 {
        match &self.net.wide {
            Some(w) => {
                let (idx, val) = rows.row(r);
                idx.iter().zip(val).map(|(&j, &x)| x * w[j as usize]).sum()
            }
            None => 0.0,
        }
    }
}
