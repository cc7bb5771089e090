//! User text made safe to print: control characters escaped, so that a note, a category, a source or a
//! prompt cannot move the cursor, recolour or clear the terminal, or fake lines of a table.
//!
//! Escaped: the C0 controls (U+0000-U+001F), DEL, the C1 controls (U+0080-U+009F, among them the 8-bit
//! CSI) and the bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069), written as
//! `\uXXXX`: readable in text and, inside a JSON string, the JSON escape of the same character, so a
//! JSON document stays valid and means the same.

use std::borrow::Cow;
use std::fmt::Write as _;

fn dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escape(s: &str, keep: impl Fn(char) -> bool, short: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| dangerous(c) && !keep(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            c if !dangerous(c) || keep(c) => out.push(c),
            '\n' if short => out.push_str("\\n"),
            '\r' if short => out.push_str("\\r"),
            '\t' if short => out.push_str("\\t"),
            c => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

/// For one cell or line of a table: every control character escaped, line breaks and tabs included
/// (as `\n`, `\r`, `\t`), so the text stays on its line.
pub fn cell(s: &str) -> Cow<'_, str> {
    escape(s, |_| false, true)
}

/// For text written to a terminal as a whole: every control character escaped except line breaks
/// (`\n`) and tabs, which the text's own layout uses.
pub fn terminal(s: &str) -> Cow<'_, str> {
    escape(s, |c| c == '\n' || c == '\t', false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_drives_a_terminal_and_keeps_the_rest() {
        let fake = "ok\n\u{1b}[1Av9    production\u{9b}2J\u{202e}";
        assert_eq!(cell(fake), "ok\\n\\u001b[1Av9    production\\u009b2J\\u202e");
        assert_eq!(terminal(fake), "ok\n\\u001b[1Av9    production\\u009b2J\\u202e");
        assert!(matches!(cell("plain é 文字"), Cow::Borrowed(_)));
        // In a JSON string the escape is the JSON escape of the same character.
        let json = serde_json::to_string("a\u{9b}b").unwrap();
        let back: String = serde_json::from_str(&terminal(&json)).unwrap();
        assert_eq!(back, "a\u{9b}b");
    }
}
