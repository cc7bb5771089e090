//! `l2core._l2core`: the native half of the `l2core` Python package. The Python package
//! (`python/l2core`) re-exports these names and adds the pandas / scikit-learn layers on top.
//!
//! Conventions: inputs are extracted while holding the GIL, heavy work runs in `py.detach` (GIL
//! released), and every engine error becomes a Python exception in one place (`errors::to_py`).

mod arrays;
mod arrow;
mod data;
mod embed;
mod errors;
mod fp;
mod model;
mod report;
mod train;

use pyo3::prelude::*;

/// Run the `l2` command line with `argv` (including the program name); returns the exit code.
///
/// This is what the wheel's `l2` console command calls, so it is the very same CLI as the Rust binary.
#[cfg(feature = "cli")]
#[pyfunction]
fn run_cli(py: Python<'_>, argv: Vec<String>) -> i32 {
    py.detach(|| l2core::cli::run(argv))
}

/// The native module.
#[pymodule]
fn _l2core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", l2core::VERSION)?;
    errors::register(m)?;
    m.add_class::<model::PyModel>()?;
    m.add_class::<report::PyReport>()?;
    m.add_class::<data::PyRecords>()?;
    m.add_class::<train::PyNetwork>()?;
    m.add_function(wrap_pyfunction!(embed::embed, m)?)?;
    m.add_function(wrap_pyfunction!(train::_train, m)?)?;
    m.add_function(wrap_pyfunction!(train::_evaluate, m)?)?;
    m.add_function(wrap_pyfunction!(train::_fit_mlp, m)?)?;
    m.add_function(wrap_pyfunction!(train::train_config_defaults, m)?)?;
    m.add_function(wrap_pyfunction!(train::_retrain, m)?)?;
    m.add_function(wrap_pyfunction!(fp::_fp_report, m)?)?;
    #[cfg(feature = "cli")]
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    m.add("FRAME_NAME", data::FRAME_NAME)?;
    Ok(())
}
