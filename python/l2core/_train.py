"""``l2core.train`` and ``l2core.evaluate``: the CLI's training job and evaluation, from Python."""

from __future__ import annotations

import json
import os
from typing import Any, Callable, Dict, Mapping, Optional, Union

from . import _l2core
from ._data import _is_frame, _paths, _records, Dataset

_HASH_SETTINGS = ("dims", "char_ngrams", "word_ngrams", "char_weight", "word_weight")

_TRAIN_PARAMS = ("hidden", "dropout", "learning_rate", "weight_decay", "beta1", "beta2", "epsilon",
                 "batch_size", "epochs", "patience", "seed", "embed", "wide", "select", "head_weight")


def _defaults() -> Dict[str, Any]:
    """The flat settings of ``train`` at the engine's defaults (Rust's ``TrainConfig::default()``).

    The hashing-embedder settings default to None: the default model reads sparse n-grams, and giving
    any of them trains the MLP on hashing embeddings instead (as ``l2 train --dims`` does)."""
    config = json.loads(_l2core.train_config_defaults())
    train, split = config["train"], config["split"]
    out: Dict[str, Any] = {name: train[name] for name in _TRAIN_PARAMS}
    out.update({name: None for name in _HASH_SETTINGS})
    out["hidden"] = tuple(out["hidden"])
    out["preset"] = None
    out["target_fpr"] = config["target_fpr"]
    out["split"] = (split["train"], split["val"], split["test"])
    out["split_seed"] = split["seed"]
    for name in ("class_weights", "use_confidence", "skip_invalid", "rejects"):
        out[name] = config[name]
    out["heads"] = config["heads"]["kinds"]
    out["min_family_rows"] = config["heads"]["min_family_rows"]
    out["config"] = None
    return out


#: The training settings of the ``seed`` preset (the seed's MLP recipe), which ``MLPClassifier``
#: (an MLP on embeddings you give it) takes as its defaults.
SEED_TRAIN_PARAMS: Dict[str, Any] = json.loads(_l2core.train_config_defaults("seed"))["train"]

#: Every setting ``train`` accepts with its default: the ``l2 train`` defaults, read from the engine
#: (``rejects`` None and ``config`` None). ``lr`` is accepted as an alias of ``learning_rate``, as on
#: the command line.
TRAIN_DEFAULTS: Dict[str, Any] = _defaults()


def _config(settings: Dict[str, Any]) -> Dict[str, Any]:
    """The TrainConfig JSON form for ``settings`` (only the given ones; the engine fills the defaults)."""
    if "lr" in settings:
        if "learning_rate" in settings:
            raise TypeError("train() got both 'lr' and 'learning_rate'")
        settings["learning_rate"] = settings.pop("lr")
    unknown = sorted(set(settings) - set(TRAIN_DEFAULTS))
    if unknown:
        raise TypeError(f"train() got an unexpected keyword argument {unknown[0]!r}")
    config: Dict[str, Any] = {}
    if settings.get("config") is not None:
        with open(settings["config"], encoding="utf-8") as f:
            config = json.load(f)
    if settings.get("preset") is not None:
        config["preset"] = settings["preset"]
    train = dict(config.get("train", {}))
    for name in _TRAIN_PARAMS:
        if name in settings:
            value = settings[name]
            train[name] = list(value) if name == "hidden" else value
    if train:
        config["train"] = train
    for name in ("target_fpr", "use_confidence", "skip_invalid"):
        if name in settings:
            config[name] = settings[name]
    if settings.get("rejects") is not None:
        config["rejects"] = os.fspath(settings["rejects"])
    if "split" in settings:
        parts = list(settings["split"])
        if len(parts) != 3:
            raise _l2core.InvalidParamError(
                f"invalid setting `split` = {settings['split']!r}: needs three fractions train,val,test"
            )
        split = dict(config.get("split", {}))
        split.update(train=parts[0], val=parts[1], test=parts[2])
        config["split"] = split
    if "split_seed" in settings:
        split = dict(config.get("split", {}))
        split["seed"] = settings["split_seed"]
        config["split"] = split
    if "heads" in settings or "min_family_rows" in settings:
        heads = dict(config.get("heads", {}))
        if "heads" in settings:
            kinds = settings["heads"]
            if isinstance(kinds, str):
                kinds = None if kinds == "auto" else [] if kinds == "none" else kinds.split(",")
            heads["kinds"] = None if kinds is None else list(kinds)
        if "min_family_rows" in settings:
            heads["min_family_rows"] = settings["min_family_rows"]
        config["heads"] = heads
    cw = settings.get("class_weights")
    if cw is not None:
        if isinstance(cw, dict):
            config["class_weights"] = {"benign": cw["benign"], "malicious": cw["malicious"]}
        else:
            parts = list(cw)
            if len(parts) != 2:
                raise _l2core.InvalidParamError(
                    f"invalid setting `class_weights` = {cw!r}: needs two weights benign,malicious"
                )
            config["class_weights"] = {"benign": parts[0], "malicious": parts[1]}
    return config


