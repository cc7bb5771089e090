//! Learnable synthetic data for benchmarks and tests: rows are random unit vectors (like the hashing
//! embedder's L2-normalised output) labelled by a fixed random teacher network, with label noise.
//!
//! Teacher: `logit = v . relu(W x sqrt(dims))` with `W` `[64][dims]` and `v` standard normal scaled by
//! `1/sqrt(fan_in)`; a row is malicious (1) when its teacher logit is above the 60th percentile, so 40%
//! of the rows are positive; then 5% of labels are flipped. Weights are the inverse-frequency class
//! weights `n / (2 n_c)` of the generated labels.

use crate::rng::Rng;

/// Teacher hidden width.
const TEACHER_HIDDEN: usize = 64;

/// A generated set: row-major `x`, labels, weights.
#[derive(Debug, Clone, PartialEq)]
pub struct Synthetic {
    /// `n x dims` features.
    pub x: Vec<f32>,
    /// Feature width.
    pub dims: usize,
    /// Labels 0/1.
    pub y: Vec<f32>,
    /// Inverse-frequency class weights per row.
    pub w: Vec<f32>,
}

impl Synthetic {
    /// Borrow as a training set.
    pub fn set(&self) -> super::TrainSet<'_> {
        super::TrainSet { x: &self.x, dims: self.dims, y: &self.y, w: &self.w }
    }
}

/// Generate `train` and `val` rows of width `dims` from one teacher; deterministic for `seed`.
pub fn teacher_split(train: usize, val: usize, dims: usize, seed: u64) -> (Synthetic, Synthetic) {
    let mut rng = Rng::new(seed);
    let w1: Vec<f32> = (0..TEACHER_HIDDEN * dims).map(|_| rng.normal() / (dims as f32).sqrt()).collect();
    let v: Vec<f32> = (0..TEACHER_HIDDEN).map(|_| rng.normal() / (TEACHER_HIDDEN as f32).sqrt()).collect();
    let n = train + val;
    let mut x = vec![0.0f32; n * dims];
    let mut logits = vec![0.0f32; n];
    let scale = (dims as f32).sqrt();
    for (row, logit) in x.chunks_exact_mut(dims.max(1)).zip(logits.iter_mut()) {
        row.iter_mut().for_each(|v| *v = rng.normal());
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        row.iter_mut().for_each(|v| *v /= norm);
        *logit = (0..TEACHER_HIDDEN)
            .map(|h| {
                let z: f32 = w1[h * dims..(h + 1) * dims].iter().zip(row.iter()).map(|(a, b)| a * b).sum();
                v[h] * (z * scale).max(0.0)
            })
            .sum();
    }
    let mut sorted = logits.clone();
    sorted.sort_by(f32::total_cmp);
    let cut = sorted.get(n * 6 / 10).copied().unwrap_or(0.0);
    let mut y: Vec<f32> = logits.iter().map(|&l| if l > cut { 1.0 } else { 0.0 }).collect();
    for label in y.iter_mut() {
        if rng.uniform() < 0.05 {
            *label = 1.0 - *label;
        }
    }
    let build = |range: std::ops::Range<usize>| {
        let ys = y[range.clone()].to_vec();
        let pos = ys.iter().filter(|&&v| v == 1.0).count().max(1) as f32;
        let neg = (ys.len() as f32 - pos).max(1.0);
        let len = ys.len() as f32;
        let w = ys.iter().map(|&v| if v == 1.0 { len / (2.0 * pos) } else { len / (2.0 * neg) }).collect();
        Synthetic { x: x[range.start * dims..range.end * dims].to_vec(), dims, y: ys, w }
    };
    (build(0..train), build(train..n))
}
