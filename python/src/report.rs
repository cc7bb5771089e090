//! `l2core.Report`: an evaluation report.

use crate::errors::IntoPy;
use pyo3::exceptions::PyAttributeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// An evaluation report (metrics at the threshold, the PASS/FAIL criteria ...).
///
/// `str(report)` is the engine's human-readable table, `report.to_dict()` every figure as plain Python
/// values, and each top-level field is also an attribute (`report.n`, `report.threshold` ...).
#[pyclass(name = "Report", module = "l2core", frozen)]
pub struct PyReport {
    pub(crate) inner: l2core::eval::Report,
}

impl From<l2core::eval::Report> for PyReport {
    fn from(inner: l2core::eval::Report) -> Self {
        PyReport { inner }
    }
}

#[pymethods]
impl PyReport {
    /// Every figure of the report as a dict of plain Python values (the JSON form `l2 eval --json` prints).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let json = serde_json::to_string(&self.inner).map_err(|e| l2core::Error::json("report", e)).py_err()?;
        Ok(py.import("json")?.call_method1("loads", (json,))?.cast_into::<PyDict>()?)
    }

    /// The report as JSON text.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.inner).map_err(|e| l2core::Error::json("report", e)).py_err()
    }

    /// Whether every PASS/FAIL criterion passes.
    #[getter]
    fn passed(&self) -> bool {
        self.inner.passed()
    }

    fn __getattr__<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        let d = self.to_dict(py)?;
        match d.get_item(name)? {
            Some(v) => Ok(v),
            None => Err(PyAttributeError::new_err(format!("'Report' object has no attribute '{name}'"))),
        }
    }

    fn __dir__(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let mut names: Vec<String> = self.to_dict(py)?.keys().extract()?;
        names.extend(["to_dict", "to_json", "passed"].map(String::from));
        Ok(names)
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }

    fn __repr__(&self) -> String {
        format!("<l2core.Report n={} threshold={:.6}>\n{}", self.inner.n, self.inner.threshold, self.inner)
    }
}
