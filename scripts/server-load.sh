#!/usr/bin/env bash
# The server under load, beside the library it serves:
#
#   approvals per second and p50/p99 latency over HTTP, with wrk at 1, 8
#   and 64 connections (bench/server_load.lua: each request approves
#   another pending action, as alice, with an API token; only 2xx count),
#   and the same number of approvals made in process through the library
#   (ActionCenter::approve from 1, 8 and 64 threads: the fixture example's
#   --approve-threads), on SQLite and on PostgreSQL;
#
#   the live feed: SSE clients following /api/v1/events/stream while
#   actions are proposed through the API (the sse_clients example).
#
#   bash scripts/server-load.sh           # the full run; writes docs/server-benchmarks.md
#   bash scripts/server-load.sh --quick   # c=1,8 for 1 s, 20 SSE clients: under 30 s,
#                                         # prints the report instead of writing it
#   bash scripts/server-load.sh --out FILE
#
# PostgreSQL: ACTIONCENTER_PG_URL when set (a database per measurement is
# made on that server with psql and dropped after it); otherwise, in the
# full run, a throwaway cluster from scripts/pg-cluster.sh start --durable
# (fsync and synchronous_commit on, like SQLite's FULL). Without a server,
# or without psql, the PostgreSQL rows say why they are missing.
#
# Every measurement starts from a database of its own, made by the
# fixture example, and a server of its own (built in release, started
# with --rate-limit 0 so the limiter is not what is measured). wrk and the
# server share this machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "server-load: $*" >&2; exit 1; }
# psql on the PostgreSQL server, without its notices ("does not exist, skipping").
sql() { PGOPTIONS="-c client_min_messages=warning" psql -q "$pg_url" "$@"; }

quick=0
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --out) [ $# -ge 2 ] || die "--out needs a file"; out="$2"; shift ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) die "unknown option $1 (try --help)" ;;
  esac
  shift
done
if [ "$quick" = 1 ]; then
  conns=(1 8); duration=1; sse_clients=20; sse_proposals=200
else
  conns=(1 8 64); duration=5; sse_clients=200; sse_proposals=1000
  [ -n "$out" ] || out=docs/server-benchmarks.md
fi

command -v python3 >/dev/null || die "python3 is needed to read the results"
command -v curl >/dev/null || die "curl is needed to wait for the server"
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "server-load: installing wrk" >&2
    apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  fi
  command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
fi

echo "server-load: building the server and its examples in release" >&2
cargo build --quiet --release -p actioncenter-server --bin actioncenter-server --examples
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
server_bin="$target_dir/release/actioncenter-server"
fixture="$target_dir/release/examples/fixture"
sse="$target_dir/release/examples/sse_clients"

work="$(mktemp -d "${TMPDIR:-/tmp}/server-load.XXXXXX")"
server_pid=""
pg_dir=""
pg_url=""
pg_missing=""
results="$work/results.jsonl"
# The machine may be shared: its load before and after, for the report.
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
: > "$results"

stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}

