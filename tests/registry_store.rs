//! The local model registry: lifecycle, integrity checks, crash safety, concurrent writers.

use l2core::registry::{FaultPoint, Registry, Stage, FAULT_ENV, INDEX_FILE};
use std::path::{Path, PathBuf};

/// A small untrained model whose weights differ by `seed`.
fn model_file(dir: &Path, seed: u64) -> PathBuf {
    let model = l2core::testing::synthetic_model(32, &[8], seed).unwrap();
    let path = dir.join(format!("m{seed}.safetensors"));
    model.save(&path).unwrap();
    path
}

#[test]
fn lifecycle_add_promote_rollback_remove() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = Registry::open(tmp.path().join("reg"));
    assert!(reg.list().unwrap().is_empty());
    let a = reg.add(&model_file(tmp.path(), 1), "first").unwrap();
    let b = reg.add(&model_file(tmp.path(), 2), "second").unwrap();
    let c = reg.add(&model_file(tmp.path(), 3), "").unwrap();
    assert_eq!((a.version, b.version, c.version), (1, 2, 3));
    assert_ne!(a.sha256, b.sha256);
    assert_eq!(reg.show("v2").unwrap().note, "second");
    assert_eq!(reg.show("latest").unwrap().version, 3);

    reg.promote("v1", Stage::Production).unwrap();
    reg.promote("2", Stage::Staging).unwrap();
    assert_eq!(reg.show("staging").unwrap().version, 2);
    reg.promote("v2", Stage::Production).unwrap();
    let idx = reg.index().unwrap();
    assert_eq!(idx.production().unwrap().version, 2);
    assert_eq!(idx.get(1).unwrap().stage, Stage::Archived);
    assert!(idx.staging().is_none(), "staging stepped up to production");
    assert!(reg.promote("v2", Stage::Staging).is_err(), "the production model cannot go back to staging");

    let (from, to) = reg.rollback().unwrap();
    assert_eq!((from.version, to.version), (2, 1));
    assert_eq!(reg.show("production").unwrap().version, 1);
    assert!(reg.rollback().is_err(), "no production before v1");

    assert!(reg.remove("v1").is_err(), "production cannot be removed");
    let removed = reg.remove("v3").unwrap();
    assert!(!tmp.path().join("reg").join(removed.file).exists());
    assert!(reg.show("v3").is_err());
    let d = reg.add(&model_file(tmp.path(), 4), "").unwrap();
    assert_eq!(d.version, 4, "version numbers are never reused");

    let (entry, model) = reg.load_model("production").unwrap();
    assert_eq!(entry.version, 1);
    assert_eq!(model.dims(), 32);
    assert_eq!(reg.verify().unwrap().verified, 3);
    let events: Vec<String> = reg.index().unwrap().events.iter().map(|e| e.action.clone()).collect();
    assert!(events.contains(&"rollback".to_string()) && events.contains(&"remove".to_string()));
}

#[test]
fn add_rejects_a_file_that_is_not_a_model() {
    let tmp = tempfile::tempdir().unwrap();
    let bogus = tmp.path().join("bogus.safetensors");
    std::fs::write(&bogus, b"not a model").unwrap();
    let reg = Registry::open(tmp.path().join("reg"));
    assert!(reg.add(&bogus, "").is_err());
    assert!(reg.list().unwrap().is_empty());
}

#[test]
fn tampering_is_detected_on_load() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    let reg = Registry::open(&dir);
    let e = reg.add(&model_file(tmp.path(), 1), "").unwrap();

    // A flipped byte in the model file.
    let model_path = dir.join(&e.file);
    let good = std::fs::read(&model_path).unwrap();
    let mut bad = good.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    std::fs::write(&model_path, &bad).unwrap();
    let err = reg.list().unwrap_err().to_string();
    assert!(err.contains("sha256"), "{err}");
    std::fs::write(&model_path, &good).unwrap();
    assert_eq!(reg.list().unwrap().len(), 1);

    // An edited index whose checksum no longer matches.
    let index_path = dir.join(INDEX_FILE);
    let text = std::fs::read_to_string(&index_path).unwrap();
    std::fs::write(&index_path, text.replace("\"note\": \"\"", "\"note\": \"edited\"")).unwrap();
    let err = reg.list().unwrap_err().to_string();
    assert!(err.contains("checksum mismatch"), "{err}");

    // A truncated index.
    std::fs::write(&index_path, &text.as_bytes()[..text.len() / 2]).unwrap();
    assert!(reg.list().unwrap_err().to_string().contains("corrupt"));
}

