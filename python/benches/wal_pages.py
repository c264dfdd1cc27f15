"""Which pages an approve writes to SQLite's WAL, b-tree by b-tree.

    python python/benches/wal_pages.py [N]

Proposes N pending actions (default 2,000) into a fresh SQLite database
(``synchronous`` NORMAL), empties the WAL, approves 40 of them one by one
from the middle, then reads the page number of every frame the WAL holds
and names the table or index each page belongs to (SQLite's ``dbstat``,
which Python's own ``sqlite3`` is built with). What ``acbench profile
frames`` counts in all, here per b-tree: where an approve's commit goes.
"""

from __future__ import annotations

import collections
import sqlite3
import struct
import sys
import tempfile
from pathlib import Path

from actioncenter import (
    ActionCenter,
    AutomatedInvestigation,
    Device,
    Kind,
    Principal,
    Synchronous,
)

APPROVALS = 40


def frames_of(wal: bytes) -> list[int]:
    """The page number of each frame of a WAL file (its header: 32 bytes,
    then each frame's: 24 bytes, the page number first)."""
    (page_size,) = struct.unpack(">I", wal[8:12])
    pages, at = [], 32
    while at + 24 + page_size <= len(wal):
        (page,) = struct.unpack(">I", wal[at : at + 4])
        pages.append(page)
        at += 24 + page_size
    return pages


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    if n < 2 * APPROVALS:
        sys.exit(f"usage: wal_pages.py [N], N at least {2 * APPROVALS}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pages.db"
        center = ActionCenter.open_sqlite(path, synchronous=Synchronous.NORMAL)
        air, alice = Principal("air", ["automation"]), Principal("alice", ["analyst"])
        actions = [
            center.propose(
                air,
                Kind.ISOLATE_DEVICE,
                Device(f"dev-{i}"),
                AutomatedInvestigation(f"inv-{i // 25}"),
            )
            for i in range(n)
        ]
        look = sqlite3.connect(path)
        look.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for action in actions[n // 2 : n // 2 + APPROVALS]:
            center.approve(alice, action)
        pages = frames_of(Path(f"{path}-wal").read_bytes())
        owner = dict(look.execute("SELECT pageno, name || ' ' || pagetype FROM dbstat"))
        look.close()
        center.close()
    tally = collections.Counter(owner.get(p, "freelist or header") for p in pages)
    print(f"{len(pages) / APPROVALS:.2f} WAL pages per approve, {n:,} actions stored")
    for name, count in tally.most_common():
        print(f"  {count / APPROVALS:5.2f}  {name}")


if __name__ == "__main__":
    main()
