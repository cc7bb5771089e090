//! `l2 train` and `l2 quickstart`.

use super::progress::CliProgress;
use crate::data::{self, ClassWeights, SplitParams};
use crate::embed::{EmbedderSpec, HashSpec, OnnxOptions, OnnxSpec, Pooling};
use crate::error::{Error, Result};
use crate::pipeline::{self, TrainConfig, TrainOutcome};
use clap::Args;
use std::path::{Path, PathBuf};

/// Training settings as flags; each default is the library default.
#[derive(Debug, Args, Clone)]
pub struct TrainFlags {
    /// JSON config file (TrainConfig); flags given on the command line override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Hidden layer widths, comma-separated [default: 256,128,64].
    #[arg(long, value_delimiter = ',')]
    pub hidden: Option<Vec<usize>>,
    /// Dropout after each hidden layer [default: 0.3].
    #[arg(long)]
    pub dropout: Option<f32>,
    /// AdamW learning rate [default: 0.0001].
    #[arg(long = "lr", alias = "learning-rate")]
    pub learning_rate: Option<f32>,
    /// AdamW weight decay (the L2 term) [default: 0.001].
    #[arg(long)]
    pub weight_decay: Option<f32>,
    /// Mini-batch size [default: 32].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Maximum epochs [default: 12].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Early-stopping patience in epochs, 0 disables [default: 3].
    #[arg(long)]
    pub patience: Option<usize>,
    /// Seed for initialisation, shuffling and dropout [default: 42].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Embedder: `hash` (built-in) or `onnx` (a transformer; needs --onnx-model and --tokenizer)
    /// [default: hash].
    #[arg(long, value_parser = ["hash", "onnx"])]
    pub embedder: Option<String>,
    /// ONNX sentence-transformers model for --embedder onnx (the MLP input width follows its dims).
    #[arg(long)]
    pub onnx_model: Option<PathBuf>,
    /// The model's tokenizer.json for --embedder onnx.
    #[arg(long)]
    pub tokenizer: Option<PathBuf>,
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
    /// Embedding width of the hashing embedder [default: 512].
    #[arg(long)]
    pub dims: Option<usize>,
    /// Character n-gram lengths min,max of the hashing embedder, 0,0 disables [default: 3,5].
    #[arg(long, value_delimiter = ',', num_args = 1)]
    pub char_ngrams: Option<Vec<usize>>,
    /// Word n-gram lengths min,max of the hashing embedder, 0,0 disables [default: 1,2].
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
        let mut c = match &self.config {
            Some(p) => {
                let s = std::fs::read_to_string(p).map_err(|e| Error::io("reading config", p, e))?;
                TrainConfig::from_json(&s)?
            }
            None => TrainConfig::default(),
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
             target_fpr => c.target_fpr);
        if self.embedder.as_deref() == Some("onnx") || self.onnx_model.is_some() || self.tokenizer.is_some() {
            let (Some(model), Some(tokenizer)) = (&self.onnx_model, &self.tokenizer) else {
                return Err(Error::param(
                    "embedder",
                    "onnx",
                    "needs both --onnx-model PATH and --tokenizer PATH (tokenizer.json)",
                ));
            };
            if self.embedder.as_deref() == Some("hash") {
                return Err(Error::param("embedder", "hash", "--onnx-model/--tokenizer need --embedder onnx"));
            }
            let defaults = OnnxOptions::default();
            let opts = OnnxOptions {
                pooling: self.pooling.unwrap_or(defaults.pooling),
                max_length: self.max_length.unwrap_or(defaults.max_length),
                normalize: !self.no_normalize,
                ..defaults
            };
            c.embedder = EmbedderSpec::Onnx(OnnxSpec::from_files(model, tokenizer, &opts)?);
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
        if hash_flags {
            c.embedder =
                match c.embedder {
                    EmbedderSpec::Hash(h) => EmbedderSpec::Hash(self.hash_spec(h)?),
                    #[allow(unreachable_patterns)]
                    _ => return Err(Error::param(
                        "dims",
                        "(hash embedder flags)",
                        "--dims, --char-ngrams, --word-ngrams, --char-weight and --word-weight set the hash embedder",
                    )),
                };
        }
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

impl TrainFlags {
    fn hash_spec(&self, mut h: HashSpec) -> Result<HashSpec> {
        let range = |name: &str, v: &Option<Vec<usize>>, dst: &mut (usize, usize)| -> Result<()> {
            match v.as_deref() {
                None => Ok(()),
                Some(&[lo, hi]) => {
                    *dst = (lo, hi);
                    Ok(())
                }
                Some(other) => Err(Error::param(name, format!("{other:?}"), "needs two lengths min,max")),
            }
        };
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
    outln!(
        "threshold {:.4} calibrated on validation for FPR <= {:.2}%: FPR {:.2}% (95% CI {:.2}-{:.2}%), TPR {:.2}%",
        c.threshold,
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
    let config = a.flags.to_config(a.data.clone(), &a.output)?;
    let mut inputs: Vec<&Path> = config.data.iter().map(PathBuf::as_path).collect();
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
