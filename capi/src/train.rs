//! `l2_train_config` (a builder the caller owns and mutates) and `l2_train`, which trains a model from
//! it through the engine's one training pipeline and writes the model file.

use crate::buffer::{arg_cstr, arg_mut, arg_ref, arg_slice, copy_text_out, out_arg};
use crate::error::{fail, CResult};
use crate::ffi_boundary;
use crate::model::l2_model;
use crate::status::l2_status;
use l2core::embed::EmbedderSpec;
use l2core::pipeline::retrain::{retrain, RetrainConfig, RetrainObserver};
use l2core::pipeline::{JobObserver, TrainConfig};
use l2core::train::{EpochStats, TrainObserver};
use std::ffi::{c_char, c_int, c_void};
use std::path::PathBuf;

/// Settings of a training job: data files, embedder, network and optimiser settings, split, threshold
/// target. Every setting starts at its documented default (see docs/c-api.md and the JSON form).
///
/// Ownership: created by `l2_train_config_new` or `l2_train_config_from_json`, owned by the caller,
/// released with `l2_train_config_free`. Thread-safety: the setters mutate it (no concurrent use while
/// a setter runs); `l2_train` and `l2_train_config_to_json` only read it.
pub struct l2_train_config {
    inner: TrainConfig,
}

/// One finished epoch, passed to the progress callback (valid only during the callback).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct l2_epoch_stats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean weighted binary cross-entropy over the training split (dropout on).
    pub train_loss: f64,
    /// Mean weighted binary cross-entropy on the validation split.
    pub val_loss: f64,
    /// Validation false-positive rate at score 0.5 (NaN if undefined; training needs both classes, so
    /// it never is).
    pub val_fpr: f64,
    /// Validation true-positive rate at score 0.5 (NaN if undefined, as `val_fpr`).
    pub val_tpr: f64,
    /// Wall-clock seconds the epoch took.
    pub seconds: f64,
}

/// Progress callback of `l2_train`, called on the training thread after every epoch with the caller's
/// `user_data`. Return 0 to continue, nonzero to cancel: training then stops and `l2_train` returns
/// `L2_STATUS_CANCELLED` without writing the model. It must not unwind (no C++ exception or longjmp out of
/// it).
pub type l2_epoch_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, stats: *const l2_epoch_stats) -> c_int>;

/// A config with every setting at its default (the built-in corpus, hashing embedder of 512 dims,
/// hidden layers 256-128-64, ...). On `L2_STATUS_OK` `*out_config` receives it, owned by the caller.
#[no_mangle]
pub extern "C" fn l2_train_config_new(out_config: *mut *mut l2_train_config) -> l2_status {
    ffi_boundary!({
        let out = out_arg(out_config, "out_config")?;
        // SAFETY: non-NULL, writable by contract.
        unsafe { out.write(Box::into_raw(Box::new(l2_train_config { inner: TrainConfig::default() }))) };
        Ok(())
    })
}

/// A config from its JSON form (NUL-terminated UTF-8): an object whose keys are those of
/// `l2_train_config_to_json` (the engine's `TrainConfig`); missing keys keep their defaults, unknown keys
/// are an error (`L2_STATUS_INVALID_JSON`, with the key in the detail). On `L2_STATUS_OK` `*out_config`
/// receives it, owned by the caller.
#[no_mangle]
pub extern "C" fn l2_train_config_from_json(json: *const c_char, out_config: *mut *mut l2_train_config) -> l2_status {
    ffi_boundary!({
        let out = out_arg(out_config, "out_config")?;
        // SAFETY: C contract: NUL-terminated string.
        let json = unsafe { arg_cstr(json, "json") }?;
        let inner = TrainConfig::from_json(json)?;
        // SAFETY: non-NULL, writable by contract.
        unsafe { out.write(Box::into_raw(Box::new(l2_train_config { inner }))) };
        Ok(())
    })
}

