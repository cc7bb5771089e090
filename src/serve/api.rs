//! The wire format: request bodies, response bodies and the JSON error body. Shapes only; the routes
//! that use them are in `http`.

use super::pool::TextScore;
use super::source::Loaded;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The key of `categories` / `category_scores` that carries the model's score. Per-family keys
/// (`jailbreak`, `prompt_injection`, ...) join it when the model has a family head.
pub const SCORE_KEY: &str = "malicious";

/// An error answered to the client: status, machine-readable code and message, and for a limit its
/// name and value.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Machine-readable code (`invalid_json`, `input_too_long`, ...).
    pub code: &'static str,
    /// What went wrong, for a person.
    pub message: String,
    /// The limit that was exceeded and its value.
    pub limit: Option<(&'static str, usize)>,
}

impl ApiError {
    /// An error without a limit.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), limit: None }
    }

    /// A limit exceeded.
    pub fn limit(status: u16, code: &'static str, limit: &'static str, max: usize, message: String) -> ApiError {
        ApiError { status, code, message, limit: Some((limit, max)) }
    }

    /// The body, in OpenAI's error shape: `{"error": {"message", "type", "code", "param", "limit", "max"}}`.
    pub fn body(&self) -> String {
        let kind = match self.status {
            401 => "authentication_error",
            s if s >= 500 => "server_error",
            _ => "invalid_request_error",
        };
        let mut e = serde_json::json!({"message": self.message, "type": kind, "code": self.code, "param": null});
        if let Some((name, max)) = self.limit {
            e["limit"] = name.into();
            e["max"] = max.into();
        }
        serde_json::json!({ "error": e }).to_string()
    }
}

/// `input`: one text, a list of texts, or OpenAI's list of typed parts (`{"type": "text", "text"}`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Input {
    One(String),
    Many(Vec<Part>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Part {
    Text(String),
    Typed {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        text: Option<String>,
    },
}

/// A `/v1/moderations` or `/v1/classify` request.
#[derive(Debug, Deserialize)]
pub struct ScoreRequest {
    input: Input,
    /// The model the client asked for (OpenAI clients send one); informational, the served model answers.
    #[serde(default)]
    #[allow(dead_code)]
    model: Option<String>,
}

/// Limits on one request's inputs.
#[derive(Debug, Clone, Copy)]
pub struct InputLimits {
    /// Texts per request.
    pub max_inputs: usize,
    /// Characters (Unicode scalar values) per text.
    pub max_chars: usize,
}

fn json_error(e: &serde_json::Error) -> ApiError {
    use serde_json::error::Category;
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            ApiError::new(400, "invalid_json", format!("the body is not valid JSON: {e}"))
        }
        Category::Data => ApiError::new(400, "invalid_request", format!("the body has the wrong shape: {e}")),
    }
}

/// Parse a JSON body into `T`, answering 400 with serde's message (line and column) when it fails.
pub fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| json_error(&e))
}

impl ScoreRequest {
    /// A request of one text.
    pub fn single(text: String) -> ScoreRequest {
        ScoreRequest { input: Input::One(text), model: None }
    }

    /// The texts, checked against `limits` (422 naming the limit).
    pub fn into_texts(self, limits: InputLimits) -> Result<Vec<String>, ApiError> {
        let texts = match self.input {
            Input::One(s) => vec![s],
            Input::Many(parts) => {
                if parts.len() > limits.max_inputs {
                    return Err(too_many(parts.len(), limits.max_inputs));
                }
                let mut texts = Vec::with_capacity(parts.len());
                for (i, p) in parts.into_iter().enumerate() {
                    texts.push(match p {
                        Part::Text(s) => s,
                        Part::Typed { kind, text: Some(t) } if kind == "text" => t,
                        Part::Typed { kind, .. } => {
                            return Err(ApiError::new(
                                422,
                                "unsupported_input",
                                format!("input[{i}] is of type `{kind}`: only text inputs are scored"),
                            ))
                        }
                    });
                }
                texts
            }
        };
        if texts.is_empty() {
            return Err(ApiError::new(422, "empty_input", "`input` is an empty list: send at least one text"));
        }
        if texts.len() > limits.max_inputs {
            return Err(too_many(texts.len(), limits.max_inputs));
        }
        for (i, t) in texts.iter().enumerate() {
            // Bytes bound characters from above: count only when the bytes could exceed the limit.
            if t.len() > limits.max_chars {
                let n = t.chars().count();
                if n > limits.max_chars {
                    return Err(ApiError::limit(
                        422,
                        "input_too_long",
                        "max_chars",
                        limits.max_chars,
                        format!("input[{i}] has {n} characters; the limit is {} (--max-chars)", limits.max_chars),
                    ));
                }
            }
        }
        Ok(texts)
    }
}

