//! The jobs end to end, the top of the library: the training job ([`train()`]: load (or generate) data,
//! de-duplicate, split, embed, train, calibrate the threshold on validation, evaluate on test, and
//! assemble the [`Model`] with its metadata) and the retrain job ([`retrain::retrain`]: reinforce ->
//! train -> gate -> register). The CLI, the C API and the Python package all run them from here and
//! only convert arguments and print.

pub mod retrain;

use crate::data::{self, BalanceReport, ClassWeights, DedupeStats, LoadOptions, Record, SplitParams};
use crate::digest::{hex, sha256_hex};
use crate::embed::{Embedder, EmbedderSpec, HashSpec};
use crate::error::{Error, Result};
use crate::eval::{self, Calibration, Report};
use crate::model::{DatasetFingerprint, FileFingerprint, Model, ModelMeta};
use crate::nn::Precision;
use crate::train::{self, TrainObserver, TrainParams, TrainSet};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// Everything a training job needs; every field has a documented default, and the JSON form (field
/// names as here) is what the C API and the Python package accept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Training CSV files; empty means the built-in corpus.
    pub data: Vec<PathBuf>,
    /// Embedder (default: the hashing embedder, 512 dims).
    pub embedder: EmbedderSpec,
    /// Network and optimiser settings.
    pub train: TrainParams,
    /// Split fractions and seed.
    pub split: SplitParams,
    /// FPR the threshold is calibrated for on the validation split (default 0.01).
    pub target_fpr: f64,
    /// Continue past invalid rows (written to `rejects`) instead of failing.
    pub skip_invalid: bool,
    /// Where to write rejected rows (invalid with `skip_invalid`, and label conflicts). Required when
    /// anything is rejected, so that no row is lost silently; the CLI defaults it to `<output>.rejects.csv`.
    pub rejects: Option<PathBuf>,
    /// Class weights to use instead of the inverse-frequency ones.
    pub class_weights: Option<ClassWeights>,
    /// Multiply each row's weight by its `confidence` (default true).
    pub use_confidence: bool,
    /// Directory of the on-disk embedding cache ([`crate::embed::EmbeddingCache`]); retraining with the
    /// same embedder then skips re-embedding known texts (default: none).
    pub embed_cache: Option<PathBuf>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            data: Vec::new(),
            embedder: EmbedderSpec::Hash(HashSpec::default()),
            train: TrainParams::default(),
            split: SplitParams::default(),
            target_fpr: 0.01,
            skip_invalid: false,
            rejects: None,
            class_weights: None,
            use_confidence: true,
            embed_cache: None,
        }
    }
}

impl TrainConfig {
    /// Parse the JSON form (unknown keys are an error naming them; settings are objects, never
    /// arrays read by position: see [`objects_by_name`]).
    pub fn from_json(json: &str) -> Result<TrainConfig> {
        parse_config(json, "training config")
    }

    /// Validate every setting before any work is done.
    pub fn check(&self) -> Result<()> {
        self.train.check()?;
        if !(self.target_fpr.is_finite() && (0.0..=1.0).contains(&self.target_fpr)) {
            return Err(Error::param("target_fpr", self.target_fpr, "must be in [0, 1]"));
        }
        if let Some(w) = self.class_weights {
            for (name, v) in [("class_weights.benign", w.benign), ("class_weights.malicious", w.malicious)] {
                if !(v.is_finite() && v > 0.0) {
                    return Err(Error::param(name, v, "must be a finite number > 0"));
                }
            }
        }
        Ok(())
    }
}

/// Parse a job's JSON config: the serde form, with every setting that is an object given as an
/// object ([`objects_by_name`]).
pub(crate) fn parse_config<T: Serialize + serde::de::DeserializeOwned>(json: &str, what: &str) -> Result<T> {
    let given: serde_json::Value = serde_json::from_str(json).map_err(|e| Error::json(what, e))?;
    let parsed: T = serde_json::from_value(given.clone()).map_err(|e| Error::json(what, e))?;
    let shape = serde_json::to_value(&parsed).map_err(|e| Error::json(what, e))?;
    objects_by_name(&given, &shape, "")?;
    Ok(parsed)
}

/// Serde reads a struct from a JSON array too, by field position (`[["a.csv"], {...}, ...]` is a
/// config), where one element too few or too many silently shifts every setting after it. A config
/// must name its settings: wherever the parsed config is an object (`shape`, its serde form), the
/// given JSON must be an object too. `path` names the place in errors (`train`, `split` ...).
fn objects_by_name(given: &serde_json::Value, shape: &serde_json::Value, path: &str) -> Result<()> {
    use serde_json::Value;
    let name = if path.is_empty() { "config" } else { path };
    match (given, shape) {
        (Value::Object(g), Value::Object(s)) => {
            for (k, v) in g {
                if let Some(sv) = s.get(k) {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    objects_by_name(v, sv, &p)?;
                }
            }
            Ok(())
        }
        (Value::Array(g), Value::Array(s)) => {
            for (i, (gv, sv)) in g.iter().zip(s).enumerate() {
                objects_by_name(gv, sv, &format!("{name}[{i}]"))?;
            }
            Ok(())
        }
        (g, Value::Object(_)) if !g.is_object() => {
            Err(Error::param(name, g, "must be a JSON object with named settings (not a list read by position)"))
        }
        _ => Ok(()),
    }
}

