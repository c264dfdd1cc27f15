"""Pythonic values: str enums that match core, records, times, policies."""

from __future__ import annotations

import copy
import dataclasses
import gc
import json
import pickle
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, List, Tuple

import actioncenter
import pytest
from actioncenter import (
    Action,
    ActionCenter,
    AutomationLevel,
    Category,
    Conflict,
    Device,
    DuplicateError,
    EmailCluster,
    Entity,
    Event,
    ExpiryOutcome,
    File,
    InvalidTransition,
    Kind,
    ManualClock,
    Operation,
    PermissionDenied,
    Playbook,
    Policy,
    Principal,
    RegistryKey,
    SourceType,
    Status,
    Synchronous,
    _native,
)
from actioncenter._convert import parse_time
from conftest import AGENT, AIR, ALICE, BOB, SHA, Propose

VOCABULARY = json.loads(_native.vocabulary())


@pytest.mark.parametrize(
    "enum, key",
    [
        (Status, "statuses"),
        (Event, "events"),
        (Category, "categories"),
        (SourceType, "source_types"),
        (Operation, "operations"),
    ],
)
def test_enums_match_core(enum: type, key: str) -> None:
    assert [m.value for m in enum] == VOCABULARY[key]  # type: ignore[attr-defined]


def test_kinds_match_core_with_their_category_and_inverse() -> None:
    assert [k.value for k in Kind] == [k["name"] for k in VOCABULARY["kinds"]]
    assert Kind.QUARANTINE_FILE.category is Category.FILE
    assert Kind.QUARANTINE_FILE.inverse is Kind.RESTORE_FILE
    assert Kind.ISOLATE_DEVICE.inverse is Kind.RELEASE_DEVICE
    assert Kind.DISABLE_USER.category is Category.IDENTITY
    assert Kind.HARD_DELETE_EMAIL.inverse is None
    assert not Kind.HARD_DELETE_EMAIL.undoable and Kind.BLOCK_URL.undoable


def test_final_statuses_come_from_core() -> None:
    assert {s for s in Status if s.is_final} == {
        Status.REJECTED,
        Status.EXPIRED,
        Status.CANCELLED,
        Status.UNDONE,
    }


def test_enum_members_are_their_strings() -> None:
    assert Status.PENDING == "pending"  # type: ignore[comparison-overlap]  # runtime str equality
    assert str(Status.UNDO_FAILED) == "undo_failed"
    assert f"{Kind.BLOCK_URL}" == "block_url"
    assert f"{Category.FILE:>6}" == "  file"
    assert json.dumps({"s": Status.APPROVED}) == '{"s": "approved"}'
    assert Status("expired") is Status.EXPIRED
    assert Synchronous.NORMAL == "normal"  # type: ignore[comparison-overlap]
    assert Kind.custom("collect_package") == "custom:collect_package"


def test_action_repr_is_short_and_useful(center: ActionCenter, quarantine: Propose) -> None:
    action = quarantine()
    assert repr(action) == (
        f"Action(id='{action.id}', kind='quarantine_file', status='pending', "
        f"entity=File(sha256='{SHA}', path='C:\\\\Users\\\\x\\\\evil.exe', "
        "device_id='dev-1'), version=1)"
    )


def test_an_action_builds_each_field_when_first_read(
    center: ActionCenter, quarantine: Propose
) -> None:
    stored = quarantine()
    action = center.get(ALICE, stored.id)
    # Nothing is built until read; what is read is kept.
    assert set(vars(action)) == {"_fields"}
    assert action.status is Status.PENDING
    assert set(vars(action)) == {"_fields", "status"}
    assert action.created_at is action.created_at
    # The third field read builds the rest: every field of the dataclass,
    # the ones read before kept as they were.
    status, created_at = action.status, action.created_at
    assert action.version == 1
    assert set(vars(action)) == {f.name for f in dataclasses.fields(Action)}
    assert action.status is status and action.created_at is created_at
    assert action == stored and action.entity == stored.entity
    # A decided action: its decisions, read, are its records.
    approved = center.approve(ALICE, action)
    assert [d.by for d in approved.decisions] == ["alice"]
    assert approved.decided_by == ("alice",)
    # The active attempt is one of the attempts, whichever is read first.
    (claimed,) = center.claim(AGENT)
    assert claimed.active_attempt is not None
    assert claimed.active_attempt is claimed.attempts[-1]
    (again,) = center.list(ALICE, status=Status.RUNNING)
    assert again.attempts[-1] is again.active_attempt
    assert again.lease_token == claimed.lease_token


