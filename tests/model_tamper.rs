//! A tampered or hostile model file is rejected (issue 12 item 2), tested through the public API only
//! (`Model::to_bytes` / `Model::from_bytes` / `l2 info`), so that the tests hold for any file format
//! version: the edits find the metadata by key name, whether it is stored as an escaped JSON string
//! or as nested JSON, and re-frame the safetensors header so that only the integrity checks can
//! catch them.

use l2core::{ErrorKind, Model};
use std::process::Command;

fn model() -> Model {
    l2core::testing::synthetic_model(16, &[4], 1).unwrap()
}

/// The header text and the tensor data of a safetensors file.
fn split(bytes: &[u8]) -> (String, Vec<u8>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    (String::from_utf8(bytes[8..8 + n].to_vec()).unwrap(), bytes[8 + n..].to_vec())
}

/// A well-framed safetensors file of `header` and `data` (the length prefix and padding recomputed,
/// as whoever edits the header would).
fn frame(header: &str, data: &[u8]) -> Vec<u8> {
    let mut head = header.trim_end().as_bytes().to_vec();
    head.resize(head.len().next_multiple_of(8), b' ');
    let mut out = (head.len() as u64).to_le_bytes().to_vec();
    out.extend(head);
    out.extend(data);
    out
}

/// Where the value of metadata key `key` starts in `h` (after the key's closing quote, escaped or
/// not, and the colon).
fn value_at(h: &str, key: &str) -> usize {
    let at = h.find(&format!("{key}\\\"")).or_else(|| h.find(&format!("{key}\""))).unwrap_or_else(|| panic!("{key}"));
    let mut i = at + key.len();
    while matches!(h.as_bytes()[i], b'\\' | b'"' | b':' | b' ') {
        i += 1;
    }
    i
}

/// `h` with the value of `key` (a number, bool or array) replaced by `new`.
fn set_value(h: &str, key: &str, new: &str) -> String {
    let start = value_at(h, key);
    let rest = &h[start..];
    let len =
        if rest.starts_with('[') { rest.find(']').unwrap() + 1 } else { rest.find([',', '}', '\\', ']']).unwrap() };
    format!("{}{new}{}", &h[..start], &h[start + len..])
}

/// `h` with a metadata key `name: 1` added next to `threshold`, quoted the way `threshold` is.
fn add_key(h: &str, name: &str) -> String {
    let at = h.find("threshold").unwrap();
    let quote = if h[..at].ends_with("\\\"") { "\\\"" } else { "\"" };
    format!("{}{name}{quote}:1,{quote}{}", &h[..at], &h[at..])
}

#[test]
fn the_edit_helpers_change_exactly_what_they_name() {
    let bytes = model().to_bytes().unwrap();
    let (h, data) = split(&bytes);
    assert_eq!(frame(&h, &data), bytes, "re-framing an unedited header gives the same file");
    assert!(Model::from_bytes(&frame(&h, &data)).is_ok());
    let t = set_value(&h, "threshold", "0.0");
    assert_ne!(t, h);
    assert_eq!(t.len(), h.len(), "0.5 -> 0.0");
    assert!(add_key(&h, "knob").contains("knob"));
}

/// Every edit an attacker or a careless tool could make to the metadata that changes decisions: each
/// must be rejected on load. A format 1 file's sha256 covered the weights only, so these loaded (issue
/// 12 item 2); format 2's whole-file sha256 and its closed key set reject them.
#[test]
fn header_edits_are_rejected() {
    let original = model();
    let bytes = original.to_bytes().unwrap();
    let (h, data) = split(&bytes);
    let edits = [
        ("threshold 0.5 -> 0.0", set_value(&h, "threshold", "0.0")),
        ("threshold 0.5 -> 0.9", set_value(&h, "threshold", "0.9")),
        ("lowercase flipped", set_value(&h, "lowercase", "false")),
        ("char n-gram range", set_value(&h, "char_ngrams", "[2,6]")),
        ("word n-gram range", set_value(&h, "word_ngrams", "[1,1]")),
        ("word weight", set_value(&h, "word_weight", "9.0")),
        ("char weight", set_value(&h, "char_weight", "0.1")),
        ("activation tanh", h.replacen("relu", "tanh", 1)),
        ("unknown key", add_key(&h, "score_offset")),
    ];
    let mut loaded = Vec::new();
    for (what, edited) in &edits {
        assert_ne!(edited, &h, "{what}: the edit changed nothing");
        match Model::from_bytes(&frame(edited, &data)) {
            Err(e) => assert_eq!(e.kind(), ErrorKind::Model, "{what}: {e}"),
            Ok(_) => loaded.push(*what),
        }
    }
    // Every single-byte edit of the header: rejected, or (padding, say) a file that is the same model.
    let n = 8 + h.len();
    let mut loaded_changed = Vec::new();
    for i in 0..n {
        for x in [0x01u8, 0x08, 0x20] {
            let mut b = bytes.clone();
            b[i] ^= x;
            if let Ok(m) = Model::from_bytes(&b) {
                if m.meta() != original.meta() || m.weights() != original.weights() {
                    loaded_changed.push((i, x));
                }
            }
        }
    }
    assert!(loaded.is_empty(), "metadata edits that loaded: {loaded:?}");
    assert!(
        loaded_changed.is_empty(),
        "{} header edits loaded as a different model: {loaded_changed:?}",
        loaded_changed.len()
    );
}

#[test]
fn every_weight_byte_flip_and_every_truncation_is_rejected() {
    let bytes = model().to_bytes().unwrap();
    let (h, _) = split(&bytes);
    for i in 8 + h.len()..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x10;
        let err = Model::from_bytes(&b).expect_err(&format!("flip at {i}"));
        assert_eq!(err.kind(), ErrorKind::Model, "{err}");
    }
    for cut in 0..bytes.len() {
        let err = Model::from_bytes(&bytes[..cut]).expect_err(&format!("cut at {cut}"));
        assert_eq!(err.kind(), ErrorKind::Model, "{err}");
    }
    // Bytes appended after the last tensor are not part of any model.
    let mut long = bytes.clone();
    long.extend_from_slice(b"trailing");
    assert!(Model::from_bytes(&long).is_err());
}

#[test]
fn a_loader_reads_no_more_than_the_size_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("m.l2");
    model().save(&path).unwrap();
    let info = |file: &std::path::Path, limit: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_l2"));
        c.arg("info").arg(file);
        if let Some(l) = limit {
            c.env(l2core::fsutil::MAX_MODEL_BYTES_ENV, l);
        }
        c.output().unwrap()
    };
    // A device never ends: refused before a byte is read, with an error that says why.
    let started = std::time::Instant::now();
    let o = info(std::path::Path::new("/dev/zero"), None);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("/dev/zero") && err.contains("device"), "{err}");
    assert!(started.elapsed().as_secs() < 60, "refused without reading it");
    // A file over the limit is refused by its size; a limit that fits loads.
    let size = std::fs::metadata(&path).unwrap().len();
    let o = info(&path, Some(&(size - 1).to_string()));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("larger than the limit") && err.contains(&format!("{size} bytes")), "{err}");
    assert!(info(&path, Some(&size.to_string())).status.success());
    // A limit that is not a byte count is a settings error.
    assert_eq!(info(&path, Some("lots")).status.code(), Some(3));
}
