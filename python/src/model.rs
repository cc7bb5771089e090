//! `l2core.Model`: the loaded classifier.

use crate::arrays::{self, Embeddings};
use crate::errors::{type_error, IntoPy};
use crate::report::PyReport;
use numpy::{PyArray1, PyArray2, PyArrayDescrMethods, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::path::PathBuf;

/// Below this many input floats a scoring call keeps the GIL: releasing and re-taking it costs more
/// than scoring a handful of rows (batch-1 latency is the point of the fast path).
const DETACH_MIN_FLOATS: usize = 16 * 512;

/// Texts are embedded and scored this many at a time (8 MB of 512-d embeddings).
const TEXT_CHUNK: usize = 4096;

/// A loaded L2 classifier: embedder + network + metadata. Immutable and thread-safe; scoring releases
/// the GIL, so one model can serve many Python threads.
///
/// Scores are malicious probabilities in [0, 1]; a score `>= threshold` is a malicious decision.
#[pyclass(name = "Model", module = "l2core", frozen)]
pub struct PyModel {
    pub(crate) inner: l2core::Model,
}

impl PyModel {
    /// `score >= threshold` per score. A score that is not a number is an error, never a decision: a
    /// guard must not answer "benign" for a score it could not compute.
    fn decisions<'py>(
        &self,
        py: Python<'py>,
        scores: &Bound<'py, PyArray1<f32>>,
    ) -> PyResult<Bound<'py, PyArray1<bool>>> {
        let t = self.inner.threshold();
        let ro = scores.readonly();
        let s = ro.as_slice().map_err(|e| type_error(e.to_string()))?;
        if let Some(i) = s.iter().position(|v| !v.is_finite()) {
            return Err(crate::errors::to_py(l2core::Error::InvalidData(format!(
                "score {i} is not a number ({}): no decision can be made",
                s[i]
            ))));
        }
        Ok(PyArray1::from_vec(py, s.iter().map(|&v| v >= t).collect()))
    }

    fn score_rows<'py>(&self, py: Python<'py>, x: &Embeddings<'py>, out: &mut [f32]) -> PyResult<()> {
        // A wide-and-deep model reads text only: say so before any shape check.
        self.inner.dense_embedder().py_err()?;
        let d = self.inner.dims();
        if x.d != d {
            return Err(crate::errors::to_py(l2core::Error::shape(
                "embeddings",
                format!("(n, {d})"),
                format!("({}, {})", x.n, x.d),
            )));
        }
        let data = x.as_slice()?;
        if data.len() < DETACH_MIN_FLOATS {
            self.inner.score_embeddings_into(data, out).py_err()
        } else {
            let model = &self.inner;
            py.detach(|| model.score_embeddings_into(data, out)).py_err()
        }
    }

    fn texts_scores<'py>(&self, py: Python<'py>, texts: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let texts = arrays::texts(texts)?;
        let model = &self.inner;
        let out = py.detach(|| score_chunked(model, &texts)).py_err()?;
        Ok(PyArray1::from_vec(py, out))
    }
}

/// One head's columns for `l2core.Classifications`: labels, probabilities `(n, labels)`, answer index.
type HeadColumns<'py> = (Option<Vec<String>>, Option<Bound<'py, PyAny>>, Option<Bound<'py, PyAny>>);

/// Score texts in chunks, so that the embeddings of a huge input never sit in memory all at once. Every
/// text input (Python strings, Arrow arrays) goes through here: the same texts get the same scores.
fn score_chunked<S: AsRef<str> + Sync>(model: &l2core::Model, texts: &[S]) -> l2core::Result<Vec<f32>> {
    let mut out = vec![0.0f32; texts.len()];
    for (chunk, o) in texts.chunks(TEXT_CHUNK).zip(out.chunks_mut(TEXT_CHUNK)) {
        let refs: Vec<&str> = chunk.iter().map(AsRef::as_ref).collect();
        o.copy_from_slice(&model.score_texts(&refs)?);
    }
    Ok(out)
}

