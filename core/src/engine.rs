//! [`ActionCenter`]: the facade every binding calls.
//!
//! Each verb loads the action, authorizes the caller against the stored
//! policy ([`Policy::authorize`], fed by the machine table's "who may"
//! column), asks [`machine::next`] for the new status, and hands the
//! store one [`Change`] to apply atomically with its audit event, under
//! compare-and-set on the action's version and on the policy's version.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEvent, AuditReport, NewEvent, Verifier, action_digest, sha256_hex};
use crate::checkpoint::{self, Checkpoint, SigningKey, VerifyingKey};
use crate::clock::{Clock, SystemClock, to_micros};
use crate::error::{Error, ErrorKind, Result};
pub use crate::error::{parse_json, parse_json_object};
use crate::machine::{self, Event, Facts};
use crate::model::{
    Action, ActionId, Attempt, Category, DOC_VERSION, Decision, Entity, Kind, MAX_COMMENT_LEN,
    Note, Outcome, Source, Status, UndoInfo, Verdict, check_comment, check_json_size,
    check_required, check_time,
};
use crate::policy::{AutomationLevel, Operation, Policy, Principal, StoredPolicy};
use crate::query::{Counts, Filter, MAX_PAGE, Page, PageRequest};
use crate::recent::Recent;
use crate::store::{Change, ClaimScope, MemoryStore, Store};

/// The actor named in audit events the engine writes on its own.
pub const SYSTEM_ACTOR: &str = "system";
/// The longest lease an executor may take or renew.
pub const MAX_LEASE: Duration = Duration::hours(24);
/// The most actions one bulk call selected by a filter acts on.
pub const MAX_BULK: usize = 10_000;
/// How often a call is tried again when the stored policy changed under it.
const POLICY_RETRIES: usize = 3;

/// What a proposer asks for.
///
/// ```json
/// {"kind": "isolate_device",
///  "entity": {"type": "device", "device_id": "dev-42"},
///  "source": {"type": "automated_investigation", "investigation_id": "inv-7"},
///  "parameters": {"isolation": "full"},
///  "idempotency_key": "inv-7/isolate/dev-42"}
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    pub kind: Kind,
    pub entity: Entity,
    pub source: Source,
    /// Defaults to the source's investigation id, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub investigation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert_id: Option<String>,
    #[serde(default)]
    pub parameters: serde_json::Map<String, serde_json::Value>,
    /// Why, for the audit trail (the propose event's comment, and a manual
    /// response's decision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Makes a retried proposal safe: the same key with the same proposal
    /// returns the action the first one made; the same key with another
    /// proposal is refused as a `Duplicate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

impl Proposal {
    /// A proposal with no investigation links and no parameters.
    pub fn new(kind: Kind, entity: Entity, source: Source) -> Proposal {
        Proposal {
            kind,
            entity,
            source,
            investigation_id: None,
            incident_id: None,
            alert_id: None,
            parameters: serde_json::Map::new(),
            comment: None,
            idempotency_key: None,
        }
    }

    /// The same proposal with an idempotency key.
    pub fn with_idempotency_key(mut self, key: impl Into<String>) -> Proposal {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Parses a proposal from JSON, naming the bad field on error.
    pub fn from_json(text: &str) -> Result<Proposal> {
        parse_json_object("proposal", text)
    }

    /// What tells a retry from another proposal under the same key: the
    /// proposer and every field but the key itself.
    fn digest(&self, proposer: &str) -> String {
        let mut body = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = body.as_object_mut() {
            map.remove("idempotency_key");
        }
        let text = crate::audit::canonical_json(&serde_json::json!([proposer, body]));
        sha256_hex(text.as_bytes())
    }
}

/// Options of an approval or rejection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Decide {
    /// Required to reject; optional to approve.
    pub comment: Option<String>,
    /// The version the decider saw. When set and the action has changed
    /// since, the decision fails with `Conflict` instead of applying to
    /// something the decider has not seen.
    pub expected_version: Option<u64>,
}

impl Decide {
    /// A decision with a comment.
    pub fn with_comment(comment: impl Into<String>) -> Decide {
        Decide {
            comment: Some(comment.into()),
            expected_version: None,
        }
    }

    /// The same decision, made on what the decider saw at `version`.
    pub fn seen(mut self, version: u64) -> Decide {
        self.expected_version = Some(version);
        self
    }
}

/// What an executor wants to claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClaimRequest {
    /// How many actions at most, 1 to 1000.
    pub limit: usize,
    /// How long the executor holds each action before it goes back to the queue.
    pub lease_seconds: i64,
    /// Only these kinds (at least one); `None` for any. An empty list is
    /// refused: an executor whose list of supported kinds came out empty
    /// must not be handed every kind.
    pub kinds: Option<Vec<Kind>>,
}

impl Default for ClaimRequest {
    fn default() -> Self {
        ClaimRequest {
            limit: 1,
            lease_seconds: 300,
            kinds: None,
        }
    }
}

/// An action as a caller saw it: its id and the version shown. Decisions
/// made on it apply only while it is still at that version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seen {
    pub id: ActionId,
    pub version: u64,
}

impl Seen {
    /// What a caller saw of `action`.
    pub fn of(action: &Action) -> Seen {
        Seen {
            id: action.id,
            version: action.version,
        }
    }
}

/// What an undo does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UndoRequest {
    /// Why; required.
    pub comment: String,
    /// The version of the action the caller saw, when it names one.
    pub expected_version: Option<u64>,
    /// For a quarantined file: the other instances of the same file the
    /// caller confirmed ("apply to N more instances"), as previewed by
    /// [`ActionCenter::undo_instances`]. Only these are undone, and only
    /// while each is at the version seen.
    pub instances: Vec<Seen>,
}

/// What an undo did.
#[derive(Debug, Serialize)]
pub struct UndoReport {
    /// The action asked for, now Undoing.
    pub action: Action,
    /// One result per confirmed instance of the same file.
    pub instances: Vec<ItemResult>,
}

/// A bulk operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum BulkOp {
    Approve {
        #[serde(default)]
        comment: Option<String>,
    },
    Reject {
        comment: String,
    },
    Cancel {
        comment: String,
    },
    Retry {
        #[serde(default)]
        comment: Option<String>,
    },
    Undo {
        comment: String,
    },
}

impl BulkOp {
    /// The events of the operations, one each.
    pub const EVENTS: [Event; 5] = [
        Event::Approve,
        Event::Reject,
        Event::Cancel,
        Event::Retry,
        Event::Undo,
    ];

    /// The event each item goes through.
    pub fn event(&self) -> Event {
        match self {
            BulkOp::Approve { .. } => Event::Approve,
            BulkOp::Reject { .. } => Event::Reject,
            BulkOp::Cancel { .. } => Event::Cancel,
            BulkOp::Retry { .. } => Event::Retry,
            BulkOp::Undo { .. } => Event::Undo,
        }
    }

    fn step(&self) -> Step<'_> {
        match self {
            BulkOp::Approve { comment } => Step::Approve {
                comment: comment.as_deref(),
            },
            BulkOp::Reject { comment } => Step::Reject { comment },
            BulkOp::Cancel { comment } => Step::Cancel { comment },
            BulkOp::Retry { comment } => Step::Retry {
                comment: comment.as_deref(),
            },
            BulkOp::Undo { comment } => Step::Undo {
                comment,
                fanned_out_from: None,
            },
        }
    }
}

/// Which actions a bulk operation acts on.
// One is made per bulk call: boxing the filter would cost every caller a
// `Box::new` for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Selection {
    /// These actions, each at the version the caller saw.
    Ids(Vec<Seen>),
    /// Every action the filter matches that is in a status the operation
    /// can leave from (so "approve investigation X" touches only its
    /// pending actions), at most [`MAX_BULK`], provided the selection is
    /// still the one [`ActionCenter::preview_bulk`] showed: `snapshot` is
    /// its token. Otherwise nothing is done and the call fails with
    /// `SelectionChanged`, giving the new count.
    Filter { filter: Filter, snapshot: String },
}

/// What a bulk operation by filter would act on now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkPreview {
    /// How many actions.
    pub count: u64,
    /// The token to pass back in [`Selection::Filter`].
    pub snapshot: String,
    /// The actions, at the versions seen.
    pub items: Vec<Seen>,
}

/// The result of one item of a bulk operation.
#[derive(Debug)]
pub struct ItemResult {
    pub id: ActionId,
    pub result: Result<Action>,
}

impl Serialize for ItemResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let v = match &self.result {
            Ok(action) => serde_json::json!({ "id": self.id, "ok": true, "action": action }),
            Err(e) => serde_json::json!({ "id": self.id, "ok": false, "error": e.to_json() }),
        };
        v.serialize(s)
    }
}

/// What [`ActionCenter::verify_audit_with`] checks beyond the chain and
/// the rows.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The checkpoint signer's public key: every stored checkpoint must
    /// carry its valid signature.
    pub public_key: Option<VerifyingKey>,
    /// A checkpoint exported earlier and kept outside the database: the
    /// chain must still hold the event it signed, and the database must
    /// still hold the checkpoint.
    pub checkpoint: Option<Checkpoint>,
}

/// One decision step, as a single call or a bulk item makes it.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Approve {
        comment: Option<&'a str>,
    },
    Reject {
        comment: &'a str,
    },
    Cancel {
        comment: &'a str,
    },
    Retry {
        comment: Option<&'a str>,
    },
    Undo {
        comment: &'a str,
        fanned_out_from: Option<ActionId>,
    },
}

type Subscriber = Arc<dyn Fn(&AuditEvent) + Send + Sync>;

struct Inner {
    store: Arc<dyn Store>,
    /// Stored into a database that has no policy yet; never enforced
    /// otherwise.
    bootstrap: Policy,
    /// The stored policy as last read.
    policy: RwLock<Option<Arc<StoredPolicy>>>,
    clock: Arc<dyn Clock>,
    subscribers: RwLock<Vec<(u64, Subscriber)>>,
    next_subscriber: std::sync::atomic::AtomicU64,
    /// The pending and claimed actions this handle wrote last, on a store
    /// whose reads are round trips (see [`crate::recent`]).
    recent: Option<Mutex<Recent>>,
    /// The furthest position this handle saw the audit trail reach: a
    /// feed position up to it was reached, so an empty page there needs
    /// no chain-head read to tell it from one the trail never reached.
    reached: std::sync::atomic::AtomicU64,
}

/// How many actions a handle on a database server keeps: the Pending tab
/// of a busy console and an executor's claims; a few MiB for actions of a
/// few KiB (an action's parameters may reach 64 KiB).
const KEPT_ACTIONS: usize = 4096;

