//! Low-level storage of the registry: the lock file, crash-safe writes with a fault-injection point,
//! and finding the debris of interrupted writes.

use crate::error::{Error, Result};
use crate::fsutil::TEMP_PREFIX;
use std::fs::{File, OpenOptions};
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

/// Write `bytes` to `path` with [`crate::fsutil::write_atomic_with`], whose before-rename hook is this
/// module's fault-injection point for the crash tests.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], fault: Option<FaultPoint>, is_index: bool) -> Result<()> {
    crate::fsutil::write_atomic_with(path, bytes, |tmp| {
        let point = fault.or_else(FaultPoint::from_env);
        let hit = match point {
            Some(FaultPoint::AfterTempWrite) => true,
            Some(FaultPoint::IndexAfterTempWrite) => is_index,
            None => false,
        };
        if !hit {
            return Ok(());
        }
        if fault.is_none() {
            // The environment asked for a real crash: no destructors, no cleanup.
            std::process::abort();
        }
        // Leave the temp file where a crash would leave it.
        Err(Error::Check(format!("injected fault after writing {}", tmp.display())))
    })
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
