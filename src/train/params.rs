//! Validation of [`TrainParams`]: every setting is checked and an error names it.

use super::{TrainParams, ValidTrainParams};
use crate::error::{Error, Result};

/// Widest hidden layer accepted; far above anything useful, it keeps buffer sizes sane.
pub const MAX_WIDTH: usize = 1 << 16;

impl TrainParams {
    /// Validate every setting; the error names the setting (`hidden`, `dropout`, `learning_rate`,
    /// `weight_decay`, `beta1`, `beta2`, `epsilon`, `batch_size`, `epochs`).
    pub fn check(&self) -> Result<ValidTrainParams> {
        if self.hidden.is_empty() {
            return Err(Error::param("hidden", "[]", "needs at least one hidden layer"));
        }
        if let Some(i) = self.hidden.iter().position(|&h| h == 0 || h > MAX_WIDTH) {
            return Err(Error::param(
                "hidden",
                format!("{:?}", self.hidden),
                format!("layer {i} has width {}; widths must be in 1..={MAX_WIDTH}", self.hidden[i]),
            ));
        }
        if !(self.dropout.is_finite() && (0.0..1.0).contains(&self.dropout)) {
            return Err(Error::param("dropout", self.dropout, "must be in [0, 1)"));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::param("learning_rate", self.learning_rate, "must be a finite number > 0"));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(Error::param("weight_decay", self.weight_decay, "must be a finite number >= 0"));
        }
        if self.weight_decay * self.learning_rate >= 1.0 {
            return Err(Error::param(
                "weight_decay",
                self.weight_decay,
                format!("learning_rate * weight_decay must be < 1 (learning_rate = {})", self.learning_rate),
            ));
        }
        for (name, v) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(v.is_finite() && (0.0..1.0).contains(&v)) {
                return Err(Error::param(name, v, "must be in [0, 1)"));
            }
        }
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return Err(Error::param("epsilon", self.epsilon, "must be a finite number > 0"));
        }
        if self.batch_size == 0 || self.batch_size > MAX_WIDTH {
            return Err(Error::param("batch_size", self.batch_size, format!("must be in 1..={MAX_WIDTH}")));
        }
        if !(self.head_weight.is_finite() && self.head_weight >= 0.0) {
            return Err(Error::param("head_weight", self.head_weight, "must be a finite number >= 0"));
        }
        if self.epochs == 0 {
            return Err(Error::param("epochs", 0, "must be at least 1"));
        }
        Ok(ValidTrainParams(self.clone()))
    }
}
