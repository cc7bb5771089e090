//! Text before features: the canonical form that undoes obfuscation ([`NormalizeSpec`]) and the views
//! a prompt is scored as (decoded payloads, leetspeak, windows of long texts: [`ViewSpec`]). Both are
//! versioned and stored in the model file, so every host reads a prompt the same way.

mod normalize;
pub mod views;

pub use normalize::{collapse_whitespace, NormalizeSpec};
pub use views::{ViewKind, ViewSpec};

use crate::error::Result;
use serde::{Deserialize, Serialize};

/// How a model reads a prompt before featurising it: the canonical form and the views it scores
/// (stored in the model file; a file without one reads texts as they are, whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TextSpec {
    /// Canonicalisation.
    pub normalize: NormalizeSpec,
    /// Views.
    pub views: ViewSpec,
}

impl TextSpec {
    /// Check both parts.
    pub fn check(&self) -> Result<()> {
        self.normalize.check()?;
        self.views.check()
    }

    /// The views `text` is scored as, canonical, the whole text first (see [`views`]).
    pub fn views(&self, text: &str) -> Vec<(ViewKind, String)> {
        let raw = views::raw_views(&self.views, text);
        let canonical = raw.into_iter().map(|(k, t)| (k, self.normalize.apply(&t))).collect();
        views::expand_canonical(&self.views, canonical)
    }
}
