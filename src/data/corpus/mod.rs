//! The built-in generated corpus: a deterministic demo data set made from tables of templates and slot
//! fillers (no literal data set is shipped).
//!
//! Each template is a text with `{slot}` placeholders and `{a|b|c}` inline alternatives (`{{` / `}}` are
//! literal braces); a slot names a filler table in the data file `slots.txt` (read by `slots.rs`), and
//! fillers may contain slots themselves. Every template expands into up to a fixed number of distinct
//! variants, all sharing the template's `group`, so a leakage-safe split puts unseen templates in
//! validation and test: the model has to generalise, not memorise a template.
//!
//! Composition (default seed): about 5,000 rows, ~55% benign. Benign prompts from eight categories
//! (programming, technical_docs, conversational, edge_cases, professional, education,
//! general_knowledge, creative), including benign texts with attack-like words ("ignore the previous
//! email", "pretend you are a tour guide"); every [`hard_negatives`] row (security and programming
//! questions that sound alarming); attacks in the JB, PI, CMD and PII families with several
//! categories and severities each, from per-family templates and from the frames x cores of `compose.rs`
//! (group = frame, shared by every family and label using it). Source is `l2core-corpus`; origin is `<corpus>` with the row number.

mod attacks;
mod benign;
mod compose;
mod hard;
mod slots;

use super::dedupe::normalize_text;
use super::{Origin, Record, Severity, BENIGN, MALICIOUS};
use crate::rng::Rng;
use std::collections::HashSet;

/// The `source` of every generated row.
pub const SOURCE: &str = "l2core-corpus";

/// Corpus generation settings.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusParams {
    /// Seed (default 7).
    pub seed: u64,
}

impl Default for CorpusParams {
    fn default() -> Self {
        CorpusParams { seed: 7 }
    }
}

/// One template of the tables.
pub(crate) struct Tpl {
    /// Stable id; the group is `corpus:<family>:<id>`.
    pub id: &'static str,
    /// Category of the generated rows.
    pub category: &'static str,
    /// Severity (none for benign).
    pub severity: Severity,
    /// Text with `{slot}` placeholders.
    pub text: &'static str,
}

/// A family's templates and how many variants each may produce.
struct Family {
    family: &'static str,
    label: u8,
    templates: &'static [Tpl],
    per_template: usize,
}

const FAMILIES: &[Family] = &[
    Family { family: "BENIGN", label: BENIGN, templates: benign::TEMPLATES, per_template: 20 },
    Family { family: "JB", label: MALICIOUS, templates: attacks::JB, per_template: 7 },
    Family { family: "PI", label: MALICIOUS, templates: attacks::PI, per_template: 7 },
    Family { family: "CMD", label: MALICIOUS, templates: attacks::CMD, per_template: 7 },
    Family { family: "PII", label: MALICIOUS, templates: attacks::PII, per_template: 7 },
];

/// Variants per (frame, attack family) and per (carrier frame, harmless task).
const FRAME_VARIANTS: usize = 4;
const FRAME_BENIGN_VARIANTS: usize = 8;

/// Expand `{slot}` placeholders with random fillers (recursively, a few levels deep). Within one text a
/// slot name always gets the same filler (a persona named twice is the same persona). An unknown slot is
/// left as written, which the table tests catch.
pub(crate) fn fill(template: &'static str, rng: &mut Rng) -> String {
    fill_bound(template, &[], rng)
}

/// [`fill`] with some slots bound in advance (a frame's `{core}` to its family's core slot).
fn fill_bound(template: &'static str, pre: &[(&'static str, &'static str)], rng: &mut Rng) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut bound: Vec<(&'static str, &'static str)> = pre.to_vec();
    fill_into(template, rng, &mut out, &mut bound, 0);
    out
}

