//! Weighted binary cross-entropy on logits.
//!
//! Per sample `l(s, y) = max(s, 0) - s*y + ln(1 + exp(-|s|))`, which equals
//! `-(y ln sigmoid(s) + (1-y) ln(1 - sigmoid(s)))` without overflowing for large `|s|`. A batch's loss
//! is `sum_i w_i * l_i / rows`: the mean over the batch of the weighted losses (PyTorch's
//! `BCEWithLogitsLoss(weight=w, reduction="mean")`), not divided by the sum of the weights, so a weight
//! scales a sample's pull relative to a weight-1 sample.

use crate::nn::sigmoid;

/// Unweighted BCE of one logit `s` against a 0/1 label `y`.
#[inline]
pub fn bce_with_logits(s: f32, y: f32) -> f32 {
    s.max(0.0) - s * y + (-s.abs()).exp().ln_1p()
}

/// `d l / d s` of [`bce_with_logits`].
#[inline]
pub fn bce_grad(s: f32, y: f32) -> f32 {
    sigmoid(s) - y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_textbook_formula_and_stays_finite_for_large_logits() {
        for &(s, y) in &[(0.3f32, 1.0f32), (-2.0, 0.0), (4.0, 0.0), (-0.7, 1.0)] {
            let p = 1.0 / (1.0 + (-f64::from(s)).exp());
            let want = -(f64::from(y) * p.ln() + (1.0 - f64::from(y)) * (1.0 - p).ln());
            assert!((f64::from(bce_with_logits(s, y)) - want).abs() < 1e-6);
            let h = 1e-3f64;
            let f = |s: f64| {
                let p = 1.0 / (1.0 + (-s).exp());
                -(f64::from(y) * p.ln() + (1.0 - f64::from(y)) * (1.0 - p).ln())
            };
            let num = (f(f64::from(s) + h) - f(f64::from(s) - h)) / (2.0 * h);
            assert!((f64::from(bce_grad(s, y)) - num).abs() < 1e-5);
        }
        assert!((bce_with_logits(100.0, 0.0) - 100.0).abs() < 1e-4);
        assert!(bce_with_logits(-100.0, 0.0) < 1e-30);
        assert!(bce_with_logits(1e30, 1.0).is_finite());
    }
}
