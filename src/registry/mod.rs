//! The local model registry: a directory of model files with an index that records each version's
//! metadata, checksum and stage (staging / production), and the production history for rollbacks.
//!
//! Layout of a registry directory:
//! ```text
//! registry.json          the index: {"format", "checksum", "index": {...}}; checksum = sha256 of the index JSON
//! models/v1.l2           the model files, copied in by `add`
//! .lock                  the lock file (flock): writers hold it exclusively, readers shared
//! ```
//! Safety rules:
//! - every file is written through a temp file, fsync and rename, so a crash leaves either the old or
//!   the new file; the index is written last, so a model file without an index entry (an orphan) is
//!   the worst a crash can leave, and it is reported by [`Registry::verify`], never used;
//! - every operation runs under the lock, so concurrent writers (threads or processes) serialise;
//! - every load verifies the index checksum and every model file's sha256 and size.

mod store;

pub use store::{FaultPoint, FAULT_ENV};

use crate::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::model::now_rfc3339;
use crate::Model;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use store::{temp_debris, write_atomic, Lock};

/// Environment variable naming the default registry directory.
pub const REGISTRY_ENV: &str = "L2_REGISTRY";
/// The index file name inside the registry directory.
pub const INDEX_FILE: &str = "registry.json";
const FORMAT_TAG: &str = "l2core-registry";
const FORMAT_VERSION: u32 = 1;
const LOCK_FILE: &str = ".lock";
const MODELS_DIR: &str = "models";

/// Where a version stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Registered, not promoted.
    #[default]
    None,
    /// The candidate under test (at most one version).
    Staging,
    /// Serving (at most one version).
    Production,
    /// Was in production, replaced by a later promotion or rolled back.
    Archived,
}

impl Stage {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::None => "none",
            Stage::Staging => "staging",
            Stage::Production => "production",
            Stage::Archived => "archived",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Stage {
    type Err = Error;
    /// Accepts the stages a user may promote to: `staging` and `production`.
    fn from_str(s: &str) -> Result<Stage> {
        match s.trim().to_ascii_lowercase().as_str() {
            "staging" => Ok(Stage::Staging),
            "production" | "prod" => Ok(Stage::Production),
            other => Err(Error::param("stage", other, "expected staging or production")),
        }
    }
}

/// One registered model version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Version number (shown as `v{version}`); never reused, even after a removal.
    pub version: u32,
    /// The model file, relative to the registry directory.
    pub file: String,
    /// sha256 (hex) of the model file's bytes.
    pub sha256: String,
    /// The model's weights sha256 (as in the model file header).
    pub weights_sha256: String,
    /// File size in bytes.
    pub size: u64,
    /// When it was added (RFC 3339 UTC).
    pub added: String,
    /// The path it was added from.
    pub source: String,
    /// User note.
    pub note: String,
    /// Stage.
    pub stage: Stage,
    /// Metadata summary copied from the model file.
    pub meta: MetaSummary,
}

impl Entry {
    /// `v{version}`.
    pub fn name(&self) -> String {
        format!("v{}", self.version)
    }
}

/// The parts of [`crate::model::ModelMeta`] worth seeing in a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaSummary {
    /// l2core version that wrote the model.
    pub l2core_version: String,
    /// When the model was created.
    pub created: String,
    /// Weight precision.
    pub precision: String,
    /// Decision threshold.
    pub threshold: f32,
    /// FPR target of the threshold.
    pub target_fpr: Option<f64>,
    /// Input width.
    pub input_dims: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Embedder spec (JSON).
    pub embedder: serde_json::Value,
    /// Training-time test report (JSON), when the model has one.
    pub eval: Option<serde_json::Value>,
    /// Rows the model was trained on, when known.
    pub dataset_rows: Option<usize>,
    /// Model tags.
    pub tags: BTreeMap<String, String>,
}

