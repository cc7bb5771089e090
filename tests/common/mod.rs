//! Helpers shared by integration tests.
#![allow(dead_code)]

use l2core::embed::{EmbedderSpec, HashSpec};
use l2core::model::{Architecture, Mlp, ModelMeta, Precision, FORMAT_VERSION};
use l2core::Model;

/// A small untrained model (random weights, deterministic) with the hash embedder.
pub fn tiny_model(dims: usize, hidden: &[usize], seed: u64) -> Model {
    let mlp = Mlp::init(dims, hidden, seed).expect("init");
    let meta = ModelMeta {
        format_version: FORMAT_VERSION,
        l2core_version: l2core::VERSION.into(),
        created: "2026-12-01T00:00:00Z".into(),
        embedder: EmbedderSpec::Hash(HashSpec::with_dims(dims)),
        architecture: Architecture {
            input_dims: dims,
            hidden: hidden.to_vec(),
            activation: "relu".into(),
            output: "sigmoid".into(),
        },
        precision: Precision::F32,
        threshold: 0.5,
        target_fpr: None,
        class_weights: None,
        training: None,
        history: None,
        dataset: None,
        eval: None,
        quantization: None,
        tags: Default::default(),
    };
    Model::new(meta, mlp.to_layers()).expect("model")
}
