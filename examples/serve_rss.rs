//! Memory of a serving process: load a model (int8 by default: an f32 file is quantized in memory),
//! score prompts with the built-in embedder, and print VmRSS / VmHWM from /proc/self/status.
//!
//! `cargo run --release --example serve_rss -- [MODEL] [--keep-f32] [--rounds N]`: scores N (default 20)
//! rounds of 1,000 synthetic 200-character prompts.

use l2core::model::quantize::quantize;
use l2core::model::Precision;
use l2core::testing::{synthetic_model, synthetic_prompts};
use l2core::Model;

fn status(key: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(|l| l[key.len()..].trim().to_string()))
        .unwrap_or_else(|| "n/a (no /proc/self/status)".into())
}

fn main() -> l2core::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let keep = args.iter().any(|a| a == "--keep-f32");
    let rounds_at = args.iter().position(|a| a == "--rounds");
    let rounds: usize = match rounds_at {
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| l2core::Error::param("rounds", "", "--rounds needs a number"))?,
        None => 20,
    };
    let model =
        match args.iter().enumerate().find(|(i, a)| !a.starts_with("--") && rounds_at.map(|r| r + 1) != Some(*i)) {
            Some((_, p)) => Model::load(p)?,
            None => synthetic_model(512, &[256, 128, 64], 42)?,
        };
    let model = if model.precision() == Precision::F32 && !keep {
        // Drop the f32 weights before serving: only the int8 model stays alive.
        let q = quantize(&model, Precision::Int8)?;
        drop(model);
        q
    } else {
        model
    };
    let prompts = synthetic_prompts(1000, 200, 3);
    let mut flagged = 0usize;
    for _ in 0..rounds {
        for p in &prompts {
            flagged += usize::from(model.decide(model.score_text(p)?));
        }
    }
    println!("precision {} kernel {}", model.precision(), model.scorer().kernel());
    println!("scored {} prompts ({flagged} flagged)", rounds * prompts.len());
    println!("VmRSS {}", status("VmRSS:"));
    println!("VmHWM {}", status("VmHWM:"));
    Ok(())
}
