#!/usr/bin/env bash
# The PostgreSQL store: lints and tests of core with the `postgres`
# feature (the conformance suite on every backend, schema checks, and the
# multi-process tests) against a real server, then a short benchmark run.
#
# Uses ACTIONCENTER_PG_URL when set; otherwise starts a throwaway cluster
# with scripts/pg-cluster.sh and stops it on exit. With no server
# binaries the PostgreSQL tests skip with a printed reason, except under
# CI=true, where that fails.
set -euo pipefail
cd "$(dirname "$0")/.."

cluster_dir=""
cleanup() {
  if [ -n "$cluster_dir" ]; then
    bash scripts/pg-cluster.sh stop "$cluster_dir"
  fi
}
trap cleanup EXIT

if [ -z "${ACTIONCENTER_PG_URL:-}" ]; then
  set +e
  out="$(bash scripts/pg-cluster.sh start)"
  rc=$?
  set -e
  if [ "$rc" = 0 ]; then
    while IFS='=' read -r key value; do
      case "$key" in
        ACTIONCENTER_PG_URL) export ACTIONCENTER_PG_URL="$value" ;;
        ACTIONCENTER_PG_DIR) cluster_dir="$value" ;;
      esac
    done <<< "$out"
    echo "throwaway PostgreSQL cluster at $ACTIONCENTER_PG_URL"
  elif [ "$rc" = 2 ] && [ "${CI:-}" != true ]; then
    echo "SKIP: no PostgreSQL server to test with; the PostgreSQL tests will skip"
  else
    echo "cannot start a PostgreSQL cluster (exit $rc)" >&2
    exit 1
  fi
fi

cargo clippy -p actioncenter --features postgres --all-targets -- -D warnings
# The crash, race and interleaving suites on memory and SQLite ran in
# test-rust.sh; here their PostgreSQL parts run (and the restart test,
# on a cluster of its own).
cargo test -p actioncenter --features postgres -- \
  --skip sqlite_survives_sigkill_at_random_points --skip races_on_memory \
  --skip races_on_sqlite_with_a_handle_per_thread --skip races_between_processes_on_one_sqlite_file \
  --skip every_interleaving_on_memory --skip every_interleaving_on_sqlite
# Two server processes on one database: a decision through one reaches
# the other's live feed; sessions and rate limits are shared.
cargo test -p actioncenter-server --test pg_two_servers
# Many clients racing through two servers on one database.
cargo test -p actioncenter-server --test pg_races
if [ -n "${ACTIONCENTER_PG_URL:-}" ]; then
  cargo run --quiet -p actioncenter --features postgres --example pg_bench -- --quick "$ACTIONCENTER_PG_URL"
fi

# actionctl on the same server, in a database of its own: the demo, the
# Pending tab and the audit chain, through --postgres.
if [ -n "${ACTIONCENTER_PG_URL:-}" ]; then
  psql=/usr/lib/postgresql/15/bin/psql
  [ -x "$psql" ] || psql=psql
  "$psql" -q "$ACTIONCENTER_PG_URL" -c 'DROP DATABASE IF EXISTS actionctl_check' -c 'CREATE DATABASE actionctl_check'
  cli_url="${ACTIONCENTER_PG_URL%/*}/actionctl_check"
  cargo run --quiet -p actionctl -- --postgres "$cli_url" demo > /dev/null
  cargo run --quiet -p actionctl -- --postgres "$cli_url" --json pending \
    | python3 -c 'import json, sys; n = len(json.load(sys.stdin)["items"]); assert n > 0, n; print(f"actionctl --postgres: {n} pending")'
  cargo run --quiet -p actionctl -- --postgres "$cli_url" audit verify
  # A read-only command on a database with no Action center (a mistyped
  # name, say) fails with the storage code and creates nothing there.
  "$psql" -q "$ACTIONCENTER_PG_URL" -c 'DROP DATABASE IF EXISTS actionctl_empty' -c 'CREATE DATABASE actionctl_empty'
  empty_url="${ACTIONCENTER_PG_URL%/*}/actionctl_empty"
  set +e
  cargo run --quiet -p actionctl -- --postgres "$empty_url" pending 2> /dev/null
  code=$?
  set -e
  tables=$("$psql" -qtA "$empty_url" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
  [ "$code" = 8 ] && [ "$tables" = 0 ] || {
    echo "actionctl --postgres on an empty database: exit $code, $tables tables" >&2
    exit 1
  }
  echo "actionctl --postgres on an empty database: refused, nothing created"
fi

# The Python package on the same server (the venv comes from test-python.sh).
if [ -n "${ACTIONCENTER_PG_URL:-}" ] && [ ! -x .venv/bin/pytest ]; then
  if [ "${CI:-}" = true ]; then
    echo "no .venv: run scripts/test-python.sh before this script" >&2
    exit 1
  fi
  echo "SKIP: the Python package on PostgreSQL (no .venv: run scripts/test-python.sh first)"
fi
if [ -n "${ACTIONCENTER_PG_URL:-}" ] && [ -x .venv/bin/pytest ]; then
  "$psql" -q "$ACTIONCENTER_PG_URL" -c 'DROP DATABASE IF EXISTS python_check' -c 'CREATE DATABASE python_check'
  ACTIONCENTER_PG_URL="${ACTIONCENTER_PG_URL%/*}/python_check" ACTIONCENTER_REQUIRE_PG=1 \
    .venv/bin/pytest -p no:cacheprovider -q python/tests/test_postgres.py
fi
