//! The one error type of the engine.
//!
//! Every variant says *what* went wrong and *where* (file, line, field, parameter name, tensor name), so
//! that a host can print it as is. Bindings map variants to their own codes or exception classes in one
//! place, by [`Error::kind`].

use std::fmt;
use std::path::PathBuf;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One invalid row (or field) of an input file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowError {
    /// The file the row came from.
    pub file: String,
    /// 1-based physical line where the record starts (the header is line 1).
    pub line: u64,
    /// The offending field, when one field is to blame.
    pub field: Option<String>,
    /// What is wrong, in words.
    pub reason: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "{}:{}: field `{}`: {}", self.file, self.line, field, self.reason),
            None => write!(f, "{}:{}: {}", self.file, self.line, self.reason),
        }
    }
}

/// How many row errors an [`Error::InvalidRows`] message prints before summarising.
pub const ROW_ERRORS_SHOWN: usize = 20;

/// Coarse classes of errors, stable across releases; the C API's status codes and the Python exception
/// classes are derived from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Reading or writing a file failed.
    Io,
    /// Input data (CSV rows, texts) is invalid.
    InvalidData,
    /// A setting is out of range or inconsistent.
    InvalidParam,
    /// An array has the wrong shape or length.
    Shape,
    /// A model file is corrupt, truncated, of an unknown format, or does not fit what it is used with.
    Model,
    /// An embedder could not be built or run (missing ONNX runtime, model, tokenizer ...).
    Embedder,
    /// Training could not proceed (e.g. diverged, a class is missing, cancelled).
    Training,
    /// A release gate or parity check failed.
    Check,
    /// The model registry is inconsistent or an entry is missing.
    Registry,
    /// Anything else.
    Other,
}

/// The engine's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation on `path` failed.
    #[error("{op} `{}`: {source}", path.display())]
    Io {
        /// What was being done ("reading", "writing", "creating directory" ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// One or more rows of input files are invalid; `errors` holds (up to a cap) every one of them.
    #[error("{}", format_row_errors(.errors, *.total))]
    InvalidRows {
        /// The first errors, in file order.
        errors: Vec<RowError>,
        /// How many invalid rows there are in total (may exceed `errors.len()`).
        total: usize,
    },

    /// Input data is unusable as a whole (e.g. no rows, a class is missing, a required column is absent).
    #[error("invalid data: {0}")]
    InvalidData(String),

    /// A setting is out of range or inconsistent with another one.
    #[error("invalid setting `{name}` = {value}: {reason}")]
    InvalidParam {
        /// The setting's name as the user spells it (CLI flag / config key without dashes).
        name: String,
        /// The offending value, rendered.
        value: String,
        /// What is allowed.
        reason: String,
    },

    /// An array, buffer or matrix has the wrong shape.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    Shape {
        /// Which input.
        what: String,
        /// The expected shape or length.
        expected: String,
        /// The actual shape or length.
        got: String,
    },

    /// A model file or model bytes are corrupt, truncated, or inconsistent.
    #[error("model {source_name}: {reason}")]
    Model {
        /// The file path, or `<bytes>` for an in-memory model.
        source_name: String,
        /// What is wrong.
        reason: String,
    },

    /// Building or running an embedder failed.
    #[error("embedder: {0}")]
    Embedder(String),

    /// Training failed.
    #[error("training: {0}")]
    Training(String),

    /// Training or a long-running job was cancelled by the caller.
    #[error("cancelled by the caller")]
    Cancelled,

    /// A parity, equivalence or release-gate check failed.
    #[error("check failed: {0}")]
    Check(String),

    /// The model registry is inconsistent or an entry is missing.
    #[error("registry {}: {reason}", path.display())]
    Registry {
        /// The registry directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },

    /// Serialising or parsing JSON failed.
    #[error("json {what}: {source}")]
    Json {
        /// What was being (de)serialised.
        what: String,
        /// The underlying error.
        source: serde_json::Error,
    },
}

fn format_row_errors(errors: &[RowError], total: usize) -> String {
    let mut s = format!("{total} invalid row(s)");
    for e in errors.iter().take(ROW_ERRORS_SHOWN) {
        s.push_str("\n  ");
        s.push_str(&e.to_string());
    }
    if total > ROW_ERRORS_SHOWN.min(errors.len()) {
        s.push_str(&format!(
            "\n  ... and {} more (use --skip-invalid to write them all to a rejects file)",
            total - ROW_ERRORS_SHOWN.min(errors.len())
        ));
    }
    s
}

impl Error {
    /// The coarse class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } => ErrorKind::Io,
            Error::InvalidRows { .. } | Error::InvalidData(_) => ErrorKind::InvalidData,
            Error::InvalidParam { .. } => ErrorKind::InvalidParam,
            Error::Shape { .. } => ErrorKind::Shape,
            Error::Model { .. } => ErrorKind::Model,
            Error::Embedder(_) => ErrorKind::Embedder,
            Error::Training(_) | Error::Cancelled => ErrorKind::Training,
            Error::Check(_) => ErrorKind::Check,
            Error::Registry { .. } => ErrorKind::Registry,
            Error::Json { .. } => ErrorKind::Other,
        }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { op, path: path.into(), source }
    }

    /// Shorthand for [`Error::InvalidParam`].
    pub fn param(name: impl Into<String>, value: impl fmt::Display, reason: impl Into<String>) -> Self {
        Error::InvalidParam { name: name.into(), value: value.to_string(), reason: reason.into() }
    }

    /// Shorthand for [`Error::Shape`].
    pub fn shape(what: impl Into<String>, expected: impl fmt::Display, got: impl fmt::Display) -> Self {
        Error::Shape { what: what.into(), expected: expected.to_string(), got: got.to_string() }
    }

    /// Shorthand for [`Error::Model`].
    pub fn model(source_name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Model { source_name: source_name.into(), reason: reason.into() }
    }

    /// Shorthand for [`Error::Json`].
    pub fn json(what: impl Into<String>, source: serde_json::Error) -> Self {
        Error::Json { what: what.into(), source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_errors_name_file_line_field_and_count_the_rest() {
        let errors: Vec<RowError> = (0..25)
            .map(|i| RowError {
                file: "a.csv".into(),
                line: i + 2,
                field: Some("label".into()),
                reason: "must be 0 or 1, got `x`".into(),
            })
            .collect();
        let msg = Error::InvalidRows { errors, total: 30 }.to_string();
        assert!(msg.starts_with("30 invalid row(s)"));
        assert!(msg.contains("a.csv:2: field `label`: must be 0 or 1, got `x`"));
        assert!(msg.contains("... and 10 more"));
        assert_eq!(msg.lines().count(), 1 + ROW_ERRORS_SHOWN + 1);
    }
}
