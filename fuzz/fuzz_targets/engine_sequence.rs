//! Arbitrary sequences of engine calls on a MemoryStore with a manual
//! clock, each checked against a small model of the state machine written
//! here from the design (not from the engine): after every step each
//! action's stored status must be the model's, a call the model refuses
//! must fail and one it allows must succeed; at the end the audit chain
//! verifies.
#![no_main]

use std::sync::Arc;

use actioncenter::chrono::{DateTime, Duration, TimeZone, Utc};
use actioncenter::*;
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Op {
    Propose { kind: u8, full: bool },
    Approve { a: u8, by: u8 },
    Reject { a: u8, by: u8 },
    Cancel { a: u8 },
    Claim { by: u8, lease: u8 },
    Heartbeat { a: u8, by: u8, token: u8, lease: u8 },
    Complete { a: u8, by: u8, token: u8 },
    Fail { a: u8, by: u8, token: u8 },
    Retry { a: u8 },
    Undo { a: u8 },
    Expire,
    Recover,
    Advance { secs: u8 },
    AdvanceLong,
}

const TTL: i64 = 100;
const MAX_ATTEMPTS: u32 = 2;

#[derive(Debug, Clone)]
struct Lease {
    token: String,
    holder: usize,
    until: DateTime<Utc>,
}

/// The model of one action.
#[derive(Debug, Clone)]
struct M {
    id: ActionId,
    status: Status,
    quorum: usize,
    undoable: bool,
    approvers: Vec<usize>,
    expires_at: DateTime<Utc>,
    forward: u32,
    undos: u32,
    lease: Option<Lease>,
    /// Every token this action's claims were given.
    tokens: Vec<String>,
}

fn kind_of(n: u8, i: usize) -> (Kind, Entity, usize, bool) {
    match n % 4 {
        0 => (
            Kind::IsolateDevice,
            Entity::Device {
                device_id: format!("dev-{i}"),
                name: None,
            },
            2,
            true,
        ),
        1 => (
            Kind::QuarantineFile,
            Entity::File {
                sha256: format!("{:064x}", i),
                path: format!("/tmp/f{i}"),
                device_id: format!("dev-{i}"),
            },
            1,
            true,
        ),
        2 => (
            Kind::DisableUser,
            Entity::User {
                user_id: format!("u{i}@example.com"),
            },
            1,
            true,
        ),
        _ => (
            Kind::RunAntivirusScan,
            Entity::Device {
                device_id: format!("dev-{i}"),
                name: None,
            },
            1,
            false,
        ),
    }
}

fn leased(status: Status) -> bool {
    matches!(status, Status::Running | Status::UndoRunning)
}

