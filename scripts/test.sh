#!/usr/bin/env bash
# Runs every test of the project, from a fresh clone: installs what it
# needs (a Python virtual environment, a throwaway PostgreSQL cluster),
# builds, tests, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

# A CI run builds everything once, so incremental caches would only take
# disk (about 3.5 GB of it).
if [ "${CI:-}" = "true" ]; then
  export CARGO_INCREMENTAL=0
fi

run() { echo; echo "==== $1"; shift; "$@"; }

run "rust: format, lints, tests" bash scripts/test-rust.sh
for part in c python cli postgres browser schemathesis fuzz; do
  if [ -f "scripts/test-$part.sh" ]; then
    run "$part" bash "scripts/test-$part.sh"
  fi
done
run "cross-language: Python proposes, actionctl decides, C executes" bash tests/cross_language.sh
run "benchmarks, short (the full run is scripts/bench.sh)" bash scripts/bench.sh --quick
echo
echo "==== all tests passed"
