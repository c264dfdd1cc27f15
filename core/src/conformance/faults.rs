//! A store that fails on purpose: storage faults for any backend.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};

use crate::audit::{AuditEvent, NewEvent};
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::identity::{Account, Credential, CredentialKind, Revoke};
use crate::model::{Action, ActionId};
use crate::policy::StoredPolicy;
use crate::query::{Counts, Filter};
use crate::store::{Change, ClaimFn, ClaimScope, Store};

/// Which storage calls a [`FaultyStore`] fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// None: every call goes through (to count them).
    Never,
    /// Only call `n` (from 1): a transient fault.
    Once(u64),
    /// Call `n` and every call after it: a dead disk.
    From(u64),
}

/// Wraps any store, counts its storage calls (each [`Store`] method is
/// one call), and fails the calls its [`Fault`] names with
/// [`Error::Storage`], before they reach the store: a failed call changes
/// nothing there.
///
/// ```
/// use std::sync::Arc;
/// use actioncenter::conformance::{Fault, FaultyStore};
/// use actioncenter::{ActionCenter, ErrorKind, MemoryStore, Policy, SystemClock};
///
/// let store = Arc::new(FaultyStore::new(Arc::new(MemoryStore::new())));
/// let center = ActionCenter::with_clock(store.clone(), Policy::default(), Arc::new(SystemClock));
/// store.set_fault(Fault::From(store.calls() + 1));
/// assert_eq!(center.stored_policy().unwrap_err().kind(), ErrorKind::Storage);
/// ```
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    calls: AtomicU64,
    /// 0: never; else the call to fail; the high bit: and every one after.
    fault: AtomicU64,
    failed: AtomicU64,
    round_trips: bool,
}

const AFTER: u64 = 1 << 63;

impl std::fmt::Debug for FaultyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyStore")
            .field("calls", &self.calls())
            .field("failed", &self.failed())
            .finish_non_exhaustive()
    }
}

impl FaultyStore {
    /// `inner`, with no fault set.
    pub fn new(inner: Arc<dyn Store>) -> FaultyStore {
        FaultyStore {
            inner,
            calls: AtomicU64::new(0),
            fault: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            round_trips: false,
        }
    }

    /// Says its reads are round trips to a server
    /// ([`Store::reads_are_round_trips`]), as PostgreSQL does, whatever the
    /// wrapped store says: engines over it then decide on the pending
    /// actions they keep, and a test can count what that saves.
    pub fn with_round_trips(mut self) -> FaultyStore {
        self.round_trips = true;
        self
    }

    /// Which calls fail from now on (calls are counted from the store's
    /// creation, see [`calls`](Self::calls)).
    pub fn set_fault(&self, fault: Fault) {
        let v = match fault {
            Fault::Never => 0,
            Fault::Once(n) => n.min(AFTER - 1),
            Fault::From(n) => n.min(AFTER - 1) | AFTER,
        };
        self.fault.store(v, Ordering::SeqCst);
    }

    /// How many storage calls were made so far, failed ones included.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }

    /// How many calls were failed so far.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::SeqCst)
    }

    /// The wrapped store.
    pub fn inner(&self) -> &Arc<dyn Store> {
        &self.inner
    }

    fn tick(&self, what: &str) -> Result<()> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let fault = self.fault.load(Ordering::SeqCst);
        let at = fault & !AFTER;
        let fails = at != 0 && (n == at || (fault & AFTER != 0 && n > at));
        if fails {
            self.failed.fetch_add(1, Ordering::SeqCst);
            return Err(Error::storage_msg(format!(
                "injected fault: storage call {n} ({what}) failed"
            )));
        }
        Ok(())
    }
}

