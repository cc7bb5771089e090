//! False-positive driven augmentation ("Strategy 4 - Hybrid Balanced Augmentation"): turn the false
//! positives a model made on benign traffic into balanced training rows.
//!
//! Steps, each a setting of [`ReinforceParams`] with the seed's value as default:
//! 1. select the unique false positives to cover, Pareto-first by frequency (60%), stratified by
//!    category in proportion to the production false-positive distribution ([`select::select`]);
//! 2. keep each selected prompt and add N (8) deterministic, meaning-preserving variations of it
//!    ([`crate::data::vary::variations`]); the prompt and its variations share a `group` (`fp:<id>`) so a split keeps
//!    them together;
//! 3. mix in hard negatives (the built-in set plus an optional user file) at confidence 1.0, notes
//!    starting `HARD NEGATIVE:`;
//! 4. add variations of existing attacks until the benign share reaches the target (61.7%; never above
//!    65%). Each such row joins its source attack's leakage group.
//!
//! Everything is deterministic for a seed. The output rows are in the training schema (source
//! `reinforced` for benign rows, `augmented` for attack variations) with notes describing each row.

pub mod input;
pub mod select;

pub use input::{read_fp_file, FalsePositive, FpSet};
pub use select::{CategoryCoverage, Selection};

use crate::data::vary::variations;
use crate::data::{normalize_text, Record, Severity, BENIGN, MALICIOUS};
use crate::error::{Error, Result};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// The benign share the output may never exceed: above it a model learns to let attacks pass.
pub const MAX_BENIGN_SHARE: f64 = 0.65;
/// `source` of benign rows written by the reinforcement.
pub const SOURCE_REINFORCED: &str = "reinforced";
/// `source` of malicious augmentation rows.
pub const SOURCE_AUGMENTED: &str = "augmented";

/// Reinforcement settings; the defaults are the seed's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReinforceParams {
    /// Share of unique false positives to cover, most frequent first (default 0.60).
    pub coverage: f64,
    /// Variations per selected false positive (default 8).
    pub variations: usize,
    /// Benign share of the output the malicious augmentation aims at (default 0.617; at most 0.65).
    pub target_benign_share: f64,
    /// Mix in the built-in hard negatives (default true).
    pub builtin_hard_negatives: bool,
    /// Keep each selected false positive itself next to its variations (default true).
    pub include_originals: bool,
    /// Seed (default 42).
    pub seed: u64,
}

impl Default for ReinforceParams {
    fn default() -> Self {
        ReinforceParams {
            coverage: 0.60,
            variations: 8,
            target_benign_share: 0.617,
            builtin_hard_negatives: true,
            include_originals: true,
            seed: 42,
        }
    }
}

impl ReinforceParams {
    /// Validate every setting; the error names it.
    pub fn check(&self) -> Result<()> {
        if !(self.coverage > 0.0 && self.coverage <= 1.0) {
            return Err(Error::param("coverage", self.coverage, "must be in (0, 1]"));
        }
        if self.variations == 0 || self.variations > 100 {
            return Err(Error::param("variations", self.variations, "must be between 1 and 100"));
        }
        if !(self.target_benign_share > 0.0 && self.target_benign_share <= MAX_BENIGN_SHARE) {
            return Err(Error::param(
                "target-benign-share",
                self.target_benign_share,
                format!("must be in (0, {MAX_BENIGN_SHARE}]: a benign share above 65% teaches the model to let attacks pass"),
            ));
        }
        Ok(())
    }
}

/// What goes in besides the false positives.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// Existing training rows; their malicious rows are the pool the augmentation varies (benign rows
    /// are only used to avoid generating texts that already exist).
    pub training: Vec<Record>,
    /// The built-in hard negatives (normally [`crate::data::corpus::hard_negatives`]).
    pub builtin_hard_negatives: Vec<Record>,
    /// Hard negatives from a user file.
    pub user_hard_negatives: Vec<Record>,
    /// Texts that must not appear in the output (the test data the gate will use): a false positive or
    /// hard negative among them is dropped (counted), and no variation equals one.
    pub holdout: Vec<String>,
}

