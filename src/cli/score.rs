//! `l2 eval`, `l2 predict` and `l2 info`.

use crate::error::{Error, Result};
use crate::{data, eval, Model};
use clap::Args;
use serde::Serialize;
use std::io::{BufRead, Write};
use std::path::PathBuf;

/// Arguments of `l2 eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Model file.
    pub model: PathBuf,
    /// Labelled CSV files to evaluate on.
    #[arg(required = true)]
    pub data: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Use this threshold instead of the model's.
    #[arg(long)]
    pub threshold: Option<f32>,
    /// Continue past invalid rows, writing them to the rejects file.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Rejects file [default: eval.rejects.csv].
    #[arg(long, default_value = "eval.rejects.csv")]
    pub rejects: PathBuf,
    /// Fail (exit 1) unless every PASS/FAIL criterion passes.
    #[arg(long)]
    pub strict: bool,
    /// Write the false positives on the benign rows as a JSON report (the input of `l2 reinforce`).
    #[arg(long)]
    pub fp_report: Option<PathBuf>,
    /// Model id recorded in the FP report's threats [default: the model file's stem].
    #[arg(long)]
    pub model_id: Option<String>,
    /// Write every row's score as CSV `file,line,label,score,windows,view` (rows in input order).
    #[arg(long)]
    pub scores: Option<PathBuf>,
}

/// `l2 eval`.
pub fn eval(a: &EvalArgs) -> Result<()> {
    let mut inputs = super::data::paths(&a.data);
    inputs.push(&a.model);
    let mut outputs = vec![("rejects", a.rejects.as_path())];
    outputs.extend(a.fp_report.as_deref().map(|p| ("fp-report", p)));
    crate::fsutil::check_outputs(&inputs, &outputs)?;
    let model = Model::load(&a.model)?;
    let loaded = data::load_files_keeping_rejects(&a.data, a.skip_invalid, Some(&a.rejects))?;
    if !loaded.rejects.is_empty() {
        warnln!("{} row(s) rejected, written to {}", loaded.rejects.len(), a.rejects.display());
    }
    let threshold = a.threshold.unwrap_or(model.threshold());
    let (report, answers) = model.evaluate(&loaded.records, threshold, &eval::Targets::default())?;
    let detailed: Vec<crate::model::Scored> = answers.iter().map(|c| c.scored).collect();
    let scores: Vec<f32> = detailed.iter().map(|s| s.score).collect();
    if let Some(path) = &a.scores {
        write_scores(path, &loaded.records, &detailed)?;
    }
    if let Some(path) = &a.fp_report {
        let id = a.model_id.clone().unwrap_or_else(|| {
            a.model.file_stem().map_or_else(|| "l2".to_string(), |s| s.to_string_lossy().into_owned())
        });
        let fp = eval::fp_report(&scores, &loaded.records, threshold, &id)?;
        fp.write(path)?;
        warnln!(
            "false-positive report: {} of {} benign rows flagged, written to {}",
            fp.false_positives,
            fp.total,
            path.display()
        );
    }
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&report).map_err(|e| Error::json("report", e))?);
    } else {
        outln!("{report}");
    }
    if a.strict && !report.passed() {
        return Err(Error::Check("the report fails at least one criterion".into()));
    }
    Ok(())
}

fn write_scores(path: &std::path::Path, rows: &[crate::data::Record], scores: &[crate::model::Scored]) -> Result<()> {
    let mut out = String::from("file,line,label,score,windows,view\n");
    for (r, s) in rows.iter().zip(scores) {
        let file = if r.origin.file.contains([',', '"', '\n']) {
            format!("\"{}\"", r.origin.file.replace('"', "\"\""))
        } else {
            r.origin.file.clone()
        };
        out.push_str(&format!("{file},{},{},{},{},{}\n", r.origin.line, r.label, s.score, s.windows, s.view.as_str()));
    }
    crate::fsutil::write_atomic(path, out.as_bytes())
}

/// Arguments of `l2 predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Model file.
    pub model: PathBuf,
    /// Texts to score; without any, one text per stdin line.
    pub text: Vec<String>,
    /// Include the text in each JSON line.
    #[arg(long)]
    pub echo: bool,
}

