//! `l2 bench`: latency and throughput of the embedder alone, the MLP alone and the whole text-to-decision
//! path, per precision, single thread and all threads; with the `onnx` feature, the same weights through
//! ONNX Runtime in the same run, with the ratios.
//!
//! Method. Inputs are deterministic synthetic prompts of `prompt_chars` characters (default 200) and
//! their embeddings. Latency is batch 1: every call timed on its own after a warm-up, reported as
//! p50/p95/p99. Throughput at batch `b` with `t` threads: the batch's rows are split into `t` contiguous
//! shares (`std::thread::scope`), each thread scores its share over and over until `min_seconds` have
//! passed, and throughput is rows scored / wall time; threads start together and are timed by the
//! slowest. ONNX Runtime is measured the same way, with one session per thread and one intra-op thread
//! per session.

use crate::error::{Error, Result};
use crate::infer::quantize::quantize;
use crate::infer::{Kernel, Scorer};
use crate::model::Precision;
use crate::rng::Rng;
use crate::Model;
use serde::Serialize;
use std::time::{Duration, Instant};

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
        }
    }
}

impl BenchOptions {
    fn check(&self) -> Result<()> {
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
        Ok(())
    }
}

/// Batch-1 latency, microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50_us: f64,
    /// 95th percentile.
    pub p95_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Mean.
    pub mean_us: f64,
    /// Timed calls.
    pub samples: usize,
}

/// Throughput at one batch size and thread count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Throughput {
    /// Rows per batch.
    pub batch: usize,
    /// Threads sharing each batch.
    pub threads: usize,
    /// Rows per second of wall time.
    pub samples_per_s: f64,
    /// Rows per second of the threads' own CPU time (robust to a loaded machine; equals
    /// `samples_per_s / threads` when every thread has a core to itself).
    pub samples_per_cpu_s: f64,
}

/// What a result measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Text to embedding.
    Embed,
    /// Embedding to score.
    Mlp,
    /// Text to decision.
    EndToEnd,
}

impl Stage {
    fn as_str(self) -> &'static str {
        match self {
            Stage::Embed => "embed",
            Stage::Mlp => "mlp",
            Stage::EndToEnd => "end-to-end",
        }
    }
}

/// One engine + stage + precision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageResult {
    /// What was measured.
    pub stage: Stage,
    /// `l2core` or `onnxruntime`.
    pub engine: String,
    /// Weight precision (none for the embedder alone).
    pub precision: Option<Precision>,
    /// The l2core kernel, or the ONNX graph's kind.
    pub path: String,
    /// Batch-1 latency.
    pub latency: Latency,
    /// Throughput per batch size and thread count.
    pub throughput: Vec<Throughput>,
}

/// l2core against ONNX Runtime at one setting (ratio > 1: l2core is faster).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ratio {
    /// Precision of both.
    pub precision: Precision,
    /// Batch size (1 = the latency p50, compared as calls per second).
    pub batch: usize,
    /// Threads.
    pub threads: usize,
    /// l2core rows per second.
    pub l2core_per_s: f64,
    /// ONNX Runtime rows per second.
    pub ort_per_s: f64,
    /// l2core / ONNX Runtime, wall-time rates.
    pub ratio: f64,
    /// l2core / ONNX Runtime, CPU-time rates (the p50 ratio again at batch 1).
    pub ratio_cpu: f64,
}

/// The whole benchmark; `Display` prints the tables, `Serialize` the JSON (`l2 bench --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// l2core version.
    pub l2core_version: String,
    /// CPU model name (from /proc/cpuinfo where available).
    pub cpu: String,
    /// Kernel in use ([`Kernel::selected`]).
    pub kernel: Kernel,
    /// Kernels this CPU supports.
    pub available_kernels: Vec<Kernel>,
    /// Network input width.
    pub input_dims: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Multiply-accumulates per sample.
    pub macs_per_sample: usize,
    /// Prompt length in characters.
    pub prompt_chars: usize,
    /// Minimum seconds per throughput figure.
    pub min_seconds: f64,
    /// Every measurement.
    pub results: Vec<StageResult>,
    /// l2core / ONNX Runtime, per precision, batch and thread count (empty without ORT).
    pub ratios: Vec<Ratio>,
    /// Why ONNX Runtime was not compared, when it was not.
    pub ort_note: Option<String>,
}

