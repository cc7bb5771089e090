//! Canonical text for featurising: undoes the cheap tricks attackers use to hide words from lexical
//! features, so that `ｉｇｎｏｒｅ`, `i\u{200B}gnore`, `іgnоrе` (Cyrillic і, о, е) and `𝐢𝐠𝐧𝐨𝐫𝐞` all read
//! `ignore`.
//!
//! Version 1, in this order (each step a setting of [`NormalizeSpec`], all on by default):
//! 1. **Hidden text**: Unicode tag characters U+E0020..U+E007E (invisible, yet read by language
//!    models: "ASCII smuggling") become the ASCII characters they encode.
//! 2. **Invisible characters** are removed: zero-width spaces and joiners, bidirectional controls, word
//!    joiners and invisible operators, soft hyphens, variation selectors, the remaining tag characters,
//!    fillers; also combining marks stacked on an ASCII letter (the "zalgo" disguise), which NFKC cannot
//!    compose away.
//! 3. **NFKC** (Unicode compatibility composition): full-width forms, mathematical alphanumerics,
//!    circled and squared letters, ligatures, superscripts become plain characters.
//! 4. **Confusables** ([`confusables.txt`](confusables.txt)): Latin letters in other shapes (small
//!    capitals, regional indicators) always fold to plain letters; look-alike letters of other scripts
//!    (Cyrillic `о`, Greek `ο` ...) fold only in a word that also has Latin letters, or in a text whose
//!    letters are mostly Latin, so genuine Cyrillic or Greek text is left as it is.
//! 5. **Lowercase** (full Unicode lowercasing of the whole string, so a final Greek sigma is `ς`).
//! 6. **Whitespace**: every run of Unicode whitespace becomes one space; leading and trailing space go.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;
use unicode_normalization::UnicodeNormalization;

/// The canonicalisation steps (stored in the model file; see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeSpec {
    /// Algorithm version; only 1 exists.
    pub version: u32,
    /// Reveal tag-character text and remove invisible characters (steps 1 and 2).
    pub strip_invisible: bool,
    /// Unicode NFKC (step 3).
    pub nfkc: bool,
    /// Fold confusable letters to Latin (step 4).
    pub fold_confusables: bool,
    /// Lowercase (step 5).
    pub lowercase: bool,
}

impl Default for NormalizeSpec {
    fn default() -> Self {
        NormalizeSpec { version: 1, strip_invisible: true, nfkc: true, fold_confusables: true, lowercase: true }
    }
}

impl NormalizeSpec {
    /// Only lowercasing and whitespace.
    pub fn plain() -> Self {
        NormalizeSpec { version: 1, strip_invisible: false, nfkc: false, fold_confusables: false, lowercase: true }
    }

    /// An error naming the setting when the version is unknown.
    pub fn check(&self) -> Result<()> {
        if self.version != 1 {
            return Err(Error::param("normalize.version", self.version, "only version 1 exists"));
        }
        Ok(())
    }

    /// The canonical form of `text` (see the module docs).
    pub fn apply(&self, text: &str) -> String {
        let mut s: String = if self.strip_invisible { strip_invisible(text) } else { text.to_owned() };
        if self.nfkc && !s.is_ascii() {
            s = s.nfkc().collect();
        }
        if self.fold_confusables && !s.is_ascii() {
            s = fold_confusables(&s);
        }
        if self.lowercase {
            if s.is_ascii() {
                s.make_ascii_lowercase();
            } else {
                s = s.to_lowercase();
            }
        }
        collapse_whitespace(&s)
    }
}

/// Whether `c` is invisible formatting that carries no letters (step 2's list).
fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF
        | 0xFFA0 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// Combining marks that can be stacked on a letter without changing what it reads as.
fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

fn strip_invisible(text: &str) -> String {
    if text.is_ascii() {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut after_ascii_letter = false;
    for c in text.chars() {
        let u = c as u32;
        if (0xE0020..=0xE007E).contains(&u) {
            // Tag characters encode ASCII: reveal the hidden text.
            let revealed = char::from_u32(u - 0xE0000).unwrap_or(' ');
            out.push(revealed);
            after_ascii_letter = revealed.is_ascii_alphabetic();
            continue;
        }
        if is_invisible(c) || (after_ascii_letter && is_combining_mark(c)) {
            continue;
        }
        out.push(c);
        after_ascii_letter = c.is_ascii_alphabetic();
    }
    out
}

/// When a confusable mapping applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Variant,
    Lookalike,
}

fn confusables() -> &'static HashMap<char, (char, Class)> {
    static TABLE: OnceLock<HashMap<char, (char, Class)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        parse_confusables(include_str!("confusables.txt")).unwrap_or_else(|e| panic!("confusables.txt: {e}"))
    })
}

fn code_point(s: &str) -> std::result::Result<u32, String> {
    let hex = s.strip_prefix("U+").ok_or_else(|| format!("`{s}` is not U+XXXX"))?;
    u32::from_str_radix(hex, 16).map_err(|e| format!("`{s}`: {e}"))
}

