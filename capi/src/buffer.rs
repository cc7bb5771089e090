//! Checked views of the caller's pointers: arguments in, outputs out, text copied into caller buffers.

use crate::error::{fail, CResult};
use crate::status::l2_status;
use std::ffi::{c_char, CStr};

/// Copy `text` and a NUL into `buf` (`len` bytes), with `*out_n` = text length; when it does not fit,
/// write only `*out_n` = the size needed (length + 1). Sets no last-error detail (callers do), so that
/// `l2_last_error_message` can use it without overwriting what it reports.
///
/// # Safety
/// `buf` must be NULL or valid for `len` bytes of writes; `out_n` NULL or valid for one write.
pub(crate) unsafe fn copy_text(text: &str, buf: *mut c_char, len: usize, out_n: *mut usize) -> Result<(), l2_status> {
    if buf.is_null() || out_n.is_null() {
        return Err(l2_status::NullParameter);
    }
    if !out_n.is_aligned() {
        return Err(l2_status::InvalidParam);
    }
    let bytes = text.as_bytes();
    if len < bytes.len() + 1 {
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { out_n.write(bytes.len() + 1) };
        return Err(l2_status::BufferTooSmall);
    }
    // SAFETY: `buf` holds `len >= bytes.len() + 1` writable bytes and cannot overlap our own `text`.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), bytes.len());
        buf.add(bytes.len()).write(0);
        out_n.write(bytes.len());
    }
    Ok(())
}

/// [`copy_text`] for entry points: failures carry a detail naming the buffer.
///
/// # Safety
/// As [`copy_text`].
pub(crate) unsafe fn copy_text_out(text: &str, buf: *mut c_char, len: usize, out_n: *mut usize) -> CResult<()> {
    // SAFETY: forwarded contract.
    match unsafe { copy_text(text, buf, len, out_n) } {
        Ok(()) => Ok(()),
        Err(l2_status::BufferTooSmall) => Err(fail(
            l2_status::BufferTooSmall,
            format!("buffer of {len} bytes is too small: {} needed (see *out_n)", text.len() + 1),
        )),
        Err(l2_status::InvalidParam) => Err(fail(l2_status::InvalidParam, "argument `out_n` is not aligned")),
        Err(s) => Err(fail(s, if buf.is_null() { "argument `buf` is NULL" } else { "argument `out_n` is NULL" })),
    }
}

/// The object behind a `const` handle argument.
///
/// # Safety
/// `p` must be NULL or point to a live `T` for `'a`.
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T, name: &str) -> CResult<&'a T> {
    if !p.is_null() {
        aligned(p, name)?;
    }
    // SAFETY: forwarded contract.
    unsafe { p.as_ref() }.ok_or_else(|| null(name))
}

/// The object behind a mutable handle argument.
///
/// # Safety
/// `p` must be NULL or point to a live `T` for `'a` that nothing else accesses meanwhile.
pub(crate) unsafe fn arg_mut<'a, T>(p: *mut T, name: &str) -> CResult<&'a mut T> {
    if !p.is_null() {
        aligned(p.cast_const(), name)?;
    }
    // SAFETY: forwarded contract.
    unsafe { p.as_mut() }.ok_or_else(|| null(name))
}

/// Check an output pointer before any work is done, so a NULL output fails fast and writes nothing.
pub(crate) fn out_arg<T>(p: *mut T, name: &str) -> CResult<*mut T> {
    if p.is_null() {
        return Err(null(name));
    }
    aligned(p.cast_const(), name)?;
    Ok(p)
}

/// Rust may only read or write through aligned pointers; a misaligned one from C is refused, not used.
fn aligned<T>(p: *const T, name: &str) -> CResult<()> {
    if p.is_aligned() {
        Ok(())
    } else {
        Err(fail(
            l2_status::InvalidParam,
            format!("argument `{name}` is not aligned to {} bytes", std::mem::align_of::<T>()),
        ))
    }
}

/// The detail of a NULL argument.
pub(crate) fn null(name: &str) -> crate::error::Failure {
    fail(l2_status::NullParameter, format!("argument `{name}` is NULL"))
}

/// `len` elements at `p` as a slice.
///
/// # Safety
/// `p` must be NULL or valid for reads of `len` elements for `'a`.
pub(crate) unsafe fn arg_slice<'a, T>(p: *const T, len: usize, name: &str) -> CResult<&'a [T]> {
    if p.is_null() {
        return Err(null(name));
    }
    aligned(p, name)?;
    if len.checked_mul(std::mem::size_of::<T>()).is_none_or(|b| b > isize::MAX as usize) {
        return Err(fail(l2_status::InvalidParam, format!("argument `{name}`: length {len} is too large")));
    }
    // SAFETY: non-NULL, size fits isize, and the caller guarantees `len` readable elements.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// `len` bytes at `p` as UTF-8 text.
///
/// # Safety
/// As [`arg_slice`].
pub(crate) unsafe fn arg_text<'a>(p: *const c_char, len: usize, name: &str) -> CResult<&'a str> {
    // SAFETY: forwarded contract.
    let bytes = unsafe { arg_slice(p.cast::<u8>(), len, name) }?;
    utf8(bytes, name)
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string that lives for `'a`.
pub(crate) unsafe fn arg_cstr<'a>(p: *const c_char, name: &str) -> CResult<&'a str> {
    if p.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL and NUL-terminated by contract.
    utf8(unsafe { CStr::from_ptr(p) }.to_bytes(), name)
}

/// Validate UTF-8, naming the argument and the first bad byte.
pub(crate) fn utf8<'a>(bytes: &'a [u8], name: &str) -> CResult<&'a str> {
    std::str::from_utf8(bytes).map_err(|e| {
        fail(
            l2_status::InvalidUtf8,
            format!("argument `{name}` is not valid UTF-8 (first bad byte at offset {})", e.valid_up_to()),
        )
    })
}
