//! The model file: a safetensors container whose tensors are the network (and, for the n-gram
//! featuriser, its vocabulary and IDF) and whose JSON header holds [`ModelMeta`] and two sha256 sums.
//!
//! Tensors of an MLP: `layers.{i}.weight` (`[outputs, inputs]`, F32, F16 or I8), `layers.{i}.bias`
//! (`[outputs]`, F32), for int8 `layers.{i}.scale` (`[outputs]`, F32). Tensors of a wide-and-deep
//! network: `features.vocab` (`[k]`, U32: the kept bucket numbers, ascending), `features.idf` (`[k]`,
//! F32), `deep.table` (`[k, embed]`, F32, F16 or I8) with `deep.scale` (`[k]`, F32) for int8,
//! `deep.bias` (`[embed]`, F32), the tail as `tail.{i}.*` (always F32: it is a few thousand weights
//! and keeps int8 decisions on the f32 ones), `wide.weight` (`[k]`, F32) when the network has one,
//! and for each head the metadata lists (`architecture.heads`), `heads.{kind}.weight` (`[labels,
//! hidden]`, F32) and `heads.{kind}.bias` (`[labels]`, F32).
//!
//! Header metadata: `format` = `l2core-model`, `l2core_meta` = the JSON of [`ModelMeta`],
//! `weights_sha256` = sha256 over every tensor's bytes in file order (the identity of the weights, as
//! the registry and the quantization record name them), and, from format version 2, `sha256` = the
//! checksum of the whole file: sha256 over a domain tag, the metadata JSON and every tensor's name,
//! dtype, shape and bytes, each length-prefixed ([`file_sha256`]). So a change to any byte that
//! affects scoring (threshold, text spec, n-gram ranges, weights) is caught at load. Loading rejects a
//! file that is truncated, not safetensors, of another format or version, with metadata keys or
//! tensors it does not know, whose tensors disagree with the architecture, or whose sums do not match.

use super::meta::{ModelMeta, NetKind, FORMAT_VERSION, OLDEST_FORMAT_VERSION};
use crate::digest::hex;
use crate::embed::{EmbedderSpec, SparseFeaturizer};
use crate::error::{Error, Result};
use crate::nn::{Dense, Head, Layer, LayerWeights, Precision, StoredWideDeep};
use half::f16;
use safetensors::tensor::Dtype;
use safetensors::SafeTensors;
use sha2::{Digest, Sha256};
use std::sync::Arc;

const FORMAT_TAG: &str = "l2core-model";
/// Prefix of the whole-file checksum, so that it can never equal a sum of anything else.
const DOMAIN: &[u8] = b"l2core-model/sha256/v2\n";

/// The network a model file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Weights {
    /// An MLP's stored layers, input first.
    Mlp(Vec<Layer>),
    /// A wide-and-deep network with the n-gram featuriser it reads.
    WideDeep {
        /// The fitted featuriser (vocabulary and IDF).
        featurizer: Arc<SparseFeaturizer>,
        /// The network.
        net: Arc<StoredWideDeep>,
    },
}

impl Weights {
    /// Which kind of network this is.
    pub fn kind(&self) -> NetKind {
        match self {
            Weights::Mlp(_) => NetKind::Mlp,
            Weights::WideDeep { .. } => NetKind::WideDeep,
        }
    }

    /// Precision of the weights (of the embedding table, for wide-and-deep).
    pub fn precision(&self) -> Precision {
        match self {
            Weights::Mlp(layers) => layers.first().map(Layer::precision).unwrap_or_default(),
            Weights::WideDeep { net, .. } => net.precision(),
        }
    }

    /// Hex sha256 over the tensor bytes, in file order.
    pub fn sha256(&self) -> String {
        let mut h = Sha256::new();
        for t in tensors(self) {
            h.update(&t.data);
        }
        hex(&h.finalize())
    }
}

/// Hex sha256 over the weight bytes of MLP `layers`, in file order (= [`Weights::sha256`]).
pub fn weights_sha256(layers: &[Layer]) -> String {
    Weights::Mlp(layers.to_vec()).sha256()
}

