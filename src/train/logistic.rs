//! A weighted logistic-regression baseline that honours sample weights (linfa-logistic 0.8.1 does not).
//!
//! It minimises `sum_i w_i * BCE(x_i . beta + b, y_i) / sum_i w_i + l2/2 * |beta|^2` (the intercept is
//! not penalised) with L-BFGS and a backtracking (Armijo) line search, in f64. Dividing by the weight
//! sum keeps `l2` independent of the data size; duplicating a row is exactly doubling its weight.

use super::linfa::{flatten, BinaryLabel};
use super::{check_set, TrainSet};
use crate::error::{Error, Result};
use crate::nn::sigmoid;
use linfa::dataset::{AsSingleTargets, DatasetBase};
use linfa::traits::{Fit, PredictInplace};
use ndarray016::{Array1, ArrayBase, Data, Ix2};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Settings of [`fit_logistic`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogisticParams {
    /// L2 penalty on the coefficients (default 1e-3, the seed's).
    pub l2: f64,
    /// Maximum L-BFGS iterations (default 500).
    pub max_iter: usize,
    /// Stop when the largest gradient component is below this (default 1e-7).
    pub tol: f64,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams { l2: 1e-3, max_iter: 500, tol: 1e-7 }
    }
}

impl LogisticParams {
    /// Validate every setting; the error names it.
    pub fn check(&self) -> Result<()> {
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return Err(Error::param("l2", self.l2, "must be a finite number >= 0"));
        }
        if self.max_iter == 0 {
            return Err(Error::param("max_iter", 0, "must be at least 1"));
        }
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(Error::param("tol", self.tol, "must be a finite number > 0"));
        }
        Ok(())
    }
}

/// A fitted weighted logistic regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightedLogistic {
    /// One coefficient per feature.
    pub coef: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
    /// L-BFGS iterations run.
    pub iterations: usize,
    /// Whether the gradient tolerance was reached.
    pub converged: bool,
}

impl WeightedLogistic {
    /// Probability of class 1 for one row; an error when its width is wrong.
    pub fn predict_one(&self, x: &[f32]) -> Result<f32> {
        if x.len() != self.coef.len() {
            return Err(Error::shape("features", self.coef.len(), x.len()));
        }
        Ok(self.prob(x))
    }

    fn prob(&self, x: &[f32]) -> f32 {
        let z = self.intercept + self.coef.iter().zip(x).map(|(c, &v)| c * f64::from(v)).sum::<f64>();
        sigmoid(z as f32)
    }
}

