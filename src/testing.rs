//! Test support (feature `testing`, on by default for this crate's own tests, benchmarks, examples and
//! `l2 bench --synthetic`; libl2 and the Python wheel are built without it): the fixtures every test
//! and benchmark shares, in one place.
//!
//! - [`synthetic_model`]: an untrained model of any shape, byte-reproducible for a seed;
//! - [`spread_model`]: an untrained model whose scores spread over (0, 1) like a trained one's;
//! - [`spread_wide_deep`]: the same for the wide-and-deep model kind;
//! - [`synthetic_prompts`]: deterministic prompts of a given length;
//! - [`teacher_split`]: learnable synthetic training data (embeddings labelled by a teacher network).

use crate::embed::{EmbedderSpec, HashSpec};
use crate::error::{Error, Result};
use crate::infer::quantize::quantize_layers;
use crate::model::{Model, ModelMeta};
use crate::nn::{Mlp, Precision};
use crate::rng::Rng;
use crate::train::TrainSet;

/// The `created` time of fixture models, fixed so that their files are byte-reproducible.
pub const FIXTURE_CREATED: &str = "2026-12-01T00:00:00Z";

fn fixture_meta(dims: usize, hidden: &[usize], precision: Precision) -> ModelMeta {
    ModelMeta {
        created: FIXTURE_CREATED.into(),
        tags: [("synthetic".to_string(), "untrained".to_string())].into_iter().collect(),
        ..ModelMeta::untrained(EmbedderSpec::Hash(HashSpec::with_dims(dims)), hidden.to_vec(), precision)
    }
}

/// An untrained f32 model (He-initialised, small random biases, hash embedder of `dims`, threshold 0.5,
/// tag `synthetic=untrained`) for tests and benchmarks that need the shape of a model but not its skill.
/// The same arguments give the same bytes.
pub fn synthetic_model(dims: usize, hidden: &[usize], seed: u64) -> Result<Model> {
    let mut mlp = Mlp::init(dims, hidden, seed)?;
    let mut rng = Rng::new(seed ^ 0x5eed);
    for l in &mut mlp.layers {
        l.bias.iter_mut().for_each(|b| *b = 0.05 * rng.normal());
    }
    Model::new(fixture_meta(dims, hidden, Precision::F32), mlp.to_layers())
}

/// A model at `precision` whose scores spread over (0, 1) like a trained one's on `texts`: random weights
/// with the hash embedder, the last layer scaled so that logits have a standard deviation of about 3, the
/// threshold between the two neighbouring scores with the widest gap in the central half of the sorted
/// scores (so about half the texts fall on each side, and a decision flips only for a score change of half
/// that gap: native int8 kernels may quantize activations, which a standard ONNX graph does not).
pub fn spread_model(dims: usize, hidden: &[usize], precision: Precision, seed: u64, texts: &[&str]) -> Result<Model> {
    if texts.len() < 4 {
        return Err(Error::param("texts", texts.len(), "spread_model needs at least 4 texts"));
    }
    let mut mlp = Mlp::init(dims, hidden, seed)?;
    let probe = Model::new(fixture_meta(dims, hidden, Precision::F32), mlp.to_layers())?;
    let logits: Vec<f32> = probe.score_texts(texts)?.iter().map(|p| (p / (1.0 - p)).ln()).collect();
    let mean = logits.iter().sum::<f32>() / logits.len() as f32;
    let std = (logits.iter().map(|l| (l - mean) * (l - mean)).sum::<f32>() / logits.len() as f32).sqrt();
    let k = 3.0 / std.max(1e-6);
    if let Some(last) = mlp.layers.last_mut() {
        last.weight.iter_mut().for_each(|w| *w *= k);
        last.bias[0] = (last.bias[0] - mean) * k;
    }
    let m = Model::new(fixture_meta(dims, hidden, precision), quantize_layers(&mlp.to_layers(), precision)?)?;
    with_spread_threshold(m, texts)
}

