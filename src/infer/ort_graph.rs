//! The MLP as ONNX graphs for the ONNX Runtime side of `l2 bench` (feature `onnx`).
//!
//! * f32: `Gemm(transB=1) -> Relu -> ... -> Gemm -> Sigmoid`, the stored f32 weights as FLOAT
//!   initializers.
//! * int8: the graph `onnxruntime.quantization.quantize_dynamic(per_channel=True, weight_type=QInt8)`
//!   makes of that network: per layer `DynamicQuantizeLinear(x) -> MatMulInteger(x_q, W_q^T, x_zp, 0)
//!   -> Cast(float) -> Mul(x_scale * w_scale[o]) -> Add(bias) -> Relu`, with this model's own int8 weights
//!   and per-channel scales (ORT fuses it into its `DynamicQuantizeMatMul` kernel). Activations are
//!   quantized per tensor to u8 by ORT, per row to i8 by l2core: each engine's own method.
//!
//! The protobuf is written by hand (a dozen fields of `onnx.proto3`), so the bench needs no ONNX tooling.

use crate::error::{Error, Result};
use crate::infer::quantize::quantize_layers;
use crate::model::{Layer, LayerWeights, Precision};
use crate::Model;

mod pb {
    pub fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    pub fn int(out: &mut Vec<u8>, field: u32, v: i64) {
        varint(out, u64::from(field) << 3);
        varint(out, v as u64);
    }
    pub fn bytes(out: &mut Vec<u8>, field: u32, b: &[u8]) {
        varint(out, (u64::from(field) << 3) | 2);
        varint(out, b.len() as u64);
        out.extend_from_slice(b);
    }
}

// onnx.TensorProto.DataType
const FLOAT: i64 = 1;
const INT8: i64 = 3;

#[derive(Default)]
struct Graph {
    nodes: Vec<Vec<u8>>,
    inits: Vec<Vec<u8>>,
    n: usize,
}

enum Attr<'a> {
    Int(&'a str, i64),
}

impl Graph {
    fn fresh(&mut self, what: &str) -> String {
        self.n += 1;
        format!("{what}_{}", self.n)
    }

    fn node(&mut self, op: &str, inputs: &[&str], outputs: &[&str], attrs: &[Attr]) {
        let mut n = Vec::new();
        for i in inputs {
            pb::bytes(&mut n, 1, i.as_bytes());
        }
        for o in outputs {
            pb::bytes(&mut n, 2, o.as_bytes());
        }
        let name = self.fresh(op);
        pb::bytes(&mut n, 3, name.as_bytes());
        pb::bytes(&mut n, 4, op.as_bytes());
        for a in attrs {
            let mut at = Vec::new();
            match a {
                Attr::Int(k, v) => {
                    pb::bytes(&mut at, 1, k.as_bytes());
                    pb::int(&mut at, 3, *v);
                    pb::int(&mut at, 20, 2); // AttributeType INT
                }
            }
            pb::bytes(&mut n, 5, &at);
        }
        self.nodes.push(n);
    }

    fn init(&mut self, name: &str, dtype: i64, dims: &[usize], raw: &[u8]) {
        let mut t = Vec::new();
        for &d in dims {
            pb::int(&mut t, 1, d as i64);
        }
        pb::int(&mut t, 2, dtype);
        pb::bytes(&mut t, 8, name.as_bytes());
        pb::bytes(&mut t, 9, raw);
        self.inits.push(t);
    }

    fn value_info(name: &str, dims: &[Option<usize>]) -> Vec<u8> {
        let mut shape = Vec::new();
        for d in dims {
            let mut dim = Vec::new();
            match d {
                Some(v) => pb::int(&mut dim, 1, *v as i64),
                None => pb::bytes(&mut dim, 2, b"N"),
            }
            pb::bytes(&mut shape, 1, &dim);
        }
        let mut tensor = Vec::new();
        pb::int(&mut tensor, 1, FLOAT);
        pb::bytes(&mut tensor, 2, &shape);
        let mut ty = Vec::new();
        pb::bytes(&mut ty, 1, &tensor);
        let mut vi = Vec::new();
        pb::bytes(&mut vi, 1, name.as_bytes());
        pb::bytes(&mut vi, 2, &ty);
        vi
    }

