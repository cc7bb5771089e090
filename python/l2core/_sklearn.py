"""``l2core.MLPClassifier``: a scikit-learn compatible estimator on the engine's MLP trainer.

scikit-learn is optional: with it installed the estimator derives from ``BaseEstimator`` and
``ClassifierMixin`` (so ``clone``, ``Pipeline``, ``cross_val_score`` and ``GridSearchCV`` work); without
it, a small base class provides the same ``get_params`` / ``set_params`` / ``score`` protocol.
"""

from __future__ import annotations

import inspect
import json
import math
from typing import Any, Dict, Optional

import numpy as np

from . import _l2core
from ._train import SEED_TRAIN_PARAMS, TRAIN_DEFAULTS

try:  # scikit-learn is optional
    from sklearn.base import BaseEstimator as _Base
    from sklearn.base import ClassifierMixin as _Mixin

    _HAVE_SKLEARN = True
except ImportError:  # pragma: no cover - exercised only without scikit-learn
    _HAVE_SKLEARN = False

    class _Base:  # type: ignore[no-redef]
        """Minimal stand-in for sklearn.base.BaseEstimator: parameters are the __init__ arguments."""

        @classmethod
        def _get_param_names(cls) -> list:
            sig = inspect.signature(cls.__init__)
            return sorted(p for p in sig.parameters if p != "self")

        def get_params(self, deep: bool = True) -> Dict[str, Any]:
            """The estimator's parameters."""
            return {name: getattr(self, name) for name in self._get_param_names()}

        def set_params(self, **params: Any) -> "_Base":
            """Set parameters; an unknown name raises ValueError."""
            valid = set(self._get_param_names())
            for name, value in params.items():
                if name not in valid:
                    raise ValueError(f"Invalid parameter {name!r} for estimator {type(self).__name__}")
                setattr(self, name, value)
            return self

        def __repr__(self) -> str:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"

    class _Mixin:  # type: ignore[no-redef]
        """Minimal stand-in for sklearn.base.ClassifierMixin."""

        _estimator_type = "classifier"

        def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
            """Mean (weighted) accuracy of ``predict(X)`` against ``y``."""
            hit = (self.predict(X) == np.asarray(y)).astype(float)  # type: ignore[attr-defined]
            return float(np.average(hit, weights=sample_weight))


def _not_fitted(est: Any) -> None:
    if not hasattr(est, "network_"):
        msg = (
            f"This {type(est).__name__} instance is not fitted yet. Call 'fit' with appropriate arguments "
            "before using this estimator."
        )
        if _HAVE_SKLEARN:
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(msg)
        raise AttributeError(msg)


