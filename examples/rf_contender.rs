//! A benchmark contender, not part of the library: NeMo JailbreakDetect's design (sentence embeddings +
//! a random forest) with smartcore's `RandomForestClassifier` (a dev-dependency, so l2core does not ship
//! it). scripts/bench/quality.py runs it on the same split files as every other contender.
//!
//! ```text
//! rf_contender train --train T.csv --val V.csv --test X.csv [--test Y.csv ...] --out-dir DIR
//!     [--embedder onnx|hash] [--onnx-package P] [--tokenizer-package Q] [--onnx-model M] [--tokenizer J]
//!     [--embed-cache DIR] [--trees 100] [--max-depth D] [--min-leaf 1] [--seed 42]
//! rf_contender serve DIR [--prompts 1000] [--chars 200]
//! rf_contender prompts [--prompts 1000] [--chars 200]
//! ```
//!
//! `train` embeds the rows (through the embedding cache when given, so every fold of a benchmark embeds
//! a text once), fits the forest, and writes `DIR/val.scores.csv` and `DIR/test.scores.csv`
//! (`file,line,label,score`: the score is the forest's vote share for "malicious"), `DIR/forest.json`
//! (the embedder spec and the trees, smartcore's serde form) and `DIR/summary.json` (timings).
//! smartcore 0.7's forest answers only its majority vote, so the forest is grown as `--trees` one-tree
//! forests with seeds `seed, seed+1, ...` (each on its own bootstrap sample with its own feature
//! draws: the random-forest algorithm itself), and the vote share is the mean of their votes.
//!
//! `serve` loads `forest.json` and its embedder, scores synthetic prompts one at a time on one thread
//! (`l2core::testing::synthetic_prompts`, as `l2 bench` does) and prints JSON with the latency
//! percentiles and the process's VmRSS / VmHWM. `prompts` prints those prompts as a JSON list, so that
//! contenders outside Rust are timed on the same texts.

use l2core::data::{load_files, LoadOptions, Record};
use l2core::embed::{Embedder, EmbedderSpec, EmbeddingCache, HashSpec, OnnxFiles, OnnxOptions, OnnxSpec};
use l2core::{Error, Result};
use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_classifier::{RandomForestClassifier, RandomForestClassifierParameters};
use smartcore::linalg::basic::matrix::DenseMatrix;
use std::path::{Path, PathBuf};
use std::time::Instant;

type Forest = RandomForestClassifier<f32, u32, DenseMatrix<f32>, Vec<u32>>;

#[derive(Serialize, Deserialize)]
struct Stored {
    embedder: EmbedderSpec,
    trees: Vec<Forest>,
}

#[derive(Default)]
struct Args {
    cmd: String,
    train: Vec<PathBuf>,
    val: Vec<PathBuf>,
    test: Vec<PathBuf>,
    out_dir: Option<PathBuf>,
    embedder: String,
    onnx_package: Option<String>,
    tokenizer_package: Option<String>,
    onnx_model: Option<PathBuf>,
    tokenizer: Option<PathBuf>,
    embed_cache: Option<PathBuf>,
    trees: u16,
    max_depth: Option<u16>,
    min_leaf: usize,
    seed: u64,
    prompts: usize,
    chars: usize,
}

fn usage(msg: impl std::fmt::Display) -> Error {
    Error::param("rf_contender", msg.to_string(), "see the usage in examples/rf_contender.rs")
}

fn parse() -> Result<Args> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        cmd: it.next().unwrap_or_default(),
        embedder: "onnx".into(),
        trees: 100,
        min_leaf: 1,
        seed: 42,
        prompts: 1000,
        chars: 200,
        ..Args::default()
    };
    while let Some(flag) = it.next() {
        if !flag.starts_with("--") {
            a.out_dir = Some(flag.into());
            continue;
        }
        let v = it.next().ok_or_else(|| usage(format!("{flag} needs a value")))?;
        let num = |v: &str| v.parse::<u64>().map_err(|_| usage(format!("{flag} {v}: not a number")));
        match flag.as_str() {
            "--train" => a.train.push(v.into()),
            "--val" => a.val.push(v.into()),
            "--test" => a.test.push(v.into()),
            "--out-dir" => a.out_dir = Some(v.into()),
            "--embedder" => a.embedder = v,
            "--onnx-package" => a.onnx_package = Some(v),
            "--tokenizer-package" => a.tokenizer_package = Some(v),
            "--onnx-model" => a.onnx_model = Some(v.into()),
            "--tokenizer" => a.tokenizer = Some(v.into()),
            "--embed-cache" => a.embed_cache = Some(v.into()),
            "--trees" => a.trees = u16::try_from(num(&v)?).map_err(|_| usage("--trees: at most 65535"))?,
            "--max-depth" => a.max_depth = Some(u16::try_from(num(&v)?).map_err(|_| usage("--max-depth too big"))?),
            "--min-leaf" => a.min_leaf = num(&v)? as usize,
            "--seed" => a.seed = num(&v)?,
            "--prompts" => a.prompts = num(&v)? as usize,
            "--chars" => a.chars = num(&v)? as usize,
            other => return Err(usage(format!("unknown flag {other}"))),
        }
    }
    Ok(a)
}

