//! The single-sample path does no heap allocation per call (after the thread's first call), on every
//! kernel and precision: counted with a global allocator that tallies this thread's allocations.

use l2core::infer::quantize::quantize_layers;
use l2core::infer::{Kernel, Scorer};
use l2core::model::{Mlp, Precision};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

#[test]
fn score_one_and_small_batches_do_not_allocate() {
    let f32_layers = Mlp::init(512, &[256, 128, 64], 1).unwrap().to_layers();
    let x: Vec<f32> = (0..512 * 4).map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0).collect();
    let mut out = [0f32; 4];
    for precision in [Precision::F32, Precision::F16, Precision::Int8] {
        let layers = quantize_layers(&f32_layers, precision).unwrap();
        for k in Kernel::available() {
            let s = Scorer::with_kernel(&layers, k).unwrap();
            s.score_one(&x[..512]).unwrap();
            let before = allocs();
            let mut sum = 0.0;
            for i in 0..100 {
                sum += s.score_one(&x[(i % 4) * 512..(i % 4 + 1) * 512]).unwrap();
                s.score_into(&x, &mut out).unwrap();
            }
            let n = allocs() - before;
            assert_eq!(n, 0, "{precision} {k}: {n} allocations in 200 calls (sum {sum})");
        }
    }
}
