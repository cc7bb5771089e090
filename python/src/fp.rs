//! The false-positive report from tallies made elsewhere (Spark partitions, Ray batches): the engine's
//! [`l2core::eval::FpTally`] assembles it, so it is the very report `l2 eval --fp-report` writes.

use crate::errors::IntoPy;
use l2core::eval::{FlaggedRow, FpTally};
use pyo3::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The report as JSON text (and written to `path` when given, as `l2 eval --fp-report` writes it).
///
/// `benign`: benign rows per category (flagged ones included); the flagged rows are given column-wise:
/// `index` (position in the whole data), `ids` (None: named `row-<index>`), `prompts`, `categories`,
/// `scores`. `model_id` is the threats' `rule_id`.
#[pyfunction]
#[pyo3(signature = (benign, index, ids, prompts, categories, scores, model_id, path = None))]
#[allow(clippy::too_many_arguments)]
pub fn _fp_report(
    py: Python<'_>,
    benign: BTreeMap<String, usize>,
    index: Vec<u64>,
    ids: Vec<Option<String>>,
    prompts: Vec<String>,
    categories: Vec<String>,
    scores: Vec<f32>,
    model_id: &str,
    path: Option<PathBuf>,
) -> PyResult<String> {
    let n = index.len();
    for (name, len) in
        [("ids", ids.len()), ("prompts", prompts.len()), ("categories", categories.len()), ("scores", scores.len())]
    {
        if len != n {
            return Err(crate::errors::to_py(l2core::Error::shape(name, format!("{n} (one per flagged row)"), len)));
        }
    }
    py.detach(|| {
        let mut tally = FpTally::default();
        for (category, count) in &benign {
            tally.add_benign(category, *count);
        }
        for ((((index, id), prompt), category), score) in
            index.into_iter().zip(ids).zip(prompts).zip(categories).zip(scores)
        {
            tally.add_flagged(FlaggedRow { index, id, prompt, category, score });
        }
        let report = tally.into_report(model_id)?;
        if let Some(p) = &path {
            report.write(p)?;
        }
        report.to_json()
    })
    .py_err()
}
