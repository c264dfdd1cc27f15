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
from typing import Any, Dict, Optional, Type, TypeVar, Union

from ._enums import Category, Event, Kind, Operation, Status

__all__ = [
    "ActionCenterError",
    "Conflict",
    "DuplicateError",
    "ExpiredError",
    "InvalidTransition",
    "NotFound",
    "PermissionDenied",
    "RateLimitedError",
    "SelfApproval",
    "StorageError",
    "UnauthenticatedError",
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
    ``expected`` and ``actual`` versions, ``previewed`` and ``now`` counts
    (:class:`Conflict`), ``field`` (:class:`ValidationError`), ``what`` and
    ``at`` (:class:`ExpiredError`, :class:`Conflict`), ``existing``,
    ``idempotency_key``, ``action_kind`` and ``entity``
    (:class:`DuplicateError`), ``retry_after_seconds``
    (:class:`RateLimitedError`). ``retryable`` is core's word on whether the
    same call may succeed if tried again.
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
        previewed: Optional[int] = None,
        now: Optional[int] = None,
        existing: Optional[uuid.UUID] = None,
        idempotency_key: Optional[str] = None,
        action_kind: Union[Kind, str, None] = None,
        entity: Optional[str] = None,
        retry_after_seconds: Optional[int] = None,
        retryable: bool = False,
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
        """The version the caller expected: the action's, or the policy's
        (:class:`Conflict`)."""
        self.actual = actual
        """The version found (:class:`Conflict`)."""
        self.what = what
        """What ran out or changed: ``"approval window"``, ``"lease"`` or
        ``"lease_token"`` (:class:`ExpiredError`); ``"policy"`` or
        ``"selection"`` (:class:`Conflict`); what was counted, e.g.
        ``"sign in attempts"`` (:class:`RateLimitedError`)."""
        self.at = at
        """When it ran out (:class:`ExpiredError`)."""
        self.previewed = previewed
        """How many actions the bulk selection held when previewed (:class:`Conflict`)."""
        self.now = now
        """How many it holds now (:class:`Conflict`)."""
        self.existing = existing
        """The action already in progress, or made under the idempotency key
        (:class:`DuplicateError`)."""
        self.idempotency_key = idempotency_key
        """The reused key, when the refusal is about one (:class:`DuplicateError`)."""
        self.action_kind = action_kind
        """The kind of the duplicate action (:class:`DuplicateError`)."""
        self.entity = entity
        """The entity it targets (:class:`DuplicateError`)."""
        self.retry_after_seconds = retry_after_seconds
        """How many seconds to wait before trying again, at least 1
        (:class:`RateLimitedError`)."""
        self.retryable = retryable
        """Whether trying the same call again may succeed (a busy database, a
        lost connection, a concurrent change): core's ``is_retryable``."""

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"

    @classmethod
    def _from_core(cls: Type[_E], details: str) -> _E:
        """Builds the exception from core's error JSON (``Error::to_json``)."""
        from ._convert import parse_time

        d: Dict[str, Any] = json.loads(details)
        # Core names the duplicate's kind "action_kind" (first "kind_of_action").
        kind_of_action = d.get("action_kind", d.get("kind_of_action"))
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
            previewed=d.get("previewed"),
            now=d.get("now"),
            existing=_uuid(d.get("existing")),
            idempotency_key=d.get("idempotency_key"),
            action_kind=None if kind_of_action is None else _kind(kind_of_action),
            entity=d.get("entity"),
            retry_after_seconds=d.get("retry_after_seconds"),
            retryable=bool(d.get("retryable", False)),
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
    """What the call was decided on changed first; read it again and decide
    again. Three causes, told apart by ``what``:

    - ``None``: someone changed the action (version ``actual``, not
      ``expected``);
    - ``"policy"``: the stored policy is at version ``actual``, not the
      ``expected`` one given to :meth:`ActionCenter.set_policy`;
    - ``"selection"``: a bulk selection by filter no longer matches its
      preview (``previewed`` actions then, ``now`` now); nothing was done.
    """

    code = 5
    kind = "conflict"


class ValidationError(ActionCenterError, ValueError):
    """Bad input; ``field`` names it. Also a ``ValueError``."""

    code = 6
    kind = "validation"


class ExpiredError(ActionCenterError):
    """A deadline passed: the action's approval window, or the executor's
    lease (``what``), at ``at``. Also a stale lease token
    (``what == "lease_token"``): the lease was taken back and the action
    claimed again, so this executor's work on it is over."""

    code = 7
    kind = "expired"


class StorageError(ActionCenterError):
    """The database failed, or is not an actioncenter database.
    ``retryable`` says whether trying again may help (busy, timed out,
    connection lost) or not (not our database, a schema too new)."""

    code = 8
    kind = "storage"


class DuplicateError(ActionCenterError):
    """The proposal duplicates an action: ``existing``, of ``action_kind`` on
    ``entity``, is already in progress (pending, approved or running) and
    the policy does not allow duplicates for the kind; or, with
    ``idempotency_key`` set, the key was already used for another
    proposal."""

    code = 9
    kind = "duplicate"


class UnauthenticatedError(ActionCenterError):
    """The caller could not be identified: a wrong account name or
    password (the message never says which), a disabled account, or an
    unknown, expired or revoked session or API token. Sign in again, or
    get a new token."""

    code = 10
    kind = "unauthenticated"


class RateLimitedError(ActionCenterError):
    """Too many attempts in a short time (sign-ins to one account or from
    one address): try again after ``retry_after_seconds``. ``retryable`` is
    true."""

    code = 11
    kind = "rate_limited"


def _kind(value: str) -> Union[Kind, str]:
    try:
        return Kind(value)
    except ValueError:
        return value
