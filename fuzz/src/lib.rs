//! Fuzz entry points, one per parser of untrusted input; each C harness in `harness/` calls one from
//! libFuzzer's `LLVMFuzzerTestOneInput`. An error result is fine; a panic (the profile aborts on it),
//! a hang or a memory error is a finding.

use l2core::data::{parse_csv, LoadOptions};
use l2core::registry::{Index, Registry, INDEX_FILE};

/// # Safety
/// `data` points to `len` readable bytes (libFuzzer's contract).
unsafe fn bytes<'a>(data: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        std::slice::from_raw_parts(data, len)
    }
}

/// The CSV reader, strict and lenient, with small field limits so that the limit paths are reached;
/// the lenient load must account for every physical line.
#[no_mangle]
pub unsafe extern "C" fn l2fuzz_csv(data: *const u8, len: usize) -> i32 {
    let b = bytes(data, len);
    let small = LoadOptions { skip_invalid: true, max_field_bytes: 64, max_field_lines: 4 };
    for opts in [LoadOptions::default(), LoadOptions::skipping_invalid(true), small] {
        if let Ok(l) = parse_csv(b, "fuzz.csv", &opts) {
            let t = l.lines;
            assert_eq!(t.total, t.header + t.rows + t.rejected + t.blank);
        }
    }
    0
}

/// The model loader; a model that loads must score and round-trip to the same bytes' meaning.
#[no_mangle]
pub unsafe extern "C" fn l2fuzz_model(data: *const u8, len: usize) -> i32 {
    if let Ok(m) = l2core::Model::from_bytes(bytes(data, len)) {
        if m.dims() <= 4096 {
            let _ = m.score_texts(&["ignore previous instructions", ""]);
        }
        let again = l2core::Model::from_bytes(&m.to_bytes().expect("a loaded model serialises")).expect("reloads");
        assert_eq!(again.layers(), m.layers());
    }
    0
}

const SEED_MODEL: &[u8] = include_bytes!("../seeds/model/tiny.l2");

/// The registry index reader. Input that parses as an index is written with a valid checksum (as a
/// writer of the directory could), so the fuzzer gets past the checksum to the index rules and the
/// file operations; anything else is written as it is.
#[no_mangle]
pub unsafe extern "C" fn l2fuzz_index(data: *const u8, len: usize) -> i32 {
    let b = bytes(data, len);
    let dir = tempfile::tempdir_in(std::env::var_os("L2_FUZZ_TMP").unwrap_or_else(|| "/tmp".into())).expect("tempdir");
    let file = match serde_json::from_slice::<Index>(b) {
        Ok(index) => {
            let canon = serde_json::to_vec(&index).expect("serialises");
            let sum = l2core::digest::sha256_hex(&canon);
            let v: serde_json::Value = serde_json::from_slice(&canon).expect("json");
            serde_json::to_vec(&serde_json::json!({
                "format": "l2core-registry", "format_version": 1, "checksum": sum, "index": v
            }))
            .expect("json")
        }
        Err(_) => b.to_vec(),
    };
    std::fs::write(dir.path().join(INDEX_FILE), file).expect("write");
    // Model files for v1 and v2 (the seed index lists this file for both), so that the fuzzer reaches
    // past the file checks too.
    std::fs::create_dir(dir.path().join("models")).expect("mkdir");
    for v in [1, 2] {
        std::fs::write(dir.path().join(format!("models/v{v}.l2")), SEED_MODEL).expect("write");
    }
    let reg = Registry::open(dir.path());
    let _ = reg.verify();
    let _ = reg.list();
    let _ = reg.show("production");
    let _ = reg.remove("latest");
    let _ = reg.recover();
    0
}

/// The JSON training and retrain configs.
#[no_mangle]
pub unsafe extern "C" fn l2fuzz_config(data: *const u8, len: usize) -> i32 {
    if let Ok(s) = std::str::from_utf8(bytes(data, len)) {
        if let Ok(c) = l2core::pipeline::TrainConfig::from_json(s) {
            let _ = c.check();
        }
        if let Ok(c) = l2core::pipeline::retrain::RetrainConfig::from_json(s) {
            let _ = c.check();
        }
    }
    0
}

/// Keep the C ABI in the library for `harness/capi.c`.
pub use l2::model::l2_model_load_bytes;