/// Free a config. NULL is allowed and does nothing. Freeing twice is undefined behaviour.
#[no_mangle]
pub extern "C" fn l2_train_config_free(config: *mut l2_train_config) {
    let _ = ffi_boundary!({
        if !config.is_null() {
            // SAFETY: came from `Box::into_raw` in this module and is freed once, by contract.
            drop(unsafe { Box::from_raw(config) });
        }
        Ok(())
    });
}

/// The config behind a mutable handle argument.
fn config_mut<'a>(config: *mut l2_train_config) -> CResult<&'a mut TrainConfig> {
    // SAFETY: C contract: NULL or a live config nobody else uses during the call.
    Ok(&mut unsafe { arg_mut(config, "config") }?.inner)
}

/// Add a training CSV file (NUL-terminated UTF-8 path; read when `l2_train` runs). With no file at all,
/// training uses the built-in corpus.
#[no_mangle]
pub extern "C" fn l2_train_config_add_data(config: *mut l2_train_config, csv_path: *const c_char) -> l2_status {
    ffi_boundary!({
        let config = config_mut(config)?;
        // SAFETY: C contract: NUL-terminated string.
        let path = unsafe { arg_cstr(csv_path, "csv_path") }?;
        config.data.push(PathBuf::from(path));
        Ok(())
    })
}

/// Set one scalar setting through a closure, behind the panic boundary.
fn set(config: *mut l2_train_config, apply: impl FnOnce(&mut TrainConfig) -> CResult<()>) -> l2_status {
    ffi_boundary!({ apply(config_mut(config)?) })
}

/// Maximum number of epochs (default 12). Validated by `l2_train` (`L2_STATUS_INVALID_PARAM`).
#[no_mangle]
pub extern "C" fn l2_train_config_set_epochs(config: *mut l2_train_config, epochs: usize) -> l2_status {
    set(config, |c| {
        c.train.epochs = epochs;
        Ok(())
    })
}

/// Early-stopping patience in epochs (default 3; 0 disables early stopping).
#[no_mangle]
pub extern "C" fn l2_train_config_set_patience(config: *mut l2_train_config, patience: usize) -> l2_status {
    set(config, |c| {
        c.train.patience = patience;
        Ok(())
    })
}

/// Mini-batch size (default 32). Validated by `l2_train`.
#[no_mangle]
pub extern "C" fn l2_train_config_set_batch_size(config: *mut l2_train_config, batch_size: usize) -> l2_status {
    set(config, |c| {
        c.train.batch_size = batch_size;
        Ok(())
    })
}

/// AdamW learning rate (default 1e-4). Validated by `l2_train`.
#[no_mangle]
pub extern "C" fn l2_train_config_set_learning_rate(config: *mut l2_train_config, learning_rate: f32) -> l2_status {
    set(config, |c| {
        c.train.learning_rate = learning_rate;
        Ok(())
    })
}

/// Dropout probability after each hidden layer (default 0.3). Validated by `l2_train`.
#[no_mangle]
pub extern "C" fn l2_train_config_set_dropout(config: *mut l2_train_config, dropout: f32) -> l2_status {
    set(config, |c| {
        c.train.dropout = dropout;
        Ok(())
    })
}

/// Seed of initialisation, shuffling, dropout and the split (default 42): equal seeds and data give
/// bit-identical models.
#[no_mangle]
pub extern "C" fn l2_train_config_set_seed(config: *mut l2_train_config, seed: u64) -> l2_status {
    set(config, |c| {
        c.train.seed = seed;
        c.split.seed = seed;
        Ok(())
    })
}

/// Hidden layer widths: `n` entries at `widths` (default 256, 128, 64). `n` may be 0 (a linear model;
/// `widths` may then be NULL); a width of 0 gives `L2_STATUS_INVALID_PARAM`.
#[no_mangle]
pub extern "C" fn l2_train_config_set_hidden(
    config: *mut l2_train_config,
    widths: *const usize,
    n: usize,
) -> l2_status {
    ffi_boundary!({
        let config = config_mut(config)?;
        let widths: &[usize] = if n == 0 {
            &[]
        } else {
            // SAFETY: C contract: `n` readable entries.
            unsafe { arg_slice(widths, n, "widths") }?
        };
        if let Some(i) = widths.iter().position(|&w| w == 0) {
            return Err(fail(
                l2_status::InvalidParam,
                format!("widths[{i}] is 0: every hidden width must be at least 1"),
            ));
        }
        config.train.hidden = widths.to_vec();
        Ok(())
    })
}

