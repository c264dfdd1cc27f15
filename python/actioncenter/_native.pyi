"""The compiled engine behind the ``actioncenter`` package. Private: use
``actioncenter`` instead.

Answers are the package's own records (``Action``, ``AuditEvent``...),
built in Rust; arguments are plain values, ids ``uuid.UUID`` or their
text, and nested documents (proposals, filters, bulk operations, results)
core's JSON text. Checked against the built module by ``mypy.stubtest``.
"""

import uuid
from datetime import datetime
from typing import (
    Any,
    Dict,
    Iterable,
    List,
    Optional,
    Protocol,
    Sequence,
    Tuple,
    Union,
    final,
)

from ._enums import Status
from ._errors import ActionCenterError
from ._model import Action, AuditEvent, AuditReport, Checkpoint

__all__ = [
    "BuiltField",
    "Engine",
    "ManualClock",
    "Policy",
    "__version__",
    "checkpoint_json",
    "describe_entity",
    "describe_source",
    "generate_key",
    "parse_checkpoint",
    "principal_shown",
    "vocabulary",
]

__version__: str

class _Principal(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def roles(self) -> Sequence[str]: ...
    @property
    def via(self) -> Optional[str]: ...

_Id = Union[uuid.UUID, str]
# An action as the verbs take it: an id, or the record, whose id (and, for
# a decision without expected_version, version) is read from it.
_Ref = Union[Action, uuid.UUID, str]
_Item = Tuple[uuid.UUID, Optional[Action], Optional[ActionCenterError]]
_Seen = Iterable[Tuple[_Id, int]]
_StoredPolicy = Tuple[int, str, str, datetime, Policy]
_PrincipalTuple = Tuple[str, List[str], Optional[str]]

def vocabulary() -> str:
    """The engine's words (statuses, kinds with their category and inverse,
    events, categories, source types, operations, error kinds) as JSON."""

def generate_key() -> Tuple[str, str]:
    """A fresh Ed25519 key pair: (private PKCS#8 PEM, public SPKI PEM)."""

def parse_checkpoint(text: str) -> Checkpoint:
    """An exported checkpoint's JSON, checked by core."""

def checkpoint_json(text: str) -> str:
    """A checkpoint's JSON in core's export form."""

def describe_entity(entity: str) -> str:
    """core's description of a target in its JSON form."""

def describe_source(source: str) -> str:
    """core's description of a source in its JSON form."""

def principal_shown(principal: _Principal) -> str:
    """core's "root as dana" form of a principal."""

@final
class BuiltField:
    """A field of ``Action``, built from core's value when first read on an
    instance and then kept in its ``__dict__``; the class reads the field's
    default, if it has one."""

    def __new__(cls, name: str, *default: Any) -> BuiltField: ...
    def __get__(self, instance: Any, owner: Optional[type] = None, /) -> Any: ...

@final
class ManualClock:
    """core's ManualClock."""

    def __new__(cls, start: str) -> ManualClock: ...
    def now(self) -> str: ...
    def advance(self, microseconds: int) -> None: ...
    def set(self, at: str) -> None: ...

@final
class Policy:
    """core's Policy, immutable."""

    @staticmethod
    def from_json(text: str) -> Policy: ...
    @staticmethod
    def from_file(path: str) -> Policy: ...
    @staticmethod
    def default_policy() -> Policy: ...
    def to_json(self) -> str: ...
    def roles(self) -> List[str]: ...
    def principal_roles(self, id: str) -> Optional[List[str]]: ...
    def allows(self, by: _Principal, operation: str, category: str) -> bool: ...
    def automation_level(self, kind: str, category: str, source_type: str) -> str: ...
    def allow_self_approval(self) -> bool: ...
    def quorum(self, kind: str) -> int: ...
    def pending_ttl_seconds(self, kind: str) -> int: ...
    def expiry_outcome(self, kind: str) -> str: ...
    def max_attempts(self, kind: str) -> int: ...
    def allow_duplicates(self, kind: str) -> bool: ...
    def digest(self) -> str: ...

@final
class Engine:
    """core's ActionCenter; every method releases the GIL."""

    @staticmethod
    def in_memory(
        policy: Optional[Policy] = None, clock: Optional[ManualClock] = None
    ) -> Engine: ...
    @staticmethod
    def open_sqlite(
        path: str,
        policy: Optional[Policy] = None,
        clock: Optional[ManualClock] = None,
        synchronous: str = "full",
        busy_timeout_ms: int = 10000,
        pool_size: int = 4,
    ) -> Engine: ...
    @staticmethod
    def open_postgres(
        url: str,
        policy: Optional[Policy] = None,
        clock: Optional[ManualClock] = None,
        pool_size: int = 4,
    ) -> Engine: ...
    def policy(self) -> _StoredPolicy: ...
    def set_policy(
        self,
        by: _Principal,
        policy: Policy,
        expected_version: Optional[int] = None,
        comment: Optional[str] = None,
    ) -> _StoredPolicy: ...
    def policy_history(self, by: _Principal) -> List[_StoredPolicy]: ...
    def principal(self, id: str) -> _PrincipalTuple: ...
    def impersonate(self, real: _Principal, as_id: str) -> _PrincipalTuple: ...
    def now(self) -> str: ...
    def propose(self, by: _Principal, proposal: str) -> Action: ...
    def approve(
        self,
        by: _Principal,
        id: _Ref,
        comment: Optional[str] = None,
        expected_version: Optional[int] = None,
    ) -> Action: ...
    def reject(
        self,
        by: _Principal,
        id: _Ref,
        comment: Optional[str] = None,
        expected_version: Optional[int] = None,
    ) -> Action: ...
    def cancel(self, by: _Principal, id: _Ref, comment: str) -> Action: ...
    def retry(self, by: _Principal, id: _Ref, comment: Optional[str] = None) -> Action: ...
    def claim(
        self,
        by: _Principal,
        limit: int,
        lease_seconds: int,
        kinds: Optional[Sequence[str]] = ...,
    ) -> List[Action]: ...
    def heartbeat(
        self, by: _Principal, id: _Ref, lease_token: str, lease_seconds: int
    ) -> Action: ...
    def complete(self, by: _Principal, id: _Ref, lease_token: str, result: str) -> Action: ...
    def fail(self, by: _Principal, id: _Ref, lease_token: str, error: str) -> Action: ...
    def undo(
        self,
        by: _Principal,
        id: _Ref,
        comment: str,
        expected_version: Optional[int] = None,
        instances: Optional[_Seen] = None,
    ) -> Tuple[Action, List[_Item]]: ...
    def undo_instances(self, by: _Principal, id: _Ref) -> List[Action]: ...
    def preview_bulk(
        self, by: _Principal, op: str, filter: str
    ) -> Tuple[int, str, List[Tuple[uuid.UUID, int]]]: ...
    def bulk(
        self,
        by: _Principal,
        op: str,
        ids: Optional[_Seen] = None,
        filter: Optional[str] = None,
        snapshot: Optional[str] = None,
    ) -> List[_Item]: ...
    def get(self, by: _Principal, id: _Ref) -> Action: ...
    def resolve_id(self, prefix: str) -> uuid.UUID: ...
    def resolve_id_for(self, by: _Principal, prefix: str) -> uuid.UUID: ...
    def short_ids(self, ids: Sequence[str]) -> List[str]: ...
    def list(
        self, by: _Principal, filter: str, limit: int, cursor: Optional[str] = None
    ) -> Tuple[List[Action], Optional[str]]: ...
    def counts(self, by: _Principal, filter: str) -> Dict[Status, int]: ...
    def history_of(self, by: _Principal, id: _Ref) -> List[AuditEvent]: ...
    def events_since(self, by: _Principal, seq: int, limit: int) -> List[AuditEvent]: ...
    def verify_audit(
        self, public_key: Optional[str] = None, checkpoint: Optional[str] = None
    ) -> AuditReport: ...
    def checkpoint(self, by: _Principal, signing_key: str) -> Checkpoint: ...
    def checkpoints(self, by: _Principal) -> List[Checkpoint]: ...
    def expire_due(self) -> List[Action]: ...
    def recover_leases(self) -> List[Action]: ...
    def _rust_seconds(self, verb: str, by: _Principal, ids: Iterable[_Id]) -> float:
        """For the benchmarks: ``verb`` ("approve" or "get") on each id, run
        from Rust; the seconds it took."""
