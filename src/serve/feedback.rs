//! Feedback: the recent responses (so a client can report by response id) and the durable JSON-lines
//! file of reports (one [`FeedbackLine`] per line, appended and fsynced before the request is answered),
//! which `l2 reinforce --fp FILE` reads as it is.

use crate::error::{Error, Result};
use crate::eval::{severity_for_score, FeedbackLine, FpDetail, Threat, LAYER};
use std::collections::{HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What a response scored, kept for reports by id.
#[derive(Debug, Clone)]
pub struct Remembered {
    /// The texts, in request order.
    pub texts: Vec<String>,
    /// Their scores.
    pub scores: Vec<f32>,
    /// The model version that scored them.
    pub model: String,
}

/// The most recent responses, bounded in bytes of text (the oldest are forgotten first).
pub struct Recent {
    budget: usize,
    inner: Mutex<RecentInner>,
}

#[derive(Default)]
struct RecentInner {
    bytes: usize,
    order: VecDeque<String>,
    by_id: HashMap<String, Remembered>,
}

fn size(r: &Remembered) -> usize {
    r.texts.iter().map(|t| t.len() + 32).sum::<usize>() + 64
}

impl Recent {
    /// Keep at most about `budget` bytes of texts.
    pub fn new(budget: usize) -> Recent {
        Recent { budget, inner: Mutex::new(RecentInner::default()) }
    }

    /// Remember the response `id`.
    pub fn insert(&self, id: String, r: Remembered) {
        let n = size(&r);
        if n > self.budget {
            return;
        }
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        while g.bytes + n > self.budget {
            let Some(old) = g.order.pop_front() else { break };
            if let Some(o) = g.by_id.remove(&old) {
                g.bytes -= size(&o);
            }
        }
        g.bytes += n;
        g.order.push_back(id.clone());
        g.by_id.insert(id, r);
    }

    /// The response `id`, if still remembered.
    pub fn get(&self, id: &str) -> Option<Remembered> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).by_id.get(id).cloned()
    }
}

/// The feedback file, opened for appending.
pub struct FeedbackFile {
    path: PathBuf,
    file: Mutex<File>,
}

impl FeedbackFile {
    /// Open (create) `path` for appending.
    pub fn open(path: &Path) -> Result<FeedbackFile> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| Error::io("opening feedback file", path, e))?;
        Ok(FeedbackFile { path: path.to_path_buf(), file: Mutex::new(file) })
    }

    /// Append one line and fsync it (blocking: call from a blocking thread).
    pub fn append(&self, line: &FeedbackLine) -> Result<()> {
        let mut text = line.to_json()?;
        text.push('\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(text.as_bytes()).map_err(|e| Error::io("appending to", &self.path, e))?;
        f.sync_data().map_err(|e| Error::io("syncing", &self.path, e))
    }
}

/// The line of a report: `prompt` with its `label`; `scored` is what the model said about it, when the
/// report names a response (model version, score).
pub fn line(
    id: String,
    prompt: String,
    label: u8,
    note: String,
    category: String,
    scored: Option<(&str, f32)>,
    response_id: Option<String>,
) -> FeedbackLine {
    let threats = match scored {
        Some((model, score)) if label == 0 => vec![Threat {
            rule_id: format!("l2-{model}"),
            severity: severity_for_score(score).to_string(),
            confidence: f64::from(score),
            layer: LAYER.to_string(),
        }],
        _ => Vec::new(),
    };
    FeedbackLine {
        detail: FpDetail { id, prompt, category, threats },
        label,
        note,
        time: crate::model::now_rfc3339(),
        model: scored.map(|(m, _)| m.to_string()),
        score: scored.map(|(_, s)| s),
        response_id,
    }
}
