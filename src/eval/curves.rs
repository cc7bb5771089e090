//! ROC and precision-recall curves and per-class score histograms, for plots and the release gate.

use super::metrics::{check_scores_labels, tied_groups};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// One point of a ROC curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RocPoint {
    /// False-positive rate of `scores >= threshold`.
    pub fpr: f64,
    /// True-positive rate of `scores >= threshold`.
    pub tpr: f64,
    /// The threshold (a score value; the first point's is just above the highest score).
    pub threshold: f32,
}

/// One point of a precision-recall curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PrPoint {
    /// Recall (TPR) of `scores >= threshold`.
    pub recall: f64,
    /// Precision of `scores >= threshold`.
    pub precision: f64,
    /// The threshold (a score value).
    pub threshold: f32,
}

fn check_both_classes(benign: usize, malicious: usize, what: &str) -> Result<()> {
    if benign == 0 || malicious == 0 {
        return Err(Error::InvalidData(format!(
            "{what} needs benign and malicious rows, got {benign} benign and {malicious} malicious"
        )));
    }
    Ok(())
}

/// The ROC curve: `(0, 0)` at a threshold just above the highest score, then one point per distinct
/// score from the highest down (tied rows enter together), ending at `(1, 1)`. Points are in order of
/// decreasing threshold, so FPR and TPR never decrease. Errors as for [`super::calibrate`].
pub fn roc_curve(scores: &[f32], labels: &[u8]) -> Result<Vec<RocPoint>> {
    let (benign, malicious) = check_scores_labels(scores, labels)?;
    check_both_classes(benign, malicious, "a ROC curve")?;
    let groups = tied_groups(scores, labels);
    let mut points = Vec::with_capacity(groups.len() + 1);
    points.push(RocPoint { fpr: 0.0, tpr: 0.0, threshold: groups[0].0.next_up() });
    for (score, tp, fp) in groups {
        points.push(RocPoint { fpr: fp as f64 / benign as f64, tpr: tp as f64 / malicious as f64, threshold: score });
    }
    Ok(points)
}

/// The precision-recall curve: one point per distinct score from the highest down (tied rows enter
/// together), in order of increasing recall. The area under its steps is the average precision of
/// [`super::Report::pr_auc`]. Errors as for [`super::calibrate`].
pub fn pr_curve(scores: &[f32], labels: &[u8]) -> Result<Vec<PrPoint>> {
    let (benign, malicious) = check_scores_labels(scores, labels)?;
    check_both_classes(benign, malicious, "a precision-recall curve")?;
    Ok(tied_groups(scores, labels)
        .into_iter()
        .map(|(score, tp, fp)| PrPoint {
            recall: tp as f64 / malicious as f64,
            precision: tp as f64 / (tp + fp) as f64,
            threshold: score,
        })
        .collect())
}

/// Score counts per class over equal-width bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Histogram {
    /// `bins + 1` bin edges, increasing; bin `i` is `[edges[i], edges[i+1])`, the last one closed.
    pub edges: Vec<f64>,
    /// Benign rows per bin.
    pub benign: Vec<usize>,
    /// Malicious rows per bin.
    pub malicious: Vec<usize>,
}

/// Histogram of scores per class with `bins` equal-width bins over `[min(0, lowest), max(1, highest)]`
/// (so probabilities always get the range `[0, 1]` and two models' histograms line up). Every row lands in
/// exactly one bin. Errors: `bins = 0`, and the input errors of [`super::calibrate`] (one class may be absent).
pub fn score_histogram(scores: &[f32], labels: &[u8], bins: usize) -> Result<Histogram> {
    if bins == 0 {
        return Err(Error::param("bins", bins, "must be at least 1"));
    }
    check_scores_labels(scores, labels)?;
    let lo = scores.iter().fold(0.0f64, |m, &s| m.min(s as f64));
    let hi = scores.iter().fold(1.0f64, |m, &s| m.max(s as f64));
    let width = (hi - lo) / bins as f64;
    let edges: Vec<f64> = (0..=bins).map(|i| if i == bins { hi } else { lo + width * i as f64 }).collect();
    let mut benign = vec![0; bins];
    let mut malicious = vec![0; bins];
    for (&s, &l) in scores.iter().zip(labels) {
        let bin = (((s as f64 - lo) / width) as usize).min(bins - 1);
        if l == 1 {
            malicious[bin] += 1;
        } else {
            benign[bin] += 1;
        }
    }
    Ok(Histogram { edges, benign, malicious })
}

/// At most `max` points of a curve, evenly spaced, keeping both ends (for plots of large data sets).
pub fn thin<T: Copy>(points: &[T], max: usize) -> Vec<T> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let step = (points.len() - 1) as f64 / (max - 1) as f64;
    (0..max).map(|k| points[((k as f64 * step).round() as usize).min(points.len() - 1)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_puts_every_row_in_one_bin() {
        let h = score_histogram(&[0.0, 0.05, 0.5, 0.99, 1.0], &[0, 0, 1, 1, 1], 10).unwrap();
        assert_eq!(h.edges.len(), 11);
        assert_eq!(h.benign.iter().sum::<usize>(), 2);
        assert_eq!(h.malicious, vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
        assert!(score_histogram(&[0.5], &[0], 0).is_err());
    }

    #[test]
    fn roc_curve_runs_from_origin_to_one_one() {
        let pts = roc_curve(&[0.9, 0.8, 0.8, 0.1], &[1, 1, 0, 0]).unwrap();
        let ft: Vec<(f64, f64)> = pts.iter().map(|p| (p.fpr, p.tpr)).collect();
        assert_eq!(ft, vec![(0.0, 0.0), (0.0, 0.5), (0.5, 1.0), (1.0, 1.0)]);
        assert!(pts[0].threshold > 0.9);
        assert_eq!(thin(&pts, 10), pts);
        let many: Vec<usize> = (0..1000).collect();
        let few = thin(&many, 5);
        assert_eq!(few, vec![0, 250, 500, 749, 999]);
    }
}
