//! `l2 serve` (feature `serve`): the guard as an HTTP service. A host above the library: it converts
//! requests into `Model::classify_detailed` calls and answers into responses (docs/serve.md,
//! docs/openapi.yaml).
//!
//! - the async reactor (tokio + hyper, HTTP/1.1 keep-alive) only parses and answers; scoring runs on a
//!   bounded pool of worker threads that micro-batch concurrent requests ([`pool`]);
//! - the model is an `Arc` swapped atomically on reload; a request keeps the `Arc` it started with, so
//!   it finishes on that model; a model that fails to load, verify or answer a probe is refused and the
//!   old one keeps serving ([`source`]);
//! - SIGHUP reloads; SIGTERM (and SIGINT) stop accepting, finish the requests in flight and exit.

mod api;
mod feedback;
mod http;
mod metrics;
mod pool;
mod source;

pub use api::{category_name, SCORE_KEY};
pub use source::ModelSource;

use crate::error::{Error, Result};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use metrics::Metrics;
use pool::Pool;
use sha2::{Digest, Sha256};
use source::Loaded;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

/// The routes the service answers (docs/openapi.yaml describes exactly these).
pub const ROUTES: [(&str, &str); 6] = [
    ("post", "/v1/moderations"),
    ("post", "/v1/classify"),
    ("post", "/v1/feedback"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
];

/// Everything `l2 serve` is told.
#[derive(Debug, Clone)]
pub struct Config {
    /// The model to serve.
    pub source: ModelSource,
    /// Address to listen on (port 0: any free port, printed at start).
    pub listen: SocketAddr,
    /// The bearer token clients must send (none: no authentication).
    pub token: Option<String>,
    /// Where `/v1/feedback` appends its JSON lines (none: feedback is refused with 501).
    pub feedback: Option<PathBuf>,
    /// Largest request body, bytes (413 above).
    pub max_body_bytes: usize,
    /// Most texts per request (422 above).
    pub max_inputs: usize,
    /// Most characters per text (422 above).
    pub max_chars: usize,
    /// Time allowed for a request, body included (504 after).
    pub timeout: Duration,
    /// Scoring threads.
    pub workers: usize,
    /// Threads of the async reactor.
    pub io_threads: usize,
    /// Most texts per scoring call (1: no micro-batching).
    pub max_batch: usize,
    /// Most requests waiting for a scorer (503 above).
    pub queue: usize,
    /// How often the registry is checked for a new model.
    pub poll: Duration,
    /// How long SIGTERM waits for requests in flight.
    pub drain: Duration,
    /// Bytes of recent responses kept so feedback can name them by id.
    pub remember_bytes: usize,
}

impl Config {
    /// The defaults for `source`: loopback port 8080, 1 MiB bodies, 256 inputs of 32768 characters,
    /// 10 s timeout, one scorer and one reactor thread per core, batches of up to 256 texts.
    pub fn new(source: ModelSource) -> Config {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Config {
            source,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token: None,
            feedback: None,
            max_body_bytes: 1 << 20,
            max_inputs: 256,
            max_chars: 32768,
            timeout: Duration::from_secs(10),
            workers: cores,
            io_threads: cores,
            max_batch: 256,
            queue: 4096,
            poll: Duration::from_secs(1),
            drain: Duration::from_secs(30),
            remember_bytes: 16 << 20,
        }
    }
}

/// What the routes share.
pub(crate) struct State {
    config: Config,
    current: RwLock<Arc<Loaded>>,
    pool: Pool,
    metrics: Arc<Metrics>,
    token_digest: Option<[u8; 32]>,
    feedback: Option<Arc<feedback::FeedbackFile>>,
    recent: Option<feedback::Recent>,
    ids: AtomicU64,
    salt: u64,
    draining: AtomicBool,
    /// Serialises reloads; holds the identity of the last refused model (not retried until it changes).
    reload: Mutex<Option<String>>,
}

impl State {
    fn current(&self) -> Arc<Loaded> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn next_id(&self, prefix: &str) -> String {
        format!("{prefix}-{:08x}{:012x}", self.salt as u32, self.ids.fetch_add(1, Ordering::Relaxed))
    }

    /// Reload from the source: when `forced` (SIGHUP), always; otherwise only when the registry names
    /// another model than the one serving (and not the one last refused).
    fn reload(&self, forced: bool) {
        let mut refused = self.reload.lock().unwrap_or_else(|p| p.into_inner());
        if !forced {
            match self.config.source.current_id() {
                Ok(None) => return,
                Ok(Some((version, sha))) => {
                    let cur = self.current();
                    let key = format!("{version} {sha}");
                    if (cur.version == version && cur.sha256 == sha) || refused.as_deref() == Some(key.as_str()) {
                        return;
                    }
                    *refused = None;
                }
                Err(e) => {
                    let key = format!("error {e}");
                    if refused.as_deref() != Some(key.as_str()) {
                        self.refuse(&e);
                        *refused = Some(key);
                    }
                    return;
                }
            }
        }
        match self.config.source.load() {
            Ok(loaded) => {
                let loaded = Arc::new(loaded);
                self.metrics.model_loaded(&loaded.version, &loaded.sha256, true);
                eprintln!("l2 serve: reloaded: now serving {} (sha256 {})", loaded.version, loaded.sha256);
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = loaded;
                *refused = None;
            }
            Err(e) => {
                self.refuse(&e);
                if let Ok(Some((v, sha))) = self.config.source.current_id() {
                    *refused = Some(format!("{v} {sha}"));
                }
            }
        }
    }

    fn refuse(&self, e: &Error) {
        let cur = self.current();
        eprintln!("l2 serve: reload refused, still serving {}: {e}", cur.version);
        self.metrics.reload_refused(&e.to_string());
    }
}

fn io_err(what: &'static str, e: std::io::Error) -> Error {
    Error::io(what, PathBuf::from("<server>"), e)
}

/// Run the service until SIGTERM or SIGINT; `on_listen` is told the bound address once it accepts.
pub fn run(config: Config, on_listen: impl FnOnce(SocketAddr)) -> Result<()> {
    let loaded = Arc::new(config.source.load()?);
    let metrics = Arc::new(Metrics::default());
    metrics.model_loaded(&loaded.version, &loaded.sha256, false);
    let feedback = match &config.feedback {
        Some(p) => Some(Arc::new(feedback::FeedbackFile::open(p)?)),
        None => None,
    };
    let listener = std::net::TcpListener::bind(config.listen).map_err(|e| io_err("binding the listen address", e))?;
    listener.set_nonblocking(true).map_err(|e| io_err("configuring the listener", e))?;
    let addr = listener.local_addr().map_err(|e| io_err("reading the listen address", e))?;
    let pool = Pool::start(config.workers, config.queue, config.max_batch, metrics.clone())
        .map_err(|e| io_err("starting scoring threads", e))?;
    let salt = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id()).rotate_left(32);
    let state = Arc::new(State {
        token_digest: config.token.as_ref().map(|t| Sha256::digest(t.as_bytes()).into()),
        recent: feedback.as_ref().map(|_| feedback::Recent::new(config.remember_bytes)),
        feedback,
        current: RwLock::new(loaded),
        pool,
        metrics,
        ids: AtomicU64::new(0),
        salt,
        draining: AtomicBool::new(false),
        reload: Mutex::new(None),
        config,
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(state.config.io_threads.max(1))
        .thread_name("l2-io")
        .enable_all()
        .build()
        .map_err(|e| io_err("starting the async runtime", e))?;
    let stop_watch = Arc::new(AtomicBool::new(false));
    let watcher = match state.config.source {
        ModelSource::Registry { .. } => {
            let (s, stop) = (state.clone(), stop_watch.clone());
            Some(std::thread::Builder::new().name("l2-reload".into()).spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(s.config.poll);
                    s.reload(false);
                }
            }))
        }
        ModelSource::File(_) => None,
    }
    .transpose()
    .map_err(|e| io_err("starting the reload thread", e))?;
    let served = rt.block_on(serve(state.clone(), listener, addr, on_listen));
    stop_watch.store(true, Ordering::Relaxed);
    drop(rt);
    if let Some(w) = watcher {
        let _ = w.join();
    }
    if let Ok(state) = Arc::try_unwrap(state) {
        state.pool.shutdown();
    }
    served
}

