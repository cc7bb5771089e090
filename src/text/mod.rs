//! Text before features: the canonical form that undoes obfuscation ([`NormalizeSpec`]) and the views
//! a prompt is scored as (decoded payloads, leetspeak, windows of long texts: [`ViewSpec`]). Both are
//! versioned and stored in the model file, so every host reads a prompt the same way.

mod normalize;
pub mod views;

pub use normalize::{collapse_whitespace, NormalizeSpec};
pub use views::{ViewKind, ViewSpec};
