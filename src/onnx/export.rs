//! The network to ONNX: a standard graph any ONNX runtime executes, written from Rust (no Python, no protoc).
//!
//! The graph (opset [`OPSET`], IR version [`IR_VERSION`]):
//!
//! ```text
//! embeddings  float [N, dims]            (N is the dynamic dimension "N")
//!   -> Gemm(x, W_0, b_0, transB=1) -> Relu -> ... -> Gemm(x, W_last, b_last, transB=1) -> Sigmoid
//! probability float [N, 1]
//! ```
//!
//! `W_i` is the stored `[outputs, inputs]` row-major matrix, so no transpose is materialised. Per
//! precision the weight comes from:
//! - `f32`: a FLOAT initializer;
//! - `f16`: a FLOAT16 initializer followed by `Cast(to=FLOAT)` (the same f16 values the native engine
//!   widens, so weights are bit-identical);
//! - `int8`: an INT8 initializer with one FLOAT scale per output row and zero points of 0, through
//!   `DequantizeLinear(axis=0)` (per-axis dequantization, opset >= 13): `w = q * scale[row]`, exactly the
//!   stored form. Biases stay FLOAT at every precision, as in the model file.
//! - `int8` with [`Int8Activations::DynamicPerRow`]: the native int8 kernels' arithmetic instead
//!   (activations quantized per row, integer products): per layer
//!   `m = ReduceMax(Abs(x), axis 1)`, `x_q = Cast<int8>(Clip(Round(x * (127 / m)), -127, 127))` (q = 0 for an
//!   all-zero row), `MatMulInteger(x_q, W_q^T)` (int32), then `Cast<float> * (scale * m / 127) + b`: the
//!   native kernels' arithmetic step for step. Still only
//!   standard opset-17 operators, so any runtime runs it; closer to the native int8 scores, and int8
//!   products where the runtime has them.
//! - `int8` with [`Int8Activations::DynamicPerTensor`]: the graph
//!   `onnxruntime.quantization.quantize_dynamic(per_channel=True, weight_type=QInt8)` makes of the
//!   network (ONNX Runtime's own int8 method, which it fuses into its `DynamicQuantizeMatMul` kernel):
//!   per layer `DynamicQuantizeLinear(x) -> MatMulInteger(x_q, W_q^T, x_zp, 0) -> Cast<float> *
//!   (x_scale * scale) + b`, activations quantized per tensor to u8. `l2 bench` runs it as ONNX Runtime's
//!   int8 side; its scores depend on the batch (the scale is per tensor) and differ more from the native
//!   engine's than the other two.
//!
//! A wide-and-deep network (graph `l2core_wide_deep`) takes the model's sparse n-gram features,
//! padded per batch: `feature_index` int64 [N, K] and `feature_value` float [N, K] (index 0 with
//! value 0 pads; `K` is dynamic). Featurising text (canonical form, hashing, vocabulary, IDF) stays
//! outside the graph, as embedding does for an MLP: `l2core.Model.features` (Python) or
//! [`crate::Model::features`] gives the rows. The graph:
//!
//! ```text
//! rows = Gather(table, feature_index)                  [N, K, E]  (f16: then Cast; int8: Cast, and
//! bag  = Relu(ReduceSum(rows * value[.., None], 1) + bias)           value *= Gather(scale, index))
//! logit = tail(bag) + ReduceSum(Gather(wide, index) * value, 1)     (tail: Gemm/Relu as above, f32)
//! probability = Sigmoid(logit)                         [N, 1]
//! ```
//!
//! Its metadata adds `kind` (`wide_deep`), `text` (the [`crate::text::TextSpec`] JSON), `features`,
//! `embed` and `wide`.
//!
//! Model metadata (`metadata_props`): `threshold`, `embedder` (the [`crate::embed::EmbedderSpec`] JSON),
//! `l2core_version`, `precision`, `source_precision`, `input_dims`, `hidden` (JSON list),
//! `weights_sha256` (of the exported layers, as in the model file), `created`.

use super::proto::{self, attribute_type, data_type};
use crate::embed::SparseFeaturizer;
use crate::error::{Error, Result};
use crate::model::{weights_sha256, Layer, LayerWeights, ModelMeta, Precision, StoredWideDeep, Weights};
use crate::Model;
use prost::Message;
use std::collections::BTreeMap;
use std::sync::Arc;

/// ONNX operator set version of the exported graph (default domain).
pub const OPSET: i64 = 17;
/// ONNX IR version matching [`OPSET`].
pub const IR_VERSION: i64 = 8;
/// Name of the graph input.
pub const INPUT_NAME: &str = "embeddings";
/// Name of the graph output.
pub const OUTPUT_NAME: &str = "probability";

/// Names of the inputs of a wide-and-deep graph: per row, `K` feature indices (int64, into the
/// model's vocabulary) and their values (float), padded with index 0 and value 0.
pub const FEATURE_INDEX: &str = "feature_index";
/// See [`FEATURE_INDEX`].
pub const FEATURE_VALUE: &str = "feature_value";

