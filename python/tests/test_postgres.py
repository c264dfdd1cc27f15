"""The package over PostgreSQL. Needs a server: ACTIONCENTER_PG_URL names an
empty database. scripts/test-postgres.sh runs this file with one, and sets
ACTIONCENTER_REQUIRE_PG=1 so that a missing server fails instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from actioncenter import (
    ActionCenter,
    AutomatedInvestigation,
    Device,
    InvalidTransition,
    Kind,
    Status,
)
from conftest import AGENT, AIR, ALICE

URL = os.environ.get("ACTIONCENTER_PG_URL")

if not URL:
    if os.environ.get("ACTIONCENTER_REQUIRE_PG") == "1":
        raise RuntimeError("ACTIONCENTER_REQUIRE_PG=1 but ACTIONCENTER_PG_URL is not set")
    pytest.skip("no PostgreSQL server: set ACTIONCENTER_PG_URL", allow_module_level=True)


@pytest.fixture
def center() -> Iterator[ActionCenter]:
    assert URL is not None
    with ActionCenter.postgres(URL) as c:
        yield c


def test_a_proposal_goes_the_whole_way_on_postgres(center: ActionCenter) -> None:
    action = center.propose(
        AIR, Kind.ISOLATE_DEVICE, Device("pg-dev-1"), AutomatedInvestigation("inv-pg")
    )
    assert action.status is Status.PENDING
    center.approve(ALICE, action.id, expected_version=action.version)
    claimed = [a for a in center.claim(AGENT, limit=100) if a.id == action.id]
    assert len(claimed) == 1
    done = center.complete(AGENT, claimed[0], {"isolated": True})
    assert done.status is Status.COMPLETED
    with pytest.raises(InvalidTransition) as e:
        center.approve(ALICE, action.id)
    assert (e.value.status, e.value.event) == ("completed", "approve")
    assert center.verify_audit().intact


def test_a_second_handle_sees_the_same_queue(center: ActionCenter) -> None:
    assert URL is not None
    action = center.propose(
        AIR, Kind.ISOLATE_DEVICE, Device("pg-dev-2"), AutomatedInvestigation("inv-pg")
    )
    with ActionCenter.open_postgres(URL) as other:
        assert other.approve(ALICE, action.id).status is Status.APPROVED
    assert center.get(ALICE, action.id).status is Status.APPROVED
