//! Training data: the CSV schema and its validation, merging and de-duplication, the balance report,
//! class weights, leakage-safe stratified splits, and the built-in demo corpus.
//!
//! CONTRACT (skeleton): the signatures below are what the rest of the crate calls. Bodies are being
//! written by the data work item.

mod record;

pub use record::{Origin, Record, Severity, BENIGN, COLUMNS, MALICIOUS};

use crate::error::{Result, RowError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How to treat invalid rows while loading.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Continue past invalid rows (they are returned in [`Loaded::rejects`]) instead of failing.
    pub skip_invalid: bool,
}

/// A row that was not used, with why; written to the rejects file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reject {
    /// Where and why.
    pub error: RowError,
    /// The row's text as far as it could be read (may be empty).
    pub text: String,
}

/// Counts from merging and de-duplicating.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DedupeStats {
    /// Rows read from all files (valid ones).
    pub rows_in: usize,
    /// Exact duplicates removed (same text, same label).
    pub exact_duplicates: usize,
    /// Normalized duplicates removed (case-folded, whitespace collapsed; same label).
    pub normalized_duplicates: usize,
    /// Distinct texts whose copies carry both labels (every copy excluded, written to rejects).
    pub conflicting_texts: usize,
    /// Rows excluded because of label conflicts.
    pub conflicting_rows: usize,
    /// Rows kept.
    pub rows_out: usize,
}

/// The result of loading one or more files.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// Valid rows, in file order.
    pub records: Vec<Record>,
    /// Rows that were not used, with reasons (invalid with --skip-invalid, label conflicts).
    pub rejects: Vec<Reject>,
    /// Merge / de-duplication counts (zero when not merged).
    pub dedupe: DedupeStats,
}

/// Read one CSV file in the training schema. Fails with [`crate::Error::InvalidRows`] listing the invalid
/// rows unless `opts.skip_invalid`.
pub fn read_csv(path: &Path, opts: &LoadOptions) -> Result<Loaded> {
    let _ = (path, opts);
    todo!("data work item")
}

/// Read several files, then merge and de-duplicate them (see [`dedupe`]).
pub fn load_files(paths: &[PathBuf], opts: &LoadOptions) -> Result<Loaded> {
    let _ = (paths, opts);
    todo!("data work item")
}

/// Remove exact and normalized duplicates and exclude texts with conflicting labels (to rejects).
pub fn dedupe(records: Vec<Record>) -> (Vec<Record>, Vec<Reject>, DedupeStats) {
    let _ = records;
    todo!("data work item")
}

/// Write records in the canonical schema ([`COLUMNS`] plus `group` when any row has one).
pub fn write_csv(path: &Path, records: &[Record]) -> Result<()> {
    let _ = (path, records);
    todo!("data work item")
}

/// Write rejects as CSV `file,line,field,reason,text`.
pub fn write_rejects(path: &Path, rejects: &[Reject]) -> Result<()> {
    let _ = (path, rejects);
    todo!("data work item")
}

/// Inverse-frequency class weights `n / (2 * n_c)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassWeights {
    /// Weight of label 0.
    pub benign: f32,
    /// Weight of label 1.
    pub malicious: f32,
}

/// Class weights of `records`; an error when a class is absent.
pub fn class_weights(records: &[Record]) -> Result<ClassWeights> {
    let _ = records;
    todo!("data work item")
}

/// Balance report: counts and shares per label, family, category and source, with warnings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BalanceReport {
    /// Total rows.
    pub total: usize,
    /// Benign rows.
    pub benign: usize,
    /// Malicious rows.
    pub malicious: usize,
    /// benign / total.
    pub benign_share: f64,
    /// Class weights (absent when a class is missing).
    pub class_weights: Option<ClassWeights>,
    /// (family, count) sorted by count descending.
    pub families: Vec<(String, usize)>,
    /// (category, count) sorted by count descending.
    pub categories: Vec<(String, usize)>,
    /// (source, count) sorted by count descending.
    pub sources: Vec<(String, usize)>,
    /// Human-readable warnings (benign share outside 40-60%; above 65% flagged as harmful).
    pub warnings: Vec<String>,
}

impl BalanceReport {
    /// Compute the report.
    pub fn compute(records: &[Record]) -> BalanceReport {
        let _ = records;
        todo!("data work item")
    }
}

impl std::fmt::Display for BalanceReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} rows", self.total)
    }
}

/// Split fractions and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitParams {
    /// Training fraction (default 0.70).
    pub train: f64,
    /// Validation fraction (default 0.15).
    pub val: f64,
    /// Test fraction (default 0.15).
    pub test: f64,
    /// Shuffle seed (default 42).
    pub seed: u64,
}

impl Default for SplitParams {
    fn default() -> Self {
        SplitParams { train: 0.70, val: 0.15, test: 0.15, seed: 42 }
    }
}

/// Train / validation / test rows.
#[derive(Debug, Clone, Default)]
pub struct Split {
    /// Training rows.
    pub train: Vec<Record>,
    /// Validation rows (threshold calibration, early stopping).
    pub val: Vec<Record>,
    /// Test rows (final report).
    pub test: Vec<Record>,
}

/// The leakage group of a row: its `group` column, else the documented rule.
pub fn group_key(record: &Record) -> String {
    let _ = record;
    todo!("data work item")
}

/// Stratified (label, family where counts allow), seeded, group-preserving split.
pub fn split(records: Vec<Record>, params: &SplitParams) -> Result<Split> {
    let _ = (records, params);
    todo!("data work item")
}

/// The built-in generated corpus.
pub mod corpus {
    use super::Record;

    /// Corpus generation settings.
    #[derive(Debug, Clone, PartialEq)]
    pub struct CorpusParams {
        /// Seed (default 7).
        pub seed: u64,
    }

    impl Default for CorpusParams {
        fn default() -> Self {
            CorpusParams { seed: 7 }
        }
    }

    /// Generate the deterministic demo corpus (a few thousand rows).
    pub fn generate(params: &CorpusParams) -> Vec<Record> {
        let _ = params;
        todo!("data work item")
    }

    /// The built-in hard negatives (>= 250 benign security / programming boundary prompts).
    pub fn hard_negatives() -> Vec<Record> {
        todo!("data work item")
    }
}
