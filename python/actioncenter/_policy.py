"""Policies (who may do what, which proposals wait for a person) and the
hand-moved clock tests use."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Dict, List, Mapping, Optional, Union

from . import _native
from ._convert import dumps, format_time, parse_time, type_error
from ._convert import text as checked_text
from ._enums import AutomationLevel, Category, ExpiryOutcome, Kind, Operation, SourceType
from ._errors import ValidationError
from ._model import Principal

_I64 = (-(2**63), 2**63 - 1)

__all__ = ["ManualClock", "Policy", "StoredPolicy"]


class Policy:
    """Grants, approval rules and deadlines, validated by the engine.

    The policy is data: the command line and every binding load the same
    JSON. Build one from a dict, JSON text or a file; ``Policy()`` is the
    documented default (roles ``viewer``, ``analyst``, ``responder``,
    ``executor``, ``automation``, ``admin``; semi automation; quorum 1; a
    one-week approval window; three attempts)::

        policy = Policy({
            "roles": {
                "analyst": {"view": ["*"], "approve": ["file"]},
                "scanner": {"propose": ["*"], "sources": ["antivirus"]},
                "admin": {"administer": ["*"]},
            },
            "automation": {"default": "semi", "sources": {"antivirus": "full"}},
        })

    A malformed policy raises :class:`ValidationError` naming the field,
    e.g. ``policy.kinds.isolate_device.quorum``.

    A database holds one policy, which every handle on it enforces
    (:meth:`ActionCenter.policy`); a ``Policy`` given when opening a
    database is only stored into one that has none yet, and
    :meth:`ActionCenter.set_policy` changes it.
    """

    __slots__ = ("_native",)

    def __init__(self, rules: Optional[Mapping[str, Any]] = None) -> None:
        if rules is None:
            self._native = _native.Policy.default_policy()
        elif isinstance(rules, Mapping):
            self._native = _native.Policy.from_json(dumps(dict(rules), "policy"))
        else:
            type_error("policy", "a dict (use Policy.from_json for text)", rules)

    @classmethod
    def _wrap(cls, native: _native.Policy) -> Policy:
        policy = cls.__new__(cls)
        policy._native = native
        return policy

    @classmethod
    def default(cls) -> Policy:
        """The built-in default policy."""
        return cls()

    @classmethod
    def from_dict(cls, rules: Mapping[str, Any]) -> Policy:
        """A policy from a dict in the JSON format."""
        if not isinstance(rules, Mapping):
            type_error("policy", "a dict", rules)
        return cls(rules)

    @classmethod
    def from_json(cls, text: str) -> Policy:
        """A policy from JSON text."""
        return cls._wrap(_native.Policy.from_json(checked_text(text, "policy")))

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike[str]]) -> Policy:
        """A policy from a JSON file (``OSError`` if it cannot be opened).
        Reading stops at the engine's 1 MiB document limit: a larger file,
        or one that is not UTF-8, is a :class:`ValidationError`."""
        return cls._wrap(_native.Policy.from_file(os.fspath(path)))

    def to_json(self) -> str:
        """The policy as pretty JSON, with every default written out."""
        return self._native.to_json()

    def __reduce__(self) -> Any:
        # Pickled, copied and deep-copied as its JSON, like every record.
        return (Policy.from_json, (self.to_json(),))

    def to_dict(self) -> Dict[str, Any]:
        """The policy as a dict in the JSON format."""
        return json.loads(self._native.to_json())  # type: ignore[no-any-return]

    @property
    def roles(self) -> List[str]:
        """The role names the policy defines."""
        return self._native.roles()

    @property
    def allow_self_approval(self) -> bool:
        """Whether proposers may approve their own actions."""
        return self._native.allow_self_approval()

    def principal(self, id: str) -> Optional[Principal]:
        """The principal the policy's ``principals`` section names, with its
        roles, or ``None``. On a database, :meth:`ActionCenter.principal`
        asks the stored policy."""
        roles = self._native.principal_roles(checked_text(id, "id"))
        return None if roles is None else Principal(id, roles)

    def allows(
        self, principal: Principal, operation: Union[Operation, str], category: Union[Category, str]
    ) -> bool:
        """Whether ``principal`` may do ``operation`` on ``category``."""
        if not isinstance(principal, Principal):
            type_error("principal", "a Principal", principal)
        return self._native.allows(
            principal, checked_text(operation, "operation"), checked_text(category, "category")
        )

    def automation_level(
        self,
        kind: Union[Kind, str],
        category: Union[Category, str],
        source_type: Union[SourceType, str],
    ) -> AutomationLevel:
        """How much ``source_type`` may do for ``kind`` in ``category``
        without a person's approval."""
        return AutomationLevel(
            self._native.automation_level(
                checked_text(kind, "kind"),
                checked_text(category, "category"),
                checked_text(source_type, "source_type"),
            )
        )

    def quorum(self, kind: Union[Kind, str]) -> int:
        """How many distinct approvers an action of ``kind`` needs."""
        return self._native.quorum(checked_text(kind, "kind"))

    def pending_ttl(self, kind: Union[Kind, str]) -> timedelta:
        """How long an action of ``kind`` may stay pending."""
        return timedelta(seconds=self._native.pending_ttl_seconds(checked_text(kind, "kind")))

    def expiry_outcome(self, kind: Union[Kind, str]) -> ExpiryOutcome:
        """What an action of ``kind`` becomes when its approval window closes."""
        return ExpiryOutcome(self._native.expiry_outcome(checked_text(kind, "kind")))

    def max_attempts(self, kind: Union[Kind, str]) -> int:
        """How many times an action of ``kind`` may be executed (and, apart,
        how many times its undo may run)."""
        return self._native.max_attempts(checked_text(kind, "kind"))

    def allow_duplicates(self, kind: Union[Kind, str]) -> bool:
        """Whether a second active (pending, approved or running) action of
        ``kind`` on the same entity is allowed; if not, it is refused with
        :class:`DuplicateError`."""
        return self._native.allow_duplicates(checked_text(kind, "kind"))

    @property
    def digest(self) -> str:
        """SHA-256 of the policy's canonical form: what the audit trail
        records when the policy is stored."""
        return self._native.digest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Policy):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())

    def __repr__(self) -> str:
        return f"Policy(roles={self.roles!r})"