fuzz_target!(|ops: Vec<Op>| {
    let start = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("start");
    let clock = Arc::new(ManualClock::starting_at(start));
    let policy = Policy::from_json(&format!(
        r#"{{
        "roles": {{
            "analyst": {{"view": ["*"], "propose": ["*"], "approve": ["*"], "cancel": ["*"], "undo": ["*"]}},
            "executor": {{"view": ["*"], "execute": ["*"]}},
            "automation": {{"view": ["*"], "propose": ["*"], "sources": ["automated_investigation", "antivirus"]}},
            "admin": {{"administer": ["*"]}}
        }},
        "automation": {{"default": "semi", "sources": {{"antivirus": "full"}}}},
        "defaults": {{"quorum": 1, "pending_ttl_seconds": {TTL}, "max_attempts": {MAX_ATTEMPTS}}},
        "kinds": {{"isolate_device": {{"quorum": 2}}}}
    }}"#
    ))
    .expect("policy");
    let center = ActionCenter::with_clock(Arc::new(MemoryStore::new()), policy, clock.clone());
    let air = Principal::new("air", ["automation"]);
    let analysts: Vec<Principal> = (0..3)
        .map(|i| Principal::new(format!("analyst-{i}"), ["analyst"]))
        .collect();
    let agents: Vec<Principal> = (0..2)
        .map(|i| Principal::new(format!("agent-{i}"), ["executor"]))
        .collect();
    let mut model: Vec<M> = Vec::new();

    for op in ops.into_iter().take(200) {
        let now = clock.now();
        let pick = |a: u8, model: &Vec<M>| (a as usize).checked_rem(model.len());
        // What the model expects: Some(true) must succeed, Some(false)
        // must fail; the model is updated for a success.
        match op {
            Op::Propose { kind, full } => {
                let n = model.len();
                let (kind, entity, quorum, undoable) = kind_of(kind, n);
                let source = if full {
                    Source::Antivirus
                } else {
                    Source::AutomatedInvestigation {
                        investigation_id: "inv".into(),
                    }
                };
                let a = center
                    .propose(&air, Proposal::new(kind, entity, source))
                    .expect("a proposal on a new entity is accepted");
                let status = if full {
                    Status::Approved
                } else {
                    Status::Pending
                };
                assert_eq!(a.status, status);
                model.push(M {
                    id: a.id,
                    status,
                    quorum,
                    undoable,
                    approvers: Vec::new(),
                    expires_at: now + Duration::seconds(TTL),
                    forward: 0,
                    undos: 0,
                    lease: None,
                    tokens: Vec::new(),
                });
            }
            Op::Approve { a, by } => {
                let Some(i) = pick(a, &model) else { continue };
                let by = by as usize % analysts.len();
                let m = &mut model[i];
                let ok =
                    m.status == Status::Pending && now < m.expires_at && !m.approvers.contains(&by);
                let r = center.approve(&analysts[by], m.id, &Decide::default());
                assert_eq!(r.is_ok(), ok, "approve {m:?}: {r:?}");
                if ok {
                    m.approvers.push(by);
                    if m.approvers.len() >= m.quorum {
                        m.status = Status::Approved;
                    }
                }
            }
            Op::Reject { a, by } => {
                let Some(i) = pick(a, &model) else { continue };
                let by = by as usize % analysts.len();
                let m = &mut model[i];
                let ok = m.status == Status::Pending && now < m.expires_at;
                let r = center.reject(&analysts[by], m.id, &Decide::with_comment("no"));
                assert_eq!(r.is_ok(), ok, "reject {m:?}: {r:?}");
                if ok {
                    m.status = Status::Rejected;
                }
            }
            Op::Cancel { a } => {
                let Some(i) = pick(a, &model) else { continue };
                let m = &mut model[i];
                let ok = matches!(m.status, Status::Pending | Status::Approved);
                let r = center.cancel(&analysts[0], m.id, "stop");
                assert_eq!(r.is_ok(), ok, "cancel {m:?}: {r:?}");
                if ok {
                    m.status = Status::Cancelled;
                }
            }
            Op::Claim { by, lease } => {
                let by = by as usize % agents.len();
                let secs = i64::from(lease % 120) + 1;
                let request = ClaimRequest {
                    limit: 1,
                    lease_seconds: secs,
                    kinds: None,
                };
                let claimed = center.claim(&agents[by], &request).expect("claim");
                let waiting = model
                    .iter()
                    .any(|m| matches!(m.status, Status::Approved | Status::Undoing));
                assert_eq!(claimed.is_empty(), !waiting, "claim: {claimed:?}");
                for a in claimed {
                    let m = model
                        .iter_mut()
                        .find(|m| m.id == a.id)
                        .expect("a claimed action is known");
                    let token = a.lease_token().expect("a claim has a token").to_owned();
                    match m.status {
                        Status::Approved => {
                            m.status = Status::Running;
                            m.forward += 1;
                        }
                        Status::Undoing => {
                            m.status = Status::UndoRunning;
                            m.undos += 1;
                        }
                        other => panic!("claimed an action in {other}"),
                    }
                    assert_eq!(a.status, m.status);
                    assert!(!m.tokens.contains(&token), "a token was given twice");
                    m.tokens.push(token.clone());
                    m.lease = Some(Lease {
                        token,
                        holder: by,
                        until: now + Duration::seconds(secs),
                    });
                }
            }
            Op::Heartbeat {
                a,
                by,
                token,
                lease,
            } => {
                let Some(i) = pick(a, &model) else { continue };
                let by = by as usize % agents.len();
                let secs = i64::from(lease % 120) + 1;
                let m = &mut model[i];
                let (tok, ok) = lease_call(m, by, token, now);
                let r = center.heartbeat(&agents[by], m.id, &tok, secs);
                assert_eq!(r.is_ok(), ok, "heartbeat {m:?} by {by} with {tok}: {r:?}");
                if ok && let Some(l) = m.lease.as_mut() {
                    l.until = now + Duration::seconds(secs);
                }
            }
            Op::Complete { a, by, token } => {
                let Some(i) = pick(a, &model) else { continue };
                let by = by as usize % agents.len();
                let m = &mut model[i];
                let (tok, ok) = lease_call(m, by, token, now);
                let r = center.complete(&agents[by], m.id, &tok, serde_json::json!({}));
                assert_eq!(r.is_ok(), ok, "complete {m:?} by {by} with {tok}: {r:?}");
                if ok {
                    m.status = if m.status == Status::Running {
                        Status::Completed
                    } else {
                        Status::Undone
                    };
                    m.lease = None;
                }
            }
            Op::Fail { a, by, token } => {
                let Some(i) = pick(a, &model) else { continue };
                let by = by as usize % agents.len();
                let m = &mut model[i];
                let (tok, ok) = lease_call(m, by, token, now);
                let r = center.fail(&agents[by], m.id, &tok, "boom");
                assert_eq!(r.is_ok(), ok, "fail {m:?} by {by} with {tok}: {r:?}");
                if ok {
                    m.status = if m.status == Status::Running {
                        Status::Failed
                    } else {
                        Status::UndoFailed
                    };
                    m.lease = None;
                }
            }
            Op::Retry { a } => {
                let Some(i) = pick(a, &model) else { continue };
                let m = &mut model[i];
                let ok = m.status == Status::Failed && m.forward < MAX_ATTEMPTS;
                let r = center.retry(&analysts[1], m.id, None);
                assert_eq!(r.is_ok(), ok, "retry {m:?}: {r:?}");
                if ok {
                    m.status = Status::Approved;
                }
            }
            Op::Undo { a } => {
                let Some(i) = pick(a, &model) else { continue };
                let m = &mut model[i];
                let ok = m.undoable
                    && (m.status == Status::Completed
                        || (m.status == Status::UndoFailed && m.undos < MAX_ATTEMPTS));
                let request = UndoRequest {
                    comment: "false positive".into(),
                    ..UndoRequest::default()
                };
                let r = center.undo(&analysts[2], m.id, &request);
                assert_eq!(
                    r.is_ok(),
                    ok,
                    "undo {m:?}: {:?}",
                    r.map(|r| r.action.status)
                );
                if ok {
                    m.status = Status::Undoing;
                }
            }
            Op::Expire => {
                let moved = center.expire_due().expect("expire sweep");
                let mut want: Vec<ActionId> = Vec::new();
                for m in model.iter_mut() {
                    if m.status == Status::Pending && m.expires_at <= now {
                        m.status = Status::Expired;
                        want.push(m.id);
                    }
                }
                let mut got: Vec<ActionId> = moved.iter().map(|a| a.id).collect();
                got.sort();
                want.sort();
                assert_eq!(got, want, "the expiry sweep");
            }
            Op::Recover => {
                let moved = center.recover_leases().expect("lease sweep");
                let mut want: Vec<ActionId> = Vec::new();
                for m in model.iter_mut() {
                    let Some(lease) = &m.lease else { continue };
                    if !leased(m.status) || lease.until > now {
                        continue;
                    }
                    m.status = match m.status {
                        Status::Running if m.forward < MAX_ATTEMPTS => Status::Approved,
                        Status::Running => Status::Failed,
                        _ if m.undos < MAX_ATTEMPTS => Status::Undoing,
                        _ => Status::UndoFailed,
                    };
                    m.lease = None;
                    want.push(m.id);
                }
                let mut got: Vec<ActionId> = moved.iter().map(|a| a.id).collect();
                got.sort();
                want.sort();
                assert_eq!(got, want, "the lease sweep");
            }
            Op::Advance { secs } => clock.advance(Duration::seconds(i64::from(secs))),
            Op::AdvanceLong => clock.advance(Duration::hours(1)),
        }
        for m in &model {
            let stored = center.get(&analysts[0], m.id).expect("get");
            assert_eq!(stored.status, m.status, "stored status of {m:?}");
            assert_eq!(
                stored.forward_attempts(),
                m.forward,
                "forward attempts of {m:?}"
            );
            assert_eq!(stored.undo_attempts(), m.undos, "undo attempts of {m:?}");
            assert_eq!(
                stored.lease_token(),
                m.lease
                    .as_ref()
                    .map(|l| l.token.as_str())
                    .filter(|_| leased(m.status)),
                "lease of {m:?}"
            );
        }
    }
    let report = center.verify_audit().expect("verify");
    assert!(report.is_intact(), "{:?}", report.problem());
});

/// The token a lease call presents (`pick` 0: the current one; else a
/// past one or one never given) and whether the model allows the call.
fn lease_call(m: &M, by: usize, pick: u8, now: DateTime<Utc>) -> (String, bool) {
    let token = match (pick % 3, &m.lease) {
        (0, Some(l)) => l.token.clone(),
        (1, _) if !m.tokens.is_empty() => m.tokens[pick as usize % m.tokens.len()].clone(),
        _ => "not-a-token".to_owned(),
    };
    let ok = leased(m.status)
        && m.lease
            .as_ref()
            .is_some_and(|l| l.token == token && l.holder == by && now < l.until);
    (token, ok)
}
