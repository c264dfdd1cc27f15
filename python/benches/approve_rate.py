"""Approve calls per second from Python, on each embedded store, side by side.

    python python/benches/approve_rate.py [--actions N]

Each store gets N pending actions (proposing is not timed), then one
thread approves them one by one; the rate is approvals per wall-clock
second, GIL and JSON conversion included.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Callable, List, Tuple

from actioncenter import ActionCenter, AutomatedInvestigation, Device, Kind, Principal, Synchronous

AIR = Principal("air", ["automation"])
ALICE = Principal("alice", ["analyst"])


def rate(open_center: Callable[[], ActionCenter], n: int) -> Tuple[float, float]:
    """(proposals per second, approvals per second)."""
    with open_center() as center:
        inv = AutomatedInvestigation("inv-bench")
        start = time.perf_counter()
        ids = [
            center.propose(AIR, Kind.ISOLATE_DEVICE, Device(f"dev-{i}"), inv).id for i in range(n)
        ]
        proposed = time.perf_counter() - start
        start = time.perf_counter()
        for id in ids:
            center.approve(ALICE, id)
        approved = time.perf_counter() - start
        assert center.verify_audit().intact
    return n / proposed, n / approved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--actions", type=int, default=2000, help="actions per store (default 2000)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stores: List[Tuple[str, Callable[[], ActionCenter]]] = [
            ("memory", ActionCenter.in_memory),
            (
                "sqlite FULL",
                lambda: ActionCenter.open_sqlite(
                    Path(tmp) / "full.db", synchronous=Synchronous.FULL
                ),
            ),
            (
                "sqlite NORMAL",
                lambda: ActionCenter.open_sqlite(
                    Path(tmp) / "normal.db", synchronous=Synchronous.NORMAL
                ),
            ),
        ]
        print(f"{'store':<14} {'propose/s':>10} {'approve/s':>10}   ({args.actions} actions each)")
        for name, open_center in stores:
            proposes, approves = rate(open_center, args.actions)
            print(f"{name:<14} {proposes:>10,.0f} {approves:>10,.0f}")


if __name__ == "__main__":
    main()
