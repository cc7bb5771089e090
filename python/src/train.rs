//! Training from Python: the whole job (`l2core.train`), the retrain job (`l2core.retrain`), evaluation
//! (`l2core.evaluate`), and the bare MLP trainer behind `l2core.MLPClassifier`. All run without the GIL;
//! Ctrl-C and exceptions raised by a progress callback cancel training between batches.

use crate::arrays;
use crate::data::PyRecords;
use crate::errors::{type_error, IntoPy};
use crate::model::PyModel;
use crate::report::PyReport;
use l2core::embed::{EmbedderSpec, HashSpec};
use l2core::infer::Scorer;
use l2core::model::ModelMeta;
use l2core::nn::{Layer, LayerWeights, Precision};
use l2core::pipeline::retrain::{retrain, RetrainConfig, RetrainObserver};
use l2core::pipeline::{self, JobObserver, TrainConfig};
use l2core::train::{self as l2train, EpochStats, TrainObserver, TrainParams, TrainSet};
use l2core::Error;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyList;

/// How many mini-batches pass between checks for Ctrl-C (each check takes the GIL briefly).
const SIGNAL_EVERY: usize = 32;

/// Forwards progress to Python: checks for signals now and then, calls the optional per-epoch callback
/// with a dict, and remembers the first Python exception so that it is re-raised as is.
struct PyObserver {
    callback: Option<Py<PyAny>>,
    error: Option<PyErr>,
    batches: usize,
}

impl PyObserver {
    fn new(callback: Option<Py<PyAny>>) -> Self {
        PyObserver { callback, error: None, batches: 0 }
    }

    fn keep_going(&mut self, r: PyResult<()>) -> bool {
        match r {
            Ok(()) => true,
            Err(e) => {
                self.error.get_or_insert(e);
                false
            }
        }
    }

    /// The engine's result, with a cancellation caused by a Python exception turned back into it.
    fn finish<T>(self, r: l2core::Result<T>) -> PyResult<T> {
        match (r, self.error) {
            (Err(_), Some(e)) => Err(e),
            (r, _) => r.py_err(),
        }
    }
}

impl TrainObserver for PyObserver {
    fn on_batch(&mut self, _epoch: usize, _done: usize, _total: usize) -> bool {
        self.batches += 1;
        if !self.batches.is_multiple_of(SIGNAL_EVERY) {
            return true;
        }
        let r = Python::attach(|py| py.check_signals());
        self.keep_going(r)
    }

    fn on_epoch(&mut self, stats: &EpochStats) -> bool {
        let r = Python::attach(|py| {
            py.check_signals()?;
            if let Some(cb) = &self.callback {
                let json = serde_json::to_string(stats).map_err(|e| crate::errors::to_py(Error::json("epoch", e)))?;
                let d = py.import("json")?.call_method1("loads", (json,))?;
                cb.bind(py).call1((d,))?;
            }
            Ok(())
        });
        self.keep_going(r)
    }
}

impl JobObserver for PyObserver {}
impl RetrainObserver for PyObserver {}

/// The hashing embedder `spec` with the fields of the JSON object `overrides` replaced.
fn hash_overrides(spec: &EmbedderSpec, overrides: &str) -> PyResult<EmbedderSpec> {
    let bad = |e: String| crate::errors::to_py(Error::param("embedder", overrides, e));
    // Hashing settings select the hashing embedder (as `l2 train --dims`), from its defaults unless the
    // config already has one.
    let h = match spec {
        EmbedderSpec::Hash(h) => h.clone(),
        _ => HashSpec::default(),
    };
    let mut value = serde_json::to_value(&h).map_err(|e| bad(e.to_string()))?;
    let extra: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(overrides).map_err(|e| bad(e.to_string()))?;
    if let Some(obj) = value.as_object_mut() {
        obj.extend(extra);
    }
    let h: HashSpec = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
    Ok(EmbedderSpec::Hash(h))
}

/// The training job's settings at their defaults, as the TrainConfig JSON form: the one source of
/// `l2core.TRAIN_DEFAULTS`.
#[pyfunction]
#[pyo3(signature = (preset = None))]
pub fn train_config_defaults(preset: Option<&str>) -> PyResult<String> {
    let config = TrainConfig::preset(preset.unwrap_or("default")).py_err()?;
    serde_json::to_string(&config).map_err(|e| Error::json("training config", e)).py_err()
}

fn config_from_json(json: &str) -> PyResult<TrainConfig> {
    // `from_json`: a "preset" key starts from that preset, as `l2 train --config` reads it.
    TrainConfig::from_json(json).map_err(|e| Error::param("settings", json, e.to_string())).py_err()
}

