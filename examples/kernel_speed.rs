//! Rows per CPU-second of every kernel this CPU has, per precision and batch, on an untrained network of
//! the default shape: `cargo run --release --example kernel_speed [-- SECONDS]`.

use l2core::infer::bench::{synthetic_model, synthetic_prompts, thread_cpu_seconds};
use l2core::infer::quantize::quantize_layers;
use l2core::infer::{Kernel, Scorer};
use l2core::model::Precision;

fn main() {
    let secs: f64 = std::env::args().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0.5);
    let model = synthetic_model(512, &[256, 128, 64], 42).expect("model");
    let prompts = synthetic_prompts(4096, 200, 7);
    let texts: Vec<&str> = prompts.iter().map(String::as_str).collect();
    let x = model.embedder().embed(&texts).expect("embed");
    for precision in [Precision::F32, Precision::F16, Precision::Int8] {
        let layers = quantize_layers(model.layers(), precision).expect("quantize");
        for kernel in Kernel::available() {
            let name = format!("{precision} {kernel}");
            if std::env::var("KS_ONLY").is_ok_and(|f| f != name) {
                continue;
            }
            let s = Scorer::with_kernel(&layers, kernel).expect("scorer");
            let mut line = format!("{precision:<5} {kernel:<11}");
            for batch in [1usize, 32, 256, 4096] {
                if std::env::var("KS_BATCH").is_ok_and(|b| b != batch.to_string()) {
                    continue;
                }
                let mut out = vec![0f32; batch];
                let (t0, mut rows) = (thread_cpu_seconds(), 0usize);
                while thread_cpu_seconds() - t0 < secs {
                    s.score_into(&x[..batch * 512], &mut out).expect("score");
                    rows += batch;
                }
                let rate = rows as f64 / (thread_cpu_seconds() - t0);
                line += &format!("  b{batch} {:>7.0}k", rate / 1e3);
            }
            println!("{line}");
        }
    }
}