#[derive(Serialize)]
struct Prediction<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    score: f32,
    malicious: bool,
    /// Windows of a long text that were scored (absent when none were).
    #[serde(skip_serializing_if = "Option::is_none")]
    windows: Option<usize>,
    /// The view behind the score when it is not the whole text (`decoded`, `rot13`, `leet`, `window`).
    #[serde(skip_serializing_if = "Option::is_none")]
    view: Option<&'static str>,
    /// A model with heads: `family` (the family when flagged, else `BENIGN`), `family_scores`
    /// (P(family | attack)), `severity`, `severity_scores` ([`Model::answer_json`]).
    #[serde(flatten)]
    heads: serde_json::Map<String, serde_json::Value>,
}

/// `l2 predict`: JSON lines `{"score": .., "malicious": ..}`, with `"windows"` when a long text was
/// also scored in windows, `"view"` when the score came from a view other than the whole text, and for
/// a model with heads `"family"`, `"family_scores"`, `"severity"`, `"severity_scores"`.
pub fn predict(a: &PredictArgs) -> Result<()> {
    let model = Model::load(&a.model)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut emit = |texts: &[String]| -> Result<()> {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        for (t, c) in refs.iter().zip(model.classify_detailed(&refs)?) {
            let s = c.scored;
            let p = Prediction {
                text: a.echo.then_some(*t),
                score: s.score,
                malicious: model.decide(s.score),
                windows: (s.windows > 0).then_some(s.windows),
                view: (s.view != crate::text::ViewKind::Whole).then_some(s.view.as_str()),
                heads: model.answer_json(&c),
            };
            let line = serde_json::to_string(&p).map_err(|e| Error::json("prediction", e))?;
            writeln!(out, "{line}").map_err(|e| Error::io("writing", "<stdout>", e))?;
        }
        Ok(())
    };
    if !a.text.is_empty() {
        emit(&a.text)?;
    } else {
        let mut batch = Vec::with_capacity(256);
        for (i, line) in std::io::stdin().lock().lines().enumerate() {
            let line = line.map_err(|e| match e.kind() {
                // Bytes that are not UTF-8 are bad input, not a failed read.
                std::io::ErrorKind::InvalidData => {
                    Error::InvalidData(format!("<stdin> line {}: not valid UTF-8 text", i + 1))
                }
                _ => Error::io("reading", "<stdin>", std::io::Error::new(e.kind(), format!("line {}: {e}", i + 1))),
            })?;
            batch.push(line);
            if batch.len() == 256 {
                emit(&batch)?;
                batch.clear();
            }
        }
        emit(&batch)?;
    }
    out.flush().map_err(|e| Error::io("writing", "<stdout>", e))
}

/// Arguments of `l2 info`.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// Model file.
    pub model: PathBuf,
    /// Print the whole metadata as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `l2 info`: what a model file says about itself.
pub fn info(a: &InfoArgs) -> Result<()> {
    let model = Model::load(&a.model)?;
    if a.json {
        outln!("{}", model.meta_json()?);
        return Ok(());
    }
    let m = model.meta();
    outln!("model      {}", a.model.display());
    outln!("format     v{} (l2core {}), created {}", m.format_version, m.l2core_version, m.created);
    outln!("embedder   {}", serde_json::to_string(&m.embedder).map_err(|e| Error::json("embedder", e))?);
    outln!(
        "network    {} -> {:?} -> 1 ({}, {}), precision {}",
        m.architecture.input_dims,
        m.architecture.hidden,
        m.architecture.activation,
        m.architecture.output,
        m.precision
    );
    for h in model.heads() {
        outln!("head       {} over [{}] (on the last hidden layer)", h.kind, h.labels.join(", "));
    }
    outln!("threshold  {:.6}", m.threshold);
    outln!("weights    sha256 {}", model.weights_sha256());
    if let Some(d) = &m.dataset {
        outln!("data       {} rows ({} benign / {} malicious), sha256 {}", d.rows, d.benign, d.malicious, d.sha256);
    }
    if let Some(h) = &m.history {
        outln!("training   {} epochs, best {}, stopped early: {}", h.epochs.len(), h.best_epoch, h.stopped_early);
    }
    Ok(())
}
