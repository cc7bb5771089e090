"""Score Spark DataFrames with an l2core model, and mine them for false positives, on the executors.

    from l2core import spark as l2spark

    scored = l2spark.score(df, "model.l2")        # df + score (float), malicious (bool), model_sha256
    report = l2spark.fp_report(traffic, "model.l2", "fp.json")   # the report `l2 eval --fp-report` writes

Batches cross between the JVM and Python as Arrow arrays: scoring is an Arrow UDF over the text column
(only the texts go to Python, only the scores come back), false-positive mining a ``mapInArrow`` over
the columns it needs; the engine reads the texts straight from the Arrow buffers, with no Python object
per row. The model file is shipped to
the executors once with ``SparkContext.addFile`` (under a name derived from its sha256) and loaded once
per Python worker process; each worker checks that the bytes it loads hash to the sha256 the driver
saw. With ``ship=False`` the executors read ``model_path`` themselves (a shared file system, or local
mode). The executors need the l2core wheel installed (see docs/scale.md).

Needs the ``spark`` extra: ``pip install 'l2core[spark]'`` (pyspark >= 4.1 with pyarrow).
"""

from __future__ import annotations

from ._extras import require

require("pyspark", "spark")
require("pyarrow", "spark")

import functools  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
from typing import Any, Dict, Iterator, Optional  # noqa: E402

import pyarrow as pa  # noqa: E402
from pyspark import SparkFiles, TaskContext  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from pyspark.sql.functions import arrow_udf  # noqa: E402
from pyspark.sql import types as T  # noqa: E402

from . import _scale  # noqa: E402
from ._scale import MALICIOUS, MODEL_SHA256, SCORE, ModelRef, TallySpec  # noqa: E402

__all__ = ["score", "fp_report"]

#: The struct column the scoring UDF returns, unpacked into `score` and `malicious`.
_RESULT = "__l2core_result"

#: The tally batches' schema (``_scale.TALLY_SCHEMA``) in Spark's DDL.
_TALLY_DDL = "kind tinyint, piece bigint, pos bigint, n bigint, id string, prompt string, category string, score float"