def test_an_action_built_when_read_is_still_its_dataclass(
    center: ActionCenter, quarantine: Propose
) -> None:
    stored = quarantine()
    action = center.get(ALICE, stored.id)
    names = [f.name for f in dataclasses.fields(Action)]
    # A copy holds every field, built; a record made by its constructor
    # holds its own values and nothing built.
    copied = copy.copy(action)
    assert set(vars(copied)) == set(names)
    assert copied == action == stored and hash(copied) == hash(stored)
    made = dataclasses.replace(action, version=99)
    assert set(vars(made)) == set(names) and made.version == 99 and made != action
    assert made.entity == stored.entity and made.id == stored.id
    # Still frozen, read or not.
    with pytest.raises(dataclasses.FrozenInstanceError):
        center.get(ALICE, stored.id).status = Status.APPROVED  # type: ignore[misc]
    # The class answers as a dataclass's does: defaults, and no attribute
    # for a field without one.
    assert Action.idempotency_key is None and Action.decided_by == ()
    with pytest.raises(AttributeError):
        getattr(Action, "status")  # noqa: B009
    with pytest.raises(AttributeError):
        action.no_such_field  # type: ignore[attr-defined]  # noqa: B018
    # An instance made without a constructor has no fields to build.
    with pytest.raises(AttributeError):
        object.__new__(Action).status  # noqa: B018


def test_a_verb_reads_the_id_and_version_of_an_action_it_is_given_without_building_them(
    center: ActionCenter, quarantine: Propose
) -> None:
    shown = quarantine()
    assert set(vars(shown)) == {"_fields"}
    # Nothing of the record the caller passes is built to be read back.
    assert center.get(ALICE, shown).version == 1
    assert center.history_of(ALICE, shown)[0].action_id == center.get(ALICE, shown).id
    assert set(vars(shown)) == {"_fields"}
    partly = center.get(ALICE, shown)
    assert partly.version == 1 and set(vars(partly)) == {"_fields", "version"}
    reconsidered = center.reject(BOB, shown, comment="not this one", expected_version=1)
    assert reconsidered.status is Status.REJECTED
    assert set(vars(shown)) == {"_fields"}
    # The record still stands for the version it was shown at: built or
    # not, or made by its constructor, a decision on it is a Conflict now.
    built = copy.copy(shown)
    made = dataclasses.replace(built, status=Status.PENDING)
    assert "_fields" not in vars(built) and "_fields" not in vars(made)
    # What a record holds wins over the engine's value it was built from.
    forged = center.get(ALICE, shown.id)
    object.__setattr__(forged, "version", 1)
    for seen in (shown, partly, built, made, forged):
        with pytest.raises(Conflict):
            center.approve(ALICE, seen)
    # Unless the caller names the version it expects.
    with pytest.raises(InvalidTransition):
        center.approve(ALICE, shown, expected_version=reconsidered.version)
    assert center.get(ALICE, shown.id).version == reconsidered.version


def test_a_field_read_while_another_read_builds_the_rest_finishes_both(
    center: ActionCenter, quarantine: Propose
) -> None:
    # Any Python code can run in the middle of a build (another thread when
    # the GIL switches; here, deterministically, a collector's callback)
    # and read a field of the same record: both reads finish.
    action = center.get(ALICE, quarantine().id)
    assert action.status is Status.PENDING and action.kind is Kind.QUARANTINE_FILE
    nested: List[object] = []

    def during(phase: str, info: object) -> None:
        if phase == "start" and "_fields" in vars(action) and not nested:
            nested.append(action.undo)

    threshold = gc.get_threshold()
    gc.callbacks.append(during)
    gc.set_threshold(1, 1, 1)
    try:
        version = action.version
    finally:
        gc.callbacks.remove(during)
        gc.set_threshold(*threshold)
    assert nested == [None] and version == 1
    assert set(vars(action)) == {f.name for f in dataclasses.fields(Action)}


