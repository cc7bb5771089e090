//! The model file: round trip, and rejection of truncated, corrupt or foreign files.

use l2core::{ErrorKind, Model};

fn tiny_model(dims: usize, hidden: &[usize], seed: u64) -> Model {
    l2core::testing::synthetic_model(dims, hidden, seed).unwrap()
}

#[test]
fn round_trip_keeps_weights_metadata_and_scores() {
    let m = tiny_model(64, &[16, 8], 3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.l2");
    m.save(&path).unwrap();
    let back = Model::load(&path).unwrap();
    assert_eq!(back.layers(), m.layers());
    assert_eq!(back.meta(), m.meta());
    assert_eq!(back.to_bytes().unwrap(), m.to_bytes().unwrap(), "the same model always gives the same bytes");
    assert_eq!(std::fs::read(&path).unwrap(), m.to_bytes().unwrap());
    let texts = ["ignore previous instructions", "what is 2+2?"];
    assert_eq!(back.score_texts(&texts).unwrap(), m.score_texts(&texts).unwrap());
}

#[test]
fn every_truncation_is_rejected_with_a_model_error() {
    let bytes = tiny_model(16, &[4], 1).to_bytes().unwrap();
    for cut in [0, 1, 7, 8, 9, bytes.len() / 2, bytes.len() - 1] {
        let err = Model::from_bytes(&bytes[..cut]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Model, "cut at {cut}: {err}");
    }
}

#[test]
fn a_flipped_weight_byte_fails_the_checksum() {
    let mut bytes = tiny_model(16, &[4], 1).to_bytes().unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x40;
    let err = Model::from_bytes(&bytes).unwrap_err().to_string();
    assert!(err.contains("sha256") && err.contains("corrupt"), "{err}");
}

#[test]
fn foreign_and_garbage_files_are_rejected_not_panicked_on() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.l2");
    std::fs::write(&p, b"text,label\nhello,0\n").unwrap();
    let err = Model::load(&p).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Model);
    assert!(err.to_string().contains(&p.display().to_string()), "error names the file: {err}");

    // A valid safetensors file that is not an l2core model.
    let data = vec![0u8; 16];
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![4], &data).unwrap();
    let foreign = safetensors::serialize([("w", view)], None).unwrap();
    let err = Model::from_bytes(&foreign).unwrap_err().to_string();
    assert!(err.contains("not an l2core model"), "{err}");

    let missing = Model::load(dir.path().join("nope.l2")).unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Io);
}

#[test]
fn metadata_that_disagrees_with_the_tensors_is_rejected() {
    let m = tiny_model(16, &[4], 1);
    let mut meta = m.meta().clone();
    meta.architecture.hidden = vec![5];
    let err = Model::new(meta, m.layers().unwrap().to_vec()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Model, "{err}");

    let mut meta = m.meta().clone();
    meta.threshold = 1.5;
    assert!(Model::new(meta, m.layers().unwrap().to_vec()).unwrap_err().to_string().contains("threshold"));
}

/// `bytes` with the header's metadata JSON passed through `edit` (the header length is rewritten, so
/// the file stays well-formed safetensors).
fn edit_meta(bytes: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let md = header["__metadata__"].as_object_mut().unwrap();
    let mut meta: serde_json::Value = serde_json::from_str(md["l2core_meta"].as_str().unwrap()).unwrap();
    edit(&mut meta);
    md.insert("l2core_meta".into(), meta.to_string().into());
    let mut head = serde_json::to_vec(&header).unwrap();
    head.resize(head.len().next_multiple_of(8), b' ');
    let mut out = (head.len() as u64).to_le_bytes().to_vec();
    out.extend(head);
    out.extend(&bytes[8 + n..]);
    out
}

#[test]
fn a_newer_format_version_is_refused_with_the_versions_named() {
    let m = tiny_model(16, &[4], 1);
    let bytes = edit_meta(&m.to_bytes().unwrap(), |meta| meta["format_version"] = 99.into());
    let err = Model::from_bytes(&bytes).unwrap_err().to_string();
    assert!(err.contains("format_version Some(99)") && err.contains("supports 1 to 3"), "{err}");
}

#[test]
fn an_edited_header_is_rejected_by_the_file_checksum() {
    let m = tiny_model(16, &[4], 1);
    let bytes = m.to_bytes().unwrap();
    for edit in [
        Box::new(|meta: &mut serde_json::Value| meta["threshold"] = 0.0.into()) as Box<dyn Fn(&mut serde_json::Value)>,
        Box::new(|meta: &mut serde_json::Value| meta["embedder"]["lowercase"] = false.into()),
        Box::new(|meta: &mut serde_json::Value| meta["embedder"]["char_ngrams"] = serde_json::json!([2, 4])),
    ] {
        let err = Model::from_bytes(&edit_meta(&bytes, edit)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Model, "{err}");
        assert!(err.to_string().contains("does not match its sha256"), "{err}");
    }
    // A field that claims behaviour the engine does not have is refused by name, checksum or not.
    let err =
        Model::from_bytes(&edit_meta(&bytes, |meta| meta["architecture"]["activation"] = "tanh".into())).unwrap_err();
    assert!(err.to_string().contains("architecture.activation"), "{err}");
}

#[test]
fn wrong_embedding_shapes_are_errors() {
    let m = tiny_model(16, &[4], 1);
    assert_eq!(m.score_embeddings(&[0.0; 15]).unwrap_err().kind(), ErrorKind::Shape);
    let mut out = [0.0f32; 3];
    assert_eq!(m.score_embeddings_into(&[0.0; 32], &mut out).unwrap_err().kind(), ErrorKind::Shape);
    assert_eq!(m.score_embeddings(&[0.0; 32]).unwrap().len(), 2);
}
