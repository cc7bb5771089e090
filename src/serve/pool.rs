//! The scoring pool: a fixed number of worker threads (never the async reactor) behind a bounded queue.
//! A worker that wakes takes the first job and then every queued job for the same model that fits in
//! `max_batch` texts, and scores them in one call (micro-batching: under load, one embedding and one
//! forward pass serve many requests; an idle server scores a lone request at once, with no waiting).

use super::metrics::Metrics;
use super::source::Loaded;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use tokio::sync::oneshot;

/// The score of one text and what the scorer reports about it.
#[derive(Debug, Clone, PartialEq)]
pub struct TextScore {
    /// Malicious probability.
    pub score: f32,
    /// The model's whole answer (score, views, heads).
    pub answer: crate::model::Classified,
}

/// Scores of a job's texts, with the model that computed them.
pub type Scored = std::result::Result<(Vec<TextScore>, Arc<Loaded>), String>;

/// THE one place where a batch is scored: the model's answers (score and, with heads, family and
/// severity), each checked to be a probability.
fn score_batch(loaded: &Loaded, texts: &[&str]) -> std::result::Result<Vec<TextScore>, String> {
    let answers = loaded.model.classify_detailed(texts).map_err(|e| e.to_string())?;
    if answers.len() != texts.len() {
        return Err(format!("the model returned {} scores for {} texts", answers.len(), texts.len()));
    }
    if let Some(i) = answers.iter().position(|a| !(a.scored.score.is_finite() && (0.0..=1.0).contains(&a.scored.score)))
    {
        return Err(format!("the model scored input {i} as {}, not a probability", answers[i].scored.score));
    }
    Ok(answers.into_iter().map(|answer| TextScore { score: answer.scored.score, answer }).collect())
}

struct Job {
    texts: Vec<String>,
    model: Arc<Loaded>,
    reply: oneshot::Sender<Scored>,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    capacity: usize,
    max_batch: usize,
    metrics: Arc<Metrics>,
}

/// Why a job was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// The queue holds `capacity` jobs.
    Full,
    /// The pool is shutting down.
    Closed,
}

/// The worker threads and their queue.
pub struct Pool {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Start `workers` threads; at most `capacity` jobs wait; a batch holds at most `max_batch` texts
    /// (1 turns micro-batching off).
    pub fn start(workers: usize, capacity: usize, max_batch: usize, metrics: Arc<Metrics>) -> std::io::Result<Pool> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            capacity: capacity.max(1),
            max_batch: max_batch.max(1),
            metrics,
        });
        let mut handles = Vec::new();
        for i in 0..workers.max(1) {
            let s = shared.clone();
            handles.push(std::thread::Builder::new().name(format!("l2-score-{i}")).spawn(move || work(&s))?);
        }
        Ok(Pool { shared, workers: handles })
    }

    /// Queue `texts` for scoring on `model`; the receiver gets the scores.
    pub fn submit(&self, texts: Vec<String>, model: Arc<Loaded>) -> Result<oneshot::Receiver<Scored>, Rejected> {
        let (tx, rx) = oneshot::channel();
        let mut q = self.shared.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.closed {
            return Err(Rejected::Closed);
        }
        if q.jobs.len() >= self.shared.capacity {
            return Err(Rejected::Full);
        }
        q.jobs.push_back(Job { texts, model, reply: tx });
        self.shared.metrics.set_queue_depth(q.jobs.len());
        drop(q);
        self.shared.ready.notify_one();
        Ok(rx)
    }

    /// Finish the queued jobs and stop the workers.
    pub fn shutdown(mut self) {
        self.close();
        for h in self.workers.drain(..) {
            let _ = h.join();
        }
    }

    fn close(&self) {
        self.shared.queue.lock().unwrap_or_else(|p| p.into_inner()).closed = true;
        self.shared.ready.notify_all();
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.close();
    }
}

fn work(s: &Shared) {
    loop {
        let batch = {
            let mut q = s.queue.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if !q.jobs.is_empty() {
                    break;
                }
                if q.closed {
                    return;
                }
                q = s.ready.wait(q).unwrap_or_else(|p| p.into_inner());
            }
            let mut batch: Vec<Job> = Vec::new();
            let mut texts = 0;
            while let Some(next) = q.jobs.front() {
                let fits = batch.is_empty()
                    || (texts + next.texts.len() <= s.max_batch && Arc::ptr_eq(&next.model, &batch[0].model));
                if !fits {
                    break;
                }
                texts += next.texts.len();
                batch.extend(q.jobs.pop_front());
            }
            s.metrics.set_queue_depth(q.jobs.len());
            batch
        };
        // Requests that timed out or whose client left need no score.
        let batch: Vec<Job> = batch.into_iter().filter(|j| !j.reply.is_closed()).collect();
        if batch.is_empty() {
            continue;
        }
        let model = batch[0].model.clone();
        let refs: Vec<&str> = batch.iter().flat_map(|j| j.texts.iter().map(String::as_str)).collect();
        s.metrics.observe_batch(refs.len());
        let result = catch_unwind(AssertUnwindSafe(|| score_batch(&model, &refs)))
            .unwrap_or_else(|_| Err("the scorer panicked".to_string()));
        drop(refs);
        match result {
            Ok(scores) => {
                let mut rest = scores.as_slice();
                for job in batch {
                    let (mine, tail) = rest.split_at(job.texts.len());
                    rest = tail;
                    let _ = job.reply.send(Ok((mine.to_vec(), job.model)));
                }
            }
            Err(e) => {
                for job in batch {
                    let _ = job.reply.send(Err(e.clone()));
                }
            }
        }
    }
}