cleanup() {
  stop_server
  if [ -n "$pg_url" ]; then
    # The databases this run made (fresh_db notes each one).
    while read -r db; do
      sql -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done < <(sort -u "$work/pg_databases" 2>/dev/null)
  fi
  if [ -n "$pg_dir" ]; then bash scripts/pg-cluster.sh stop "$pg_dir" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# ----- PostgreSQL ----------------------------------------------------------

if ! command -v psql >/dev/null; then
  pg_missing="psql is not installed (it makes a database per measurement)"
elif [ -n "${ACTIONCENTER_PG_URL:-}" ]; then
  pg_url="$ACTIONCENTER_PG_URL"
elif [ "$quick" = 1 ]; then
  pg_missing="--quick measures PostgreSQL only when ACTIONCENTER_PG_URL is set"
else
  set +e
  cluster="$(bash scripts/pg-cluster.sh start --durable 2>"$work/pg.err")"
  status=$?
  set -e
  if [ "$status" = 0 ]; then
    pg_url="$(sed -n 's/^ACTIONCENTER_PG_URL=//p' <<< "$cluster")"
    pg_dir="$(sed -n 's/^ACTIONCENTER_PG_DIR=//p' <<< "$cluster")"
  elif [ "$status" = 2 ]; then
    pg_missing="no PostgreSQL server: $(tr '\n' ' ' < "$work/pg.err")"
  else
    cat "$work/pg.err" >&2
    die "scripts/pg-cluster.sh could not start a cluster"
  fi
fi
pg_settings=""
if [ -n "$pg_url" ]; then
  pg_settings="$(psql -Atq "$pg_url" -c "SELECT 'server ' || current_setting('server_version') || ', fsync=' || current_setting('fsync') || ', synchronous_commit=' || current_setting('synchronous_commit')")"
  [ -n "$pg_dir" ] && pg_settings="$pg_settings (a throwaway cluster: scripts/pg-cluster.sh start --durable)"
fi

backends=(sqlite)
[ -n "$pg_url" ] && backends+=(postgres)

# The fixture's and the server's database options for a fresh database NAME.
fresh_db() {
  local backend="$1" name="$2"
  case "$backend" in
    sqlite)
      rm -f "$work/$name.db" "$work/$name.db-wal" "$work/$name.db-shm"
      echo "--db $work/$name.db"
      ;;
    postgres)
      sql -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" >/dev/null
      echo "$name" >> "$work/pg_databases"
      echo "--postgres ${pg_url%/*}/$name"
      ;;
  esac
}

drop_db() {
  local backend="$1" name="$2"
  case "$backend" in
    sqlite) rm -f "$work/$name.db" "$work/$name.db-wal" "$work/$name.db-shm" ;;
    postgres) sql -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null ;;
  esac
}

# Proposing threads: SQLite writers queue on one lock (its busy handler
# sleeps), PostgreSQL takes them in parallel.
propose_threads() { [ "$1" = sqlite ] && echo 1 || echo 4; }

# Starts the server on database options "$@"; sets $base, or prints why
# not to $work/start_error and returns 1.
start_server() {
  : > "$work/server.out"
  : > "$work/server.err"
  "$server_bin" "$@" --listen 127.0.0.1:0 --rate-limit 0 >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  base=""
  local i
  for i in $(seq 1 600); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      wait "$server_pid" 2>/dev/null || true
      server_pid=""
      { grep -m1 -o "panicked at .*" "$work/server.err" || tail -1 "$work/server.err"; } > "$work/start_error"
      sed -n '/panicked at/{n;p;q}' "$work/server.err" >> "$work/start_error"
      return 1
    fi
    base="$(sed -n 's/^Action center: \(http[^ ]*\)\/$/\1/p' "$work/server.out")"
    if [ -n "$base" ] && curl -fsS -o /dev/null "$base/healthz" 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  echo "the server did not answer /healthz in 30 s" > "$work/start_error"
  stop_server
  return 1
}

field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); exec("v=d"+sys.argv[2]); print(v)' "$@"; }

# Appends one JSON object to the results.
record() { python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])))' "$1" >> "$results"; }

# ----- approvals ----------------------------------------------------------

