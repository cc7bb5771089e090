//! ONNX export: the MLP as a standard ONNX graph ([`export()`], no Python or protoc needed), the one
//! ONNX writer of the crate, and — with the `onnx` feature — the equivalence check that runs an export
//! in ONNX Runtime ([`crate::onnx_runtime`]) against the native engine ([`validate`]).

pub mod export;
pub mod proto;
#[cfg(feature = "onnx")]
pub mod validate;

pub use export::{
    convert_layers, export, export_layers, export_with, inspect, ExportOptions, Exported, Int8Activations, OnnxInfo,
    INPUT_NAME, OPSET, OUTPUT_NAME,
};
#[cfg(feature = "onnx")]
pub use validate::{tolerance_for, validate_embeddings, validate_texts};
