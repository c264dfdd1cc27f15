//! Where actions and the audit trail live.
//!
//! The engine decides every transition; a [`Store`] only applies it:
//! atomically, with compare-and-set on the action's version, together
//! with its audit event. The trait is small and object safe, so a host
//! can bring its own backend and run the conformance suite against it.
//!
//! | backend | feature | for |
//! |---|---|---|
//! | [`MemoryStore`] | always | tests, short-lived tools |
//! | [`SqliteStore`] | `sqlite` (default) | one host, many processes |
//! | `PostgresStore` | `postgres` | many hosts, one queue |

use chrono::{DateTime, Utc};

use crate::audit::{AuditEvent, NewEvent};
use crate::checkpoint::Checkpoint;
use crate::error::Result;
use crate::identity::{Account, Credential, CredentialKind, Revoke};
use crate::model::{Action, ActionId, Category, Kind, Status};
use crate::policy::StoredPolicy;
use crate::query::{Counts, Filter};

pub mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod scheduler;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub(crate) mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;

/// The test server of the PostgreSQL store's own unit tests; the file is
/// shared with the integration tests.
#[cfg(all(test, feature = "postgres"))]
#[path = "../../tests/support/pg_cluster.rs"]
mod pg_test_cluster;

/// An isolation of device `dev` under the idempotency key `"k"`: the
/// proposal the stores' migration tests make on both sides of a schema
/// change.
#[cfg(all(test, any(feature = "sqlite", feature = "postgres")))]
pub(crate) fn keyed_isolation(dev: &str) -> crate::Proposal {
    crate::Proposal::new(
        Kind::IsolateDevice,
        crate::Entity::Device {
            device_id: dev.into(),
            name: None,
        },
        crate::Source::AutomatedInvestigation {
            investigation_id: "inv".into(),
        },
    )
    .with_idempotency_key("k")
}

pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresOptions, PostgresStore};
#[cfg(feature = "sqlite")]
pub use sqlite::{SqliteOptions, SqliteStore, Synchronous};

/// One change to apply: the action as it must be after it, the version
/// the stored action must still have, and the audit event to append.
#[derive(Debug, Clone)]
pub struct Change {
    /// The new state; its `version` is `expected_version + 1`.
    pub action: Action,
    pub expected_version: u64,
    /// `None` for changes that are not transitions (a lease renewal).
    pub event: Option<NewEvent>,
    /// The stored policy's version the change was decided under; when
    /// set, the store refuses the change with `PolicyChanged` if another
    /// version is stored by the time it applies.
    pub policy_version: Option<u64>,
    /// The action the change was decided on, when the engine decided on a
    /// copy it kept rather than one it read (see
    /// [`Store::reads_are_round_trips`]): the store refuses the change
    /// with `Conflict` unless the stored action is this one, field for
    /// field, besides being at `expected_version` (a newer library may
    /// rewrite a document without a new version). `None`: the version
    /// alone decides.
    pub basis: Option<Box<Action>>,
}

/// Which claimable actions an executor wants.
#[derive(Debug, Clone, Default)]
pub struct ClaimScope {
    /// Categories the executor may execute; none means none.
    pub categories: Vec<Category>,
    /// Only these kinds; empty for any.
    pub kinds: Vec<Kind>,
    pub limit: usize,
}

/// Builds the claim transition for a candidate, or `None` to skip it.
pub type ClaimFn<'a> = dyn FnMut(&Action) -> Option<Change> + 'a;

