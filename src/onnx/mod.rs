//! ONNX export: the network (an MLP or a wide-and-deep one) as a standard ONNX graph ([`export()`], no Python or protoc needed), the one
//! ONNX writer of the crate, and — with the `onnx` feature — the equivalence check that runs an export
//! in ONNX Runtime ([`crate::onnx_runtime`]) against the native engine ([`validate`]).

pub mod export;
pub mod proto;
#[cfg(feature = "onnx")]
pub mod validate;

pub use export::{
    convert_layers, convert_weights, export, export_layers, export_with, inspect, ExportOptions, Exported,
    Int8Activations, OnnxInfo, FEATURE_INDEX, FEATURE_VALUE, INPUT_NAME, OPSET, OUTPUT_NAME,
};
#[cfg(feature = "onnx")]
pub use validate::{tolerance_for, validate_embeddings, validate_features, validate_texts};
