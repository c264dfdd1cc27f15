//! A store in process memory, behind one lock, with the indexes a queue
//! needs: every method costs what it returns, not what is stored.
//!
//! Besides the actions (by id) and the trail, [`Inner`] keeps, updated on
//! every insert and change:
//!
//! - the ids in each status (the Pending and History views page through
//!   these instead of every action), and a count per status and category
//!   (the tab badges);
//! - the claimable queue (Approved, or Undoing without a lease), by id;
//! - pending approval windows and executor leases by deadline (the sweeps);
//! - ids per investigation, and event positions per action;
//! - idempotency keys, and the exclusive slots of active actions.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use super::{
    Change, ClaimFn, ClaimScope, Store, exclusive_key, holds_slot, is_claimable, slot_taken,
};
use crate::audit::{AuditEvent, GENESIS_HASH, NewEvent};
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::identity::{Account, Credential, CredentialKind, Revoke};
use crate::model::{Action, ActionId, Category, Status};
use crate::policy::StoredPolicy;
use crate::query::{Counts, Filter};

/// Keeps everything in memory; gone when dropped. Every method holds one
/// lock for its whole work, which makes each one atomic.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    identity: Mutex<Identity>,
}

/// Accounts, sessions, tokens and rate-limit windows: apart from the
/// actions, so a sign-in never waits on the queue's lock.
#[derive(Debug, Default)]
struct Identity {
    accounts: BTreeMap<String, Account>,
    /// By hash; `order` keeps creation order for listing.
    credentials: HashMap<String, Credential>,
    order: Vec<String>,
    hits: HashMap<String, (i64, u64)>,
}

#[derive(Debug, Default)]
struct Inner {
    actions: BTreeMap<ActionId, Action>,
    events: Vec<AuditEvent>,
    index: Index,
    policies: Vec<StoredPolicy>,
    checkpoints: Vec<Checkpoint>,
}

/// What an action contributes to the indexes; computed before and after
/// each change so that only the entries that moved are touched.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Keys {
    status: Status,
    category: Category,
    claimable: bool,
    expires: Option<DateTime<Utc>>,
    lease: Option<DateTime<Utc>>,
    exclusive: Option<String>,
}

impl Keys {
    fn of(a: &Action) -> Keys {
        Keys::with_exclusive(a, exclusive_key(a))
    }

    fn with_exclusive(a: &Action, exclusive: Option<String>) -> Keys {
        Keys {
            status: a.status,
            category: a.category,
            claimable: is_claimable(a),
            expires: a.expires_at.filter(|_| a.status == Status::Pending),
            lease: a.lease_until(),
            exclusive,
        }
    }

    /// The keys of `new`, the next version of `old` whose keys are
    /// `self`: the exclusive key is taken over rather than hashed again
    /// while the kind and entity stay the same.
    fn next(&self, old: &Action, new: &Action) -> Keys {
        let exclusive = match &self.exclusive {
            Some(key) if old.kind == new.kind && old.entity == new.entity => {
                holds_slot(new).then(|| key.clone())
            }
            _ => exclusive_key(new),
        };
        Keys::with_exclusive(new, exclusive)
    }
}

#[derive(Debug, Default)]
struct Index {
    by_status: BTreeMap<Status, BTreeSet<ActionId>>,
    counts: HashMap<(Status, Category), u64>,
    claimable: BTreeSet<ActionId>,
    expiring: BTreeSet<(DateTime<Utc>, ActionId)>,
    leases: BTreeSet<(DateTime<Utc>, ActionId)>,
    by_investigation: HashMap<String, BTreeSet<ActionId>>,
    events_of: HashMap<ActionId, Vec<usize>>,
    /// Idempotency keys by proposer, then key: a key is its proposer's own.
    idempotency: HashMap<String, HashMap<String, ActionId>>,
    exclusive: HashMap<String, ActionId>,
    /// The exclusive key each slot holder was indexed under, so a change
    /// finds its action's old keys without hashing the entity again.
    held: HashMap<ActionId, String>,
}

