//! linfa integration: [`MlpParams`] implements `linfa::traits::Fit` and [`FittedMlp`] implements
//! `PredictInplace` (so `Predict` comes from linfa's blanket impls).
//!
//! Records are linfa's ndarray 0.16 `Array2<f32>` (the `ndarray016` dependency); targets are `bool` or
//! `usize` 0/1 (1 / `true` = malicious); `DatasetBase` weights, when present, are the per-sample
//! weights of the loss. linfa's `Fit` sees one dataset, so early stopping needs a validation set taken
//! from it: a seeded, stratified `validation_fraction` of the rows (default 0.15) is held out; with
//! `validation_fraction = 0` the training rows themselves are the validation set (early stopping then
//! watches the training loss without dropout).
//!
//! linfa's `predict_inplace` cannot return an error. Instead of asserting (panicking) on a record width
//! that differs from the network's, or on a target array of the wrong length, every output is set to
//! NaN (probabilities) or `false` (classes); [`FittedMlp::predict_proba`] is the checked alternative
//! that returns an error.

use super::gemm::Kernel;
use super::net::{Net, Workspace};
use super::{fit_mlp_with, History, Silent, TrainSet, ValidTrainParams};
use crate::error::{Error, Result};
use crate::nn::Mlp;
use crate::rng::Rng;
use linfa::dataset::{AsSingleTargets, DatasetBase};
use linfa::traits::{Fit, PredictInplace};
use ndarray016::{Array1, ArrayBase, Data, Ix2};

impl From<linfa::Error> for Error {
    fn from(e: linfa::Error) -> Self {
        Error::InvalidData(format!("linfa: {e}"))
    }
}

/// A target type usable as a binary label: `bool`, or `usize` 0/1.
pub trait BinaryLabel: Copy + std::fmt::Debug {
    /// 0.0 / 1.0, or `None` when the value is not a binary label.
    fn to_label(self) -> Option<f32>;
}

impl BinaryLabel for bool {
    fn to_label(self) -> Option<f32> {
        Some(if self { 1.0 } else { 0.0 })
    }
}

impl BinaryLabel for usize {
    fn to_label(self) -> Option<f32> {
        match self {
            0 => Some(0.0),
            1 => Some(1.0),
            _ => None,
        }
    }
}

/// Features, labels and weights of a linfa dataset as flat row-major vectors.
pub(crate) struct Flat {
    pub(crate) x: Vec<f32>,
    pub(crate) y: Vec<f32>,
    pub(crate) w: Vec<f32>,
    pub(crate) dims: usize,
}

impl Flat {
    pub(crate) fn set(&self) -> TrainSet<'_> {
        TrainSet { x: &self.x, dims: self.dims, y: &self.y, w: &self.w }
    }

    /// Copy the rows `idx`.
    fn select(&self, idx: &[usize]) -> Flat {
        let d = self.dims;
        Flat {
            x: idx.iter().flat_map(|&i| self.x[i * d..(i + 1) * d].iter().copied()).collect(),
            y: idx.iter().map(|&i| self.y[i]).collect(),
            w: idx.iter().map(|&i| self.w[i]).collect(),
            dims: d,
        }
    }
}

/// Flatten a linfa dataset, checking target length, labels and weights.
pub(crate) fn flatten<D, T, L>(ds: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<Flat>
where
    D: Data<Elem = f32>,
    T: AsSingleTargets<Elem = L>,
    L: BinaryLabel,
{
    let records = &ds.records;
    let (n, dims) = records.dim();
    let targets = ds.targets.as_single_targets();
    if targets.len() != n {
        return Err(Error::shape("dataset targets", n, targets.len()));
    }
    let y = targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            t.to_label().ok_or_else(|| Error::InvalidData(format!("target {i}: {t:?} is not a binary label (0/1)")))
        })
        .collect::<Result<Vec<f32>>>()?;
    let w = match ds.weights() {
        Some(w) if w.len() != n => return Err(Error::shape("dataset weights", n, w.len())),
        Some(w) => w.to_vec(),
        None => vec![1.0; n],
    };
    let x = records.as_standard_layout().iter().copied().collect();
    Ok(Flat { x, y, w, dims })
}

/// linfa parameters of the MLP: validated training settings plus the held-out validation fraction.
#[derive(Debug, Clone, PartialEq)]
pub struct MlpParams {
    params: ValidTrainParams,
    validation_fraction: f64,
}

impl MlpParams {
    /// Wrap checked settings; validation fraction 0.15.
    pub fn new(params: ValidTrainParams) -> Self {
        MlpParams { params, validation_fraction: 0.15 }
    }

    /// Fraction of rows (per class, seeded) held out for early stopping; in [0, 0.9]. 0 validates on
    /// the training rows.
    pub fn validation_fraction(mut self, fraction: f64) -> Result<Self> {
        if !(fraction.is_finite() && (0.0..=0.9).contains(&fraction)) {
            return Err(Error::param("validation_fraction", fraction, "must be in [0, 0.9]"));
        }
        self.validation_fraction = fraction;
        Ok(self)
    }

    /// The training settings.
    pub fn params(&self) -> &ValidTrainParams {
        &self.params
    }
}