fn too_many(n: usize, max: usize) -> ApiError {
    ApiError::limit(
        422,
        "too_many_inputs",
        "max_inputs",
        max,
        format!("the request has {n} inputs; the limit is {max} per request (--max-inputs)"),
    )
}

/// Model identity in responses.
#[derive(Debug, Serialize)]
pub struct ModelId<'a> {
    /// `v3` (registry) or the file name.
    pub version: &'a str,
    /// sha256 of the model file.
    pub sha256: &'a str,
}

#[derive(Serialize)]
struct Moderation {
    flagged: bool,
    categories: BTreeMap<String, bool>,
    category_scores: BTreeMap<String, f32>,
    category_applied_input_types: BTreeMap<String, [&'static str; 1]>,
}

/// The moderation category of a family label: the known families by what they are, any other
/// lowercased.
pub fn category_name(family: &str) -> String {
    match family {
        "JB" => "jailbreak".into(),
        "PI" => "prompt_injection".into(),
        "CMD" => "command_injection".into(),
        "PII" => "data_exfiltration".into(),
        "HARM" => "harmful_content".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// The `/v1/moderations` response (OpenAI's shape). `malicious` carries the score; a model with a
/// family head adds one category per family: flagged when the text is flagged and that family is the
/// head's answer, scored P(malicious) x P(family | malicious).
pub fn moderations_body(id: &str, loaded: &Loaded, scores: &[TextScore]) -> String {
    let model = &loaded.model;
    let threshold = model.threshold();
    let results: Vec<Moderation> = scores
        .iter()
        .map(|s| {
            let flagged = s.score >= threshold;
            let mut m = Moderation {
                flagged,
                categories: [(SCORE_KEY.to_owned(), flagged)].into(),
                category_scores: [(SCORE_KEY.to_owned(), s.score)].into(),
                category_applied_input_types: [(SCORE_KEY.to_owned(), ["text"])].into(),
            };
            if let Some(a) = model.answer(&s.answer, crate::nn::HeadKind::Family) {
                for (i, (label, &p)) in a.labels.iter().zip(a.probs).enumerate() {
                    let key = category_name(label);
                    m.categories.insert(key.clone(), a.index == Some(i));
                    m.category_scores.insert(key.clone(), s.score * p);
                    m.category_applied_input_types.insert(key, ["text"]);
                }
            }
            m
        })
        .collect();
    let model = format!("l2-{}", loaded.version);
    serde_json::json!({"id": id, "model": model, "results": results}).to_string()
}

#[derive(Serialize)]
struct Classified {
    score: f32,
    malicious: bool,
    threshold: f32,
    /// `family`, `family_scores`, `severity`, `severity_scores` of a model with heads, as `l2 predict`.
    #[serde(flatten)]
    heads: serde_json::Map<String, serde_json::Value>,
}

/// The `/v1/classify` response.
pub fn classify_body(id: &str, loaded: &Loaded, scores: &[TextScore]) -> String {
    let threshold = loaded.model.threshold();
    let results: Vec<Classified> = scores
        .iter()
        .map(|s| Classified {
            score: s.score,
            malicious: s.score >= threshold,
            threshold,
            heads: loaded.model.answer_json(&s.answer),
        })
        .collect();
    let model = ModelId { version: &loaded.version, sha256: &loaded.sha256 };
    serde_json::json!({"id": id, "model": model, "results": results}).to_string()
}

/// A `/v1/feedback` request: the `id` of an earlier response (with `index` for a multi-input one) or the
/// `input` itself, the true `label` (0 benign: a false positive; 1 malicious: a miss), a free `note` and
/// an optional `category`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// The response id.
    #[serde(default)]
    pub id: Option<String>,
    /// Which input of that response (0 when absent).
    #[serde(default)]
    pub index: Option<usize>,
    /// The text, when not reporting by id.
    #[serde(default)]
    pub input: Option<String>,
    /// The true label.
    pub label: u8,
    /// A note for the reviewer.
    #[serde(default)]
    pub note: Option<String>,
    /// The prompt's category (programming, security, ...).
    #[serde(default)]
    pub category: Option<String>,
}