#[test]
fn crash_between_temp_write_and_rename_leaves_the_registry_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    let mut reg = Registry::open(&dir);
    reg.add(&model_file(tmp.path(), 1), "kept").unwrap();
    reg.promote("v1", Stage::Production).unwrap();
    let before = std::fs::read(dir.join(INDEX_FILE)).unwrap();

    for point in [FaultPoint::AfterTempWrite, FaultPoint::IndexAfterTempWrite] {
        reg.inject_fault(Some(point));
        assert!(reg.add(&model_file(tmp.path(), 2), "lost").is_err());
        reg.inject_fault(None);
        // The index is byte-for-byte the old one and loads.
        assert_eq!(std::fs::read(dir.join(INDEX_FILE)).unwrap(), before);
        let entries = reg.list().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].note, "kept");
        let report = reg.verify().unwrap();
        assert!(!report.temp_files.is_empty(), "the crash left its temp file: {report}");
    }
    // The index crash happened after the model file landed: an orphan, reported, not used.
    let report = reg.verify().unwrap();
    assert_eq!(report.orphans, vec!["models/v2.l2".to_string()]);
    // The registry keeps working; the next add never takes the orphan's number (its file is kept),
    // and its own write first cleaned the temp files the crashes left.
    let e = reg.add(&model_file(tmp.path(), 3), "after crash").unwrap();
    assert_eq!(e.version, 3);
    assert_eq!(reg.list().unwrap().len(), 2);
    let report = reg.verify().unwrap();
    assert!(report.temp_files.is_empty(), "{report}");
    assert_eq!(report.orphans, vec!["models/v2.l2".to_string()]);
    // `recover` takes the orphan in from its own metadata, in no stage.
    let r = reg.recover().unwrap();
    assert_eq!((r.rebuilt, r.recovered.clone(), r.versions), (false, vec![2], 3), "{r}");
    let entries = reg.list().unwrap();
    assert_eq!(entries.iter().map(|e| e.version).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(entries[1].stage, Stage::None);
    assert_eq!(entries[0].stage, Stage::Production);
    assert!(reg.verify().unwrap().orphans.is_empty());
}

#[test]
fn a_real_process_crash_mid_write_leaves_the_registry_loadable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    let reg = Registry::open(&dir);
    reg.add(&model_file(tmp.path(), 1), "kept").unwrap();
    let m2 = model_file(tmp.path(), 2);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_l2"))
        .args(["registry", "--registry"])
        .arg(&dir)
        .arg("add")
        .arg(&m2)
        .env(FAULT_ENV, "index-after-temp-write")
        .output()
        .unwrap();
    assert!(!out.status.success(), "the process was meant to abort");
    let entries = reg.list().unwrap();
    assert_eq!(entries.len(), 1);
    let report = reg.verify().unwrap();
    assert!(report.temp_files.iter().any(|t| t.contains(INDEX_FILE)), "{report}");
    // The model file of v2 landed before the crash: the retry takes v3, v2 stays an orphan.
    assert_eq!(reg.add(&m2, "retry").unwrap().version, 3);
    assert_eq!(reg.verify().unwrap().orphans, vec!["models/v2.l2".to_string()]);
}

#[test]
fn concurrent_writers_in_threads_and_processes_all_land() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    let files: Vec<PathBuf> = (0..10).map(|s| model_file(tmp.path(), s)).collect();
    std::thread::scope(|scope| {
        for f in &files[..6] {
            let dir = dir.clone();
            scope.spawn(move || Registry::open(dir).add(f, "thread").unwrap());
        }
    });
    let children: Vec<_> = files[6..]
        .iter()
        .map(|f| {
            std::process::Command::new(env!("CARGO_BIN_EXE_l2"))
                .args(["registry", "--registry"])
                .arg(&dir)
                .arg("add")
                .arg(f)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let reg = Registry::open(&dir);
    let entries = reg.list().unwrap();
    let mut versions: Vec<u32> = entries.iter().map(|e| e.version).collect();
    versions.sort_unstable();
    assert_eq!(versions, (1..=10).collect::<Vec<_>>());
    let mut shas: Vec<&str> = entries.iter().map(|e| e.sha256.as_str()).collect();
    shas.sort_unstable();
    shas.dedup();
    assert_eq!(shas.len(), 10, "every model landed once");
    let report = reg.verify().unwrap();
    assert!(report.orphans.is_empty() && report.temp_files.is_empty(), "{report}");
}

#[test]
fn cli_lists_shows_and_promotes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    let m = model_file(tmp.path(), 1);
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_l2"))
            .arg("registry")
            .args(args)
            .env("L2_REGISTRY", &dir)
            .output()
            .unwrap()
    };
    assert!(run(&["add", m.to_str().unwrap(), "--note", "cli"]).status.success());
    assert!(run(&["promote", "v1", "--stage", "production"]).status.success());
    let out = run(&["list", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["stage"], "production");
    assert_eq!(v[0]["note"], "cli");
    let bad = run(&["show", "v9"]);
    assert_eq!(bad.status.code(), Some(4), "a missing version is a registry error");
    let bad_stage = run(&["promote", "v1", "--stage", "nowhere"]);
    assert_eq!(bad_stage.status.code(), Some(3));
}
