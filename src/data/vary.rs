//! Deterministic, meaning-preserving variations of a prompt: paraphrase frames, politeness, rephrasing
//! of common phrases, technology swaps, casing, punctuation and typos. Each variation chains one to
//! three transformations; at least one of them changes words, so a variation is never a mere case or
//! whitespace copy (which de-duplication would remove).

use super::normalize_text;
use crate::rng::Rng;
use std::collections::HashSet;

/// One generated variation.
#[derive(Debug, Clone, PartialEq)]
pub struct Variation {
    /// The new text.
    pub text: String,
    /// The transformations applied, in order.
    pub transforms: Vec<&'static str>,
}

/// Paraphrase frames around the whole prompt; `{x}` is the prompt, `{l}` the prompt with a lowercase
/// first letter.
const FRAMES: &[&str] = &[
    "Quick question: {x}",
    "Can you help me with this? {x}",
    "I was wondering, {l}",
    "{x} Could you explain?",
    "For a project at work: {x}",
    "I need some guidance. {x}",
    "A colleague asked me this and I am not sure: {x}",
    "{x} An example would help.",
    "Help needed: {x}",
    "Question from a beginner: {x}",
    "{x} Keep the answer short.",
    "I'm curious: {l}",
];

const POLITE: &[&str] = &[
    "Please, {l}",
    "{x} Thanks!",
    "{x} Thank you in advance.",
    "Hi! {x}",
    "Hello, {l}",
    "Could you please help? {x}",
    "{x} I'd appreciate it.",
    "Sorry to bother you, {l}",
];

/// Phrase rewrites (matched case-insensitively on word boundaries).
const REPHRASE: &[(&str, &str)] = &[
    ("how do i", "how can I"),
    ("how can i", "how do I"),
    ("what is", "what's"),
    ("what's", "what is"),
    ("explain", "describe"),
    ("describe", "explain"),
    ("show me", "give me"),
    ("give me", "show me"),
    ("help me", "assist me to"),
    ("i want to", "I'd like to"),
    ("i need to", "I have to"),
    ("write", "create"),
    ("create", "make"),
    ("make", "build"),
    ("best way", "right way"),
    ("example", "sample"),
    ("can you", "could you"),
    ("could you", "can you"),
    ("please", "kindly"),
    ("tell me", "let me know"),
    ("list", "enumerate"),
    ("use", "utilize"),
];

/// Technologies that can stand in for each other in a benign question.
const TECH: &[&[&str]] = &[
    &["Python", "JavaScript", "TypeScript", "Rust", "Go", "Java", "Ruby", "Kotlin", "C#", "PHP"],
    &["Django", "Flask", "FastAPI", "Rails", "Express", "Spring Boot", "Laravel"],
    &["PostgreSQL", "MySQL", "SQLite", "MariaDB", "SQL Server"],
    &["MongoDB", "Redis", "Cassandra", "DynamoDB"],
    &["React", "Vue", "Angular", "Svelte"],
    &["AWS", "Azure", "GCP"],
    &["Linux", "macOS", "Windows", "Ubuntu", "Debian"],
    &["Docker", "Podman"],
    &["Kubernetes", "Nomad", "OpenShift"],
    &["bash", "zsh", "PowerShell", "fish"],
    &["nginx", "Apache", "Caddy", "HAProxy"],
    &["Git", "Mercurial"],
    &["Jenkins", "GitHub Actions", "GitLab CI", "CircleCI"],
    &["pandas", "Polars", "NumPy"],
];

