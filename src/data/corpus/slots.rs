//! Slot filler tables of the corpus templates: data, in `slots.txt` (compiled in), parsed once. A filler
//! may itself contain `{slot}`s.
//!
//! Format: `[name]` starts slot `name`; each following line is one filler, in order (the generator picks
//! fillers by index); `\n` in a filler is a newline and `\\` a backslash; lines starting with `#` and
//! blank lines are ignored.

use std::collections::HashMap;
use std::sync::OnceLock;

const SLOTS: &str = include_str!("slots.txt");

type Table = HashMap<&'static str, Vec<String>>;

/// The fillers of slot `name`, if it exists.
pub(crate) fn get(name: &str) -> Option<&'static [String]> {
    static TABLE: OnceLock<Table> = OnceLock::new();
    // `parse` only fails on a malformed `slots.txt`, which the unit tests below rule out; an empty table
    // would leave every `{slot}` unfilled, which the corpus tests would catch too.
    TABLE.get_or_init(|| parse(SLOTS).unwrap_or_default()).get(name).map(Vec::as_slice)
}

/// Parse the slot table; an error names the line and what is wrong with it.
fn parse(text: &'static str) -> Result<Table, String> {
    let mut table = Table::new();
    let mut current: Option<&'static str> = None;
    for (i, line) in text.lines().enumerate() {
        let at = i + 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
                return Err(format!("slots.txt:{at}: slot name `{name}` is not [a-z0-9_]+"));
            }
            if table.insert(name, Vec::new()).is_some() {
                return Err(format!("slots.txt:{at}: slot `{name}` is defined twice"));
            }
            current = Some(name);
            continue;
        }
        let Some(name) = current else {
            return Err(format!("slots.txt:{at}: a filler before the first [slot]"));
        };
        if line.trim() != line {
            return Err(format!("slots.txt:{at}: filler with leading or trailing whitespace"));
        }
        let filler = unescape(line).ok_or_else(|| format!("slots.txt:{at}: unknown escape (only \\n and \\\\)"))?;
        table.entry(name).or_default().push(filler);
    }
    if let Some((name, _)) = table.iter().find(|(_, f)| f.is_empty()) {
        return Err(format!("slots.txt: slot `{name}` has no fillers"));
    }
    Ok(table)
}

fn unescape(line: &str) -> Option<String> {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            '\\' => out.push('\\'),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slot_file_parses_with_escapes() {
        let table = parse(SLOTS).expect("slots.txt");
        assert!(table.len() > 100, "{} slots", table.len());
        let lang = get("lang").expect("lang");
        assert_eq!((lang[0].as_str(), lang.len()), ("Python", 18));
        assert!(get("snippet").is_some_and(|f| f.iter().any(|s| s.contains("\n    line = f.readline()"))));
        assert!(get("cmd_payload").is_some_and(|f| f.iter().any(|s| s.contains(r"C:\*"))));
        assert!(get("no_such_slot").is_none());
    }

    #[test]
    fn malformed_tables_are_errors_naming_the_line() {
        assert!(parse("x\n").unwrap_err().contains(":1: a filler before"));
        assert!(parse("[a]\nx\n[a]\ny\n").unwrap_err().contains("defined twice"));
        assert!(parse("[a]\nbad \\t escape\n").unwrap_err().contains("slots.txt:2"));
        assert!(parse("[a]\n[b]\nx\n").unwrap_err().contains("`a` has no fillers"));
        assert!(parse("[A b]\n").is_err());
    }
}
