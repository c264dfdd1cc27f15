#!/usr/bin/env bash
# The server against its own OpenAPI document, with schemathesis: every
# operation in /api/v1/openapi.json, including the live feed, called with
# generated requests (at most 25 examples per operation, 120 s in all) as
# alice (an analyst) with an API token, on a fresh SQLite database that
# the fixture example fills with a few pending actions. The live feed is
# checked in a run of its own (see below): about 2 minutes in all.
#
#   bash scripts/test-schemathesis.sh            # not_a_server_error, response_schema_conformance
#   bash scripts/test-schemathesis.sh --strict   # and status_code_conformance
#   bash scripts/test-schemathesis.sh --seed N   # another seed (default 1, so runs repeat)
#
# schemathesis is pinned in tests/schemathesis/requirements.txt and lives
# in a venv under the cargo target directory (schemathesis-venv). Its 4.x
# releases read OpenAPI 3.1 without an experimental flag. For
# text/event-stream it reads the documented schema as the schema of each
# event ({"id", "event", "data"}), as OpenAPI 3.2's itemSchema does, and
# checks the events that arrive before the request timeout.
# Exit status: schemathesis's (0 when every check passed).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "test-schemathesis: $*" >&2; exit 1; }

checks="not_a_server_error,response_schema_conformance"
seed=1
while [ $# -gt 0 ]; do
  case "$1" in
    --strict) checks="$checks,status_code_conformance" ;;
    --seed) [ $# -ge 2 ] || die "--seed needs a number"; seed="$2"; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) die "unknown option $1 (try --help)" ;;
  esac
  shift
done

requirements=tests/schemathesis/requirements.txt
pinned="$(sed -n 's/^schemathesis==//p' "$requirements")"
[ -n "$pinned" ] || die "$requirements pins no schemathesis"
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
venv="$target_dir/schemathesis-venv"
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null | sed -n 's/.*version //p')" != "$pinned" ]; then
  echo "test-schemathesis: installing schemathesis $pinned in $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
fi

echo "test-schemathesis: building the server and the fixture" >&2
cargo build --quiet -p actioncenter-server --bin actioncenter-server --example fixture
server_bin="$target_dir/debug/actioncenter-server"
fixture="$target_dir/debug/examples/fixture"

work="$(mktemp -d "${TMPDIR:-/tmp}/schemathesis.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

"$fixture" --db "$work/ac.db" --pending 5 --token-for alice --out "$work/fixture.json"
token="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tokens"]["alice"])' "$work/fixture.json")"

# No rate limit: schemathesis sends far more than a person would.
"$server_bin" --db "$work/ac.db" --listen 127.0.0.1:0 --rate-limit 0 >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
base=""
for _ in $(seq 1 600); do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; die "the server ended before it listened"; }
  base="$(sed -n 's/^Action center: \(http[^ ]*\)\/$/\1/p' "$work/server.out")"
  if [ -n "$base" ] && curl -fsS -o /dev/null "$base/healthz" 2>/dev/null; then break; fi
  base=""
  sleep 0.05
done
[ -n "$base" ] || die "the server did not answer /healthz in 30 s"

stream=/api/v1/events/stream
st() {
  # schemathesis writes its own files (.hypothesis) where it runs.
  (cd "$work" && "$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" --checks "$checks" \
    --request-timeout 3 --seed "$seed" --no-color "$@")
}
set +e
echo "test-schemathesis: $base, every operation but $stream, checks $checks, seed $seed" >&2
st --exclude-path "$stream" --max-examples 25 --max-time 100
status=$?
# The live feed never ends: each request reads events until the request
# timeout, and only a request whose `after` is below the trail's head
# gets any to check. The coverage phase sends after=0 (the whole trail)
# every time; the fuzzing phase only by chance, and each of its cases costs
# the full timeout. So the stream is checked on its own, by that phase.
echo "test-schemathesis: $stream (coverage phase), checks $checks" >&2
st --include-path "$stream" --phases coverage --max-examples 25 --max-time 20
feed_status=$?
set -e
[ "$status" != 0 ] || status=$feed_status
if grep -q "panicked at" "$work/server.err"; then
  echo "test-schemathesis: the server panicked:" >&2
  grep -A2 "panicked at" "$work/server.err" >&2
  [ "$status" != 0 ] || status=1
fi
exit "$status"
