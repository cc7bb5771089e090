"""`import l2core` without pandas and scikit-learn: everything but the pandas/sklearn extras works."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_import_and_use_without_pandas_or_sklearn(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("text,label\nhello there,0\nrm -rf /,1\n", encoding="utf-8")
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["pandas"] = None      # makes `import pandas` raise ImportError
        sys.modules["sklearn"] = None
        import numpy as np
        import l2core
        d = l2core.read_csv({str(csv)!r})
        assert type(d).__name__ == "Dataset" and len(d) == 2 and d[1]["label"] == 1, d
        assert d.records[0]["family"] == "BENIGN" and d.rejects == []
        rng = np.random.default_rng(0)
        y = rng.integers(0, 2, 200)
        X = (rng.standard_normal((200, 8)) + 1.5 * (2 * y[:, None] - 1)).astype(np.float32)
        clf = l2core.MLPClassifier(hidden=(16,), learning_rate=1e-2, epochs=30, dropout=0.0, batch_size=16)
        assert clf.get_params()["hidden"] == (16,)
        assert clf.fit(X, y).score(X, y) > 0.9
        assert clf.set_params(epochs=2).epochs == 2
        try:
            clf.set_params(bogus=1)
        except ValueError:
            pass
        else:
            raise AssertionError("unknown parameter accepted")
        print("ok")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_spark_and_ray_are_extras_that_import_l2core_never_loads():
    code = textwrap.dedent(
        """
        import sys
        import l2core
        # (pyarrow may come in with pandas, but never through l2core)
        loaded = sorted(m for m in ("pyspark", "ray", "l2core._scale") if m in sys.modules)
        assert not loaded, loaded
        for name, extra in (("pyspark", "spark"), ("ray", "ray")):
            sys.modules[name] = None          # as if the extra were not installed
            try:
                __import__(f"l2core.{extra}")
            except ImportError as e:
                assert f"pip install 'l2core[{extra}]'" in str(e), e
                assert f"`{name}`" in str(e), e
            else:
                raise AssertionError(f"l2core.{extra} imported without {name}")
        print("ok")
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
