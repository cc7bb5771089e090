//! The model file: a safetensors container whose tensors are the layers and whose JSON header holds
//! [`ModelMeta`] plus a sha256 of the weights.
//!
//! Tensors: `layers.{i}.weight` (`[outputs, inputs]`, F32, F16 or I8), `layers.{i}.bias` (`[outputs]`,
//! F32), and for int8 `layers.{i}.scale` (`[outputs]`, F32). Header metadata: `format` =
//! `l2core-model`, `l2core_meta` = the JSON of [`ModelMeta`], `weights_sha256` = sha256 (hex) over every
//! tensor's bytes in layer order (weight, scale, bias). Loading rejects a file that is truncated, not
//! safetensors, of another format or version, whose tensors disagree with the architecture, or whose
//! weights do not match the hash.

use super::meta::{ModelMeta, FORMAT_VERSION};
use crate::digest::hex;
use crate::error::{Error, Result};
use crate::nn::{Layer, LayerWeights, Precision};
use half::f16;
use safetensors::tensor::Dtype;
use safetensors::SafeTensors;
use sha2::{Digest, Sha256};

const FORMAT_TAG: &str = "l2core-model";

/// Hex sha256 over the weight bytes of `layers`, in file order.
pub fn weights_sha256(layers: &[Layer]) -> String {
    let mut h = Sha256::new();
    for l in layers {
        let (w, s) = layer_bytes(l);
        h.update(&w);
        if let Some(s) = s {
            h.update(&s);
        }
        h.update(f32_bytes(&l.bias));
    }
    hex(&h.finalize())
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn layer_bytes(l: &Layer) -> (Vec<u8>, Option<Vec<u8>>) {
    match &l.weights {
        LayerWeights::F32(w) => (f32_bytes(w), None),
        LayerWeights::F16(w) => (w.iter().flat_map(|x| x.to_le_bytes()).collect(), None),
        LayerWeights::Int8 { q, scale } => (q.iter().map(|&x| x as u8).collect(), Some(f32_bytes(scale))),
    }
}

/// Serialise layers and metadata to bytes. The header is written here rather than by
/// `safetensors::serialize`, whose metadata map has no fixed key order: the same model always gives the
/// same bytes (sorted JSON keys, tensors in layer order), and `SafeTensors::deserialize` reads it back.
pub fn to_bytes(meta: &ModelMeta, layers: &[Layer]) -> Result<Vec<u8>> {
    let mut tensors: Vec<(String, &'static str, Vec<usize>, Vec<u8>)> = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let (w, s) = layer_bytes(l);
        let dtype = match l.precision() {
            Precision::F32 => "F32",
            Precision::F16 => "F16",
            Precision::Int8 => "I8",
        };
        tensors.push((format!("layers.{i}.weight"), dtype, vec![l.outputs, l.inputs], w));
        if let Some(s) = s {
            tensors.push((format!("layers.{i}.scale"), "F32", vec![l.outputs], s));
        }
        tensors.push((format!("layers.{i}.bias"), "F32", vec![l.outputs], f32_bytes(&l.bias)));
    }
    let meta_json = serde_json::to_string(meta).map_err(|e| Error::json("model metadata", e))?;
    let mut header = serde_json::Map::new();
    header.insert(
        "__metadata__".into(),
        serde_json::json!({ "format": FORMAT_TAG, "l2core_meta": meta_json, "weights_sha256": weights_sha256(layers) }),
    );
    let mut offset = 0usize;
    for (name, dtype, shape, data) in &tensors {
        header.insert(
            name.clone(),
            serde_json::json!({ "dtype": dtype, "shape": shape, "data_offsets": [offset, offset + data.len()] }),
        );
        offset += data.len();
    }
    let mut head = serde_json::to_vec(&header).map_err(|e| Error::json("model header", e))?;
    // safetensors pads the header with spaces to a multiple of 8 so that tensor data is aligned.
    head.resize(head.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + head.len() + offset);
    out.extend_from_slice(&(head.len() as u64).to_le_bytes());
    out.extend_from_slice(&head);
    for (_, _, _, data) in &tensors {
        out.extend_from_slice(data);
    }
    Ok(out)
}

/// Parse and verify model bytes; `source_name` (a path or `<bytes>`) names them in errors.
pub fn from_bytes(bytes: &[u8], source_name: &str) -> Result<(ModelMeta, Vec<Layer>)> {
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
    if version != Some(u64::from(FORMAT_VERSION)) {
        return Err(bad(format!(
            "format_version {version:?} is not supported by l2core {} (supports {FORMAT_VERSION})",
            crate::VERSION
        )));
    }
    let meta: ModelMeta = serde_json::from_value(probe).map_err(|e| bad(format!("metadata: {e}")))?;

    let arch = &meta.architecture;
    let mut widths = vec![arch.input_dims];
    widths.extend(&arch.hidden);
    widths.push(1);
    let mut layers = Vec::with_capacity(widths.len() - 1);
    for (i, w) in widths.windows(2).enumerate() {
        let (inputs, outputs) = (w[0], w[1]);
        let get = |suffix: &str, dtype: Dtype, shape: &[usize]| -> Result<Vec<u8>> {
            let name = format!("layers.{i}.{suffix}");
            let t = tensors.tensor(&name).map_err(|_| bad(format!("tensor {name} is missing")))?;
            if t.dtype() != dtype || t.shape() != shape {
                return Err(bad(format!(
                    "tensor {name} is {:?} {:?}, the architecture needs {dtype:?} {shape:?}",
                    t.dtype(),
                    t.shape()
                )));
            }
            Ok(t.data().to_vec())
        };
        let f32s = |b: Vec<u8>| -> Vec<f32> {
            b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
        };
        let weights = match meta.precision {
            Precision::F32 => LayerWeights::F32(f32s(get("weight", Dtype::F32, &[outputs, inputs])?)),
            Precision::F16 => LayerWeights::F16(
                get("weight", Dtype::F16, &[outputs, inputs])?
                    .chunks_exact(2)
                    .map(|c| f16::from_le_bytes([c[0], c[1]]))
                    .collect(),
            ),
            Precision::Int8 => LayerWeights::Int8 {
                q: get("weight", Dtype::I8, &[outputs, inputs])?.into_iter().map(|b| b as i8).collect(),
                scale: f32s(get("scale", Dtype::F32, &[outputs])?),
            },
        };
        let layer = Layer { inputs, outputs, weights, bias: f32s(get("bias", Dtype::F32, &[outputs])?) };
        layer.check(&format!("layers.{i}")).map_err(|e| bad(e.to_string()))?;
        layers.push(layer);
    }
    let expected = tensors.len();
    let used = layers.iter().map(|l| if l.precision() == Precision::Int8 { 3 } else { 2 }).sum::<usize>();
    if expected != used {
        return Err(bad(format!("file holds {expected} tensors, the architecture explains {used}")));
    }
    let stored = md.get("weights_sha256").ok_or_else(|| bad("metadata key weights_sha256 is missing".into()))?;
    let actual = weights_sha256(&layers);
    if *stored != actual {
        return Err(bad(format!(
            "weights do not match their sha256 (stored {stored}, computed {actual}): corrupt file"
        )));
    }
    Ok((meta, layers))
}
