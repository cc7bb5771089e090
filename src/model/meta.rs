//! What a model file says about itself.

use crate::data::ClassWeights;
use crate::embed::EmbedderSpec;
use crate::eval::Report;
use crate::nn::Precision;
use crate::train::{History, TrainParams};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the model file layout; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// Network shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Architecture {
    /// Input width (= the embedder's dims).
    pub input_dims: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// Hidden activation (`relu`).
    pub activation: String,
    /// Output (`sigmoid`).
    pub output: String,
}

/// One input file of the training data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileFingerprint {
    /// File name as given.
    pub name: String,
    /// sha256 of its bytes (hex).
    pub sha256: String,
    /// Valid rows read from it.
    pub rows: usize,
}

/// What the model was trained on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatasetFingerprint {
    /// sha256 (hex) over the de-duplicated rows' `label \t text \n` in order.
    pub sha256: String,
    /// Rows after de-duplication.
    pub rows: usize,
    /// Benign rows.
    pub benign: usize,
    /// Malicious rows.
    pub malicious: usize,
    /// Rows in the training split.
    pub train: usize,
    /// Rows in the validation split.
    pub val: usize,
    /// Rows in the test split.
    pub test: usize,
    /// The input files (empty for the built-in corpus).
    pub files: Vec<FileFingerprint>,
}

/// Parity of a quantized model against its f32 source, measured when it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantizationInfo {
    /// Precision of the source model.
    pub source_precision: Precision,
    /// sha256 of the source model's weights.
    pub source_weights_sha256: String,
    /// Rows the parity was measured on (0 when no data was given).
    pub rows: usize,
    /// max |score difference| against the source.
    pub max_abs_diff: f64,
    /// Share of rows with the same decision at the threshold.
    pub decision_agreement: f64,
    /// Free-form details (FPR/TPR of both ...).
    #[serde(default)]
    pub details: BTreeMap<String, f64>,
}

/// The metadata stored with the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// [`FORMAT_VERSION`] at write time.
    pub format_version: u32,
    /// l2core version that wrote the file.
    pub l2core_version: String,
    /// Creation time, RFC 3339 UTC.
    pub created: String,
    /// How to rebuild the embedder.
    pub embedder: EmbedderSpec,
    /// Network shape.
    pub architecture: Architecture,
    /// Weight precision.
    pub precision: Precision,
    /// Decision threshold: scores `>= threshold` are malicious.
    pub threshold: f32,
    /// The FPR target the threshold was calibrated for.
    pub target_fpr: Option<f64>,
    /// Class weights used in training.
    pub class_weights: Option<ClassWeights>,
    /// Training settings.
    pub training: Option<TrainParams>,
    /// Per-epoch history.
    pub history: Option<History>,
    /// Training data fingerprint.
    pub dataset: Option<DatasetFingerprint>,
    /// Test-split evaluation at training time.
    pub eval: Option<Report>,
    /// Quantization parity, for f16 / int8 models.
    pub quantization: Option<QuantizationInfo>,
    /// User tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

impl ModelMeta {
    /// Metadata of a freshly initialised network: nothing trained or measured yet, threshold 0.5, input
    /// width from the embedder. Callers fill in what they know (`ModelMeta { threshold, ..untrained }`).
    pub fn untrained(embedder: EmbedderSpec, hidden: Vec<usize>, precision: Precision) -> ModelMeta {
        ModelMeta {
            format_version: FORMAT_VERSION,
            l2core_version: crate::VERSION.to_string(),
            created: now_rfc3339(),
            architecture: Architecture {
                input_dims: embedder.dims(),
                hidden,
                activation: "relu".into(),
                output: "sigmoid".into(),
            },
            embedder,
            precision,
            threshold: 0.5,
            target_fpr: None,
            class_weights: None,
            training: None,
            history: None,
            dataset: None,
            eval: None,
            quantization: None,
            tags: BTreeMap::new(),
        }
    }
}

/// Now as RFC 3339 UTC (`YYYY-MM-DDTHH:MM:SSZ`), without a date crate.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let tod = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", tod / 3600, tod / 60 % 60, tod % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::rfc3339(1_796_113_998), "2026-12-01T08:33:18Z");
    }
}
