"""Threads share one engine; storage calls release the GIL."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Dict, List

from actioncenter import (
    Action,
    ActionCenter,
    ActionCenterError,
    Conflict,
    Device,
    Kind,
    Playbook,
    Principal,
    Status,
)
from conftest import AIR, ALICE, VIC, Propose

THREADS = 8
ACTIONS = 20


def test_eight_threads_approving_the_same_actions_decide_each_once(
    center: ActionCenter, quarantine: Propose
) -> None:
    actions = [quarantine(device=f"dev-{n}") for n in range(ACTIONS)]
    approvers = [Principal(f"analyst-{n}", ["analyst"]) for n in range(THREADS)]
    start = threading.Barrier(THREADS)
    wins: Dict[str, List[str]] = {p.id: [] for p in approvers}
    losses: Counter[type] = Counter()
    unexpected: List[BaseException] = []
    lock = threading.Lock()

    def approve_all(me: Principal) -> None:
        start.wait()
        for action in actions:
            try:
                # Every thread saw version 1: exactly one may decide on it.
                center.approve(me, action.id, expected_version=action.version)
            except Conflict as e:
                with lock:
                    losses[type(e)] += 1
                assert e.action_id == action.id and e.expected == 1
            except ActionCenterError as e:  # pragma: no cover - reported below
                with lock:
                    unexpected.append(e)
            else:
                with lock:
                    wins[me.id].append(str(action.id))

    threads = [threading.Thread(target=approve_all, args=(p,)) for p in approvers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert unexpected == []
    assert sum(len(w) for w in wins.values()) == ACTIONS
    assert losses == Counter({Conflict: ACTIONS * (THREADS - 1)})
    for action in actions:
        stored = center.get(VIC, action.id)
        assert stored.status is Status.APPROVED
        assert stored.version == 2
        assert len(stored.decisions) == 1
    assert center.verify_audit().intact
    # Each action's proposal and its one approval, after the bootstrap policy.
    assert center.verify_audit().events_checked == 1 + 2 * ACTIONS


LOCK_HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
"""


def test_a_call_waiting_on_the_database_lets_other_threads_run(tmp_path: Path) -> None:
    """An approval blocked on SQLite's write lock must not hold the GIL:
    this thread has to run Python to release the lock it is waiting for.
    Were the GIL held, the approval would wait out its busy timeout and
    fail with StorageError.

    The lock is held by another process: two SQLite libraries in one
    process (Python's and the engine's) do not see each other's locks."""
    path = tmp_path / "ac.db"
    with ActionCenter.open_sqlite(path, busy_timeout=timedelta(seconds=20)) as center:
        action = center.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-1"), Playbook("p"))
        holder = subprocess.Popen(
            [sys.executable, "-c", LOCK_HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline() == "locked\n"
        outcome: List[object] = []
        approver = threading.Thread(target=lambda: outcome.append(center.approve(ALICE, action.id)))
        started = time.monotonic()
        approver.start()
        time.sleep(0.3)  # let the approval reach the lock; not a timing assertion
        assert approver.is_alive(), "the approval did not wait for the lock"
        holder.stdin.write("commit\n")
        holder.stdin.flush()
        assert holder.wait(timeout=15) == 0
        approver.join(timeout=15)
        assert not approver.is_alive()
        assert time.monotonic() - started < 15
        (approved,) = outcome
        assert isinstance(approved, Action) and approved.status is Status.APPROVED


def test_concurrent_executors_never_claim_the_same_action(
    center: ActionCenter, quarantine: Propose
) -> None:
    analyst = Principal("alice", ["analyst"])
    actions = [quarantine(device=f"dev-{n}") for n in range(ACTIONS)]
    ids = [a.id for a in actions]
    center.bulk(analyst, "approve", actions)
    executors = [Principal(f"agent-{n}", ["executor"]) for n in range(THREADS)]
    claimed: List[str] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def work(me: Principal) -> None:
        start.wait()
        while True:
            got = center.claim(me, limit=2)
            if not got:
                return
            with lock:
                claimed.extend(str(a.id) for a in got)

    threads = [threading.Thread(target=work, args=(e,)) for e in executors]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(str(i) for i in ids)
    assert center.counts(VIC)[Status.RUNNING] == ACTIONS
