//! Terminal progress for training jobs: a bar per epoch and one line of figures after each.

use crate::pipeline::JobObserver;
use crate::train::{EpochStats, TrainObserver};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Draws progress on stderr (hidden when stderr is not a terminal; epoch lines are printed anyway).
pub struct CliProgress {
    bar: Option<ProgressBar>,
    embed_bar: Option<ProgressBar>,
    quiet: bool,
}

impl CliProgress {
    /// A progress display; `quiet` prints nothing.
    pub fn new(quiet: bool) -> Self {
        CliProgress { bar: None, embed_bar: None, quiet }
    }

    fn bar(&mut self, epoch: usize, total: usize) -> &ProgressBar {
        let bar = self.bar.get_or_insert_with(|| {
            let b = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} batches {elapsed_precise}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b
        });
        bar.set_prefix(format!("epoch {epoch}"));
        bar
    }
}

impl TrainObserver for CliProgress {
    fn on_batch(&mut self, epoch: usize, done: usize, total: usize) -> bool {
        if !self.quiet {
            let bar = self.bar(epoch, total);
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        }
        true
    }

    fn on_epoch(&mut self, s: &EpochStats) -> bool {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        if !self.quiet {
            warnln!(
                "epoch {:>2}  train loss {:.4}  val loss {:.4}  val FPR {}  val TPR {}  ({:.2} s)",
                s.epoch,
                s.train_loss,
                s.val_loss,
                percent(s.val_fpr),
                percent(s.val_tpr),
                s.seconds
            );
        }
        true
    }
}

impl JobObserver for CliProgress {
    fn on_embedded(&mut self, done: usize, total: usize) {
        if self.quiet {
            return;
        }
        let bar = self.embed_bar.get_or_insert_with(|| {
            let b = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(
                    " embedding [{bar:30}] {pos}/{len} texts {per_sec} {elapsed_precise} (eta {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b
        });
        bar.set_position(done as u64);
        if done >= total {
            let secs = bar.elapsed().as_secs_f64();
            bar.finish_and_clear();
            self.embed_bar = None;
            warnln!("embedded {total} texts in {secs:.1} s ({:.0} texts/s)", total as f64 / secs.max(1e-9));
        }
    }

    fn on_phase(&mut self, phase: &str, rows: usize) {
        if !self.quiet {
            if rows > 0 {
                warnln!("{phase} {rows} rows ...");
            } else {
                warnln!("{phase} ...");
            }
        }
    }
}

/// A rate as `12.34%`, or `n/a` when undefined.
fn percent(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".into(), |v| format!("{:.2}%", v * 100.0))
}
