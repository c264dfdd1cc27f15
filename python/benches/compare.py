"""actioncenter from Python against hand-rolled state machines, side by side.

    python python/benches/compare.py [--quick] [--out FILE] [--only GROUP,...]

The peers are what a playbook author would write instead: the same states
and moves in ``transitions`` or ``python-statemachine``, persisted with
``sqlite3`` the usual way, one compare-and-set ``UPDATE ... WHERE id = ?
AND version = ?`` per transition in its own commit, WAL, the same
``synchronous``. Each pair runs in alternating rounds in this process;
figures are medians of the rounds and ratios are actioncenter's over the
peer's. Rows go to ``--out`` as JSON lines (``scripts/bench.sh`` writes
``docs/benchmarks.md`` from them) and to stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import IO, Any, Callable, Dict, List, Optional

import statemachine
import transitions
from actioncenter import (
    Action,
    ActionCenter,
    AutomatedInvestigation,
    Device,
    Kind,
    Principal,
    Synchronous,
)
from statemachine import State, StateMachine

AIR = Principal("air", ["automation"])
ALICE = Principal("alice", ["analyst"])
INV = AutomatedInvestigation("inv-bench")

# The engine's statuses and moves, as a hand-rolled machine would have them.
STATES = ["pending", "approved", "rejected", "cancelled", "running", "completed", "failed"]
MOVES: List[Dict[str, Any]] = [
    {"trigger": "approve", "source": "pending", "dest": "approved"},
    {"trigger": "reject", "source": "pending", "dest": "rejected"},
    {"trigger": "cancel", "source": ["pending", "approved"], "dest": "cancelled"},
    {"trigger": "claim", "source": "approved", "dest": "running"},
    {"trigger": "complete", "source": "running", "dest": "completed"},
    {"trigger": "fail", "source": "running", "dest": "failed"},
    {"trigger": "retry", "source": "failed", "dest": "approved"},
]


class ActionMachine(StateMachine):
    """The same machine in python-statemachine."""

    pending = State(initial=True)
    approved = State()
    rejected = State(final=True)
    cancelled = State(final=True)
    running = State()
    completed = State(final=True)
    failed = State()

    approve = pending.to(approved)
    reject = pending.to(rejected)
    cancel = pending.to(cancelled) | approved.to(cancelled)
    claim = approved.to(running)
    complete = running.to(completed)
    fail = running.to(failed)
    retry = failed.to(approved)


class Row:
    def __init__(self, out: Optional[IO[str]]) -> None:
        self.out = out

    def __call__(
        self,
        measure: str,
        ours: str,
        peer: str,
        ratio: Optional[float],
        target: str = "",
        met: Optional[bool] = None,
    ) -> None:
        shown = "" if ratio is None else f"{ratio:.2f}"
        verdict = {True: "met", False: "NOT met", None: ""}[met]
        print(f"{measure:<66} {ours:>14} {peer:>14} {shown:>7}  {target} {verdict}")
        if self.out is not None:
            row = {
                "group": "python",
                "measure": measure,
                "actioncenter": ours,
                "peer": peer,
                "ratio": ratio,
                "target": target,
                "met": met,
            }
            self.out.write(json.dumps(row) + "\n")
            self.out.flush()


def per_second(r: float) -> str:
    return f"{r:,.0f}/s"


def alternate(rounds: int, *runs: Callable[[int], float]) -> List[float]:
    """Runs each of ``runs`` once per round (round ``r`` gets ``r``), the
    order rotating between rounds; the median of each."""
    results: List[List[float]] = [[] for _ in runs]
    for r in range(rounds):
        order = list(range(len(runs)))
        if r % 2:
            order.reverse()
        for i in order:
            results[i].append(runs[i](r))
    return [statistics.median(x) for x in results]


# ----- peers persisted with sqlite3 ------------------------------------------


def peer_table(path: Path, synchronous: str, n: int) -> sqlite3.Connection:
    """The table a playbook author keeps: id, status, version, the record as
    JSON; ``n`` pending rows. Autocommit: each statement commits."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE actions (id TEXT PRIMARY KEY, status TEXT NOT NULL, "
        "version INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID"
    )
    doc = json.dumps({"kind": "isolate_device", "entity": {"type": "device", "device_id": "d"}})
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO actions VALUES (?, 'pending', 1, ?)",
        ((f"a{i}", doc) for i in range(n)),
    )
    conn.execute("COMMIT")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    return conn


CAS = "UPDATE actions SET status = ?, version = version + 1 WHERE id = ? AND version = ?"


