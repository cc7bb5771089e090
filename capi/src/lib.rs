//! libl2: the C ABI of the L2 malicious-prompt classifier.
//!
//! One module per C object ([`model`] for `l2_model`, [`heads`] for its family and severity heads,
//! [`train`] for `l2_train_config` and training),
//! [`status`] for `l2_status`, [`error`] for the thread-local error detail. Conventions (after rustls-ffi)
//! are in `docs/c-api.md`: opaque handles, every entry point behind a panic boundary, outputs last and
//! written only on success, every buffer followed by its `size_t` length, NULL-safe `_free`.
//!
//! `include/l2.h` is generated from this crate by cbindgen (`tests/header.rs`).

#![deny(missing_docs)]
// Every `extern "C"` function documents its pointer contract in its doc comment (which lands in l2.h);
// the functions check NULL themselves, so they are not `unsafe fn` for C callers.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
// C names (`l2_model`, `l2_status` ...) are the ABI.
#![allow(non_camel_case_types)]

mod buffer;
pub mod error;
pub mod heads;
pub mod model;
pub mod status;
pub mod train;

pub use status::l2_status;

use std::ffi::c_char;

/// Run an entry point body (an expression of type `CResult<()>`) inside the panic boundary: a panic
/// becomes `L2_STATUS_PANIC` with the panic message as the last-error detail.
#[macro_export]
#[doc(hidden)]
macro_rules! ffi_boundary {
    ($body:block) => {{
        let r = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| -> $crate::error::CResult<()> { $body }));
        $crate::error::finish(r)
    }};
}

/// libl2's version, e.g. "0.1.0": a static NUL-terminated string (never free it), equal to `L2_VERSION`
/// when the header matches the library. Thread-safe.
#[no_mangle]
pub extern "C" fn l2_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
