//! Latency percentiles of timed calls: the one latency figure of the release gate and `l2 bench`.

use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Percentiles of per-call latency, in microseconds. Percentiles are nearest rank: the `p`-th
/// percentile of `n` sorted samples is sample `ceil(p * n)` (1-based), so it is always a measured value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Calls timed.
    pub samples: usize,
    /// Mean.
    pub mean_us: f64,
    /// Median.
    pub p50_us: f64,
    /// 95th percentile.
    pub p95_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
}

impl Latency {
    /// Percentiles of `us` (microseconds per call); all 0 without samples.
    pub fn of(mut us: Vec<f64>) -> Latency {
        us.sort_by(f64::total_cmp);
        let at = |p: f64| -> f64 {
            if us.is_empty() {
                return 0.0;
            }
            let rank = ((p * us.len() as f64).ceil() as usize).clamp(1, us.len());
            us[rank - 1]
        };
        Latency {
            samples: us.len(),
            mean_us: if us.is_empty() { 0.0 } else { us.iter().sum::<f64>() / us.len() as f64 },
            p50_us: at(0.50),
            p95_us: at(0.95),
            p99_us: at(0.99),
        }
    }

    /// Call `f(i)` `warmup` times untimed, then time `samples` calls one by one (`i` counts on from 0
    /// across both, so callers can cycle through inputs). The first error stops it.
    pub fn time(warmup: usize, samples: usize, mut f: impl FnMut(usize) -> Result<()>) -> Result<Latency> {
        for i in 0..warmup {
            f(i)?;
        }
        let mut us = Vec::with_capacity(samples);
        for i in warmup..warmup + samples {
            let start = Instant::now();
            f(i)?;
            us.push(start.elapsed().as_secs_f64() * 1e6);
        }
        Ok(Latency::of(us))
    }

    /// The 95th percentile in milliseconds.
    pub fn p95_ms(&self) -> f64 {
        self.p95_us / 1e3
    }
}

#[cfg(test)]
mod tests {
    use super::Latency;

    #[test]
    fn percentiles_are_nearest_rank() {
        let l = Latency::of((1..=100).map(f64::from).collect());
        assert_eq!((l.p50_us, l.p95_us, l.p99_us, l.samples), (50.0, 95.0, 99.0, 100));
        assert_eq!(l.mean_us, 50.5);
        assert_eq!(Latency::of(vec![7.0]).p99_us, 7.0);
        assert_eq!(Latency::of(Vec::new()).p95_us, 0.0);
        let mut calls = Vec::new();
        let t = Latency::time(2, 3, |i| {
            calls.push(i);
            Ok(())
        })
        .unwrap();
        assert_eq!((t.samples, calls), (3, vec![0, 1, 2, 3, 4]));
    }
}