class TransitionsModel:
    """A ``transitions`` model that writes each move with compare-and-set."""

    def __init__(self, conn: sqlite3.Connection, id: str, version: int) -> None:
        self.conn, self.id, self.version = conn, id, version
        self.state = "pending"

    def persist(self) -> None:
        cur = self.conn.execute(CAS, (self.state, self.id, self.version))
        if cur.rowcount != 1:
            raise RuntimeError(f"{self.id} changed concurrently")
        self.version += 1


def transitions_machine() -> transitions.Machine:
    return transitions.Machine(
        model=None,
        states=STATES,
        transitions=MOVES,
        initial="pending",
        after_state_change="persist",
    )


def statemachine_approve(conn: sqlite3.Connection, sm: ActionMachine, id: str) -> None:
    sm.send("approve")
    cur = conn.execute(CAS, (str(sm.current_state_value), id, 1))
    if cur.rowcount != 1:
        raise RuntimeError(f"{id} changed concurrently")


# ----- the cases ---------------------------------------------------------------


def approve_vs_peers(row: Row, tmp: Path, quick: bool) -> None:
    for sync, mode in ((Synchronous.NORMAL, "NORMAL"), (Synchronous.FULL, "FULL")):
        approve_at(row, tmp, quick, sync, mode)


def approve_at(row: Row, tmp: Path, quick: bool, sync: Synchronous, mode: str) -> None:
    n, rounds = (40, 2) if quick else (400, 7)
    path = tmp / f"ac-{mode}.db"
    with ActionCenter.open_sqlite(path, synchronous=Synchronous.NORMAL) as seeding:
        ids = [
            seeding.propose(AIR, Kind.ISOLATE_DEVICE, Device(f"d{i}"), INV).id
            for i in range(n * rounds)
        ]
    center = ActionCenter.open_sqlite(path, synchronous=sync)

    t_conn = peer_table(tmp / f"transitions-{mode}.db", mode, n * rounds)
    machine = transitions_machine()
    t_models = [TransitionsModel(t_conn, f"a{i}", 1) for i in range(n * rounds)]
    for m in t_models:
        machine.add_model(m)

    s_conn = peer_table(tmp / f"statemachine-{mode}.db", mode, n * rounds)
    s_models = [ActionMachine() for _ in range(n * rounds)]

    def ours(r: int) -> float:
        start = time.perf_counter()
        for id in ids[r * n : (r + 1) * n]:
            center.approve(ALICE, id)
        return n / (time.perf_counter() - start)

    def with_transitions(r: int) -> float:
        start = time.perf_counter()
        for m in t_models[r * n : (r + 1) * n]:
            m.approve()  # type: ignore[attr-defined]
        return n / (time.perf_counter() - start)

    def with_statemachine(r: int) -> float:
        start = time.perf_counter()
        for i in range(r * n, (r + 1) * n):
            statemachine_approve(s_conn, s_models[i], f"a{i}")
        return n / (time.perf_counter() - start)

    a, t, s = alternate(rounds, ours, with_transitions, with_statemachine)
    center.close()
    for peer, rate in (("transitions", t), ("python-statemachine", s)):
        row(
            f"Python approve, SQLite {mode}, vs {peer} + sqlite3 compare-and-set",
            per_second(a),
            per_second(rate),
            a / rate,
            "≥ 1.0",
            a / rate >= 1.0,
        )


def create_vs_transitions(row: Row, quick: bool) -> None:
    # A Machine per model costs milliseconds and keeps a large object
    # graph alive (the collector's passes grow with it): 100,000 of them
    # take many minutes, so that peer's rate is measured on 10,000.
    n, rounds = (1_000, 2) if quick else (100_000, 3)
    n_each = min(n, 10_000)

    def ours(_: int) -> float:
        center = ActionCenter.in_memory()
        start = time.perf_counter()
        for i in range(n):
            center.propose(AIR, Kind.ISOLATE_DEVICE, Device(f"d{i}"), INV)
        return n / (time.perf_counter() - start)

    class Plain:
        pass

    def one_machine_each(_: int) -> float:
        # The way transitions' documentation starts: a Machine per model.
        start = time.perf_counter()
        kept = [
            transitions.Machine(model=Plain(), states=STATES, transitions=MOVES, initial="pending")
            for _i in range(n_each)
        ]
        took = time.perf_counter() - start
        del kept
        return n_each / took

    def shared_machine(_: int) -> float:
        machine = transitions.Machine(
            model=None, states=STATES, transitions=MOVES, initial="pending"
        )
        start = time.perf_counter()
        # add_model checks membership in a list: quadratic, so 10,000 too.
        for _i in range(n_each):
            machine.add_model(Plain())
        return n_each / (time.perf_counter() - start)

    a, each, shared = alternate(rounds, ours, one_machine_each, shared_machine)
    row(
        f"create {n:,} actions from Python (memory store) vs transitions models, "
        f"a Machine each ({n_each:,})",
        per_second(a),
        per_second(each),
        a / each,
        "≥ 20",
        a / each >= 20,
    )
    row(
        f"create {n:,} actions (memory store) vs transitions models on one shared Machine "
        f"({n_each:,})",
        per_second(a),
        per_second(shared),
        a / shared,
    )


