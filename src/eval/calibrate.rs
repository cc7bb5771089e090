//! Threshold calibration for a target false-positive rate.

use super::confusion::ratio;
use super::metrics::{check_scores_labels, tied_groups, wilson, Z95};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// A calibrated decision threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Scores `>= threshold` are malicious.
    pub threshold: f32,
    /// The FPR target asked for.
    pub target_fpr: f64,
    /// How the threshold was qualified for the target (absent in older reports: `point`).
    #[serde(default)]
    pub rule: CalibrationRule,
    /// FPR at the threshold on the calibration data.
    pub fpr: f64,
    /// Wilson 95% interval of that FPR.
    pub fpr_ci95: (f64, f64),
    /// TPR at the threshold on the calibration data.
    pub tpr: f64,
    /// Wilson 95% interval of that TPR.
    #[serde(default)]
    pub tpr_ci95: (f64, f64),
    /// Benign rows in the calibration data.
    #[serde(default)]
    pub benign: usize,
    /// Malicious rows in the calibration data.
    #[serde(default)]
    pub malicious: usize,
    /// Benign rows at or above the threshold.
    #[serde(default)]
    pub false_positives: usize,
    /// Malicious rows at or above the threshold.
    #[serde(default)]
    pub true_positives: usize,
}

/// A threshold strictly above `lo` and at most `hi` (`lo < hi`): the midpoint when `f32` can hold one
/// strictly between them, else `hi` itself. Either way `lo` scores benign and `hi` malicious.
fn split(lo: f32, hi: f32) -> f32 {
    let mid = ((lo as f64 + hi as f64) / 2.0) as f32;
    if mid > lo && mid <= hi {
        mid
    } else {
        hi
    }
}

/// Pick, on calibration data, the threshold with the highest TPR whose FPR is <= `target_fpr`.
///
/// Exactly: let `s_0 > s_1 > … > s_{m−1}` be the distinct scores. The candidates are "flag nothing"
/// (threshold just above `s_0`, the next `f32` up) and, for each `i`, "flag every row scoring `>= s_i`",
/// whose threshold is placed between `s_{i+1}` and `s_i` (their midpoint in `f32`, or `s_i` when no `f32`
/// lies strictly between; `s_{m−1}` itself for the last one). Tied scores are therefore never split: rows
/// with equal scores always get the same decision. FPR is `fp / benign` computed in `f64`; a candidate
/// qualifies when `FPR <= target_fpr`. Among qualifying candidates the one with the most true positives
/// wins, and among those the highest threshold (lowest FPR). When no threshold flags any malicious row
/// within the target, the result is the threshold just above the highest benign score (TPR of rows above
/// it, which is then 0). The reported FPR interval is Wilson at 95%.
///
/// Errors: `scores`/`labels` of different lengths, a non-finite score, a label other than 0/1, no
/// benign or no malicious rows, `target_fpr` outside `[0, 1]` (or NaN).
pub fn calibrate(scores: &[f32], labels: &[u8], target_fpr: f64) -> Result<Calibration> {
    calibrate_with(scores, labels, target_fpr, CalibrationRule::Point)
}

/// How a threshold qualifies for a target FPR on calibration data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationRule {
    /// Its FPR on the calibration data is at most the target ([`calibrate`]).
    #[default]
    Point,
    /// The upper bound of the Wilson 95% interval of that FPR is at most the target: the threshold
    /// holds the target on new data of the same kind with about 97.5% confidence, at the cost of some
    /// recall (with 2,000 benign rows and a 1% target it admits at most 9 false positives, not 20).
    Wilson,
}

impl CalibrationRule {
    /// The name in settings and reports (`point`, `wilson`).
    pub fn as_str(self) -> &'static str {
        match self {
            CalibrationRule::Point => "point",
            CalibrationRule::Wilson => "wilson",
        }
    }
}

impl std::str::FromStr for CalibrationRule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "point" => Ok(CalibrationRule::Point),
            "wilson" => Ok(CalibrationRule::Wilson),
            _ => Err(Error::param("calibration", s, "expected point or wilson")),
        }
    }
}

/// [`calibrate`] with the qualifying `rule` (the candidates and the choice among them are the same).
pub fn calibrate_with(scores: &[f32], labels: &[u8], target_fpr: f64, rule: CalibrationRule) -> Result<Calibration> {
    if !(0.0..=1.0).contains(&target_fpr) {
        return Err(Error::param("target_fpr", target_fpr, "must be within [0, 1]"));
    }
    let (benign, malicious) = check_scores_labels(scores, labels)?;
    if benign == 0 || malicious == 0 {
        return Err(Error::InvalidData(format!(
            "calibration needs benign and malicious rows, got {benign} benign and {malicious} malicious"
        )));
    }
    let groups = tied_groups(scores, labels);
    let top = groups[0].0;
    let above_top = top.next_up();
    if !above_top.is_finite() {
        return Err(Error::InvalidData(format!("the highest score {top} leaves no finite threshold above it")));
    }
    // (threshold, tp, fp) of the best candidate so far; starts at "flag nothing".
    let mut best = (above_top, 0usize, 0usize);
    for (i, &(score, tp, fp)) in groups.iter().enumerate() {
        // FP only grows as the threshold falls (and so does its Wilson bound), so the first miss ends
        // the search.
        let fpr = match rule {
            CalibrationRule::Point => fp as f64 / benign as f64,
            CalibrationRule::Wilson => wilson(fp, benign, Z95).1,
        };
        if fpr > target_fpr {
            break;
        }
        if tp > best.1 {
            let threshold = match groups.get(i + 1) {
                Some(&(next, _, _)) => split(next, score),
                None => score,
            };
            best = (threshold, tp, fp);
        }
    }
    let (threshold, tp, fp) = best;
    Ok(Calibration {
        threshold,
        target_fpr,
        rule,
        fpr: ratio(fp, benign).unwrap_or(0.0),
        fpr_ci95: wilson(fp, benign, Z95),
        tpr: ratio(tp, malicious).unwrap_or(0.0),
        tpr_ci95: wilson(tp, malicious, Z95),
        benign,
        malicious,
        false_positives: fp,
        true_positives: tp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_rule_admits_fewer_false_positives_than_the_point_rule() {
        // 1000 benign rows at i/1000 and 100 malicious ones interleaved with the top 100 benign, so
        // every false positive admitted buys recall.
        let mut scores: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        let mut labels = vec![0u8; 1000];
        for i in 900..1000 {
            scores.push((i as f32 + 0.5) / 1000.0);
            labels.push(1);
        }
        let point = calibrate_with(&scores, &labels, 0.01, CalibrationRule::Point).unwrap();
        let wilson_rule = calibrate_with(&scores, &labels, 0.01, CalibrationRule::Wilson).unwrap();
        assert_eq!(point.false_positives, 10);
        assert!(wilson_rule.false_positives < point.false_positives, "{wilson_rule:?}");
        assert!(wilson(wilson_rule.false_positives, 1000, Z95).1 <= 0.01);
        assert!(wilson(wilson_rule.false_positives + 1, 1000, Z95).1 > 0.01);
        assert_eq!(wilson_rule.rule, CalibrationRule::Wilson);
    }

    #[test]
    fn split_stays_between() {
        assert_eq!(split(0.25, 0.75), 0.5);
        let a = 0.5f32;
        let b = a.next_up();
        assert_eq!(split(a, b), b);
    }
}
