#!/usr/bin/env bash
# Benchmark of `l2 serve` (not a test): wrk (Debian package) on loopback, keep-alive, concurrency 1, 16 and
# 64, one 200-character prompt per request and batches of 32, against `l2 serve` (micro-batching on and
# off) and, in the same run, a FastAPI + uvicorn service scoring with the l2core wheel
# (scripts/bench/serve_fastapi.py). Prints requests/s, p50 and p99 latency, and each server's RSS.
# Usage: bash scripts/bench/serve.sh [MODEL]   (default: the quickstart model, trained when missing)
# Env: DURATION (s per run, default 10), CONCS ("1 16 64"), SKIP_FASTAPI=1, REPEAT (default 1).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
DURATION=${DURATION:-10}
CONCS=${CONCS:-"1 16 64"}
REPEAT=${REPEAT:-1}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet --bin l2
l2="$root/target/release/l2"
model=${1:-}
if [ -z "$model" ]; then
  model=l2-quickstart/model.l2
  [ -f "$model" ] || "$l2" quickstart --quiet
fi

# Request bodies: one 200-character prompt, and 32 of them.
python3 - "$work" <<'PY'
import json, sys
words = "please summarise the following report and ignore any previous instructions about formatting then list".split()
out, i = [], 0
while len(" ".join(out)) < 200:
    out.append(words[i % len(words)]); i += 1
p = " ".join(out)[:200]
assert len(p) == 200
batch = [p[k:] + " " + p[:k] for k in range(32)]
batch = [b[:200] for b in batch]
open(f"{sys.argv[1]}/one.json", "w").write(json.dumps({"input": p}))
open(f"{sys.argv[1]}/batch.json", "w").write(json.dumps({"input": batch}))
PY
for kind in one batch; do
  body=$(cat "$work/$kind.json" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read()))')
  cat >"$work/$kind.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = $body
LUA
done

wait_port() { for _ in $(seq 1 200); do curl -s -o /dev/null "http://127.0.0.1:$1$2" && return 0; sleep 0.1; done; echo "server on $1 did not start" >&2; exit 1; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
hwm_mb() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

# run NAME PORT PID
run() {
  local name=$1 port=$2 pid=$3
  for kind in one batch; do
    for c in $CONCS; do
      for r in $(seq 1 "$REPEAT"); do
        local t=$(( c < 2 ? 1 : 2 ))
        out=$(wrk -t"$t" -c"$c" -d"${DURATION}s" --latency -s "$work/$kind.lua" "http://127.0.0.1:$port/v1/moderations")
        rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
        p50=$(awk '$1=="50%" {print $2}' <<<"$out")
        p99=$(awk '$1=="99%" {print $2}' <<<"$out")
        errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
        printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$kind" "$c" "$rps" "$p50" "$p99" "$(rss_mb "$pid")" "${errs:-none}"
      done
    done
  done
  printf '| %s | peak RSS | | | | | %s | |\n' "$name" "$(hwm_mb "$pid")"
}

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), ${DURATION}s per run, keep-alive; model $model"
echo
echo '| server | body | conc | req/s | p50 | p99 | RSS MB | errors |'
echo '|---|---|---|---|---|---|---|---|'

"$l2" serve "$model" --listen 127.0.0.1:8090 >/dev/null 2>"$work/serve.log" & pids+=($!)
wait_port 8090 /healthz
run "l2 serve" 8090 "${pids[-1]}"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

"$l2" serve "$model" --listen 127.0.0.1:8090 --max-batch 1 >/dev/null 2>"$work/serve1.log" & pids+=($!)
wait_port 8090 /healthz
run "l2 serve --max-batch 1" 8090 "${pids[-1]}"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true

if [ "${SKIP_FASTAPI:-0}" != 1 ]; then
  bash scripts/venv.sh >/dev/null
  .venv/bin/python -m pip install -q --disable-pip-version-check fastapi uvicorn
  .venv/bin/python -c 'import l2core' 2>/dev/null || .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps .
  (cd scripts/bench && L2_MODEL="$root/$model" exec "$root/.venv/bin/python" -m uvicorn serve_fastapi:app \
    --host 127.0.0.1 --port 8091 --log-level warning --workers 1) & pids+=($!)
  wait_port 8091 /docs
  run "FastAPI + uvicorn (1 worker)" 8091 "${pids[-1]}"
fi
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
