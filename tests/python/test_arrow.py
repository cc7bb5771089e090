"""`Model.score_arrow`: texts read in place from Arrow string arrays score exactly like `Model.score`."""

from __future__ import annotations

import numpy as np
import pytest

import l2core

pa = pytest.importorskip("pyarrow")


def _bits(a):
    return np.asarray(a, dtype=np.float32).view(np.uint32)


@pytest.mark.parametrize("typ", ["string", "large_string"])
def test_scores_equal_score_on_the_same_texts(trained, texts, typ):
    arr = pa.array(texts, type=getattr(pa, typ)())
    np.testing.assert_array_equal(_bits(trained.score_arrow(arr)), _bits(trained.score(texts)))


def test_slices_chunks_and_the_capsule_protocol(trained, texts):
    many = [f"{t} #{i}" for i in range(300) for t in texts]
    arr = pa.array(many)
    # A slice exports its offset: the engine must start at it.
    np.testing.assert_array_equal(_bits(trained.score_arrow(arr.slice(5, 100))), _bits(trained.score(many[5:105])))
    assert trained.score_arrow(arr.slice(3, 0)).shape == (0,)
    assert trained.score_arrow(pa.array([], pa.string())).dtype == np.float32

    class Exporter:  # any producer of the PyCapsule interface, not only pyarrow
        def __arrow_c_array__(self, requested_schema=None):
            return arr.__arrow_c_array__(requested_schema)

    np.testing.assert_array_equal(_bits(trained.score_arrow(Exporter())), _bits(trained.score(many)))


def test_bad_inputs_are_clear_errors(trained):
    with pytest.raises(TypeError, match=r"texts\[1\] is null"):
        trained.score_arrow(pa.array(["a", None, "c"]))
    with pytest.raises(TypeError, match="Arrow format `l`"):
        trained.score_arrow(pa.array([1, 2], pa.int64()))
    with pytest.raises(TypeError, match="__arrow_c_array__"):
        trained.score_arrow(["a list is not an Arrow array"])
    with pytest.raises(TypeError, match="__arrow_c_array__"):
        trained.score_arrow(pa.chunked_array([["a"], ["b"]]))
