//! The network itself, independent of how it is trained, run or stored: stored layers at f32, f16 or
//! int8 ([`Layer`], [`LayerWeights`], [`Precision`]), the f32 MLP training produces ([`Mlp`], [`Dense`])
//! and its output function ([`sigmoid`]). It imports nothing of the crate but the error type and the
//! seeded RNG: `infer` and `train` are built on it, `model` stores it.

mod layer;
mod mlp;

pub use layer::{Layer, LayerWeights, Precision};
pub use mlp::{sigmoid, Dense, Mlp};
