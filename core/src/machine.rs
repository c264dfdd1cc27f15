//! The state machine: which event moves an action from which status to
//! which, and who may send it.
//!
//! [`TABLE`] is the table of the design, as data (for documentation,
//! bindings and tests); [`next`] is the same table as one exhaustive
//! `match` with no wildcard arm, which the engine runs. A test checks that
//! the two agree on every (status, event) pair, so neither can drift.
//!
//! | from | event | to | who may |
//! |---|---|---|---|
//! | (new) | propose | Pending or Approved | Propose (policy decides) |
//! | Pending | approve | Approved, or Pending short of quorum | Approve |
//! | Pending | reject | Rejected | Approve (comment required) |
//! | Pending | expire | Expired (or the kind's expiry outcome) | system |
//! | Pending, Approved | cancel | Cancelled | proposer or Cancel |
//! | Approved | claim | Running | Execute |
//! | Running | heartbeat | Running (lease renewed, not audited) | lease holder |
//! | Running | complete / fail | Completed / Failed | lease holder |
//! | Running | lease_expire | Approved (Failed once the kind's max attempts are spent) | system |
//! | Failed | retry | Approved | Approve (up to max attempts) |
//! | Completed | undo | Undoing | Undo (comment required) |
//! | UndoFailed | undo | Undoing | Undo (comment required, up to max attempts) |
//! | Undoing | claim | UndoRunning | Execute |
//! | UndoRunning | heartbeat | UndoRunning (lease renewed, not audited) | lease holder |
//! | UndoRunning | complete / fail | Undone / UndoFailed | lease holder |
//! | UndoRunning | lease_expire | Undoing (UndoFailed once the kind's max attempts are spent) | system |
//!
//! Rejected, Expired, Cancelled and Undone are final. `set_policy` is an
//! audit event of the policy, not of an action: no status accepts it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Status;
use crate::policy::Operation;

/// Something that happens to an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Propose,
    Approve,
    Reject,
    Expire,
    Cancel,
    Claim,
    /// The lease holder renews its lease. Not written to the audit trail.
    Heartbeat,
    Complete,
    Fail,
    LeaseExpire,
    Retry,
    Undo,
    /// An administrator stored a new policy. Not an action's event.
    SetPolicy,
}

impl Event {
    /// Every event, in a stable order.
    pub const ALL: [Event; 13] = [
        Event::Propose,
        Event::Approve,
        Event::Reject,
        Event::Expire,
        Event::Cancel,
        Event::Claim,
        Event::Heartbeat,
        Event::Complete,
        Event::Fail,
        Event::LeaseExpire,
        Event::Retry,
        Event::Undo,
        Event::SetPolicy,
    ];

    /// The snake_case name used in JSON and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Propose => "propose",
            Event::Approve => "approve",
            Event::Reject => "reject",
            Event::Expire => "expire",
            Event::Cancel => "cancel",
            Event::Claim => "claim",
            Event::Heartbeat => "heartbeat",
            Event::Complete => "complete",
            Event::Fail => "fail",
            Event::LeaseExpire => "lease_expire",
            Event::Retry => "retry",
            Event::Undo => "undo",
            Event::SetPolicy => "set_policy",
        }
    }

    /// Who may send this event.
    pub fn who(self) -> Who {
        match self {
            Event::Propose => Who::Holder(Operation::Propose),
            Event::Approve | Event::Reject | Event::Retry => Who::Holder(Operation::Approve),
            Event::Cancel => Who::ProposerOr(Operation::Cancel),
            Event::Claim => Who::Holder(Operation::Execute),
            Event::Heartbeat | Event::Complete | Event::Fail => Who::LeaseHolder,
            Event::Undo => Who::Holder(Operation::Undo),
            Event::SetPolicy => Who::Holder(Operation::Administer),
            Event::Expire | Event::LeaseExpire => Who::System,
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Event {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Event::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| Error::validation("event", format!("unknown event {s:?}")))
    }
}

