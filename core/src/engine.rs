//! [`ActionCenter`]: the facade every binding calls.
//!
//! Each verb loads the action, checks the caller's permission and the
//! policy, asks [`machine::next`] for the new status, and hands the store
//! one [`Change`] to apply atomically with its audit event.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::audit::{AuditEvent, AuditReport, NewEvent, Verifier};
use crate::clock::{Clock, SystemClock, to_micros};
pub use crate::error::parse_json;
use crate::error::{Error, Result};
use crate::machine::{self, Event, Facts};
use crate::model::{
    Action, ActionId, Attempt, Category, Decision, Entity, Kind, MAX_COMMENT_LEN, Note, Outcome,
    Source, Status, UndoInfo, Verdict, check_comment, check_json_size, check_required,
};
use crate::policy::{AutomationLevel, Operation, Policy, Principal};
use crate::query::{Counts, Filter, MAX_PAGE, Page, PageRequest};
use crate::store::{Change, ClaimScope, MemoryStore, Store};

/// The actor named in audit events the engine writes on its own.
pub const SYSTEM_ACTOR: &str = "system";
/// The longest lease an executor may take or renew.
pub const MAX_LEASE: Duration = Duration::hours(24);
/// The most actions one bulk call selected by a filter acts on.
pub const MAX_BULK: usize = 10_000;

/// What a proposer asks for.
///
/// ```json
/// {"kind": "isolate_device",
///  "entity": {"type": "device", "device_id": "dev-42"},
///  "source": {"type": "automated_investigation", "investigation_id": "inv-7"},
///  "parameters": {"isolation": "full"}}
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
        }
    }

    /// Parses a proposal from JSON, naming the bad field on error.
    pub fn from_json(text: &str) -> Result<Proposal> {
        parse_json("proposal", text)
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
}

/// What an executor wants to claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClaimRequest {
    /// How many actions at most, 1 to 1000.
    pub limit: usize,
    /// How long the executor holds each action before it goes back to the queue.
    pub lease_seconds: i64,
    /// Only these kinds; empty for any.
    pub kinds: Vec<Kind>,
}

impl Default for ClaimRequest {
    fn default() -> Self {
        ClaimRequest {
            limit: 1,
            lease_seconds: 300,
            kinds: Vec::new(),
        }
    }
}

/// What an undo does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UndoRequest {
    /// Why; required.
    pub comment: String,
    /// For a quarantined file: also undo every other completed quarantine
    /// of the same file ("apply to N more instances").
    pub all_instances: bool,
}

/// What an undo did.
#[derive(Debug, Serialize)]
pub struct UndoReport {
    /// The action asked for, now Undoing.
    pub action: Action,
    /// One result per other instance of the same file, when fanned out.
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
}

/// Which actions a bulk operation acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// These actions.
    Ids(Vec<ActionId>),
    /// Every action the filter matches that is in a status the operation
    /// can leave from (so "approve investigation X" touches only its
    /// pending actions), at most [`MAX_BULK`].
    Filter(Filter),
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

type Subscriber = Arc<dyn Fn(&AuditEvent) + Send + Sync>;

struct Inner {
    store: Arc<dyn Store>,
    policy: RwLock<Arc<Policy>>,
    clock: Arc<dyn Clock>,
    subscribers: RwLock<Vec<(u64, Subscriber)>>,
    next_subscriber: std::sync::atomic::AtomicU64,
}

