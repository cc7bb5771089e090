//! The model: the model file format, its metadata, and [`Model`], the loaded classifier every host
//! serves (featurizer spec + scorer + metadata: text or embeddings in, scores and decisions out);
//! [`quantize`] makes f16 / int8 models of an f32 one.

mod file;
mod meta;
pub mod quantize;

/// The network types a model stores, from [`crate::nn`] (re-exported: hosts meet them through models).
pub use crate::nn::{Dense, Layer, LayerWeights, Mlp, Precision};
pub use file::{from_bytes, to_bytes, weights_sha256};
pub use meta::{
    now_rfc3339, Architecture, DatasetFingerprint, FileFingerprint, ModelMeta, QuantizationInfo, FORMAT_VERSION,
};

use crate::data::Record;
use crate::embed::Embedder;
use crate::error::{Error, Result};
use crate::infer::Scorer;
use std::path::Path;

/// A loaded classifier: embedder + network + metadata. Immutable and `Send + Sync`: share one across
/// threads.
pub struct Model {
    meta: ModelMeta,
    layers: Vec<Layer>,
    embedder: Box<dyn Embedder>,
    scorer: Scorer,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("precision", &self.meta.precision)
            .field("dims", &self.dims())
            .field("hidden", &self.meta.architecture.hidden)
            .field("threshold", &self.meta.threshold)
            .finish()
    }
}

impl Model {
    /// Assemble a model from metadata and layers, checking that they agree and building the embedder.
    pub fn new(meta: ModelMeta, layers: Vec<Layer>) -> Result<Model> {
        let name = "<in memory>";
        let arch = &meta.architecture;
        let mut widths = vec![arch.input_dims];
        widths.extend(&arch.hidden);
        widths.push(1);
        if layers.len() + 1 != widths.len()
            || layers.iter().zip(widths.windows(2)).any(|(l, w)| l.inputs != w[0] || l.outputs != w[1])
        {
            return Err(Error::model(name, format!("layers do not match the architecture {widths:?}")));
        }
        for (i, l) in layers.iter().enumerate() {
            l.check(&format!("layers.{i}"))?;
            if l.precision() != meta.precision {
                return Err(Error::model(
                    name,
                    format!("layer {i} is {}, metadata says {}", l.precision(), meta.precision),
                ));
            }
        }
        if meta.embedder.dims() != arch.input_dims {
            return Err(Error::shape("embedder dims vs network input", arch.input_dims, meta.embedder.dims()));
        }
        if !(meta.threshold.is_finite() && (0.0..=1.0).contains(&meta.threshold)) {
            return Err(Error::model(name, format!("threshold {} is not in [0, 1]", meta.threshold)));
        }
        let embedder = meta.embedder.build()?;
        let scorer = Scorer::new(&layers)?;
        Ok(Model { meta, layers, embedder, scorer })
    }

    /// Load and verify a model file (at most [`crate::fsutil::max_model_bytes`] bytes are read).
    pub fn load(path: impl AsRef<Path>) -> Result<Model> {
        let path = path.as_ref();
        let bytes = crate::fsutil::read_capped(path, crate::fsutil::max_model_bytes()?, "model")?;
        Self::from_bytes_named(&bytes, &path.display().to_string())
    }

    /// Load and verify a model from bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
        Self::from_bytes_named(bytes, "<bytes>")
    }

    fn from_bytes_named(bytes: &[u8], name: &str) -> Result<Model> {
        let (meta, layers) = file::from_bytes(bytes, name)?;
        Model::new(meta, layers).map_err(|e| match e {
            Error::Model { reason, .. } => Error::model(name, reason),
            other => other,
        })
    }

    /// The model file bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        file::to_bytes(&self.meta, &self.layers)
    }

    /// Write the model file atomically (temp file in the same directory, fsync, rename).
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        crate::fsutil::write_atomic(path.as_ref(), &self.to_bytes()?)
    }

    /// Metadata.
    pub fn meta(&self) -> &ModelMeta {
        &self.meta
    }

    /// Metadata as pretty JSON.
    pub fn meta_json(&self) -> Result<String> {
        serde_json::to_string_pretty(&self.meta).map_err(|e| Error::json("model metadata", e))
    }

    /// Stored layers.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The embedder.
    pub fn embedder(&self) -> &dyn Embedder {
        self.embedder.as_ref()
    }

    /// The network.
    pub fn scorer(&self) -> &Scorer {
        &self.scorer
    }

    /// Decision threshold: scores `>= threshold` are malicious.
    pub fn threshold(&self) -> f32 {
        self.meta.threshold
    }

    /// Embedding width.
    pub fn dims(&self) -> usize {
        self.meta.architecture.input_dims
    }

    /// Weight precision.
    pub fn precision(&self) -> Precision {
        self.meta.precision
    }

    /// A copy with another threshold.
    pub fn with_threshold(mut self, threshold: f32) -> Result<Model> {
        if !(threshold.is_finite() && (0.0..=1.0).contains(&threshold)) {
            return Err(Error::param("threshold", threshold, "must be in [0, 1]"));
        }
        self.meta.threshold = threshold;
        Ok(self)
    }

    /// Replace the metadata (the network stays); checked like [`Model::new`].
    pub fn with_meta(self, meta: ModelMeta) -> Result<Model> {
        Model::new(meta, self.layers)
    }

    /// Malicious probability of each text.
    pub fn score_texts(&self, texts: &[&str]) -> Result<Vec<f32>> {
        let x = self.embedder.embed(texts)?;
        let mut out = vec![0.0; texts.len()];
        self.scorer.score_into(&x, &mut out)?;
        Ok(out)
    }

    /// Malicious probability of each record's text (embedded and scored in batches of 4096).
    pub fn score_records(&self, rows: &[Record]) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(4096) {
            let texts: Vec<&str> = chunk.iter().map(|r| r.text.as_str()).collect();
            out.extend(self.score_texts(&texts)?);
        }
        Ok(out)
    }

    /// Malicious probability of one text.
    pub fn score_text(&self, text: &str) -> Result<f32> {
        Ok(self.score_texts(&[text])?[0])
    }

    /// Scores of `n x dims` row-major embeddings into `out` (`n`).
    pub fn score_embeddings_into(&self, x: &[f32], out: &mut [f32]) -> Result<()> {
        let d = self.dims();
        if !x.len().is_multiple_of(d) {
            return Err(Error::shape("embeddings", format!("n x {d} floats"), x.len()));
        }
        if out.len() != x.len() / d {
            return Err(Error::shape("scores output", x.len() / d, out.len()));
        }
        self.scorer.score_into(x, out)
    }

    /// Scores of `n x dims` row-major embeddings.
    pub fn score_embeddings(&self, x: &[f32]) -> Result<Vec<f32>> {
        let mut out = vec![0.0; x.len() / self.dims().max(1)];
        self.score_embeddings_into(x, &mut out)?;
        Ok(out)
    }

    /// Whether `score` is a malicious decision at the model's threshold.
    pub fn decide(&self, score: f32) -> bool {
        score >= self.meta.threshold
    }
}
