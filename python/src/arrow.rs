//! Texts from an Arrow string array, read in place through the Arrow PyCapsule interface
//! (`__arrow_c_array__`, the C data interface): pyarrow, polars, Spark's and Ray's Arrow batches hand
//! their buffers over without one Python object per row.

use crate::errors::type_error;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyCapsuleMethods};
use std::ffi::{c_char, c_void, CStr};

/// `struct ArrowSchema` of the Arrow C data interface (every field is declared so the layout matches,
/// even the ones never read).
#[repr(C)]
#[allow(dead_code)]
struct ArrowSchema {
    format: *const c_char,
    name: *const c_char,
    metadata: *const c_char,
    flags: i64,
    n_children: i64,
    children: *mut *mut ArrowSchema,
    dictionary: *mut ArrowSchema,
    release: Option<unsafe extern "C" fn(*mut ArrowSchema)>,
    private_data: *mut c_void,
}

/// `struct ArrowArray` of the Arrow C data interface.
#[repr(C)]
#[allow(dead_code)]
struct ArrowArray {
    length: i64,
    null_count: i64,
    offset: i64,
    n_buffers: i64,
    n_children: i64,
    buffers: *mut *const c_void,
    children: *mut *mut ArrowArray,
    dictionary: *mut ArrowArray,
    release: Option<unsafe extern "C" fn(*mut ArrowArray)>,
    private_data: *mut c_void,
}

/// An Arrow string array exported by its producer. The capsules own the export: their destructors call
/// the producer's `release`, so the buffers stay valid exactly as long as this value lives.
pub struct ArrowTexts<'py> {
    _schema: Bound<'py, PyCapsule>,
    _array: Bound<'py, PyCapsule>,
    texts: Vec<&'py str>,
}

impl ArrowTexts<'_> {
    /// The texts, borrowed from the Arrow buffers.
    pub fn texts(&self) -> &[&str] {
        &self.texts
    }
}

/// Read an object with `__arrow_c_array__` holding strings (`utf8` or `large_utf8`). A null entry is a
/// TypeError naming its position: a missing text has no score.
pub fn texts<'py>(obj: &Bound<'py, PyAny>) -> PyResult<ArrowTexts<'py>> {
    let tname = || obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
    if !obj.hasattr("__arrow_c_array__")? {
        return Err(type_error(format!(
            "expected an Arrow array (an object with __arrow_c_array__, e.g. pyarrow.Array), got {}",
            tname()
        )));
    }
    let (schema, array): (Bound<'py, PyCapsule>, Bound<'py, PyCapsule>) =
        obj.call_method0("__arrow_c_array__")?.extract()?;
    let sp = schema.pointer_checked(Some(c"arrow_schema"))?.cast::<ArrowSchema>();
    let ap = array.pointer_checked(Some(c"arrow_array"))?.cast::<ArrowArray>();
    // SAFETY: the capsules are named as the PyCapsule interface specifies, so they hold a live
    // ArrowSchema / ArrowArray that the producer keeps valid until the capsules' destructors release it;
    // both capsules are kept alive in the returned value.
    let (schema_ref, arr) = unsafe { (sp.as_ref(), ap.as_ref()) };
    if schema_ref.release.is_none() || arr.release.is_none() {
        return Err(type_error("the Arrow array was already released (moved out of its capsule)"));
    }
    // SAFETY: `format` is a NUL-terminated string owned by the live schema.
    let format = unsafe { CStr::from_ptr(schema_ref.format) }.to_bytes();
    let large = match format {
        b"u" => false,
        b"U" => true,
        other => {
            return Err(type_error(format!(
                "texts must be an Arrow string array (utf8 or large_utf8), got Arrow format `{}`",
                String::from_utf8_lossy(other)
            )))
        }
    };
    let (n, offset) = (usize::try_from(arr.length), usize::try_from(arr.offset));
    let (Ok(n), Ok(offset)) = (n, offset) else {
        return Err(type_error("malformed Arrow array: negative length or offset"));
    };
    if arr.n_buffers != 3 || arr.buffers.is_null() {
        return Err(type_error(format!("malformed Arrow string array: {} buffers, expected 3", arr.n_buffers)));
    }
    // SAFETY: `buffers` holds `n_buffers` (= 3) pointers: validity, offsets, data.
    let [validity, offsets, data] = unsafe { [0, 1, 2].map(|i| *arr.buffers.add(i)) };
    if n > 0 && offsets.is_null() {
        return Err(type_error("malformed Arrow string array: no offsets buffer"));
    }
    // Offsets of entries offset..=offset+n; they may be unaligned when a producer exported a slice of a
    // packed buffer, hence read_unaligned.
    let off = |k: usize| -> i64 {
        // SAFETY: the offsets buffer has `offset + length + 1` entries (the C data interface's contract).
        unsafe {
            if large {
                offsets.cast::<i64>().add(offset + k).read_unaligned()
            } else {
                i64::from(offsets.cast::<i32>().add(offset + k).read_unaligned())
            }
        }
    };
    let is_null = |k: usize| -> bool {
        if validity.is_null() || arr.null_count == 0 {
            return false;
        }
        let bit = offset + k;
        // SAFETY: the validity bitmap covers `offset + length` bits.
        let byte = unsafe { *validity.cast::<u8>().add(bit / 8) };
        byte & (1 << (bit % 8)) == 0
    };
    let mut texts = Vec::with_capacity(n);
    if n == 0 {
        return Ok(ArrowTexts { _schema: schema, _array: array, texts });
    }
    let (first, last) = (off(0), off(n));
    if first < 0 || last < first {
        return Err(type_error(format!("malformed Arrow string array: offsets {first}..{last}")));
    }
    let base: &'py [u8] = if last == 0 {
        &[]
    } else if data.is_null() {
        return Err(type_error("malformed Arrow string array: no data buffer"));
    } else {
        // SAFETY: the data buffer holds at least `offsets[offset + length]` bytes, is immutable while
        // exported and outlives 'py's borrow here because the capsules live in the returned value.
        unsafe { std::slice::from_raw_parts(data.cast::<u8>(), last as usize) }
    };
    let mut start = first;
    for k in 0..n {
        let end = off(k + 1);
        if end < start || end > last {
            return Err(type_error(format!("malformed Arrow string array: offsets decrease at entry {k}")));
        }
        if is_null(k) {
            return Err(type_error(format!("texts[{k}] is null, expected str (a missing text has no score)")));
        }
        let bytes = &base[start as usize..end as usize];
        let text = std::str::from_utf8(bytes).map_err(|e| type_error(format!("texts[{k}] is not valid UTF-8: {e}")))?;
        texts.push(text);
        start = end;
    }
    Ok(ArrowTexts { _schema: schema, _array: array, texts })
}