/// A backend. Every method is atomic on its own.
pub trait Store: Send + Sync + 'static {
    /// Stores a new action with the event that created it. Fails with
    /// `Conflict` if the id or its idempotency key exists, and with
    /// `Duplicate` if the action is [exclusive](Action::exclusive) and
    /// another exclusive action of its kind on its entity is active
    /// (see [`exclusive_key`]).
    fn insert(&self, action: &Action, event: NewEvent) -> Result<AuditEvent>;

    /// Applies a change if the stored version is `expected_version` (and
    /// the stored policy is `policy_version`, when set); otherwise
    /// `Conflict`, `PolicyChanged` (or `NotFound`), and nothing is written.
    /// The policy check must be part of the same atomic step: the engine
    /// decides a transition under the policy it last read and relies on
    /// this refusal when another handle stored a new one since.
    fn apply(&self, change: Change) -> Result<Option<AuditEvent>>;

    /// Applies many changes in one transaction, each on its own terms: a
    /// change that is refused is left out and reported, the others commit
    /// together. Returns one result per change, in order.
    fn apply_many(&self, changes: Vec<Change>) -> Result<Vec<Result<Option<AuditEvent>>>> {
        Ok(changes.into_iter().map(|c| self.apply(c)).collect())
    }

    /// The action with this id.
    fn get(&self, id: ActionId) -> Result<Option<Action>>;

    /// Whether each read is a round trip to a database server. The engine
    /// then keeps a copy of the pending actions it wrote last and of the
    /// actions it claimed, and decides an approval, a rejection, a
    /// cancellation, a heartbeat, a completion or a failure on that copy
    /// without reading first, sending the copy as the change's
    /// [`basis`](Change::basis): [`apply`](Self::apply) refuses the change
    /// if the stored action is not the copy, and the engine then reads it
    /// and decides again. A store that answers `true` must honour
    /// `basis`. In memory or in a file a read costs less than keeping the
    /// copy: `false`.
    fn reads_are_round_trips(&self) -> bool {
        false
    }

    /// The action `proposer` created under this idempotency key. A key
    /// is its proposer's own: two proposers may each use the same one.
    fn find_by_idempotency_key(&self, proposer: &str, key: &str) -> Result<Option<Action>>;

    /// Ids that start with `prefix` (hex digits and dashes), at most `limit`.
    fn ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<ActionId>>;

    /// Ids that start with `prefix` of actions in one of `categories`, at
    /// most `limit`, in id order. The default reads every id with the
    /// prefix and the action of each until it has `limit`; the library's
    /// stores filter in their index scan.
    fn ids_with_prefix_in(
        &self,
        prefix: &str,
        categories: &[Category],
        limit: usize,
    ) -> Result<Vec<ActionId>> {
        let mut found = Vec::new();
        for id in self.ids_with_prefix(prefix, usize::MAX)? {
            if found.len() == limit {
                break;
            }
            if self
                .get(id)?
                .is_some_and(|a| categories.contains(&a.category))
            {
                found.push(id);
            }
        }
        Ok(found)
    }

    /// Actions that pass `filter`, newest first, older than `before` when given.
    fn list(&self, filter: &Filter, before: Option<ActionId>, limit: usize) -> Result<Vec<Action>>;

    /// How many actions that pass `filter` are in each status.
    fn count(&self, filter: &Filter) -> Result<Counts>;

    /// Pending actions whose approval window closed at or before `now`, oldest first.
    fn expiring(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>>;

    /// Leased actions whose lease ran out at or before `now`, oldest first.
    fn leases_expired(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>>;

    /// Takes up to `scope.limit` claimable actions (Approved or Undoing,
    /// with no lease), oldest first, and applies the change `build` makes
    /// for each, in one atomic step. Concurrent claimers never get the
    /// same action.
    fn claim(
        &self,
        scope: &ClaimScope,
        build: &mut ClaimFn<'_>,
    ) -> Result<Vec<(Action, AuditEvent)>>;

    /// Audit events after `seq`, in order, at most `limit`.
    fn events_since(&self, seq: u64, limit: usize) -> Result<Vec<AuditEvent>>;

    /// The audit events of one action, in order.
    fn events_of(&self, id: ActionId) -> Result<Vec<AuditEvent>>;

    /// The last event's position and hash: `(0, GENESIS_HASH)` when empty.
    fn chain_head(&self) -> Result<(u64, String)>;

    /// The policy in force, if one was ever stored.
    fn policy(&self) -> Result<Option<StoredPolicy>>;

    /// The stored policy's version, 0 when none: asked before every call,
    /// so it must be cheap.
    fn policy_version(&self) -> Result<u64> {
        Ok(self.policy()?.map_or(0, |p| p.version))
    }

    /// Stores `policy` as the next version, with its audit event, if the
    /// stored version is `policy.version - 1`; otherwise `PolicyChanged`.
    fn set_policy(&self, policy: &StoredPolicy, event: NewEvent) -> Result<AuditEvent>;

    /// Every stored version of the policy, oldest first.
    fn policy_history(&self) -> Result<Vec<StoredPolicy>>;

    /// Stores a checkpoint if its `prev` is the latest stored checkpoint's
    /// signature (or it is the first); otherwise `Validation`.
    fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()>;

    /// Stores a local account: a new one when `create` (refused with a
    /// `Validation` error if the id exists), else replaces an existing one
    /// (`NotFound` if there is none).
    fn put_account(&self, account: &Account, create: bool) -> Result<()>;

    /// The local account with this id.
    fn account(&self, id: &str) -> Result<Option<Account>>;

    /// Every local account, by id.
    fn accounts(&self) -> Result<Vec<Account>>;

    /// Stores a new session or API token (its hash is unique).
    fn put_credential(&self, credential: &Credential) -> Result<()>;

    /// The credential whose secret has this hash.
    fn credential(&self, hash: &str) -> Result<Option<Credential>>;

    /// Every credential of a kind, oldest first.
    fn credentials(&self, kind: CredentialKind) -> Result<Vec<Credential>>;

    /// Sets `last_used_at` of a live credential.
    fn touch_credential(&self, hash: &str, at: DateTime<Utc>) -> Result<()>;

    /// Revokes the live credentials `which` names; how many it revoked.
    fn revoke_credentials(&self, which: &Revoke, at: DateTime<Utc>) -> Result<u64>;

    /// Counts one hit on `key` in fixed window `window` (a window index);
    /// the count so far in that window, this hit included. A hit in a
    /// later window starts the count again. Used for rate limits shared by
    /// every process on the database.
    fn hit(&self, key: &str, window: i64) -> Result<u64>;

    /// Every stored checkpoint, oldest first.
    fn checkpoints(&self) -> Result<Vec<Checkpoint>>;

    /// For `verify_audit`: rows whose columns are not what their doc
    /// says. A store that keeps columns derived from an action's doc (or
    /// a checkpoint's) compares them here; one that keeps only the docs
    /// has nothing to compare and keeps this default.
    fn rows_off_their_docs(&self) -> Result<RowsOffDocs> {
        Ok(RowsOffDocs::default())
    }
}

/// What [`Store::rows_off_their_docs`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowsOffDocs {
    /// The first action row (by id) whose derived column disagrees with
    /// its doc, and the column (`doc` when the doc does not decode).
    pub action: Option<(ActionId, String)>,
    /// The first checkpoint row whose columns disagree with its signed
    /// doc, in words naming it.
    pub checkpoint: Option<String>,
}