/// Run the training job described by `config_json` (the TrainConfig JSON form) on the files it names,
/// the given rows, or the built-in corpus; `hash_json` (an object of HashSpec fields: dims, char_ngrams ...)
/// overrides settings of the hashing embedder. Returns the trained, calibrated model.
#[pyfunction]
#[pyo3(signature = (config_json, records = None, callback = None, hash_json = None))]
pub fn _train(
    py: Python<'_>,
    config_json: &str,
    records: Option<&Bound<'_, PyRecords>>,
    callback: Option<Py<PyAny>>,
    hash_json: Option<&str>,
) -> PyResult<PyModel> {
    let mut config = config_from_json(config_json)?;
    if let Some(overrides) = hash_json {
        config.embedder = hash_overrides(&config.embedder, overrides)?;
    }
    // The job de-duplicates the rows and writes their rejects (invalid when read, then label conflicts).
    let rows = records.map(|r| r.get().loaded.clone());
    let mut observer = PyObserver::new(callback);
    let result = py.detach(|| pipeline::train(&config, rows, &mut observer));
    let outcome = observer.finish(result)?;
    Ok(PyModel { inner: outcome.model })
}

/// Run the retrain job (reinforce -> train -> gate -> register) described by `config_json` (the
/// RetrainConfig JSON form); returns its summary as JSON (the `retrain.json` it also writes).
#[pyfunction]
#[pyo3(signature = (config_json, callback = None))]
pub fn _retrain(py: Python<'_>, config_json: &str, callback: Option<Py<PyAny>>) -> PyResult<String> {
    let config = serde_json::from_str::<RetrainConfig>(config_json)
        .map_err(|e| Error::param("retrain settings", config_json, e.to_string()))
        .py_err()?;
    let mut observer = PyObserver::new(callback);
    let result = py.detach(|| retrain(&config, &mut observer));
    let outcome = observer.finish(result)?;
    outcome.summary().to_json().py_err()
}

/// Score `records` with `model` and evaluate at `threshold` (the model's when None).
#[pyfunction]
#[pyo3(signature = (model, records, threshold = None))]
pub fn _evaluate(
    py: Python<'_>,
    model: &Bound<'_, PyModel>,
    records: &Bound<'_, PyRecords>,
    threshold: Option<f32>,
) -> PyResult<PyReport> {
    let model = &model.get().inner;
    let rows = &records.get().loaded.records;
    let t = threshold.unwrap_or(model.threshold());
    let report =
        py.detach(|| Ok::<_, Error>(model.evaluate(rows, t, &l2core::eval::Targets::default())?.0)).py_err()?;
    Ok(PyReport::from(report))
}

fn vector<'a>(a: &'a PyReadonlyArray1<'_, f32>, what: &str, n: usize) -> PyResult<&'a [f32]> {
    let s = a.as_slice().map_err(|e| type_error(format!("{what}: {e}")))?;
    if s.len() != n {
        return Err(crate::errors::to_py(Error::shape(what, n, s.len())));
    }
    Ok(s)
}

/// Train the bare MLP on embeddings: `x` (n, d) C-contiguous float32, `y` (n,) float32 0/1 labels,
/// `w` (n,) float32 sample weights, and the same for the early-stopping validation set. `params_json`
/// is the TrainParams JSON form.
#[pyfunction]
#[pyo3(signature = (x, y, w, x_val, y_val, w_val, params_json, callback = None))]
#[allow(clippy::too_many_arguments)]
pub fn _fit_mlp(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    y: PyReadonlyArray1<'_, f32>,
    w: PyReadonlyArray1<'_, f32>,
    x_val: &Bound<'_, PyAny>,
    y_val: PyReadonlyArray1<'_, f32>,
    w_val: PyReadonlyArray1<'_, f32>,
    params_json: &str,
    callback: Option<Py<PyAny>>,
) -> PyResult<PyNetwork> {
    let params: TrainParams =
        serde_json::from_str(params_json).map_err(|e| Error::param("params", params_json, e.to_string())).py_err()?;
    let params = params.check().py_err()?;
    let (xt, xv) = (arrays::embeddings(x)?, arrays::embeddings(x_val)?);
    if xv.d != xt.d {
        return Err(crate::errors::to_py(Error::shape("validation features", xt.d, xv.d)));
    }
    let train =
        TrainSet { x: xt.as_slice()?, dims: xt.d, y: vector(&y, "y", xt.n)?, w: vector(&w, "sample_weight", xt.n)? };
    let val = TrainSet {
        x: xv.as_slice()?,
        dims: xv.d,
        y: vector(&y_val, "y_val", xv.n)?,
        w: vector(&w_val, "w_val", xv.n)?,
    };
    let mut observer = PyObserver::new(callback);
    let result = py.detach(|| l2train::fit_mlp(&params, &train, &val, &mut observer));
    let (mlp, history) = observer.finish(result)?;
    let history = serde_json::to_string(&history).map_err(|e| Error::json("history", e)).py_err()?;
    PyNetwork::new(mlp.to_layers(), history)
}

