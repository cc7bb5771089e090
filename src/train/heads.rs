//! Training the softmax heads ([`crate::nn::Head`]) beside the binary output.
//!
//! A head reads the trunk's last hidden activations `A` (`[rows][inputs]`, as the output layer reads
//! them, dropout included) and adds `weight * sum_r c_r * CE(softmax(W a_r + b), y_r) / rows` to the
//! batch loss, over the rows that have a class (`c_r`: the inverse frequency of the row's class, mean
//! 1 over the labelled training rows, so that a rare family counts as much as a common one). Its
//! gradient goes to the head's own parameters (AdamW) and, through `A`, into the shared trunk.
//!
//! The binary output picks the epoch to keep, often an early one, so the heads then get a second
//! phase ([`refit_frozen`]): the kept trunk is frozen, its activations computed once (as inference
//! computes them), and each head alone is trained on them (a softmax regression) until its validation
//! loss stops improving. This phase cannot change a binary score.

use super::adamw::AdamW;
use super::gemm::Kernel;
use super::ValidTrainParams;
use crate::error::{Error, Result};
use crate::nn::heads::softmax;
use crate::nn::{Dense, Head, HeadKind};

/// The class of a row that does not train a head (benign rows, unknown family).
pub const NO_CLASS: u32 = u32::MAX;

/// What one head learns: its labels and each training row's class.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadTask {
    /// Which head.
    pub kind: HeadKind,
    /// Class names, in output order.
    pub labels: Vec<String>,
    /// Class of each training row (an index into `labels`, or [`NO_CLASS`]).
    pub train: Vec<u32>,
    /// Class of each validation row (for the frozen phase's early stopping).
    pub val: Vec<u32>,
}

impl HeadTask {
    /// Check the classes against `rows` training rows; every class must have a row.
    pub fn check(&self, rows: usize, val_rows: usize) -> Result<()> {
        if self.val.len() != val_rows {
            return Err(Error::shape(format!("{} validation classes", self.kind), val_rows, self.val.len()));
        }
        if self.val.iter().any(|&c| c != NO_CLASS && c as usize >= self.labels.len()) {
            return Err(Error::InvalidData(format!("a {} validation class is out of range", self.kind)));
        }
        let k = self.labels.len();
        if k < 2 {
            return Err(Error::Training(format!("the {} head needs at least 2 classes, got {k}", self.kind)));
        }
        if self.train.len() != rows {
            return Err(Error::shape(format!("{} classes", self.kind), rows, self.train.len()));
        }
        if let Some(i) = self.train.iter().position(|&c| c != NO_CLASS && c as usize >= k) {
            return Err(Error::InvalidData(format!("{} class of row {i} is not below {k}", self.kind)));
        }
        let counts = self.counts();
        if let Some(c) = counts.iter().position(|&n| n == 0) {
            return Err(Error::Training(format!(
                "the {} head's class {} has no training row",
                self.kind, self.labels[c]
            )));
        }
        Ok(())
    }

    fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0usize; self.labels.len()];
        for &c in &self.train {
            if c != NO_CLASS {
                counts[c as usize] += 1;
            }
        }
        counts
    }
}

/// A head in training: flat parameters `[W (k x inputs) | b (k)]`, their gradient and optimiser.
pub(crate) struct HeadState {
    kind: HeadKind,
    labels: Vec<String>,
    inputs: usize,
    params: Vec<f32>,
    grads: Vec<f32>,
    opt: AdamW,
    /// Loss weight of each class.
    class_weight: Vec<f32>,
    /// Logits, then probabilities, of a batch: `[rows][k]`.
    probs: Vec<f32>,
}

impl HeadState {
    /// A zero-initialised head for `task` over `inputs` trunk units, for batches up to `cap` rows.
    pub(crate) fn new(task: &HeadTask, inputs: usize, cap: usize, params: &ValidTrainParams) -> HeadState {
        let k = task.labels.len();
        // Small random weights, so that the trunk feels the head's gradient from the first step.
        let mut rng = crate::rng::Rng::new(params.seed ^ INIT_STREAM ^ task.kind as u64);
        let std = (1.0 / inputs.max(1) as f32).sqrt();
        let mut init: Vec<f32> = (0..k * inputs).map(|_| rng.normal() * std).collect();
        init.resize(k * inputs + k, 0.0);
        let counts = task.counts();
        let labelled: usize = counts.iter().sum();
        let class_weight = counts.iter().map(|&n| labelled as f32 / (k as f32 * n.max(1) as f32)).collect();
        HeadState {
            kind: task.kind,
            labels: task.labels.clone(),
            inputs,
            params: init,
            grads: vec![0.0; k * inputs + k],
            opt: AdamW::new(
                k * inputs + k,
                k * inputs,
                params.learning_rate,
                params.beta1,
                params.beta2,
                params.epsilon,
                params.weight_decay,
            ),
            class_weight,
            probs: vec![0.0; cap * k],
        }
    }

