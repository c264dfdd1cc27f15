"""The exceptions: one base, one class per core error kind.

Builtin bases where they fit, so ordinary ``except`` clauses work:
:class:`NotFound` is a ``KeyError``, :class:`PermissionDenied` a
``PermissionError`` (with :class:`SelfApproval` under it), and
:class:`ValidationError` a ``ValueError``.

The compiled module raises these (``src/errors.rs`` picks the class for
each kind); the fields come from core's error JSON.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Dict, Optional, Type, TypeVar

from ._enums import Category, Event, Operation, Status

__all__ = [
    "ActionCenterError",
    "Conflict",
    "ExpiredError",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "SelfApproval",
    "StorageError",
    "ValidationError",
]

_E = TypeVar("_E", bound="ActionCenterError")


def _uuid(value: Any) -> Optional[uuid.UUID]:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class ActionCenterError(Exception):
    """The base of every error the engine raises.

    ``code`` is the stable number (the C status code) and ``kind`` the
    snake_case name of the error's kind. The other attributes are set
    where the kind has them and ``None`` otherwise: ``action_id``
    (``uuid.UUID``), ``status`` and ``event`` (:class:`InvalidTransition`),
    ``principal``, ``operation`` and ``category`` (:class:`PermissionDenied`),
    ``expected`` and ``actual`` versions (:class:`Conflict`), ``field``
    (:class:`ValidationError`), ``what`` and ``at`` (:class:`ExpiredError`).
    """

    code: int = 0
    kind: str = "error"

    def __init__(
        self,
        message: str,
        *,
        action_id: Optional[uuid.UUID] = None,
        status: Optional[Status] = None,
        event: Optional[Event] = None,
        field: Optional[str] = None,
        principal: Optional[str] = None,
        operation: Optional[Operation] = None,
        category: Optional[Category] = None,
        expected: Optional[int] = None,
        actual: Optional[int] = None,
        what: Optional[str] = None,
        at: Optional[datetime] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        """What went wrong, with the value that was wrong."""
        self.action_id = action_id
        """The action concerned, when there is one."""
        self.status = status
        """The status that did not allow the event (:class:`InvalidTransition`)."""
        self.event = event
        """The event that was not allowed (:class:`InvalidTransition`)."""
        self.field = field
        """The bad input's name, e.g. ``"comment"`` (:class:`ValidationError`)."""
        self.principal = principal
        """Who was refused (:class:`PermissionDenied`, :class:`SelfApproval`)."""
        self.operation = operation
        """The missing permission (:class:`PermissionDenied`)."""
        self.category = category
        """The category it was missing on; ``None`` when on every category."""
        self.expected = expected
        """The version the caller expected (:class:`Conflict`)."""
        self.actual = actual
        """The version found (:class:`Conflict`)."""
        self.what = what
        """What ran out: ``"approval window"`` or ``"lease"`` (:class:`ExpiredError`)."""
        self.at = at
        """When it ran out (:class:`ExpiredError`)."""

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    @classmethod
    def _from_core(cls: Type[_E], details: str) -> _E:
        """Builds the exception from core's error JSON (``Error::to_json``)."""
        from ._convert import parse_time

        d: Dict[str, Any] = json.loads(details)
        err = cls(
            str(d.get("message", "")),
            action_id=_uuid(d.get("id")),
            status=Status(d["status"]) if d.get("status") else None,
            event=Event(d["event"]) if d.get("event") else None,
            field=d.get("field"),
            principal=d.get("principal"),
            operation=Operation(d["operation"]) if d.get("operation") else None,
            category=Category(d["category"]) if d.get("category") else None,
            expected=d.get("expected"),
            actual=d.get("actual"),
            what=d.get("what"),
            at=parse_time(d["at"]) if d.get("at") else None,
        )
        if cls is ActionCenterError:
            # A kind this package has no class for yet keeps its identity.
            err.code = int(d.get("code", 0))
            err.kind = str(d.get("kind", "error"))
        return err


class NotFound(ActionCenterError, KeyError):
    """No action with this id (or id prefix). Also a ``KeyError``.

    ``action_id`` is set when the id was a full UUID.
    """

    code = 1
    kind = "not_found"


class InvalidTransition(ActionCenterError):
    """The action's ``status`` does not allow the ``event``."""

    code = 2
    kind = "invalid_transition"


class PermissionDenied(ActionCenterError, PermissionError):
    """The ``principal`` lacks the ``operation`` on the ``category``. Also a
    ``PermissionError``."""

    code = 3
    kind = "permission_denied"


class SelfApproval(PermissionDenied):
    """The proposer tried to approve their own action, which the policy
    forbids."""

    code = 4
    kind = "self_approval"


class Conflict(ActionCenterError):
    """Someone changed the action first (version ``actual``, not ``expected``):
    read it again and decide again."""

    code = 5
    kind = "conflict"


class ValidationError(ActionCenterError, ValueError):
    """Bad input; ``field`` names it. Also a ``ValueError``."""

    code = 6
    kind = "validation"


class ExpiredError(ActionCenterError):
    """A deadline passed: the action's approval window, or the executor's
    lease (``what``), at ``at``."""

    code = 7
    kind = "expired"


class StorageError(ActionCenterError):
    """The database failed, or is not an actioncenter database."""

    code = 8
    kind = "storage"