fn embedder_spec(a: &Args) -> Result<EmbedderSpec> {
    match a.embedder.as_str() {
        "hash" => Ok(EmbedderSpec::Hash(HashSpec::default())),
        "onnx" => {
            let files = OnnxFiles::locate(
                a.onnx_model.as_deref(),
                a.onnx_package.as_deref(),
                a.tokenizer.as_deref(),
                a.tokenizer_package.as_deref(),
            )?;
            Ok(EmbedderSpec::Onnx(OnnxSpec::from_located(files, &OnnxOptions::default())?))
        }
        other => Err(usage(format!("--embedder {other}: expected onnx or hash"))),
    }
}

fn build(spec: &EmbedderSpec, cache: Option<&Path>) -> Result<Box<dyn Embedder>> {
    let inner = spec.build()?;
    Ok(match cache {
        Some(dir) => Box::new(EmbeddingCache::new(dir)?.wrap(inner)?),
        None => inner,
    })
}

fn load(paths: &[PathBuf]) -> Result<Vec<Record>> {
    Ok(load_files(paths, &LoadOptions::default())?.records)
}

fn embed(e: &dyn Embedder, texts: &[&str]) -> Result<DenseMatrix<f32>> {
    let v = e.embed(texts)?;
    DenseMatrix::new(texts.len(), e.dims(), v, false).map_err(|f| Error::Training(format!("matrix: {f}")))
}

fn texts(rows: &[Record]) -> Vec<&str> {
    rows.iter().map(|r| r.text.as_str()).collect()
}

fn vote_share(trees: &[Forest], x: &DenseMatrix<f32>, n: usize) -> Result<Vec<f32>> {
    let mut votes = vec![0u32; n];
    for t in trees {
        let y = t.predict(x).map_err(|f| Error::Training(format!("random forest predict: {f}")))?;
        votes.iter_mut().zip(&y).for_each(|(v, &p)| *v += p);
    }
    Ok(votes.iter().map(|&v| v as f32 / trees.len().max(1) as f32).collect())
}

fn write_scores(path: &Path, rows: &[Record], scores: &[f32]) -> Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(|e| Error::Training(format!("{}: {e}", path.display())))?;
    let io = |e: csv::Error| Error::Training(format!("writing {}: {e}", path.display()));
    w.write_record(["file", "line", "label", "score"]).map_err(io)?;
    for (r, s) in rows.iter().zip(scores) {
        w.write_record([r.origin.file.clone(), r.origin.line.to_string(), r.label.to_string(), s.to_string()])
            .map_err(io)?;
    }
    w.flush().map_err(|e| Error::io("writing", path, e))
}

fn write_json(path: &Path, v: &impl Serialize) -> Result<()> {
    let s = serde_json::to_string(v).map_err(|e| Error::json("rf_contender output", e))?;
    std::fs::write(path, s).map_err(|e| Error::io("writing", path, e))
}

