//! `l2 bench`: latency and throughput of the embedder alone, the MLP alone and the whole text-to-decision
//! path, per precision, single thread and all threads; with the `onnx` feature, the same weights through
//! ONNX Runtime in the same run, with the ratios.
//!
//! Method. Inputs are deterministic synthetic prompts of `prompt_chars` characters (default 200),
//! or the user's own ([`BenchOptions::prompts`]), and their embeddings. Latency is batch 1: every
//! call timed on its own after a warm-up, reported as p50/p95/p99. Throughput at batch `b` with `t`
//! threads: the batch's rows are split into `t` contiguous shares (`std::thread::scope`), each
//! thread scores its share over and over until `min_seconds` have passed, and throughput is rows
//! scored / wall time; threads start together and are timed by the slowest. ONNX Runtime is
//! measured the same way, with one session per thread and one intra-op thread per session.

use super::measure::{self, cpu_name, Throughput};
use super::report::{compute_ratios, BenchReport, HeadsCost, Stage, StageResult, ViewCounts};
use crate::error::{Error, Result};
use crate::eval::Latency;
use crate::infer::{Kernel, Scorer};
use crate::model::quantize::quantize;
use crate::nn::Precision;
use crate::testing::synthetic_prompts;
use crate::Model;

/// What to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchOptions {
    /// Batch sizes for throughput (default 32, 256, 4096).
    pub batches: Vec<usize>,
    /// Thread counts (default 1 and every available thread).
    pub threads: Vec<usize>,
    /// Timed batch-1 calls per latency figure (default 20000).
    pub latency_samples: usize,
    /// Minimum wall time per throughput figure, seconds (default 0.3).
    pub min_seconds: f64,
    /// Prompt length in characters (default 200).
    pub prompt_chars: usize,
    /// Precisions (default: f32, f16 and int8 for an f32 model, else the model's own).
    pub precisions: Option<Vec<Precision>>,
    /// Compare with ONNX Runtime (needs the `onnx` feature and the runtime library; default true).
    pub ort: bool,
    /// Seed of the synthetic prompts (default 7).
    pub seed: u64,
    /// Time these prompts instead of synthetic ones (`None`: synthetic), with what they are for the
    /// report (see [`file_prompts`]).
    pub prompts: Option<(Vec<String>, String)>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        let all = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut threads = vec![1];
        if all > 1 {
            threads.push(all);
        }
        BenchOptions {
            batches: vec![32, 256, 4096],
            threads,
            latency_samples: 20_000,
            min_seconds: 0.3,
            prompt_chars: 200,
            precisions: None,
            ort: true,
            seed: 7,
            prompts: None,
        }
    }
}

impl BenchOptions {
    /// Validate every setting; the error names it.
    pub fn check(&self) -> Result<()> {
        if self.batches.is_empty() || self.batches.contains(&0) {
            return Err(Error::param("batch", format!("{:?}", self.batches), "give at least one batch size, all >= 1"));
        }
        if self.threads.is_empty() || self.threads.contains(&0) {
            return Err(Error::param(
                "threads",
                format!("{:?}", self.threads),
                "give at least one thread count, all >= 1",
            ));
        }
        if self.latency_samples == 0 {
            return Err(Error::param("latency-samples", 0, "must be at least 1"));
        }
        if !(self.min_seconds.is_finite() && self.min_seconds > 0.0) {
            return Err(Error::param("min-seconds", self.min_seconds, "must be a positive number"));
        }
        if self.prompt_chars == 0 {
            return Err(Error::param("prompt-chars", 0, "must be at least 1"));
        }
        if self.prompts.as_ref().is_some_and(|(p, _)| p.is_empty()) {
            return Err(Error::param("prompts", 0, "give at least one prompt"));
        }
        Ok(())
    }
}

/// Inputs shared by every measurement: the prompts and their embeddings.
pub(super) struct Inputs<'a> {
    pub(super) texts: Vec<&'a str>,
    pub(super) x: Vec<f32>,
    pub(super) dims: usize,
}

/// The prompts to time: the user's, or as many synthetic ones as the largest batch (256 to 4096).
fn prompt_set(opts: &BenchOptions) -> Vec<String> {
    match &opts.prompts {
        Some((p, _)) => p.clone(),
        None => {
            let n = opts.batches.iter().copied().max().unwrap_or(1).clamp(256, 4096);
            synthetic_prompts(n, opts.prompt_chars, opts.seed)
        }
    }
}

