"""The records: principals, targets, sources, actions and audit events.

Everything here is read-only: frozen dataclasses, built by the compiled
module straight from core's values (see ``python/src/records.rs``).
Targets and sources are also what :meth:`ActionCenter.propose` takes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, ClassVar, Dict, Iterable, Iterator, Mapping, Optional, Tuple, Type, Union

from ._convert import type_error
from ._enums import (
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
    "BadEvent",
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
    "Service",
    "Source",
    "UndoInfo",
    "UndoReport",
    "Url",
    "User",
]


@dataclass(frozen=True, init=False)
class Principal:
    """A person or service acting on the engine: an id and its roles.

    >>> Principal("alice", ["analyst"])
    Principal(id='alice', roles=('analyst',))
    """

    id: str
    roles: Tuple[str, ...]

    def __init__(self, id: str, roles: Iterable[str] = ()) -> None:
        if not isinstance(id, str):
            type_error("Principal id", "a str", id)
        if isinstance(roles, str) or not isinstance(roles, Iterable):
            type_error("Principal roles", "an iterable of role names", roles)
        checked = tuple(roles)
        for role in checked:
            if not isinstance(role, str):
                type_error("each role", "a str", role)
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "roles", checked)


# ----- targets ---------------------------------------------------------------


class _Tagged:
    """A record core writes as ``{"type": ..., **fields}``."""

    type: ClassVar[str]

    def to_json(self) -> Dict[str, Any]:
        """The record in core's JSON form."""
        out: Dict[str, Any] = {"type": str(self.type)}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = value
        return out


@dataclass(frozen=True)
class Device(_Tagged):
    """A device, by id."""

    type: ClassVar[EntityType] = EntityType.DEVICE
    device_id: str
    name: Optional[str] = None


@dataclass(frozen=True)
class File(_Tagged):
    """A file on a device: its lowercase hex SHA-256 and path."""

    type: ClassVar[EntityType] = EntityType.FILE
    sha256: str
    path: str
    device_id: str


@dataclass(frozen=True)
class RegistryKey(_Tagged):
    """A registry key (and value) on a device."""

    type: ClassVar[EntityType] = EntityType.REGISTRY_KEY
    device_id: str
    key: str
    value_name: Optional[str] = None


@dataclass(frozen=True)
class Service(_Tagged):
    """A service on a device."""

    type: ClassVar[EntityType] = EntityType.SERVICE
    device_id: str
    name: str


@dataclass(frozen=True)
class Driver(_Tagged):
    """A driver on a device."""

    type: ClassVar[EntityType] = EntityType.DRIVER
    device_id: str
    name: str


@dataclass(frozen=True)
class ScheduledTask(_Tagged):
    """A scheduled task on a device."""

    type: ClassVar[EntityType] = EntityType.SCHEDULED_TASK
    device_id: str
    name: str


@dataclass(frozen=True)
class EmailCluster(_Tagged):
    """A cluster of similar emails, with the query that defines it."""

    type: ClassVar[EntityType] = EntityType.EMAIL_CLUSTER
    cluster_id: str
    query: Optional[str] = None


@dataclass(frozen=True)
class Mailbox(_Tagged):
    """A mailbox, by address."""

    type: ClassVar[EntityType] = EntityType.MAILBOX
    address: str


@dataclass(frozen=True)
class User(_Tagged):
    """A user account."""

    type: ClassVar[EntityType] = EntityType.USER
    user_id: str


@dataclass(frozen=True)
class Url(_Tagged):
    """A URL."""

    type: ClassVar[EntityType] = EntityType.URL
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
class AutomatedInvestigation(_Tagged):
    """An automated investigation, by id. Its actions carry the id as their
    ``investigation_id``."""

    type: ClassVar[SourceType] = SourceType.AUTOMATED_INVESTIGATION
    investigation_id: str


@dataclass(frozen=True)
class Antivirus(_Tagged):
    """The antivirus engine."""

    type: ClassVar[SourceType] = SourceType.ANTIVIRUS


@dataclass(frozen=True)
class ManualResponse(_Tagged):
    """A person acting directly; must be the proposing principal."""

    type: ClassVar[SourceType] = SourceType.MANUAL_RESPONSE
    person: str


@dataclass(frozen=True)
class Playbook(_Tagged):
    """A playbook, by name."""

    type: ClassVar[SourceType] = SourceType.PLAYBOOK
    name: str


@dataclass(frozen=True)
class CustomSource(_Tagged):
    """Any other source, by name."""

    type: ClassVar[SourceType] = SourceType.CUSTOM
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


@dataclass(frozen=True)
class Decision:
    """One person's decision on a pending action."""

    by: str
    at: datetime
    verdict: Verdict
    comment: Optional[str] = None


@dataclass(frozen=True)
class Attempt:
    """One executor's go at an action (or, with ``undo``, at its inverse)."""

    executor: str
    claimed_at: datetime
    lease_until: datetime
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
    """Bumped on every change; pass it as ``expected_version`` to decide
    only on what you have seen."""

    def __hash__(self) -> int:
        return hash((self.id, self.version))

    def __repr__(self) -> str:
        return (
            f"Action(id={str(self.id)!r}, kind={str(self.kind)!r}, status={str(self.status)!r}, "
            f"entity={self.entity!r}, version={self.version})"
        )

    @property
    def active_attempt(self) -> Optional[Attempt]:
        """The attempt under way, if an executor holds a lease."""
        if self.attempts and self.attempts[-1].outcome is None:
            return self.attempts[-1]
        return None

    @property
    def lease_until(self) -> Optional[datetime]:
        """When the current executor's lease runs out, if one holds it."""
        attempt = self.active_attempt
        return None if attempt is None else attempt.lease_until


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
    per other instance of the same file when fanned out."""

    action: Action
    instances: Tuple[ItemResult, ...]


# ----- audit -----------------------------------------------------------------


@dataclass(frozen=True)
class AuditEvent:
    """One entry of the audit trail, chained to the one before by SHA-256.
    ``from_status`` is ``None`` for the event that created the action."""

    seq: int
    action_id: uuid.UUID
    at: datetime
    actor: str
    event: Event
    from_status: Optional[Status]
    to_status: Status
    comment: Optional[str]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class BadEvent:
    """The first audit event that does not match; for a gap, ``expected`` is
    the sequence number that is missing."""

    seq: int
    action_id: uuid.UUID
    mismatch: Mismatch
    expected: Optional[int] = None


@dataclass(frozen=True)
class AuditReport:
    """What :meth:`ActionCenter.verify_audit` found."""

    events_checked: int
    """Events read, up to and including the first bad one."""
    head: str
    """The hash of the last good event: the chain's head when intact."""
    first_bad: Optional[BadEvent]

    @property
    def intact(self) -> bool:
        """Whether every event matched."""
        return self.first_bad is None
