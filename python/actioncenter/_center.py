"""The engine handle: :class:`ActionCenter`."""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime, timedelta
from types import TracebackType
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Tuple,
    Type,
    Union,
)

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
    BulkPreview,
    Checkpoint,
    Entity,
    ItemResult,
    Page,
    Principal,
    Seen,
    Source,
    UndoReport,
    tagged_json,
)
from ._policy import ManualClock, Policy, StoredPolicy

__all__ = ["ActionCenter"]

Id = Union[uuid.UUID, str]
"""An action id: a ``uuid.UUID``, or its text."""

ActionRef = Union[Action, uuid.UUID, str]
"""An action: the :class:`Action` record you were shown, or its id (a
``uuid.UUID`` or its text, or a unique prefix of it)."""

SeenRef = Union[Action, Seen, Tuple[Id, int]]
"""An action at the version you were shown: the :class:`Action` itself,
or a :class:`Seen` / ``(id, version)`` pair."""

Pem = Union[str, bytes]
"""A key in PEM text (``str`` or ``bytes``)."""

Names = Union[str, Iterable[str], None]
"""A filter field: one value (a ``str`` enum member or string) or several."""

_LEASE = timedelta(minutes=5)


def _principal(by: object, name: str = "by") -> Principal:
    if not isinstance(by, Principal):
        cv.type_error(name, "a Principal", by)
    return by


def _ref(action: object, name: str = "action") -> ActionRef:
    """An :class:`Action` or id argument as the native verbs take it: the
    record itself, whose id (and, for a decision, version) they read from
    the engine's value without building the fields, or the id."""
    if isinstance(action, (Action, uuid.UUID, str)):
        return action
    cv.type_error(name, "an Action, a uuid.UUID or a str", action)


def _id(action: object, name: str = "action") -> Id:
    """The id of an :class:`Action` or id argument."""
    ref = _ref(action, name)
    return ref.id if isinstance(ref, Action) else ref


def _expected(expected_version: Optional[int]) -> Optional[int]:
    """The version a decision expects, when given. Without one, a decision
    on an :class:`Action` expects that action's version (what the caller
    was shown): the native verb reads it from the record."""
    if expected_version is None:
        return None
    return cv.integer(expected_version, "expected_version", cv.U64)


def _seen(items: object, name: str) -> List[Tuple[Id, int]]:
    """Actions at the versions seen, as ``(id, version)`` pairs for core."""
    if isinstance(items, (str, bytes, uuid.UUID, Action)) or not isinstance(items, Iterable):
        cv.type_error(name, "an iterable of Actions or (id, version) pairs", items)
    out: List[Tuple[Id, int]] = []
    for item in items:
        if isinstance(item, Action):
            out.append((item.id, item.version))
        elif isinstance(item, tuple) and len(item) == 2:
            id, version = item
            out.append(
                (cv.action_id(id, f"each {name} id"), cv.integer(version, "version", cv.U64))
            )
        else:
            cv.type_error(f"each {name}", "an Action or an (id, version) pair", item)
    return out


def _lease_token(action: object, lease_token: Optional[str], verb: str) -> str:
    """The lease token to present: the one given, else the claimed
    :class:`Action`'s. An id alone carries none."""
    if lease_token is not None:
        return cv.text(lease_token, "lease_token")
    if isinstance(action, Action):
        # An action with no lease (not the claimed one) presents no token,
        # and core says what is wrong with that.
        return action.lease_token or ""
    raise TypeError(
        f"{verb}() needs the claimed Action, or lease_token= with an id "
        "(the token of the claim: action.lease_token)"
    )


def _pem(value: object, name: str) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError(f"invalid {name}: the PEM is not UTF-8", field=name) from None
    if not isinstance(value, str):
        cv.type_error(name, "PEM text (str or bytes)", value)
    return value


def _stored(native: Tuple[int, str, str, datetime, _native.Policy]) -> StoredPolicy:
    version, digest, set_by, set_at, policy = native
    return StoredPolicy(version, digest, set_by, set_at, Policy._wrap(policy))