/// The engine. Cheap to clone (one `Arc`), `Send + Sync`: share one per
/// process.
///
/// Every handle on a database enforces the policy stored in it. The
/// policy given when the engine is made is a bootstrap: it is stored only
/// into a database that has none yet. Change it with
/// [`set_policy`](Self::set_policy), which needs the Administer
/// permission and is audited.
///
/// ```
/// use actioncenter::*;
/// let center = ActionCenter::in_memory();
/// let air = Principal::new("air", ["automation"]);
/// let alice = Principal::new("alice", ["analyst"]);
/// let proposal = Proposal::new(
///     Kind::IsolateDevice,
///     Entity::Device { device_id: "dev-1".into(), name: None },
///     Source::AutomatedInvestigation { investigation_id: "inv-1".into() },
/// );
/// let action = center.propose(&air, proposal)?;
/// assert_eq!(action.status, Status::Pending);
/// let action = center.approve(&alice, action.id, &Decide::default().seen(action.version))?;
/// assert_eq!(action.status, Status::Approved);
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone)]
pub struct ActionCenter {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ActionCenter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActionCenter")
            .field("clock", &self.inner.clock)
            .finish_non_exhaustive()
    }
}

impl ActionCenter {
    /// An engine over `store` with the system clock. `bootstrap` is
    /// stored as the first policy if the store has none.
    pub fn new(store: impl Store, bootstrap: Policy) -> ActionCenter {
        ActionCenter::with_clock(Arc::new(store), bootstrap, Arc::new(SystemClock))
    }

    /// An engine with an injected clock.
    pub fn with_clock(
        store: Arc<dyn Store>,
        bootstrap: Policy,
        clock: Arc<dyn Clock>,
    ) -> ActionCenter {
        let recent = store
            .reads_are_round_trips()
            .then(|| Mutex::new(Recent::new(KEPT_ACTIONS)));
        ActionCenter {
            inner: Arc::new(Inner {
                store,
                bootstrap,
                policy: RwLock::new(None),
                clock,
                subscribers: RwLock::new(Vec::new()),
                next_subscriber: std::sync::atomic::AtomicU64::new(1),
                reached: std::sync::atomic::AtomicU64::new(0),
                recent,
            }),
        }
    }

    /// An engine over a fresh [`MemoryStore`] with the default policy.
    pub fn in_memory() -> ActionCenter {
        ActionCenter::new(MemoryStore::new(), Policy::default())
    }

    /// An engine over the SQLite database at `path` (created if missing).
    /// A new database gets the default policy.
    #[cfg(feature = "sqlite")]
    pub fn open_sqlite(path: impl AsRef<std::path::Path>) -> Result<ActionCenter> {
        let store = crate::store::SqliteStore::open(path)?;
        let center = ActionCenter::new(store, Policy::default());
        center.stored_policy()?;
        Ok(center)
    }

    /// An engine over the PostgreSQL database at `url` (a
    /// `postgres://user:password@host:port/dbname` URL or a
    /// `host=... user=... dbname=...` string). The tables are created, or
    /// migrated forward, on first use; a new database gets the default
    /// policy. For a schema of its own or another pool size, build the
    /// store with
    /// [`PostgresStore::connect_with`](crate::store::PostgresStore::connect_with)
    /// and pass it to [`ActionCenter::new`].
    #[cfg(feature = "postgres")]
    pub fn open_postgres(url: &str) -> Result<ActionCenter> {
        let store = crate::store::PostgresStore::connect(url)?;
        let center = ActionCenter::new(store, Policy::default());
        center.stored_policy()?;
        Ok(center)
    }

    // ----- the stored policy --------------------------------------------

    /// The policy stored in the database, in force for every handle on it.
    pub fn stored_policy(&self) -> Result<Arc<StoredPolicy>> {
        let version = self.inner.store.policy_version()?;
        if let Some(cached) = self.cached_policy().filter(|p| p.version == version) {
            return Ok(cached);
        }
        if version == 0
            && let Some(stored) = self.bootstrap_policy()?
        {
            // Not read back: once the write is in, a failed read would
            // report as failed a call that changed the database.
            return Ok(self.cache_policy(stored));
        }
        let stored = self
            .inner
            .store
            .policy()?
            .ok_or_else(|| Error::storage_msg("the database holds no policy"))?;
        Ok(self.cache_policy(stored))
    }

