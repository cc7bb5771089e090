//! What a model file says about itself.

use crate::data::ClassWeights;
use crate::embed::EmbedderSpec;
use crate::eval::Report;
use crate::nn::{HeadKind, Precision};
use crate::text::TextSpec;
use crate::train::{History, TrainParams};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the model file layout written; bumped on incompatible changes. Version 2 added the
/// wide-and-deep network, the text spec and the checksum over the whole file; version 3 the family and
/// severity heads (`architecture.heads`, `heads.*` tensors). Version 1 and 2 files still load.
pub const FORMAT_VERSION: u32 = 3;

/// The oldest layout still read.
pub const OLDEST_FORMAT_VERSION: u32 = 1;

/// Which network a model holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum NetKind {
    /// An MLP over dense embeddings.
    #[default]
    Mlp,
    /// A wide-and-deep network over sparse n-gram features ([`crate::nn::WideDeep`]).
    WideDeep,
}

impl NetKind {
    /// The name in files and outputs (`mlp`, `wide_deep`).
    pub fn as_str(self) -> &'static str {
        match self {
            NetKind::Mlp => "mlp",
            NetKind::WideDeep => "wide_deep",
        }
    }
}

/// Network shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Architecture {
    /// The network kind (absent in version 1 files: `mlp`).
    #[serde(default)]
    pub kind: NetKind,
    /// Input width: the embedder's dims (MLP) or the n-gram vocabulary size (wide-and-deep).
    pub input_dims: usize,
    /// Hidden widths (of the tail, for wide-and-deep).
    pub hidden: Vec<usize>,
    /// Width of the embedding bag (wide-and-deep only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embed: Option<usize>,
    /// Whether the network has the linear term (wide-and-deep only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wide: Option<bool>,
    /// The labels of each softmax head beside the binary output (wide-and-deep only; empty: none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub heads: BTreeMap<HeadKind, Vec<String>>,
    /// Hidden activation (`relu`).
    pub activation: String,
    /// Output (`sigmoid`).
    pub output: String,
}

impl Architecture {
    /// Check the fields that scoring depends on but the weights do not say: a file that claims another
    /// activation or output is not a model this version can score as it claims.
    pub fn check(&self) -> crate::error::Result<()> {
        use crate::error::Error;
        if self.activation != "relu" {
            return Err(Error::param("architecture.activation", &self.activation, "only relu exists"));
        }
        if self.output != "sigmoid" {
            return Err(Error::param("architecture.output", &self.output, "only sigmoid exists"));
        }
        match self.kind {
            NetKind::Mlp if self.embed.is_some() || self.wide.is_some() => Err(Error::param(
                "architecture.embed",
                format!("{:?}", self.embed),
                "embed and wide belong to wide_deep networks",
            )),
            NetKind::WideDeep if self.embed.is_none() || self.wide.is_none() => {
                Err(Error::param("architecture.embed", "missing", "a wide_deep network needs embed and wide"))
            }
            NetKind::Mlp if !self.heads.is_empty() => {
                Err(Error::param("architecture.heads", "given", "heads belong to wide_deep networks"))
            }
            NetKind::WideDeep if !self.heads.is_empty() && self.hidden.is_empty() => Err(Error::param(
                "architecture.heads",
                "given",
                "heads read the tail's last hidden layer; this network has no hidden layer",
            )),
            _ => Ok(()),
        }
    }
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
    /// How to rebuild the embedder (or, for `ngrams`, the featuriser's settings; its vocabulary and
    /// IDF are tensors of the file).
    pub embedder: EmbedderSpec,
    /// How texts are read before featurising (canonical form, views); absent: as they are, whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextSpec>,
    /// Network shape.
    pub architecture: Architecture,
    /// Weight precision.
    pub precision: Precision,
    /// Decision threshold: scores `>= threshold` are malicious.
    pub threshold: f32,
    /// The FPR target the threshold was calibrated for.
    pub target_fpr: Option<f64>,
    /// The rule that calibrated the threshold on validation (`point` or `wilson`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<crate::eval::CalibrationRule>,
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
        let architecture = Architecture {
            kind: NetKind::Mlp,
            input_dims: embedder.dims().unwrap_or(0),
            hidden,
            embed: None,
            wide: None,
            heads: BTreeMap::new(),
            activation: "relu".into(),
            output: "sigmoid".into(),
        };
        ModelMeta::with_architecture(embedder, architecture, precision)
    }

    /// [`ModelMeta::untrained`] for a wide-and-deep network over `features` n-gram features.
    pub fn untrained_wide_deep(
        ngrams: crate::embed::NgramSpec,
        features: usize,
        embed: usize,
        hidden: Vec<usize>,
        wide: bool,
        precision: Precision,
    ) -> ModelMeta {
        let architecture = Architecture {
            kind: NetKind::WideDeep,
            input_dims: features,
            hidden,
            embed: Some(embed),
            wide: Some(wide),
            heads: BTreeMap::new(),
            activation: "relu".into(),
            output: "sigmoid".into(),
        };
        ModelMeta::with_architecture(EmbedderSpec::Ngrams(ngrams), architecture, precision)
    }

    fn with_architecture(embedder: EmbedderSpec, architecture: Architecture, precision: Precision) -> ModelMeta {
        ModelMeta {
            format_version: FORMAT_VERSION,
            l2core_version: crate::VERSION.to_string(),
            created: now_rfc3339(),
            architecture,
            embedder,
            text: None,
            precision,
            threshold: 0.5,
            target_fpr: None,
            calibration: None,
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