/// Parse the table format documented at the top of `confusables.txt`.
fn parse_confusables(text: &str) -> std::result::Result<HashMap<char, (char, Class)>, String> {
    let mut map = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let at = |e: String| format!("line {}: {e}", n + 1);
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [from, to, class] = fields[..] else {
            return Err(at(format!("expected `FROM TO CLASS`, got `{line}`")));
        };
        let class = match class {
            "variant" => Class::Variant,
            "lookalike" => Class::Lookalike,
            other => return Err(at(format!("unknown class `{other}`"))),
        };
        let to = match to.as_bytes() {
            [b] if b.is_ascii_lowercase() => *b,
            _ => return Err(at(format!("target `{to}` is not one lowercase ASCII letter"))),
        };
        let (lo, hi) = match from.split_once("..") {
            Some((a, b)) => (code_point(a).map_err(at)?, code_point(b).map_err(at)?),
            None => {
                let c = code_point(from).map_err(at)?;
                (c, c)
            }
        };
        if hi < lo || u32::from(to) + (hi - lo) > u32::from(b'z') {
            return Err(at(format!("range `{from}` does not fit the letters from `{}`", to as char)));
        }
        for (k, u) in (lo..=hi).enumerate() {
            let c = char::from_u32(u).ok_or_else(|| at(format!("U+{u:X} is not a character")))?;
            let target = char::from(to + k as u8);
            if map.insert(c, (target, class)).is_some() {
                return Err(at(format!("U+{u:04X} is listed twice")));
            }
        }
    }
    Ok(map)
}

fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || (matches!(c as u32, 0xC0..=0x24F) && c.is_alphabetic())
}

fn fold_confusables(text: &str) -> String {
    let table = confusables();
    // A text whose letters are mostly Latin gets every look-alike folded; otherwise only words that
    // mix Latin letters with look-alikes do.
    let (mut latin, mut letters) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        latin += usize::from(is_latin_letter(c));
    }
    let latin_text = 2 * latin >= letters;
    let mut out = String::with_capacity(text.len());
    let mut word: Vec<char> = Vec::new();
    let flush = |word: &mut Vec<char>, out: &mut String| {
        // A word that mixes scripts is a disguise; so is a word spelt only in look-alikes inside Latin
        // text ("ехес" in an English sentence). A foreign word with letters of its own stays.
        let mixed = word.iter().any(|&c| is_latin_letter(c))
            || (latin_text && word.iter().all(|c| table.contains_key(c) || !c.is_alphabetic()));
        for &c in word.iter() {
            match table.get(&c) {
                Some(&(to, Class::Variant)) => out.push(to),
                Some(&(to, Class::Lookalike)) if mixed => out.push(to),
                _ => out.push(c),
            }
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphanumeric() || table.contains_key(&c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Every run of Unicode whitespace as one space, no leading or trailing space.
pub fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> String {
        NormalizeSpec::default().apply(s)
    }

    #[test]
    fn the_table_parses_and_every_entry_is_distinct() {
        let t = confusables();
        assert!(t.len() > 150, "{}", t.len());
        assert_eq!(t.get(&'\u{1F1E6}'), Some(&('a', Class::Variant)));
        assert_eq!(t.get(&'\u{1F1FF}'), Some(&('z', Class::Variant)));
    }

    #[test]
    fn table_errors_name_the_line() {
        assert!(parse_confusables("U+0430 a lookalike\nU+0430 b variant\n").unwrap_err().starts_with("line 2:"));
        assert!(parse_confusables("# c\nU+0430 A variant").unwrap_err().contains("line 2: target `A`"));
        assert!(parse_confusables("U+0061..U+0070 x variant").unwrap_err().contains("does not fit"));
    }

    #[test]
    fn disguised_words_read_plainly() {
        for disguised in [
            "Ｉｇｎｏｒｅ ａｌｌ",                        // full-width
            "I\u{200B}g\u{200D}nore\u{2060} all",         // zero-width characters
            "\u{0456}gn\u{043E}r\u{0435} all",            // Cyrillic look-alikes in a Latin word
            "𝐈𝐠𝐧𝐨𝐫𝐞 𝐚𝐥𝐥",                                 // mathematical bold
            "ɪɢɴᴏʀᴇ ᴀʟʟ",                                 // small capitals
            "I\u{0336}g\u{0336}n\u{0336}o\u{0336}re all", // stacked combining marks
            "  IGNORE\t\n ALL ",                          // case and whitespace
        ] {
            assert_eq!(canon(disguised), "ignore all", "{disguised:?}");
        }
    }

    #[test]
    fn tag_characters_reveal_their_hidden_ascii() {
        let hidden: String = "ignore".chars().map(|c| char::from_u32(0xE0000 + c as u32).unwrap()).collect();
        assert_eq!(canon(&format!("hello{hidden}")), "helloignore");
    }

    #[test]
    fn genuine_cyrillic_and_greek_keep_their_letters() {
        assert_eq!(canon("Привет, как дела?"), "привет, как дела?");
        // A final sigma stays final (whole-string lowercasing).
        assert_eq!(canon("ΟΔΟΣ"), "\u{03BF}\u{03B4}\u{03BF}\u{03C2}");
        // A Russian word inside English text keeps its letters too.
        assert_eq!(canon("Translate Привет please"), "translate привет please");
        // Accented Latin letters are letters, not marks to strip.
        assert_eq!(canon("Café NAÏVE"), "café naïve");
    }

    #[test]
    fn lookalikes_fold_in_a_mostly_latin_text_even_in_a_word_of_their_own() {
        // "ехес" written entirely in Cyrillic inside an English sentence.
        assert_eq!(canon("please run \u{0435}\u{0445}\u{0435}\u{0441} now"), "please run exec now");
    }

    #[test]
    fn plain_spec_only_lowercases_and_collapses() {
        assert_eq!(NormalizeSpec::plain().apply("Ｉ  Ab"), "ｉ ab");
    }

    #[test]
    fn unknown_version_is_rejected_by_name() {
        let e = NormalizeSpec { version: 2, ..NormalizeSpec::default() }.check().unwrap_err().to_string();
        assert!(e.contains("`normalize.version`"), "{e}");
    }
}
