//! The false-positive report: which benign prompts a model flagged, per category. Its JSON shape is the
//! input of the reinforcement loop (`l2 reinforce`) and the output of `l2 eval --fp-report`:
//!
//! ```json
//! {"total": 3, "false_positives": 1,
//!  "fp_details": [{"id": "fp-1", "prompt": "...", "category": "programming",
//!                  "threats": [{"rule_id": "l2-mlp", "severity": "high", "confidence": 0.91, "layer": "L2"}]}],
//!  "categories": {"programming": {"total": 2, "fp": 1}, "education": {"total": 1, "fp": 0}}}
//! ```

use crate::data::Record;
use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The category name used for benign rows without one.
pub const UNCATEGORIZED: &str = "uncategorized";
/// The `layer` of threats raised by this engine.
pub const LAYER: &str = "L2";

/// One detection that made a prompt a false positive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threat {
    /// Which rule or model raised it (e.g. `l2-mlp`).
    pub rule_id: String,
    /// `low`, `medium`, `high` or `critical` (free text when read from other tools).
    pub severity: String,
    /// The score, in `[0, 1]` for this engine's models.
    pub confidence: f64,
    /// The detection layer (`L2` here).
    pub layer: String,
}

/// One false positive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FpDetail {
    /// An identifier of the prompt (a string; a JSON number is accepted when reading).
    #[serde(deserialize_with = "string_or_number")]
    pub id: String,
    /// The benign prompt that was flagged.
    pub prompt: String,
    /// Its category (empty when the producer had none).
    #[serde(default)]
    pub category: String,
    /// The detections (may be empty when read from other tools).
    #[serde(default)]
    pub threats: Vec<Threat>,
}

/// Benign rows and false positives of one category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CategoryCount {
    /// Benign rows in the category.
    pub total: usize,
    /// Of those, flagged.
    pub fp: usize,
}

/// The false-positive report over a benign data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FpReport {
    /// Benign prompts evaluated.
    pub total: usize,
    /// How many were flagged.
    pub false_positives: usize,
    /// Every flagged prompt, highest score first.
    pub fp_details: Vec<FpDetail>,
    /// Per category (by name).
    #[serde(default)]
    pub categories: BTreeMap<String, CategoryCount>,
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        I(i64),
        U(u64),
    }
    Ok(match Id::deserialize(d).map_err(|_| serde::de::Error::custom("`id` must be a string or an integer"))? {
        Id::S(s) => s,
        Id::I(i) => i.to_string(),
        Id::U(u) => u.to_string(),
    })
}

/// Severity of a flagged score: `critical` at >= 0.95, `high` at >= 0.80, `medium` at >= 0.60, else `low`.
pub fn severity_for_score(score: f32) -> &'static str {
    match score {
        s if s >= 0.95 => "critical",
        s if s >= 0.80 => "high",
        s if s >= 0.60 => "medium",
        _ => "low",
    }
}

/// Build the report over the benign rows of `records` (malicious rows are ignored: they cannot be false
/// positives). A row is a false positive when its score is `>= threshold`. Each false positive gets one
/// threat: `rule_id` = `model_id`, severity from [`severity_for_score`], confidence = the score, layer `L2`.
/// Its `id` is `file:line` when the row has an origin, else `row-<index>`. Empty categories count as
/// [`UNCATEGORIZED`].
///
/// Errors: lengths differ, a non-finite score or threshold, a label other than 0/1, no benign rows.
pub fn fp_report(scores: &[f32], records: &[Record], threshold: f32, model_id: &str) -> Result<FpReport> {
    if scores.len() != records.len() {
        return Err(Error::shape(
            "scores vs records",
            format!("{} scores (one per record)", records.len()),
            scores.len(),
        ));
    }
    if !threshold.is_finite() {
        return Err(Error::param("threshold", threshold, "must be a finite number"));
    }
    super::metrics::check_finite(scores)?;
    super::report::record_labels(records)?;
    let mut tally = FpTally::default();
    for (i, (r, &s)) in records.iter().zip(scores).enumerate() {
        if r.label != 0 {
            continue;
        }
        tally.add_benign(&r.category, 1);
        if s >= threshold {
            tally.add_flagged(FlaggedRow {
                index: i as u64,
                id: Some(super::report::origin_of(r, i)),
                prompt: r.text.clone(),
                category: r.category.clone(),
                score: s,
            });
        }
    }
    tally.into_report(model_id)
}

/// A flagged benign row, as a scorer that sees the data in pieces (a Spark partition, a Ray batch)
/// collects it. Its position in the whole data set orders equal scores and names it when it has no id.
#[derive(Debug, Clone, PartialEq)]
pub struct FlaggedRow {
    /// Position of the row in the whole data set (0-based, malicious rows counted too).
    pub index: u64,
    /// The row's identifier when the data has one; without one the report names it `row-<index>`.
    pub id: Option<String>,
    /// The benign prompt that was flagged.
    pub prompt: String,
    /// Its category (empty counts as [`UNCATEGORIZED`]).
    pub category: String,
    /// Its score (`>= threshold`: the scorer decided it was malicious).
    pub score: f32,
}