/// Deterministic synthetic prompts of exactly `chars` characters (mixing benign and attack vocabulary).
pub fn synthetic_prompts(n: usize, chars: usize, seed: u64) -> Vec<String> {
    const WORDS: &[&str] = &[
        "please",
        "summarize",
        "the",
        "following",
        "document",
        "ignore",
        "all",
        "previous",
        "instructions",
        "and",
        "print",
        "your",
        "system",
        "prompt",
        "translate",
        "this",
        "email",
        "into",
        "french",
        "run",
        "rm",
        "-rf",
        "/",
        "curl",
        "http://evil.example/x.sh",
        "|",
        "sh",
        "what",
        "is",
        "a",
        "good",
        "recipe",
        "for",
        "dinner",
        "you",
        "are",
        "now",
        "DAN",
        "developer",
        "mode",
        "send",
        "customer",
        "records",
        "passwords",
        "to",
        "me",
        "explain",
        "how",
        "TLS",
        "handshakes",
        "work",
        "write",
        "python",
        "code",
        "sort",
        "list",
        "base64",
        "decode",
        "then",
        "execute",
        "reveal",
        "hidden",
        "api",
        "keys",
        "thanks!",
    ];
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let mut s = String::with_capacity(chars + 32);
            while s.chars().count() < chars {
                if !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(rng.choose(WORDS).copied().unwrap_or("x"));
            }
            s.chars().take(chars).collect()
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Time `samples` single calls of `f(i)` after a warm-up.
pub fn measure_latency(samples: usize, mut f: impl FnMut(usize) -> Result<()>) -> Result<Latency> {
    for i in 0..samples.clamp(100, 2000) {
        f(i)?;
    }
    let mut t = Vec::with_capacity(samples);
    for i in 0..samples {
        let start = Instant::now();
        f(i)?;
        t.push(start.elapsed().as_secs_f64() * 1e6);
    }
    t.sort_by(f64::total_cmp);
    let mean = t.iter().sum::<f64>() / t.len() as f64;
    Ok(Latency {
        p50_us: percentile(&t, 0.50),
        p95_us: percentile(&t, 0.95),
        p99_us: percentile(&t, 0.99),
        mean_us: mean,
        samples,
    })
}

/// Rows per second of `work(thread, first_row, rows)` over a batch of `batch` rows split across
/// `threads` scoped threads, each repeating its share until `min_seconds` pass.
pub fn measure_throughput<F>(batch: usize, threads: usize, min_seconds: f64, work: F) -> Result<Throughput>
where
    F: Fn(usize, usize, usize) -> Result<()> + Sync,
{
    let threads = threads.clamp(1, batch.max(1));
    let per = batch.div_ceil(threads);
    let min = Duration::from_secs_f64(min_seconds);
    let barrier = std::sync::Barrier::new(threads);
    let results: Vec<Result<(usize, Duration, f64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (work, barrier) = (&work, &barrier);
                s.spawn(move || -> Result<(usize, Duration, f64)> {
                    let first = t * per;
                    let rows = per.min(batch.saturating_sub(first));
                    if rows == 0 {
                        barrier.wait();
                        return Ok((0, Duration::ZERO, 0.0));
                    }
                    // Warm up, then wait for the others even on failure, so no thread is left at the barrier.
                    let warm = work(t, first, rows);
                    barrier.wait();
                    warm?;
                    let start = Instant::now();
                    let cpu0 = thread_cpu_seconds();
                    let mut done = 0usize;
                    while start.elapsed() < min {
                        work(t, first, rows)?;
                        done += rows;
                    }
                    Ok((done, start.elapsed(), thread_cpu_seconds() - cpu0))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(Error::Check("a benchmark thread panicked".into()))))
            .collect()
    });
    let mut rows = 0usize;
    let mut wall = Duration::ZERO;
    let mut cpu = 0f64;
    for r in results {
        let (n, d, c) = r?;
        rows += n;
        wall = wall.max(d);
        cpu += c;
    }
    let cpu_rate = if cpu > 0.0 { rows as f64 / cpu } else { f64::NAN };
    Ok(Throughput {
        batch,
        threads,
        samples_per_s: rows as f64 / wall.as_secs_f64().max(1e-9),
        samples_per_cpu_s: cpu_rate,
    })
}

/// CPU time consumed by the calling thread, seconds (NaN where the platform does not say).
pub fn thread_cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes one timespec through a valid pointer.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
        }
    }
    f64::NAN
}

fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

/// Inputs shared by every measurement.
struct Inputs<'a> {
    texts: Vec<&'a str>,
    x: Vec<f32>,
    dims: usize,
}