/// The composition of the output, like the seed's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Composition {
    /// Output rows.
    pub total: usize,
    /// Benign rows.
    pub benign: usize,
    /// Malicious rows.
    pub malicious: usize,
    /// benign / total.
    pub benign_share: f64,
    /// The target it aimed at.
    pub target_benign_share: f64,
    /// Selected false positives kept as rows.
    pub fp_originals: usize,
    /// Selected false positives not written again because their text is already in the training data
    /// (or was generated as a variation of another one).
    pub fp_originals_in_training: usize,
    /// Variations of false positives.
    pub fp_variations: usize,
    /// Variations asked for (selected x N).
    pub fp_variations_requested: usize,
    /// Built-in hard negatives.
    pub hard_negatives_builtin: usize,
    /// Hard negatives from the user file.
    pub hard_negatives_user: usize,
    /// Hard negatives dropped because their text was already in the output or the training data.
    pub hard_negatives_duplicate: usize,
    /// False positives and hard negatives dropped because their text is in the holdout (test) data.
    pub held_out_dropped: usize,
    /// Malicious variations.
    pub malicious_augmented: usize,
    /// Malicious variations needed to reach the target.
    pub malicious_needed: usize,
    /// Attacks in the pool the variations were made from.
    pub malicious_pool: usize,
    /// Malicious variations per family, sorted by count descending.
    pub malicious_families: Vec<(String, usize)>,
    /// Unique false positives in the report.
    pub unique_fps: usize,
    /// Unique false positives selected.
    pub selected_fps: usize,
    /// selected / unique.
    pub unique_coverage: f64,
    /// False-positive occurrences in the report.
    pub fp_occurrences: usize,
    /// Occurrences the selection covers.
    pub fp_occurrences_covered: usize,
    /// Per-category coverage and the benign rows written for each category.
    pub categories: Vec<CategoryRow>,
    /// Seed used.
    pub seed: u64,
}

/// One category of the composition report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryRow {
    /// Selection coverage.
    #[serde(flatten)]
    pub coverage: CategoryCoverage,
    /// Share of the production false positives.
    pub production_share: f64,
    /// Rows written (originals + variations).
    pub rows: usize,
}

impl Composition {
    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| Error::json("composition report", e))
    }
}

fn pct(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    }
}

impl fmt::Display for Composition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Reinforcement data (seed {})", self.seed)?;
        writeln!(f, "  total rows             {:>7}", self.total)?;
        writeln!(
            f,
            "  benign                 {:>7}  {:>5.1}%  (target {:.1}%)",
            self.benign,
            100.0 * self.benign_share,
            100.0 * self.target_benign_share
        )?;
        writeln!(
            f,
            "    false positives      {:>7}  {:>5.1}%  ({} more already in the training data)",
            self.fp_originals,
            pct(self.fp_originals, self.total),
            self.fp_originals_in_training
        )?;
        writeln!(
            f,
            "    FP variations        {:>7}  {:>5.1}%  ({} asked for)",
            self.fp_variations,
            pct(self.fp_variations, self.total),
            self.fp_variations_requested
        )?;
        let hn = self.hard_negatives_builtin + self.hard_negatives_user;
        writeln!(
            f,
            "    hard negatives       {:>7}  {:>5.1}%  ({} built-in, {} user, {} duplicates dropped)",
            hn,
            pct(hn, self.total),
            self.hard_negatives_builtin,
            self.hard_negatives_user,
            self.hard_negatives_duplicate
        )?;
        if self.held_out_dropped > 0 {
            writeln!(
                f,
                "    held out (in the test data) {:>3}  false positives / hard negatives not written",
                self.held_out_dropped
            )?;
        }
        writeln!(
            f,
            "  malicious (augmented)  {:>7}  {:>5.1}%  ({} needed, from {} attacks)",
            self.malicious,
            pct(self.malicious, self.total),
            self.malicious_needed,
            self.malicious_pool
        )?;
        for (fam, n) in &self.malicious_families {
            writeln!(f, "    {:<20} {n:>7}", crate::printable::cell(fam))?;
        }
        writeln!(
            f,
            "  unique FPs covered     {:>7} of {} ({:.1}%), {} of {} occurrences ({:.1}%)",
            self.selected_fps,
            self.unique_fps,
            100.0 * self.unique_coverage,
            self.fp_occurrences_covered,
            self.fp_occurrences,
            pct(self.fp_occurrences_covered, self.fp_occurrences)
        )?;
        writeln!(
            f,
            "  {:<22} {:>8} {:>7} {:>9} {:>8} {:>6}",
            "category", "prod FP", "share", "available", "selected", "rows"
        )?;
        for c in &self.categories {
            writeln!(
                f,
                "  {:<22} {:>8} {:>6.1}% {:>9} {:>8} {:>6}",
                c.coverage.category,
                c.coverage.production_fp,
                100.0 * c.production_share,
                c.coverage.available,
                c.coverage.selected,
                c.rows
            )?;
        }
        Ok(())
    }
}

