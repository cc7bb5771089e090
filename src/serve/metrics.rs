//! Counters and histograms of the service, rendered in the Prometheus text exposition format (0.0.4).
//! Lock-free on the request path: fixed routes and status codes index arrays of atomics.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// The routes counted separately (`other` is every unknown path).
pub const ROUTES: [&str; 8] =
    ["/v1/moderations", "/v1/classify", "/v1/feedback", "/healthz", "/readyz", "/metrics", "other", "-"];
const CODES: [u16; 13] = [200, 400, 401, 404, 405, 408, 413, 422, 500, 501, 503, 504, 0];
const LATENCY_BUCKETS: [f64; 14] =
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
const BATCH_BUCKETS: [f64; 10] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// The index of `path` in [`ROUTES`].
pub fn route_index(path: &str) -> usize {
    ROUTES[..6].iter().position(|r| *r == path).unwrap_or(6)
}

struct Histogram<const N: usize> {
    bounds: [f64; N],
    counts: [AtomicU64; N],
    count: AtomicU64,
    /// Sum in millionths of the unit.
    sum_micro: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    fn new(bounds: [f64; N]) -> Self {
        Histogram {
            bounds,
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_micro: AtomicU64::new(0),
        }
    }

    fn observe(&self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|b| v <= *b) {
            self.counts[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micro.fetch_add((v * 1e6) as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cum = 0;
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            cum += c.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{b}\"}} {cum}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let brace = |s: &str| if s.is_empty() { String::new() } else { format!("{{{s}}}") };
        let _ = writeln!(out, "{name}_sum{} {}", brace(labels), self.sum_micro.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count{} {count}", brace(labels));
    }
}

/// Everything `/metrics` reports.
pub struct Metrics {
    requests: [[AtomicU64; CODES.len()]; ROUTES.len()],
    latency: [Histogram<{ LATENCY_BUCKETS.len() }>; ROUTES.len()],
    batch: Histogram<{ BATCH_BUCKETS.len() }>,
    inputs: AtomicU64,
    flagged: AtomicU64,
    queue_depth: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_refused: AtomicU64,
    feedback: [AtomicU64; 2],
    state: Mutex<ModelState>,
}

#[derive(Default)]
struct ModelState {
    version: String,
    sha256: String,
    last_reload_error: Option<String>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            latency: std::array::from_fn(|_| Histogram::new(LATENCY_BUCKETS)),
            batch: Histogram::new(BATCH_BUCKETS),
            inputs: AtomicU64::new(0),
            flagged: AtomicU64::new(0),
            queue_depth: AtomicU64::new(0),
            reloads_ok: AtomicU64::new(0),
            reloads_refused: AtomicU64::new(0),
            feedback: [AtomicU64::new(0), AtomicU64::new(0)],
            state: Mutex::new(ModelState::default()),
        }
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    /// Count a finished request.
    pub fn observe_request(&self, route: usize, status: u16, seconds: f64) {
        let code = CODES.iter().position(|c| *c == status).unwrap_or(CODES.len() - 1);
        self.requests[route.min(ROUTES.len() - 1)][code].fetch_add(1, Relaxed);
        self.latency[route.min(ROUTES.len() - 1)].observe(seconds);
    }

    /// Count scored inputs and how many were flagged.
    pub fn observe_inputs(&self, inputs: usize, flagged: usize) {
        self.inputs.fetch_add(inputs as u64, Relaxed);
        self.flagged.fetch_add(flagged as u64, Relaxed);
    }

    /// Count one scoring call of `texts` texts.
    pub fn observe_batch(&self, texts: usize) {
        self.batch.observe(texts as f64);
    }

    /// Jobs waiting for a worker.
    pub fn set_queue_depth(&self, n: usize) {
        self.queue_depth.store(n as u64, Relaxed);
    }

    /// Count a feedback report of `label`.
    pub fn observe_feedback(&self, label: u8) {
        self.feedback[usize::from(label.min(1))].fetch_add(1, Relaxed);
    }

    /// A model was loaded and now serves.
    pub fn model_loaded(&self, version: &str, sha256: &str, is_reload: bool) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.version = version.to_string();
        s.sha256 = sha256.to_string();
        s.last_reload_error = None;
        if is_reload {
            self.reloads_ok.fetch_add(1, Relaxed);
        }
    }

    /// A reload was refused; the old model keeps serving.
    pub fn reload_refused(&self, error: &str) {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).last_reload_error = Some(error.to_string());
        self.reloads_refused.fetch_add(1, Relaxed);
    }

