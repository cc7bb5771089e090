#!/usr/bin/env bash
# The Python test suite: (re)use the project venv .venv, install the test requirements, build and install
# the wheel from this checkout (`pip install .`, maturin through build isolation), run pytest.
# Usage: bash scripts/test-python.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
.venv/bin/python -m pip install -q --disable-pip-version-check --force-reinstall --no-deps .
# Run from tests/ so that `import l2core` is the installed wheel, never the source folder.
cd tests/python
exec ../../.venv/bin/python -m pytest -q "$@" .
