//! Softmax heads beside the binary output: which attack family, how severe.
//!
//! A head reads the trunk's last hidden layer (the input of the binary output layer, after ReLU) and
//! answers a distribution over its labels: `p = softmax(W h + b)`. Heads are trained on malicious rows
//! only, so a head's answer is conditional: "if this is an attack, which family". They are f32 at every
//! precision (a few hundred weights) and computed by one scalar routine in a fixed order, so every
//! host returns the same bits for the same model and text.

use super::Dense;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Which question a head answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HeadKind {
    /// The attack family (JB, PI, CMD, PII, ..., OTHER).
    Family,
    /// The severity (low, medium, high, critical), an ordered scale.
    Severity,
}

impl HeadKind {
    /// Every kind, in the order a model stores its heads.
    pub const ALL: [HeadKind; 2] = [HeadKind::Family, HeadKind::Severity];

    /// The name in files, settings and outputs (`family`, `severity`).
    pub fn as_str(self) -> &'static str {
        match self {
            HeadKind::Family => "family",
            HeadKind::Severity => "severity",
        }
    }
}

impl std::fmt::Display for HeadKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for HeadKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<HeadKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "family" => Ok(HeadKind::Family),
            "severity" => Ok(HeadKind::Severity),
            other => Err(Error::param("heads", other, "expected family or severity")),
        }
    }
}

/// One head: its labels and its f32 layer (`[labels][inputs]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    /// What it answers.
    pub kind: HeadKind,
    /// Label of each output, in output order.
    pub labels: Vec<String>,
    /// `inputs -> labels.len()` logits.
    pub layer: Dense,
}

impl Head {
    /// A zero-initialised head: every label equally likely until trained.
    pub fn zeros(kind: HeadKind, labels: Vec<String>, inputs: usize) -> Head {
        let k = labels.len();
        Head { kind, labels, layer: Dense { inputs, outputs: k, weight: vec![0.0; k * inputs], bias: vec![0.0; k] } }
    }

    /// Check shapes, labels and finiteness against the trunk width `inputs`.
    pub fn check(&self, inputs: usize) -> Result<()> {
        let what = format!("heads.{}", self.kind);
        let (k, l) = (self.labels.len(), &self.layer);
        if k < 2 {
            return Err(Error::model("<heads>", format!("{what} has {k} label(s); a head needs at least 2")));
        }
        if l.inputs != inputs || l.outputs != k || l.weight.len() != k * inputs || l.bias.len() != k {
            return Err(Error::shape(
                format!("{what}.weight"),
                format!("{k} x {inputs}"),
                format!("{} x {} ({} weights, {} biases)", l.outputs, l.inputs, l.weight.len(), l.bias.len()),
            ));
        }
        if l.weight.iter().chain(&l.bias).any(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!("{what}: a weight is not finite")));
        }
        for (i, name) in self.labels.iter().enumerate() {
            if name.trim().is_empty() || self.labels[..i].contains(name) {
                return Err(Error::model("<heads>", format!("{what}: label {i} ({name:?}) is empty or repeated")));
            }
        }
        Ok(())
    }

    /// Probabilities of the trunk activation `h` (`inputs` long) into `out` (one per label).
    pub fn probs_into(&self, h: &[f32], out: &mut [f32]) {
        let l = &self.layer;
        for ((o, row), &b) in out.iter_mut().zip(l.weight.chunks_exact(l.inputs)).zip(&l.bias) {
            *o = b + row.iter().zip(h).map(|(w, x)| w * x).sum::<f32>();
        }
        softmax(out);
    }
}

/// In-place softmax of logits, shifted by their maximum so that no exponent overflows.
pub fn softmax(z: &mut [f32]) {
    let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    z.iter_mut().for_each(|v| *v /= sum);
}

/// Check a network's heads: at most one of each kind, in [`HeadKind::ALL`] order, each reading
/// `inputs` (the trunk's last hidden width).
pub fn check_heads(heads: &[Head], inputs: usize) -> Result<()> {
    if heads.windows(2).any(|w| w[0].kind >= w[1].kind) {
        return Err(Error::model("<heads>", "heads must be distinct and in the order family, severity"));
    }
    heads.iter().try_for_each(|h| h.check(inputs))
}

/// `relu(W x + b)` of every layer of `layers` in order, f32, in a fixed summation order: the trunk's
/// last hidden activation that the heads read (`layers` is the tail without its output layer).
pub fn trunk_into(layers: &[Dense], x: &[f32], buf: &mut Vec<f32>, out: &mut Vec<f32>) {
    out.clear();
    out.extend_from_slice(x);
    for l in layers {
        std::mem::swap(buf, out);
        out.clear();
        out.extend(
            l.weight
                .chunks_exact(l.inputs)
                .zip(&l.bias)
                .map(|(row, &b)| (b + row.iter().zip(buf.iter()).map(|(w, v)| w * v).sum::<f32>()).max(0.0)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_survives_large_logits() {
        let mut z = [1000.0, 1000.0, -1000.0];
        softmax(&mut z);
        assert!((z[0] - 0.5).abs() < 1e-6 && z[2] == 0.0, "{z:?}");
        let mut z = [0.1, 0.2, 0.3];
        softmax(&mut z);
        assert!((z.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(z[2] > z[1] && z[1] > z[0]);
    }

    #[test]
    fn heads_are_checked() {
        let h = Head::zeros(HeadKind::Family, vec!["JB".into(), "PI".into()], 4);
        h.check(4).unwrap();
        assert!(h.check(5).unwrap_err().to_string().contains("heads.family.weight"));
        let dup = Head::zeros(HeadKind::Family, vec!["JB".into(), "JB".into()], 4);
        assert!(dup.check(4).unwrap_err().to_string().contains("repeated"));
        let one = Head::zeros(HeadKind::Severity, vec!["high".into()], 4);
        assert!(one.check(4).is_err());
        let s = Head::zeros(HeadKind::Severity, vec!["low".into(), "high".into()], 4);
        assert!(check_heads(&[s.clone(), h.clone()], 4).is_err(), "order");
        check_heads(&[h, s], 4).unwrap();
        assert_eq!("Severity".parse::<HeadKind>().unwrap(), HeadKind::Severity);
        assert!("harm".parse::<HeadKind>().is_err());
    }

    #[test]
    fn trunk_is_relu_of_each_layer() {
        let l = Dense { inputs: 2, outputs: 2, weight: vec![1.0, -1.0, 2.0, 0.5], bias: vec![0.0, -10.0] };
        let (mut buf, mut out) = (Vec::new(), Vec::new());
        trunk_into(&[l], &[3.0, 1.0], &mut buf, &mut out);
        assert_eq!(out, [2.0, 0.0]);
    }
}