/// An exported graph together with the weights it encodes.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The serialized `ModelProto`.
    pub bytes: Vec<u8>,
    /// Weight precision of the graph.
    pub precision: Precision,
    /// The weights at that precision (the model's own, or converted from it); the native engine scores
    /// these to validate the graph.
    pub weights: Weights,
}

impl Exported {
    /// The graph's input names: [`INPUT_NAME`] for an MLP, [`FEATURE_INDEX`] and [`FEATURE_VALUE`]
    /// for a wide-and-deep network.
    pub fn input_names(&self) -> &'static [&'static str] {
        match self.weights {
            Weights::Mlp(_) => &[INPUT_NAME],
            Weights::WideDeep { .. } => &[FEATURE_INDEX, FEATURE_VALUE],
        }
    }

    /// The graph's output names: [`OUTPUT_NAME`], then each head's ([`head_output`]) in order.
    pub fn output_names(&self) -> Vec<&'static str> {
        let mut names = vec![OUTPUT_NAME];
        if let Weights::WideDeep { net, .. } = &self.weights {
            names.extend(net.heads.iter().map(|h| head_output(h.kind)));
        }
        names
    }
}

/// How an int8 graph treats activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Int8Activations {
    /// Whichever of the two the native engine's int8 kernels compute (default): decided by scoring
    /// probe inputs natively and with both emulations ([`native_int8_activations`]).
    #[default]
    Auto,
    /// Float activations, weights through `DequantizeLinear` (the plainest standard graph).
    Float,
    /// Activations quantized per row to int8 and `MatMulInteger`, like the native int8 kernels.
    DynamicPerRow,
    /// Activations quantized per tensor to u8 by `DynamicQuantizeLinear`, as ONNX Runtime's
    /// `quantize_dynamic` does.
    DynamicPerTensor,
}

impl std::str::FromStr for Int8Activations {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(Int8Activations::Auto),
            "float" => Ok(Int8Activations::Float),
            "dynamic" | "dynamic_per_row" => Ok(Int8Activations::DynamicPerRow),
            "per_tensor" | "dynamic_per_tensor" => Ok(Int8Activations::DynamicPerTensor),
            _ => Err(Error::param("int8-activations", s, "expected auto, float, dynamic or per_tensor")),
        }
    }
}

/// Export settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportOptions {
    /// Weight precision (`None`: the model's own).
    pub precision: Option<Precision>,
    /// Activations of an int8 graph (ignored for f32 / f16).
    pub int8_activations: Int8Activations,
}

/// Export `model` at `precision` (`None`: the model's own precision). A different precision converts
/// the weights first (see [`convert_layers`]).
pub fn export(model: &Model, precision: Option<Precision>) -> Result<Exported> {
    export_with(model, &ExportOptions { precision, ..ExportOptions::default() })
}

/// Export `model` with `opts`.
pub fn export_with(model: &Model, opts: &ExportOptions) -> Result<Exported> {
    let precision = opts.precision.unwrap_or(model.precision());
    match model.weights() {
        Weights::Mlp(layers) => export_layers_with(model.meta(), layers, precision, opts.int8_activations),
        Weights::WideDeep { featurizer, net } => export_wide_deep(model.meta(), featurizer, net, precision),
    }
}

/// Convert `weights` to `precision` as [`convert_layers`] does; a wide-and-deep network converts its
/// table (the tail and the wide term are f32 at every precision, as in the model file).
pub fn convert_weights(weights: &Weights, precision: Precision) -> Result<Weights> {
    Ok(match weights {
        Weights::Mlp(layers) => Weights::Mlp(convert_layers(layers, precision)?),
        Weights::WideDeep { featurizer, net } => {
            let table = if net.table.precision() == precision {
                net.table.clone()
            } else {
                let f32_table = LayerWeights::F32(net.table.to_f32(net.embed));
                crate::infer::quantize::quantize_matrix(&f32_table, net.embed, precision)?
            };
            Weights::WideDeep {
                featurizer: featurizer.clone(),
                net: std::sync::Arc::new(StoredWideDeep { table, ..(**net).clone() }),
            }
        }
    })
}

