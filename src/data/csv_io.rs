//! Reading and writing the training CSV schema, with per-row validation.
//!
//! Files are read whole into memory and tokenized as bytes ([`super::csv_syntax`]), so that invalid
//! UTF-8 is reported per field (file, line, column) instead of aborting the whole read, and a quoting
//! mistake costs the one row it is in.

use super::csv_syntax::{RawRecord, Step, Tokenizer};
use super::{LineTally, LoadOptions, Loaded, Record, Reject, Severity, BENIGN, COLUMNS, MALICIOUS};
use crate::error::{Error, Result, RowError};
use std::path::Path;

/// How many row errors an [`Error::InvalidRows`] keeps (the total is always exact).
const MAX_KEPT_ERRORS: usize = 1000;

/// Column positions of a file's header; `None` for an optional column that is absent.
struct Columns {
    text: usize,
    label: usize,
    family: Option<usize>,
    category: Option<usize>,
    severity: Option<usize>,
    confidence: Option<usize>,
    source: Option<usize>,
    notes: Option<usize>,
    group: Option<usize>,
    /// Number of header fields; every record must have exactly this many.
    width: usize,
    /// Header names by position (for naming the field of a NUL / UTF-8 error in any column).
    names: Vec<String>,
}

impl Columns {
    fn from_header(file: &str, header: &RawRecord) -> Result<Columns> {
        let line = header.line;
        let mut names = Vec::with_capacity(header.len());
        for (i, raw) in header.iter().enumerate() {
            let name = std::str::from_utf8(raw).map_err(|_| {
                Error::InvalidData(format!("{file}:{line}: header column {} is not valid UTF-8", i + 1))
            })?;
            names.push(name.trim().to_ascii_lowercase());
        }
        let find = |col: &str| -> Result<Option<usize>> {
            let mut hits = names.iter().enumerate().filter(|(_, n)| n.as_str() == col).map(|(i, _)| i);
            let first = hits.next();
            if let Some(second) = hits.next() {
                return Err(Error::InvalidData(format!(
                    "{file}:{line}: column `{col}` appears twice (columns {} and {})",
                    first.map_or(0, |f| f + 1),
                    second + 1
                )));
            }
            Ok(first)
        };
        let required = |col: &str| -> Result<usize> {
            find(col)?.ok_or_else(|| {
                Error::InvalidData(format!(
                    "{file}: missing required column `{col}` (header has: {}; expected columns: {})",
                    if names.is_empty() { "nothing".to_string() } else { names.join(",") },
                    COLUMNS.join(",")
                ))
            })
        };
        Ok(Columns {
            text: required("text")?,
            label: required("label")?,
            family: find("family")?,
            category: find("category")?,
            severity: find("severity")?,
            confidence: find("confidence")?,
            source: find("source")?,
            notes: find("notes")?,
            group: find("group")?,
            width: header.len(),
            names,
        })
    }
}

/// Read one CSV file in the training schema (see [`super::read_csv`]).
pub(super) fn read_csv(path: &Path, opts: &LoadOptions) -> Result<Loaded> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    let file = path.display().to_string();
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| file.clone());
    parse_bytes(&bytes, &file, &stem, opts)
}

