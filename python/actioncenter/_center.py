"""The engine handle: :class:`ActionCenter`."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Type, Union

from . import _convert as cv
from . import _native
from ._enums import Event, Kind, Status, Synchronous
from ._errors import StorageError, ValidationError
from ._model import (
    _ENTITIES,
    _SOURCES,
    Action,
    AuditEvent,
    AuditReport,
    Entity,
    ItemResult,
    Page,
    Principal,
    Source,
    UndoReport,
    tagged_json,
)
from ._policy import ManualClock, Policy

__all__ = ["ActionCenter"]

Id = Union[uuid.UUID, str]
"""An action id: a ``uuid.UUID``, or its text."""

Names = Union[str, Iterable[str], None]
"""A filter field: one value (a ``str`` enum member or string) or several."""

_LEASE = timedelta(minutes=5)


def _principal(by: object) -> Principal:
    if not isinstance(by, Principal):
        cv.type_error("by", "a Principal", by)
    return by


def _filter_json(
    status: Names,
    kind: Names,
    category: Names,
    source: Names,
    investigation_id: Optional[str],
    entity: Optional[str],
    created_by: Optional[str],
    decided_by: Optional[str],
    created_after: Optional[datetime],
    created_before: Optional[datetime],
) -> str:
    f: Dict[str, Any] = {
        "statuses": cv.names(status, "status"),
        "kinds": cv.names(kind, "kind"),
        "categories": cv.names(category, "category"),
        "sources": cv.names(source, "source"),
        "investigation_id": cv.optional_text(investigation_id, "investigation_id"),
        "entity": cv.optional_text(entity, "entity"),
        "created_by": cv.optional_text(created_by, "created_by"),
        "decided_by": cv.optional_text(decided_by, "decided_by"),
        "created_after": None
        if created_after is None
        else cv.format_time(created_after, "created_after"),
        "created_before": None
        if created_before is None
        else cv.format_time(created_before, "created_before"),
    }
    return json.dumps(f)


class ActionCenter:
    """The engine: propose, decide, execute and undo remediation actions.

    Open one per process and share it between threads: every storage call
    releases the GIL. Every method checks the principal's permissions and
    the policy in the engine; a refused call raises a subclass of
    :class:`ActionCenterError` and changes nothing::

        with ActionCenter.open_sqlite("actioncenter.db") as center:
            air = Principal("air", ["automation"])
            action = center.propose(
                air, Kind.QUARANTINE_FILE,
                File(sha256="ab" * 32, path="C:\\\\evil.exe", device_id="dev-1"),
                AutomatedInvestigation("inv-1"),
            )
            center.approve(Principal("alice", ["analyst"]), action.id)
    """

    __slots__ = ("_engine", "_where")

    def __init__(self, _engine: _native.Engine, _where: str) -> None:
        """Use :meth:`in_memory` or :meth:`open_sqlite`."""
        self._engine: Optional[_native.Engine] = _engine
        self._where = _where

    # ----- opening -------------------------------------------------------

    @classmethod
    def in_memory(
        cls, policy: Optional[Policy] = None, *, clock: Optional[ManualClock] = None
    ) -> ActionCenter:
        """An engine over a fresh in-memory store: for tests and short-lived
        tools. ``policy`` defaults to :meth:`Policy.default`; ``clock`` to the
        system clock."""
        return cls(_native.Engine.in_memory(_policy(policy), _clock(clock)), "memory")

    @classmethod
    def open_sqlite(
        cls,
        path: Union[str, os.PathLike[str]],
        policy: Optional[Policy] = None,
        *,
        synchronous: Union[Synchronous, str] = Synchronous.FULL,
        busy_timeout: timedelta = timedelta(seconds=10),
        pool_size: int = 4,
        clock: Optional[ManualClock] = None,
    ) -> ActionCenter:
        """An engine over the SQLite database at ``path``, created if missing,
        migrated forward if older. Safe to share between processes on one
        host. ``synchronous=Synchronous.NORMAL`` trades the durability of the
        last commits on a power cut for speed; ``busy_timeout`` is how long a
        write waits for another process's transaction.

        A file that is not an actioncenter database, or has a newer schema,
        raises :class:`StorageError` and is left untouched.
        """
        if not isinstance(path, (str, os.PathLike)):
            cv.type_error("path", "a str or os.PathLike", path)
        if not isinstance(busy_timeout, timedelta):
            cv.type_error("busy_timeout", "a timedelta", busy_timeout)
        fspath = os.fspath(path)
        engine = _native.Engine.open_sqlite(
            fspath,
            _policy(policy),
            _clock(clock),
            cv.text(synchronous, "synchronous"),
            max(0, busy_timeout // timedelta(milliseconds=1)),
            cv.integer(pool_size, "pool_size"),
        )
        return cls(engine, f"sqlite {fspath!r}")

    @classmethod
    def postgres(
        cls,
        url: str,
        policy: Optional[Policy] = None,
        *,
        pool_size: int = 4,
        clock: Optional[ManualClock] = None,
    ) -> ActionCenter:
        """An engine over a PostgreSQL database (``postgres://user@host/db``),
        shared by many hosts: executors claim with ``FOR UPDATE SKIP LOCKED``
        and every host appends to one audit chain. The schema is created or
        migrated forward on first use; a database holding a newer schema, or
        tables that are not ours, raises :class:`StorageError`.
        """
        engine = _native.Engine.open_postgres(
            cv.text(url, "url"), _policy(policy), _clock(clock), cv.integer(pool_size, "pool_size")
        )
        # The URL may carry a password: the repr names the backend only.
        return cls(engine, "postgres")

    @classmethod
    def open_postgres(
        cls,
        url: str,
        policy: Optional[Policy] = None,
        *,
        pool_size: int = 4,
        clock: Optional[ManualClock] = None,
    ) -> ActionCenter:
        """The same as :meth:`postgres`, named like :meth:`open_sqlite`."""
        return cls.postgres(url, policy, pool_size=pool_size, clock=clock)

    def close(self) -> None:
        """Releases the store (and its database connections). Calls under way
        in other threads finish; later calls raise :class:`StorageError`."""
        self._engine = None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._engine is None

    def __enter__(self) -> ActionCenter:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self._engine is None else ""
        return f"<ActionCenter {self._where}{state}>"

    @property
    def _live(self) -> _native.Engine:
        engine = self._engine
        if engine is None:
            raise StorageError("the action center is closed")
        return engine

    # ----- policy --------------------------------------------------------

    @property
    def policy(self) -> Policy:
        """The policy in force."""
        return Policy._wrap(self._live.policy())

    def set_policy(self, policy: Policy) -> None:
        """Replaces the policy. Calls under way finish with the old one."""
        if not isinstance(policy, Policy):
            cv.type_error("policy", "a Policy", policy)
        self._live.set_policy(policy._native)

    def now(self) -> datetime:
        """The engine's current time (its clock's), in UTC."""
        return cv.parse_time(self._live.now())

    # ----- proposing -----------------------------------------------------

    def propose(
        self,
        by: Principal,
        kind: Union[Kind, str],
        entity: Union[Entity, Mapping[str, Any]],
        source: Union[Source, Mapping[str, Any]],
        *,
        parameters: Optional[Mapping[str, Any]] = None,
        investigation_id: Optional[str] = None,
        incident_id: Optional[str] = None,
        alert_id: Optional[str] = None,
    ) -> Action:
        """Records a proposed action: ``PENDING`` when the policy wants a
        person's approval, ``APPROVED`` when it does not (full automation, or
        a manual response by the proposer).

        ``kind`` is a :class:`Kind` or ``"custom:<name>"``; ``entity`` and
        ``source`` are records like :class:`File` and
        :class:`AutomatedInvestigation` (or dicts in core's JSON form);
        ``parameters`` a JSON-serialisable mapping for the executor.
        """
        if parameters is not None and not isinstance(parameters, Mapping):
            cv.type_error("parameters", "a mapping", parameters)
        proposal = {
            "kind": cv.text(kind, "kind"),
            "entity": tagged_json(entity, "entity", _ENTITIES),
            "source": tagged_json(source, "source", _SOURCES),
            "investigation_id": cv.optional_text(investigation_id, "investigation_id"),
            "incident_id": cv.optional_text(incident_id, "incident_id"),
            "alert_id": cv.optional_text(alert_id, "alert_id"),
            "parameters": {} if parameters is None else dict(parameters),
        }
        return self._live.propose(_principal(by), cv.dumps(proposal, "proposal"))

    # ----- deciding ------------------------------------------------------

    def approve(
        self,
        by: Principal,
        id: Id,
        *,
        comment: Optional[str] = None,
        expected_version: Optional[int] = None,
    ) -> Action:
        """Approves a pending action. Short of the kind's quorum the approval
        is recorded and the action stays ``PENDING``.

        With ``expected_version`` (the ``version`` you saw), the approval
        raises :class:`Conflict` if the action changed since.
        """
        return self._live.approve(
            _principal(by),
            cv.action_id(id),
            cv.optional_text(comment, "comment"),
            _version(expected_version),
        )

    def reject(
        self, by: Principal, id: Id, *, comment: str, expected_version: Optional[int] = None
    ) -> Action:
        """Rejects a pending action; the comment is required."""
        return self._live.reject(
            _principal(by),
            cv.action_id(id),
            cv.text(comment, "comment"),
            _version(expected_version),
        )

    def cancel(self, by: Principal, id: Id, *, comment: str) -> Action:
        """Cancels a pending or approved action: the proposer may, others need
        the cancel permission. The comment is required."""
        return self._live.cancel(_principal(by), cv.action_id(id), cv.text(comment, "comment"))

    def retry(self, by: Principal, id: Id, *, comment: Optional[str] = None) -> Action:
        """Sends a failed action back to the executors' queue, within the
        kind's maximum number of attempts."""
        return self._live.retry(
            _principal(by), cv.action_id(id), cv.optional_text(comment, "comment")
        )

    # ----- executing -----------------------------------------------------

    def claim(
        self,
        by: Principal,
        *,
        limit: int = 1,
        lease: Union[timedelta, int] = _LEASE,
        kinds: Names = None,
    ) -> List[Action]:
        """Takes up to ``limit`` actions waiting for an executor (approved
        ones, and undos) with a ``lease`` (default five minutes) that
        :meth:`heartbeat` renews. Concurrent executors never get the same
        action. ``kinds`` limits the claim to some kinds."""
        return self._live.claim(
            _principal(by),
            cv.integer(limit, "limit"),
            cv.seconds(lease, "lease"),
            cv.names(kinds, "kinds"),
        )

    def heartbeat(self, by: Principal, id: Id, *, lease: Union[timedelta, int] = _LEASE) -> Action:
        """Renews the lease the executor holds on an action."""
        return self._live.heartbeat(_principal(by), cv.action_id(id), cv.seconds(lease, "lease"))

    def complete(self, by: Principal, id: Id, result: Any = None) -> Action:
        """Records that the executor carried the action (or its undo) out;
        ``result`` is any JSON-serialisable value."""
        return self._live.complete(_principal(by), cv.action_id(id), cv.dumps(result, "result"))

    def fail(self, by: Principal, id: Id, error: str) -> Action:
        """Records that the action (or its undo) failed; ``error`` is
        required."""
        return self._live.fail(_principal(by), cv.action_id(id), cv.text(error, "error"))

    # ----- undoing -------------------------------------------------------

    def undo(
        self, by: Principal, id: Id, *, comment: str, all_instances: bool = False
    ) -> UndoReport:
        """Asks for a completed action to be undone: it becomes ``UNDOING``
        and an executor runs its inverse. The comment is required.

        With ``all_instances``, a quarantined file is restored everywhere:
        every other completed quarantine of the same SHA-256 is undone too,
        each checked on its own, with one :class:`ItemResult` each.
        """
        if not isinstance(all_instances, bool):
            cv.type_error("all_instances", "a bool", all_instances)
        action, instances = self._live.undo(
            _principal(by), cv.action_id(id), cv.text(comment, "comment"), all_instances
        )
        return UndoReport(action, tuple(ItemResult(*i) for i in instances))

    def undo_instances(self, by: Principal, id: Id) -> List[Action]:
        """The other completed quarantines of the same file that
        ``undo(..., all_instances=True)`` would also undo."""
        return self._live.undo_instances(_principal(by), cv.action_id(id))

    # ----- bulk ----------------------------------------------------------

    def bulk(
        self,
        by: Principal,
        op: Union[Event, str],
        ids: Optional[Iterable[Id]] = None,
        *,
        comment: Optional[str] = None,
        status: Names = None,
        kind: Names = None,
        category: Names = None,
        source: Names = None,
        investigation_id: Optional[str] = None,
        entity: Optional[str] = None,
        created_by: Optional[str] = None,
        decided_by: Optional[str] = None,
        created_after: Optional[datetime] = None,
        created_before: Optional[datetime] = None,
    ) -> List[ItemResult]:
        """Runs one operation (``Event.APPROVE``, ``REJECT``, ``CANCEL``,
        ``RETRY`` or ``UNDO``) over many actions: the ``ids`` given, or every
        action the filter keywords match that can take the operation (at most
        10,000). Each item goes through the same checks as the single call
        and gets its own :class:`ItemResult`; a failed item never undoes the
        others. Reject, cancel and undo need a ``comment``.
        """
        op_fields: Dict[str, Any] = {"op": cv.text(op, "op")}
        if comment is not None:
            op_fields["comment"] = cv.text(comment, "comment")
        op_json = cv.dumps(op_fields, "op")
        filter_json = _filter_json(
            status,
            kind,
            category,
            source,
            investigation_id,
            entity,
            created_by,
            decided_by,
            created_after,
            created_before,
        )
        if ids is not None:
            if isinstance(ids, (str, uuid.UUID)) or not isinstance(ids, Iterable):
                cv.type_error("ids", "an iterable of ids", ids)
            if filter_json != _NO_FILTER:
                raise TypeError("bulk() takes ids or filter keywords, not both")
            id_list = [cv.action_id(i, "each id") for i in ids]
            items = self._live.bulk(_principal(by), op_json, id_list, None)
        else:
            items = self._live.bulk(_principal(by), op_json, None, filter_json)
        return [ItemResult(*i) for i in items]

    # ----- reading -------------------------------------------------------

    def get(self, by: Principal, id: Id) -> Action:
        """One action; :class:`NotFound` (a ``KeyError``) if there is none."""
        return self._live.get(_principal(by), cv.action_id(id))

    def resolve_id(self, prefix: str) -> uuid.UUID:
        """The id of the action whose id starts with ``prefix`` (4+ hex
        digits, like git's short ids). An ambiguous prefix raises
        :class:`ValidationError` listing the candidates. Ids made within a
        minute share their first 8 digits: show people :meth:`short_ids`."""
        return self._live.resolve_id(cv.text(prefix, "prefix"))

    def short_ids(self, ids: Iterable[Id]) -> List[str]:
        """The short id of each action, in order: the shortest prefix of its
        id (8 characters or more) that :meth:`resolve_id` resolves to it
        alone. Ids made within about a minute share their first 8 hex digits,
        so show people these rather than a fixed-length prefix; they may grow
        as more actions are stored. :class:`NotFound` for an id not stored."""
        id_list = [cv.action_id(i, "each id") for i in ids]
        return self._live.short_ids(id_list)

    def short_id(self, id: Id) -> str:
        """The short id of one action (see :meth:`short_ids`)."""
        return self.short_ids([id])[0]

    def list(
        self,
        by: Principal,
        *,
        status: Names = None,
        kind: Names = None,
        category: Names = None,
        source: Names = None,
        investigation_id: Optional[str] = None,
        entity: Optional[str] = None,
        created_by: Optional[str] = None,
        decided_by: Optional[str] = None,
        created_after: Optional[datetime] = None,
        created_before: Optional[datetime] = None,
        limit: int = 50,
        cursor: Optional[str] = None,
    ) -> Page:
        """One page of the actions ``by`` may view, newest first.

        Each filter keyword takes one value or several (any of them
        matches): ``status=Status.PENDING`` is the Pending tab. ``entity``
        matches the target's key (device id, file hash, user id, URL...) or
        its device. Pass the page's ``next_cursor`` as ``cursor`` for the
        next page, or iterate with :meth:`actions`.
        """
        filter_json = _filter_json(
            status,
            kind,
            category,
            source,
            investigation_id,
            entity,
            created_by,
            decided_by,
            created_after,
            created_before,
        )
        items, next_cursor = self._live.list(
            _principal(by),
            filter_json,
            cv.integer(limit, "limit"),
            cv.optional_text(cursor, "cursor"),
        )
        return Page(tuple(items), next_cursor)

    def actions(
        self,
        by: Principal,
        *,
        status: Names = None,
        kind: Names = None,
        category: Names = None,
        source: Names = None,
        investigation_id: Optional[str] = None,
        entity: Optional[str] = None,
        created_by: Optional[str] = None,
        decided_by: Optional[str] = None,
        created_after: Optional[datetime] = None,
        created_before: Optional[datetime] = None,
        page_size: int = 100,
    ) -> Iterator[Action]:
        """Every action :meth:`list` would show, newest first, read a page of
        ``page_size`` at a time. Actions created while iterating do not
        shift the pages."""
        cursor: Optional[str] = None
        while True:
            page = self.list(
                by,
                status=status,
                kind=kind,
                category=category,
                source=source,
                investigation_id=investigation_id,
                entity=entity,
                created_by=created_by,
                decided_by=decided_by,
                created_after=created_after,
                created_before=created_before,
                limit=page_size,
                cursor=cursor,
            )
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def counts(
        self,
        by: Principal,
        *,
        status: Names = None,
        kind: Names = None,
        category: Names = None,
        source: Names = None,
        investigation_id: Optional[str] = None,
        entity: Optional[str] = None,
        created_by: Optional[str] = None,
        decided_by: Optional[str] = None,
        created_after: Optional[datetime] = None,
        created_before: Optional[datetime] = None,
    ) -> Dict[Status, int]:
        """How many actions ``by`` may view are in each status (every status
        is a key), with the same filter keywords as :meth:`list`."""
        filter_json = _filter_json(
            status,
            kind,
            category,
            source,
            investigation_id,
            entity,
            created_by,
            decided_by,
            created_after,
            created_before,
        )
        return self._live.counts(_principal(by), filter_json)

    def history_of(self, by: Principal, id: Id) -> List[AuditEvent]:
        """The audit events of one action, oldest first."""
        return self._live.history_of(_principal(by), cv.action_id(id))

    def events_since(self, by: Principal, seq: int = 0, *, limit: int = 100) -> List[AuditEvent]:
        """The change feed: audit events after sequence number ``seq``,
        oldest first, at most ``limit`` (1 to 1000). Follow the engine from
        any process by passing the last ``seq`` seen. Needs view on every
        category."""
        seq = cv.integer(seq, "seq")
        if seq < 0:
            raise ValidationError(f"invalid seq: must not be negative, got {seq}", field="seq")
        limit = cv.integer(limit, "limit")
        if limit < 0:
            raise ValidationError(
                f"invalid limit: must not be negative, got {limit}", field="limit"
            )
        return self._live.events_since(_principal(by), seq, limit)

    def verify_audit(self) -> AuditReport:
        """Recomputes the audit trail's hash chain and reports the first event
        that does not match (``report.intact`` when none)."""
        return self._live.verify_audit()

    # ----- sweeps --------------------------------------------------------

    def expire_due(self) -> List[Action]:
        """Moves every pending action whose approval window has closed to its
        kind's expiry outcome; returns the actions moved. Run it
        periodically, from any number of processes."""
        return self._live.expire_due()

    def recover_leases(self) -> List[Action]:
        """Returns every action whose executor's lease ran out to the queue;
        returns the actions moved. Run it periodically."""
        return self._live.recover_leases()


_NO_FILTER = _filter_json(None, None, None, None, None, None, None, None, None, None)


def _policy(policy: Optional[Policy]) -> Optional[_native.Policy]:
    if policy is None:
        return None
    if not isinstance(policy, Policy):
        cv.type_error("policy", "a Policy (see Policy.from_dict, from_json, from_file)", policy)
    return policy._native


def _clock(clock: Optional[ManualClock]) -> Optional[_native.ManualClock]:
    if clock is None:
        return None
    if not isinstance(clock, ManualClock):
        cv.type_error("clock", "a ManualClock", clock)
    return clock._native


def _version(expected_version: Optional[int]) -> Optional[int]:
    return None if expected_version is None else cv.integer(expected_version, "expected_version")
