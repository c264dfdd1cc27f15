"""actioncenter: approve, execute and undo security remediation actions.

Automated investigations, antivirus engines, playbooks and analysts
propose remediation actions (isolate a device, quarantine a file, disable
a user...). Some run at once; others wait, pending, for someone with the
right permission to approve or reject them. Executors claim approved
actions and report back; a completed action can be undone, on every
instance of the same file if asked. Every step lands in a hash-chained
audit trail.

>>> from actioncenter import *
>>> center = ActionCenter.in_memory()
>>> air = Principal("air", ["automation"])
>>> action = center.propose(
...     air, Kind.ISOLATE_DEVICE, Device("dev-42"), AutomatedInvestigation("inv-7"))
>>> action.status
<Status.PENDING: 'pending'>
>>> center.approve(Principal("alice", ["analyst"]), action).status
<Status.APPROVED: 'approved'>

The engine is the Rust crate ``actioncenter``; this package is a thin
binding over it (the compiled module ``actioncenter._native`` is private).
"""

from ._center import ActionCenter
from ._enums import (
    ActionMismatch,
    AutomationLevel,
    Category,
    EntityType,
    Event,
    ExpiryOutcome,
    Kind,
    Mismatch,
    Operation,
    Outcome,
    SourceType,
    Status,
    Synchronous,
    Verdict,
)
from ._errors import (
    ActionCenterError,
    Conflict,
    DuplicateError,
    ExpiredError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    RateLimitedError,
    SelfApproval,
    StorageError,
    UnauthenticatedError,
    ValidationError,
)
from ._keys import generate_key
from ._model import (
    Action,
    Antivirus,
    Attempt,
    AuditEvent,
    AuditReport,
    AutomatedInvestigation,
    BadAction,
    BadEvent,
    BulkPreview,
    Checkpoint,
    CheckpointReport,
    CustomSource,
    Decision,
    Device,
    Driver,
    EmailCluster,
    Entity,
    File,
    ItemResult,
    Mailbox,
    ManualResponse,
    Note,
    Page,
    Playbook,
    Principal,
    RegistryKey,
    ScheduledTask,
    Seen,
    Service,
    Source,
    UndoInfo,
    UndoReport,
    Url,
    User,
)
from ._native import __version__
from ._policy import ManualClock, Policy, StoredPolicy

__all__ = [
    "Action",
    "ActionCenter",
    "ActionCenterError",
    "ActionMismatch",
    "Antivirus",
    "Attempt",
    "AuditEvent",
    "AuditReport",
    "AutomatedInvestigation",
    "AutomationLevel",
    "BadAction",
    "BadEvent",
    "BulkPreview",
    "Category",
    "Checkpoint",
    "CheckpointReport",
    "Conflict",
    "CustomSource",
    "Decision",
    "Device",
    "Driver",
    "DuplicateError",
    "EmailCluster",
    "Entity",
    "EntityType",
    "Event",
    "ExpiredError",
    "ExpiryOutcome",
    "File",
    "InvalidTransition",
    "ItemResult",
    "Kind",
    "Mailbox",
    "ManualClock",
    "ManualResponse",
    "Mismatch",
    "NotFound",
    "Note",
    "Operation",
    "Outcome",
    "Page",
    "PermissionDenied",
    "Playbook",
    "Policy",
    "Principal",
    "RateLimitedError",
    "RegistryKey",
    "ScheduledTask",
    "Seen",
    "SelfApproval",
    "Service",
    "Source",
    "SourceType",
    "Status",
    "StorageError",
    "StoredPolicy",
    "Synchronous",
    "UnauthenticatedError",
    "UndoInfo",
    "UndoReport",
    "Url",
    "User",
    "ValidationError",
    "Verdict",
    "__version__",
    "generate_key",
]