impl Index {
    fn add(&mut self, id: ActionId, k: &Keys) {
        self.by_status.entry(k.status).or_default().insert(id);
        *self.counts.entry((k.status, k.category)).or_insert(0) += 1;
        if k.claimable {
            self.claimable.insert(id);
        }
        if let Some(t) = k.expires {
            self.expiring.insert((t, id));
        }
        if let Some(t) = k.lease {
            self.leases.insert((t, id));
        }
        if let Some(key) = &k.exclusive {
            self.exclusive.insert(key.clone(), id);
            self.held.insert(id, key.clone());
        }
    }

    /// The keys `a`, stored under its id, is indexed under.
    fn keys_of_stored(&self, a: &Action) -> Keys {
        match self.held.get(&a.id) {
            Some(key) if holds_slot(a) => Keys::with_exclusive(a, Some(key.clone())),
            _other => Keys::of(a),
        }
    }

    fn remove(&mut self, id: ActionId, k: &Keys) {
        if let Some(set) = self.by_status.get_mut(&k.status) {
            set.remove(&id);
        }
        if let Some(n) = self.counts.get_mut(&(k.status, k.category)) {
            *n = n.saturating_sub(1);
        }
        self.claimable.remove(&id);
        if let Some(t) = k.expires {
            self.expiring.remove(&(t, id));
        }
        if let Some(t) = k.lease {
            self.leases.remove(&(t, id));
        }
        if let Some(key) = &k.exclusive
            && self.exclusive.get(key) == Some(&id)
        {
            self.exclusive.remove(key);
        }
        self.held.remove(&id);
    }

    fn update(&mut self, id: ActionId, before: &Keys, after: &Keys) {
        if before != after {
            self.remove(id, before);
            self.add(id, after);
        }
    }
}

impl Inner {
    fn append(&mut self, event: NewEvent) -> AuditEvent {
        let prev = self.events.last().map_or(GENESIS_HASH, |e| e.hash.as_str());
        let sealed = event.seal(self.events.len() as u64 + 1, prev);
        if let Some(id) = sealed.action_id {
            self.index
                .events_of
                .entry(id)
                .or_default()
                .push(self.events.len());
        }
        self.events.push(sealed.clone());
        sealed
    }

    fn policy_version(&self) -> u64 {
        self.policies.last().map_or(0, |p| p.version)
    }

    fn apply(&mut self, change: Change) -> Result<Option<AuditEvent>> {
        let id = change.action.id;
        if let Some(expected) = change.policy_version {
            let actual = self.policy_version();
            if actual != expected {
                return Err(Error::PolicyChanged { expected, actual });
            }
        }
        let stored = self
            .actions
            .get_mut(&id)
            .ok_or_else(|| Error::NotFound { id: id.to_string() })?;
        if stored.version != change.expected_version
            || change.basis.as_deref().is_some_and(|basis| basis != stored)
        {
            return Err(Error::Conflict {
                id,
                expected: change.expected_version,
                actual: stored.version,
            });
        }
        let before = self.index.keys_of_stored(stored);
        let after = before.next(stored, &change.action);
        // Back into the slot (a retry) only if no other action holds it.
        if let Some(key) = after
            .exclusive
            .as_ref()
            .filter(|k| before.exclusive.as_ref() != Some(*k))
            && let Some(existing) = self
                .index
                .exclusive
                .get(key)
                .filter(|holder| **holder != id)
        {
            return Err(slot_taken(&change.action, *existing));
        }
        if stored.investigation_id != change.action.investigation_id {
            if let Some(old) = &stored.investigation_id
                && let Some(set) = self.index.by_investigation.get_mut(old)
            {
                set.remove(&id);
            }
            if let Some(new) = &change.action.investigation_id {
                self.index
                    .by_investigation
                    .entry(new.clone())
                    .or_default()
                    .insert(id);
            }
        }
        *stored = change.action;
        self.index.update(id, &before, &after);
        Ok(change.event.map(|e| self.append(e)))
    }

