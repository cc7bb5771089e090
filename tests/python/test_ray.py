"""l2core.ray on a real local Ray: scores equal `Model.score` bit for bit, and the false-positive report
is the very file `l2 eval --fp-report` writes."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

import l2core

pytestmark = pytest.mark.scale
ray = pytest.importorskip("ray")
pytest.importorskip("ray.data")
pa = pytest.importorskip("pyarrow")

from l2core import ray as l2ray  # noqa: E402

COLUMNS = ["text", "label", "category", "origin"]


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def dataset(local_ray, corpus_frame):
    """The corpus in five blocks, in file order."""
    df = corpus_frame[COLUMNS]
    cuts = np.linspace(0, len(df), 6).astype(int)
    return ray.data.from_pandas([df.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:])])


def _bits(a):
    return np.asarray(a, dtype=np.float32).view(np.uint32)


def test_scores_equal_model_score_bit_for_bit(dataset, corpus_frame, scale_model):
    model = l2core.Model.load(scale_model)
    got = l2ray.score(dataset, scale_model, batch_size=600, concurrency=2).to_pandas()
    assert list(got.columns) == COLUMNS + ["score", "malicious", "model_sha256"]
    assert len(got) == len(corpus_frame) > 2000
    # Blocks may finish out of order: match rows by their origin.
    got = got.set_index("origin").loc[corpus_frame["origin"]]
    texts = corpus_frame["text"].tolist()
    np.testing.assert_array_equal(_bits(got["score"].to_numpy()), _bits(model.score(texts)))
    np.testing.assert_array_equal(got["malicious"].to_numpy(dtype=bool), model.predict(texts))
    sha = hashlib.sha256(scale_model.read_bytes()).hexdigest()
    assert set(got["model_sha256"].astype(str)) == {sha}


def test_paths_instead_of_the_object_store(dataset, scale_model):
    got = l2ray.score(dataset.limit(50), scale_model, ship=False).take_all()
    assert len(got) == 50 and all(0.0 <= r["score"] <= 1.0 for r in got)


def test_fp_report_is_the_file_l2_eval_writes(dataset, scale_model, cli_fp_report, tmp_path):
    out = tmp_path / "ray-fp.json"
    report = l2ray.fp_report(dataset, scale_model, out, id_column="origin", batch_size=600)
    cli = cli_fp_report()
    assert out.read_bytes() == cli
    assert report == json.loads(cli) and report["false_positives"] > 0


def test_fp_report_at_a_threshold_names_rows_by_position(dataset, corpus_frame, scale_model, cli_fp_report):
    report = l2ray.fp_report(dataset, scale_model, threshold=0.1, batch_size=450, concurrency=2)
    assert report["false_positives"] > 50
    origin = corpus_frame["origin"].tolist()
    for d in report["fp_details"]:
        d["id"] = origin[int(d["id"].removeprefix("row-"))]
    assert report == json.loads(cli_fp_report(0.1))


def test_fp_report_over_known_benign_traffic(dataset, scale_model, cli_fp_report):
    from ray.data.expressions import col

    benign = dataset.filter(expr=col("label") == 0).drop_columns(["label"])
    report = l2ray.fp_report(benign, scale_model, label_column=None, id_column="origin")
    assert report == json.loads(cli_fp_report())


def test_bad_rows_fail_with_a_clear_error(local_ray, scale_model):
    rows = [
        {"text": "hello", "label": 0, "category": "c", "id": "a"},
        {"text": "x", "label": 7, "category": "c", "id": "b"},
    ]
    with pytest.raises(Exception, match=r"row 1 of a batch \(id `b`\): field `label`: must be 0 or 1, got 7"):
        l2ray.fp_report(ray.data.from_items(rows), scale_model, id_column="id")
    nulls = ray.data.from_items([{"text": "hello"}, {"text": None}])
    with pytest.raises(Exception, match=r"row 1 of a batch: text column `text` is null"):
        l2ray.score(nulls, scale_model).materialize()