/// Who may send an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Who {
    /// A principal granted this operation on the action's category.
    Holder(Operation),
    /// The action's proposer, or a principal granted this operation.
    ProposerOr(Operation),
    /// The executor holding the action's lease.
    LeaseHolder,
    /// The engine itself, on a sweep.
    System,
}

/// The facts, decided outside the machine, that pick between an event's
/// possible outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// For `propose`: the policy wants a person to approve.
    pub needs_approval: bool,
    /// For `approve`: this approval completes the quorum.
    pub quorum_reached: bool,
    /// For `expire`: the status the kind's policy sends it to.
    pub expiry_outcome: ExpiryOutcome,
    /// For `lease_expire`: the kind's maximum number of attempts (at the
    /// action, or at its undo) has not been reached, so it may run again.
    pub attempts_left: bool,
}

impl Default for Facts {
    fn default() -> Self {
        Facts {
            needs_approval: true,
            quorum_reached: true,
            expiry_outcome: ExpiryOutcome::Expire,
            attempts_left: true,
        }
    }
}

/// What happens to a pending action when its approval window closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryOutcome {
    /// It becomes Expired (the default).
    #[default]
    Expire,
    /// It becomes Rejected.
    Reject,
}

/// One row of the table: from a status (or from nothing, for a new
/// action), an event leads to one of `to`, sent by `who`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Row {
    pub from: Option<Status>,
    pub event: Event,
    pub to: &'static [Status],
    pub who: Who,
}

use Status::*;

/// The state machine table, as data. [`next`] implements exactly this.
pub const TABLE: &[Row] = &[
    Row {
        from: None,
        event: Event::Propose,
        to: &[Pending, Approved],
        who: Who::Holder(Operation::Propose),
    },
    Row {
        from: Some(Pending),
        event: Event::Approve,
        to: &[Approved, Pending],
        who: Who::Holder(Operation::Approve),
    },
    Row {
        from: Some(Pending),
        event: Event::Reject,
        to: &[Rejected],
        who: Who::Holder(Operation::Approve),
    },
    Row {
        from: Some(Pending),
        event: Event::Expire,
        to: &[Expired, Rejected],
        who: Who::System,
    },
    Row {
        from: Some(Pending),
        event: Event::Cancel,
        to: &[Cancelled],
        who: Who::ProposerOr(Operation::Cancel),
    },
    Row {
        from: Some(Approved),
        event: Event::Cancel,
        to: &[Cancelled],
        who: Who::ProposerOr(Operation::Cancel),
    },
    Row {
        from: Some(Approved),
        event: Event::Claim,
        to: &[Running],
        who: Who::Holder(Operation::Execute),
    },
    Row {
        from: Some(Running),
        event: Event::Heartbeat,
        to: &[Running],
        who: Who::LeaseHolder,
    },
    Row {
        from: Some(Running),
        event: Event::Complete,
        to: &[Completed],
        who: Who::LeaseHolder,
    },
    Row {
        from: Some(Running),
        event: Event::Fail,
        to: &[Failed],
        who: Who::LeaseHolder,
    },
    Row {
        from: Some(Running),
        event: Event::LeaseExpire,
        to: &[Approved, Failed],
        who: Who::System,
    },
    Row {
        from: Some(Failed),
        event: Event::Retry,
        to: &[Approved],
        who: Who::Holder(Operation::Approve),
    },
    Row {
        from: Some(Completed),
        event: Event::Undo,
        to: &[Undoing],
        who: Who::Holder(Operation::Undo),
    },
    Row {
        from: Some(Undoing),
        event: Event::Claim,
        to: &[UndoRunning],
        who: Who::Holder(Operation::Execute),
    },
    Row {
        from: Some(UndoRunning),
        event: Event::Heartbeat,
        to: &[UndoRunning],
        who: Who::LeaseHolder,
    },
    Row {
        from: Some(UndoRunning),
        event: Event::Complete,
        to: &[Undone],
        who: Who::LeaseHolder,
    },
    Row {
        from: Some(UndoRunning),
        event: Event::Fail,
        to: &[UndoFailed],
        who: Who::LeaseHolder,
    },
    Row {
        from: Some(UndoRunning),
        event: Event::LeaseExpire,
        to: &[Undoing, UndoFailed],
        who: Who::System,
    },
    Row {
        from: Some(UndoFailed),
        event: Event::Undo,
        to: &[Undoing],
        who: Who::Holder(Operation::Undo),
    },
];

