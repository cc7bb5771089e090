//! The routes: authentication, limits, JSON in and out, and scoring through the pool. Every failure is
//! a JSON error with a 4xx or 5xx status; a score that could not be computed is never answered as a
//! benign result.

use super::api::{self, ApiError, FeedbackRequest, InputLimits, ScoreRequest};
use super::feedback::{self, Remembered};
use super::metrics::route_index;
use super::pool::{Rejected, TextScore};
use super::source::Loaded;
use super::State;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};
use sha2::{Digest, Sha256};
use std::convert::Infallible;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The response type of every route.
pub type Resp = Response<Full<Bytes>>;

fn respond(status: u16, content_type: &'static str, body: String) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn json(status: u16, body: String) -> Resp {
    respond(status, "application/json", body)
}

fn error(e: &ApiError) -> Resp {
    let mut r = json(e.status, e.body());
    if e.status == 401 {
        r.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    r
}

/// Serve one request (the hyper service function): the route under the request timeout, counted.
pub async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Resp, Infallible> {
    let start = Instant::now();
    let route = route_index(req.uri().path());
    let timeout = state.config.timeout;
    let resp = match tokio::time::timeout(timeout, dispatch(state.clone(), req)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => error(&e),
        Err(_) => error(&ApiError::limit(
            504,
            "timeout",
            "timeout_ms",
            timeout.as_millis() as usize,
            format!("the request did not finish within {} ms (--timeout-ms)", timeout.as_millis()),
        )),
    };
    state.metrics.observe_request(route, resp.status().as_u16(), start.elapsed().as_secs_f64());
    Ok(resp)
}

fn method_not_allowed(allowed: &'static str) -> Result<Resp, ApiError> {
    let mut r = error(&ApiError::new(405, "method_not_allowed", format!("use {allowed} on this route")));
    r.headers_mut().insert(ALLOW, HeaderValue::from_static(allowed));
    Ok(r)
}

async fn dispatch(state: Arc<State>, req: Request<Incoming>) -> Result<Resp, ApiError> {
    let path = req.uri().path().to_string();
    let post = req.method() == Method::POST;
    let get = req.method() == Method::GET || req.method() == Method::HEAD;
    match path.as_str() {
        "/healthz" if get => Ok(json(200, r#"{"status":"ok"}"#.into())),
        "/readyz" if get => Ok(readyz(&state).await),
        "/healthz" | "/readyz" => method_not_allowed("GET"),
        "/metrics" | "/v1/moderations" | "/v1/classify" | "/v1/feedback" => {
            authorize(&state, &req)?;
            match path.as_str() {
                "/metrics" if get => Ok(respond(200, "text/plain; version=0.0.4", state.metrics.render())),
                "/v1/moderations" if post => moderations(&state, read_body(&state, req).await?).await,
                "/v1/classify" if post => classify(&state, read_body(&state, req).await?).await,
                "/v1/feedback" if post => feedback(&state, read_body(&state, req).await?).await,
                "/metrics" => method_not_allowed("GET"),
                _ => method_not_allowed("POST"),
            }
        }
        _ => Err(ApiError::new(404, "not_found", format!("no route `{path}` (see docs/serve.md)"))),
    }
}

/// Compare digests, so the time taken depends on neither the token's content nor its length.
fn authorize(state: &State, req: &Request<Incoming>) -> Result<(), ApiError> {
    let Some(token) = &state.token_digest else { return Ok(()) };
    let given = req.headers().get(AUTHORIZATION).map(HeaderValue::as_bytes).and_then(|h| h.strip_prefix(b"Bearer "));
    let Some(given) = given else {
        return Err(ApiError::new(401, "unauthorized", "send `Authorization: Bearer <token>`"));
    };
    let d = Sha256::digest(given);
    let diff = d.iter().zip(token.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if diff == 0 {
        Ok(())
    } else {
        Err(ApiError::new(401, "unauthorized", "the bearer token is not valid"))
    }
}

async fn read_body(state: &State, req: Request<Incoming>) -> Result<Bytes, ApiError> {
    let max = state.config.max_body_bytes;
    let too_large = |n: Option<u64>| {
        let what = n.map_or_else(|| "the body".to_string(), |n| format!("the body ({n} bytes)"));
        ApiError::limit(
            413,
            "body_too_large",
            "max_body_bytes",
            max,
            format!("{what} exceeds the limit of {max} bytes (--max-body-bytes)"),
        )
    };
    let declared = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large(declared));
    }
    match Limited::new(req.into_body(), max).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large(None)),
        Err(e) => Err(ApiError::new(400, "bad_body", format!("could not read the request body: {e}"))),
    }
}

fn limits(state: &State) -> InputLimits {
    InputLimits { max_inputs: state.config.max_inputs, max_chars: state.config.max_chars }
}

/// Score `texts` on the model being served now (the request finishes on it even if a reload swaps it).
async fn score(state: &State, texts: Vec<String>) -> Result<(Vec<TextScore>, Arc<Loaded>), ApiError> {
    let model = state.current();
    let rx = state.pool.submit(texts, model).map_err(|r| match r {
        Rejected::Full => ApiError::limit(
            503,
            "overloaded",
            "queue",
            state.config.queue,
            format!("{} requests are waiting for a scorer (--queue); retry later", state.config.queue),
        ),
        Rejected::Closed => ApiError::new(503, "shutting_down", "the server is shutting down"),
    })?;
    match rx.await {
        Ok(Ok(scored)) => Ok(scored),
        Ok(Err(e)) => Err(ApiError::new(500, "scoring_failed", format!("the model could not score the input: {e}"))),
        Err(_) => Err(ApiError::new(500, "scoring_failed", "the scorer stopped before answering")),
    }
}

