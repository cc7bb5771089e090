//! Quick look at the MLP kernels: `cargo run --release --example infer_quick` (untrained default net).
use l2core::infer::bench::{run, BenchOptions};
use l2core::infer::Kernel;

fn main() -> l2core::Result<()> {
    let model = l2core::infer::bench::synthetic_model(512, &[256, 128, 64], 1)?;
    let mut opts = BenchOptions { ort: false, ..BenchOptions::default() };
    if let Ok(s) = std::env::var("MIN_SECONDS") {
        opts.min_seconds = s.parse().unwrap_or(0.3);
    }
    eprintln!("kernel {}", Kernel::selected()?);
    println!("{}", run(&model, &opts)?);
    Ok(())
}