    /// The candidates a filter can be answered from, newest first: one
    /// investigation's ids or the ids in the filter's statuses when the
    /// filter names them, every action otherwise. Each source yields at
    /// most `limit` matches; the caller merges them.
    fn newest_matching(
        &self,
        filter: &Filter,
        before: Option<ActionId>,
        limit: usize,
    ) -> Vec<&Action> {
        let upto = |set: &BTreeSet<ActionId>| -> Vec<&Action> {
            let ids: Box<dyn DoubleEndedIterator<Item = &ActionId>> = match before {
                Some(b) => Box::new(set.range(..b)),
                None => Box::new(set.iter()),
            };
            ids.rev()
                .filter_map(|id| self.actions.get(id))
                .filter(|a| filter.matches(a))
                .take(limit)
                .collect()
        };
        if let Some(inv) = &filter.investigation_id {
            return self
                .index
                .by_investigation
                .get(inv)
                .map(upto)
                .unwrap_or_default();
        }
        if !filter.statuses.is_empty() {
            let mut merged: Vec<&Action> = BTreeSet::from_iter(filter.statuses.iter().copied())
                .into_iter()
                .filter_map(|s| self.index.by_status.get(&s))
                .flat_map(upto)
                .collect();
            merged.sort_by_key(|a| std::cmp::Reverse(a.id));
            merged.truncate(limit);
            return merged;
        }
        let all: Box<dyn Iterator<Item = &Action>> = match before {
            Some(b) => Box::new(self.actions.range(..b).rev().map(|(_, a)| a)),
            None => Box::new(self.actions.values().rev()),
        };
        all.filter(|a| filter.matches(a)).take(limit).collect()
    }