def read_during_a_build(action: Action, outer: str, inner: str) -> Tuple[object, object]:
    """Reads ``outer`` on ``action`` while a collector's callback, run in
    the middle of that build, reads ``inner`` on it; both values."""
    nested: List[object] = []

    def during(phase: str, info: object) -> None:
        if phase == "start" and "_fields" in vars(action) and not nested:
            nested.append(getattr(action, inner))

    threshold = gc.get_threshold()
    gc.callbacks.append(during)
    gc.set_threshold(1, 1, 1)
    try:
        value = getattr(action, outer)
    finally:
        gc.callbacks.remove(during)
        gc.set_threshold(*threshold)
    assert len(nested) == 1
    return value, nested[0]


def test_a_field_read_during_its_own_build_is_the_same_object(
    center: ActionCenter, quarantine: Propose
) -> None:
    id = quarantine().id
    entity, nested = read_during_a_build(center.get(ALICE, id), "entity", "entity")
    assert entity is nested
    center.approve(ALICE, id)
    (claimed,) = center.claim(AGENT)
    attempts, active = read_during_a_build(
        center.get(ALICE, claimed.id), "attempts", "active_attempt"
    )
    assert isinstance(attempts, tuple) and active is attempts[-1]


def test_a_principal_acts_as_its_fields_say_whatever_was_converted_before(
    center: ActionCenter, quarantine: Propose
) -> None:
    alice = Principal("alice", ["analyst"])
    assert center.approve(alice, quarantine()).decided_by == ("alice",)
    # Its fields set again by hand after a call: the next call reads them.
    object.__setattr__(alice, "roles", ("viewer",))
    with pytest.raises(PermissionDenied):
        center.approve(alice, quarantine("dev-2"))
    object.__setattr__(alice, "roles", ("analyst",))
    object.__setattr__(alice, "id", "bob")
    assert center.approve(alice, quarantine("dev-3")).decided_by == ("bob",)

    # A subclass that settles its roles after the constructor is seen as
    # settled, and copies as itself.
    class Lowered(Principal):
        def __init__(self, id: str, roles: List[str]) -> None:
            super().__init__(id, roles)
            object.__setattr__(self, "roles", tuple(r.lower() for r in self.roles))

    lowered = Lowered("carol", ["ANALYST"])
    assert center.approve(lowered, quarantine("dev-4")).decided_by == ("carol",)
    assert type(copy.copy(lowered)) is Lowered and copy.deepcopy(lowered) == lowered


def test_a_subclass_of_action_copies_with_its_own_fields(
    center: ActionCenter, quarantine: Propose
) -> None:
    @dataclasses.dataclass(frozen=True)
    class Tagged(Action):
        note: str = "default"

    action = center.get(ALICE, quarantine().id)
    tagged = Tagged(
        **{f.name: getattr(action, f.name) for f in dataclasses.fields(Action)}, note="mine"
    )
    for twin in (copy.copy(tagged), copy.deepcopy(tagged)):
        assert twin == tagged and twin.note == "mine"
    assert copy.copy(action) == action and "_fields" not in vars(copy.copy(action))


def test_an_actions_parameters_are_made_once_and_each_its_own(center: ActionCenter) -> None:
    bare = [center.propose(AIR, Kind.ISOLATE_DEVICE, Device(d), Playbook("p")) for d in "ab"]
    first, second = (a.parameters for a in bare)
    assert first == second == {} and first is not second
    with pytest.raises(TypeError, match="read-only"):
        first.__init__(injected=True)  # type: ignore[misc]
    assert first == {} and center.get(ALICE, bare[1].id).parameters == {}
    # asdict and pickle make theirs anew.
    assert dataclasses.asdict(bare[0])["parameters"] == {}
    assert pickle.loads(pickle.dumps(first)) == {}


def test_a_verb_that_needs_no_version_reads_only_the_id_of_an_action(
    center: ActionCenter, quarantine: Propose
) -> None:
    action = center.get(ALICE, quarantine().id)
    unversioned = dataclasses.replace(action, version=None)  # type: ignore[arg-type]
    assert center.get(ALICE, unversioned) == action
    assert len(center.history_of(ALICE, unversioned)) == 1
    # A decision on it expects no version, as an id does.
    assert center.approve(ALICE, unversioned).status is Status.APPROVED
    negative = dataclasses.replace(action, version=-1)
    with pytest.raises(OverflowError, match="the action's version"):
        center.reject(BOB, negative, comment="no")


