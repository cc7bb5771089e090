//! Helpers shared by integration tests.
#![allow(dead_code)]

use l2core::embed::{EmbedderSpec, HashSpec};
use l2core::model::{Mlp, ModelMeta, Precision};
use l2core::Model;

/// A small untrained model (random weights, deterministic) with the hash embedder.
pub fn tiny_model(dims: usize, hidden: &[usize], seed: u64) -> Model {
    let mlp = Mlp::init(dims, hidden, seed).expect("init");
    let meta = ModelMeta {
        created: "2026-12-01T00:00:00Z".into(),
        ..ModelMeta::untrained(EmbedderSpec::Hash(HashSpec::with_dims(dims)), hidden.to_vec(), Precision::F32)
    };
    Model::new(meta, mlp.to_layers()).expect("model")
}
