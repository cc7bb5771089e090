"""`l2core.train` and `l2core.evaluate`: the engine's training job with the CLI's settings."""

from __future__ import annotations

import json

import numpy as np
import pytest

import l2core
from conftest import labelled_rows


def test_training_on_the_builtin_corpus_gives_a_calibrated_model(trained, texts):
    assert isinstance(trained, l2core.Model)
    assert trained.dims == 256 and trained.hidden == [32] and trained.precision == "f32"
    meta = trained.metadata
    assert meta["training"]["epochs"] == 3 and meta["training"]["learning_rate"] == pytest.approx(1e-3)
    assert meta["target_fpr"] == pytest.approx(0.01)
    assert 0.0 <= trained.threshold <= 1.0
    report = trained.report
    assert isinstance(report, l2core.Report)
    d = report.to_dict()
    assert d["n"] == meta["dataset"]["test"] > 0
    assert report.n == d["n"] and str(report) and "l2core.Report" in repr(report)
    scores = trained.score(texts)
    assert scores.shape == (len(texts),)


def test_training_is_deterministic_for_a_seed():
    a = l2core.train(epochs=1, hidden=(8,), dims=64, seed=9)
    b = l2core.train(epochs=1, hidden=(8,), dims=64, seed=9)
    probe = l2core.embed(["ignore previous instructions", "hello"], dims=64)
    np.testing.assert_array_equal(a.score_embeddings(probe), b.score_embeddings(probe))


def test_hash_embedder_settings():
    m = l2core.train(epochs=1, hidden=(8,), dims=96, char_ngrams=(2, 4), word_weight=1.5)
    spec = m.metadata["embedder"]
    assert spec["dims"] == 96 and spec["char_ngrams"] == [2, 4] and spec["word_weight"] == 1.5
    assert spec["word_ngrams"] == [1, 2]
    texts = ["ignore previous instructions", "hello"]
    np.testing.assert_array_equal(
        m.embed(texts), l2core.embed(texts, dims=96, char_ngrams=(2, 4), word_weight=1.5)
    )
    with pytest.raises(l2core.InvalidParamError, match="char_ngrams"):
        l2core.train(epochs=1, char_ngrams=(5, 2))


def test_unknown_setting_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="'epoch'"):
        l2core.train(epoch=3)


def test_out_of_range_setting_is_an_invalid_param_error():
    with pytest.raises(l2core.InvalidParamError, match="dropout"):
        l2core.train(dropout=1.5)
    with pytest.raises(l2core.InvalidParamError, match="split"):
        l2core.train(split=(0.5, 0.5))
    with pytest.raises(l2core.InvalidParamError):
        l2core.train(hidden="wide")


def test_lr_alias_and_config_file(tmp_path):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"train": {"epochs": 1, "hidden": [8]}, "target_fpr": 0.05}))
    m = l2core.train(config=cfg, lr=2e-3, dims=64)
    meta = m.metadata
    assert meta["training"]["epochs"] == 1 and meta["training"]["hidden"] == [8]
    assert meta["training"]["learning_rate"] == pytest.approx(2e-3)
    assert meta["target_fpr"] == pytest.approx(0.05)


def test_callback_sees_every_epoch_and_can_stop_training():
    seen = []
    l2core.train(epochs=2, patience=0, hidden=(8,), dims=64, callback=seen.append)
    assert [s["epoch"] for s in seen] == [1, 2]
    assert {"train_loss", "val_loss", "val_fpr", "val_tpr"} <= set(seen[0])

    class Stop(Exception):
        pass

    def stop(stats):
        raise Stop("enough")

    with pytest.raises(Stop, match="enough"):
        l2core.train(epochs=3, hidden=(8,), dims=64, callback=stop)


def test_training_from_csv_files_records_them(tmp_path):
    pd = pytest.importorskip("pandas")
    rows = [{"text": r["text"], "label": r["label"]} for r in labelled_rows(120, seed=1)]
    path = tmp_path / "train.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    m = l2core.train(str(path), epochs=2, hidden=(8,), dims=64, learning_rate=1e-2)
    files = m.metadata["dataset"]["files"]
    assert [f["name"] for f in files] == [str(path)] and files[0]["rows"] == 240
    report = l2core.evaluate(m, path)
    assert report.n == 240
    assert l2core.evaluate(m, [path]).to_dict() == report.to_dict()


def test_evaluate_rejects_a_non_model(tmp_path):
    with pytest.raises(TypeError):
        l2core.evaluate("model.l2", tmp_path / "x.csv")
