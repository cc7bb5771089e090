#!/usr/bin/env bash
# Every test: lint, Rust (library, CLI, C ABI incl. the C/C++ programs under ASan/UBSan and valgrind),
# and Python (a fresh wheel in the project's own venv). Installs what it needs itself.
# Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

# System tools: C/C++ compilers, valgrind, pkg-config (Debian packages; root on CI and dev machines).
missing=()
for tool in gcc g++ valgrind pkg-config; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  pkgs=()
  for t in "${missing[@]}"; do case $t in g++) pkgs+=(g++) ;; *) pkgs+=("$t") ;; esac; done
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

step "python venv with the test requirements (.venv)"
bash scripts/venv.sh
# shellcheck disable=SC1091
. "$root/scripts/ort-env.sh"

step "format and lint"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "Rust tests (workspace: engine, CLI, C ABI with C/C++ programs)"
cargo test --workspace

step "Rust tests without default features"
cargo test -p l2core --no-default-features --lib

step "Python tests"
bash scripts/test-python.sh
