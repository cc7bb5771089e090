//! The process-wide ONNX Runtime (feature `onnx`): finding the shared library, the one
//! [`ort::environment::Environment`], and [`OnnxSession`], a thread-safe session wrapper shared by the
//! ONNX embedder, export validation and `l2 bench`. It sits at the bottom of the layers (it imports
//! only [`crate::error`]) so that every one of them can use it.
//!
//! The library is loaded at run time (ort's `load-dynamic`), from, in order:
//! 1. `ORT_DYLIB_PATH` (must name an existing file; an error otherwise, never a fallback);
//! 2. the active virtualenv (`VIRTUAL_ENV`), then a `.venv` in the current directory or an ancestor:
//!    `lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so*`;
//! 3. the `onnxruntime` package of `python3` on `PATH`.
//!
//! When none has it, the error says how to get it (`pip install onnxruntime`, or set `ORT_DYLIB_PATH`).
//!
//! [`python_interpreters`] lists the Python interpreters in the same order (the active virtualenv's,
//! a `.venv` of the current directory or an ancestor, then `python3` and `python` on `PATH`); the ONNX
//! embedder asks them where an installed package's files are.

use crate::error::{Error, Result};
use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Environment variable naming the ONNX Runtime shared library.
pub const DYLIB_ENV: &str = "ORT_DYLIB_PATH";

const HOW_TO_GET: &str = "install it with `pip install onnxruntime` (the wheel ships \
onnxruntime/capi/libonnxruntime.so.*) and/or set ORT_DYLIB_PATH to the library's absolute path";

fn is_ort_library(name: &str) -> bool {
    (name.starts_with("libonnxruntime.so") || (name.starts_with("libonnxruntime") && name.ends_with(".dylib")))
        && !name.contains("providers")
        || name == "onnxruntime.dll"
}

fn find_in_capi(capi: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(capi)
        .ok()?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_str().is_some_and(is_ort_library))
        .map(|e| e.path())
        .collect();
    // The versioned file (libonnxruntime.so.1.32.0) sorts last; prefer it over a dangling symlink.
    found.sort();
    found.into_iter().rev().find(|p| p.is_file())
}

fn find_in_venv(venv: &Path) -> Option<PathBuf> {
    let lib = venv.join("lib");
    let mut pythons: Vec<PathBuf> = std::fs::read_dir(&lib)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("python")))
        .collect();
    pythons.sort();
    pythons.push(venv.join("Lib")); // Windows layout
    pythons.iter().find_map(|py| find_in_capi(&py.join("site-packages").join("onnxruntime").join("capi")))
}

fn venv_python(venv: &Path) -> Option<PathBuf> {
    [venv.join("bin").join("python"), venv.join("Scripts").join("python.exe")].into_iter().find(|p| p.is_file())
}

/// The Python interpreters to ask about installed packages, in order: the active virtualenv's
/// (`VIRTUAL_ENV`), each `.venv` of the current directory and its ancestors, then `python3` and
/// `python` (looked up on `PATH` when run). Only interpreters whose file exists are listed, except the
/// two bare names.
pub fn python_interpreters() -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Some(p) = std::env::var_os("VIRTUAL_ENV").and_then(|v| venv_python(Path::new(&v))) {
        found.push(p);
    }
    if let Ok(cwd) = std::env::current_dir() {
        found.extend(cwd.ancestors().filter_map(|dir| venv_python(&dir.join(".venv"))));
    }
    found.push(PathBuf::from("python3"));
    found.push(PathBuf::from("python"));
    found.dedup();
    found
}

fn find_with_python() -> Option<PathBuf> {
    let script = "import importlib.util, os\ns = importlib.util.find_spec('onnxruntime')\n\
                  print(os.path.dirname(s.origin) if s and s.origin else '')";
    for py in ["python3", "python"] {
        if let Ok(out) = std::process::Command::new(py).args(["-c", script]).output() {
            let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && !dir.is_empty() {
                if let Some(p) = find_in_capi(&Path::new(&dir).join("capi")) {
                    return Some(p);
                }
            }
        }
    }
    None
}

