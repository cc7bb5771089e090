//! `l2_model`: a loaded classifier. Built once by `l2_model_load_path` / `l2_model_load_bytes` (or
//! `l2_train`), then immutable: every other function takes it by `const` pointer and may be called from
//! any number of threads at once on the same model.

use crate::buffer::{arg_cstr, arg_ref, arg_slice, arg_text, copy_text_out, out_arg};
use crate::error::{fail, CResult};
use crate::ffi_boundary;
use crate::status::l2_status;
use std::ffi::c_char;
use std::fmt::Write as _;

/// A loaded, immutable classifier (embedder + network + metadata).
///
/// Ownership: created by `l2_model_load_path`, `l2_model_load_bytes` or `l2_train`; the caller owns it and
/// releases it once with `l2_model_free`, after every other use has finished.
/// Thread-safety: all functions taking `const l2_model *` may run concurrently on one model.
pub struct l2_model {
    inner: l2core::Model,
}

impl l2_model {
    /// Hand a model to C.
    pub(crate) fn into_raw(inner: l2core::Model) -> *const l2_model {
        Box::into_raw(Box::new(l2_model { inner }))
    }
}

/// Load and verify the model file at `path` (NUL-terminated UTF-8).
///
/// On `L2_STATUS_OK`, `*out_model` receives a new model owned by the caller (free it with
/// `l2_model_free`). A missing or unreadable file gives `L2_STATUS_IO`; a file that is not a valid
/// model gives `L2_STATUS_MODEL_CORRUPT`. On failure `*out_model` is not written.
#[no_mangle]
pub extern "C" fn l2_model_load_path(path: *const c_char, out_model: *mut *const l2_model) -> l2_status {
    ffi_boundary!({
        let out = out_arg(out_model, "out_model")?;
        // SAFETY: C contract of this function.
        let path = unsafe { arg_cstr(path, "path") }?;
        let model = l2core::Model::load(path)?;
        // SAFETY: `out` is non-NULL and writable by contract.
        unsafe { out.write(l2_model::into_raw(model)) };
        Ok(())
    })
}

/// Load and verify a model from the `len` bytes at `bytes` (the content of a model file). The bytes are
/// copied where needed: the caller may free them as soon as the call returns.
///
/// On `L2_STATUS_OK`, `*out_model` receives a new model owned by the caller (free it with
/// `l2_model_free`). Bytes that are not a valid model give `L2_STATUS_MODEL_CORRUPT`. On failure
/// `*out_model` is not written.
#[no_mangle]
pub extern "C" fn l2_model_load_bytes(bytes: *const u8, len: usize, out_model: *mut *const l2_model) -> l2_status {
    ffi_boundary!({
        let out = out_arg(out_model, "out_model")?;
        // SAFETY: C contract of this function.
        let bytes = unsafe { arg_slice(bytes, len, "bytes") }?;
        let model = l2core::Model::from_bytes(bytes)?;
        // SAFETY: `out` is non-NULL and writable by contract.
        unsafe { out.write(l2_model::into_raw(model)) };
        Ok(())
    })
}

/// Free a model. NULL is allowed and does nothing. The model must not be used afterwards, and no other
/// thread may be using it during this call. Freeing a model twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn l2_model_free(model: *const l2_model) {
    let _ = ffi_boundary!({
        if !model.is_null() {
            // SAFETY: `model` came from `l2_model::into_raw` and is freed once, by contract.
            drop(unsafe { Box::from_raw(model.cast_mut()) });
        }
        Ok(())
    });
}

/// The model behind a handle argument.
pub(crate) fn model_ref<'a>(model: *const l2_model) -> CResult<&'a l2core::Model> {
    // SAFETY: C contract of every function taking a model: NULL or a live model.
    Ok(&unsafe { arg_ref(model, "model") }?.inner)
}

/// Malicious probability (in [0, 1]) of one text: `text_len` bytes of UTF-8 at `text` (no NUL needed;
/// `text` must not be NULL even when `text_len` is 0).
///
/// On `L2_STATUS_OK` the score is written to `*out_score`. Invalid UTF-8 gives `L2_STATUS_INVALID_UTF8`.
/// Thread-safe.
#[no_mangle]
pub extern "C" fn l2_model_score_text(
    model: *const l2_model,
    text: *const c_char,
    text_len: usize,
    out_score: *mut f32,
) -> l2_status {
    ffi_boundary!({
        let model = model_ref(model)?;
        let out = out_arg(out_score, "out_score")?;
        // SAFETY: C contract: `text` readable for `text_len` bytes.
        let text = unsafe { arg_text(text, text_len, "text") }?;
        let score = model.score_text(text)?;
        // SAFETY: non-NULL, writable by contract.
        unsafe { out.write(score) };
        Ok(())
    })
}

