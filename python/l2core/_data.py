"""Reading validated training data: ``l2core.read_csv`` and the conversions every data-taking function
shares (CSV paths, pandas DataFrames, ``Dataset`` objects)."""

from __future__ import annotations

import os
import tempfile
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

from . import _l2core

#: The columns of the training CSV schema (``group`` is optional and used for leakage-safe splits).
SCHEMA_COLUMNS = ("text", "label", "family", "category", "severity", "confidence", "source", "notes", "group")

#: Every column ``read_csv`` returns: the schema plus where each row came from.
COLUMNS = SCHEMA_COLUMNS + ("file", "line")

PathLike = Union[str, "os.PathLike[str]"]


class Dataset:
    """Validated rows, as ``read_csv`` returns them when pandas is not installed.

    ``records`` is a list of dicts (keys: ``COLUMNS``), ``rejects`` the rows that were not used, each a
    dict with file, line, field, reason and text (only non-empty with ``skip_invalid=True``). A Dataset
    can be passed wherever l2core takes data (``train``, ``evaluate``). ``to_pandas()`` converts it.
    """

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        cols = handle.columns()
        self.columns: Dict[str, list] = cols
        self.records: List[Dict[str, Any]] = [dict(zip(cols, row)) for row in zip(*cols.values())]
        self.rejects: List[Dict[str, Any]] = list(handle.rejects())

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return iter(self.records)

    def __getitem__(self, i: int) -> Dict[str, Any]:
        return self.records[i]

    def __repr__(self) -> str:
        return f"<l2core.Dataset rows={len(self.records)} rejects={len(self.rejects)}>"

    def to_pandas(self) -> Any:
        """The rows as a pandas DataFrame (``attrs['rejects']`` holds the rejects). Needs pandas."""
        return _frame(self._handle)


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        return None
    return pandas


def _frame(handle: Any) -> Any:
    import pandas

    df = pandas.DataFrame(handle.columns(), columns=list(COLUMNS))
    df.attrs["rejects"] = list(handle.rejects())
    return df


def read_csv(path: PathLike, skip_invalid: bool = False) -> Any:
    """Read and validate one training CSV file (columns text,label,family,category,severity,confidence,
    source,notes, optional group) with the engine's rules and defaults.

    Returns a pandas DataFrame with the columns ``COLUMNS`` when pandas is installed (the rejected rows
    are in ``df.attrs["rejects"]``), else a :class:`Dataset`. Invalid rows raise InvalidDataError listing
    each one (file, line, field, reason; also in the exception's ``row_errors``) unless ``skip_invalid``,
    in which case they are returned as rejects instead. A missing file raises IoError.
    """
    handle = _l2core._Records.read([os.fspath(path)], skip_invalid=skip_invalid, merge=False)
    if _pandas() is not None:
        return _frame(handle)
    return Dataset(handle)


def _is_frame(data: Any) -> bool:
    pandas = _pandas()
    return pandas is not None and isinstance(data, pandas.DataFrame)


def _frame_records(df: Any, skip_invalid: bool) -> Any:
    """Validate a DataFrame exactly like a CSV file: write its schema columns to a temporary CSV and read
    that back. Errors and rejects name ``<DataFrame>`` and the row's position instead of a line."""
    missing = [c for c in ("text", "label") if c not in df.columns]
    if missing:
        raise _l2core.InvalidDataError(
            f"invalid data: {_l2core.FRAME_NAME}: missing required column(s) {', '.join(missing)}"
        )
    cols = [c for c in SCHEMA_COLUMNS if c in df.columns]
    out = df[cols].copy()
    if "group" in out.columns and out["group"].isna().all():
        out = out.drop(columns=["group"])
    label = out["label"]
    if label.dtype == bool:
        out["label"] = label.astype(int)
    elif label.dtype.kind == "f" and label.dropna().apply(float.is_integer).all():
        out["label"] = label.astype("Int64")
    # Physical CSV line of each row: header on line 1, and every newline inside a field moves the rest.
    newlines = [0] * len(out)
    from pandas.api.types import is_object_dtype, is_string_dtype

    for c in out.columns:
        if is_object_dtype(out[c].dtype) or is_string_dtype(out[c].dtype):
            counts = out[c].astype(str).str.count("\n").fillna(0).astype(int).tolist()
            newlines = [a + b for a, b in zip(newlines, counts)]
    lines, line = [], 2
    for n in newlines:
        lines.append(line)
        line += 1 + n
    with tempfile.TemporaryDirectory(prefix="l2core-") as tmp:
        path = os.path.join(tmp, "DataFrame.csv")
        out.to_csv(path, index=False, lineterminator="\n")
        return _l2core._Records.read([path], skip_invalid=skip_invalid, merge=False, frame_lines=lines)


def _records(data: Any, skip_invalid: bool = False, merge: bool = True) -> Any:
    """The engine's rows for ``data``: a path, a list of paths (merged and de-duplicated), a pandas
    DataFrame, or a Dataset."""
    if isinstance(data, Dataset):
        return data._handle
    if _is_frame(data):
        return _frame_records(data, skip_invalid)
    if isinstance(data, (str, os.PathLike)):
        return _l2core._Records.read([os.fspath(data)], skip_invalid=skip_invalid, merge=merge)
    if isinstance(data, (list, tuple)) and data and all(isinstance(p, (str, os.PathLike)) for p in data):
        return _l2core._Records.read([os.fspath(p) for p in data], skip_invalid=skip_invalid, merge=True)
    raise TypeError(
        "data must be a CSV path, a list of CSV paths, a pandas DataFrame or an l2core.Dataset, "
        f"got {type(data).__name__}"
    )


def _paths(data: Any) -> Optional[Sequence[str]]:
    """The CSV paths in ``data`` when it is a path or a list of paths, else None."""
    if isinstance(data, (str, os.PathLike)):
        return [os.fspath(data)]
    if isinstance(data, (list, tuple)) and data and all(isinstance(p, (str, os.PathLike)) for p in data):
        return [os.fspath(p) for p in data]
    return None