    /// The error of the last reload when it was refused.
    pub fn last_reload_error(&self) -> Option<String> {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).last_reload_error.clone()
    }

    /// The Prometheus text.
    pub fn render(&self) -> String {
        let mut o = String::with_capacity(8192);
        o.push_str("# HELP l2_requests_total HTTP requests by route and status code (code 0: any other).\n");
        o.push_str("# TYPE l2_requests_total counter\n");
        for (r, row) in self.requests.iter().enumerate() {
            for (c, n) in row.iter().enumerate() {
                let n = n.load(Relaxed);
                if n > 0 {
                    let _ = writeln!(o, "l2_requests_total{{route=\"{}\",code=\"{}\"}} {n}", ROUTES[r], CODES[c]);
                }
            }
        }
        o.push_str("# HELP l2_errors_total HTTP responses with a 4xx or 5xx status.\n");
        o.push_str("# TYPE l2_errors_total counter\n");
        for class in ["4xx", "5xx"] {
            let lo = if class == "4xx" { 400 } else { 500 };
            let n: u64 = self
                .requests
                .iter()
                .flat_map(|row| row.iter().zip(CODES))
                .filter(|(_, c)| (lo..lo + 100).contains(c))
                .map(|(n, _)| n.load(Relaxed))
                .sum();
            let _ = writeln!(o, "l2_errors_total{{class=\"{class}\"}} {n}");
        }
        o.push_str("# HELP l2_request_duration_seconds Time from request to response, by route.\n");
        o.push_str("# TYPE l2_request_duration_seconds histogram\n");
        for (r, h) in self.latency.iter().enumerate() {
            if h.count.load(Relaxed) > 0 {
                h.render(&mut o, "l2_request_duration_seconds", &format!("route=\"{}\"", ROUTES[r]));
            }
        }
        o.push_str("# HELP l2_batch_size Texts per scoring call (micro-batches of concurrent requests).\n");
        o.push_str("# TYPE l2_batch_size histogram\n");
        self.batch.render(&mut o, "l2_batch_size", "");
        let counter = |o: &mut String, name: &str, help: &str, v: u64| {
            let _ = write!(o, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n");
        };
        counter(&mut o, "l2_inputs_total", "Texts scored.", self.inputs.load(Relaxed));
        counter(&mut o, "l2_flagged_total", "Texts the model decided are malicious.", self.flagged.load(Relaxed));
        let _ = write!(
            o,
            "# HELP l2_queue_depth Scoring jobs waiting for a worker.\n# TYPE l2_queue_depth gauge\nl2_queue_depth {}\n",
            self.queue_depth.load(Relaxed)
        );
        o.push_str("# HELP l2_feedback_total Feedback reports recorded, by label.\n# TYPE l2_feedback_total counter\n");
        for (label, n) in self.feedback.iter().enumerate() {
            let _ = writeln!(o, "l2_feedback_total{{label=\"{label}\"}} {}", n.load(Relaxed));
        }
        o.push_str("# HELP l2_model_reloads_total Model reloads by result (refused: the old model kept serving).\n");
        o.push_str("# TYPE l2_model_reloads_total counter\n");
        let _ = writeln!(o, "l2_model_reloads_total{{result=\"ok\"}} {}", self.reloads_ok.load(Relaxed));
        let _ = writeln!(o, "l2_model_reloads_total{{result=\"refused\"}} {}", self.reloads_refused.load(Relaxed));
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let _ = write!(
            o,
            "# HELP l2_model_info The model being served.\n# TYPE l2_model_info gauge\n\
             l2_model_info{{version=\"{}\",sha256=\"{}\"}} 1\n",
            escape(&s.version),
            escape(&s.sha256)
        );
        let _ = write!(
            o,
            "# HELP l2_model_last_reload_failed 1 when the last reload was refused.\n\
             # TYPE l2_model_last_reload_failed gauge\nl2_model_last_reload_failed {}\n",
            u8::from(s.last_reload_error.is_some())
        );
        o
    }
}
