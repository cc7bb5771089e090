//! The C ABI fails closed (issue 12): a score the network cannot compute is a status that says so,
//! never a number a caller could compare with the threshold; a JSON config is an object, never an
//! array read by position.

use l2::error::l2_last_error_message;
use l2::model::{l2_model_free, l2_model_load_bytes, l2_model_score_embeddings};
use l2::status::l2_status;
use l2::train::{l2_train_config_free, l2_train_config_from_json};
use l2core::embed::{EmbedderSpec, HashSpec};
use l2core::model::{Mlp, ModelMeta, Precision};
use std::ffi::CString;
use std::ptr::null_mut;

fn last_error() -> String {
    let mut buf = vec![0u8; 4096];
    let mut n = 0usize;
    assert_eq!(l2_last_error_message(buf.as_mut_ptr().cast(), buf.len(), &mut n), l2_status::Ok);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn an_overflowing_finite_row_is_invalid_data_not_a_nan_score() {
    let dims = 32;
    let meta = ModelMeta::untrained(EmbedderSpec::Hash(HashSpec::with_dims(dims)), vec![8], Precision::F32);
    let layers = Mlp::init(dims, &[8], 2).unwrap().to_layers();
    let bytes = l2core::Model::new(meta, layers).unwrap().to_bytes().unwrap();
    let mut model = std::ptr::null();
    assert_eq!(l2_model_load_bytes(bytes.as_ptr(), bytes.len(), &mut model), l2_status::Ok);
    let mut x = vec![0.1f32; 3 * dims];
    for (i, v) in x[dims..2 * dims].iter_mut().enumerate() {
        *v = if i % 2 == 0 { 3.4e38 } else { -3.4e38 };
    }
    let mut out = [7.0f32; 3];
    let status = l2_model_score_embeddings(model, x.as_ptr(), 3, dims, out.as_mut_ptr(), 3);
    assert_eq!(status, l2_status::InvalidData);
    let msg = last_error();
    assert!(msg.contains("row 1") && msg.contains("non-finite"), "{msg}");
    assert!(out.iter().all(|&s| s == 7.0), "no score was written: {out:?}");
    // Without the bad row the same call succeeds.
    x[dims..2 * dims].fill(0.1);
    assert_eq!(l2_model_score_embeddings(model, x.as_ptr(), 3, dims, out.as_mut_ptr(), 3), l2_status::Ok);
    assert!(out.iter().all(|s| (0.0..=1.0).contains(s)));
    l2_model_free(model);
}

#[test]
fn a_train_config_must_be_a_json_object() {
    let mut config = null_mut();
    for bad in ["[[\"a.csv\"], null]", "{\"train\": [8, 0.3]}", "{\"embedder\": [\"hash\"]}"] {
        let json = CString::new(bad).unwrap();
        let status = l2_train_config_from_json(json.as_ptr(), &mut config);
        assert_ne!(status, l2_status::Ok, "{bad} was accepted");
        assert!(config.is_null());
        let msg = last_error();
        assert!(msg.contains("object") || msg.contains("expected"), "{bad}: {msg}");
    }
    let json = CString::new("{}").unwrap();
    assert_eq!(l2_train_config_from_json(json.as_ptr(), &mut config), l2_status::Ok);
    l2_train_config_free(config);
}