    fn k(&self) -> usize {
        self.labels.len()
    }

    /// Forward and backward on one batch: `a` is `[rows][inputs]`, `classes[r]` the row's class.
    /// Writes the head's parameter gradient, adds `weight *` its gradient with respect to `a` into
    /// `da`, and returns the weighted loss sum (not divided by `rows`).
    pub(crate) fn step_batch(&mut self, a: &[f32], classes: &[u32], weight: f32, da: &mut [f32]) -> f64 {
        let (k, d) = (self.k(), self.inputs);
        let rows = classes.len();
        let (w, b) = self.params.split_at(k * d);
        let inv = weight / rows as f32;
        self.grads.fill(0.0);
        let mut total = 0.0f64;
        for (r, &c) in classes.iter().enumerate() {
            if c == NO_CLASS {
                continue;
            }
            let ar = &a[r * d..(r + 1) * d];
            let p = &mut self.probs[r * k..(r + 1) * k];
            for ((o, row), &bo) in p.iter_mut().zip(w.chunks_exact(d)).zip(b) {
                *o = bo + row.iter().zip(ar).map(|(x, y)| x * y).sum::<f32>();
            }
            softmax(p);
            let cw = self.class_weight[c as usize];
            total += f64::from(weight * cw) * -f64::from(p[c as usize].max(f32::MIN_POSITIVE)).ln();
            let (gw, gb) = self.grads.split_at_mut(k * d);
            let dar = &mut da[r * d..(r + 1) * d];
            for j in 0..k {
                let g = (p[j] - f32::from(j as u32 == c)) * cw * inv;
                gb[j] += g;
                let wj = &w[j * d..(j + 1) * d];
                gw[j * d..(j + 1) * d].iter_mut().zip(ar).for_each(|(x, &y)| *x += g * y);
                dar.iter_mut().zip(wj).for_each(|(x, &y)| *x += g * y);
            }
        }
        total
    }

    /// Mean class-weighted loss over the rows of `a` that have a class.
    fn loss(&mut self, a: &[f32], classes: &[u32]) -> f64 {
        let (cap, d) = (self.probs.len() / self.k(), self.inputs);
        let mut scratch = vec![0.0; cap * d];
        let mut total = 0.0;
        for (ab, cb) in a.chunks(cap * d).zip(classes.chunks(cap)) {
            total += self.step_batch(ab, cb, 1.0, &mut scratch[..ab.len()]);
        }
        let n = classes.iter().filter(|&&c| c != NO_CLASS).count();
        if n == 0 {
            0.0
        } else {
            total / n as f64
        }
    }

    /// Apply the gradient of the last [`HeadState::step_batch`].
    pub(crate) fn update(&mut self, kernel: Kernel) {
        self.opt.step(&mut self.params, &self.grads, kernel);
    }

    pub(crate) fn all_finite(&self) -> bool {
        self.params.iter().all(|v| v.is_finite())
    }

    /// The head as the network stores it.
    pub(crate) fn to_head(&self) -> Head {
        let (k, d) = (self.k(), self.inputs);
        Head {
            kind: self.kind,
            labels: self.labels.clone(),
            layer: Dense {
                inputs: d,
                outputs: k,
                weight: self.params[..k * d].to_vec(),
                bias: self.params[k * d..].to_vec(),
            },
        }
    }
}

/// Epochs of the frozen phase at most, and without improvement of the validation loss before it stops.
const FROZEN_EPOCHS: usize = 30;
const FROZEN_PATIENCE: usize = 3;
/// The frozen phase is a small convex problem: it takes larger steps than the network's training.
const FROZEN_LR_SCALE: f32 = 10.0;
const INIT_STREAM: u64 = 0x4845_4144_494e_4954;
const FROZEN_STREAM: u64 = 0x4845_4144_5346_525a;

