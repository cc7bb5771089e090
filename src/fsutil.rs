//! Crash-safe file writes: the one atomic write of the crate (model files, reports, registry files).

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Prefix of the temp files [`write_atomic`] writes next to their target; a file starting with it is
/// debris of an interrupted write (the registry's `verify` reports such files).
pub const TEMP_PREFIX: &str = ".tmp-";

/// Write `bytes` to `path` atomically: a temp file in the same directory, fsync, rename, fsync of the
/// directory. A crash leaves either the old file or the new one, never a half-written one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, bytes, |_| Ok(()))
}

/// [`write_atomic`] with a hook that runs after the temp file is written and synced and before the
/// rename (the registry's crash tests inject their faults there). When the hook fails, the temp file
/// is left where a crash would leave it and the error is returned.
///
/// The temp name is unique per process and thread (`.tmp-<name>-<pid>-<thread>`), so concurrent
/// writers never share one and a crashed writer's debris is never overwritten half-way by the next.
pub fn write_atomic_with(path: &Path, bytes: &[u8], before_rename: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| Error::param("path", path.display(), "names no file"))?;
    let tmp = dir.join(format!(
        "{TEMP_PREFIX}{}-{}-{:?}",
        name.to_string_lossy(),
        std::process::id(),
        std::thread::current().id()
    ));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io("creating", &tmp, e))?;
        f.write_all(bytes).map_err(|e| Error::io("writing", &tmp, e))?;
        f.sync_all().map_err(|e| Error::io("syncing", &tmp, e))
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    before_rename(&tmp)?;
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io("renaming into", path, e));
    }
    sync_dir(dir);
    Ok(())
}

/// fsync a directory so a rename or unlink in it is durable; best effort (not every filesystem allows
/// opening a directory).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
