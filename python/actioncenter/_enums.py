"""The engine's words as ``str`` enums.

Each member's value is the snake_case name core uses in JSON, policies
and the audit trail, so a member compares equal to that string and
``str(member)`` is that string. What a kind's category and inverse are,
and which statuses are final, comes from core at import time (see
``_native.vocabulary()``); the tests check these enums against it.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any, Dict, FrozenSet, Optional

from . import _native

__all__ = [
    "ActionMismatch",
    "AutomationLevel",
    "Category",
    "EntityType",
    "Event",
    "ExpiryOutcome",
    "Kind",
    "Mismatch",
    "Operation",
    "Outcome",
    "SourceType",
    "Status",
    "Synchronous",
    "Verdict",
]

VOCABULARY: Dict[str, Any] = json.loads(_native.vocabulary())


class _StrEnum(str, Enum):
    """A ``str`` enum whose ``str()`` and ``format()`` give its value on every
    Python version (``enum.StrEnum`` needs 3.11)."""

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, format_spec: str) -> str:
        return format(str(self.value), format_spec)


class Status(_StrEnum):
    """Where an action is in its life."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    UNDOING = "undoing"
    """An undo waiting for an executor."""
    UNDO_RUNNING = "undo_running"
    """An undo an executor holds the lease on."""
    UNDONE = "undone"
    UNDO_FAILED = "undo_failed"

    @property
    def is_final(self) -> bool:
        """Whether no event can move an action out of this status."""
        return self.value in _FINAL


_FINAL: FrozenSet[str] = frozenset(VOCABULARY["final_statuses"])


class Category(_StrEnum):
    """What an action belongs to, for permissions and automation levels."""

    DEVICE = "device"
    FILE = "file"
    EMAIL = "email"
    IDENTITY = "identity"
    NETWORK = "network"


class Kind(_StrEnum):
    """The built-in kinds of action.

    A custom kind is the plain string ``"custom:<name>"`` (see
    :meth:`Kind.custom`); everywhere a kind is accepted, such a string is
    too, and actions of a custom kind carry it as a ``str``.
    """

    ISOLATE_DEVICE = "isolate_device"
    RELEASE_DEVICE = "release_device"
    RESTRICT_CODE_EXECUTION = "restrict_code_execution"
    REMOVE_CODE_RESTRICTION = "remove_code_restriction"
    RUN_ANTIVIRUS_SCAN = "run_antivirus_scan"
    QUARANTINE_FILE = "quarantine_file"
    RESTORE_FILE = "restore_file"
    REMOVE_REGISTRY_KEY = "remove_registry_key"
    RESTORE_REGISTRY_KEY = "restore_registry_key"
    STOP_SERVICE = "stop_service"
    START_SERVICE = "start_service"
    DISABLE_DRIVER = "disable_driver"
    ENABLE_DRIVER = "enable_driver"
    REMOVE_SCHEDULED_TASK = "remove_scheduled_task"
    RESTORE_SCHEDULED_TASK = "restore_scheduled_task"
    SOFT_DELETE_EMAIL = "soft_delete_email"
    RESTORE_EMAIL = "restore_email"
    HARD_DELETE_EMAIL = "hard_delete_email"
    BLOCK_URL = "block_url"
    UNBLOCK_URL = "unblock_url"
    DISABLE_USER = "disable_user"
    ENABLE_USER = "enable_user"

    @property
    def category(self) -> Category:
        """The category this kind acts in."""
        return Category(_KIND_FACTS[self.value]["category"])

    @property
    def inverse(self) -> Optional[Kind]:
        """The kind that undoes this one, or ``None`` if it cannot be undone."""
        inverse = _KIND_FACTS[self.value]["inverse"]
        return None if inverse is None else Kind(inverse)

    @property
    def undoable(self) -> bool:
        """Whether a completed action of this kind can be undone."""
        return _KIND_FACTS[self.value]["inverse"] is not None

    @staticmethod
    def custom(name: str) -> str:
        """The kind string of a host-defined kind: ``"custom:<name>"``.

        >>> Kind.custom("collect_package")
        'custom:collect_package'
        """
        if not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        return f"custom:{name}"


