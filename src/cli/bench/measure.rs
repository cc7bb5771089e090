//! The two measurements of `l2 bench`: batch-1 latency ([`latency`], through [`crate::eval::Latency`])
//! and throughput of a batch split over threads ([`throughput`]), with the threads' CPU time.

use crate::error::{Error, Result};
use crate::eval::Latency;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Throughput at one batch size and thread count.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Throughput {
    /// Rows per batch.
    pub batch: usize,
    /// Threads sharing each batch.
    pub threads: usize,
    /// Rows per second of wall time.
    pub samples_per_s: f64,
    /// Rows per second of the threads' own CPU time (robust to a loaded machine; equals
    /// `samples_per_s / threads` when every thread has a core to itself).
    pub samples_per_cpu_s: f64,
}

/// Time `samples` single calls of `f(i)` after a warm-up of `samples` calls (at least 100, at most
/// 2000).
pub fn latency(samples: usize, f: impl FnMut(usize) -> Result<()>) -> Result<Latency> {
    Latency::time(samples.clamp(100, 2000), samples, f)
}

/// Rows per second of `work(thread, first_row, rows)` over a batch of `batch` rows split across
/// `threads` scoped threads, each repeating its share until `min_seconds` pass.
pub fn throughput<F>(batch: usize, threads: usize, min_seconds: f64, work: F) -> Result<Throughput>
where
    F: Fn(usize, usize, usize) -> Result<()> + Sync,
{
    let threads = threads.clamp(1, batch.max(1));
    let per = batch.div_ceil(threads);
    let min = Duration::from_secs_f64(min_seconds);
    let barrier = std::sync::Barrier::new(threads);
    let results: Vec<Result<(usize, Duration, f64)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (work, barrier) = (&work, &barrier);
                s.spawn(move || -> Result<(usize, Duration, f64)> {
                    let first = t * per;
                    let rows = per.min(batch.saturating_sub(first));
                    if rows == 0 {
                        barrier.wait();
                        return Ok((0, Duration::ZERO, 0.0));
                    }
                    // Warm up, then wait for the others even on failure, so no thread is left at the barrier.
                    let warm = work(t, first, rows);
                    barrier.wait();
                    warm?;
                    let start = Instant::now();
                    let cpu0 = thread_cpu_seconds();
                    let mut done = 0usize;
                    while start.elapsed() < min {
                        work(t, first, rows)?;
                        done += rows;
                    }
                    Ok((done, start.elapsed(), thread_cpu_seconds() - cpu0))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(Error::Check("a benchmark thread panicked".into()))))
            .collect()
    });
    let mut rows = 0usize;
    let mut wall = Duration::ZERO;
    let mut cpu = 0f64;
    for r in results {
        let (n, d, c) = r?;
        rows += n;
        wall = wall.max(d);
        cpu += c;
    }
    let cpu_rate = if cpu > 0.0 { rows as f64 / cpu } else { f64::NAN };
    Ok(Throughput {
        batch,
        threads,
        samples_per_s: rows as f64 / wall.as_secs_f64().max(1e-9),
        samples_per_cpu_s: cpu_rate,
    })
}

/// CPU time consumed by the calling thread, seconds (NaN where the platform does not say).
pub fn thread_cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes one timespec through a valid pointer.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
        }
    }
    f64::NAN
}

/// The CPU model (from /proc/cpuinfo where available, else the architecture).
pub fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}