/// What a false-positive report is made of: benign rows per category and the flagged ones. Tallies of
/// pieces of the data merge into the tally of the whole, so a distributed scorer writes exactly the report
/// [`fp_report`] writes over the same rows (which builds one tally over all of them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FpTally {
    benign: BTreeMap<String, usize>,
    flagged: Vec<FlaggedRow>,
}

fn category_name(raw: &str) -> &str {
    if raw.is_empty() {
        UNCATEGORIZED
    } else {
        raw
    }
}

impl FpTally {
    /// Count `n` benign rows (flagged or not) of `category`.
    pub fn add_benign(&mut self, category: &str, n: usize) {
        *self.benign.entry(category_name(category).to_string()).or_default() += n;
    }

    /// Add a flagged benign row (also counted by [`FpTally::add_benign`]).
    pub fn add_flagged(&mut self, row: FlaggedRow) {
        self.flagged.push(row);
    }

    /// Add the counts and flagged rows of another piece of the data.
    pub fn merge(&mut self, other: FpTally) {
        for (c, n) in other.benign {
            *self.benign.entry(c).or_default() += n;
        }
        self.flagged.extend(other.flagged);
    }

    /// The report: false positives highest score first (equal scores in data order), one threat each
    /// (`rule_id` = `model_id`, severity from [`severity_for_score`], confidence = the score, layer `L2`).
    ///
    /// Errors: no benign rows; a non-finite score; a category with more flagged than benign rows.
    pub fn into_report(mut self, model_id: &str) -> Result<FpReport> {
        let total: usize = self.benign.values().sum();
        if total == 0 {
            return Err(Error::InvalidData("a false-positive report needs benign rows, got none".into()));
        }
        let mut categories: BTreeMap<String, CategoryCount> =
            self.benign.into_iter().map(|(c, n)| (c, CategoryCount { total: n, fp: 0 })).collect();
        for row in &self.flagged {
            if !row.score.is_finite() {
                return Err(Error::InvalidData(format!(
                    "false-positive tally: row {} has a non-finite score ({})",
                    row.index, row.score
                )));
            }
            let name = category_name(&row.category);
            match categories.get_mut(name) {
                Some(c) if c.fp < c.total => c.fp += 1,
                _ => {
                    return Err(Error::InvalidData(format!(
                        "false-positive tally: category `{name}` has more flagged rows than benign rows"
                    )))
                }
            }
        }
        self.flagged.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
        let fp_details = self
            .flagged
            .into_iter()
            .map(|r| FpDetail {
                id: r.id.unwrap_or_else(|| format!("row-{}", r.index)),
                category: category_name(&r.category).to_string(),
                threats: vec![Threat {
                    rule_id: model_id.to_string(),
                    severity: severity_for_score(r.score).to_string(),
                    confidence: r.score as f64,
                    layer: LAYER.to_string(),
                }],
                prompt: r.prompt,
            })
            .collect::<Vec<_>>();
        Ok(FpReport { total, false_positives: fp_details.len(), fp_details, categories })
    }
}

impl FpReport {
    /// Parse a report from JSON; `what` names the source in errors (e.g. the file name). Beyond serde's
    /// shape errors (which give line and column), checks that counts are consistent: `false_positives <=
    /// total`, at most `false_positives` details, every detail has a non-empty prompt, every category has
    /// `fp <= total`, and confidences are finite.
    pub fn from_json(text: &str, what: &str) -> Result<FpReport> {
        let report: FpReport =
            serde_json::from_str(text).map_err(|e| Error::json(format!("false-positive report {what}"), e))?;
        report.check(what)?;
        Ok(report)
    }

    /// Read and parse a report file (see [`FpReport::from_json`]).
    pub fn read(path: &Path) -> Result<FpReport> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
        FpReport::from_json(&text, &format!("`{}`", path.display()))
    }

    /// Write the report as pretty JSON, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = self.to_json()?;
        text.push('\n');
        crate::fsutil::write_atomic(path, text.as_bytes())
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::json("false-positive report", e))
    }

    fn check(&self, what: &str) -> Result<()> {
        let bad = |reason: String| Err(Error::InvalidData(format!("false-positive report {what}: {reason}")));
        if self.false_positives > self.total {
            return bad(format!("`false_positives` ({}) exceeds `total` ({})", self.false_positives, self.total));
        }
        if self.fp_details.len() > self.false_positives {
            return bad(format!(
                "{} entries in `fp_details` but `false_positives` is {}",
                self.fp_details.len(),
                self.false_positives
            ));
        }
        for (i, d) in self.fp_details.iter().enumerate() {
            if d.prompt.trim().is_empty() {
                return bad(format!("`fp_details[{i}]` (id `{}`) has an empty `prompt`", d.id));
            }
            if let Some(j) = d.threats.iter().position(|t| !t.confidence.is_finite()) {
                return bad(format!("`fp_details[{i}].threats[{j}].confidence` is not a finite number"));
            }
        }
        for (name, c) in &self.categories {
            if c.fp > c.total {
                return bad(format!("category `{name}` has `fp` ({}) above `total` ({})", c.fp, c.total));
            }
        }
        Ok(())
    }
}
