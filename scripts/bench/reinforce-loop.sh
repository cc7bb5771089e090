#!/usr/bin/env bash
# The reinforcement loop on the built-in corpus with a release build: weak production model, its false
# positives on generated benign traffic, `l2 retrain`, and the gate's latency figures.
# Usage: bash scripts/bench/reinforce-loop.sh [WORKDIR]   (prints the figures docs/bench/reinforce.md quotes)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet --bin l2
l2="$(pwd)/target/release/l2"
work="${1:-$(mktemp -d)}"
mkdir -p "$work" && cd "$work"
"$l2" corpus -o corpus.csv --seed 7 >/dev/null
"$l2" split corpus.csv -o split --fractions 0.8,0,0.2 >/dev/null
"$l2" corpus -o traffic_all.csv --seed 100 >/dev/null
# Production traffic: the benign, non-hard-negative rows of another corpus.
python3 - <<'PY'
import csv
rows = list(csv.DictReader(open("traffic_all.csv")))
w = csv.DictWriter(open("traffic.csv", "w", newline=""), fieldnames=rows[0].keys())
w.writeheader()
[w.writerow(r) for r in rows if r["label"] == "0" and r["category"] != "hard_negative"]
PY
"$l2" train split/train.csv -o weak.l2 --epochs 1 --hidden 8 --dims 256 --target-fpr 0.05 -q >/dev/null
rm -rf reg
"$l2" registry --registry reg add weak.l2 >/dev/null
"$l2" registry --registry reg promote v1 --stage production >/dev/null
"$l2" eval weak.l2 traffic.csv --fp-report fp.json >/dev/null
echo "== l2 reinforce (defaults)"
/usr/bin/time -f "wall %e s, max RSS %M KB" "$l2" reinforce --fp fp.json --train split/train.csv --holdout split/test.csv -o reinforced.csv
echo "== l2 retrain"
/usr/bin/time -f "wall %e s, max RSS %M KB" "$l2" retrain --fp fp.json --train split/train.csv --test split/test.csv \
  --registry reg --out-dir loop --epochs 12 --lr 0.001 --dims 256 -q | sed -n '/Release gate/,$p' || true
echo "== gate latency (one prompt: embed + network), candidate vs weak baseline"
python3 -c "
import json; g = json.load(open('loop/gate/gate.json'))
for side in ('baseline', 'candidate'):
    l = g[side]['latency']
    print(f\"{side:9} calls {l['samples']}  mean {l['mean_us']:.1f} us  p50 {l['p50_us']:.1f} us  p95 {l['p95_us']:.1f} us  p99 {l['p99_us']:.1f} us\")
"