async fn scored_request(
    state: &State,
    body: &[u8],
    prefix: &str,
) -> Result<(String, Vec<TextScore>, Arc<Loaded>), ApiError> {
    let req: ScoreRequest = api::parse_json(body)?;
    let texts = req.into_texts(limits(state))?;
    let kept = state.recent.as_ref().map(|_| texts.clone());
    let (scores, loaded) = score(state, texts).await?;
    let id = state.next_id(prefix);
    let flagged = scores.iter().filter(|s| loaded.model.decide(s.score)).count();
    state.metrics.observe_inputs(scores.len(), flagged);
    if let (Some(recent), Some(texts)) = (&state.recent, kept) {
        let remembered =
            Remembered { texts, scores: scores.iter().map(|s| s.score).collect(), model: loaded.version.clone() };
        recent.insert(id.clone(), remembered);
    }
    Ok((id, scores, loaded))
}

async fn moderations(state: &State, body: Bytes) -> Result<Resp, ApiError> {
    let (id, scores, loaded) = scored_request(state, &body, "modr").await?;
    Ok(json(200, api::moderations_body(&id, &loaded, &scores)))
}

async fn classify(state: &State, body: Bytes) -> Result<Resp, ApiError> {
    let (id, scores, loaded) = scored_request(state, &body, "clf").await?;
    Ok(json(200, api::classify_body(&id, &loaded, &scores)))
}

async fn readyz(state: &Arc<State>) -> Resp {
    let loaded = state.current();
    let model = api::ModelId { version: &loaded.version, sha256: &loaded.sha256 };
    let last = state.metrics.last_reload_error();
    if state.draining.load(Ordering::Relaxed) {
        let body = serde_json::json!({"status": "draining", "model": model, "last_reload_error": last});
        return json(503, body.to_string());
    }
    let probe = tokio::time::timeout(Duration::from_secs(2), score(state, vec!["readiness probe".to_string()])).await;
    match probe {
        Ok(Ok(_)) => json(200, serde_json::json!({"status": "ready", "model": model, "last_reload_error": last}).to_string()),
        Ok(Err(e)) => json(503, serde_json::json!({"status": "unavailable", "model": model, "error": e.message}).to_string()),
        Err(_) => json(503, serde_json::json!({"status": "unavailable", "model": model, "error": "the scorers did not answer within 2 s"}).to_string()),
    }
}

async fn feedback(state: &Arc<State>, body: Bytes) -> Result<Resp, ApiError> {
    let req: FeedbackRequest = api::parse_json(&body)?;
    let Some(file) = state.feedback.clone() else {
        return Err(ApiError::new(
            501,
            "feedback_disabled",
            "this server records no feedback (start it with --feedback FILE)",
        ));
    };
    if req.label > 1 {
        return Err(ApiError::new(
            422,
            "invalid_label",
            format!("`label` must be 0 (benign) or 1 (malicious), got {}", req.label),
        ));
    }
    let (prompt, scored, response_id) = match (req.id, req.input) {
        (Some(_), Some(_)) => {
            return Err(ApiError::new(
                422,
                "ambiguous_feedback",
                "send either `id` (of a response) or `input`, not both",
            ))
        }
        (Some(id), None) => {
            let recent = state.recent.as_ref().and_then(|r| r.get(&id)).ok_or_else(|| {
                ApiError::new(
                    404,
                    "unknown_id",
                    format!(
                        "no recent response `{id}` (only the latest responses are remembered: send `input` instead)"
                    ),
                )
            })?;
            let i = req.index.unwrap_or(0);
            let Some(text) = recent.texts.get(i) else {
                return Err(ApiError::new(
                    422,
                    "invalid_index",
                    format!("response `{id}` has {} result(s); `index` {i} is out of range", recent.texts.len()),
                ));
            };
            (text.clone(), Some((recent.model.clone(), recent.scores[i])), Some(id))
        }
        (None, Some(input)) => {
            let mut texts = ScoreRequest::single(input).into_texts(limits(state))?;
            (texts.remove(0), None, None)
        }
        (None, None) => return Err(ApiError::new(422, "missing_input", "send `id` (of a response) or `input`")),
    };
    if prompt.trim().is_empty() {
        return Err(ApiError::new(422, "empty_input", "the reported prompt is empty"));
    }
    let id = state.next_id("fb");
    let label = req.label;
    let line = feedback::line(
        id.clone(),
        prompt,
        label,
        req.note.unwrap_or_default(),
        req.category.unwrap_or_default(),
        scored.as_ref().map(|(m, s)| (m.as_str(), *s)),
        response_id,
    );
    let written = tokio::task::spawn_blocking(move || file.append(&line)).await;
    match written {
        Ok(Ok(())) => {
            state.metrics.observe_feedback(label);
            Ok(json(200, serde_json::json!({"id": id, "recorded": true}).to_string()))
        }
        Ok(Err(e)) => Err(ApiError::new(500, "feedback_not_recorded", format!("the report was not recorded: {e}"))),
        Err(_) => Err(ApiError::new(500, "feedback_not_recorded", "the report was not recorded: the writer failed")),
    }
}
