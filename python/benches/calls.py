"""Calls from Python, one kind at a time, for an instruction count.

    PYTHONHASHSEED=0 valgrind --tool=callgrind python python/benches/calls.py N CASE

Proposes N actions on a memory store, then makes N calls of CASE:
``none`` (nothing more: the baseline of ``approve``), ``approve`` (each
action as it was proposed), ``ids`` (reads each id: the baseline of the
rest), ``approve-id`` and ``get`` (each id), or the engine's own Rust loop
over the same ids,
``rust-approve`` and ``rust-get`` (what the overhead rows of
``compare.py`` subtract). A case's cost per call is its count less its
baseline's, over N; two builds' counts compare exactly, where their times
move with the machine.
"""

from __future__ import annotations

import sys

from actioncenter import ActionCenter, Device, Kind, Playbook, Policy, Principal

CASES = ("none", "approve", "ids", "approve-id", "get", "rust-approve", "rust-get")


def main() -> None:
    if len(sys.argv) != 3 or not sys.argv[1].isdigit() or sys.argv[2] not in CASES:
        sys.exit(f"usage: calls.py N {'|'.join(CASES)}")
    n, case = int(sys.argv[1]), sys.argv[2]
    center = ActionCenter.in_memory(Policy.default())
    automation = Principal("air", ["automation"])
    alice = Principal("alice", ["analyst"])
    actions = [
        center.propose(automation, Kind.ISOLATE_DEVICE, Device(f"d{i}"), Playbook("p"))
        for i in range(n)
    ]
    if case == "approve":
        for action in actions:
            center.approve(alice, action)
    if case in ("none", "approve"):
        return
    ids = [action.id for action in actions]
    if case == "approve-id":
        for id in ids:
            center.approve(alice, id)
    elif case == "get":
        for id in ids:
            center.get(alice, id)
    elif case.startswith("rust-"):
        center._live._rust_seconds(case.removeprefix("rust-"), alice, ids)


if __name__ == "__main__":
    main()