/// The wide-and-deep graph (see the module docs): embedding bag by `Gather` + `Mul` + `ReduceSum`,
/// the f32 tail, the wide term, `Sigmoid`.
fn export_wide_deep(
    meta: &ModelMeta,
    featurizer: &Arc<SparseFeaturizer>,
    net: &Arc<StoredWideDeep>,
    precision: Precision,
) -> Result<Exported> {
    net.check()?;
    let weights = convert_weights(&Weights::WideDeep { featurizer: featurizer.clone(), net: net.clone() }, precision)?;
    let Weights::WideDeep { net: converted, .. } = &weights else {
        return Err(Error::model("<export>", "converting a wide-and-deep network gave another kind"));
    };
    let graph = wide_deep_graph(converted)?;
    let mut props = BTreeMap::new();
    props.insert("kind", "wide_deep".to_string());
    props.insert("threshold", meta.threshold.to_string());
    props.insert("embedder", serde_json::to_string(&meta.embedder).map_err(|e| Error::json("embedder spec", e))?);
    props.insert("text", serde_json::to_string(&meta.text).map_err(|e| Error::json("text spec", e))?);
    props.insert("l2core_version", crate::VERSION.to_string());
    props.insert("precision", precision.to_string());
    props.insert("source_precision", meta.precision.to_string());
    props.insert("features", converted.features.to_string());
    props.insert("embed", converted.embed.to_string());
    let hidden: Vec<usize> = converted.tail[..converted.tail.len() - 1].iter().map(|l| l.outputs).collect();
    props.insert("hidden", serde_json::to_string(&hidden).map_err(|e| Error::json("hidden widths", e))?);
    props.insert("wide", converted.wide.is_some().to_string());
    for h in &converted.heads {
        let labels = serde_json::to_string(&h.labels).map_err(|e| Error::json("head labels", e))?;
        props.insert(head_output(h.kind), labels);
    }
    props.insert("weights_sha256", weights.sha256());
    props.insert("created", meta.created.clone());
    let doc = "L2 malicious-prompt classifier (wide and deep): feature_index int64 [N, K] and feature_value \
               float [N, K] (the model's n-gram features, padded with index 0 and value 0) -> probability [N, 1]";
    Ok(Exported { bytes: model_proto(graph, doc, props).encode_to_vec(), precision, weights })
}

fn model_proto(graph: proto::GraphProto, doc: &str, props: BTreeMap<&str, String>) -> proto::ModelProto {
    proto::ModelProto {
        ir_version: IR_VERSION,
        producer_name: "l2core".into(),
        producer_version: crate::VERSION.into(),
        domain: "ai.l2core".into(),
        model_version: 1,
        doc_string: doc.into(),
        graph: Some(graph),
        opset_import: vec![proto::OperatorSetIdProto { domain: String::new(), version: OPSET }],
        metadata_props: props
            .into_iter()
            .map(|(k, v)| proto::StringStringEntryProto { key: k.into(), value: v })
            .collect(),
    }
}

/// Export stored `layers` described by `meta` at `precision`.
pub fn export_layers(meta: &ModelMeta, layers: &[Layer], precision: Precision) -> Result<Exported> {
    export_layers_with(meta, layers, precision, Int8Activations::Float)
}

fn export_layers_with(
    meta: &ModelMeta,
    layers: &[Layer],
    precision: Precision,
    acts: Int8Activations,
) -> Result<Exported> {
    if layers.is_empty() {
        return Err(Error::model("<in memory>", "no layers to export"));
    }
    if layers.last().map(|l| l.outputs) != Some(1) {
        return Err(Error::model("<in memory>", "the last layer must have one output (the logit)"));
    }
    for (i, w) in layers.windows(2).enumerate() {
        if w[0].outputs != w[1].inputs {
            return Err(Error::shape(format!("layers.{} inputs", i + 1), w[0].outputs, w[1].inputs));
        }
    }
    for (i, l) in layers.iter().enumerate() {
        l.check(&format!("layers.{i}"))?;
    }
    let layers = convert_layers(layers, precision)?;
    let acts = match (precision, acts) {
        (Precision::Int8, Int8Activations::Auto) => native_int8_activations(&layers)?,
        (Precision::Int8, a) => a,
        _ => Int8Activations::Float,
    };
    let graph = build_graph(&layers, acts)?;
    let hidden: Vec<usize> = layers[..layers.len() - 1].iter().map(|l| l.outputs).collect();
    let mut props = BTreeMap::new();
    props.insert("threshold", meta.threshold.to_string());
    props.insert("embedder", serde_json::to_string(&meta.embedder).map_err(|e| Error::json("embedder spec", e))?);
    props.insert("l2core_version", crate::VERSION.to_string());
    props.insert("precision", precision.to_string());
    if precision == Precision::Int8 {
        let a = match acts {
            Int8Activations::DynamicPerRow => "dynamic_per_row",
            Int8Activations::DynamicPerTensor => "dynamic_per_tensor",
            _ => "float",
        };
        props.insert("int8_activations", a.to_string());
    }
    props.insert("source_precision", meta.precision.to_string());
    props.insert("input_dims", layers[0].inputs.to_string());
    props.insert("hidden", serde_json::to_string(&hidden).map_err(|e| Error::json("hidden widths", e))?);
    props.insert("weights_sha256", weights_sha256(&layers));
    props.insert("created", meta.created.clone());
    let doc = "L2 malicious-prompt classifier: embeddings [N, dims] -> probability [N, 1]";
    Ok(Exported { bytes: model_proto(graph, doc, props).encode_to_vec(), precision, weights: Weights::Mlp(layers) })
}

