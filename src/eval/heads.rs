//! How well the family and severity heads answer, on the malicious rows that have a class for them
//! ([`crate::data::heads::head_class`]): the confusion matrix, per-class precision, recall and F1,
//! macro-F1, accuracy and, for severity, the mean absolute error in levels (low = 1 ... critical = 4).

use crate::data::heads::head_class;
use crate::data::{Record, Severity};
use crate::error::{Error, Result};
use crate::nn::HeadKind;
use crate::printable::cell;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One class of a head.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScore {
    /// The label.
    pub name: String,
    /// Rows whose true class it is.
    pub rows: usize,
    /// Rows the head assigned to it.
    pub predicted: usize,
    /// Rows of the class assigned to it.
    pub correct: usize,
    /// `correct / predicted` (`None` when nothing was assigned to it).
    pub precision: Option<f64>,
    /// `correct / rows` (`None` without rows).
    pub recall: Option<f64>,
    /// `2 correct / (rows + predicted)`.
    pub f1: f64,
}

/// A head's evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadReport {
    /// Which head.
    pub kind: HeadKind,
    /// Its labels, in output order.
    pub labels: Vec<String>,
    /// Rows evaluated: malicious rows with a class for the head.
    pub rows: usize,
    /// Share assigned their true class (`None` without rows).
    pub accuracy: Option<f64>,
    /// Mean F1 over the classes that have rows or were assigned some (scikit-learn's macro average).
    pub macro_f1: Option<f64>,
    /// Per class, in label order.
    pub classes: Vec<ClassScore>,
    /// `confusion[true][predicted]` counts, in label order.
    pub confusion: Vec<Vec<usize>>,
    /// Severity only: mean |predicted level - true level|.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mae: Option<f64>,
}

fn level(label: &str) -> Option<f64> {
    label.parse::<Severity>().ok().map(|s| s as u8 as f64)
}

/// Evaluate a head from its probabilities: `probs` holds `labels.len()` values per record (the
/// head's output for that record's text); the predicted class is the most probable (first on ties).
pub fn evaluate_head(kind: HeadKind, labels: &[String], records: &[Record], probs: &[f32]) -> Result<HeadReport> {
    let k = labels.len();
    if k == 0 || probs.len() != records.len() * k {
        return Err(Error::shape(format!("{kind} head outputs"), records.len() * k, probs.len()));
    }
    let mut confusion = vec![vec![0usize; k]; k];
    let (mut rows, mut abs_err) = (0usize, 0.0f64);
    for (r, p) in records.iter().zip(probs.chunks_exact(k)) {
        let Some(truth) = head_class(kind, labels, r) else { continue };
        if p.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidData(format!("{kind} head: a probability is not finite")));
        }
        let pred = p.iter().enumerate().fold(0, |best, (i, &v)| if v > p[best] { i } else { best });
        confusion[truth][pred] += 1;
        rows += 1;
        if kind == HeadKind::Severity {
            if let (Some(a), Some(b)) = (level(&labels[pred]), level(&labels[truth])) {
                abs_err += (a - b).abs();
            }
        }
    }
    let classes: Vec<ClassScore> = (0..k)
        .map(|c| {
            let n = confusion[c].iter().sum::<usize>();
            let predicted = confusion.iter().map(|row| row[c]).sum::<usize>();
            let correct = confusion[c][c];
            ClassScore {
                name: labels[c].clone(),
                rows: n,
                predicted,
                correct,
                precision: (predicted > 0).then(|| correct as f64 / predicted as f64),
                recall: (n > 0).then(|| correct as f64 / n as f64),
                f1: if n + predicted > 0 { 2.0 * correct as f64 / (n + predicted) as f64 } else { 0.0 },
            }
        })
        .collect();
    let counted: Vec<f64> = classes.iter().filter(|c| c.rows + c.predicted > 0).map(|c| c.f1).collect();
    let correct: usize = (0..k).map(|c| confusion[c][c]).sum();
    Ok(HeadReport {
        kind,
        labels: labels.to_vec(),
        rows,
        accuracy: (rows > 0).then(|| correct as f64 / rows as f64),
        macro_f1: (!counted.is_empty()).then(|| counted.iter().sum::<f64>() / counted.len() as f64),
        classes,
        confusion,
        mae: (kind == HeadKind::Severity && rows > 0).then(|| abs_err / rows as f64),
    })
}

fn opt(v: Option<f64>, pct: bool) -> String {
    match v {
        Some(v) if pct => format!("{:.2}%", v * 100.0),
        Some(v) => format!("{v:.4}"),
        None => "n/a".into(),
    }
}

impl fmt::Display for HeadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} head: {} malicious rows, accuracy {}, macro-F1 {}",
            self.kind,
            self.rows,
            opt(self.accuracy, true),
            opt(self.macro_f1, false)
        )?;
        if let Some(m) = self.mae {
            write!(f, ", MAE {m:.3} levels")?;
        }
        writeln!(f)?;
        let names: Vec<String> = self.labels.iter().map(|l| cell(l).to_string()).collect();
        let w = names.iter().map(|n| n.chars().count()).max().unwrap_or(0).max(10);
        let cw = names.iter().map(|n| n.chars().count()).max().unwrap_or(0).max(5);
        write!(f, "  {:<w$}", "true \\ pred")?;
        for n in &names {
            write!(f, "  {n:>cw$}")?;
        }
        writeln!(f, "  {:>9}  {:>9}  {:>6}", "precision", "recall", "F1")?;
        for (i, (n, c)) in names.iter().zip(&self.classes).enumerate() {
            write!(f, "  {n:<w$}")?;
            for v in &self.confusion[i] {
                write!(f, "  {v:>cw$}")?;
            }
            writeln!(f, "  {:>9}  {:>9}  {:>6.4}", opt(c.precision, true), opt(c.recall, true), c.f1)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(family: &str, severity: Severity) -> Record {
        Record { family: family.into(), severity, ..Record::new("t", 1) }
    }

    #[test]
    fn confusion_f1_and_mae_are_counted_on_rows_with_a_class() {
        let labels: Vec<String> = ["JB", "PI"].map(String::from).to_vec();
        let rows =
            vec![row("JB", Severity::High), row("JB", Severity::High), row("PI", Severity::Low), Record::new("b", 0)];
        // JB -> JB, JB -> PI, PI -> PI; the benign row is not counted.
        let probs = [0.9, 0.1, 0.4, 0.6, 0.2, 0.8, 0.9, 0.1];
        let r = evaluate_head(HeadKind::Family, &labels, &rows, &probs).unwrap();
        assert_eq!(r.rows, 3);
        assert_eq!(r.confusion, vec![vec![1, 1], vec![0, 1]]);
        assert_eq!(r.accuracy, Some(2.0 / 3.0));
        // F1(JB) = 2/3, F1(PI) = 2/3.
        assert!((r.macro_f1.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(r.mae, None);

        let levels: Vec<String> = ["low", "high"].map(String::from).to_vec();
        let probs = [0.1, 0.9, 0.9, 0.1, 0.9, 0.1, 0.5, 0.5];
        let s = evaluate_head(HeadKind::Severity, &levels, &rows, &probs).unwrap();
        // high -> high, high -> low (2 levels off), low -> low.
        assert_eq!(s.mae, Some(2.0 / 3.0));
        assert!(s.to_string().contains("MAE 0.667"), "{s}");
        assert!(evaluate_head(HeadKind::Family, &labels, &rows, &probs[..3]).is_err());
    }
}
