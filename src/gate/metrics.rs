//! The figures the gate compares: confusion-matrix rates at a threshold, ROC points and AUC, score
//! histograms, latency percentiles.

use serde::{Deserialize, Serialize};

/// Detection figures of one model on one labelled set at its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Rows.
    pub n: usize,
    /// Benign rows.
    pub benign: usize,
    /// Malicious rows.
    pub malicious: usize,
    /// Decision threshold (scores `>=` are malicious).
    pub threshold: f32,
    /// True positives.
    pub tp: usize,
    /// False positives.
    pub fp: usize,
    /// True negatives.
    pub tn: usize,
    /// False negatives.
    pub fn_: usize,
    /// fp / benign.
    pub fpr: f64,
    /// tp / malicious.
    pub tpr: f64,
    /// tp / (tp + fp).
    pub precision: f64,
    /// Harmonic mean of precision and TPR.
    pub f1: f64,
    /// tn / benign (the share of benign prompts let through).
    pub benign_accuracy: f64,
    /// (tp + tn) / n.
    pub accuracy: f64,
    /// Area under the ROC curve.
    pub auc: f64,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

impl Metrics {
    /// Figures of `scores` against `labels` (0/1) at `threshold`.
    pub fn compute(scores: &[f32], labels: &[u8], threshold: f32) -> Metrics {
        let (mut tp, mut fp, mut tn, mut fn_) = (0, 0, 0, 0);
        for (&s, &y) in scores.iter().zip(labels) {
            match (s >= threshold, y == 1) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, false) => tn += 1,
                (false, true) => fn_ += 1,
            }
        }
        let (benign, malicious) = (fp + tn, tp + fn_);
        let precision = ratio(tp, tp + fp);
        let tpr = ratio(tp, malicious);
        let f1 = if precision + tpr > 0.0 { 2.0 * precision * tpr / (precision + tpr) } else { 0.0 };
        Metrics {
            n: benign + malicious,
            benign,
            malicious,
            threshold,
            tp,
            fp,
            tn,
            fn_,
            fpr: ratio(fp, benign),
            tpr,
            precision,
            f1,
            benign_accuracy: ratio(tn, benign),
            accuracy: ratio(tp + tn, benign + malicious),
            auc: auc(&roc(scores, labels)),
        }
    }
}

/// ROC points (fpr, tpr) from the strictest threshold to the loosest, one point per distinct score.
pub fn roc(scores: &[f32], labels: &[u8]) -> Vec<(f64, f64)> {
    let mut idx: Vec<usize> = (0..scores.len().min(labels.len())).collect();
    idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let pos = idx.iter().filter(|&&i| labels[i] == 1).count();
    let neg = idx.len() - pos;
    let mut out = vec![(0.0, 0.0)];
    let (mut tp, mut fp) = (0usize, 0usize);
    for (k, &i) in idx.iter().enumerate() {
        if labels[i] == 1 {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_score = idx.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_score {
            out.push((ratio(fp, neg), ratio(tp, pos)));
        }
    }
    out
}

/// Trapezoidal area under ROC points.
pub fn auc(points: &[(f64, f64)]) -> f64 {
    points.windows(2).map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0).sum()
}

/// At most `max` points of a curve, evenly spaced, keeping both ends.
pub fn thin(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let step = (points.len() - 1) as f64 / (max - 1) as f64;
    (0..max).map(|k| points[((k as f64 * step).round() as usize).min(points.len() - 1)]).collect()
}

/// Counts of scores in `bins` equal bins over [0, 1], separately for benign and malicious rows.
pub fn histogram(scores: &[f32], labels: &[u8], bins: usize) -> (Vec<usize>, Vec<usize>) {
    let mut benign = vec![0; bins];
    let mut malicious = vec![0; bins];
    for (&s, &y) in scores.iter().zip(labels) {
        let b = ((s.clamp(0.0, 1.0) * bins as f32) as usize).min(bins - 1);
        if y == 1 {
            malicious[b] += 1;
        } else {
            benign[b] += 1;
        }
    }
    (benign, malicious)
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Calls timed.
    pub samples: usize,
    /// Mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
}

impl Latency {
    /// Percentiles (nearest rank) of `ms`.
    pub fn of(mut ms: Vec<f64>) -> Latency {
        ms.sort_by(f64::total_cmp);
        let at = |p: f64| -> f64 {
            if ms.is_empty() {
                return 0.0;
            }
            let rank = ((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len());
            ms[rank - 1]
        };
        Latency {
            samples: ms.len(),
            mean_ms: if ms.is_empty() { 0.0 } else { ms.iter().sum::<f64>() / ms.len() as f64 },
            p50_ms: at(0.50),
            p95_ms: at(0.95),
            p99_ms: at(0.99),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_count_the_confusion_matrix() {
        let scores = [0.9, 0.8, 0.3, 0.6, 0.1, 0.2];
        let labels = [1, 1, 1, 0, 0, 0];
        let m = Metrics::compute(&scores, &labels, 0.5);
        assert_eq!((m.tp, m.fn_, m.fp, m.tn), (2, 1, 1, 2));
        assert!((m.fpr - 1.0 / 3.0).abs() < 1e-12 && (m.tpr - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.f1 - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.benign_accuracy - 2.0 / 3.0).abs() < 1e-12);
        // AUC: pairs (pos, neg) ordered correctly: 0.9 and 0.8 beat all 3; 0.3 beats 0.1, 0.2 -> 8/9.
        assert!((m.auc - 8.0 / 9.0).abs() < 1e-12, "{}", m.auc);
    }

    #[test]
    fn roc_handles_ties_and_percentiles_use_nearest_rank() {
        let r = roc(&[0.5, 0.5, 0.5, 0.5], &[1, 0, 1, 0]);
        assert_eq!(r, vec![(0.0, 0.0), (1.0, 1.0)]);
        assert!((auc(&r) - 0.5).abs() < 1e-12);
        let l = Latency::of((1..=100).map(f64::from).collect());
        assert_eq!((l.p50_ms, l.p95_ms, l.p99_ms), (50.0, 95.0, 99.0));
        let (b, m) = histogram(&[0.0, 0.99, 1.0, 0.5], &[0, 1, 1, 0], 10);
        assert_eq!((b[0], b[5], m[9]), (1, 1, 2));
        assert_eq!(thin(&r, 10), r);
    }
}