def test_a_principal_copied_pickled_replaced_or_made_by_hand_acts_as_itself(
    center: ActionCenter, quarantine: Propose
) -> None:
    root_as_alice = Principal("alice", ["analyst"], via="root")
    twins = [
        copy.copy(root_as_alice),
        copy.deepcopy(root_as_alice),
        pickle.loads(pickle.dumps(root_as_alice)),
    ]
    assert all(t == root_as_alice and t.shown == "root as alice" for t in twins)
    # A principal made without its constructor has no core principal kept:
    # its fields are read instead.
    by_hand = object.__new__(Principal)
    for name, value in (("id", "bob"), ("roles", ("analyst",)), ("via", None)):
        object.__setattr__(by_hand, name, value)
    assert by_hand.shown == "bob"
    # replace makes a principal of its own, not a copy of the one kept.
    bob = dataclasses.replace(root_as_alice, id="bob", via=None)
    assert bob.shown == "bob" and bob == Principal("bob", ["analyst"])
    first, second, third = quarantine(), quarantine("dev-2"), quarantine("dev-3")
    assert center.approve(twins[2], first).decided_by == ("alice",)
    assert center.approve(by_hand, second).decided_by == ("bob",)
    assert center.approve(bob, third).decided_by == ("bob",)
    with pytest.raises(PermissionDenied):
        center.approve(Principal("alice", ["viewer"]), quarantine("dev-4"))


def test_a_policy_and_a_stored_policy_copy_and_pickle_like_every_record(
    center: ActionCenter,
) -> None:
    stored = center.policy()
    for copied in (pickle.loads(pickle.dumps(stored)), copy.deepcopy(stored), copy.copy(stored)):
        assert copied == stored
        assert copied.policy.to_json() == stored.policy.to_json()
    policy = actioncenter.Policy({"roles": {"a": {"administer": ["*"]}}})
    assert pickle.loads(pickle.dumps(policy)) == policy
    assert copy.deepcopy(policy).roles == ["a"]


def test_an_action_converts_copies_and_pickles_like_any_dataclass(center: ActionCenter) -> None:
    parameters = {"reason": "beaconing", "hosts": ["a", "b"], "nested": {"depth": 2}}
    action = center.propose(
        AIR, Kind.ISOLATE_DEVICE, Device("d"), Playbook("p"), parameters=parameters
    )
    # Read-only, and a dict: what json, asdict, deepcopy and pickle take.
    assert action.parameters == parameters and isinstance(action.parameters, dict)
    with pytest.raises(TypeError, match="read-only"):
        action.parameters["reason"] = "changed"
    with pytest.raises(TypeError, match="read-only"):
        action.parameters.update(reason="changed")
    assert action.parameters["reason"] == "beaconing"
    as_dict = dataclasses.asdict(action)
    # The target and the source keep their type: what core's JSON names.
    assert as_dict["parameters"] == parameters and as_dict["entity"] == {
        "type": "device",
        "device_id": "d",
        "name": None,
    }
    assert as_dict["source"] == {"type": "playbook", "name": "p"}
    as_json = json.loads(json.dumps(as_dict, default=str))
    assert as_json["parameters"] == parameters
    assert as_json["entity"] == {"type": "device", "device_id": "d", "name": None}
    # So an action written out that way names a target and a source core
    # takes back (a second proposal on the same device is refused as a
    # duplicate of the first: the same target).
    with pytest.raises(DuplicateError):
        center.propose(AIR, Kind.ISOLATE_DEVICE, as_json["entity"], as_json["source"])
    for twin in (copy.deepcopy(action), pickle.loads(pickle.dumps(action))):
        assert twin == action and twin is not action
        assert twin.parameters == parameters
        with pytest.raises(TypeError, match="read-only"):
            twin.parameters["reason"] = "changed"  # type: ignore[index]
    # An action without parameters too (they share one empty mapping).
    bare = center.propose(AIR, Kind.ISOLATE_DEVICE, Device("e"), Playbook("p"))
    assert bare.parameters == {} and pickle.loads(pickle.dumps(bare)) == bare


