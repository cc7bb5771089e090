//! The family and severity heads through C: which heads a model has, their labels, and
//! `l2_model_classify_ex` (score, decision, family and severity of one text).

use crate::buffer::{arg_text, copy_text_out, out_arg};
use crate::error::fail;
use crate::ffi_boundary;
use crate::model::{l2_model, model_ref};
use crate::status::l2_status;
use l2core::model::HeadKind;
use std::ffi::c_char;

/// A head beside the binary output. The numbers are part of the ABI.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum l2_head {
    /// The attack family (labels from the training data: `JB`, `PI`, `CMD`, `PII`, ..., `OTHER`).
    Family = 0,
    /// The severity (labels `low`, `medium`, `high`, `critical`: those the training data had).
    Severity = 1,
}

impl From<l2_head> for HeadKind {
    fn from(h: l2_head) -> HeadKind {
        match h {
            l2_head::Family => HeadKind::Family,
            l2_head::Severity => HeadKind::Severity,
        }
    }
}

/// A severity level (`l2_classification.severity`). The numbers are part of the ABI.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum l2_severity {
    /// Not an attack: the text is not flagged.
    None = 0,
    /// Low.
    Low = 1,
    /// Medium.
    Medium = 2,
    /// High.
    High = 3,
    /// Critical.
    Critical = 4,
    /// The model has no severity head.
    Unavailable = 5,
}

fn severity_of(label: &str) -> l2_severity {
    match label {
        "low" => l2_severity::Low,
        "medium" => l2_severity::Medium,
        "high" => l2_severity::High,
        "critical" => l2_severity::Critical,
        _ => l2_severity::None,
    }
}

/// One text's answer (`l2_model_classify_ex`).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct l2_classification {
    /// Malicious probability in [0, 1], bit for bit `l2_model_score_text`'s.
    pub score: f32,
    /// Whether `score >= threshold`.
    pub malicious: bool,
    /// Index of the family among `l2_model_head_label(model, L2_HEAD_FAMILY, i, ...)` when the text is
    /// flagged; -1 when it is not (the family is then `BENIGN`) or the model has no family head.
    pub family: i32,
    /// P(family | attack) of that family; 0 when `family` is -1.
    pub family_score: f32,
    /// The severity when the text is flagged, `L2_SEVERITY_NONE` when it is not,
    /// `L2_SEVERITY_UNAVAILABLE` without a severity head.
    pub severity: l2_severity,
    /// P(severity | attack) of that level; 0 unless a level is given.
    pub severity_score: f32,
}

/// How many labels the model's `head` has into `*out_n`: 0 when the model has no such head (an MLP
/// model has none). Thread-safe.
#[no_mangle]
pub extern "C" fn l2_model_head_count(model: *const l2_model, head: l2_head, out_n: *mut usize) -> l2_status {
    ffi_boundary!({
        let model = model_ref(model)?;
        let out = out_arg(out_n, "out_n")?;
        let n = model.head(head.into()).map_or(0, |(_, h)| h.labels.len());
        // SAFETY: non-NULL, writable by contract.
        unsafe { out.write(n) };
        Ok(())
    })
}

/// Label `index` of the model's `head` (e.g. `PI`), copied into `buf` (`len` bytes) with a NUL, as
/// `l2_model_metadata_json` copies text (`*out_n` = length; `L2_STATUS_BUFFER_TOO_SMALL` with the size
/// needed). An index at or past `l2_model_head_count` gives `L2_STATUS_INVALID_PARAM`. Thread-safe.
#[no_mangle]
pub extern "C" fn l2_model_head_label(
    model: *const l2_model,
    head: l2_head,
    index: usize,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> l2_status {
    ffi_boundary!({
        let model = model_ref(model)?;
        let labels = model.head(head.into()).map_or(&[][..], |(_, h)| &h.labels[..]);
        let label = labels.get(index).ok_or_else(|| {
            fail(l2_status::InvalidParam, format!("index {index} is not below the head's {} labels", labels.len()))
        })?;
        // SAFETY: C contract: `buf` writable for `len` bytes, `out_n` for one size_t.
        unsafe { copy_text_out(label, buf, len, out_n) }
    })
}

/// Score one text and say what kind of attack it is: the score and decision, the family and severity
/// into `*out` (see `l2_classification`), and P(family | attack) of every family, in label order, into
/// `family_scores` (capacity `family_scores_len` floats; `*out_family_n` = how many were written).
///
/// `family_scores` may be NULL when `family_scores_len` is 0: then only `*out` and `*out_family_n`
/// (the number of families) are written. A capacity below the number of families gives
/// `L2_STATUS_BUFFER_TOO_SMALL` with `*out_family_n` = the number needed, and nothing else written.
/// On any other failure nothing is written. The scores are the same bits in every host (the heads run
/// in one fixed order). Thread-safe.
#[no_mangle]
pub extern "C" fn l2_model_classify_ex(
    model: *const l2_model,
    text: *const c_char,
    text_len: usize,
    out: *mut l2_classification,
    family_scores: *mut f32,
    family_scores_len: usize,
    out_family_n: *mut usize,
) -> l2_status {
    ffi_boundary!({
        let model = model_ref(model)?;
        let out = out_arg(out, "out")?;
        let out_n = out_arg(out_family_n, "out_family_n")?;
        let wants = !family_scores.is_null();
        if wants {
            out_arg(family_scores, "family_scores")?;
        } else if family_scores_len > 0 {
            return Err(crate::buffer::null("family_scores"));
        }
        // SAFETY: C contract: `text` readable for `text_len` bytes.
        let text = unsafe { arg_text(text, text_len, "text") }?;
        let answers = model.classify_detailed(&[text])?;
        let a = answers.first().ok_or_else(|| fail(l2_status::Other, "classifying one text gave no answer"))?;
        let c = classification(model, a);
        let probs = model.answer(a, HeadKind::Family).map_or(&[][..], |h| h.probs);
        if wants && family_scores_len < probs.len() {
            // SAFETY: non-NULL, writable by contract.
            unsafe { out_n.write(probs.len()) };
            return Err(fail(
                l2_status::BufferTooSmall,
                format!("family_scores_len is {family_scores_len}, the model has {} families", probs.len()),
            ));
        }
        // SAFETY: all non-NULL and writable by contract; `family_scores` holds `family_scores_len >=
        // probs.len()` floats when it is given.
        unsafe {
            if wants {
                std::ptr::copy_nonoverlapping(probs.as_ptr(), family_scores, probs.len());
            }
            out.write(c);
            out_n.write(probs.len());
        }
        Ok(())
    })
}

/// The C answer of one classified text.
fn classification(model: &l2core::Model, a: &l2core::model::Classified) -> l2_classification {
    let score = a.scored.score;
    let (family, family_score) = match model.answer(a, HeadKind::Family) {
        Some(h) => h.index.map_or((-1, 0.0), |i| (i32::try_from(i).unwrap_or(-1), h.probs[i])),
        None => (-1, 0.0),
    };
    let (severity, severity_score) = match model.answer(a, HeadKind::Severity) {
        Some(h) => h.index.map_or((l2_severity::None, 0.0), |i| (severity_of(h.label), h.probs[i])),
        None => (l2_severity::Unavailable, 0.0),
    };
    l2_classification { score, malicious: model.decide(score), family, family_score, severity, severity_score }
}
