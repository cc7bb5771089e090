//! Training data: the CSV schema and its validation, merging and de-duplication (with the one text
//! normaliser, [`normalize_text`]), the rejects rule (no row is lost silently), the balance report,
//! class weights, leakage-safe stratified splits, meaning-preserving text variations ([`vary`], for the
//! reinforcement loop and the gate's production simulation), what the family and severity heads learn
//! from a row ([`heads`]) and the built-in demo corpus.

mod balance;
mod csv_io;
mod csv_syntax;
mod dedupe;
pub mod heads;
mod record;
mod split;
pub mod vary;

pub use balance::{BENIGN_SHARE_HARMFUL, BENIGN_SHARE_OK};
pub use dedupe::normalize_text;
pub use record::{Origin, Record, Severity, BENIGN, COLUMNS, MALICIOUS};
pub use split::{
    group_keys, leakage_groups, skeleton_words, MIN_GROUPS_PER_FAMILY, SIGNATURE_MIN_DISTINCT, SIGNATURE_WORDS,
};

use crate::error::{Result, RowError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The default longest field [`read_csv`] accepts (1 MiB): a quoted field still open after this many
/// bytes is a missing closing quote, not a prompt.
pub const DEFAULT_MAX_FIELD_BYTES: usize = 1 << 20;

/// The default most line breaks a quoted field may span ([`read_csv`]).
pub const DEFAULT_MAX_FIELD_LINES: u64 = 1000;

/// How to treat invalid rows while loading.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Continue past invalid rows (they are returned in [`Loaded::rejects`]) instead of failing.
    pub skip_invalid: bool,
    /// The longest field, in bytes (default [`DEFAULT_MAX_FIELD_BYTES`]); a longer one, or a quoted
    /// field still open after this many bytes, makes its row invalid.
    pub max_field_bytes: usize,
    /// The most line breaks a quoted field may span (default [`DEFAULT_MAX_FIELD_LINES`]); a quote
    /// that runs on longer makes its row invalid.
    pub max_field_lines: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            skip_invalid: false,
            max_field_bytes: DEFAULT_MAX_FIELD_BYTES,
            max_field_lines: DEFAULT_MAX_FIELD_LINES,
        }
    }
}

impl LoadOptions {
    /// The defaults with `skip_invalid` as given.
    pub fn skipping_invalid(skip_invalid: bool) -> LoadOptions {
        LoadOptions { skip_invalid, ..LoadOptions::default() }
    }
}

/// Where the physical lines of the input went: every line of every file is counted exactly once, so
/// `total = header + rows + rejected + blank`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineTally {
    /// Physical lines read.
    pub total: u64,
    /// Lines of the header records.
    pub header: u64,
    /// Lines of the rows that were read as records (a quoted field may span several).
    pub rows: u64,
    /// Lines of the rows that were rejected as invalid.
    pub rejected: u64,
    /// Blank lines (skipped).
    pub blank: u64,
}

impl LineTally {
    fn add(&mut self, o: &LineTally) {
        self.total += o.total;
        self.header += o.header;
        self.rows += o.rows;
        self.rejected += o.rejected;
        self.blank += o.blank;
    }
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
    /// Where the physical lines of the files went (zero for rows that came from no file).
    pub lines: LineTally,
}

/// Read one CSV file in the training schema. Fails with [`crate::Error::InvalidRows`] listing the invalid
/// rows unless `opts.skip_invalid`.
///
/// - Columns are found by header name (case-insensitive, trimmed); `text` and `label` are required (a
///   missing one is [`crate::Error::InvalidData`] naming the file and the column), the other
///   [`COLUMNS`] and `group` are optional with the defaults of [`Record`], and extra columns are ignored.
/// - RFC 4180 quoting, fields spanning lines, UTF-8 with or without a BOM. Records end at `\n`,
///   `\r\n` or a lone `\r`; blank lines are skipped. Quoting is strict, so that a mistake never
///   swallows the rows after it: a quoted field that is never closed, a field longer than
///   `max_field_bytes` (a quoted one still open after that many bytes), a quoted field spanning more
///   than `max_field_lines` line breaks, and anything but `,` or the
///   line's end after a closing quote (`"abc"def`) make the row invalid, naming the line and column
///   where the field opened or the stray character stands. A `"` inside an unquoted field is kept.
/// - Each invalid row gives one [`RowError`] with the 1-based physical line where the record starts
///   (header = line 1) and the field to blame: a quoting error as above, wrong field count, NUL byte or
///   invalid UTF-8 in any field, empty (whitespace-only) `text`, `label` not 0/1, `severity` unknown,
///   `confidence` not a number in [0, 1]. Empty optional fields take their defaults.
/// - Resynchronisation: after a quoting error, or a record of the wrong field count that spans lines
///   (what a misplaced quote makes), the reject is the record's first line and reading resumes on the
///   next physical line, so one mistake costs one row. [`Loaded::lines`] accounts for every physical
///   line (header, rows, rejected, blank).
/// - With `skip_invalid` every invalid row is returned in [`Loaded::rejects`]; otherwise the error lists
///   them (the first 1000, with the exact total). [`Loaded::dedupe`] stays zero (no merging here).
pub fn read_csv(path: &Path, opts: &LoadOptions) -> Result<Loaded> {
    csv_io::read_csv(path, opts)
}

