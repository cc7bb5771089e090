"""pandas input and output: Series of texts, read_csv DataFrames, training and evaluating on DataFrames."""

from __future__ import annotations

import numpy as np
import pytest

import l2core
from conftest import labelled_rows

pd = pytest.importorskip("pandas")


def _frame(n=100):
    return pd.DataFrame(labelled_rows(n))


def test_series_of_texts(model, texts):
    s = pd.Series(texts, index=range(100, 100 + len(texts)))
    np.testing.assert_array_equal(model.score(s), model.score(texts))
    np.testing.assert_array_equal(model.predict(s), model.predict(texts))
    np.testing.assert_array_equal(model.score(s.astype("string")), model.score(texts))


def test_series_with_missing_values_raise(model):
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        model.score(pd.Series(["a", None, "c"]))


def test_read_csv_gives_a_validated_dataframe(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("text,label,severity\nhello there,0,\nrm -rf / now,1,high\n", encoding="utf-8")
    df = l2core.read_csv(path)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == list(l2core._data.COLUMNS)
    assert df["text"].tolist() == ["hello there", "rm -rf / now"]
    assert df["label"].tolist() == [0, 1]
    assert df["family"].tolist() == ["BENIGN", "UNKNOWN"]
    assert df["severity"].tolist() == ["none", "high"]
    assert df["line"].tolist() == [2, 3] and df.attrs["rejects"] == []


def test_read_csv_invalid_rows_raise_or_are_returned_as_rejects(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,label\nfine,0\nbroken,7\nalso fine,1\n", encoding="utf-8")
    with pytest.raises(l2core.InvalidDataError) as info:
        l2core.read_csv(path)
    assert f"{path}:3" in str(info.value) and "label" in str(info.value)
    assert info.value.row_errors[0]["line"] == 3 and info.value.total == 1
    df = l2core.read_csv(path, skip_invalid=True)
    assert df["text"].tolist() == ["fine", "also fine"]
    rejects = df.attrs["rejects"]
    assert len(rejects) == 1 and rejects[0]["line"] == 3 and rejects[0]["field"] == "label"


def test_read_csv_missing_file_is_an_io_error(tmp_path):
    with pytest.raises(l2core.IoError):
        l2core.read_csv(tmp_path / "missing.csv")


def test_train_and_evaluate_on_dataframes():
    df = _frame()
    m = l2core.train(df, epochs=2, hidden=(8,), dims=64, learning_rate=1e-2)
    assert m.metadata["dataset"]["rows"] == len(df)
    report = l2core.evaluate(m, df)
    assert report.n == len(df)


def test_dataframe_errors_name_the_row(tmp_path):
    df = _frame(10)
    df.loc[5, "label"] = 3
    df.loc[2, "text"] = "multi\nline\ntext"
    with pytest.raises(l2core.InvalidDataError) as info:
        l2core.evaluate(l2core.train(epochs=1, hidden=(4,), dims=64), df)
    row = info.value.row_errors[0]
    assert row["file"] == "<DataFrame>" and row["line"] == 5 and row["field"] == "label"
    with pytest.raises(l2core.InvalidDataError, match="missing required column"):
        l2core.evaluate(l2core.train(epochs=1, hidden=(4,), dims=64), df.drop(columns=["label"]))


def test_read_csv_round_trips_into_train(tmp_path):
    path = tmp_path / "d.csv"
    _frame(60).to_csv(path, index=False)
    df = l2core.read_csv(path)
    m = l2core.train(df, epochs=1, hidden=(8,), dims=64)
    assert m.metadata["dataset"]["rows"] == len(df)


def test_skipped_dataframe_rows_go_to_the_rejects_file(tmp_path):
    df = _frame(60)
    df.loc[7, "label"] = 9
    with pytest.raises(l2core.InvalidParamError, match="rejects"):
        l2core.train(df, skip_invalid=True, epochs=1, hidden=(4,), dims=64)
    rejects = tmp_path / "rejects.csv"
    m = l2core.train(df, skip_invalid=True, rejects=rejects, epochs=1, hidden=(4,), dims=64)
    assert m.metadata["dataset"]["rows"] == len(df) - 1
    written = pd.read_csv(rejects)
    assert written["file"].tolist() == ["<DataFrame>"] and written["line"].tolist() == [7]