impl Store for FaultyStore {
    fn insert(&self, action: &Action, event: NewEvent) -> Result<AuditEvent> {
        self.tick("insert")?;
        self.inner.insert(action, event)
    }
    fn apply(&self, change: Change) -> Result<Option<AuditEvent>> {
        self.tick("apply")?;
        self.inner.apply(change)
    }
    fn apply_many(&self, changes: Vec<Change>) -> Result<Vec<Result<Option<AuditEvent>>>> {
        self.tick("apply_many")?;
        self.inner.apply_many(changes)
    }
    fn get(&self, id: ActionId) -> Result<Option<Action>> {
        self.tick("get")?;
        self.inner.get(id)
    }
    fn reads_are_round_trips(&self) -> bool {
        self.round_trips || self.inner.reads_are_round_trips()
    }
    fn find_by_idempotency_key(&self, proposer: &str, key: &str) -> Result<Option<Action>> {
        self.tick("find_by_idempotency_key")?;
        self.inner.find_by_idempotency_key(proposer, key)
    }
    fn ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<ActionId>> {
        self.tick("ids_with_prefix")?;
        self.inner.ids_with_prefix(prefix, limit)
    }
    fn list(&self, filter: &Filter, before: Option<ActionId>, limit: usize) -> Result<Vec<Action>> {
        self.tick("list")?;
        self.inner.list(filter, before, limit)
    }
    fn count(&self, filter: &Filter) -> Result<Counts> {
        self.tick("count")?;
        self.inner.count(filter)
    }
    fn expiring(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>> {
        self.tick("expiring")?;
        self.inner.expiring(now, limit)
    }
    fn leases_expired(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>> {
        self.tick("leases_expired")?;
        self.inner.leases_expired(now, limit)
    }
    fn claim(
        &self,
        scope: &ClaimScope,
        build: &mut ClaimFn<'_>,
    ) -> Result<Vec<(Action, AuditEvent)>> {
        self.tick("claim")?;
        self.inner.claim(scope, build)
    }
    fn events_since(&self, seq: u64, limit: usize) -> Result<Vec<AuditEvent>> {
        self.tick("events_since")?;
        self.inner.events_since(seq, limit)
    }
    fn events_of(&self, id: ActionId) -> Result<Vec<AuditEvent>> {
        self.tick("events_of")?;
        self.inner.events_of(id)
    }
    fn chain_head(&self) -> Result<(u64, String)> {
        self.tick("chain_head")?;
        self.inner.chain_head()
    }
    fn policy(&self) -> Result<Option<StoredPolicy>> {
        self.tick("policy")?;
        self.inner.policy()
    }
    fn policy_version(&self) -> Result<u64> {
        self.tick("policy_version")?;
        self.inner.policy_version()
    }
    fn set_policy(&self, policy: &StoredPolicy, event: NewEvent) -> Result<AuditEvent> {
        self.tick("set_policy")?;
        self.inner.set_policy(policy, event)
    }
    fn policy_history(&self) -> Result<Vec<StoredPolicy>> {
        self.tick("policy_history")?;
        self.inner.policy_history()
    }
    fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        self.tick("insert_checkpoint")?;
        self.inner.insert_checkpoint(checkpoint)
    }
    fn put_account(&self, account: &Account, create: bool) -> Result<()> {
        self.tick("put_account")?;
        self.inner.put_account(account, create)
    }
    fn account(&self, id: &str) -> Result<Option<Account>> {
        self.tick("account")?;
        self.inner.account(id)
    }
    fn accounts(&self) -> Result<Vec<Account>> {
        self.tick("accounts")?;
        self.inner.accounts()
    }
    fn put_credential(&self, credential: &Credential) -> Result<()> {
        self.tick("put_credential")?;
        self.inner.put_credential(credential)
    }
    fn credential(&self, hash: &str) -> Result<Option<Credential>> {
        self.tick("credential")?;
        self.inner.credential(hash)
    }
    fn credentials(&self, kind: CredentialKind) -> Result<Vec<Credential>> {
        self.tick("credentials")?;
        self.inner.credentials(kind)
    }
    fn touch_credential(&self, hash: &str, at: DateTime<Utc>) -> Result<()> {
        self.tick("touch_credential")?;
        self.inner.touch_credential(hash, at)
    }
    fn revoke_credentials(&self, which: &Revoke, at: DateTime<Utc>) -> Result<u64> {
        self.tick("revoke_credentials")?;
        self.inner.revoke_credentials(which, at)
    }
    fn hit(&self, key: &str, window: i64) -> Result<u64> {
        self.tick("hit")?;
        self.inner.hit(key, window)
    }
    fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        self.tick("checkpoints")?;
        self.inner.checkpoints()
    }
}
