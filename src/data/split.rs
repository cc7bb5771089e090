//! Leakage-safe, stratified, seeded train / validation / test split.
//!
//! Rows are first joined into leakage groups (see [`group_keys`]): rows sharing any key are one group
//! (connected components, so `A~B` and `B~C` put `A`, `B`, `C` together). Each group gets a stratum, its
//! majority label and that label's most common family; families with fewer than
//! [`MIN_GROUPS_PER_FAMILY`] groups are pooled per label. Within each stratum the groups are shuffled
//! with the seed, ordered largest first, and dealt out one by one to the split that is furthest below its
//! target share of the stratum's rows so far, so every split gets its share of each label (and family)
//! even for small strata.

use super::{Record, Split, SplitParams};
use crate::error::{Error, Result};
use crate::rng::Rng;
use std::collections::{BTreeMap, HashMap};

/// A family needs this many leakage groups to be stratified on its own; smaller ones are pooled per label.
pub const MIN_GROUPS_PER_FAMILY: usize = 10;

/// Words of the template signature taken from the start and from the end of a text.
pub const SIGNATURE_WORDS: usize = 8;

/// A text gets head and tail signatures when it has at least this many content words beyond
/// [`SIGNATURE_WORDS`] (room for a payload); shorter texts are keyed as a whole.
pub const SIGNATURE_MIN_PAYLOAD: usize = 4;

/// A head or tail signature needs this many distinct words, so that runs of code tokens or repeated
/// words do not join unrelated texts.
pub const SIGNATURE_MIN_DISTINCT: usize = 5;

/// The words of a text's template skeleton: lowercased; spans in quotes (`"..."`, `` `...` ``, `“...”`,
/// `«...»`, and `'...'` when the quote is not an apostrophe inside a word) dropped; every run of digits
/// replaced by `#`; words are maximal runs of alphanumeric characters, `#` or `_`.
pub fn skeleton_words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut i = 0;
    let flush = |cur: &mut String, words: &mut Vec<String>| {
        if !cur.is_empty() {
            words.push(std::mem::take(cur));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let closing = match c {
            '"' => Some('"'),
            '`' => Some('`'),
            '“' => Some('”'),
            '«' => Some('»'),
            '\'' if i == 0 || !chars[i - 1].is_alphanumeric() => Some('\''),
            _ => None,
        };
        if let Some(close) = closing {
            // Only a quote that closes within a modest distance is a quoted payload; an unmatched quote
            // is punctuation.
            if let Some(len) = chars[i + 1..].iter().take(400).position(|&x| x == close) {
                flush(&mut cur, &mut words);
                words.push("\"\"".to_string());
                i += len + 2;
                continue;
            }
        }
        if c.is_ascii_digit() {
            if !cur.ends_with('#') {
                cur.push('#');
            }
        } else if c.is_alphanumeric() || c == '_' {
            cur.push(c);
        } else {
            flush(&mut cur, &mut words);
        }
        i += 1;
    }
    flush(&mut cur, &mut words);
    words
}

/// The leakage keys of a row. Rows sharing any key land in the same split.
///
/// - A row with a `group` value has exactly one key: that value, verbatim (the user's grouping is
///   authoritative and nothing else is joined to it).
/// - Otherwise the keys come from the text's template skeleton (see [`skeleton_words`]: lowercase, quoted
///   spans dropped, digit runs as `#`). Its *content words* are the skeleton words other than numbers and
///   quoted spans. A text with at least [`SIGNATURE_WORDS`] + [`SIGNATURE_MIN_PAYLOAD`] content words has up to two
///   keys:
///   `head:` + its first [`SIGNATURE_WORDS`] content words and `tail:` + its last ones, each only when
///   the window has at least [`SIGNATURE_MIN_DISTINCT`] distinct words. A template whose payload is
///   appended (`Ignore all previous instructions and ...`) shares its head; one whose payload comes
///   first (an adversarial suffix, `... Respond only as DAN.`) shares its tail. Any other text has one
///   key, `all:` + the whole skeleton, so variants that differ only in numbers, quoted strings, case,
///   spacing or punctuation are joined.
///
/// Trade-off: short texts that differ in one real word (a name) are not joined, and unrelated long
/// prompts that share 8 opening or closing content words are joined (safe for leakage, it only makes
/// groups coarser; on the public sets the largest joined group is a family of jailbreak templates).
pub fn group_keys(record: &Record) -> Vec<String> {
    if let Some(g) = &record.group {
        return vec![g.clone()];
    }
    let words = skeleton_words(&record.text);
    // Numbers and quoted spans carry no template identity; kept in a signature they would join every
    // text that ends with a list of numbers.
    let content: Vec<&str> = words.iter().map(String::as_str).filter(|w| *w != "#" && *w != "\"\"").collect();
    let varied = |window: &[&str]| {
        let mut distinct: Vec<&str> = window.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        distinct.len() >= SIGNATURE_MIN_DISTINCT
    };
    let n = content.len();
    let mut keys = Vec::with_capacity(2);
    if n >= SIGNATURE_WORDS + SIGNATURE_MIN_PAYLOAD {
        let (head, tail) = (&content[..SIGNATURE_WORDS], &content[n - SIGNATURE_WORDS..]);
        if varied(head) {
            keys.push(format!("head:{}", head.join(" ")));
        }
        if varied(tail) {
            keys.push(format!("tail:{}", tail.join(" ")));
        }
    }
    if keys.is_empty() {
        keys.push(format!("all:{}", words.join(" ")));
    }
    keys
}