/// The output rows and their composition.
#[derive(Debug, Clone)]
pub struct Reinforced {
    /// Rows in the training schema.
    pub records: Vec<Record>,
    /// The composition report.
    pub composition: Composition,
}

fn origin() -> crate::data::Origin {
    crate::data::Origin { file: "<reinforce>".into(), line: 0 }
}

fn benign_row(text: String, category: &str, group: &str, notes: String) -> Record {
    let mut r = Record::new(text, BENIGN);
    r.category = category.to_string();
    r.source = SOURCE_REINFORCED.into();
    r.notes = notes;
    r.group = Some(group.to_string());
    r.origin = origin();
    r
}

fn rules_text(fp: &FalsePositive) -> String {
    if fp.rules.is_empty() {
        String::new()
    } else {
        format!("; rules {}", fp.rules.join(", "))
    }
}

/// The leakage group of an augmented attack: its source row's group (see [`crate::data::group_key`]'s
/// rule), so a variation never lands in another split than the attack it came from.
fn source_group(r: &Record) -> String {
    match &r.group {
        Some(g) if !g.trim().is_empty() => g.clone(),
        _ => crate::data::group_key(r),
    }
}

/// Notes that start with exactly `HARD NEGATIVE:`, keeping what the row said.
fn hard_negative_notes(notes: &str, which: &str) -> String {
    let n = notes.trim();
    if n.starts_with("HARD NEGATIVE:") {
        return n.to_string();
    }
    let rest = match n.get(..13) {
        Some(p) if p.eq_ignore_ascii_case("HARD NEGATIVE") => n[13..].trim_start_matches([':', ' ', '-']),
        _ => n,
    };
    if rest.is_empty() {
        format!("HARD NEGATIVE: {which} boundary prompt; benign")
    } else {
        format!("HARD NEGATIVE: {rest}")
    }
}

