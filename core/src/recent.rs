//! The actions an engine wrote last and is likely to move next, kept so
//! that the next move needs no read first.
//!
//! On a store where every read is a round trip to a database server
//! ([`Store::reads_are_round_trips`](crate::store::Store::reads_are_round_trips)),
//! an approval costs two: the read the decision is made on, then the
//! write; so does an executor's heartbeat, completion or failure. The
//! engine keeps its own copy of each pending action it proposed or left
//! pending, and of each action it claimed, and decides on that copy.
//! Nothing trusts the copy: the change carries it as its
//! [`basis`](crate::store::Change::basis), which the store refuses unless
//! the stored action is that copy, field for field (another handle's
//! decision, a lease renewed elsewhere, a newer library's rewrite at the
//! same version), and on any refusal or error the engine reads the
//! action and decides again, as if it had kept nothing.

use std::collections::{HashMap, VecDeque};

use crate::model::{Action, ActionId, Status};

/// Pending and running actions by id, the oldest forgotten first past
/// `capacity`.
#[derive(Debug)]
pub(crate) struct Recent {
    capacity: usize,
    actions: HashMap<ActionId, Action>,
    /// Ids in the order they were kept; may name actions taken since.
    order: VecDeque<ActionId>,
}

impl Recent {
    /// Room for `capacity` actions (an action of this crate's tests is
    /// about 1.5 KiB; its parameters may reach 64 KiB).
    pub(crate) fn new(capacity: usize) -> Recent {
        Recent {
            capacity,
            actions: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Keeps a copy of `action` if it waits for a decision or for its
    /// executor (pending, running, its undo running); forgets any older
    /// copy otherwise.
    pub(crate) fn keep(&mut self, action: &Action) {
        let next_move_is_ours = matches!(
            action.status,
            Status::Pending | Status::Running | Status::UndoRunning
        );
        if !next_move_is_ours || self.capacity == 0 {
            self.actions.remove(&action.id);
            return;
        }
        while self.actions.len() >= self.capacity && !self.actions.contains_key(&action.id) {
            match self.order.pop_front() {
                Some(old) => {
                    self.actions.remove(&old);
                }
                None => break,
            }
        }
        self.actions.insert(action.id, action.clone());
        self.order.push_back(action.id);
        if self.order.len() > 2 * self.capacity {
            // Ids of actions taken since, or kept twice: drop what names
            // nothing, keeping the order of the rest.
            let actions = &self.actions;
            let mut seen = std::collections::HashSet::new();
            let mut kept: VecDeque<ActionId> = self
                .order
                .iter()
                .rev()
                .filter(|id| actions.contains_key(id) && seen.insert(**id))
                .copied()
                .collect();
            kept.make_contiguous().reverse();
            self.order = kept;
        }
    }

    /// The copy of action `id`, removed: whoever takes it writes the next
    /// version (and keeps that, if it is still pending).
    pub(crate) fn take(&mut self, id: ActionId) -> Option<Action> {
        self.actions.remove(&id)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.actions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Recent;
    use crate::model::{Action, Status};
    use crate::{ActionCenter, Entity, Kind, Principal, Proposal, Source};

    fn pending(n: usize) -> Vec<Action> {
        let center = ActionCenter::in_memory();
        let air = Principal::new("air", ["automation"]);
        (0..n)
            .map(|i| {
                let p = Proposal::new(
                    Kind::IsolateDevice,
                    Entity::Device {
                        device_id: format!("dev-{i}"),
                        name: None,
                    },
                    Source::Antivirus,
                );
                center.propose(&air, p).expect("propose")
            })
            .collect()
    }

    #[test]
    fn keeps_only_actions_waiting_on_a_decision_or_an_executor_and_at_most_its_capacity() {
        let actions = pending(10);
        let mut recent = Recent::new(4);
        for a in &actions {
            recent.keep(a);
        }
        assert_eq!(recent.len(), 4);
        // The oldest went first; the newest four are there.
        assert!(recent.take(actions[5].id).is_none());
        for a in &actions[6..] {
            assert_eq!(recent.take(a.id).as_ref(), Some(a));
        }
        // Taken means gone.
        assert!(recent.take(actions[9].id).is_none());

        let mut next = actions[0].clone();
        recent.keep(&actions[0]);
        next.status = Status::Approved;
        recent.keep(&next);
        assert!(recent.take(next.id).is_none(), "approved: forgotten");
        next.status = Status::Running;
        recent.keep(&next);
        assert_eq!(recent.take(next.id).as_ref(), Some(&next), "running: kept");
    }

    #[test]
    fn its_order_stays_bounded_however_often_actions_come_and_go() {
        let actions = pending(3);
        let mut recent = Recent::new(2);
        for _ in 0..1000 {
            for a in &actions {
                recent.keep(a);
                recent.keep(a);
                let _ = recent.take(a.id);
                recent.keep(a);
            }
        }
        assert!(recent.order.len() <= 4, "{}", recent.order.len());
        assert_eq!(recent.len(), 2);
    }
}
