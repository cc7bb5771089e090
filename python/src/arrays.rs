//! Turning Python inputs into what the engine takes: texts into `Vec<String>`, embeddings into a
//! row-major f32 slice (borrowed from a C-contiguous float32 array, copied otherwise).

use crate::errors::type_error;
use numpy::{PyArray1, PyArray2, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

/// Texts from a list, tuple, numpy array of str, pandas Series or any iterable of str.
pub fn texts(obj: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(type_error(
            "texts must be a sequence of str (list, tuple, numpy array, pandas Series), not a single str; \
             wrap one text in a list",
        ));
    }
    let one = |i: usize, item: Bound<'_, PyAny>| -> PyResult<String> {
        if let Ok(s) = item.cast::<PyString>() {
            // A str that does not convert holds a lone surrogate (e.g. from `surrogateescape`): say so.
            return s.to_cow().map(|c| c.into_owned()).map_err(|e| {
                crate::errors::to_py(l2core::Error::InvalidData(format!(
                    "texts[{i}] is not valid Unicode text ({}); encode or clean it first, e.g. \
                     text.encode('utf-8', 'replace').decode('utf-8')",
                    e.value(item.py()).str().map(|m| m.to_string()).unwrap_or_else(|_| "a lone surrogate".into())
                )))
            });
        }
        item.extract::<String>().map_err(|_| {
            let tname = item.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
            type_error(format!("texts[{i}] is {tname}, expected str"))
        })
    };
    if let Ok(list) = obj.cast::<PyList>() {
        return list.iter().enumerate().map(|(i, t)| one(i, t)).collect();
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple.iter().enumerate().map(|(i, t)| one(i, t)).collect();
    }
    if let Ok(arr) = obj.cast::<PyUntypedArray>() {
        if arr.ndim() != 1 {
            return Err(crate::errors::to_py(l2core::Error::shape(
                "texts",
                "a 1-D array",
                format!("shape {:?}", arr.shape()),
            )));
        }
    }
    let iter = obj.try_iter().map_err(|_| {
        let tname = obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
        type_error(format!("texts must be an iterable of str, got {tname}"))
    })?;
    iter.enumerate().map(|(i, t)| one(i, t?)).collect()
}

/// Row-major embeddings: borrowed from the caller's array when it is C-contiguous float32, else an owned
/// copy in row-major order.
pub enum Rows<'py> {
    /// Zero-copy view of a C-contiguous float32 array (kept alive by the reference).
    Borrowed(Bound<'py, PyArray2<f32>>),
    /// Converted copy (F order, strided, unaligned, float64, or a non-array input).
    Owned(Vec<f32>),
}

/// The embeddings matrix `x` as rows of floats, with its shape `(n, d)`.
pub struct Embeddings<'py> {
    /// The data.
    pub rows: Rows<'py>,
    /// Rows.
    pub n: usize,
    /// Columns.
    pub d: usize,
}

impl Embeddings<'_> {
    /// The row-major floats.
    ///
    /// The borrowed case reads the numpy buffer directly. Python code holding another reference could
    /// write to it while a detached (GIL-free) scoring call reads it; that is documented as unsupported,
    /// exactly like mutating a buffer during `hashlib.update`.
    #[inline]
    pub fn as_slice(&self) -> PyResult<&[f32]> {
        match &self.rows {
            // SAFETY: the array is aligned, C-contiguous float32 (checked when built) and kept alive by `self`;
            // the crate never writes through it.
            Rows::Borrowed(a) => unsafe { a.as_slice() }.map_err(|e| type_error(format!("embeddings: {e}"))),
            Rows::Owned(v) => Ok(v),
        }
    }
}

fn shape_err(expected: &str, got: impl std::fmt::Display) -> PyErr {
    crate::errors::to_py(l2core::Error::shape("embeddings", expected, got))
}

/// Extract an `(n, d)` float matrix from a numpy array (float32 / float64, any order) or anything
/// `numpy.asarray` turns into one.
pub fn embeddings<'py>(x: &Bound<'py, PyAny>) -> PyResult<Embeddings<'py>> {
    if let Ok(a) = x.cast::<PyArray2<f32>>() {
        let [n, d] = [a.shape()[0], a.shape()[1]];
        // SAFETY: reading the flags of a live array, as numpy's PyArray_ISALIGNED macro does.
        let aligned = unsafe { (*a.as_array_ptr()).fields.flags } & numpy::npyffi::NPY_ARRAY_ALIGNED != 0;
        if a.is_c_contiguous() && aligned {
            return Ok(Embeddings { rows: Rows::Borrowed(a.clone()), n, d });
        }
        let v = a.readonly();
        return Ok(Embeddings { rows: Rows::Owned(v.as_array().iter().copied().collect()), n, d });
    }
    if let Ok(a) = x.cast::<PyArray2<f64>>() {
        let [n, d] = [a.shape()[0], a.shape()[1]];
        let v = a.readonly();
        return Ok(Embeddings { rows: Rows::Owned(v.as_array().iter().map(|&f| f as f32).collect()), n, d });
    }
    if let Ok(a) = x.cast::<PyUntypedArray>() {
        if a.ndim() != 2 {
            return Err(shape_err("a 2-D array (n, dims)", format!("shape {:?}", a.shape())));
        }
        return Err(type_error(format!("embeddings must be float32 or float64, got dtype {}", a.dtype().str()?)));
    }
    // Lists of lists and other array-likes: let numpy build the matrix, then take the fast path.
    let np = x.py().import("numpy")?;
    let arr = np.call_method1("asarray", (x, "float32"))?;
    if arr.cast::<PyArray2<f32>>().is_err() {
        let shape: Vec<usize> = arr.getattr("shape")?.extract()?;
        return Err(shape_err("a 2-D array (n, dims)", format!("shape {shape:?}")));
    }
    embeddings(&arr)
}

/// The `out=` array of `score_embeddings`: a 1-D float32 numpy array (its writability, layout and
/// length are checked by the caller). Anything else is a TypeError saying what was given.
pub fn out_scores<'py>(out: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray1<f32>>> {
    if let Ok(a) = out.cast::<PyArray1<f32>>() {
        return Ok(a.clone());
    }
    let what = match out.cast::<PyUntypedArray>() {
        Ok(a) => format!("a numpy array of dtype {} and shape {:?}", a.dtype().str()?, a.shape()),
        Err(_) => out.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into()),
    };
    Err(type_error(format!("out must be a 1-D float32 numpy array (numpy.empty(n, dtype=numpy.float32)), got {what}")))
}
