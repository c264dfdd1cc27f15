#!/usr/bin/env bash
# Fuzzing, bounded: every cargo-fuzz target of fuzz/ (the JSON entry points
# the doors read, and arbitrary sequences of engine calls checked against a
# model of the state machine) runs from its checked-in seed corpus
# (fuzz/corpus/TARGET) for FUZZ_SECONDS seconds each (default 7: the six
# take under a minute), and the executions of each are printed. A crash
# fails the run; libFuzzer leaves the input in fuzz/artifacts/TARGET.
#
# Long runs: FUZZ_SECONDS=3600 bash scripts/test-fuzz.sh, or one target:
#   cd fuzz && cargo +nightly fuzz run engine_sequence -- -len_control=0
# Uses a nightly toolchain when there is one, else the stable one (see
# below); installs cargo-fuzz from crates.io when it is missing.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds=${FUZZ_SECONDS:-7}
targets=(proposal_json policy_json filter_json bulk_json checkpoint_json engine_sequence)

# cargo-fuzz passes nightly-only flags (-Z sanitizer, coverage passes).
# With no nightly toolchain, the stable one takes them under
# RUSTC_BOOTSTRAP=1 (its standard library ships the sanitizer runtimes).
if cargo +nightly --version > /dev/null 2>&1; then
  toolchain=+nightly
else
  echo "test-fuzz: no nightly toolchain; building with the default one and RUSTC_BOOTSTRAP=1"
  toolchain=""
  export RUSTC_BOOTSTRAP=1
fi
if ! cargo fuzz --version > /dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

cargo ${toolchain:+"$toolchain"} fuzz build
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
total=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  # A sequence of engine calls is checked step by step: keep them short
  # enough for many runs.
  max_len=4096
  [ "$t" = engine_sequence ] && max_len=1024
  log="$work/$t.log"
  # New inputs go to the scratch directory (the first one named); the
  # checked-in corpus is only read.
  if ! cargo ${toolchain:+"$toolchain"} fuzz run "$t" "$work/$t" "corpus/$t" -- \
      -max_total_time="$seconds" -len_control=0 -max_len=$max_len -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 > "$log" 2>&1; then
    tail -60 "$log"
    echo "test-fuzz: $t crashed; the input is in fuzz/artifacts/$t"
    exit 1
  fi
  runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
  echo "fuzz $t: ${runs:-0} executions in ${seconds}s, 0 crashes"
  total=$((total + ${runs:-0}))
done
echo "fuzz: $total executions over ${#targets[@]} targets, 0 crashes"
