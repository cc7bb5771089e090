"""The wheel's `l2` console command is the engine's CLI: same version, same scores as the bindings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import l2core


def _l2():
    exe = os.path.join(os.path.dirname(sys.executable), "l2")
    if not os.path.exists(exe):
        exe = shutil.which("l2")
    assert exe, "the l2 console script is not installed next to this interpreter"
    return exe


def test_console_script_prints_the_version():
    out = subprocess.run([_l2(), "version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"l2 {l2core.__version__}"


def test_usage_errors_exit_2():
    proc = subprocess.run([_l2(), "no-such-command"], capture_output=True, text=True)
    assert proc.returncode == 2 and "no-such-command" in proc.stderr


def test_run_cli_returns_the_exit_code(tmp_path):
    from l2core import _cli

    assert _cli.main(["l2", "predict", str(tmp_path / "missing.l2"), "x"]) == 4


def test_cli_predict_scores_equal_the_bindings(model_path, texts):
    model = l2core.Model.load(model_path)
    texts = [t for t in texts if t and "\n" not in t]
    proc = subprocess.run([_l2(), "predict", str(model_path), *texts], capture_output=True, text=True, check=True)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == len(texts)
    cli_scores = np.array([line["score"] for line in lines], dtype=np.float32)
    np.testing.assert_array_equal(cli_scores, model.score(texts))
    assert [line["malicious"] for line in lines] == model.predict(texts).tolist()


def test_cli_predict_on_a_trained_model(trained, tmp_path, texts):
    path = tmp_path / "trained.l2"
    trained.save(path)
    texts = [t for t in texts if t]
    proc = subprocess.run([_l2(), "predict", str(path), *texts], capture_output=True, text=True, check=True)
    cli_scores = np.array([json.loads(line)["score"] for line in proc.stdout.splitlines()], dtype=np.float32)
    np.testing.assert_array_equal(cli_scores, trained.score(texts))


@pytest.mark.parametrize("args", [["info"], ["info", "--json"]])
def test_cli_reads_models_saved_from_python(model_path, args):
    proc = subprocess.run([_l2(), *args, str(model_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    if "--json" in args:
        assert json.loads(proc.stdout) == l2core.Model.load(model_path).metadata


def test_cli_eval_report_equals_evaluate(trained, tmp_path):
    pd = pytest.importorskip("pandas")
    from conftest import labelled_rows

    data = tmp_path / "eval.csv"
    pd.DataFrame(labelled_rows(40, seed=4)).to_csv(data, index=False)
    path = tmp_path / "trained.l2"
    trained.save(path)
    proc = subprocess.run([_l2(), "eval", str(path), str(data), "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == l2core.evaluate(trained, data).to_dict()


def test_cli_predict_on_the_default_model_kind_equals_the_bindings(tmp_path, texts):
    """The default (wide-and-deep) model: same scores, windows and views from the CLI and Python."""
    model = l2core.train(epochs=2, seed=4)
    assert model.kind == "wide_deep"
    path = tmp_path / "wide_deep.l2"
    model.save(path)
    texts = [t for t in texts if t and "\n" not in t] + ["please summarise the attached report. " * 80]
    proc = subprocess.run([_l2(), "predict", str(path), *texts], capture_output=True, text=True, check=True)
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    np.testing.assert_array_equal(np.array([l["score"] for l in lines], dtype=np.float32), model.score(texts))
    details = model.score_details(texts)
    assert [l.get("windows", 0) for l in lines] == [d["windows"] for d in details]
    assert [l.get("view", "whole") for l in lines] == [d["view"] for d in details]
    assert details[-1]["windows"] > 1
