//! Validated training rows for Python: read from CSV files (or a DataFrame written to a temporary CSV,
//! so that it passes exactly the same validation), handed back as columns, or on to training and
//! evaluation without leaving Rust.

use crate::errors::IntoPy;
use l2core::data::{self, LoadOptions, Loaded, Record, Reject};
use l2core::Error;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::collections::HashMap;
use std::path::PathBuf;

/// The file name rows of a DataFrame carry in errors and rejects (their `line` is the row position).
pub const FRAME_NAME: &str = "<DataFrame>";

/// Validated rows with the rows that were not used and why (internal; the public face is
/// `l2core.read_csv`).
#[pyclass(name = "_Records", module = "l2core._l2core", frozen)]
pub struct PyRecords {
    pub(crate) loaded: Loaded,
}

/// Rewrite file/line of a DataFrame's temporary CSV into `<DataFrame>` / row position.
struct FrameMap {
    path: String,
    row_of_line: HashMap<u64, u64>,
}

impl FrameMap {
    fn fix(&self, file: &mut String, line: &mut u64) {
        if *file == self.path {
            *file = FRAME_NAME.to_string();
            if let Some(row) = self.row_of_line.get(line) {
                *line = *row;
            }
        }
    }

    fn fix_loaded(&self, loaded: &mut Loaded) {
        for r in &mut loaded.records {
            self.fix(&mut r.origin.file, &mut r.origin.line);
        }
        for r in &mut loaded.rejects {
            self.fix(&mut r.error.file, &mut r.error.line);
        }
    }

    fn fix_error(&self, e: Error) -> Error {
        match e {
            Error::InvalidRows { mut errors, total } => {
                for r in &mut errors {
                    self.fix(&mut r.file, &mut r.line);
                }
                Error::InvalidRows { errors, total }
            }
            other => other,
        }
    }
}

fn reject_dict<'py>(py: Python<'py>, r: &Reject) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("file", &r.error.file)?;
    d.set_item("line", r.error.line)?;
    d.set_item("field", &r.error.field)?;
    d.set_item("reason", &r.error.reason)?;
    d.set_item("text", &r.text)?;
    Ok(d)
}

#[pymethods]
impl PyRecords {
    /// Read and validate CSV files. `merge` de-duplicates across them (as training and `l2 eval` do);
    /// `frame_lines[i]`, when given, is the CSV line where DataFrame row `i` starts in the single file.
    #[staticmethod]
    #[pyo3(signature = (paths, skip_invalid = false, merge = false, frame_lines = None))]
    fn read(
        py: Python<'_>,
        paths: Vec<PathBuf>,
        skip_invalid: bool,
        merge: bool,
        frame_lines: Option<Vec<u64>>,
    ) -> PyResult<PyRecords> {
        let opts = LoadOptions::skipping_invalid(skip_invalid);
        let map = match (&frame_lines, paths.as_slice()) {
            (Some(lines), [p]) => Some(FrameMap {
                path: p.display().to_string(),
                row_of_line: lines.iter().enumerate().map(|(row, &line)| (line, row as u64)).collect(),
            }),
            (Some(_), _) => {
                return Err(crate::errors::to_py(Error::param("frame_lines", "given", "needs exactly one path")))
            }
            (None, _) => None,
        };
        let result = py.detach(|| match paths.as_slice() {
            [one] if !merge => data::read_csv(one, &opts),
            many => data::load_files(many, &opts),
        });
        let mut loaded = match (result, &map) {
            (Ok(l), _) => l,
            (Err(e), Some(m)) => return Err(crate::errors::to_py(m.fix_error(e))),
            (Err(e), None) => return Err(crate::errors::to_py(e)),
        };
        if let Some(m) = &map {
            m.fix_loaded(&mut loaded);
        }
        Ok(PyRecords { loaded })
    }

    fn __len__(&self) -> usize {
        self.loaded.records.len()
    }

    /// The rows as a dict of equal-length lists: text, label, family, category, severity, confidence,
    /// source, notes, group, file, line.
    fn columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let rows = &self.loaded.records;
        let d = PyDict::new(py);
        macro_rules! col {
            ($name:literal, $f:expr) => {
                d.set_item($name, PyList::new(py, rows.iter().map($f))?)?;
            };
        }
        col!("text", |r: &Record| r.text.as_str());
        col!("label", |r: &Record| r.label);
        col!("family", |r: &Record| r.family.as_str());
        col!("category", |r: &Record| r.category.as_str());
        col!("severity", |r: &Record| r.severity.as_str());
        col!("confidence", |r: &Record| r.confidence);
        col!("source", |r: &Record| r.source.as_str());
        col!("notes", |r: &Record| r.notes.as_str());
        col!("group", |r: &Record| r.group.as_deref());
        col!("file", |r: &Record| r.origin.file.as_str());
        col!("line", |r: &Record| r.origin.line);
        Ok(d)
    }

    /// Rows that were not used, each a dict with file, line, field, reason, text.
    fn rejects<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for r in &self.loaded.rejects {
            list.append(reject_dict(py, r)?)?;
        }
        Ok(list)
    }

    /// Write the rejected rows to `path` as CSV `file,line,field,reason,text`.
    fn write_rejects(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let rejects = &self.loaded.rejects;
        py.detach(|| data::write_rejects(&path, rejects)).py_err()
    }

    /// Merge / de-duplication counts as a dict.
    fn dedupe_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let json = serde_json::to_string(&self.loaded.dedupe).map_err(|e| Error::json("dedupe stats", e)).py_err()?;
        py.import("json")?.call_method1("loads", (json,))
    }
}
