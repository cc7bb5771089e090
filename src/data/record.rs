//! The training row: one prompt with its label and annotations.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The columns of the training CSV schema, in their canonical order.
pub const COLUMNS: [&str; 8] = ["text", "label", "family", "category", "severity", "confidence", "source", "notes"];

/// Benign label value.
pub const BENIGN: u8 = 0;
/// Malicious label value.
pub const MALICIOUS: u8 = 1;

/// How bad an attack is; benign rows default to [`Severity::None`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Not an attack (the default for benign rows).
    #[default]
    None,
    /// Low.
    Low,
    /// Medium (the default for malicious rows without a severity).
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// The lowercase name used in CSV files.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    /// Case-insensitive; accepts `none|low|medium|high|critical` (and `info` as `low`, `moderate` as `medium`).
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "benign" => Ok(Severity::None),
            "low" | "info" => Ok(Severity::Low),
            "medium" | "moderate" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!("unknown severity `{other}` (expected none, low, medium, high or critical)")),
        }
    }
}

/// Where a row came from, for error messages and rejects files.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct Origin {
    /// The file name as given by the user (or `<corpus>` for generated rows).
    pub file: String,
    /// 1-based physical line where the record starts.
    pub line: u64,
}

/// One training row. Optional columns get documented defaults when absent or empty:
/// `family` BENIGN (label 0) or UNKNOWN (label 1); `category` empty; `severity` none (label 0) or medium
/// (label 1); `confidence` 1.0; `source` the file's stem; `notes` empty; `group` none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The prompt.
    pub text: String,
    /// 0 benign, 1 malicious.
    pub label: u8,
    /// Attack family (BENIGN, JB, PI, CMD, PII, HARM ...).
    pub family: String,
    /// Finer category (free text).
    pub category: String,
    /// Severity.
    pub severity: Severity,
    /// Annotator confidence in [0, 1].
    pub confidence: f32,
    /// Where the row comes from (data set, generator ...).
    pub source: String,
    /// Free-text notes; `HARD NEGATIVE:` at the start marks a hard negative.
    pub notes: String,
    /// Optional leakage group: rows sharing a group always land in the same split.
    pub group: Option<String>,
    /// File and line the row was read from.
    pub origin: Origin,
}

impl Record {
    /// A row with the documented defaults for everything but text and label.
    pub fn new(text: impl Into<String>, label: u8) -> Self {
        let malicious = label == MALICIOUS;
        Record {
            text: text.into(),
            label,
            family: if malicious { "UNKNOWN" } else { "BENIGN" }.to_string(),
            category: String::new(),
            severity: if malicious { Severity::Medium } else { Severity::None },
            confidence: 1.0,
            source: String::new(),
            notes: String::new(),
            group: None,
            origin: Origin::default(),
        }
    }

    /// Whether the row is malicious.
    pub fn is_malicious(&self) -> bool {
        self.label == MALICIOUS
    }

    /// A benign row whose notes start with `HARD NEGATIVE` (case-insensitive) or whose category is
    /// `hard_negative`: alarming-sounding but benign, so the model must let it pass.
    pub fn is_hard_negative(&self) -> bool {
        self.label == BENIGN
            && (self.notes.trim_start().get(..13).is_some_and(|p| p.eq_ignore_ascii_case("HARD NEGATIVE"))
                || self.category.eq_ignore_ascii_case("hard_negative"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_negative_is_recognised_by_notes_or_category() {
        let mut r = Record::new("How do I implement admin authentication in Django?", 0);
        assert!(!r.is_hard_negative());
        r.notes = "HARD NEGATIVE: security vocabulary, benign intent".into();
        assert!(r.is_hard_negative());
        r.label = 1;
        assert!(!r.is_hard_negative(), "a malicious row is never a hard negative");
        let mut c = Record::new("x", 0);
        c.category = "hard_negative".into();
        assert!(c.is_hard_negative());
    }

    #[test]
    fn severity_parses_case_insensitively_and_rejects_unknown() {
        assert_eq!("HIGH".parse::<Severity>(), Ok(Severity::High));
        assert!("extreme".parse::<Severity>().unwrap_err().contains("unknown severity `extreme`"));
    }
}
