//! ONNX both ways: export of the MLP as a standard ONNX graph ([`export`], no Python or protoc
//! needed), and — with the `onnx` feature — the shared ONNX Runtime ([`runtime`]) that validates
//! exports against the native engine ([`validate`]) and runs transformer embedders
//! ([`crate::embed::OnnxEmbedder`]).

pub mod export;
pub mod proto;
#[cfg(feature = "onnx")]
pub mod runtime;
#[cfg(feature = "onnx")]
pub mod validate;

pub use export::{
    convert_layers, export, export_layers, export_with, inspect, ExportOptions, Exported, Int8Activations, OnnxInfo,
    OPSET,
};
#[cfg(feature = "onnx")]
pub use validate::{validate_embeddings, validate_texts, Tolerance, ValidationReport};