/// What the timed prompts are, for the report.
fn prompt_source(opts: &BenchOptions) -> String {
    match &opts.prompts {
        Some((_, what)) => what.clone(),
        None => format!("synthetic (seed {})", opts.seed),
    }
}

/// Prompts from `texts` (of a file named `file`) to time at `chars` characters: every text at least
/// that long, cut to exactly that many, so the figures stay per `chars`-character prompt; shorter texts
/// are not used, and the description says how many. An error when none is long enough.
pub fn file_prompts(texts: &[&str], chars: usize, file: &str) -> Result<(Vec<String>, String)> {
    let prompts: Vec<String> =
        texts.iter().filter(|t| t.chars().count() >= chars).map(|t| t.chars().take(chars).collect()).collect();
    if prompts.is_empty() {
        return Err(Error::InvalidData(format!(
            "{file}: none of its {} texts has {chars} or more characters (--prompt-chars)",
            texts.len()
        )));
    }
    let what = format!(
        "{file}: {} of its {} texts, cut to {chars} characters ({} shorter ones not used)",
        prompts.len(),
        texts.len(),
        texts.len() - prompts.len()
    );
    Ok((prompts, what))
}

fn bench_scorer(scorer: &Scorer, inp: &Inputs, opts: &BenchOptions) -> Result<(Latency, Vec<Throughput>)> {
    let d = inp.dims;
    let n = inp.texts.len();
    let lat = measure::latency(opts.latency_samples, |i| {
        let r = i % n;
        scorer.score_one(&inp.x[r * d..(r + 1) * d]).map(drop)
    })?;
    let mut tp = Vec::new();
    for &t in &opts.threads {
        for &b in &opts.batches {
            let outs: Vec<std::sync::Mutex<Vec<f32>>> = (0..t).map(|_| std::sync::Mutex::new(vec![0f32; b])).collect();
            tp.push(measure::throughput(b, t, opts.min_seconds, |th, first, rows| {
                let mut out = outs[th].lock().unwrap_or_else(|p| p.into_inner());
                let first = first % n;
                let rows_avail = rows.min(n - first);
                scorer.score_into(&inp.x[first * d..(first + rows_avail) * d], &mut out[..rows_avail])?;
                // Batches larger than the prompt set wrap around (still `rows` rows of work).
                let mut left = rows - rows_avail;
                while left > 0 {
                    let k = left.min(n);
                    scorer.score_into(&inp.x[..k * d], &mut out[..k])?;
                    left -= k;
                }
                Ok(())
            })?);
        }
    }
    Ok((lat, tp))
}

