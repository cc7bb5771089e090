#!/usr/bin/env bash
# The Python test suite: (re)use the project venv .venv, install the test requirements, build and install
# the wheel from this checkout (`pip install .`, maturin through build isolation), run pytest.
# The Spark and Ray tests (marker `scale`) need the spark/ray extras (PyPI) and a Java runtime (Debian);
# both are installed here. L2_SCALE_TESTS=0 leaves those tests (and installs) out.
# Usage: bash scripts/test-python.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
select=()
if [ "${L2_SCALE_TESTS:-1}" = 0 ]; then
  select=(-m "not scale")
else
  .venv/bin/python -m pip install -q --disable-pip-version-check -r scripts/requirements-scale.txt
  if ! command -v java >/dev/null 2>&1; then
    echo "installing a Java runtime for Spark (openjdk-17-jre-headless)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null
  fi
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --force-reinstall --no-deps .
# Run from tests/ so that `import l2core` is the installed wheel, never the source folder.
cd tests/python
exec ../../.venv/bin/python -m pytest -q ${select[@]+"${select[@]}"} "$@" .