    /// Counts from the kept totals when the filter asks only for statuses
    /// and categories (the badges); `None` when it needs the actions.
    fn kept_counts(&self, filter: &Filter) -> Option<Counts> {
        let only_status_and_category = Filter {
            statuses: filter.statuses.clone(),
            categories: filter.categories.clone(),
            ..Filter::default()
        };
        if *filter != only_status_and_category {
            return None;
        }
        let mut counts = Counts::zero();
        for (&(status, category), &n) in &self.index.counts {
            if (filter.statuses.is_empty() || filter.statuses.contains(&status))
                && (filter.categories.is_empty() || filter.categories.contains(&category))
            {
                *counts.0.entry(status).or_insert(0) += n;
            }
        }
        Some(counts)
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn identity(&self) -> Result<MutexGuard<'_, Identity>> {
        self.identity
            .lock()
            .map_err(|_| Error::storage_msg("memory store identity lock poisoned"))
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>> {
        self.inner
            .lock()
            .map_err(|_| Error::storage_msg("memory store lock poisoned by a panic"))
    }

    /// Overwrites a stored event's comment, bypassing the chain. For
    /// tamper-detection tests only.
    #[doc(hidden)]
    pub fn tamper_with_event(&self, seq: u64, comment: &str) -> Result<()> {
        let mut inner = self.lock()?;
        let index = usize::try_from(seq).ok().and_then(|s| s.checked_sub(1));
        let event = index
            .and_then(|i| inner.events.get_mut(i))
            .ok_or_else(|| Error::NotFound {
                id: format!("event {seq}"),
            })?;
        event.comment = Some(comment.to_owned());
        Ok(())
    }

    /// Changes a stored action behind the engine's back (no version
    /// check, no audit event). For tamper-detection tests only.
    #[doc(hidden)]
    pub fn tamper_with_action(&self, id: ActionId, edit: impl FnOnce(&mut Action)) -> Result<()> {
        let mut inner = self.lock()?;
        let inner = &mut *inner;
        let action = inner
            .actions
            .get_mut(&id)
            .ok_or_else(|| Error::NotFound { id: id.to_string() })?;
        let before = Keys::of(action);
        edit(action);
        let after = Keys::of(action);
        inner.index.update(id, &before, &after);
        Ok(())
    }

    /// Edits the audit event at `seq` and re-hashes it and every event
    /// after it, so the chain links up again: what a writer with the
    /// database in hand can do. For tamper-detection tests only.
    #[doc(hidden)]
    pub fn rewrite_and_rehash(&self, seq: u64, edit: impl FnOnce(&mut AuditEvent)) -> Result<()> {
        let mut inner = self.lock()?;
        let start = usize::try_from(seq)
            .ok()
            .and_then(|s| s.checked_sub(1))
            .filter(|i| *i < inner.events.len())
            .ok_or_else(|| Error::NotFound {
                id: format!("event {seq}"),
            })?;
        edit(&mut inner.events[start]);
        for i in start..inner.events.len() {
            let prev = if i == 0 {
                GENESIS_HASH.to_owned()
            } else {
                inner.events[i - 1].hash.clone()
            };
            let e = &mut inner.events[i];
            e.prev_hash = prev;
            e.hash = e.computed_hash();
        }
        Ok(())
    }

    /// Drops the last `n` audit events behind the engine's back. For
    /// tamper-detection tests only.
    #[doc(hidden)]
    pub fn truncate_events(&self, n: usize) -> Result<()> {
        let mut inner = self.lock()?;
        let keep = inner.events.len().saturating_sub(n);
        inner.events.truncate(keep);
        for positions in inner.index.events_of.values_mut() {
            positions.retain(|&i| i < keep);
        }
        Ok(())
    }
}

/// The actions of `due` (deadline, id) pairs at or before `now`, soonest first.
fn due_by(
    actions: &BTreeMap<ActionId, Action>,
    due: &BTreeSet<(DateTime<Utc>, ActionId)>,
    now: DateTime<Utc>,
    limit: usize,
) -> Vec<Action> {
    due.iter()
        .take_while(|(t, _)| *t <= now)
        .filter_map(|(_, id)| actions.get(id))
        .take(limit)
        .cloned()
        .collect()
}

impl Store for MemoryStore {
    fn insert(&self, action: &Action, event: NewEvent) -> Result<AuditEvent> {
        let mut inner = self.lock()?;
        let taken = inner.actions.contains_key(&action.id)
            || action.idempotency_key.as_ref().is_some_and(|k| {
                inner
                    .index
                    .idempotency
                    .get(&action.created_by)
                    .is_some_and(|keys| keys.contains_key(k))
            });
        if taken {
            return Err(Error::Conflict {
                id: action.id,
                expected: 0,
                actual: action.version,
            });
        }
        let keys = Keys::of(action);
        if let Some(existing) = keys
            .exclusive
            .as_ref()
            .and_then(|k| inner.index.exclusive.get(k))
        {
            return Err(slot_taken(action, *existing));
        }
        if let Some(k) = &action.idempotency_key {
            inner
                .index
                .idempotency
                .entry(action.created_by.clone())
                .or_default()
                .insert(k.clone(), action.id);
        }
        inner.index.add(action.id, &keys);
        if let Some(inv) = &action.investigation_id {
            inner
                .index
                .by_investigation
                .entry(inv.clone())
                .or_default()
                .insert(action.id);
        }
        inner.actions.insert(action.id, action.clone());
        Ok(inner.append(event))
    }

    fn apply(&self, change: Change) -> Result<Option<AuditEvent>> {
        self.lock()?.apply(change)
    }

    fn get(&self, id: ActionId) -> Result<Option<Action>> {
        Ok(self.lock()?.actions.get(&id).cloned())
    }

    fn find_by_idempotency_key(&self, proposer: &str, key: &str) -> Result<Option<Action>> {
        let inner = self.lock()?;
        Ok(inner
            .index
            .idempotency
            .get(proposer)
            .and_then(|keys| keys.get(key))
            .and_then(|id| inner.actions.get(id))
            .cloned())
    }

