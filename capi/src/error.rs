//! The thread-local last-error detail and the internal failure type every entry point returns through.

use crate::buffer::copy_text;
use crate::status::{l2_status, status_of};
use std::cell::RefCell;
use std::ffi::c_char;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Remember `message` as the calling thread's last error detail.
pub(crate) fn set_last_error(message: String) {
    LAST_ERROR.with(|m| *m.borrow_mut() = message);
}

/// Why an entry point failed: the status to return; the detail is already stored by the constructor.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) l2_status);

/// The result type of entry point bodies.
pub(crate) type CResult<T> = Result<T, Failure>;

/// A failure with `status` and detail `message`.
pub(crate) fn fail(status: l2_status, message: impl Into<String>) -> Failure {
    set_last_error(message.into());
    Failure(status)
}

impl From<l2core::Error> for Failure {
    fn from(e: l2core::Error) -> Failure {
        fail(status_of(&e), e.to_string())
    }
}

/// Copy the detail of the most recent failed call on the calling thread (which argument, file, line,
/// field ...) into `buf` as a NUL-terminated string; the empty string when no call on this thread has
/// failed yet. A later failure replaces it; successful calls leave it alone.
///
/// Conventions as `l2_status_message`: `len` is the size of `buf`; on `L2_STATUS_OK` `*out_n` is the
/// length without the NUL; on `L2_STATUS_BUFFER_TOO_SMALL` nothing is written to `buf` and `*out_n` is the
/// size `buf` needs. This call never replaces the stored detail, so it can be retried with a larger
/// buffer.
#[no_mangle]
pub extern "C" fn l2_last_error_message(buf: *mut c_char, len: usize, out_n: *mut usize) -> l2_status {
    let r = std::panic::catch_unwind(|| {
        LAST_ERROR.with(|m| match unsafe { copy_text(&m.borrow(), buf, len, out_n) } {
            Ok(()) => l2_status::Ok,
            Err(s) => s,
        })
    });
    r.unwrap_or(l2_status::Panic)
}

/// The status of a finished entry point body (see `ffi_boundary!`).
pub(crate) fn finish(r: std::thread::Result<CResult<()>>) -> l2_status {
    match r {
        Ok(Ok(())) => l2_status::Ok,
        Ok(Err(Failure(s))) => s,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_string());
            set_last_error(format!("libl2 panicked: {what}"));
            l2_status::Panic
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last() -> String {
        LAST_ERROR.with(|m| m.borrow().clone())
    }

    #[test]
    fn a_panic_becomes_the_panic_status_with_its_message() {
        let s = crate::ffi_boundary!({
            if last().len() < usize::MAX {
                panic!("boom {}", 7);
            }
            Ok(())
        });
        assert_eq!(s, l2_status::Panic);
        assert_eq!(last(), "libl2 panicked: boom 7");
    }

    #[test]
    fn errors_keep_their_status_and_detail() {
        let s = crate::ffi_boundary!({ Err(l2core::Error::model("<bytes>", "truncated").into()) });
        assert_eq!(s, l2_status::ModelCorrupt);
        assert_eq!(last(), "model <bytes>: truncated");
        assert_eq!(crate::ffi_boundary!({ Ok(()) }), l2_status::Ok);
        assert_eq!(last(), "model <bytes>: truncated", "success leaves the detail alone");
    }
}
