"""Every verb of the engine, on the memory store and on SQLite."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from actioncenter import (
    Action,
    ActionCenter,
    ActionMismatch,
    Antivirus,
    AuditEvent,
    Category,
    Checkpoint,
    Conflict,
    Device,
    Event,
    File,
    InvalidTransition,
    Kind,
    ManualClock,
    ManualResponse,
    Mismatch,
    NotFound,
    Operation,
    Outcome,
    PermissionDenied,
    Playbook,
    Policy,
    Principal,
    SourceType,
    Status,
    StorageError,
    Url,
    User,
    ValidationError,
    Verdict,
    generate_key,
)
from conftest import (
    AGENT,
    AGENT2,
    AIR,
    ALICE,
    BOB,
    ROOT,
    SHA,
    START,
    VIC,
    Propose,
    complete_quarantine,
)

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
        ROOT,
        Policy(
            {
                **Policy().to_dict(),
                "automation": {"default": "semi", "sources": {"antivirus": "full"}},
            }
        ),
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
    center.set_policy(ROOT, Policy(rules))
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
    assert running.lease_token and running.active_attempt is running.attempts[-1]
    renewed = center.heartbeat(AGENT, running, lease=timedelta(minutes=10))
    assert renewed.lease_until == START + timedelta(minutes=11)
    assert renewed.lease_token == running.lease_token
    done = center.complete(AGENT, renewed, {"quarantined": True, "files": 1})
    assert done.status is Status.COMPLETED
    (attempt,) = done.attempts
    assert attempt.outcome is Outcome.COMPLETED
    assert attempt.result == {"quarantined": True, "files": 1}
    assert done.active_attempt is None and done.lease_until is None and done.lease_token is None


def test_claim_is_limited_to_kinds(
    center: ActionCenter, quarantine: Propose, isolate: Propose
) -> None:
    q, i = quarantine(), isolate()
    center.bulk(ALICE, Event.APPROVE, [q, i])
    claimed = center.claim(AGENT, limit=5, kinds=[Kind.ISOLATE_DEVICE])
    assert [a.id for a in claimed] == [i.id]
    assert center.claim(AGENT2, limit=5, kinds="isolate_device") == []
    # An empty list names no kind: refused, not read as "any kind".
    center.bulk(ALICE, Event.APPROVE, [isolate("dev-empty-kinds")])
    with pytest.raises(ValidationError) as e:
        center.claim(AGENT2, limit=5, kinds=[])
    assert e.value.field == "kinds"
    # Nothing was claimed by the refusal: both still wait, for any kind.
    assert {a.kind for a in center.claim(AGENT2, limit=5)} == {
        Kind.QUARANTINE_FILE,
        Kind.ISOLATE_DEVICE,
    }


def test_fail_then_retry_goes_back_to_the_queue(center: ActionCenter, quarantine: Propose) -> None:
    action = quarantine()
    center.approve(ALICE, action.id)
    (claimed,) = center.claim(AGENT)
    failed = center.fail(AGENT, claimed, "device offline")
    assert failed.status is Status.FAILED
    assert failed.attempts[0].outcome is Outcome.FAILED
    assert failed.attempts[0].error == "device offline"
    retried = center.retry(ALICE, action.id, comment="device is back")
    assert retried.status is Status.APPROVED
    assert [a.id for a in center.claim(AGENT2)] == [action.id]


# ----- undoing ---------------------------------------------------------------


def test_undo_fans_out_to_the_confirmed_instances(
    center: ActionCenter, quarantine: Propose
) -> None:
    first, second, third = (
        complete_quarantine(center, quarantine(device=d)) for d in ("dev-1", "dev-2", "dev-3")
    )
    others = center.undo_instances(ALICE, first)
    assert sorted(a.id for a in others) == sorted([second.id, third.id])

    report = center.undo(ALICE, first, "false positive", instances=others)
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
    assert all(a.status is Status.UNDO_RUNNING for a in undos)
    for a in undos:
        assert center.complete(AGENT, a, {"restored": True}).status is Status.UNDONE


def test_undo_touches_only_the_confirmed_instances(
    center: ActionCenter, quarantine: Propose
) -> None:
    first, second, third = (
        complete_quarantine(center, quarantine(device=d)) for d in ("dev-1", "dev-2", "dev-3")
    )
    report = center.undo(ALICE, first, "fp", instances=[(second.id, second.version)])
    assert [(i.id, i.ok) for i in report.instances] == [(second.id, True)]
    assert center.get(VIC, second).status is Status.UNDOING
    assert center.get(VIC, third).status is Status.COMPLETED


def test_an_instance_that_changed_since_it_was_shown_is_not_undone_again(
    center: ActionCenter, quarantine: Propose
) -> None:
    first, second = (complete_quarantine(center, quarantine(device=d)) for d in ("dev-1", "dev-2"))
    shown = center.undo_instances(ALICE, first)
    center.undo(BOB, second, "undone on its own")
    report = center.undo(ALICE, first, "fp", instances=shown)
    (item,) = report.instances
    # It changed since it was shown: a conflict, whatever else is true of it now.
    assert isinstance(item.error, Conflict) and item.id == second.id
    assert center.get(VIC, second).undo is not None
    assert center.get(VIC, second).undo.requested_by == "bob"  # type: ignore[union-attr]


def test_undo_refuses_an_instance_that_is_not_of_the_same_file(
    center: ActionCenter, quarantine: Propose, isolate: Propose
) -> None:
    first = complete_quarantine(center, quarantine())
    other = isolate()
    # Bad input: the whole undo is refused, and nothing is undone.
    with pytest.raises(ValidationError) as e:
        center.undo(ALICE, first, "fp", instances=[other])
    assert e.value.field == "instances[0]"
    assert center.get(VIC, other).status is Status.PENDING
    assert center.get(VIC, first).status is Status.COMPLETED


def test_undo_without_fan_out_touches_one_action(center: ActionCenter, quarantine: Propose) -> None:
    first, second = (complete_quarantine(center, quarantine(device=d)) for d in ("dev-1", "dev-2"))
    report = center.undo(ALICE, first.id, comment="fp")
    assert report.instances == ()
    assert center.get(ALICE, second.id).status is Status.COMPLETED


def test_failed_undo_can_be_undone_again(center: ActionCenter, quarantine: Propose) -> None:
    done = complete_quarantine(center, quarantine())
    center.undo(ALICE, done.id, comment="fp")
    (undo,) = center.claim(AGENT)
    assert undo.status is Status.UNDO_RUNNING
    assert center.fail(AGENT, undo, "file gone").status is Status.UNDO_FAILED
    assert center.undo(ALICE, done.id, comment="try again").action.status is Status.UNDOING


# ----- bulk ------------------------------------------------------------------


def test_bulk_by_ids_gives_one_result_per_item(center: ActionCenter, quarantine: Propose) -> None:
    a, b = quarantine(), quarantine(device="dev-2")
    b = center.reject(ALICE, b.id, comment="no")
    results = center.bulk(ALICE, Event.APPROVE, [a, (str(b.id), b.version)], comment="batch")
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
    other = quarantine(device="dev-9", investigation="inv-8")
    preview = center.preview_bulk(ALICE, "reject", investigation_id="inv-7")
    assert preview.count == len(preview) == 2
    assert sorted(s.id for s in preview) == sorted(a.id for a in mine[1:])
    assert all(s.version == 1 for s in preview.items)
    results = center.bulk(ALICE, "reject", preview, comment="benign")
    assert sorted(r.id for r in results) == sorted(a.id for a in mine[1:])
    assert all(r.ok for r in results)
    assert center.get(ALICE, done.id).status is Status.COMPLETED
    assert center.get(ALICE, other.id).status is Status.PENDING


def test_bulk_cancel_and_undo(center: ActionCenter, quarantine: Propose) -> None:
    pending = quarantine()
    done = complete_quarantine(center, quarantine(device="dev-2"))
    (cancelled,) = center.bulk(ALICE, Event.CANCEL, [pending], comment="dup")
    assert cancelled.action is not None and cancelled.action.status is Status.CANCELLED
    (undone,) = center.bulk(ALICE, Event.UNDO, [done], comment="fp")
    assert undone.action is not None and undone.action.status is Status.UNDOING


def test_bulk_retry(center: ActionCenter, quarantine: Propose) -> None:
    action = quarantine()
    center.approve(ALICE, action.id)
    (claimed,) = center.claim(AGENT)
    center.fail(AGENT, claimed, "timeout")
    preview = center.preview_bulk(ALICE, Event.RETRY, status=Status.FAILED)
    (item,) = center.bulk(ALICE, Event.RETRY, preview)
    assert item.action is not None and item.action.status is Status.APPROVED


# ----- reading ---------------------------------------------------------------


def test_get_and_resolve_id_by_prefix(center: ActionCenter, quarantine: Propose) -> None:
    action = quarantine()
    assert center.get(VIC, action.id) == action
    assert center.get(VIC, str(action.id)) == action
    assert center.resolve_id(str(action.id)[:13]) == action.id


def test_resolve_id_for_a_caller_finds_only_what_it_may_view(
    center: ActionCenter, quarantine: Propose, isolate: Propose
) -> None:
    policy = json.loads(center.policy().policy.to_json())
    policy["roles"]["file_viewer"] = {"view": ["file"]}
    center.set_policy(ROOT, Policy.from_json(json.dumps(policy)))
    fiona = Principal("fiona", ["file_viewer"])
    file, device = quarantine(), isolate()
    fs, ds = str(file.id), str(device.id)
    common = next(i for i, (a, b) in enumerate(zip(fs, ds)) if a != b)
    assert common >= 4
    shared = fs[: min(common, 8)]
    with pytest.raises(ValidationError, match=ds):
        center.resolve_id(shared)
    assert center.resolve_id(shared, by=fiona) == file.id
    with pytest.raises(NotFound) as gone:
        center.resolve_id(ds[: common + 1], by=fiona)
    assert ds not in str(gone.value)
    assert center.resolve_id(ds[: common + 1], by=ALICE) == device.id
    with pytest.raises(TypeError, match="by"):
        center.resolve_id(shared, by="fiona")  # type: ignore[arg-type]


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
    assert [(e.seq, e.event) for e in events] == [
        (1, Event.SET_POLICY),
        (2, Event.PROPOSE),
        (3, Event.APPROVE),
    ]
    assert all(isinstance(e, AuditEvent) for e in events)
    assert events[1].prev_hash == events[0].hash
    center.reject(ALICE, quarantine(device="dev-2").id, comment="no")
    later = center.events_since(VIC, events[-1].seq, limit=1)
    assert [(e.seq, e.event) for e in later] == [(4, Event.PROPOSE)]


def test_the_first_event_is_the_bootstrap_policy(center: ActionCenter) -> None:
    (first,) = center.events_since(VIC)
    assert (first.seq, first.event, first.action_id, first.to_status) == (
        1,
        Event.SET_POLICY,
        None,
        None,
    )
    stored = center.policy()
    assert (first.actor, first.version, first.digest) == ("system", 1, stored.digest)


def test_audit_events_record_the_version_digest_and_policy_version(
    center: ActionCenter, quarantine: Propose
) -> None:
    action = quarantine()
    approved = center.approve(ALICE, action)
    propose, approve = center.history_of(VIC, action)
    assert (propose.version, approve.version) == (1, 2) == (action.version, approved.version)
    assert propose.policy_version == approve.policy_version == 1
    assert propose.digest and approve.digest and propose.digest != approve.digest
    assert (approve.via, approve.actor_shown) == (None, "alice")
    assert approved.decisions[0].policy_version == 1


# ----- audit -----------------------------------------------------------------


def test_audit_of_an_untouched_trail_is_intact(center: ActionCenter, quarantine: Propose) -> None:
    complete_quarantine(center, quarantine())
    report = center.verify_audit()
    assert report.intact and report.first_bad is None and report.problem is None
    assert report.events_checked == 5
    assert report.actions_checked == 1
    assert report.first_bad_action is None and report.policy_problem is None
    assert report.counts_problem is None
    assert report.checkpoints.checked == 0 and report.checkpoints.latest is None
    assert report.head == center.events_since(VIC)[-1].hash


def test_audit_finds_a_kept_count_edited_by_hand(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "ac.db"
    with ActionCenter.open_sqlite(path) as center:
        center.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-1"), Playbook("p"))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE counts SET n = n + 98 WHERE status = 'pending'")
    db.close()
    with ActionCenter.open_sqlite(path) as center:
        report = center.verify_audit()
        assert not report.intact
        assert report.counts_problem == "1 device actions are pending, the kept count says 99"
        assert report.problem == f"counts: {report.counts_problem}"


def test_audit_names_the_first_edited_event(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "ac.db"
    with ActionCenter.open_sqlite(path) as center:
        action = center.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-1"), Playbook("p"))
        center.reject(ALICE, action.id, comment="benign")
        center.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-2"), Playbook("p"))
    with sqlite3.connect(path) as db:
        db.execute("UPDATE events SET comment = 'approved, honest' WHERE seq = 3")
    db.close()
    with ActionCenter.open_sqlite(path) as center:
        report = center.verify_audit()
    assert not report.intact
    assert report.first_bad is not None
    assert (report.first_bad.seq, report.first_bad.action_id, report.first_bad.mismatch) == (
        3,
        action.id,
        Mismatch.HASH,
    )
    assert report.events_checked == 3
    assert report.problem == "audit event 3: its hash does not match its fields"


def test_audit_names_an_event_row_that_cannot_be_read(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "ac.db"
    with ActionCenter.open_sqlite(path) as center:
        action = center.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-1"), Playbook("p"))
        center.reject(ALICE, action.id, comment="benign")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE events SET actor = CAST(x'ff61' AS TEXT) WHERE seq = 3")
    db.close()
    with ActionCenter.open_sqlite(path) as center:
        report = center.verify_audit()
    assert not report.intact
    assert report.first_bad is not None
    assert (report.first_bad.seq, report.first_bad.mismatch) == (3, Mismatch.UNREADABLE)
    assert report.first_bad.detail
    assert report.problem is not None
    assert report.problem.startswith("audit event 3: its row cannot be read")


def test_audit_names_an_action_row_edited_behind_the_engine(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "ac.db"
    with ActionCenter.open_sqlite(path) as center:
        action = center.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-1"), Playbook("p"))
        center.reject(ALICE, action, comment="benign")
    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE actions SET status = 'approved', doc = json_set(doc, '$.status', 'approved')"
        )
    db.close()
    with ActionCenter.open_sqlite(path) as center:
        report = center.verify_audit()
    assert not report.intact and report.first_bad is None
    bad = report.first_bad_action
    assert bad is not None and bad.id == action.id
    assert (bad.mismatch, bad.row, bad.recorded) == (
        ActionMismatch.STATUS,
        Status.APPROVED,
        Status.REJECTED,
    )
    assert report.problem is not None and str(action.id) in report.problem


def test_checkpoint_signs_the_head_and_verifies_with_the_public_key(
    center: ActionCenter, quarantine: Propose
) -> None:
    private, public = generate_key()
    assert private.startswith("-----BEGIN PRIVATE KEY-----")
    assert public.startswith("-----BEGIN PUBLIC KEY-----")
    complete_quarantine(center, quarantine())
    cp = center.checkpoint(ROOT, private)
    head = center.events_since(VIC)[-1]
    assert (cp.seq, cp.hash, cp.prev, cp.format) == (head.seq, head.hash, None, 1)
    second = center.checkpoint(ROOT, private.encode())
    assert second.prev == cp.signature
    assert center.checkpoints(VIC) == [cp, second]
    assert Checkpoint.from_json(cp.to_json()) == cp
    report = center.verify_audit(public_key=public, checkpoint=cp.to_json())
    assert report.intact, report.problem
    assert report.checkpoints.signatures_checked and report.checkpoints.checked == 3
    assert report.checkpoints.latest == second
    assert center.verify_audit(public_key=public.encode(), checkpoint=cp).intact


def test_a_truncated_trail_is_found_with_the_exported_checkpoint(tmp_path: Path) -> None:
    import shutil
    import sqlite3

    private, public = generate_key()
    path = tmp_path / "ac.db"
    with ActionCenter.open_sqlite(path) as center:
        kept = center.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-1"), Playbook("p"))
        center.reject(ALICE, kept, comment="benign")
        cut = center.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-2"), Playbook("p"))
        center.approve(ALICE, cut)
        exported = center.checkpoint(ROOT, private).to_json()
        assert json.loads(exported)["seq"] == 5
    # The engine's SQLite is its own: edit a copy only once it is closed.
    copy = tmp_path / "copy.db"
    shutil.copy(path, copy)
    with sqlite3.connect(copy) as db:
        # The last events go, and the action they made with its count, so
        # that the rows agree with what is left of the chain.
        db.execute("DELETE FROM events WHERE seq > 3")
        db.execute("DELETE FROM actions WHERE id = ?", (str(cut.id),))
        db.execute("UPDATE counts SET n = n - 1 WHERE status = 'approved'")
    db.close()
    with ActionCenter.open_sqlite(copy) as center:
        report = center.verify_audit(public_key=public)
        assert not report.intact
        assert report.checkpoints.problem == (
            "a checkpoint signed the trail at event 5, but it ends at event 3: events were cut"
        )
    # Whoever cut the events can delete the stored checkpoints too; the
    # exported one still tells.
    with sqlite3.connect(copy) as db:
        db.execute("DELETE FROM checkpoints")
    db.close()
    with ActionCenter.open_sqlite(copy) as center:
        assert center.verify_audit().intact
        report = center.verify_audit(public_key=public, checkpoint=exported)
        assert not report.intact
        assert report.problem is not None and "events were cut" in report.problem
        assert center.get(VIC, kept).status is Status.REJECTED


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
    (claimed,) = center.claim(AGENT, lease=60)
    clock.advance(timedelta(seconds=61))
    (moved,) = center.recover_leases()
    assert moved.id == action.id and moved.status is Status.APPROVED
    assert moved.attempts[0].outcome is Outcome.LEASE_EXPIRED
    with pytest.raises(InvalidTransition) as e:
        center.complete(AGENT, claimed, None)
    assert (e.value.status, e.value.event) == (Status.APPROVED, Event.COMPLETE)
    assert [a.id for a in center.claim(AGENT2)] == [action.id]


# ----- the handle ------------------------------------------------------------


def test_policy_is_stored_and_replaced(center: ActionCenter, clock: ManualClock) -> None:
    first = center.policy()
    assert (first.version, first.set_by, first.set_at) == (1, "system", START)
    assert first.policy == Policy.default() and first.digest == Policy.default().digest
    clock.advance(timedelta(minutes=1))
    strict = Policy({"roles": {"admin": {"administer": ["*"]}, "analyst": {"view": ["*"]}}})
    stored = center.set_policy(ROOT, strict, expected_version=1, comment="lock down")
    assert (stored.version, stored.set_by, stored.set_at) == (
        2,
        "root",
        START + timedelta(minutes=1),
    )
    assert center.policy() == stored and center.policy().policy.roles == ["admin", "analyst"]
    history = center.policy_history(ROOT)
    assert [p.version for p in history] == [1, 2] and history[0] == first
    (event,) = [e for e in center.events_since(ROOT) if e.seq > 1]
    assert (event.event, event.actor, event.comment, event.digest, event.version) == (
        Event.SET_POLICY,
        "root",
        "lock down",
        strict.digest,
        2,
    )


def test_setting_the_policy_needs_administer(center: ActionCenter) -> None:
    with pytest.raises(PermissionDenied) as e:
        center.set_policy(ALICE, Policy.default())
    assert (e.value.principal, e.value.operation) == ("alice", Operation.ADMINISTER)
    assert center.policy().version == 1


def test_setting_the_policy_on_a_stale_version_is_a_conflict(center: ActionCenter) -> None:
    center.set_policy(ROOT, Policy.default(), comment="first")
    with pytest.raises(Conflict) as e:
        center.set_policy(ROOT, Policy.default(), expected_version=1)
    assert (e.value.what, e.value.expected, e.value.actual) == ("policy", 1, 2)
    assert e.value.retryable
    assert center.policy().version == 2


def test_the_stored_policy_is_shared_by_two_handles(tmp_path: Path) -> None:
    path = tmp_path / "ac.db"
    quorum_two = Policy({**Policy().to_dict(), "kinds": {"isolate_device": {"quorum": 2}}})
    with ActionCenter.open_sqlite(path, quorum_two) as first:
        action = first.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-1"), Playbook("p"))
    # The second handle brings the default policy: only a bootstrap, ignored.
    with (
        ActionCenter.open_sqlite(path, Policy.default()) as second,
        ActionCenter.open_sqlite(path) as third,
    ):
        assert second.policy().policy == quorum_two
        assert second.approve(ALICE, action).status is Status.PENDING
        # A change through one handle is in force for the other at once.
        third.set_policy(ROOT, Policy.default())
        assert second.policy().version == 2
        other = second.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-2"), Playbook("p"))
        assert third.approve(ALICE, other).status is Status.APPROVED


def test_principal_comes_from_the_stored_policy(center: ActionCenter) -> None:
    rules = {**Policy().to_dict(), "principals": {"dana": ["analyst"], "root": ["admin"]}}
    center.set_policy(ROOT, Policy(rules))
    assert center.principal("dana") == Principal("dana", ["analyst"])
    with pytest.raises(PermissionDenied) as e:
        center.principal("mallory")
    assert "mallory is not among the principals of the stored policy" in str(e.value)


def test_impersonation_needs_administer_and_is_recorded(
    center: ActionCenter, quarantine: Propose
) -> None:
    rules = {**Policy().to_dict(), "principals": {"dana": ["analyst"], "root": ["admin"]}}
    center.set_policy(ROOT, Policy(rules))
    root = center.principal("root")
    dana = center.impersonate(root, "dana")
    assert dana == Principal("dana", ["analyst"], via="root")
    assert (dana.shown, root.shown) == ("root as dana", "root")
    assert repr(dana) == "Principal(id='dana', roles=('analyst',), via='root')"
    approved = center.approve(dana, quarantine())
    (decision,) = approved.decisions
    assert (decision.by, decision.via) == ("dana", "root")
    last = center.history_of(VIC, approved)[-1]
    assert (last.actor, last.via, last.actor_shown) == ("dana", "root", "root as dana")
    with pytest.raises(PermissionDenied) as e:
        center.impersonate(ALICE, "dana")
    assert (e.value.principal, e.value.operation) == ("alice", Operation.ADMINISTER)


def test_a_proposal_made_as_someone_names_who_made_it(center: ActionCenter) -> None:
    rules = {**Policy().to_dict(), "principals": {"dana": ["analyst"], "root": ["admin"]}}
    center.set_policy(ROOT, Policy(rules))
    dana = center.impersonate(center.principal("root"), "dana")
    proposed = center.propose(dana, Kind.ISOLATE_DEVICE, Device("dev-via"), ManualResponse("dana"))
    assert (proposed.created_by, proposed.created_via) == ("dana", "root")
    read = center.get(VIC, proposed.id)
    assert (read.created_by, read.created_via) == ("dana", "root")
    assert read == proposed and dataclasses.asdict(read)["created_via"] == "root"
    plain = center.propose(AIR, Kind.ISOLATE_DEVICE, Device("dev-plain"), Playbook("p"))
    assert plain.created_via is None


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


def test_principal_from_a_policy_document() -> None:
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
