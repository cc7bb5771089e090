//! Merging files and removing duplicates.

use super::{DedupeStats, Record, Reject};
use crate::error::RowError;
use std::collections::{HashMap, HashSet};

/// The normalized form texts are compared by, everywhere in the crate (duplicate detection, the corpus
/// generator, the reinforcement loop's hold-out and uniqueness checks, the gate's simulation set):
/// case-folded, every run of whitespace one space, no leading or trailing whitespace.
///
/// Case folding is Unicode lowercasing of each character plus the one folding lowercasing leaves apart
/// in running text: the final sigma `ς` folds to `σ`, so `ΟΔΟΣ`, `οδος` and `οδοσ` are one text (as
/// under Unicode case folding); `str::to_lowercase` would map the capital `Σ` to `ς` or `σ` depending on
/// its position and keep the two forms apart.
pub fn normalize_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars().flat_map(char::to_lowercase) {
            out.push(if c == 'ς' { 'σ' } else { c });
        }
    }
    out
}

fn place(r: &Record) -> String {
    format!("{}:{}", r.origin.file, r.origin.line)
}

/// See [`super::dedupe`]. Order of the kept rows is the input order (first occurrence wins).
pub(super) fn dedupe(records: Vec<Record>) -> (Vec<Record>, Vec<Reject>, DedupeStats) {
    let mut stats = DedupeStats { rows_in: records.len(), ..DedupeStats::default() };
    let norms: Vec<String> = records.iter().map(|r| normalize_text(&r.text)).collect();

    // First copy of each normalized text per label, to name the other side of a conflict.
    let mut first_by_label: HashMap<&str, [Option<usize>; 2]> = HashMap::with_capacity(records.len());
    for (i, (r, n)) in records.iter().zip(&norms).enumerate() {
        let slot = &mut first_by_label.entry(n.as_str()).or_insert([None, None])[usize::from(r.label != 0)];
        if slot.is_none() {
            *slot = Some(i);
        }
    }

    let mut kept = Vec::with_capacity(records.len());
    let mut rejects = Vec::new();
    let mut seen_exact: HashSet<&str> = HashSet::with_capacity(records.len());
    let mut seen_norm: HashSet<&str> = HashSet::with_capacity(records.len());
    let mut conflicting: HashSet<&str> = HashSet::new();
    for (i, n) in norms.iter().enumerate() {
        let r = &records[i];
        let firsts = first_by_label[n.as_str()];
        if let [Some(b), Some(m)] = firsts {
            conflicting.insert(n.as_str());
            stats.conflicting_rows += 1;
            let other = if r.label == 0 { m } else { b };
            let o = &records[other];
            rejects.push(Reject {
                error: RowError {
                    file: r.origin.file.clone(),
                    line: r.origin.line,
                    field: Some("label".to_string()),
                    reason: format!(
                        "label conflict: the same text (normalized) has label {} at {}; every copy is excluded",
                        o.label,
                        place(o)
                    ),
                },
                text: r.text.clone(),
            });
            continue;
        }
        if !seen_exact.insert(r.text.as_str()) {
            stats.exact_duplicates += 1;
        } else if !seen_norm.insert(n.as_str()) {
            stats.normalized_duplicates += 1;
        } else {
            kept.push(i);
        }
    }
    stats.conflicting_texts = conflicting.len();
    stats.rows_out = kept.len();

    // Move the kept records out without cloning.
    let mut keep = vec![false; records.len()];
    for &i in &kept {
        keep[i] = true;
    }
    let out: Vec<Record> = records.into_iter().zip(keep).filter_map(|(r, k)| k.then_some(r)).collect();
    (out, rejects, stats)
}
