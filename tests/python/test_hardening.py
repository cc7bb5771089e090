"""Fail closed, say what is wrong (issue 12): a score that could not be computed is an exception,
never a ``False`` decision; clear messages for lone surrogates, wrong ``out=`` dtypes, and CSV
quoting mistakes."""

from __future__ import annotations

import numpy as np
import pytest

import l2core


def huge_rows(model, n=3, bad=1):
    x = np.full((n, model.dims), 0.1, dtype=np.float32)
    x[bad, ::2] = 3.4e38
    x[bad, 1::2] = -3.4e38
    return x


def test_an_overflowing_finite_row_raises_in_every_scoring_call(model):
    x = huge_rows(model)
    assert np.isfinite(x).all()
    for call in (model.score_embeddings, model.predict, model.predict_embeddings):
        with pytest.raises(l2core.InvalidDataError, match="non-finite"):
            call(x)
    out = np.full(3, 7.0, dtype=np.float32)
    with pytest.raises(l2core.InvalidDataError, match="row 1"):
        model.score_embeddings(x, out=out)
    x[1] = 0.1
    assert model.predict(x).dtype == np.bool_


def test_a_lone_surrogate_says_it_is_not_valid_unicode(model):
    with pytest.raises(l2core.InvalidDataError) as info:
        model.score(["fine", "bad \udcff text"])
    msg = str(info.value)
    assert "texts[1]" in msg and "not valid Unicode" in msg and "expected str" not in msg, msg


def test_a_wrong_out_dtype_says_what_was_given(model):
    x = np.zeros((2, model.dims), dtype=np.float32)
    with pytest.raises(TypeError, match=r"1-D float32 .* got a numpy array of dtype float64"):
        model.score_embeddings(x, out=np.zeros(2, dtype=np.float64))
    with pytest.raises(TypeError, match="got list"):
        model.score_embeddings(x, out=[0.0, 0.0])


def test_read_csv_rejects_an_unterminated_quote_instead_of_swallowing_the_file(tmp_path):
    body = 'text,label,notes\nhello,0,"oops\n' + "".join(f"row {i},1,\n" for i in range(1, 101))
    path = tmp_path / "u.csv"
    path.write_text(body)
    with pytest.raises(l2core.InvalidDataError, match="never closed"):
        l2core.read_csv(path)
