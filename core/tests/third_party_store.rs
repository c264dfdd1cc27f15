//! The path a third-party backend takes: a store of its own (here a
//! newtype over [`MemoryStore`] that implements [`Store`] by delegation,
//! as an out-of-tree backend would implement it from scratch), and the
//! whole conformance suite with one macro call.

use std::sync::Arc;

use actioncenter::audit::{AuditEvent, NewEvent};
use actioncenter::chrono::{DateTime, Utc};
use actioncenter::conformance::Harness;
use actioncenter::identity::{Account, Credential, CredentialKind, Revoke};
use actioncenter::store::{Change, ClaimFn, ClaimScope};
use actioncenter::{
    Action, ActionId, Checkpoint, Counts, Filter, MemoryStore, Result, Store, StoredPolicy,
};

/// Someone else's backend: only the trait, nothing of core's.
#[derive(Debug, Default)]
struct TheirStore(MemoryStore);

impl Store for TheirStore {
    fn insert(&self, action: &Action, event: NewEvent) -> Result<AuditEvent> {
        self.0.insert(action, event)
    }
    fn apply(&self, change: Change) -> Result<Option<AuditEvent>> {
        self.0.apply(change)
    }
    fn apply_many(&self, changes: Vec<Change>) -> Result<Vec<Result<Option<AuditEvent>>>> {
        self.0.apply_many(changes)
    }
    fn get(&self, id: ActionId) -> Result<Option<Action>> {
        self.0.get(id)
    }
    fn find_by_idempotency_key(&self, proposer: &str, key: &str) -> Result<Option<Action>> {
        self.0.find_by_idempotency_key(proposer, key)
    }
    fn ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<ActionId>> {
        self.0.ids_with_prefix(prefix, limit)
    }
    fn list(&self, filter: &Filter, before: Option<ActionId>, limit: usize) -> Result<Vec<Action>> {
        self.0.list(filter, before, limit)
    }
    fn count(&self, filter: &Filter) -> Result<Counts> {
        self.0.count(filter)
    }
    fn expiring(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>> {
        self.0.expiring(now, limit)
    }
    fn leases_expired(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>> {
        self.0.leases_expired(now, limit)
    }
    fn claim(
        &self,
        scope: &ClaimScope,
        build: &mut ClaimFn<'_>,
    ) -> Result<Vec<(Action, AuditEvent)>> {
        self.0.claim(scope, build)
    }
    fn events_since(&self, seq: u64, limit: usize) -> Result<Vec<AuditEvent>> {
        self.0.events_since(seq, limit)
    }
    fn events_of(&self, id: ActionId) -> Result<Vec<AuditEvent>> {
        self.0.events_of(id)
    }
    fn chain_head(&self) -> Result<(u64, String)> {
        self.0.chain_head()
    }
    fn policy(&self) -> Result<Option<StoredPolicy>> {
        self.0.policy()
    }
    fn set_policy(&self, policy: &StoredPolicy, event: NewEvent) -> Result<AuditEvent> {
        self.0.set_policy(policy, event)
    }
    fn policy_history(&self) -> Result<Vec<StoredPolicy>> {
        self.0.policy_history()
    }
    fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        self.0.insert_checkpoint(checkpoint)
    }
    fn put_account(&self, account: &Account, create: bool) -> Result<()> {
        self.0.put_account(account, create)
    }
    fn account(&self, id: &str) -> Result<Option<Account>> {
        self.0.account(id)
    }
    fn accounts(&self) -> Result<Vec<Account>> {
        self.0.accounts()
    }
    fn put_credential(&self, credential: &Credential) -> Result<()> {
        self.0.put_credential(credential)
    }
    fn credential(&self, hash: &str) -> Result<Option<Credential>> {
        self.0.credential(hash)
    }
    fn credentials(&self, kind: CredentialKind) -> Result<Vec<Credential>> {
        self.0.credentials(kind)
    }
    fn touch_credential(&self, hash: &str, at: DateTime<Utc>) -> Result<()> {
        self.0.touch_credential(hash, at)
    }
    fn revoke_credentials(&self, which: &Revoke, at: DateTime<Utc>) -> Result<u64> {
        self.0.revoke_credentials(which, at)
    }
    fn hit(&self, key: &str, window: i64) -> Result<u64> {
        self.0.hit(key, window)
    }
    fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        self.0.checkpoints()
    }
}

/// A fresh harness over an empty store, with every hook the tamper cases
/// use (a backend that cannot offer one leaves it out: those cases are
/// then skipped with a printed reason).
fn their_store() -> Option<Harness> {
    let store = Arc::new(TheirStore::default());
    let (tamper, reopen, rewrite, truncate) =
        (store.clone(), store.clone(), store.clone(), store.clone());
    Some(
        Harness::new(store)
            .with_tamper_event(move |seq| {
                tamper.0.tamper_with_event(seq, "tampered").expect("tamper")
            })
            .with_reopen(move || reopen.clone() as Arc<dyn Store>)
            .with_rewrite_action(move |a| {
                let a = a.clone();
                rewrite
                    .0
                    .tamper_with_action(a.id, |stored| *stored = a)
                    .expect("rewrite")
            })
            .with_truncate_events(move |n| {
                let total = truncate.chain_head().expect("head").0;
                truncate
                    .0
                    .truncate_events(usize::try_from(total - n).expect("n"))
                    .expect("truncate")
            }),
    )
}

actioncenter::conformance_suite!(their_backend, their_store);

/// A harness without hooks: the cases that need one say so and skip;
/// the others run.
fn no_hooks() -> Option<Harness> {
    Some(Harness::new(Arc::new(TheirStore::default())))
}

actioncenter::conformance_suite!(their_backend_without_hooks, no_hooks);