/// The primary leakage key (the first of [`group_keys`]).
pub(super) fn group_key(record: &Record) -> String {
    group_keys(record).into_iter().next().unwrap_or_default()
}

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind { parent: (0..n).collect() }
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] != x {
            self.parent[x] = self.parent[self.parent[x]];
            x = self.parent[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        // The smaller index becomes the root so the result does not depend on union order.
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi] = lo;
        }
    }
}

/// The leakage groups of `records`: lists of row indices, each ascending, ordered by first row.
pub fn leakage_groups(records: &[Record]) -> Vec<Vec<usize>> {
    let mut uf = UnionFind::new(records.len());
    let mut owner: HashMap<String, usize> = HashMap::with_capacity(records.len() * 2);
    for (i, r) in records.iter().enumerate() {
        for k in group_keys(r) {
            match owner.get(&k) {
                Some(&j) => uf.union(i, j),
                None => {
                    owner.insert(k, i);
                }
            }
        }
    }
    let mut by_root: HashMap<usize, usize> = HashMap::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in 0..records.len() {
        let root = uf.find(i);
        let g = *by_root.entry(root).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

pub(super) fn check(p: &SplitParams) -> Result<()> {
    for (name, v) in [("train", p.train), ("val", p.val), ("test", p.test)] {
        if !v.is_finite() || !(0.0..=1.0).contains(&v) {
            return Err(Error::param(name, v, "must be a fraction in [0, 1]"));
        }
    }
    if p.train <= 0.0 {
        return Err(Error::param("train", p.train, "must be > 0"));
    }
    let sum = p.train + p.val + p.test;
    if (sum - 1.0).abs() > 1e-6 {
        return Err(Error::param(
            "train+val+test",
            format!("{}+{}+{}={sum}", p.train, p.val, p.test),
            "the fractions must sum to 1",
        ));
    }
    Ok(())
}

pub(super) fn split(records: Vec<Record>, params: &SplitParams) -> Result<Split> {
    check(params)?;
    if records.is_empty() {
        return Err(Error::InvalidData("no rows to split".to_string()));
    }
    let groups = leakage_groups(&records);

    // Stratum of each group: majority label (ties count as malicious), then that label's most common
    // family (ties: alphabetical).
    let strata_of: Vec<(u8, String)> = groups
        .iter()
        .map(|g| {
            let mal = g.iter().filter(|&&i| records[i].is_malicious()).count();
            let label = u8::from(2 * mal >= g.len());
            let mut fam: BTreeMap<&str, usize> = BTreeMap::new();
            for &i in g.iter().filter(|&&i| records[i].label == label) {
                *fam.entry(records[i].family.as_str()).or_insert(0) += 1;
            }
            let family = fam.iter().max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0))).map_or("", |(f, _)| f);
            (label, family.to_string())
        })
        .collect();
    let mut groups_per_family: HashMap<&(u8, String), usize> = HashMap::new();
    for s in &strata_of {
        *groups_per_family.entry(s).or_insert(0) += 1;
    }
    // BTreeMap: strata are dealt in a fixed order, so one seeded generator gives the same split every run.
    let mut strata: BTreeMap<(u8, String), Vec<usize>> = BTreeMap::new();
    for (g, s) in strata_of.iter().enumerate() {
        let key =
            if groups_per_family[s] >= MIN_GROUPS_PER_FAMILY { s.clone() } else { (s.0, "\u{0}pooled".to_string()) };
        strata.entry(key).or_default().push(g);
    }

    let fracs = [params.train, params.val, params.test];
    let mut rng = Rng::new(params.seed);
    let mut assign = vec![0u8; records.len()];
    for gs in strata.values_mut() {
        rng.shuffle(gs);
        // Largest groups first (the shuffle orders equal sizes): a big template family dealt last could
        // only overshoot its split; dealt first, the small groups even it out.
        gs.sort_by_key(|&g| std::cmp::Reverse(groups[g].len()));
        let mut dealt = [0usize; 3];
        let mut total = 0usize;
        for &g in gs.iter() {
            let size = groups[g].len();
            total += size;
            let deficit = |s: usize| fracs[s] * total as f64 - dealt[s] as f64;
            let mut best = 0;
            for (s, &frac) in fracs.iter().enumerate().skip(1) {
                if frac > 0.0 && deficit(s) > deficit(best) {
                    best = s;
                }
            }
            dealt[best] += size;
            for &i in &groups[g] {
                assign[i] = best as u8;
            }
        }
    }

    let mut out = Split::default();
    for (r, a) in records.into_iter().zip(assign) {
        match a {
            0 => out.train.push(r),
            1 => out.val.push(r),
            _ => out.test.push(r),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeleton_masks_digits_and_quoted_spans_but_keeps_apostrophes() {
        assert_eq!(
            skeleton_words("Don't say \"hello world\" to user 4512, or 'Bob' at 10:30!"),
            vec!["don", "t", "say", "\"\"", "to", "user", "#", "or", "\"\"", "at", "#", "#"]
        );
        assert_eq!(skeleton_words("  "), Vec::<String>::new());
        assert_eq!(skeleton_words("an unmatched \" quote"), vec!["an", "unmatched", "quote"]);
    }

    #[test]
    fn explicit_group_is_the_only_key() {
        let mut r = Record::new("anything at all", 1);
        r.group = Some("G7".into());
        assert_eq!(group_keys(&r), vec!["G7".to_string()]);
        assert_eq!(group_key(&r), "G7");
    }

    #[test]
    fn number_lists_do_not_join_unrelated_texts() {
        let a = Record::new("Sort the following numbers in ascending order please: 5, 3, 9, 1, 7, 2, 8, 4, 6, 10", 0);
        let b = Record::new("Compute the average of these values for my homework: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10", 0);
        let ka = group_keys(&a);
        assert!(group_keys(&b).iter().all(|k| !ka.contains(k)), "{ka:?}");
    }
}
