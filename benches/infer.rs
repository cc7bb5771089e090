//! MLP forward passes per precision and kernel: batch 1 and batch 256, the kernels `l2 bench` measures.
//! `cargo bench --bench infer` (`L2_KERNEL` does not apply: every kernel the CPU has is measured).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use l2core::infer::quantize::quantize_layers;
use l2core::infer::{Kernel, Scorer};
use l2core::model::Precision;
use l2core::testing::{synthetic_model, synthetic_prompts};
use std::hint::black_box;

fn forward(c: &mut Criterion) {
    let model = synthetic_model(512, &[256, 128, 64], 42).expect("model");
    let prompts = synthetic_prompts(256, 200, 7);
    let texts: Vec<&str> = prompts.iter().map(String::as_str).collect();
    let x = model.embedder().expect("an MLP model has an embedder").embed(&texts).expect("embed");
    for precision in [Precision::F32, Precision::F16, Precision::Int8] {
        let layers = quantize_layers(model.layers().expect("an MLP model has layers"), precision).expect("quantize");
        let mut g = c.benchmark_group(format!("mlp_{precision}"));
        for kernel in Kernel::available() {
            let s = Scorer::with_kernel(&layers, kernel).expect("scorer");
            g.throughput(Throughput::Elements(1));
            g.bench_with_input(BenchmarkId::new("batch1", kernel), &s, |b, s| {
                b.iter(|| s.score_one(black_box(&x[..512])).expect("score"))
            });
            let mut out = vec![0f32; 256];
            g.throughput(Throughput::Elements(256));
            g.bench_with_input(BenchmarkId::new("batch256", kernel), &s, |b, s| {
                b.iter(|| s.score_into(black_box(&x), &mut out).expect("score"))
            });
        }
        g.finish();
    }
}

fn end_to_end(c: &mut Criterion) {
    let model = synthetic_model(512, &[256, 128, 64], 42).expect("model");
    let int8 = l2core::model::quantize::quantize(&model, Precision::Int8).expect("quantize");
    let prompt = synthetic_prompts(1, 200, 9).remove(0);
    let mut buf = vec![0f32; 512];
    c.bench_function("end_to_end_int8_200_chars", |b| {
        b.iter(|| {
            int8.embedder().expect("embedder").embed_into(&[black_box(prompt.as_str())], &mut buf).expect("embed");
            int8.decide(int8.scorer().score_one(&buf).expect("score"))
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_millis(300)).measurement_time(std::time::Duration::from_secs(1));
    targets = forward, end_to_end
}
criterion_main!(benches);
