#!/usr/bin/env bash
# Every benchmark, side by side with its peer, and docs/benchmarks.md.
#
#   bash scripts/bench.sh            the full run (about ten minutes), writes docs/benchmarks.md
#   bash scripts/bench.sh --large    the same plus the 1,000,000-action SQLite store (minutes more)
#   bash scripts/bench.sh --quick    every case small, in seconds, to a scratch page (the test command runs it)
#
# BENCH_ROWS=DIR keeps the measured rows (rust.jsonl, python.jsonl) in DIR,
# so that one group measured again (`acbench --only GROUP`) can replace
# its rows and scripts/bench-report.py write the page again.
#
# The Rust cases are acbench (bench/), the Python ones
# python/benches/compare.py in the project's virtual environment (.venv,
# made by scripts/test-python.sh; the full run makes it if missing) with
# the peers pinned in python/benches/requirements.txt. PostgreSQL rows use
# ACTIONCENTER_PG_URL, or a throwaway cluster from scripts/pg-cluster.sh
# (server defaults: fsync on); with neither they are skipped with the
# reason.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

quick=""; large=""
for arg in "$@"; do
  case "$arg" in
    --quick) quick=--quick ;;
    --large) large=--large ;;
    *) echo "usage: bench.sh [--quick] [--large]" >&2; exit 2 ;;
  esac
done

scratch=$(mktemp -d)
cluster_dir=""
cleanup() {
  if [ -n "$cluster_dir" ]; then bash scripts/pg-cluster.sh stop "$cluster_dir"; fi
  rm -rf "$scratch"
}
trap cleanup EXIT

if [ -z "${ACTIONCENTER_PG_URL:-}" ]; then
  durable=--durable
  [ -n "$quick" ] && durable=""
  set +e
  out="$(bash scripts/pg-cluster.sh start $durable 2>"$scratch/pg.err")"
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then
    while IFS='=' read -r key value; do
      case "$key" in
        ACTIONCENTER_PG_URL) export ACTIONCENTER_PG_URL="$value" ;;
        ACTIONCENTER_PG_DIR) cluster_dir="$value" ;;
      esac
    done <<< "$out"
  else
    echo "no PostgreSQL server: $(cat "$scratch/pg.err")"
  fi
fi

echo "==== Rust cases (acbench $quick $large)"
cargo build --quiet --release -p actioncenter-bench
target/release/acbench $quick $large --out "$scratch/rust.jsonl"

echo "==== Python cases"
py="$root/.venv/bin/python"
python_rows=()
if [ -z "$quick" ]; then
  # The full run measures a release build of the current tree.
  if [ ! -x "$py" ]; then python3 -m venv "$root/.venv"; fi
  "$py" -m pip install --quiet --disable-pip-version-check maturin==1.16.0 -r python/benches/requirements.txt
  (cd python && VIRTUAL_ENV="$root/.venv" PATH="$root/.venv/bin:$PATH" maturin develop --release --quiet)
fi
if [ -x "$py" ] && "$py" -c 'import actioncenter, transitions, statemachine' 2>/dev/null; then
  "$py" python/benches/compare.py $quick --out "$scratch/python.jsonl"
  python_rows=("$scratch/python.jsonl")
else
  echo "skipped the Python cases: no .venv with actioncenter and the peers (run scripts/test-python.sh)"
  echo '{"group": "python", "skipped": "no .venv with actioncenter and the peers"}' > "$scratch/python.jsonl"
  python_rows=("$scratch/python.jsonl")
fi

if [ -n "${BENCH_ROWS:-}" ]; then
  mkdir -p "$BENCH_ROWS"
  cp "$scratch/rust.jsonl" "$scratch/python.jsonl" "$BENCH_ROWS/"
fi

page=docs/benchmarks.md
[ -n "$quick" ] && page="$scratch/benchmarks.md"
command="bash scripts/bench.sh"
for flag in $quick $large; do command="$command $flag"; done
python3 scripts/bench-report.py "$page" "$command" "$scratch/rust.jsonl" "${python_rows[@]}"