impl MetaSummary {
    fn of(model: &Model) -> MetaSummary {
        let m = model.meta();
        MetaSummary {
            l2core_version: m.l2core_version.clone(),
            created: m.created.clone(),
            precision: m.precision.to_string(),
            threshold: m.threshold,
            target_fpr: m.target_fpr,
            input_dims: m.architecture.input_dims,
            hidden: m.architecture.hidden.clone(),
            embedder: serde_json::to_value(&m.embedder).unwrap_or(serde_json::Value::Null),
            eval: m.eval.as_ref().and_then(|r| serde_json::to_value(r).ok()),
            dataset_rows: m.dataset.as_ref().map(|d| d.rows),
            tags: m.tags.clone(),
        }
    }
}

/// One line of the registry's audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When (RFC 3339 UTC).
    pub time: String,
    /// `add`, `promote-staging`, `promote-production`, `rollback`, `remove`.
    pub action: String,
    /// The version acted on.
    pub version: u32,
    /// Details in words.
    pub detail: String,
}

/// The registry index (what `registry.json` holds under `index`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Index {
    /// The next version number to hand out.
    pub next_version: u32,
    /// Registered versions, ascending.
    pub entries: Vec<Entry>,
    /// Versions promoted to production, oldest first; the last is the current one.
    pub production_history: Vec<u32>,
    /// Audit log, oldest first.
    pub events: Vec<Event>,
}

impl Index {
    /// The entry of `version`.
    pub fn get(&self, version: u32) -> Option<&Entry> {
        self.entries.iter().find(|e| e.version == version)
    }

    fn get_mut(&mut self, version: u32) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.version == version)
    }

    /// The version in production.
    pub fn production(&self) -> Option<&Entry> {
        self.entries.iter().find(|e| e.stage == Stage::Production)
    }

    /// The version in staging.
    pub fn staging(&self) -> Option<&Entry> {
        self.entries.iter().find(|e| e.stage == Stage::Staging)
    }

    fn log(&mut self, action: &str, version: u32, detail: String) {
        self.events.push(Event { time: now_rfc3339(), action: action.to_string(), version, detail });
    }
}

#[derive(Serialize, Deserialize)]
struct IndexFile {
    format: String,
    format_version: u32,
    checksum: String,
    index: Index,
}

/// What [`Registry::verify`] found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Versions whose file and checksum are good.
    pub verified: usize,
    /// Model files no index entry refers to (left by an interrupted `add` or `remove`); harmless.
    pub orphans: Vec<String>,
    /// Temp files of interrupted writes; harmless.
    pub temp_files: Vec<String>,
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "registry OK: {} version(s) verified", self.verified)?;
        if !self.orphans.is_empty() {
            write!(f, "; {} unreferenced model file(s): {}", self.orphans.len(), self.orphans.join(", "))?;
        }
        if !self.temp_files.is_empty() {
            write!(
                f,
                "; {} temp file(s) of interrupted writes: {}",
                self.temp_files.len(),
                self.temp_files.join(", ")
            )?;
        }
        Ok(())
    }
}

/// A registry directory.
#[derive(Debug, Clone)]
pub struct Registry {
    dir: PathBuf,
    fault: Option<FaultPoint>,
}

impl Registry {
    /// A registry at `dir` (created on the first write). Nothing is read until an operation runs.
    pub fn open(dir: impl Into<PathBuf>) -> Registry {
        Registry { dir: dir.into(), fault: None }
    }

    /// The registry named by `--registry` or else the `L2_REGISTRY` environment variable.
    pub fn from_arg_or_env(arg: Option<&Path>) -> Result<Registry> {
        match arg {
            Some(p) => Ok(Registry::open(p)),
            None => match std::env::var_os(REGISTRY_ENV) {
                Some(v) if !v.is_empty() => Ok(Registry::open(PathBuf::from(v))),
                _ => Err(Error::param("registry", "<unset>", format!("give --registry DIR or set {REGISTRY_ENV}"))),
            },
        }
    }

