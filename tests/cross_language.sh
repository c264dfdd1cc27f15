#!/usr/bin/env bash
# One database, four languages: a Python playbook proposes, an analyst
# rejects one action and approves the rest with actionctl, the C executor
# agent carries the approved ones out, and both actionctl and Python see
# the same history and an intact audit chain.
#
# Runs after scripts/test-c.sh (the executor binary) and
# scripts/test-python.sh (the virtual environment with the package).
set -euo pipefail
cd "$(dirname "$0")/.."

target=$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
executor="$target/c/executor"
python=.venv/bin/python
for need in "$executor" "$python"; do
  [ -x "$need" ] || { echo "cross-language: $need is missing; run scripts/test-c.sh and scripts/test-python.sh first" >&2; exit 1; }
done
cargo build --quiet -p actionctl
ctl() { "$target/debug/actionctl" --db "$db" --as alice "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="$work/shared.db"

echo "== Python: the playbook host makes the database, whose first policy names"
echo "   the operator's account an administrator and alice an analyst"
echo "== Python: an automated investigation proposes four actions"
"$python" - "$db" "$(id -un)" <<'PY'
import sys
from actioncenter import ActionCenter, AutomatedInvestigation, Device, File, Kind, Policy, Principal, User

rules = Policy.default().to_dict()
rules["principals"] = {sys.argv[2]: ["admin"], "alice": ["analyst"], "vera": ["viewer"]}
air = Principal("air", ["automation"])
inv = AutomatedInvestigation("inv-x")
payload = "ab" * 32
with ActionCenter.open_sqlite(sys.argv[1], Policy.from_dict(rules)) as center:
    for device in ("dev-1", "dev-2"):
        center.propose(air, Kind.QUARANTINE_FILE, File(sha256=payload, path="C:\\x.exe", device_id=device), inv)
    center.propose(air, Kind.ISOLATE_DEVICE, Device("dev-1"), inv)
    center.propose(air, Kind.DISABLE_USER, User("j.doe"), inv)
    print("pending:", center.counts(air)["pending"])
PY

echo "== actionctl: the analyst rejects the account action and approves the rest"
user_action=$(ctl --json pending --investigation inv-x --kind disable_user |
  "$python" -c 'import json, sys; items = json.load(sys.stdin)["items"]; assert len(items) == 1, items; print(items[0]["id"])')
ctl reject "$user_action" -m "service account, not the attacker's"
ctl approve --investigation inv-x -m "confirmed malicious" --yes

echo "== C: the executor agent carries out what was approved"
"$executor" "$db" c-agent-1 | tee "$work/executor.out"
grep -qx "completed 3, failed 0" "$work/executor.out"

echo "== actionctl and Python see the same history"
ctl history --investigation inv-x
ctl --json history --investigation inv-x | "$python" -c '
import json, sys
items = json.load(sys.stdin)["items"]
statuses = sorted(a["status"] for a in items)
assert statuses == ["completed", "completed", "completed", "rejected"], statuses
executors = {a["attempts"][-1]["executor"] for a in items if a["status"] == "completed"}
assert executors == {"c-agent-1"}, executors
'
"$python" - "$db" <<'PY'
import sys
from actioncenter import ActionCenter, Principal, Status

with ActionCenter.open_sqlite(sys.argv[1]) as center:
    viewer = Principal("vera", ["viewer"])
    done = [a for a in center.actions(viewer) if a.status is Status.COMPLETED]
    assert len(done) == 3, done
    actors = {e.actor for e in center.events_since(viewer, 0, limit=100)}
    assert actors == {"system", "air", "alice", "c-agent-1"}, actors
    via = {e.via for e in center.events_since(viewer, 0, limit=100) if e.actor == "alice"}
    assert len(via) == 1 and None not in via, via  # the operator, acting as alice
    report = center.verify_audit()
    assert report.intact, report
    print(f"python: {len(done)} completed, audit intact over {report.events_checked} events")
PY
ctl audit verify
echo "cross-language: 1 passed, 0 failed"