def _principal_of(native: Tuple[str, List[str], Optional[str]]) -> Principal:
    id, roles, via = native
    return Principal(id, roles, via=via)


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
    releases the GIL. Every method checks the principal's permissions
    against the policy stored in the database (:meth:`policy`), which every
    handle on it enforces; a refused call raises a subclass of
    :class:`ActionCenterError` and changes nothing.

    Verbs take the action as the :class:`Action` you were shown or as its
    id. An ``Action`` stands for what you saw: a decision or an undo on it
    applies only while it is still at that version (:class:`Conflict`
    otherwise), and the executor verbs present the lease token of the
    claimed action. Wrong argument types raise ``TypeError``; wrong values
    :class:`ValidationError`::

        with ActionCenter.open_sqlite("actioncenter.db") as center:
            air = Principal("air", ["automation"])
            action = center.propose(
                air, Kind.QUARANTINE_FILE,
                File(sha256="ab" * 32, path="C:\\\\evil.exe", device_id="dev-1"),
                AutomatedInvestigation("inv-1"),
            )
            center.approve(Principal("alice", ["analyst"]), action)
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
        tools. ``policy`` (default :meth:`Policy.default`) is the store's
        first stored policy; ``clock`` defaults to the system clock."""
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

        ``policy`` is a bootstrap: it is stored only into a database that
        holds no policy yet (default :meth:`Policy.default`). A database that
        has one keeps it, whatever is passed here; every handle enforces the
        stored policy, which :meth:`set_policy` changes.

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
            min(max(0, busy_timeout // timedelta(milliseconds=1)), cv.U64[1]),
            cv.integer(pool_size, "pool_size", _U32),
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
        tables that are not ours, raises :class:`StorageError`. ``policy`` is
        a bootstrap, as for :meth:`open_sqlite`.
        """
        engine = _native.Engine.open_postgres(
            cv.text(url, "url"),
            _policy(policy),
            _clock(clock),
            cv.integer(pool_size, "pool_size", _U32),
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

    # ----- policy and principals ---------------------------------------

    def policy(self) -> StoredPolicy:
        """The policy stored in the database, in force for every handle on
        it: its ``version``, ``digest``, who set it and when, and the
        :class:`Policy` itself (``center.policy().policy``)."""
        return _stored(self._live.policy())

    def set_policy(
        self,
        by: Principal,
        policy: Policy,
        *,
        expected_version: Optional[int] = None,
        comment: Optional[str] = None,
    ) -> StoredPolicy:
        """Stores ``policy`` as the database's next policy version, for every
        handle on it. Needs the administer permission on every category; the
        change is an audit event (``Event.SET_POLICY``) carrying the new
        policy's digest and ``comment``. With ``expected_version`` (the
        version you read), the call raises :class:`Conflict` (``what ==
        "policy"``) if someone changed the policy since, and stores nothing.
        """
        if not isinstance(policy, Policy):
            cv.type_error("policy", "a Policy", policy)
        return _stored(
            self._live.set_policy(
                _principal(by),
                policy._native,
                _version(expected_version),
                cv.optional_text(comment, "comment"),
            )
        )

    def policy_history(self, by: Principal) -> List[StoredPolicy]:
        """Every version of the stored policy, oldest first (version 1 is the
        bootstrap). Needs the view permission on some category."""
        return [_stored(p) for p in self._live.policy_history(_principal(by))]

    def principal(self, id: str) -> Principal:
        """The principal ``id`` with the roles the stored policy's
        ``principals`` section gives it; :class:`PermissionDenied` if it
        names no such principal. How a host that knows a caller by name
        alone (a login, a service account) makes its principal."""
        return _principal_of(self._live.principal(cv.text(id, "id")))

    def impersonate(self, real: Principal, as_id: str) -> Principal:
        """``real`` acting as the stored policy's principal ``as_id``: that
        principal, with ``via`` set to ``real.id``. Needs the administer
        permission on every category for ``real``; every event and decision
        the returned principal causes records both ("root as dana")."""
        return _principal_of(
            self._live.impersonate(_principal(real, "real"), cv.text(as_id, "as_id"))
        )

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
        comment: Optional[str] = None,
        idempotency_key: Optional[str] = None,
    ) -> Action:
        """Records a proposed action: ``PENDING`` when the policy wants a
        person's approval, ``APPROVED`` when it does not (full automation, or
        a manual response by the proposer).

        ``kind`` is a :class:`Kind` or ``"custom:<name>"``; ``entity`` and
        ``source`` are records like :class:`File` and
        :class:`AutomatedInvestigation` (or dicts in core's JSON form);
        ``parameters`` a JSON-serialisable mapping for the executor, kept
        exactly (an ``int`` beyond 64 bits is refused, not rounded);
        ``comment`` says why, for the audit trail.

        With ``idempotency_key``, a retry of the same proposal returns the
        action the first one made; the same key with another proposal raises
        :class:`DuplicateError`. A key is its proposer's own: another
        principal's proposal under the same key is a proposal of its own.
        While an action of the same kind on the same
        entity is pending, approved or running, another one raises
        :class:`DuplicateError` naming it (``existing``), unless the policy
        allows duplicates for the kind.
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
            "comment": cv.optional_text(comment, "comment"),
            "idempotency_key": cv.optional_text(idempotency_key, "idempotency_key"),
        }
        return self._live.propose(_principal(by), cv.dumps(proposal, "proposal"))

    # ----- deciding ------------------------------------------------------

    def approve(
        self,
        by: Principal,
        action: ActionRef,
        *,
        comment: Optional[str] = None,
        expected_version: Optional[int] = None,
    ) -> Action:
        """Approves a pending action. Short of the kind's quorum the approval
        is recorded and the action stays ``PENDING``.

        Given the :class:`Action` you were shown, or an ``expected_version``,
        the approval raises :class:`Conflict` if the action changed since.
        """
        return self._live.approve(
            _principal(by),
            _ref(action),
            cv.optional_text(comment, "comment"),
            _expected(expected_version),
        )

    def reject(
        self,
        by: Principal,
        action: ActionRef,
        *,
        comment: str,
        expected_version: Optional[int] = None,
    ) -> Action:
        """Rejects a pending action; the comment is required. Versions as for
        :meth:`approve`."""
        return self._live.reject(
            _principal(by),
            _ref(action),
            cv.text(comment, "comment"),
            _expected(expected_version),
        )

    def cancel(self, by: Principal, action: ActionRef, *, comment: str) -> Action:
        """Cancels a pending or approved action: the proposer may, others need
        the cancel permission. The comment is required."""
        return self._live.cancel(_principal(by), _ref(action), cv.text(comment, "comment"))

    def retry(self, by: Principal, action: ActionRef, *, comment: Optional[str] = None) -> Action:
        """Sends a failed action back to the executors' queue, within the
        kind's maximum number of attempts."""
        return self._live.retry(_principal(by), _ref(action), cv.optional_text(comment, "comment"))

    # ----- executing -----------------------------------------------------

    def claim(
        self,
        executor: Principal,
        *,
        limit: int = 1,
        lease: Union[timedelta, int] = _LEASE,
        kinds: Names = None,
    ) -> List[Action]:
        """Takes up to ``limit`` actions waiting for an executor (approved
        ones, and undos) with a ``lease`` (default five minutes) that
        :meth:`heartbeat` renews. Concurrent executors never get the same
        action. ``kinds`` limits the claim to some kinds: at least one (an
        empty list is a :class:`ValidationError`, not "any kind").

        Each claimed action carries a fresh ``lease_token``: pass the claimed
        action itself to :meth:`heartbeat`, :meth:`complete` and
        :meth:`fail`, which present it."""
        return self._live.claim(
            _principal(executor, "executor"),
            cv.integer(limit, "limit"),
            cv.seconds(lease, "lease"),
            None if kinds is None else cv.names(kinds, "kinds"),
        )

    def heartbeat(
        self,
        executor: Principal,
        action: ActionRef,
        *,
        lease: Union[timedelta, int] = _LEASE,
        lease_token: Optional[str] = None,
    ) -> Action:
        """Renews the lease the executor holds on an action. Renewals are not
        audit events. The lease token is the claimed action's, or
        ``lease_token`` (needed when ``action`` is an id)."""
        return self._live.heartbeat(
            _principal(executor, "executor"),
            _ref(action),
            _lease_token(action, lease_token, "heartbeat"),
            cv.seconds(lease, "lease"),
        )

    def complete(
        self,
        executor: Principal,
        action: ActionRef,
        result: Any = None,
        *,
        lease_token: Optional[str] = None,
    ) -> Action:
        """Records that the executor carried the action (or its undo) out;
        ``result`` is any JSON-serialisable value.

        Only the current lease may finish the action: pass the claimed
        action (its ``lease_token`` is presented) or ``lease_token=`` with an
        id. A token from an earlier claim (the lease ran out and the action
        was claimed again) raises :class:`ExpiredError` (``what ==
        "lease_token"``) and changes nothing."""
        return self._live.complete(
            _principal(executor, "executor"),
            _ref(action),
            _lease_token(action, lease_token, "complete"),
            cv.dumps(result, "result"),
        )

    def fail(
        self,
        executor: Principal,
        action: ActionRef,
        error: str,
        *,
        lease_token: Optional[str] = None,
    ) -> Action:
        """Records that the action (or its undo) failed; ``error`` is
        required. The lease token as for :meth:`complete`."""
        return self._live.fail(
            _principal(executor, "executor"),
            _ref(action),
            _lease_token(action, lease_token, "fail"),
            cv.text(error, "error"),
        )

    # ----- undoing -------------------------------------------------------

    def undo(
        self,
        by: Principal,
        action: ActionRef,
        comment: str,
        *,
        instances: Iterable[SeenRef] = (),
        expected_version: Optional[int] = None,
    ) -> UndoReport:
        """Asks for a completed action to be undone: it becomes ``UNDOING``
        and an executor runs its inverse. The comment is required. Versions
        as for :meth:`approve`.

        ``instances`` are the other quarantines of the same file the person
        confirmed ("apply to N more instances"), as :meth:`undo_instances`
        showed them: each is undone too, checked on its own and only while
        at the version shown, with one :class:`ItemResult` each. Nothing
        else is undone::

            others = center.undo_instances(alice, action)
            # ... the analyst confirms ...
            center.undo(alice, action, "false positive", instances=others)
        """
        target = _ref(action)
        version = _expected(expected_version)
        seen = _seen(instances, "instances")
        undone, items = self._live.undo(
            _principal(by), target, cv.text(comment, "comment"), version, seen
        )
        return UndoReport(undone, tuple(ItemResult(*i) for i in items))

    def undo_instances(self, by: Principal, action: ActionRef) -> List[Action]:
        """The other completed quarantines of the same file that an undo of
        ``action`` may also undo: what to show before the person confirms
        (pass them to :meth:`undo` as ``instances``)."""
        return self._live.undo_instances(_principal(by), _ref(action))

    # ----- bulk ----------------------------------------------------------

    def preview_bulk(
        self,
        by: Principal,
        op: Union[Event, str],
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
    ) -> BulkPreview:
        """What :meth:`bulk` by these filter keywords (as for :meth:`list`)
        would act on now: every matching action ``by`` may view that can take
        ``op`` (at most 10,000), with a snapshot token. Show it, then pass
        it to :meth:`bulk`::

            preview = center.preview_bulk(alice, Event.REJECT, investigation_id="inv-7")
            # ... "reject these 3 actions?" ...
            center.bulk(alice, Event.REJECT, preview, comment="benign")
        """
        op_name = cv.text(op, "op")
        # The selection depends on the operation's event alone; core's
        # BulkOp wants a comment for some, which the preview does not use.
        op_json = cv.dumps({"op": op_name, "comment": ""}, "op")
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
        count, snapshot, items = self._live.preview_bulk(_principal(by), op_json, filter_json)
        return BulkPreview(
            count, snapshot, tuple(Seen(*i) for i in items), _op=op_name, _filter=filter_json
        )

    def bulk(
        self,
        by: Principal,
        op: Union[Event, str],
        selection: Union[BulkPreview, Iterable[SeenRef]],
        *,
        comment: Optional[str] = None,
    ) -> List[ItemResult]:
        """Runs one operation (``Event.APPROVE``, ``REJECT``, ``CANCEL``,
        ``RETRY`` or ``UNDO``) over many actions, each at the version the
        caller saw. Each item goes through the same checks as the single
        call and gets its own :class:`ItemResult`; a failed item never undoes
        the others. Reject, cancel and undo need a ``comment``.

        ``selection`` is either the actions you showed (:class:`Action`
        records, or :class:`Seen` / ``(id, version)`` pairs; an item changed
        since fails with :class:`Conflict`), or a :class:`BulkPreview` from
        :meth:`preview_bulk` for the same ``op``: if the filter no longer
        selects exactly what was previewed, the call raises
        :class:`Conflict` (``what == "selection"``, ``previewed`` and
        ``now`` counts) and nothing is done.
        """
        op_name = cv.text(op, "op")
        op_fields: Dict[str, Any] = {"op": op_name}
        if comment is not None:
            op_fields["comment"] = cv.text(comment, "comment")
        op_json = cv.dumps(op_fields, "op")
        if isinstance(selection, BulkPreview):
            if selection._op != op_name:
                raise ValidationError(
                    f"invalid selection: the preview was made for {selection._op}, not {op_name}",
                    field="selection",
                )
            items = self._live.bulk(
                _principal(by), op_json, None, selection._filter, selection.snapshot
            )
        else:
            seen = _seen(selection, "selection")
            items = self._live.bulk(_principal(by), op_json, seen, None, None)
        return [ItemResult(*i) for i in items]

    # ----- reading -------------------------------------------------------

    def get(self, by: Principal, action: ActionRef) -> Action:
        """One action as stored now; :class:`NotFound` (a ``KeyError``) if
        there is none."""
        return self._live.get(_principal(by), _ref(action))

    def resolve_id(self, prefix: str, *, by: Optional[Principal] = None) -> uuid.UUID:
        """The id of the action whose id starts with ``prefix`` (4+ hex
        digits, like git's short ids). An ambiguous prefix raises
        :class:`ValidationError` listing the candidates. Ids made within a
        minute share their first 8 digits: show people :meth:`short_ids`.

        With ``by``, only the actions ``by`` may view count: a prefix finds
        no action of a category ``by`` may not view (:class:`NotFound`), and
        an ambiguous one names none. Pass it when the prefix comes from
        someone else (a chat command, a ticket)."""
        text = cv.text(prefix, "prefix")
        if by is None:
            return self._live.resolve_id(text)
        return self._live.resolve_id_for(_principal(by), text)

    def short_ids(self, ids: Iterable[ActionRef]) -> List[str]:
        """The short id of each action, in order: the shortest prefix of its
        id (8 characters or more) that :meth:`resolve_id` resolves to it
        alone. Ids made within about a minute share their first 8 hex digits,
        so show people these rather than a fixed-length prefix; they may grow
        as more actions are stored. :class:`NotFound` for an id not stored."""
        id_list = [str(_id(i, "each id")) for i in ids]
        return self._live.short_ids(id_list)

    def short_id(self, id: ActionRef) -> str:
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

    def history_of(self, by: Principal, action: ActionRef) -> List[AuditEvent]:
        """The audit events of one action, oldest first."""
        return self._live.history_of(_principal(by), _ref(action))

    def events_since(self, by: Principal, seq: int = 0, *, limit: int = 100) -> List[AuditEvent]:
        """The change feed: audit events after sequence number ``seq``,
        oldest first, at most ``limit`` (1 to 1000). Follow the engine from
        any process by passing the last ``seq`` seen. Needs view on every
        category. Changes of the stored policy are in the feed too
        (``Event.SET_POLICY``, with no ``action_id``)."""
        seq = cv.integer(seq, "seq", cv.U64)
        limit = cv.integer(limit, "limit")
        if limit < 0:
            raise ValidationError(
                f"invalid limit: must not be negative, got {limit}", field="limit"
            )
        return self._live.events_since(_principal(by), seq, limit)

    def verify_audit(
        self,
        public_key: Optional[Pem] = None,
        checkpoint: Union[Checkpoint, str, bytes, None] = None,
    ) -> AuditReport:
        """Checks the whole record: the hash chain of events, that each
        action's events are moves the state machine allows, every stored
        action row against its last event (version and digest), the stored
        policy against its last change, and the stored checkpoints. The
        report names the first event, action or checkpoint that does not
        match (``report.problem`` in words; ``report.intact`` when none).

        ``public_key`` (the checkpoint signer's, SPKI PEM) also checks every
        stored checkpoint's signature; ``checkpoint`` (a :class:`Checkpoint`,
        or its exported JSON, kept outside the database; needs
        ``public_key``) must still match the chain and be stored. Together
        they detect a trail cut below the checkpoint, or rewritten and
        re-hashed before it."""
        key = None if public_key is None else _pem(public_key, "public_key")
        if checkpoint is None:
            exported = None
        elif isinstance(checkpoint, Checkpoint):
            exported = checkpoint._json()
        elif isinstance(checkpoint, bytes):
            exported = _pem(checkpoint, "checkpoint")
        elif isinstance(checkpoint, str):
            exported = checkpoint
        else:
            cv.type_error("checkpoint", "a Checkpoint or its JSON text", checkpoint)
        return self._live.verify_audit(key, exported)

    def checkpoint(self, by: Principal, signing_key: Pem) -> Checkpoint:
        """Signs the audit trail's head with ``signing_key`` (an Ed25519
        private key in PKCS#8 PEM, e.g. from :func:`generate_key`) and stores
        the checkpoint. Needs the administer permission on every category.
        The key stays with the caller: only its public half and the
        signature are stored. Export the result (``cp.to_json()``) outside
        the database to detect truncation later."""
        return self._live.checkpoint(_principal(by), _pem(signing_key, "signing_key"))

    def checkpoints(self, by: Principal) -> List[Checkpoint]:
        """Every stored checkpoint, oldest first. Needs the view permission
        on some category."""
        return self._live.checkpoints(_principal(by))

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
    if expected_version is None:
        return None
    return cv.integer(expected_version, "expected_version", cv.U64)


_U32 = (0, 2**32 - 1)
