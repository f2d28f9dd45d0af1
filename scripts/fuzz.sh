#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of untrusted input (docs/FUZZING.md).
#
#   scripts/fuzz.sh [seconds-per-target] [target…]
#
# Installs cargo-fuzz if it is missing, builds the targets in fuzz/ once, then runs each for
# the given time (default 20 s: the eight targets take about three minutes on two cores), one
# after another. The committed seeds (fuzz/corpus/<target>) are read, never written: what the
# run learns goes to fuzz/work/corpus/<target> (kept between runs on the same machine, ignored
# by git). Exits non-zero on the first crash, naming the input that reproduces it.
#
# Stable Rust only: libFuzzer's coverage instrumentation is enabled with stable `-C` flags by
# cargo-fuzz; sanitizers would need nightly, so the targets run with `-s none` (safe Rust with
# debug assertions and overflow checks on, see fuzz/Cargo.toml).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${1:-20}"
shift || true
CARGO_FUZZ_VERSION=0.13.2

if ! [[ "$SECONDS_PER_TARGET" =~ ^[0-9]+$ ]] || [ "$SECONDS_PER_TARGET" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [seconds-per-target] [target…]" >&2
  exit 2
fi

# libfuzzer-sys compiles libFuzzer itself (C++).
if ! command -v c++ >/dev/null 2>&1; then
  echo "fuzz: a C++ compiler is needed (apt-get install g++)" >&2
  exit 1
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

echo "fuzz: building ${#targets[@]} targets"
cargo fuzz build -s none

passed=0
failed=0
for target in "${targets[@]}"; do
  work="fuzz/work/corpus/$target"
  artifacts="fuzz/artifacts/$target"
  mkdir -p "$work" "$artifacts"
  echo "fuzz: $target for ${SECONDS_PER_TARGET}s"
  log="fuzz/work/$target.log"
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a runaway allocation is a crash.
  if cargo fuzz run -s none "$target" "$work" "fuzz/corpus/$target" -- \
      -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)|Done [0-9]+ runs' "$log" | tr '\n' ' ' || true
    echo
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    tail -n 60 "$log"
    crash="$(ls -t "$artifacts"/* 2>/dev/null | head -n 1 || true)"
    echo "fuzz: $target FAILED; reproducer: ${crash:-<none written, see $log>}"
    echo "fuzz: reproduce with: cargo fuzz run -s none $target ${crash:-}"
    echo "fuzz: then turn it into a regression test (docs/FUZZING.md)"
    break
  fi
done

if [ "$failed" -eq 0 ]; then
  echo "fuzz: all $passed targets ran ${SECONDS_PER_TARGET}s each without a crash"
else
  exit 1
fi