/// The ONNX Runtime shared library this process would load (see the module docs for the search order).
pub fn library_path() -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(DYLIB_ENV) {
        let p = PathBuf::from(p);
        if !p.is_file() {
            return Err(Error::Embedder(format!(
                "ONNX Runtime library: {DYLIB_ENV}=`{}` is not a file; {HOW_TO_GET}",
                p.display()
            )));
        }
        return Ok(std::path::absolute(&p).unwrap_or(p));
    }
    let mut looked = Vec::new();
    if let Some(v) = std::env::var_os("VIRTUAL_ENV") {
        looked.push(PathBuf::from(&v));
        if let Some(p) = find_in_venv(Path::new(&v)) {
            return Ok(p);
        }
    }
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            let venv = dir.join(".venv");
            if venv.is_dir() {
                looked.push(venv.clone());
                if let Some(p) = find_in_venv(&venv) {
                    return Ok(p);
                }
            }
        }
    }
    if let Some(p) = find_with_python() {
        return Ok(p);
    }
    let looked: Vec<String> = looked.iter().map(|p| p.display().to_string()).collect();
    Err(Error::Embedder(format!(
        "ONNX Runtime library not found ({DYLIB_ENV} is unset; looked in {} and python3's onnxruntime package); \
         {HOW_TO_GET}",
        if looked.is_empty() { "no virtualenv".to_string() } else { looked.join(", ") }
    )))
}

static ENVIRONMENT: OnceLock<std::result::Result<Environment, String>> = OnceLock::new();

/// The process's one ONNX Runtime environment, created on first use from [`library_path`]. A failure is
/// remembered: ort allows a single environment per process, so it is not retried.
pub fn environment() -> Result<&'static Environment> {
    let env = ENVIRONMENT.get_or_init(|| {
        let path = library_path().map_err(|e| e.to_string())?;
        let builder = ort::init_from(&path).map_err(|e| {
            format!("embedder: loading ONNX Runtime from `{}` failed: {e}; {HOW_TO_GET}", path.display())
        })?;
        builder
            .with_name("l2core")
            .build()
            .map_err(|e| format!("embedder: creating the ONNX Runtime environment failed: {e}"))
    });
    env.as_ref().map_err(|e| Error::Embedder(e.strip_prefix("embedder: ").unwrap_or(e).to_string()))
}

/// How a session runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOptions {
    /// Threads inside one operator (default 1: the latency target is single-threaded, and hosts
    /// parallelise across requests).
    pub intra_threads: usize,
    /// Apply all graph optimisations (default true).
    pub optimize: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions { intra_threads: 1, optimize: true }
    }
}

/// A loaded ONNX graph. `Send + Sync`: runs are serialised through a mutex because ort's
/// `Session::run` takes `&mut self`.
#[derive(Debug)]
pub struct OnnxSession {
    session: Mutex<Session>,
    name: String,
    inputs: Vec<String>,
    outputs: Vec<String>,
}

impl OnnxSession {
    /// Load a graph from a file; `Error::Io` when the file is missing, `Error::Model` when ONNX Runtime
    /// rejects it.
    pub fn from_file(path: &Path, opts: &SessionOptions) -> Result<OnnxSession> {
        let bytes = std::fs::read(path).map_err(|e| Error::io("reading ONNX model", path, e))?;
        Self::from_memory(&bytes, &path.display().to_string(), opts)
    }

    /// Load a graph from bytes; `name` names it in errors.
    pub fn from_memory(bytes: &[u8], name: &str, opts: &SessionOptions) -> Result<OnnxSession> {
        let env = environment()?;
        let bad = |what: &str, e: &dyn std::fmt::Display| Error::model(name, format!("ONNX Runtime {what}: {e}"));
        let level = if opts.optimize { GraphOptimizationLevel::All } else { GraphOptimizationLevel::Disable };
        let session = Session::builder(env)
            .map_err(|e| bad("session builder", &e))?
            .with_intra_threads(opts.intra_threads.max(1))
            .map_err(|e| bad("intra threads", &e))?
            .with_inter_threads(1)
            .map_err(|e| bad("inter threads", &e))?
            .with_optimization_level(level)
            .map_err(|e| bad("optimization level", &e))?
            .commit_from_memory(bytes)
            .map_err(|e| bad("could not load the graph", &e))?;
        let inputs = session.inputs().iter().map(|o| o.name().to_string()).collect();
        let outputs = session.outputs().iter().map(|o| o.name().to_string()).collect();
        Ok(OnnxSession { session: Mutex::new(session), name: name.to_string(), inputs, outputs })
    }

