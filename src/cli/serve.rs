//! `l2 serve`: parse the options into a [`crate::serve::Config`] and run the service.

use crate::error::{Error, Result};
use crate::registry::Stage;
use crate::serve::{Config, ModelSource};
use clap::Args;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// `l2 serve (MODEL | --registry DIR [--stage production]) [--listen 127.0.0.1:8080]`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("model_source").required(true).args(["model", "registry"])))]
pub struct ServeArgs {
    /// The model file to serve (reloaded on SIGHUP).
    pub model: Option<PathBuf>,
    /// Serve the registry's model at `--stage`, and swap in a newly promoted one without a restart.
    #[arg(long, value_name = "DIR")]
    pub registry: Option<PathBuf>,
    /// The registry stage to serve: production or staging.
    #[arg(long, default_value = "production", requires = "registry")]
    pub stage: Stage,
    /// Address to listen on (loopback unless told otherwise; port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// A file holding the bearer token clients must send (`Authorization: Bearer <token>`).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Append `/v1/feedback` reports to this JSON-lines file (what `l2 reinforce --fp` reads).
    #[arg(long, value_name = "FILE")]
    pub feedback: Option<PathBuf>,
    /// Largest request body in bytes (413 above).
    #[arg(long, default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// Most inputs per request (422 above).
    #[arg(long, default_value_t = 256)]
    pub max_inputs: usize,
    /// Most characters per input (422 above).
    #[arg(long, default_value_t = 32768)]
    pub max_chars: usize,
    /// Time allowed per request in milliseconds, body included (504 after).
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Scoring threads (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Async reactor threads (default: one per core).
    #[arg(long)]
    pub io_threads: Option<usize>,
    /// Most texts per scoring call; concurrent requests are micro-batched up to it (1: off).
    #[arg(long, default_value_t = 256)]
    pub max_batch: usize,
    /// Most requests waiting for a scorer (503 above).
    #[arg(long, default_value_t = 4096)]
    pub queue: usize,
    /// How often to check the registry for a new model, milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub poll_ms: u64,
    /// How long SIGTERM waits for requests in flight, milliseconds.
    #[arg(long, default_value_t = 30_000)]
    pub drain_ms: u64,
}

fn positive(name: &str, v: usize) -> Result<usize> {
    if v == 0 {
        return Err(Error::param(name, v, "must be at least 1"));
    }
    Ok(v)
}

/// Run `l2 serve`.
pub fn run(a: &ServeArgs) -> Result<()> {
    let source = match (&a.model, &a.registry) {
        (_, Some(dir)) => ModelSource::Registry { dir: dir.clone(), stage: a.stage },
        (Some(m), None) => ModelSource::File(m.clone()),
        (None, None) => return Err(Error::param("model", "none", "give a MODEL file or --registry DIR")),
    };
    let mut c = Config::new(source);
    c.listen = a.listen;
    c.token = match &a.token_file {
        Some(p) => {
            let t = std::fs::read_to_string(p).map_err(|e| Error::io("reading token file", p, e))?;
            let t = t.trim().to_string();
            if t.is_empty() {
                return Err(Error::param("token-file", p.display(), "the file holds no token"));
            }
            Some(t)
        }
        None => None,
    };
    c.feedback = a.feedback.clone();
    c.max_body_bytes = positive("max-body-bytes", a.max_body_bytes)?;
    c.max_inputs = positive("max-inputs", a.max_inputs)?;
    c.max_chars = positive("max-chars", a.max_chars)?;
    c.timeout = Duration::from_millis(positive("timeout-ms", a.timeout_ms as usize)? as u64);
    if let Some(w) = a.workers {
        c.workers = positive("workers", w)?;
    }
    if let Some(w) = a.io_threads {
        c.io_threads = positive("io-threads", w)?;
    }
    c.max_batch = positive("max-batch", a.max_batch)?;
    c.queue = positive("queue", a.queue)?;
    c.poll = Duration::from_millis(positive("poll-ms", a.poll_ms as usize)? as u64);
    c.drain = Duration::from_millis(a.drain_ms);
    if !c.listen.ip().is_loopback() && c.token.is_none() {
        eprintln!(
            "l2 serve: warning: listening on {} without --token-file: anyone who can reach it may call it",
            c.listen
        );
    }
    let what = c.source.describe();
    crate::serve::run(c, |addr| {
        // Tests and scripts read this line to find the port.
        println!("l2 serve: listening on http://{addr} ({what})");
        let _ = std::io::stdout().flush();
    })
}
