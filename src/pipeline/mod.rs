//! The jobs end to end, the top of the library: the training job ([`train()`]: load (or generate) data,
//! de-duplicate, split, embed, train, calibrate the threshold on validation, evaluate on test, and
//! assemble the [`Model`] with its metadata) and the retrain job ([`retrain::retrain`]: reinforce ->
//! train -> gate -> register). The CLI, the C API and the Python package all run them from here and
//! only convert arguments and print.

pub mod retrain;

use crate::data::{self, BalanceReport, ClassWeights, DedupeStats, LoadOptions, Record, SplitParams};
use crate::digest::{hex, sha256_hex};
use crate::embed::{Embedder, EmbedderSpec, HashSpec, NgramSpec, SparseFeaturizer};
use crate::error::{Error, Result};
use crate::eval::{self, Calibration, CalibrationRule, Report};
use crate::model::{DatasetFingerprint, FileFingerprint, Model, ModelMeta, Weights};
use crate::nn::{HeadKind, Precision};
use crate::text::TextSpec;
use crate::train::heads::{HeadTask, NO_CLASS};
use crate::train::sparse::SparseSet;
use crate::train::{self, TrainObserver, TrainParams, TrainSet, ValidTrainParams};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;

/// Everything a training job needs; every field has a documented default, and the JSON form (field
/// names as here) is what the C API and the Python package accept.
///
/// The defaults are the built-in default model (see [`TrainConfig::default`]); [`TrainConfig::preset`]
/// names the other starting points (`seed`: the original recipe, reproducible as it was).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Training CSV files; empty means the built-in corpus.
    pub data: Vec<PathBuf>,
    /// Validation CSV files. With `test`, the splits are given: `data` is the training split as it is,
    /// nothing is split, and rows of `val` or `test` that repeat an earlier row (of `data` first) are
    /// removed as duplicates, so no text is in two splits.
    pub val: Vec<PathBuf>,
    /// Test CSV files (with `val`).
    pub test: Vec<PathBuf>,
    /// Featuriser: the sparse n-gram featuriser (default; trains a wide-and-deep network), or a dense
    /// embedder (`hash`, `onnx`; trains an MLP).
    pub embedder: EmbedderSpec,
    /// How texts are read: canonical form and scored views (default: all steps on; `null`: texts as
    /// they are, whole, as the `seed` preset).
    pub text: Option<TextSpec>,
    /// Network and optimiser settings.
    pub train: TrainParams,
    /// Split fractions and seed.
    pub split: SplitParams,
    /// FPR the threshold is calibrated for on the validation split (default 0.01).
    pub target_fpr: f64,
    /// How the threshold qualifies for `target_fpr` on validation (default `wilson`: its 95% upper
    /// bound; `point`: the measured FPR).
    pub calibration: CalibrationRule,
    /// Continue past invalid rows (written to `rejects`) instead of failing.
    pub skip_invalid: bool,
    /// Where to write rejected rows (invalid with `skip_invalid`, and label conflicts). Required when
    /// anything is rejected, so that no row is lost silently; the CLI defaults it to `<output>.rejects.csv`.
    pub rejects: Option<PathBuf>,
    /// Class weights to use instead of the inverse-frequency ones.
    pub class_weights: Option<ClassWeights>,
    /// Multiply each row's weight by its `confidence` (default true).
    pub use_confidence: bool,
    /// The family and severity heads beside the binary output (wide-and-deep models).
    pub heads: HeadsConfig,
    /// Directory of the on-disk embedding cache ([`crate::embed::EmbeddingCache`]) of a dense
    /// embedder; retraining with the same embedder then skips re-embedding known texts (default: none).
    pub embed_cache: Option<PathBuf>,
}

/// The names [`TrainConfig::preset`] knows.
pub const PRESETS: [&str; 2] = ["default", "seed"];

impl Default for TrainConfig {
    /// The built-in default model: sparse n-grams (2^19 buckets, char 3-5 and word 1-2, IDF, min_df 2)
    /// read through the text spec, a wide-and-deep network, threshold by the Wilson rule.
    fn default() -> Self {
        TrainConfig {
            data: Vec::new(),
            val: Vec::new(),
            test: Vec::new(),
            embedder: EmbedderSpec::Ngrams(NgramSpec::default()),
            text: Some(TextSpec::default()),
            train: TrainParams::default(),
            split: SplitParams::default(),
            target_fpr: 0.01,
            calibration: CalibrationRule::Wilson,
            skip_invalid: false,
            rejects: None,
            class_weights: None,
            use_confidence: true,
            heads: HeadsConfig::default(),
            embed_cache: None,
        }
    }
}

