//! The audit trail: one event per transition, chained by SHA-256.
//!
//! Each event's hash covers its own fields and the previous event's hash,
//! so changing, removing or reordering any stored event breaks the chain
//! from that point on. Each event of an action also records the action's
//! version after it and a [digest](action_digest) of the action's
//! canonical form, so the chain proves the state of every action row, not
//! only its own events; [`Verifier`] also checks that each action's
//! events form a path the machine's table allows. Signed
//! [checkpoints](crate::checkpoint) make a rewrite that re-hashes the
//! whole chain, or a cut tail, detectable. The same sequence is the
//! change feed: a follower reads `events_since(last_seen_seq)` in any
//! language, without callbacks.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::machine::{self, Event};
use crate::model::{Action, ActionId, Status};

/// The hash that stands before the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What happened, before the store gives it a place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvent {
    /// The action; `None` for an event of the policy.
    pub action_id: Option<ActionId>,
    pub at: DateTime<Utc>,
    /// Who acted: the principal the engine checked.
    pub actor: String,
    /// The administrator who acted as `actor`, when someone did.
    pub via: Option<String>,
    pub event: Event,
    pub from: Option<Status>,
    pub to: Option<Status>,
    pub comment: Option<String>,
    /// The action's version after the event (the policy's, for a policy event).
    pub version: u64,
    /// [`action_digest`] of the action after the event (the policy's
    /// digest, for a policy event).
    pub digest: String,
    /// The version of the stored policy the event was decided under.
    pub policy_version: Option<u64>,
}

/// A stored audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in the trail, from 1, without gaps.
    pub seq: u64,
    /// The action; `null` for an event of the policy (`set_policy`).
    pub action_id: Option<ActionId>,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// The administrator who acted as `actor` ("root as dana"), when someone did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    pub event: Event,
    /// `null` for the event that created the action.
    pub from: Option<Status>,
    /// `null` for an event of the policy.
    pub to: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The action's (or policy's) version after the event; `null` on
    /// events written before versions were recorded.
    pub version: Option<u64>,
    /// The digest of the action (or policy) after the event; `null` on
    /// events written before digests were recorded.
    pub digest: Option<String>,
    /// The stored policy's version the event was decided under; `null` on
    /// events written before policies were stored.
    #[serde(default)]
    pub policy_version: Option<u64>,
    /// The previous event's hash (the genesis hash for seq 1), lowercase hex.
    pub prev_hash: String,
    /// SHA-256 of this event's fields and `prev_hash`, lowercase hex.
    pub hash: String,
}

impl NewEvent {
    /// Seals the event at position `seq` after the event whose hash is `prev_hash`.
    pub fn seal(self, seq: u64, prev_hash: &str) -> AuditEvent {
        let mut sealed = self.placed(seq, prev_hash);
        sealed.hash = sealed.computed_hash();
        sealed
    }

    /// The event at `seq` after `prev_hash`, its hash not yet taken.
    pub(crate) fn placed(self, seq: u64, prev_hash: &str) -> AuditEvent {
        AuditEvent {
            seq,
            action_id: self.action_id,
            at: self.at,
            actor: self.actor,
            via: self.via,
            event: self.event,
            from: self.from,
            to: self.to,
            comment: self.comment,
            version: Some(self.version),
            digest: Some(self.digest),
            policy_version: self.policy_version,
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        }
    }
}

/// The text an event's hash is taken of, in the three parts around its
/// position and the previous hash: the hash of the event sealed at `seq`
/// after `prev_hash` is SHA-256 of `before + seq + between + prev_hash +
/// after` (`seq` in decimal). What a database server that assigns the
/// positions chains with, so that the chain head's lock is not held
/// while a client seals; the client checks every hash it is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashFrame {
    pub before: String,
    pub between: String,
    pub after: String,
}

