"""The records: principals, targets, sources, actions and audit events.

Everything here is read-only: frozen dataclasses, built by the compiled
module straight from core's values (see ``python/src/records.rs``); an
:class:`Action`'s fields are built as they are first read.
Targets and sources are also what :meth:`ActionCenter.propose` takes.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Tuple,
    Type,
    Union,
)

from . import _native
from ._convert import format_time, type_error, unicode
from ._enums import (
    ActionMismatch,
    Category,
    EntityType,
    Event,
    Kind,
    Mismatch,
    Outcome,
    SourceType,
    Status,
    Verdict,
)
from ._errors import ActionCenterError

__all__ = [
    "Action",
    "Antivirus",
    "Attempt",
    "AuditEvent",
    "AuditReport",
    "AutomatedInvestigation",
    "BadAction",
    "BadEvent",
    "BulkPreview",
    "Checkpoint",
    "CheckpointReport",
    "CustomSource",
    "Decision",
    "Device",
    "Driver",
    "EmailCluster",
    "Entity",
    "File",
    "ItemResult",
    "Mailbox",
    "ManualResponse",
    "Note",
    "Page",
    "Playbook",
    "Principal",
    "RegistryKey",
    "ScheduledTask",
    "Seen",
    "Service",
    "Source",
    "UndoInfo",
    "UndoReport",
    "Url",
    "User",
]


@dataclass(frozen=True, init=False, repr=False)
class Principal:
    """A person or service acting on the engine: an id and its roles.

    >>> Principal("alice", ["analyst"])
    Principal(id='alice', roles=('analyst',))

    The host decides who a principal is. :meth:`ActionCenter.principal`
    gives the roles the stored policy's ``principals`` section names;
    :meth:`ActionCenter.impersonate` gives an administrator acting as
    someone else, with ``via`` set to the administrator, which every event
    and decision then records ("root as dana").
    """

    id: str
    roles: Tuple[str, ...]
    via: Optional[str]
    """The administrator acting as this principal, if one is."""

    def __init__(self, id: str, roles: Iterable[str] = (), *, via: Optional[str] = None) -> None:
        if not isinstance(id, str):
            type_error("Principal id", "a str", id)
        if isinstance(roles, str) or not isinstance(roles, Iterable):
            type_error("Principal roles", "an iterable of role names", roles)
        checked = tuple(roles)
        for role in checked:
            if not isinstance(role, str):
                type_error("each role", "a str", role)
        if via is not None and not isinstance(via, str):
            type_error("Principal via", "a str", via)
        unicode(id, "principal.id")
        for role in checked:
            unicode(role, "principal.roles")
        if via is not None:
            unicode(via, "principal.via")
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "roles", checked)
        object.__setattr__(self, "via", via)

    @property
    def shown(self) -> str:
        """How core shows this principal: ``"root as dana"`` when someone acts
        as it, else its id."""
        return _native.principal_shown(self)

    def __repr__(self) -> str:
        via = "" if self.via is None else f", via={self.via!r}"
        return f"Principal(id={self.id!r}, roles={self.roles!r}{via})"


# ----- targets ---------------------------------------------------------------


class _Tagged:
    """A record core writes as ``{"type": ..., **fields}``. The tag is a
    field of its own (not given to ``__init__``, left out of ``repr`` and
    comparison: the class says it), so that ``dataclasses.asdict`` writes
    it too."""

    type: str

    def to_json(self) -> Dict[str, Any]:
        """The record in core's JSON form."""
        cls = type(self)
        shape = _SHAPES.get(cls)
        if shape is None:
            # A record's tag and fields never change: found once per class
            # (``dataclasses.fields`` is slow enough to show in a propose).
            names = tuple(f.name for f in fields(self) if f.name != "type")  # type: ignore[arg-type]
            shape = (str(cls.type), names)
            _SHAPES[cls] = shape
        tag, names = shape
        out: Dict[str, Any] = {"type": tag}
        for name in names:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


_SHAPES: Dict[type, Tuple[str, Tuple[str, ...]]] = {}
"""Each record class's tag and field names, for :meth:`_Tagged.to_json`."""


class _EntityRecord(_Tagged):
    """A target."""

    def describe(self) -> str:
        """How core shows this target to people, e.g. ``"C:\\evil.exe on dev-1"``
        (the same words as ``actionctl``)."""
        return _native.describe_entity(json.dumps(self.to_json()))


class _SourceRecord(_Tagged):
    """A source."""

    def describe(self) -> str:
        """How core shows this source to people, e.g. ``"AIR inv-7"`` (the
        same words as ``actionctl``)."""
        return _native.describe_source(json.dumps(self.to_json()))