fn train(a: &Args) -> Result<()> {
    let out = a.out_dir.as_ref().ok_or_else(|| usage("--out-dir is required"))?;
    if a.train.is_empty() || a.val.is_empty() || a.test.is_empty() {
        return Err(usage("--train, --val and --test are required"));
    }
    std::fs::create_dir_all(out).map_err(|e| Error::io("creating directory", out, e))?;
    let spec = embedder_spec(a)?;
    let embedder = build(&spec, a.embed_cache.as_deref())?;
    let started = Instant::now();
    let (train_rows, val_rows, test_rows) = (load(&a.train)?, load(&a.val)?, load(&a.test)?);
    let x = embed(embedder.as_ref(), &texts(&train_rows))?;
    let embed_s = started.elapsed().as_secs_f64();
    let y: Vec<u32> = train_rows.iter().map(|r| u32::from(r.label)).collect();
    let fit_started = Instant::now();
    let mut trees = Vec::with_capacity(a.trees.into());
    for i in 0..u64::from(a.trees) {
        let mut p = RandomForestClassifierParameters::default()
            .with_n_trees(1)
            .with_min_samples_leaf(a.min_leaf)
            .with_seed(a.seed.wrapping_add(i));
        if let Some(d) = a.max_depth {
            p = p.with_max_depth(d);
        }
        trees.push(Forest::fit(&x, &y, p).map_err(|f| Error::Training(format!("random forest fit: {f}")))?);
    }
    let fit_s = fit_started.elapsed().as_secs_f64();
    drop(x);
    let score_started = Instant::now();
    for (name, rows) in [("val", &val_rows), ("test", &test_rows)] {
        let xs = embed(embedder.as_ref(), &texts(rows))?;
        let scores = vote_share(&trees, &xs, rows.len())?;
        write_scores(&out.join(format!("{name}.scores.csv")), rows, &scores)?;
    }
    let score_s = score_started.elapsed().as_secs_f64();
    let stored = Stored { embedder: spec, trees };
    let forest = out.join("forest.json");
    write_json(&forest, &stored)?;
    let summary = serde_json::json!({
        "train_rows": train_rows.len(), "val_rows": val_rows.len(), "test_rows": test_rows.len(),
        "trees": a.trees, "max_depth": a.max_depth, "min_samples_leaf": a.min_leaf, "seed": a.seed,
        "embedder": a.embedder, "embed_train_seconds": embed_s, "fit_seconds": fit_s,
        "train_seconds": embed_s + fit_s, "score_seconds": score_s,
        "forest_bytes": std::fs::metadata(&forest).map(|m| m.len()).unwrap_or(0),
    });
    write_json(&out.join("summary.json"), &summary)?;
    println!("{summary}");
    Ok(())
}

fn status(key: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    line[key.len()..].trim().trim_end_matches("kB").trim().parse().ok()
}

fn serve(a: &Args) -> Result<()> {
    let dir = a.out_dir.as_ref().ok_or_else(|| usage("serve DIR"))?;
    let path = dir.join("forest.json");
    let bytes = std::fs::read(&path).map_err(|e| Error::io("reading", &path, e))?;
    let stored: Stored = serde_json::from_slice(&bytes).map_err(|e| Error::json("forest.json", e))?;
    drop(bytes);
    let embedder = stored.embedder.build()?;
    let prompts = l2core::testing::synthetic_prompts(a.prompts.max(1), a.chars, 3);
    let mut us = Vec::with_capacity(prompts.len());
    let mut flagged = 0.0f32;
    for p in &prompts {
        let t = Instant::now();
        let x = embed(embedder.as_ref(), &[p.as_str()])?;
        flagged += vote_share(&stored.trees, &x, 1)?[0];
        us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    us.sort_by(f64::total_cmp);
    let pct = |q: f64| us[((us.len() - 1) as f64 * q).round() as usize];
    let report = serde_json::json!({
        "prompts": prompts.len(), "chars": a.chars, "threads": 1,
        "p50_us": pct(0.5), "p95_us": pct(0.95), "mean_us": us.iter().sum::<f64>() / us.len() as f64,
        "mean_vote_share": flagged / prompts.len() as f32,
        "vm_rss_kb": status("VmRSS:"), "vm_hwm_kb": status("VmHWM:"),
    });
    println!("{report}");
    Ok(())
}

fn main() {
    let result = parse().and_then(|a| match a.cmd.as_str() {
        "train" => train(&a),
        "serve" => serve(&a),
        "prompts" => {
            let p = l2core::testing::synthetic_prompts(a.prompts.max(1), a.chars, 3);
            serde_json::to_string(&p).map(|s| println!("{s}")).map_err(|e| Error::json("prompts", e))
        }
        other => Err(usage(format!("command `{other}`: expected train, serve or prompts"))),
    });
    if let Err(e) = result {
        eprintln!("error: {e}");
        std::process::exit(l2core::cli::report_error(&e));
    }
}