class MLPClassifier(_Mixin, _Base):
    """Binary MLP classifier trained by the l2core engine (weighted BCE, AdamW, dropout, early stopping).

    The network is ``n_features -> hidden... -> 1`` with ReLU and a sigmoid output, trained exactly like
    ``l2 train`` trains its network, but on the feature matrix you give (e.g. ``l2core.embed(texts)``).
    Parameters default to the engine's training defaults. ``validation_fraction`` of the rows
    (stratified, seeded) is held out for early stopping; with 0, or too few rows per class, training
    monitors the training rows themselves. ``class_weight="balanced"`` multiplies sample weights by
    ``n / (2 n_c)``. Fitting runs without the GIL.

    Attributes after ``fit``: ``classes_`` (the two labels, sorted), ``n_features_in_``,
    ``history_`` (per-epoch figures, best epoch), ``n_iter_`` (epochs run), ``network_`` (internal).
    """

    def __init__(
        self,
        hidden: Any = tuple(SEED_TRAIN_PARAMS["hidden"]),
        dropout: float = SEED_TRAIN_PARAMS["dropout"],
        learning_rate: float = SEED_TRAIN_PARAMS["learning_rate"],
        weight_decay: float = SEED_TRAIN_PARAMS["weight_decay"],
        batch_size: int = SEED_TRAIN_PARAMS["batch_size"],
        epochs: int = SEED_TRAIN_PARAMS["epochs"],
        patience: int = SEED_TRAIN_PARAMS["patience"],
        validation_fraction: float = TRAIN_DEFAULTS["split"][1],
        class_weight: Any = None,
        seed: int = SEED_TRAIN_PARAMS["seed"],
    ) -> None:
        self.hidden = hidden
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.class_weight = class_weight
        self.seed = seed

    # -- scikit-learn protocol -------------------------------------------------------------------

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.classifier_tags.multi_class = False
        tags.input_tags.sparse = False
        return tags

    def _more_tags(self) -> Dict[str, Any]:  # scikit-learn < 1.6
        return {"binary_only": True}

    def _check_X(self, X: Any, reset: bool) -> np.ndarray:
        if _HAVE_SKLEARN:
            try:
                from sklearn.utils.validation import validate_data
            except ImportError:  # scikit-learn < 1.6
                X = self._validate_data(X, reset=reset, dtype=[np.float32, np.float64])  # type: ignore[attr-defined]
            else:
                X = validate_data(self, X, reset=reset, dtype=[np.float32, np.float64])
        else:
            X = np.asarray(X, dtype=np.float32)
            if X.ndim != 2:
                raise ValueError(f"Expected a 2-D array, got shape {X.shape}")
            if reset:
                self.n_features_in_ = X.shape[1]
            elif X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input"
                )
            if not np.isfinite(X).all():
                raise ValueError("Input X contains NaN or infinity.")
        return np.ascontiguousarray(X, dtype=np.float32)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "MLPClassifier":
        """Train on ``X`` (n, d) floats and binary labels ``y`` (any two values); returns self."""
        if _HAVE_SKLEARN:
            try:
                from sklearn.utils.validation import validate_data
            except ImportError:  # scikit-learn < 1.6
                X, y = self._validate_data(X, y, dtype=[np.float32, np.float64])  # type: ignore[attr-defined]
            else:
                X, y = validate_data(self, X, y, dtype=[np.float32, np.float64])
            from sklearn.utils.multiclass import check_classification_targets
            from sklearn.utils.validation import _check_sample_weight

            check_classification_targets(y)
            from sklearn.utils.multiclass import type_of_target

            y_type = type_of_target(y, input_name="y", raise_unknown=True)
            if y_type != "binary":
                raise ValueError(
                    f"Only binary classification is supported. The type of the target is {y_type}."
                )
            sw = _check_sample_weight(sample_weight, X, dtype=np.float64)
        else:
            X = self._check_X(X, reset=True)
            y = np.asarray(y)
            if y.ndim != 1 or len(y) != len(X):
                raise ValueError(f"y must be 1-D with {len(X)} entries, got shape {y.shape}")
            sw = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        X = np.ascontiguousarray(X, dtype=np.float32)
        classes = np.unique(y)
        if len(classes) != 2:
            raise ValueError(
                f"MLPClassifier is a binary classifier: y needs exactly 2 classes, got {len(classes)} "
                f"class(es) ({classes[:5].tolist()})"
            )
        self.classes_ = classes
        y01 = (y == classes[1]).astype(np.float32)
        w = np.asarray(sw, dtype=np.float64).copy()
        if self.class_weight == "balanced":
            n, n1 = len(y01), float(y01.sum())
            w *= np.where(y01 == 1, n / (2 * n1), n / (2 * (n - n1)))
        elif isinstance(self.class_weight, dict):
            unknown = set(self.class_weight) - set(classes.tolist())
            if unknown:
                raise ValueError(f"class_weight names labels not in y: {sorted(map(str, unknown))}")
            w *= np.where(y01 == 1, self.class_weight.get(classes[1], 1.0), self.class_weight.get(classes[0], 1.0))
        elif self.class_weight is not None:
            raise ValueError(f"class_weight must be None, 'balanced' or a dict, got {self.class_weight!r}")
        train_idx, val_idx = self._split(y01)
        params = {
            "hidden": [int(h) for h in (self.hidden if not isinstance(self.hidden, int) else [self.hidden])],
            "dropout": float(self.dropout),
            "learning_rate": float(self.learning_rate),
            "weight_decay": float(self.weight_decay),
            "batch_size": int(self.batch_size),
            "epochs": int(self.epochs),
            "patience": int(self.patience),
            "seed": int(self.seed),
        }
        w32 = w.astype(np.float32)
        net = _l2core._fit_mlp(
            np.ascontiguousarray(X[train_idx]),
            np.ascontiguousarray(y01[train_idx]),
            np.ascontiguousarray(w32[train_idx]),
            np.ascontiguousarray(X[val_idx]),
            np.ascontiguousarray(y01[val_idx]),
            np.ascontiguousarray(w32[val_idx]),
            json.dumps(params),
        )
        self.network_ = net
        self.history_ = json.loads(net.history_json)
        self.n_iter_ = len(self.history_.get("epochs", [])) if isinstance(self.history_, dict) else 0
        return self

    def _split(self, y01: np.ndarray) -> Any:
        """Stratified, seeded train / validation indices; the whole set twice when it cannot be split."""
        everything = np.arange(len(y01))
        frac = float(self.validation_fraction)
        if not 0.0 <= frac < 1.0:
            raise ValueError(f"validation_fraction must be in [0, 1), got {frac}")
        if frac == 0.0:
            return everything, everything
        rng = np.random.default_rng(int(self.seed))
        train, val = [], []
        for c in (0.0, 1.0):
            idx = np.flatnonzero(y01 == c)
            rng.shuffle(idx)
            k = int(math.ceil(frac * len(idx)))
            if len(idx) < 4 or k >= len(idx):
                return everything, everything
            val.append(idx[:k])
            train.append(idx[k:])
        return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))

    def _proba1(self, X: Any) -> np.ndarray:
        _not_fitted(self)
        X = self._check_X(X, reset=False)
        return self.network_.predict_proba(X).astype(np.float64)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n, 2), columns in the order of ``classes_``."""
        p = self._proba1(X)
        return np.column_stack([1.0 - p, p])

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of ``classes_[1]`` (from the float32 probability, clipped to stay finite)."""
        p = np.clip(self._proba1(X), 1e-7, 1.0 - 1e-7)
        return np.log(p) - np.log1p(-p)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels: ``classes_[1]`` where its probability exceeds 0.5."""
        p = self._proba1(X)
        return self.classes_[(p > 0.5).astype(int)]

    def to_model(self, threshold: float = 0.5) -> "_l2core.Model":
        """A full :class:`l2core.Model` (saveable, servable by the CLI and C API) from this network,
        with the built-in hashing embedder at ``n_features_in_`` dims: meaningful when the classifier
        was fitted on ``l2core.embed(texts, dims=n_features_in_)``."""
        _not_fitted(self)
        return self.network_.to_model(float(threshold))
