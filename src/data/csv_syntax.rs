//! The CSV tokenizer of the training files: RFC 4180 records with exact physical line numbers, and
//! strict quoting, so that a quoting mistake is an error at the line where it happened instead of a
//! field that silently swallows the rows after it.
//!
//! Rules (the loader documents them for users in [`super::read_csv`]):
//! - records end at `\n`, `\r\n` or a lone `\r` (each is one physical line break); blank lines are
//!   skipped;
//! - a field that starts with `"` is quoted: it runs to the next `"` not doubled (`""` is a quote), may
//!   span lines, and must be followed by `,`, a line break or the end of the file; anything else after
//!   the closing quote (`"abc"def`) is an error naming its line and column;
//! - a quoted field that is never closed, spans more lines than the limit (`max_field_lines`), or any
//!   field longer than the limit (`max_field_bytes`), is an error at the line and column where the
//!   field opened;
//! - a `"` inside an unquoted field is kept as it is (`say "hi"` is the text `say "hi"`).
//!
//! After an error the caller resynchronises with [`Tokenizer::resync`]: parsing resumes on the physical
//! line after the one where the broken record started, so one mistake costs one row, never the rest
//! of the file.

/// One record's fields as raw bytes (reused from record to record).
#[derive(Debug, Default)]
pub(super) struct RawRecord {
    buf: Vec<u8>,
    ends: Vec<usize>,
    /// 1-based physical line where the record starts.
    pub line: u64,
    /// Physical lines the record spans (at least 1).
    pub lines: u64,
    /// Byte offset where the record starts.
    start: usize,
}

impl RawRecord {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.buf[start..end])
    }

    /// Every field, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
    }
}

/// A record that could not be tokenized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SyntaxError {
    /// 0-based index of the field to blame.
    pub field: usize,
    /// What is wrong and where (line and column), in words.
    pub reason: String,
}

/// What [`Tokenizer::next`] found.
#[derive(Debug)]
pub(super) enum Step {
    /// A record was read into the caller's [`RawRecord`].
    Record,
    /// The record starting at the [`RawRecord`]'s `line` is broken; call [`Tokenizer::resync`].
    Broken(SyntaxError),
    /// No more records.
    End,
}

/// Tokenizes CSV bytes record by record.
pub(super) struct Tokenizer<'a> {
    data: &'a [u8],
    pos: usize,
    /// Physical line of `pos` (1-based).
    line: u64,
    /// Byte offset where line `line` starts (for columns).
    line_start: usize,
    max_field: usize,
    max_lines: u64,
    /// Blank lines skipped so far.
    blank: u64,
}

impl<'a> Tokenizer<'a> {
    /// A tokenizer over `data`; no field may be longer than `max_field` bytes, nor a quoted one span
    /// more than `max_lines` line breaks.
    pub fn new(data: &'a [u8], max_field: usize, max_lines: u64) -> Tokenizer<'a> {
        Tokenizer { data, pos: 0, line: 1, line_start: 0, max_field, max_lines, blank: 0 }
    }

    /// Blank lines skipped so far.
    pub fn blank_lines(&self) -> u64 {
        self.blank
    }

    /// Read the next record into `rec`.
    pub fn next(&mut self, rec: &mut RawRecord) -> Step {
        rec.clear();
        self.skip_blank_lines();
        if self.pos >= self.data.len() {
            return Step::End;
        }
        rec.start = self.pos;
        rec.line = self.line;
        let result = self.record(rec);
        // A record that ended with its line break has moved `line` on already.
        rec.lines = match result {
            Ok(true) => self.line - rec.line,
            _ => self.line - rec.line + 1,
        };
        match result {
            Ok(_) => Step::Record,
            Err(e) => Step::Broken(e),
        }
    }

    /// The raw bytes of the first physical line of `rec` (without its line break).
    pub fn first_line(&self, rec: &RawRecord) -> &'a [u8] {
        let rest = &self.data[rec.start.min(self.data.len())..];
        let end = memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
        &rest[..end]
    }

    /// Continue on the physical line after the first line of `rec` (after a broken record, or one whose
    /// shape shows that a quote went wrong): the rest of the record is parsed again as new records.
    pub fn resync(&mut self, rec: &mut RawRecord) {
        let first = self.first_line(rec);
        let mut at = rec.start + first.len();
        if self.data.get(at) == Some(&b'\r') {
            at += 1;
        }
        if self.data.get(at) == Some(&b'\n') {
            at += 1;
        }
        self.pos = at.min(self.data.len());
        self.line = rec.line + 1;
        self.line_start = self.pos;
        rec.lines = 1;
    }