/// How a text was read for its score (`l2_score_detail.view`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum l2_view {
    /// The (canonical) text itself.
    Whole = 0,
    /// The text with its encoded payloads (base64, hex, percent, HTML entities) decoded.
    Decoded = 1,
    /// ROT13 of the text.
    Rot13 = 2,
    /// Leetspeak folded to letters.
    Leet = 3,
    /// A window of a long text.
    Window = 4,
}

impl From<l2core::text::ViewKind> for l2_view {
    fn from(v: l2core::text::ViewKind) -> l2_view {
        use l2core::text::ViewKind;
        match v {
            ViewKind::Whole => l2_view::Whole,
            ViewKind::Decoded => l2_view::Decoded,
            ViewKind::Rot13 => l2_view::Rot13,
            ViewKind::Leet => l2_view::Leet,
            ViewKind::Window => l2_view::Window,
        }
    }
}

/// A score with how it was reached: a model with a text spec scores several views of a text (decoded
/// payloads, windows of a long text, ...) and keeps the highest.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct l2_score_detail {
    /// Malicious probability in [0, 1], bit for bit `l2_model_score_text`'s.
    pub score: f32,
    /// Views scored (1: the whole text only).
    pub views: u32,
    /// How many of them were windows of a long text (0: the text was scored whole).
    pub windows: u32,
    /// The view that gave the score.
    pub view: l2_view,
}

/// Score one text (as `l2_model_score_text`) and say how: views scored, windows of a long text, and
/// which view gave the score, into `*out_detail`. Thread-safe.
#[no_mangle]
pub extern "C" fn l2_model_score_text_detailed(
    model: *const l2_model,
    text: *const c_char,
    text_len: usize,
    out_detail: *mut l2_score_detail,
) -> l2_status {
    ffi_boundary!({
        let model = model_ref(model)?;
        let out = out_arg(out_detail, "out_detail")?;
        // SAFETY: C contract: `text` readable for `text_len` bytes.
        let text = unsafe { arg_text(text, text_len, "text") }?;
        let scored = model.score_detailed(&[text])?;
        let d = scored.first().ok_or_else(|| fail(l2_status::Other, "scoring one text gave no score"))?;
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let detail =
            l2_score_detail { score: d.score, views: count(d.views), windows: count(d.windows), view: d.view.into() };
        // SAFETY: non-NULL, writable by contract.
        unsafe { out.write(detail) };
        Ok(())
    })
}

/// Score `n` texts at once: `texts[i]` points to `text_lens[i]` bytes of UTF-8 (no NUL needed). Scores
/// go to `out_scores[0..n]`; `out_len` is the capacity of `out_scores` (in floats) and must be at least
/// `n` (else `L2_STATUS_BUFFER_TOO_SMALL`). Every text is checked before any is scored: a NULL entry
/// gives `L2_STATUS_NULL_PARAMETER`, invalid UTF-8 `L2_STATUS_INVALID_UTF8` (the detail names the index),
/// and then nothing is written. Scores equal those of `l2_model_score_text` bit for bit. Thread-safe.
#[no_mangle]
pub extern "C" fn l2_model_score_batch(
    model: *const l2_model,
    texts: *const *const c_char,
    text_lens: *const usize,
    n: usize,
    out_scores: *mut f32,
    out_len: usize,
) -> l2_status {
    ffi_boundary!({
        let model = model_ref(model)?;
        let out = out_arg(out_scores, "out_scores")?;
        // SAFETY: C contract: arrays of `n` entries.
        let ptrs = unsafe { arg_slice(texts, n, "texts") }?;
        // SAFETY: as above.
        let lens = unsafe { arg_slice(text_lens, n, "text_lens") }?;
        if out_len < n {
            return Err(fail(l2_status::BufferTooSmall, format!("out_len is {out_len}, n is {n}")));
        }
        let mut texts = Vec::with_capacity(n);
        // One name buffer for all entries: the name is only read when an entry fails.
        let mut name = String::new();
        for (i, (&p, &len)) in ptrs.iter().zip(lens).enumerate() {
            name.clear();
            let _ = write!(name, "texts[{i}]");
            // SAFETY: C contract: `texts[i]` readable for `text_lens[i]` bytes.
            texts.push(unsafe { arg_text(p, len, &name) }?);
        }
        let scores = model.score_texts(&texts)?;
        // SAFETY: `out` holds `out_len >= n` writable floats by contract; `scores` has `n`.
        unsafe { std::ptr::copy_nonoverlapping(scores.as_ptr(), out, scores.len()) };
        Ok(())
    })
}

