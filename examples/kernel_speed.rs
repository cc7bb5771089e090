//! Rows per CPU-second of every kernel this CPU has, per precision and batch, on an untrained network of
//! the default shape: `cargo run --release --example kernel_speed [-- SECONDS]`.

use l2core::infer::quantize::quantize_layers;
use l2core::infer::{Kernel, Scorer};
use l2core::model::Precision;
use l2core::testing::{synthetic_model, synthetic_prompts};

/// CPU seconds of the calling thread (the machine is usually shared, so wall time says little).
fn thread_cpu_seconds() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `t` is a valid timespec for the call to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

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
