//! Where a registry keeps its files: every model file's name is derived from its version
//! (`models/v{N}.l2`), never taken from the index, and every path is checked to stay inside the
//! registry directory (no symlinked `models/` directory, no symlinked or special model files).

use crate::error::{Error, Result};
use crate::fsutil::TEMP_PREFIX;
use std::path::{Path, PathBuf};

/// The directory of model files inside the registry.
pub(crate) const MODELS_DIR: &str = "models";

/// The model file of `version`, relative to the registry directory (`models/v{N}.l2`).
pub(crate) fn model_rel(version: u32) -> String {
    format!("{MODELS_DIR}/v{version}.l2")
}

/// The version a model file name stands for (`v12.l2` -> 12), `None` for any other name.
pub(crate) fn version_of(name: &str) -> Option<u32> {
    let digits = name.strip_prefix('v')?.strip_suffix(".l2")?;
    // `v01.l2` is not the name of version 1: only the canonical spelling counts.
    if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    digits.parse().ok().filter(|&v| v > 0)
}

/// The files of a registry's `models/` directory.
#[derive(Debug, Default)]
pub(crate) struct ModelFiles {
    /// Model files by version, ascending.
    pub versions: Vec<u32>,
    /// Other names (not `v{N}.l2`, not temp files), relative to the registry directory.
    pub other: Vec<String>,
}

/// The path of `version`'s model file, checked to stay inside `dir`: `models/` must be a real
/// directory (not a symlink) and the file, when it exists, a regular file (not a symlink, device or
/// directory). `err` builds the registry error.
pub(crate) fn model_path(dir: &Path, version: u32, err: impl Fn(String) -> Error) -> Result<PathBuf> {
    let models = dir.join(MODELS_DIR);
    match std::fs::symlink_metadata(&models) {
        Ok(m) if !m.file_type().is_dir() => {
            return Err(err(format!("{MODELS_DIR}/ is not a directory (a symlink or file): refusing to follow it")))
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("inspecting", models, e)),
    }
    let path = dir.join(model_rel(version));
    match std::fs::symlink_metadata(&path) {
        Ok(m) if !m.file_type().is_file() => Err(err(format!(
            "{} is not a regular file (a symlink, directory or device): refusing to use it",
            model_rel(version)
        ))),
        _ => Ok(path),
    }
}

/// List `models/` (empty when it does not exist). Temp files of interrupted writes are left out.
pub(crate) fn scan(dir: &Path) -> Result<ModelFiles> {
    let models = dir.join(MODELS_DIR);
    let rd = match std::fs::read_dir(&models) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ModelFiles::default()),
        Err(e) => return Err(Error::io("listing", models, e)),
    };
    let mut out = ModelFiles::default();
    for e in rd {
        let e = e.map_err(|err| Error::io("listing", &models, err))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(TEMP_PREFIX) {
            continue;
        }
        match version_of(&name) {
            Some(v) => out.versions.push(v),
            None => out.other.push(format!("{MODELS_DIR}/{name}")),
        }
    }
    out.versions.sort_unstable();
    out.other.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_version_names_count() {
        assert_eq!(version_of("v1.l2"), Some(1));
        assert_eq!(version_of("v4294967295.l2"), Some(u32::MAX));
        for bad in ["v0.l2", "v01.l2", "v.l2", "v1.l2.bak", "x1.l2", "v-1.l2", "v4294967296.l2", "v1 .l2"] {
            assert_eq!(version_of(bad), None, "{bad}");
        }
        assert_eq!(model_rel(7), "models/v7.l2");
    }
}
