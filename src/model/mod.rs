//! The model: the model file format, its metadata, and [`Model`], the loaded classifier every host
//! serves (text spec + featuriser + network + metadata: text in, scores and decisions out, and with
//! heads the family and severity, [`Model::classify_detailed`] and [`Model::answer`]);
//! [`quantize`] makes f16 / int8 models of an f32 one.
//!
//! A model reads a prompt through its [`TextSpec`] when it has one: the canonical form, then every
//! view (decoded payloads, leetspeak, windows of a long text); the score is the highest of the views'
//! ([`Model::score_detailed`] says which view and how many windows). Without a text spec (version 1
//! files) the text is featurised as it is, whole.

mod file;
mod meta;
pub mod quantize;

/// The network types a model stores, from [`crate::nn`] (re-exported: hosts meet them through models).
pub use crate::nn::{Dense, Head, HeadKind, Layer, LayerWeights, Mlp, Precision, StoredWideDeep};
pub use file::{from_bytes, to_bytes, weights_sha256, Weights};
pub use meta::{
    now_rfc3339, Architecture, DatasetFingerprint, FileFingerprint, ModelMeta, NetKind, QuantizationInfo,
    FORMAT_VERSION, OLDEST_FORMAT_VERSION,
};

use crate::data::Record;
use crate::embed::{Embedder, SparseFeaturizer, SparseRows};
use crate::error::{Error, Result};
use crate::infer::sparse::SparseScorer;
use crate::infer::Scorer;
use crate::text::{TextSpec, ViewKind};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// What runs a model's network.
enum Engine {
    Dense { embedder: Box<dyn Embedder>, scorer: Scorer },
    Sparse { featurizer: Arc<SparseFeaturizer>, scorer: SparseScorer },
}

/// A loaded classifier: text spec, featuriser, network, metadata. Immutable and `Send + Sync`: share
/// one across threads.
pub struct Model {
    meta: ModelMeta,
    weights: Weights,
    engine: Engine,
}

/// The score of one text with how it was reached.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    /// Malicious probability: the highest over the views.
    pub score: f32,
    /// Views scored (1: the whole text only).
    pub views: usize,
    /// How many of them were windows of a long text (0: none).
    pub windows: usize,
    /// The view that gave the score.
    pub view: ViewKind,
}

/// A text's score with its heads' answers ([`Model::classify_detailed`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    /// The binary score and how it was reached (as [`Model::score_detailed`] gives it).
    pub scored: Scored,
    /// Every head's probabilities, heads in [`Model::heads`] order, read on the view that gave the
    /// score: `heads[at..at + labels]` for each head. Empty for a model without heads.
    pub heads: Vec<f32>,
}

impl Classified {
    /// The probabilities of the head at position `i` of [`Model::heads`].
    pub fn head<'a>(&'a self, model: &Model, i: usize) -> Option<&'a [f32]> {
        let heads = model.heads();
        let at: usize = heads.get(..i)?.iter().map(|h| h.labels.len()).sum();
        self.heads.get(at..at + heads.get(i)?.labels.len())
    }
}

/// What one head says about one text ([`Model::answer`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadAnswer<'a> {
    /// Which head.
    pub kind: HeadKind,
    /// The head's labels, in output order.
    pub labels: &'a [String],
    /// Probability of each label given that the text is an attack (sums to 1).
    pub probs: &'a [f32],
    /// The most probable label's index when the text is flagged; `None` when it is not.
    pub index: Option<usize>,
    /// The most probable label when the text is flagged, else the benign answer (`BENIGN`, `none`).
    pub label: &'a str,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("kind", &self.meta.architecture.kind)
            .field("precision", &self.meta.precision)
            .field("dims", &self.dims())
            .field("hidden", &self.meta.architecture.hidden)
            .field("threshold", &self.meta.threshold)
            .finish()
    }
}

/// Texts embedded or featurised per call while scoring.
const SCORE_CHUNK: usize = 4096;