/// Convert stored layers to `precision`: f16 rounds to nearest; int8 is symmetric per output row,
/// `scale = max|w| / 127`, `q = round_half_even(w / scale)` (a zero row gets scale 0; the same rule as
/// `l2 quantize`); from int8 the weights are dequantized first. Same precision returns the layers
/// unchanged.
pub fn convert_layers(layers: &[Layer], precision: Precision) -> Result<Vec<Layer>> {
    if layers.iter().all(|l| l.precision() == Precision::F32) {
        // The same quantizer as `l2 quantize`, so an exported int8 graph of an f32 model holds the very
        // weights `l2 quantize` would store.
        return crate::infer::quantize::quantize_layers(layers, precision);
    }
    layers
        .iter()
        .map(|l| {
            if l.precision() == precision {
                return Ok(l.clone());
            }
            // Dequantize, then the one quantizer: converted weights follow exactly `l2 quantize`'s rule.
            let f32_layer = Layer {
                inputs: l.inputs,
                outputs: l.outputs,
                weights: LayerWeights::F32(f32_weights(l)),
                bias: l.bias.clone(),
            };
            crate::infer::quantize::quantize_layers(std::slice::from_ref(&f32_layer), precision)?
                .pop()
                .ok_or_else(|| Error::model("<export>", "quantizing a layer gave no layer"))
        })
        .collect()
}

/// Which activation arithmetic the native int8 engine uses for these (int8) layers: scores 16
/// heavy-tailed probe rows with [`crate::infer::Scorer`] and with both emulations (f64), and returns the
/// closer one ([`Int8Activations::Float`] on a tie). The graph then matches the engine whichever int8
/// kernels this build has.
pub fn native_int8_activations(layers: &[Layer]) -> Result<Int8Activations> {
    let d = layers.first().map_or(0, |l| l.inputs);
    let mut rng = crate::rng::Rng::new(0x5eed);
    let rows = 16;
    let x: Vec<f32> = (0..rows * d).map(|_| rng.normal().powi(3)).collect();
    let mut native = vec![0.0; rows];
    crate::infer::Scorer::new(layers)?.score_into(&x, &mut native)?;
    let (mut float_gap, mut dyn_gap) = (0.0f64, 0.0f64);
    for (row, &n) in x.chunks_exact(d).zip(&native) {
        float_gap += (emulate_int8(layers, row, false) - f64::from(n)).abs();
        dyn_gap += (emulate_int8(layers, row, true) - f64::from(n)).abs();
    }
    Ok(if dyn_gap < float_gap { Int8Activations::DynamicPerRow } else { Int8Activations::Float })
}

fn emulate_int8(layers: &[Layer], x: &[f32], dynamic: bool) -> f64 {
    let mut cur: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    for (i, l) in layers.iter().enumerate() {
        let LayerWeights::Int8 { q, scale } = &l.weights else { return f64::NAN };
        let amax = cur.iter().fold(0.0f64, |m, v| m.max(v.abs())) as f32;
        let xs = if dynamic { amax / 127.0 } else { 1.0 };
        let xq: Vec<f64> = if !dynamic {
            cur.clone()
        } else if amax == 0.0 {
            vec![0.0; cur.len()]
        } else {
            let inv = 127.0 / amax;
            cur.iter().map(|&v| f64::from((v as f32 * inv).round_ties_even().clamp(-127.0, 127.0))).collect()
        };
        let mut next: Vec<f64> = (0..l.outputs)
            .map(|o| {
                let acc: f64 =
                    q[o * l.inputs..(o + 1) * l.inputs].iter().zip(&xq).map(|(&w, &v)| f64::from(w) * v).sum();
                acc * f64::from(xs) * f64::from(scale[o]) + f64::from(l.bias[o])
            })
            .collect();
        if i + 1 < layers.len() {
            next.iter_mut().for_each(|v| *v = v.max(0.0));
        }
        cur = next;
    }
    1.0 / (1.0 + (-cur[0]).exp())
}

fn f32_weights(l: &Layer) -> Vec<f32> {
    match &l.weights {
        LayerWeights::F32(w) => w.clone(),
        LayerWeights::F16(w) => w.iter().map(|v| v.to_f32()).collect(),
        LayerWeights::Int8 { q, scale } => q
            .chunks_exact(l.inputs)
            .zip(scale)
            .flat_map(|(row, &s)| row.iter().map(move |&v| f32::from(v) * s))
            .collect(),
    }
}

fn dims_i64(what: &str, v: &[usize]) -> Result<Vec<i64>> {
    v.iter().map(|&d| i64::try_from(d).map_err(|_| Error::shape(what, "a dimension below 2^63", d))).collect()
}

