//! # actioncenter
//!
//! The engine behind an "Action center": automated investigations and
//! analysts propose remediation actions (isolate a device, quarantine a
//! file, disable a user...); some run at once, others wait for a person
//! with the right permission to approve or reject them; an executor
//! carries them out and reports back; a completed action can be undone,
//! on every instance of the same file if asked. Every step is recorded in
//! a hash-chained audit trail.
//!
//! ```
//! use actioncenter::*;
//!
//! let center = ActionCenter::in_memory();
//! let air = Principal::new("air", ["automation"]);
//! let analyst = Principal::new("alice", ["analyst"]);
//! let agent = Principal::new("agent-1", ["executor"]);
//!
//! // An automated investigation proposes; the default policy wants approval.
//! let file = Entity::File { sha256: "ab".repeat(32), path: "C:\\tmp\\evil.exe".into(), device_id: "dev-1".into() };
//! let source = Source::AutomatedInvestigation { investigation_id: "inv-1".into() };
//! let action = center.propose(&air, Proposal::new(Kind::QuarantineFile, file, source))?;
//! assert_eq!(action.status, Status::Pending);
//!
//! // An analyst approves what they saw; an executor claims it, and
//! // completes it with the lease token of its claim.
//! center.approve(&analyst, action.id, &Decide::default().seen(action.version))?;
//! let claimed = center.claim(&agent, &ClaimRequest::default())?;
//! let token = claimed[0].lease_token().unwrap_or_default();
//! let done = center.complete(&agent, claimed[0].id, token, serde_json::json!({"quarantined": true}))?;
//! assert_eq!(done.status, Status::Completed);
//!
//! // Every step is in the audit trail, and the chain is intact.
//! assert!(center.verify_audit()?.is_intact());
//! # Ok::<(), Error>(())
//! ```
//!
//! The parts: [`model`] (the records), [`machine`] (the transition table),
//! [`policy`] (permissions and approval rules), [`audit`] (the chained
//! trail), [`query`] (filters and pages), [`engine`] (the facade) and
//! [`store`] (backends: memory, SQLite, PostgreSQL).

#![forbid(unsafe_code)]

pub mod audit;
mod canonical;
pub mod checkpoint;
pub mod clock;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod engine;
pub mod error;
pub mod identity;
pub mod machine;
pub mod model;
pub mod overview;
pub mod policy;
pub mod query;
mod recent;
pub mod short_id;
pub mod store;

pub use audit::{ActionMismatch, AuditEvent, AuditReport, BadAction, BadEvent, Mismatch};
pub use checkpoint::{Checkpoint, CheckpointReport, SigningKey, VerifyingKey};
pub use clock::{Clock, ManualClock, SystemClock};
pub use engine::{
    ActionCenter, BulkOp, BulkPreview, ClaimRequest, Decide, ItemResult, Proposal, Seen, Selection,
    UndoReport, UndoRequest, VerifyOptions,
};
pub use error::{Error, ErrorKind, Result, parse_json, parse_json_object};
pub use machine::{Event, ExpiryOutcome};
pub use model::{
    Action, ActionId, Attempt, Category, Decision, Entity, EntityType, Kind, Note, Outcome, Source,
    SourceType, Status, UndoInfo, Verdict,
};
pub use policy::{
    Automation, AutomationLevel, KindDefaults, KindRule, MAX_QUORUM, Operation, Policy, Principal,
    StoredPolicy,
};
pub use query::{Counts, Filter, Page, PageRequest};
pub use short_id::MIN_SHORT_ID;
pub use store::{MemoryStore, RowsOffDocs, Store};
#[cfg(feature = "postgres")]
pub use store::{PostgresOptions, PostgresStore};
#[cfg(feature = "sqlite")]
pub use store::{SqliteOptions, SqliteStore, Synchronous};

pub use chrono;
pub use serde_json;
pub use uuid;