    /// Where the graph came from (a path or a label).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Graph input names, in order.
    pub fn input_names(&self) -> &[String] {
        &self.inputs
    }

    /// Graph output names, in order.
    pub fn output_names(&self) -> &[String] {
        &self.outputs
    }

    /// Run `f` with exclusive access to the session.
    pub fn with_session<R>(&self, f: impl FnOnce(&mut Session) -> Result<R>) -> Result<R> {
        // A panic inside a previous run cannot leave the session half-updated on our side, so a
        // poisoned lock is still usable.
        let mut guard = self.session.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Run a graph with two `[rows, cols]` inputs, int64 `index` then f32 `value` (the wide-and-deep
    /// graph's padded sparse rows), and return its first output as f32 values and shape.
    pub fn run_index_value(
        &self,
        (index, value): (&[i64], &[f32]),
        rows: usize,
        cols: usize,
    ) -> Result<(Vec<f32>, Vec<i64>)> {
        let mut all = self.run_index_value_all((index, value), rows, cols)?;
        if all.is_empty() {
            return Err(Error::model(&self.name, "the graph has no outputs"));
        }
        Ok(all.swap_remove(0))
    }

    /// [`OnnxSession::run_index_value`] returning every output (as f32 values and shape), in order.
    pub fn run_index_value_all(
        &self,
        (index, value): (&[i64], &[f32]),
        rows: usize,
        cols: usize,
    ) -> Result<Vec<(Vec<f32>, Vec<i64>)>> {
        if index.len() != rows * cols || value.len() != rows * cols {
            return Err(Error::shape(
                "ONNX inputs",
                format!("{rows} x {cols}"),
                format!("{} and {}", index.len(), value.len()),
            ));
        }
        let [i_name, v_name] = self.inputs.as_slice() else {
            return Err(Error::model(&self.name, format!("expected two graph inputs, found {:?}", self.inputs)));
        };
        let (i_name, v_name, name) = (i_name.clone(), v_name.clone(), self.name.clone());
        self.with_session(|s| {
            let bad = |what: &str, e: &dyn std::fmt::Display| Error::model(&name, format!("{what}: {e}"));
            let i =
                ort::value::TensorRef::from_array_view(([rows, cols], index)).map_err(|e| bad("index tensor", &e))?;
            let v =
                ort::value::TensorRef::from_array_view(([rows, cols], value)).map_err(|e| bad("value tensor", &e))?;
            let out = s.run(ort::inputs![i_name.as_str() => i, v_name.as_str() => v]).map_err(|e| bad("run", &e))?;
            out.iter()
                .map(|(_, o)| {
                    let (shape, data) =
                        o.try_extract_tensor::<f32>().map_err(|e| bad("output is not a float tensor", &e))?;
                    Ok((data.to_vec(), shape.iter().copied().collect()))
                })
                .collect()
        })
    }

    /// Run a graph with one f32 input `[rows, cols]` and return its first output as f32 values and shape.
    pub fn run_f32(&self, input: &[f32], rows: usize, cols: usize) -> Result<(Vec<f32>, Vec<i64>)> {
        if input.len() != rows * cols {
            return Err(Error::shape("ONNX input", format!("{rows} x {cols}"), input.len()));
        }
        let in_name = self.inputs.first().ok_or_else(|| Error::model(&self.name, "the graph has no inputs"))?.clone();
        let name = self.name.clone();
        self.with_session(|s| {
            let t = ort::value::TensorRef::from_array_view(([rows, cols], input))
                .map_err(|e| Error::model(&name, format!("input tensor: {e}")))?;
            let out =
                s.run(ort::inputs![in_name.as_str() => t]).map_err(|e| Error::model(&name, format!("run: {e}")))?;
            let (shape, data) = out[0]
                .try_extract_tensor::<f32>()
                .map_err(|e| Error::model(&name, format!("output is not a float tensor: {e}")))?;
            Ok((data.to_vec(), shape.iter().copied().collect()))
        })
    }
}
