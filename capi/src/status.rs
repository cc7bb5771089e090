//! `l2_status`: the result code of every fallible call, its fixed text, and the one place where engine
//! errors become codes.

use crate::buffer::copy_text_out;
use l2core::{Error, ErrorKind};
use std::ffi::c_char;

/// Result of every fallible libl2 call.
///
/// The numbers are part of the ABI: a code never changes its number and a number is never reused; new
/// codes are only appended. `L2_STATUS_OK` (0) is the only success. On any other code the call wrote none
/// of its outputs (except the documented `out_n` of `L2_STATUS_BUFFER_TOO_SMALL`), and
/// `l2_last_error_message` returns the detail (which argument, file, line, field) on the calling thread.
#[allow(non_camel_case_types)]
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum l2_status {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullParameter = 1,
    /// A text argument was not valid UTF-8.
    InvalidUtf8 = 2,
    /// An embedding matrix, array or output has the wrong dimensions (e.g. `dims` differs from the model's).
    WrongDims = 3,
    /// A caller-provided output buffer is too small; `*out_n` holds the required size.
    BufferTooSmall = 4,
    /// Reading or writing a file failed (missing file, permission ...).
    Io = 5,
    /// Input data (CSV rows, texts) is invalid.
    InvalidData = 6,
    /// A setting is out of range or inconsistent.
    InvalidParam = 7,
    /// Model bytes or a model file are corrupt, truncated or of an unknown format.
    ModelCorrupt = 8,
    /// The model's embedder could not be built or run.
    Embedder = 9,
    /// Training could not proceed.
    Training = 10,
    /// The progress callback asked to stop (returned nonzero).
    Cancelled = 11,
    /// A parity or release-gate check failed.
    CheckFailed = 12,
    /// The model registry is inconsistent or an entry is missing.
    Registry = 13,
    /// A JSON argument could not be parsed, or a value could not be rendered as JSON.
    InvalidJson = 14,
    /// An error the other codes do not describe.
    Other = 15,
    /// libl2 panicked (a bug in libl2); the call had no effect. Please report it with the message.
    Panic = 16,
}

/// Every code with its fixed message, in number order (the message table of `l2_status_message`).
const MESSAGES: &[(l2_status, &str)] = &[
    (l2_status::Ok, "ok"),
    (l2_status::NullParameter, "a required pointer argument was NULL"),
    (l2_status::InvalidUtf8, "text is not valid UTF-8"),
    (l2_status::WrongDims, "wrong dimensions"),
    (l2_status::BufferTooSmall, "output buffer too small"),
    (l2_status::Io, "I/O error"),
    (l2_status::InvalidData, "invalid data"),
    (l2_status::InvalidParam, "invalid setting"),
    (l2_status::ModelCorrupt, "model is corrupt or invalid"),
    (l2_status::Embedder, "embedder error"),
    (l2_status::Training, "training failed"),
    (l2_status::Cancelled, "cancelled by the caller"),
    (l2_status::CheckFailed, "check failed"),
    (l2_status::Registry, "registry error"),
    (l2_status::InvalidJson, "invalid JSON"),
    (l2_status::Other, "error"),
    (l2_status::Panic, "internal panic in libl2 (a bug; please report it)"),
];

impl l2_status {
    /// The fixed message of a code number, `None` for numbers that are no code.
    pub fn message_of(code: u32) -> Option<&'static str> {
        MESSAGES.iter().find(|(s, _)| *s as u32 == code).map(|(_, m)| *m)
    }
}

/// The status an engine error maps to: the one place where this mapping lives.
pub fn status_of(e: &Error) -> l2_status {
    // Variants first where the C API distinguishes more than the coarse kind does.
    match e {
        Error::Cancelled => return l2_status::Cancelled,
        Error::Json { .. } => return l2_status::InvalidJson,
        _ => {}
    }
    match e.kind() {
        ErrorKind::Io => l2_status::Io,
        ErrorKind::InvalidData => l2_status::InvalidData,
        ErrorKind::InvalidParam => l2_status::InvalidParam,
        ErrorKind::Shape => l2_status::WrongDims,
        ErrorKind::Model => l2_status::ModelCorrupt,
        ErrorKind::Embedder => l2_status::Embedder,
        ErrorKind::Training => l2_status::Training,
        ErrorKind::Check => l2_status::CheckFailed,
        ErrorKind::Registry => l2_status::Registry,
        _ => l2_status::Other,
    }
}

/// Copy the fixed message of status `code` (any number; unknown numbers get "unknown status code N")
/// into `buf` as a NUL-terminated string.
///
/// `len` is the size of `buf` in bytes. On `L2_STATUS_OK`, `*out_n` is the message length without the
/// NUL. When `len` is too small, nothing is written to `buf`, the call returns
/// `L2_STATUS_BUFFER_TOO_SMALL` and `*out_n` is the size `buf` needs (length + 1). Thread-safe.
#[no_mangle]
pub extern "C" fn l2_status_message(code: u32, buf: *mut c_char, len: usize, out_n: *mut usize) -> l2_status {
    crate::ffi_boundary!({
        let unknown;
        let text = match l2_status::message_of(code) {
            Some(m) => m,
            None => {
                unknown = format!("unknown status code {code}");
                unknown.as_str()
            }
        };
        // SAFETY: C contract: `buf` writable for `len` bytes, `out_n` for one size_t.
        unsafe { copy_text_out(text, buf, len, out_n) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dense_unique_and_each_has_a_message() {
        for (i, (s, m)) in MESSAGES.iter().enumerate() {
            assert_eq!(*s as u32, i as u32, "message table out of order at {s:?}");
            assert!(!m.is_empty());
        }
        assert_eq!(l2_status::message_of(l2_status::Panic as u32), Some(MESSAGES[16].1));
        assert_eq!(l2_status::message_of(9999), None);
    }

    #[test]
    fn errors_map_to_their_codes() {
        assert_eq!(status_of(&Error::Cancelled), l2_status::Cancelled);
        assert_eq!(status_of(&Error::shape("x", 1, 2)), l2_status::WrongDims);
        assert_eq!(status_of(&Error::model("m", "bad")), l2_status::ModelCorrupt);
        assert_eq!(status_of(&Error::param("epochs", 0, "must be > 0")), l2_status::InvalidParam);
        assert_eq!(status_of(&Error::Training("diverged".into())), l2_status::Training);
        let io = Error::io("reading", "/nope", std::io::Error::from(std::io::ErrorKind::NotFound));
        assert_eq!(status_of(&io), l2_status::Io);
        let json = serde_json::from_str::<u32>("x").unwrap_err();
        assert_eq!(status_of(&Error::json("config", json)), l2_status::InvalidJson);
    }
}