_KIND_FACTS: Dict[str, Dict[str, Any]] = {k["name"]: k for k in VOCABULARY["kinds"]}


class SourceType(_StrEnum):
    """The kind of source that proposed an action, for filters and policies."""

    AUTOMATED_INVESTIGATION = "automated_investigation"
    ANTIVIRUS = "antivirus"
    MANUAL_RESPONSE = "manual_response"
    PLAYBOOK = "playbook"
    CUSTOM = "custom"


class EntityType(_StrEnum):
    """The type of an action's target."""

    DEVICE = "device"
    FILE = "file"
    REGISTRY_KEY = "registry_key"
    SERVICE = "service"
    DRIVER = "driver"
    SCHEDULED_TASK = "scheduled_task"
    EMAIL_CLUSTER = "email_cluster"
    MAILBOX = "mailbox"
    USER = "user"
    URL = "url"


class Event(_StrEnum):
    """Something that happens to an action (or, ``SET_POLICY``, to the
    stored policy): an audit event's ``event``, the ``event`` of an
    :class:`InvalidTransition`, and the operation of
    :meth:`ActionCenter.bulk` (approve, reject, cancel, retry, undo)."""

    PROPOSE = "propose"
    APPROVE = "approve"
    REJECT = "reject"
    EXPIRE = "expire"
    CANCEL = "cancel"
    CLAIM = "claim"
    HEARTBEAT = "heartbeat"
    COMPLETE = "complete"
    FAIL = "fail"
    LEASE_EXPIRE = "lease_expire"
    RETRY = "retry"
    UNDO = "undo"
    SET_POLICY = "set_policy"


class Operation(_StrEnum):
    """Something a policy may allow a role to do on a category."""

    VIEW = "view"
    PROPOSE = "propose"
    APPROVE = "approve"
    CANCEL = "cancel"
    EXECUTE = "execute"
    UNDO = "undo"
    ADMINISTER = "administer"


class Verdict(_StrEnum):
    """An approver's word on a pending action."""

    APPROVE = "approve"
    REJECT = "reject"


class Outcome(_StrEnum):
    """How an execution attempt ended."""

    COMPLETED = "completed"
    FAILED = "failed"
    LEASE_EXPIRED = "lease_expired"


class AutomationLevel(_StrEnum):
    """How much a source may do without a person's approval."""

    FULL = "full"
    SEMI = "semi"
    NONE = "none"


class ExpiryOutcome(_StrEnum):
    """What a pending action becomes when its approval window closes."""

    EXPIRE = "expire"
    REJECT = "reject"


class Mismatch(_StrEnum):
    """Why an audit event fails verification."""

    HASH = "hash"
    """The stored hash is not the hash of the stored fields."""
    LINK = "link"
    """``prev_hash`` is not the previous event's hash."""
    GAP = "gap"
    """The sequence skips a number: an event was removed."""
    TRANSITION = "transition"
    """The event is not a move the machine's table allows after the
    action's previous event; ``detail`` says why."""
    UNREADABLE = "unreadable"
    """The event's row cannot be read back as an event (text that is not
    UTF-8, a value no event has); ``detail`` is the store's error."""


class ActionMismatch(_StrEnum):
    """Why a stored action row does not match its audit trail."""

    NO_EVENTS = "no_events"
    """The row has no audit event: it was inserted behind the engine's back."""
    MISSING = "missing"
    """The trail has events for an action whose row is gone."""
    VERSION = "version"
    """The row's version is not the one its last event recorded."""
    STATUS = "status"
    """The row's status is not the one its last event moved it to."""
    DIGEST = "digest"
    """The row's content is not what its last event recorded."""
    COLUMN = "column"
    """A column the store derives from the row's doc is not what the doc
    says (``row`` names it; ``doc`` when the doc does not decode)."""


class Synchronous(_StrEnum):
    """How hard SQLite works to make each commit durable."""

    FULL = "full"
    """Every commit reaches the disk before it returns (the default)."""
    NORMAL = "normal"
    """Faster: a power cut may lose the last commits, never half-apply one."""