/// Kinds of transformation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Frame,
    Politeness,
    Rephrase,
    Tech,
    Casing,
    Punctuation,
    Typo,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Frame => "paraphrase-frame",
            Kind::Politeness => "politeness",
            Kind::Rephrase => "rephrase",
            Kind::Tech => "technology-swap",
            Kind::Casing => "casing",
            Kind::Punctuation => "punctuation",
            Kind::Typo => "typo",
        }
    }

    /// Whether the transformation changes words (not only case or punctuation).
    fn changes_words(self) -> bool {
        !matches!(self, Kind::Casing | Kind::Punctuation)
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        // Keep acronyms ("SQL injection ...") as they are.
        Some(f) if f.is_uppercase() && !c.clone().next().is_some_and(char::is_uppercase) => {
            f.to_lowercase().chain(c).collect()
        }
        _ => s.to_string(),
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn fill(template: &str, x: &str) -> String {
    // A sentence appended after the prompt needs the prompt to end like a sentence.
    let x = match template.strip_prefix("{x} ") {
        Some(_) if !x.trim_end().ends_with(['.', '?', '!', ':', ';']) => format!("{}.", x.trim_end()),
        _ => x.to_string(),
    };
    template.replace("{x}", &x).replace("{l}", &lower_first(&x))
}

/// Characters that glue words into one token (`evil.example.com`, `a/b`, `user@host`, `rm-rf`).
fn is_joiner(b: u8) -> bool {
    matches!(b, b'.' | b'@' | b'/' | b'\\' | b'-' | b'=' | b':')
}

/// Byte ranges of `needle` (ASCII, lowercase) in `hay` on word boundaries, case-insensitively.
fn find_words(hay: &str, needle: &str) -> Vec<usize> {
    let lower = hay.to_ascii_lowercase();
    let nb = needle.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'#' || b >= 0x80;
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = lower[from..].find(&nb) {
        let start = from + pos;
        let end = start + nb.len();
        let before_ok = start == 0
            || !(is_word(bytes[start - 1]) || (is_joiner(bytes[start - 1]) && start >= 2 && is_word(bytes[start - 2])));
        let after_ok = end >= bytes.len()
            || !(is_word(bytes[end]) || (is_joiner(bytes[end]) && end + 1 < bytes.len() && is_word(bytes[end + 1])));
        if before_ok && after_ok {
            out.push(start);
        }
        from = start + nb.len().max(1);
    }
    out
}

fn replace_at(s: &str, start: usize, len: usize, with: &str) -> String {
    let mut out = String::with_capacity(s.len() + with.len());
    out.push_str(&s[..start]);
    out.push_str(with);
    out.push_str(&s[start + len..]);
    out
}

fn rephrase(s: &str, rng: &mut Rng) -> Option<String> {
    let options: Vec<(usize, &str, &str)> =
        REPHRASE.iter().flat_map(|(from, to)| find_words(s, from).into_iter().map(move |p| (p, *from, *to))).collect();
    let &(pos, from, to) = rng.choose(&options)?;
    // Keep a leading capital where the original had one.
    let orig_upper = s[pos..].chars().next().is_some_and(char::is_uppercase);
    let to = if orig_upper { upper_first(to) } else { to.to_string() };
    Some(replace_at(s, pos, from.len(), &to))
}

fn tech_swap(s: &str, rng: &mut Rng) -> Option<String> {
    let mut options: Vec<(usize, &str, &[&str])> = Vec::new();
    for group in TECH {
        for name in *group {
            for p in find_words(s, name) {
                options.push((p, name, group));
            }
        }
    }
    let &(pos, name, group) = rng.choose(&options)?;
    let others: Vec<&str> = group.iter().copied().filter(|g| !g.eq_ignore_ascii_case(name)).collect();
    let with = rng.choose(&others)?;
    Some(replace_at(s, pos, name.len(), with))
}

fn casing(s: &str, rng: &mut Rng) -> Option<String> {
    let out = match rng.below(3) {
        0 => s.to_lowercase(),
        1 => upper_first(s),
        _ => lower_first(s),
    };
    (out != s).then_some(out)
}

fn punctuation(s: &str, rng: &mut Rng) -> Option<String> {
    let trimmed = s.trim_end_matches(['.', '?', '!', ' ']);
    let ending = &s[trimmed.len()..];
    let endings = ["", "?", ".", "!", "??", "...", " ?"];
    let choices: Vec<&&str> = endings.iter().filter(|e| **e != ending.trim_start()).collect();
    let e = rng.choose(&choices)?;
    let out = format!("{trimmed}{e}");
    (out != s).then_some(out)
}

fn typo(s: &str, rng: &mut Rng) -> Option<String> {
    // Words of at least five ASCII letters: the typo stays readable and never hits code or numbers.
    let words: Vec<(usize, usize)> = {
        let b = s.as_bytes();
        let mut v = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_alphabetic() {
                let start = i;
                while i < b.len() && b[i].is_ascii_alphabetic() {
                    i += 1;
                }
                let glued = |k: usize| b[k].is_ascii_alphanumeric() || b[k] >= 0x80 || is_joiner(b[k]) || b[k] == b'_';
                let before_ok = start == 0 || !glued(start - 1);
                let after_ok = i >= b.len()
                    || !(glued(i) && (i + 1 < b.len() && b[i + 1].is_ascii_alphanumeric() || b[i] != b'.'));
                if i - start >= 5 && before_ok && after_ok {
                    v.push((start, i));
                }
            } else {
                i += 1;
            }
        }
        v
    };
    let &(start, end) = rng.choose(&words)?;
    let mut w: Vec<u8> = s.as_bytes()[start..end].to_vec();
    // Keep the first and last letter: the word stays recognisable.
    let k = 1 + rng.below(w.len() - 2);
    match rng.below(3) {
        0 if k + 1 < w.len() - 1 && w[k] != w[k + 1] => w.swap(k, k + 1),
        1 => {
            w.remove(k);
        }
        _ => w.insert(k, w[k]),
    }
    let w = String::from_utf8(w).ok()?;
    Some(replace_at(s, start, end - start, &w))
}

fn apply(kind: Kind, s: &str, rng: &mut Rng, allow_tech: bool) -> Option<String> {
    match kind {
        Kind::Frame => rng.choose(FRAMES).map(|t| fill(t, s)),
        Kind::Politeness => rng.choose(POLITE).map(|t| fill(t, s)),
        Kind::Rephrase => rephrase(s, rng),
        Kind::Tech if allow_tech => tech_swap(s, rng),
        Kind::Tech => None,
        Kind::Casing => casing(s, rng),
        Kind::Punctuation => punctuation(s, rng),
        Kind::Typo => typo(s, rng),
    }
}