    fn cache_policy(&self, stored: StoredPolicy) -> Arc<StoredPolicy> {
        let stored = Arc::new(stored);
        *self.inner.policy.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::clone(&stored));
        stored
    }

    /// The rules in force.
    pub fn policy(&self) -> Result<Policy> {
        Ok(self.stored_policy()?.policy.clone())
    }

    fn cached_policy(&self) -> Option<Arc<StoredPolicy>> {
        self.inner
            .policy
            .read()
            .map(|p| p.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    fn forget_policy(&self) {
        *self.inner.policy.write().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Stores the bootstrap policy as version 1; `None` if another
    /// handle stored one first.
    fn bootstrap_policy(&self) -> Result<Option<StoredPolicy>> {
        // A new database's first event stores its first policy. One whose
        // trail begins so but holds no policy lost it outside the library:
        // storing the bootstrap policy over it would hide that.
        if self.inner.store.chain_head()?.0 > 0
            && let Some(first) = self.inner.store.events_since(0, 1)?.first()
            && first.event == Event::SetPolicy
        {
            // Another handle may have stored the first policy since this
            // one found none: the policy commits with its event, so it
            // is read now if it was.
            if self.inner.store.policy_version()? > 0 {
                return Ok(None);
            }
            return Err(Error::storage_msg(format!(
                "the database holds no policy, though its audit trail stored one (event {}): \
                 it was changed outside actioncenter",
                first.seq
            )));
        }
        let policy = self.inner.bootstrap.clone();
        policy.validate()?;
        // A first policy is a new one: what `set_policy` refuses, a
        // bootstrap may not store either.
        policy.check_changeable()?;
        let now = self.now_checked()?;
        let stored = StoredPolicy {
            version: 1,
            digest: policy.digest(),
            policy,
            set_by: SYSTEM_ACTOR.to_owned(),
            set_at: now,
        };
        match self
            .inner
            .store
            .set_policy(&stored, policy_event(&stored, None, None))
        {
            Ok(event) => {
                self.notify(&event);
                Ok(Some(stored))
            }
            // Another handle stored one first: that one is in force.
            Err(Error::PolicyChanged { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Stores `policy` as the next version of the database's policy. Needs
    /// the Administer permission on every category; the change is an
    /// audit event carrying the new policy's digest. If another change was
    /// stored since the caller read version `expected_version` (when
    /// given), nothing is written and the call fails with `PolicyChanged`.
    pub fn set_policy(
        &self,
        by: &Principal,
        policy: Policy,
        expected_version: Option<u64>,
        comment: Option<&str>,
    ) -> Result<Arc<StoredPolicy>> {
        policy.validate()?;
        let comment = check_comment(comment, false)?;
        if expected_version == Some(0) {
            return Err(no_version_zero());
        }
        let current = self.stored_policy()?;
        current.policy.authorize_everywhere(by, Event::SetPolicy)?;
        if let Some(expected) = expected_version.filter(|v| *v != current.version) {
            return Err(Error::PolicyChanged {
                expected,
                actual: current.version,
            });
        }
        // A policy nobody could change again locks every door out for
        // good: refused when no role would administer every category, or
        // when the stored policy names an administrator (the doors that
        // know callers by name rely on it) and the new one names none.
        policy.check_changeable()?;
        if current.policy.administration().named && !policy.administration().named {
            return Err(Error::validation(
                "policy",
                "names no principal or group with a role that administers every category: \
                 nobody could change the policy again",
            ));
        }
        let stored = StoredPolicy {
            version: current.version + 1,
            digest: policy.digest(),
            policy,
            set_by: by.id.clone(),
            set_at: self.now_checked()?,
        };
        let event = policy_event(&stored, Some(by), comment);
        let sealed = self.inner.store.set_policy(&stored, event)?;
        // What was stored, not read back (see `stored_policy`).
        let stored = self.cache_policy(stored);
        self.notify(&sealed);
        Ok(stored)
    }

    /// Every version of the stored policy, oldest first. Needs View on
    /// some category.
    pub fn policy_history(&self, by: &Principal) -> Result<Vec<StoredPolicy>> {
        self.check_viewer(&self.stored_policy()?.policy, by)?;
        self.inner.store.policy_history()
    }

    /// The principal with this id and the roles the stored policy gives
    /// it: how a door that knows a caller by name alone (the command line,
    /// by operating-system account) turns it into a principal.
    pub fn principal(&self, id: &str) -> Result<Principal> {
        check_required("principal.id", id)?;
        let policy = self.stored_policy()?;
        policy
            .policy
            .principal(id)
            .ok_or_else(|| not_a_principal(id))
    }

    /// The principal `id` names in `field` of a request (an account to
    /// add, a token's holder): a `Validation` error on `field` if the
    /// stored policy has no such principal, since the caller's own
    /// permissions are not what is missing.
    pub(crate) fn named_principal(&self, field: &str, id: &str) -> Result<Principal> {
        check_required(field, id)?;
        self.stored_policy()?.policy.principal(id).ok_or_else(|| {
            Error::validation(
                field,
                format!(
                    "{id} is not among the principals of the stored policy: add it to the policy first"
                ),
            )
        })
    }

    /// The principal with this id and the roles the stored policy gives it
    /// by id and through the groups an identity provider asserted for it.
    pub fn principal_in_groups(&self, id: &str, groups: &[String]) -> Result<Principal> {
        check_required("principal.id", id)?;
        let policy = self.stored_policy()?;
        policy
            .policy
            .principal_in_groups(id, groups)
            .ok_or_else(|| not_a_principal(id))
    }

    /// `real`, acting as the principal `as_id` of the stored policy. Needs
    /// the Administer permission on every category for `real`; every event
    /// the returned principal causes records both ("root as dana").
    pub fn impersonate(&self, real: &Principal, as_id: &str) -> Result<Principal> {
        let policy = self.stored_policy()?;
        policy.policy.check_principal(real)?;
        // Only the person acts as someone: from "root as sam", acting as
        // alice would record sam, and root could decide twice.
        if real.via.is_some() {
            return Err(Error::PermissionDenied {
                principal: real.id.clone(),
                operation: Operation::Administer,
                category: None,
                detail: Some(format!(
                    "{} may not act as {as_id}: only the administrator acting, not whom they act as, may act as someone",
                    real.shown()
                )),
            });
        }
        for category in Category::ALL {
            policy
                .policy
                .check(real, Operation::Administer, category)
                .map_err(|_| Error::PermissionDenied {
                    principal: real.id.clone(),
                    operation: Operation::Administer,
                    category: Some(category),
                    detail: Some(format!(
                        "acting as {as_id} needs administer on every category"
                    )),
                })?;
        }
        let mut target = self.principal(as_id)?;
        if target.id != real.id {
            target.via = Some(real.id.clone());
        }
        Ok(target)
    }

    /// The store behind this engine.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The engine's current time, in whole microseconds.
    pub fn now(&self) -> DateTime<Utc> {
        to_micros(self.inner.clock.now())
    }

    /// The current time, refused when no door could show it (a clock
    /// gone wrong), so one bad write cannot poison the database.
    fn now_checked(&self) -> Result<DateTime<Utc>> {
        check_time("clock", self.now())
    }

    /// Calls `f` after every committed audit event written by this
    /// engine (not by other processes: follow those with
    /// [`events_since`](Self::events_since)). Returns a handle for
    /// [`unsubscribe`](Self::unsubscribe).
    pub fn subscribe(&self, f: impl Fn(&AuditEvent) + Send + Sync + 'static) -> u64 {
        let mut subs = self
            .inner
            .subscribers
            .write()
            .unwrap_or_else(|p| p.into_inner());
        let id = self
            .inner
            .next_subscriber
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        subs.push((id, Arc::new(f)));
        id
    }

    /// Stops calling the subscriber `id`.
    pub fn unsubscribe(&self, id: u64) {
        self.inner
            .subscribers
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(i, _)| *i != id);
    }

    fn notify(&self, event: &AuditEvent) {
        let subs: Vec<Subscriber> = self
            .inner
            .subscribers
            .read()
            .map(|s| s.iter().map(|(_, f)| Arc::clone(f)).collect())
            .unwrap_or_default();
        for f in subs {
            f(event);
        }
    }

    /// Runs `f` under the stored policy; when the policy changes between
    /// the read and the write, runs it again under the new one.
    fn under_policy<T>(&self, f: impl Fn(&StoredPolicy) -> Result<T>) -> Result<T> {
        let mut tries = 0;
        loop {
            let policy = self.stored_policy()?;
            match f(&policy) {
                Err(Error::PolicyChanged { .. }) if tries + 1 < POLICY_RETRIES => {
                    tries += 1;
                    self.forget_policy();
                }
                other => return other,
            }
        }
    }

    /// Runs `f` under the policy this handle last read, without asking
    /// the store for its version first: for calls whose every write
    /// carries the version it was decided under, which the store checks
    /// in the same atomic step (`PolicyChanged` when another is stored).
    /// A result that wrote nothing (`wrote` is false) or a refusal (any
    /// error but a storage failure) may rest on a policy replaced since,
    /// so it is confirmed against the stored version and decided again
    /// under the new one if that moved.
    /// A transition costs one read of the store fewer than
    /// [`under_policy`](Self::under_policy) (a round trip on PostgreSQL).
    fn under_cached_policy<T>(
        &self,
        wrote: impl Fn(&T) -> bool,
        f: impl Fn(&StoredPolicy) -> Result<T>,
    ) -> Result<T> {
        let Some(cached) = self.cached_policy() else {
            return self.under_policy(f);
        };
        match f(&cached) {
            Ok(done) if wrote(&done) => return Ok(done),
            Err(Error::PolicyChanged { .. }) => {}
            // Not a decision: nothing to confirm, and another read would
            // only wait on the same failing store.
            Err(e @ Error::Storage { .. }) => return Err(e),
            other => {
                if self.inner.store.policy_version()? == cached.version {
                    return other;
                }
            }
        }
        self.forget_policy();
        self.under_policy(f)
    }

    // ----- proposing ---------------------------------------------------

    /// Records a proposed action: Pending when the policy wants a
    /// person's approval, Approved when it does not.
    ///
    /// A `manual_response` source must name the proposing principal.
    /// With an idempotency key, a retry of the same proposal returns the
    /// action the first one made. While an action of the same kind on the
    /// same entity is active (pending, approved, running), another is
    /// refused as a `Duplicate` unless the policy allows duplicates for
    /// the kind.
    pub fn propose(&self, by: &Principal, proposal: Proposal) -> Result<Action> {
        self.under_policy(|sp| self.propose_under(sp, by, &proposal))
    }

    fn propose_under(&self, sp: &StoredPolicy, by: &Principal, p: &Proposal) -> Result<Action> {
        let policy = &sp.policy;
        p.entity.validate()?;
        p.source.validate()?;
        for (field, value) in [
            ("investigation_id", &p.investigation_id),
            ("incident_id", &p.incident_id),
            ("alert_id", &p.alert_id),
            ("idempotency_key", &p.idempotency_key),
        ] {
            if let Some(v) = value {
                check_required(field, v)?;
            }
        }
        check_json_size("parameters", &p.parameters)?;
        let comment = check_comment(p.comment.as_deref(), false)?;
        let accepted = p.kind.accepted_entities();
        if !accepted.is_empty() && !accepted.contains(&p.entity.entity_type()) {
            return Err(Error::validation(
                "entity",
                format!(
                    "{} acts on {}, not on a {}",
                    p.kind,
                    join(accepted),
                    p.entity.entity_type()
                ),
            ));
        }
        let category = p.kind.category().unwrap_or_else(|| p.entity.category());
        policy.authorize(by, Event::Propose, category, None)?;
        // What tells a retry from another proposal; only a keyed
        // proposal can be retried, so only a keyed one pays for it.
        let keyed = p
            .idempotency_key
            .as_ref()
            .map(|key| (key, p.digest(&by.id)));
        if let Some((key, digest)) = &keyed
            && let Some(existing) = self.inner.store.find_by_idempotency_key(&by.id, key)?
        {
            return same_proposal(existing, key, digest);
        }
        let source_type = p.source.source_type();
        let needs_approval = match &p.source {
            Source::ManualResponse { person } if person != &by.id => {
                return Err(Error::validation(
                    "source.person",
                    format!(
                        "a manual response by {person:?} must be proposed by {person:?}, not {:?}",
                        by.id
                    ),
                ));
            }
            // A person acting directly decides as they propose: they need
            // the Approve permission, and their decision counts toward the
            // kind's quorum (more approvers may still be needed).
            Source::ManualResponse { .. } => {
                policy.authorize(by, Event::Approve, category, None)?;
                policy.quorum(&p.kind) > 1
            }
            _automated => match policy.automation_level_for(by, &p.kind, category, source_type)? {
                AutomationLevel::Full => false,
                AutomationLevel::Semi => true,
                AutomationLevel::None => {
                    return Err(Error::PermissionDenied {
                        principal: by.id.clone(),
                        operation: Operation::Propose,
                        category: Some(category),
                        detail: Some(format!(
                            "automation level is none for {} from {source_type}",
                            p.kind
                        )),
                    });
                }
            },
        };
        let status = machine::next(
            None,
            Event::Propose,
            Facts {
                needs_approval,
                ..Facts::default()
            },
        )?;
        let now = self.now_checked()?;
        let investigation_id = p.investigation_id.clone().or_else(|| match &p.source {
            Source::AutomatedInvestigation { investigation_id } => Some(investigation_id.clone()),
            _other => None,
        });
        let expires_at = match status {
            Status::Pending => Some(
                now.checked_add_signed(policy.pending_ttl(&p.kind))
                    .ok_or_else(|| {
                        Error::validation(
                            "pending_ttl_seconds",
                            format!("the approval window of {} runs past the calendar", p.kind),
                        )
                    })
                    .and_then(|t| check_time("expires_at", t))?,
            ),
            _decided => None,
        };
        let manual = matches!(p.source, Source::ManualResponse { .. });
        let action = Action {
            id: ActionId::new_at(now),
            category,
            expires_at,
            kind: p.kind.clone(),
            entity: p.entity.clone(),
            source: p.source.clone(),
            investigation_id,
            incident_id: p.incident_id.clone(),
            alert_id: p.alert_id.clone(),
            parameters: p.parameters.clone(),
            created_at: now,
            created_by: by.id.clone(),
            created_via: by.via.clone(),
            status,
            decisions: if manual {
                vec![decision(
                    by,
                    now,
                    Verdict::Approve,
                    comment.clone(),
                    sp.version,
                )]
            } else {
                Vec::new()
            },
            attempts: Vec::new(),
            cancellation: None,
            undo: None,
            updated_at: now,
            version: 1,
            idempotency_key: p.idempotency_key.clone(),
            proposal_digest: keyed.as_ref().map(|(_, digest)| digest.clone()),
            exclusive: !policy.allow_duplicates(&p.kind),
            doc_version: DOC_VERSION,
            extra: serde_json::Map::new(),
        };
        let event = NewEvent {
            action_id: Some(action.id),
            at: now,
            actor: by.id.clone(),
            via: by.via.clone(),
            event: Event::Propose,
            from: None,
            to: Some(status),
            comment,
            version: action.version,
            digest: action_digest(&action),
            policy_version: Some(sp.version),
        };
        match self.inner.store.insert(&action, event) {
            Ok(sealed) => {
                self.notify(&sealed);
                self.recent(|r| r.keep(&action));
                Ok(action)
            }
            // A retry that raced the first proposal: answer as the first.
            Err(e) => match &keyed {
                Some((key, digest)) => {
                    match self.inner.store.find_by_idempotency_key(&by.id, key)? {
                        Some(existing) => same_proposal(existing, key, digest),
                        None => Err(e),
                    }
                }
                None => Err(e),
            },
        }
    }

    // ----- deciding ----------------------------------------------------

    /// Approves a pending action. Short of the kind's quorum the approval
    /// is recorded and the action stays Pending.
    pub fn approve(&self, by: &Principal, id: ActionId, decide: &Decide) -> Result<Action> {
        let step = Step::Approve {
            comment: decide.comment.as_deref(),
        };
        self.decide_one(by, id, decide.expected_version, step)
    }

    /// Rejects a pending action. A comment is required.
    pub fn reject(&self, by: &Principal, id: ActionId, decide: &Decide) -> Result<Action> {
        let step = Step::Reject {
            comment: decide.comment.as_deref().unwrap_or_default(),
        };
        self.decide_one(by, id, decide.expected_version, step)
    }

    /// Cancels a pending or approved action. The proposer may always
    /// cancel; others need the Cancel permission. A comment is required.
    pub fn cancel(&self, by: &Principal, id: ActionId, comment: &str) -> Result<Action> {
        self.cancel_expecting(by, id, comment, None)
    }

    /// [`cancel`](Self::cancel), compare-and-set: `conflict` unless the
    /// action is still at `expected_version` (when given) as it changes.
    pub fn cancel_expecting(
        &self,
        by: &Principal,
        id: ActionId,
        comment: &str,
        expected_version: Option<u64>,
    ) -> Result<Action> {
        self.decide_one(by, id, expected_version, Step::Cancel { comment })
    }

    /// Sends a failed action back to the queue, within the kind's maximum
    /// number of attempts.
    pub fn retry(&self, by: &Principal, id: ActionId, comment: Option<&str>) -> Result<Action> {
        self.retry_expecting(by, id, comment, None)
    }

    /// [`retry`](Self::retry), compare-and-set: `conflict` unless the
    /// action is still at `expected_version` (when given) as it changes.
    pub fn retry_expecting(
        &self,
        by: &Principal,
        id: ActionId,
        comment: Option<&str>,
        expected_version: Option<u64>,
    ) -> Result<Action> {
        self.decide_one(by, id, expected_version, Step::Retry { comment })
    }

    fn decide_one(
        &self,
        by: &Principal,
        id: ActionId,
        expected: Option<u64>,
        step: Step<'_>,
    ) -> Result<Action> {
        self.under_cached_policy(
            |_| true,
            |sp| {
                let plan = |action: &Action| self.plan(sp, by, action, step);
                if let Some(done) = self.on_kept_copy(id, expected, plan) {
                    return done;
                }
                let action = self.load(id)?;
                at_version(&sp.policy, by, &action, expected, plan)?;
                self.commit(plan(&action)?)
            },
        )
    }

    /// Every check of `step` on `action`, and the change it makes.
    fn plan(
        &self,
        sp: &StoredPolicy,
        by: &Principal,
        action: &Action,
        step: Step<'_>,
    ) -> Result<Change> {
        let policy = &sp.policy;
        let now = self.now_checked()?;
        match step {
            Step::Approve { comment } => {
                policy.authorize(
                    by,
                    Event::Approve,
                    action.category,
                    Some(&action.created_by),
                )?;
                let comment = check_comment(comment, false)?;
                ensure_allowed(action, Event::Approve)?;
                self.ensure_window_open(action)?;
                // Who approves: the principal, and the administrator acting
                // as it, if one is. Each is held to the proposal and to the
                // earlier approvals under either name, so that one person
                // neither approves their own proposal nor makes a quorum
                // of two by acting as someone else.
                let approving = [Some(by.id.as_str()), by.via.as_deref()];
                let proposed = [
                    Some(action.created_by.as_str()),
                    action.created_via.as_deref(),
                ];
                if !policy.allow_self_approval()
                    && let Some(who) = approving
                        .into_iter()
                        .flatten()
                        .find(|who| proposed.contains(&Some(who)))
                {
                    return Err(Error::SelfApproval {
                        principal: who.to_owned(),
                        id: action.id,
                    });
                }
                let approved: Vec<&str> = action
                    .decisions
                    .iter()
                    .filter(|d| d.verdict == Verdict::Approve)
                    .flat_map(|d| [Some(d.by.as_str()), d.via.as_deref()])
                    .flatten()
                    .collect();
                if let Some(who) = approving
                    .into_iter()
                    .flatten()
                    .find(|who| approved.contains(who))
                {
                    return Err(Error::validation(
                        "principal",
                        format!(
                            "{who} already approved action {}; the quorum needs distinct approvers",
                            action.id
                        ),
                    ));
                }
                let approvers = action.approvers();
                let facts = Facts {
                    quorum_reached: approvers.len() + 1 >= policy.quorum(&action.kind) as usize,
                    ..Facts::default()
                };
                let d = decision(by, now, Verdict::Approve, comment.clone(), sp.version);
                self.change(
                    sp,
                    action,
                    by,
                    Event::Approve,
                    facts,
                    comment,
                    now,
                    |a, _| {
                        a.decisions.push(d);
                    },
                )
            }
            Step::Reject { comment } => {
                policy.authorize(by, Event::Reject, action.category, Some(&action.created_by))?;
                let comment = check_comment(Some(comment), true)?;
                ensure_allowed(action, Event::Reject)?;
                self.ensure_window_open(action)?;
                let d = decision(by, now, Verdict::Reject, comment.clone(), sp.version);
                self.change(
                    sp,
                    action,
                    by,
                    Event::Reject,
                    Facts::default(),
                    comment,
                    now,
                    |a, _| a.decisions.push(d),
                )
            }
            Step::Cancel { comment } => {
                policy.authorize(by, Event::Cancel, action.category, Some(&action.created_by))?;
                let comment = check_comment(Some(comment), true)?;
                let note = Note {
                    by: by.id.clone(),
                    at: now,
                    comment: comment.clone().unwrap_or_default(),
                };
                self.change(
                    sp,
                    action,
                    by,
                    Event::Cancel,
                    Facts::default(),
                    comment,
                    now,
                    |a, _| a.cancellation = Some(note),
                )
            }
            Step::Retry { comment } => {
                policy.authorize(by, Event::Retry, action.category, Some(&action.created_by))?;
                let comment = check_comment(comment, false)?;
                ensure_allowed(action, Event::Retry)?;
                let max = policy.max_attempts(&action.kind);
                if action.forward_attempts() >= max {
                    return Err(Error::validation(
                        "attempts",
                        format!(
                            "action {} ran {} times; {} allows {max}",
                            action.id,
                            action.forward_attempts(),
                            action.kind
                        ),
                    ));
                }
                self.change(
                    sp,
                    action,
                    by,
                    Event::Retry,
                    Facts::default(),
                    comment,
                    now,
                    |_, _| {},
                )
            }
            Step::Undo {
                comment,
                fanned_out_from,
            } => {
                let inverse = self.undo_checks(policy, by, action)?;
                let comment = check_comment(Some(comment), true)?;
                let info = UndoInfo {
                    requested_by: by.id.clone(),
                    requested_at: now,
                    comment: comment.clone().unwrap_or_default(),
                    inverse,
                    fanned_out_from,
                };
                self.change(
                    sp,
                    action,
                    by,
                    Event::Undo,
                    Facts::default(),
                    comment,
                    now,
                    |a, _| a.undo = Some(info),
                )
            }
        }
    }

    // ----- executing ---------------------------------------------------

    /// Takes up to `request.limit` actions waiting for an executor
    /// (Approved, or Undoing) with a lease of `request.lease_seconds`.
    /// Concurrent executors never get the same action. Each claimed
    /// action's active attempt carries a fresh lease token
    /// ([`Action::lease_token`]): renewing, completing or failing the
    /// action needs it, so an executor whose lease was taken back can
    /// never finish a later claim. The executor must renew the lease with
    /// [`heartbeat`](Self::heartbeat) before it runs out, or
    /// [`recover_leases`](Self::recover_leases) returns the action to the
    /// queue.
    pub fn claim(&self, executor: &Principal, request: &ClaimRequest) -> Result<Vec<Action>> {
        self.under_cached_policy(
            |claimed: &Vec<Action>| !claimed.is_empty(),
            |sp| self.claim_under(sp, executor, request),
        )
    }

    fn claim_under(
        &self,
        sp: &StoredPolicy,
        executor: &Principal,
        request: &ClaimRequest,
    ) -> Result<Vec<Action>> {
        let policy = &sp.policy;
        policy.check_principal(executor)?;
        if request.limit == 0 || request.limit > MAX_PAGE {
            return Err(Error::validation(
                "limit",
                format!("must be between 1 and {MAX_PAGE}, got {}", request.limit),
            ));
        }
        let lease = lease_duration(request.lease_seconds)?;
        let kinds = match &request.kinds {
            None => Vec::new(),
            Some(kinds) if kinds.is_empty() => {
                return Err(Error::validation(
                    "kinds",
                    "names no kind: name at least one, or leave it out to claim any kind",
                ));
            }
            Some(kinds) => kinds.clone(),
        };
        let categories: Vec<Category> = Category::ALL
            .into_iter()
            .filter(|c| policy.authorize(executor, Event::Claim, *c, None).is_ok())
            .collect();
        if categories.is_empty() {
            return Err(policy.denied(executor, Operation::Execute, None));
        }
        let now = self.now_checked()?;
        let lease_until = check_time("lease_until", now + lease)?;
        let scope = ClaimScope {
            categories,
            kinds,
            limit: request.limit,
        };
        let mut token_error = None;
        let mut build = |candidate: &Action| -> Option<Change> {
            let undo = candidate.status == Status::Undoing;
            let token = match new_lease_token() {
                Ok(t) => t,
                Err(e) => {
                    token_error = Some(e);
                    return None;
                }
            };
            self.change(
                sp,
                candidate,
                executor,
                Event::Claim,
                Facts::default(),
                None,
                now,
                |a, now| {
                    a.attempts.push(Attempt {
                        executor: executor.id.clone(),
                        claimed_at: now,
                        lease_until,
                        lease_token: token,
                        undo,
                        finished_at: None,
                        outcome: None,
                        extra: serde_json::Map::new(),
                    });
                },
            )
            .ok()
        };
        let claimed = self.inner.store.claim(&scope, &mut build)?;
        if claimed.is_empty()
            && let Some(e) = token_error
        {
            return Err(e);
        }
        let mut out = Vec::with_capacity(claimed.len());
        for (action, event) in claimed {
            self.notify(&event);
            self.recent(|r| r.keep(&action));
            out.push(action);
        }
        Ok(out)
    }

    /// Renews the lease the executor holds on an action. `lease_token` is
    /// the token of the claim ([`Action::lease_token`]). A renewal is
    /// neither audited nor a new version (see [`action_digest`]).
    pub fn heartbeat(
        &self,
        executor: &Principal,
        id: ActionId,
        lease_token: &str,
        lease_seconds: i64,
    ) -> Result<Action> {
        let lease = lease_duration(lease_seconds)?;
        self.under_policy(|sp| {
            let renew = |action: &Action| {
                self.ensure_leased(sp, executor, action, lease_token, Event::Heartbeat)?;
                let until = check_time("lease_until", self.now_checked()? + lease)?;
                let mut next = action.clone();
                if let Some(attempt) = next.attempts.last_mut() {
                    attempt.lease_until = until;
                }
                Ok(Change {
                    action: next,
                    expected_version: action.version,
                    event: None,
                    policy_version: None,
                    basis: None,
                })
            };
            if let Some(done) = self.on_kept_copy(id, None, renew) {
                return done;
            }
            self.commit(renew(&self.load(id)?)?)
        })
    }

    /// Records that the executor carried the action (or its undo) out.
    /// `lease_token` is the token of the claim.
    pub fn complete(
        &self,
        executor: &Principal,
        id: ActionId,
        lease_token: &str,
        result: serde_json::Value,
    ) -> Result<Action> {
        check_json_size("result", &result)?;
        let outcome = Outcome::Completed { result };
        self.finish(executor, id, lease_token, Event::Complete, &outcome, None)
    }

    /// Records that the action (or its undo) failed. `error` is required.
    /// `lease_token` is the token of the claim.
    pub fn fail(
        &self,
        executor: &Principal,
        id: ActionId,
        lease_token: &str,
        error: &str,
    ) -> Result<Action> {
        let error = match check_comment(Some(error), true) {
            Ok(e) => e.unwrap_or_default(),
            Err(_) if error.len() > MAX_COMMENT_LEN => {
                return Err(Error::validation(
                    "error",
                    format!(
                        "is {} bytes long, the limit is {MAX_COMMENT_LEN}",
                        error.len()
                    ),
                ));
            }
            Err(_) if error.trim().is_empty() => {
                return Err(Error::validation("error", "an error message is required"));
            }
            Err(_) => {
                return Err(Error::validation(
                    "error",
                    "holds control characters (only newlines and tabs are allowed)",
                ));
            }
        };
        let outcome = Outcome::Failed {
            error: error.clone(),
        };
        self.finish(
            executor,
            id,
            lease_token,
            Event::Fail,
            &outcome,
            Some(error),
        )
    }

    /// Ends the lease holder's attempt (`Complete` or `Fail`) with
    /// `outcome`, the event's comment `comment`.
    fn finish(
        &self,
        executor: &Principal,
        id: ActionId,
        lease_token: &str,
        event: Event,
        outcome: &Outcome,
        comment: Option<String>,
    ) -> Result<Action> {
        self.under_cached_policy(
            |_| true,
            |sp| {
                let end = |action: &Action| {
                    self.ensure_leased(sp, executor, action, lease_token, event)?;
                    self.change(
                        sp,
                        action,
                        executor,
                        event,
                        Facts::default(),
                        comment.clone(),
                        self.now_checked()?,
                        |a, now| finish_attempt(a, now, outcome.clone()),
                    )
                };
                if let Some(done) = self.on_kept_copy(id, None, end) {
                    return done;
                }
                self.commit(end(&self.load(id)?)?)
            },
        )
    }

    // ----- undoing -----------------------------------------------------

    /// Asks for a completed action to be undone: it becomes Undoing and
    /// an executor runs its inverse. For a quarantined file, the other
    /// instances listed in `request.instances` (as
    /// [`undo_instances`](Self::undo_instances) previewed them, at the
    /// versions seen) are undone too, each checked on its own; nothing
    /// else is.
    pub fn undo(&self, by: &Principal, id: ActionId, request: &UndoRequest) -> Result<UndoReport> {
        // A list that names an action that is no other instance of this
        // file (an unrelated one, this action itself, one named twice) is
        // bad input: refused before anything is undone.
        // One that was an instance when shown and has changed since (undone
        // on its own, say) is not bad input: its item is a conflict.
        if !request.instances.is_empty() {
            let action = self.load(id)?;
            // Who may not undo it learns nothing of the other actions.
            self.stored_policy()?.policy.authorize(
                by,
                Event::Undo,
                action.category,
                Some(&action.created_by),
            )?;
            let file = action
                .entity
                .sha256()
                .filter(|_| action.kind == Kind::QuarantineFile);
            let mut listed = HashSet::new();
            for (i, seen) in request.instances.iter().enumerate() {
                let same_file = || -> Result<bool> {
                    Ok(self.inner.store.get(seen.id)?.is_some_and(|other| {
                        other.kind == Kind::QuarantineFile
                            && file.is_some()
                            && other.entity.sha256() == file
                    }))
                };
                let why = if seen.id == id {
                    "is the action being undone itself"
                } else if !listed.insert(seen.id) {
                    "is listed twice"
                } else if !same_file()? {
                    "is no other quarantine of the same file"
                } else {
                    continue;
                };
                return Err(Error::validation(
                    format!("instances[{i}]"),
                    format!("action {} {why} (nothing was undone)", seen.id),
                ));
            }
        }
        let action = self.decide_one(
            by,
            id,
            request.expected_version,
            Step::Undo {
                comment: &request.comment,
                fanned_out_from: None,
            },
        )?;
        if request.instances.is_empty() {
            return Ok(UndoReport {
                action,
                instances: Vec::new(),
            });
        }
        let others: HashSet<ActionId> = self
            .other_instances(&action)?
            .iter()
            .map(|a| a.id)
            .collect();
        let step = Step::Undo {
            comment: &request.comment,
            fanned_out_from: Some(id),
        };
        let instances = self.run_items(by, &request.instances, step, |seen| {
            if others.contains(&seen.id) {
                Ok(())
            } else {
                Err(Error::validation(
                    "instances",
                    format!(
                        "action {} is not another completed quarantine of the file of {id}",
                        seen.id
                    ),
                ))
            }
        })?;
        Ok(UndoReport { action, instances })
    }

    /// The other completed quarantines of the same file that an undo of
    /// `id` may also undo: what to show a person before they confirm.
    pub fn undo_instances(&self, by: &Principal, id: ActionId) -> Result<Vec<Action>> {
        let action = self.get(by, id)?;
        self.other_instances(&action)
    }

    fn other_instances(&self, action: &Action) -> Result<Vec<Action>> {
        let Some(sha256) = action
            .entity
            .sha256()
            .filter(|_| action.kind == Kind::QuarantineFile)
        else {
            return Ok(Vec::new());
        };
        let filter = Filter {
            statuses: vec![Status::Completed],
            kinds: vec![Kind::QuarantineFile],
            entity: Some(sha256.to_owned()),
            ..Filter::default()
        };
        let all = self.collect(&filter, MAX_BULK)?;
        Ok(all
            .into_iter()
            .filter(|a| a.id != action.id && a.entity.sha256() == Some(sha256))
            .collect())
    }

    /// Runs every check [`undo`](Self::undo) runs, changing nothing, and
    /// returns the other instances an undo may also undo. A host asks
    /// this before it asks a person to confirm. With `comment: None` the
    /// comment is not checked.
    pub fn check_undo(
        &self,
        by: &Principal,
        id: ActionId,
        comment: Option<&str>,
    ) -> Result<Vec<Action>> {
        let action = self.load(id)?;
        self.undo_checks(&self.stored_policy()?.policy, by, &action)?;
        if comment.is_some() {
            check_comment(comment, true)?;
        }
        self.other_instances(&action)
    }

    /// The rules of an undo but its comment: permission, status, an
    /// inverse to run, attempts left. Returns the inverse.
    fn undo_checks(&self, policy: &Policy, by: &Principal, action: &Action) -> Result<Kind> {
        policy.authorize(by, Event::Undo, action.category, Some(&action.created_by))?;
        ensure_allowed(action, Event::Undo)?;
        let inverse = action.kind.inverse().ok_or_else(|| {
            Error::validation("kind", format!("{} actions cannot be undone", action.kind))
        })?;
        let max = policy.max_attempts(&action.kind);
        if action.undo_attempts() >= max {
            return Err(Error::validation(
                "attempts",
                format!(
                    "the undo of action {} ran {} times; {} allows {max}",
                    action.id,
                    action.undo_attempts(),
                    action.kind
                ),
            ));
        }
        Ok(inverse)
    }

    // ----- bulk --------------------------------------------------------

    /// What a bulk operation by `filter` would act on now, and the token
    /// that [`Selection::Filter`] must carry to act on exactly that.
    pub fn preview_bulk(
        &self,
        by: &Principal,
        op: &BulkOp,
        filter: &Filter,
    ) -> Result<BulkPreview> {
        let items: Vec<Seen> = self
            .bulk_selection(by, op.event(), filter)?
            .iter()
            .map(Seen::of)
            .collect();
        Ok(BulkPreview {
            count: items.len() as u64,
            snapshot: snapshot_token(op.event(), &items),
            items,
        })
    }

    /// Runs one operation over many actions. Each item goes through the
    /// same checks as the single call and gets its own result; a failed
    /// item never undoes the others. The items that pass their checks are
    /// written in one transaction.
    pub fn bulk(
        &self,
        by: &Principal,
        op: &BulkOp,
        selection: &Selection,
    ) -> Result<Vec<ItemResult>> {
        self.stored_policy()?.policy.check_principal(by)?;
        let seen: Vec<Seen> = match selection {
            Selection::Ids(seen) => {
                if seen.len() > MAX_BULK {
                    return Err(Error::validation(
                        "ids",
                        format!("{} ids, the limit is {MAX_BULK}", seen.len()),
                    ));
                }
                // One result per action: an id given twice would be
                // answered twice against the version read once.
                let mut listed = HashSet::with_capacity(seen.len());
                if let Some(i) = seen.iter().position(|s| !listed.insert(s.id)) {
                    return Err(Error::validation(
                        format!("ids[{i}]"),
                        format!("action {} is listed twice (nothing was done)", seen[i].id),
                    ));
                }
                seen.clone()
            }
            Selection::Filter { filter, snapshot } => {
                if !is_snapshot_token(snapshot) {
                    return Err(Error::validation(
                        "snapshot",
                        format!(
                            "{} is not a snapshot a preview gave (a count, a dash, 32 hex digits)",
                            crate::error::quoted(snapshot)
                        ),
                    ));
                }
                let preview = self.preview_bulk(by, op, filter)?;
                if preview.snapshot != *snapshot {
                    // A token a preview of another operation gave (over what
                    // that operation would select): what was previewed is
                    // not what is asked.
                    let mut other = None;
                    for e in BulkOp::EVENTS.into_iter().filter(|e| *e != op.event()) {
                        let items: Vec<Seen> = self
                            .bulk_selection(by, e, filter)?
                            .iter()
                            .map(Seen::of)
                            .collect();
                        if snapshot_token(e, &items) == *snapshot {
                            other = Some(e);
                            break;
                        }
                    }
                    if let Some(other) = other {
                        return Err(Error::validation(
                            "snapshot",
                            format!(
                                "was previewed for {other}, not {}: preview this operation",
                                op.event()
                            ),
                        ));
                    }
                    return Err(Error::SelectionChanged {
                        previewed: snapshot_count(snapshot),
                        now: preview.count,
                    });
                }
                preview.items
            }
        };
        self.run_items(by, &seen, op.step(), |_| Ok(()))
    }

    /// Plans `step` for each item (after `admit`), then writes every
    /// change that passed in one transaction.
    fn run_items(
        &self,
        by: &Principal,
        items: &[Seen],
        step: Step<'_>,
        admit: impl Fn(&Seen) -> Result<()>,
    ) -> Result<Vec<ItemResult>> {
        self.under_policy(|sp| {
            let mut results: Vec<ItemResult> = Vec::with_capacity(items.len());
            let mut changes = Vec::new();
            let mut slots = Vec::new();
            for seen in items {
                // The version first: an item that changed since it was
                // shown is a conflict, whatever else is now true of it
                // (but for a caller refused the step).
                let plan = |action: &Action| self.plan(sp, by, action, step);
                let planned = self
                    .load(seen.id)
                    .and_then(|action| {
                        at_version(&sp.policy, by, &action, Some(seen.version), plan)
                            .map(|()| action)
                    })
                    .and_then(|action| admit(seen).map(|()| action))
                    .and_then(|action| plan(&action));
                match planned {
                    Ok(change) => {
                        slots.push(results.len());
                        results.push(ItemResult {
                            id: seen.id,
                            result: Ok(change.action.clone()),
                        });
                        changes.push(change);
                    }
                    Err(e) => results.push(ItemResult {
                        id: seen.id,
                        result: Err(e),
                    }),
                }
            }
            if changes.is_empty() {
                return Ok(results);
            }
            let applied = self.inner.store.apply_many(changes)?;
            if applied
                .iter()
                .any(|r| matches!(r, Err(Error::PolicyChanged { .. })))
            {
                return Err(Error::PolicyChanged {
                    expected: sp.version,
                    actual: self.inner.store.policy_version()?,
                });
            }
            for (slot, outcome) in slots.into_iter().zip(applied) {
                match outcome {
                    Ok(Some(event)) => self.notify(&event),
                    Ok(None) => {}
                    Err(e) => results[slot].result = Err(e),
                }
            }
            Ok(results)
        })
    }

    /// The actions a bulk `op` by `filter` acts on now, newest first.
    fn bulk_selection(&self, by: &Principal, event: Event, filter: &Filter) -> Result<Vec<Action>> {
        filter.validate()?;
        let leaving: Vec<Status> = machine::TABLE
            .iter()
            .filter(|r| r.event == event)
            .filter_map(|r| r.from)
            .collect();
        let mut filter = filter.clone();
        filter.statuses = if filter.statuses.is_empty() {
            leaving
        } else {
            filter
                .statuses
                .into_iter()
                .filter(|s| leaving.contains(s))
                .collect()
        };
        if filter.statuses.is_empty() || !self.restrict_to_viewable(by, &mut filter)? {
            return Ok(Vec::new());
        }
        self.collect(&filter, MAX_BULK)
    }

    // ----- reading -----------------------------------------------------

    /// One action, if `by` may view its category.
    pub fn get(&self, by: &Principal, id: ActionId) -> Result<Action> {
        let action = self.load(id)?;
        self.stored_policy()?
            .policy
            .check(by, Operation::View, action.category)?;
        Ok(action)
    }

    /// The action whose id starts with `prefix` (like git's short ids),
    /// among every stored action: for a host that holds the store. An
    /// ambiguous prefix is a `Validation` error listing the candidates.
    /// A door that serves callers resolves with [`resolve_id_for`]
    /// (Self::resolve_id_for) instead.
    pub fn resolve_id(&self, prefix: &str) -> Result<ActionId> {
        self.resolve(prefix, |p, n| self.inner.store.ids_with_prefix(p, n))
    }

    /// The action whose id starts with `prefix` among those `by` may view:
    /// an action of a category `by` may not view is not found by a prefix,
    /// nor named among the candidates of an ambiguous one, nor counted, so
    /// that walking prefixes tells a caller nothing of actions it may not
    /// see. A full id is taken as it is (the call that reads the action
    /// checks it).
    pub fn resolve_id_for(&self, by: &Principal, prefix: &str) -> Result<ActionId> {
        let stored = self.stored_policy()?;
        stored.policy.check_principal(by)?;
        let viewable: Vec<Category> = stored
            .policy
            .categories_allowed(by, Operation::View)
            .into_iter()
            .collect();
        if viewable.len() == Category::ALL.len() {
            return self.resolve_id(prefix);
        }
        self.resolve(prefix, |p, n| {
            if viewable.is_empty() {
                return Ok(Vec::new());
            }
            self.inner.store.ids_with_prefix_in(p, &viewable, n)
        })
    }

    /// [`resolve_id`](Self::resolve_id) among the ids `candidates` gives
    /// for a dashed prefix, at most the number asked.
    fn resolve(
        &self,
        prefix: &str,
        candidates: impl Fn(&str, usize) -> Result<Vec<ActionId>>,
    ) -> Result<ActionId> {
        const CANDIDATES: usize = 6;
        let given = prefix.trim();
        if let Ok(id) = given.parse::<ActionId>() {
            return Ok(id);
        }
        let digits: String = given.chars().filter(|c| *c != '-').collect();
        if digits.len() < 4
            || digits.len() > 32
            || !given.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
        {
            return Err(Error::validation(
                "id",
                format!(
                    "{} is neither an id nor a prefix of 4 to 32 hex digits",
                    crate::error::quoted(given)
                ),
            ));
        }
        // Dashed where an id is (8-4-4-4-12), whether or not it was.
        let mut prefix = String::with_capacity(36);
        for (i, c) in digits.chars().enumerate() {
            if matches!(i, 8 | 12 | 16 | 20) {
                prefix.push('-');
            }
            prefix.push(c);
        }
        let shown = candidates(&prefix, CANDIDATES)?;
        // Past the candidates read, more actions may share the prefix.
        let more = shown.len() == CANDIDATES;
        match (shown.as_slice(), more) {
            ([], false) => Err(Error::NotFound {
                id: given.to_owned(),
            }),
            ([one], false) => Ok(*one),
            (many, _) => Err(Error::validation(
                "id",
                format!(
                    "prefix {prefix:?} is ambiguous: {}",
                    many.iter()
                        .take(CANDIDATES - 1)
                        .map(ToString::to_string)
                        .chain(more.then(|| "...".to_owned()))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            )),
        }
    }

    /// A page of the actions `by` may view that pass `filter`, newest first.
    pub fn list(&self, by: &Principal, filter: &Filter, page: &PageRequest) -> Result<Page> {
        filter.validate()?;
        let (limit, cursor) = page.resolve()?;
        let mut filter = filter.clone();
        if !self.restrict_to_viewable(by, &mut filter)? {
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        let mut items = self.inner.store.list(&filter, cursor, limit + 1)?;
        let more = items.len() > limit;
        items.truncate(limit);
        let next_cursor = if more {
            items.last().map(|a| a.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    /// How many actions `by` may view that pass `filter`, per status.
    pub fn counts(&self, by: &Principal, filter: &Filter) -> Result<Counts> {
        filter.validate()?;
        let mut filter = filter.clone();
        if !self.restrict_to_viewable(by, &mut filter)? {
            return Ok(Counts::zero());
        }
        let mut counts = Counts::zero();
        counts.0.extend(self.inner.store.count(&filter)?.0);
        Ok(counts)
    }

    /// The audit events of one action, oldest first.
    pub fn history_of(&self, by: &Principal, id: ActionId) -> Result<Vec<AuditEvent>> {
        self.get(by, id)?;
        self.inner.store.events_of(id)
    }

    /// The change feed: audit events after `seq`, oldest first, at most
    /// `limit` (1 to 1000). Needs View on every category, since the feed
    /// spans them all. A `seq` past the trail's last event is a
    /// validation error, not an empty page: that trail is not this one.
    pub fn events_since(&self, by: &Principal, seq: u64, limit: usize) -> Result<Vec<AuditEvent>> {
        sees_everything(&self.stored_policy()?.policy, by)?;
        if limit == 0 || limit > MAX_PAGE {
            return Err(Error::validation(
                "limit",
                format!("must be between 1 and {MAX_PAGE}, got {limit}"),
            ));
        }
        if i64::try_from(seq).is_err() {
            return Err(Error::validation(
                "seq",
                format!("must be between 0 and {}, got {seq}", i64::MAX),
            ));
        }
        let events = self.inner.store.events_since(seq, limit)?;
        let reached = &self.inner.reached;
        if let Some(last) = events.last() {
            reached.fetch_max(last.seq, std::sync::atomic::Ordering::Relaxed);
        }
        // Nothing after `seq`: either nothing yet, or a position this
        // trail never reached (a client resuming against another
        // database). The head only grows, so reading it after the empty
        // read cannot refuse a position that was reached; nor can a
        // position this handle already saw reached, which a caught-up
        // poller asks for again and again.
        if events.is_empty() && seq > reached.load(std::sync::atomic::Ordering::Relaxed) {
            let (head, _) = self.inner.store.chain_head()?;
            reached.fetch_max(head, std::sync::atomic::Ordering::Relaxed);
            if seq > head {
                return Err(Error::validation(
                    "seq",
                    format!(
                        "is past the trail's last event ({head}): this trail never reached {seq}"
                    ),
                ));
            }
        }
        Ok(events)
    }

    // ----- the audit trail ----------------------------------------------

    /// Checks the whole record: the chain of events, that each action's
    /// events are moves the machine allows, that every stored action row
    /// is what its last event recorded (version and digest), the stored
    /// policy against its last `set_policy` event, and that the stored
    /// checkpoints link up and match the chain. Reports the first event,
    /// action or checkpoint that does not match.
    pub fn verify_audit(&self) -> Result<AuditReport> {
        self.verify_audit_with(&VerifyOptions::default())
    }

    /// [`verify_audit`](Self::verify_audit) for a caller that must be
    /// authorized (a door that authenticates): the report names the chain's
    /// head and the first bad action of any category, so it needs View on
    /// every category, as the change feed does.
    pub fn verify_audit_as(&self, by: &Principal) -> Result<AuditReport> {
        sees_everything(&self.stored_policy()?.policy, by)?;
        self.verify_audit()
    }

    /// [`verify_audit`](Self::verify_audit), also checking every stored
    /// checkpoint's signature against `options.public_key` and an
    /// exported checkpoint against the database.
    pub fn verify_audit_with(&self, options: &VerifyOptions) -> Result<AuditReport> {
        if options.checkpoint.is_some() && options.public_key.is_none() {
            return Err(Error::validation(
                "public_key",
                "checking an exported checkpoint needs the signer's public key",
            ));
        }
        let store = &self.inner.store;
        // A row that cannot be read as an event is a broken record, not a
        // failing database: once a batch fails so, read on one event at
        // a time to name the first such row.
        let unreadable = |e: &Error| e.kind() == ErrorKind::Storage && !e.is_retryable();
        // So is a stored checkpoint that does not decode: a checkpoint
        // problem (the store names the row below), the chain still read.
        let (checkpoints, checkpoints_unread) = match store.checkpoints() {
            Ok(list) => (list, None),
            Err(e) if unreadable(&e) => (Vec::new(), Some(e.to_string())),
            Err(e) => return Err(e),
        };
        let mut verifier = Verifier::default();
        for cp in checkpoints.iter().chain(options.checkpoint.as_ref()) {
            verifier.want_hash_at(cp.seq);
        }
        let mut batch_len = MAX_PAGE;
        loop {
            let batch = match store.events_since(verifier.last_seq(), batch_len) {
                Ok(batch) => batch,
                Err(e) if unreadable(&e) && batch_len > 1 => {
                    batch_len = 1;
                    continue;
                }
                Err(e) if unreadable(&e) => {
                    verifier.report_unreadable(e.to_string());
                    break;
                }
                Err(e) => return Err(e),
            };
            if batch.is_empty() || !verifier.feed(&batch) {
                break;
            }
        }
        // Rows whose columns are not what their docs say: a doc that does
        // not decode is reported (named) before the docs are read; a
        // derived column off its doc after the docs were checked against
        // their trails.
        let mut off = store.rows_off_their_docs()?;
        if let Some((id, column)) = off.action.take_if(|(_, c)| c == "doc") {
            verifier.report_row_off_doc(id, column);
        }
        let mut seen = HashSet::new();
        let mut tally: HashMap<(Category, Status), u64> = HashMap::new();
        let mut before = None;
        while verifier.report_mut().first_bad_action.is_none() {
            let batch = store.list(&Filter::default(), before, MAX_PAGE)?;
            for action in &batch {
                seen.insert(action.id);
                *tally.entry((action.category, action.status)).or_default() += 1;
                verifier.check_action(action);
            }
            if batch.len() < MAX_PAGE {
                break;
            }
            before = batch.last().map(|a| a.id);
        }
        verifier.check_no_row_missing(&seen);
        // The badges are kept, not counted: each against the actions, once
        // every action was read.
        if verifier.report_mut().first_bad_action.is_none() {
            verifier.report_mut().counts_problem = kept_counts_off(store.as_ref(), &tally)?;
        }
        if let Some((id, column)) = off.action {
            verifier.report_row_off_doc(id, column);
        }
        let stored = store.policy()?;
        verifier.check_policy(
            stored
                .as_ref()
                .map(|p| (p.version, p.policy.digest()))
                .as_ref()
                .map(|(v, d)| (*v, d.as_str())),
        );
        verifier.check_policy_history(&store.policy_history()?);
        let chain_len = verifier.last_seq();
        let report = checkpoint::check(
            &checkpoints,
            options.checkpoint.as_ref(),
            options.public_key.as_ref(),
            chain_len,
            |seq| verifier.hash_at(seq).map(str::to_owned),
        );
        verifier.report_mut().checkpoints = report;
        let checkpoints = &mut verifier.report_mut().checkpoints;
        match (checkpoints_unread, off.checkpoint) {
            // What could not be read comes first: the checks above ran
            // without the stored checkpoints.
            (Some(unread), row) => checkpoints.problem = Some(row.unwrap_or(unread)),
            (None, Some(row)) => {
                checkpoints.problem.get_or_insert(row);
            }
            (None, None) => {}
        }
        Ok(verifier.finish())
    }

    /// Whether `by` may sign checkpoints (Administer on every category),
    /// for a door to ask before it looks for a key.
    pub fn check_checkpoint_signer(&self, by: &Principal) -> Result<()> {
        self.stored_policy()?
            .policy
            .authorize_everywhere(by, Event::SetPolicy)
    }

    /// Signs the chain head with `key` and stores the checkpoint. Needs
    /// the Administer permission on every category. The key stays with
    /// the caller; only the public key and the signature are stored.
    pub fn checkpoint(&self, by: &Principal, key: &SigningKey) -> Result<Checkpoint> {
        self.check_checkpoint_signer(by)?;
        let (seq, hash) = self.inner.store.chain_head()?;
        let prev = self.inner.store.checkpoints()?.pop();
        let cp = Checkpoint::sign(seq, &hash, self.now_checked()?, prev.as_ref(), key);
        self.inner.store.insert_checkpoint(&cp)?;
        Ok(cp)
    }

    /// Every stored checkpoint, oldest first. Needs View on some category.
    pub fn checkpoints(&self, by: &Principal) -> Result<Vec<Checkpoint>> {
        self.check_viewer(&self.stored_policy()?.policy, by)?;
        self.inner.store.checkpoints()
    }

    // ----- sweeps ------------------------------------------------------

    /// Moves every pending action whose approval window has closed to its
    /// kind's expiry outcome. Returns the actions moved. Safe to run from
    /// many processes at once: an action another sweep moved is skipped.
    pub fn expire_due(&self) -> Result<Vec<Action>> {
        self.sweep(
            |now| self.inner.store.expiring(now, MAX_PAGE),
            |sp, action| {
                let facts = Facts {
                    expiry_outcome: sp.policy.expiry_outcome(&action.kind),
                    ..Facts::default()
                };
                let change = self.change(
                    sp,
                    &action,
                    &system(),
                    Event::Expire,
                    facts,
                    None,
                    self.now_checked()?,
                    |_, _| {},
                )?;
                self.commit(change)
            },
        )
    }

    /// Returns every action whose executor's lease ran out to the queue:
    /// Running goes back to Approved and UndoRunning to Undoing (the
    /// attempt counts), or, once the kind's max attempts are spent, to
    /// Failed or UndoFailed, so an action that kills its executors cannot
    /// loop forever. Returns the actions moved.
    pub fn recover_leases(&self) -> Result<Vec<Action>> {
        self.sweep(
            |now| self.inner.store.leases_expired(now, MAX_PAGE),
            |sp, action| {
                let max = sp.policy.max_attempts(&action.kind);
                let made = if action.status == Status::UndoRunning {
                    action.undo_attempts()
                } else {
                    action.forward_attempts()
                };
                let facts = Facts {
                    attempts_left: made < max,
                    ..Facts::default()
                };
                let change = self.change(
                    sp,
                    &action,
                    &system(),
                    Event::LeaseExpire,
                    facts,
                    None,
                    self.now_checked()?,
                    |a, now| finish_attempt(a, now, Outcome::LeaseExpired),
                )?;
                self.commit(change)
            },
        )
    }

    fn sweep(
        &self,
        due: impl Fn(DateTime<Utc>) -> Result<Vec<Action>>,
        step: impl Fn(&StoredPolicy, Action) -> Result<Action>,
    ) -> Result<Vec<Action>> {
        let now = self.now_checked()?;
        let mut moved = Vec::new();
        loop {
            let batch = due(now)?;
            let full = batch.len() == MAX_PAGE;
            let mut progress = false;
            for action in batch {
                match self.under_policy(|sp| step(sp, action.clone())) {
                    Ok(a) => {
                        progress = true;
                        moved.push(a);
                    }
                    Err(Error::Conflict { .. } | Error::InvalidTransition { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            if !full || !progress {
                return Ok(moved);
            }
        }
    }

    // ----- internals ---------------------------------------------------

    /// `Expired` once a pending action's approval window has closed, even
    /// before a sweep has moved it.
    fn ensure_window_open(&self, action: &Action) -> Result<()> {
        match action.expires_at.filter(|at| *at <= self.now()) {
            Some(at) => Err(Error::Expired {
                id: action.id,
                what: "approval window",
                at,
            }),
            None => Ok(()),
        }
    }

    fn check_viewer(&self, policy: &Policy, by: &Principal) -> Result<()> {
        policy.check_principal(by)?;
        if policy.categories_allowed(by, Operation::View).is_empty() {
            return Err(policy.denied(by, Operation::View, None));
        }
        Ok(())
    }

    fn load(&self, id: ActionId) -> Result<Action> {
        self.inner
            .store
            .get(id)?
            .ok_or_else(|| Error::NotFound { id: id.to_string() })
    }

    /// Loads an action for its lease holder: the executor may execute its
    /// category, the event is allowed now, the executor holds the lease
    /// with this token, and the lease has not run out.
    fn ensure_leased(
        &self,
        sp: &StoredPolicy,
        executor: &Principal,
        action: &Action,
        token: &str,
        event: Event,
    ) -> Result<()> {
        let id = action.id;
        sp.policy
            .authorize(executor, event, action.category, Some(&action.created_by))?;
        ensure_allowed(action, event)?;
        let Some(attempt) = action.active_attempt() else {
            return Err(Error::InvalidTransition {
                id: Some(id),
                status: action.status,
                event,
            });
        };
        if attempt.lease_token.is_empty() || attempt.lease_token != token {
            return Err(Error::StaleLease {
                id,
                token: token.to_owned(),
            });
        }
        if attempt.executor != executor.id {
            return Err(Error::PermissionDenied {
                principal: executor.id.clone(),
                operation: Operation::Execute,
                category: Some(action.category),
                detail: Some(format!("the lease on {id} is held by {}", attempt.executor)),
            });
        }
        if attempt.lease_until <= self.now() {
            return Err(Error::Expired {
                id,
                what: "lease",
                at: attempt.lease_until,
            });
        }
        Ok(())
    }

    /// Adds `View` categories to `filter`. Returns `false` when `by` may
    /// view nothing the filter asks for.
    fn restrict_to_viewable(&self, by: &Principal, filter: &mut Filter) -> Result<bool> {
        let sp = self.stored_policy()?;
        let policy = &sp.policy;
        policy.check_principal(by)?;
        let viewable = policy.categories_allowed(by, Operation::View);
        if viewable.is_empty() {
            return Err(policy.denied(by, Operation::View, None));
        }
        if viewable.len() == Category::ALL.len() {
            return Ok(true);
        }
        filter.categories = if filter.categories.is_empty() {
            viewable.into_iter().collect()
        } else {
            filter
                .categories
                .iter()
                .copied()
                .filter(|c| viewable.contains(c))
                .collect()
        };
        Ok(!filter.categories.is_empty())
    }

    /// Every action passing `filter`, newest first, at most `max`.
    fn collect(&self, filter: &Filter, max: usize) -> Result<Vec<Action>> {
        let mut out: Vec<Action> = Vec::new();
        loop {
            let before = out.last().map(|a| a.id);
            let batch = self
                .inner
                .store
                .list(filter, before, MAX_PAGE.min(max - out.len()))?;
            let done = batch.len() < MAX_PAGE;
            out.extend(batch);
            if done || out.len() >= max {
                return Ok(out);
            }
        }
    }

    /// Builds the change `event` makes to `action`, stamped `now`, under
    /// the stored policy `sp`.
    #[allow(clippy::too_many_arguments)]
    fn change(
        &self,
        sp: &StoredPolicy,
        action: &Action,
        actor: &Principal,
        event: Event,
        facts: Facts,
        comment: Option<String>,
        now: DateTime<Utc>,
        mutate: impl FnOnce(&mut Action, DateTime<Utc>),
    ) -> Result<Change> {
        let from = action.status;
        let to = machine::next(Some(from), event, facts).map_err(|e| with_id(e, action.id))?;
        let mut next = action.clone();
        mutate(&mut next, now);
        // The approval window means something only while the action waits
        // in it, or as the moment it closed.
        if from == Status::Pending && to != Status::Pending && event != Event::Expire {
            next.expires_at = None;
        }
        next.status = to;
        next.version = action.version + 1;
        next.updated_at = now;
        next.doc_version = next.doc_version.max(DOC_VERSION);
        let audit = NewEvent {
            action_id: Some(action.id),
            at: now,
            actor: actor.id.clone(),
            via: actor.via.clone(),
            event,
            from: Some(from),
            to: Some(to),
            comment,
            version: next.version,
            digest: action_digest(&next),
            policy_version: Some(sp.version),
        };
        Ok(Change {
            action: next,
            expected_version: action.version,
            event: Some(audit),
            policy_version: Some(sp.version),
            basis: None,
        })
    }

    /// Stores a change with its audit event and tells the subscribers.
    fn commit(&self, change: Change) -> Result<Action> {
        let updated = change.action.clone();
        if let Some(sealed) = self.inner.store.apply(change)? {
            self.notify(&sealed);
        }
        self.recent(|r| r.keep(&updated));
        Ok(updated)
    }

    /// The change `decide` makes to this handle's kept copy of action
    /// `id` (at version `expected`, when given), stored with the copy as
    /// its [`basis`](Change::basis): the store refuses it unless the
    /// stored action is still the copy. `None` when there is no copy, or
    /// the copy did not hold (`decide` failed on it, or the store refused
    /// it with `Conflict`): the caller then reads the action and decides
    /// again, as if nothing had been kept. Any other refusal of the store
    /// was made on the current action, and is the answer (a failing store
    /// is not asked twice).
    fn on_kept_copy(
        &self,
        id: ActionId,
        expected: Option<u64>,
        decide: impl FnOnce(&Action) -> Result<Change>,
    ) -> Option<Result<Action>> {
        let kept = self.recent(|r| r.take(id)).flatten()?;
        if expected.is_some_and(|v| v != kept.version) {
            return None;
        }
        let mut change = decide(&kept).ok()?;
        change.basis = Some(Box::new(kept));
        match self.commit(change) {
            Err(Error::Conflict { .. }) => None,
            done => Some(done),
        }
    }

    /// `f` on the actions this handle keeps, if it keeps any.
    fn recent<T>(&self, f: impl FnOnce(&mut Recent) -> T) -> Option<T> {
        let recent = self.inner.recent.as_ref()?;
        // A panic elsewhere cannot leave a copy half-written: each is
        // inserted whole, and none is trusted anyway.
        let mut recent = recent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(f(&mut recent))
    }
}

/// Whether `action` is still at the version the caller saw (when it names
/// one): a `conflict` if not. A caller whose step `plan` refuses for want
/// of permission, or who may not view the action at all (a principal the
/// policy refuses included), gets the step's refusal instead, as without
/// a version, and one whose step would go through but who may not view
/// the action gets View's refusal: who may not act on an action, or see
/// it, learns nothing of its version.
fn at_version(
    policy: &Policy,
    by: &Principal,
    action: &Action,
    expected: Option<u64>,
    plan: impl FnOnce(&Action) -> Result<Change>,
) -> Result<()> {
    match expected {
        // Versions start at 1: a 0 is no version the caller was shown.
        Some(0) => Err(no_version_zero()),
        Some(v) if v != action.version => {
            let planned = plan(action);
            let viewed = policy.check(by, Operation::View, action.category);
            match (planned, viewed) {
                (Err(e), _) if e.kind() == ErrorKind::PermissionDenied => Err(e),
                (Err(e), Err(_)) => Err(e),
                (Ok(_), Err(denied)) => Err(denied),
                (_, Ok(())) => Err(Error::Conflict {
                    id: action.id,
                    expected: v,
                    actual: action.version,
                }),
            }
        }
        _matches => Ok(()),
    }
}

/// The refusal of an expected version 0, which no action or policy has.
fn no_version_zero() -> Error {
    Error::validation(
        "expected_version",
        "versions start at 1: no action or policy is at version 0",
    )
}

/// The first kept count (per category and status) that is not the
/// number of stored actions `tally` counted, in words.
fn kept_counts_off(
    store: &dyn Store,
    tally: &HashMap<(Category, Status), u64>,
) -> Result<Option<String>> {
    // Each category, then all of them: the badges without a category
    // filter sum every kept row, one of a category no action has too. A
    // kept row the reader refuses (a status no action has, a count below
    // zero) is a finding too, unless trying again may cure it.
    let scopes = Category::ALL.into_iter().map(Some).chain([None]);
    for category in scopes {
        let filter = Filter {
            categories: category.into_iter().collect(),
            ..Filter::default()
        };
        let kept = match store.count(&filter) {
            Ok(kept) => kept,
            Err(e) if e.kind() == ErrorKind::Storage && !e.is_retryable() => {
                return Ok(Some(e.to_string()));
            }
            Err(e) => return Err(e),
        };
        for status in Status::ALL {
            let stored: u64 = tally
                .iter()
                .filter(|((c, s), _)| *s == status && category.is_none_or(|want| *c == want))
                .map(|(_, n)| n)
                .sum();
            let badge = kept.get(status);
            if stored != badge {
                let what = category.map_or_else(String::new, |c| format!("{c} "));
                return Ok(Some(format!(
                    "{stored} {what}actions are {status}, the kept count says {badge}"
                )));
            }
        }
    }
    Ok(None)
}

/// View on every category: what reading the whole trail needs.
fn sees_everything(policy: &Policy, by: &Principal) -> Result<()> {
    for category in Category::ALL {
        policy.check(by, Operation::View, category)?;
    }
    Ok(())
}

/// The engine's own principal, for the events of its sweeps.
fn system() -> Principal {
    Principal::new(SYSTEM_ACTOR, Vec::<String>::new())
}

fn not_a_principal(id: &str) -> Error {
    Error::PermissionDenied {
        principal: id.to_owned(),
        operation: Operation::View,
        category: None,
        detail: Some(format!(
            "{id} is not among the principals of the stored policy"
        )),
    }
}

fn decision(
    by: &Principal,
    at: DateTime<Utc>,
    verdict: Verdict,
    comment: Option<String>,
    policy_version: u64,
) -> Decision {
    Decision {
        by: by.id.clone(),
        at,
        verdict,
        comment,
        via: by.via.clone(),
        policy_version: Some(policy_version),
        extra: serde_json::Map::new(),
    }
}

/// The answer to a proposal whose idempotency key is taken.
/// The store finds only the proposer's own keys, so `existing` is theirs.
fn same_proposal(existing: Action, key: &str, digest: &str) -> Result<Action> {
    if existing.proposal_digest.as_deref() == Some(digest) {
        Ok(existing)
    } else {
        Err(Error::Duplicate {
            kind: existing.kind.clone(),
            entity: existing.entity.describe(),
            existing: existing.id,
            idempotency_key: Some(key.to_owned()),
        })
    }
}

/// The audit event of a stored policy version.
fn policy_event(
    stored: &StoredPolicy,
    by: Option<&Principal>,
    comment: Option<String>,
) -> NewEvent {
    NewEvent {
        action_id: None,
        at: stored.set_at,
        actor: stored.set_by.clone(),
        via: by.and_then(|b| b.via.clone()),
        event: Event::SetPolicy,
        from: None,
        to: None,
        comment,
        version: stored.version,
        digest: stored.digest.clone(),
        policy_version: Some(stored.version),
    }
}

/// A token naming a bulk selection for one operation: its size and a
/// digest of the operation and its items.
fn snapshot_token(event: Event, items: &[Seen]) -> String {
    let mut sorted: Vec<(String, u64)> = items
        .iter()
        .map(|s| (s.id.to_string(), s.version))
        .collect();
    sorted.sort();
    let text = serde_json::to_string(&(event, &sorted)).unwrap_or_default();
    format!("{}-{}", items.len(), &sha256_hex(text.as_bytes())[..32])
}

/// Whether `token` has the shape [`snapshot_token`] gives.
fn is_snapshot_token(token: &str) -> bool {
    token.split_once('-').is_some_and(|(n, digest)| {
        // A count a selection can have: 20 digits can pass u64.
        n.parse::<u64>().is_ok()
            && n.bytes().all(|b| b.is_ascii_digit())
            && digest.len() == 32
            && digest.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn snapshot_count(token: &str) -> u64 {
    token
        .split_once('-')
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0)
}

/// 128 random bits, hex: a claim's fencing token.
fn new_lease_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::storage_msg(format!("no random source for a lease token: {e}")))?;
    Ok(hex::encode(bytes))
}

fn ensure_allowed(action: &Action, event: Event) -> Result<()> {
    machine::next(Some(action.status), event, Facts::default())
        .map(|_| ())
        .map_err(|e| with_id(e, action.id))
}

fn with_id(e: Error, id: ActionId) -> Error {
    match e {
        Error::InvalidTransition { status, event, .. } => Error::InvalidTransition {
            id: Some(id),
            status,
            event,
        },
        other => other,
    }
}

fn finish_attempt(a: &mut Action, now: DateTime<Utc>, outcome: Outcome) {
    if let Some(attempt) = a.attempts.last_mut().filter(|t| t.outcome.is_none()) {
        attempt.finished_at = Some(now);
        attempt.outcome = Some(outcome);
    }
}

fn lease_duration(seconds: i64) -> Result<Duration> {
    let lease = Duration::try_seconds(seconds).filter(|d| *d > Duration::zero() && *d <= MAX_LEASE);
    lease.ok_or_else(|| {
        Error::validation(
            "lease_seconds",
            format!(
                "must be between 1 and {}, got {seconds}",
                MAX_LEASE.num_seconds()
            ),
        )
    })
}

fn join(types: &[crate::model::EntityType]) -> String {
    types
        .iter()
        .map(|t| format!("a {t}"))
        .collect::<Vec<_>>()
        .join(" or ")
}

const _: () = {
    const fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<ActionCenter>();
};