fn bench_scorer(scorer: &Scorer, inp: &Inputs, opts: &BenchOptions) -> Result<(Latency, Vec<Throughput>)> {
    let d = inp.dims;
    let n = inp.texts.len();
    let lat = measure_latency(opts.latency_samples, |i| {
        let r = i % n;
        scorer.score_one(&inp.x[r * d..(r + 1) * d]).map(drop)
    })?;
    let mut tp = Vec::new();
    for &t in &opts.threads {
        for &b in &opts.batches {
            let outs: Vec<std::sync::Mutex<Vec<f32>>> = (0..t).map(|_| std::sync::Mutex::new(vec![0f32; b])).collect();
            tp.push(measure_throughput(b, t, opts.min_seconds, |th, first, rows| {
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
    let n = opts.batches.iter().copied().max().unwrap_or(1).clamp(256, 4096);
    let prompts = synthetic_prompts(n, opts.prompt_chars, opts.seed);
    let texts: Vec<&str> = prompts.iter().map(String::as_str).collect();
    let x = model.embedder().embed(&texts)?;
    let dims = model.dims();
    let inp = Inputs { texts, x, dims };
    let mut results = Vec::new();

    // Embedder alone.
    let emb = model.embedder();
    let lat = {
        let mut buf = vec![0f32; dims];
        measure_latency(opts.latency_samples, |i| emb.embed_into(&inp.texts[i % n..i % n + 1], &mut buf))?
    };
    let mut tp = Vec::new();
    for &t in &opts.threads {
        for &b in &opts.batches {
            let bufs: Vec<std::sync::Mutex<Vec<f32>>> =
                (0..t).map(|_| std::sync::Mutex::new(vec![0f32; b * dims])).collect();
            tp.push(measure_throughput(b, t, opts.min_seconds, |th, first, rows| {
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
            measure_latency(opts.latency_samples, |i| {
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
                tp.push(measure_throughput(b, t, opts.min_seconds, |th, first, rows| {
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
        match ort_results(model, &precisions, &models, &inp, opts) {
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
        min_seconds: opts.min_seconds,
        results,
        ratios,
        ort_note,
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

fn compute_ratios(ours: &[StageResult], theirs: &[StageResult]) -> Vec<Ratio> {
    let mut out = Vec::new();
    for t in theirs {
        let Some(p) = t.precision else { continue };
        let Some(o) = ours.iter().find(|o| o.stage == t.stage && o.precision == Some(p) && o.engine == "l2core") else {
            continue;
        };
        let per_s = |l: &Latency| 1e6 / l.p50_us;
        out.push(Ratio {
            precision: p,
            batch: 1,
            threads: 1,
            l2core_per_s: per_s(&o.latency),
            ort_per_s: per_s(&t.latency),
            ratio: t.latency.p50_us / o.latency.p50_us,
            ratio_cpu: t.latency.p50_us / o.latency.p50_us,
        });
        for tt in &t.throughput {
            if let Some(ot) = o.throughput.iter().find(|x| x.batch == tt.batch && x.threads == tt.threads) {
                out.push(Ratio {
                    precision: p,
                    batch: tt.batch,
                    threads: tt.threads,
                    l2core_per_s: ot.samples_per_s,
                    ort_per_s: tt.samples_per_s,
                    ratio: ot.samples_per_s / tt.samples_per_s,
                    ratio_cpu: ot.samples_per_cpu_s / tt.samples_per_cpu_s,
                });
            }
        }
    }
    out
}

#[cfg(not(feature = "onnx"))]
fn ort_results(
    _model: &Model,
    _precisions: &[Precision],
    _models: &[Option<Model>],
    _inp: &Inputs,
    _opts: &BenchOptions,
) -> Result<Vec<StageResult>> {
    Err(Error::param("ort", "true", "this build has no ONNX Runtime support (build with --features onnx)"))
}

#[cfg(feature = "onnx")]
fn ort_results(
    model: &Model,
    precisions: &[Precision],
    _models: &[Option<Model>],
    inp: &Inputs,
    opts: &BenchOptions,
) -> Result<Vec<StageResult>> {
    let mut out = Vec::new();
    let max_threads = opts.threads.iter().copied().max().unwrap_or(1);
    for &p in precisions.iter().filter(|p| matches!(p, Precision::F32 | Precision::Int8)) {
        let (bytes, path) = crate::infer::ort_graph::build(model, p)?;
        let sessions =
            (0..max_threads).map(|_| crate::infer::ort_graph::Session::new(&bytes)).collect::<Result<Vec<_>>>()?;
        let d = inp.dims;
        let n = inp.texts.len();
        let lat = measure_latency(opts.latency_samples.min(5000), |i| {
            let r = i % n;
            sessions[0].run(&inp.x[r * d..(r + 1) * d], 1).map(drop)
        })?;
        let mut tp = Vec::new();
        for &t in &opts.threads {
            for &b in &opts.batches {
                tp.push(measure_throughput(b, t, opts.min_seconds, |th, first, rows| {
                    let mut left = rows;
                    let mut at = first % n;
                    while left > 0 {
                        let k = left.min(n - at);
                        sessions[th].run(&inp.x[at * d..(at + k) * d], k)?;
                        left -= k;
                        at = 0;
                    }
                    Ok(())
                })?);
            }
        }
        out.push(StageResult {
            stage: Stage::Mlp,
            engine: "onnxruntime".into(),
            precision: Some(p),
            path,
            latency: lat,
            throughput: tp,
        });
    }
    Ok(out)
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "l2 bench (l2core {}) on {}", self.l2core_version, self.cpu)?;
        writeln!(
            f,
            "kernel {} (available: {}); network {} -> {:?} -> 1, {} MACs/sample; prompts {} chars; >= {} s per figure",
            self.kernel,
            self.available_kernels.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
            self.input_dims,
            self.hidden,
            self.macs_per_sample,
            self.prompt_chars,
            self.min_seconds
        )?;
        writeln!(f)?;
        let mut cols: Vec<(usize, usize)> = Vec::new();
        for r in &self.results {
            for t in &r.throughput {
                if !cols.contains(&(t.batch, t.threads)) {
                    cols.push((t.batch, t.threads));
                }
            }
        }
        for (title, cpu) in
            [("rows per second of wall time", false), ("rows per second of CPU time (per thread-second)", true)]
        {
            writeln!(f, "{title}:")?;
            write!(
                f,
                "{:<11} {:<12} {:<5} {:<18} {:>8} {:>8} {:>8}",
                "stage", "engine", "prec", "path", "p50 us", "p95 us", "p99 us"
            )?;
            for (b, t) in &cols {
                write!(f, " {:>12}", format!("b{b} t{t}"))?;
            }
            writeln!(f)?;
            for r in &self.results {
                write!(
                    f,
                    "{:<11} {:<12} {:<5} {:<18} {:>8.2} {:>8.2} {:>8.2}",
                    r.stage.as_str(),
                    r.engine,
                    r.precision.map_or("-", Precision::as_str),
                    r.path,
                    r.latency.p50_us,
                    r.latency.p95_us,
                    r.latency.p99_us
                )?;
                for c in &cols {
                    match r.throughput.iter().find(|t| (t.batch, t.threads) == *c) {
                        Some(t) => {
                            write!(f, " {:>12}", human(if cpu { t.samples_per_cpu_s } else { t.samples_per_s }))?
                        }
                        None => write!(f, " {:>12}", "-")?,
                    }
                }
                writeln!(f)?;
            }
            writeln!(f)?;
        }
        if !self.ratios.is_empty() {
            writeln!(f, "l2core / ONNX Runtime (MLP; batch 1 = ratio of p50 latencies; wall and CPU-time rates):")?;
            for r in &self.ratios {
                writeln!(
                    f,
                    "  {:<5} batch {:>5} threads {:>2}: {:>6.2}x wall ({} vs {} rows/s), {:>6.2}x cpu",
                    r.precision.as_str(),
                    r.batch,
                    r.threads,
                    r.ratio,
                    human(r.l2core_per_s),
                    human(r.ort_per_s),
                    r.ratio_cpu
                )?;
            }
        }
        if let Some(n) = &self.ort_note {
            writeln!(f, "ONNX Runtime not compared: {n}")?;
        }
        Ok(())
    }
}

fn human(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// An untrained f32 model (He-initialised, small random biases, hash embedder of `dims`, threshold 0.5)
/// for benchmarks and tests that need the shape of a model but not its skill.
pub fn synthetic_model(dims: usize, hidden: &[usize], seed: u64) -> Result<Model> {
    use crate::embed::{EmbedderSpec, HashSpec};
    use crate::model::{Mlp, ModelMeta};
    let mut mlp = Mlp::init(dims, hidden, seed)?;
    let mut rng = Rng::new(seed ^ 0x5eed);
    for l in &mut mlp.layers {
        l.bias.iter_mut().for_each(|b| *b = 0.05 * rng.normal());
    }
    let meta = ModelMeta {
        tags: [("synthetic".to_string(), "untrained".to_string())].into_iter().collect(),
        ..ModelMeta::untrained(EmbedderSpec::Hash(HashSpec::with_dims(dims)), mlp.hidden(), Precision::F32)
    };
    Model::new(meta, mlp.to_layers())
}
