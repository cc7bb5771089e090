//! The training loop: seeded shuffles, mini-batches, AdamW, per-epoch validation, early stopping.

use super::adamw::AdamW;
use super::gemm::Kernel;
use super::net::{Dropout, Net, Workspace};
use super::{EpochStats, History, TrainObserver, TrainSet, ValidTrainParams};
use crate::error::{Error, Result};
use crate::eval::Confusion;
use crate::nn::Mlp;
use crate::rng::Rng;
use std::time::Instant;

/// Rows per forward pass when evaluating (no gradients, so larger blocks are cheaper per row).
const EVAL_ROWS: usize = 256;
/// Stream separators so that shuffling and dropout never share random numbers with initialisation.
const SHUFFLE_STREAM: u64 = 0x5348_5546_464c_4521;
const DROPOUT_STREAM: u64 = 0x4452_4f50_4f55_5421;

/// Loss and decisions of a network on a set (dropout off).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SetMetrics {
    /// Mean over rows of `w * BCE`.
    pub loss: f64,
    /// Decisions at probability 0.5.
    pub confusion: Confusion,
    /// False-positive rate at probability 0.5 (`None` when the set has no negatives).
    pub fpr: Option<f64>,
    /// True-positive rate at probability 0.5 (`None` when the set has no positives).
    pub tpr: Option<f64>,
}

/// Check a set's shape and values; `what` names it in errors (`train`, `validation`).
pub fn check_set(set: &TrainSet<'_>, dims: usize, what: &str, need_both_classes: bool) -> Result<()> {
    let n = set.len();
    if n == 0 {
        return Err(Error::InvalidData(format!("the {what} set is empty")));
    }
    if set.dims != dims {
        return Err(Error::shape(format!("{what} feature width"), dims, set.dims));
    }
    if set.x.len() != n * dims {
        return Err(Error::shape(
            format!("{what} features"),
            format!("{n} x {dims} = {} floats", n * dims),
            set.x.len(),
        ));
    }
    if set.w.len() != n {
        return Err(Error::shape(format!("{what} weights"), n, set.w.len()));
    }
    if let Some(i) = set.y.iter().position(|&y| y != 0.0 && y != 1.0) {
        return Err(Error::InvalidData(format!("{what} row {i}: label must be 0 or 1, got {}", set.y[i])));
    }
    if let Some(i) = set.w.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
        return Err(Error::InvalidData(format!("{what} row {i}: weight must be finite and >= 0, got {}", set.w[i])));
    }
    if let Some(i) = set.x.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidData(format!("{what} row {}: feature {} is not finite", i / dims, i % dims)));
    }
    if set.w.iter().all(|&w| w == 0.0) {
        return Err(Error::InvalidData(format!("every {what} weight is 0")));
    }
    if need_both_classes {
        let pos = set.y.iter().filter(|&&y| y == 1.0).count();
        if pos == 0 || pos == n {
            let missing = if pos == 0 { "malicious (1)" } else { "benign (0)" };
            return Err(Error::Training(format!("the {what} set has no {missing} rows; both classes are needed")));
        }
    }
    Ok(())
}

/// Most floats one parameter or activation buffer may hold (1 GiB of f32): a larger network or batch is
/// a settings error instead of an allocation failure.
const MAX_BUFFER: usize = 1 << 28;

fn check_size(params: &ValidTrainParams, dims: usize) -> Result<()> {
    let mut widths = vec![dims];
    widths.extend(&params.hidden);
    widths.push(1);
    let weights = widths.windows(2).try_fold(0usize, |acc, w| w[0].checked_mul(w[1]).and_then(|m| acc.checked_add(m)));
    match weights {
        Some(n) if n <= MAX_BUFFER => {}
        _ => {
            return Err(Error::param(
                "hidden",
                format!("{:?}", params.hidden),
                format!("the network {widths:?} has more than {MAX_BUFFER} weights"),
            ))
        }
    }
    let widest = widths.iter().copied().max().unwrap_or(1);
    if params.batch_size.max(EVAL_ROWS).checked_mul(widest).is_none_or(|n| n > MAX_BUFFER) {
        return Err(Error::param(
            "batch_size",
            params.batch_size,
            format!("batch_size x widest layer ({widest}) exceeds {MAX_BUFFER} floats"),
        ));
    }
    Ok(())
}