    fn skip_blank_lines(&mut self) {
        while let Some(&b) = self.data.get(self.pos) {
            match b {
                b'\n' => self.pos += 1,
                b'\r' => {
                    self.pos += 1;
                    if self.data.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                }
                _ => return,
            }
            self.line += 1;
            self.line_start = self.pos;
            self.blank += 1;
        }
    }

    /// 1-based column (in characters) of byte offset `at` on the current line.
    fn column(&self, at: usize) -> usize {
        let from = self.line_start.min(at);
        self.data[from..at].iter().filter(|&&b| b & 0xC0 != 0x80).count() + 1
    }

    /// Count the line breaks in `data[from..to]` and move `line` / `line_start` past them. A `\r`
    /// directly followed by `\n` is one break (counted at the `\n`).
    fn pass_lines(&mut self, from: usize, to: usize) {
        for i in memchr::memchr2_iter(b'\n', b'\r', &self.data[from..to]) {
            let at = from + i;
            if self.data[at] == b'\r' && self.data.get(at + 1) == Some(&b'\n') {
                continue;
            }
            self.line += 1;
            self.line_start = at + 1;
        }
    }

    /// Consume the line break at `pos` (if any) as the end of a record; whether there was one.
    fn end_record(&mut self) -> bool {
        match self.data.get(self.pos) {
            Some(b'\r') => {
                self.pos += 1;
                if self.data.get(self.pos) == Some(&b'\n') {
                    self.pos += 1;
                }
            }
            Some(b'\n') => self.pos += 1,
            _ => return false,
        }
        self.line += 1;
        self.line_start = self.pos;
        true
    }

    /// The fields of one record; whether it ended with a line break (not the end of the file).
    fn record(&mut self, rec: &mut RawRecord) -> Result<bool, SyntaxError> {
        loop {
            let field = rec.ends.len();
            let start = rec.buf.len();
            if self.data.get(self.pos) == Some(&b'"') {
                self.quoted(rec, field, start)?;
            } else {
                let rest = &self.data[self.pos..];
                let end = memchr::memchr3(b',', b'\n', b'\r', rest).unwrap_or(rest.len());
                if end > self.max_field {
                    return Err(SyntaxError {
                        field,
                        reason: format!(
                            "field {} starting at column {} is longer than the limit of {} bytes (max_field_bytes)",
                            field + 1,
                            self.column(self.pos),
                            self.max_field
                        ),
                    });
                }
                rec.buf.extend_from_slice(&rest[..end]);
                self.pos += end;
            }
            rec.ends.push(rec.buf.len());
            match self.data.get(self.pos) {
                Some(b',') => self.pos += 1,
                _ => return Ok(self.end_record()),
            }
        }
    }

    /// A quoted field starting at `pos` (on the opening quote).
    fn quoted(&mut self, rec: &mut RawRecord, field: usize, start: usize) -> Result<(), SyntaxError> {
        let (open_line, open_col) = (self.line, self.column(self.pos));
        let opened = |what: String| SyntaxError {
            field,
            reason: format!("the quoted field {} opened at line {open_line} column {open_col} {what}", field + 1),
        };
        self.pos += 1;
        loop {
            let taken = rec.buf.len() - start;
            // Look no further than the limit allows: an unclosed quote costs bounded work.
            let window_end =
                self.data.len().min(self.pos.saturating_add(self.max_field - taken.min(self.max_field) + 1));
            let window = &self.data[self.pos..window_end];
            let Some(q) = memchr::memchr(b'"', window) else {
                if window_end >= self.data.len() {
                    return Err(opened("is never closed (no closing quote before the end of the file)".into()));
                }
                return Err(opened(format!(
                    "is still open after {} bytes, the limit (max_field_bytes): a closing quote is probably missing",
                    self.max_field
                )));
            };
            if taken + q > self.max_field {
                return Err(opened(format!("is longer than the limit of {} bytes (max_field_bytes)", self.max_field)));
            }
            rec.buf.extend_from_slice(&window[..q]);
            let quote_at = self.pos + q;
            self.pass_lines(self.pos, quote_at);
            if self.line - open_line > self.max_lines {
                return Err(opened(format!(
                    "spans more than {} line breaks, the limit (max_field_lines): a closing quote is probably missing",
                    self.max_lines
                )));
            }
            self.pos = quote_at + 1;
            match self.data.get(self.pos) {
                Some(b'"') => {
                    rec.buf.push(b'"');
                    self.pos += 1;
                }
                None | Some(b',' | b'\n' | b'\r') => return Ok(()),
                Some(_) => {
                    let line = self.line;
                    let col = self.column(self.pos);
                    let shown = shown_char(&self.data[self.pos..]);
                    return Err(opened(format!(
                        "is closed at line {} column {} and followed by {shown} at line {line} column {col} \
                         (after a closing quote only `,` or the end of the line may follow; a quote inside a quoted \
                         field is written twice: \"\")",
                        line,
                        col - 1
                    )));
                }
            }
        }
    }
}