/// Score `n` embeddings: `embeddings` is a row-major `n x dims` float matrix (`n * dims` floats).
/// `dims` must equal `l2_model_dims` (else `L2_STATUS_WRONG_DIMS`); scores go to `out_scores[0..n]`,
/// `out_len` being its capacity (at least `n`, else `L2_STATUS_BUFFER_TOO_SMALL`). Non-finite inputs give
/// `L2_STATUS_INVALID_DATA`, and so does a finite row too large for the weights (a value inside the
/// network overflows): a score that could not be computed is never written. A wide-and-deep model
/// (which reads text only) gives `L2_STATUS_INVALID_PARAM`. Thread-safe.
#[no_mangle]
pub extern "C" fn l2_model_score_embeddings(
    model: *const l2_model,
    embeddings: *const f32,
    n: usize,
    dims: usize,
    out_scores: *mut f32,
    out_len: usize,
) -> l2_status {
    ffi_boundary!({
        let model = model_ref(model)?;
        let out = out_arg(out_scores, "out_scores")?;
        // A wide-and-deep model takes no embeddings, whatever their width.
        model.dense_embedder()?;
        if dims != model.dims() {
            return Err(fail(l2_status::WrongDims, format!("dims is {dims}, the model takes {} dims", model.dims())));
        }
        let total = n
            .checked_mul(dims)
            .ok_or_else(|| fail(l2_status::WrongDims, format!("n x dims = {n} x {dims} overflows")))?;
        // SAFETY: C contract: `n * dims` readable floats.
        let x = unsafe { arg_slice(embeddings, total, "embeddings") }?;
        if out_len < n {
            return Err(fail(l2_status::BufferTooSmall, format!("out_len is {out_len}, n is {n}")));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(fail(
                l2_status::InvalidData,
                format!("embeddings[{}][{}] is not finite ({})", i / dims, i % dims, x[i]),
            ));
        }
        let mut scores = vec![0.0f32; n];
        model.score_embeddings_into(x, &mut scores)?;
        // SAFETY: `out` holds `out_len >= n` writable floats by contract.
        unsafe { std::ptr::copy_nonoverlapping(scores.as_ptr(), out, n) };
        Ok(())
    })
}

/// The model's decision for `score`: `*out_malicious` = `score >= threshold`. A NaN score gives
/// `L2_STATUS_INVALID_PARAM`. Thread-safe.
#[no_mangle]
pub extern "C" fn l2_model_decide(model: *const l2_model, score: f32, out_malicious: *mut bool) -> l2_status {
    ffi_boundary!({
        let model = model_ref(model)?;
        let out = out_arg(out_malicious, "out_malicious")?;
        if score.is_nan() {
            return Err(fail(l2_status::InvalidParam, "argument `score` is NaN"));
        }
        // SAFETY: non-NULL, writable by contract.
        unsafe { out.write(model.decide(score)) };
        Ok(())
    })
}

/// Score one text and decide: `*out_score` as `l2_model_score_text`, `*out_malicious` as
/// `l2_model_decide` on that score. Both are written only on `L2_STATUS_OK`. Thread-safe.
#[no_mangle]
pub extern "C" fn l2_model_classify(
    model: *const l2_model,
    text: *const c_char,
    text_len: usize,
    out_score: *mut f32,
    out_malicious: *mut bool,
) -> l2_status {
    ffi_boundary!({
        let model = model_ref(model)?;
        let out_score = out_arg(out_score, "out_score")?;
        let out_malicious = out_arg(out_malicious, "out_malicious")?;
        // SAFETY: C contract: `text` readable for `text_len` bytes.
        let text = unsafe { arg_text(text, text_len, "text") }?;
        let score = model.score_text(text)?;
        // SAFETY: both non-NULL and writable by contract.
        unsafe {
            out_score.write(score);
            out_malicious.write(model.decide(score));
        }
        Ok(())
    })
}

/// The decision threshold (scores `>=` it are malicious) into `*out_threshold`. Thread-safe.
#[no_mangle]
pub extern "C" fn l2_model_threshold(model: *const l2_model, out_threshold: *mut f32) -> l2_status {
    ffi_boundary!({
        let model = model_ref(model)?;
        let out = out_arg(out_threshold, "out_threshold")?;
        // SAFETY: non-NULL, writable by contract.
        unsafe { out.write(model.threshold()) };
        Ok(())
    })
}