impl Model {
    /// Assemble an MLP model from metadata and layers, checking that they agree and building the
    /// embedder.
    pub fn new(meta: ModelMeta, layers: Vec<Layer>) -> Result<Model> {
        Model::assemble(meta, Weights::Mlp(layers))
    }

    /// Assemble a model from metadata and weights of either kind, checking that they agree.
    pub fn assemble(meta: ModelMeta, weights: Weights) -> Result<Model> {
        let name = "<in memory>";
        let arch = &meta.architecture;
        arch.check()?;
        if weights.kind() != arch.kind {
            return Err(Error::model(
                name,
                format!("the metadata says {}, the weights are {}", arch.kind.as_str(), weights.kind().as_str()),
            ));
        }
        if weights.precision() != meta.precision {
            return Err(Error::model(
                name,
                format!("the weights are {}, metadata says {}", weights.precision(), meta.precision),
            ));
        }
        if !(meta.threshold.is_finite() && (0.0..=1.0).contains(&meta.threshold)) {
            return Err(Error::model(name, format!("threshold {} is not in [0, 1]", meta.threshold)));
        }
        if let Some(t) = &meta.text {
            t.check()?;
        }
        let engine = match &weights {
            Weights::Mlp(layers) => {
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
                }
                match meta.embedder.dims() {
                    Some(d) if d == arch.input_dims => {}
                    Some(d) => return Err(Error::shape("embedder dims vs network input", arch.input_dims, d)),
                    None => return Err(Error::model(name, "an MLP needs a dense embedder, not the n-gram featuriser")),
                }
                Engine::Dense { embedder: meta.embedder.build()?, scorer: Scorer::new(layers)? }
            }
            Weights::WideDeep { featurizer, net } => {
                let (k, e) = (net.features, net.embed);
                if featurizer.features() != k || arch.input_dims != k || arch.embed != Some(e) {
                    return Err(Error::model(
                        name,
                        format!(
                            "the network has {k} features x {e}, the featuriser {} and the metadata {} x {:?}",
                            featurizer.features(),
                            arch.input_dims,
                            arch.embed
                        ),
                    ));
                }
                if arch.wide != Some(net.wide.is_some())
                    || arch.hidden
                        != net.tail.iter().take(net.tail.len().saturating_sub(1)).map(|l| l.outputs).collect::<Vec<_>>()
                {
                    return Err(Error::model(name, "the network's tail or wide term does not match the architecture"));
                }
                let net_heads: std::collections::BTreeMap<HeadKind, Vec<String>> =
                    net.heads.iter().map(|h| (h.kind, h.labels.clone())).collect();
                if net_heads != arch.heads {
                    return Err(Error::model(
                        name,
                        "the network's heads or their labels differ from the architecture's",
                    ));
                }
                if meta.embedder != crate::embed::EmbedderSpec::Ngrams(featurizer.spec().clone()) {
                    return Err(Error::model(name, "the featuriser's settings differ from the metadata's"));
                }
                Engine::Sparse { featurizer: featurizer.clone(), scorer: SparseScorer::new(net.clone())? }
            }
        };
        Ok(Model { meta, weights, engine })
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
        let (meta, weights) = file::from_bytes(bytes, name)?;
        Model::assemble(meta, weights).map_err(|e| match e {
            Error::Model { reason, .. } => Error::model(name, reason),
            other => other,
        })
    }

    /// The model file bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        file::to_bytes(&self.meta, &self.weights)
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

    /// The stored network.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// Hex sha256 of the weights (the registry's and the quantization record's identity of a network).
    pub fn weights_sha256(&self) -> String {
        self.weights.sha256()
    }

    /// The stored layers of an MLP model; `None` for a wide-and-deep one.
    pub fn layers(&self) -> Option<&[Layer]> {
        match &self.weights {
            Weights::Mlp(layers) => Some(layers),
            Weights::WideDeep { .. } => None,
        }
    }

    /// The dense embedder of an MLP model; `None` for a wide-and-deep one (see [`Model::featurizer`]).
    pub fn embedder(&self) -> Option<&dyn Embedder> {
        match &self.engine {
            Engine::Dense { embedder, .. } => Some(embedder.as_ref()),
            Engine::Sparse { .. } => None,
        }
    }

    /// The dense embedder, or the error a caller of an embeddings entry point gets from a
    /// wide-and-deep model (which reads text through its n-gram featuriser).
    pub fn dense_embedder(&self) -> Result<&dyn Embedder> {
        self.embedder().ok_or_else(no_embeddings)
    }

    /// The n-gram featuriser of a wide-and-deep model; `None` for an MLP.
    pub fn featurizer(&self) -> Option<&SparseFeaturizer> {
        match &self.engine {
            Engine::Sparse { featurizer, .. } => Some(featurizer),
            Engine::Dense { .. } => None,
        }
    }

    /// The dense network's scorer (the MLP, or the wide-and-deep tail): its kernel and precision.
    pub fn scorer(&self) -> &Scorer {
        match &self.engine {
            Engine::Dense { scorer, .. } => scorer,
            Engine::Sparse { scorer, .. } => scorer.tail(),
        }
    }

    /// The wide-and-deep scorer; `None` for an MLP.
    pub fn sparse_scorer(&self) -> Option<&SparseScorer> {
        match &self.engine {
            Engine::Sparse { scorer, .. } => Some(scorer),
            Engine::Dense { .. } => None,
        }
    }

    /// The heads beside the binary output, in output order (empty: none; MLP models have none).
    pub fn heads(&self) -> &[Head] {
        match &self.weights {
            Weights::WideDeep { net, .. } => &net.heads,
            Weights::Mlp(_) => &[],
        }
    }

    /// The head of `kind`, with its position in [`Model::heads`].
    pub fn head(&self, kind: HeadKind) -> Option<(usize, &Head)> {
        self.heads().iter().enumerate().find(|(_, h)| h.kind == kind)
    }

    /// What the `kind` head says about `answer` (`None` when the model has no such head): its label is
    /// the most probable one (the first on ties) when the text is flagged at the model's threshold,
    /// else the benign answer, so a flagged text always has a family and a passed one never has.
    pub fn answer<'a>(&'a self, answer: &'a Classified, kind: HeadKind) -> Option<HeadAnswer<'a>> {
        let (i, head) = self.head(kind)?;
        let probs = answer.head(self, i)?;
        let best = probs.iter().enumerate().fold(0, |b, (j, &p)| if p > probs[b] { j } else { b });
        let index = self.decide(answer.scored.score).then_some(best);
        let label = index.map_or(crate::data::heads::benign_label(kind), |j| head.labels[j].as_str());
        Some(HeadAnswer { kind, labels: &head.labels, probs, index, label })
    }

    /// The heads' answer as the JSON of `l2 predict` and `l2 serve`'s `/v1/classify`: for each head the
    /// model has, `"<kind>"` (its label, see [`Model::answer`]) and `"<kind>_scores"` (label ->
    /// P(label | attack)). Empty for a model without heads.
    pub fn answer_json(&self, answer: &Classified) -> serde_json::Map<String, serde_json::Value> {
        let mut out = serde_json::Map::new();
        for h in self.heads() {
            if let Some(a) = self.answer(answer, h.kind) {
                let scores: serde_json::Map<String, serde_json::Value> =
                    a.labels.iter().zip(a.probs).map(|(l, &p)| (l.clone(), json_f32(p))).collect();
                out.insert(h.kind.as_str().to_owned(), a.label.into());
                out.insert(format!("{}_scores", h.kind), scores.into());
            }
        }
        out
    }

    /// Outputs of all heads together (the width of [`Classified::heads`]).
    pub fn head_width(&self) -> usize {
        self.heads().iter().map(|h| h.labels.len()).sum()
    }

    /// How the model reads text (`None`: as it is, whole).
    pub fn text_spec(&self) -> Option<&TextSpec> {
        self.meta.text.as_ref()
    }

    /// Decision threshold: scores `>= threshold` are malicious.
    pub fn threshold(&self) -> f32 {
        self.meta.threshold
    }

    /// Input width of the network: embedding dims (MLP) or n-gram vocabulary size (wide-and-deep).
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

    /// Replace the metadata (the network stays); checked like [`Model::assemble`].
    pub fn with_meta(self, meta: ModelMeta) -> Result<Model> {
        Model::assemble(meta, self.weights)
    }

    /// Malicious probability of each text.
    pub fn score_texts(&self, texts: &[&str]) -> Result<Vec<f32>> {
        Ok(self.score_detailed(texts)?.into_iter().map(|s| s.score).collect())
    }

    /// Score of each text with the views behind it (see the module docs).
    pub fn score_detailed(&self, texts: &[&str]) -> Result<Vec<Scored>> {
        Ok(self.run(texts, false)?.0)
    }

    /// Score of each text with every head's probabilities (see [`Classified`]); the scores are the
    /// ones [`Model::score_detailed`] returns. A model without heads answers empty `heads`.
    pub fn classify_detailed(&self, texts: &[&str]) -> Result<Vec<Classified>> {
        let hw = self.head_width();
        let (scored, heads) = self.run(texts, hw > 0)?;
        Ok(scored
            .into_iter()
            .enumerate()
            .map(|(i, scored)| Classified { scored, heads: heads.get(i * hw..(i + 1) * hw).unwrap_or(&[]).to_vec() })
            .collect())
    }

    /// Scores of texts through their views, and (`with_heads`) the heads of the view that gave each
    /// score, `texts x head_width`.
    fn run(&self, texts: &[&str], with_heads: bool) -> Result<(Vec<Scored>, Vec<f32>)> {
        let hw = if with_heads { self.head_width() } else { 0 };
        let Some(spec) = &self.meta.text else {
            let (scores, heads) = self.score_views(texts, hw)?;
            let scored =
                scores.into_iter().map(|score| Scored { score, views: 1, windows: 0, view: ViewKind::Whole }).collect();
            return Ok((scored, heads));
        };
        let mut out = Vec::with_capacity(texts.len());
        let mut out_heads = vec![0.0; texts.len() * hw];
        // Views of a block of texts are scored together; `owner` maps each view to its text.
        for block in texts.chunks(SCORE_CHUNK) {
            let mut views: Vec<(ViewKind, String)> = Vec::with_capacity(block.len());
            let mut owner: Vec<usize> = Vec::with_capacity(block.len());
            for (i, t) in block.iter().enumerate() {
                let v = spec.views(t);
                owner.extend(std::iter::repeat_n(i, v.len()));
                views.extend(v);
            }
            let refs: Vec<&str> = views.iter().map(|(_, t)| t.as_str()).collect();
            let (scores, heads) = self.score_views(&refs, hw)?;
            let first = out.len();
            out.extend(std::iter::repeat_n(
                Scored { score: f32::NEG_INFINITY, views: 0, windows: 0, view: ViewKind::Whole },
                block.len(),
            ));
            for (v, ((&i, (kind, _)), &s)) in owner.iter().zip(&views).zip(&scores).enumerate() {
                let o = &mut out[first + i];
                o.views += 1;
                o.windows += usize::from(*kind == ViewKind::Window);
                if s > o.score {
                    o.score = s;
                    o.view = *kind;
                    out_heads[(first + i) * hw..(first + i + 1) * hw].copy_from_slice(&heads[v * hw..(v + 1) * hw]);
                }
            }
        }
        Ok((out, out_heads))
    }

    /// Scores of texts as they are (no views), in chunks, with `hw` head outputs per text (0: none).
    fn score_views(&self, texts: &[&str], hw: usize) -> Result<(Vec<f32>, Vec<f32>)> {
        let mut out = vec![0.0; texts.len()];
        let mut heads = vec![0.0; texts.len() * hw];
        for (c, (chunk, o)) in texts.chunks(SCORE_CHUNK).zip(out.chunks_mut(SCORE_CHUNK)).enumerate() {
            match &self.engine {
                Engine::Dense { embedder, scorer } => scorer.score_into(&embedder.embed(chunk)?, o)?,
                Engine::Sparse { featurizer, scorer } if hw > 0 => {
                    let at = c * SCORE_CHUNK * hw;
                    scorer.classify_into(&featurizer.featurize(chunk), o, &mut heads[at..at + chunk.len() * hw])?
                }
                Engine::Sparse { featurizer, scorer } => scorer.score_into(&featurizer.featurize(chunk), o)?,
            }
        }
        Ok((out, heads))
    }

    /// Evaluate on labelled `records` at `threshold` against `targets`: the report of
    /// [`crate::eval::evaluate_with`] with the heads' evaluation added, and every row's answer.
    pub fn evaluate(
        &self,
        records: &[Record],
        threshold: f32,
        targets: &crate::eval::Targets,
    ) -> Result<(crate::eval::Report, Vec<Classified>)> {
        let texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
        let answers = self.classify_detailed(&texts)?;
        let scores: Vec<f32> = answers.iter().map(|a| a.scored.score).collect();
        let report = crate::eval::evaluate_with(&scores, records, threshold, targets)?;
        Ok((report.with_heads(self.head_reports(records, &answers)?), answers))
    }

    /// The heads' evaluation on labelled `records` from their answers (empty without heads).
    pub fn head_reports(&self, records: &[Record], answers: &[Classified]) -> Result<Vec<crate::eval::HeadReport>> {
        if answers.len() != records.len() {
            return Err(Error::shape("answers vs records", records.len(), answers.len()));
        }
        (0..self.heads().len())
            .map(|i| {
                let head = &self.heads()[i];
                let probs: Vec<f32> =
                    answers.iter().flat_map(|a| a.head(self, i).unwrap_or(&[]).iter().copied()).collect();
                crate::eval::evaluate_head(head.kind, &head.labels, records, &probs)
            })
            .collect()
    }

    /// Malicious probability of each record's text.
    pub fn score_records(&self, rows: &[Record]) -> Result<Vec<f32>> {
        let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
        self.score_texts(&texts)
    }

    /// Malicious probability of one text.
    pub fn score_text(&self, text: &str) -> Result<f32> {
        Ok(self.score_texts(&[text])?[0])
    }

    /// The features of texts for a wide-and-deep model, read as the model reads them for training
    /// (canonical, whole); an error for an MLP.
    pub fn features(&self, texts: &[&str]) -> Result<SparseRows> {
        let Some(f) = self.featurizer() else {
            return Err(Error::param("model", "mlp", "only wide-and-deep models have sparse features"));
        };
        Ok(match &self.meta.text {
            Some(spec) => {
                let canon: Vec<String> = texts.iter().map(|t| spec.normalize.apply(t)).collect();
                f.featurize(&canon.iter().map(String::as_str).collect::<Vec<_>>())
            }
            None => f.featurize(texts),
        })
    }

    /// Scores of `n x dims` row-major embeddings into `out` (`n`); MLP models only.
    pub fn score_embeddings_into(&self, x: &[f32], out: &mut [f32]) -> Result<()> {
        let Engine::Dense { scorer, .. } = &self.engine else {
            return Err(no_embeddings());
        };
        let d = self.dims();
        if !x.len().is_multiple_of(d) {
            return Err(Error::shape("embeddings", format!("n x {d} floats"), x.len()));
        }
        if out.len() != x.len() / d {
            return Err(Error::shape("scores output", x.len() / d, out.len()));
        }
        scorer.score_into(x, out)
    }

    /// Scores of `n x dims` row-major embeddings; MLP models only.
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

/// An f32 as JSON in its shortest round-trip form (`0.98965424`, as serde writes an `f32` field), not
/// the longer decimal of its f64 widening; reading it back as f32 gives the same bits.
fn json_f32(v: f32) -> serde_json::Value {
    // Display of a finite f32 is a plain decimal, which always parses as a JSON number.
    format!("{v}").parse::<serde_json::Number>().map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// The error of an embeddings entry point on a wide-and-deep model.
fn no_embeddings() -> Error {
    Error::param("model", "wide_deep", "this model scores text through its n-gram featuriser; it takes no embeddings")
}