impl NewEvent {
    /// This event's [`HashFrame`].
    pub fn hash_frame(&self) -> Result<HashFrame, crate::Error> {
        // Sealed at position 0 after an empty hash, the text reads
        // `[2,0,` ... `,""]`: both are where the real ones go.
        let probe = self.clone().placed(0, "");
        let mut text = Vec::with_capacity(512);
        probe
            .write_hashed(&mut text)
            .map_err(|e| crate::Error::storage("cannot encode an audit event", e))?;
        let text = String::from_utf8(text)
            .map_err(|e| crate::Error::storage("cannot encode an audit event", e))?;
        match (text.strip_prefix("[2,0,"), text.ends_with(",\"\"]")) {
            (Some(_), true) => Ok(HashFrame {
                before: "[2,".to_owned(),
                between: text[4..text.len() - 2].to_owned(),
                after: "\"]".to_owned(),
            }),
            _unexpected => Err(crate::Error::storage_msg(format!(
                "an audit event's hashed text has an unexpected shape: {text}"
            ))),
        }
    }
}

impl AuditEvent {
    /// The hash the fields and `prev_hash` produce: SHA-256 of the JSON
    /// array of them (format 1 or 2), written straight into the hasher.
    pub fn computed_hash(&self) -> String {
        let mut h = Hashing(Sha256::new());
        // Writing to a hasher cannot fail, and every field serializes.
        let _ = self.write_hashed(&mut h);
        hex_of(&h.0.finalize())
    }

    /// Writes the text [`computed_hash`](Self::computed_hash) is taken of.
    fn write_hashed(&self, w: impl std::io::Write) -> serde_json::Result<()> {
        match (&self.version, &self.digest) {
            // Events written by a library that recorded neither keep
            // their first hash format.
            (None, None) => serde_json::to_writer(
                w,
                &(
                    1,
                    self.seq,
                    self.action_id,
                    self.at.timestamp_micros(),
                    &self.actor,
                    self.event,
                    self.from,
                    self.to,
                    &self.comment,
                    &self.prev_hash,
                ),
            ),
            _recorded => serde_json::to_writer(
                w,
                &(
                    2,
                    self.seq,
                    self.action_id,
                    self.at.timestamp_micros(),
                    &self.actor,
                    &self.via,
                    self.event,
                    self.from,
                    self.to,
                    &self.comment,
                    self.version,
                    &self.digest,
                    self.policy_version,
                    &self.prev_hash,
                ),
            ),
        }
    }

    /// Whether `hash` is what the fields and `prev_hash` produce.
    pub fn hash_matches(&self) -> bool {
        self.computed_hash() == self.hash
    }

    /// "root as dana" when an administrator acted as someone, else the actor.
    pub fn actor_shown(&self) -> String {
        match &self.via {
            Some(via) => format!("{via} as {}", self.actor),
            None => self.actor.clone(),
        }
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex_of(&Sha256::digest(bytes))
}

/// Lowercase hex of a SHA-256 digest, through one buffer (`hex::encode`
/// collects an iterator of chars one by one).
pub(crate) fn hex_of(digest: &[u8]) -> String {
    let mut buf = [0u8; 64];
    match buf.get_mut(..digest.len() * 2) {
        Some(out) => match hex::encode_to_slice(digest, out) {
            // Hex digits are ASCII: valid UTF-8, so nothing is replaced.
            Ok(()) => std::str::from_utf8(out).map_or_else(|_| hex::encode(digest), str::to_owned),
            Err(_) => hex::encode(digest),
        },
        None => hex::encode(digest),
    }
}

/// A JSON value written with sorted keys and no white space, whatever
/// order its maps hold: the same value always gives the same text.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = Vec::new();
    write_canonical(value, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Writes [`canonical_json`] of `value` into `out`, without building it.
fn write_canonical(value: &serde_json::Value, out: &mut impl std::io::Write) {
    use serde_json::Value;
    // Writing to a hasher or a vector cannot fail.
    let put = |bytes: &[u8], out: &mut dyn std::io::Write| {
        let _ = out.write_all(bytes);
    };
    match value {
        Value::Object(map) => {
            let mut keys: Vec<(&String, &Value)> = map.iter().collect();
            // serde_json's map is already sorted unless its
            // `preserve_order` feature is on somewhere in the build.
            if !keys.is_sorted_by(|a, b| a.0 <= b.0) {
                keys.sort_by(|a, b| a.0.cmp(b.0));
            }
            put(b"{", out);
            for (i, (k, v)) in keys.into_iter().enumerate() {
                if i > 0 {
                    put(b",", out);
                }
                let _ = serde_json::to_writer(&mut *out, k);
                put(b":", out);
                write_canonical(v, out);
            }
            put(b"}", out);
        }
        Value::Array(items) => {
            put(b"[", out);
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    put(b",", out);
                }
                write_canonical(v, out);
            }
            put(b"]", out);
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *out, scalar);
        }
    }
}

