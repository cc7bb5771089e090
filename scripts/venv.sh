#!/usr/bin/env bash
# Create (or reuse) the project venv .venv with the Python packages tests and benchmarks use:
# ONNX Runtime (its shared library serves the Rust side too), onnx, the real embedding models, numpy,
# pandas, scikit-learn, pytest. Re-running is cheap: pip skips what is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
if [ -s scripts/requirements-test-nodeps.txt ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -r scripts/requirements-test-nodeps.txt
fi
