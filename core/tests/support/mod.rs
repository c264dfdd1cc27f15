//! What the crash, race and interleaving suites share: a seeded random
//! number generator, the cast of principals, proposals, and the checks
//! every run ends with (the audit chain, the counts against a recount,
//! each status one the machine allows).

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::{BTreeMap, HashSet};

use actioncenter::machine::TABLE;
use actioncenter::*;

/// SplitMix64: small, fast, and the same sequence for the same seed on
/// every platform, so a failing run is replayed from its printed seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            None
        } else {
            items.get(self.below(items.len() as u64) as usize)
        }
    }
}

/// The seed in environment variable `var`, or one from the time; printed
/// either way, so any run can be replayed.
pub fn seed(var: &str) -> u64 {
    let seed = std::env::var(var)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    println!("seed: {seed} (replay with {var}={seed})");
    seed
}

/// A number from environment variable `var`, or `default`.
pub fn env_number(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(default)
}

pub fn air() -> Principal {
    Principal::new("air", ["automation"])
}
pub fn alice() -> Principal {
    Principal::new("alice", ["analyst"])
}
pub fn bob() -> Principal {
    Principal::new("bob", ["analyst"])
}
pub fn carol() -> Principal {
    Principal::new("carol", ["analyst"])
}
pub fn agent(n: usize) -> Principal {
    Principal::new(format!("agent-{n}"), ["executor"])
}
pub fn root() -> Principal {
    Principal::new("root", ["admin"])
}
pub fn viewer() -> Principal {
    Principal::new("victor", ["viewer"])
}

/// The default policy with leases and approval windows short enough for
/// the sweeps to find work within a run: blocking a URL waits one second
/// for approval, then expires.
pub fn policy() -> Policy {
    Policy::default()
        .with_kind_rule(
            Kind::BlockUrl,
            KindRule {
                pending_ttl_seconds: Some(1),
                ..KindRule::default()
            },
        )
        .unwrap()
}

pub fn isolate(device: &str) -> Proposal {
    Proposal::new(
        Kind::IsolateDevice,
        Entity::Device {
            device_id: device.into(),
            name: None,
        },
        Source::AutomatedInvestigation {
            investigation_id: "inv-reliability".into(),
        },
    )
}

pub fn quarantine(device: &str, sha: &str) -> Proposal {
    Proposal::new(
        Kind::QuarantineFile,
        Entity::File {
            sha256: sha.into(),
            path: "C:\\Temp\\evil.exe".into(),
            device_id: device.into(),
        },
        Source::AutomatedInvestigation {
            investigation_id: "inv-reliability".into(),
        },
    )
}

pub fn block_url(url: &str) -> Proposal {
    Proposal::new(
        Kind::BlockUrl,
        Entity::Url { url: url.into() },
        Source::AutomatedInvestigation {
            investigation_id: "inv-reliability".into(),
        },
    )
}

/// Every action in the store, newest first.
pub fn all_actions(center: &ActionCenter) -> Vec<Action> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let batch = center
            .store()
            .list(&Filter::default(), before, 1000)
            .unwrap();
        let n = batch.len();
        before = batch.last().map(|a| a.id);
        out.extend(batch);
        if n < 1000 {
            return out;
        }
    }
}

/// Every audit event, oldest first.
pub fn all_events(center: &ActionCenter) -> Vec<AuditEvent> {
    let mut out: Vec<AuditEvent> = Vec::new();
    loop {
        let after = out.last().map(|e| e.seq).unwrap_or(0);
        let batch = center.store().events_since(after, 1000).unwrap();
        if batch.is_empty() {
            return out;
        }
        out.extend(batch);
    }
}

/// What every run ends with; panics naming the first thing wrong.
/// - `verify_audit` (with the checkpoint key, when given) reports the
///   record intact;
/// - each action's status is one the machine's table leads to, and its
///   last event is the move to that status at its version, each event a
///   row of the table;
/// - the per-status counts the store keeps equal a recount of the rows.
///
/// Returns the actions.
pub fn check_store(center: &ActionCenter, key: Option<&VerifyingKey>) -> Vec<Action> {
    let options = VerifyOptions {
        public_key: key.copied(),
        checkpoint: None,
    };
    let report = center.verify_audit_with(&options).unwrap();
    assert!(report.is_intact(), "verify_audit: {:?}", report.problem());
    let reachable: HashSet<Status> = TABLE.iter().flat_map(|r| r.to.iter().copied()).collect();
    let actions = all_actions(center);
    let mut last: BTreeMap<ActionId, AuditEvent> = BTreeMap::new();
    for e in all_events(center) {
        if let Some(id) = e.action_id {
            assert!(
                TABLE.iter().any(|r| r.from == e.from
                    && r.event == e.event
                    && e.to.is_some_and(|to| r.to.contains(&to))),
                "event {} of action {id} ({:?} -{}-> {:?}) is no move of the machine",
                e.seq,
                e.from,
                e.event,
                e.to
            );
            last.insert(id, e);
        }
    }
    let mut recount: BTreeMap<Status, u64> = BTreeMap::new();
    for a in &actions {
        assert!(
            reachable.contains(&a.status),
            "action {} is {}",
            a.id,
            a.status
        );
        let e = last
            .get(&a.id)
            .unwrap_or_else(|| panic!("action {} has no event", a.id));
        assert_eq!(
            (e.to, e.version),
            (Some(a.status), Some(a.version)),
            "action {}: its last event is not its state",
            a.id
        );
        *recount.entry(a.status).or_default() += 1;
    }
    assert_eq!(last.len(), actions.len(), "events of actions with no row");
    let counts = center.counts(&viewer(), &Filter::default()).unwrap();
    for status in Status::ALL {
        assert_eq!(
            counts.get(status),
            recount.get(&status).copied().unwrap_or(0),
            "the stored count of {status} is not a recount"
        );
    }
    actions
}