/// Run the benchmark on `model` (an f32 model is quantized to f16 and int8 in memory).
pub fn run(model: &Model, opts: &BenchOptions) -> Result<BenchReport> {
    opts.check()?;
    if model.featurizer().is_some() {
        return run_sparse(model, opts);
    }
    let precisions = match &opts.precisions {
        Some(p) => p.clone(),
        None if model.precision() == Precision::F32 => vec![Precision::F32, Precision::F16, Precision::Int8],
        None => vec![model.precision()],
    };
    let mut models = Vec::new();
    for &p in &precisions {
        if p == model.precision() {
            models.push(None);
        } else {
            models.push(Some(quantize(model, p)?));
        }
    }
    let prompts = prompt_set(opts);
    let n = prompts.len();
    let texts: Vec<&str> = prompts.iter().map(String::as_str).collect();
    let emb = model.dense_embedder()?;
    let x = emb.embed(&texts)?;
    let dims = model.dims();
    let inp = Inputs { texts, x, dims };
    let mut results = Vec::new();

    // Embedder alone.
    let lat = {
        let mut buf = vec![0f32; dims];
        measure::latency(opts.latency_samples, |i| emb.embed_into(&inp.texts[i % n..i % n + 1], &mut buf))?
    };
    let mut tp = Vec::new();
    for &t in &opts.threads {
        for &b in &opts.batches {
            let bufs: Vec<std::sync::Mutex<Vec<f32>>> =
                (0..t).map(|_| std::sync::Mutex::new(vec![0f32; b * dims])).collect();
            tp.push(measure::throughput(b, t, opts.min_seconds, |th, first, rows| {
                let mut buf = bufs[th].lock().unwrap_or_else(|p| p.into_inner());
                embed_wrapping(emb, &inp.texts, first, rows, &mut buf)
            })?);
        }
    }
    results.push(StageResult {
        stage: Stage::Embed,
        engine: "l2core".into(),
        precision: None,
        path: "hash".into(),
        latency: lat,
        throughput: tp,
    });

    for (p, m) in precisions.iter().zip(&models) {
        let m = m.as_ref().unwrap_or(model);
        let scorer = m.scorer();
        let (lat, tp) = bench_scorer(scorer, &inp, opts)?;
        results.push(StageResult {
            stage: Stage::Mlp,
            engine: "l2core".into(),
            precision: Some(*p),
            path: scorer.kernel().to_string(),
            latency: lat,
            throughput: tp,
        });
        // End to end: text -> embedding -> score -> decision, through preallocated buffers.
        let lat = {
            let mut buf = vec![0f32; dims];
            measure::latency(opts.latency_samples, |i| {
                emb.embed_into(&inp.texts[i % n..i % n + 1], &mut buf)?;
                let s = scorer.score_one(&buf)?;
                std::hint::black_box(m.decide(s));
                Ok(())
            })?
        };
        let mut tp = Vec::new();
        for &t in &opts.threads {
            for &b in &opts.batches {
                let bufs: Vec<std::sync::Mutex<(Vec<f32>, Vec<f32>)>> =
                    (0..t).map(|_| std::sync::Mutex::new((vec![0f32; b * dims], vec![0f32; b]))).collect();
                tp.push(measure::throughput(b, t, opts.min_seconds, |th, first, rows| {
                    let mut g = bufs[th].lock().unwrap_or_else(|p| p.into_inner());
                    let (buf, out) = &mut *g;
                    embed_wrapping(emb, &inp.texts, first, rows, buf)?;
                    scorer.score_into(&buf[..rows * dims], &mut out[..rows])?;
                    std::hint::black_box(out.iter().filter(|&&s| m.decide(s)).count());
                    Ok(())
                })?);
            }
        }
        results.push(StageResult {
            stage: Stage::EndToEnd,
            engine: "l2core".into(),
            precision: Some(*p),
            path: format!("hash + {}", scorer.kernel()),
            latency: lat,
            throughput: tp,
        });
    }

    let mut ort_note = None;
    let mut ratios = Vec::new();
    if opts.ort {
        match ort_results(model, &precisions, &inp, opts) {
            Ok(r) => {
                ratios = compute_ratios(&results, &r);
                results.extend(r);
            }
            Err(e) => ort_note = Some(e.to_string()),
        }
    } else {
        ort_note = Some("not requested".into());
    }

    let arch = &model.meta().architecture;
    let mut widths = vec![arch.input_dims];
    widths.extend(&arch.hidden);
    widths.push(1);
    Ok(BenchReport {
        l2core_version: crate::VERSION.into(),
        cpu: cpu_name(),
        kernel: Kernel::selected()?,
        available_kernels: Kernel::available(),
        input_dims: dims,
        hidden: arch.hidden.clone(),
        macs_per_sample: widths.windows(2).map(|w| w[0] * w[1]).sum(),
        prompt_chars: opts.prompt_chars,
        prompts: prompt_source(opts),
        views: ViewCounts::of(model, &inp.texts)?,
        min_seconds: opts.min_seconds,
        results,
        ratios,
        ort_note,
        heads_cost: Vec::new(),
    })
}