/// Train with an explicit kernel; [`super::fit_mlp`] picks it with [`Kernel::selected`].
pub fn fit_mlp_with(
    params: &ValidTrainParams,
    train: &TrainSet<'_>,
    val: &TrainSet<'_>,
    observer: &mut dyn TrainObserver,
    kernel: Kernel,
) -> Result<(Mlp, History)> {
    let kernel = kernel.require()?;
    let dims = train.dims;
    if dims == 0 {
        return Err(Error::shape("train feature width", "at least 1", 0));
    }
    check_set(train, dims, "train", true)?;
    check_set(val, dims, "validation", true)?;
    check_size(params, dims)?;

    let mut net = Net::from_mlp(&Mlp::init(dims, &params.hidden, params.seed)?);
    let bs = params.batch_size.min(train.len());
    let mut ws = Workspace::new(&net, bs.max(EVAL_ROWS));
    let mut opt = AdamW::new(
        net.params.len(),
        net.n_weights,
        params.learning_rate,
        params.beta1,
        params.beta2,
        params.epsilon,
        params.weight_decay,
    );
    let mut shuffle = Rng::new(params.seed ^ SHUFFLE_STREAM);
    let mut drop_rng = Rng::new(params.seed ^ DROPOUT_STREAM);
    let mut order: Vec<usize> = (0..train.len()).collect();
    let batches = train.len().div_ceil(bs);
    let mut history = History::default();
    let mut best: Option<(f64, usize, Vec<f32>)> = None;

    for epoch in 1..=params.epochs {
        let t0 = Instant::now();
        shuffle.shuffle(&mut order);
        let mut sum = 0.0f64;
        for (bi, idx) in order.chunks(bs).enumerate() {
            let rows = idx.len();
            ws.gather(train, idx);
            ws.forward(&net, rows, kernel, Some(Dropout { rng: &mut drop_rng, p: params.dropout }));
            let loss = ws.loss_and_seed(rows);
            if !loss.is_finite() {
                return Err(super::diverged(loss, epoch, bi + 1, params.learning_rate));
            }
            sum += loss;
            ws.backward(&net, rows, kernel, params.dropout);
            opt.step(&mut net.params, &ws.grads, kernel);
            if !observer.on_batch(epoch, bi + 1, batches) {
                return Err(Error::Cancelled);
            }
        }
        let m = evaluate_net(&net, val, &mut ws, kernel);
        let stats = EpochStats {
            epoch,
            train_loss: sum / train.len() as f64,
            val_loss: m.loss,
            val_fpr: m.fpr,
            val_tpr: m.tpr,
            seconds: t0.elapsed().as_secs_f64(),
            val_auc: None,
            val_recall_at_fpr: None,
        };
        if !m.loss.is_finite() || net.params.iter().any(|p| !p.is_finite()) {
            return Err(Error::Training(format!(
                "diverged: the validation loss is {} after epoch {epoch}; lower learning_rate (now {})",
                m.loss, params.learning_rate
            )));
        }
        history.epochs.push(stats.clone());
        if best.as_ref().is_none_or(|b| m.loss < b.0) {
            match best.as_mut() {
                Some(b) => {
                    b.0 = m.loss;
                    b.1 = epoch;
                    b.2.copy_from_slice(&net.params);
                }
                None => best = Some((m.loss, epoch, net.params.clone())),
            }
        }
        if !observer.on_epoch(&stats) {
            return Err(Error::Cancelled);
        }
        let best_epoch = best.as_ref().map_or(epoch, |b| b.1);
        if params.patience > 0 && epoch - best_epoch >= params.patience {
            history.stopped_early = epoch < params.epochs;
            break;
        }
    }
    if let Some((_, epoch, p)) = best {
        history.best_epoch = epoch;
        net.params = p;
    }
    Ok((net.to_mlp(), history))
}

fn evaluate_net(net: &Net, set: &TrainSet<'_>, ws: &mut Workspace, kernel: Kernel) -> SetMetrics {
    let mut total = 0.0;
    let mut confusion = Confusion::default();
    let mut start = 0;
    while start < set.len() {
        let rows = (set.len() - start).min(EVAL_ROWS);
        ws.load_range(set, start, rows);
        ws.forward(net, rows, kernel, None);
        total += ws.score(rows, &mut confusion);
        start += rows;
    }
    SetMetrics { loss: total / set.len() as f64, confusion, fpr: confusion.fpr(), tpr: confusion.tpr() }
}

/// Weighted BCE and rates at 0.5 of `mlp` on `set`, computed exactly as the training loop's
/// validation step (dropout off).
pub fn evaluate_mlp(mlp: &Mlp, set: &TrainSet<'_>) -> Result<SetMetrics> {
    if mlp.layers.is_empty() || mlp.layers.last().map(|l| l.outputs) != Some(1) {
        return Err(Error::shape("network", "layers ending in one output", format!("{} layers", mlp.layers.len())));
    }
    for (i, l) in mlp.layers.iter().enumerate() {
        if l.weight.len() != l.inputs * l.outputs || l.bias.len() != l.outputs {
            return Err(Error::shape(format!("layers.{i}"), format!("{} x {}", l.outputs, l.inputs), l.weight.len()));
        }
        if i > 0 && mlp.layers[i - 1].outputs != l.inputs {
            return Err(Error::shape(format!("layers.{i} inputs"), mlp.layers[i - 1].outputs, l.inputs));
        }
    }
    check_set(set, mlp.input_dims(), "evaluation", false)?;
    let net = Net::from_mlp(mlp);
    let mut ws = Workspace::new(&net, EVAL_ROWS.min(set.len()));
    Ok(evaluate_net(&net, set, &mut ws, Kernel::selected()?))
}
