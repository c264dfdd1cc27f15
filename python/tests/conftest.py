"""Shared fixtures: principals of the default policy, engines on both
embedded stores, and a hand-moved clock (tests never sleep)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import pytest
from actioncenter import (
    Action,
    ActionCenter,
    AutomatedInvestigation,
    Device,
    File,
    Kind,
    ManualClock,
    Principal,
)

START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

AIR = Principal("air", ["automation"])
ALICE = Principal("alice", ["analyst"])
BOB = Principal("bob", ["analyst"])
VIC = Principal("vic", ["viewer"])
AGENT = Principal("agent-1", ["executor"])
AGENT2 = Principal("agent-2", ["executor"])
ROOT = Principal("root", ["admin"])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(params=["memory", "sqlite"])
def center(
    request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
) -> Iterator[ActionCenter]:
    """The same engine on each embedded store, on the manual clock."""
    if request.param == "memory":
        c = ActionCenter.in_memory(clock=clock)
    else:
        c = ActionCenter.open_sqlite(tmp_path / "ac.db", clock=clock)
    with c:
        yield c


Propose = Callable[..., Action]


@pytest.fixture
def quarantine(center: ActionCenter) -> Propose:
    """Proposes a pending quarantine of the test file on a device."""

    def propose(device: str = "dev-1", investigation: str = "inv-1") -> Action:
        return center.propose(
            AIR,
            Kind.QUARANTINE_FILE,
            File(sha256=SHA, path="C:\\Users\\x\\evil.exe", device_id=device),
            AutomatedInvestigation(investigation),
        )

    return propose


@pytest.fixture
def isolate(center: ActionCenter) -> Propose:
    """Proposes a pending device isolation."""

    def propose(device: str = "dev-1", investigation: str = "inv-1") -> Action:
        return center.propose(
            AIR, Kind.ISOLATE_DEVICE, Device(device), AutomatedInvestigation(investigation)
        )

    return propose


def complete_quarantine(center: ActionCenter, action: Action) -> Action:
    """Approves, claims and completes `action`."""
    center.approve(ALICE, action)
    (claimed,) = center.claim(AGENT)
    assert claimed.id == action.id
    return center.complete(AGENT, claimed, {"quarantined": True})


def event_count(center: ActionCenter) -> int:
    """Events in the trail, the bootstrap policy's included."""
    return center.verify_audit().events_checked
