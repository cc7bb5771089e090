//! What the family and severity heads learn from the rows: the label set of a head (rare families
//! folded into [`OTHER`]) and the class of a row. Training and evaluation both read rows through here,
//! so that a row means the same class to both.
//!
//! Only malicious rows have a class (a head answers "if this is an attack, which kind"). A malicious
//! row whose family is `UNKNOWN` or empty (the CSV had no family for it), or whose severity is `none`,
//! has no class for that head: it trains the binary output only.

use super::{Record, Severity};
use crate::nn::HeadKind;
use std::collections::BTreeMap;

/// The family rare families fold into.
pub const OTHER: &str = "OTHER";

/// What a head answers for a text the model does not flag: the CSV's words for a benign row.
pub fn benign_label(kind: HeadKind) -> &'static str {
    match kind {
        HeadKind::Family => "BENIGN",
        HeadKind::Severity => "none",
    }
}

/// The family a malicious row gets when its CSV row names none.
const UNKNOWN: &str = "UNKNOWN";

/// Default for [`head_labels`]' `min_family_rows`: a family needs this many malicious training rows
/// to be a class of its own.
pub const MIN_FAMILY_ROWS: usize = 20;

/// The raw value a row gives `kind`, if it gives one (see the module docs).
fn raw_value(kind: HeadKind, r: &Record) -> Option<String> {
    if !r.is_malicious() {
        return None;
    }
    match kind {
        HeadKind::Family => {
            let f = r.family.trim();
            (!f.is_empty() && !f.eq_ignore_ascii_case(UNKNOWN) && !f.eq_ignore_ascii_case("BENIGN"))
                .then(|| f.to_ascii_uppercase())
        }
        HeadKind::Severity => (r.severity != Severity::None).then(|| r.severity.as_str().to_owned()),
    }
}

/// The labels of a `kind` head trained on `rows`, in output order: families with at least
/// `min_family_rows` rows by name, then [`OTHER`] when some rarer family exists; severities present,
/// from low to critical. Fewer than two labels means the data cannot train the head.
pub fn head_labels(kind: HeadKind, rows: &[Record], min_family_rows: usize) -> Vec<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in rows {
        if let Some(v) = raw_value(kind, r) {
            *counts.entry(v).or_default() += 1;
        }
    }
    match kind {
        HeadKind::Family => {
            let mut labels: Vec<String> =
                counts.iter().filter(|(f, &n)| n >= min_family_rows && *f != OTHER).map(|(f, _)| f.clone()).collect();
            if counts.keys().any(|f| !labels.contains(f)) {
                labels.push(OTHER.to_owned());
            }
            labels
        }
        HeadKind::Severity => {
            let mut levels: Vec<Severity> = counts.keys().filter_map(|s| s.parse().ok()).collect();
            levels.sort();
            levels.into_iter().map(|s| s.as_str().to_owned()).collect()
        }
    }
}

/// The class (an index into `labels`) of a row for a `kind` head, `None` when the row has none: a
/// benign row, no family or severity, or a family outside `labels` when they have no [`OTHER`].
pub fn head_class(kind: HeadKind, labels: &[String], r: &Record) -> Option<usize> {
    let v = raw_value(kind, r)?;
    labels.iter().position(|l| *l == v).or_else(|| match kind {
        HeadKind::Family => labels.iter().position(|l| l == OTHER),
        HeadKind::Severity => None,
    })
}

/// How many distinct values the malicious `rows` give `kind` (a head is on by default when > 1).
pub fn distinct_values(kind: HeadKind, rows: &[Record]) -> usize {
    let mut seen: Vec<String> = rows.iter().filter_map(|r| raw_value(kind, r)).collect();
    seen.sort();
    seen.dedup();
    seen.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(family: &str, severity: Severity) -> Record {
        Record { family: family.into(), severity, ..Record::new("t", 1) }
    }

    #[test]
    fn rare_families_fold_into_other_and_benign_rows_have_no_class() {
        let mut rows: Vec<Record> = (0..3).map(|_| row("JB", Severity::High)).collect();
        rows.extend((0..3).map(|_| row("pi", Severity::Low)));
        rows.push(row("CMD", Severity::Critical));
        rows.push(row("UNKNOWN", Severity::Medium));
        rows.push(Record::new("hello", 0));
        let labels = head_labels(HeadKind::Family, &rows, 2);
        assert_eq!(labels, ["JB", "PI", "OTHER"]);
        assert_eq!(head_class(HeadKind::Family, &labels, &rows[3]), Some(1), "case-folded");
        assert_eq!(head_class(HeadKind::Family, &labels, &rows[6]), Some(2), "rare: OTHER");
        assert_eq!(head_class(HeadKind::Family, &labels, &rows[7]), None, "no family");
        assert_eq!(head_class(HeadKind::Family, &labels, &rows[8]), None, "benign");
        let sev = head_labels(HeadKind::Severity, &rows, 2);
        assert_eq!(sev, ["low", "medium", "high", "critical"]);
        assert_eq!(head_class(HeadKind::Severity, &sev, &rows[0]), Some(2));
        assert_eq!(distinct_values(HeadKind::Family, &rows), 3);
        assert_eq!(head_labels(HeadKind::Family, &rows, 1), ["CMD", "JB", "PI"], "nothing to fold");
    }

    #[test]
    fn data_without_the_columns_gives_one_value() {
        let rows: Vec<Record> = (0..5).map(|i| Record::new(format!("t{i}"), 1)).collect();
        assert_eq!(distinct_values(HeadKind::Family, &rows), 0);
        assert_eq!(distinct_values(HeadKind::Severity, &rows), 1, "every malicious row defaults to medium");
    }
}