    /// Make the next write stop at `point` (crash tests): the write returns an error and leaves its temp
    /// file behind exactly as a crash would.
    #[doc(hidden)]
    pub fn inject_fault(&mut self, point: Option<FaultPoint>) {
        self.fault = point;
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn err(&self, reason: impl Into<String>) -> Error {
        Error::Registry { path: self.dir.clone(), reason: reason.into() }
    }

    fn lock(&self, exclusive: bool) -> Result<Lock> {
        if exclusive {
            std::fs::create_dir_all(self.dir.join(MODELS_DIR))
                .map_err(|e| Error::io("creating directory", self.dir.join(MODELS_DIR), e))?;
        } else if !self.dir.is_dir() {
            return Err(self.err("no such registry directory"));
        }
        Lock::acquire(&self.dir.join(LOCK_FILE), exclusive)
    }

    /// Read and verify the index (checksum, every model file's size and sha256). Caller holds the lock.
    fn load(&self) -> Result<Index> {
        let path = self.dir.join(INDEX_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Index { next_version: 1, ..Index::default() })
            }
            Err(e) => return Err(Error::io("reading", &path, e)),
        };
        let file: IndexFile =
            serde_json::from_slice(&bytes).map_err(|e| self.err(format!("{INDEX_FILE} is corrupt: {e}")))?;
        if file.format != FORMAT_TAG || file.format_version != FORMAT_VERSION {
            return Err(self.err(format!(
                "{INDEX_FILE} is format {:?} version {}, expected {FORMAT_TAG:?} version {FORMAT_VERSION}",
                file.format, file.format_version
            )));
        }
        let actual = index_checksum(&file.index)?;
        if actual != file.checksum {
            return Err(self.err(format!(
                "{INDEX_FILE} checksum mismatch (stored {}, computed {actual}): the index was modified or corrupted",
                file.checksum
            )));
        }
        for e in &file.index.entries {
            self.verify_entry(e)?;
        }
        Ok(file.index)
    }

    fn verify_entry(&self, e: &Entry) -> Result<Vec<u8>> {
        let path = self.dir.join(&e.file);
        let bytes = std::fs::read(&path).map_err(|err| self.err(format!("{} file {}: {err}", e.name(), e.file)))?;
        if bytes.len() as u64 != e.size {
            return Err(self.err(format!(
                "{} file {} is {} bytes, the index says {}",
                e.name(),
                e.file,
                bytes.len(),
                e.size
            )));
        }
        let sha = sha256_hex(&bytes);
        if sha != e.sha256 {
            return Err(self.err(format!("{} file {} sha256 is {sha}, the index says {}", e.name(), e.file, e.sha256)));
        }
        Ok(bytes)
    }

    fn save(&self, index: &Index) -> Result<()> {
        let file = IndexFile {
            format: FORMAT_TAG.to_string(),
            format_version: FORMAT_VERSION,
            checksum: index_checksum(index)?,
            index: index.clone(),
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(|e| Error::json("registry index", e))?;
        write_atomic(&self.dir.join(INDEX_FILE), &bytes, self.fault, true)
    }

    /// The verified index.
    pub fn index(&self) -> Result<Index> {
        if !self.dir.join(INDEX_FILE).exists() && !self.dir.is_dir() {
            return Ok(Index { next_version: 1, ..Index::default() });
        }
        let _lock = self.lock(false)?;
        self.load()
    }

    /// Every version, ascending.
    pub fn list(&self) -> Result<Vec<Entry>> {
        Ok(self.index()?.entries)
    }

    /// Resolve `spec` (`v3`, `3`, `production`, `staging`, `latest`) to a version number.
    pub fn resolve(&self, index: &Index, spec: &str) -> Result<u32> {
        let s = spec.trim().to_ascii_lowercase();
        let found = match s.as_str() {
            "production" | "prod" => index.production().map(|e| e.version),
            "staging" => index.staging().map(|e| e.version),
            "latest" => index.entries.last().map(|e| e.version),
            _ => {
                let n: u32 =
                    s.strip_prefix('v').unwrap_or(&s).parse().map_err(|_| {
                        Error::param("version", spec, "expected v<N>, <N>, production, staging or latest")
                    })?;
                index.get(n).map(|e| e.version)
            }
        };
        found.ok_or_else(|| self.err(format!("no version `{spec}`")))
    }

    /// The entry named by `spec`.
    pub fn show(&self, spec: &str) -> Result<Entry> {
        let index = self.index()?;
        let v = self.resolve(&index, spec)?;
        index.get(v).cloned().ok_or_else(|| self.err(format!("no version `{spec}`")))
    }

    /// Load the model named by `spec`, verified against the index.
    pub fn load_model(&self, spec: &str) -> Result<(Entry, Model)> {
        let _lock = self.lock(false)?;
        let index = self.load()?;
        let v = self.resolve(&index, spec)?;
        let entry = index.get(v).cloned().ok_or_else(|| self.err(format!("no version `{spec}`")))?;
        let bytes = self.verify_entry(&entry)?;
        let model = Model::from_bytes(&bytes).map_err(|e| self.err(format!("{}: {e}", entry.name())))?;
        Ok((entry, model))
    }

    /// Path of the model file of `spec` (verified).
    pub fn model_path(&self, spec: &str) -> Result<PathBuf> {
        let entry = self.show(spec)?;
        Ok(self.dir.join(entry.file))
    }

    /// Copy the model file at `model` into the registry as the next version.
    pub fn add(&self, model: &Path, note: &str) -> Result<Entry> {
        let bytes = std::fs::read(model).map_err(|e| Error::io("reading model", model, e))?;
        let loaded = Model::from_bytes(&bytes).map_err(|e| match e {
            Error::Model { reason, .. } => Error::model(model.display().to_string(), reason),
            other => other,
        })?;
        let _lock = self.lock(true)?;
        let mut index = self.load()?;
        let version = index.next_version.max(index.entries.iter().map(|e| e.version + 1).max().unwrap_or(1));
        let file = format!("{MODELS_DIR}/v{version}.l2");
        // Model first, index last: a crash in between leaves an unreferenced file, never a dangling entry.
        write_atomic(&self.dir.join(&file), &bytes, self.fault, false)?;
        let entry = Entry {
            version,
            file,
            sha256: sha256_hex(&bytes),
            weights_sha256: loaded.weights_sha256(),
            size: bytes.len() as u64,
            added: now_rfc3339(),
            source: model.display().to_string(),
            note: note.to_string(),
            stage: Stage::None,
            meta: MetaSummary::of(&loaded),
        };
        index.entries.push(entry.clone());
        index.next_version = version + 1;
        index.log("add", version, format!("from {}", model.display()));
        self.save(&index)?;
        Ok(entry)
    }

    /// Promote `spec` to `stage` (staging or production). The previous holder of the stage steps down:
    /// staging to none, production to archived (and stays in the history for rollbacks).
    pub fn promote(&self, spec: &str, stage: Stage) -> Result<Entry> {
        let _lock = self.lock(true)?;
        let mut index = self.load()?;
        let v = self.resolve(&index, spec)?;
        let current = index.get(v).map(|e| e.stage).unwrap_or_default();
        match stage {
            Stage::Staging => {
                if current == Stage::Production {
                    return Err(self.err(format!("v{v} is in production; promote another version or roll back first")));
                }
                for e in index.entries.iter_mut().filter(|e| e.stage == Stage::Staging) {
                    e.stage = Stage::None;
                }
            }
            Stage::Production => {
                if current == Stage::Production {
                    return index.get(v).cloned().ok_or_else(|| self.err(format!("no version v{v}")));
                }
                for e in index.entries.iter_mut().filter(|e| e.stage == Stage::Production) {
                    e.stage = Stage::Archived;
                }
                index.production_history.push(v);
            }
            other => return Err(Error::param("stage", other, "expected staging or production")),
        }
        let entry = index.get_mut(v).ok_or_else(|| self.err(format!("no version v{v}")))?;
        entry.stage = stage;
        let entry = entry.clone();
        index.log(&format!("promote-{stage}"), v, format!("was {current}"));
        self.save(&index)?;
        Ok(entry)
    }

    /// Put the previous production version back in production; returns (the version taken out, the one
    /// now in production).
    pub fn rollback(&self) -> Result<(Entry, Entry)> {
        let _lock = self.lock(true)?;
        let mut index = self.load()?;
        let current = index.production().map(|e| e.version).ok_or_else(|| self.err("nothing is in production"))?;
        // Drop the current one and any removed versions from the top of the history.
        while index.production_history.last().is_some_and(|&v| v == current || index.get(v).is_none()) {
            index.production_history.pop();
        }
        let previous = *index
            .production_history
            .last()
            .ok_or_else(|| self.err(format!("v{current} has no earlier production version to roll back to")))?;
        if let Some(e) = index.get_mut(current) {
            e.stage = Stage::Archived;
        }
        if let Some(e) = index.get_mut(previous) {
            e.stage = Stage::Production;
        }
        index.log("rollback", previous, format!("v{current} taken out of production"));
        let out = (
            index.get(current).cloned().ok_or_else(|| self.err(format!("no version v{current}")))?,
            index.get(previous).cloned().ok_or_else(|| self.err(format!("no version v{previous}")))?,
        );
        self.save(&index)?;
        Ok(out)
    }

    /// Remove `spec` (not the production version: roll back or promote another one first).
    pub fn remove(&self, spec: &str) -> Result<Entry> {
        let _lock = self.lock(true)?;
        let mut index = self.load()?;
        let v = self.resolve(&index, spec)?;
        let pos =
            index.entries.iter().position(|e| e.version == v).ok_or_else(|| self.err(format!("no version v{v}")))?;
        if index.entries[pos].stage == Stage::Production {
            return Err(self.err(format!("v{v} is in production; promote another version or roll back first")));
        }
        let entry = index.entries.remove(pos);
        index.production_history.retain(|&p| p != v);
        index.log("remove", v, format!("file {}", entry.file));
        // Index first, file last: a crash in between leaves an unreferenced file, never a dangling entry.
        self.save(&index)?;
        let path = self.dir.join(&entry.file);
        std::fs::remove_file(&path).map_err(|e| Error::io("removing", &path, e))?;
        crate::fsutil::sync_dir(&self.dir.join(MODELS_DIR));
        Ok(entry)
    }

    /// Verify everything and report harmless debris (orphan model files, temp files).
    pub fn verify(&self) -> Result<VerifyReport> {
        let _lock = self.lock(false)?;
        let index = self.load()?;
        let referenced: std::collections::HashSet<&str> = index.entries.iter().map(|e| e.file.as_str()).collect();
        let mut orphans = Vec::new();
        if let Ok(rd) = std::fs::read_dir(self.dir.join(MODELS_DIR)) {
            for e in rd.filter_map(|e| e.ok()) {
                let name = e.file_name().to_string_lossy().to_string();
                let rel = format!("{MODELS_DIR}/{name}");
                if !name.starts_with(crate::fsutil::TEMP_PREFIX) && !referenced.contains(rel.as_str()) {
                    orphans.push(rel);
                }
            }
        }
        orphans.sort();
        let mut temp_files: Vec<String> = temp_debris(&self.dir)
            .into_iter()
            .chain(temp_debris(&self.dir.join(MODELS_DIR)))
            .map(|p| p.strip_prefix(&self.dir).unwrap_or(&p).display().to_string())
            .collect();
        temp_files.sort();
        Ok(VerifyReport { verified: index.entries.len(), orphans, temp_files })
    }
}

fn index_checksum(index: &Index) -> Result<String> {
    let bytes = serde_json::to_vec(index).map_err(|e| Error::json("registry index", e))?;
    Ok(sha256_hex(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_parses_only_promotable_stages() {
        assert_eq!("Production".parse::<Stage>().ok(), Some(Stage::Production));
        assert_eq!("staging".parse::<Stage>().ok(), Some(Stage::Staging));
        assert!("archived".parse::<Stage>().is_err());
    }

    #[test]
    fn checksum_changes_with_the_index() {
        let mut a = Index { next_version: 1, ..Index::default() };
        let c1 = index_checksum(&a).unwrap();
        a.next_version = 2;
        assert_ne!(c1, index_checksum(&a).unwrap());
    }
}
