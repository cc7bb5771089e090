//! What `l2 bench` reports: one result per engine, stage and precision, l2core / ONNX Runtime ratios,
//! and the tables.

use super::measure::Throughput;
use crate::eval::Latency;
use crate::infer::Kernel;
use crate::nn::Precision;
use serde::Serialize;

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
    pub(crate) fn as_str(self) -> &'static str {
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

/// How many views the timed prompts were scored as: a prompt with more views costs more, so the
/// latency percentiles depend on how many have them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ViewCounts {
    /// Mean views per prompt (1: the whole text only).
    pub mean: f64,
    /// Share of the prompts scored as more than one view.
    pub more_than_one: f64,
}

impl ViewCounts {
    /// The counts of `model`'s views of `texts`.
    pub fn of(model: &crate::Model, texts: &[&str]) -> crate::Result<ViewCounts> {
        let scored = model.score_detailed(texts)?;
        let n = scored.len().max(1) as f64;
        Ok(ViewCounts {
            mean: scored.iter().map(|s| s.views as f64).sum::<f64>() / n,
            more_than_one: scored.iter().filter(|s| s.views > 1).count() as f64 / n,
        })
    }
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
    /// What the prompts are: synthetic, or which texts of which file.
    pub prompts: String,
    /// How many texts the model scored per prompt (its views: decoded payloads, leetspeak, windows).
    pub views: ViewCounts,
    /// Minimum seconds per throughput figure.
    pub min_seconds: f64,
    /// Every measurement.
    pub results: Vec<StageResult>,
    /// l2core / ONNX Runtime, per precision, batch and thread count (empty without ORT).
    pub ratios: Vec<Ratio>,
    /// Why ONNX Runtime was not compared, when it was not.
    pub ort_note: Option<String>,
    /// A model with heads: the batch-1 cost of answering them, per precision.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub heads_cost: Vec<HeadsCost>,
}

/// Batch-1 latency of the score alone and of the score with every head, measured in one run, text
/// by text interleaved (after as many warm-up calls as the other latencies get).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeadsCost {
    /// Precision of the model measured.
    pub precision: Precision,
    /// `score_text` + decision.
    pub score: Latency,
    /// `classify_detailed` of one text (score, decision and heads).
    pub classify: Latency,
    /// classify p50 / score p50.
    pub ratio_p50: f64,
    /// classify p95 / score p95.
    pub ratio_p95: f64,
}

/// l2core against ONNX Runtime for every ONNX Runtime result that has an l2core counterpart.
pub(crate) fn compute_ratios(ours: &[StageResult], theirs: &[StageResult]) -> Vec<Ratio> {
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
        writeln!(
            f,
            "prompts: {}; {:.2} views per prompt, {:.1}% scored as more than one",
            self.prompts,
            self.views.mean,
            100.0 * self.views.more_than_one
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
        if !self.heads_cost.is_empty() {
            writeln!(f, "heads (family, severity), batch 1: classify vs score alone")?;
            for h in &self.heads_cost {
                writeln!(
                    f,
                    "  {:<5} p50 {:.1} vs {:.1} us ({:.3}x), p95 {:.1} vs {:.1} us ({:.3}x)",
                    h.precision.as_str(),
                    h.classify.p50_us,
                    h.score.p50_us,
                    h.ratio_p50,
                    h.classify.p95_us,
                    h.score.p95_us,
                    h.ratio_p95
                )?;
            }
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