/// The engine. Cheap to clone (one `Arc`), `Send + Sync`: share one per
/// process.
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
/// let action = center.approve(&alice, action.id, &Decide::default())?;
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
    /// An engine over `store` with `policy` and the system clock.
    pub fn new(store: impl Store, policy: Policy) -> ActionCenter {
        ActionCenter::with_clock(Arc::new(store), policy, Arc::new(SystemClock))
    }

    /// An engine with an injected clock.
    pub fn with_clock(
        store: Arc<dyn Store>,
        policy: Policy,
        clock: Arc<dyn Clock>,
    ) -> ActionCenter {
        ActionCenter {
            inner: Arc::new(Inner {
                store,
                policy: RwLock::new(Arc::new(policy)),
                clock,
                subscribers: RwLock::new(Vec::new()),
                next_subscriber: std::sync::atomic::AtomicU64::new(1),
            }),
        }
    }

    /// An engine over a fresh [`MemoryStore`] with the default policy.
    pub fn in_memory() -> ActionCenter {
        ActionCenter::new(MemoryStore::new(), Policy::default())
    }

    /// An engine over the SQLite database at `path` (created if missing)
    /// with the default policy.
    #[cfg(feature = "sqlite")]
    pub fn open_sqlite(path: impl AsRef<std::path::Path>) -> Result<ActionCenter> {
        let store = crate::store::SqliteStore::open(path)?;
        Ok(ActionCenter::new(store, Policy::default()))
    }

    /// An engine over the PostgreSQL database at `url` (a
    /// `postgres://user:password@host:port/dbname` URL or a
    /// `host=... user=... dbname=...` string) with the default policy.
    /// The tables are created, or migrated forward, on first use. For a
    /// schema of its own or another pool size, build the store with
    /// [`PostgresStore::connect_with`](crate::store::PostgresStore::connect_with)
    /// and pass it to [`ActionCenter::new`].
    #[cfg(feature = "postgres")]
    pub fn open_postgres(url: &str) -> Result<ActionCenter> {
        let store = crate::store::PostgresStore::connect(url)?;
        Ok(ActionCenter::new(store, Policy::default()))
    }

    /// The policy in force.
    pub fn policy(&self) -> Arc<Policy> {
        self.inner
            .policy
            .read()
            .map(|p| Arc::clone(&p))
            .unwrap_or_else(|p| Arc::clone(&p.into_inner()))
    }

    /// Replaces the policy after validating it. Calls under way finish
    /// with the policy they started with.
    pub fn set_policy(&self, policy: Policy) -> Result<()> {
        policy.validate()?;
        let mut slot = self.inner.policy.write().unwrap_or_else(|p| p.into_inner());
        *slot = Arc::new(policy);
        Ok(())
    }

    /// The store behind this engine.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.inner.store
    }

    /// The engine's current time, in whole microseconds.
    pub fn now(&self) -> DateTime<Utc> {
        to_micros(self.inner.clock.now())
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

    // ----- proposing ---------------------------------------------------

    /// Records a proposed action: Pending when the policy wants a
    /// person's approval, Approved when it does not.
    ///
    /// A `manual_response` source must name the proposing principal.
    pub fn propose(&self, by: &Principal, proposal: Proposal) -> Result<Action> {
        let policy = self.policy();
        let p = proposal;
        p.entity.validate()?;
        p.source.validate()?;
        for (field, value) in [
            ("investigation_id", &p.investigation_id),
            ("incident_id", &p.incident_id),
            ("alert_id", &p.alert_id),
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
        policy.check(by, Operation::Propose, category)?;
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
                policy.check(by, Operation::Approve, category)?;
                policy.quorum(&p.kind) > 1
            }
            _automated => match policy.automation_level(&p.kind, category, source_type) {
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
        let now = self.now();
        let investigation_id = p.investigation_id.or_else(|| match &p.source {
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
                    })?,
            ),
            _decided => None,
        };
        let manual = matches!(p.source, Source::ManualResponse { .. });
        let action = Action {
            id: ActionId::new_at(now),
            category,
            expires_at,
            kind: p.kind,
            entity: p.entity,
            source: p.source,
            investigation_id,
            incident_id: p.incident_id,
            alert_id: p.alert_id,
            parameters: p.parameters,
            created_at: now,
            created_by: by.id.clone(),
            status,
            decisions: if manual {
                vec![Decision {
                    by: by.id.clone(),
                    at: now,
                    verdict: Verdict::Approve,
                    comment: comment.clone(),
                }]
            } else {
                Vec::new()
            },
            attempts: Vec::new(),
            cancellation: None,
            undo: None,
            updated_at: now,
            version: 1,
        };
        let event = NewEvent {
            action_id: action.id,
            at: now,
            actor: by.id.clone(),
            event: Event::Propose,
            from: None,
            to: status,
            comment,
        };
        let sealed = self.inner.store.insert(&action, event)?;
        self.notify(&sealed);
        Ok(action)
    }

    // ----- deciding ----------------------------------------------------

    /// Approves a pending action. Short of the kind's quorum the approval
    /// is recorded and the action stays Pending.
    pub fn approve(&self, by: &Principal, id: ActionId, decide: &Decide) -> Result<Action> {
        let policy = self.policy();
        let action = self.load_expecting(id, decide.expected_version)?;
        policy.check(by, Operation::Approve, action.category)?;
        let comment = check_comment(decide.comment.as_deref(), false)?;
        ensure_allowed(&action, Event::Approve)?;
        self.ensure_window_open(&action)?;
        if action.created_by == by.id && !policy.allow_self_approval() {
            return Err(Error::SelfApproval {
                principal: by.id.clone(),
                id,
            });
        }
        let approvers = action.approvers();
        if approvers.contains(&by.id.as_str()) {
            return Err(Error::validation(
                "principal",
                format!(
                    "{} already approved action {id}; the quorum needs distinct approvers",
                    by.id
                ),
            ));
        }
        let quorum = policy.quorum(&action.kind) as usize;
        let facts = Facts {
            quorum_reached: approvers.len() + 1 >= quorum,
            ..Facts::default()
        };
        self.transition(
            action,
            &by.id,
            Event::Approve,
            facts,
            comment.clone(),
            |a, now| {
                a.decisions.push(Decision {
                    by: by.id.clone(),
                    at: now,
                    verdict: Verdict::Approve,
                    comment,
                });
            },
        )
    }

    /// Rejects a pending action. A comment is required.
    pub fn reject(&self, by: &Principal, id: ActionId, decide: &Decide) -> Result<Action> {
        let action = self.load_expecting(id, decide.expected_version)?;
        self.policy()
            .check(by, Operation::Approve, action.category)?;
        let comment = check_comment(decide.comment.as_deref(), true)?;
        ensure_allowed(&action, Event::Reject)?;
        self.ensure_window_open(&action)?;
        self.transition(
            action,
            &by.id,
            Event::Reject,
            Facts::default(),
            comment.clone(),
            |a, now| {
                a.decisions.push(Decision {
                    by: by.id.clone(),
                    at: now,
                    verdict: Verdict::Reject,
                    comment,
                });
            },
        )
    }

    /// Cancels a pending or approved action. The proposer may always
    /// cancel; others need the Cancel permission. A comment is required.
    pub fn cancel(&self, by: &Principal, id: ActionId, comment: &str) -> Result<Action> {
        let policy = self.policy();
        let action = self.load(id)?;
        policy.check_principal(by)?;
        if action.created_by != by.id {
            policy.check(by, Operation::Cancel, action.category)?;
        }
        let comment = check_comment(Some(comment), true)?;
        let note = comment.clone().unwrap_or_default();
        self.transition(
            action,
            &by.id,
            Event::Cancel,
            Facts::default(),
            comment,
            |a, now| {
                a.cancellation = Some(Note {
                    by: by.id.clone(),
                    at: now,
                    comment: note,
                });
            },
        )
    }

    /// Sends a failed action back to the queue, within the kind's maximum
    /// number of attempts.
    pub fn retry(&self, by: &Principal, id: ActionId, comment: Option<&str>) -> Result<Action> {
        let policy = self.policy();
        let action = self.load(id)?;
        policy.check(by, Operation::Approve, action.category)?;
        let comment = check_comment(comment, false)?;
        ensure_allowed(&action, Event::Retry)?;
        let max = policy.max_attempts(&action.kind);
        if action.forward_attempts() >= max {
            return Err(Error::validation(
                "attempts",
                format!(
                    "action {id} ran {} times; {} allows {max}",
                    action.forward_attempts(),
                    action.kind
                ),
            ));
        }
        self.transition(
            action,
            &by.id,
            Event::Retry,
            Facts::default(),
            comment,
            |_, _| {},
        )
    }

    // ----- executing ---------------------------------------------------

    /// Takes up to `request.limit` actions waiting for an executor
    /// (Approved, or Undoing) with a lease of `request.lease_seconds`.
    /// Concurrent executors never get the same action. The executor must
    /// renew the lease with [`heartbeat`](Self::heartbeat) before it runs
    /// out, or [`recover_leases`](Self::recover_leases) returns the action
    /// to the queue.
    pub fn claim(&self, executor: &Principal, request: &ClaimRequest) -> Result<Vec<Action>> {
        let policy = self.policy();
        policy.check_principal(executor)?;
        if request.limit == 0 || request.limit > MAX_PAGE {
            return Err(Error::validation(
                "limit",
                format!("must be between 1 and {MAX_PAGE}, got {}", request.limit),
            ));
        }
        let lease = lease_duration(request.lease_seconds)?;
        let categories: Vec<Category> = policy
            .categories_allowed(executor, Operation::Execute)
            .into_iter()
            .collect();
        if categories.is_empty() {
            return Err(policy.denied(executor, Operation::Execute, None));
        }
        let now = self.now();
        let scope = ClaimScope {
            categories,
            kinds: request.kinds.clone(),
            limit: request.limit,
        };
        let mut build = |candidate: &Action| -> Option<Change> {
            let undo = candidate.status == Status::Undoing;
            self.change(
                candidate,
                &executor.id,
                Event::Claim,
                Facts::default(),
                None,
                now,
                |a, now| {
                    a.attempts.push(Attempt {
                        executor: executor.id.clone(),
                        claimed_at: now,
                        lease_until: now + lease,
                        undo,
                        finished_at: None,
                        outcome: None,
                    });
                },
            )
            .ok()
        };
        let claimed = self.inner.store.claim(&scope, &mut build)?;
        let mut out = Vec::with_capacity(claimed.len());
        for (action, event) in claimed {
            self.notify(&event);
            out.push(action);
        }
        Ok(out)
    }

    /// Renews the lease the executor holds on an action.
    pub fn heartbeat(
        &self,
        executor: &Principal,
        id: ActionId,
        lease_seconds: i64,
    ) -> Result<Action> {
        let lease = lease_duration(lease_seconds)?;
        let action = self.load_leased(executor, id, Event::Heartbeat)?;
        let now = self.now();
        let change = self.change(
            &action,
            &executor.id,
            Event::Heartbeat,
            Facts::default(),
            None,
            now,
            |a, now| {
                if let Some(attempt) = a.attempts.last_mut() {
                    attempt.lease_until = now + lease;
                }
            },
        )?;
        let updated = change.action.clone();
        self.inner.store.apply(Change {
            event: None,
            ..change
        })?;
        Ok(updated)
    }

    /// Records that the executor carried the action (or its undo) out.
    pub fn complete(
        &self,
        executor: &Principal,
        id: ActionId,
        result: serde_json::Value,
    ) -> Result<Action> {
        check_json_size("result", &result)?;
        let action = self.load_leased(executor, id, Event::Complete)?;
        self.transition(
            action,
            &executor.id,
            Event::Complete,
            Facts::default(),
            None,
            |a, now| {
                finish_attempt(a, now, Outcome::Completed { result });
            },
        )
    }

    /// Records that the action (or its undo) failed. `error` is required.
    pub fn fail(&self, executor: &Principal, id: ActionId, error: &str) -> Result<Action> {
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
            Err(_) => return Err(Error::validation("error", "an error message is required")),
        };
        let action = self.load_leased(executor, id, Event::Fail)?;
        let comment = Some(error.clone());
        self.transition(
            action,
            &executor.id,
            Event::Fail,
            Facts::default(),
            comment,
            |a, now| {
                finish_attempt(a, now, Outcome::Failed { error });
            },
        )
    }

    // ----- undoing -----------------------------------------------------

    /// Asks for a completed action to be undone: it becomes Undoing and
    /// an executor runs its inverse. With `all_instances`, a quarantined
    /// file is restored everywhere: every other completed quarantine of
    /// the same SHA-256 is undone too, each checked on its own.
    pub fn undo(&self, by: &Principal, id: ActionId, request: &UndoRequest) -> Result<UndoReport> {
        let action = self.undo_one(by, id, &request.comment, None)?;
        let instances = if request.all_instances {
            self.other_instances(&action)?
                .into_iter()
                .map(|other| ItemResult {
                    id: other.id,
                    result: self.undo_one(by, other.id, &request.comment, Some(id)),
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok(UndoReport { action, instances })
    }

    /// The other completed quarantines of the same file that
    /// `undo(..., all_instances: true)` would also undo.
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
    /// returns what `all_instances` would also undo. A host asks this
    /// before it asks a person to confirm. With `comment: None` the
    /// comment is not checked.
    pub fn check_undo(
        &self,
        by: &Principal,
        id: ActionId,
        comment: Option<&str>,
    ) -> Result<Vec<Action>> {
        let action = self.load(id)?;
        self.undo_checks(by, &action)?;
        if comment.is_some() {
            check_comment(comment, true)?;
        }
        self.other_instances(&action)
    }

    /// The rules of an undo but its comment: permission, status, an
    /// inverse to run. Returns the inverse.
    fn undo_checks(&self, by: &Principal, action: &Action) -> Result<Kind> {
        self.policy().check(by, Operation::Undo, action.category)?;
        ensure_allowed(action, Event::Undo)?;
        action.kind.inverse().ok_or_else(|| {
            Error::validation("kind", format!("{} actions cannot be undone", action.kind))
        })
    }

    fn undo_one(
        &self,
        by: &Principal,
        id: ActionId,
        comment: &str,
        fanned_out_from: Option<ActionId>,
    ) -> Result<Action> {
        let action = self.load(id)?;
        let inverse = self.undo_checks(by, &action)?;
        let comment = check_comment(Some(comment), true)?;
        let note = comment.clone().unwrap_or_default();
        self.transition(
            action,
            &by.id,
            Event::Undo,
            Facts::default(),
            comment,
            |a, now| {
                a.undo = Some(UndoInfo {
                    requested_by: by.id.clone(),
                    requested_at: now,
                    comment: note,
                    inverse,
                    fanned_out_from,
                });
            },
        )
    }

    // ----- bulk --------------------------------------------------------

    /// Runs one operation over many actions. Each item goes through the
    /// same checks as the single call and gets its own result; a failed
    /// item never undoes the others.
    pub fn bulk(
        &self,
        by: &Principal,
        op: &BulkOp,
        selection: &Selection,
    ) -> Result<Vec<ItemResult>> {
        self.policy().check_principal(by)?;
        let ids: Vec<ActionId> = match selection {
            Selection::Ids(ids) => ids.clone(),
            Selection::Filter(filter) => {
                filter.validate()?;
                let leaving: Vec<Status> = machine::TABLE
                    .iter()
                    .filter(|r| r.event == op.event())
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
                if filter.statuses.is_empty() {
                    return Ok(Vec::new());
                }
                if !self.restrict_to_viewable(by, &mut filter)? {
                    return Ok(Vec::new());
                }
                self.collect(&filter, MAX_BULK)?
                    .into_iter()
                    .map(|a| a.id)
                    .collect()
            }
        };
        Ok(ids
            .into_iter()
            .map(|id| {
                let result = match op {
                    BulkOp::Approve { comment } => self.approve(
                        by,
                        id,
                        &Decide {
                            comment: comment.clone(),
                            expected_version: None,
                        },
                    ),
                    BulkOp::Reject { comment } => {
                        self.reject(by, id, &Decide::with_comment(comment.clone()))
                    }
                    BulkOp::Cancel { comment } => self.cancel(by, id, comment),
                    BulkOp::Retry { comment } => self.retry(by, id, comment.as_deref()),
                    BulkOp::Undo { comment } => self.undo_one(by, id, comment, None),
                };
                ItemResult { id, result }
            })
            .collect())
    }

    // ----- reading -----------------------------------------------------

    /// One action, if `by` may view its category.
    pub fn get(&self, by: &Principal, id: ActionId) -> Result<Action> {
        let action = self.load(id)?;
        self.policy().check(by, Operation::View, action.category)?;
        Ok(action)
    }

    /// The action whose id starts with `prefix` (like git's short ids).
    /// An ambiguous prefix is a `Validation` error listing the candidates.
    pub fn resolve_id(&self, prefix: &str) -> Result<ActionId> {
        let prefix = prefix.trim();
        if let Ok(id) = prefix.parse::<ActionId>() {
            return Ok(id);
        }
        if prefix.len() < 4 || !prefix.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(Error::validation(
                "id",
                format!("{prefix:?} is neither an id nor a prefix of 4+ hex digits"),
            ));
        }
        let found = self.inner.store.ids_with_prefix(prefix, 6)?;
        match found.as_slice() {
            [] => Err(Error::NotFound {
                id: prefix.to_owned(),
            }),
            [one] => Ok(*one),
            many => Err(Error::validation(
                "id",
                format!(
                    "prefix {prefix:?} is ambiguous: {}{}",
                    many.iter()
                        .take(5)
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    if many.len() > 5 { ", ..." } else { "" }
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
    /// spans them all.
    pub fn events_since(&self, by: &Principal, seq: u64, limit: usize) -> Result<Vec<AuditEvent>> {
        let policy = self.policy();
        for category in Category::ALL {
            policy.check(by, Operation::View, category)?;
        }
        if limit == 0 || limit > MAX_PAGE {
            return Err(Error::validation(
                "limit",
                format!("must be between 1 and {MAX_PAGE}, got {limit}"),
            ));
        }
        self.inner.store.events_since(seq, limit)
    }

    /// Recomputes the audit chain and reports the first event that does
    /// not match.
    pub fn verify_audit(&self) -> Result<AuditReport> {
        let mut verifier = Verifier::default();
        loop {
            let batch = self
                .inner
                .store
                .events_since(verifier.last_seq(), MAX_PAGE)?;
            if batch.is_empty() || !verifier.feed(&batch) {
                break;
            }
        }
        Ok(verifier.finish())
    }

    // ----- sweeps ------------------------------------------------------

    /// Moves every pending action whose approval window has closed to its
    /// kind's expiry outcome. Returns the actions moved. Safe to run from
    /// many processes at once: an action another sweep moved is skipped.
    pub fn expire_due(&self) -> Result<Vec<Action>> {
        let policy = self.policy();
        self.sweep(
            |now| self.inner.store.expiring(now, MAX_PAGE),
            |action| {
                let facts = Facts {
                    expiry_outcome: policy.expiry_outcome(&action.kind),
                    ..Facts::default()
                };
                self.transition(action, SYSTEM_ACTOR, Event::Expire, facts, None, |_, _| {})
            },
        )
    }

    /// Returns every action whose executor's lease ran out to the queue:
    /// Running goes back to Approved (the attempt counts) or, once the
    /// kind's max attempts are spent, to Failed, so an action that kills
    /// its executors cannot loop forever; Undoing waits for another
    /// executor. Returns the actions moved.
    pub fn recover_leases(&self) -> Result<Vec<Action>> {
        let policy = self.policy();
        self.sweep(
            |now| self.inner.store.leases_expired(now, MAX_PAGE),
            |action| {
                let facts = Facts {
                    attempts_left: action.forward_attempts() < policy.max_attempts(&action.kind),
                    ..Facts::default()
                };
                self.transition(
                    action,
                    SYSTEM_ACTOR,
                    Event::LeaseExpire,
                    facts,
                    None,
                    |a, now| {
                        finish_attempt(a, now, Outcome::LeaseExpired);
                    },
                )
            },
        )
    }

    fn sweep(
        &self,
        due: impl Fn(DateTime<Utc>) -> Result<Vec<Action>>,
        step: impl Fn(Action) -> Result<Action>,
    ) -> Result<Vec<Action>> {
        let now = self.now();
        let mut moved = Vec::new();
        loop {
            let batch = due(now)?;
            let full = batch.len() == MAX_PAGE;
            let mut progress = false;
            for action in batch {
                match step(action) {
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

    fn load(&self, id: ActionId) -> Result<Action> {
        self.inner
            .store
            .get(id)?
            .ok_or_else(|| Error::NotFound { id: id.to_string() })
    }

    fn load_expecting(&self, id: ActionId, expected: Option<u64>) -> Result<Action> {
        let action = self.load(id)?;
        match expected {
            Some(v) if v != action.version => Err(Error::Conflict {
                id,
                expected: v,
                actual: action.version,
            }),
            _matches => Ok(action),
        }
    }

    /// Loads an action for its lease holder: the executor may execute its
    /// category, the event is allowed now, the executor holds the lease,
    /// and the lease has not run out.
    fn load_leased(&self, executor: &Principal, id: ActionId, event: Event) -> Result<Action> {
        let action = self.load(id)?;
        self.policy()
            .check(executor, Operation::Execute, action.category)?;
        ensure_allowed(&action, event)?;
        let Some(attempt) = action.active_attempt() else {
            return Err(Error::InvalidTransition {
                id: Some(id),
                status: action.status,
                event,
            });
        };
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
        Ok(action)
    }

    /// Adds `View` categories to `filter`. Returns `false` when `by` may
    /// view nothing the filter asks for.
    fn restrict_to_viewable(&self, by: &Principal, filter: &mut Filter) -> Result<bool> {
        let policy = self.policy();
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

    /// Builds the change `event` makes to `action`, stamped `now`.
    #[allow(clippy::too_many_arguments)]
    fn change(
        &self,
        action: &Action,
        actor: &str,
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
        let audit = NewEvent {
            action_id: action.id,
            at: now,
            actor: actor.to_owned(),
            event,
            from: Some(from),
            to,
            comment,
        };
        Ok(Change {
            action: next,
            expected_version: action.version,
            event: Some(audit),
        })
    }

    /// Applies `event` to `action` and stores it with its audit event.
    fn transition(
        &self,
        action: Action,
        actor: &str,
        event: Event,
        facts: Facts,
        comment: Option<String>,
        mutate: impl FnOnce(&mut Action, DateTime<Utc>),
    ) -> Result<Action> {
        let change = self.change(&action, actor, event, facts, comment, self.now(), mutate)?;
        let updated = change.action.clone();
        if let Some(sealed) = self.inner.store.apply(change)? {
            self.notify(&sealed);
        }
        Ok(updated)
    }
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