fn tensor(name: String, data_type: i32, dims: &[usize], raw_data: Vec<u8>) -> Result<proto::TensorProto> {
    Ok(proto::TensorProto { dims: dims_i64(&name, dims)?, data_type, name, raw_data })
}

fn f32_raw(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn node(
    op: &str,
    name: String,
    inputs: &[&str],
    output: &str,
    attribute: Vec<proto::AttributeProto>,
) -> proto::NodeProto {
    proto::NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.to_string()],
        name,
        op_type: op.into(),
        attribute,
        ..Default::default()
    }
}

fn ints_attr(name: &str, ints: Vec<i64>) -> proto::AttributeProto {
    proto::AttributeProto { name: name.into(), ints, r#type: attribute_type::INTS, ..Default::default() }
}

fn int_attr(name: &str, i: i64) -> proto::AttributeProto {
    proto::AttributeProto { name: name.into(), i, r#type: attribute_type::INT, ..Default::default() }
}

fn float_attr(name: &str, f: f32) -> proto::AttributeProto {
    proto::AttributeProto { name: name.into(), f, r#type: attribute_type::FLOAT, ..Default::default() }
}

fn value_info(name: &str, dims: [proto::dimension::Value; 2]) -> proto::ValueInfoProto {
    typed_value_info(name, data_type::FLOAT, dims)
}

fn typed_value_info(name: &str, elem_type: i32, dims: [proto::dimension::Value; 2]) -> proto::ValueInfoProto {
    proto::ValueInfoProto {
        name: name.into(),
        r#type: Some(proto::TypeProto {
            tensor_type: Some(proto::TypeProtoTensor {
                elem_type,
                shape: Some(proto::TensorShapeProto {
                    dim: dims.into_iter().map(|v| proto::Dimension { value: Some(v) }).collect(),
                }),
            }),
        }),
        doc_string: String::new(),
    }
}

/// Nodes of one int8 layer whose activations are quantized at run time, per row
/// ([`Int8Activations::DynamicPerRow`]) or per tensor ([`Int8Activations::DynamicPerTensor`]): `x` ->
/// pre-activation `out` (see the module docs).
fn integer_int8_layer(
    (prefix, i): (&str, usize),
    l: &Layer,
    (q, scale): (&[i8], &[f32]),
    (x, out): (&str, &str),
    per_row: bool,
    nodes: &mut Vec<proto::NodeProto>,
    inits: &mut Vec<proto::TensorProto>,
) -> Result<()> {
    let n = |s: &str| format!("{prefix}.{i}.{s}");
    // W_q^T, [inputs, outputs]: MatMulInteger has no transpose attribute.
    let mut qt = vec![0u8; q.len()];
    for o in 0..l.outputs {
        for k in 0..l.inputs {
            qt[k * l.outputs + o] = q[o * l.inputs + k] as u8;
        }
    }
    inits.push(tensor(n("weight_q_t"), data_type::INT8, &[l.inputs, l.outputs], qt)?);
    inits.push(tensor(n("scale"), data_type::FLOAT, &[l.outputs], f32_raw(scale))?);
    let to = |t: i32| vec![int_attr("to", i64::from(t))];
    let steps: Vec<(&str, Vec<String>, &str, Vec<proto::AttributeProto>)> = if per_row {
        // The native kernels' arithmetic (crate::infer::kernels): q = round_half_even(x * (127 / max|x|))
        // (the reciprocal, not x / s: hash embeddings repeat values, so one rounding tie flips many q at
        // once), y = acc * s * scale[o] + b with s = max|x| / 127; an all-zero row gives q = 0, s = 0.
        let c = |s: &str| s.to_string();
        vec![
            ("Abs", vec![c(x)], "abs", vec![]),
            ("ReduceMax", vec![n("abs")], "amax", vec![ints_attr("axes", vec![1]), int_attr("keepdims", 1)]),
            ("Equal", vec![n("amax"), c("const.0")], "zero_row", vec![]),
            ("Where", vec![n("zero_row"), c("const.1"), n("amax")], "amax_safe", vec![]),
            ("Div", vec![c("const.127"), n("amax_safe")], "inv", vec![]),
            ("Mul", vec![c(x), n("inv")], "xmul", vec![]),
            ("Round", vec![n("xmul")], "xround", vec![]),
            ("Clip", vec![n("xround"), c("const.-127"), c("const.127")], "xclip", vec![]),
            ("Cast", vec![n("xclip")], "xq", to(data_type::INT8)),
            ("MatMulInteger", vec![n("xq"), n("weight_q_t")], "acc", vec![]),
            ("Cast", vec![n("acc")], "accf", to(data_type::FLOAT)),
            ("Div", vec![n("amax"), c("const.127")], "xs", vec![]),
            // (acc * s) * scale, not acc * (scale * s) as natively: ONNX Runtime's MatMulIntegerToFloat
            // fusion mis-handles a [N, out] scale product (checked with 1.32: scores off by up to 0.3),
            // and the two orders differ by at most an ulp.
            ("Mul", vec![n("accf"), n("xs")], "acc_x", vec![]),
            ("Mul", vec![n("acc_x"), n("scale")], "acc_xw", vec![]),
        ]
    } else {
        // quantize_dynamic's form: u8 activations with a per-tensor scale and zero point.
        let mut quantize = node("DynamicQuantizeLinear", n("quantize"), &[x], &n("xq"), vec![]);
        quantize.output.extend([n("xs"), n("xz")]);
        nodes.push(quantize);
        vec![
            ("MatMulInteger", vec![n("xq"), n("weight_q_t"), n("xz"), "const.wzp".into()], "acc", vec![]),
            ("Cast", vec![n("acc")], "accf", to(data_type::FLOAT)),
            ("Mul", vec![n("xs"), n("scale")], "xs_w", vec![]),
            ("Mul", vec![n("accf"), n("xs_w")], "acc_xw", vec![]),
        ]
    };
    for (k, (op, inputs, output, attrs)) in steps.into_iter().enumerate() {
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        nodes.push(node(op, n(&format!("q{k}.{}", op.to_lowercase())), &inputs, &n(output), attrs));
    }
    nodes.push(node("Add", n("add_bias"), &[&n("acc_xw"), &n("bias")], out, vec![]));
    Ok(())
}

fn build_graph(layers: &[Layer], acts: Int8Activations) -> Result<proto::GraphProto> {
    use proto::dimension::Value::{DimParam, DimValue};
    let mut nodes = Vec::new();
    let mut inits = Vec::new();
    let logit = dense_layers(("layers", layers), acts, INPUT_NAME, &mut nodes, &mut inits)?;
    nodes.push(node("Sigmoid", "sigmoid".into(), &[&logit], OUTPUT_NAME, vec![]));
    let dims =
        i64::try_from(layers[0].inputs).map_err(|_| Error::shape("input dims", "below 2^63", layers[0].inputs))?;
    Ok(proto::GraphProto {
        node: nodes,
        name: "l2core_mlp".into(),
        initializer: inits,
        doc_string: String::new(),
        input: vec![value_info(INPUT_NAME, [DimParam("N".into()), DimValue(dims)])],
        output: vec![value_info(OUTPUT_NAME, [DimParam("N".into()), DimValue(1)])],
    })
}

/// Nodes and initializers of dense `layers` (named `{prefix}.{i}`) from `input`, ReLU between layers;
/// returns the name of the last layer's pre-activation (the logit, `[N, 1]`).
fn dense_layers(
    (prefix, layers): (&str, &[Layer]),
    acts: Int8Activations,
    input: &str,
    nodes: &mut Vec<proto::NodeProto>,
    inits: &mut Vec<proto::TensorProto>,
) -> Result<String> {
    if acts == Int8Activations::DynamicPerRow {
        for (name, v) in [("const.127", 127.0f32), ("const.-127", -127.0), ("const.0", 0.0), ("const.1", 1.0)] {
            inits.push(tensor(name.into(), data_type::FLOAT, &[], f32_raw(&[v]))?);
        }
    }
    if acts == Int8Activations::DynamicPerTensor {
        inits.push(tensor("const.wzp".into(), data_type::INT8, &[], vec![0])?);
    }
    let mut cur = input.to_string();
    for (i, l) in layers.iter().enumerate() {
        let shape = [l.outputs, l.inputs];
        let weight = format!("{prefix}.{i}.weight");
        let bias = format!("{prefix}.{i}.bias");
        let last = i + 1 == layers.len();
        let pre = format!("{prefix}.{i}.out");
        let relu = |nodes: &mut Vec<proto::NodeProto>| -> String {
            let out = format!("{prefix}.{i}.relu");
            nodes.push(node("Relu", format!("{prefix}.{i}.relu"), &[&pre], &out, vec![]));
            out
        };
        if let (Int8Activations::DynamicPerRow | Int8Activations::DynamicPerTensor, LayerWeights::Int8 { q, scale }) =
            (acts, &l.weights)
        {
            inits.push(tensor(bias.clone(), data_type::FLOAT, &[l.outputs], f32_raw(&l.bias))?);
            let per_row = acts == Int8Activations::DynamicPerRow;
            integer_int8_layer((prefix, i), l, (q, scale), (&cur, &pre), per_row, nodes, inits)?;
            cur = if last { pre.clone() } else { relu(nodes) };
            continue;
        }
        match &l.weights {
            LayerWeights::F32(w) => inits.push(tensor(weight.clone(), data_type::FLOAT, &shape, f32_raw(w))?),
            LayerWeights::F16(w) => {
                let src = format!("{prefix}.{i}.weight_f16");
                inits.push(tensor(
                    src.clone(),
                    data_type::FLOAT16,
                    &shape,
                    w.iter().flat_map(|x| x.to_le_bytes()).collect(),
                )?);
                nodes.push(node("Cast", format!("{prefix}.{i}.cast"), &[&src], &weight, vec![int_attr("to", 1)]));
            }
            LayerWeights::Int8 { q, scale } => {
                let (qn, sn, zn) = (
                    format!("{prefix}.{i}.weight_q"),
                    format!("{prefix}.{i}.scale"),
                    format!("{prefix}.{i}.zero_point"),
                );
                inits.push(tensor(qn.clone(), data_type::INT8, &shape, q.iter().map(|&v| v as u8).collect())?);
                inits.push(tensor(sn.clone(), data_type::FLOAT, &[l.outputs], f32_raw(scale))?);
                inits.push(tensor(zn.clone(), data_type::INT8, &[l.outputs], vec![0; l.outputs])?);
                nodes.push(node(
                    "DequantizeLinear",
                    format!("{prefix}.{i}.dequantize"),
                    &[&qn, &sn, &zn],
                    &weight,
                    vec![int_attr("axis", 0)],
                ));
            }
        }
        inits.push(tensor(bias.clone(), data_type::FLOAT, &[l.outputs], f32_raw(&l.bias))?);
        nodes.push(node(
            "Gemm",
            format!("{prefix}.{i}.gemm"),
            &[&cur, &weight, &bias],
            &pre,
            vec![float_attr("alpha", 1.0), float_attr("beta", 1.0), int_attr("transA", 0), int_attr("transB", 1)],
        ));
        cur = if last { pre.clone() } else { relu(nodes) };
    }
    Ok(cur)
}

/// The wide-and-deep graph over padded sparse rows: `h = relu(bias + sum_k value[k] *
/// table[index[k]])` (int8: `value[k] * scale[index[k]] * q[index[k]]`, the native arithmetic), the
/// tail's logit, plus `sum_k value[k] * wide[index[k]]`, through `Sigmoid`.
fn wide_deep_graph(net: &StoredWideDeep) -> Result<proto::GraphProto> {
    use proto::dimension::Value::{DimParam, DimValue};
    let (f, e) = (net.features, net.embed);
    let mut nodes = Vec::new();
    let mut inits = vec![
        tensor("const.axis1".into(), data_type::INT64, &[1], 1i64.to_le_bytes().to_vec())?,
        tensor("const.axis_last".into(), data_type::INT64, &[1], (-1i64).to_le_bytes().to_vec())?,
        tensor("deep.bias".into(), data_type::FLOAT, &[e], f32_raw(&net.bias))?,
    ];
    let gather = |name: &str, data: &str, out: &str| {
        node("Gather", format!("{name}.gather"), &[data, FEATURE_INDEX], out, vec![int_attr("axis", 0)])
    };
    // Each row's value, scaled per feature for an int8 table, as [N, K, 1] to broadcast over the embedding.
    let weighted_value = match &net.table {
        LayerWeights::F32(t) => {
            inits.push(tensor("deep.table".into(), data_type::FLOAT, &[f, e], f32_raw(t))?);
            nodes.push(gather("deep.table", "deep.table", "deep.rows"));
            FEATURE_VALUE
        }
        LayerWeights::F16(t) => {
            let raw = t.iter().flat_map(|x| x.to_le_bytes()).collect();
            inits.push(tensor("deep.table_f16".into(), data_type::FLOAT16, &[f, e], raw)?);
            nodes.push(gather("deep.table", "deep.table_f16", "deep.rows_f16"));
            let to = vec![int_attr("to", i64::from(data_type::FLOAT))];
            nodes.push(node("Cast", "deep.cast".into(), &["deep.rows_f16"], "deep.rows", to));
            FEATURE_VALUE
        }
        LayerWeights::Int8 { q, scale } => {
            inits.push(tensor("deep.table_q".into(), data_type::INT8, &[f, e], q.iter().map(|&v| v as u8).collect())?);
            inits.push(tensor("deep.scale".into(), data_type::FLOAT, &[f], f32_raw(scale))?);
            nodes.push(gather("deep.table", "deep.table_q", "deep.rows_q"));
            let to = vec![int_attr("to", i64::from(data_type::FLOAT))];
            nodes.push(node("Cast", "deep.cast".into(), &["deep.rows_q"], "deep.rows", to));
            nodes.push(gather("deep.scale", "deep.scale", "deep.row_scale"));
            nodes.push(node("Mul", "deep.scale_value".into(), &[FEATURE_VALUE, "deep.row_scale"], "deep.xs", vec![]));
            "deep.xs"
        }
    };
    nodes.extend([
        node("Unsqueeze", "deep.unsqueeze".into(), &[weighted_value, "const.axis_last"], "deep.x3", vec![]),
        node("Mul", "deep.weigh".into(), &["deep.rows", "deep.x3"], "deep.weighted", vec![]),
        node(
            "ReduceSum",
            "deep.sum".into(),
            &["deep.weighted", "const.axis1"],
            "deep.sum",
            vec![int_attr("keepdims", 0)],
        ),
        node("Add", "deep.add_bias".into(), &["deep.sum", "deep.bias"], "deep.pre", vec![]),
        node("Relu", "deep.relu".into(), &["deep.pre"], "deep.bag", vec![]),
    ]);
    let mut logit = dense_layers(("tail", &net.tail), Int8Activations::Float, "deep.bag", &mut nodes, &mut inits)?;
    if let Some(w) = &net.wide {
        inits.push(tensor("wide.weight".into(), data_type::FLOAT, &[f], f32_raw(w))?);
        nodes.extend([
            gather("wide", "wide.weight", "wide.rows"),
            node("Mul", "wide.weigh".into(), &["wide.rows", FEATURE_VALUE], "wide.weighted", vec![]),
            node(
                "ReduceSum",
                "wide.sum".into(),
                &["wide.weighted", "const.axis1"],
                "wide.sum",
                vec![int_attr("keepdims", 1)],
            ),
            node("Add", "wide.add".into(), &[&logit, "wide.sum"], "logit", vec![]),
        ]);
        logit = "logit".into();
    }
    nodes.push(node("Sigmoid", "sigmoid".into(), &[&logit], OUTPUT_NAME, vec![]));
    let mut outputs = vec![value_info(OUTPUT_NAME, [DimParam("N".into()), DimValue(1)])];
    // Each head: Softmax(Gemm(last hidden activation, W, b)), as [N, labels].
    let hidden = format!("tail.{}.relu", net.tail.len().saturating_sub(2));
    for h in &net.heads {
        let name = format!("heads.{}", h.kind);
        let (k, d) = (h.layer.outputs, h.layer.inputs);
        inits.push(tensor(format!("{name}.weight"), data_type::FLOAT, &[k, d], f32_raw(&h.layer.weight))?);
        inits.push(tensor(format!("{name}.bias"), data_type::FLOAT, &[k], f32_raw(&h.layer.bias))?);
        let gemm = vec![float_attr("alpha", 1.0), float_attr("beta", 1.0), int_attr("transB", 1)];
        let (w, b, z) = (format!("{name}.weight"), format!("{name}.bias"), format!("{name}.logits"));
        nodes.push(node("Gemm", format!("{name}.gemm"), &[&hidden, &w, &b], &z, gemm));
        let out = head_output(h.kind);
        nodes.push(node("Softmax", format!("{name}.softmax"), &[&z], out, vec![int_attr("axis", 1)]));
        outputs.push(value_info(out, [DimParam("N".into()), DimValue(k as i64)]));
    }
    let rows_k = || [DimParam("N".into()), DimParam("K".into())];
    Ok(proto::GraphProto {
        node: nodes,
        name: "l2core_wide_deep".into(),
        initializer: inits,
        doc_string: String::new(),
        input: vec![
            typed_value_info(FEATURE_INDEX, data_type::INT64, rows_k()),
            typed_value_info(FEATURE_VALUE, data_type::FLOAT, rows_k()),
        ],
        output: outputs,
    })
}

/// The graph output of a head's probabilities (`family_probs`, `severity_probs`: `[N, labels]`).
pub fn head_output(kind: crate::nn::HeadKind) -> &'static str {
    match kind {
        crate::nn::HeadKind::Family => "family_probs",
        crate::nn::HeadKind::Severity => "severity_probs",
    }
}