/// `m` with its threshold in the widest gap of the central half of its sorted scores on `texts`.
fn with_spread_threshold(m: Model, texts: &[&str]) -> Result<Model> {
    let mut s = m.score_texts(texts)?;
    s.sort_by(f32::total_cmp);
    let (lo, hi) = (s.len() / 4, s.len() * 3 / 4);
    let gap = |i: usize| s[i + 1] - s[i];
    let i = (lo..hi).max_by(|&a, &b| gap(a).total_cmp(&gap(b))).unwrap_or(lo);
    m.with_threshold((s[i] + s[i + 1]) / 2.0)
}

/// The wide-and-deep counterpart of [`spread_model`]: an n-gram featuriser fitted on `texts`
/// (`min_df` 1), a random table, tail (`hidden`) and wide term, scaled so that logits spread, the
/// default text spec, at `precision` (the one quantizer), threshold as in [`spread_model`].
pub fn spread_wide_deep(
    embed: usize,
    hidden: &[usize],
    precision: Precision,
    seed: u64,
    texts: &[&str],
) -> Result<Model> {
    spread_wide_deep_with(embed, hidden, precision, seed, texts, false)
}

/// Family labels of [`spread_wide_deep_heads`].
pub const FIXTURE_FAMILIES: [&str; 4] = ["CMD", "JB", "PI", "PII"];

/// [`spread_wide_deep`] with random family ([`FIXTURE_FAMILIES`]) and severity (low to critical)
/// heads, scaled so that their answers differ between texts.
pub fn spread_wide_deep_heads(
    embed: usize,
    hidden: &[usize],
    precision: Precision,
    seed: u64,
    texts: &[&str],
) -> Result<Model> {
    spread_wide_deep_with(embed, hidden, precision, seed, texts, true)
}

fn spread_wide_deep_with(
    embed: usize,
    hidden: &[usize],
    precision: Precision,
    seed: u64,
    texts: &[&str],
    with_heads: bool,
) -> Result<Model> {
    use crate::embed::{NgramSpec, SparseFeaturizer};
    use crate::model::Weights;
    use crate::nn::WideDeep;
    use std::sync::Arc;
    if texts.len() < 4 {
        return Err(Error::param("texts", texts.len(), "spread_wide_deep needs at least 4 texts"));
    }
    let spec = NgramSpec { min_df: 1, ..NgramSpec::default() };
    let featurizer = SparseFeaturizer::fit(spec.clone(), texts)?;
    let features = featurizer.features();
    let mut rng = Rng::new(seed);
    let table = (0..features * embed).map(|_| 0.5 * rng.normal()).collect();
    let bias = (0..embed).map(|_| 0.05 * rng.normal()).collect();
    let wide = Some((0..features).map(|_| 0.5 * rng.normal()).collect());
    let tail = Mlp::init(embed, hidden, seed ^ 0x7a11)?;
    let last = hidden.last().copied().unwrap_or(embed);
    let mut head = |kind, labels: &[&str]| crate::nn::Head {
        kind,
        labels: labels.iter().map(|l| l.to_string()).collect(),
        layer: crate::nn::Dense {
            inputs: last,
            outputs: labels.len(),
            weight: (0..labels.len() * last).map(|_| 2.0 * rng.normal()).collect(),
            bias: (0..labels.len()).map(|_| 0.1 * rng.normal()).collect(),
        },
    };
    let heads = if with_heads {
        vec![
            head(crate::nn::HeadKind::Family, &FIXTURE_FAMILIES),
            head(crate::nn::HeadKind::Severity, &["low", "medium", "high", "critical"]),
        ]
    } else {
        Vec::new()
    };
    let net = WideDeep { features, embed, table, bias, tail, wide, heads };
    let mut meta = ModelMeta::untrained_wide_deep(spec, features, embed, hidden.to_vec(), true, Precision::F32);
    meta.architecture.heads = net.heads.iter().map(|h| (h.kind, h.labels.clone())).collect();
    meta.created = FIXTURE_CREATED.into();
    meta.text = Some(crate::text::TextSpec::default());
    meta.tags = [("synthetic".to_string(), "untrained".to_string())].into_iter().collect();
    let weights = Weights::WideDeep { featurizer: Arc::new(featurizer), net: Arc::new(net.to_stored()) };
    let f32_model = with_spread_threshold(Model::assemble(meta, weights)?, texts)?;
    if precision == Precision::F32 {
        return Ok(f32_model);
    }
    let q = crate::model::quantize::quantize(&f32_model, precision)?;
    with_spread_threshold(q, texts)
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

/// Teacher hidden width of [`teacher_split`].
const TEACHER_HIDDEN: usize = 64;

/// A generated training set: row-major `x`, labels, weights ([`teacher_split`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Synthetic {
    /// `n x dims` features.
    pub x: Vec<f32>,
    /// Feature width.
    pub dims: usize,
    /// Labels 0/1.
    pub y: Vec<f32>,
    /// Inverse-frequency class weights per row.
    pub w: Vec<f32>,
}

