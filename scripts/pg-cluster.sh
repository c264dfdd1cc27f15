#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks, from the
# installed server binaries: initdb in a fresh temporary directory, run
# by a non-root account (the `postgres` account when called as root),
# listening on 127.0.0.1 only, on a free port, trust authentication.
#
#   pg-cluster.sh start [--durable] [--owner PID]
#       Starts a cluster and prints, one per line:
#         ACTIONCENTER_PG_URL=postgres://postgres@127.0.0.1:PORT/postgres
#         ACTIONCENTER_PG_DIR=DIR
#       Without --durable the server runs with fsync, synchronous_commit
#       and full_page_writes off: fast, and lost on a crash, which is fine
#       for a cluster that lives as long as a test run.
#       With --owner PID a detached guard stops the cluster and removes
#       its directory once process PID has exited (the test harness uses
#       this: it cannot run code when the test process ends).
#       Exit status 2: no server binaries, or no non-root account to run
#       them (the reason is on stderr); 1: any other failure.
#   pg-cluster.sh stop DIR
#       Stops the cluster in DIR and removes DIR.
#
# The binaries are looked for in $PG_BIN, /usr/lib/postgresql/*/bin,
# then on PATH.
set -euo pipefail
# The guard re-runs this script from the cluster's directory: know where it is.
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"

missing() { echo "pg-cluster: $*" >&2; exit 2; }
fail() { echo "pg-cluster: $*" >&2; exit 1; }

find_bin() {
  if [ -n "${PG_BIN:-}" ]; then
    [ -x "$PG_BIN/initdb" ] && { echo "$PG_BIN"; return; }
    missing "no initdb in PG_BIN=$PG_BIN"
  fi
  local found="" d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && found="$d"
  done
  if [ -z "$found" ] && command -v initdb >/dev/null 2>&1; then
    found="$(dirname "$(command -v initdb)")"
  fi
  [ -n "$found" ] || missing "no PostgreSQL server binaries (initdb, pg_ctl) in /usr/lib/postgresql/*/bin or on PATH"
  echo "$found"
}

# Runs a command as the cluster's owner: ourselves, or `postgres` if we are root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

stop_cluster() {
  local dir="$1"
  case "$(basename "$dir")" in
    actioncenter-pg.*) ;;
    *) fail "refusing to stop $dir: not a directory this script made" ;;
  esac
  [ -d "$dir" ] || return 0
  if [ -f "$dir/data/PG_VERSION" ]; then
    local bin
    bin="$(cat "$dir/bin" 2>/dev/null || find_bin)"
    (cd "$dir" && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 </dev/null) || true
  fi
  rm -rf "$dir"
}

start_cluster() {
  local durable=0 owner=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --durable) durable=1 ;;
      --owner) owner="$2"; shift ;;
      *) fail "unknown option $1" ;;
    esac
    shift
  done
  local bin
  bin="$(find_bin)"
  if [ "$(id -u)" = 0 ]; then
    id -u postgres >/dev/null 2>&1 || missing "running as root and there is no postgres account to run the server"
    command -v runuser >/dev/null 2>&1 || missing "running as root and runuser is missing"
  fi
  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/actioncenter-pg.XXXXXX")"
  echo "$bin" > "$dir/bin"
  chmod 755 "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  # The server binaries look at the working directory: use one they may read.
  cd "$dir"
  if ! as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale \
      >"$dir/initdb.log" 2>&1 </dev/null; then
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    fail "initdb failed"
  fi
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$dir'"
    echo "max_connections = 200"
    if [ "$durable" = 0 ]; then
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } >> "$dir/data/postgresql.conf"
  local attempt port=""
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    port_in_use "$port" && continue
    echo "port = $port" >> "$dir/data/postgresql.conf"
    rm -f "$dir/server.log"
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
        >/dev/null 2>&1 </dev/null; then
      break
    fi
    # A server still starting after the wait must not outlive its directory.
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 </dev/null || true
    if ! grep -q "could not bind\|already in use" "$dir/server.log" 2>/dev/null; then
      tail -20 "$dir/server.log" >&2 || true
      rm -rf "$dir"
      fail "the server did not start"
    fi
    port=""
  done
  if [ -z "$port" ]; then
    rm -rf "$dir"
    fail "found no free port"
  fi
  if [ -n "$owner" ]; then
    setsid bash "$self" guard "$owner" "$dir" >/dev/null 2>&1 </dev/null &
  fi
  echo "ACTIONCENTER_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
  echo "ACTIONCENTER_PG_DIR=$dir"
}

case "${1:-}" in
  start) shift; start_cluster "$@" ;;
  stop) [ $# -eq 2 ] || fail "usage: $0 stop DIR"; stop_cluster "$2" ;;
  guard)
    # Waits for the owner process to end, then stops the cluster.
    [ $# -eq 3 ] || fail "usage: $0 guard PID DIR"
    while kill -0 "$2" 2>/dev/null; do sleep 1; done
    stop_cluster "$3"
    ;;
  *) fail "usage: $0 start [--durable] [--owner PID] | stop DIR" ;;
esac