/// False-positive rate the decision threshold is calibrated for on the validation split (default 0.01),
/// in [0, 1].
#[no_mangle]
pub extern "C" fn l2_train_config_set_target_fpr(config: *mut l2_train_config, target_fpr: f64) -> l2_status {
    set(config, |c| {
        if !(target_fpr.is_finite() && (0.0..=1.0).contains(&target_fpr)) {
            return Err(fail(l2_status::InvalidParam, format!("target_fpr is {target_fpr}: must be in [0, 1]")));
        }
        c.target_fpr = target_fpr;
        Ok(())
    })
}

/// Train on dense hashing embeddings of `dims` (as `l2 train --dims`): the embedder becomes the
/// built-in hashing one at that width (its other settings kept when it already was), and the model an
/// MLP over it. The default config trains the wide-and-deep model on sparse n-grams instead.
#[no_mangle]
pub extern "C" fn l2_train_config_set_embedding_dims(config: *mut l2_train_config, dims: usize) -> l2_status {
    set(config, |c| {
        match &mut c.embedder {
            EmbedderSpec::Hash(h) => h.dims = dims,
            other => *other = EmbedderSpec::Hash(l2core::embed::HashSpec::with_dims(dims)),
        }
        Ok(())
    })
}

/// Continue past invalid CSV rows instead of failing on a file with invalid rows (default false). Rows
/// left out (invalid, or conflicting labels) are written to the rejects file (`l2_train_config_set_rejects`);
/// without one, `l2_train` fails with `L2_STATUS_INVALID_PARAM` rather than drop them silently.
#[no_mangle]
pub extern "C" fn l2_train_config_set_skip_invalid(config: *mut l2_train_config, skip_invalid: bool) -> l2_status {
    set(config, |c| {
        c.skip_invalid = skip_invalid;
        Ok(())
    })
}

/// Where rows left out of training are written, as CSV (NUL-terminated UTF-8 path; default none).
#[no_mangle]
pub extern "C" fn l2_train_config_set_rejects(config: *mut l2_train_config, rejects_path: *const c_char) -> l2_status {
    ffi_boundary!({
        let config = config_mut(config)?;
        // SAFETY: C contract: NUL-terminated string.
        let path = unsafe { arg_cstr(rejects_path, "rejects_path") }?;
        config.rejects = Some(PathBuf::from(path));
        Ok(())
    })
}