    fn ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<ActionId>> {
        let prefix = prefix.to_ascii_lowercase();
        let inner = self.lock()?;
        Ok(inner
            .actions
            .keys()
            .filter(|id| id.to_string().starts_with(&prefix))
            .take(limit)
            .copied()
            .collect())
    }

    fn ids_with_prefix_in(
        &self,
        prefix: &str,
        categories: &[Category],
        limit: usize,
    ) -> Result<Vec<ActionId>> {
        let prefix = prefix.to_ascii_lowercase();
        let inner = self.lock()?;
        Ok(inner
            .actions
            .iter()
            .filter(|(id, a)| {
                categories.contains(&a.category) && id.to_string().starts_with(&prefix)
            })
            .take(limit)
            .map(|(id, _)| *id)
            .collect())
    }

    fn list(&self, filter: &Filter, before: Option<ActionId>, limit: usize) -> Result<Vec<Action>> {
        let inner = self.lock()?;
        Ok(inner
            .newest_matching(filter, before, limit)
            .into_iter()
            .cloned()
            .collect())
    }

    fn count(&self, filter: &Filter) -> Result<Counts> {
        let inner = self.lock()?;
        if let Some(counts) = inner.kept_counts(filter) {
            return Ok(counts);
        }
        let mut counts = Counts::zero();
        let candidates: Box<dyn Iterator<Item = &Action>> = match &filter.investigation_id {
            Some(inv) => Box::new(
                inner
                    .index
                    .by_investigation
                    .get(inv)
                    .into_iter()
                    .flatten()
                    .filter_map(|id| inner.actions.get(id)),
            ),
            None => Box::new(inner.actions.values()),
        };
        for a in candidates.filter(|a| filter.matches(a)) {
            *counts.0.entry(a.status).or_insert(0) += 1;
        }
        Ok(counts)
    }