#[pymethods]
impl PyModel {
    /// Load and verify a model file (`str` or `os.PathLike`).
    ///
    /// Raises IoError when the file cannot be read and ModelError when it is not a valid l2core model.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PyModel> {
        let inner = py.detach(|| l2core::Model::load(&path)).py_err()?;
        Ok(PyModel { inner })
    }

    /// Load and verify a model from the bytes of a model file.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<PyModel> {
        let inner = py.detach(|| l2core::Model::from_bytes(data)).py_err()?;
        Ok(PyModel { inner })
    }

    /// Write the model file atomically (a crash leaves the old file or the new one).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let model = &self.inner;
        py.detach(|| model.save(&path)).py_err()
    }

    /// The model file as bytes (what `save` writes).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let bytes = self.inner.to_bytes().py_err()?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Malicious probability of each text, as a float32 array of `len(texts)`.
    ///
    /// `texts`: a list, tuple, numpy array of str, pandas Series or any iterable of str (not a single
    /// str). Embedding and scoring run without the GIL.
    fn score<'py>(&self, py: Python<'py>, texts: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        self.texts_scores(py, texts)
    }

    /// Malicious probability of each text of an Arrow string array (`utf8` or `large_utf8`; anything with
    /// `__arrow_c_array__`, e.g. a `pyarrow.Array`), as a float32 array. The strings are read in place from
    /// the Arrow buffers (no Python object per row); the scores equal `score` on the same texts. A null
    /// entry is a TypeError naming its position.
    fn score_arrow<'py>(&self, py: Python<'py>, array: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let texts = crate::arrow::texts(array)?;
        let (model, refs) = (&self.inner, texts.texts());
        let out = py.detach(|| score_chunked(model, refs)).py_err()?;
        Ok(PyArray1::from_vec(py, out))
    }

    /// Malicious probability of each row of `x`, an `(n, dims)` matrix, as a float32 array of `n`.
    ///
    /// C-contiguous float32 input is read in place (zero-copy); Fortran-order or strided float32 and
    /// float64 arrays are accepted and copied to row-major float32 first; other array-likes go through
    /// `numpy.asarray(x, dtype=float32)`. Other dtypes raise TypeError; other shapes raise ShapeError.
    /// `out`, when given, is a writable C-contiguous float32 array of `n` that receives the scores
    /// (no allocation per call). Do not modify `x` from another thread while it is being scored.
    #[pyo3(signature = (x, out = None))]
    fn score_embeddings<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
        out: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let x = arrays::embeddings(x)?;
        let out = out.map(|o| arrays::out_scores(&o)).transpose()?;
        match out {
            Some(out) => {
                // Checked by hand instead of through numpy's borrow tracker, which costs more than
                // scoring a batch of one; the checks are the ones `readwrite()` makes.
                // SAFETY: `out` is a live array; reading its flags field is what numpy's own macros do.
                let flags = unsafe { (*out.as_array_ptr()).fields.flags };
                if flags & numpy::npyffi::NPY_ARRAY_WRITEABLE == 0 {
                    return Err(type_error("out: the array is not writeable"));
                }
                if flags & numpy::npyffi::NPY_ARRAY_ALIGNED == 0 || !out.is_c_contiguous() {
                    return Err(type_error("out: the array must be aligned and C-contiguous"));
                }
                if out.len() != x.n {
                    return Err(crate::errors::to_py(l2core::Error::shape("out", x.n, out.len())));
                }
                let xs = x.as_slice()?;
                let (x0, x1) = (xs.as_ptr() as usize, xs.as_ptr() as usize + std::mem::size_of_val(xs));
                let o0 = out.data() as usize;
                let o1 = o0 + x.n * std::mem::size_of::<f32>();
                if x.n > 0 && o0 < x1 && x0 < o1 {
                    return Err(type_error("out must not share memory with x"));
                }
                // SAFETY: writeable, C-contiguous float32 of length n, not overlapping `x`; the caller
                // must not use it from another thread during the call (documented).
                let slice = unsafe { out.as_slice_mut() }.map_err(|e| type_error(format!("out: {e}")))?;
                self.score_rows(py, &x, slice)?;
                Ok(out)
            }
            None => {
                // SAFETY: a fresh array nobody else holds; every element is written by score_rows
                // before it is returned (an error drops it unread).
                let arr = unsafe { PyArray1::<f32>::new(py, [x.n], false) };
                let slice = unsafe { arr.as_slice_mut() }.map_err(|e| type_error(e.to_string()))?;
                self.score_rows(py, &x, slice)?;
                Ok(arr)
            }
        }
    }

    /// Malicious decisions (`score >= threshold`) as a bool array.
    ///
    /// `data`: texts (as for `score`), or a 2-D numeric numpy array of embeddings (as for
    /// `score_embeddings`).
    fn predict<'py>(&self, py: Python<'py>, data: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray1<bool>>> {
        // Any 2-D numeric array is embeddings (a wrong dtype then gets the embeddings' TypeError).
        let is_float_matrix = match data.cast::<numpy::PyUntypedArray>() {
            Ok(a) => a.ndim() == 2 && !matches!(a.dtype().kind(), b'U' | b'S' | b'O'),
            Err(_) => false,
        };
        let scores =
            if is_float_matrix { self.score_embeddings(py, data, None)? } else { self.texts_scores(py, data)? };
        self.decisions(py, &scores)
    }

    /// Malicious decisions for an `(n, dims)` embeddings matrix (see `score_embeddings`).
    fn predict_embeddings<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray1<bool>>> {
        let scores = self.score_embeddings(py, x, None)?;
        self.decisions(py, &scores)
    }

    /// Embed texts with the model's own embedder: a float32 array `(len(texts), dims)`, the input
    /// `score_embeddings` takes.
    fn embed<'py>(&self, py: Python<'py>, texts: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        crate::embed::embed_with(py, self.inner.dense_embedder().py_err()?, texts)
    }

    /// A copy of this f32 model with its weights quantized to `precision` (`"int8"` or `"f16"`): the
    /// engine's quantizer, as `l2 quantize` uses (without its parity check on data). Same embedder,
    /// threshold and metadata. Raises InvalidParamError for an unknown precision or a non-f32 source.
    fn quantize(&self, py: Python<'_>, precision: &str) -> PyResult<PyModel> {
        let p: l2core::model::Precision = precision.parse().py_err()?;
        let model = &self.inner;
        let inner = py.detach(|| l2core::model::quantize::quantize(model, p)).py_err()?;
        Ok(PyModel { inner })
    }

    /// A copy of the model with another decision threshold (in [0, 1]).
    fn with_threshold(&self, threshold: f32) -> PyResult<PyModel> {
        let bytes = self.inner.to_bytes().py_err()?;
        let copy = l2core::Model::from_bytes(&bytes).py_err()?;
        Ok(PyModel { inner: copy.with_threshold(threshold).py_err()? })
    }

    /// Decision threshold: scores `>= threshold` are malicious.
    #[getter]
    fn threshold(&self) -> f32 {
        self.inner.threshold()
    }

    /// Each text's score and how it was reached, as a list of dicts `{"score", "views", "windows",
    /// "view"}`: the views of the text scored (decoded payloads, windows of a long text, ...; 1 for the
    /// whole text only), how many were windows (0: scored whole), and the view that gave the score
    /// (`"whole"`, `"decoded"`, `"rot13"`, `"leet"` or `"window"`). Scores equal `score`'s.
    fn score_details<'py>(&self, py: Python<'py>, texts: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let texts = arrays::texts(texts)?;
        let model = &self.inner;
        let scored = py
            .detach(|| {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                model.score_detailed(&refs)
            })
            .py_err()?;
        scored
            .iter()
            .map(|d| {
                let row = PyDict::new(py);
                row.set_item("score", d.score)?;
                row.set_item("views", d.views)?;
                row.set_item("windows", d.windows)?;
                row.set_item("view", d.view.as_str())?;
                Ok(row)
            })
            .collect()
    }

    /// Each text's score, decision, family and severity: an `l2core.Classifications`, a sequence of
    /// `Classification(score, malicious, family, severity, family_scores, severity_scores)` with the
    /// columns as numpy arrays and `.to_pandas()`. `family` / `severity` are the most probable label
    /// when the text is flagged, `"BENIGN"` / `"none"` when it is not, and `None` when the model has no
    /// such head; the scores are P(label | attack). Scores equal `score`'s.
    fn classify<'py>(&self, py: Python<'py>, texts: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        use l2core::model::HeadKind;
        let texts = arrays::texts(texts)?;
        let model = &self.inner;
        let answers = py
            .detach(|| {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                model.classify_detailed(&refs)
            })
            .py_err()?;
        let scores: Vec<f32> = answers.iter().map(|a| a.scored.score).collect();
        let malicious: Vec<bool> = scores.iter().map(|&s| model.decide(s)).collect();
        let n = answers.len();
        let head = |kind: HeadKind| -> PyResult<HeadColumns<'py>> {
            let Some((_, h)) = model.head(kind) else { return Ok((None, None, None)) };
            let k = h.labels.len();
            let mut probs = Vec::with_capacity(n * k);
            let mut index = Vec::with_capacity(n);
            for a in &answers {
                let ans = model.answer(a, kind).ok_or_else(|| type_error(format!("no {kind} answer")))?;
                probs.extend_from_slice(ans.probs);
                index.push(ans.index.map_or(-1, |i| i as i64));
            }
            let probs = PyArray1::from_vec(py, probs).reshape([n, k])?.into_any();
            Ok((Some(h.labels.clone()), Some(probs), Some(PyArray1::from_vec(py, index).into_any())))
        };
        let (fl, fp, fi) = head(HeadKind::Family)?;
        let (sl, sp, si) = head(HeadKind::Severity)?;
        let class = py.import("l2core._heads")?.getattr("Classifications")?;
        class.call1((PyArray1::from_vec(py, scores), PyArray1::from_vec(py, malicious), fl, fp, fi, sl, sp, si))
    }

    /// The labels of each head the model has, `{"family": [...], "severity": [...]}` (empty for a
    /// model without heads).
    #[getter]
    fn heads(&self) -> std::collections::BTreeMap<&'static str, Vec<String>> {
        self.inner.heads().iter().map(|h| (h.kind.as_str(), h.labels.clone())).collect()
    }

    /// The sparse n-gram features of a wide-and-deep model for `texts` (canonical, whole text), as the
    /// CSR triple `(values float32, indices int64, indptr int64)`:
    /// `scipy.sparse.csr_matrix(model.features(texts), shape=(len(texts), model.dims))`. These are the
    /// inputs of the model's ONNX export (`l2 export`), padded per row. ValueError for an MLP model.
    #[allow(clippy::type_complexity)]
    fn features<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyArray1<f32>>, Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<i64>>)> {
        let texts = arrays::texts(texts)?;
        let model = &self.inner;
        let rows = py
            .detach(|| {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                model.features(&refs)
            })
            .py_err()?;
        let indices = rows.indices.iter().map(|&i| i64::from(i)).collect();
        let indptr = rows.indptr.iter().map(|&i| i as i64).collect();
        Ok((PyArray1::from_vec(py, rows.values), PyArray1::from_vec(py, indices), PyArray1::from_vec(py, indptr)))
    }

    /// The network kind: `"mlp"` (dense embeddings) or `"wide_deep"` (sparse n-grams; reads text only).
    #[getter]
    fn kind(&self) -> &'static str {
        match self.inner.weights() {
            l2core::model::Weights::Mlp(_) => "mlp",
            l2core::model::Weights::WideDeep { .. } => "wide_deep",
        }
    }

    /// Input width: the embedding width an MLP takes (the columns of `score_embeddings`), or the n-gram
    /// vocabulary size of a wide-and-deep model (the columns of `features`).
    #[getter]
    fn dims(&self) -> usize {
        self.inner.dims()
    }

    /// Weight precision: `"f32"`, `"f16"` or `"int8"`.
    #[getter]
    fn precision(&self) -> &'static str {
        self.inner.precision().as_str()
    }

    /// Hidden layer widths.
    #[getter]
    fn hidden(&self) -> Vec<usize> {
        self.inner.meta().architecture.hidden.clone()
    }

    /// Everything the model file says about itself (embedder, architecture, training settings, history,
    /// data fingerprint, evaluation ...), as a dict (a fresh copy on each access).
    #[getter]
    fn metadata<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let json = self.inner.meta_json().py_err()?;
        Ok(py.import("json")?.call_method1("loads", (json,))?.cast_into::<PyDict>()?)
    }

    /// The test-split evaluation recorded when the model was trained, or None.
    #[getter]
    fn report(&self) -> Option<PyReport> {
        self.inner.meta().eval.clone().map(PyReport::from)
    }

    fn __repr__(&self) -> String {
        let m = self.inner.meta();
        format!(
            "Model(precision='{}', dims={}, hidden={:?}, threshold={:.6})",
            m.precision,
            self.inner.dims(),
            m.architecture.hidden,
            m.threshold
        )
    }

    /// Pickle support: a model pickles as its file bytes.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let py = slf.py();
        let ctor = py.get_type::<PyModel>().getattr("from_bytes")?;
        Ok((ctor, (slf.get().to_bytes(py)?,)))
    }
}