struct Tensor {
    name: String,
    dtype: Dtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

fn dtype_name(d: Dtype) -> &'static str {
    match d {
        Dtype::F32 => "F32",
        Dtype::F16 => "F16",
        Dtype::I8 => "I8",
        Dtype::U32 => "U32",
        _ => "?",
    }
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The tensors of a matrix `rows x cols` (`name.weight`, and `name.scale` for int8; `scale_name`
/// overrides the scale's name).
fn matrix(out: &mut Vec<Tensor>, name: &str, scale_name: &str, rows: usize, cols: usize, w: &LayerWeights) {
    let (dtype, data, scale) = match w {
        LayerWeights::F32(w) => (Dtype::F32, f32_bytes(w), None),
        LayerWeights::F16(w) => (Dtype::F16, w.iter().flat_map(|x| x.to_le_bytes()).collect(), None),
        LayerWeights::Int8 { q, scale } => (Dtype::I8, q.iter().map(|&x| x as u8).collect(), Some(f32_bytes(scale))),
    };
    out.push(Tensor { name: name.to_owned(), dtype, shape: vec![rows, cols], data });
    if let Some(s) = scale {
        out.push(Tensor { name: scale_name.to_owned(), dtype: Dtype::F32, shape: vec![rows], data: s });
    }
}

fn vector(out: &mut Vec<Tensor>, name: &str, v: &[f32]) {
    out.push(Tensor { name: name.to_owned(), dtype: Dtype::F32, shape: vec![v.len()], data: f32_bytes(v) });
}

fn layer_tensors(out: &mut Vec<Tensor>, prefix: &str, layers: &[Layer]) {
    for (i, l) in layers.iter().enumerate() {
        let p = format!("{prefix}.{i}");
        matrix(out, &format!("{p}.weight"), &format!("{p}.scale"), l.outputs, l.inputs, &l.weights);
        vector(out, &format!("{p}.bias"), &l.bias);
    }
}

fn tensors(weights: &Weights) -> Vec<Tensor> {
    let mut out = Vec::new();
    match weights {
        Weights::Mlp(layers) => layer_tensors(&mut out, "layers", layers),
        Weights::WideDeep { featurizer, net } => {
            let vocab: Vec<u8> = featurizer.vocab().iter().flat_map(|b| b.to_le_bytes()).collect();
            out.push(Tensor {
                name: "features.vocab".into(),
                dtype: Dtype::U32,
                shape: vec![net.features],
                data: vocab,
            });
            vector(&mut out, "features.idf", featurizer.idf());
            matrix(&mut out, "deep.table", "deep.scale", net.features, net.embed, &net.table);
            vector(&mut out, "deep.bias", &net.bias);
            layer_tensors(&mut out, "tail", &net.tail);
            if let Some(w) = &net.wide {
                vector(&mut out, "wide.weight", w);
            }
            for h in &net.heads {
                let (k, inputs) = (h.layer.outputs, h.layer.inputs);
                let name = format!("heads.{}", h.kind);
                out.push(Tensor {
                    name: format!("{name}.weight"),
                    dtype: Dtype::F32,
                    shape: vec![k, inputs],
                    data: f32_bytes(&h.layer.weight),
                });
                vector(&mut out, &format!("{name}.bias"), &h.layer.bias);
            }
        }
    }
    out
}

/// The whole-file checksum (see the module docs).
fn file_sha256(meta_json: &str, tensors: &[Tensor]) -> String {
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_le_bytes());
        h.update(b);
    };
    field(DOMAIN);
    field(meta_json.as_bytes());
    for t in tensors {
        field(t.name.as_bytes());
        field(dtype_name(t.dtype).as_bytes());
        let shape: Vec<u8> = t.shape.iter().flat_map(|&d| (d as u64).to_le_bytes()).collect();
        field(&shape);
        field(&t.data);
    }
    hex(&h.finalize())
}

/// Serialise weights and metadata to bytes. The header is written here rather than by
/// `safetensors::serialize`, whose metadata map has no fixed key order: the same model always gives the
/// same bytes (sorted JSON keys, tensors in a fixed order), and `SafeTensors::deserialize` reads it back.
pub fn to_bytes(meta: &ModelMeta, weights: &Weights) -> Result<Vec<u8>> {
    let tensors = tensors(weights);
    let mut meta = meta.clone();
    meta.format_version = FORMAT_VERSION;
    let meta_json = serde_json::to_string(&meta).map_err(|e| Error::json("model metadata", e))?;
    let mut wh = Sha256::new();
    tensors.iter().for_each(|t| wh.update(&t.data));
    let mut header = serde_json::Map::new();
    header.insert(
        "__metadata__".into(),
        serde_json::json!({
            "format": FORMAT_TAG,
            "l2core_meta": meta_json,
            "weights_sha256": hex(&wh.finalize()),
            "sha256": file_sha256(&meta_json, &tensors),
        }),
    );
    let mut offset = 0usize;
    for t in &tensors {
        header.insert(
            t.name.clone(),
            serde_json::json!({ "dtype": dtype_name(t.dtype), "shape": t.shape, "data_offsets": [offset, offset + t.data.len()] }),
        );
        offset += t.data.len();
    }
    let mut head = serde_json::to_vec(&header).map_err(|e| Error::json("model header", e))?;
    // safetensors pads the header with spaces to a multiple of 8 so that tensor data is aligned.
    head.resize(head.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + head.len() + offset);
    out.extend_from_slice(&(head.len() as u64).to_le_bytes());
    out.extend_from_slice(&head);
    for t in &tensors {
        out.extend_from_slice(&t.data);
    }
    Ok(out)
}

