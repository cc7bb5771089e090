//! AdamW (Loshchilov & Hutter): Adam with decoupled weight decay and bias correction, in PyTorch's
//! order of operations: `w *= 1 - lr*wd`, then `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g^2`,
//! `w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
//!
//! Decay applies to weight matrices only; biases are not decayed (the PyTorch reference script uses
//! the same two parameter groups).

use super::gemm::{isa_dispatch, Kernel};

/// Optimiser state for a flat parameter vector whose first `decayed` entries are weights.
#[derive(Debug, Clone)]
pub(crate) struct AdamW {
    m: Vec<f32>,
    v: Vec<f32>,
    t: i32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    decayed: usize,
}

impl AdamW {
    pub(crate) fn new(
        len: usize,
        decayed: usize,
        lr: f32,
        beta1: f32,
        beta2: f32,
        eps: f32,
        weight_decay: f32,
    ) -> Self {
        AdamW { m: vec![0.0; len], v: vec![0.0; len], t: 0, lr, beta1, beta2, eps, weight_decay, decayed }
    }

    /// One update of `params` from `grads` (both the length given to [`AdamW::new`]).
    pub(crate) fn step(&mut self, params: &mut [f32], grads: &[f32], kernel: Kernel) {
        assert!(params.len() == self.m.len() && grads.len() == self.m.len(), "adamw: length mismatch");
        self.t = self.t.saturating_add(1);
        let bc1 = 1.0 - f64::from(self.beta1).powi(self.t);
        let bc2 = 1.0 - f64::from(self.beta2).powi(self.t);
        let c = Consts {
            step: (f64::from(self.lr) / bc1) as f32,
            inv_bc2_sqrt: (1.0 / bc2.sqrt()) as f32,
            b1: self.beta1,
            b2: self.beta2,
            eps: self.eps,
        };
        let decay = 1.0 - self.lr * self.weight_decay;
        let d = self.decayed;
        let (pw, pb) = params.split_at_mut(d);
        let (gw, gb) = grads.split_at(d);
        let (mw, mb) = self.m.split_at_mut(d);
        let (vw, vb) = self.v.split_at_mut(d);
        update_isa(kernel, pw, gw, mw, vw, decay, c);
        update_isa(kernel, pb, gb, mb, vb, 1.0, c);
    }
}

#[derive(Clone, Copy)]
struct Consts {
    step: f32,
    inv_bc2_sqrt: f32,
    b1: f32,
    b2: f32,
    eps: f32,
}

isa_dispatch!(fn update_isa(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], decay: f32, c: Consts) => update);

#[inline(always)]
fn update(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], decay: f32, c: Consts) {
    let n = p.len().min(g.len()).min(m.len()).min(v.len());
    let (p, g, m, v) = (&mut p[..n], &g[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let gi = g[i];
        let mi = c.b1 * m[i] + (1.0 - c.b1) * gi;
        let vi = c.b2 * v[i] + (1.0 - c.b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - c.step * mi / (vi.sqrt() * c.inv_bc2_sqrt + c.eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_weight_by_about_lr_against_the_gradient_and_decays_only_weights() {
        let mut opt = AdamW::new(4, 2, 0.1, 0.9, 0.999, 1e-8, 0.5);
        let mut p = vec![1.0f32, -1.0, 1.0, -1.0];
        let g = vec![2.0f32, -3.0, 2.0, -3.0];
        opt.step(&mut p, &g, Kernel::detect());
        // Bias-corrected first step is lr * sign(g); weights are first scaled by 1 - lr*wd = 0.95.
        let want = [0.95 - 0.1, -0.95 + 0.1, 1.0 - 0.1, -1.0 + 0.1];
        for (a, b) in p.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{p:?}");
        }
    }
}