/// Train `heads` (the kept network's) alone on the frozen trunk activations `a_train` / `a_val`
/// (`[rows][inputs]`), keeping the epoch with the lowest validation loss (see the module docs).
pub(crate) fn refit_frozen(
    heads: &mut [Head],
    tasks: &[HeadTask],
    a_train: &[f32],
    a_val: &[f32],
    params: &ValidTrainParams,
    kernel: Kernel,
) {
    let fast = ValidTrainParams(super::TrainParams {
        learning_rate: params.learning_rate * FROZEN_LR_SCALE,
        ..params.0.clone()
    });
    let bs = params.batch_size;
    for (head, task) in heads.iter_mut().zip(tasks) {
        let d = head.layer.inputs;
        let n = task.train.len();
        let mut st = HeadState::new(task, d, bs.max(1), &fast);
        st.params[..head.layer.weight.len()].copy_from_slice(&head.layer.weight);
        st.params[head.layer.weight.len()..].copy_from_slice(&head.layer.bias);
        let mut best = (st.loss(a_val, &task.val), st.params.clone());
        let mut since = 0;
        let mut rng = crate::rng::Rng::new(params.seed ^ FROZEN_STREAM);
        let mut order: Vec<usize> = (0..n).filter(|&i| task.train[i] != NO_CLASS).collect();
        let (mut a, mut c, mut da) = (vec![0.0; bs * d], vec![0u32; bs], vec![0.0; bs * d]);
        for _ in 0..FROZEN_EPOCHS {
            rng.shuffle(&mut order);
            for idx in order.chunks(bs) {
                for (r, &i) in idx.iter().enumerate() {
                    a[r * d..(r + 1) * d].copy_from_slice(&a_train[i * d..(i + 1) * d]);
                    c[r] = task.train[i];
                }
                let rows = idx.len();
                st.step_batch(&a[..rows * d], &c[..rows], 1.0, &mut da[..rows * d]);
                st.update(kernel);
            }
            let v = st.loss(a_val, &task.val);
            if v < best.0 && st.all_finite() {
                best = (v, st.params.clone());
                since = 0;
            } else {
                since += 1;
                if since >= FROZEN_PATIENCE {
                    break;
                }
            }
        }
        st.params = best.1;
        *head = st.to_head();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::TrainParams;

    fn loss(state: &HeadState, a: &[f64], classes: &[u32], weight: f64) -> f64 {
        let (k, d) = (state.k(), state.inputs);
        let mut total = 0.0;
        for (r, &c) in classes.iter().enumerate() {
            if c == NO_CLASS {
                continue;
            }
            let z: Vec<f64> = (0..k)
                .map(|j| {
                    f64::from(state.params[k * d + j])
                        + (0..d).map(|i| f64::from(state.params[j * d + i]) * a[r * d + i]).sum::<f64>()
                })
                .collect();
            let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = max + z.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
            total += weight * f64::from(state.class_weight[c as usize]) * (lse - z[c as usize]);
        }
        total / classes.len() as f64
    }

    /// The gradient with respect to the trunk activations agrees with central differences of an
    /// f64 reference, and so does the gradient of every head parameter.
    #[test]
    fn gradients_match_finite_differences() {
        let task = HeadTask {
            kind: HeadKind::Family,
            labels: vec!["a".into(), "b".into(), "c".into()],
            train: vec![0, 1, 2, 1, NO_CLASS],
            val: vec![],
        };
        task.check(5, 0).unwrap();
        let params = TrainParams::default().check().unwrap();
        let mut st = HeadState::new(&task, 4, 5, &params);
        let mut rng = crate::rng::Rng::new(3);
        st.params.iter_mut().for_each(|p| *p = rng.normal() * 0.5);
        let a: Vec<f32> = (0..5 * 4).map(|_| rng.normal()).collect();
        let mut da = vec![0.0; 20];
        let weight = 0.7;
        let sum = st.step_batch(&a, &task.train, weight, &mut da);
        let a64: Vec<f64> = a.iter().map(|&v| f64::from(v)).collect();
        let want = loss(&st, &a64, &task.train, f64::from(weight));
        assert!((sum / 5.0 - want).abs() < 1e-5, "{sum} vs {want}");
        let h = 1e-4;
        for i in 0..a.len() {
            let (mut up, mut down) = (a64.clone(), a64.clone());
            up[i] += h;
            down[i] -= h;
            let num = (loss(&st, &up, &task.train, 0.7) - loss(&st, &down, &task.train, 0.7)) / (2.0 * h);
            assert!((f64::from(da[i]) - num).abs() <= 1e-3 * (num.abs() + 1e-2), "a[{i}]: {} vs {num}", da[i]);
        }
        for i in 0..st.params.len() {
            let orig = st.params[i];
            st.params[i] = orig + 1e-3;
            let up = loss(&st, &a64, &task.train, 0.7);
            st.params[i] = orig - 1e-3;
            let down = loss(&st, &a64, &task.train, 0.7);
            st.params[i] = orig;
            let num = (up - down) / 2e-3;
            let got = f64::from(st.grads[i]);
            assert!((got - num).abs() <= 2e-3 * (num.abs() + 1e-2), "param {i}: {got} vs {num}");
        }
        assert!(da[16..].iter().all(|&v| v == 0.0), "a row without a class sends no gradient");
    }

    #[test]
    fn tasks_are_checked() {
        let t = HeadTask {
            kind: HeadKind::Severity,
            labels: vec!["low".into(), "high".into()],
            train: vec![0, 0],
            val: vec![1],
        };
        assert!(t.check(2, 1).unwrap_err().to_string().contains("class high has no training row"));
        assert!(t.check(3, 1).is_err());
        assert!(t.check(2, 2).is_err());
        let t = HeadTask { train: vec![0, 5], ..t };
        assert!(t.check(2, 1).unwrap_err().to_string().contains("not below 2"));
    }
}