/// The character at the start of `bytes`, quoted for a message, control characters escaped.
fn shown_char(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(4)]);
    match s.chars().next() {
        Some(c) if c.is_control() => format!("`{}`", c.escape_default()),
        Some(c) => format!("`{c}`"),
        None => "nothing".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as (line, lines spanned, fields), or a broken one as (line, reason).
    type Outcome = Result<(u64, u64, Vec<String>), (u64, String)>;

    fn all(data: &[u8]) -> Vec<Outcome> {
        let mut t = Tokenizer::new(data, 64, 3);
        let mut rec = RawRecord::default();
        let mut out = Vec::new();
        loop {
            match t.next(&mut rec) {
                Step::End => return out,
                Step::Record => out.push(Ok((
                    rec.line,
                    rec.lines,
                    rec.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect(),
                ))),
                Step::Broken(e) => {
                    out.push(Err((rec.line, e.reason)));
                    t.resync(&mut rec);
                }
            }
        }
    }

    #[test]
    fn records_fields_and_physical_lines() {
        let got = all(b"a,b\r\n\n\"x\ny\",\"q\"\"q\"\nlast,");
        assert_eq!(
            got,
            vec![
                Ok((1, 1, vec!["a".into(), "b".into()])),
                Ok((3, 2, vec!["x\ny".into(), "q\"q".into()])),
                Ok((5, 1, vec!["last".into(), String::new()])),
            ]
        );
    }

    #[test]
    fn an_unclosed_quote_is_one_broken_record_and_the_next_lines_parse_again() {
        let got = all(b"h,0,\"oops\nrow 1,1,\nrow 2,1,\n");
        assert!(
            matches!(&got[0], Err((1, r)) if r.contains("line 1 column 5") && r.contains("never closed")),
            "{got:?}"
        );
        assert_eq!(got[1], Ok((2, 1, vec!["row 1".into(), "1".into(), String::new()])));
        assert_eq!(got[2], Ok((3, 1, vec!["row 2".into(), "1".into(), String::new()])));
    }

    #[test]
    fn text_after_a_closing_quote_is_an_error_with_line_and_column() {
        let got = all(b"ok,1\n\"abc\"def,1\n");
        assert!(matches!(&got[1], Err((2, r)) if r.contains("followed by `d` at line 2 column 6")), "{got:?}");
    }

    #[test]
    fn a_quote_spanning_too_many_lines_is_an_error() {
        let got = all(b"\"a\nb\nc\nd\ne\",1\nnext,1\n");
        assert!(matches!(&got[0], Err((1, r)) if r.contains("more than 3 line breaks")), "{got:?}");
        assert_eq!(got[1], Ok((2, 1, vec!["b".into()])));
        assert_eq!(got.len(), 6, "b, c, d and `e\",1` are read again, then next: {got:?}");
    }

    #[test]
    fn an_overlong_quote_stops_at_the_limit() {
        let mut data = b"\"".to_vec();
        data.extend(std::iter::repeat_n(b'x', 200));
        data.extend(b"\"\nnext,1\n");
        let got = all(&data);
        assert!(matches!(&got[0], Err((1, r)) if r.contains("still open after 64 bytes")), "{got:?}");
        // The resync lands on the line after the broken one.
        assert_eq!(got[1], Ok((2, 1, vec!["next".into(), "1".into()])));
    }
}