for backend in "${backends[@]}"; do
  rate_guess=400
  for c in "${conns[@]}"; do
    threads=$(( c < 2 ? c : 2 ))
    pool=$(( rate_guess * duration * 2 + 200 ))
    http=""
    for attempt in 1 2 3; do
      name="load_${backend}_c${c}_$attempt"
      echo "server-load: $backend, $c connection(s): $pool pending actions" >&2
      dbargs="$(fresh_db "$backend" "$name")"
      # shellcheck disable=SC2086
      "$fixture" $dbargs --pending "$pool" --propose-threads "$(propose_threads "$backend")" \
          --token-for alice --out "$work/fixture.json"
      python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); open(sys.argv[2],"w").write("\n".join(d["pending"])+"\n"); open(sys.argv[3],"w").write(d["tokens"]["alice"])' \
          "$work/fixture.json" "$work/ids" "$work/token"
      # shellcheck disable=SC2086
      if ! start_server $dbargs; then
        http="$(python3 -c 'import json,sys; print(json.dumps({"error": "the server did not start: " + open(sys.argv[1]).read().strip()}))' "$work/start_error")"
        drop_db "$backend" "$name"
        break
      fi
      ACTIONCENTER_LOAD_TOKEN="$(cat "$work/token")" wrk -t"$threads" -c"$c" -d"${duration}s" --timeout 10s \
          -s bench/server_load.lua "$base" "$work/ids" "$threads" > "$work/wrk.out" 2>&1 || true
      stop_server
      drop_db "$backend" "$name"
      http="$(sed -n 's/^LOADRESULT //p' "$work/wrk.out")"
      if [ -z "$http" ]; then
        http="$(python3 -c 'import json,sys; print(json.dumps({"error": "wrk: " + open(sys.argv[1]).read().strip()[-300:]}))' "$work/wrk.out")"
        break
      fi
      echo "$http" > "$work/http.json"
      [ "$(field "$work/http.json" '["exhausted"]')" = 0 ] && break
      # Too few pending actions for this rate: again with more.
      pool=$(( $(field "$work/http.json" '["requests"]') * 2 + 200 ))
    done
    inproc='{"error": "no HTTP approvals to repeat"}'
    ok=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("ok", 0))' "$http")
    if [ "$ok" -gt 0 ]; then
      rate_guess=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(max(50, int(d["ok"]/d["seconds"])))' "$http")
      name="inproc_${backend}_c$c"
      echo "server-load: $backend, $c thread(s) in process: $ok approvals" >&2
      dbargs="$(fresh_db "$backend" "$name")"
      # shellcheck disable=SC2086
      inproc="$("$fixture" $dbargs --pending "$ok" --propose-threads "$(propose_threads "$backend")" --approve-threads "$c")"
      drop_db "$backend" "$name"
    fi
    record "{\"measure\": \"approve\", \"backend\": \"$backend\", \"conns\": $c, \"threads\": $threads, \"http\": $http, \"inproc\": $inproc}"
  done
done

# ----- the live feed ------------------------------------------------------

for backend in "${backends[@]}"; do
  name="sse_$backend"
  echo "server-load: $backend, $sse_clients SSE clients, $sse_proposals proposals" >&2
  dbargs="$(fresh_db "$backend" "$name")"
  # shellcheck disable=SC2086
  "$fixture" $dbargs --token-for soar victor --out "$work/fixture.json"
  # shellcheck disable=SC2086
  if start_server $dbargs; then
    set +e
    feed="$("$sse" --base "$base" \
        --watch-token "$(field "$work/fixture.json" '["tokens"]["victor"]')" \
        --propose-token "$(field "$work/fixture.json" '["tokens"]["soar"]')" \
        --clients "$sse_clients" --proposals "$sse_proposals" 2>"$work/sse.err")"
    status=$?
    set -e
    [ "$status" = 0 ] || feed="$(python3 -c 'import json,sys; print(json.dumps({"error": open(sys.argv[1]).read().strip()}))' "$work/sse.err")"
    stop_server
  else
    feed="$(python3 -c 'import json,sys; print(json.dumps({"error": "the server did not start: " + open(sys.argv[1]).read().strip()}))' "$work/start_error")"
  fi
  drop_db "$backend" "$name"
  record "{\"measure\": \"feed\", \"backend\": \"$backend\", \"feed\": $feed}"
done

# ----- the report ---------------------------------------------------------