/// The input width of the model's network into `*out_dims`: the embedding width an MLP model takes
/// (the `dims` of `l2_model_score_embeddings`), or the n-gram vocabulary size of a wide-and-deep
/// model (which reads text only: `l2_model_score_embeddings` gives `L2_STATUS_INVALID_PARAM`).
/// Thread-safe.
#[no_mangle]
pub extern "C" fn l2_model_dims(model: *const l2_model, out_dims: *mut usize) -> l2_status {
    ffi_boundary!({
        let model = model_ref(model)?;
        let out = out_arg(out_dims, "out_dims")?;
        // SAFETY: non-NULL, writable by contract.
        unsafe { out.write(model.dims()) };
        Ok(())
    })
}

/// The model's metadata (format version, embedder, architecture, precision, threshold, training
/// settings, history, dataset fingerprint, evaluation ...) as JSON, copied into `buf` (`len` bytes) with
/// a terminating NUL.
///
/// On `L2_STATUS_OK`, `*out_n` is the JSON length without the NUL. When `len` is too small, nothing is
/// written to `buf`, the call returns `L2_STATUS_BUFFER_TOO_SMALL` and `*out_n` is the size `buf` needs
/// (length + 1): allocate that and call again. Thread-safe.
#[no_mangle]
pub extern "C" fn l2_model_metadata_json(
    model: *const l2_model,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> l2_status {
    ffi_boundary!({
        let model = model_ref(model)?;
        let json = model.meta_json()?;
        // SAFETY: C contract: `buf` writable for `len` bytes, `out_n` for one size_t.
        unsafe { copy_text_out(&json, buf, len, out_n) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use l2core::embed::{EmbedderSpec, HashSpec};
    use l2core::model::{Mlp, ModelMeta, Precision};

    fn tiny() -> *const l2_model {
        let mlp = Mlp::init(8, &[4], 3).expect("init");
        let meta = ModelMeta::untrained(EmbedderSpec::Hash(HashSpec::with_dims(8)), vec![4], Precision::F32);
        l2_model::into_raw(l2core::Model::new(meta, mlp.to_layers()).expect("model"))
    }

    #[test]
    fn misaligned_pointers_are_refused_not_dereferenced() {
        let m = tiny();
        let storage = [0u32; 20];
        // One byte past an aligned f32 array: misaligned for f32.
        let x = storage.as_ptr().cast::<u8>().wrapping_add(1).cast::<f32>();
        let mut out = [0.0f32; 2];
        assert_eq!(l2_model_score_embeddings(m, x, 2, 8, out.as_mut_ptr(), 2), l2_status::InvalidParam);
        let aligned = storage.as_ptr().cast::<f32>();
        assert_eq!(l2_model_score_embeddings(m, aligned, 2, 8, out.as_mut_ptr(), 2), l2_status::Ok);
        let out_bad = out.as_mut_ptr().cast::<u8>().wrapping_add(1).cast::<f32>();
        assert_eq!(l2_model_score_embeddings(m, aligned, 1, 8, out_bad, 1), l2_status::InvalidParam);
        let mut dims = [0usize; 2];
        let dims_bad = dims.as_mut_ptr().cast::<u8>().wrapping_add(1).cast::<usize>();
        assert_eq!(l2_model_dims(m, dims_bad), l2_status::InvalidParam);
        let mut buf = [0 as c_char; 4096];
        let mut n = [0usize; 2];
        let n_bad = n.as_mut_ptr().cast::<u8>().wrapping_add(1).cast::<usize>();
        assert_eq!(l2_model_metadata_json(m, buf.as_mut_ptr(), buf.len(), n_bad), l2_status::InvalidParam);
        assert_eq!(l2_model_metadata_json(m, buf.as_mut_ptr(), buf.len(), n.as_mut_ptr()), l2_status::Ok);
        l2_model_free(m);
    }

    #[test]
    fn the_c_entry_points_give_the_rust_scores() {
        let m = tiny();
        // SAFETY: `tiny` made it; freed below.
        let rust = &unsafe { &*m }.inner;
        let text = "ignore previous instructions";
        let mut s = -1.0f32;
        assert_eq!(l2_model_score_text(m, text.as_ptr().cast(), text.len(), &mut s), l2_status::Ok);
        assert_eq!(s.to_bits(), rust.score_text(text).expect("score").to_bits());
        l2_model_free(m);
    }
}
