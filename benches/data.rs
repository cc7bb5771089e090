//! Data loading speed on 100,000 rows: parse + validate one CSV, load + de-duplicate, split.
//! The rows are the built-in corpus repeated with a row number appended (so none are duplicates).
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use l2core::data::{corpus, load_files, read_csv, split, write_csv, LoadOptions, SplitParams};
use std::hint::black_box;

const ROWS: usize = 100_000;

fn bench(c: &mut Criterion) {
    let base = corpus::generate(&corpus::CorpusParams::default());
    let rows: Vec<_> = (0..ROWS)
        .map(|i| {
            let mut r = base[i % base.len()].clone();
            r.text = format!("{} (variant {i})", r.text);
            r.group = None;
            r
        })
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("rows.csv");
    write_csv(&path, &rows).expect("write");
    let opts = LoadOptions::default();
    let mut g = c.benchmark_group("data_100k_rows");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("read_csv", |b| b.iter(|| read_csv(black_box(&path), &opts).expect("read")));
    let paths = vec![path.clone()];
    g.bench_function("load_files_with_dedupe", |b| b.iter(|| load_files(black_box(&paths), &opts).expect("load")));
    let records = read_csv(&path, &opts).expect("read").records;
    g.bench_function("split_70_15_15", |b| {
        b.iter(|| split(black_box(records.clone()), &SplitParams::default()).expect("split"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
