"""One model shared by several Python threads: scoring releases the GIL and results are identical."""

from __future__ import annotations

import threading

import numpy as np

import l2core


def _run_in_threads(fn, n_threads=2, rounds=5):
    results = [[] for _ in range(n_threads)]
    errors = []
    barrier = threading.Barrier(n_threads)

    def worker(i):
        try:
            barrier.wait()
            for _ in range(rounds):
                results[i].append(fn())
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_two_threads_scoring_embeddings_get_identical_results(model):
    big = np.random.default_rng(11).standard_normal((2000, model.dims)).astype(np.float32)
    want = model.score_embeddings(big)
    for per_thread in _run_in_threads(lambda: model.score_embeddings(big)):
        for got in per_thread:
            np.testing.assert_array_equal(got, want)


def test_two_threads_scoring_texts_get_identical_results(model, texts):
    many = texts * 200
    want = model.score(many)
    for per_thread in _run_in_threads(lambda: model.score(many)):
        for got in per_thread:
            np.testing.assert_array_equal(got, want)


def test_threads_with_their_own_out_buffers(model):
    big = np.random.default_rng(12).standard_normal((500, model.dims)).astype(np.float32)
    want = model.score_embeddings(big)

    def score():
        out = np.empty(len(big), dtype=np.float32)
        model.score_embeddings(big, out=out)
        return out

    for per_thread in _run_in_threads(score, n_threads=3):
        for got in per_thread:
            np.testing.assert_array_equal(got, want)


def test_embedding_in_threads_is_deterministic(texts):
    many = texts * 100
    want = l2core.embed(many, dims=256)
    for per_thread in _run_in_threads(lambda: l2core.embed(many, dims=256)):
        for got in per_thread:
            np.testing.assert_array_equal(got, want)