/// Which heads a training job gives the model, and how families become classes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeadsConfig {
    /// The heads to train. `null` (the default): each head whose column has more than one value on
    /// the malicious training rows, for a wide-and-deep model (an MLP, as the `seed` preset trains,
    /// has none). A list (`["family", "severity"]`, or `[]` for none) is required as given: a head
    /// the data cannot train is an error.
    pub kinds: Option<Vec<HeadKind>>,
    /// Malicious training rows a family needs to be a class of its own; rarer families fold into
    /// `OTHER` (default [`data::heads::MIN_FAMILY_ROWS`]).
    pub min_family_rows: usize,
}

impl Default for HeadsConfig {
    fn default() -> Self {
        HeadsConfig { kinds: None, min_family_rows: data::heads::MIN_FAMILY_ROWS }
    }
}

impl HeadsConfig {
    /// The head tasks for `train` rows (in [`HeadKind::ALL`] order), or why the data cannot have the
    /// heads asked for. `wide_deep`: whether the model kind can carry heads at all.
    fn tasks(&self, train: &[Record], val: &[Record], wide_deep: bool) -> Result<Vec<HeadTask>> {
        if let Some(kinds) = &self.kinds {
            if let Some(dup) = kinds.iter().enumerate().find(|(i, k)| kinds[..*i].contains(k)) {
                return Err(Error::param("heads", dup.1, "is listed twice"));
            }
            if !kinds.is_empty() && !wide_deep {
                return Err(Error::param(
                    "heads",
                    format!("{kinds:?}"),
                    "heads need the wide-and-deep model (the default featuriser `ngrams`); this config trains an MLP",
                ));
            }
        }
        if !wide_deep {
            return Ok(Vec::new());
        }
        let mut tasks = Vec::new();
        for kind in HeadKind::ALL {
            let asked = match &self.kinds {
                Some(k) => k.contains(&kind),
                None => data::heads::distinct_values(kind, train) > 1,
            };
            if !asked {
                continue;
            }
            let labels = data::heads::head_labels(kind, train, self.min_family_rows);
            if labels.len() < 2 {
                if self.kinds.is_none() {
                    continue;
                }
                return Err(Error::InvalidData(format!(
                    "the {kind} head needs at least two classes on the malicious training rows; the data gives {labels:?} \
                     (a family needs {} rows, `min_family_rows`)",
                    self.min_family_rows
                )));
            }
            let classes = |rows: &[Record]| {
                rows.iter().map(|r| data::heads::head_class(kind, &labels, r).map_or(NO_CLASS, |c| c as u32)).collect()
            };
            let (train, val) = (classes(train), classes(val));
            tasks.push(HeadTask { kind, labels, train, val });
        }
        Ok(tasks)
    }
}

impl TrainConfig {
    /// A named starting point: `default` ([`TrainConfig::default`]) or `seed` (the original recipe:
    /// the 512-dim hashing embedder, texts as they are, the MLP [256, 128, 64] with dropout 0.3, AdamW
    /// lr 1e-4 and weight decay 1e-3, batch 32, 12 epochs, patience 3 on validation loss, the point
    /// calibration rule).
    pub fn preset(name: &str) -> Result<TrainConfig> {
        match name {
            "default" => Ok(TrainConfig::default()),
            "seed" => Ok(TrainConfig {
                embedder: EmbedderSpec::Hash(HashSpec::default()),
                text: None,
                train: TrainParams::seed(),
                calibration: CalibrationRule::Point,
                ..TrainConfig::default()
            }),
            other => Err(Error::param("preset", other, format!("expected one of {}", PRESETS.join(", ")))),
        }
    }

    /// Parse the JSON form (unknown keys are an error naming them; settings are objects, never
    /// arrays read by position: see [`objects_by_name`]). A `"preset"` key picks the
    /// starting point the other keys change (default: `default`); nested objects (`train`, `split`,
    /// `embedder` ...) are merged key by key.
    pub fn from_json(json: &str) -> Result<TrainConfig> {
        let value: serde_json::Value = serde_json::from_str(json).map_err(|e| Error::json("training config", e))?;
        let serde_json::Value::Object(mut given) = value else {
            return Err(Error::param("config", "not an object", "the training config is a JSON object"));
        };
        let preset = match given.remove("preset") {
            None => "default".to_owned(),
            Some(serde_json::Value::String(p)) => p,
            Some(other) => return Err(Error::param("preset", other, "must be a string")),
        };
        let base =
            serde_json::to_value(TrainConfig::preset(&preset)?).map_err(|e| Error::json("training config", e))?;
        let mut merged = base;
        merge(&mut merged, serde_json::Value::Object(given));
        parse_config(&merged.to_string(), "training config")
    }