/// Build the reinforcement rows from false positives `fps` and the other `inputs`.
pub fn reinforce(fps: &FpSet, inputs: &Inputs, params: &ReinforceParams) -> Result<Reinforced> {
    params.check()?;
    let mut rng = Rng::new(params.seed);
    let mut seen: HashSet<String> = inputs.training.iter().map(|r| normalize_text(&r.text)).collect();
    let holdout: HashSet<String> = inputs.holdout.iter().map(|t| normalize_text(t)).collect();
    seen.extend(holdout.iter().cloned());
    let mut held_out_dropped = 0;
    let mut records = Vec::new();

    // 1. Selection.
    let selection = select::select(&fps.unique, &fps.category_fp, params.coverage);
    // 2. False positives and their variations.
    let mut rows_per_cat: BTreeMap<String, usize> = BTreeMap::new();
    let (mut fp_originals, mut fp_originals_in_training, mut fp_variations) = (0, 0, 0);
    for fp in &selection.chosen {
        let group = format!("fp:{}", fp.id);
        let mut fp_rng = Rng::new(params.seed ^ rng.next_u64());
        if params.include_originals && holdout.contains(&normalize_text(&fp.prompt)) {
            held_out_dropped += 1;
        } else if params.include_originals && seen.insert(normalize_text(&fp.prompt)) {
            records.push(benign_row(
                fp.prompt.clone(),
                &fp.category,
                &group,
                format!(
                    "REINFORCED: production false positive {} ({}, seen {}x{}); benign, must not be flagged",
                    fp.id,
                    fp.category,
                    fp.count,
                    rules_text(fp)
                ),
            ));
            fp_originals += 1;
            *rows_per_cat.entry(fp.category.clone()).or_default() += 1;
        } else if params.include_originals {
            fp_originals_in_training += 1;
        }
        let vars = variations(&fp.prompt, params.variations, &mut fp_rng, &mut seen, true);
        for (k, v) in vars.iter().enumerate() {
            records.push(benign_row(
                v.text.clone(),
                &fp.category,
                &group,
                format!(
                    "REINFORCED: variation {}/{} of production false positive {} ({}) via {}; benign, same meaning",
                    k + 1,
                    params.variations,
                    fp.id,
                    fp.category,
                    v.transforms.join(" + ")
                ),
            ));
        }
        fp_variations += vars.len();
        *rows_per_cat.entry(fp.category.clone()).or_default() += vars.len();
    }

    // 3. Hard negatives.
    let mut hn_counts = [0usize; 2];
    let mut hard_negatives_duplicate = 0;
    let builtin: &[Record] = if params.builtin_hard_negatives { &inputs.builtin_hard_negatives } else { &[] };
    for (which, set) in [builtin, inputs.user_hard_negatives.as_slice()].into_iter().enumerate() {
        for h in set {
            if h.label != BENIGN {
                return Err(Error::InvalidData(format!(
                    "hard negative {}:{} is labelled malicious; hard negatives must be benign",
                    h.origin.file, h.origin.line
                )));
            }
            if holdout.contains(&normalize_text(&h.text)) {
                held_out_dropped += 1;
                continue;
            }
            if !seen.insert(normalize_text(&h.text)) {
                hard_negatives_duplicate += 1;
                continue;
            }
            let mut r = h.clone();
            r.confidence = 1.0;
            r.severity = Severity::None;
            if r.family.is_empty() {
                r.family = "BENIGN".into();
            }
            r.notes = hard_negative_notes(&r.notes, if which == 0 { "built-in" } else { "user" });
            if r.source.is_empty() {
                r.source = SOURCE_REINFORCED.into();
            }
            if r.category.is_empty() {
                r.category = "hard_negative".into();
            }
            records.push(r);
            hn_counts[which] += 1;
        }
    }

    // 4. Malicious augmentation up to the target benign share.
    let benign = records.len();
    let t = params.target_benign_share;
    let mut needed = ((benign as f64) * (1.0 - t) / t).round() as usize;
    while benign > 0 && (benign as f64) / ((benign + needed) as f64) > MAX_BENIGN_SHARE {
        needed += 1;
    }
    let mut pool: Vec<&Record> = inputs.training.iter().filter(|r| r.label == MALICIOUS).collect();
    if needed > 0 && pool.is_empty() {
        return Err(Error::InvalidData(
            "the training data holds no malicious rows to augment; give the existing training CSV(s)".into(),
        ));
    }
    rng.shuffle(&mut pool);
    let mut families: BTreeMap<String, usize> = BTreeMap::new();
    let mut made = 0;
    let mut pass = 0;
    while made < needed {
        let before = made;
        for src in &pool {
            if made == needed {
                break;
            }
            let mut vrng = Rng::new(rng.next_u64());
            if let Some(v) = variations(&src.text, 1, &mut vrng, &mut seen, false).pop() {
                let mut r = Record::new(v.text, MALICIOUS);
                r.family = src.family.clone();
                r.category = src.category.clone();
                r.severity = src.severity;
                r.confidence = src.confidence;
                r.source = SOURCE_AUGMENTED.into();
                r.notes = format!(
                    "AUGMENTED: variation of a {} attack from {}{} via {}; still malicious",
                    src.family,
                    if src.source.is_empty() { "the training data" } else { &src.source },
                    if src.origin.line > 0 {
                        format!(" ({}:{})", src.origin.file, src.origin.line)
                    } else {
                        String::new()
                    },
                    v.transforms.join(" + ")
                );
                r.group = Some(source_group(src));
                r.origin = origin();
                *families.entry(src.family.clone()).or_default() += 1;
                records.push(r);
                made += 1;
            }
        }
        pass += 1;
        if made == before || pass > 64 {
            break;
        }
    }
    let total = records.len();
    let benign_share = if total == 0 { 0.0 } else { benign as f64 / total as f64 };
    if benign_share > MAX_BENIGN_SHARE {
        return Err(Error::InvalidData(format!(
            "only {made} of the {needed} attack variations needed could be made from {} attacks: the benign share \
             would be {:.1}% > {:.0}%; give more malicious training rows or lower --variations/--coverage",
            pool.len(),
            100.0 * benign_share,
            100.0 * MAX_BENIGN_SHARE
        )));
    }
    let total_fp: usize = selection.categories.iter().map(|c| c.production_fp).sum();
    let categories = selection
        .categories
        .iter()
        .map(|c| CategoryRow {
            coverage: c.clone(),
            production_share: if total_fp == 0 { 0.0 } else { c.production_fp as f64 / total_fp as f64 },
            rows: rows_per_cat.get(&c.category).copied().unwrap_or(0),
        })
        .collect();
    let mut malicious_families: Vec<(String, usize)> = families.into_iter().collect();
    malicious_families.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let composition = Composition {
        total,
        benign,
        malicious: made,
        benign_share,
        target_benign_share: t,
        fp_originals,
        fp_originals_in_training,
        fp_variations,
        fp_variations_requested: selection.chosen.len() * params.variations,
        hard_negatives_builtin: hn_counts[0],
        hard_negatives_user: hn_counts[1],
        hard_negatives_duplicate,
        held_out_dropped,
        malicious_augmented: made,
        malicious_needed: needed,
        malicious_pool: pool.len(),
        malicious_families,
        unique_fps: fps.unique.len(),
        selected_fps: selection.chosen.len(),
        unique_coverage: selection.chosen.len() as f64 / fps.unique.len().max(1) as f64,
        fp_occurrences: fps.occurrences,
        fp_occurrences_covered: selection.chosen.iter().map(|f| f.count).sum(),
        categories,
        seed: params.seed,
    };
    Ok(Reinforced { records, composition })
}

