#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

#[cfg(feature = "cli")]
pub mod cli;
pub mod cpu;
pub mod data;
pub mod embed;
pub mod error;
pub mod eval;
pub mod fsutil;
pub mod gate;
pub mod infer;
pub mod model;
pub mod onnx;
pub mod pipeline;
pub mod registry;
pub mod reinforce;
pub mod rng;
pub mod train;

pub use error::{Error, ErrorKind, Result};
pub use model::Model;

/// This crate's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