/// Objective and gradient at `theta` (`[coef..., intercept]`).
fn objective(set: &TrainSet<'_>, l2: f64, wsum: f64, theta: &[f64], grad: &mut [f64]) -> f64 {
    let d = set.dims;
    grad.fill(0.0);
    let mut f = 0.0;
    for ((row, &y), &w) in set.x.chunks_exact(d).zip(set.y).zip(set.w) {
        if w == 0.0 {
            continue;
        }
        let z = theta[d] + theta[..d].iter().zip(row).map(|(t, &v)| t * f64::from(v)).sum::<f64>();
        let y = f64::from(y);
        let w = f64::from(w);
        f += w * (z.max(0.0) - z * y + (-z.abs()).exp().ln_1p());
        let p = if z >= 0.0 { 1.0 / (1.0 + (-z).exp()) } else { z.exp() / (1.0 + z.exp()) };
        let g = w * (p - y);
        grad[..d].iter_mut().zip(row).for_each(|(gi, &v)| *gi += g * f64::from(v));
        grad[d] += g;
    }
    f /= wsum;
    grad.iter_mut().for_each(|g| *g /= wsum);
    for i in 0..d {
        f += 0.5 * l2 * theta[i] * theta[i];
        grad[i] += l2 * theta[i];
    }
    f
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Fit on `set` (labels 0/1, weights >= 0, both classes present).
pub fn fit_logistic(params: &LogisticParams, set: &TrainSet<'_>) -> Result<WeightedLogistic> {
    params.check()?;
    if set.dims == 0 {
        return Err(Error::shape("feature width", "at least 1", 0));
    }
    check_set(set, set.dims, "train", true)?;
    let d = set.dims;
    let wsum: f64 = set.w.iter().map(|&w| f64::from(w)).sum();
    let mut theta = vec![0.0; d + 1];
    let mut g = vec![0.0; d + 1];
    let mut f = objective(set, params.l2, wsum, &theta, &mut g);
    let mut hist: VecDeque<(Vec<f64>, Vec<f64>, f64)> = VecDeque::new();
    let (mut new_theta, mut new_g) = (vec![0.0; d + 1], vec![0.0; d + 1]);
    let mut converged = false;
    let mut iterations = 0;
    while iterations < params.max_iter {
        if g.iter().fold(0.0f64, |m, v| m.max(v.abs())) < params.tol {
            converged = true;
            break;
        }
        iterations += 1;
        // Two-loop recursion: dir = -H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(hist.len());
        for (s, y, rho) in hist.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        let gamma = match hist.back() {
            Some((s, y, _)) => dot(s, y) / dot(y, y),
            None => 1.0 / dot(&g, &g).sqrt().max(1e-12),
        };
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y, rho), a) in hist.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += si * (a - b));
        }
        let mut dir: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut gd = dot(&g, &dir);
        if gd >= 0.0 {
            dir = g.iter().map(|v| -v).collect();
            gd = -dot(&g, &g);
            hist.clear();
        }
        let mut step = 1.0;
        let mut new_f;
        loop {
            new_theta.iter_mut().zip(&theta).zip(&dir).for_each(|((n, t), dv)| *n = t + step * dv);
            new_f = objective(set, params.l2, wsum, &new_theta, &mut new_g);
            if new_f <= f + 1e-4 * step * gd || step < 1e-20 {
                break;
            }
            step *= 0.5;
        }
        if !new_f.is_finite() {
            return Err(Error::Training(format!("logistic regression diverged at iteration {iterations}")));
        }
        let s: Vec<f64> = new_theta.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = new_g.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        let stalled = new_f >= f && step < 1e-20;
        std::mem::swap(&mut theta, &mut new_theta);
        std::mem::swap(&mut g, &mut new_g);
        f = new_f;
        if sy > 1e-16 {
            if hist.len() == 10 {
                hist.pop_front();
            }
            hist.push_back((s, y, 1.0 / sy));
        }
        if stalled {
            break;
        }
    }
    let intercept = theta[d];
    theta.truncate(d);
    Ok(WeightedLogistic { coef: theta, intercept, iterations, converged })
}

impl<D, T, L> Fit<ArrayBase<D, Ix2>, T, Error> for LogisticParams
where
    D: Data<Elem = f32>,
    T: AsSingleTargets<Elem = L>,
    L: BinaryLabel,
{
    type Object = WeightedLogistic;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<WeightedLogistic> {
        let flat = flatten(dataset)?;
        fit_logistic(self, &flat.set())
    }
}

impl<D: Data<Elem = f32>> PredictInplace<ArrayBase<D, Ix2>, Array1<f32>> for WeightedLogistic {
    /// Probabilities of class 1; NaN everywhere on a width or length mismatch (linfa's
    /// `predict_inplace` cannot return an error; [`WeightedLogistic::predict_one`] can).
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f32>) {
        if x.ncols() != self.coef.len() || y.len() != x.nrows() {
            y.fill(f32::NAN);
            return;
        }
        let row_buf: Vec<f32> = Vec::with_capacity(self.coef.len());
        let mut row_buf = row_buf;
        for (row, o) in x.rows().into_iter().zip(y.iter_mut()) {
            row_buf.clear();
            row_buf.extend(row.iter().copied());
            *o = self.prob(&row_buf);
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f32> {
        Array1::zeros(x.nrows())
    }
}

impl<D: Data<Elem = f32>> PredictInplace<ArrayBase<D, Ix2>, Array1<bool>> for WeightedLogistic {
    /// `probability >= 0.5`; all `false` on a width or length mismatch.
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<bool>) {
        let mut p = Array1::<f32>::zeros(y.len());
        self.predict_inplace(x, &mut p);
        y.iter_mut().zip(p.iter()).for_each(|(c, &p)| *c = p >= 0.5);
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<bool> {
        Array1::from_elem(x.nrows(), false)
    }
}
