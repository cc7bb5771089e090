//! The exception hierarchy, created once per interpreter, and the one place engine errors become
//! Python exceptions.
//!
//! Every class derives from `l2core.L2Error`; most also derive from the built-in exception a Python
//! caller would catch for that situation (`ValueError` for bad input, `OSError` for files ...), so that
//! `except ValueError` keeps working. The message is always the engine's own.

use l2core::{Error, ErrorKind};
use pyo3::exceptions::{PyException, PyLookupError, PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};

pyo3::create_exception!(
    l2core,
    L2Error,
    PyException,
    "Base class of every error raised by l2core; the message is the engine's."
);

/// (name, extra built-in base, docstring) of each subclass, in the order they are created.
const SUBCLASSES: [(&str, Base, &str); 9] = [
    ("InvalidDataError", Base::Value, "Input data (CSV rows, texts, labels) is invalid. Also a ValueError."),
    ("InvalidParamError", Base::Value, "A setting is out of range or inconsistent. Also a ValueError."),
    ("ShapeError", Base::Value, "An array has the wrong shape or length. Also a ValueError."),
    (
        "ModelError",
        Base::Value,
        "A model file is corrupt, truncated, of an unknown format or does not fit. Also a ValueError.",
    ),
    ("IoError", Base::OS, "Reading or writing a file failed; errno and filename are set when known. Also an OSError."),
    ("EmbedderError", Base::Runtime, "An embedder could not be built or run. Also a RuntimeError."),
    ("TrainingError", Base::Runtime, "Training could not proceed or was cancelled. Also a RuntimeError."),
    ("CheckError", Base::None, "A parity check or release gate failed."),
    ("RegistryError", Base::Lookup, "The model registry is inconsistent or an entry is missing. Also a LookupError."),
];

#[derive(Clone, Copy)]
enum Base {
    None,
    Value,
    OS,
    Runtime,
    Lookup,
}

/// The created subclasses, indexed like [`SUBCLASSES`].
static TYPES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

fn create(py: Python<'_>) -> PyResult<Vec<Py<PyType>>> {
    let l2 = py.get_type::<L2Error>();
    let type_ = py.get_type::<PyType>();
    SUBCLASSES
        .iter()
        .map(|(name, base, doc)| {
            let bases = match base {
                Base::None => PyTuple::new(py, [l2.clone()])?,
                Base::Value => PyTuple::new(py, [l2.clone(), py.get_type::<PyValueError>()])?,
                Base::OS => PyTuple::new(py, [l2.clone(), py.get_type::<PyOSError>()])?,
                Base::Runtime => PyTuple::new(py, [l2.clone(), py.get_type::<PyRuntimeError>()])?,
                Base::Lookup => PyTuple::new(py, [l2.clone(), py.get_type::<PyLookupError>()])?,
            };
            let dict = PyDict::new(py);
            dict.set_item("__module__", "l2core")?;
            dict.set_item("__doc__", *doc)?;
            if let Base::OS = base {
                // OSError's own __str__ rebuilds "[Errno n] strerror: filename" once errno and filename are
                // set; keep the engine's message (which already names the file) instead.
                dict.set_item("__str__", py.eval(c"lambda self: str(self.args[0]) if self.args else ''", None, None)?)?;
            }
            Ok(type_.call1((*name, bases, dict))?.cast_into::<PyType>()?.unbind())
        })
        .collect()
}

fn types(py: Python<'_>) -> PyResult<&Vec<Py<PyType>>> {
    TYPES.get_or_try_init(py, || create(py))
}

/// Add `L2Error` and every subclass to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("L2Error", py.get_type::<L2Error>())?;
    for ((name, _, _), ty) in SUBCLASSES.iter().zip(types(py)?) {
        m.add(*name, ty.bind(py))?;
    }
    Ok(())
}

fn class_index(kind: ErrorKind) -> Option<usize> {
    let name = match kind {
        ErrorKind::InvalidData => "InvalidDataError",
        ErrorKind::InvalidParam => "InvalidParamError",
        ErrorKind::Shape => "ShapeError",
        ErrorKind::Model => "ModelError",
        ErrorKind::Io => "IoError",
        ErrorKind::Embedder => "EmbedderError",
        ErrorKind::Training => "TrainingError",
        ErrorKind::Check => "CheckError",
        ErrorKind::Registry => "RegistryError",
        _ => return None,
    };
    SUBCLASSES.iter().position(|(n, _, _)| *n == name)
}

/// The Python exception for an engine error: the class chosen by [`Error::kind`], the engine's message,
/// and structured details where the error has them (`errno`/`filename` for I/O, `row_errors`/`total`
/// for invalid rows).
pub fn to_py(e: Error) -> PyErr {
    Python::attach(|py| build(py, &e).unwrap_or_else(|err| err))
}

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let ty = match class_index(e.kind()) {
        Some(i) => types(py)?[i].bind(py).clone(),
        None => py.get_type::<L2Error>(),
    };
    let exc = ty.call1((e.to_string(),))?;
    match e {
        Error::Io { path, source, .. } => {
            if let Some(code) = source.raw_os_error() {
                exc.setattr("errno", code)?;
            }
            exc.setattr("strerror", source.to_string())?;
            exc.setattr("filename", path.display().to_string())?;
        }
        Error::InvalidRows { errors, total } => {
            let rows = PyList::empty(py);
            for r in errors {
                let d = PyDict::new(py);
                d.set_item("file", &r.file)?;
                d.set_item("line", r.line)?;
                d.set_item("field", &r.field)?;
                d.set_item("reason", &r.reason)?;
                rows.append(d)?;
            }
            exc.setattr("row_errors", rows)?;
            exc.setattr("total", *total)?;
        }
        _ => {}
    }
    Ok(PyErr::from_value(exc))
}

/// Extension trait: `.py_err()` on engine results.
pub trait IntoPy<T> {
    /// Convert the engine error into its Python exception.
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for l2core::Result<T> {
    #[inline]
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// A `TypeError` with `msg`.
pub fn type_error(msg: impl Into<String>) -> PyErr {
    PyTypeError::new_err(msg.into())
}
