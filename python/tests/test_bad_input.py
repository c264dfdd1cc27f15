"""Bad input: a typed exception with a clear message, and nothing changed.

Wrong Python types raise ``TypeError`` before anything reaches the
engine; wrong values raise :class:`ValidationError` naming the field,
from core's own checks, and so do values Python holds but the engine
cannot (an ``int`` beyond 64 bits, a document nested too deeply, a time
outside the years 1 to 9999): never ``OverflowError`` or
``RecursionError``, and never a silently changed value."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from actioncenter import (
    ActionCenter,
    AutomatedInvestigation,
    Checkpoint,
    Conflict,
    Device,
    Event,
    File,
    Kind,
    ManualClock,
    NotFound,
    PermissionDenied,
    Playbook,
    Policy,
    Principal,
    Status,
    ValidationError,
    generate_key,
)
from conftest import AGENT, AIR, ALICE, ROOT, SHA, VIC, Propose, event_count


def unchanged(
    center: ActionCenter, call: Callable[[], Any], exc: type[BaseException]
) -> BaseException:
    """Runs `call`, expecting `exc`, and checks the trail did not move."""
    counts = center.counts(VIC)  # stores the bootstrap policy, if not yet
    before = event_count(center)
    with pytest.raises(exc) as e:
        call()
    assert event_count(center) == before
    assert center.counts(VIC) == counts
    return e.value


# ----- wrong Python types ----------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c, a: c.approve("alice", a.id), "by must be a Principal, not str"),
        (
            lambda c, a: c.approve(ALICE, 42),
            "action must be an Action, a uuid.UUID or a str, not int",
        ),
        (lambda c, a: c.approve(ALICE, a.id, comment=3), "comment must be a str, not int"),
        (
            lambda c, a: c.approve(ALICE, a.id, expected_version="1"),
            "expected_version must be an int, not str",
        ),
        (
            lambda c, a: c.approve(ALICE, a.id, expected_version=True),
            "expected_version must be an int, not bool",
        ),
        (lambda c, a: c.reject(ALICE, a.id, comment=None), "comment must be a str, not NoneType"),
        (
            lambda c, a: c.claim(AGENT, lease=1.5),
            "lease must be a timedelta or int (seconds), not float",
        ),
        (
            lambda c, a: c.claim(AGENT, kinds=[Kind.QUARANTINE_FILE, 7]),
            "each kinds must be a str, not int",
        ),
        (lambda c, a: c.list(VIC, status=3), "status must be a str or an iterable of str, not int"),
        (
            lambda c, a: c.list(VIC, created_after="2026-01-01"),
            "created_after must be a datetime, not str",
        ),
        (
            lambda c, a: c.undo(ALICE, a.id, "x", instances=a.id),
            "instances must be an iterable of Actions or (id, version) pairs, not UUID",
        ),
        (
            lambda c, a: c.undo(ALICE, a.id, "x", instances=[a.id]),
            "each instances must be an Action or an (id, version) pair, not UUID",
        ),
        (
            lambda c, a: c.bulk(ALICE, Event.APPROVE, a),
            "selection must be an iterable of Actions or (id, version) pairs, not Action",
        ),
        (
            lambda c, a: c.bulk(ALICE, Event.APPROVE, [a.id]),
            "each selection must be an Action or an (id, version) pair, not UUID",
        ),
        (
            lambda c, a: c.bulk(ALICE, Event.APPROVE, [(a.id, "1")]),
            "version must be an int, not str",
        ),
        (
            lambda c, a: c.complete(AGENT, a.id, {"when": object()}, lease_token="t"),
            "result must be JSON-serializable: object is not JSON serializable",
        ),
        (
            lambda c, a: c.complete(AGENT, a.id, None, lease_token=7),
            "lease_token must be a str, not int",
        ),
        (lambda c, a: c.events_since(VIC, "0"), "seq must be an int, not str"),
        (lambda c, a: c.set_policy(ROOT, {"roles": {}}), "policy must be a Policy, not dict"),
        (
            lambda c, a: c.set_policy("root", Policy.default()),
            "by must be a Principal, not str",
        ),
        (
            lambda c, a: c.impersonate(ROOT, 7),
            "as_id must be a str, not int",
        ),
        (
            lambda c, a: c.checkpoint(ROOT, 7),
            "signing_key must be PEM text (str or bytes), not int",
        ),
        (
            lambda c, a: c.verify_audit(checkpoint=7),
            "checkpoint must be a Checkpoint or its JSON text, not int",
        ),
        (
            lambda c, a: c.propose(
                AIR, Kind.ISOLATE_DEVICE, Device("d"), Playbook("p"), idempotency_key=1
            ),
            "idempotency_key must be a str, not int",
        ),
    ],
)
def test_wrong_types_raise_type_error(
    center: ActionCenter, quarantine: Propose, call: Callable[..., Any], message: str
) -> None:
    action = quarantine()
    err = unchanged(center, lambda: call(center, action), TypeError)
    assert str(err) == message


def test_wrong_types_in_a_proposal(center: ActionCenter) -> None:
    file = File(sha256=SHA, path="C:\\x", device_id="d")
    inv = AutomatedInvestigation("inv-1")
    propose: Callable[..., Any] = center.propose  # deliberately called with wrong types
    err = unchanged(center, lambda: propose(AIR, Kind.QUARANTINE_FILE, "d", inv), TypeError)
    assert str(err).startswith("entity must be one of Device, File,")
    err = unchanged(
        center, lambda: propose(AIR, Kind.QUARANTINE_FILE, file, Device("d")), TypeError
    )
    assert str(err).startswith("source must be one of AutomatedInvestigation,")
    err = unchanged(
        center, lambda: propose(AIR, Kind.QUARANTINE_FILE, file, inv, parameters=[1]), TypeError
    )
    assert str(err) == "parameters must be a mapping, not list"
    err = unchanged(center, lambda: propose(AIR, None, file, inv), TypeError)
    assert str(err) == "kind must be a str, not NoneType"


def test_principal_checks_its_own_types() -> None:
    with pytest.raises(
        TypeError, match="Principal roles must be an iterable of role names, not str"
    ):
        Principal("alice", "analyst")
    with pytest.raises(TypeError, match="Principal id must be a str, not int"):
        Principal(7, ["analyst"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="each role must be a str, not int"):
        Principal("alice", ["analyst", 1])  # type: ignore[list-item]


# ----- naive datetimes -------------------------------------------------------


def test_naive_datetime_in_a_filter_is_refused(center: ActionCenter) -> None:
    err = unchanged(
        center, lambda: center.list(VIC, created_after=datetime(2026, 1, 1)), ValidationError
    )
    assert isinstance(err, ValidationError)
    assert err.field == "created_after"
    assert "has no time zone" in str(err)


def test_naive_datetime_in_parameters_is_refused(center: ActionCenter) -> None:
    err = unchanged(
        center,
        lambda: center.propose(
            AIR,
            Kind.ISOLATE_DEVICE,
            Device("d"),
            Playbook("p"),
            parameters={"at": datetime(2026, 1, 1)},
        ),
        ValidationError,
    )
    assert "has no time zone" in str(err)


def test_aware_datetime_and_uuid_in_parameters_become_strings(center: ActionCenter) -> None:
    at = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    action = center.propose(
        AIR, Kind.ISOLATE_DEVICE, Device("d"), Playbook("p"), parameters={"at": at}
    )
    assert action.parameters["at"] == "2026-01-01T10:00:00+00:00"


def test_naive_clock_start_is_refused() -> None:
    with pytest.raises(ValidationError) as e:
        ManualClock(datetime(2026, 1, 1))
    assert e.value.field == "start"


# ----- wrong values: core's checks -------------------------------------------


def test_unknown_kind_names_the_field(center: ActionCenter) -> None:
    err = unchanged(
        center,
        lambda: center.propose(AIR, "reboot_device", Device("d"), Playbook("p")),
        ValidationError,
    )
    assert isinstance(err, ValidationError)
    assert err.field == "proposal.kind"
    assert 'unknown kind "reboot_device"' in str(err)


def test_entity_that_does_not_fit_the_kind(center: ActionCenter) -> None:
    err = unchanged(
        center,
        lambda: center.propose(AIR, Kind.QUARANTINE_FILE, Device("d"), Playbook("p")),
        ValidationError,
    )
    assert isinstance(err, ValidationError)
    assert err.field == "entity"
    assert str(err) == "invalid entity: quarantine_file acts on a file, not on a device"


def test_empty_entity_field(center: ActionCenter) -> None:
    err = unchanged(
        center,
        lambda: center.propose(AIR, Kind.ISOLATE_DEVICE, Device(""), Playbook("p")),
        ValidationError,
    )
    assert isinstance(err, ValidationError) and err.field == "entity.device_id"


def test_malformed_entity_dict(center: ActionCenter) -> None:
    err = unchanged(
        center,
        lambda: center.propose(AIR, Kind.ISOLATE_DEVICE, {"type": "toaster"}, Playbook("p")),
        ValidationError,
    )
    assert isinstance(err, ValidationError) and (err.field or "").startswith("proposal.entity")


def test_unknown_status_in_a_filter(center: ActionCenter) -> None:
    err = unchanged(center, lambda: center.list(VIC, status="waiting"), ValidationError)
    assert isinstance(err, ValidationError) and (err.field or "").startswith("filter.statuses")


def test_malformed_id_is_a_validation_error(center: ActionCenter) -> None:
    err = unchanged(center, lambda: center.approve(ALICE, "not-a-uuid"), ValidationError)
    assert isinstance(err, ValidationError)
    assert err.field == "id"
    assert str(err) == 'invalid id: "not-a-uuid" is not a UUID'


def test_unknown_id_changes_nothing(center: ActionCenter, quarantine: Propose) -> None:
    quarantine()
    missing = "01890a5d-ac96-774b-bcce-b302099a8057"
    for call in (
        lambda: center.approve(ALICE, missing),
        lambda: center.reject(ALICE, missing, comment="x"),
        lambda: center.cancel(ALICE, missing, comment="x"),
        lambda: center.undo(ALICE, missing, "x"),
        lambda: center.history_of(VIC, missing),
    ):
        err = unchanged(center, call, NotFound)
        assert str(err) == f"action {missing} not found"


def test_unknown_id_in_a_bulk_is_one_failed_item(center: ActionCenter, quarantine: Propose) -> None:
    action = quarantine()
    missing = "01890a5d-ac96-774b-bcce-b302099a8057"
    ok, bad = center.bulk(ALICE, Event.APPROVE, [action, (missing, 1)])
    assert ok.ok and not bad.ok
    assert isinstance(bad.error, NotFound) and str(bad.id) == missing


def test_bulk_with_an_operation_that_is_not_one(center: ActionCenter) -> None:
    err = unchanged(center, lambda: center.bulk(ALICE, Event.CLAIM, []), ValidationError)
    assert isinstance(err, ValidationError) and (err.field or "").startswith("op")


def test_bulk_reject_without_comment(center: ActionCenter, quarantine: Propose) -> None:
    action = quarantine()
    (item,) = center.bulk(ALICE, Event.REJECT, [action], comment="")
    assert isinstance(item.error, ValidationError) and item.error.field == "comment"
    assert center.get(VIC, action.id).status is Status.PENDING


def test_bulk_reject_with_no_comment_at_all(center: ActionCenter, quarantine: Propose) -> None:
    action = quarantine()
    err = unchanged(center, lambda: center.bulk(ALICE, Event.REJECT, [action]), ValidationError)
    assert isinstance(err, ValidationError) and err.field == "op"
    assert str(err) == "invalid op: missing field `comment`"


@pytest.mark.parametrize("lease", [0, -5, timedelta(hours=25), timedelta(seconds=0)])
def test_lease_out_of_bounds(center: ActionCenter, quarantine: Propose, lease: Any) -> None:
    center.approve(ALICE, quarantine().id)
    err = unchanged(center, lambda: center.claim(AGENT, lease=lease), ValidationError)
    assert isinstance(err, ValidationError) and err.field == "lease_seconds"


def test_fractional_lease_is_refused(center: ActionCenter) -> None:
    err = unchanged(
        center, lambda: center.claim(AGENT, lease=timedelta(seconds=1.5)), ValidationError
    )
    assert isinstance(err, ValidationError) and err.field == "lease"


@pytest.mark.parametrize("limit", [0, 1001])
def test_page_size_out_of_bounds(center: ActionCenter, limit: int) -> None:
    with pytest.raises(ValidationError) as e:
        center.list(VIC, limit=limit)
    assert e.value.field == "limit"
    assert str(e.value) == f"invalid limit: must be between 1 and 1000, got {limit}"


def test_bad_cursor(center: ActionCenter) -> None:
    with pytest.raises(ValidationError) as e:
        center.list(VIC, cursor="page-2")
    assert e.value.field == "cursor"


def test_negative_seq(center: ActionCenter) -> None:
    with pytest.raises(ValidationError) as e:
        center.events_since(VIC, -1)
    assert e.value.field == "seq"


def test_oversized_parameters(center: ActionCenter) -> None:
    big = {"blob": "x" * 70_000}
    err = unchanged(
        center,
        lambda: center.propose(
            AIR, Kind.ISOLATE_DEVICE, Device("d"), Playbook("p"), parameters=big
        ),
        ValidationError,
    )
    assert isinstance(err, ValidationError) and err.field == "parameters"


def test_nan_in_parameters(center: ActionCenter) -> None:
    err = unchanged(
        center,
        lambda: center.propose(
            AIR, Kind.ISOLATE_DEVICE, Device("d"), Playbook("p"), parameters={"score": float("nan")}
        ),
        ValidationError,
    )
    assert isinstance(err, ValidationError) and err.field == "proposal"


def test_manual_response_for_someone_else(center: ActionCenter) -> None:
    from actioncenter import ManualResponse

    err = unchanged(
        center,
        lambda: center.propose(ALICE, Kind.ISOLATE_DEVICE, Device("d"), ManualResponse("bob")),
        ValidationError,
    )
    assert isinstance(err, ValidationError) and err.field == "source.person"


def test_undo_of_a_kind_without_inverse(center: ActionCenter) -> None:
    action = center.propose(ALICE, Kind.RUN_ANTIVIRUS_SCAN, Device("d"), Playbook("p"))
    center.approve(Principal("bob", ["analyst"]), action.id)
    (claimed,) = center.claim(AGENT)
    center.complete(AGENT, claimed, None)
    err = unchanged(center, lambda: center.undo(ALICE, action.id, "oops"), ValidationError)
    assert str(err) == "invalid kind: run_antivirus_scan actions cannot be undone"


def test_bad_synchronous_mode(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as e:
        ActionCenter.open_sqlite(tmp_path / "ac.db", synchronous="sometimes")
    assert e.value.field == "synchronous"


# ----- bad policies ----------------------------------------------------------


@pytest.mark.parametrize(
    "rules, field",
    [
        (
            {"roles": {}, "kinds": {"isolate_device": {"quorum": 0}}},
            "policy.kinds.isolate_device.quorum",
        ),
        (
            {"roles": {}, "defaults": {"pending_ttl_seconds": -5}},
            "policy.defaults.pending_ttl_seconds",
        ),
        ({"roles": {"a": {"view": ["printers"]}}}, "policy.roles.a.view"),
        ({"roles": {"a": {}}, "principals": {"bob": ["ghost"]}}, "policy.principals.bob"),
        ({"roles": {}, "kinds": {"reboot": {}}}, "policy.kinds.reboot"),
        ({"roles": {}, "automation": {"default": "mostly"}}, "policy.automation.default"),
        ({"rules": {}}, "policy.rules"),
    ],
)
def test_malformed_policy_names_the_field(rules: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as e:
        Policy(rules)
    assert e.value.field == field


def test_policy_from_json_text_and_file(tmp_path: Path) -> None:
    rules = {"roles": {"analyst": {"view": ["*"], "approve": ["file"]}}}
    from_text = Policy.from_json(json.dumps(rules))
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(rules))
    assert Policy.from_file(path) == from_text == Policy.from_dict(rules)
    assert Policy.from_file(str(path)).roles == ["analyst"]


def test_policy_that_is_not_json() -> None:
    with pytest.raises(ValidationError) as e:
        Policy.from_json("{roles: ")
    assert e.value.field is not None and e.value.field.startswith("policy")
    assert "key must be a string" in str(e.value)


def test_policy_file_that_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Policy.from_file(tmp_path / "nope.json")


def test_policy_file_past_the_document_limit_is_refused_without_reading_it_all(
    tmp_path: Path,
) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (1024 * 1024 + 1))
    with pytest.raises(ValidationError) as e:
        Policy.from_file(big)
    assert "is more than 1048576 bytes, the limit" in str(e.value)
    # An endless file: reading stops at the limit.
    with pytest.raises(ValidationError):
        Policy.from_file("/dev/zero")
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"roles": {"\xe9": {}}}')
    with pytest.raises(ValidationError) as e:
        Policy.from_file(latin)
    assert "is not UTF-8" in str(e.value)


def test_policy_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match="policy must be a dict"):
        Policy("{}")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="policy must be a Policy"):
        ActionCenter.in_memory({"roles": {}})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Principal via must be a str, not int"):
        Principal("dana", ["analyst"], via=1)  # type: ignore[arg-type]


def test_bad_policy_leaves_the_old_one_in_force(center: ActionCenter) -> None:
    before = center.policy()
    with pytest.raises(ValidationError):
        center.set_policy(ROOT, Policy({"roles": {}, "defaults": {"max_attempts": 0}}))
    assert center.policy() == before


# ----- values Python holds and the engine cannot ------------------------------


def propose_with(center: ActionCenter, parameters: Any) -> Any:
    return center.propose(
        AIR, Kind.ISOLATE_DEVICE, Device("d"), Playbook("p"), parameters=parameters
    )


@pytest.mark.parametrize("n", [10**30, 2**64, -(2**63) - 1])
def test_an_integer_beyond_64_bits_in_parameters_is_refused_not_rounded(
    center: ActionCenter, n: int
) -> None:
    err = unchanged(center, lambda: propose_with(center, {"n": n}), ValidationError)
    assert isinstance(err, ValidationError) and err.field == "proposal"
    assert f"the integer {n} does not fit in 64 bits" in str(err)


def test_integers_within_64_bits_are_kept_exactly(center: ActionCenter) -> None:
    values = {"max": 2**64 - 1, "min": -(2**63), "big": 2**53 + 1}
    assert dict(propose_with(center, values).parameters) == values


def test_an_integer_beyond_64_bits_in_a_result_is_refused(
    center: ActionCenter, quarantine: Propose
) -> None:
    center.approve(ALICE, quarantine())
    (claimed,) = center.claim(AGENT)
    err = unchanged(center, lambda: center.complete(AGENT, claimed, [10**30]), ValidationError)
    assert isinstance(err, ValidationError) and err.field == "result"


@pytest.mark.parametrize(
    "parameters, shown",
    [
        ({1: "a", "1": "b"}, "int (1)"),
        ({1: "a"}, "int (1)"),
        ({"outer": [{None: 1}]}, "NoneType (None)"),
        ({"flag": {True: "on"}}, "bool (True)"),
    ],
)
def test_a_key_that_is_not_text_is_refused_not_written_as_text(
    center: ActionCenter, parameters: Any, shown: str
) -> None:
    err = unchanged(center, lambda: propose_with(center, parameters), TypeError)
    assert f"proposal must be JSON-serializable: keys must be str, not {shown}" in str(err)


@pytest.mark.parametrize("members", [{"b", "a"}, frozenset({"b", "a"})])
def test_a_set_is_refused_since_it_has_no_order(center: ActionCenter, members: Any) -> None:
    err = unchanged(center, lambda: propose_with(center, {"hosts": members}), TypeError)
    name = type(members).__name__
    assert f"a {name} has no order: give a list (sorted(...))" in str(err)


def test_a_tuple_is_written_as_a_list(center: ActionCenter) -> None:
    action = propose_with(center, {"pair": (1, "two")})
    assert center.get(VIC, action.id).parameters == {"pair": [1, "two"]}


@pytest.mark.parametrize("depth", [200, 10_000])
def test_deeply_nested_parameters_are_a_validation_error(center: ActionCenter, depth: int) -> None:
    nested: Any = {}
    for _ in range(depth):
        nested = {"x": nested}
    err = unchanged(center, lambda: propose_with(center, {"deep": nested}), ValidationError)
    assert "nests deeper" in str(err)


@pytest.mark.parametrize("seq", [2**63, 2**64, 10**30])
def test_events_since_a_seq_beyond_the_trail_is_a_validation_error(
    center: ActionCenter, seq: int
) -> None:
    with pytest.raises(ValidationError) as e:
        center.events_since(VIC, seq)
    assert e.value.field == "seq"
    assert str(seq) in str(e.value)


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda c, a: c.approve(ALICE, a, expected_version=2**64), "expected_version"),
        (lambda c, a: c.approve(ALICE, a, expected_version=-1), "expected_version"),
        (lambda c, a: c.claim(AGENT, limit=2**64), "limit"),
        (lambda c, a: c.claim(AGENT, lease=2**70), "lease"),
        (lambda c, a: c.claim(AGENT, lease=timedelta(days=999_999_999)), "lease_seconds"),
        (lambda c, a: c.list(VIC, limit=-(2**70)), "limit"),
        (lambda c, a: c.bulk(ALICE, Event.APPROVE, [(a.id, 2**64)]), "version"),
        (lambda c, a: c.events_since(VIC, 0, limit=2**64), "limit"),
        (lambda c, a: c.set_policy(ROOT, Policy(), expected_version=2**64), "expected_version"),
    ],
)
def test_an_integer_the_engine_cannot_hold_is_a_validation_error(
    center: ActionCenter, quarantine: Propose, call: Callable[..., Any], field: str
) -> None:
    action = quarantine()
    err = unchanged(center, lambda: call(center, action), ValidationError)
    assert isinstance(err, ValidationError) and err.field == field


@pytest.mark.parametrize(
    "at",
    [
        datetime.max.replace(tzinfo=timezone(-timedelta(hours=5))),
        datetime.min.replace(tzinfo=timezone(timedelta(hours=5))),
    ],
)
def test_a_datetime_outside_the_calendar_in_utc_is_a_validation_error(
    center: ActionCenter, at: datetime
) -> None:
    err = unchanged(center, lambda: center.list(VIC, created_after=at), ValidationError)
    assert isinstance(err, ValidationError) and err.field == "created_after"
    assert "outside the years 1 to 9999" in str(err)
    err = unchanged(center, lambda: propose_with(center, {"at": at}), ValidationError)
    assert "outside the years 1 to 9999" in str(err)


def test_a_clock_moved_beyond_the_calendar_is_a_validation_error() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(ValidationError) as e:
        clock.advance(timedelta.max)
    assert e.value.field == "by"
    assert clock.now() == datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_a_clock_in_year_9999_cannot_poison_the_database(center: ActionCenter) -> None:
    clock = ManualClock(datetime(9999, 12, 31, 23, 59, tzinfo=timezone.utc))
    with ActionCenter.in_memory(clock=clock) as late:
        err = unchanged(late, lambda: propose_with(late, None), ValidationError)
    assert isinstance(err, ValidationError) and err.field == "expires_at"


@pytest.mark.parametrize("name", ["system ", " alice", "ali\u200bce", "bob\u202e", "x\u2028y"])
def test_a_principal_id_that_only_looks_like_another_is_refused(
    center: ActionCenter, quarantine: Propose, name: str
) -> None:
    action = quarantine()
    err = unchanged(
        center, lambda: center.approve(Principal(name, ["analyst"]), action), ValidationError
    )
    assert isinstance(err, ValidationError) and err.field == "principal.id"


def test_fail_with_an_escape_character_says_what_is_wrong(
    center: ActionCenter, quarantine: Propose
) -> None:
    center.approve(ALICE, quarantine())
    (claimed,) = center.claim(AGENT)
    err = unchanged(center, lambda: center.fail(AGENT, claimed, "bad\x1b[31m"), ValidationError)
    assert isinstance(err, ValidationError) and err.field == "error"
    assert "control characters" in str(err)


# ----- stored policy, principals, keys and checkpoints -------------------------


def test_an_unknown_principal_is_refused(center: ActionCenter) -> None:
    with pytest.raises(PermissionDenied) as e:
        center.principal("mallory")
    assert e.value.principal == "mallory"
    with pytest.raises(PermissionDenied):
        center.impersonate(ROOT, "mallory")


def test_a_stale_policy_version_stores_nothing(center: ActionCenter) -> None:
    err = unchanged(
        center,
        lambda: center.set_policy(ROOT, Policy.default(), expected_version=7),
        Conflict,
    )
    assert isinstance(err, Conflict) and (err.expected, err.actual) == (7, 1)


@pytest.mark.parametrize(
    "key, message",
    [
        ("not a key", "not an Ed25519 private key in PKCS#8 PEM"),
        (b"\xff\xfe", "the PEM is not UTF-8"),
    ],
)
def test_a_malformed_signing_key_is_refused(center: ActionCenter, key: Any, message: str) -> None:
    err = unchanged(center, lambda: center.checkpoint(ROOT, key), ValidationError)
    assert isinstance(err, ValidationError) and err.field == "signing_key"
    assert message in str(err)
    assert center.checkpoints(ROOT) == []


def test_a_checkpoint_needs_administer(center: ActionCenter) -> None:
    private, _ = generate_key()
    with pytest.raises(PermissionDenied):
        center.checkpoint(ALICE, private)
    assert center.checkpoints(ALICE) == []


def test_a_wrong_public_key_is_a_validation_error(center: ActionCenter) -> None:
    private, _ = generate_key()
    with pytest.raises(ValidationError) as e:
        center.verify_audit(public_key="-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
    assert e.value.field == "public_key"
    with pytest.raises(ValidationError) as e:
        center.verify_audit(public_key=private)
    assert e.value.field == "public_key"


def test_another_signers_key_is_a_problem_of_the_report(center: ActionCenter) -> None:
    private, _ = generate_key()
    _, stranger = generate_key()
    center.checkpoint(ROOT, private)
    report = center.verify_audit(public_key=stranger)
    assert not report.intact and report.checkpoints.signatures_checked
    assert (
        report.checkpoints.problem is not None and "was signed by key" in report.checkpoints.problem
    )


@pytest.mark.parametrize(
    "text, field",
    [
        ("{", "checkpoint"),
        ('{"format": 1}', "checkpoint"),
        ("[]", "checkpoint"),
    ],
)
def test_a_malformed_checkpoint_file_is_refused(text: str, field: str) -> None:
    with pytest.raises(ValidationError) as e:
        Checkpoint.from_json(text)
    assert (e.value.field or "").startswith(field)


def test_an_exported_checkpoint_needs_the_public_key(center: ActionCenter) -> None:
    private, _ = generate_key()
    cp = center.checkpoint(ROOT, private)
    with pytest.raises(ValidationError) as e:
        center.verify_audit(checkpoint=cp)
    assert e.value.field == "public_key"


def test_a_checkpoint_with_a_forged_field_is_refused(center: ActionCenter) -> None:
    private, public = generate_key()
    cp = center.checkpoint(ROOT, private)
    forged = json.loads(cp.to_json())
    forged["hash"] = "zz" * 32
    with pytest.raises(ValidationError) as e:
        center.verify_audit(public_key=public, checkpoint=json.dumps(forged))
    assert e.value.field == "checkpoint.hash"


# ----- text that UTF-8 cannot hold ------------------------------------------


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda c, a: c.approve(ALICE, a, comment="ok \ud800"), "comment"),
        (lambda c, a: c.reject(ALICE, a, comment="\udcff"), "comment"),
        (lambda c, a: c.resolve_id("\ud800"), "prefix"),
        (lambda c, a: c.principal("\ud800"), "id"),
        (
            lambda c, a: c.propose(
                AIR, Kind.ISOLATE_DEVICE, Device("d9"), Playbook("p"), idempotency_key="k\ud800"
            ),
            "idempotency_key",
        ),
        (
            lambda c, a: c.propose(
                AIR, Kind.ISOLATE_DEVICE, Device("d9"), Playbook("p"), investigation_id="\udfff"
            ),
            "investigation_id",
        ),
    ],
)
def test_a_lone_surrogate_is_a_validation_error_naming_its_field(
    center: ActionCenter, quarantine: Propose, call: Callable[..., Any], field: str
) -> None:
    action = quarantine()
    err = unchanged(center, lambda: call(center, action), ValidationError)
    assert isinstance(err, ValidationError) and err.field == field
    assert "is a lone surrogate, not a character" in str(err)
    assert center.get(VIC, action.id).status is Status.PENDING


@pytest.mark.parametrize(
    "make, field",
    [
        (lambda: Principal("\ud800", ["analyst"]), "principal.id"),
        (lambda: Principal("alice", ["analyst\udc80"]), "principal.roles"),
        (lambda: Principal("alice", ["analyst"], via="root\ud800"), "principal.via"),
    ],
)
def test_a_principal_with_a_lone_surrogate_is_not_made(make: Callable[[], Any], field: str) -> None:
    with pytest.raises(ValidationError) as e:
        make()
    assert e.value.field == field