/// An `io::Write` that feeds SHA-256.
struct Hashing(Sha256);

impl std::io::Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Lowercase hex SHA-256 of [`canonical_json`] of `value`.
pub fn canonical_digest(value: &serde_json::Value) -> String {
    let mut h = Hashing(Sha256::new());
    write_canonical(value, &mut h);
    hex_of(&h.0.finalize())
}

/// SHA-256 of an action's canonical form: every field of its document
/// (kind, entity, source, links, parameters, decisions with comments,
/// attempts with results and errors, undo information, status, expiry,
/// version and the fields a newer library wrote) but the lease deadline
/// of its attempts. Lease renewals move only that deadline; they are
/// neither audited nor a new version, so that an executor renewing every
/// few seconds does not flood the trail. A forged deadline can at most
/// hand the action back to the queue early, through a `lease_expire`
/// event that is itself audited.
pub fn action_digest(action: &Action) -> String {
    // Every field of an action has a canonical form: ids, strings, times,
    // numbers, and JSON maps keyed by strings.
    crate::canonical::with_text(action, crate::canonical::Prune::Action, b"", sha256_hex)
        .unwrap_or_else(|_| digest_through_value(action))
}

/// [`action_digest`] the first way it was written: through a
/// `serde_json::Value`. The reference the fast path is tested against.
fn digest_through_value(action: &Action) -> String {
    let mut doc = serde_json::to_value(action).unwrap_or_default();
    if let Some(attempts) = doc.get_mut("attempts").and_then(|a| a.as_array_mut()) {
        for attempt in attempts {
            if let Some(map) = attempt.as_object_mut() {
                map.remove("lease_until");
            }
        }
    }
    if let Some(map) = doc.as_object_mut() {
        map.remove("updated_at");
    }
    canonical_digest(&doc)
}

/// Why an event fails verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum Mismatch {
    /// The stored hash is not the hash of the stored fields.
    Hash,
    /// `prev_hash` is not the previous event's hash.
    Link,
    /// The sequence skips a number: an event was removed.
    Gap { expected: u64 },
    /// The event is not a move the machine's table allows after the
    /// action's previous event (or its versions do not follow on).
    Transition { detail: String },
    /// The event's row cannot be read back as an event: a column holds
    /// text that is not UTF-8, or a value no event can have. `detail` is
    /// what the store said.
    Unreadable { detail: String },
}

/// The first event that does not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadEvent {
    pub seq: u64,
    pub action_id: Option<ActionId>,
    pub mismatch: Mismatch,
}

/// Why a stored action row does not match its audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ActionMismatch {
    /// The row has no audit event at all: it was inserted behind the engine's back.
    NoEvents,
    /// The trail has events for an action whose row is gone.
    Missing,
    /// The row's version is not the version its last event recorded.
    Version { row: u64, event: u64 },
    /// The row's status is not the status its last event moved it to.
    Status { row: Status, event: Status },
    /// The row's content is not what its last event recorded.
    Digest,
    /// A column the store derives from the row's doc (`status`,
    /// `version`, ...) is not what the doc says; `doc` when the doc no
    /// longer decodes.
    Column { column: String },
}

/// The first action whose stored row does not match its trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadAction {
    pub id: ActionId,
    /// The action's last audit event, when it has one.
    pub seq: Option<u64>,
    pub mismatch: ActionMismatch,
}