async fn serve(
    state: Arc<State>,
    listener: std::net::TcpListener,
    addr: SocketAddr,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| io_err("registering the listener", e))?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| io_err("installing the SIGTERM handler", e))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| io_err("installing the SIGINT handler", e))?;
    let mut hup = signal(SignalKind::hangup()).map_err(|e| io_err("installing the SIGHUP handler", e))?;
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(state.config.timeout).keep_alive(true);
    let graceful = GracefulShutdown::new();
    on_listen(addr);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let s = state.clone();
                    let conn = builder.serve_connection(TokioIo::new(stream), service_fn(move |req| http::handle(s.clone(), req)));
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        let _ = conn.await;
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: keep serving the open connections.
                    eprintln!("l2 serve: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            },
            _ = hup.recv() => {
                let s = state.clone();
                tokio::task::spawn_blocking(move || s.reload(true));
            }
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    state.draining.store(true, Ordering::Relaxed);
    drop(listener);
    eprintln!("l2 serve: draining (up to {} s)", state.config.drain.as_secs_f64());
    tokio::select! {
        _ = graceful.shutdown() => eprintln!("l2 serve: drained, exiting"),
        _ = tokio::time::sleep(state.config.drain) => eprintln!("l2 serve: drain timed out, exiting"),
    }
    Ok(())
}
