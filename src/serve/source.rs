//! Where the served model comes from: one model file, or a stage of the registry. This is the only
//! module of the service that touches the registry, and it uses only its public API (open, index,
//! production/staging entry, load the verified model of an entry).

use crate::digest::sha256_hex;
use crate::error::{Error, Result};
use crate::registry::{Registry, Stage};
use crate::Model;
use std::path::{Path, PathBuf};

/// A text every freshly loaded model must score to a finite number before it serves.
const PROBE: &str = "l2 serve probe: is this model able to answer?";

/// Where to load the model from.
#[derive(Debug, Clone)]
pub enum ModelSource {
    /// A model file (reloaded on SIGHUP).
    File(PathBuf),
    /// The version at `stage` of the registry at `dir` (reloaded when the stage changes and on SIGHUP).
    Registry {
        /// The registry directory.
        dir: PathBuf,
        /// The stage served (production unless told otherwise).
        stage: Stage,
    },
}

/// A loaded, probed model with the identity responses report.
#[derive(Debug)]
pub struct Loaded {
    /// The model.
    pub model: Model,
    /// `v3` for a registry version, the file name for a model file.
    pub version: String,
    /// sha256 (hex) of the model file's bytes.
    pub sha256: String,
}

impl ModelSource {
    /// A short description for logs.
    pub fn describe(&self) -> String {
        match self {
            ModelSource::File(p) => format!("model file `{}`", p.display()),
            ModelSource::Registry { dir, stage } => format!("{stage} of registry `{}`", dir.display()),
        }
    }

    /// What identifies the model the source currently names without loading it (a registry's version
    /// and checksum at the stage); `None` for a model file, which only reloads on SIGHUP.
    pub fn current_id(&self) -> Result<Option<(String, String)>> {
        match self {
            ModelSource::File(_) => Ok(None),
            ModelSource::Registry { dir, stage } => {
                let index = Registry::open(dir).index()?;
                let entry = match stage {
                    Stage::Staging => index.staging(),
                    _ => index.production(),
                };
                let entry = entry.ok_or_else(|| Error::Registry {
                    path: dir.clone(),
                    reason: format!("no version is in {stage}"),
                })?;
                Ok(Some((entry.name(), entry.sha256.clone())))
            }
        }
    }

    /// Load the model (verified by the model file's own checks and, for a registry, against the index)
    /// and probe it: a model whose score of a probe text is not a finite number in [0, 1] is refused.
    pub fn load(&self) -> Result<Loaded> {
        let loaded = match self {
            ModelSource::File(path) => load_file(path)?,
            ModelSource::Registry { dir, stage } => {
                let (entry, model) = Registry::open(dir).load_model(stage.as_str())?;
                Loaded { model, version: entry.name(), sha256: entry.sha256 }
            }
        };
        let probe = loaded.model.score_texts(&[PROBE])?;
        match probe.first() {
            Some(s) if s.is_finite() && (0.0..=1.0).contains(s) => Ok(loaded),
            other => Err(Error::model(
                &loaded.version,
                format!("refused: the probe text scored {other:?}, not a probability"),
            )),
        }
    }
}

fn load_file(path: &Path) -> Result<Loaded> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("reading model", path, e))?;
    let model = Model::from_bytes(&bytes).map_err(|e| Error::model(path.display().to_string(), e.to_string()))?;
    let version = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    Ok(Loaded { model, version, sha256: sha256_hex(&bytes) })
}