@dataclass(frozen=True)
class StoredPolicy:
    """One version of the policy stored in a database: the rules every
    handle on it enforces (:meth:`ActionCenter.policy`)."""

    version: int
    """1 for the bootstrap policy, then one more per change."""
    digest: str
    """SHA-256 of the policy's canonical form, as its audit event records it."""
    set_by: str
    """Who stored it (``"system"`` for the bootstrap policy)."""
    set_at: datetime
    policy: Policy


class ManualClock:
    """A clock that moves only when told to, for tests that must not sleep::

    clock = ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc))
    center = ActionCenter.in_memory(clock=clock)
    clock.advance(timedelta(days=8))
    center.expire_due()
    """

    __slots__ = ("_native",)

    def __init__(self, start: datetime) -> None:
        self._native = _native.ManualClock(format_time(start, "start"))

    def now(self) -> datetime:
        """The time the clock shows."""
        return parse_time(self._native.now())

    def advance(self, by: timedelta) -> None:
        """Moves the clock forward (or back, with a negative ``by``)."""
        if not isinstance(by, timedelta):
            type_error("by", "a timedelta", by)
        micros = by // timedelta(microseconds=1)
        if not _I64[0] <= micros <= _I64[1]:
            raise ValidationError(f"invalid by: {by} is beyond what the clock can move", field="by")
        self._native.advance(micros)

    def set(self, at: datetime) -> None:
        """Sets the clock to ``at``."""
        self._native.set(format_time(at, "at"))

    def __repr__(self) -> str:
        return f"ManualClock({self.now().isoformat()!r})"