/// Reads the tensors of a file against what the architecture needs.
struct Reader<'a> {
    tensors: &'a SafeTensors<'a>,
    source: &'a str,
    read: Vec<Tensor>,
}

impl Reader<'_> {
    fn bad(&self, reason: String) -> Error {
        Error::model(self.source, reason)
    }

    fn get(&mut self, name: &str, dtype: Dtype, shape: &[usize]) -> Result<&[u8]> {
        let t = self.tensors.tensor(name).map_err(|_| self.bad(format!("tensor {name} is missing")))?;
        if t.dtype() != dtype || t.shape() != shape {
            return Err(self.bad(format!(
                "tensor {name} is {:?} {:?}, the architecture needs {dtype:?} {shape:?}",
                t.dtype(),
                t.shape()
            )));
        }
        self.read.push(Tensor { name: name.to_owned(), dtype, shape: shape.to_vec(), data: t.data().to_vec() });
        Ok(&self.read[self.read.len() - 1].data)
    }

    fn f32s(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        Ok(self
            .get(name, Dtype::F32, shape)?
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    fn matrix(&mut self, name: &str, scale: &str, rows: usize, cols: usize, p: Precision) -> Result<LayerWeights> {
        Ok(match p {
            Precision::F32 => LayerWeights::F32(self.f32s(name, &[rows, cols])?),
            Precision::F16 => LayerWeights::F16(
                self.get(name, Dtype::F16, &[rows, cols])?
                    .chunks_exact(2)
                    .map(|c| f16::from_le_bytes([c[0], c[1]]))
                    .collect(),
            ),
            Precision::Int8 => LayerWeights::Int8 {
                q: self.get(name, Dtype::I8, &[rows, cols])?.iter().map(|&b| b as i8).collect(),
                scale: self.f32s(scale, &[rows])?,
            },
        })
    }

    fn layers(&mut self, prefix: &str, widths: &[usize], p: Precision) -> Result<Vec<Layer>> {
        let mut layers = Vec::with_capacity(widths.len().saturating_sub(1));
        for (i, w) in widths.windows(2).enumerate() {
            let (inputs, outputs) = (w[0], w[1]);
            let n = format!("{prefix}.{i}");
            let weights = self.matrix(&format!("{n}.weight"), &format!("{n}.scale"), outputs, inputs, p)?;
            let layer = Layer { inputs, outputs, weights, bias: self.f32s(&format!("{n}.bias"), &[outputs])? };
            layer.check(&n).map_err(|e| self.bad(e.to_string()))?;
            layers.push(layer);
        }
        Ok(layers)
    }
}

/// Parse and verify model bytes; `source_name` (a path or `<bytes>`) names them in errors.
pub fn from_bytes(bytes: &[u8], source_name: &str) -> Result<(ModelMeta, Weights)> {
    let bad = |reason: String| Error::model(source_name, reason);
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(format!("not a readable model file (truncated or corrupt safetensors: {e})")))?;
    let tensors = SafeTensors::deserialize(bytes)
        .map_err(|e| bad(format!("not a readable model file (truncated or corrupt safetensors: {e})")))?;
    let md = header.metadata().as_ref().ok_or_else(|| bad("no metadata header: not an l2core model".into()))?;
    if md.get("format").map(String::as_str) != Some(FORMAT_TAG) {
        return Err(bad(format!("format is {:?}, expected {FORMAT_TAG:?}: not an l2core model", md.get("format"))));
    }
    let meta_json = md.get("l2core_meta").ok_or_else(|| bad("metadata key l2core_meta is missing".into()))?;
    let probe: serde_json::Value =
        serde_json::from_str(meta_json).map_err(|e| bad(format!("metadata is not JSON: {e}")))?;
    let version = probe.get("format_version").and_then(serde_json::Value::as_u64);
    let version = match version {
        Some(v) if (u64::from(OLDEST_FORMAT_VERSION)..=u64::from(FORMAT_VERSION)).contains(&v) => v as u32,
        _ => {
            return Err(bad(format!(
                "format_version {version:?} is not supported by l2core {} (supports {OLDEST_FORMAT_VERSION} to {FORMAT_VERSION})",
                crate::VERSION
            )))
        }
    };
    let known: &[&str] = if version >= 2 {
        &["format", "l2core_meta", "weights_sha256", "sha256"]
    } else {
        &["format", "l2core_meta", "weights_sha256"]
    };
    if let Some(k) = md.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(bad(format!("unknown metadata key {k:?}: not written by this format version")));
    }
    let meta: ModelMeta = serde_json::from_value(probe).map_err(|e| bad(format!("metadata: {e}")))?;
    meta.architecture.check().map_err(|e| bad(e.to_string()))?;

    let arch = &meta.architecture;
    let mut r = Reader { tensors: &tensors, source: source_name, read: Vec::new() };
    let weights = match arch.kind {
        NetKind::Mlp => {
            let mut widths = vec![arch.input_dims];
            widths.extend(&arch.hidden);
            widths.push(1);
            Weights::Mlp(r.layers("layers", &widths, meta.precision)?)
        }
        NetKind::WideDeep => {
            let EmbedderSpec::Ngrams(spec) = &meta.embedder else {
                return Err(bad("a wide_deep network needs the ngrams featuriser".into()));
            };
            let (k, e) = (arch.input_dims, arch.embed.unwrap_or(0));
            let vocab = r
                .get("features.vocab", Dtype::U32, &[k])?
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            let idf = r.f32s("features.idf", &[k])?;
            let featurizer = SparseFeaturizer::from_parts(spec.clone(), vocab, idf).map_err(|e| bad(e.to_string()))?;
            let table = r.matrix("deep.table", "deep.scale", k, e, meta.precision)?;
            let bias = r.f32s("deep.bias", &[e])?;
            let mut widths = vec![e];
            widths.extend(&arch.hidden);
            widths.push(1);
            let tail = r.layers("tail", &widths, Precision::F32)?;
            let wide = if arch.wide == Some(true) { Some(r.f32s("wide.weight", &[k])?) } else { None };
            let h = widths[widths.len() - 2];
            let mut heads = Vec::with_capacity(arch.heads.len());
            for (&kind, labels) in &arch.heads {
                let n = labels.len();
                let weight = r.f32s(&format!("heads.{kind}.weight"), &[n, h])?;
                let bias = r.f32s(&format!("heads.{kind}.bias"), &[n])?;
                heads.push(Head { kind, labels: labels.clone(), layer: Dense { inputs: h, outputs: n, weight, bias } });
            }
            let net = StoredWideDeep { features: k, embed: e, table, bias, tail, wide, heads };
            net.check().map_err(|e| bad(e.to_string()))?;
            Weights::WideDeep { featurizer: Arc::new(featurizer), net: Arc::new(net) }
        }
    };
    if tensors.len() != r.read.len() {
        let unknown: Vec<String> = tensors
            .names()
            .into_iter()
            .filter(|n| !r.read.iter().any(|t| t.name == **n))
            .map(|n| n.to_string())
            .collect();
        return Err(bad(format!(
            "file holds {} tensors, the architecture explains {} (unexplained: {})",
            tensors.len(),
            r.read.len(),
            unknown.join(", ")
        )));
    }
    let stored = md.get("weights_sha256").ok_or_else(|| bad("metadata key weights_sha256 is missing".into()))?;
    let mut wh = Sha256::new();
    r.read.iter().for_each(|t| wh.update(&t.data));
    let actual = hex(&wh.finalize());
    if *stored != actual {
        return Err(bad(format!(
            "weights do not match their sha256 (stored {stored}, computed {actual}): corrupt file"
        )));
    }
    if version >= 2 {
        let stored = md.get("sha256").ok_or_else(|| bad("metadata key sha256 is missing".into()))?;
        let actual = file_sha256(meta_json, &r.read);
        if *stored != actual {
            return Err(bad(format!(
                "the file does not match its sha256 (stored {stored}, computed {actual}): corrupt or edited file"
            )));
        }
    }
    Ok((meta, weights))
}