/// [`read_csv`] on bytes already in memory; `file` names the input in errors and its stem is the
/// default `source`.
pub fn parse_csv(bytes: &[u8], file: &str, opts: &LoadOptions) -> Result<Loaded> {
    let stem = Path::new(file).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    csv_io::parse_bytes(bytes, file, &stem, opts)
}

/// Read several files, then merge and de-duplicate them (see [`dedupe`]).
///
/// Without `skip_invalid` the invalid rows of *all* files are collected before failing, so one run
/// lists every problem. With it, [`Loaded::rejects`] holds the invalid rows followed by the label
/// conflicts. An empty `paths` is an error.
pub fn load_files(paths: &[PathBuf], opts: &LoadOptions) -> Result<Loaded> {
    if paths.is_empty() {
        return Err(crate::Error::InvalidData("no input files given".to_string()));
    }
    let mut records = Vec::new();
    let mut rejects = Vec::new();
    let mut lines = LineTally::default();
    let lenient = LoadOptions { skip_invalid: true, ..opts.clone() };
    for p in paths {
        let loaded = read_csv(p, &lenient)?;
        records.extend(loaded.records);
        rejects.extend(loaded.rejects);
        lines.add(&loaded.lines);
    }
    if !opts.skip_invalid && !rejects.is_empty() {
        return Err(csv_io::rows_error(&rejects));
    }
    let (records, conflicts, stats) = dedupe(records);
    rejects.extend(conflicts);
    Ok(Loaded { records, rejects, dedupe: stats, lines })
}

/// Remove exact and normalized duplicates and exclude texts with conflicting labels (to rejects).
///
/// Texts are compared by [`normalize_text`] (Unicode lowercase, whitespace runs collapsed). When the
/// copies of one normalized text carry both labels, every copy is excluded and returned as a reject
/// naming a copy with the other label (`file:line`). Otherwise the first occurrence is kept; later
/// copies count as exact duplicates (byte-identical text) or normalized duplicates. Kept rows keep
/// their input order. `rows_in = rows_out + exact + normalized + conflicting_rows`.
pub fn dedupe(records: Vec<Record>) -> (Vec<Record>, Vec<Reject>, DedupeStats) {
    dedupe::dedupe(records)
}

/// Write records in the canonical schema ([`COLUMNS`] plus `group` when any row has one).
pub fn write_csv(path: &Path, records: &[Record]) -> Result<()> {
    csv_io::write_csv(path, records)
}

/// Write rejects as CSV `file,line,field,reason,text`.
pub fn write_rejects(path: &Path, rejects: &[Reject]) -> Result<()> {
    csv_io::write_rejects(path, rejects)
}

/// The rejects rule, so that no row is lost silently: rows that were left out are written to `path`
/// (see [`write_rejects`]); leaving some out without a file to write them to is an error
/// ([`crate::Error::InvalidParam`] on `rejects`). No rejects: nothing is written.
pub fn keep_rejects(rejects: &[Reject], path: Option<&Path>) -> Result<()> {
    if rejects.is_empty() {
        return Ok(());
    }
    match path {
        Some(p) => write_rejects(p, rejects),
        None => Err(crate::Error::param(
            "rejects",
            "none",
            format!("{} row(s) were rejected; give a rejects file so that none is lost silently", rejects.len()),
        )),
    }
}

/// [`load_files`], then [`keep_rejects`]: the files merged and de-duplicated, with every rejected row
/// (invalid with `skip_invalid`, label conflicts) written to `rejects`.
pub fn load_files_keeping_rejects(paths: &[PathBuf], skip_invalid: bool, rejects: Option<&Path>) -> Result<Loaded> {
    let loaded = load_files(paths, &LoadOptions::skipping_invalid(skip_invalid))?;
    keep_rejects(&loaded.rejects, rejects)?;
    Ok(loaded)
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
    balance::class_weights(records)
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
    /// Compute the report. Warnings: no rows; a class missing; benign share above
    /// [`BENIGN_SHARE_HARMFUL`] (flagged as harmful to attack detection), else outside [`BENIGN_SHARE_OK`].
    /// Empty family / category / source values are counted as `(none)`.
    pub fn compute(records: &[Record]) -> BalanceReport {
        balance::compute(records)
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

/// The leakage group of a row: its `group` column, else the documented rule: the first of
/// [`group_keys`] (`all:` + the whole template skeleton for short texts, `head:` + the first
/// [`SIGNATURE_WORDS`] skeleton words for long ones). [`split`] also joins rows through the other keys
/// (the `tail:` of long texts), so rows sharing any key land together.
pub fn group_key(record: &Record) -> String {
    split::group_key(record)
}

/// Stratified (label, family where counts allow), seeded, group-preserving split.
///
/// Fractions must each be in [0, 1], sum to 1 and `train` must be > 0 (else
/// [`crate::Error::InvalidParam`]); no rows is [`crate::Error::InvalidData`]. Rows are joined into
/// [`leakage_groups`]; each group goes wholly to one split. Groups are stratified by majority label
/// and family (families with fewer than [`MIN_GROUPS_PER_FAMILY`] groups pooled per label), shuffled
/// with `seed`, and dealt to the split furthest below its share. The same rows in the same order and
/// the same seed give the same split; each split keeps the input order of its rows.
pub fn split(records: Vec<Record>, params: &SplitParams) -> Result<Split> {
    split::split(records, params)
}

impl SplitParams {
    /// Check the fractions (see [`split`]).
    pub fn check(&self) -> Result<()> {
        split::check(self)
    }
}

pub mod corpus;
