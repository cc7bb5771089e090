//! Files: the one atomic write of the crate (model files, reports, registry files), the size-capped
//! read of untrusted files, and the check that no output overwrites an input.

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

/// The largest model file a loader reads (1 GiB): a bigger input is refused before it is read, so a
/// wrong path (a device, an endless pipe, a huge unrelated file) fails fast instead of filling memory.
/// `L2_MAX_MODEL_BYTES` (a byte count) overrides it.
pub const MAX_MODEL_BYTES: u64 = 1 << 30;

/// Environment variable overriding [`MAX_MODEL_BYTES`].
pub const MAX_MODEL_BYTES_ENV: &str = "L2_MAX_MODEL_BYTES";

/// The model-file size limit in force: [`MAX_MODEL_BYTES`] or `L2_MAX_MODEL_BYTES`.
pub fn max_model_bytes() -> Result<u64> {
    match std::env::var(MAX_MODEL_BYTES_ENV) {
        Err(_) => Ok(MAX_MODEL_BYTES),
        Ok(v) => match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(Error::param(MAX_MODEL_BYTES_ENV, v, "must be a byte count > 0")),
        },
    }
}

/// Read the whole file at `path`, refusing anything larger than `max` bytes (`what` names the kind
/// of file in errors). A regular file is checked by its size before a byte is read; a character or
/// block device (`/dev/zero`) is refused outright; a pipe is read up to `max` bytes and refused past
/// it.
pub fn read_capped(path: &Path, max: u64, what: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    // Error::io takes a static operation name: the kinds of file read here, named.
    let reading = match what {
        "model" => "reading model",
        "registry index" => "reading registry index",
        _ => "reading",
    };
    let f = std::fs::File::open(path).map_err(|e| Error::io(reading, path, e))?;
    let meta = f.metadata().map_err(|e| Error::io(reading, path, e))?;
    let too_big = |size: String| {
        Error::io(
            reading,
            path,
            std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                format!("{size} is larger than the limit for {what} files ({max} bytes)"),
            ),
        )
    };
    if is_device(&meta) {
        return Err(Error::io(
            reading,
            path,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("is a device, not a {what} file")),
        ));
    }
    if meta.is_dir() {
        return Err(Error::io(
            reading,
            path,
            std::io::Error::new(std::io::ErrorKind::IsADirectory, format!("is a directory, not a {what} file")),
        ));
    }
    if meta.is_file() && meta.len() > max {
        return Err(too_big(format!("the file's size, {} bytes,", meta.len())));
    }
    let mut bytes = Vec::with_capacity(if meta.is_file() { meta.len() as usize } else { 0 });
    f.take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| Error::io(reading, path, e))?;
    if bytes.len() as u64 > max {
        return Err(too_big("the input".to_string()));
    }
    Ok(bytes)
}

#[cfg(unix)]
fn is_device(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    meta.file_type().is_char_device() || meta.file_type().is_block_device()
}

#[cfg(not(unix))]
fn is_device(_: &std::fs::Metadata) -> bool {
    false
}

/// Refuse to write an output over an input: every path of `outputs` (`(setting name, path)`) is
/// compared, resolved (symlinks, `.`/`..`, hard links to the same file), with every path of `inputs`
/// and with the other outputs. An output that would replace an input, or two outputs that would be
/// the same file, is [`Error::InvalidParam`] naming the setting and both paths. Run it before any work:
/// a job must not destroy its own input data.
pub fn check_outputs(inputs: &[&Path], outputs: &[(&str, &Path)]) -> Result<()> {
    let ins: Vec<(&Path, Option<Resolved>)> = inputs.iter().map(|p| (*p, Resolved::of(p))).collect();
    let mut outs: Vec<(&str, &Path, Option<Resolved>)> = Vec::with_capacity(outputs.len());
    for (name, out) in outputs {
        let r = Resolved::of(out);
        if let Some(r) = &r {
            if let Some((input, _)) = ins.iter().find(|(_, i)| i.as_ref().is_some_and(|i| i.same(r))) {
                return Err(Error::param(
                    *name,
                    out.display(),
                    format!(
                        "is the input file {}: writing it would destroy the input; choose another path",
                        input.display()
                    ),
                ));
            }
            if let Some((other, other_path, _)) = outs.iter().find(|(_, _, o)| o.as_ref().is_some_and(|o| o.same(r))) {
                return Err(Error::param(
                    *name,
                    out.display(),
                    format!("is also the `{other}` output ({}): one would overwrite the other", other_path.display()),
                ));
            }
        }
        outs.push((name, out, r));
    }
    Ok(())
}

/// Where a path leads: its canonical form (the parent's, plus the name, for a file not yet there) and,
/// for an existing file, its device and inode (which also catch hard links).
struct Resolved {
    path: std::path::PathBuf,
    id: Option<(u64, u64)>,
}

impl Resolved {
    fn of(p: &Path) -> Option<Resolved> {
        if let Ok(canon) = std::fs::canonicalize(p) {
            return Some(Resolved { id: file_id(&canon), path: canon });
        }
        let name = p.file_name()?;
        let parent = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        Some(Resolved { path: std::fs::canonicalize(parent).ok()?.join(name), id: None })
    }

    fn same(&self, o: &Resolved) -> bool {
        self.path == o.path || matches!((self.id, o.id), (Some(a), Some(b)) if a == b)
    }
}

#[cfg(unix)]
fn file_id(p: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &Path) -> Option<(u64, u64)> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_that_resolve_to_inputs_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let input = dir.join("data.csv");
        std::fs::write(&input, "text,label\n").unwrap();
        let sub = dir.join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        let dotted = sub.join("..").join("data.csv");
        let err = check_outputs(&[&input], &[("output", &dotted)]).unwrap_err().to_string();
        assert!(err.contains("`output`") && err.contains("destroy the input"), "{err}");
        #[cfg(unix)]
        {
            let link = dir.join("hard.csv");
            std::fs::hard_link(&input, &link).unwrap();
            assert!(check_outputs(&[&input], &[("rejects", &link)]).is_err(), "a hard link is the same file");
            let sym = dir.join("sym.csv");
            std::os::unix::fs::symlink(&input, &sym).unwrap();
            assert!(check_outputs(&[&input], &[("rejects", &sym)]).is_err(), "a symlink leads to the input");
        }
        let fresh = dir.join("model.l2");
        assert!(check_outputs(&[&input], &[("output", &fresh)]).is_ok());
        let err = check_outputs(&[&input], &[("output", &fresh), ("rejects", &sub.join("../model.l2"))]);
        assert!(err.unwrap_err().to_string().contains("also the `output` output"));
    }

    #[test]
    fn read_capped_refuses_devices_and_oversized_files() {
        let tmp = tempfile::tempdir().unwrap();
        let big = tmp.path().join("big.bin");
        std::fs::write(&big, vec![1u8; 100]).unwrap();
        assert_eq!(read_capped(&big, 100, "model").unwrap().len(), 100);
        let err = read_capped(&big, 99, "model").unwrap_err().to_string();
        assert!(err.contains("100 bytes") && err.contains("limit for model files (99 bytes)"), "{err}");
        #[cfg(unix)]
        {
            let err = read_capped(Path::new("/dev/zero"), 1 << 30, "model").unwrap_err().to_string();
            assert!(err.contains("is a device"), "{err}");
        }
    }
}