/// What a training job produced.
#[derive(Debug)]
pub struct TrainOutcome {
    /// The trained, calibrated model (f32).
    pub model: Model,
    /// Balance of the de-duplicated data.
    pub balance: BalanceReport,
    /// De-duplication counts.
    pub dedupe: DedupeStats,
    /// Rows rejected (invalid or conflicting), all written to `rejects` when set.
    pub rejected: usize,
    /// The threshold calibration on validation.
    pub calibration: Calibration,
    /// The test-split report.
    pub report: Report,
}

/// Progress of a training job, for a progress display; embedding and evaluation phases are reported
/// besides the trainer's own per-batch and per-epoch callbacks.
pub trait JobObserver: TrainObserver {
    /// A phase starts (`"loading"`, `"embedding"`, `"training"`, `"evaluating"`), with the row count.
    fn on_phase(&mut self, phase: &str, rows: usize) {
        let _ = (phase, rows);
    }

    /// `done` of `total` texts are embedded (called after each chunk of the embedding phase).
    fn on_embedded(&mut self, done: usize, total: usize) {
        let _ = (done, total);
    }
}

impl JobObserver for train::Silent {}

/// Load the job's data: the given rows, the files, or the built-in corpus; then de-duplicate. Rows
/// rejected while the given rows were read come first in the rejects, then the label conflicts.
fn load(config: &TrainConfig, rows: Option<data::Loaded>) -> Result<(data::Loaded, Vec<FileFingerprint>)> {
    let opts = LoadOptions::skipping_invalid(config.skip_invalid);
    match rows {
        Some(given) => {
            let (records, conflicts, dedupe) = data::dedupe(given.records);
            let mut rejects = given.rejects;
            rejects.extend(conflicts);
            Ok((data::Loaded { records, rejects, dedupe, lines: given.lines }, Vec::new()))
        }
        None if config.data.is_empty() => {
            let (records, rejects, dedupe) = data::dedupe(data::corpus::generate(&Default::default()));
            Ok((data::Loaded { records, rejects, dedupe, ..Default::default() }, Vec::new()))
        }
        None => {
            let loaded = data::load_files(&config.data, &opts)?;
            let files = config
                .data
                .iter()
                .map(|p| {
                    let bytes = std::fs::read(p).map_err(|e| Error::io("reading", p, e))?;
                    let name = p.display().to_string();
                    let rows = loaded.records.iter().filter(|r| r.origin.file == name).count();
                    Ok(FileFingerprint { name, sha256: sha256_hex(&bytes), rows })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok((loaded, files))
        }
    }
}

/// Per-row training weights: class weight times (optionally) confidence.
fn row_weights(rows: &[Record], cw: ClassWeights, use_confidence: bool) -> Vec<f32> {
    rows.iter()
        .map(|r| {
            let c = if r.is_malicious() { cw.malicious } else { cw.benign };
            if use_confidence {
                c * r.confidence
            } else {
                c
            }
        })
        .collect()
}

/// Texts per embedding call between progress reports.
const EMBED_CHUNK: usize = 256;

/// Embed rows.
pub fn embed_records(embedder: &dyn Embedder, rows: &[Record]) -> Result<Vec<f32>> {
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    embedder.embed(&texts)
}

fn labels(rows: &[Record]) -> Vec<f32> {
    rows.iter().map(|r| f32::from(r.label)).collect()
}

fn dataset_sha256(rows: &[Record]) -> String {
    let mut h = Sha256::new();
    for r in rows {
        h.update([b'0' + r.label, b'\t']);
        h.update(r.text.as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

/// Run a training job. `rows`, when given, are used instead of `config.data` (e.g. a DataFrame from
/// Python): its records are de-duplicated like files, and its rejects (rows that were invalid when it
/// was read) go to `config.rejects` together with the label conflicts.
pub fn train(
    config: &TrainConfig,
    rows: Option<data::Loaded>,
    observer: &mut dyn TrainObserver,
) -> Result<TrainOutcome> {
    train_observed(config, rows, &mut PhaseBlind(observer))
}

/// Adapts a plain [`TrainObserver`] to a [`JobObserver`] that ignores phases.
struct PhaseBlind<'a>(&'a mut dyn TrainObserver);

impl TrainObserver for PhaseBlind<'_> {
    fn on_batch(&mut self, epoch: usize, done: usize, total: usize) -> bool {
        self.0.on_batch(epoch, done, total)
    }
    fn on_epoch(&mut self, stats: &train::EpochStats) -> bool {
        self.0.on_epoch(stats)
    }
}

impl JobObserver for PhaseBlind<'_> {}

/// [`train()`] with phase reporting (used by the CLI's progress display).
pub fn train_observed(
    config: &TrainConfig,
    rows: Option<data::Loaded>,
    observer: &mut dyn JobObserver,
) -> Result<TrainOutcome> {
    config.check()?;
    if let Some(rejects) = &config.rejects {
        let inputs: Vec<&std::path::Path> = config.data.iter().map(PathBuf::as_path).collect();
        crate::fsutil::check_outputs(&inputs, &[("rejects", rejects)])?;
    }
    let params = config.train.check()?;
    let embedder = config.embedder.build()?;
    let embedder: Box<dyn Embedder> = match &config.embed_cache {
        Some(dir) => Box::new(crate::embed::EmbeddingCache::new(dir)?.wrap(embedder)?),
        None => embedder,
    };

    observer.on_phase("loading", 0);
    let (loaded, files) = load(config, rows)?;
    let rejected = loaded.rejects.len();
    data::keep_rejects(&loaded.rejects, config.rejects.as_deref())?;
    let balance = BalanceReport::compute(&loaded.records);
    let dedupe = loaded.dedupe.clone();
    let class_weights = match config.class_weights {
        Some(w) => w,
        None => data::class_weights(&loaded.records)?,
    };
    let fingerprint_rows = (loaded.records.len(), dataset_sha256(&loaded.records));
    let split = data::split(loaded.records, &config.split)?;
    for (name, part) in [("train", &split.train), ("validation", &split.val), ("test", &split.test)] {
        for label in [0u8, 1] {
            if !part.iter().any(|r| r.label == label) {
                return Err(Error::InvalidData(format!(
                    "the {name} split has no {} rows; add data or change the split fractions",
                    if label == 0 { "benign" } else { "malicious" }
                )));
            }
        }
    }

    let total = split.train.len() + split.val.len() + split.test.len();
    observer.on_phase("embedding", total);
    let mut done = 0;
    let mut embed_part = |rows: &[Record], observer: &mut dyn JobObserver| {
        let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
        let offset = done;
        done += rows.len();
        crate::embed::embed_with_progress(embedder.as_ref(), &texts, EMBED_CHUNK, &mut |d, _| {
            observer.on_embedded(offset + d, total)
        })
    };
    let x_train = embed_part(&split.train, &mut *observer)?;
    let x_val = embed_part(&split.val, &mut *observer)?;
    let x_test = embed_part(&split.test, &mut *observer)?;
    let (y_train, y_val) = (labels(&split.train), labels(&split.val));
    let w_train = row_weights(&split.train, class_weights, config.use_confidence);
    let w_val = row_weights(&split.val, class_weights, config.use_confidence);
    let dims = embedder.dims();

    observer.on_phase("training", split.train.len());
    let (mlp, history) = train::fit_mlp(
        &params,
        &TrainSet { x: &x_train, dims, y: &y_train, w: &w_train },
        &TrainSet { x: &x_val, dims, y: &y_val, w: &w_val },
        &mut *observer,
    )?;

    observer.on_phase("evaluating", split.val.len() + split.test.len());
    let mut meta = ModelMeta {
        target_fpr: Some(config.target_fpr),
        class_weights: Some(class_weights),
        training: Some(config.train.clone()),
        history: Some(history),
        dataset: Some(DatasetFingerprint {
            sha256: fingerprint_rows.1,
            rows: fingerprint_rows.0,
            benign: balance.benign,
            malicious: balance.malicious,
            train: split.train.len(),
            val: split.val.len(),
            test: split.test.len(),
            files,
        }),
        ..ModelMeta::untrained(embedder.spec(), mlp.hidden(), Precision::F32)
    };
    let model = Model::new(meta.clone(), mlp.to_layers())?;
    let val_scores = model.score_embeddings(&x_val)?;
    let val_labels: Vec<u8> = split.val.iter().map(|r| r.label).collect();
    let calibration = eval::calibrate(&val_scores, &val_labels, config.target_fpr)?;
    let test_scores = model.score_embeddings(&x_test)?;
    let report = eval::evaluate(&test_scores, &split.test, calibration.threshold)?;
    meta.threshold = calibration.threshold;
    meta.eval = Some(report.clone());
    let model = model.with_meta(meta)?;
    Ok(TrainOutcome { model, balance, dedupe, rejected, calibration, report })
}
