//! Text to embedding: the [`Embedder`] trait, its serializable [`EmbedderSpec`], the built-in
//! zero-download hashing embedder, ONNX transformer embedders ([`OnnxSpec`]; running them, and finding
//! their files in installed Python packages ([`package`]), needs the `onnx` feature) and the on-disk
//! embedding cache ([`EmbeddingCache`]).

pub mod cache;
mod hash;
pub mod ngrams;
mod onnx;
#[cfg(feature = "onnx")]
pub mod package;
pub mod sparse;

pub use cache::{embed_with_progress, CachedEmbedder, EmbeddingCache};
pub use hash::{HashEmbedder, HashSpec};
#[cfg(feature = "onnx")]
pub use onnx::OnnxEmbedder;
pub use onnx::{OnnxFiles, OnnxOptions, OnnxSpec, Pooling};
pub use sparse::{NgramSpec, SparseFeaturizer, SparseRows};

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Turns texts into fixed-width f32 vectors.
pub trait Embedder: Send + Sync {
    /// Output width.
    fn dims(&self) -> usize;

    /// The spec that rebuilds this embedder (stored in the model file).
    fn spec(&self) -> EmbedderSpec;

    /// Embed `texts` into `out`, row-major `texts.len() x dims()`. `out` must have exactly that length.
    fn embed_into(&self, texts: &[&str], out: &mut [f32]) -> Result<()>;

    /// Embed `texts` into a new row-major buffer.
    fn embed(&self, texts: &[&str]) -> Result<Vec<f32>> {
        let mut out = vec![0.0; texts.len() * self.dims()];
        self.embed_into(texts, &mut out)?;
        Ok(out)
    }
}

/// Everything needed to rebuild an embedder; stored in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EmbedderSpec {
    /// The built-in hashing embedder.
    Hash(HashSpec),
    /// An ONNX transformer + tokenizer. Always deserializable; building it needs the `onnx` feature
    /// (without it, [`EmbedderSpec::build`] returns an error saying so).
    Onnx(OnnxSpec),
    /// The sparse n-gram featuriser ([`SparseFeaturizer`]). It is fitted on training data: a model
    /// file stores its vocabulary and IDF next to this spec, and it is not a dense [`Embedder`].
    Ngrams(NgramSpec),
}

impl EmbedderSpec {
    /// Width of the dense embedding; `None` for the n-gram featuriser, whose width is the vocabulary
    /// it was fitted to.
    pub fn dims(&self) -> Option<usize> {
        match self {
            EmbedderSpec::Hash(h) => Some(h.dims),
            EmbedderSpec::Onnx(o) => Some(o.dims),
            EmbedderSpec::Ngrams(_) => None,
        }
    }

    /// Whether this is the sparse n-gram featuriser.
    pub fn is_sparse(&self) -> bool {
        matches!(self, EmbedderSpec::Ngrams(_))
    }

    /// Build the dense embedder this spec describes; an error when a resource it needs is missing, or
    /// for the n-gram featuriser (fitted, see [`SparseFeaturizer::fit`]).
    pub fn build(&self) -> Result<Box<dyn Embedder>> {
        match self {
            EmbedderSpec::Hash(h) => Ok(Box::new(HashEmbedder::new(h.clone())?)),
            EmbedderSpec::Onnx(o) => o.build(),
            EmbedderSpec::Ngrams(_) => Err(Error::param(
                "embedder",
                "ngrams",
                "the n-gram featuriser is fitted on training data and loaded with its model, not built from its spec",
            )),
        }
    }
}

pub(crate) fn check_out_len(what: &str, out: &[f32], n: usize, dims: usize) -> Result<()> {
    if out.len() != n * dims {
        return Err(Error::shape(what, format!("{n} x {dims} = {}", n * dims), out.len()));
    }
    Ok(())
}