def overhead_over_rust(row: Row, quick: bool) -> None:
    for verb in ("approve", "get", "get, every field read"):
        overhead_of(row, quick, verb)


FIELDS = tuple(f.name for f in dataclasses.fields(Action))


def overhead_of(row: Row, quick: bool, verb: str) -> None:
    """The same verb on the same store, timed from Python and from Rust
    (``_rust_seconds`` runs the loop in Rust), in alternating rounds, each
    given ids (a verb given the ``Action`` reads its id from the engine's
    value, at the same cost). An
    action's fields are built when first read: "every field read" reads
    them all, what a playbook that prints or copies the action pays."""
    n, rounds = (2_000, 2) if quick else (20_000, 7)
    center = ActionCenter.in_memory()
    live = center._live
    call: Callable[[Principal, uuid.UUID], Any] = (
        center.approve if verb == "approve" else center.get
    )
    if verb == "get, every field read":

        def call(by: Principal, id: uuid.UUID) -> Any:
            action = center.get(by, id)
            return [getattr(action, name) for name in FIELDS]

    native = "approve" if verb == "approve" else "get"
    py_times: List[float] = []
    rust_times: List[float] = []
    for r in range(rounds):
        ids: List[uuid.UUID] = [
            center.propose(AIR, Kind.ISOLATE_DEVICE, Device(f"d{r}-{i}"), INV).id
            for i in range(2 * n)
        ]
        mine, theirs = ids[:n], ids[n:]
        if r % 2:
            rust_times.append(live._rust_seconds(native, ALICE, theirs) / n)
            py_times.append(timed_python(call, mine) / n)
        else:
            py_times.append(timed_python(call, mine) / n)
            rust_times.append(live._rust_seconds(native, ALICE, theirs) / n)
    py, rs = statistics.median(py_times), statistics.median(rust_times)
    # Each round's two loops ran side by side on the same store, so the
    # machine's drift falls on both: the overhead is the median of the
    # rounds' differences, not the difference of two medians.
    over = statistics.median(p - r for p, r in zip(py_times, rust_times)) * 1e6
    targeted = verb != "get, every field read"
    row(
        f"Python per-call overhead over Rust, memory store, {verb} (ratio: Python time over Rust)",
        f"{over:.2f} µs",
        f"Rust {rs * 1e6:.2f} µs",
        py / rs,
        "≤ 2 µs" if targeted else "",
        over <= 2.0 if targeted else None,
    )


def timed_python(call: Callable[[Principal, uuid.UUID], Any], ids: List[uuid.UUID]) -> float:
    start = time.perf_counter()
    for id in ids:
        call(ALICE, id)
    return time.perf_counter() - start


GROUPS = ("approve", "create", "overhead")


def groups(text: str) -> tuple[str, ...]:
    """The groups of ``--only``, each one of GROUPS."""
    chosen = tuple(name.strip() for name in text.split(","))
    unknown = [name for name in chosen if name not in GROUPS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown group {', '.join(unknown)}: the groups are {', '.join(GROUPS)}"
        )
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every case small, in seconds")
    parser.add_argument("--out", type=Path, help="write the rows as JSON lines here")
    parser.add_argument(
        "--only",
        type=groups,
        default=GROUPS,
        metavar="GROUP,...",
        help=f"measure only these groups, of {', '.join(GROUPS)}",
    )
    args = parser.parse_args()
    out = args.out.open("w", encoding="utf-8") if args.out else None
    print(f"transitions {transitions.__version__}, python-statemachine {statemachine.__version__}")
    try:
        row = Row(out)
        if "approve" in args.only:
            with tempfile.TemporaryDirectory() as tmp:
                approve_vs_peers(row, Path(tmp), args.quick)
        if "create" in args.only:
            create_vs_transitions(row, args.quick)
        if "overhead" in args.only:
            overhead_over_rust(row, args.quick)
    finally:
        if out is not None:
            out.close()


if __name__ == "__main__":
    main()