/// Parse CSV bytes; `file` names the input in errors, `stem` is the default `source`.
pub(super) fn parse_bytes(bytes: &[u8], file: &str, stem: &str, opts: &LoadOptions) -> Result<Loaded> {
    if opts.max_field_bytes == 0 {
        return Err(Error::param("max_field_bytes", 0, "must be at least 1"));
    }
    let data = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut tok = Tokenizer::new(data, opts.max_field_bytes, opts.max_field_lines);
    let mut row = RawRecord::default();
    match tok.next(&mut row) {
        Step::End => {
            return Err(Error::InvalidData(format!(
                "{file}: empty file (expected a header with at least `text,label`)"
            )))
        }
        Step::Broken(e) => return Err(Error::InvalidData(format!("{file}:{}: header: {}", row.line, e.reason))),
        Step::Record => {}
    }
    let cols = Columns::from_header(file, &row)?;
    let mut loaded = Loaded::default();
    let mut lines = LineTally { header: row.lines, ..LineTally::default() };
    loop {
        match tok.next(&mut row) {
            Step::End => break,
            Step::Broken(e) => {
                let field = cols.names.get(e.field).cloned();
                loaded.rejects.push(Reject {
                    error: RowError { file: file.to_string(), line: row.line, field, reason: e.reason },
                    text: String::from_utf8_lossy(tok.first_line(&row)).into_owned(),
                });
                tok.resync(&mut row);
                lines.rejected += 1;
            }
            Step::Record if row.len() != cols.width && row.lines > 1 => {
                // A record of the wrong shape that spans lines is what a misplaced quote makes: its
                // first line is the reject, and the lines after it are read again as rows.
                let reason = format!(
                    "expected {} fields (as in the header), found {} in a record spanning lines {}-{}: a quote is \
                     probably misplaced; the lines after this one are read again as rows",
                    cols.width,
                    row.len(),
                    row.line,
                    row.line + row.lines - 1
                );
                loaded.rejects.push(Reject {
                    error: RowError { file: file.to_string(), line: row.line, field: None, reason },
                    text: String::from_utf8_lossy(tok.first_line(&row)).into_owned(),
                });
                tok.resync(&mut row);
                lines.rejected += 1;
            }
            Step::Record => match parse_row(&row, &cols, file, stem, row.line) {
                Ok(record) => {
                    loaded.records.push(record);
                    lines.rows += row.lines;
                }
                Err(reject) => {
                    loaded.rejects.push(reject);
                    lines.rejected += row.lines;
                }
            },
        }
    }
    lines.blank = tok.blank_lines();
    lines.total = lines.header + lines.rows + lines.rejected + lines.blank;
    loaded.lines = lines;
    if !opts.skip_invalid && !loaded.rejects.is_empty() {
        return Err(rows_error(&loaded.rejects));
    }
    Ok(loaded)
}

/// The [`Error::InvalidRows`] for a list of rejects (the first [`MAX_KEPT_ERRORS`], with the total).
pub(super) fn rows_error(rejects: &[Reject]) -> Error {
    Error::InvalidRows {
        errors: rejects.iter().take(MAX_KEPT_ERRORS).map(|r| r.error.clone()).collect(),
        total: rejects.len(),
    }
}

