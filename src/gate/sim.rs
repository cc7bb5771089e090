//! Benign-like prompts for the production simulation.

use super::SimSet;
use crate::data::corpus::{generate, CorpusParams};
use crate::data::normalize_text;
use crate::data::vary::variations;
use crate::error::{Error, Result};
use crate::rng::Rng;
use std::collections::HashSet;
use std::path::Path;

/// `n` unique benign prompts: the benign rows of the built-in corpus generated with seeds `seed`,
/// `seed + 1`, ... (up to 16 corpora; the training corpus uses seed 7, so pick another), and when the
/// generator runs out of new prompts, meaning-preserving variations of them (the reinforcement's
/// transformations, seeded). Hard negatives are left out: the gate checks them separately.
pub fn simulated_benign(n: usize, seed: u64) -> SimSet {
    let mut seen = HashSet::new();
    let mut prompts = Vec::with_capacity(n);
    for k in 0..16 {
        if prompts.len() >= n {
            break;
        }
        for r in generate(&CorpusParams { seed: seed + k }) {
            if prompts.len() >= n {
                break;
            }
            if r.label == 0 && !r.is_hard_negative() && seen.insert(normalize_text(&r.text)) {
                prompts.push(r.text);
            }
        }
    }
    let generated = prompts.len();
    let mut rng = Rng::new(seed);
    let mut i = 0;
    while prompts.len() < n && generated > 0 && i < generated * 8 {
        let base = prompts[i % generated].clone();
        if let Some(v) = variations(&base, 1, &mut rng, &mut seen, true).pop() {
            prompts.push(v.text);
        }
        i += 1;
    }
    let varied = prompts.len() - generated;
    SimSet {
        source: format!(
            "generated: benign rows of the built-in corpus from seed {seed} on ({generated}) + {varied} variations"
        ),
        prompts,
    }
}

/// Prompts from a file: a CSV in the training schema (its benign rows; malicious rows are an error,
/// since the simulation counts every flag as a false positive), or any other file as one prompt per
/// non-empty line.
pub fn read_sim_file(path: &Path) -> Result<SimSet> {
    let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let prompts: Vec<String> = if is_csv {
        let loaded = crate::data::read_csv(path, &Default::default())?;
        if let Some(m) = loaded.records.iter().find(|r| r.label == 1) {
            return Err(Error::InvalidData(format!(
                "{}:{}: the production simulation file must hold benign prompts only (label 0)",
                path.display(),
                m.origin.line
            )));
        }
        loaded.records.into_iter().map(|r| r.text).collect()
    } else {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("reading", path, e))?;
        text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
    };
    if prompts.is_empty() {
        return Err(Error::InvalidData(format!("{}: no prompts", path.display())));
    }
    Ok(SimSet { source: path.display().to_string(), prompts })
}
