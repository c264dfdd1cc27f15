//! The audit trail: one event per transition, chained by SHA-256.
//!
//! Each event's hash covers its own fields and the previous event's hash,
//! so changing, removing or reordering any stored event breaks the chain
//! from that point on; [`verify_chain`] finds the first event that does
//! not match. The same sequence is the change feed: a follower reads
//! `events_since(last_seen_seq)` in any language, without callbacks.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::machine::Event;
use crate::model::{ActionId, Status};

/// The hash that stands before the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, before the store gives it a place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvent {
    pub action_id: ActionId,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub event: Event,
    pub from: Option<Status>,
    pub to: Status,
    pub comment: Option<String>,
}

/// A stored audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in the trail, from 1, without gaps.
    pub seq: u64,
    pub action_id: ActionId,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub event: Event,
    /// `None` for the event that created the action.
    pub from: Option<Status>,
    pub to: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The previous event's hash (the genesis hash for seq 1), lowercase hex.
    pub prev_hash: String,
    /// SHA-256 of this event's fields and `prev_hash`, lowercase hex.
    pub hash: String,
}

impl NewEvent {
    /// Seals the event at position `seq` after the event whose hash is `prev_hash`.
    pub fn seal(self, seq: u64, prev_hash: &str) -> AuditEvent {
        let hash = event_hash(seq, &self, prev_hash);
        AuditEvent {
            seq,
            action_id: self.action_id,
            at: self.at,
            actor: self.actor,
            event: self.event,
            from: self.from,
            to: self.to,
            comment: self.comment,
            prev_hash: prev_hash.to_owned(),
            hash,
        }
    }
}

impl AuditEvent {
    fn unsealed(&self) -> NewEvent {
        NewEvent {
            action_id: self.action_id,
            at: self.at,
            actor: self.actor.clone(),
            event: self.event,
            from: self.from,
            to: self.to,
            comment: self.comment.clone(),
        }
    }

    /// Whether `hash` is what the fields and `prev_hash` produce.
    pub fn hash_matches(&self) -> bool {
        event_hash(self.seq, &self.unsealed(), &self.prev_hash) == self.hash
    }
}

/// SHA-256 over a JSON array of the event's fields, so no two field
/// sequences encode alike. Times count in microseconds, the precision
/// every store keeps.
fn event_hash(seq: u64, e: &NewEvent, prev_hash: &str) -> String {
    let fields = serde_json::json!([
        1, // the hash format's version
        seq,
        e.action_id,
        e.at.timestamp_micros(),
        e.actor,
        e.event,
        e.from,
        e.to,
        e.comment,
        prev_hash,
    ]);
    hex::encode(Sha256::digest(fields.to_string().as_bytes()))
}

/// Why an event fails verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mismatch {
    /// The stored hash is not the hash of the stored fields.
    Hash,
    /// `prev_hash` is not the previous event's hash.
    Link,
    /// The sequence skips a number: an event was removed.
    Gap { expected: u64 },
}

/// The first event that does not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadEvent {
    pub seq: u64,
    pub action_id: ActionId,
    pub mismatch: Mismatch,
}

/// What [`verify_chain`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Events read up to (and including) the first bad one.
    pub events_checked: u64,
    /// The hash of the last good event: the chain head when `first_bad` is `None`.
    pub head: String,
    pub first_bad: Option<BadEvent>,
}

impl AuditReport {
    /// Whether every event matched.
    pub fn is_intact(&self) -> bool {
        self.first_bad.is_none()
    }
}

/// Checks a chain fed in order, in batches, stopping at the first bad event.
#[derive(Debug)]
pub struct Verifier {
    report: AuditReport,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            report: AuditReport {
                events_checked: 0,
                head: GENESIS_HASH.to_owned(),
                first_bad: None,
            },
        }
    }
}

impl Verifier {
    /// Feeds the next events. Returns `false` once a bad event was found.
    pub fn feed<'a>(&mut self, events: impl IntoIterator<Item = &'a AuditEvent>) -> bool {
        for e in events {
            if self.report.first_bad.is_some() {
                return false;
            }
            self.report.events_checked += 1;
            let expected = self.report.events_checked;
            let mismatch = if e.seq != expected {
                Some(Mismatch::Gap { expected })
            } else if e.prev_hash != self.report.head {
                Some(Mismatch::Link)
            } else if !e.hash_matches() {
                Some(Mismatch::Hash)
            } else {
                None
            };
            match mismatch {
                Some(mismatch) => {
                    self.report.first_bad = Some(BadEvent {
                        seq: e.seq,
                        action_id: e.action_id,
                        mismatch,
                    });
                    return false;
                }
                None => self.report.head = e.hash.clone(),
            }
        }
        self.report.first_bad.is_none()
    }

    /// The sequence number after which to read the next batch.
    pub fn last_seq(&self) -> u64 {
        self.report.events_checked
    }

    /// The findings.
    pub fn finish(self) -> AuditReport {
        self.report
    }
}

/// Verifies a whole chain held in memory.
pub fn verify_chain<'a>(events: impl IntoIterator<Item = &'a AuditEvent>) -> AuditReport {
    let mut v = Verifier::default();
    v.feed(events);
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditEvent> {
        let mut out: Vec<AuditEvent> = Vec::new();
        let id = ActionId(uuid::Uuid::nil());
        for seq in 1..=n {
            let prev = out
                .last()
                .map(|e| e.hash.clone())
                .unwrap_or_else(|| GENESIS_HASH.to_owned());
            let e = NewEvent {
                action_id: id,
                at: DateTime::from_timestamp(1_700_000_000 + seq as i64, 0).unwrap_or_default(),
                actor: "alice".into(),
                event: Event::Approve,
                from: Some(Status::Pending),
                to: Status::Approved,
                comment: None,
            };
            out.push(e.seal(seq, &prev));
        }
        out
    }

    #[test]
    fn intact_chain_verifies() {
        let report = verify_chain(&chain(5));
        assert!(report.is_intact());
        assert_eq!(report.events_checked, 5);
    }

    #[test]
    fn edited_comment_is_a_hash_mismatch_at_that_event() {
        let mut events = chain(5);
        events[2].comment = Some("nothing to see".into());
        let bad = verify_chain(&events).first_bad.expect("tamper found");
        assert_eq!((bad.seq, bad.mismatch), (3, Mismatch::Hash));
    }

    #[test]
    fn removed_event_is_a_gap() {
        let mut events = chain(5);
        events.remove(1);
        let bad = verify_chain(&events).first_bad.expect("gap found");
        assert_eq!((bad.seq, bad.mismatch), (3, Mismatch::Gap { expected: 2 }));
    }

    #[test]
    fn rehashed_edit_breaks_the_next_link() {
        let mut events = chain(5);
        let mut edited = events[1].unsealed();
        edited.actor = "mallory".into();
        events[1] = edited.seal(2, &events[0].hash);
        let bad = verify_chain(&events).first_bad.expect("tamper found");
        assert_eq!((bad.seq, bad.mismatch), (3, Mismatch::Link));
    }
}