/// Where the inputs of [`reinforce_files`] are.
#[derive(Debug, Clone, Default)]
pub struct InputFiles {
    /// The false-positive report (JSON) or CSV.
    pub false_positives: std::path::PathBuf,
    /// Existing training CSVs (the attacks to augment).
    pub training: Vec<std::path::PathBuf>,
    /// Optional user hard negatives (CSV in the training schema, benign rows).
    pub hard_negatives: Option<std::path::PathBuf>,
    /// Test CSVs whose texts must not appear in the output (see [`Inputs::holdout`]).
    pub holdout: Vec<std::path::PathBuf>,
}

/// [`reinforce`] on files: reads the false positives, the training data (merged and de-duplicated),
/// the built-in hard negatives (when enabled) and the optional user file.
pub fn reinforce_files(files: &InputFiles, params: &ReinforceParams) -> Result<Reinforced> {
    params.check()?;
    let fps = read_fp_file(&files.false_positives)?;
    if files.training.is_empty() {
        return Err(Error::param("train", "<none>", "give the existing training CSV(s): their attacks are augmented"));
    }
    let opts = crate::data::LoadOptions::default();
    let training = crate::data::load_files(&files.training, &opts)?.records;
    let user_hard_negatives = match &files.hard_negatives {
        Some(p) => crate::data::read_csv(p, &opts)?.records,
        None => Vec::new(),
    };
    let builtin_hard_negatives =
        if params.builtin_hard_negatives { crate::data::corpus::hard_negatives() } else { Vec::new() };
    let holdout = if files.holdout.is_empty() {
        Vec::new()
    } else {
        crate::data::load_files(&files.holdout, &opts)?.records.into_iter().map(|r| r.text).collect()
    };
    reinforce(&fps, &Inputs { training, builtin_hard_negatives, user_hard_negatives, holdout }, params)
}