const KINDS: [Kind; 7] =
    [Kind::Frame, Kind::Politeness, Kind::Rephrase, Kind::Tech, Kind::Casing, Kind::Punctuation, Kind::Typo];

/// Up to `n` variations of `text`, each unique (by normalized text) against `seen`, which is updated.
/// Technology swaps are used only when `allow_tech` (benign prompts: swapping Django for Flask keeps
/// a question benign; an attack keeps its shape through the other transformations). Fewer than `n`
/// come back only when the transformations run out of new texts (the caller reports the shortfall).
pub fn variations(text: &str, n: usize, rng: &mut Rng, seen: &mut HashSet<String>, allow_tech: bool) -> Vec<Variation> {
    let mut out = Vec::with_capacity(n);
    seen.insert(normalize_text(text));
    let mut attempts = 0;
    while out.len() < n && attempts < 40 * n.max(1) {
        attempts += 1;
        let steps = 1 + rng.below(3);
        let mut kinds: Vec<Kind> = KINDS.to_vec();
        rng.shuffle(&mut kinds);
        // Frames and politeness wrap the prompt: use at most one of the two, and apply them last so
        // that word-level edits touch the prompt itself.
        let mut chain: Vec<Kind> = Vec::with_capacity(steps);
        for k in kinds {
            if chain.len() == steps {
                break;
            }
            let wraps = matches!(k, Kind::Frame | Kind::Politeness);
            if wraps && chain.iter().any(|c| matches!(c, Kind::Frame | Kind::Politeness)) {
                continue;
            }
            chain.push(k);
        }
        chain.sort_by_key(|k| matches!(k, Kind::Frame | Kind::Politeness));
        let mut cur = text.to_string();
        let mut applied = Vec::new();
        for k in chain {
            if let Some(next) = apply(k, &cur, rng, allow_tech) {
                cur = next;
                applied.push(k);
            }
        }
        if !applied.iter().any(|k| k.changes_words()) {
            continue;
        }
        if seen.insert(normalize_text(&cur)) {
            out.push(Variation { text: cur, transforms: applied.iter().map(|k| k.name()).collect() });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variations_are_unique_deterministic_and_keep_the_prompt() {
        let text = "How do I kill a zombie process in Linux with Python?";
        let mut seen = HashSet::new();
        let a = variations(text, 8, &mut Rng::new(1), &mut seen, true);
        assert_eq!(a.len(), 8);
        let keys: HashSet<String> = a.iter().map(|v| normalize_text(&v.text)).collect();
        assert_eq!(keys.len(), 8);
        assert!(!keys.contains(&normalize_text(text)));
        assert!(a.iter().all(|v| v.text.to_lowercase().contains("process") || v.transforms.contains(&"typo")));
        let b = variations(text, 8, &mut Rng::new(1), &mut HashSet::new(), true);
        assert_eq!(a, b, "same seed, same variations");
        let c = variations(text, 8, &mut Rng::new(2), &mut HashSet::new(), true);
        assert_ne!(a, c);
    }

    #[test]
    fn tech_swap_only_when_allowed_and_on_word_boundaries() {
        let mut rng = Rng::new(3);
        let s = tech_swap("Deploy Django on Linux", &mut rng).unwrap();
        assert!(!s.contains("Django") || !s.contains("Linux"), "{s}");
        assert!(tech_swap("Gopher and Goldfish", &mut rng).is_none(), "Go inside a word is not a match");
        assert!(find_words("see evil.example/x and example.", "example") == vec![23]);
        assert_eq!(fill("{x} Thanks!", "Help me"), "Help me. Thanks!");
        let v = variations("Explain Django middleware", 5, &mut Rng::new(4), &mut HashSet::new(), false);
        assert!(v.iter().all(|v| !v.transforms.contains(&"technology-swap")));
    }

    #[test]
    fn typo_keeps_first_and_last_letters() {
        let mut rng = Rng::new(5);
        for _ in 0..50 {
            let t = typo("explain recursion", &mut rng).unwrap();
            let words: Vec<&str> = t.split(' ').collect();
            assert_eq!(words.len(), 2);
            assert!(words.iter().all(|w| w.starts_with('e') || w.starts_with('r')), "{t}");
            assert!(words[0].ends_with('n') && words[1].ends_with('n'), "{t}");
        }
        assert!(typo("a b c", &mut rng).is_none());
    }

    #[test]
    fn short_prompts_report_a_shortfall_instead_of_duplicating() {
        let mut seen = HashSet::new();
        let v = variations("hi", 500, &mut Rng::new(6), &mut seen, true);
        assert!(v.len() < 500);
        let keys: HashSet<String> = v.iter().map(|x| normalize_text(&x.text)).collect();
        assert_eq!(keys.len(), v.len());
    }
}
