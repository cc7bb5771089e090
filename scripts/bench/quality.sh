#!/usr/bin/env bash
# Detection-quality benchmark (not a test): every contender on the same splits of ../shared/data/public,
# in distribution (pooled 70/15/15) and leave-one-source-out, plus obfuscated copies of the pooled test
# rows and the speed, size and memory of the pooled models. Writes docs/quality.md and docs/quality.json.
# Skips cleanly (exit 0) when the data is absent.
#
# Usage: bash scripts/bench/quality.sh [driver flags: --max-rows-per-source N --folds a,b --sources a,b
#        --contenders default,seed,sklearn_tfidf_lr,rf_minilm,minilm_mlp --extra KEY="l2 train flags"
#        --rf-trees N --budget S --keep]
#
# The run bounds itself: QUALITY_BUDGET (or --budget) seconds of wall time for the whole run (default
# 4 h); a step that would pass it is stopped and its figures are reported as "timeout", never dropped.
# On a shared 2-core machine use --max-rows-per-source (QUALITY_MAX_ROWS) and/or --folds to keep it short;
# the doc records exactly what ran. Work files go to target/quality-bench and are deleted at the end
# (unless --keep); only its results.json stays.
set -euo pipefail
cd "$(dirname "$0")/../.."
data=${QUALITY_DATA:-../shared/data/public}
if ! ls "$data"/*.csv >/dev/null 2>&1; then
  echo "skip: no public data in $data"
  exit 0
fi
bash scripts/venv.sh
. scripts/ort-env.sh
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
cargo build --release -q --bin l2 --example rf_contender --example serve_rss
exec .venv/bin/python scripts/bench/quality.py --data "$data" "$@"
