"""What the Spark and Ray adapters (``l2core.spark``, ``l2core.ray``) share: a model file known by its
content, loaded once per worker process; Arrow batches scored without a Python object per row; the
false-positive tally of a batch; and the report assembled on the driver by the engine, so it is the very
report ``l2 eval --fp-report`` writes.

Imported only by the adapters: it needs pyarrow, which ``import l2core`` never does.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import _l2core

#: Columns the scorers add.
SCORE, MALICIOUS, MODEL_SHA256 = "score", "malicious", "model_sha256"


@dataclass(frozen=True)
class ModelRef:
    """A model file as the driver saw it: where it is, the sha256 of its bytes (the registry's identity
    of a model file), its decision threshold, the id its false positives are reported under, and a
    summary of its metadata."""

    path: str
    sha256: str
    threshold: float
    model_id: str
    info: Dict[str, Any]

    @property
    def file_name(self) -> str:
        """Content-addressed file name, so two different models never share a name on the workers."""
        return f"{self.sha256[:16]}-{os.path.basename(self.path)}"

    @staticmethod
    def of(path: Any, model_id: Optional[str] = None) -> "ModelRef":
        """Read and verify the model file on the driver (IoError / ModelError when it is missing or bad)."""
        path = os.fspath(path)
        data = _read(path)
        model = _l2core.Model.from_bytes(data)
        meta = model.metadata
        info = {
            "file": os.path.basename(path),
            "sha256": hashlib.sha256(data).hexdigest(),
            "l2core_version": meta.get("l2core_version"),
            "format_version": meta.get("format_version"),
            "created": meta.get("created"),
            "precision": meta.get("precision"),
            "threshold": model.threshold,
        }
        # The id `l2 eval --fp-report` uses by default: the model file's stem.
        stem = os.path.splitext(os.path.basename(path))[0] or "l2"
        return ModelRef(path, info["sha256"], model.threshold, model_id or stem, info)

    def read(self) -> bytes:
        """The model file's bytes (on the driver)."""
        return _read(self.path)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        err = _l2core.IoError(f"reading model file `{path}`: {e.strerror or e}")
        err.errno, err.filename = e.errno, path
        raise err from e


_MODELS: Dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()
#: How often this process loaded each model (by sha256): once, however many batches it scores.
LOADS: Dict[str, int] = {}


def load_model(sha256: str, source: Callable[[], bytes], where: str) -> Any:
    """The model whose file has this sha256, loaded once per process (the cache is keyed by content, so
    a model already in memory is the one the job asked for): ``source()`` gives the file's bytes the
    first time. Bytes that hash to anything else (the file changed after the job started, or another
    file sits at that path on this worker) are a ModelError, never a quietly different model."""
    with _MODELS_LOCK:
        model = _MODELS.get(sha256)
        if model is None:
            data = source()
            got = hashlib.sha256(data).hexdigest()
            if got != sha256:
                raise _l2core.ModelError(
                    f"model file {where} has sha256 {got}, but the job was started with {sha256}: "
                    "it changed after the job started or is another file on this worker"
                )
            model = _MODELS[sha256] = _l2core.Model.from_bytes(data)
            LOADS[sha256] = LOADS.get(sha256, 0) + 1
        return model


def load_from_path(ref: ModelRef, path: str) -> Any:
    """The model of ``ref``, read from ``path`` on this worker."""
    return load_model(ref.sha256, lambda: _read(path), f"`{path}`")


# ---------------------------------------------------------------------------------------------------
# Scoring


def text_array(col: Any, name: str) -> List[Any]:
    """The chunks of a text column as Arrow string arrays the engine reads in place."""
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    out = []
    for c in chunks:
        t = c.type
        if pa.types.is_dictionary(t) or getattr(pa.types, "is_string_view", lambda _: False)(t):
            c = c.cast(pa.large_string())
        elif not (pa.types.is_string(t) or pa.types.is_large_string(t)):
            raise TypeError(f"text column `{name}` must hold strings, it holds {t}")
        out.append(c)
    return out


def check_texts(col: Any, name: str, where: Callable[[int], str]) -> None:
    """A null text is an error naming its row: a missing text has no score (never a quiet benign)."""
    if col.null_count:
        valid = pc.is_valid(col)
        if isinstance(valid, pa.ChunkedArray):
            valid = valid.combine_chunks()
        i = int(np.flatnonzero(~valid.to_numpy(zero_copy_only=False))[0])
        raise TypeError(
            f"{where(i)}: text column `{name}` is null ({col.null_count} null(s) in this batch): "
            "a missing text has no score"
        )


