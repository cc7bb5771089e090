#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

// Layers, bottom to top (docs/architecture.md; tests/layering.rs enforces it): a module imports only
// from lower layers.
// error, floor
pub mod cpu;
pub mod digest;
pub mod error;
pub mod fsutil;
#[cfg(feature = "onnx")]
pub mod onnx_runtime;
pub mod printable;
pub mod rng;
// leaf
pub mod nn;
pub mod text;
// features
pub mod data;
pub mod embed;
// evaluation
pub mod eval;
// engines
pub mod infer;
pub mod train;
// model
pub mod model;
// export
pub mod onnx;
// jobs
pub mod gate;
pub mod pipeline;
pub mod registry;
pub mod reinforce;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
// service
#[cfg(feature = "serve")]
pub mod serve;
// hosts
#[cfg(feature = "cli")]
pub mod cli;

pub use error::{Error, ErrorKind, Result};
pub use model::Model;

/// This crate's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
