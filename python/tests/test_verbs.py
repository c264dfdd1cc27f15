"""Every verb of the engine, on the memory store and on SQLite."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from actioncenter import (
    Action,
    ActionCenter,
    Antivirus,
    AuditEvent,
    Category,
    Device,
    Event,
    File,
    InvalidTransition,
    Kind,
    ManualClock,
    ManualResponse,
    Mismatch,
    NotFound,
    Outcome,
    Playbook,
    Policy,
    Principal,
    SourceType,
    Status,
    StorageError,
    Url,
    User,
    Verdict,
)
from conftest import AGENT, AGENT2, AIR, ALICE, BOB, SHA, START, VIC, Propose, complete_quarantine

# ----- proposing -------------------------------------------------------------


def test_proposal_from_an_investigation_waits_for_approval(center: ActionCenter) -> None:
    action = center.propose(
        AIR,
        Kind.QUARANTINE_FILE,
        File(sha256=SHA, path="C:\\evil.exe", device_id="dev-1"),
        {"type": "automated_investigation", "investigation_id": "inv-9"},
        parameters={"reason": "malware", "score": 97},
        alert_id="alert-3",
    )
    assert action.status is Status.PENDING
    assert action.kind is Kind.QUARANTINE_FILE
    assert action.category is Category.FILE
    assert action.investigation_id == "inv-9"
    assert action.alert_id == "alert-3"
    assert action.incident_id is None
    assert dict(action.parameters) == {"reason": "malware", "score": 97}
    assert action.created_by == "air"
    assert action.created_at == START
    assert action.expires_at == START + timedelta(days=7)
    assert action.version == 1
    assert isinstance(action.id, uuid.UUID) and action.id.version == 7


def test_manual_response_by_the_proposer_is_approved_at_once(center: ActionCenter) -> None:
    action = center.propose(ALICE, Kind.DISABLE_USER, User("u-1"), ManualResponse("alice"))
    assert action.status is Status.APPROVED
    assert action.expires_at is None


def test_full_automation_approves_at_once(center: ActionCenter) -> None:
    center.set_policy(
        Policy(
            {
                **Policy().to_dict(),
                "automation": {"default": "semi", "sources": {"antivirus": "full"}},
            }
        )
    )
    action = center.propose(AIR, Kind.BLOCK_URL, Url("http://bad.example"), Antivirus())
    assert action.status is Status.APPROVED


def test_custom_kind_is_a_plain_string(center: ActionCenter) -> None:
    action = center.propose(
        AIR, Kind.custom("collect_package"), Device("dev-2"), Playbook("triage")
    )
    assert action.kind == "custom:collect_package"
    assert not isinstance(action.kind, Kind)
    assert action.category is Category.DEVICE


# ----- deciding --------------------------------------------------------------


def test_approve_records_the_decision(center: ActionCenter, quarantine: Propose) -> None:
    pending = quarantine()
    approved = center.approve(ALICE, pending.id, comment="confirmed", expected_version=1)
    assert approved.status is Status.APPROVED
    assert approved.version == 2
    (decision,) = approved.decisions
    assert (decision.by, decision.verdict, decision.comment) == (
        "alice",
        Verdict.APPROVE,
        "confirmed",
    )
    assert decision.at == START


def test_quorum_of_two_needs_two_distinct_approvers(center: ActionCenter, isolate: Propose) -> None:
    rules = Policy().to_dict()
    rules["kinds"] = {"isolate_device": {"quorum": 2}}
    center.set_policy(Policy(rules))
    action = isolate()
    assert center.approve(ALICE, action.id).status is Status.PENDING
    assert center.approve(BOB, action.id).status is Status.APPROVED


def test_reject_needs_and_keeps_the_comment(center: ActionCenter, quarantine: Propose) -> None:
    rejected = center.reject(ALICE, quarantine().id, comment="false positive")
    assert rejected.status is Status.REJECTED
    assert rejected.decisions[0].verdict is Verdict.REJECT
    assert rejected.decisions[0].comment == "false positive"


def test_proposer_cancels_with_a_note(center: ActionCenter, quarantine: Propose) -> None:
    cancelled = center.cancel(AIR, quarantine().id, comment="investigation closed")
    assert cancelled.status is Status.CANCELLED
    assert cancelled.cancellation is not None
    assert (cancelled.cancellation.by, cancelled.cancellation.comment) == (
        "air",
        "investigation closed",
    )


# ----- executing -------------------------------------------------------------


def test_claim_heartbeat_complete(
    center: ActionCenter, clock: ManualClock, quarantine: Propose
) -> None:
    action = quarantine()
    center.approve(ALICE, action.id)
    (running,) = center.claim(AGENT, limit=10, lease=timedelta(minutes=2))
    assert running.status is Status.RUNNING
    assert running.lease_until == START + timedelta(minutes=2)
    clock.advance(timedelta(minutes=1))
    renewed = center.heartbeat(AGENT, action.id, lease=timedelta(minutes=10))
    assert renewed.lease_until == START + timedelta(minutes=11)
    done = center.complete(AGENT, action.id, {"quarantined": True, "files": 1})
    assert done.status is Status.COMPLETED
    (attempt,) = done.attempts
    assert attempt.outcome is Outcome.COMPLETED
    assert attempt.result == {"quarantined": True, "files": 1}
    assert done.active_attempt is None and done.lease_until is None


def test_claim_is_limited_to_kinds(
    center: ActionCenter, quarantine: Propose, isolate: Propose
) -> None:
    q, i = quarantine(), isolate()
    center.bulk(ALICE, Event.APPROVE, [q.id, i.id])
    claimed = center.claim(AGENT, limit=5, kinds=[Kind.ISOLATE_DEVICE])
    assert [a.id for a in claimed] == [i.id]
    assert center.claim(AGENT2, limit=5, kinds="isolate_device") == []


def test_fail_then_retry_goes_back_to_the_queue(center: ActionCenter, quarantine: Propose) -> None:
    action = quarantine()
    center.approve(ALICE, action.id)
    center.claim(AGENT)
    failed = center.fail(AGENT, action.id, "device offline")
    assert failed.status is Status.FAILED
    assert failed.attempts[0].outcome is Outcome.FAILED
    assert failed.attempts[0].error == "device offline"
    retried = center.retry(ALICE, action.id, comment="device is back")
    assert retried.status is Status.APPROVED
    assert [a.id for a in center.claim(AGENT2)] == [action.id]


# ----- undoing ---------------------------------------------------------------


def test_undo_of_one_quarantine_fans_out_to_every_instance(
    center: ActionCenter, quarantine: Propose
) -> None:
    first, second, third = (
        complete_quarantine(center, quarantine(device=d)) for d in ("dev-1", "dev-2", "dev-3")
    )
    others = center.undo_instances(ALICE, first.id)
    assert sorted(a.id for a in others) == sorted([second.id, third.id])

    report = center.undo(ALICE, first.id, comment="false positive", all_instances=True)
    assert report.action.status is Status.UNDOING
    assert report.action.undo is not None
    assert report.action.undo.inverse is Kind.RESTORE_FILE
    assert sorted(item.id for item in report.instances) == sorted([second.id, third.id])
    for item in report.instances:
        assert item.ok and item.action is not None
        assert item.action.status is Status.UNDOING
        assert item.action.undo is not None and item.action.undo.fanned_out_from == first.id

    undos = center.claim(AGENT, limit=10)
    assert len(undos) == 3 and all(a.attempts[-1].undo for a in undos)
    for a in undos:
        assert center.complete(AGENT, a.id, {"restored": True}).status is Status.UNDONE


def test_undo_without_fan_out_touches_one_action(center: ActionCenter, quarantine: Propose) -> None:
    first, second = (complete_quarantine(center, quarantine(device=d)) for d in ("dev-1", "dev-2"))
    report = center.undo(ALICE, first.id, comment="fp")
    assert report.instances == ()
    assert center.get(ALICE, second.id).status is Status.COMPLETED


def test_failed_undo_can_be_undone_again(center: ActionCenter, quarantine: Propose) -> None:
    done = complete_quarantine(center, quarantine())
    center.undo(ALICE, done.id, comment="fp")
    center.claim(AGENT)
    assert center.fail(AGENT, done.id, "file gone").status is Status.UNDO_FAILED
    assert center.undo(ALICE, done.id, comment="try again").action.status is Status.UNDOING


# ----- bulk ------------------------------------------------------------------


def test_bulk_by_ids_gives_one_result_per_item(center: ActionCenter, quarantine: Propose) -> None:
    a, b = quarantine(), quarantine(device="dev-2")
    center.reject(ALICE, b.id, comment="no")
    results = center.bulk(ALICE, Event.APPROVE, [a.id, str(b.id)], comment="batch")
    assert [r.id for r in results] == [a.id, b.id]
    assert results[0].ok and results[0].action is not None
    assert results[0].action.status is Status.APPROVED
    assert not results[1].ok and results[1].action is None
    assert isinstance(results[1].error, InvalidTransition)
    assert results[1].error.status is Status.REJECTED
    assert results[1].error.event is Event.APPROVE


def test_bulk_reject_by_investigation_touches_only_its_pending_actions(
    center: ActionCenter, quarantine: Propose
) -> None:
    mine = [quarantine(device=f"dev-{n}", investigation="inv-7") for n in range(3)]
    done = complete_quarantine(center, mine[0])
    other = quarantine(investigation="inv-8")
    results = center.bulk(ALICE, "reject", investigation_id="inv-7", comment="benign")
    assert sorted(r.id for r in results) == sorted(a.id for a in mine[1:])
    assert all(r.ok for r in results)
    assert center.get(ALICE, done.id).status is Status.COMPLETED
    assert center.get(ALICE, other.id).status is Status.PENDING


def test_bulk_cancel_and_undo(center: ActionCenter, quarantine: Propose) -> None:
    pending = quarantine()
    done = complete_quarantine(center, quarantine(device="dev-2"))
    (cancelled,) = center.bulk(ALICE, Event.CANCEL, [pending.id], comment="dup")
    assert cancelled.action is not None and cancelled.action.status is Status.CANCELLED
    (undone,) = center.bulk(ALICE, Event.UNDO, [done.id], comment="fp")
    assert undone.action is not None and undone.action.status is Status.UNDOING


def test_bulk_retry(center: ActionCenter, quarantine: Propose) -> None:
    action = quarantine()
    center.approve(ALICE, action.id)
    center.claim(AGENT)
    center.fail(AGENT, action.id, "timeout")
    (item,) = center.bulk(ALICE, Event.RETRY, status=Status.FAILED)
    assert item.action is not None and item.action.status is Status.APPROVED


# ----- reading ---------------------------------------------------------------


def test_get_and_resolve_id_by_prefix(center: ActionCenter, quarantine: Propose) -> None:
    action = quarantine()
    assert center.get(VIC, action.id) == action
    assert center.get(VIC, str(action.id)) == action
    assert center.resolve_id(str(action.id)[:13]) == action.id


def test_short_ids_are_the_shortest_unique_prefixes(
    center: ActionCenter, quarantine: Propose
) -> None:
    # The clock stands still: the ids share their first 12 hex digits.
    made = [quarantine(device=f"dev-{n}") for n in range(3)]
    shorts = center.short_ids(a.id for a in made)
    for action, short in zip(made, shorts):
        assert 14 < len(short) < 36
        assert str(action.id).startswith(short)
        assert center.resolve_id(short) == action.id
    assert center.short_id(made[0].id) == shorts[0]


def test_short_id_of_an_action_not_stored_is_not_found(center: ActionCenter) -> None:
    with pytest.raises(NotFound):
        center.short_id(uuid.UUID("01890000-0000-7000-8000-000000000000"))


def test_list_filters_and_pages_newest_first(
    center: ActionCenter, clock: ManualClock, quarantine: Propose, isolate: Propose
) -> None:
    made = []
    for n in range(5):
        made.append(quarantine(device=f"dev-{n}"))
        clock.advance(timedelta(seconds=1))
    iso = isolate(device="dev-9", investigation="inv-2")
    center.approve(ALICE, made[0].id)

    first = center.list(VIC, status=Status.PENDING, kind=Kind.QUARANTINE_FILE, limit=2)
    assert [a.id for a in first] == [made[4].id, made[3].id]
    assert first.next_cursor is not None
    second = center.list(
        VIC, status="pending", kind="quarantine_file", limit=2, cursor=first.next_cursor
    )
    assert [a.id for a in second] == [made[2].id, made[1].id]
    assert second.next_cursor is None
    both = center.list(
        VIC, status=[Status.PENDING, Status.APPROVED], kind=[Kind.QUARANTINE_FILE], limit=10
    )
    assert [a.id for a in both] == [a.id for a in reversed(made)]
    assert len(first) == 2 and first[0].id == made[4].id

    assert [a.id for a in center.list(VIC, investigation_id="inv-2")] == [iso.id]
    assert [a.id for a in center.list(VIC, entity="dev-9")] == [iso.id]
    assert [a.id for a in center.list(VIC, category=Category.DEVICE)] == [iso.id]
    assert [a.id for a in center.list(VIC, decided_by="alice")] == [made[0].id]
    assert len(center.list(VIC, entity=SHA)) == 5
    assert len(center.list(VIC, created_by="air", source=SourceType.AUTOMATED_INVESTIGATION)) == 6
    assert [a.id for a in center.list(VIC, created_after=START + timedelta(seconds=4))] == [
        iso.id,
        made[4].id,
    ]
    assert [a.id for a in center.list(VIC, created_before=START + timedelta(seconds=1))] == [
        made[0].id
    ]


def test_actions_iterates_over_every_page(center: ActionCenter, quarantine: Propose) -> None:
    made = [quarantine(device=f"dev-{n}") for n in range(7)]
    seen = [a.id for a in center.actions(VIC, page_size=3)]
    assert seen == [a.id for a in reversed(made)]


def test_counts_has_every_status(center: ActionCenter, quarantine: Propose) -> None:
    a, b, _ = quarantine(), quarantine(device="dev-2"), quarantine(device="dev-3")
    center.approve(ALICE, a.id)
    center.reject(ALICE, b.id, comment="no")
    counts = center.counts(VIC)
    assert set(counts) == set(Status)
    assert counts[Status.PENDING] == 1
    assert counts[Status.APPROVED] == 1
    assert counts[Status.REJECTED] == 1
    assert sum(counts.values()) == 3
    assert center.counts(VIC, status=Status.PENDING)[Status.APPROVED] == 0


def test_history_of_an_action(center: ActionCenter, quarantine: Propose) -> None:
    done = complete_quarantine(center, quarantine())
    history = center.history_of(VIC, done.id)
    assert [(e.event, e.from_status, e.to_status, e.actor) for e in history] == [
        (Event.PROPOSE, None, Status.PENDING, "air"),
        (Event.APPROVE, Status.PENDING, Status.APPROVED, "alice"),
        (Event.CLAIM, Status.APPROVED, Status.RUNNING, "agent-1"),
        (Event.COMPLETE, Status.RUNNING, Status.COMPLETED, "agent-1"),
    ]


def test_events_since_is_a_change_feed(center: ActionCenter, quarantine: Propose) -> None:
    a = quarantine()
    center.approve(ALICE, a.id)
    events = center.events_since(VIC)
    assert [e.seq for e in events] == [1, 2]
    assert all(isinstance(e, AuditEvent) for e in events)
    assert events[1].prev_hash == events[0].hash
    center.reject(ALICE, quarantine().id, comment="no")
    later = center.events_since(VIC, events[-1].seq, limit=1)
    assert [(e.seq, e.event) for e in later] == [(3, Event.PROPOSE)]


# ----- audit -----------------------------------------------------------------


def test_audit_of_an_untouched_trail_is_intact(center: ActionCenter, quarantine: Propose) -> None:
    complete_quarantine(center, quarantine())
    report = center.verify_audit()
    assert report.intact and report.first_bad is None
    assert report.events_checked == 4
    assert report.head == center.events_since(VIC)[-1].hash


def test_audit_names_the_first_edited_event(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "ac.db"
    with ActionCenter.open_sqlite(path) as center:
        action = center.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-1"), Playbook("p"))
        center.reject(ALICE, action.id, comment="benign")
        center.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-2"), Playbook("p"))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE events SET comment = 'approved, honest' WHERE seq = 2")
    db.close()
    with ActionCenter.open_sqlite(path) as center:
        report = center.verify_audit()
    assert not report.intact
    assert report.first_bad is not None
    assert (report.first_bad.seq, report.first_bad.action_id, report.first_bad.mismatch) == (
        2,
        action.id,
        Mismatch.HASH,
    )
    assert report.events_checked == 2


# ----- sweeps ----------------------------------------------------------------


def test_expire_due_moves_pending_actions_past_their_window(
    center: ActionCenter, clock: ManualClock, quarantine: Propose
) -> None:
    old = quarantine()
    clock.advance(timedelta(days=3))
    young = quarantine(device="dev-2")
    clock.advance(timedelta(days=4))
    moved = center.expire_due()
    assert [a.id for a in moved] == [old.id]
    assert moved[0].status is Status.EXPIRED
    assert center.get(VIC, young.id).status is Status.PENDING
    assert center.expire_due() == []


def test_recover_leases_returns_abandoned_actions_to_the_queue(
    center: ActionCenter, clock: ManualClock, quarantine: Propose
) -> None:
    action = quarantine()
    center.approve(ALICE, action.id)
    center.claim(AGENT, lease=60)
    clock.advance(timedelta(seconds=61))
    (moved,) = center.recover_leases()
    assert moved.id == action.id and moved.status is Status.APPROVED
    assert moved.attempts[0].outcome is Outcome.LEASE_EXPIRED
    with pytest.raises(InvalidTransition) as e:
        center.complete(AGENT, action.id, None)
    assert (e.value.status, e.value.event) == (Status.APPROVED, Event.COMPLETE)
    assert [a.id for a in center.claim(AGENT2)] == [action.id]


# ----- the handle ------------------------------------------------------------


def test_policy_is_read_and_replaced(center: ActionCenter) -> None:
    assert center.policy == Policy.default()
    strict = Policy({"roles": {"analyst": {"view": ["*"]}}})
    center.set_policy(strict)
    assert center.policy == strict
    assert center.policy.roles == ["analyst"]


def test_now_is_the_clock(center: ActionCenter, clock: ManualClock) -> None:
    assert center.now() == START
    clock.advance(timedelta(hours=1))
    assert center.now() == START + timedelta(hours=1)


def test_closed_center_refuses_calls(tmp_path: Path) -> None:
    with ActionCenter.open_sqlite(tmp_path / "ac.db") as center:
        assert not center.closed
        assert "sqlite" in repr(center)
    assert center.closed
    assert repr(center).endswith("closed>")
    with pytest.raises(StorageError) as e:
        center.counts(VIC)
    assert e.value.message == "the action center is closed"


def test_sqlite_is_shared_by_two_handles(tmp_path: Path) -> None:
    path = tmp_path / "ac.db"
    with (
        ActionCenter.open_sqlite(path, synchronous="normal") as proposer,
        ActionCenter.open_sqlite(path) as analyst,
    ):
        action = proposer.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-1"), Playbook("p"))
        assert analyst.approve(ALICE, action.id).status is Status.APPROVED
        assert proposer.get(VIC, action.id).status is Status.APPROVED


def test_postgres_that_cannot_be_reached_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="cannot connect to PostgreSQL"):
        ActionCenter.postgres("postgres://nobody@127.0.0.1:1/ac")


def test_principal_from_the_policy() -> None:
    policy = Policy(
        {"roles": {"analyst": {"approve": ["file"]}}, "principals": {"alice": ["analyst"]}}
    )
    assert policy.principal("alice") == Principal("alice", ["analyst"])
    assert policy.principal("mallory") is None


def test_action_is_read_only(center: ActionCenter, quarantine: Propose) -> None:
    action = quarantine()
    with pytest.raises(AttributeError):
        action.status = Status.APPROVED  # type: ignore[misc]
    with pytest.raises(TypeError):
        action.parameters["x"] = 1  # type: ignore[index]
    assert isinstance(action, Action)
    assert hash(action) == hash(center.get(VIC, action.id))
