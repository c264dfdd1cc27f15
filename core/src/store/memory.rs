//! A store in process memory, behind one lock.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use super::{Change, ClaimFn, ClaimScope, Store, exclusive_key, is_claimable};
use crate::audit::{AuditEvent, GENESIS_HASH, NewEvent};
use crate::checkpoint::Checkpoint;
use crate::error::{Error, Result};
use crate::model::{Action, ActionId, Status};
use crate::policy::StoredPolicy;
use crate::query::{Counts, Filter};

/// Keeps everything in memory; gone when dropped. Every method holds one
/// lock for its whole work, which makes each one atomic.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    actions: BTreeMap<ActionId, Action>,
    events: Vec<AuditEvent>,
    policies: Vec<StoredPolicy>,
    checkpoints: Vec<Checkpoint>,
}

impl Inner {
    fn append(&mut self, event: NewEvent) -> AuditEvent {
        let prev = self.events.last().map_or(GENESIS_HASH, |e| e.hash.as_str());
        let sealed = event.seal(self.events.len() as u64 + 1, prev);
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
            .get(&id)
            .ok_or_else(|| Error::NotFound { id: id.to_string() })?;
        if stored.version != change.expected_version {
            return Err(Error::Conflict {
                id,
                expected: change.expected_version,
                actual: stored.version,
            });
        }
        self.actions.insert(id, change.action);
        Ok(change.event.map(|e| self.append(e)))
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
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

    /// Changes a stored action behind the engine's back. For
    /// tamper-detection tests only.
    #[doc(hidden)]
    pub fn tamper_with_action(&self, id: ActionId, edit: impl FnOnce(&mut Action)) -> Result<()> {
        let mut inner = self.lock()?;
        let action = inner
            .actions
            .get_mut(&id)
            .ok_or_else(|| Error::NotFound { id: id.to_string() })?;
        edit(action);
        Ok(())
    }

    /// Drops the last `n` audit events behind the engine's back. For
    /// tamper-detection tests only.
    #[doc(hidden)]
    pub fn truncate_events(&self, n: usize) -> Result<()> {
        let mut inner = self.lock()?;
        let keep = inner.events.len().saturating_sub(n);
        inner.events.truncate(keep);
        Ok(())
    }
}

fn oldest_first<'a>(actions: impl Iterator<Item = &'a Action>, limit: usize) -> Vec<Action> {
    actions.take(limit).cloned().collect()
}

impl Store for MemoryStore {
    fn insert(&self, action: &Action, event: NewEvent) -> Result<AuditEvent> {
        let mut inner = self.lock()?;
        let taken = inner.actions.contains_key(&action.id)
            || action.idempotency_key.as_ref().is_some_and(|key| {
                inner
                    .actions
                    .values()
                    .any(|a| a.idempotency_key.as_ref() == Some(key))
            });
        if taken {
            return Err(Error::Conflict {
                id: action.id,
                expected: 0,
                actual: action.version,
            });
        }
        if let Some(key) = exclusive_key(action)
            && let Some(existing) = inner
                .actions
                .values()
                .find(|a| exclusive_key(a).as_ref() == Some(&key))
        {
            return Err(Error::Duplicate {
                kind: action.kind.clone(),
                entity: action.entity.describe(),
                existing: existing.id,
                idempotency_key: None,
            });
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

    fn find_by_idempotency_key(&self, key: &str) -> Result<Option<Action>> {
        let inner = self.lock()?;
        Ok(inner
            .actions
            .values()
            .find(|a| a.idempotency_key.as_deref() == Some(key))
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

    fn list(&self, filter: &Filter, before: Option<ActionId>, limit: usize) -> Result<Vec<Action>> {
        let inner = self.lock()?;
        let newest_first: Box<dyn Iterator<Item = &Action>> = match before {
            Some(b) => Box::new(inner.actions.range(..b).rev().map(|(_, a)| a)),
            None => Box::new(inner.actions.values().rev()),
        };
        Ok(newest_first
            .filter(|a| filter.matches(a))
            .take(limit)
            .cloned()
            .collect())
    }

    fn count(&self, filter: &Filter) -> Result<Counts> {
        let inner = self.lock()?;
        let mut counts = Counts::zero();
        for a in inner.actions.values().filter(|a| filter.matches(a)) {
            *counts.0.entry(a.status).or_insert(0) += 1;
        }
        Ok(counts)
    }

    fn expiring(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>> {
        let inner = self.lock()?;
        let due = inner
            .actions
            .values()
            .filter(|a| a.status == Status::Pending && a.expires_at.is_some_and(|t| t <= now));
        Ok(oldest_first(due, limit))
    }

    fn leases_expired(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Action>> {
        let inner = self.lock()?;
        let due = inner
            .actions
            .values()
            .filter(|a| a.lease_until().is_some_and(|t| t <= now));
        Ok(oldest_first(due, limit))
    }

    fn claim(
        &self,
        scope: &ClaimScope,
        build: &mut ClaimFn<'_>,
    ) -> Result<Vec<(Action, AuditEvent)>> {
        let mut inner = self.lock()?;
        let candidates: Vec<Action> = inner
            .actions
            .values()
            .filter(|a| is_claimable(a))
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
            .events
            .iter()
            .filter(|e| e.action_id == Some(id))
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
}
