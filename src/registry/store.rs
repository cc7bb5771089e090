//! Low-level storage of the registry: the lock file, crash-safe writes with a fault-injection point,
//! and file hashing.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Environment variable that makes every registry write abort the process at a chosen point, for
/// crash tests: `after-temp-write` (any file: the temp file is written and synced, the rename has not
/// happened) or `index-after-temp-write` (the same, only for the index).
pub const FAULT_ENV: &str = "L2_REGISTRY_FAULT";

/// Where a write can be made to fail on purpose (tests only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultPoint {
    /// Stop after the temp file is written and synced, before the rename: what a crash at the worst
    /// moment leaves behind.
    AfterTempWrite,
    /// The same, only when writing the index (the model file of an `add` goes through).
    IndexAfterTempWrite,
}

impl FaultPoint {
    fn from_env() -> Option<FaultPoint> {
        match std::env::var(FAULT_ENV).ok()?.as_str() {
            "after-temp-write" => Some(FaultPoint::AfterTempWrite),
            "index-after-temp-write" => Some(FaultPoint::IndexAfterTempWrite),
            _ => None,
        }
    }
}

/// Prefix of temp files; anything starting with it is debris of an interrupted write.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// Write `bytes` to `path` via temp file, fsync, rename, directory fsync. Unlike
/// [`crate::fsutil::write_atomic`] this one has the fault-injection point the crash tests need, and a
/// temp name unique per thread (writers in one process are serialised by the lock, but a crashed
/// writer's debris must never be overwritten half-way by the next one).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], fault: Option<FaultPoint>, is_index: bool) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| Error::param("path", path.display(), "names no file"))?;
    let tmp = dir.join(format!(
        "{TEMP_PREFIX}{}-{}-{:?}",
        name.to_string_lossy(),
        std::process::id(),
        std::thread::current().id()
    ));
    let mut f = File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
    let written = f
        .write_all(bytes)
        .map_err(|e| Error::io("writing", &tmp, e))
        .and_then(|()| f.sync_all().map_err(|e| Error::io("syncing", &tmp, e)));
    drop(f);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    let point = fault.or_else(FaultPoint::from_env);
    let hit = match point {
        Some(FaultPoint::AfterTempWrite) => true,
        Some(FaultPoint::IndexAfterTempWrite) => is_index,
        None => false,
    };
    if hit {
        if fault.is_none() {
            // The environment asked for a real crash: no destructors, no cleanup.
            std::process::abort();
        }
        // Leave the temp file where a crash would leave it.
        return Err(Error::Check(format!("injected fault after writing {}", tmp.display())));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io("renaming into", path, e));
    }
    sync_dir(dir);
    Ok(())
}

/// fsync a directory so a rename or unlink in it is durable; best effort (not every filesystem allows
/// opening a directory).
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// An advisory lock on the registry's lock file (flock), held until dropped.
#[derive(Debug)]
pub(crate) struct Lock {
    file: Option<File>,
}

impl Lock {
    /// Block until the lock is held: exclusive for writers, shared for readers. A reader of a registry
    /// it may not write to (read-only directory) opens the lock file read-only, or goes without one
    /// when it does not exist: nobody can be writing such a registry.
    pub(crate) fn acquire(path: &Path, exclusive: bool) -> Result<Lock> {
        let opened = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path);
        let file = match opened {
            Ok(f) => f,
            Err(e) if !exclusive && e.kind() == std::io::ErrorKind::PermissionDenied => match File::open(path) {
                Ok(f) => f,
                Err(e2) if e2.kind() == std::io::ErrorKind::NotFound => return Ok(Lock { file: None }),
                Err(e2) => return Err(Error::io("opening lock file", path, e2)),
            },
            Err(e) => return Err(Error::io("opening lock file", path, e)),
        };
        let locked = if exclusive { file.lock() } else { file.lock_shared() };
        locked.map_err(|e| Error::io("locking", path, e))?;
        Ok(Lock { file: Some(file) })
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if let Some(f) = &self.file {
            let _ = f.unlock();
        }
    }
}

/// Hex sha256 of bytes.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Leftover temp files of interrupted writes in `dir`.
pub(crate) fn temp_debris(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(TEMP_PREFIX))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}
