//! The networks themselves, independent of how they are trained, run or stored: stored layers at f32, f16 or
//! int8 ([`Layer`], [`LayerWeights`], [`Precision`]), the f32 MLP training produces ([`Mlp`], [`Dense`])
//! its output function ([`sigmoid`]), the wide-and-deep network over sparse features
//! ([`WideDeep`], [`StoredWideDeep`]) and the softmax heads beside its output ([`Head`]). It imports nothing of the crate but the error type and the
//! seeded RNG: `infer` and `train` are built on it, `model` stores it.

pub mod heads;
mod layer;
mod mlp;
pub mod wide_deep;

pub use heads::{Head, HeadKind};
pub use layer::{Layer, LayerWeights, Precision};
pub use mlp::{sigmoid, Dense, Mlp};
pub use wide_deep::{StoredWideDeep, WideDeep};