/// The config's JSON form (accepted by `l2_train_config_from_json`) copied into `buf` (`len` bytes)
/// with a NUL; `len`/`out_n` conventions as `l2_model_metadata_json`.
#[no_mangle]
pub extern "C" fn l2_train_config_to_json(
    config: *const l2_train_config,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> l2_status {
    ffi_boundary!({
        // SAFETY: C contract: NULL or a live config.
        let config = &unsafe { arg_ref(config, "config") }?.inner;
        let json = serde_json::to_string_pretty(config).map_err(|e| l2core::Error::json("training config", e))?;
        // SAFETY: C contract: `buf` writable for `len` bytes, `out_n` for one size_t.
        unsafe { copy_text_out(&json, buf, len, out_n) }
    })
}

/// Forwards epoch stats to the C callback and turns a nonzero return into cancellation.
pub(crate) struct Callback {
    pub(crate) cb: l2_epoch_callback,
    pub(crate) user_data: *mut c_void,
}

impl TrainObserver for Callback {
    fn on_epoch(&mut self, s: &EpochStats) -> bool {
        let Some(cb) = self.cb else { return true };
        let stats = l2_epoch_stats {
            epoch: s.epoch,
            train_loss: s.train_loss,
            val_loss: s.val_loss,
            val_fpr: s.val_fpr.unwrap_or(f64::NAN),
            val_tpr: s.val_tpr.unwrap_or(f64::NAN),
            seconds: s.seconds,
        };
        // SAFETY: the caller of `l2_train` promised a valid callback; `stats` outlives the call.
        unsafe { cb(self.user_data, &stats) == 0 }
    }
}

impl JobObserver for Callback {}
impl RetrainObserver for Callback {}

/// Run the retrain job, the reinforcement loop of the `l2 retrain` command: production false positives ->
/// reinforcement rows -> training on the existing data plus them -> the release gate against the
/// baseline -> registered, and promoted to production only when the gate passes.
///
/// `config_json` (NUL-terminated UTF-8) is the job's JSON form: `false_positives` (an `l2 eval
/// --fp-report` JSON or a CSV), `train` and `test` (arrays of CSV paths) are required; `baseline`
/// (default "production"), `registry`, `out_dir` (default "l2-retrain"), `dry_run`, `hard_negatives`,
/// `benign_sim`, `report_dir` and the objects `reinforce`, `training` (the `l2_train_config` JSON form)
/// and `gate` are optional (docs/c-api.md); an unknown key is `L2_STATUS_INVALID_JSON`. `on_epoch` and
/// `user_data` are as for `l2_train`. On `L2_STATUS_OK` `*out_passed` receives whether the gate passed (a
/// failing gate is not an error); the job's summary is in `<out_dir>/retrain.json`, the gate's report in
/// `<out_dir>/gate/`. Blocks until done.
#[no_mangle]
pub extern "C" fn l2_retrain(
    config_json: *const c_char,
    on_epoch: l2_epoch_callback,
    user_data: *mut c_void,
    out_passed: *mut bool,
) -> l2_status {
    ffi_boundary!({
        let out = out_arg(out_passed, "out_passed")?;
        // SAFETY: C contract: NUL-terminated string.
        let json = unsafe { arg_cstr(config_json, "config_json") }?;
        let config = RetrainConfig::from_json(json)?;
        let outcome = retrain(&config, &mut Callback { cb: on_epoch, user_data })?;
        // SAFETY: non-NULL, writable by contract.
        unsafe { out.write(outcome.gate.passed) };
        Ok(())
    })
}

/// Train a model with `config` (data, embedder, network, split, calibration), write it atomically to
/// `model_path` (NUL-terminated UTF-8), and when `out_model` is not NULL hand the trained model back in
/// `*out_model` (owned by the caller; free with `l2_model_free`).
///
/// `on_epoch` (may be NULL) is called with `user_data` (may be NULL) after each epoch, on the calling
/// thread; returning nonzero cancels: `L2_STATUS_CANCELLED`, no file written. Other failures:
/// `L2_STATUS_IO` (unreadable CSV, unwritable model path), `L2_STATUS_INVALID_DATA` (invalid rows, a
/// class missing), `L2_STATUS_INVALID_PARAM` (a setting out of range), `L2_STATUS_TRAINING`. The same
/// config and data give the same model file as the `l2 train` command. Blocks until done; `config` is
/// only read, so one config may train on several threads at once.
#[no_mangle]
pub extern "C" fn l2_train(
    config: *const l2_train_config,
    model_path: *const c_char,
    on_epoch: l2_epoch_callback,
    user_data: *mut c_void,
    out_model: *mut *const l2_model,
) -> l2_status {
    ffi_boundary!({
        // SAFETY: C contract: NULL or a live config.
        let config = &unsafe { arg_ref(config, "config") }?.inner;
        // SAFETY: C contract: NUL-terminated string.
        let path = unsafe { arg_cstr(model_path, "model_path") }?;
        let mut observer = Callback { cb: on_epoch, user_data };
        let outcome = l2core::pipeline::train(config, None, &mut observer)?;
        outcome.model.save(path)?;
        if !out_model.is_null() {
            // SAFETY: non-NULL, writable by contract.
            unsafe { out_model.write(l2_model::into_raw(outcome.model)) };
        }
        Ok(())
    })
}