/// The status an action moves to when `event` happens in status `from`
/// (`None` for an action not yet stored), or `InvalidTransition`.
///
/// Pure: it reads nothing but its arguments. Permissions, quorum and
/// deadlines are decided by the engine and passed in as [`Facts`].
pub fn next(from: Option<Status>, event: Event, facts: Facts) -> Result<Status> {
    use Event as E;
    let invalid = |status: Status| Error::InvalidTransition {
        id: None,
        status,
        event,
    };
    match from {
        None => match event {
            E::Propose => Ok(if facts.needs_approval {
                Pending
            } else {
                Approved
            }),
            // A new action has no status yet; name the one it would start in.
            E::Approve
            | E::Reject
            | E::Expire
            | E::Cancel
            | E::Claim
            | E::Heartbeat
            | E::Complete
            | E::Fail
            | E::LeaseExpire
            | E::Retry
            | E::Undo
            | E::SetPolicy => Err(Error::NotFound { id: "(new)".into() }),
        },
        Some(status) => match (status, event) {
            (Pending, E::Approve) => Ok(if facts.quorum_reached {
                Approved
            } else {
                Pending
            }),
            (Pending, E::Reject) => Ok(Rejected),
            (Pending, E::Expire) => Ok(match facts.expiry_outcome {
                ExpiryOutcome::Expire => Expired,
                ExpiryOutcome::Reject => Rejected,
            }),
            (Pending | Approved, E::Cancel) => Ok(Cancelled),
            (Approved, E::Claim) => Ok(Running),
            (Running, E::Complete) => Ok(Completed),
            (Running, E::Fail) => Ok(Failed),
            (Running, E::LeaseExpire) => Ok(if facts.attempts_left {
                Approved
            } else {
                Failed
            }),
            (Failed, E::Retry) => Ok(Approved),
            (Completed | UndoFailed, E::Undo) => Ok(Undoing),
            (Running, E::Heartbeat) => Ok(Running),
            (Undoing, E::Claim) => Ok(UndoRunning),
            (UndoRunning, E::Heartbeat) => Ok(UndoRunning),
            (UndoRunning, E::Complete) => Ok(Undone),
            (UndoRunning, E::Fail) => Ok(UndoFailed),
            (UndoRunning, E::LeaseExpire) => Ok(if facts.attempts_left {
                Undoing
            } else {
                UndoFailed
            }),
            // The policy's own event: no action's status accepts it.
            (
                Pending | Approved | Rejected | Expired | Cancelled | Running | Completed | Failed
                | Undoing | UndoRunning | Undone | UndoFailed,
                E::SetPolicy,
            ) => Err(invalid(status)),

            (
                Pending,
                E::Propose
                | E::Claim
                | E::Heartbeat
                | E::Complete
                | E::Fail
                | E::LeaseExpire
                | E::Retry
                | E::Undo,
            )
            | (
                Approved,
                E::Propose
                | E::Heartbeat
                | E::Approve
                | E::Reject
                | E::Expire
                | E::Complete
                | E::Fail
                | E::LeaseExpire
                | E::Retry
                | E::Undo,
            )
            | (
                Running,
                E::Propose
                | E::Approve
                | E::Reject
                | E::Expire
                | E::Cancel
                | E::Claim
                | E::Retry
                | E::Undo,
            )
            | (
                Completed,
                E::Propose
                | E::Heartbeat
                | E::Approve
                | E::Reject
                | E::Expire
                | E::Cancel
                | E::Claim
                | E::Complete
                | E::Fail
                | E::LeaseExpire
                | E::Retry,
            )
            | (
                Failed,
                E::Propose
                | E::Heartbeat
                | E::Approve
                | E::Reject
                | E::Expire
                | E::Cancel
                | E::Claim
                | E::Complete
                | E::Fail
                | E::LeaseExpire
                | E::Undo,
            )
            | (
                Undoing,
                E::Propose
                | E::Heartbeat
                | E::Approve
                | E::Reject
                | E::Expire
                | E::Cancel
                | E::Complete
                | E::Fail
                | E::LeaseExpire
                | E::Retry
                | E::Undo,
            )
            | (
                UndoRunning,
                E::Propose
                | E::Approve
                | E::Reject
                | E::Expire
                | E::Cancel
                | E::Claim
                | E::Retry
                | E::Undo,
            )
            | (
                UndoFailed,
                E::Propose
                | E::Heartbeat
                | E::Approve
                | E::Reject
                | E::Expire
                | E::Cancel
                | E::Claim
                | E::Complete
                | E::Fail
                | E::LeaseExpire
                | E::Retry,
            )
            | (
                Rejected | Expired | Cancelled | Undone,
                E::Propose
                | E::Heartbeat
                | E::Approve
                | E::Reject
                | E::Expire
                | E::Cancel
                | E::Claim
                | E::Complete
                | E::Fail
                | E::LeaseExpire
                | E::Retry
                | E::Undo,
            ) => Err(invalid(status)),
        },
    }
}

