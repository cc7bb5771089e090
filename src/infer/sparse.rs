//! Scoring the wide-and-deep network on sparse rows: an embedding bag over the touched table rows,
//! the dense tail through [`Scorer`], plus the linear term. Cost is proportional to the non-zeros.
//!
//! The bag sums in f32 in ascending feature order, one row at a time: `h[e] = bias[e] + sum_j (x_j *
//! s_j) * t[j][e]`, where `t` is the stored row (f32, f16 widened exactly, or int8) and `s_j` its
//! scale (1 for f32 and f16). The same order on every machine gives the same bag; the tail is scored
//! by the dense kernels (int8 exact, f32/f16 within their documented tolerance).

use super::Scorer;
use crate::cpu::prefetch;
use crate::embed::SparseRows;
use crate::error::{Error, Result};
use crate::nn::{LayerWeights, StoredWideDeep};
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
}

thread_local! {
    static BAGS: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

impl SparseScorer {
    /// Build from a stored network (checked).
    pub fn new(net: Arc<StoredWideDeep>) -> Result<SparseScorer> {
        net.check()?;
        let tail = Scorer::new(&net.tail)?;
        Ok(SparseScorer { net, tail })
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
        if out.len() != rows.rows() {
            return Err(Error::shape("scores output", rows.rows(), out.len()));
        }
        if let Some(&bad) = rows.indices.iter().find(|&&i| i as usize >= self.net.features) {
            return Err(Error::shape("feature index", format!("< {}", self.net.features), bad));
        }
        if let Some(v) = rows.values.iter().find(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!("a feature value is not finite ({v})")));
        }
        let e = self.net.embed;
        let mut run = |bags: &mut Vec<f32>, logits: &mut Vec<f32>| -> Result<()> {
            bags.resize(BLOCK * e, 0.0);
            logits.resize(BLOCK, 0.0);
            for (b, chunk) in out.chunks_mut(BLOCK).enumerate() {
                let first = b * BLOCK;
                let n = chunk.len();
                for r in 0..n {
                    self.bag(rows, first + r, &mut bags[r * e..(r + 1) * e]);
                }
                self.tail.logits_into(&bags[..n * e], &mut logits[..n])?;
                for (r, o) in chunk.iter_mut().enumerate() {
                    let z = logits[r] + self.wide(rows, first + r);
                    if !z.is_finite() {
                        return Err(Error::InvalidData(format!("row {}: the score is not finite", first + r)));
                    }
                    *o = crate::nn::sigmoid(z);
                }
            }
            Ok(())
        };
        BAGS.with(|cell| match cell.try_borrow_mut() {
            Ok(mut buf) => {
                let (bags, logits) = &mut *buf;
                run(bags, logits)
            }
            Err(_) => run(&mut Vec::new(), &mut Vec::new()),
        })
    }

    /// `relu(bias + sum_j x_j table[j])` of row `r` into `h`.
    fn bag(&self, rows: &SparseRows, r: usize, h: &mut [f32]) {
        let net = &*self.net;
        let e = net.embed;
        h.copy_from_slice(&net.bias);
        let (idx, val) = rows.row(r);
        match &net.table {
            LayerWeights::F32(t) => {
                for (k, (&j, &x)) in idx.iter().zip(val).enumerate() {
                    self.prefetch_ahead(idx, k, |a| &t[a * e..(a + 1) * e]);
                    let row = &t[j as usize * e..(j as usize + 1) * e];
                    h.iter_mut().zip(row).for_each(|(a, &w)| *a += x * w);
                }
            }
            LayerWeights::F16(t) => {
                for (k, (&j, &x)) in idx.iter().zip(val).enumerate() {
                    self.prefetch_ahead(idx, k, |a| &t[a * e..(a + 1) * e]);
                    let row = &t[j as usize * e..(j as usize + 1) * e];
                    h.iter_mut().zip(row).for_each(|(a, &w)| *a += x * w.to_f32());
                }
            }
            LayerWeights::Int8 { q, scale } => {
                for (k, (&j, &x)) in idx.iter().zip(val).enumerate() {
                    self.prefetch_ahead(idx, k, |a| {
                        prefetch(&scale[a..a + 1]);
                        &q[a * e..(a + 1) * e]
                    });
                    let xs = x * scale[j as usize];
                    let row = &q[j as usize * e..(j as usize + 1) * e];
                    h.iter_mut().zip(row).for_each(|(a, &w)| *a += xs * f32::from(w));
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
