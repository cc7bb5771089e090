//! `l2core.embed`: the built-in hashing embedder from Python.

use crate::arrays;
use crate::errors::{type_error, IntoPy};
use l2core::embed::{Embedder, HashEmbedder, HashSpec};
use numpy::{PyArray2, PyArrayMethods};
use pyo3::prelude::*;

/// Embed `texts` with `embedder` into a fresh `(n, dims)` float32 array, without the GIL.
pub fn embed_with<'py>(
    py: Python<'py>,
    embedder: &dyn Embedder,
    texts: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let texts = arrays::texts(texts)?;
    // SAFETY: a fresh array nobody else holds; embed_into writes every element before it is returned
    // (an error drops it unread).
    let arr = unsafe { PyArray2::<f32>::new(py, [texts.len(), embedder.dims()], false) };
    let out = unsafe { arr.as_slice_mut() }.map_err(|e| type_error(e.to_string()))?;
    py.detach(|| {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        embedder.embed_into(&refs, out)
    })
    .py_err()?;
    Ok(arr)
}

/// Embed texts with the built-in hashing embedder: a float32 array `(len(texts), dims)` of L2-normalised
/// rows, identical to what a model with the same settings computes.
///
/// Settings (defaults as in the model file): `dims` 512, `char_ngrams` (3, 5), `word_ngrams` (1, 2),
/// `char_weight` 1.0, `word_weight` 2.0, `lowercase` True. Out-of-range settings raise InvalidParamError.
#[pyfunction]
#[pyo3(signature = (texts, dims = 512, *, char_ngrams = (3, 5), word_ngrams = (1, 2), char_weight = 1.0, word_weight = 2.0, lowercase = true))]
#[allow(clippy::too_many_arguments)]
pub fn embed<'py>(
    py: Python<'py>,
    texts: &Bound<'py, PyAny>,
    dims: usize,
    char_ngrams: (usize, usize),
    word_ngrams: (usize, usize),
    char_weight: f32,
    word_weight: f32,
    lowercase: bool,
) -> PyResult<Bound<'py, PyArray2<f32>>> {
    let spec = HashSpec { dims, char_ngrams, word_ngrams, char_weight, word_weight, lowercase, ..HashSpec::default() };
    let embedder = HashEmbedder::new(spec).py_err()?;
    embed_with(py, &embedder, texts)
}
