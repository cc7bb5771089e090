//! The registry against whoever can write its index (issue 12 items 4 and 5): an index with a valid
//! checksum still cannot steer file operations outside the registry, a lost index never loses the
//! production model, version numbers never wrap or reuse a file, and killed writers' debris is cleaned.

use l2core::registry::{Index, Registry, Stage, INDEX_FILE};
use std::path::{Path, PathBuf};

fn model_file(dir: &Path, seed: u64) -> PathBuf {
    let path = dir.join(format!("m{seed}.l2"));
    l2core::testing::synthetic_model(32, &[8], seed).unwrap().save(&path).unwrap();
    path
}

/// Rewrite the index as someone who can write the directory would: edit it, then recompute the
/// checksum so that it passes.
fn forge(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join(INDEX_FILE);
    let mut file: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut file["index"]);
    let index: Index = serde_json::from_value(file["index"].clone()).unwrap();
    file["checksum"] = l2core::digest::sha256_hex(&serde_json::to_vec(&index).unwrap()).into();
    std::fs::write(&path, serde_json::to_vec_pretty(&file).unwrap()).unwrap();
}

fn l2_registry(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_l2"))
        .arg("registry")
        .args(args)
        .env("L2_REGISTRY", dir)
        .output()
        .unwrap()
}

#[test]
fn an_index_pointing_outside_the_registry_is_rejected_and_nothing_outside_is_touched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    let reg = Registry::open(&dir);
    reg.add(&model_file(tmp.path(), 1), "").unwrap();
    reg.add(&model_file(tmp.path(), 2), "").unwrap();
    // The victim is a valid model file with the right size and sha256 in the forged entry.
    let victim = tmp.path().join("victim.l2");
    std::fs::copy(dir.join("models/v2.l2"), &victim).unwrap();
    forge(&dir, |ix| ix["entries"][1]["file"] = "../../victim.l2".into());
    for err in [reg.verify().unwrap_err(), reg.remove("v2").unwrap_err(), reg.list().unwrap_err()] {
        let err = err.to_string();
        assert!(err.contains("../../victim.l2") && err.contains("models/v2.l2"), "{err}");
    }
    assert!(victim.exists(), "remove must never delete outside the registry");
    let o = l2_registry(&dir, &["verify"]);
    assert_eq!(o.status.code(), Some(4), "verify must fail: {}", String::from_utf8_lossy(&o.stdout));

    // A symlinked models/ directory or model file is refused too.
    let dir2 = tmp.path().join("reg2");
    let reg2 = Registry::open(&dir2);
    reg2.add(&model_file(tmp.path(), 3), "").unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::rename(dir2.join("models"), &elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir2.join("models")).unwrap();
    let err = reg2.verify().unwrap_err().to_string();
    assert!(err.contains("not a directory"), "{err}");
    std::fs::remove_file(dir2.join("models")).unwrap();
    std::fs::create_dir(dir2.join("models")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("v1.l2"), dir2.join("models/v1.l2")).unwrap();
    let err = reg2.remove("v1").unwrap_err().to_string();
    assert!(err.contains("not a regular file"), "{err}");
    assert!(elsewhere.join("v1.l2").exists());
}

#[test]
fn a_missing_index_is_an_error_naming_the_files_and_recover_rebuilds_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    let reg = Registry::open(&dir);
    reg.add(&model_file(tmp.path(), 1), "").unwrap();
    reg.promote("v1", Stage::Production).unwrap();
    let v1 = std::fs::read(dir.join("models/v1.l2")).unwrap();
    std::fs::rename(dir.join(INDEX_FILE), tmp.path().join("moved.json")).unwrap();
    for err in [reg.verify().unwrap_err(), reg.add(&model_file(tmp.path(), 2), "").unwrap_err()] {
        let err = err.to_string();
        assert!(err.contains("missing") && err.contains("models/v1.l2") && err.contains("recover"), "{err}");
    }
    assert_eq!(std::fs::read(dir.join("models/v1.l2")).unwrap(), v1, "the production model is intact");
    let o = l2_registry(&dir, &["verify"]);
    assert_eq!(o.status.code(), Some(4));

    let o = l2_registry(&dir, &["recover"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("rebuilt") && out.contains("v1"), "{out}");
    let entries = reg.list().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].sha256, l2core::digest::sha256_hex(&v1));
    assert_eq!(reg.add(&model_file(tmp.path(), 2), "").unwrap().version, 2);

    // An index that fails its checks is kept aside and rebuilt.
    forge(&dir, |ix| ix["next_version"] = 1.into());
    assert!(reg.verify().is_err());
    let r = reg.recover().unwrap();
    assert!(r.rebuilt && r.bad_index.is_some() && r.recovered == [1, 2], "{r}");
    assert!(std::fs::read_dir(&dir).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .starts_with("registry.json.bad-")));
}