def test_an_actions_parameters_refuse_changes_at_every_depth(center: ActionCenter) -> None:
    parameters = {"n": {"k": [1, 2, {"deep": True}]}, "hosts": ["a"]}
    action = center.propose(
        AIR, Kind.ISOLATE_DEVICE, Device("d"), Playbook("p"), parameters=parameters
    )
    nested = action.parameters["n"]
    items = nested["k"]
    changes: List[Callable[[], Any]] = [
        lambda: nested.__setitem__("k", 99),
        lambda: nested.update(k=99),
        lambda: items.append(3),
        lambda: items.__setitem__(0, 9),
        lambda: items.sort(),
        lambda: items.__iadd__([3]),
        lambda: items[2].__setitem__("deep", False),
        lambda: action.parameters["hosts"].clear(),
    ]
    for change in changes:
        with pytest.raises(TypeError, match="read-only"):
            change()
    # Still what was proposed, and still plain JSON to every consumer.
    assert action.parameters == parameters
    assert isinstance(items, list) and isinstance(nested, dict)
    assert json.loads(json.dumps(action.parameters)) == parameters
    for twin in (copy.deepcopy(action), pickle.loads(pickle.dumps(action))):
        assert twin.parameters == parameters
        with pytest.raises(TypeError, match="read-only"):
            twin.parameters["n"]["k"].append(3)
    assert dataclasses.asdict(action)["parameters"] == parameters


def test_times_are_aware_utc(center: ActionCenter, quarantine: Propose) -> None:
    action = quarantine()
    assert action.created_at.tzinfo is not None
    assert action.created_at.utcoffset() == timedelta(0)
    assert action.expires_at is not None and action.expires_at - action.created_at == timedelta(
        days=7
    )


def test_core_timestamps_parse_with_any_precision() -> None:
    utc = timezone.utc
    assert parse_time("2026-03-01T09:00:00Z") == datetime(2026, 3, 1, 9, tzinfo=utc)
    assert parse_time("2026-03-01T09:00:00.5Z") == datetime(2026, 3, 1, 9, 0, 0, 500000, tzinfo=utc)
    assert parse_time("2026-03-01T09:00:00.123456789Z") == datetime(
        2026, 3, 1, 9, 0, 0, 123456, tzinfo=utc
    )
    assert parse_time("2026-03-01T11:00:00+02:00") == datetime(2026, 3, 1, 9, tzinfo=utc)


def test_records_carry_their_json_form() -> None:
    assert File(sha256=SHA, path="/x", device_id="d").to_json() == {
        "type": "file",
        "sha256": SHA,
        "path": "/x",
        "device_id": "d",
    }
    assert Device("d").to_json() == {"type": "device", "device_id": "d"}
    assert RegistryKey("d", "HKLM\\Run", value_name="evil").to_json()["value_name"] == "evil"
    assert EmailCluster("c-1").to_json() == {"type": "email_cluster", "cluster_id": "c-1"}


def test_every_entity_round_trips_through_the_engine(center: ActionCenter) -> None:
    from actioncenter import CustomSource, Driver, Mailbox, ScheduledTask, Service, Url, User

    pairs: List[Tuple[Kind, Entity]] = [
        (Kind.ISOLATE_DEVICE, Device("d", name="laptop")),
        (Kind.QUARANTINE_FILE, File(sha256=SHA, path="/x", device_id="d")),
        (Kind.REMOVE_REGISTRY_KEY, RegistryKey("d", "HKLM\\Run")),
        (Kind.STOP_SERVICE, Service("d", "evilsvc")),
        (Kind.DISABLE_DRIVER, Driver("d", "evil.sys")),
        (Kind.REMOVE_SCHEDULED_TASK, ScheduledTask("d", "\\evil")),
        (Kind.SOFT_DELETE_EMAIL, EmailCluster("c-1", query="subject:invoice")),
        (Kind.SOFT_DELETE_EMAIL, Mailbox("a@example.com")),
        (Kind.DISABLE_USER, User("u-1")),
        (Kind.BLOCK_URL, Url("http://bad.example")),
    ]
    for kind, entity in pairs:
        action = center.propose(
            Principal("air", ["automation"]), kind, entity, CustomSource("siem")
        )
        assert action.entity == entity
        assert action.source == CustomSource("siem")