fn parse_row(row: &RawRecord, cols: &Columns, file: &str, stem: &str, line: u64) -> Result<Record, Reject> {
    let text_lossy = || row.get(cols.text).map(|t| String::from_utf8_lossy(t).into_owned()).unwrap_or_default();
    let fail = |field: Option<&str>, reason: String| Reject {
        error: RowError { file: file.to_string(), line, field: field.map(str::to_string), reason },
        text: text_lossy(),
    };
    if row.len() != cols.width {
        return Err(fail(None, format!("expected {} fields (as in the header), found {}", cols.width, row.len())));
    }
    // Every column is checked for NUL and UTF-8, extra ones too: a broken byte anywhere means the row
    // was not written as intended.
    let mut fields: Vec<&str> = Vec::with_capacity(row.len());
    for (i, raw) in row.iter().enumerate() {
        let name = cols.names[i].as_str();
        if let Some(pos) = raw.iter().position(|&b| b == 0) {
            return Err(fail(Some(name), format!("contains a NUL byte at byte offset {pos}")));
        }
        match std::str::from_utf8(raw) {
            Ok(s) => fields.push(s),
            Err(e) => {
                return Err(fail(Some(name), format!("invalid UTF-8 at byte offset {}", e.valid_up_to())));
            }
        }
    }
    let get = |idx: Option<usize>| idx.map(|i| fields[i].trim()).filter(|s| !s.is_empty());

    let text = fields[cols.text];
    if text.trim().is_empty() {
        return Err(fail(Some("text"), "empty text".to_string()));
    }
    let label = match fields[cols.label].trim() {
        "0" => BENIGN,
        "1" => MALICIOUS,
        other => return Err(fail(Some("label"), format!("must be 0 or 1, got `{}`", shorten(other)))),
    };
    let mut record = Record::new(text, label);
    if let Some(family) = get(cols.family) {
        record.family = family.to_string();
    }
    if let Some(category) = get(cols.category) {
        record.category = category.to_string();
    }
    if let Some(severity) = get(cols.severity) {
        record.severity = severity.parse::<Severity>().map_err(|reason| fail(Some("severity"), reason))?;
    }
    if let Some(confidence) = get(cols.confidence) {
        match confidence.parse::<f32>() {
            Ok(c) if (0.0..=1.0).contains(&c) => record.confidence = c,
            _ => {
                return Err(fail(
                    Some("confidence"),
                    format!("must be a number in [0, 1], got `{}`", shorten(confidence)),
                ))
            }
        }
    }
    record.source = get(cols.source).unwrap_or(stem).to_string();
    if let Some(notes) = get(cols.notes) {
        record.notes = notes.to_string();
    }
    record.group = get(cols.group).map(str::to_string);
    record.origin = super::Origin { file: file.to_string(), line };
    Ok(record)
}

/// A value quoted in an error message, cut to a readable length, control characters escaped.
fn shorten(s: &str) -> String {
    const MAX: usize = 40;
    let cut = match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    };
    crate::printable::cell(&cut).into_owned()
}

fn create(path: &Path) -> Result<csv::Writer<std::io::BufWriter<std::fs::File>>> {
    let f = std::fs::File::create(path).map_err(|e| Error::io("creating", path, e))?;
    Ok(csv::WriterBuilder::new().from_writer(std::io::BufWriter::new(f)))
}

fn csv_err(path: &Path, e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("writing", path, io),
        other => Error::io("writing", path, std::io::Error::other(format!("{other:?}"))),
    }
}

/// Write records in the canonical schema (see [`super::write_csv`]).
pub(super) fn write_csv(path: &Path, records: &[Record]) -> Result<()> {
    let with_group = records.iter().any(|r| r.group.is_some());
    let mut w = create(path)?;
    let mut header: Vec<&str> = COLUMNS.to_vec();
    if with_group {
        header.push("group");
    }
    w.write_record(&header).map_err(|e| csv_err(path, e))?;
    for r in records {
        let confidence = r.confidence.to_string();
        let label = r.label.to_string();
        let mut fields = vec![
            r.text.as_str(),
            label.as_str(),
            r.family.as_str(),
            r.category.as_str(),
            r.severity.as_str(),
            confidence.as_str(),
            r.source.as_str(),
            r.notes.as_str(),
        ];
        if with_group {
            fields.push(r.group.as_deref().unwrap_or(""));
        }
        w.write_record(&fields).map_err(|e| csv_err(path, e))?;
    }
    w.flush().map_err(|e| Error::io("writing", path, e))
}

/// Write rejects as `file,line,field,reason,text` (see [`super::write_rejects`]).
pub(super) fn write_rejects(path: &Path, rejects: &[Reject]) -> Result<()> {
    let mut w = create(path)?;
    w.write_record(["file", "line", "field", "reason", "text"]).map_err(|e| csv_err(path, e))?;
    for r in rejects {
        let line = r.error.line.to_string();
        w.write_record([
            r.error.file.as_str(),
            line.as_str(),
            r.error.field.as_deref().unwrap_or(""),
            r.error.reason.as_str(),
            r.text.as_str(),
        ])
        .map_err(|e| csv_err(path, e))?;
    }
    w.flush().map_err(|e| Error::io("writing", path, e))
}