@dataclass(frozen=True)
class Device(_EntityRecord):
    """A device, by id."""

    type: EntityType = field(default=EntityType.DEVICE, init=False, repr=False, compare=False)
    device_id: str
    name: Optional[str] = None


@dataclass(frozen=True)
class File(_EntityRecord):
    """A file on a device: its lowercase hex SHA-256 and path."""

    type: EntityType = field(default=EntityType.FILE, init=False, repr=False, compare=False)
    sha256: str
    path: str
    device_id: str


@dataclass(frozen=True)
class RegistryKey(_EntityRecord):
    """A registry key (and value) on a device."""

    type: EntityType = field(default=EntityType.REGISTRY_KEY, init=False, repr=False, compare=False)
    device_id: str
    key: str
    value_name: Optional[str] = None


@dataclass(frozen=True)
class Service(_EntityRecord):
    """A service on a device."""

    type: EntityType = field(default=EntityType.SERVICE, init=False, repr=False, compare=False)
    device_id: str
    name: str


@dataclass(frozen=True)
class Driver(_EntityRecord):
    """A driver on a device."""

    type: EntityType = field(default=EntityType.DRIVER, init=False, repr=False, compare=False)
    device_id: str
    name: str


@dataclass(frozen=True)
class ScheduledTask(_EntityRecord):
    """A scheduled task on a device."""

    type: EntityType = field(
        default=EntityType.SCHEDULED_TASK, init=False, repr=False, compare=False
    )
    device_id: str
    name: str


@dataclass(frozen=True)
class EmailCluster(_EntityRecord):
    """A cluster of similar emails, with the query that defines it."""

    type: EntityType = field(
        default=EntityType.EMAIL_CLUSTER, init=False, repr=False, compare=False
    )
    cluster_id: str
    query: Optional[str] = None


@dataclass(frozen=True)
class Mailbox(_EntityRecord):
    """A mailbox, by address."""

    type: EntityType = field(default=EntityType.MAILBOX, init=False, repr=False, compare=False)
    address: str


@dataclass(frozen=True)
class User(_EntityRecord):
    """A user account."""

    type: EntityType = field(default=EntityType.USER, init=False, repr=False, compare=False)
    user_id: str


@dataclass(frozen=True)
class Url(_EntityRecord):
    """A URL."""

    type: EntityType = field(default=EntityType.URL, init=False, repr=False, compare=False)
    url: str


Entity = Union[
    Device, File, RegistryKey, Service, Driver, ScheduledTask, EmailCluster, Mailbox, User, Url
]
"""What an action targets."""

_ENTITIES: Dict[str, Type[Any]] = {
    str(c.type): c
    for c in (
        Device,
        File,
        RegistryKey,
        Service,
        Driver,
        ScheduledTask,
        EmailCluster,
        Mailbox,
        User,
        Url,
    )
}


# ----- sources ---------------------------------------------------------------


@dataclass(frozen=True)
class AutomatedInvestigation(_SourceRecord):
    """An automated investigation, by id. Its actions carry the id as their
    ``investigation_id``."""

    type: SourceType = field(
        default=SourceType.AUTOMATED_INVESTIGATION, init=False, repr=False, compare=False
    )
    investigation_id: str


@dataclass(frozen=True)
class Antivirus(_SourceRecord):
    """The antivirus engine."""

    type: SourceType = field(default=SourceType.ANTIVIRUS, init=False, repr=False, compare=False)


@dataclass(frozen=True)
class ManualResponse(_SourceRecord):
    """A person acting directly; must be the proposing principal."""

    type: SourceType = field(
        default=SourceType.MANUAL_RESPONSE, init=False, repr=False, compare=False
    )
    person: str


@dataclass(frozen=True)
class Playbook(_SourceRecord):
    """A playbook, by name."""

    type: SourceType = field(default=SourceType.PLAYBOOK, init=False, repr=False, compare=False)
    name: str


@dataclass(frozen=True)
class CustomSource(_SourceRecord):
    """Any other source, by name."""

    type: SourceType = field(default=SourceType.CUSTOM, init=False, repr=False, compare=False)
    name: str


Source = Union[AutomatedInvestigation, Antivirus, ManualResponse, Playbook, CustomSource]
"""Who or what proposed an action."""

_SOURCES: Dict[str, Type[Any]] = {
    str(c.type): c
    for c in (AutomatedInvestigation, Antivirus, ManualResponse, Playbook, CustomSource)
}