/// What [`verify_chain`] and the engine's `verify_audit` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Events read up to (and including) the first bad one.
    pub events_checked: u64,
    /// The hash of the last good event: the chain head when `first_bad` is `None`.
    pub head: String,
    pub first_bad: Option<BadEvent>,
    /// Action rows checked against their last event.
    #[serde(default)]
    pub actions_checked: u64,
    #[serde(default)]
    pub first_bad_action: Option<BadAction>,
    /// The stored policy, checked against its last `set_policy` event.
    #[serde(default)]
    pub policy_problem: Option<String>,
    /// The kept counts per status and category (the tab badges) against
    /// the stored actions: the first that differs, in words.
    #[serde(default)]
    pub counts_problem: Option<String>,
    /// What the signed checkpoints say; empty when none was checked.
    #[serde(default)]
    pub checkpoints: crate::checkpoint::CheckpointReport,
    /// [`is_intact`](Self::is_intact), for readers of the JSON.
    #[serde(default)]
    pub intact: bool,
    /// [`problem`](Self::problem), the first problem in words, for readers
    /// of the JSON; `null` when intact.
    #[serde(default)]
    pub problem: Option<String>,
}

impl AuditReport {
    /// Whether every event, action row, the policy, the kept counts and
    /// every checkpoint matched.
    pub fn is_intact(&self) -> bool {
        self.first_bad.is_none()
            && self.first_bad_action.is_none()
            && self.policy_problem.is_none()
            && self.counts_problem.is_none()
            && self.checkpoints.problem.is_none()
    }

    /// The first problem, in words; `None` when intact.
    pub fn problem(&self) -> Option<String> {
        if let Some(bad) = &self.first_bad {
            let what = match &bad.mismatch {
                Mismatch::Hash => "its hash does not match its fields".to_owned(),
                Mismatch::Link => "it does not link to the event before it".to_owned(),
                Mismatch::Gap { expected } => format!("event {expected} is missing"),
                Mismatch::Transition { detail } => detail.clone(),
                Mismatch::Unreadable { detail } => format!("its row cannot be read: {detail}"),
            };
            return Some(format!("audit event {}: {what}", bad.seq));
        }
        if let Some(bad) = &self.first_bad_action {
            let what = match &bad.mismatch {
                ActionMismatch::NoEvents => "has no audit event".to_owned(),
                ActionMismatch::Missing => "has audit events but no stored row".to_owned(),
                ActionMismatch::Version { row, event } => {
                    format!("is at version {row}, its last event recorded {event}")
                }
                ActionMismatch::Status { row, event } => {
                    format!("is {row}, its last event moved it to {event}")
                }
                ActionMismatch::Digest => "differs from what its last event recorded".to_owned(),
                ActionMismatch::Column { column } if column == "doc" => {
                    "has a stored doc that does not decode".to_owned()
                }
                ActionMismatch::Column { column } => {
                    format!("has a {column} column that is not what its doc says")
                }
            };
            let at = bad
                .seq
                .map(|s| format!(" (last event {s})"))
                .unwrap_or_default();
            return Some(format!("action {} {what}{at}", bad.id));
        }
        if let Some(p) = &self.policy_problem {
            return Some(format!("policy: {p}"));
        }
        if let Some(p) = &self.counts_problem {
            return Some(format!("counts: {p}"));
        }
        self.checkpoints
            .problem
            .as_ref()
            .map(|p| format!("checkpoint: {p}"))
    }
}

/// The last audited state of one action, as its events tell it.
#[derive(Debug, Clone)]
pub(crate) struct Trail {
    pub last_seq: u64,
    pub status: Status,
    pub version: Option<u64>,
    pub digest: Option<String>,
}

/// The last audited state of the policy.
#[derive(Debug, Clone, Default)]
pub(crate) struct PolicyTrail {
    pub version: u64,
    pub digest: Option<String>,
    /// Every version's `set_policy` event: its digest, actor and time.
    pub events: HashMap<u64, (Option<String>, String, DateTime<Utc>)>,
}

/// Checks a chain fed in order, in batches, stopping at the first bad
/// event, and keeps what each action's events say it must be now.
#[derive(Debug)]
pub struct Verifier {
    report: AuditReport,
    trails: HashMap<ActionId, Trail>,
    policy: PolicyTrail,
    /// Hashes at the positions a checkpoint names, as found.
    wanted: HashMap<u64, Option<String>>,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier {
            report: AuditReport {
                events_checked: 0,
                head: GENESIS_HASH.to_owned(),
                first_bad: None,
                actions_checked: 0,
                first_bad_action: None,
                policy_problem: None,
                counts_problem: None,
                checkpoints: Default::default(),
                intact: true,
                problem: None,
            },
            trails: HashMap::new(),
            policy: PolicyTrail::default(),
            wanted: HashMap::new(),
        }
    }
}