/// The key that makes an exclusive action unique among the active ones:
/// its kind and its entity, hashed. `None` when the action does not hold
/// the slot or is not active.
pub fn exclusive_key(a: &Action) -> Option<String> {
    holds_slot(a).then(|| {
        // The kind, a unit separator, the entity's canonical JSON.
        let prefix = format!("{}\u{1f}", a.kind);
        crate::canonical::with_text(
            &a.entity,
            crate::canonical::Prune::None,
            prefix.as_bytes(),
            crate::audit::sha256_hex,
        )
        .unwrap_or_else(|_| {
            let entity = serde_json::to_value(&a.entity).unwrap_or_default();
            let text = format!("{prefix}{}", crate::audit::canonical_json(&entity));
            crate::audit::sha256_hex(text.as_bytes())
        })
    })
}

/// The refusal of `action` entering its kind's one active slot on its
/// entity, which `existing` holds: on a proposal, or on a change that
/// brings the action back into the slot (a retry).
pub(crate) fn slot_taken(action: &Action, existing: ActionId) -> crate::error::Error {
    slot_of_taken(&action.kind, &action.entity, existing)
}

/// [`slot_taken`] of an action of `kind` on `entity`.
pub(crate) fn slot_of_taken(
    kind: &crate::model::Kind,
    entity: &crate::model::Entity,
    existing: ActionId,
) -> crate::error::Error {
    crate::error::Error::Duplicate {
        kind: kind.clone(),
        entity: entity.describe(),
        existing,
        idempotency_key: None,
    }
}

/// Whether `a` holds its kind's one active slot on its entity.
pub(crate) fn holds_slot(a: &Action) -> bool {
    holds_slot_in(a.exclusive, a.status)
}

/// Whether an action, exclusive or not, holds its slot in `status`.
pub(crate) fn holds_slot_in(exclusive: bool, status: Status) -> bool {
    exclusive && matches!(status, Status::Pending | Status::Approved | Status::Running)
}

/// Whether `change` moves its action into or out of its exclusive slot,
/// so a stored exclusive key must be written again. Not when the action
/// held the slot before and still does (its kind and entity never change,
/// so neither does the key), nor when it held it neither time; always
/// when the change says nothing of the status it leaves.
pub(crate) fn slot_moves(change: &Change) -> bool {
    match change.event.as_ref().and_then(|e| e.from) {
        Some(from) => holds_slot_in(change.action.exclusive, from) != holds_slot(&change.action),
        None => true,
    }
}

/// The one housekeeping thread of every SQLite connection pool open in
/// the process; it ends when the last SQLite store closes (see
/// [`scheduler`]).
#[cfg(feature = "sqlite")]
pub(crate) static SQLITE_THREADS: scheduler::Shared =
    scheduler::Shared::new("actioncenter-pool", 1);

/// The refusal of a second account with an existing id.
pub(crate) fn account_exists(id: &str) -> crate::error::Error {
    crate::error::Error::validation("account.id", format!("an account {id} exists already"))
}

/// The refusal of a credential whose id or hash is taken: a fault, since
/// both are drawn at random.
pub(crate) fn credential_exists() -> crate::error::Error {
    crate::error::Error::storage_msg("a credential with this id or hash exists")
}

/// The refusal of a checkpoint that does not follow the latest stored one
/// (another process signed one meanwhile).
pub(crate) fn checkpoint_race() -> crate::error::Error {
    crate::error::Error::validation(
        "checkpoint.prev",
        "another checkpoint was stored since this one was signed; sign again",
    )
}

/// Whether an action is waiting for an executor.
pub(crate) fn is_claimable(a: &Action) -> bool {
    matches!(a.status, Status::Approved | Status::Undoing) && a.active_attempt().is_none()
}
