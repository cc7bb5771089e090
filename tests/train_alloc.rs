//! A training step allocates nothing: a counting global allocator sees no allocation between two
//! consecutive `on_batch` callbacks of an epoch.

use l2core::testing;
use l2core::train::{fit_mlp, TrainObserver, TrainParams};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

struct Marks {
    /// (epoch, done, allocation count), preallocated so that recording does not allocate.
    seen: Vec<(usize, usize, usize)>,
}

impl TrainObserver for Marks {
    fn on_batch(&mut self, epoch: usize, done: usize, _total: usize) -> bool {
        if self.seen.len() < self.seen.capacity() {
            self.seen.push((epoch, done, ALLOCS.load(Ordering::Relaxed)));
        }
        true
    }
}

#[test]
fn training_steps_do_not_allocate() {
    let (train, val) = testing::teacher_split(2_000, 200, 64, 3);
    let p = TrainParams { hidden: vec![32, 16], epochs: 2, ..TrainParams::default() }.check().unwrap();
    let mut marks = Marks { seen: Vec::with_capacity(1_000) };
    fit_mlp(&p, &train.set(), &val.set(), &mut marks).unwrap();
    assert_eq!(marks.seen.len(), 2 * 2_000usize.div_ceil(p.batch_size));
    for w in marks.seen.windows(2) {
        if w[0].0 == w[1].0 {
            assert_eq!(w[1].2, w[0].2, "allocation during step {} of epoch {}", w[1].1, w[1].0);
        }
    }
}