impl Verifier {
    /// Also remember the hash of the event at `seq` (for a checkpoint).
    pub(crate) fn want_hash_at(&mut self, seq: u64) {
        self.wanted.insert(seq, None);
    }

    /// The hash found at `seq`, if [`want_hash_at`](Self::want_hash_at) asked for it.
    pub(crate) fn hash_at(&self, seq: u64) -> Option<&str> {
        self.wanted.get(&seq).and_then(|h| h.as_deref())
    }

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
                self.follow(e)
                    .err()
                    .map(|detail| Mismatch::Transition { detail })
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
                None => {
                    self.report.head = e.hash.clone();
                    if let Some(slot) = self.wanted.get_mut(&e.seq) {
                        *slot = Some(e.hash.clone());
                    }
                }
            }
        }
        self.report.first_bad.is_none()
    }

    /// Checks that `e` follows on from what came before it, and records it.
    fn follow(&mut self, e: &AuditEvent) -> Result<(), String> {
        let Some(id) = e.action_id else {
            if e.event != Event::SetPolicy {
                return Err(format!("a {} event names no action", e.event));
            }
            let version = e.version.unwrap_or(0);
            if version != self.policy.version + 1 {
                return Err(format!(
                    "policy version {version} follows version {}",
                    self.policy.version
                ));
            }
            self.policy.version = version;
            self.policy.digest = e.digest.clone();
            self.policy
                .events
                .insert(version, (e.digest.clone(), e.actor.clone(), e.at));
            return Ok(());
        };
        let Some(to) = e.to else {
            return Err(format!("a {} event of action {id} has no status", e.event));
        };
        if e.version.is_none() {
            // Written before events recorded versions: its hash is all
            // there is to check (moves were different then).
            self.trails.insert(
                id,
                Trail {
                    last_seq: e.seq,
                    status: to,
                    version: None,
                    digest: None,
                },
            );
            return Ok(());
        }
        let previous = self.trails.get(&id);
        let from = previous.map(|t| t.status);
        if e.from != from {
            return Err(format!(
                "{} of action {id} starts from {}, but its last event left it {}",
                e.event,
                shown(e.from),
                shown(from)
            ));
        }
        let allowed = machine::TABLE
            .iter()
            .any(|r| r.from == from && r.event == e.event && r.to.contains(&to));
        if !allowed || e.event == Event::Heartbeat {
            return Err(format!(
                "{} from {} to {to} is not a move of the machine's table",
                e.event,
                shown(from)
            ));
        }
        if let (Some(prev), Some(version)) = (previous.and_then(|t| t.version), e.version)
            && version != prev + 1
        {
            return Err(format!("action {id} goes from version {prev} to {version}"));
        }
        self.trails.insert(
            id,
            Trail {
                last_seq: e.seq,
                status: to,
                version: e.version,
                digest: e.digest.clone(),
            },
        );
        Ok(())
    }

    /// The sequence number after which to read the next batch.
    pub fn last_seq(&self) -> u64 {
        self.report.events_checked
    }

    /// Checks a stored action row against its last event. Returns `false`
    /// once a bad action was found.
    pub fn check_action(&mut self, action: &Action) -> bool {
        if self.report.first_bad_action.is_some() {
            return false;
        }
        self.report.actions_checked += 1;
        let trail = self.trails.get(&action.id);
        let mismatch = match trail {
            None => Some(ActionMismatch::NoEvents),
            Some(t) if t.version.is_some() && t.status != action.status => {
                Some(ActionMismatch::Status {
                    row: action.status,
                    event: t.status,
                })
            }
            Some(t) => match (t.version, &t.digest) {
                (Some(v), _) if v != action.version => Some(ActionMismatch::Version {
                    row: action.version,
                    event: v,
                }),
                (_, Some(d)) if *d != action_digest(action) => Some(ActionMismatch::Digest),
                // Checked as far as the trail recorded.
                _recorded => None,
            },
        };
        if let Some(mismatch) = mismatch {
            self.report.first_bad_action = Some(BadAction {
                id: action.id,
                seq: trail.map(|t| t.last_seq),
                mismatch,
            });
            return false;
        }
        true
    }

    /// The event after the last one checked could not be read: the first
    /// bad event, unless one was found before.
    pub(crate) fn report_unreadable(&mut self, detail: String) {
        if self.report.first_bad.is_some() {
            return;
        }
        self.report.events_checked += 1;
        self.report.first_bad = Some(BadEvent {
            seq: self.report.events_checked,
            action_id: None,
            mismatch: Mismatch::Unreadable { detail },
        });
    }

    /// A stored row whose derived column (or doc) the store found off
    /// its doc: the first bad action, unless one was found before.
    pub(crate) fn report_row_off_doc(&mut self, id: ActionId, column: String) {
        if self.report.first_bad_action.is_some() {
            return;
        }
        self.report.first_bad_action = Some(BadAction {
            id,
            seq: self.trails.get(&id).map(|t| t.last_seq),
            mismatch: ActionMismatch::Column { column },
        });
    }

    /// After every stored row was checked: an action with events and no
    /// row is a deleted row. `seen` is how many rows were checked.
    pub(crate) fn check_no_row_missing(&mut self, seen: &std::collections::HashSet<ActionId>) {
        if self.report.first_bad_action.is_some() {
            return;
        }
        let mut missing: Vec<(&ActionId, &Trail)> = self
            .trails
            .iter()
            .filter(|(id, _)| !seen.contains(*id))
            .collect();
        missing.sort_by_key(|(_, t)| t.last_seq);
        if let Some((id, t)) = missing.first() {
            self.report.first_bad_action = Some(BadAction {
                id: **id,
                seq: Some(t.last_seq),
                mismatch: ActionMismatch::Missing,
            });
        }
    }

    /// Checks the stored policy's version and digest against its last event.
    pub(crate) fn check_policy(&mut self, stored: Option<(u64, &str)>) {
        let trail = &self.policy;
        let problem = match stored {
            None if trail.version == 0 => None,
            None => Some(format!(
                "no policy is stored, but the trail set version {}",
                trail.version
            )),
            Some((v, _)) if v != trail.version => Some(format!(
                "the stored policy is version {v}, the trail's last is {}",
                trail.version
            )),
            Some((_, d)) if trail.digest.as_deref().is_some_and(|t| t != d) => Some(format!(
                "the stored policy version {} differs from what the trail recorded",
                trail.version
            )),
            Some(_) => None,
        };
        if self.report.policy_problem.is_none() {
            self.report.policy_problem = problem;
        }
    }

    /// Checks every stored version of the policy (oldest first) against
    /// its `set_policy` event: its content, digest, author and time.
    pub(crate) fn check_policy_history(&mut self, history: &[crate::policy::StoredPolicy]) {
        if self.report.policy_problem.is_some() {
            return;
        }
        let problem = history.iter().find_map(|p| {
            let Some((digest, actor, at)) = self.policy.events.get(&p.version) else {
                return Some(format!(
                    "policy version {} has no set_policy event in the trail",
                    p.version
                ));
            };
            let content = p.policy.digest();
            let what = if digest
                .as_deref()
                .is_some_and(|d| d != content || d != p.digest)
            {
                "its content or digest"
            } else if *actor != p.set_by {
                "who set it"
            } else if *at != p.set_at {
                "when it was set"
            } else {
                return None;
            };
            Some(format!(
                "policy version {} differs from its set_policy event: {what}",
                p.version
            ))
        });
        self.report.policy_problem = problem;
    }

    /// The findings so far, to add checkpoint results to.
    pub(crate) fn report_mut(&mut self) -> &mut AuditReport {
        &mut self.report
    }

    /// The findings.
    pub fn finish(self) -> AuditReport {
        let mut report = self.report;
        report.problem = report.problem();
        report.intact = report.is_intact();
        report
    }
}

