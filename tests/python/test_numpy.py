"""Embedding matrices: dtypes, memory orders, shapes, the `out` buffer; bad inputs raise."""

from __future__ import annotations

import numpy as np
import pytest

import l2core


def test_orders_dtypes_and_views_give_identical_scores(model, X):
    want = model.score_embeddings(X)
    np.testing.assert_array_equal(model.score_embeddings(np.asfortranarray(X)), want)
    np.testing.assert_array_equal(model.score_embeddings(X.astype(np.float64)), want)
    np.testing.assert_array_equal(model.score_embeddings(np.asfortranarray(X.astype(np.float64))), want)
    wide = np.zeros((len(X), 2 * X.shape[1]), dtype=np.float32)
    wide[:, ::2] = X
    np.testing.assert_array_equal(model.score_embeddings(wide[:, ::2]), want)
    np.testing.assert_array_equal(model.score_embeddings(X[::2]), want[::2])
    np.testing.assert_array_equal(model.score_embeddings(X.tolist()), want)
    raw = np.zeros(X.nbytes + 1, dtype=np.uint8)
    raw[1:] = X.view(np.uint8).reshape(-1)
    unaligned = np.frombuffer(raw.data, dtype=np.float32, count=X.size, offset=1).reshape(X.shape)
    assert not unaligned.flags.aligned
    np.testing.assert_array_equal(model.score_embeddings(unaligned), want)
    readonly = X.copy()
    readonly.flags.writeable = False
    np.testing.assert_array_equal(model.score_embeddings(readonly), want)


def test_batch_one_and_empty(model, X):
    one = model.score_embeddings(X[:1])
    assert one.shape == (1,) and one[0] == model.score_embeddings(X)[0]
    empty = model.score_embeddings(np.zeros((0, model.dims), dtype=np.float32))
    assert empty.shape == (0,) and empty.dtype == np.float32


def test_large_batches_match_row_by_row(model):
    big = np.random.default_rng(5).standard_normal((600, model.dims)).astype(np.float32)
    rows = np.array([model.score_embeddings(big[i : i + 1])[0] for i in range(len(big))])
    np.testing.assert_array_equal(model.score_embeddings(big), rows)


@pytest.mark.parametrize(
    "shape", [(64,), (2, 3, 64), (5, 63), (5, 65), (0, 1)], ids=["1-D", "3-D", "narrow", "wide", "empty-narrow"]
)
def test_bad_shapes_raise_shape_error(model, shape):
    with pytest.raises(l2core.ShapeError) as info:
        model.score_embeddings(np.zeros(shape, dtype=np.float32))
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float16, np.complex64, np.bool_, object])
def test_other_dtypes_raise_type_error(model, dtype):
    with pytest.raises(TypeError, match="float32 or float64"):
        model.score_embeddings(np.zeros((2, model.dims), dtype=dtype))


def test_predict_routes_2d_arrays_to_embeddings(model):
    with pytest.raises(TypeError, match="float32 or float64"):
        model.predict(np.zeros((2, model.dims), dtype=np.int64))


def test_ragged_lists_raise(model):
    with pytest.raises(ValueError):
        model.score_embeddings([[0.0] * model.dims, [0.0]])


def test_out_buffer_is_filled_and_returned(model, X):
    out = np.full(len(X), -1.0, dtype=np.float32)
    got = model.score_embeddings(X, out=out)
    assert got is out
    np.testing.assert_array_equal(out, model.score_embeddings(X))


def test_bad_out_buffers_raise(model, X):
    with pytest.raises(l2core.ShapeError):
        model.score_embeddings(X, out=np.zeros(len(X) - 1, dtype=np.float32))
    with pytest.raises(TypeError):
        model.score_embeddings(X, out=np.zeros(len(X), dtype=np.float64))
    frozen = np.zeros(len(X), dtype=np.float32)
    frozen.flags.writeable = False
    with pytest.raises(TypeError):
        model.score_embeddings(X, out=frozen)
    with pytest.raises(TypeError):
        model.score_embeddings(X, out=np.zeros(2 * len(X), dtype=np.float32)[::2])
    with pytest.raises(TypeError, match="share memory"):
        model.score_embeddings(X, out=X.reshape(-1)[: len(X)])