fn fill_into(
    template: &'static str,
    rng: &mut Rng,
    out: &mut String,
    bound: &mut Vec<(&'static str, &'static str)>,
    depth: usize,
) {
    let mut rest = template;
    while let Some(pos) = rest.find(['{', '}']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if let Some(after) = tail.strip_prefix('}') {
            out.push('}');
            rest = after;
            continue;
        }
        match matching_brace(tail) {
            Some(end) => {
                let name = &tail[1..end];
                rest = &tail[end + 1..];
                let alts = top_level_alternatives(name);
                if alts.len() > 1 {
                    // `{a|b|c}`: an inline alternative, chosen afresh each time; it may hold slots.
                    if let Some(alt) = rng.choose(&alts).copied() {
                        if depth < 6 {
                            fill_into(alt, rng, out, bound, depth + 1);
                        }
                    }
                    continue;
                }
                let choice = match bound.iter().find(|(n, _)| *n == name) {
                    Some((_, c)) => Some(*c),
                    None => {
                        let c = slots::get(name).and_then(|choices| rng.choose(choices)).map(String::as_str);
                        if let Some(c) = c {
                            bound.push((name, c));
                        }
                        c
                    }
                };
                match choice {
                    Some(c) if depth < 6 => fill_into(c, rng, out, bound, depth + 1),
                    _ => out.push_str(&tail[..end + 1]),
                }
            }
            None => {
                out.push_str(tail);
                rest = "";
            }
        }
    }
    out.push_str(rest);
}

