//! Parity: how closely one scorer follows a reference on the same rows (a quantized model against its
//! f32 source, an ONNX export in ONNX Runtime against the native engine), and the tolerance it must
//! meet.

use super::confusion::{Confusion, Rates};
use crate::error::{Error, Result};
use crate::nn::Precision;
use serde::{Deserialize, Serialize};

/// What a [`Parity`] must reach to pass.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    /// Largest allowed |score difference| (`None`: not bounded, only decisions count).
    pub max_abs_diff: Option<f64>,
    /// Smallest allowed share of rows with the same decision at the threshold.
    pub min_agreement: f64,
}

impl Tolerance {
    /// Only the decision agreement counts.
    pub fn agreement(min_agreement: f64) -> Tolerance {
        Tolerance { max_abs_diff: None, min_agreement }
    }
}

/// A candidate scorer's scores against a reference's on the same rows, at the reference's threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Parity {
    /// What was compared with what, for messages (`int8 model vs f32`, `ONNX export (int8) vs the native
    /// engine`).
    pub subject: String,
    /// Weight precision of the candidate.
    pub precision: Precision,
    /// Rows compared.
    pub rows: usize,
    /// Decision threshold (scores `>=` are malicious).
    pub threshold: f32,
    /// max |score difference| (infinite when a score on either side is not finite).
    pub max_abs_diff: f64,
    /// mean |score difference|.
    pub mean_abs_diff: f64,
    /// Share of rows with the same decision (1 for no rows).
    pub decision_agreement: f64,
    /// Rows whose decision differs (a non-finite score counts as a difference).
    pub disagreements: usize,
    /// Rows whose reference score lies within `max_abs_diff` of the threshold: the rows an error of the
    /// observed size could flip (explains a failing agreement on a model whose scores crowd the threshold).
    pub near_threshold: usize,
    /// The reference's rates, when labels were given.
    pub reference: Option<Rates>,
    /// The candidate's rates, when labels were given.
    pub candidate: Option<Rates>,
    /// The criteria.
    pub tolerance: Tolerance,
    /// The candidate against the model the reference was converted from (an export at another precision
    /// than its model): informational, not part of [`Parity::passed`].
    pub source: Option<Box<Parity>>,
    /// What ran the candidate when it was not l2core (the ONNX Runtime library).
    pub runtime: Option<String>,
    /// max |probability difference| of the heads (family, severity), when the model has them: held
    /// to the same `max_abs_diff` bound as the scores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heads_max_abs_diff: Option<f64>,
}

impl Parity {
    /// Compare `candidate` scores with `reference` scores (one per row) at `threshold`; `labels` (0/1,
    /// one per row) add both sides' rates. Errors: lengths differ.
    pub fn measure(
        subject: impl Into<String>,
        precision: Precision,
        reference: &[f32],
        candidate: &[f32],
        threshold: f32,
        labels: Option<&[u8]>,
        tolerance: Tolerance,
    ) -> Result<Parity> {
        if reference.len() != candidate.len() {
            return Err(Error::shape("parity scores", reference.len(), candidate.len()));
        }
        if let Some(l) = labels {
            if l.len() != reference.len() {
                return Err(Error::shape("parity labels", reference.len(), l.len()));
            }
        }
        let (mut max, mut sum, mut disagree) = (0f64, 0f64, 0usize);
        for (&a, &b) in reference.iter().zip(candidate) {
            let d = if a.is_finite() && b.is_finite() { f64::from((a - b).abs()) } else { f64::INFINITY };
            max = max.max(d);
            sum += d;
            disagree += usize::from(!d.is_finite() || (a >= threshold) != (b >= threshold));
        }
        let n = reference.len();
        Ok(Parity {
            subject: subject.into(),
            precision,
            rows: n,
            threshold,
            max_abs_diff: max,
            mean_abs_diff: if n == 0 { 0.0 } else { sum / n as f64 },
            decision_agreement: if n == 0 { 1.0 } else { 1.0 - disagree as f64 / n as f64 },
            disagreements: disagree,
            near_threshold: reference.iter().filter(|&&s| f64::from((s - threshold).abs()) <= max).count(),
            reference: labels.map(|l| Confusion::count(reference, l, threshold).rates()),
            candidate: labels.map(|l| Confusion::count(candidate, l, threshold).rates()),
            tolerance,
            source: None,
            runtime: None,
            heads_max_abs_diff: None,
        })
    }