sqlite_sync="$(sed -n 's/^ *synchronous: Synchronous::\([A-Za-z]*\),.*/\1/p' core/src/store/sqlite.rs | head -1)"
sqlite_pool="$(sed -n 's/^ *pool_size: \([0-9]*\),.*/\1/p' core/src/store/sqlite.rs | head -1)"
cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
mem_kib="$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"
changed="$(git status --porcelain --untracked-files=no | awk '{print $2}' | tr '\n' ' ')"
meta="$(python3 -c 'import json,sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' \
  date "$(date -u +%Y-%m-%d)" nproc "$(nproc)" cpu "$cpu" mem_gib "$(( mem_kib / 1024 / 1024 ))" \
  load_before "$load_before" load_after "$(cut -d' ' -f1-3 /proc/loadavg)" \
  kernel "$(uname -r)" rustc "$(rustc -V)" wrk "$(wrk -v 2>&1 | head -1 | awk '{print $1, $2}')" \
  conns "$(IFS=,; echo "${conns[*]}")" commit "$(git rev-parse --short HEAD)" changed "$changed" quick "$quick" duration "$duration" \
  sqlite_sync "${sqlite_sync:-unknown}" sqlite_pool "${sqlite_pool:-unknown}" \
  pg_settings "$pg_settings" pg_missing "$pg_missing" sse_clients "$sse_clients" sse_proposals "$sse_proposals")"

report="$(python3 - "$results" "$meta" <<'EOF'
import json, sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
m = json.loads(sys.argv[2])

def n(x, digits=0):
    return f"{x:,.{digits}f}"

def ms(x):
    return f"{x:,.1f} ms" if x >= 10 else f"{x:,.2f} ms"

name = {"sqlite": f"SQLite ({m['sqlite_sync'].upper()})", "postgres": "PostgreSQL"}
out = []
w = out.append
w("# The server under load")
w("")
w("Approvals over HTTP against the same approvals made in process through")
w("the library, and the live feed with many clients. Made by")
w("`bash scripts/server-load.sh" + (" --quick" if m["quick"] == "1" else "") + "`; every figure below is from one run of it.")
w("")
w(f"Measured on {m['date']}: {m['nproc']} cores, {m['cpu']}, {m['mem_gib']} GiB memory; Linux {m['kernel']}; "
  f"{m['rustc']}; {m['wrk']}; commit {m['commit']}" + (f", with uncommitted changes to {m['changed'].strip()}" if m["changed"].strip() else "") + ".")
w("")
w(f"Load average (1, 5, 15 min) when the run started: {m['load_before']}; when it ended: {m['load_after']}. "
  "Other work on the machine shares its cores with the server, wrk and the clients.")
w("")
w("## How")
w("")
w(f"- HTTP: `wrk -t2 -c{{{m['conns']}}} -d{m['duration']}s` (one thread for one connection) with `bench/server_load.lua`:")
w("  every request is `POST /api/v1/actions/{id}/approve` for another pending action, as `alice` with an API")
w("  token. Only 2xx answers count as approvals; any other answer is in the non-2xx column. p50/p99 are wrk's,")
w("  over every request. The server is the release build, started with `--rate-limit 0`, logging a line per")
w("  request as it does by default; wrk runs on the same cores.")
w("- In process: the same number of approvals as HTTP made, `ActionCenter::approve` from 1, 8 or 64 threads")
w("  (`fixture --approve-threads`), on a database of its own opened the way the server opens it.")
w("  The ratio is HTTP approvals/s over in-process approvals/s.")
w(f"- SQLite: the server opens its file with `ActionCenter::open_sqlite`, that is `SqliteOptions::default()`:")
w(f"  WAL, `synchronous={m['sqlite_sync'].upper()}`, {m['sqlite_pool']} pooled connections, a 10 s busy timeout.")
if m["pg_settings"]:
    w(f"- PostgreSQL: {m['pg_settings']}; the server's default pool of 8 connections; a database of its own")
    w("  per measurement.")
else:
    w(f"- PostgreSQL: not measured: {m['pg_missing']}.")