def tagged_json(value: object, name: str, classes: Dict[str, Type[Any]]) -> Dict[str, Any]:
    """A target or source argument as core's JSON: one of the classes
    above, or a mapping already in core's form."""
    if isinstance(value, _Tagged) and type(value) in classes.values():
        return value.to_json()
    if isinstance(value, Mapping):
        return dict(value)
    type_error(name, f"one of {', '.join(c.__name__ for c in classes.values())} or a dict", value)


def _tagged(d: Mapping[str, Any], classes: Dict[str, Type[Any]]) -> Any:
    rest = {k: v for k, v in d.items() if k != "type"}
    return classes[d["type"]](**rest)


# ----- actions ---------------------------------------------------------------


class _Parameters(Dict[str, Any]):
    """An action's parameters: a ``dict`` that refuses changes, and so do
    the objects (``_Parameters``) and arrays (:class:`_Items`) inside it. A
    dict, so that ``json.dumps``, ``dataclasses.asdict``, ``copy.deepcopy``
    and pickle take it as they take any dict (a read-only mapping proxy
    they refuse); the compiled module fills it. Made once: ``__init__``
    again would be an update, and is refused like one."""

    __slots__ = ("_sealed",)
    _sealed: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if getattr(self, "_sealed", False):
            self._read_only()
        super().__init__(*args, **kwargs)
        self._sealed = True

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("an action's parameters are read-only")

    __setitem__ = __delitem__ = _read_only
    clear = pop = popitem = setdefault = update = __ior__ = _read_only

    def __reduce__(self) -> Tuple[type, Tuple[Dict[str, Any]]]:
        return (type(self), (dict(self),))


class _Items(List[Any]):
    """An array inside an action's parameters: a ``list`` that refuses
    changes (equal to the list it holds, and taken as one by ``json``,
    ``asdict``, ``deepcopy`` and pickle)."""

    __slots__ = ("_sealed",)
    _sealed: bool

    def __init__(self, *args: Any) -> None:
        if getattr(self, "_sealed", False):
            self._read_only()
        super().__init__(*args)
        self._sealed = True

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("an action's parameters are read-only")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only
    append = extend = insert = pop = remove = clear = sort = reverse = _read_only

    def __reduce__(self) -> Tuple[type, Tuple[List[Any]]]:
        return (type(self), (list(self),))


@dataclass(frozen=True)
class Decision:
    """One person's decision on a pending action."""

    by: str
    at: datetime
    verdict: Verdict
    comment: Optional[str] = None
    via: Optional[str] = None
    """The administrator who acted as ``by``, when someone did."""
    policy_version: Optional[int] = None
    """The version of the stored policy the decision was made under."""


@dataclass(frozen=True)
class Attempt:
    """One executor's go at an action (or, with ``undo``, at its inverse)."""

    executor: str
    claimed_at: datetime
    lease_until: datetime
    lease_token: str = ""
    """The fencing token of this claim: fresh on every claim, and needed to
    renew, complete or fail it (empty on attempts stored before tokens)."""
    undo: bool = False
    finished_at: Optional[datetime] = None
    outcome: Optional[Outcome] = None
    """``None`` while the executor holds the lease."""
    result: Any = None
    """What the executor reported on completion."""
    error: Optional[str] = None
    """What the executor reported on failure."""


@dataclass(frozen=True)
class Note:
    """A note left by whoever cancelled an action."""

    by: str
    at: datetime
    comment: str


@dataclass(frozen=True)
class UndoInfo:
    """What an undo asked for."""

    requested_by: str
    requested_at: datetime
    comment: str
    inverse: Union[Kind, str]
    """The kind the executor runs to undo the action."""
    fanned_out_from: Optional[uuid.UUID] = None
    """The action whose undo fanned out to this one, if any."""


