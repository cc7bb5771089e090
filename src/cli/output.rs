//! Everything the `l2` command prints goes through here ([`outln!`], [`out!`], [`warnln!`]), never
//! through `println!`, which panics when stdout is a closed pipe or a full disk.
//!
//! Writing to stdout cannot fail the statement that prints: the first error is kept (sticky, like a C
//! stream's error flag), later output is dropped, and [`finish`] turns it into the command's result
//! once it returns: a closed pipe (`l2 stats big.csv | head -1`) ends the command quietly with exit
//! code 4, any other error (`> /dev/full`) is reported as an I/O error (exit 4). Warnings go to stderr
//! the same way, with errors ignored. Text is escaped with [`crate::printable::terminal`] on the way
//! out, so no control character of user text reaches the terminal.

use crate::error::{Error, Result};
use std::io::Write;
use std::sync::Mutex;

/// The first error writing stdout, kept until [`finish`].
static STDOUT_ERROR: Mutex<Option<std::io::Error>> = Mutex::new(None);

fn failed() -> bool {
    STDOUT_ERROR.lock().map_or(true, |e| e.is_some())
}

fn keep(e: std::io::Error) {
    if let Ok(mut slot) = STDOUT_ERROR.lock() {
        slot.get_or_insert(e);
    }
}

/// Write `args` (and a line break when `newline`) to stdout; see the module docs.
pub fn write(args: std::fmt::Arguments<'_>, newline: bool) {
    if failed() {
        return;
    }
    let text = args.to_string();
    let safe = crate::printable::terminal(&text);
    let mut out = std::io::stdout().lock();
    let written = out.write_all(safe.as_bytes()).and_then(|()| if newline { out.write_all(b"\n") } else { Ok(()) });
    if let Err(e) = written {
        keep(e);
    }
}

/// Write `args` and a line break to stderr, escaped; errors are ignored (there is nowhere left to
/// report them).
pub fn warn(args: std::fmt::Arguments<'_>) {
    let text = args.to_string();
    let _ = writeln!(std::io::stderr().lock(), "{}", crate::printable::terminal(&text));
}

/// Flush stdout and hand back the first error writing it, as [`Error::Io`] on `<stdout>`.
pub fn finish() -> Result<()> {
    if !failed() {
        if let Err(e) = std::io::stdout().lock().flush() {
            keep(e);
        }
    }
    match STDOUT_ERROR.lock().ok().and_then(|mut e| e.take()) {
        Some(e) => Err(Error::io("writing", "<stdout>", e)),
        None => Ok(()),
    }
}

/// Whether `e` is stdout having been closed by its reader (a broken pipe): the command ends quietly.
pub fn is_closed_stdout(e: &Error) -> bool {
    matches!(e, Error::Io { path, source, .. }
        if path.as_os_str() == "<stdout>" && source.kind() == std::io::ErrorKind::BrokenPipe)
}

/// `println!` for the `l2` command: see [`crate::cli::output`].
macro_rules! outln {
    () => { $crate::cli::output::write(format_args!(""), true) };
    ($($arg:tt)*) => { $crate::cli::output::write(format_args!($($arg)*), true) };
}

/// `print!` for the `l2` command: see [`crate::cli::output`].
macro_rules! out {
    ($($arg:tt)*) => { $crate::cli::output::write(format_args!($($arg)*), false) };
}

/// `eprintln!` for the `l2` command: see [`crate::cli::output`].
macro_rules! warnln {
    ($($arg:tt)*) => { $crate::cli::output::warn(format_args!($($arg)*)) };
}