    /// Validate every setting before any work is done.
    pub fn check(&self) -> Result<()> {
        self.train.check()?;
        if self.val.is_empty() != self.test.is_empty() || (!self.val.is_empty() && self.data.is_empty()) {
            return Err(Error::param(
                "val",
                format!("{} val / {} test / {} data files", self.val.len(), self.test.len(), self.data.len()),
                "given splits need training data, validation files and test files together",
            ));
        }
        if let Some(t) = &self.text {
            t.check()?;
        }
        if let EmbedderSpec::Ngrams(n) = &self.embedder {
            n.check()?;
        }
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

/// `base` with `over` merged in: objects key by key (recursively), anything else replaced. A
/// featuriser of another `kind` replaces the base one whole (its other keys would not apply).
fn merge(base: &mut serde_json::Value, over: serde_json::Value) {
    use serde_json::Value;
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            let other_kind = o.get("kind").is_some() && o.get("kind") != b.get("kind");
            if other_kind {
                *b = o;
                return;
            }
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
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
            let all: Vec<PathBuf> = config.data.iter().chain(&config.val).chain(&config.test).cloned().collect();
            let loaded = data::load_files(&all, &opts)?;
            let files = all
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
    // A dense embedder is built before any data is read, so that a missing resource fails fast.
    let embedder = match &config.embedder {
        EmbedderSpec::Ngrams(_) => None,
        spec => {
            let e = spec.build()?;
            Some(match &config.embed_cache {
                Some(dir) => Box::new(crate::embed::EmbeddingCache::new(dir)?.wrap(e)?) as Box<dyn Embedder>,
                None => e,
            })
        }
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
    let split = if config.val.is_empty() {
        data::split(loaded.records, &config.split)?
    } else {
        given_split(config, loaded.records)
    };
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
    let parts = Parts {
        split: &split,
        w_train: row_weights(&split.train, class_weights, config.use_confidence),
        w_val: row_weights(&split.val, class_weights, config.use_confidence),
    };
    let (model, scored) = match (&config.embedder, embedder) {
        (EmbedderSpec::Ngrams(spec), _) => (fit_wide_deep(config, spec, &params, &parts, observer)?, None),
        (_, Some(embedder)) => {
            config.heads.tasks(&split.train, &split.val, false)?;
            let (m, x_val, x_test) = fit_mlp(config, embedder.as_ref(), &params, &parts, observer)?;
            (m, Some((x_val, x_test)))
        }
        (_, None) => return Err(Error::param("embedder", "none", "no embedder was built")),
    };

    observer.on_phase("evaluating", split.val.len() + split.test.len());
    let mut meta = ModelMeta {
        target_fpr: Some(config.target_fpr),
        calibration: Some(config.calibration),
        class_weights: Some(class_weights),
        training: Some(config.train.clone()),
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
        ..model.meta().clone()
    };
    // Threshold and report come from the scores every host computes: views and all. A model that reads
    // texts whole scores the embeddings it was trained on (the same numbers, without embedding twice).
    let (val_scores, test_scores) = match scored {
        Some((x_val, x_test)) if model.text_spec().is_none() => {
            (model.score_embeddings(&x_val)?, Some(model.score_embeddings(&x_test)?))
        }
        _ => (model.score_records(&split.val)?, None),
    };
    let val_labels: Vec<u8> = split.val.iter().map(|r| r.label).collect();
    let calibration = eval::calibrate_with(&val_scores, &val_labels, config.target_fpr, config.calibration)?;
    let report = match test_scores {
        Some(scores) => eval::evaluate(&scores, &split.test, calibration.threshold)?,
        None => model.evaluate(&split.test, calibration.threshold, &eval::Targets::default())?.0,
    };
    meta.threshold = calibration.threshold;
    meta.eval = Some(report.clone());
    let model = model.with_meta(meta)?;
    Ok(TrainOutcome { model, balance, dedupe, rejected, calibration, report })
}

/// The splits the config names, by the file each row was read from (de-duplication already kept the
/// first occurrence of a text, training files first).
fn given_split(config: &TrainConfig, records: Vec<Record>) -> data::Split {
    let of = |paths: &[PathBuf], r: &Record| paths.iter().any(|p| p.display().to_string() == r.origin.file);
    let mut split = data::Split::default();
    for r in records {
        if of(&config.test, &r) {
            split.test.push(r);
        } else if of(&config.val, &r) {
            split.val.push(r);
        } else {
            split.train.push(r);
        }
    }
    split
}

/// The split with its per-row training weights.
struct Parts<'a> {
    split: &'a data::Split,
    w_train: Vec<f32>,
    w_val: Vec<f32>,
}

/// The canonical texts of rows (as the model will read them whole), or the texts as they are.
fn read_texts(text: Option<&TextSpec>, rows: &[Record]) -> Vec<String> {
    match text {
        Some(t) => rows.iter().map(|r| t.normalize.apply(&r.text)).collect(),
        None => rows.iter().map(|r| r.text.clone()).collect(),
    }
}

/// Fit the n-gram vocabulary on the training texts and train the wide-and-deep network; the model's
/// threshold is not yet calibrated.
fn fit_wide_deep(
    config: &TrainConfig,
    spec: &NgramSpec,
    params: &ValidTrainParams,
    parts: &Parts<'_>,
    observer: &mut dyn JobObserver,
) -> Result<Model> {
    let split = parts.split;
    let total = split.train.len() + split.val.len();
    observer.on_phase("embedding", total);
    let train_texts = read_texts(config.text.as_ref(), &split.train);
    let val_texts = read_texts(config.text.as_ref(), &split.val);
    fn refs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    let featurizer = SparseFeaturizer::fit(spec.clone(), &refs(&train_texts))?;
    let x_train = featurizer.featurize(&refs(&train_texts));
    observer.on_embedded(split.train.len(), total);
    let x_val = featurizer.featurize(&refs(&val_texts));
    observer.on_embedded(total, total);
    let (y_train, y_val) = (labels(&split.train), labels(&split.val));

    observer.on_phase("training", split.train.len());
    let heads = config.heads.tasks(&split.train, &split.val, true)?;
    let (net, history) = train::sparse::fit_wide_deep_heads(
        params,
        featurizer.features(),
        &SparseSet { x: &x_train, y: &y_train, w: &parts.w_train },
        &SparseSet { x: &x_val, y: &y_val, w: &parts.w_val },
        &heads,
        &mut *observer,
    )?;
    let mut meta = ModelMeta {
        text: config.text.clone(),
        history: Some(history),
        ..ModelMeta::untrained_wide_deep(
            spec.clone(),
            featurizer.features(),
            net.embed,
            net.hidden(),
            net.wide.is_some(),
            Precision::F32,
        )
    };
    meta.architecture.heads = net.heads.iter().map(|h| (h.kind, h.labels.clone())).collect();
    Model::assemble(meta, Weights::WideDeep { featurizer: Arc::new(featurizer), net: Arc::new(net.to_stored()) })
}

/// Embed the splits and train the MLP; returns the (uncalibrated) model and the validation and test
/// embeddings.
fn fit_mlp(
    config: &TrainConfig,
    embedder: &dyn Embedder,
    params: &ValidTrainParams,
    parts: &Parts<'_>,
    observer: &mut dyn JobObserver,
) -> Result<(Model, Vec<f32>, Vec<f32>)> {
    let split = parts.split;
    let total = split.train.len() + split.val.len() + split.test.len();
    observer.on_phase("embedding", total);
    let mut done = 0;
    let mut embed_part = |rows: &[Record], observer: &mut dyn JobObserver| {
        let texts = read_texts(config.text.as_ref(), rows);
        let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
        let offset = done;
        done += rows.len();
        crate::embed::embed_with_progress(embedder, &texts, EMBED_CHUNK, &mut |d, _| {
            observer.on_embedded(offset + d, total)
        })
    };
    let x_train = embed_part(&split.train, &mut *observer)?;
    let x_val = embed_part(&split.val, &mut *observer)?;
    let x_test = embed_part(&split.test, &mut *observer)?;
    let (y_train, y_val) = (labels(&split.train), labels(&split.val));
    let dims = embedder.dims();

    observer.on_phase("training", split.train.len());
    let (mlp, history) = train::fit_mlp(
        params,
        &TrainSet { x: &x_train, dims, y: &y_train, w: &parts.w_train },
        &TrainSet { x: &x_val, dims, y: &y_val, w: &parts.w_val },
        &mut *observer,
    )?;
    let meta = ModelMeta {
        text: config.text.clone(),
        history: Some(history),
        ..ModelMeta::untrained(embedder.spec(), mlp.hidden(), Precision::F32)
    };
    Ok((Model::new(meta, mlp.to_layers())?, x_val, x_test))
}
