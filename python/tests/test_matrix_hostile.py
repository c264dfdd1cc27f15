"""The permission matrix through Python (every single grant and the
built-in roles x every verb x two categories), and hostile input: injection
strings stored verbatim, NUL bytes and oversized values, JSON nested
10,000 deep and huge numbers in parameters."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
from actioncenter import (
    ActionCenter,
    AutomatedInvestigation,
    Device,
    File,
    Kind,
    PermissionDenied,
    Policy,
    Principal,
    ValidationError,
)
from conftest import SHA

OPS = ["view", "propose", "approve", "cancel", "execute", "undo", "administer"]
CATEGORIES = ["device", "file"]
ALL = ["device", "file", "email", "identity", "network"]

# The "who may" column of the machine's table, per verb.
NEEDS = {
    "propose": "propose",
    "approve": "approve",
    "reject": "approve",
    "cancel": "cancel",
    "retry": "approve",
    "claim": "execute",
    "complete": "execute",
    "fail": "execute",
    "undo": "undo",
    "get": "view",
    "set_policy": "administer*",
    "impersonate": "administer*",
}
# The status each verb needs its action in.
STARTS = {
    "propose": None,
    "approve": "pending",
    "reject": "pending",
    "cancel": "pending",
    "retry": "failed",
    "claim": "approved",
    "complete": "running",
    "fail": "running",
    "undo": "completed",
    "get": "pending",
    "set_policy": "pending",
    "impersonate": "pending",
}


def roles() -> List[Tuple[str, Dict[str, List[str]]]]:
    out: List[Tuple[str, Dict[str, List[str]]]] = [("nothing", {})]
    for op in OPS:
        for cat in [*CATEGORIES, "*"]:
            out.append((f"{op}_on_{'all' if cat == '*' else cat}", {op: [cat]}))
    builtin = json.loads(Policy.default().to_json())["roles"]
    for name, grants in builtin.items():
        out.append((f"builtin_{name}", grants))
    return out


def grants(role: Dict[str, List[str]], op: str, cat: str) -> bool:
    return any(
        (g == op or g == "administer") and ("*" in cats or cat in cats) for g, cats in role.items()
    )


def allowed(role: Dict[str, List[str]], verb: str, cat: str) -> bool:
    need = NEEDS[verb]
    if need == "administer*":
        return all(grants(role, "administer", c) for c in ALL)
    return grants(role, need, cat)


SETUP = Principal("sam", ["setup"])
ANN = Principal("ann", ["setup"])
EXE = Principal("exe", ["setup"])


def engine(name: str, grants_: Dict[str, List[str]]) -> ActionCenter:
    policy = Policy.from_dict(
        {
            "roles": {"setup": {"administer": ["*"]}, name: grants_},
            "principals": {
                "sam": ["setup"],
                "ann": ["setup"],
                "exe": ["setup"],
                "dana": ["setup"],
                "pat": [name],
            },
        }
    )
    return ActionCenter.in_memory(policy)


def entity(cat: str, n: int) -> Tuple[Kind, Any]:
    if cat == "device":
        return Kind.ISOLATE_DEVICE, Device(f"dev-{n}")
    return Kind.QUARANTINE_FILE, File(sha256=SHA, path=f"C:\\f{n}.exe", device_id=f"dev-{n}")


def set_up(c: ActionCenter, cat: str, status: Optional[str], lease_to_pat: bool) -> Any:
    if status is None:
        return None, None
    kind, ent = entity(cat, 1)
    a = c.propose(SETUP, kind, ent, AutomatedInvestigation("inv"))
    if status != "pending":
        a = c.approve(ANN, a)
    token = None
    if status in ("running", "failed", "completed"):
        who = Principal("pat", ["setup"]) if lease_to_pat else EXE
        (a,) = c.claim(who)
        token = a.lease_token
    if status == "failed":
        a = c.fail(EXE, a, "boom")
    if status == "completed":
        a = c.complete(EXE, a, {})
    assert str(a.status.value if hasattr(a.status, "value") else a.status) == status
    return a, token


def tally(c: ActionCenter) -> Tuple[Any, ...]:
    page = c.list(SETUP, limit=1000)
    return (
        tuple((a.id, a.status, a.version) for a in page.items),
        len(c.events_since(SETUP, 0, limit=1000)),
    )


def call(c: ActionCenter, pat: Principal, verb: str, cat: str, a: Any) -> Callable[[], Any]:
    kind, ent = entity(cat, 2)
    return {
        "propose": lambda: c.propose(pat, kind, ent, AutomatedInvestigation("inv")),
        "approve": lambda: c.approve(pat, a),
        "reject": lambda: c.reject(pat, a, comment="no"),
        "cancel": lambda: c.cancel(pat, a, comment="stop"),
        "retry": lambda: c.retry(pat, a),
        "claim": lambda: c.claim(pat),
        "complete": lambda: c.complete(pat, a, {"ok": True}),
        "fail": lambda: c.fail(pat, a, "failed"),
        "undo": lambda: c.undo(pat, a, "undo it"),
        "get": lambda: c.get(pat, a),
        "set_policy": lambda: c.set_policy(pat, c.policy().policy, comment="same"),
        "impersonate": lambda: c.impersonate(pat, "dana"),
    }[verb]


CELLS = [(r, v, cat) for r in roles() for v in NEEDS for cat in CATEGORIES]


def test_the_matrix_has_every_cell() -> None:
    print(f"permission matrix (python): {len(CELLS)} cells")
    assert len(CELLS) == len(roles()) * len(NEEDS) * len(CATEGORIES)
    verdicts = {allowed(r[1], v, cat) for r, v, cat in CELLS}
    assert verdicts == {True, False}


@pytest.mark.parametrize("role,verb,cat", CELLS, ids=[f"{r[0]}-{v}-{c}" for r, v, c in CELLS])
def test_cell(role: Tuple[str, Dict[str, List[str]]], verb: str, cat: str) -> None:
    name, grants_ = role
    c = engine(name, grants_)
    lease_to_pat = verb in ("complete", "fail")
    a, _token = set_up(c, cat, STARTS[verb], lease_to_pat)
    pat = Principal("pat", [name])
    before = tally(c)
    run = call(c, pat, verb, cat, a)
    if allowed(grants_, verb, cat):
        got = run()
        if verb == "claim":
            assert len(got) == 1
        if verb == "impersonate":
            assert got.via == "pat"
        if verb in ("get", "impersonate"):
            assert tally(c) == before
        else:
            assert tally(c)[1] > before[1], "allowed, but nothing recorded"
    else:
        if verb == "claim" and any(grants(grants_, "execute", x) for x in ALL):
            assert run() == []
        else:
            with pytest.raises(PermissionDenied) as err:
                run()
            assert err.value.kind == "permission_denied"
            assert err.value.code == 3
        assert tally(c) == before, "a denied call changed something"


INJECTIONS = ["'; DROP TABLE actions;--", '" OR 1=1 --', "1' OR '1'='1"]


@pytest.mark.parametrize("evil", INJECTIONS)
def test_injection_strings_are_stored_verbatim(center: ActionCenter, evil: str) -> None:
    air = Principal("air", ["automation"])
    a = center.propose(
        air,
        Kind.ISOLATE_DEVICE,
        Device(f"{evil}-dev", name=evil),
        AutomatedInvestigation(evil),
        parameters={evil: evil},
        incident_id=evil,
        alert_id=evil,
        comment=evil,
    )
    root = Principal("root", ["admin"])
    got = center.get(root, a.id)
    assert isinstance(got.entity, Device)
    assert got.entity.device_id == f"{evil}-dev"
    assert got.entity.name == evil
    assert got.investigation_id == evil
    assert got.parameters == {evil: evil}
    assert [x.id for x in center.list(root, investigation_id=evil).items] == [a.id]
    assert len(center.list(root, created_by=evil).items) == 0
    done = center.approve(Principal("alice", ["analyst"]), a, comment=evil)
    assert done.decisions[0].comment == evil
    assert len(center.list(root, status="approved").items) == 1
    assert center.verify_audit().intact


@pytest.mark.parametrize(
    "what,fields",
    [
        ("NUL device", {"device": "dev\x001"}),
        ("1 MB device", {"device": "d" * 1_000_000}),
        ("ESC device", {"device": "dev\x1b[2J"}),
        ("NUL comment", {"comment": "a\x00b"}),
        ("1 MB comment", {"comment": "c" * 1_000_000}),
        ("NUL parameter", {"parameters": {"k": "v\x00"}}),
        ("deep parameters", {"parameters": {"p": "DEEP"}}),
        ("huge int", {"parameters": {"n": 2**64}}),
        ("inf", {"parameters": {"n": float("inf")}}),
        ("nan", {"parameters": {"n": float("nan")}}),
    ],
)
def test_hostile_values_are_refused_and_nothing_is_stored(
    center: ActionCenter, what: str, fields: Dict[str, Any]
) -> None:
    air = Principal("air", ["automation"])
    root = Principal("root", ["admin"])
    before = len(center.events_since(root, 0, limit=1000))
    params = fields.get("parameters")
    if params == {"p": "DEEP"}:
        deep: Any = []
        for _ in range(10_000):
            deep = [deep]
        params = {"p": deep}
    with pytest.raises((ValidationError, ValueError, TypeError, RecursionError)) as err:
        center.propose(
            air,
            Kind.ISOLATE_DEVICE,
            Device(fields.get("device", "dev-ok")),
            AutomatedInvestigation("inv"),
            parameters=params,
            comment=fields.get("comment"),
        )
    assert str(err.value), what
    assert len(center.events_since(root, 0, limit=1000)) == before, what
    assert len(center.list(root).items) == 0


def test_a_policy_nested_10000_deep_is_a_clear_error() -> None:
    with pytest.raises(ValidationError) as err:
        Policy.from_json('{"roles": ' + "[" * 10_000 + "]" * 10_000 + "}")
    assert "deeper" in str(err.value) or "nest" in str(err.value)
    with pytest.raises(ValidationError):
        Policy.from_json('{"roles": {}, "defaults": {"quorum": 18446744073709551616}}')