@dataclass(frozen=True, repr=False, eq=True)
class Action:
    """A remediation action and everything that happened to it. Read-only:
    every verb returns the action as it is after the change."""

    id: uuid.UUID
    kind: Union[Kind, str]
    """A :class:`Kind`, or the ``"custom:<name>"`` string of a custom kind."""
    category: Category
    entity: Entity
    source: Source
    investigation_id: Optional[str]
    incident_id: Optional[str]
    alert_id: Optional[str]
    parameters: Mapping[str, Any]
    created_at: datetime
    created_by: str
    status: Status
    decisions: Tuple[Decision, ...]
    attempts: Tuple[Attempt, ...]
    cancellation: Optional[Note]
    undo: Optional[UndoInfo]
    expires_at: Optional[datetime]
    """When a pending action's approval window closes."""
    updated_at: datetime
    version: int
    """Bumped on every change. Passing the action itself (not its id) to a
    decision decides only on this version; see ``expected_version``."""
    idempotency_key: Optional[str] = None
    """The key the proposer gave to make retries of its proposal safe."""
    created_via: Optional[str] = None
    """The administrator who proposed it as ``created_by``, when someone
    did (``impersonate``): the person behind the proposal, whom the
    self-approval rule holds to it."""
    decided_by: Tuple[str, ...] = field(default=(), compare=False)
    """The people who decided on the action, in order, each once: the
    "decided by" column of every door's views, as core's ``decided_by``
    gives it."""
    approvers: Tuple[str, ...] = field(default=(), compare=False)
    """The distinct people who approved so far (toward the quorum)."""
    active_attempt: Optional[Attempt] = field(default=None, compare=False)
    """The attempt under way, if an executor holds a lease."""

    def __hash__(self) -> int:
        return hash((self.id, self.version))

    def __repr__(self) -> str:
        return (
            f"Action(id={str(self.id)!r}, kind={str(self.kind)!r}, status={str(self.status)!r}, "
            f"entity={self.entity!r}, version={self.version})"
        )

    @property
    def lease_until(self) -> Optional[datetime]:
        """When the current executor's lease runs out, if one holds it."""
        attempt = self.active_attempt
        return None if attempt is None else attempt.lease_until

    @property
    def lease_token(self) -> Optional[str]:
        """The fencing token of the lease an executor holds, if one does:
        what :meth:`ActionCenter.heartbeat`, :meth:`~ActionCenter.complete`
        and :meth:`~ActionCenter.fail` present. Passing the claimed action to
        them presents it."""
        attempt = self.active_attempt
        return None if attempt is None else attempt.lease_token

    def __getstate__(self) -> Dict[str, Any]:
        # Every field, built: a copy holds the values, not the core value;
        # and whatever else the instance holds (a subclass's fields).
        # (A copy of the instance's dict, which another thread's read of a
        # field may change meanwhile.)
        state = {name: value for name, value in dict(vars(self)).items() if name != "_fields"}
        for name in _ACTION_FIELDS:
            if name not in state:
                state[name] = getattr(self, name)
        return state


_ACTION_FIELDS: Tuple[str, ...] = tuple(f.name for f in fields(Action))
# Each field is built from core's value when first read (see
# ``_native.BuiltField``): most callers read a few fields of what a verb
# returns, and building them all was most of a call's cost.
for _field in fields(Action):
    _default = () if _field.default is MISSING else (_field.default,)
    setattr(Action, _field.name, _native.BuiltField(_field.name, *_default))
del _field, _default


class Seen(NamedTuple):
    """An action as a caller saw it: its id and the version shown. Bulk
    operations and undo fan-out act on each only while it is still at that
    version; a plain ``(id, version)`` tuple does as well."""

    id: uuid.UUID
    version: int

    @classmethod
    def of(cls, action: Action) -> Seen:
        """What a caller saw of ``action``."""
        if not isinstance(action, Action):
            type_error("action", "an Action", action)
        return cls(action.id, action.version)


@dataclass(frozen=True)
class Page:
    """One page of actions, newest first. Iterate over it, index it, and
    pass ``next_cursor`` as ``cursor`` for the next page (``None`` on the
    last one)."""

    items: Tuple[Action, ...]
    next_cursor: Optional[str]

    def __iter__(self) -> Iterator[Action]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> Action:
        return self.items[index]


@dataclass(frozen=True)
class ItemResult:
    """The result of one item of a bulk operation or an undo fan-out: the
    action after the change, or the error this item got (not raised)."""

    id: uuid.UUID
    action: Optional[Action]
    error: Optional[ActionCenterError]

    @property
    def ok(self) -> bool:
        """Whether this item succeeded."""
        return self.error is None


@dataclass(frozen=True)
class UndoReport:
    """What an undo did: the action asked for (now undoing), and one result
    per confirmed instance of the same file."""

    action: Action
    instances: Tuple[ItemResult, ...]


@dataclass(frozen=True)
class BulkPreview:
    """What a bulk operation by filter would act on now
    (:meth:`ActionCenter.preview_bulk`): show it, then pass it to
    :meth:`ActionCenter.bulk`, which acts only if the selection is still
    exactly this one (:class:`Conflict` with ``what == "selection"``
    otherwise, and nothing is done)."""

    count: int
    snapshot: str
    """The token that names this selection."""
    items: Tuple[Seen, ...]
    """The actions, newest first, at the versions seen."""
    _op: str = field(default="", repr=False, compare=False)
    _filter: str = field(default="", repr=False, compare=False)

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Seen]:
        return iter(self.items)


