//! `l2 stats`, `l2 split` and `l2 corpus`.

use crate::data::{self, BalanceReport, LoadOptions, SplitParams};
use crate::error::{Error, Result};
use crate::fsutil::check_outputs;
use clap::Args;
use std::path::{Path, PathBuf};

/// Loading flags shared by data commands.
#[derive(Debug, Args)]
pub struct LoadFlags {
    /// Continue past invalid rows, writing each with its reason to the rejects file.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Rejects file (invalid rows with --skip-invalid, and label conflicts).
    #[arg(long, default_value = "rejects.csv")]
    pub rejects: PathBuf,
    /// The longest field in bytes; a longer one (or a quoted field still open after this many bytes)
    /// makes its row invalid.
    #[arg(long, default_value_t = data::DEFAULT_MAX_FIELD_BYTES)]
    pub max_field_bytes: usize,
    /// The most line breaks a quoted field may span; a quote that runs on longer makes its row invalid.
    #[arg(long, default_value_t = data::DEFAULT_MAX_FIELD_LINES)]
    pub max_field_lines: u64,
}

fn load(paths: &[PathBuf], f: &LoadFlags) -> Result<data::Loaded> {
    let opts = LoadOptions {
        skip_invalid: f.skip_invalid,
        max_field_bytes: f.max_field_bytes,
        max_field_lines: f.max_field_lines,
    };
    let loaded = data::load_files(paths, &opts)?;
    if !loaded.rejects.is_empty() {
        data::write_rejects(&f.rejects, &loaded.rejects)?;
        warnln!("{} row(s) rejected, written to {}", loaded.rejects.len(), f.rejects.display());
    }
    Ok(loaded)
}

/// Arguments of `l2 stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    /// CSV files (merged and de-duplicated).
    #[arg(required = true)]
    pub data: Vec<PathBuf>,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
    /// Loading.
    #[command(flatten)]
    pub load: LoadFlags,
}

/// The input paths as `&Path`s, for [`check_outputs`].
pub(super) fn paths(p: &[PathBuf]) -> Vec<&Path> {
    p.iter().map(PathBuf::as_path).collect()
}

/// `l2 stats`: balance report and class weights.
pub fn stats(a: &StatsArgs) -> Result<()> {
    check_outputs(&paths(&a.data), &[("rejects", &a.load.rejects)])?;
    let loaded = load(&a.data, &a.load)?;
    let report = BalanceReport::compute(&loaded.records);
    if a.json {
        let v = serde_json::json!({
            "dedupe": loaded.dedupe,
            "rejected": loaded.rejects.len(),
            "lines": loaded.lines,
            "balance": report
        });
        outln!("{}", serde_json::to_string_pretty(&v).map_err(|e| Error::json("stats", e))?);
    } else {
        let (d, l) = (&loaded.dedupe, &loaded.lines);
        outln!(
            "{} physical lines: {} header, {} in rows read, {} in invalid rows, {} blank",
            l.total,
            l.header,
            l.rows,
            l.rejected,
            l.blank
        );
        outln!(
            "{} rows read, {} exact + {} normalized duplicates removed, {} conflicting rows excluded, {} rows kept\n",
            d.rows_in,
            d.exact_duplicates,
            d.normalized_duplicates,
            d.conflicting_rows,
            d.rows_out
        );
        outln!("{report}");
    }
    Ok(())
}

/// Arguments of `l2 split`.
#[derive(Debug, Args)]
pub struct SplitArgs {
    /// CSV files (merged and de-duplicated).
    #[arg(required = true)]
    pub data: Vec<PathBuf>,
    /// Directory for train.csv, val.csv, test.csv.
    #[arg(short, long)]
    pub out_dir: PathBuf,
    /// Fractions train,val,test.
    #[arg(long, value_delimiter = ',', num_args = 1, default_value = "0.7,0.15,0.15")]
    pub fractions: Vec<f64>,
    /// Seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Loading.
    #[command(flatten)]
    pub load: LoadFlags,
}

/// `l2 split`: stratified, group-preserving split into three files.
pub fn split(a: &SplitArgs) -> Result<()> {
    let [train, val, test] = a.fractions[..] else {
        return Err(Error::param("fractions", format!("{:?}", a.fractions), "needs three fractions train,val,test"));
    };
    let files = ["train.csv", "val.csv", "test.csv"].map(|n| a.out_dir.join(n));
    let outputs =
        [("out-dir", &files[0]), ("out-dir", &files[1]), ("out-dir", &files[2]), ("rejects", &a.load.rejects)];
    let outputs = outputs.map(|(n, p)| (n, p.as_path()));
    check_outputs(&paths(&a.data), &outputs)?;
    let loaded = load(&a.data, &a.load)?;
    let s = data::split(loaded.records, &SplitParams { train, val, test, seed: a.seed })?;
    std::fs::create_dir_all(&a.out_dir).map_err(|e| Error::io("creating directory", &a.out_dir, e))?;
    for (path, rows) in files.iter().zip([&s.train, &s.val, &s.test]) {
        data::write_csv(path, rows)?;
        let benign = rows.iter().filter(|r| !r.is_malicious()).count();
        outln!("{:<10} {:>7} rows ({benign} benign, {} malicious)", path.display(), rows.len(), rows.len() - benign);
    }
    Ok(())
}

/// Arguments of `l2 corpus`.
#[derive(Debug, Args)]
pub struct CorpusArgs {
    /// Output CSV.
    #[arg(short, long, default_value = "corpus.csv")]
    pub output: PathBuf,
    /// Seed.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Write only the built-in hard negatives.
    #[arg(long)]
    pub hard_negatives: bool,
}

/// `l2 corpus`: write the built-in demo corpus.
pub fn corpus(a: &CorpusArgs) -> Result<()> {
    let rows = if a.hard_negatives {
        data::corpus::hard_negatives()
    } else {
        data::corpus::generate(&data::corpus::CorpusParams { seed: a.seed })
    };
    data::write_csv(&a.output, &rows)?;
    outln!("{} rows written to {}", rows.len(), a.output.display());
    Ok(())
}