/// What [`inspect`] reads back from ONNX bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct OnnxInfo {
    /// IR version.
    pub ir_version: i64,
    /// Default-domain opset.
    pub opset: Option<i64>,
    /// Graph input names.
    pub inputs: Vec<String>,
    /// Graph output names.
    pub outputs: Vec<String>,
    /// Operator types in node order.
    pub ops: Vec<String>,
    /// `metadata_props`.
    pub metadata: BTreeMap<String, String>,
}

/// Decode the header of an ONNX model (any producer): versions, graph inputs/outputs, ops, metadata.
pub fn inspect(bytes: &[u8]) -> Result<OnnxInfo> {
    let m = proto::ModelProto::decode(bytes)
        .map_err(|e| Error::model("<onnx bytes>", format!("not an ONNX ModelProto: {e}")))?;
    let g = m.graph.unwrap_or_default();
    Ok(OnnxInfo {
        ir_version: m.ir_version,
        opset: m.opset_import.iter().find(|o| o.domain.is_empty() || o.domain == "ai.onnx").map(|o| o.version),
        inputs: g.input.iter().map(|v| v.name.clone()).collect(),
        outputs: g.output.iter().map(|v| v.name.clone()).collect(),
        ops: g.node.iter().map(|n| n.op_type.clone()).collect(),
        metadata: m.metadata_props.into_iter().map(|p| (p.key, p.value)).collect(),
    })
}
