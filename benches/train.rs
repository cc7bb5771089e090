//! Training-step speed: one epoch of `fit_mlp` with the default settings (hidden [256, 128, 64],
//! batch 32, dropout 0.3) on 10,000 x 512 synthetic teacher rows (313 steps + a 1,000-row validation
//! pass), single thread; and the three products of one batch-32 step of the first layer.
//! The full 100K-row comparison with PyTorch is `examples/train_speed.rs` (docs/bench/train.md).
//!
//! `cargo bench --bench train`

use criterion::{criterion_group, criterion_main, Criterion};
use l2core::testing;
use l2core::train::gemm::gemm;
use l2core::train::{fit_mlp, Kernel, Silent, TrainParams};
use std::hint::black_box;

fn epoch(c: &mut Criterion) {
    let (train, val) = testing::teacher_split(10_000, 1_000, 512, 2026);
    let p = TrainParams { epochs: 1, patience: 0, ..TrainParams::default() }.check().unwrap();
    let mut g = c.benchmark_group("train");
    g.sample_size(10);
    g.bench_function("epoch_10k_x_512_default", |b| {
        b.iter(|| black_box(fit_mlp(&p, &train.set(), &val.set(), &mut Silent).unwrap()))
    });
    g.finish();
}

fn layer1_step(c: &mut Criterion) {
    let (rows, inp, out) = (32, 512, 256);
    let a = vec![0.5f32; rows * inp];
    let w = vec![0.25f32; inp * out];
    let dz = vec![0.125f32; rows * out];
    let dzt = vec![0.125f32; rows * out];
    let mut z = vec![0.0f32; rows * out];
    let mut gw = vec![0.0f32; inp * out];
    let mut dat = vec![0.0f32; rows * inp];
    let mut g = c.benchmark_group("gemm_32x512x256");
    for k in Kernel::available() {
        g.bench_function(format!("{}_forward_dw_da", k.as_str()), |b| {
            b.iter(|| {
                gemm(k, (rows, out, inp), &a, (inp, 1), &w, out, &mut z, out, false);
                gemm(k, (inp, out, rows), &a, (1, inp), &dz, out, &mut gw, out, false);
                gemm(k, (inp, rows, out), &w, (out, 1), &dzt, rows, &mut dat, rows, false);
                black_box((&z, &gw, &dat));
            })
        });
    }
    g.finish();
}

criterion_group!(benches, epoch, layer1_step);
criterion_main!(benches);
