//! Calibration, ROC AUC and average precision checked against brute-force definitions on random data
//! with many ties (seeded, so failures reproduce).

use l2core::data::Record;
use l2core::eval::{calibrate, evaluate};
use l2core::rng::Rng;

/// Random scores on a coarse grid (k/20) so that ties across classes are common; malicious rows lean high.
fn random_set(rng: &mut Rng, n: usize) -> (Vec<f32>, Vec<u8>) {
    let mut scores = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        // Guarantee both classes.
        let label = if i < 2 { i as u8 } else { (rng.uniform() < 0.4) as u8 };
        let base = if label == 1 { 8 } else { 0 };
        scores.push((base + rng.below(13)) as f32 / 20.0);
        labels.push(label);
    }
    (scores, labels)
}

fn counts_at(scores: &[f32], labels: &[u8], t: f32) -> (usize, usize) {
    let tp = scores.iter().zip(labels).filter(|(s, l)| **l == 1 && **s >= t).count();
    let fp = scores.iter().zip(labels).filter(|(s, l)| **l == 0 && **s >= t).count();
    (tp, fp)
}

#[test]
fn calibration_is_the_best_feasible_threshold() {
    let mut rng = Rng::new(7);
    for round in 0..200 {
        let n = 2 + rng.below(60);
        let (scores, labels) = random_set(&mut rng, n);
        let benign = labels.iter().filter(|&&l| l == 0).count();
        let target = [0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0][round % 7];
        let c = calibrate(&scores, &labels, target).unwrap();
        // The threshold reproduces the reported counts and meets the target.
        let (tp, fp) = counts_at(&scores, &labels, c.threshold);
        assert_eq!((tp, fp), (c.true_positives, c.false_positives), "round {round}");
        assert!(fp as f64 / benign as f64 <= target, "round {round}");
        // No threshold (every score value, and above the maximum) does better on TPR, or as well with a
        // lower FPR.
        for &t in scores.iter().chain([f32::MAX].iter()) {
            let (tp2, fp2) = counts_at(&scores, &labels, t);
            if fp2 as f64 / benign as f64 <= target {
                assert!(tp2 < tp || (tp2 == tp && fp2 >= fp), "round {round}: t={t} gives {tp2}/{fp2} vs {tp}/{fp}");
            }
        }
    }
}

#[test]
fn auc_and_ap_match_their_definitions() {
    let mut rng = Rng::new(11);
    for round in 0..100 {
        let n = 2 + rng.below(80);
        let (scores, labels) = random_set(&mut rng, n);
        let records: Vec<Record> = labels.iter().map(|&l| Record::new("x", l)).collect();
        let r = evaluate(&scores, &records, 0.5).unwrap();
        // AUC: over all (malicious, benign) pairs, 1 when the malicious scores higher, 1/2 on a tie.
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (i, &li) in labels.iter().enumerate() {
            for (j, &lj) in labels.iter().enumerate() {
                if li == 1 && lj == 0 {
                    pairs += 1.0;
                    wins += if scores[i] > scores[j] {
                        1.0
                    } else if scores[i] == scores[j] {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        assert!((r.roc_auc.unwrap() - wins / pairs).abs() < 1e-12, "round {round}");
        // AP: for each malicious row, the precision at its own score (ties included), averaged.
        let pos = labels.iter().filter(|&&l| l == 1).count();
        let ap: f64 = scores
            .iter()
            .zip(&labels)
            .filter(|(_, l)| **l == 1)
            .map(|(&s, _)| {
                let (tp, fp) = counts_at(&scores, &labels, s);
                tp as f64 / (tp + fp) as f64
            })
            .sum::<f64>()
            / pos as f64;
        assert!((r.pr_auc.unwrap() - ap).abs() < 1e-12, "round {round}");
    }
}