#[test]
fn version_numbers_never_reuse_a_file_and_never_wrap() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    let reg = Registry::open(&dir);
    reg.add(&model_file(tmp.path(), 1), "").unwrap();
    // A model file the index does not know (an orphan): its number is not handed out again.
    std::fs::copy(dir.join("models/v1.l2"), dir.join("models/v5.l2")).unwrap();
    let orphan = std::fs::read(dir.join("models/v5.l2")).unwrap();
    assert_eq!(reg.add(&model_file(tmp.path(), 2), "").unwrap().version, 6);
    assert_eq!(std::fs::read(dir.join("models/v5.l2")).unwrap(), orphan);

    forge(&dir, |ix| ix["next_version"] = u32::MAX.into());
    let err = reg.add(&model_file(tmp.path(), 3), "").unwrap_err().to_string();
    assert!(err.contains("exhausted"), "{err}");
    assert!(!dir.join("models/v0.l2").exists() && !dir.join("models/v4294967295.l2").exists());
    assert_eq!(reg.list().unwrap().len(), 2);
}

#[test]
fn two_production_entries_fail_verify_and_promote_demotes_the_old_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    let reg = Registry::open(&dir);
    for s in 1..=3 {
        reg.add(&model_file(tmp.path(), s), "").unwrap();
    }
    reg.promote("v1", Stage::Production).unwrap();
    reg.promote("v2", Stage::Production).unwrap();
    let ix = reg.index().unwrap();
    assert_eq!((ix.get(1).unwrap().stage, ix.get(2).unwrap().stage), (Stage::Archived, Stage::Production));
    forge(&dir, |ix| ix["entries"][2]["stage"] = "production".into());
    let err = reg.verify().unwrap_err().to_string();
    assert!(err.contains("2 versions are in production") && err.contains("v2, v3"), "{err}");
    // Versions out of order or a duplicate are rejected as well.
    forge(&dir, |ix| {
        ix["entries"][2]["stage"] = "none".into();
        ix["entries"][2]["version"] = 2.into();
        ix["entries"][2]["file"] = "models/v2.l2".into();
    });
    assert!(reg.verify().unwrap_err().to_string().contains("unique and ascending"));
}

#[test]
fn temp_files_of_killed_writers_are_cleaned_by_verify_fix_and_the_next_write() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reg");
    let reg = Registry::open(&dir);
    reg.add(&model_file(tmp.path(), 1), "").unwrap();
    let debris = [dir.join(".tmp-1-2-registry.json"), dir.join("models/.tmp-3-4-v2.l2")];
    let leave = || debris.iter().for_each(|d| std::fs::write(d, b"half a write").unwrap());
    leave();
    assert_eq!(reg.verify().unwrap().temp_files.len(), 2);
    let o = l2_registry(&dir, &["--json", "verify", "--fix"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["removed"].as_array().unwrap().len(), 2, "{v}");
    assert!(v["temp_files"].as_array().unwrap().is_empty(), "{v}");
    assert!(debris.iter().all(|d| !d.exists()));
    leave();
    reg.promote("v1", Stage::Staging).unwrap();
    assert!(debris.iter().all(|d| !d.exists()), "a write cleans the debris first");
    assert!(reg.verify().unwrap().temp_files.is_empty());
}