# ----- audit -----------------------------------------------------------------


@dataclass(frozen=True)
class AuditEvent:
    """One entry of the audit trail, chained to the one before by SHA-256.
    ``from_status`` is ``None`` for the event that created the action;
    ``action_id`` and ``to_status`` are ``None`` for a change of the stored
    policy (``Event.SET_POLICY``)."""

    seq: int
    action_id: Optional[uuid.UUID]
    at: datetime
    actor: str
    via: Optional[str]
    """The administrator who acted as ``actor``, when someone did."""
    event: Event
    from_status: Optional[Status]
    to_status: Optional[Status]
    comment: Optional[str]
    version: Optional[int]
    """The action's (or the policy's) version after the event."""
    digest: Optional[str]
    """SHA-256 of the action's (or the policy's) canonical form after the event."""
    policy_version: Optional[int]
    """The stored policy's version the event was decided under."""
    prev_hash: str
    hash: str
    actor_shown: str = field(default="", compare=False)
    """How core shows who acted: ``"root as dana"`` or the actor."""


@dataclass(frozen=True)
class BadEvent:
    """The first audit event that does not match; for a gap, ``expected`` is
    the sequence number that is missing; for a transition, ``detail`` says
    which move the machine does not allow."""

    seq: int
    action_id: Optional[uuid.UUID]
    mismatch: Mismatch
    expected: Optional[int] = None
    detail: Optional[str] = None


@dataclass(frozen=True)
class BadAction:
    """The first stored action whose row does not match its audit trail.
    For a version or status mismatch, ``row`` is what the row holds and
    ``recorded`` what its last event recorded."""

    id: uuid.UUID
    seq: Optional[int]
    """The action's last audit event, when it has one."""
    mismatch: ActionMismatch
    row: Union[int, Status, None] = None
    recorded: Union[int, Status, None] = None


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the audit trail had ``seq`` events, the last
    hashing to ``hash``, at ``at`` (:meth:`ActionCenter.checkpoint`). Keep
    an exported copy (:meth:`to_json`) outside the database and pass it to
    :meth:`ActionCenter.verify_audit` to detect a cut or rewritten trail."""

    format: int
    seq: int
    hash: str
    at: datetime
    prev: Optional[str]
    """The previous checkpoint's signature; ``None`` for the first one."""
    public_key: str
    """The signer's Ed25519 public key, lowercase hex."""
    signature: str

    def to_json(self) -> str:
        """The checkpoint in core's export form (what ``actionctl audit
        verify --checkpoint`` reads)."""
        return _native.checkpoint_json(self._json())

    def _json(self) -> str:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["at"] = format_time(self.at, "checkpoint.at")
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: Union[str, bytes]) -> Checkpoint:
        """An exported checkpoint, checked by core (:class:`ValidationError`
        naming the bad field otherwise)."""
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if not isinstance(text, str):
            type_error("checkpoint", "JSON text", text)
        return _native.parse_checkpoint(text)


@dataclass(frozen=True)
class CheckpointReport:
    """What verification found of the signed checkpoints."""

    checked: int
    """Checkpoints checked against the chain (stored and exported)."""
    signatures_checked: bool
    """Whether their signatures were checked (a public key was given)."""
    latest: Optional[Checkpoint]
    """The latest stored checkpoint."""
    problem: Optional[str]
    """The first problem found, in words."""


@dataclass(frozen=True)
class AuditReport:
    """What :meth:`ActionCenter.verify_audit` found: the chain of events,
    each stored action against its last event, the stored policy against
    its last change, and the signed checkpoints."""

    events_checked: int
    """Events read, up to and including the first bad one."""
    head: str
    """The hash of the last good event: the chain's head when intact."""
    first_bad: Optional[BadEvent]
    actions_checked: int
    """Action rows checked against their last event."""
    first_bad_action: Optional[BadAction]
    policy_problem: Optional[str]
    """What is wrong with the stored policy, if anything."""
    counts_problem: Optional[str]
    """The first kept count per status and category (the tab badges) that
    is not the number of stored actions, in words."""
    checkpoints: CheckpointReport
    problem: Optional[str]
    """The first problem in words, as core says it; ``None`` when intact."""

    @property
    def intact(self) -> bool:
        """Whether every event, action row, the policy and every checkpoint
        matched."""
        return self.problem is None
