"""Score Ray Datasets with an l2core model, and mine them for false positives, on Ray workers.

    from l2core import ray as l2ray

    scored = l2ray.score(ds, "model.l2")          # ds + score (float32), malicious (bool), model_sha256
    report = l2ray.fp_report(traffic, "model.l2", "fp.json")   # the report `l2 eval --fp-report` writes

``Dataset.map_batches`` with a callable class: each actor of the pool loads the model once, and every
batch is a ``pyarrow.Table`` whose text column the engine reads straight from the Arrow buffers (no
Python object per row). The model file's bytes travel once through Ray's object store and each actor
checks that they hash to the sha256 the driver saw; with ``ship=False`` the actors read ``model_path``
themselves (a shared file system, or the job's ``working_dir``). The workers need the l2core wheel
(see docs/scale.md).

Needs the ``ray`` extra: ``pip install 'l2core[ray]'`` (ray[data] with pyarrow).
"""

from __future__ import annotations

from ._extras import require

ray = require("ray", "ray")
require("ray.data", "ray")
require("pyarrow", "ray")

import inspect  # noqa: E402
from typing import Any, Dict, Optional  # noqa: E402

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402

from . import _scale  # noqa: E402
from ._scale import MALICIOUS, MODEL_SHA256, SCORE, ModelRef, TallySpec  # noqa: E402

__all__ = ["score", "fp_report"]

#: Rows per batch: large enough that Ray's per-batch cost vanishes next to scoring, small enough that a
#: batch of 512-d embeddings (8 MB at 4096 rows) stays in cache-friendly sizes.
BATCH_SIZE = 4096


def _load(ref: ModelRef, blob: Any) -> Any:
    """The model in this actor: from the object store (``blob``: the file's bytes, or a reference to
    them) or, without one, from ``ref.path``."""
    if blob is None:
        return _scale.load_from_path(ref, ref.path)

    def source() -> bytes:
        return ray.get(blob) if isinstance(blob, ray.ObjectRef) else blob

    return _scale.load_model(ref.sha256, source, f"`{ref.file_name}` (from Ray's object store)")


def _where(i: int) -> str:
    return f"row {i} of a batch"


class _Scorer:
    """The scoring actor: one model per actor, one Arrow table in and out per batch."""

    def __init__(self, ref: ModelRef, blob: Any, text_column: str, threshold: float) -> None:
        self._model = _load(ref, blob)
        self._sha = pa.array([ref.sha256])
        self._text, self._threshold = text_column, threshold

    def __call__(self, batch: Any) -> Any:
        _scale.check_new_columns(batch.schema.names, [SCORE, MALICIOUS, MODEL_SHA256])
        texts = _scale.column(batch, self._text, "text")
        score_arr, malicious = _scale.score_texts(self._model, texts, self._text, self._threshold, _where)
        # One string in a dictionary, not one per row.
        sha = pa.DictionaryArray.from_arrays(pa.array(np.zeros(batch.num_rows, np.int32)), self._sha)
        out = batch.append_column(SCORE, score_arr).append_column(MALICIOUS, malicious)
        return out.append_column(MODEL_SHA256, sha)


class _Tallier:
    """The false-positive actor: one tally table (flagged rows, counts, row count) per batch."""

    def __init__(self, ref: ModelRef, blob: Any, spec: TallySpec, threshold: float) -> None:
        self._model = _load(ref, blob)
        self._spec, self._threshold = spec, threshold

    def __call__(self, batch: Any) -> Any:
        flagged, counts, n = _scale.tally_batch(self._model, batch, self._spec, self._threshold, 0, 0, _where)
        return pa.Table.from_batches([flagged, _scale.closing_batch(0, counts, n)])


def _map(
    dataset: Any, cls: type, kwargs: Dict[str, Any], batch_size: int, concurrency: Optional[int], same_rows: bool
) -> Any:
    extra: Dict[str, Any] = {}
    if concurrency is not None:
        extra["compute"] = ray.data.ActorPoolStrategy(size=concurrency)
    if same_rows and "udf_modifying_row_count" in inspect.signature(dataset.map_batches).parameters:
        extra["udf_modifying_row_count"] = False
    return dataset.map_batches(
        cls,
        fn_constructor_kwargs=kwargs,
        batch_format="pyarrow",
        batch_size=batch_size,
        zero_copy_batch=True,
        **extra,
    )


def score(
    dataset: Any,
    model_path: Any,
    text_column: str = "text",
    *,
    threshold: Optional[float] = None,
    ship: bool = True,
    batch_size: int = BATCH_SIZE,
    concurrency: Optional[int] = None,
) -> Any:
    """``dataset`` with three more columns: ``score`` (float32, the malicious probability, equal bit for
    bit to ``Model.score``), ``malicious`` (bool, ``score >= threshold``) and ``model_sha256`` (the sha256
    of the model file's bytes, as the registry records it).

    Lazy, like any Dataset transformation. ``threshold`` overrides the model's; ``concurrency`` fixes
    the actor pool's size (default: Ray's autoscaling pool). A null text fails with a TypeError naming
    its position in the batch. The model file is read and verified on the driver first.
    """
    ref = ModelRef.of(model_path)
    t = ref.threshold if threshold is None else float(threshold)
    blob = ray.put(ref.read()) if ship else None
    kwargs = {"ref": ref, "blob": blob, "text_column": text_column, "threshold": t}
    return _map(dataset, _Scorer, kwargs, batch_size, concurrency, same_rows=True)


def fp_report(
    dataset: Any,
    model_path: Any,
    output: Any = None,
    *,
    text_column: str = "text",
    label_column: Optional[str] = "label",
    category_column: Optional[str] = "category",
    id_column: Optional[str] = None,
    threshold: Optional[float] = None,
    model_id: Optional[str] = None,
    ship: bool = True,
    batch_size: int = BATCH_SIZE,
    concurrency: Optional[int] = None,
) -> Dict[str, Any]:
    """The false-positive mining of ``l2 eval --fp-report`` over a Dataset; the arguments and the report
    are those of :func:`l2core.spark.fp_report`. Without ``id_column`` false positives are named
    ``row-<position>`` in the Dataset's order, so this run preserves the order of blocks
    (``preserve_order``, restored afterwards). Only the flagged rows and the counts reach the driver.
    """
    ref = ModelRef.of(model_path, model_id)
    spec = TallySpec(text_column, label_column, category_column, id_column)
    t = ref.threshold if threshold is None else float(threshold)
    blob = ray.put(ref.read()) if ship else None
    kwargs = {"ref": ref, "blob": blob, "spec": spec, "threshold": t}
    tallies = _map(dataset.select_columns(spec.columns()), _Tallier, kwargs, batch_size, concurrency, same_rows=False)
    options = tallies.context.execution_options
    kept = options.preserve_order
    options.preserve_order = True
    try:
        tables = ray.get(tallies.to_arrow_refs())
    finally:
        options.preserve_order = kept
    table = pa.concat_tables(tables) if tables else _scale.TALLY_SCHEMA.empty_table()
    return _scale.assemble(table, ref.model_id, output, pieces_in_order=True)