    fn expiring(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>> {
        let inner = self.lock()?;
        Ok(due_by(&inner.actions, &inner.index.expiring, now, limit))
    }

    fn leases_expired(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>> {
        let inner = self.lock()?;
        Ok(due_by(&inner.actions, &inner.index.leases, now, limit))
    }

    fn claim(
        &self,
        scope: &ClaimScope,
        build: &mut ClaimFn<'_>,
    ) -> Result<Vec<(Action, AuditEvent)>> {
        let mut inner = self.lock()?;
        let candidates: Vec<Action> = inner
            .index
            .claimable
            .iter()
            .filter_map(|id| inner.actions.get(id))
            .filter(|a| scope.categories.contains(&a.category))
            .filter(|a| scope.kinds.is_empty() || scope.kinds.contains(&a.kind))
            .take(scope.limit)
            .cloned()
            .collect();
        let mut claimed = Vec::new();
        for candidate in candidates {
            if let Some(change) = build(&candidate) {
                let action = change.action.clone();
                if let Some(event) = inner.apply(change)? {
                    claimed.push((action, event));
                }
            }
        }
        Ok(claimed)
    }

    fn events_since(&self, seq: u64, limit: usize) -> Result<Vec<AuditEvent>> {
        let inner = self.lock()?;
        let start = usize::try_from(seq)
            .unwrap_or(usize::MAX)
            .min(inner.events.len());
        Ok(inner.events[start..].iter().take(limit).cloned().collect())
    }

    fn events_of(&self, id: ActionId) -> Result<Vec<AuditEvent>> {
        let inner = self.lock()?;
        Ok(inner
            .index
            .events_of
            .get(&id)
            .into_iter()
            .flatten()
            .filter_map(|&i| inner.events.get(i))
            .cloned()
            .collect())
    }

    fn chain_head(&self) -> Result<(u64, String)> {
        let inner = self.lock()?;
        Ok(inner
            .events
            .last()
            .map_or((0, GENESIS_HASH.to_owned()), |e| (e.seq, e.hash.clone())))
    }

    fn policy(&self) -> Result<Option<StoredPolicy>> {
        Ok(self.lock()?.policies.last().cloned())
    }

    fn policy_version(&self) -> Result<u64> {
        Ok(self.lock()?.policy_version())
    }

    fn set_policy(&self, policy: &StoredPolicy, event: NewEvent) -> Result<AuditEvent> {
        let mut inner = self.lock()?;
        let actual = inner.policy_version();
        if actual + 1 != policy.version {
            return Err(Error::PolicyChanged {
                expected: policy.version.saturating_sub(1),
                actual,
            });
        }
        inner.policies.push(policy.clone());
        Ok(inner.append(event))
    }

    fn policy_history(&self) -> Result<Vec<StoredPolicy>> {
        Ok(self.lock()?.policies.clone())
    }

    fn insert_checkpoint(&self, checkpoint: &Checkpoint) -> Result<()> {
        let mut inner = self.lock()?;
        let latest = inner.checkpoints.last().map(|c| c.signature.as_str());
        if checkpoint.prev.as_deref() != latest {
            return Err(super::checkpoint_race());
        }
        inner.checkpoints.push(checkpoint.clone());
        Ok(())
    }

    fn checkpoints(&self) -> Result<Vec<Checkpoint>> {
        Ok(self.lock()?.checkpoints.clone())
    }

    fn put_account(&self, account: &Account, create: bool) -> Result<()> {
        let mut identity = self.identity()?;
        let exists = identity.accounts.contains_key(&account.id);
        if create && exists {
            return Err(super::account_exists(&account.id));
        }
        if !create && !exists {
            return Err(Error::NotFound {
                id: format!("account {}", account.id),
            });
        }
        identity
            .accounts
            .insert(account.id.clone(), account.clone());
        Ok(())
    }

    fn account(&self, id: &str) -> Result<Option<Account>> {
        Ok(self.identity()?.accounts.get(id).cloned())
    }

    fn accounts(&self) -> Result<Vec<Account>> {
        Ok(self.identity()?.accounts.values().cloned().collect())
    }

    fn put_credential(&self, credential: &Credential) -> Result<()> {
        let mut identity = self.identity()?;
        if identity.credentials.contains_key(&credential.hash) {
            return Err(super::credential_exists());
        }
        identity.order.push(credential.hash.clone());
        identity
            .credentials
            .insert(credential.hash.clone(), credential.clone());
        Ok(())
    }

    fn credential(&self, hash: &str) -> Result<Option<Credential>> {
        Ok(self.identity()?.credentials.get(hash).cloned())
    }

    fn credentials(&self, kind: CredentialKind) -> Result<Vec<Credential>> {
        let identity = self.identity()?;
        Ok(identity
            .order
            .iter()
            .filter_map(|h| identity.credentials.get(h))
            .filter(|c| c.kind == kind)
            .cloned()
            .collect())
    }

    fn touch_credential(&self, hash: &str, at: DateTime<Utc>) -> Result<()> {
        if let Some(c) = self.identity()?.credentials.get_mut(hash)
            && c.revoked_at.is_none()
        {
            c.last_used_at = at;
        }
        Ok(())
    }

    fn revoke_credentials(&self, which: &Revoke, at: DateTime<Utc>) -> Result<u64> {
        let mut identity = self.identity()?;
        let mut n = 0;
        for c in identity.credentials.values_mut() {
            let chosen = match which {
                Revoke::Id(id) => c.id == *id,
                Revoke::Hash(hash) => c.hash == *hash,
                Revoke::Principal { principal, kind } => {
                    c.principal == *principal && c.kind == *kind
                }
            };
            if chosen && c.revoked_at.is_none() {
                c.revoked_at = Some(at);
                n += 1;
            }
        }
        Ok(n)
    }

    fn hit(&self, key: &str, window: i64) -> Result<u64> {
        let mut identity = self.identity()?;
        let slot = identity.hits.entry(key.to_owned()).or_insert((window, 0));
        if slot.0 != window {
            *slot = (window, 0);
        }
        slot.1 += 1;
        Ok(slot.1)
    }
}
