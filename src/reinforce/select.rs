//! Which false positives to reinforce: Pareto-first by frequency, stratified by category in proportion
//! to the production false-positive distribution.

use super::input::FalsePositive;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Coverage of one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryCoverage {
    /// Category.
    pub category: String,
    /// Production false positives in it (the distribution the quotas follow).
    pub production_fp: usize,
    /// Unique false positives available in it.
    pub available: usize,
    /// Its share of the selection by the production distribution (before capping at `available`).
    pub quota: usize,
    /// Unique false positives selected.
    pub selected: usize,
    /// Occurrences those cover.
    pub occurrences_covered: usize,
    /// Occurrences in the category.
    pub occurrences: usize,
}

/// The selected false positives (most frequent first) and the per-category coverage.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Selected, ordered by category then frequency (descending).
    pub chosen: Vec<FalsePositive>,
    /// Coverage per category, sorted by name.
    pub categories: Vec<CategoryCoverage>,
}

/// Select `ceil(coverage * unique)` false positives. Each category gets a quota proportional to its
/// production false positives (largest remainder); within a category the most frequent come first;
/// quota a category cannot fill (too few unique prompts) goes to the most frequent remaining ones.
/// Ties keep the report order, so the result is deterministic.
pub fn select(unique: &[FalsePositive], category_fp: &BTreeMap<String, usize>, coverage: f64) -> Selection {
    let target =
        ((coverage * unique.len() as f64).ceil() as usize).clamp(usize::from(!unique.is_empty()), unique.len());
    let mut by_cat: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, fp) in unique.iter().enumerate() {
        by_cat.entry(fp.category.as_str()).or_default().push(i);
    }
    for idx in by_cat.values_mut() {
        // Stable: equal counts keep report order.
        idx.sort_by(|&a, &b| unique[b].count.cmp(&unique[a].count));
    }
    // The production distribution over the categories that have prompts to reinforce.
    let weight = |c: &str| category_fp.get(c).copied().unwrap_or(0);
    let mut total_w: usize = by_cat.keys().map(|c| weight(c)).sum();
    let use_occurrences = total_w == 0;
    if use_occurrences {
        total_w = unique.iter().map(|f| f.count).sum();
    }
    let w_of = |c: &str| -> usize {
        if use_occurrences {
            unique.iter().filter(|f| f.category == c).map(|f| f.count).sum()
        } else {
            weight(c)
        }
    };
    let cats: Vec<&str> = by_cat.keys().copied().collect();
    let exact: Vec<f64> = cats.iter().map(|c| target as f64 * w_of(c) as f64 / total_w.max(1) as f64).collect();
    let mut quota: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..cats.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    let mut left = target - quota.iter().sum::<usize>();
    for &i in order.iter().cycle().take(order.len() * 2) {
        if left == 0 {
            break;
        }
        quota[i] += 1;
        left -= 1;
    }
    let mut taken: Vec<usize> = cats.iter().zip(&quota).map(|(c, &q)| q.min(by_cat[c].len())).collect();
    // Fill what capped categories could not take with the most frequent remaining prompts.
    let mut short = target.saturating_sub(taken.iter().sum());
    while short > 0 {
        let best = cats
            .iter()
            .enumerate()
            .filter(|(i, c)| taken[*i] < by_cat[**c].len())
            .max_by(|(i, a), (j, b)| {
                let fa = unique[by_cat[**a][taken[*i]]].count;
                let fb = unique[by_cat[**b][taken[*j]]].count;
                // Prefer higher frequency, then the earlier category name.
                fa.cmp(&fb).then(j.cmp(i))
            })
            .map(|(i, _)| i);
        match best {
            Some(i) => {
                taken[i] += 1;
                short -= 1;
            }
            None => break,
        }
    }
    let mut chosen = Vec::with_capacity(target);
    let mut categories = Vec::with_capacity(cats.len());
    for (i, c) in cats.iter().enumerate() {
        let idx = &by_cat[c];
        chosen.extend(idx[..taken[i]].iter().map(|&k| unique[k].clone()));
        categories.push(CategoryCoverage {
            category: c.to_string(),
            production_fp: w_of(c),
            available: idx.len(),
            quota: quota[i],
            selected: taken[i],
            occurrences_covered: idx[..taken[i]].iter().map(|&k| unique[k].count).sum(),
            occurrences: idx.iter().map(|&k| unique[k].count).sum(),
        });
    }
    Selection { chosen, categories }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(i: usize, category: &str, count: usize) -> FalsePositive {
        FalsePositive {
            id: format!("fp{i}"),
            prompt: format!("prompt {i}"),
            category: category.into(),
            rules: vec![],
            count,
        }
    }

    #[test]
    fn quotas_follow_the_production_distribution_and_take_the_most_frequent() {
        // 10 programming (counts 1..=10), 10 security (all 1); production says 3:1.
        let mut v: Vec<FalsePositive> = (0..10).map(|i| fp(i, "programming", i + 1)).collect();
        v.extend((10..20).map(|i| fp(i, "security", 1)));
        let dist: BTreeMap<String, usize> = [("programming".to_string(), 75), ("security".to_string(), 25)].into();
        let s = select(&v, &dist, 0.6);
        assert_eq!(s.chosen.len(), 12);
        let prog = s.categories.iter().find(|c| c.category == "programming").unwrap();
        assert_eq!((prog.quota, prog.selected), (9, 9));
        // The 9 most frequent programming prompts: counts 10 down to 2.
        let counts: Vec<usize> = s.chosen.iter().filter(|f| f.category == "programming").map(|f| f.count).collect();
        assert_eq!(counts, (2..=10).rev().collect::<Vec<_>>());
        assert_eq!(s.categories.iter().find(|c| c.category == "security").unwrap().selected, 3);
    }

    #[test]
    fn a_category_too_small_for_its_quota_hands_the_rest_to_the_most_frequent() {
        let mut v = vec![fp(0, "rare", 1)];
        v.extend((1..11).map(|i| fp(i, "common", 11 - i)));
        let dist: BTreeMap<String, usize> = [("rare".to_string(), 90), ("common".to_string(), 10)].into();
        let s = select(&v, &dist, 0.5);
        assert_eq!(s.chosen.len(), 6);
        assert_eq!(s.categories.iter().find(|c| c.category == "rare").unwrap().selected, 1);
        let common: Vec<usize> = s.chosen.iter().filter(|f| f.category == "common").map(|f| f.count).collect();
        assert_eq!(common, vec![10, 9, 8, 7, 6]);
    }

    #[test]
    fn full_coverage_takes_everything_and_tiny_coverage_takes_one() {
        let v: Vec<FalsePositive> = (0..5).map(|i| fp(i, "a", 1)).collect();
        assert_eq!(select(&v, &BTreeMap::new(), 1.0).chosen.len(), 5);
        assert_eq!(select(&v, &BTreeMap::new(), 0.01).chosen.len(), 1);
    }
}