w(f"- Every measurement starts on a new database holding the pending actions it will approve (the fixture example).")
w("")
w("## Approvals")
w("")
w("| backend | connections (HTTP) = threads (in process) | HTTP approvals/s | HTTP p50 | HTTP p99 | non-2xx | in process approvals/s | in process p50 | in process p99 | ratio |")
w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
notes = []
for r in rows:
    if r["measure"] != "approve":
        continue
    h, i = r["http"], r["inproc"]
    label = name[r["backend"]]
    if "error" in h:
        w(f"| {label} | {r['conns']} | failed¹ | | | | | | | |")
        notes.append(f"¹ {label}, {r['conns']} connection(s): {h['error']}")
        continue
    rate = h["ok"] / h["seconds"] if h["seconds"] else 0
    bad = str(h["non_2xx"] + h["errors"])
    if h["statuses"]:
        bad += " (" + ", ".join(f"{v} × {k}" for k, v in sorted(h["statuses"].items())) + ")"
    if h["errors"]:
        bad += f" ({h['errors']} socket errors or timeouts)"
    if h.get("exhausted"):
        bad += f" (pool exhausted {h['exhausted']} times)"
    if "error" in i:
        cells = ["—", "—", "—", "—"]
    else:
        ratio = rate / i["per_second"] if i["per_second"] else 0
        cells = [n(i["per_second"]) + "/s", ms(i["p50_ms"]), ms(i["p99_ms"]), f"{ratio:.2f}"]
        if i["errors"]:
            notes.append(f"{label}, {r['conns']} threads in process: {i['errors']} errors, first: {i['first_error']}")
    w(f"| {label} | {r['conns']} | {n(rate)}/s | {ms(h['p50_ms'])} | {ms(h['p99_ms'])} | {bad} | " + " | ".join(cells) + " |")
if not m["pg_settings"]:
    w(f"| PostgreSQL | — | not measured | | | | | | | |")
w("")
for note in notes:
    w(note)
    w("")
w("## The live feed")
w("")
w(f"{m['sse_clients']} clients follow `/api/v1/events/stream` (API token of `victor`, a viewer) while {m['sse_proposals']}")
w("actions are proposed through `POST /api/v1/actions` (8 in flight, as `soar`): the `sse_clients` example. Each client")
w("counts the propose event of each proposal once. Events per second: all events delivered over the time from the")
w("first proposal sent to the last event received. Delay: from the event's `at` (when the server recorded it) and")
w("from the moment its proposal was sent, to its receipt by a client; the server reads new events from the")
w("database every 200 ms (`Settings::feed_poll`), which bounds how early most can arrive.")
w("")
w("| backend | clients | proposals/s | events delivered | events/s | delay from `at` p50 | p99 | delay from send p50 | p99 |")
w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    if r["measure"] != "feed":
        continue
    f = r["feed"]
    label = name[r["backend"]]
    if "error" in f:
        w(f"| {label} | {m['sse_clients']} | failed² | | | | | | |")
        notes.append(f"² {label}: {f['error']}")
        w("")
        w(notes[-1])
        continue
    got = f"{n(f['events'])} of {n(f['expected_events'])}"
    w(f"| {label} | {f['clients']} | {n(f['proposals_per_second'])} | {got} | {n(f['events_per_second'])} | "
      f"{ms(f['delay_from_at']['p50_ms'])} | {ms(f['delay_from_at']['p99_ms'])} | "
      f"{ms(f['delay_from_send']['p50_ms'])} | {ms(f['delay_from_send']['p99_ms'])} |")
    if f.get("clients_short"):
        w("")
        w(f"{f['clients_short']} client(s) did not see every proposal: {f['first_problem']}")
print("\n".join(out))
EOF
)"

if [ -n "$out" ]; then
  printf '%s\n' "$report" > "$out"
  echo "server-load: wrote $out" >&2
else
  printf '%s\n' "$report"
fi
