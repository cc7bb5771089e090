//! Class weights and the balance report.

use super::{BalanceReport, ClassWeights, Record};
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::fmt;

/// Benign shares outside this range get a warning.
pub const BENIGN_SHARE_OK: (f64, f64) = (0.40, 0.60);
/// Benign shares above this are flagged as harmful to attack detection.
pub const BENIGN_SHARE_HARMFUL: f64 = 0.65;

pub(super) fn class_weights(records: &[Record]) -> Result<ClassWeights> {
    let n = records.len();
    let malicious = records.iter().filter(|r| r.is_malicious()).count();
    let benign = n - malicious;
    if benign == 0 || malicious == 0 {
        return Err(Error::InvalidData(format!(
            "class weights need both classes; got {benign} benign and {malicious} malicious rows"
        )));
    }
    Ok(ClassWeights {
        benign: (n as f64 / (2.0 * benign as f64)) as f32,
        malicious: (n as f64 / (2.0 * malicious as f64)) as f32,
    })
}

fn counts<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<(String, usize)> {
    let mut m: HashMap<&str, usize> = HashMap::new();
    for k in keys {
        *m.entry(k).or_insert(0) += 1;
    }
    let mut v: Vec<(String, usize)> =
        m.into_iter().map(|(k, c)| (if k.is_empty() { "(none)".to_string() } else { k.to_string() }, c)).collect();
    // Count descending, then name, so the report is the same on every run.
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

pub(super) fn compute(records: &[Record]) -> BalanceReport {
    let total = records.len();
    let malicious = records.iter().filter(|r| r.is_malicious()).count();
    let benign = total - malicious;
    let benign_share = if total == 0 { 0.0 } else { benign as f64 / total as f64 };
    let mut warnings = Vec::new();
    if total == 0 {
        warnings.push("no rows".to_string());
    } else if benign == 0 || malicious == 0 {
        warnings.push(format!(
            "only one class present ({benign} benign, {malicious} malicious): a classifier cannot be trained"
        ));
    }
    if total > 0 {
        let pct = benign_share * 100.0;
        if benign_share > BENIGN_SHARE_HARMFUL {
            warnings.push(format!(
                "benign share {pct:.1}% is above {:.0}%: harmful to attack detection (the model learns to \
                 say benign); add attacks or down-sample benign rows",
                BENIGN_SHARE_HARMFUL * 100.0
            ));
        } else if benign_share > BENIGN_SHARE_OK.1 {
            warnings.push(format!(
                "benign share {pct:.1}% is above {:.0}% (recommended {:.0}-{:.0}%)",
                BENIGN_SHARE_OK.1 * 100.0,
                BENIGN_SHARE_OK.0 * 100.0,
                BENIGN_SHARE_OK.1 * 100.0
            ));
        } else if benign_share < BENIGN_SHARE_OK.0 {
            warnings.push(format!(
                "benign share {pct:.1}% is below {:.0}% (recommended {:.0}-{:.0}%): expect more false positives",
                BENIGN_SHARE_OK.0 * 100.0,
                BENIGN_SHARE_OK.0 * 100.0,
                BENIGN_SHARE_OK.1 * 100.0
            ));
        }
    }
    BalanceReport {
        total,
        benign,
        malicious,
        benign_share,
        class_weights: class_weights(records).ok(),
        families: counts(records.iter().map(|r| r.family.as_str())),
        categories: counts(records.iter().map(|r| r.category.as_str())),
        sources: counts(records.iter().map(|r| r.source.as_str())),
        warnings,
    }
}

/// Rows shown per table in the human report (the JSON form has them all).
const MAX_TABLE_ROWS: usize = 25;

fn share(count: usize, total: usize) -> f64 {
    if total == 0 {
        0.0
    } else {
        100.0 * count as f64 / total as f64
    }
}

fn table(f: &mut fmt::Formatter<'_>, title: &str, rows: &[(String, usize)], total: usize) -> fmt::Result {
    let width =
        rows.iter().map(|(k, _)| crate::printable::cell(k).chars().count()).max().unwrap_or(0).max(title.len()).min(48);
    writeln!(f)?;
    writeln!(f, "{title:<width$}  {:>8}  {:>6}", "rows", "share")?;
    for (k, c) in rows.iter().take(MAX_TABLE_ROWS) {
        // User text (family, category, source): escaped so that it cannot fake table lines.
        let k = crate::printable::cell(k);
        let name: String = if k.chars().count() > width {
            k.chars().take(width - 3).chain("...".chars()).collect()
        } else {
            k.into_owned()
        };
        writeln!(f, "{name:<width$}  {c:>8}  {:>5.1}%", share(*c, total))?;
    }
    if rows.len() > MAX_TABLE_ROWS {
        let rest: usize = rows[MAX_TABLE_ROWS..].iter().map(|(_, c)| c).sum();
        let more = format!("({} more)", rows.len() - MAX_TABLE_ROWS);
        writeln!(f, "{more:<width$}  {rest:>8}  {:>5.1}%", share(rest, total))?;
    }
    Ok(())
}

impl fmt::Display for BalanceReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} rows", self.total)?;
        let labels = [("benign (0)".to_string(), self.benign), ("malicious (1)".to_string(), self.malicious)];
        table(f, "label", &labels, self.total)?;
        match &self.class_weights {
            Some(w) => {
                writeln!(f, "class weights (n / (2 n_c)): benign {:.4}, malicious {:.4}", w.benign, w.malicious)?
            }
            None => writeln!(f, "class weights: n/a (a class is missing)")?,
        }
        table(f, "family", &self.families, self.total)?;
        table(f, "category", &self.categories, self.total)?;
        table(f, "source", &self.sources, self.total)?;
        if !self.warnings.is_empty() {
            writeln!(f)?;
            for w in &self.warnings {
                writeln!(f, "warning: {w}")?;
            }
        }
        Ok(())
    }
}