/// Whether no event leads out of `status`.
pub fn is_final(status: Status) -> bool {
    !TABLE.iter().any(|row| row.from == Some(status))
}

/// The rows leaving `status`, for "what can I do now" displays.
pub fn rows_from(status: Status) -> impl Iterator<Item = &'static Row> {
    TABLE.iter().filter(move |row| row.from == Some(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_facts() -> Vec<Facts> {
        let mut out = Vec::new();
        for needs_approval in [true, false] {
            for quorum_reached in [true, false] {
                for expiry_outcome in [ExpiryOutcome::Expire, ExpiryOutcome::Reject] {
                    for attempts_left in [true, false] {
                        out.push(Facts {
                            needs_approval,
                            quorum_reached,
                            expiry_outcome,
                            attempts_left,
                        });
                    }
                }
            }
        }
        out
    }

    #[test]
    fn match_and_table_agree_on_every_pair() {
        let froms = std::iter::once(None).chain(Status::ALL.into_iter().map(Some));
        for from in froms {
            for event in Event::ALL {
                let row = TABLE.iter().find(|r| r.from == from && r.event == event);
                for facts in all_facts() {
                    match (next(from, event, facts), row) {
                        (Ok(to), Some(row)) => {
                            assert!(
                                row.to.contains(&to),
                                "{from:?} {event} -> {to} not in table"
                            )
                        }
                        (Ok(to), None) => {
                            panic!("{from:?} {event} -> {to} allowed but not in table")
                        }
                        (Err(_), Some(_)) => panic!("{from:?} {event} in table but refused"),
                        (Err(_), None) => {}
                    }
                }
            }
        }
    }

    #[test]
    fn every_table_target_is_reachable() {
        for row in TABLE {
            for to in row.to {
                let reached = all_facts()
                    .into_iter()
                    .any(|f| next(row.from, row.event, f).ok() == Some(*to));
                assert!(reached, "{row:?} never reaches {to}");
            }
        }
    }

    #[test]
    fn final_statuses_are_exactly_the_four() {
        let finals: Vec<Status> = Status::ALL.into_iter().filter(|s| is_final(*s)).collect();
        assert_eq!(finals, vec![Rejected, Expired, Cancelled, Undone]);
    }

    #[test]
    fn invalid_pair_names_status_and_event() {
        let err = next(Some(Completed), Event::Approve, Facts::default()).expect_err("invalid");
        assert_eq!(err.to_string(), "cannot approve action: it is completed");
    }

    #[test]
    fn approval_short_of_quorum_stays_pending() {
        let facts = Facts {
            quorum_reached: false,
            ..Facts::default()
        };
        assert_eq!(
            next(Some(Pending), Event::Approve, facts).ok(),
            Some(Pending)
        );
    }
}