    /// The same figures held to another tolerance.
    pub fn with_tolerance(mut self, tolerance: Tolerance) -> Parity {
        self.tolerance = tolerance;
        self
    }

    /// Whether both criteria hold.
    pub fn passed(&self) -> bool {
        self.tolerance
            .max_abs_diff
            .is_none_or(|m| self.max_abs_diff <= m && self.heads_max_abs_diff.is_none_or(|h| h <= m))
            && self.decision_agreement >= self.tolerance.min_agreement
    }

    /// [`Error::Check`] naming the figures when a criterion is violated.
    pub fn check(&self) -> Result<()> {
        if self.passed() {
            return Ok(());
        }
        let bound = self.tolerance.max_abs_diff.map_or(String::new(), |m| format!(" (allowed {m:.1e})"));
        Err(Error::Check(
            format!(
                "{}: decision agreement {:.4}% on {} rows ({} decisions differ at threshold {}; required {:.2}%), \
             max |score diff| {:.3e}{bound}",
                self.subject,
                100.0 * self.decision_agreement,
                self.rows,
                self.disagreements,
                self.threshold,
                100.0 * self.tolerance.min_agreement,
                self.max_abs_diff,
            ) + &self.heads_max_abs_diff.map_or(String::new(), |h| format!(", max |head probability diff| {h:.3e}")),
        ))
    }
}

fn rate(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".to_string(), |v| format!("{v:.4}"))
}

impl std::fmt::Display for Parity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "parity of {} on {} rows (threshold {:.4}):", self.subject, self.rows, self.threshold)?;
        writeln!(f, "  max |score diff|   {:.6}", self.max_abs_diff)?;
        writeln!(f, "  mean |score diff|  {:.6}", self.mean_abs_diff)?;
        writeln!(f, "  decision agreement {:.4}% ({} differ)", 100.0 * self.decision_agreement, self.disagreements)?;
        write!(f, "  rows within max |score diff| of the threshold: {}", self.near_threshold)?;
        if let Some(h) = self.heads_max_abs_diff {
            write!(f, "\n  max |head probability diff| {h:.6}")?;
        }
        if let (Some(r), Some(c)) = (self.reference, self.candidate) {
            write!(
                f,
                "\n  FPR reference {}  {} {}\n  TPR reference {}  {} {}",
                rate(r.fpr),
                self.precision,
                rate(c.fpr),
                rate(r.tpr),
                self.precision,
                rate(c.tpr)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_differences_and_a_nan_as_a_disagreement() {
        let p = Parity::measure(
            "x",
            Precision::Int8,
            &[0.2, 0.1, 0.9],
            &[0.2, f32::NAN, 0.4],
            0.5,
            None,
            Tolerance::agreement(1.0),
        )
        .unwrap();
        assert!(p.max_abs_diff.is_infinite());
        assert_eq!((p.disagreements, p.rows), (2, 3));
        assert!(!p.passed() && p.check().is_err());
        let same = Parity::measure(
            "x",
            Precision::F32,
            &[0.3, 0.7],
            &[0.3, 0.7],
            0.5,
            Some(&[0, 1]),
            Tolerance::agreement(1.0),
        )
        .unwrap();
        assert!(same.passed());
        assert_eq!(same.candidate, Some(Rates { fpr: Some(0.0), tpr: Some(1.0) }));
    }
}