def train(
    data: Any = None,
    *,
    callback: Optional[Callable[[Dict[str, Any]], Any]] = None,
    **settings: Any,
) -> "_l2core.Model":
    """Train, calibrate and evaluate a model, exactly like ``l2 train`` (same defaults, same names).

    ``data``: None for the built-in demo corpus; a CSV path or a list of CSV paths (merged and
    de-duplicated, recorded in the model's data fingerprint); a pandas DataFrame with the schema columns
    (text and label required); or a Dataset from ``read_csv``. Settings (see ``TRAIN_DEFAULTS``):
    preset ("default", or "seed" for the seed's MLP recipe), hidden, dropout, learning_rate (alias lr),
    weight_decay, beta1, beta2, epsilon, batch_size, epochs, patience, seed, embed (the embedding-bag
    width), wide (the linear term), select ("recall_at_fpr", "auc" or "val_loss": the epoch kept),
    heads (None or "auto": each head whose column has more than one value; "family", "severity", a
    list of them, or "none"), min_family_rows (rarer families fold into OTHER), head_weight, dims,
    char_ngrams=(min, max), word_ngrams=(min, max), char_weight, word_weight (the hashing embedder:
    giving any trains the MLP on hashing embeddings, as ``l2 train --dims``), target_fpr, split=(train, val, test), split_seed, class_weights=(benign,
    malicious), use_confidence, skip_invalid, rejects (CSV path for rejected rows: required when any row
    is rejected, so that none is lost silently), config (a TrainConfig JSON file the settings override).
    An unknown setting raises TypeError naming it; an out-of-range one InvalidParamError.

    ``callback``, when given, is called after each epoch with a dict (epoch, train_loss, val_loss,
    val_fpr, val_tpr, seconds); an exception it raises, or Ctrl-C, stops training and propagates.
    Training runs without the GIL. Returns the calibrated :class:`Model` (its ``report`` is the
    test-split evaluation).
    """
    hash_settings = {k: settings.pop(k) for k in _HASH_SETTINGS if settings.get(k) is not None}
    for k in ("char_ngrams", "word_ngrams"):
        if k in hash_settings:
            hash_settings[k] = list(hash_settings[k])
    config = _config(settings)
    records = None
    if data is not None:
        paths = _paths(data)
        if paths is not None:
            config["data"] = paths
        elif _is_frame(data) or isinstance(data, Dataset):
            records = _records(data, skip_invalid=bool(config.get("skip_invalid", False)))
        else:
            raise TypeError(
                "data must be None (built-in corpus), a CSV path, a list of CSV paths, a pandas DataFrame "
                f"or an l2core.Dataset, got {type(data).__name__}"
            )
    hash_json = json.dumps(hash_settings) if hash_settings else None
    return _l2core._train(json.dumps(config), records, callback, hash_json)


def evaluate(
    model: "_l2core.Model",
    data: Any,
    *,
    threshold: Optional[float] = None,
    skip_invalid: bool = False,
    rejects: Optional[str] = None,
) -> "_l2core.Report":
    """Evaluate ``model`` on labelled data, like ``l2 eval``: returns a :class:`Report`.

    ``data``: a CSV path or a list of them (merged and de-duplicated), a pandas DataFrame, or a Dataset.
    ``threshold`` overrides the model's. With ``skip_invalid`` invalid rows are left out and written to
    ``rejects`` (required then, so that no row is lost silently).
    """
    if not isinstance(model, _l2core.Model):
        raise TypeError(f"model must be an l2core.Model, got {type(model).__name__}")
    records = _records(data, skip_invalid=skip_invalid, merge=True)
    rejected = len(records.rejects())
    if rejected:
        if rejects is None:
            raise _l2core.InvalidParamError(
                f"invalid setting `rejects` = none: {rejected} row(s) were rejected; give a rejects file"
            )
        records.write_rejects(os.fspath(rejects))
    return _l2core._evaluate(model, records, threshold)


def retrain(
    config: Union[Mapping[str, Any], str, "os.PathLike[str]"],
    *,
    callback: Optional[Callable[[Dict[str, Any]], Any]] = None,
) -> Dict[str, Any]:
    """Run the reinforcement loop, exactly like ``l2 retrain``: production false positives ->
    reinforcement rows -> training on the existing data plus them -> the release gate against the
    baseline -> registered, and promoted to production only when the gate passes.

    ``config`` is the engine's retrain settings as a dict (or a path to a JSON file of them):
    ``false_positives`` (the ``l2 eval --fp-report`` JSON or a CSV), ``train`` and ``test`` (lists of CSV
    paths) are required; ``baseline`` (default ``"production"``), ``registry``, ``out_dir``
    (``"l2-retrain"``), ``dry_run``, ``hard_negatives``, ``benign_sim``, ``report_dir`` and the sections
    ``reinforce``, ``training`` (the TrainConfig form) and ``gate`` (e.g. ``{"min_tpr": 0.9}``) are
    optional, with the ``l2 retrain`` defaults; an unknown key raises InvalidParamError naming it.
    ``callback`` is called after each training epoch as in :func:`train`.

    Returns the summary (also written to ``<out_dir>/retrain.json``): ``passed``, ``failed`` (criteria),
    ``candidate`` (model path), ``threshold``, ``reinforcement_rows``, ``gate_markdown``, ``registered``
    (the registry version, None in a dry run) and ``promoted``. A failing gate is not an exception: check
    ``passed``.
    """
    if isinstance(config, Mapping):
        text = json.dumps(dict(config), default=os.fspath)
    else:
        with open(config, encoding="utf-8") as f:
            text = f.read()
    summary: Dict[str, Any] = json.loads(_l2core._retrain(text, callback))
    return summary

