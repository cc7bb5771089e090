#!/usr/bin/env bash
# Coverage-guided fuzzing on stable Rust (not part of scripts/test.sh): builds fuzz/ (a static library
# instrumented with rustc's sanitizer-coverage passes), links each target with clang's libFuzzer under
# AddressSanitizer, and runs every target for a bounded time from its seed corpus in fuzz/seeds.
# Usage: bash scripts/fuzz.sh [seconds per target, default 60] [target ...]
# Targets: csv model index config capi. Findings (crash-*, timeout-*, oom-*) land in fuzz/artifacts/;
# the grown corpora in fuzz/corpus/ (neither is committed). Exit status 1 if any target found anything.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv model index config capi)

if ! command -v clang >/dev/null 2>&1 || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "==> installing clang and libFuzzer (Debian packages)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
fi

echo "==> building fuzz/ (release, sanitizer coverage)"
# An explicit --target keeps RUSTFLAGS off build scripts and proc macros (they are not instrumented).
triple=$(rustc -vV | sed -n 's/^host: //p')
export CARGO_TARGET_DIR="$root/target/fuzz"
export CARGO_INCREMENTAL=0
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=3 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cforce-frame-pointers=yes" \
  cargo build --release --quiet --manifest-path fuzz/Cargo.toml --target "$triple"
lib="$CARGO_TARGET_DIR/$triple/release/libl2_fuzz.a"
bin="$CARGO_TARGET_DIR/bin"
mkdir -p "$bin" fuzz/artifacts
export L2_FUZZ_TMP=${L2_FUZZ_TMP:-/dev/shm}
[ -d "$L2_FUZZ_TMP" ] || L2_FUZZ_TMP=/tmp
# Rust leaks nothing the fuzzer should care about, but the static library's thread-locals look like
# leaks to LeakSanitizer at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}

failed=()
for t in "${targets[@]}"; do
  clang -g -O1 -fsanitize=fuzzer,address -Iinclude "fuzz/harness/$t.c" "$lib" -lpthread -ldl -lm -o "$bin/fuzz-$t"
  mkdir -p "fuzz/corpus/$t"
  echo "==> $t: ${secs}s"
  if ! "$bin/fuzz-$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="fuzz/artifacts/$t-" -print_final_stats=1 "fuzz/corpus/$t" "fuzz/seeds/$t" \
      2> "fuzz/artifacts/$t.log"; then
    failed+=("$t")
  fi
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|^#[0-9]+ *DONE' "fuzz/artifacts/$t.log" | tr '\n' ' '
  echo
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "findings in: ${failed[*]} (see fuzz/artifacts/)" >&2
  exit 1
fi
echo "no crash, hang or memory error in: ${targets[*]}"