def score_column(model: Any, col: Any, name: str) -> np.ndarray:
    """Scores of a text column (Array or ChunkedArray), float32, bit-identical to ``model.score``."""
    parts = [model.score_arrow(c) for c in text_array(col, name)]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.empty(0, np.float32)


def decide(scores: np.ndarray, threshold: float) -> np.ndarray:
    """The engine's decision rule: malicious when ``score >= threshold`` (in float32)."""
    return scores >= np.float32(threshold)


def check_new_columns(names: Iterable[str], new: Iterable[str]) -> None:
    taken = sorted(set(names) & set(new))
    if taken:
        raise ValueError(
            f"the data already has column(s) {', '.join(taken)}, which scoring adds; rename or drop them first"
        )


def column(batch: Any, name: str, role: str) -> Any:
    if name not in batch.schema.names:
        raise KeyError(f"{role} column `{name}` is not in the data (columns: {', '.join(batch.schema.names)})")
    return batch.column(name)


def score_texts(model: Any, texts: Any, name: str, threshold: float, where: Callable[[int], str]) -> Tuple[Any, Any]:
    """The ``score`` and ``malicious`` Arrow arrays of a text column (Array or ChunkedArray);
    ``where(i)`` names row ``i`` in errors."""
    check_texts(texts, name, where)
    scores = score_column(model, texts, name)
    return pa.array(scores, pa.float32()), pa.array(decide(scores, threshold), pa.bool_())


# ---------------------------------------------------------------------------------------------------
# False-positive tallies
#
# A tally batch holds, for one piece of the data (a Spark partition, a Ray batch), rows of three kinds:
# the flagged benign rows (position in the piece, id, prompt, category, score), the benign-row count per
# category, and one closing row with the piece's row count. The driver turns positions in pieces into
# positions in the whole data and hands everything to the engine's FpTally.

FLAGGED, BENIGN, ROWS = 0, 1, 2

TALLY_SCHEMA = pa.schema(
    [
        ("kind", pa.int8()),
        ("piece", pa.int64()),
        ("pos", pa.int64()),
        ("n", pa.int64()),
        ("id", pa.string()),
        ("prompt", pa.string()),
        ("category", pa.string()),
        ("score", pa.float32()),
    ]
)


@dataclass(frozen=True)
class TallySpec:
    """Which columns the false-positive mining reads (label None: every row is known benign)."""

    text_column: str = "text"
    label_column: Optional[str] = "label"
    category_column: Optional[str] = "category"
    id_column: Optional[str] = None

    def columns(self) -> List[str]:
        return [c for c in (self.text_column, self.label_column, self.category_column, self.id_column) if c]


def _strings(col: Any) -> Any:
    """A column as one utf8 Array (the tally's string type; Spark's StringType)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    return col if pa.types.is_string(col.type) else col.cast(pa.string())


def benign_mask(batch: Any, spec: TallySpec, where: Callable[[int], str]) -> Optional[np.ndarray]:
    """Which rows are benign (None: all of them). Labels must be 0/1 integers or booleans."""
    if spec.label_column is None:
        return None
    col = column(batch, spec.label_column, "label")
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    t = col.type
    if pa.types.is_boolean(t):
        ok = pc.is_valid(col)
        benign = pc.invert(pc.fill_null(col, True))
    elif pa.types.is_integer(t):
        ok = pc.fill_null(pc.is_in(col, value_set=pa.array([0, 1], t)), False)
        benign = pc.fill_null(pc.equal(col, 0), False)
    else:
        raise TypeError(f"label column `{spec.label_column}` must hold 0/1 integers or booleans, it holds {t}")
    ok = ok.to_numpy(zero_copy_only=False)
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise _l2core.InvalidDataError(
            f"invalid data: {where(i)}: field `{spec.label_column}`: must be 0 or 1, got {col[i].as_py()!r} "
            f"({int((~ok).sum())} such row(s) in this batch)"
        )
    return benign.to_numpy(zero_copy_only=False)


def tally_batch(
    model: Any, batch: Any, spec: TallySpec, threshold: float, piece: int, start: int, where: Callable[[int], str]
) -> Tuple[Any, Dict[str, int], int]:
    """Score the benign rows of one batch: the flagged ones (as a tally batch, positions counted from
    ``start``), the benign rows per category, and the batch's row count."""
    n = batch.num_rows
    if spec.id_column:
        ids_all = _strings(column(batch, spec.id_column, "id"))
        at = where
        where = lambda i: f"{at(i)} (id `{ids_all[i].as_py()}`)"  # noqa: E731
    benign = benign_mask(batch, spec, where)
    texts = column(batch, spec.text_column, "text")
    check_texts(texts, spec.text_column, where)
    idx = np.arange(n) if benign is None else np.flatnonzero(benign)
    if benign is not None:
        texts = texts.take(pa.array(idx))
    scores = score_column(model, texts, spec.text_column)
    if spec.category_column:
        cats = pc.fill_null(_strings(column(batch, spec.category_column, "category")), "")
    else:
        cats = pa.repeat(pa.scalar("", pa.string()), n)
    benign_cats = cats if benign is None else cats.take(pa.array(idx))
    counts: Dict[str, int] = {}
    for vc in pc.value_counts(benign_cats).to_pylist():
        counts[vc["values"]] = counts.get(vc["values"], 0) + vc["counts"]
    hit = np.flatnonzero(decide(scores, threshold))
    rows = idx[hit]
    take = pa.array(rows)
    k = len(rows)
    if spec.id_column:
        ids = ids_all.take(take)
    else:
        ids = pa.nulls(k, pa.string())
    flagged = pa.RecordBatch.from_arrays(
        [
            pa.array(np.full(k, FLAGGED, np.int8)),
            pa.array(np.full(k, piece, np.int64)),
            pa.array(rows.astype(np.int64) + start),
            pa.nulls(k, pa.int64()),
            ids,
            _strings(texts.take(pa.array(hit))),
            cats.take(take),
            pa.array(scores[hit], pa.float32()),
        ],
        schema=TALLY_SCHEMA,
    )
    return flagged, counts, n