    fn finish(self, dims: usize) -> Vec<u8> {
        let mut g = Vec::new();
        for n in &self.nodes {
            pb::bytes(&mut g, 1, n);
        }
        pb::bytes(&mut g, 2, b"l2core_mlp_bench");
        for t in &self.inits {
            pb::bytes(&mut g, 5, t);
        }
        pb::bytes(&mut g, 11, &Self::value_info("x", &[None, Some(dims)]));
        pb::bytes(&mut g, 12, &Self::value_info("y", &[None, Some(1)]));
        let mut m = Vec::new();
        pb::int(&mut m, 1, 8); // ir_version
        pb::bytes(&mut m, 2, b"l2core");
        pb::bytes(&mut m, 7, &g);
        let mut opset = Vec::new();
        pb::bytes(&mut opset, 1, b"");
        pb::int(&mut opset, 2, 17);
        pb::bytes(&mut m, 8, &opset);
        m
    }
}

fn f32_raw(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// The ONNX graph of `model`'s network at `precision` (f32 or int8; an f32 model is quantized with
/// [`quantize_layers`] for int8) and a short description of it.
pub fn build(model: &Model, precision: Precision) -> Result<(Vec<u8>, String)> {
    let layers: Vec<Layer> = match (model.precision(), precision) {
        (a, b) if a == b => model.layers().to_vec(),
        (Precision::F32, p) => quantize_layers(model.layers(), p)?,
        (a, b) => return Err(Error::param("precision", b, format!("cannot build an ORT {b} graph from an {a} model"))),
    };
    let mut g = Graph::default();
    let mut cur = "x".to_string();
    let last = layers.len().saturating_sub(1);
    let desc;
    match precision {
        Precision::F32 => {
            desc = "Gemm f32".to_string();
            for (i, l) in layers.iter().enumerate() {
                let LayerWeights::F32(w) = &l.weights else {
                    return Err(Error::param("precision", l.precision(), "expected f32"));
                };
                let (wn, bn) = (format!("W{i}"), format!("B{i}"));
                g.init(&wn, FLOAT, &[l.outputs, l.inputs], &f32_raw(w));
                g.init(&bn, FLOAT, &[l.outputs], &f32_raw(&l.bias));
                let out = g.fresh("gemm");
                g.node("Gemm", &[&cur, &wn, &bn], &[&out], &[Attr::Int("transB", 1)]);
                cur = out;
                if i < last {
                    let r = g.fresh("relu");
                    g.node("Relu", &[&cur], &[&r], &[]);
                    cur = r;
                }
            }
        }
        Precision::Int8 => {
            desc = "MatMulInteger".to_string();
            g.init("wzp", INT8, &[], &[0]);
            for (i, l) in layers.iter().enumerate() {
                let LayerWeights::Int8 { q, scale } = &l.weights else {
                    return Err(Error::param("precision", l.precision(), "expected int8"));
                };
                // MatMul wants B as [inputs, outputs]: transpose the stored [outputs][inputs].
                let mut wt = vec![0u8; q.len()];
                for o in 0..l.outputs {
                    for k in 0..l.inputs {
                        wt[k * l.outputs + o] = q[o * l.inputs + k] as u8;
                    }
                }
                let (wn, sn, bn) = (format!("Wq{i}"), format!("Ws{i}"), format!("B{i}"));
                g.init(&wn, INT8, &[l.inputs, l.outputs], &wt);
                g.init(&sn, FLOAT, &[l.outputs], &f32_raw(scale));
                g.init(&bn, FLOAT, &[l.outputs], &f32_raw(&l.bias));
                let (xq, xs, xz) = (g.fresh("xq"), g.fresh("xs"), g.fresh("xz"));
                g.node("DynamicQuantizeLinear", &[&cur], &[&xq, &xs, &xz], &[]);
                let acc = g.fresh("acc");
                g.node("MatMulInteger", &[&xq, &wn, &xz, "wzp"], &[&acc], &[]);
                let accf = g.fresh("accf");
                g.node("Cast", &[&acc], &[&accf], &[Attr::Int("to", FLOAT)]);
                let s = g.fresh("scale");
                g.node("Mul", &[&xs, &sn], &[&s], &[]);
                let y = g.fresh("deq");
                g.node("Mul", &[&accf, &s], &[&y], &[]);
                let yb = g.fresh("bias");
                g.node("Add", &[&y, &bn], &[&yb], &[]);
                cur = yb;
                if i < last {
                    let r = g.fresh("relu");
                    g.node("Relu", &[&cur], &[&r], &[]);
                    cur = r;
                }
            }
        }
        Precision::F16 => return Err(Error::param("precision", "f16", "the ORT comparison covers f32 and int8")),
    }
    g.node("Sigmoid", &[&cur], &["y"], &[]);
    Ok((g.finish(model.dims()), desc))
}

/// One ONNX Runtime session with one intra-op thread (the bench runs one per thread).
pub struct Session {
    inner: std::sync::Mutex<ort::session::Session>,
}

impl Session {
    /// Load `bytes` (all graph optimisations on, one intra-op and one inter-op thread).
    pub fn new(bytes: &[u8]) -> Result<Session> {
        use ort::session::builder::GraphOptimizationLevel;
        let env = crate::infer::ort_graph::environment()?;
        let bad =
            |what: &str, e: &dyn std::fmt::Display| Error::model("<bench graph>", format!("ONNX Runtime {what}: {e}"));
        let s = ort::session::Session::builder(env)
            .map_err(|e| bad("session builder", &e))?
            .with_intra_threads(1)
            .map_err(|e| bad("intra threads", &e))?
            .with_inter_threads(1)
            .map_err(|e| bad("inter threads", &e))?
            .with_optimization_level(GraphOptimizationLevel::All)
            .map_err(|e| bad("optimization level", &e))?
            .commit_from_memory(bytes)
            .map_err(|e| bad("could not load the graph", &e))?;
        Ok(Session { inner: std::sync::Mutex::new(s) })
    }

    /// Score `rows` rows of `x`; returns the first score (the rest stay inside ORT's output).
    pub fn run(&self, x: &[f32], rows: usize) -> Result<f32> {
        let cols = x.len() / rows.max(1);
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let t = ort::value::TensorRef::from_array_view(([rows, cols], x))
            .map_err(|e| Error::model("<bench graph>", format!("input tensor: {e}")))?;
        let out = s.run(ort::inputs!["x" => t]).map_err(|e| Error::model("<bench graph>", format!("run: {e}")))?;
        let (_, data) =
            out[0].try_extract_tensor::<f32>().map_err(|e| Error::model("<bench graph>", format!("output: {e}")))?;
        Ok(data.first().copied().unwrap_or(f32::NAN))
    }

    /// Score `rows` rows of `x` into `out`.
    pub fn run_into(&self, x: &[f32], rows: usize, out: &mut [f32]) -> Result<()> {
        let cols = x.len() / rows.max(1);
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let t = ort::value::TensorRef::from_array_view(([rows, cols], x))
            .map_err(|e| Error::model("<bench graph>", format!("input tensor: {e}")))?;
        let res = s.run(ort::inputs!["x" => t]).map_err(|e| Error::model("<bench graph>", format!("run: {e}")))?;
        let (_, data) =
            res[0].try_extract_tensor::<f32>().map_err(|e| Error::model("<bench graph>", format!("output: {e}")))?;
        if data.len() != out.len() {
            return Err(Error::shape("ORT output", out.len(), data.len()));
        }
        out.copy_from_slice(data);
        Ok(())
    }
}

/// The process's ONNX Runtime environment: the one shared with export validation and the ONNX
/// embedder ([`crate::onnx::runtime::environment`]; ort allows a single environment per process).
pub fn environment() -> Result<&'static ort::environment::Environment> {
    crate::onnx::runtime::environment()
}
