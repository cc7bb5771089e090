//! Training speed: seconds per epoch of `fit_mlp` with the default settings (hidden [256, 128, 64],
//! dropout 0.3, batch 32, AdamW lr 1e-4) on synthetic teacher data (100,000 x 512 by default), single
//! thread, plus the validation loss after each epoch. `--write-data PATH` also writes the generated
//! data (`PATH.json` + `PATH.bin`) for `scripts/bench/pytorch_train.py`, so both sides train on the
//! same rows.
//!
//! ```text
//! cargo run --release --example train_speed -- --epochs 3 --write-data /tmp/l2-train-bench
//! ```

use l2core::testing;
use l2core::train::{fit_mlp, EpochStats, Kernel, TrainObserver, TrainParams};
use std::io::Write;

/// CPU seconds of this (single-threaded) process's main thread, from `/proc/self/schedstat` (Linux);
/// NaN elsewhere. Reported next to wall time because benchmark machines are often shared.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()))
        .map_or(f64::NAN, |ns| ns * 1e-9)
}

struct Print {
    cpu_mark: f64,
    cpu: Vec<f64>,
}
impl TrainObserver for Print {
    fn on_epoch(&mut self, s: &EpochStats) -> bool {
        let now = cpu_seconds();
        let cpu = now - self.cpu_mark;
        self.cpu_mark = now;
        self.cpu.push(cpu);
        println!(
            "epoch {:>2}  {:.3} s wall  {:.3} s cpu  train_loss {:.5}  val_loss {:.5}  val_fpr {:.4}  val_tpr {:.4}",
            s.epoch,
            s.seconds,
            cpu,
            s.train_loss,
            s.val_loss,
            s.val_fpr.unwrap_or(f64::NAN),
            s.val_tpr.unwrap_or(f64::NAN)
        );
        true
    }
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn write_data(path: &str, train: &testing::Synthetic, val: &testing::Synthetic) -> std::io::Result<()> {
    let mut bin = std::io::BufWriter::new(std::fs::File::create(format!("{path}.bin"))?);
    for s in [train, val] {
        for v in s.x.iter().chain(&s.y).chain(&s.w) {
            bin.write_all(&v.to_le_bytes())?;
        }
    }
    bin.flush()?;
    let meta = format!(
        "{{\"dims\": {}, \"train\": {}, \"val\": {}, \"layout\": \"f32le: train x, train y, train w, val x, val y, val w\"}}\n",
        train.dims,
        train.y.len(),
        val.y.len()
    );
    std::fs::write(format!("{path}.json"), meta)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let num = |name: &str, default: usize| arg(&args, name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let (epochs, n_train, n_val, dims) =
        (num("--epochs", 3), num("--train", 100_000), num("--val", 20_000), num("--dims", 512));
    let (train, val) = testing::teacher_split(n_train, n_val, dims, 2026);
    if let Some(path) = arg(&args, "--write-data") {
        if let Err(e) = write_data(&path, &train, &val) {
            eprintln!("writing {path}: {e}");
            std::process::exit(1);
        }
        println!("wrote {path}.bin and {path}.json");
    }
    let params = TrainParams { epochs, patience: 0, ..TrainParams::default() };
    let kernel = match Kernel::selected() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!(
        "l2core fit_mlp: {n_train} x {dims} train, {n_val} val, hidden {:?}, batch {}, dropout {}, lr {}, kernel {}, 1 thread",
        params.hidden,
        params.batch_size,
        params.dropout,
        params.learning_rate,
        kernel.as_str()
    );
    let mut print = Print { cpu_mark: cpu_seconds(), cpu: Vec::new() };
    let result = params.check().and_then(|p| fit_mlp(&p, &train.set(), &val.set(), &mut print));
    match result {
        Ok((_, history)) => {
            let secs: Vec<f64> = history.epochs.iter().map(|e| e.seconds).collect();
            let mean = secs.iter().sum::<f64>() / secs.len() as f64;
            let last = history.epochs.last().map_or(f64::NAN, |e| e.val_loss);
            let cpu = print.cpu.iter().sum::<f64>() / print.cpu.len() as f64;
            println!(
                "mean {mean:.3} s/epoch wall, {cpu:.3} s/epoch cpu over {} epochs; val_loss after epoch {}: {last:.5}",
                secs.len(),
                secs.len()
            );
        }
        Err(e) => {
            eprintln!("training failed: {e}");
            std::process::exit(1);
        }
    }
}