def closing_batch(piece: int, counts: Dict[str, int], rows: int) -> Any:
    """The benign counts per category and the row count of one piece, as a tally batch."""
    cats = list(counts)
    m = len(cats)
    return pa.RecordBatch.from_arrays(
        [
            pa.array([BENIGN] * m + [ROWS], pa.int8()),
            pa.array([piece] * (m + 1), pa.int64()),
            pa.nulls(m + 1, pa.int64()),
            pa.array([counts[c] for c in cats] + [rows], pa.int64()),
            pa.nulls(m + 1, pa.string()),
            pa.nulls(m + 1, pa.string()),
            pa.array(cats + [None], pa.string()),
            pa.nulls(m + 1, pa.float32()),
        ],
        schema=TALLY_SCHEMA,
    )


def assemble(table: Any, model_id: str, path: Optional[Any], pieces_in_order: bool = False) -> Dict[str, Any]:
    """The false-positive report from the tally batches of every piece, built by the engine (and written
    to ``path`` as ``l2 eval --fp-report`` writes it). Pieces are ordered by their ``piece`` number, or,
    with ``pieces_in_order``, by where their closing row comes in ``table``."""
    import json

    table = table.combine_chunks() if table.num_rows else table
    kind = table.column("kind").to_numpy(zero_copy_only=False)
    ends = kind == ROWS
    if pieces_in_order:
        piece = np.cumsum(ends) - ends
    else:
        piece = table.column("piece").to_numpy(zero_copy_only=False)
    n = table.column("n").to_numpy(zero_copy_only=False)
    # Where each piece starts in the whole data.
    rows: Dict[int, int] = {}
    for p, r in zip(piece[ends].tolist(), n[ends].tolist()):
        rows[p] = rows.get(p, 0) + int(r)
    start, offset = {}, 0
    for p in sorted(rows):
        start[p] = offset
        offset += rows[p]
    benign: Dict[str, int] = {}
    bmask = kind == BENIGN
    for c, k in zip(table.column("category").filter(pa.array(bmask)).to_pylist(), n[bmask].tolist()):
        benign[c] = benign.get(c, 0) + int(k)
    f = table.filter(pa.array(kind == FLAGGED))
    fpiece = piece[kind == FLAGGED]
    missing = set(fpiece.tolist()) - set(start)
    if missing:
        raise _l2core.InvalidDataError(f"false-positive tally: piece(s) {sorted(missing)} have no row count")
    pos = f.column("pos").to_numpy(zero_copy_only=False)
    index = [start[p] + int(q) for p, q in zip(fpiece.tolist(), pos.tolist())]
    text = _l2core._fp_report(
        benign,
        index,
        f.column("id").to_pylist(),
        f.column("prompt").to_pylist(),
        f.column("category").to_pylist(),
        f.column("score").to_pylist(),
        model_id,
        None if path is None else os.fspath(path),
    )
    return json.loads(text)