def _ship(df: Any, ref: ModelRef, ship: bool) -> Optional[str]:
    """Make the model file reachable from the executors: its SparkFiles name, or None when they read
    ``ref.path`` themselves."""
    if not ship:
        return None
    try:
        sc = df.sparkSession.sparkContext
    except Exception as e:  # Spark Connect sessions have no SparkContext
        raise RuntimeError(
            "this Spark session has no SparkContext to ship the model file with (Spark Connect?): put the "
            "model file where every executor can read it and pass ship=False"
        ) from e
    # A content-addressed copy: adding the same model again is a no-op for Spark, and two different
    # models never collide under one name.
    staged_dir = os.path.join(tempfile.gettempdir(), "l2core-spark-files")
    os.makedirs(staged_dir, exist_ok=True)
    staged = os.path.join(staged_dir, ref.file_name)
    if not os.path.exists(staged):
        fd, tmp = tempfile.mkstemp(dir=staged_dir, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(ref.read())
        os.replace(tmp, staged)
    sc.addFile(staged)
    return ref.file_name


def _worker_model(ref: ModelRef, shipped: Optional[str]) -> Any:
    path = SparkFiles.get(shipped) if shipped else ref.path
    return _scale.load_from_path(ref, path)


def _where(piece: int, start: int) -> Any:
    return lambda i: f"partition {piece}, row {start + i}"


def _score_udf(ref: ModelRef, shipped: Optional[str], text_column: str, threshold: float) -> Any:
    """An Arrow UDF over the text column: only the texts travel to Python and only the scores come back
    (Spark keeps the rest of each row and joins the result to it)."""

    # The type hints say which kind of Arrow UDF this is (an iterator of arrays: state across batches).
    def run(batches: Iterator[pa.Array]) -> Iterator[pa.Array]:
        model = None
        piece, start = TaskContext.get().partitionId(), 0
        for texts in batches:
            if model is None:  # empty partitions never load the model
                model = _worker_model(ref, shipped)
            score_arr, malicious = _scale.score_texts(model, texts, text_column, threshold, _where(piece, start))
            start += len(texts)
            yield pa.StructArray.from_arrays([score_arr, malicious], names=[SCORE, MALICIOUS])

    return arrow_udf(run, f"{SCORE} float, {MALICIOUS} boolean")


def _check_text_column(df: Any, text_column: str) -> None:
    if text_column not in df.columns:
        raise KeyError(f"text column `{text_column}` is not in the DataFrame (columns: {', '.join(df.columns)})")
    dtype = df.schema[text_column].dataType
    if not isinstance(dtype, T.StringType):
        raise TypeError(f"text column `{text_column}` must be a string column, it is {dtype.simpleString()}")


def score(
    df: Any,
    model_path: Any,
    text_column: str = "text",
    *,
    threshold: Optional[float] = None,
    ship: bool = True,
) -> Any:
    """``df`` with three more columns: ``score`` (float, the malicious probability, equal bit for bit to
    ``Model.score``), ``malicious`` (bool, ``score >= threshold``) and ``model_sha256`` (the sha256 of the
    model file's bytes, as the registry records it; its column metadata ``l2core`` holds the model's
    l2core version, format version, creation time, precision and threshold).

    Lazy, like any DataFrame transformation. ``threshold`` overrides the model's. A null text fails the
    job with a TypeError naming its position: a missing text has no score. The model file is read and
    verified on the driver first (IoError / ModelError).
    """
    ref = ModelRef.of(model_path)
    _check_text_column(df, text_column)
    _scale.check_new_columns(df.columns, [SCORE, MALICIOUS, MODEL_SHA256])
    t = ref.threshold if threshold is None else float(threshold)
    shipped = _ship(df, ref, ship)
    result = _score_udf(ref, shipped, text_column, t)(F.col(text_column))
    # Through a struct, so that one UDF call gives both columns.
    out = df.select("*", result.alias(_RESULT))
    return out.select(
        *[out[c] for c in df.columns],
        F.col(f"{_RESULT}.{SCORE}").alias(SCORE),
        F.col(f"{_RESULT}.{MALICIOUS}").alias(MALICIOUS),
        F.lit(ref.sha256).alias(MODEL_SHA256, metadata={"l2core": ref.info}),
    )


def _tally_partition(
    ref: ModelRef, shipped: Optional[str], spec: TallySpec, threshold: float, batches: Iterator[Any]
) -> Iterator[Any]:
    piece = TaskContext.get().partitionId()
    model = None
    counts: Dict[str, int] = {}
    start = 0
    for batch in batches:
        if model is None:
            model = _worker_model(ref, shipped)
        flagged, c, n = _scale.tally_batch(model, batch, spec, threshold, piece, start, _where(piece, start))
        for k, v in c.items():
            counts[k] = counts.get(k, 0) + v
        start += n
        if flagged.num_rows:
            yield flagged
    yield _scale.closing_batch(piece, counts, start)


def fp_report(
    df: Any,
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
) -> Dict[str, Any]:
    """The false-positive mining of ``l2 eval --fp-report`` over a DataFrame: score its benign rows on
    the executors and return the report (a dict), written to ``output`` when given, which is exactly the
    JSON ``l2 eval --fp-report`` writes over the same rows and ``l2 reinforce --fp`` reads.

    ``label_column`` holds 0/1 integers or booleans (malicious rows are skipped, any other value fails
    with InvalidDataError); None means every row is known benign (e.g. production traffic that users
    did not report). ``category_column`` None puts every row in ``uncategorized``. ``id_column`` names
    each false positive (``l2 eval`` uses ``file:line``); without it they are named ``row-<position>``,
    the position in the DataFrame's order. ``threshold`` overrides the model's; ``model_id`` (the
    threats' ``rule_id``) defaults to the model file's stem, as in ``l2 eval``.

    Only the flagged rows (and a count per category and partition) reach the driver.
    """
    ref = ModelRef.of(model_path, model_id)
    spec = TallySpec(text_column, label_column, category_column, id_column)
    _check_text_column(df, text_column)
    missing = [c for c in spec.columns() if c not in df.columns]
    if missing:
        raise KeyError(f"column(s) {', '.join(missing)} not in the DataFrame (columns: {', '.join(df.columns)})")
    t = ref.threshold if threshold is None else float(threshold)
    shipped = _ship(df, ref, ship)
    tallies = df.select(*spec.columns()).mapInArrow(
        functools.partial(_tally_partition, ref, shipped, spec, t), _TALLY_DDL
    )
    return _scale.assemble(tallies.toArrow(), ref.model_id, output)