/// Byte index of the `}` closing the `{` at `s[0]`, counting nested braces.
fn matching_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `a|b{x|y}|c` -> `["a", "b{x|y}", "c"]`.
fn top_level_alternatives(s: &'static str) -> Vec<&'static str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, b) in s.bytes().enumerate() {
        match b {
            b'{' => depth += 1,
            b'}' => depth = depth.saturating_sub(1),
            b'|' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Light surface variation shared by every label, so that greetings, politeness or casing are no cue.
fn vary(text: String, rng: &mut Rng) -> String {
    const PREFIXES: &[&str] =
        &["Hi, ", "Hello! ", "Quick question: ", "Hey, ", "Please help: ", "Question - ", "Ok so ", "Urgent: "];
    const SUFFIXES: &[&str] = &[
        " Thanks!",
        " Thank you.",
        " Please be detailed.",
        " Keep it short.",
        " Thanks in advance.",
        " :)",
        " Answer in English.",
        " ASAP please.",
    ];
    let mut t = text;
    if rng.uniform() < 0.12 {
        let p = rng.choose(PREFIXES).copied().unwrap_or("");
        let mut chars = t.chars();
        let first: String = chars.next().map(|c| c.to_lowercase().collect()).unwrap_or_default();
        // Keep acronyms and code as they are; only a capitalised ordinary word is lowered after a prefix.
        let lower_ok = t.chars().nth(1).is_some_and(|c| c.is_lowercase());
        t = if lower_ok { format!("{p}{first}{}", chars.as_str()) } else { format!("{p}{t}") };
    }
    if rng.uniform() < 0.12 {
        t.push_str(rng.choose(SUFFIXES).copied().unwrap_or(""));
    }
    if rng.uniform() < 0.06 {
        t = t.to_lowercase();
    }
    t
}

fn confidence(label: u8, rng: &mut Rng) -> f32 {
    if label == BENIGN {
        if rng.uniform() < 0.1 {
            0.9
        } else {
            1.0
        }
    } else {
        // 0.80, 0.85, ..., 1.00: annotators are less sure of some attacks.
        0.8 + 0.05 * rng.below(5) as f32
    }
}

/// Expand one template into up to `want` distinct (normalized, corpus-wide) variants.
fn expand(
    t: &Tpl,
    family: &str,
    label: u8,
    want: usize,
    rng: &mut Rng,
    seen: &mut HashSet<String>,
    out: &mut Vec<Record>,
) {
    let group = format!("corpus:{}:{}", family.to_ascii_lowercase(), t.id);
    expand_into(t, &[], &group, family, label, want, rng, seen, out);
}

/// Expand a frame for each of its families: the frame is the group, whatever the family or label.
fn expand_frame(
    fr: &compose::Frame,
    want: usize,
    want_benign: usize,
    rng: &mut Rng,
    seen: &mut HashSet<String>,
    out: &mut Vec<Record>,
) {
    let group = format!("corpus:frame:{}", fr.id);
    for (family, core, severity) in fr.families.chars().filter_map(compose::family_of) {
        let benign = severity == Severity::None;
        // Harmless tasks in a carrier are ordinary work requests (emails, documents) or chat.
        let category = match (benign, fr.id.starts_with("car_")) {
            (false, _) => fr.category,
            (true, true) => "professional",
            (true, false) => "conversational",
        };
        let t = Tpl { id: fr.id, category, severity, text: fr.text };
        let label = if benign { BENIGN } else { MALICIOUS };
        let n = if benign { want_benign } else { want };
        expand_into(&t, &[("core", core)], &group, family, label, n, rng, seen, out);
    }
}

/// Expand `t` (with `pre` bound slots) into up to `want` distinct (normalized, corpus-wide) variants.
#[allow(clippy::too_many_arguments)]
fn expand_into(
    t: &Tpl,
    pre: &[(&'static str, &'static str)],
    group: &str,
    family: &str,
    label: u8,
    want: usize,
    rng: &mut Rng,
    seen: &mut HashSet<String>,
    out: &mut Vec<Record>,
) {
    let mut made = 0;
    let mut attempts = 0;
    while made < want && attempts < want * 8 {
        attempts += 1;
        let raw = fill_bound(t.text, pre, rng);
        let text = if t.category == "edge_cases" { raw } else { vary(raw, rng) };
        if !seen.insert(normalize_text(&text)) {
            continue;
        }
        made += 1;
        let mut r = Record::new(text, label);
        r.family = family.to_string();
        r.category = t.category.to_string();
        r.severity = t.severity;
        r.confidence = confidence(label, rng);
        r.source = SOURCE.to_string();
        r.notes = format!("template {}", t.id);
        // `each_` templates are lists of unrelated texts (not variants of one prompt): a group per row.
        r.group = Some(if t.id.starts_with("each_") { format!("{group}:{made}") } else { group.to_string() });
        out.push(r);
    }
}

/// Generate the deterministic demo corpus (a few thousand rows; see the module docs). The same seed
/// gives the same rows in the same order on every machine.
pub fn generate(params: &CorpusParams) -> Vec<Record> {
    let mut rng = Rng::new(params.seed ^ 0x6c32_636f_7270_7573);
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(4_500);
    for hn in hard_negatives() {
        seen.insert(normalize_text(&hn.text));
        out.push(hn);
    }
    for f in FAMILIES {
        for t in f.templates {
            // `trap_` templates are benign prompts with attack words ("ignore the previous email"): a few
            // variants each, so one unseen trap cannot dominate a validation split.
            let want = if t.id.starts_with("trap_") || t.id.starts_with("mirror_") {
                f.per_template / 4
            } else {
                f.per_template
            };
            expand(t, f.family, f.label, want, &mut rng, &mut seen, &mut out);
        }
    }
    for fr in compose::FRAMES {
        expand_frame(fr, FRAME_VARIANTS, FRAME_BENIGN_VARIANTS, &mut rng, &mut seen, &mut out);
    }
    // Interleave the families so that a prefix of the corpus is a sample of all of it.
    rng.shuffle(&mut out);
    for (i, r) in out.iter_mut().enumerate() {
        r.origin = Origin { file: "<corpus>".to_string(), line: i as u64 + 1 };
    }
    out
}

/// The built-in hard negatives (>= 250 benign security / programming boundary prompts): alarming words
/// (`rm -rf`, injection, exploit, admin, kill, bypass, system prompt ...) with benign intent. Label 0,
/// family BENIGN, category `hard_negative`, confidence 1.0, notes `HARD NEGATIVE: ...`. Deterministic
/// (independent of any seed); also used by the reinforcement loop.
pub fn hard_negatives() -> Vec<Record> {
    let mut rng = Rng::new(0x4844_4e45_4741_5449);
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(400);
    for t in hard::TEMPLATES {
        let mut made = 0;
        let mut attempts = 0;
        while made < hard::PER_TEMPLATE && attempts < hard::PER_TEMPLATE * 10 {
            attempts += 1;
            let text = fill(t.text, &mut rng);
            if !seen.insert(normalize_text(&text)) {
                continue;
            }
            made += 1;
            let mut r = Record::new(text, BENIGN);
            r.family = "BENIGN".to_string();
            r.category = "hard_negative".to_string();
            r.source = SOURCE.to_string();
            r.notes = format!("HARD NEGATIVE: {} (benign intent, alarming vocabulary)", t.category);
            r.group = Some(format!("corpus:hn:{}", t.id));
            out.push(r);
        }
    }
    for (i, r) in out.iter_mut().enumerate() {
        r.origin = Origin { file: "<hard-negatives>".to_string(), line: i as u64 + 1 };
    }
    out
}

/// Every template of the tables (for tests).
#[cfg(test)]
pub(crate) fn all_templates() -> impl Iterator<Item = &'static Tpl> {
    FAMILIES.iter().flat_map(|f| f.templates.iter()).chain(hard::TEMPLATES.iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slot names referenced by a template, inside inline alternatives too (ignoring `{{` / `}}`).
    fn slot_names(t: &'static str) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut rest = t;
        while let Some(pos) = rest.find('{') {
            let tail = &rest[pos..];
            if let Some(stripped) = tail.strip_prefix("{{") {
                rest = stripped;
                continue;
            }
            let end = matching_brace(tail).unwrap_or_else(|| panic!("unclosed brace in `{t}`"));
            let alts = top_level_alternatives(&tail[1..end]);
            if alts.len() > 1 {
                out.extend(alts.into_iter().flat_map(slot_names));
            } else {
                out.push(&tail[1..end]);
            }
            rest = &tail[end + 1..];
        }
        out
    }

    #[test]
    fn every_slot_of_every_template_and_filler_exists() {
        let mut todo: Vec<&str> = all_templates().map(|t| t.text).collect();
        todo.extend(compose::FRAMES.iter().map(|f| f.text));
        todo.extend("JPCXB".chars().filter_map(compose::family_of).map(|(_, core, _)| core));
        let mut checked = HashSet::new();
        while let Some(t) = todo.pop() {
            for name in slot_names(t) {
                if name == "core" {
                    continue;
                }
                let fillers = slots::get(name).unwrap_or_else(|| panic!("unknown slot `{name}` in `{t}`"));
                assert!(!fillers.is_empty(), "slot `{name}` has no fillers");
                if checked.insert(name) {
                    todo.extend(fillers.iter().map(String::as_str));
                }
            }
        }
    }

    #[test]
    fn template_ids_are_unique_per_family() {
        for f in FAMILIES {
            let ids: HashSet<&str> = f.templates.iter().map(|t| t.id).collect();
            assert_eq!(ids.len(), f.templates.len(), "{}", f.family);
        }
        let ids: HashSet<&str> = hard::TEMPLATES.iter().map(|t| t.id).collect();
        assert_eq!(ids.len(), hard::TEMPLATES.len());
        let ids: HashSet<&str> = compose::FRAMES.iter().map(|f| f.id).collect();
        assert_eq!(ids.len(), compose::FRAMES.len());
    }

    #[test]
    fn every_frame_has_a_core_and_known_families() {
        for f in compose::FRAMES {
            assert_eq!(f.text.matches("{core}").count(), 1, "{}", f.id);
            assert!(!f.families.is_empty(), "{}", f.id);
            assert!(f.families.chars().all(|c| compose::family_of(c).is_some()), "{}", f.id);
            // A frame that wraps harmless tasks must also wrap attacks, or it is just a benign template.
            assert!(f.families.chars().any(|c| c != 'B'), "{}", f.id);
        }
    }

    #[test]
    fn fill_binds_a_slot_once_per_text_and_unescapes_braces() {
        let mut rng = Rng::new(1);
        for _ in 0..50 {
            let s = fill("{persona} and {persona} {{x}}", &mut rng);
            let (a, rest) = s.split_once(" and ").unwrap();
            assert_eq!(rest, format!("{a} {{x}}"));
        }
        assert_eq!(fill("{no_such_slot} stays", &mut rng), "{no_such_slot} stays");
        assert_eq!(fill("unclosed { brace", &mut rng), "unclosed { brace");
        for _ in 0..50 {
            let s = fill("{a|b {persona}|c}!", &mut rng);
            assert!(s == "a!" || s == "c!" || (s.starts_with("b ") && s.len() > 3), "{s}");
        }
    }
}