/// What `_Network.__reduce__` returns: the constructor and its arguments.
type Reduced<'py> = (Bound<'py, PyAny>, (Bound<'py, PyList>, String));

/// A trained bare network (internal; the state of a fitted `l2core.MLPClassifier`).
#[pyclass(name = "_Network", module = "l2core._l2core", frozen)]
pub struct PyNetwork {
    layers: Vec<Layer>,
    scorer: Scorer,
    history_json: String,
}

impl PyNetwork {
    fn new(layers: Vec<Layer>, history_json: String) -> PyResult<PyNetwork> {
        for (i, l) in layers.iter().enumerate() {
            l.check(&format!("layers.{i}")).py_err()?;
        }
        let scorer = Scorer::new(&layers).py_err()?;
        Ok(PyNetwork { layers, scorer, history_json })
    }
}

#[pymethods]
impl PyNetwork {
    /// Rebuild from `[(W, b), ...]` (W float32 (outputs, inputs), b float32 (outputs,)), as `weights()`
    /// returns them.
    #[staticmethod]
    #[pyo3(signature = (weights, history_json = String::from("null")))]
    fn from_weights(weights: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)>, history_json: String) -> PyResult<PyNetwork> {
        let mut layers = Vec::with_capacity(weights.len());
        for (i, (wt, b)) in weights.iter().enumerate() {
            let wt = arrays::embeddings(wt)?;
            let b = arrays::embeddings(&b.call_method1("reshape", ((1, -1),))?)?;
            if i > 0 {
                let prev: &Layer = &layers[i - 1];
                if prev.outputs != wt.d {
                    return Err(crate::errors::to_py(Error::shape(
                        format!("layers.{i}.weight inputs"),
                        prev.outputs,
                        wt.d,
                    )));
                }
            }
            layers.push(Layer {
                inputs: wt.d,
                outputs: wt.n,
                weights: LayerWeights::F32(wt.as_slice()?.to_vec()),
                bias: b.as_slice()?.to_vec(),
            });
        }
        if layers.last().is_none_or(|l| l.outputs != 1) {
            return Err(crate::errors::to_py(Error::shape(
                "last layer outputs",
                1,
                layers.last().map_or(0, |l| l.outputs),
            )));
        }
        PyNetwork::new(layers, history_json)
    }

    /// `[(W, b), ...]` as float32 arrays, input layer first.
    fn weights<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for l in &self.layers {
            let LayerWeights::F32(w) = &l.weights else {
                return Err(type_error("only f32 networks expose their weights"));
            };
            let wt = PyArray1::from_slice(py, w).reshape([l.outputs, l.inputs])?;
            list.append((wt, PyArray1::from_slice(py, &l.bias)))?;
        }
        Ok(list)
    }

    /// Input width.
    #[getter]
    fn n_features(&self) -> usize {
        self.scorer.input_dims()
    }

    /// The training history (per-epoch losses and rates, best epoch) as JSON.
    #[getter]
    fn history_json(&self) -> &str {
        &self.history_json
    }

    /// Probability of class 1 for each row of `x` (float32, shape (n,)).
    fn predict_proba<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyArray1<f32>>> {
        let x = arrays::embeddings(x)?;
        if x.d != self.scorer.input_dims() {
            return Err(crate::errors::to_py(Error::shape(
                "X",
                format!("(n, {})", self.scorer.input_dims()),
                format!("({}, {})", x.n, x.d),
            )));
        }
        let data = x.as_slice()?;
        let scorer = &self.scorer;
        let scores = py.detach(|| {
            let mut out = vec![0.0; x.n];
            scorer.score_into(data, &mut out).map(|()| out)
        });
        Ok(PyArray1::from_vec(py, scores.py_err()?))
    }

    /// A full `l2core.Model` from this network, using the built-in hashing embedder at the network's
    /// input width (so the network must have been trained on `l2core.embed(texts, dims=n_features)`).
    fn to_model(&self, threshold: f32) -> PyResult<PyModel> {
        let dims = self.scorer.input_dims();
        let hidden = self.layers.iter().take(self.layers.len().saturating_sub(1)).map(|l| l.outputs).collect();
        let meta = ModelMeta {
            threshold,
            history: serde_json::from_str(&self.history_json).ok(),
            tags: [("trained_by".to_string(), "l2core.MLPClassifier".to_string())].into_iter().collect(),
            ..ModelMeta::untrained(EmbedderSpec::Hash(HashSpec::with_dims(dims)), hidden, Precision::F32)
        };
        Ok(PyModel { inner: l2core::Model::new(meta, self.layers.clone()).py_err()? })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let py = slf.py();
        let ctor = py.get_type::<PyNetwork>().getattr("from_weights")?;
        Ok((ctor, (slf.get().weights(py)?, slf.get().history_json.clone())))
    }
}