fn shown(status: Option<Status>) -> String {
    status.map_or_else(|| "(new)".to_owned(), |s| s.to_string())
}

/// Verifies a whole chain held in memory (events only: no rows).
pub fn verify_chain<'a>(events: impl IntoIterator<Item = &'a AuditEvent>) -> AuditReport {
    let mut v = Verifier::default();
    v.feed(events);
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: u128, event: Event, from: Option<Status>, to: Status, version: u64) -> NewEvent {
        NewEvent {
            action_id: Some(ActionId(uuid::Uuid::from_u128(id))),
            at: DateTime::from_timestamp(1_700_000_000 + version as i64, 0).unwrap_or_default(),
            actor: "alice".into(),
            via: None,
            event,
            from,
            to: Some(to),
            comment: None,
            version,
            digest: "d".repeat(64),
            policy_version: Some(1),
        }
    }

    #[test]
    fn a_frame_around_the_position_and_the_previous_hash_hashes_to_the_sealed_event() {
        let mut odd = event(
            7,
            Event::Approve,
            Some(Status::Pending),
            Status::Approved,
            2,
        );
        odd.via = Some("root".into());
        odd.comment = Some("quote \" backslash \\ newline \n tab \t é 🙂 \u{7f}".into());
        odd.policy_version = None;
        for e in [event(1, Event::Propose, None, Status::Pending, 1), odd] {
            let frame = e.hash_frame().expect("frame");
            for (seq, prev) in [
                (1, GENESIS_HASH.to_owned()),
                (9_876_543_210, "ab".repeat(32)),
            ] {
                let text = format!(
                    "{}{seq}{}{prev}{}",
                    frame.before, frame.between, frame.after
                );
                let sealed = e.clone().seal(seq, &prev);
                assert_eq!(sha256_hex(text.as_bytes()), sealed.hash, "{text}");
                assert!(sealed.hash_matches());
            }
        }
    }

    fn sealed(events: Vec<NewEvent>) -> Vec<AuditEvent> {
        let mut out: Vec<AuditEvent> = Vec::new();
        for (i, e) in events.into_iter().enumerate() {
            let prev = out
                .last()
                .map_or(GENESIS_HASH.to_owned(), |e| e.hash.clone());
            out.push(e.seal(i as u64 + 1, &prev));
        }
        out
    }

    /// The hash as the first libraries wrote it: a `serde_json::Value`
    /// array printed to a string. Stored chains were hashed this way.
    fn hash_as_first_written(e: &AuditEvent) -> String {
        let fields = match (&e.version, &e.digest) {
            (None, None) => serde_json::json!([
                1,
                e.seq,
                e.action_id,
                e.at.timestamp_micros(),
                e.actor,
                e.event,
                e.from,
                e.to,
                e.comment,
                e.prev_hash,
            ]),
            _ => serde_json::json!([
                2,
                e.seq,
                e.action_id,
                e.at.timestamp_micros(),
                e.actor,
                e.via,
                e.event,
                e.from,
                e.to,
                e.comment,
                e.version,
                e.digest,
                e.policy_version,
                e.prev_hash,
            ]),
        };
        sha256_hex(fields.to_string().as_bytes())
    }

    #[test]
    fn action_digests_are_those_a_value_tree_gives_at_every_step() {
        use crate::engine::{ActionCenter, ClaimRequest, Decide, Proposal, UndoRequest};
        use crate::model::{Entity, Kind, Source};
        use crate::policy::{Policy, Principal};
        let center = ActionCenter::new(crate::MemoryStore::new(), Policy::default());
        let (air, alice, agent) = (
            Principal::new("air", ["automation"]),
            Principal::new("alice", ["analyst"]),
            Principal::new("agent", ["executor"]),
        );
        let entity = Entity::File {
            sha256: "a".repeat(64),
            path: "C:\\Temp\\\"x\".exe".into(),
            device_id: "dev-1".into(),
        };
        let source = Source::AutomatedInvestigation {
            investigation_id: "inv-é".into(),
        };
        let mut proposal = Proposal::new(Kind::QuarantineFile, entity, source);
        proposal.parameters =
            serde_json::json!({"z": [1, 2.5, {"b": null, "a": "x"}], "a": "\u{1b}[2J"})
                .as_object()
                .cloned()
                .unwrap_or_default();
        let mut steps = Vec::new();
        let a = center.propose(&air, proposal).expect("propose");
        steps.push(a.clone());
        let a = center
            .approve(&alice, a.id, &Decide::with_comment("ok"))
            .expect("approve");
        steps.push(a.clone());
        let request = ClaimRequest {
            limit: 1,
            lease_seconds: 60,
            kinds: None,
        };
        let claimed = center.claim(&agent, &request).expect("claim").remove(0);
        steps.push(claimed.clone());
        let token = claimed.lease_token().unwrap_or_default().to_owned();
        let done = center
            .complete(&agent, a.id, &token, serde_json::json!({"moved": "C:\\q"}))
            .expect("complete");
        steps.push(done.clone());
        let undo = UndoRequest {
            comment: "false positive".into(),
            ..UndoRequest::default()
        };
        steps.push(center.undo(&alice, a.id, &undo).expect("undo").action);
        // Fields a newer library wrote, sorting among the known ones.
        let mut doc = serde_json::to_value(&done).expect("doc");
        if let Some(map) = doc.as_object_mut() {
            map.insert("aaa_newer".into(), serde_json::json!({"y": 1, "x": [true]}));
            map.insert("status_note".into(), serde_json::json!("between"));
        }
        steps.push(serde_json::from_value(doc).expect("newer doc"));
        for action in &steps {
            assert_eq!(
                action_digest(action),
                digest_through_value(action),
                "{action:?}"
            );
        }
    }

    #[test]
    fn hashes_are_byte_for_byte_those_stored_chains_were_written_with() {
        let mut events = chain(3);
        events[1].comment = Some("quote \" back\\slash \u{1b}[2J tab\t é 🔒".into());
        events[1].via = Some("root".into());
        events[2].action_id = None;
        events[2].from = None;
        events[2].policy_version = None;
        let mut first_format = events[0].clone();
        first_format.version = None;
        first_format.digest = None;
        events.push(first_format);
        let mut half = events[1].clone();
        half.version = None;
        events.push(half);
        for e in &events {
            assert_eq!(e.computed_hash(), hash_as_first_written(e), "{e:?}");
        }
    }

    /// `n` proposals of `n` actions.
    fn chain(n: u64) -> Vec<AuditEvent> {
        sealed(
            (1..=n)
                .map(|i| event(i.into(), Event::Propose, None, Status::Pending, 1))
                .collect(),
        )
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
        events[1].actor = "mallory".into();
        events[1].hash = events[1].computed_hash();
        let bad = verify_chain(&events).first_bad.expect("tamper found");
        assert_eq!((bad.seq, bad.mismatch), (3, Mismatch::Link));
    }

    #[test]
    fn a_move_the_table_does_not_allow_is_found() {
        // reject, then claim: the history of a row edited from rejected to approved.
        let events = sealed(vec![
            event(1, Event::Propose, None, Status::Pending, 1),
            event(1, Event::Reject, Some(Status::Pending), Status::Rejected, 2),
            event(1, Event::Claim, Some(Status::Approved), Status::Running, 3),
        ]);
        let bad = verify_chain(&events).first_bad.expect("bad path found");
        assert_eq!(bad.seq, 3);
        assert!(
            matches!(&bad.mismatch, Mismatch::Transition { detail } if detail.contains("left it rejected")),
            "{bad:?}"
        );
    }

    #[test]
    fn a_skipped_version_is_found() {
        let events = sealed(vec![
            event(1, Event::Propose, None, Status::Pending, 1),
            event(
                1,
                Event::Approve,
                Some(Status::Pending),
                Status::Approved,
                3,
            ),
        ]);
        let bad = verify_chain(&events).first_bad.expect("bad version found");
        assert_eq!(bad.seq, 2);
    }

    #[test]
    fn the_canonical_digest_is_the_hash_of_the_canonical_text() {
        let v = serde_json::json!({"b": [1, "x\"y", null], "a": {"z": true, "é": 1.5}});
        assert_eq!(
            canonical_digest(&v),
            sha256_hex(canonical_json(&v).as_bytes())
        );
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let v = serde_json::json!({"b": 1, "a": {"d": [1, {"z": 0, "y": 1}], "c": null}});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1}"#
        );
    }
}
