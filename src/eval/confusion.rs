//! Confusion counts and the rates derived from them: the one place the crate turns decisions into
//! FPR, TPR, precision, F1 and accuracy. A rate whose denominator is empty (FPR without benign rows,
//! TPR without malicious rows, precision with nothing flagged) is `None`, never 0 or NaN: callers show
//! it as `n/a` and a criterion on it cannot pass.

use serde::{Deserialize, Serialize};

/// `k / n`, or `None` when `n = 0`.
pub fn ratio(k: usize, n: usize) -> Option<f64> {
    (n > 0).then(|| k as f64 / n as f64)
}

/// Counts of decisions at a threshold; malicious is the positive class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Confusion {
    /// Malicious rows flagged.
    pub tp: usize,
    /// Benign rows flagged.
    pub fp: usize,
    /// Benign rows passed.
    pub tn: usize,
    /// Malicious rows passed (`fn` in JSON).
    #[serde(rename = "fn")]
    pub fn_: usize,
}

/// False- and true-positive rates of one scorer at its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    /// `fp / benign`; `None` without benign rows.
    pub fpr: Option<f64>,
    /// `tp / malicious`; `None` without malicious rows.
    pub tpr: Option<f64>,
}

impl Confusion {
    /// Count one row: `malicious` is its label, `flagged` the decision.
    #[inline]
    pub fn add(&mut self, malicious: bool, flagged: bool) {
        match (malicious, flagged) {
            (true, true) => self.tp += 1,
            (true, false) => self.fn_ += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
        }
    }

    /// The counts of `scores` against 0/1 `labels` (any nonzero label counts as malicious) at
    /// `threshold`: a row is flagged when its score is `>= threshold`.
    pub fn count(scores: &[f32], labels: &[u8], threshold: f32) -> Confusion {
        let mut c = Confusion::default();
        for (&s, &l) in scores.iter().zip(labels) {
            c.add(l != 0, s >= threshold);
        }
        c
    }

    /// Benign rows (`fp + tn`).
    pub fn benign(&self) -> usize {
        self.fp + self.tn
    }

    /// Malicious rows (`tp + fn`).
    pub fn malicious(&self) -> usize {
        self.tp + self.fn_
    }

    /// All rows.
    pub fn total(&self) -> usize {
        self.benign() + self.malicious()
    }

    /// `fp / benign`.
    pub fn fpr(&self) -> Option<f64> {
        ratio(self.fp, self.benign())
    }

    /// `tp / malicious` (recall).
    pub fn tpr(&self) -> Option<f64> {
        ratio(self.tp, self.malicious())
    }

    /// `tp / (tp + fp)`; `None` when nothing is flagged.
    pub fn precision(&self) -> Option<f64> {
        ratio(self.tp, self.tp + self.fp)
    }

    /// `2tp / (2tp + fp + fn)`: the harmonic mean of precision and recall, 0 when `tp = 0`; `None` only
    /// when there are neither malicious rows nor flags.
    pub fn f1(&self) -> Option<f64> {
        ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn_)
    }

    /// `(tp + tn) / n`.
    pub fn accuracy(&self) -> Option<f64> {
        ratio(self.tp + self.tn, self.total())
    }

    /// `tn / benign` (= 1 − FPR).
    pub fn benign_accuracy(&self) -> Option<f64> {
        ratio(self.tn, self.benign())
    }

    /// FPR and TPR.
    pub fn rates(&self) -> Rates {
        Rates { fpr: self.fpr(), tpr: self.tpr() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_rates_with_an_empty_class_as_none() {
        let c = Confusion::count(&[0.9, 0.8, 0.3, 0.6, 0.1, 0.2], &[1, 1, 1, 0, 0, 0], 0.5);
        assert_eq!((c.tp, c.fn_, c.fp, c.tn), (2, 1, 1, 2));
        assert_eq!(c.fpr(), Some(1.0 / 3.0));
        assert_eq!(c.tpr(), Some(2.0 / 3.0));
        assert_eq!(c.f1(), Some(4.0 / 6.0));
        assert_eq!(c.benign_accuracy(), Some(2.0 / 3.0));
        let only_malicious = Confusion::count(&[0.9, 0.1], &[1, 1], 0.5);
        assert_eq!(only_malicious.rates(), Rates { fpr: None, tpr: Some(0.5) });
        assert_eq!(Confusion::count(&[0.1], &[0], 0.5).precision(), None);
        assert_eq!(Confusion::default().f1(), None);
    }
}