impl Synthetic {
    /// Borrow as a training set.
    pub fn set(&self) -> TrainSet<'_> {
        TrainSet { x: &self.x, dims: self.dims, y: &self.y, w: &self.w }
    }
}

/// Learnable synthetic data for benchmarks and tests: `train` and `val` rows of width `dims` from one
/// teacher, deterministic for `seed`. Rows are random unit vectors (like the hashing embedder's
/// L2-normalised output) labelled by a fixed random teacher network, with label noise.
///
/// Teacher: `logit = v . relu(W x sqrt(dims))` with `W` `[64][dims]` and `v` standard normal scaled by
/// `1/sqrt(fan_in)`; a row is malicious (1) when its teacher logit is above the 60th percentile, so 40%
/// of the rows are positive; then 5% of labels are flipped. Weights are the inverse-frequency class
/// weights `n / (2 n_c)` of the generated labels.
pub fn teacher_split(train: usize, val: usize, dims: usize, seed: u64) -> (Synthetic, Synthetic) {
    let mut rng = Rng::new(seed);
    let w1: Vec<f32> = (0..TEACHER_HIDDEN * dims).map(|_| rng.normal() / (dims as f32).sqrt()).collect();
    let v: Vec<f32> = (0..TEACHER_HIDDEN).map(|_| rng.normal() / (TEACHER_HIDDEN as f32).sqrt()).collect();
    let n = train + val;
    let mut x = vec![0.0f32; n * dims];
    let mut logits = vec![0.0f32; n];
    let scale = (dims as f32).sqrt();
    for (row, logit) in x.chunks_exact_mut(dims.max(1)).zip(logits.iter_mut()) {
        row.iter_mut().for_each(|v| *v = rng.normal());
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        row.iter_mut().for_each(|v| *v /= norm);
        *logit = (0..TEACHER_HIDDEN)
            .map(|h| {
                let z: f32 = w1[h * dims..(h + 1) * dims].iter().zip(row.iter()).map(|(a, b)| a * b).sum();
                v[h] * (z * scale).max(0.0)
            })
            .sum();
    }
    let mut sorted = logits.clone();
    sorted.sort_by(f32::total_cmp);
    let cut = sorted.get(n * 6 / 10).copied().unwrap_or(0.0);
    let mut y: Vec<f32> = logits.iter().map(|&l| if l > cut { 1.0 } else { 0.0 }).collect();
    for label in y.iter_mut() {
        if rng.uniform() < 0.05 {
            *label = 1.0 - *label;
        }
    }
    let build = |range: std::ops::Range<usize>| {
        let ys = y[range.clone()].to_vec();
        let pos = ys.iter().filter(|&&v| v == 1.0).count().max(1) as f32;
        let neg = (ys.len() as f32 - pos).max(1.0);
        let len = ys.len() as f32;
        let w = ys.iter().map(|&v| if v == 1.0 { len / (2.0 * pos) } else { len / (2.0 * neg) }).collect();
        Synthetic { x: x[range.start * dims..range.end * dims].to_vec(), dims, y: ys, w }
    };
    (build(0..train), build(train..n))
}