/// The wide-and-deep path: the featuriser alone (canonical text to sparse features), then text to
/// decision per precision (views, features, bag, tail), as [`Model::score_texts`] runs it.
fn run_sparse(model: &Model, opts: &BenchOptions) -> Result<BenchReport> {
    let precisions = match &opts.precisions {
        Some(p) => p.clone(),
        None if model.precision() == Precision::F32 => vec![Precision::F32, Precision::F16, Precision::Int8],
        None => vec![model.precision()],
    };
    let prompts = prompt_set(opts);
    let n = prompts.len();
    let texts: Vec<&str> = prompts.iter().map(String::as_str).collect();
    let batch_of = |first: usize, rows: usize| -> Vec<&str> { (0..rows).map(|k| texts[(first + k) % n]).collect() };
    let mut results = Vec::new();
    let lat = measure::latency(opts.latency_samples, |i| model.features(&texts[i % n..i % n + 1]).map(drop))?;
    let mut tp = Vec::new();
    for &t in &opts.threads {
        for &b in &opts.batches {
            tp.push(measure::throughput(b, t, opts.min_seconds, |_, first, rows| {
                model.features(&batch_of(first, rows)).map(drop)
            })?);
        }
    }
    results.push(StageResult {
        stage: Stage::Embed,
        engine: "l2core".into(),
        precision: None,
        path: "ngrams".into(),
        latency: lat,
        throughput: tp,
    });
    for &p in &precisions {
        let quantized = if p == model.precision() { None } else { Some(quantize(model, p)?) };
        let m = quantized.as_ref().unwrap_or(model);
        let lat = measure::latency(opts.latency_samples, |i| {
            let s = m.score_text(texts[i % n])?;
            std::hint::black_box(m.decide(s));
            Ok(())
        })?;
        let mut tp = Vec::new();
        for &t in &opts.threads {
            for &b in &opts.batches {
                tp.push(measure::throughput(b, t, opts.min_seconds, |_, first, rows| {
                    let s = m.score_texts(&batch_of(first, rows))?;
                    std::hint::black_box(s.iter().filter(|&&s| m.decide(s)).count());
                    Ok(())
                })?);
            }
        }
        results.push(StageResult {
            stage: Stage::EndToEnd,
            engine: "l2core".into(),
            precision: Some(p),
            path: format!("ngrams + wide_deep ({})", m.scorer().kernel()),
            latency: lat,
            throughput: tp,
        });
    }
    let mut heads_cost = Vec::new();
    if !model.heads().is_empty() {
        for &p in &precisions {
            let quantized = if p == model.precision() { None } else { Some(quantize(model, p)?) };
            let m = quantized.as_ref().unwrap_or(model);
            // Interleaved, text by text, so that the machine's drift (frequency, other load) hits both
            // alike; each text is scored by one of the two only (a second call on the same text would
            // find its table rows in cache), alternating which one.
            let warmup = opts.latency_samples.clamp(100, 2000);
            let (mut score_us, mut classify_us) = (Vec::new(), Vec::new());
            for i in 0..warmup + 2 * opts.latency_samples {
                let text = &texts[i % n..i % n + 1];
                let t0 = std::time::Instant::now();
                if i % 2 == 0 {
                    std::hint::black_box(m.decide(m.score_text(text[0])?));
                } else {
                    std::hint::black_box(m.classify_detailed(text)?);
                }
                let us = t0.elapsed().as_secs_f64() * 1e6;
                match (i >= warmup, i % 2 == 0) {
                    (true, true) => score_us.push(us),
                    (true, false) => classify_us.push(us),
                    _ => {}
                }
            }
            let (score, classify) = (Latency::of(score_us), Latency::of(classify_us));
            let (ratio_p50, ratio_p95) = (classify.p50_us / score.p50_us, classify.p95_us / score.p95_us);
            heads_cost.push(HeadsCost { precision: p, score, classify, ratio_p50, ratio_p95 });
        }
    }
    let arch = &model.meta().architecture;
    let embed = arch.embed.unwrap_or(0);
    let mut widths = vec![embed];
    widths.extend(&arch.hidden);
    widths.push(1);
    let nnz = model.features(&texts)?.indices.len() / n.max(1);
    Ok(BenchReport {
        l2core_version: crate::VERSION.into(),
        cpu: cpu_name(),
        kernel: Kernel::selected()?,
        available_kernels: Kernel::available(),
        input_dims: arch.input_dims,
        hidden: arch.hidden.clone(),
        macs_per_sample: nnz * (embed + 1) + widths.windows(2).map(|w| w[0] * w[1]).sum::<usize>(),
        prompt_chars: opts.prompt_chars,
        prompts: prompt_source(opts),
        views: ViewCounts::of(model, &texts)?,
        min_seconds: opts.min_seconds,
        results,
        ratios: Vec::new(),
        ort_note: Some("ONNX Runtime comparison of wide-and-deep models: see l2 export".into()),
        heads_cost,
    })
}

fn embed_wrapping(
    emb: &dyn crate::embed::Embedder,
    texts: &[&str],
    first: usize,
    rows: usize,
    buf: &mut [f32],
) -> Result<()> {
    let n = texts.len();
    let d = emb.dims();
    let mut done = 0;
    while done < rows {
        let start = (first + done) % n;
        let k = (rows - done).min(n - start);
        emb.embed_into(&texts[start..start + k], &mut buf[done * d..(done + k) * d])?;
        done += k;
    }
    Ok(())
}

#[cfg(not(feature = "onnx"))]
fn ort_results(
    _model: &Model,
    _precisions: &[Precision],
    _inp: &Inputs,
    _opts: &BenchOptions,
) -> Result<Vec<StageResult>> {
    Err(Error::param("ort", "true", "this build has no ONNX Runtime support (build with --features onnx)"))
}

#[cfg(feature = "onnx")]
fn ort_results(model: &Model, precisions: &[Precision], inp: &Inputs, opts: &BenchOptions) -> Result<Vec<StageResult>> {
    super::ort::results(model, precisions, inp, opts)
}
