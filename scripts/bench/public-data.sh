#!/usr/bin/env bash
# Quality benchmark on real public prompts (not a default test): trains on ../shared/data/public/*.csv
# with the default settings and prints the balance report and the test-split evaluation.
# Skips cleanly when the data is absent. Usage: bash scripts/bench/public-data.sh [extra l2 train flags]
set -euo pipefail
cd "$(dirname "$0")/../.."
data=../shared/data/public
if ! ls "$data"/*.csv >/dev/null 2>&1; then
  echo "skip: no public data in $data"
  exit 0
fi
out=${OUT:-target/public-data}
mkdir -p "$out"
cargo build --release -q
./target/release/l2 stats "$data"/*.csv --rejects "$out/stats.rejects.csv"
./target/release/l2 train "$data"/*.csv -o "$out/model.l2" "$@"
./target/release/l2 eval "$out/model.l2" "$data"/*.csv --json --rejects "$out/eval.rejects.csv" >"$out/eval-all.json"
echo "full-data evaluation JSON: $out/eval-all.json"