def test_policy_answers_come_from_core() -> None:
    policy = Policy(
        {
            "roles": {"analyst": {"view": ["*"], "approve": ["file"]}},
            "automation": {"default": "semi", "sources": {"antivirus": "full"}},
            "kinds": {
                "isolate_device": {"quorum": 2, "pending_ttl_seconds": 3600, "on_expiry": "reject"}
            },
        }
    )
    assert policy.allows(ALICE, Operation.APPROVE, Category.FILE)
    assert not policy.allows(ALICE, "approve", "device")
    assert (
        policy.automation_level(Kind.QUARANTINE_FILE, Category.FILE, SourceType.ANTIVIRUS)
        is AutomationLevel.FULL
    )
    assert (
        policy.automation_level(Kind.QUARANTINE_FILE, Category.FILE, SourceType.PLAYBOOK)
        is AutomationLevel.SEMI
    )
    assert policy.quorum(Kind.ISOLATE_DEVICE) == 2 and policy.quorum("block_url") == 1
    assert policy.pending_ttl(Kind.ISOLATE_DEVICE) == timedelta(hours=1)
    assert policy.pending_ttl(Kind.BLOCK_URL) == timedelta(days=7)
    assert policy.expiry_outcome(Kind.ISOLATE_DEVICE) is ExpiryOutcome.REJECT
    assert policy.max_attempts(Kind.ISOLATE_DEVICE) == 3
    assert not policy.allow_self_approval
    assert repr(policy) == "Policy(roles=['analyst'])"
    assert Policy.from_json(policy.to_json()) == policy
    assert policy.to_dict()["defaults"]["quorum"] == 1


def test_expiry_outcome_reject_from_the_policy(center: ActionCenter, clock: ManualClock) -> None:
    rules = Policy().to_dict()
    rules["kinds"] = {"isolate_device": {"pending_ttl_seconds": 60, "on_expiry": "reject"}}
    center.set_policy(Principal("root", ["admin"]), Policy(rules))
    action = center.propose(
        Principal("air", ["automation"]),
        Kind.ISOLATE_DEVICE,
        Device("d"),
        actioncenter.Playbook("p"),
    )
    assert action.expires_at == clock.now() + timedelta(seconds=60)
    clock.advance(timedelta(seconds=60))
    (moved,) = center.expire_due()
    assert moved.status is Status.REJECTED


def test_descriptions_come_from_core() -> None:
    from actioncenter import (
        Antivirus,
        AutomatedInvestigation,
        ManualResponse,
        Playbook,
        Service,
        User,
    )

    assert File(sha256=SHA, path="C:\\x.exe", device_id="d").describe() == "C:\\x.exe on d"
    assert Device("d", name="laptop").describe() == "laptop"
    assert Service("d", "svc").describe() == "svc on d"
    assert User("u-1").describe() == "u-1"
    assert AutomatedInvestigation("inv-7").describe() == "AIR inv-7"
    assert Antivirus().describe() == "antivirus"
    assert ManualResponse("alice").describe() == "manual (alice)"
    assert Playbook("triage").describe() == "playbook triage"
    assert Principal("dana", ["analyst"], via="root").shown == "root as dana"


def test_who_decided_comes_from_core(center: ActionCenter, clock: ManualClock) -> None:
    from actioncenter import Playbook

    rules = Policy().to_dict()
    rules["kinds"] = {"isolate_device": {"quorum": 2}}
    center.set_policy(Principal("root", ["admin"]), Policy(rules))
    air = Principal("air", ["automation"])
    action = center.propose(air, Kind.ISOLATE_DEVICE, Device("d"), Playbook("p"))
    assert (action.decided_by, action.approvers) == ((), ())
    action = center.approve(ALICE, action)
    action = center.reject(Principal("bob", ["analyst"]), action, comment="no")
    assert action.decided_by == ("alice", "bob")
    assert action.approvers == ("alice",)


def test_seen_is_an_id_and_a_version(center: ActionCenter, quarantine: Propose) -> None:
    from actioncenter import Seen

    action = quarantine()
    seen = Seen.of(action)
    assert seen == (action.id, 1) and (seen.id, seen.version) == (action.id, 1)


def test_manual_clock_moves_only_when_told() -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    clock = ManualClock(start)
    assert clock.now() == start
    clock.advance(timedelta(minutes=90))
    assert clock.now() == start + timedelta(minutes=90)
    clock.set(start)
    assert clock.now() == start
    assert repr(clock) == "ManualClock('2026-01-01T00:00:00+00:00')"


def test_every_public_name_has_a_docstring() -> None:
    for name in actioncenter.__all__:
        obj = getattr(actioncenter, name)
        if name in {"__version__", "Entity", "Source"}:
            continue
        assert obj.__doc__, name
        if isinstance(obj, type):
            for attr, member in vars(obj).items():
                if attr.startswith("_") or (
                    not callable(member) and not isinstance(member, property)
                ):
                    continue
                assert getattr(member, "__doc__", None), f"{name}.{attr}"


def test_version_is_the_crate_version() -> None:
    assert actioncenter.__version__ == _native.__version__
    assert actioncenter.__version__.count(".") == 2