/// Stratified, seeded split of row indices into (train, validation).
fn split(y: &[f32], fraction: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    let mut rng = Rng::new(seed ^ 0x564c_4441_5449_4f4e);
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for class in [0.0f32, 1.0] {
        let mut idx: Vec<usize> = (0..y.len()).filter(|&i| y[i] == class).collect();
        if idx.len() < 2 {
            return Err(Error::Training(format!(
                "class {class} has {} row(s); holding out a validation set needs at least 2 per class",
                idx.len()
            )));
        }
        rng.shuffle(&mut idx);
        let k = ((idx.len() as f64 * fraction).round() as usize).clamp(1, idx.len() - 1);
        val.extend_from_slice(&idx[..k]);
        train.extend_from_slice(&idx[k..]);
    }
    train.sort_unstable();
    val.sort_unstable();
    Ok((train, val))
}

impl<D, T, L> Fit<ArrayBase<D, Ix2>, T, Error> for MlpParams
where
    D: Data<Elem = f32>,
    T: AsSingleTargets<Elem = L>,
    L: BinaryLabel,
{
    type Object = FittedMlp;

    fn fit(&self, dataset: &DatasetBase<ArrayBase<D, Ix2>, T>) -> Result<FittedMlp> {
        let all = flatten(dataset)?;
        let kernel = Kernel::selected()?;
        let (mlp, history) = if self.validation_fraction == 0.0 {
            fit_mlp_with(&self.params, &all.set(), &all.set(), &mut Silent, kernel)?
        } else {
            let (ti, vi) = split(&all.y, self.validation_fraction, self.params.seed)?;
            let (tr, va) = (all.select(&ti), all.select(&vi));
            fit_mlp_with(&self.params, &tr.set(), &va.set(), &mut Silent, kernel)?
        };
        Ok(FittedMlp { net: Net::from_mlp(&mlp), mlp, history, kernel })
    }
}

/// A trained MLP as linfa sees it: predicts probabilities of class 1 (`f32`) or classes at 0.5 (`bool`).
#[derive(Debug, Clone)]
pub struct FittedMlp {
    mlp: Mlp,
    net: Net,
    history: History,
    kernel: Kernel,
}

impl FittedMlp {
    /// The network.
    pub fn mlp(&self) -> &Mlp {
        &self.mlp
    }

    /// Per-epoch history of the fit.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// The network, consuming `self`.
    pub fn into_mlp(self) -> Mlp {
        self.mlp
    }

    /// Probabilities of class 1; an error when the record width differs from the network's.
    pub fn predict_proba<D: Data<Elem = f32>>(&self, x: &ArrayBase<D, Ix2>) -> Result<Array1<f32>> {
        let (n, d) = x.dim();
        if d != self.mlp.input_dims() {
            return Err(Error::shape("records width", self.mlp.input_dims(), d));
        }
        let mut out = Array1::zeros(n);
        self.fill(x, out.as_slice_mut().unwrap_or(&mut []));
        Ok(out)
    }

    fn fill<D: Data<Elem = f32>>(&self, x: &ArrayBase<D, Ix2>, out: &mut [f32]) {
        let xs = x.as_standard_layout();
        let flat = xs.as_slice().unwrap_or(&[]);
        predict_into(&self.net, flat, out, self.kernel);
    }
}

/// Probabilities for row-major `x` (`out.len()` rows) with the training kernels.
pub(crate) fn predict_into(net: &Net, x: &[f32], out: &mut [f32], kernel: Kernel) {
    let d = net.widths[0];
    let n = out.len();
    let block = 256.min(n.max(1));
    let mut ws = Workspace::new(net, block);
    let zeros = vec![0.0f32; block];
    let mut start = 0;
    while start < n {
        let rows = (n - start).min(block);
        let set = TrainSet { x: &x[start * d..(start + rows) * d], dims: d, y: &zeros[..rows], w: &zeros[..rows] };
        ws.load_range(&set, 0, rows);
        ws.forward(net, rows, kernel, None);
        for (o, &s) in out[start..start + rows].iter_mut().zip(ws.logits(rows)) {
            *o = crate::nn::sigmoid(s);
        }
        start += rows;
    }
}

impl<D: Data<Elem = f32>> PredictInplace<ArrayBase<D, Ix2>, Array1<f32>> for FittedMlp {
    /// Probabilities of class 1; NaN everywhere on a width or length mismatch (see the module docs).
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<f32>) {
        let (n, d) = x.dim();
        if d != self.mlp.input_dims() || y.len() != n {
            y.fill(f32::NAN);
            return;
        }
        match y.as_slice_mut() {
            Some(out) => self.fill(x, out),
            None => {
                let mut tmp = vec![0.0; n];
                self.fill(x, &mut tmp);
                y.iter_mut().zip(tmp).for_each(|(a, b)| *a = b);
            }
        }
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<f32> {
        Array1::zeros(x.nrows())
    }
}

impl<D: Data<Elem = f32>> PredictInplace<ArrayBase<D, Ix2>, Array1<bool>> for FittedMlp {
    /// `probability >= 0.5`; all `false` on a width or length mismatch (see the module docs).
    fn predict_inplace(&self, x: &ArrayBase<D, Ix2>, y: &mut Array1<bool>) {
        let mut p = Array1::<f32>::zeros(y.len());
        self.predict_inplace(x, &mut p);
        y.iter_mut().zip(p.iter()).for_each(|(c, &p)| *c = p >= 0.5);
    }

    fn default_target(&self, x: &ArrayBase<D, Ix2>) -> Array1<bool> {
        Array1::from_elem(x.nrows(), false)
    }
}
