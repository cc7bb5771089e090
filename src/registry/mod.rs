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
//!   the worst a crash can leave, and it is reported by [`Registry::verify`], never used; the next
//!   write (or `verify --fix`) removes the temp files of killed writers;
//! - every operation runs under the lock, so concurrent writers (threads or processes) serialise;
//! - every load verifies the index checksum, the index's rules (unique ascending versions below
//!   `next_version`, at most one version in production and one in staging) and every model file's
//!   sha256 and size;
//! - a model file's name is derived from its version (`models/v{N}.l2`); the index cannot point
//!   anywhere else (an entry naming another file is rejected), and `models/` and its files must be a
//!   real directory and regular files, so no operation reads or deletes outside the registry;
//! - version numbers are never reused: a new version is above every version in the index and every
//!   model file on disk; a registry with model files but no index is an error naming them, and
//!   [`Registry::recover`] rebuilds the index from the files' own metadata.
//!
//! The index checksum detects corruption and careless edits, not an attacker who can write the
//! directory (they could recompute it): what such a writer cannot do is steer the registry's file
//! operations outside the directory, or make a model file load that fails its own integrity checks.

mod layout;
mod store;

pub use store::{FaultPoint, FAULT_ENV};

use crate::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::fsutil::read_capped;
use crate::model::now_rfc3339;
use crate::Model;
use layout::{model_rel, scan, MODELS_DIR};
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
/// The largest index a registry reads (64 MiB; an index of 100,000 versions is a few MiB).
const MAX_INDEX_BYTES: u64 = 64 << 20;

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
    /// The model file, relative to the registry directory: always `models/v{version}.l2` (an index
    /// naming any other file is rejected; the name is never used to find the file).
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

    /// The entry of a model file's `bytes` (parsed as `model`) registered as `version`.
    fn of(version: u32, bytes: &[u8], model: &Model, source: String, note: String) -> Entry {
        Entry {
            version,
            file: model_rel(version),
            sha256: sha256_hex(bytes),
            weights_sha256: model.weights_sha256(),
            size: bytes.len() as u64,
            added: now_rfc3339(),
            source,
            note,
            stage: Stage::None,
            meta: MetaSummary::of(model),
        }
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
    /// Temp files removed before verifying (`verify --fix`, [`Registry::clean`]).
    #[serde(default)]
    pub removed: Vec<String>,
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
        if !self.removed.is_empty() {
            write!(f, "; removed {} temp file(s): {}", self.removed.len(), self.removed.join(", "))?;
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

    /// The exclusive lock of a write, with the debris of killed writers cleaned first: every registry
    /// write holds this lock, so a temp file found while holding it belongs to a writer that died.
    fn lock_for_write(&self) -> Result<Lock> {
        let lock = self.lock(true)?;
        self.clean_debris();
        Ok(lock)
    }

    /// Remove the temp files of interrupted writes; the names removed. Caller holds the exclusive lock.
    fn clean_debris(&self) -> Vec<String> {
        let mut removed = Vec::new();
        for p in temp_debris(&self.dir).into_iter().chain(temp_debris(&self.dir.join(MODELS_DIR))) {
            if std::fs::remove_file(&p).is_ok() {
                removed.push(p.strip_prefix(&self.dir).unwrap_or(&p).display().to_string());
            }
        }
        removed.sort();
        removed
    }

    /// Read the index file and check it (format, checksum, invariants); `None` when there is none.
    /// Model files are not read. Caller holds the lock.
    fn read_index(&self) -> Result<Option<Index>> {
        let path = self.dir.join(INDEX_FILE);
        let bytes = match read_capped(&path, MAX_INDEX_BYTES, "registry index") {
            Ok(b) => b,
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
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
        self.check_index(&file.index)?;
        Ok(Some(file.index))
    }

    /// The rules every index keeps: versions above 0, unique and ascending, below `next_version`; each
    /// entry's file is the one its version names; at most one version in production and one in staging.
    fn check_index(&self, index: &Index) -> Result<()> {
        let tampered = |what: String| self.err(format!("{INDEX_FILE}: {what}: the index was modified or corrupted"));
        let mut prev = 0u32;
        for e in &index.entries {
            if e.version <= prev {
                return Err(tampered(format!(
                    "version v{} follows v{prev} (versions are unique and ascending, from v1)",
                    e.version
                )));
            }
            prev = e.version;
            let expected = model_rel(e.version);
            if e.file != expected {
                return Err(tampered(format!(
                    "v{} names the file {:?}, but the file of v{} is always {expected}",
                    e.version, e.file, e.version
                )));
            }
        }
        if index.next_version <= prev {
            return Err(tampered(format!(
                "next_version {} is not above the highest version v{prev}",
                index.next_version
            )));
        }
        for stage in [Stage::Production, Stage::Staging] {
            let holders: Vec<String> = index.entries.iter().filter(|e| e.stage == stage).map(Entry::name).collect();
            if holders.len() > 1 {
                return Err(tampered(format!(
                    "{} versions are in {stage} ({}), at most one may be",
                    holders.len(),
                    holders.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Read and verify the index and every model file's size and sha256. A registry whose `models/`
    /// holds files but that has no index is an error naming them: the index was lost, and starting
    /// afresh would hand out their version numbers again. Caller holds the lock.
    fn load(&self) -> Result<Index> {
        let index = match self.read_index()? {
            Some(index) => index,
            None => {
                let files = scan(&self.dir)?;
                let names: Vec<String> =
                    files.versions.iter().map(|&v| model_rel(v)).chain(files.other.iter().cloned()).collect();
                if !names.is_empty() {
                    return Err(self.err(format!(
                        "{INDEX_FILE} is missing but the registry holds {} model file(s): {}; run \
                         `l2 registry recover` to rebuild the index from the model files' own metadata",
                        names.len(),
                        names.join(", ")
                    )));
                }
                Index { next_version: 1, ..Index::default() }
            }
        };
        for e in &index.entries {
            self.verify_entry(e)?;
        }
        Ok(index)
    }

    /// The model file of `version`, checked to stay inside the registry.
    fn file_of(&self, version: u32) -> Result<PathBuf> {
        layout::model_path(&self.dir, version, |r| self.err(r))
    }

    fn verify_entry(&self, e: &Entry) -> Result<Vec<u8>> {
        let path = self.file_of(e.version)?;
        let rel = model_rel(e.version);
        let bytes = read_capped(&path, crate::fsutil::max_model_bytes()?, "model")
            .map_err(|err| self.err(format!("{} file {rel}: {err}", e.name())))?;
        if bytes.len() as u64 != e.size {
            return Err(self.err(format!(
                "{} file {rel} is {} bytes, the index says {}",
                e.name(),
                bytes.len(),
                e.size
            )));
        }
        let sha = sha256_hex(&bytes);
        if sha != e.sha256 {
            return Err(self.err(format!("{} file {rel} sha256 is {sha}, the index says {}", e.name(), e.sha256)));
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
        self.file_of(entry.version)
    }

    /// The version the next `add` takes: above every version in the index, every model file on disk
    /// (an orphan's number is never handed out again) and `next_version`. The last number, u32::MAX,
    /// is never handed out (nothing would come after it).
    fn next_free_version(&self, index: &Index) -> Result<u32> {
        let exhausted = || self.err("version numbers are exhausted (the next one would pass 4294967294)");
        let on_disk = scan(&self.dir)?.versions.last().copied().unwrap_or(0);
        let highest = on_disk.max(index.entries.last().map_or(0, |e| e.version));
        let v = index.next_version.max(highest.checked_add(1).ok_or_else(exhausted)?).max(1);
        if v == u32::MAX {
            return Err(exhausted());
        }
        Ok(v)
    }

    /// Copy the model file at `model` into the registry as the next version.
    pub fn add(&self, model: &Path, note: &str) -> Result<Entry> {
        let bytes = read_capped(model, crate::fsutil::max_model_bytes()?, "model")?;
        let loaded = Model::from_bytes(&bytes).map_err(|e| match e {
            Error::Model { reason, .. } => Error::model(model.display().to_string(), reason),
            other => other,
        })?;
        let _lock = self.lock_for_write()?;
        let mut index = self.load()?;
        let version = self.next_free_version(&index)?;
        let path = self.file_of(version)?;
        if std::fs::symlink_metadata(&path).is_ok() {
            return Err(self.err(format!("{} already exists; a model file is never overwritten", model_rel(version))));
        }
        // Model first, index last: a crash in between leaves an unreferenced file, never a dangling entry.
        write_atomic(&path, &bytes, self.fault, false)?;
        let entry = Entry::of(version, &bytes, &loaded, model.display().to_string(), note.to_string());
        index.entries.push(entry.clone());
        index.next_version = version + 1;
        index.log("add", version, format!("from {}", model.display()));
        self.save(&index)?;
        Ok(entry)
    }

    /// Promote `spec` to `stage` (staging or production). The previous holder of the stage steps down:
    /// staging to none, production to archived (and stays in the history for rollbacks).
    pub fn promote(&self, spec: &str, stage: Stage) -> Result<Entry> {
        let _lock = self.lock_for_write()?;
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
        self.check_index(&index)?;
        self.save(&index)?;
        Ok(entry)
    }

    /// Put the previous production version back in production; returns (the version taken out, the one
    /// now in production).
    pub fn rollback(&self) -> Result<(Entry, Entry)> {
        let _lock = self.lock_for_write()?;
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
        self.check_index(&index)?;
        self.save(&index)?;
        Ok(out)
    }

    /// Remove `spec` (not the production version: roll back or promote another one first).
    pub fn remove(&self, spec: &str) -> Result<Entry> {
        let _lock = self.lock_for_write()?;
        let mut index = self.load()?;
        let v = self.resolve(&index, spec)?;
        let pos =
            index.entries.iter().position(|e| e.version == v).ok_or_else(|| self.err(format!("no version v{v}")))?;
        if index.entries[pos].stage == Stage::Production {
            return Err(self.err(format!("v{v} is in production; promote another version or roll back first")));
        }
        let path = self.file_of(v)?;
        let entry = index.entries.remove(pos);
        index.production_history.retain(|&p| p != v);
        index.log("remove", v, format!("file {}", model_rel(v)));
        // Index first, file last: a crash in between leaves an unreferenced file, never a dangling entry.
        self.save(&index)?;
        std::fs::remove_file(&path).map_err(|e| Error::io("removing", &path, e))?;
        crate::fsutil::sync_dir(&self.dir.join(MODELS_DIR));
        Ok(entry)
    }

    /// Verify everything and report harmless debris (orphan model files, temp files).
    pub fn verify(&self) -> Result<VerifyReport> {
        let _lock = self.lock(false)?;
        let index = self.load()?;
        let files = scan(&self.dir)?;
        let mut orphans: Vec<String> = files
            .versions
            .iter()
            .filter(|&&v| index.get(v).is_none())
            .map(|&v| model_rel(v))
            .chain(files.other)
            .collect();
        orphans.sort();
        let mut temp_files: Vec<String> = temp_debris(&self.dir)
            .into_iter()
            .chain(temp_debris(&self.dir.join(MODELS_DIR)))
            .map(|p| p.strip_prefix(&self.dir).unwrap_or(&p).display().to_string())
            .collect();
        temp_files.sort();
        Ok(VerifyReport { verified: index.entries.len(), orphans, temp_files, removed: Vec::new() })
    }

    /// Remove the temp files interrupted writes left (what `l2 registry verify --fix` does; every
    /// write also does it first); the names removed. Model files, orphans included, are never removed.
    pub fn clean(&self) -> Result<Vec<String>> {
        let _lock = self.lock(true)?;
        Ok(self.clean_debris())
    }

    /// Rebuild what the index lost from the model files' own metadata (`l2 registry recover`).
    ///
    /// With a valid index, every model file it does not list (an orphan `models/v{N}.l2`) that loads
    /// as a model is added as version N. With no index, or one that fails its checks (kept beside it as
    /// `registry.json.bad-<unix seconds>`), the index is rebuilt from every `models/v{N}.l2` that loads.
    /// Recovered versions are in no stage (which one served is not in the model files): promote one.
    /// Files that do not load are listed in the report and left where they are.
    pub fn recover(&self) -> Result<RecoverReport> {
        let _lock = self.lock_for_write()?;
        let mut report = RecoverReport::default();
        let mut index = match self.read_index() {
            Ok(Some(index)) => index,
            Ok(None) => {
                report.rebuilt = true;
                Index { next_version: 1, ..Index::default() }
            }
            Err(e) => {
                let bad = format!(
                    "{INDEX_FILE}.bad-{}",
                    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
                );
                let from = self.dir.join(INDEX_FILE);
                std::fs::rename(&from, self.dir.join(&bad)).map_err(|err| Error::io("renaming", from, err))?;
                report.rebuilt = true;
                report.bad_index = Some(format!("{bad} ({e})"));
                Index { next_version: 1, ..Index::default() }
            }
        };
        let files = scan(&self.dir)?;
        report.skipped.extend(files.other.iter().map(|f| format!("{f}: not named v<N>.l2")));
        for &v in &files.versions {
            if index.get(v).is_some() {
                continue;
            }
            let rel = model_rel(v);
            let path = self.file_of(v)?;
            let loaded = read_capped(&path, crate::fsutil::max_model_bytes()?, "model")
                .and_then(|bytes| Model::from_bytes(&bytes).map(|m| (bytes, m)));
            match loaded {
                Ok((bytes, model)) => {
                    let entry = Entry::of(v, &bytes, &model, format!("recovered from {rel}"), String::new());
                    let at = index.entries.partition_point(|e| e.version < v);
                    index.entries.insert(at, entry);
                    index.log("recover", v, format!("from {rel}"));
                    report.recovered.push(v);
                }
                Err(e) => report.skipped.push(format!("{rel}: {e}")),
            }
        }
        let highest = index.entries.last().map_or(0, |e| e.version);
        index.next_version = index.next_version.max(highest.saturating_add(1));
        if report.rebuilt || !report.recovered.is_empty() {
            self.check_index(&index)?;
            self.save(&index)?;
        }
        report.versions = index.entries.len();
        Ok(report)
    }
}

/// What [`Registry::recover`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecoverReport {
    /// Whether the index was rebuilt from scratch (it was missing or failed its checks).
    pub rebuilt: bool,
    /// Where the index that failed its checks was kept, and why it failed.
    pub bad_index: Option<String>,
    /// Versions added from their model files.
    pub recovered: Vec<u32>,
    /// Files left out, with why.
    pub skipped: Vec<String>,
    /// Versions in the index now.
    pub versions: usize,
}

impl fmt::Display for RecoverReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(bad) = &self.bad_index {
            writeln!(f, "the index failed its checks and was kept as {bad}")?;
        }
        let list: Vec<String> = self.recovered.iter().map(|v| format!("v{v}")).collect();
        write!(
            f,
            "{} index: {} version(s) recovered from their model files{}{}; {} version(s) in the index",
            if self.rebuilt { "rebuilt" } else { "kept the" },
            self.recovered.len(),
            if list.is_empty() { String::new() } else { format!(" ({})", list.join(", ")) },
            if self.recovered.is_empty() { "" } else { ", in no stage: promote the one that serves" },
            self.versions
        )?;
        for s in &self.skipped {
            write!(f, "\nskipped {s}")?;
        }
        Ok(())
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
