//! Input validation and the scalar metrics: Wilson intervals, ROC AUC (Mann-Whitney) and average precision.

use crate::error::{Error, Result};

/// The normal quantile for a two-sided 95% interval.
pub const Z95: f64 = 1.959963984540054;

/// Wilson score interval for `k` successes in `n` trials at normal quantile `z` (1.96 for 95%).
///
/// With `p = k/n`: centre `(p + z²/2n) / (1 + z²/n)`, half-width `z/(1 + z²/n) * sqrt(p(1-p)/n + z²/4n²)`,
/// clamped to `[0, 1]`. `n = 0` carries no information and gives `(0, 1)`; `k > n` is treated as `k = n`
/// (the function is total so that it can sit inside reports without an error path).
pub fn wilson(k: usize, n: usize, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n_f = n as f64;
    let p = k.min(n) as f64 / n_f;
    let z2 = z * z;
    let denom = 1.0 + z2 / n_f;
    let centre = (p + z2 / (2.0 * n_f)) / denom;
    let half = z / denom * (p * (1.0 - p) / n_f + z2 / (4.0 * n_f * n_f)).sqrt();
    // At k = 0 (or k = n) the bound is 0 (or 1) exactly; rounding would otherwise leave 1e-17.
    let lo = if k == 0 { 0.0 } else { (centre - half).max(0.0) };
    let hi = if k >= n { 1.0 } else { (centre + half).min(1.0) };
    (lo, hi)
}

/// Check that `scores` and `labels` line up, scores are finite and labels are 0/1; returns the counts
/// (benign, malicious).
pub(crate) fn check_scores_labels(scores: &[f32], labels: &[u8]) -> Result<(usize, usize)> {
    if scores.len() != labels.len() {
        return Err(Error::shape("scores vs labels", format!("{} labels (one per score)", scores.len()), labels.len()));
    }
    check_finite(scores)?;
    let mut malicious = 0;
    for (i, &l) in labels.iter().enumerate() {
        match l {
            0 => {}
            1 => malicious += 1,
            other => return Err(Error::InvalidData(format!("label at index {i} is {other}, expected 0 or 1"))),
        }
    }
    Ok((labels.len() - malicious, malicious))
}

/// Every score must be a finite number.
pub(crate) fn check_finite(scores: &[f32]) -> Result<()> {
    match scores.iter().position(|s| !s.is_finite()) {
        Some(i) => Err(Error::InvalidData(format!("score at index {i} is {}, expected a finite number", scores[i]))),
        None => Ok(()),
    }
}

/// Indices of `scores` sorted by score, highest first (ties in index order, so results are deterministic).
pub(crate) fn order_desc(scores: &[f32]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    idx
}

/// Cumulative (tp, fp) after each group of tied scores, walking from the highest score down, with the
/// group's score: entry `i` is what `scores >= score_i` flags.
pub(crate) fn tied_groups(scores: &[f32], labels: &[u8]) -> Vec<(f32, usize, usize)> {
    let order = order_desc(scores);
    let mut out: Vec<(f32, usize, usize)> = Vec::new();
    let (mut tp, mut fp) = (0usize, 0usize);
    for (pos, &i) in order.iter().enumerate() {
        if labels[i] == 1 {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_group = order.get(pos + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_group {
            out.push((scores[i], tp, fp));
        }
    }
    out
}

/// ROC AUC as the Mann-Whitney statistic: the probability that a random malicious row scores above a
/// random benign one, ties counting one half. `None` when a class is absent. Inputs must be checked.
pub(crate) fn roc_auc(scores: &[f32], labels: &[u8]) -> Option<f64> {
    let pos = labels.iter().filter(|&&l| l == 1).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    // Walk groups of tied scores from the lowest up: each malicious row beats every benign row below its
    // group and ties with the benign rows inside it.
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut benign_below = 0u64;
    let mut wins = 0f64;
    let mut start = 0;
    while start < idx.len() {
        let mut end = start;
        while end < idx.len() && scores[idx[end]] == scores[idx[start]] {
            end += 1;
        }
        let group_pos = idx[start..end].iter().filter(|&&i| labels[i] == 1).count() as u64;
        let group_neg = (end - start) as u64 - group_pos;
        wins += (group_pos * benign_below) as f64 + 0.5 * (group_pos * group_neg) as f64;
        benign_below += group_neg;
        start = end;
    }
    Some(wins / (pos as f64 * neg as f64))
}

/// ROC AUC of checked inputs (see [`roc_auc`]): an error for mismatched lengths, non-finite scores or
/// labels other than 0/1; `None` when a class is absent.
pub fn auc(scores: &[f32], labels: &[u8]) -> Result<Option<f64>> {
    check_scores_labels(scores, labels)?;
    Ok(roc_auc(scores, labels))
}

/// Average precision: `AP = Σ_k (R_k − R_{k−1}) · P_k` over the distinct score thresholds from the highest
/// down, where `P_k`, `R_k` are precision and recall of `scores >= s_k` (tied rows enter together), with
/// `R_0 = 0`. This is the step-wise area under the PR curve without interpolation (scikit-learn's
/// `average_precision_score`). `None` when there are no malicious rows. Inputs must be checked.
pub(crate) fn average_precision(scores: &[f32], labels: &[u8]) -> Option<f64> {
    let pos = labels.iter().filter(|&&l| l == 1).count();
    if pos == 0 {
        return None;
    }
    // Sum Δtp · P and divide once: a perfect ranking then gives exactly 1.
    let mut sum = 0.0;
    let mut prev_tp = 0usize;
    for (_, tp, fp) in tied_groups(scores, labels) {
        if tp > prev_tp {
            sum += (tp - prev_tp) as f64 * (tp as f64 / (tp + fp) as f64);
            prev_tp = tp;
        }
    }
    Some(sum / pos as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_edges() {
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
        let (lo, hi) = wilson(0, 10, Z95);
        assert_eq!(lo, 0.0);
        assert!(hi > 0.25 && hi < 0.35, "{hi}");
        let (lo, hi) = wilson(10, 10, Z95);
        assert_eq!(hi, 1.0);
        assert!(lo > 0.65 && lo < 0.75, "{lo}");
        assert_eq!(wilson(12, 10, Z95), wilson(10, 10, Z95));
    }

    #[test]
    fn auc_counts_ties_as_half() {
        // One malicious and one benign at the same score: AUC 0.5.
        assert_eq!(roc_auc(&[0.5, 0.5], &[1, 0]), Some(0.5));
        assert_eq!(roc_auc(&[0.9, 0.1], &[1, 0]), Some(1.0));
        assert_eq!(roc_auc(&[0.1, 0.9], &[1, 0]), Some(0.0));
        assert_eq!(roc_auc(&[0.1, 0.9], &[1, 1]), None);
    }

    #[test]
    fn ap_groups_ties() {
        // Both rows tie: precision at the only threshold is 1/2, recall jumps 0 -> 1.
        assert_eq!(average_precision(&[0.5, 0.5], &[1, 0]), Some(0.5));
        assert_eq!(average_precision(&[0.9, 0.5], &[1, 0]), Some(1.0));
        assert_eq!(average_precision(&[0.9], &[0]), None);
    }
}
