//! What the cases share: the people, the entities, and short ways to get
//! an action into a given status.

pub(super) use super::Harness;
pub(super) use std::sync::{Arc, Barrier};

pub(super) use chrono::{Duration, TimeZone, Utc};
pub(super) use serde_json::json;

pub(super) use crate::audit::Mismatch;
pub(super) use crate::checkpoint::Checkpoint;
pub(super) use crate::engine::{
    ActionCenter, BulkOp, ClaimRequest, Decide, Proposal, Seen, Selection, UndoRequest,
};
pub(super) use crate::error::Error;
pub(super) use crate::machine::{Event, ExpiryOutcome};
pub(super) use crate::model::{
    Action, ActionId, Category, Entity, Kind, Outcome, Source, SourceType, Status,
};
pub(super) use crate::policy::{
    Automation, AutomationLevel, KindRule, Operation, Policy, Principal,
};
pub(super) use crate::query::{Filter, PageRequest};

pub(super) fn air() -> Principal {
    Principal::new("air", ["automation"])
}

pub(super) fn alice() -> Principal {
    Principal::new("alice", ["analyst"])
}

pub(super) fn bob() -> Principal {
    Principal::new("bob", ["analyst"])
}

pub(super) fn agent() -> Principal {
    Principal::new("agent-1", ["executor"])
}

pub(super) fn agent2() -> Principal {
    Principal::new("agent-2", ["executor"])
}

pub(super) fn viewer() -> Principal {
    Principal::new("vera", ["viewer"])
}

pub(super) fn sha(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

pub(super) fn file_on(hash: &str, device: &str) -> Entity {
    Entity::File {
        sha256: hash.to_owned(),
        path: "C:\\Users\\x\\evil.exe".into(),
        device_id: device.into(),
    }
}

pub(super) fn device(id: &str) -> Entity {
    Entity::Device {
        device_id: id.into(),
        name: None,
    }
}

pub(super) fn investigation(id: &str) -> Source {
    Source::AutomatedInvestigation {
        investigation_id: id.into(),
    }
}

pub(super) fn quarantine(h: &Harness, hash: &str, dev: &str) -> Action {
    h.center
        .propose(
            &air(),
            Proposal::new(
                Kind::QuarantineFile,
                file_on(hash, dev),
                investigation("inv-1"),
            ),
        )
        .expect("propose")
}

pub(super) fn isolate(h: &Harness, dev: &str) -> Action {
    h.center
        .propose(
            &air(),
            Proposal::new(Kind::IsolateDevice, device(dev), investigation("inv-1")),
        )
        .expect("propose")
}

pub(super) fn approved(h: &Harness) -> Action {
    let a = quarantine(h, &sha(1), "dev-1");
    h.center
        .approve(&alice(), a.id, &Decide::default())
        .expect("approve")
}

pub(super) fn running(h: &Harness) -> Action {
    let a = approved(h);
    let claimed = h
        .center
        .claim(
            &agent(),
            &ClaimRequest {
                limit: 1,
                lease_seconds: 60,
                kinds: None,
            },
        )
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, a.id);
    claimed.into_iter().next().expect("one")
}

pub(super) fn completed(h: &Harness) -> Action {
    let a = running(h);
    h.center
        .complete(&agent(), a.id, &tok(h, a.id), json!({"ok": true}))
        .expect("complete")
}

pub(super) fn undoing(h: &Harness) -> Action {
    let a = completed(h);
    h.center
        .undo(&alice(), a.id, &undo_req("false positive"))
        .expect("undo")
        .action
}

pub(super) fn undo_req(comment: &str) -> UndoRequest {
    UndoRequest {
        comment: comment.into(),
        ..UndoRequest::default()
    }
}

/// The lease token of the claim an action is under now.
pub(super) fn tok(h: &Harness, id: ActionId) -> String {
    stored(h, id).lease_token().unwrap_or_default().to_owned()
}

pub(super) fn root() -> Principal {
    Principal::new("root", ["admin"])
}

pub(super) fn claim_one(h: &Harness, who: &Principal) -> Vec<Action> {
    h.center
        .claim(
            who,
            &ClaimRequest {
                limit: 1,
                lease_seconds: 60,
                kinds: None,
            },
        )
        .expect("claim")
}

pub(super) fn stored(h: &Harness, id: ActionId) -> Action {
    h.center.get(&alice(), id).expect("get")
}

/// How many events of actions the trail holds (not of the policy).
pub(super) fn event_count(h: &Harness) -> usize {
    h.center
        .events_since(&alice(), 0, 1000)
        .expect("events")
        .iter()
        .filter(|e| e.action_id.is_some())
        .count()
}

pub(super) fn with_policy(h: &Harness, f: impl FnOnce(Policy) -> Policy) {
    h.center
        .set_policy(&root(), f(Policy::default()), None, None)
        .expect("policy");
}

pub(super) fn kind_rule(h: &Harness, kind: Kind, rule: KindRule) {
    with_policy(h, |p| p.with_kind_rule(kind, rule).expect("rule"));
}

#[track_caller]
pub(super) fn assert_invalid(err: Error, status: Status, event: Event) {
    match err {
        Error::InvalidTransition {
            status: s,
            event: e,
            ..
        } => assert_eq!((s, e), (status, event)),
        other => panic!("expected InvalidTransition {status}/{event}, got {other:?}"),
    }
}

#[track_caller]
pub(super) fn assert_validation(err: Error, field: &str) {
    match err {
        Error::Validation { field: f, .. } => assert_eq!(f, field),
        other => panic!("expected Validation of {field}, got {other:?}"),
    }
}

pub(super) fn complete_quarantines(h: &Harness, hash: &str, devices: &[&str]) -> Vec<Action> {
    let ids: Vec<ActionId> = devices.iter().map(|d| quarantine(h, hash, d).id).collect();
    for id in &ids {
        h.center
            .approve(&alice(), *id, &Decide::default())
            .expect("approve");
    }
    let claimed = h
        .center
        .claim(
            &agent(),
            &ClaimRequest {
                limit: 100,
                lease_seconds: 60,
                kinds: None,
            },
        )
        .expect("claim");
    assert_eq!(claimed.len(), ids.len());
    ids.iter()
        .map(|id| {
            h.center
                .complete(&agent(), *id, &tok(h, *id), json!({}))
                .expect("complete")
        })
        .collect()
}

pub(super) fn rejected(h: &Harness) -> Action {
    let a = quarantine(h, &sha(3), "dev-9");
    h.center
        .reject(&alice(), a.id, &Decide::with_comment("benign"))
        .expect("reject")
}

pub(super) fn signer() -> crate::checkpoint::SigningKey {
    crate::checkpoint::SigningKey::from_bytes(&[42u8; 32])
}

pub(super) fn key_options() -> crate::engine::VerifyOptions {
    crate::engine::VerifyOptions {
        public_key: Some(signer().verifying_key()),
        checkpoint: None,
    }
}

pub(super) fn keyed(key: &str, dev: &str) -> Proposal {
    Proposal::new(Kind::IsolateDevice, device(dev), investigation("inv-1"))
        .with_idempotency_key(key)
}

pub(super) use crate::identity::{
    Account, Credential, CredentialKind, Revoke, SessionLimits, SignInLimits, secret_hash,
};

pub(super) const PASSWORD: &str = "correct horse battery";

pub(super) fn account(h: &Harness, id: &str) -> Account {
    let now = h.center.now();
    Account {
        id: id.to_owned(),
        password_hash: format!("$argon2id$not-a-real-hash-of-{id}"),
        disabled: false,
        created_by: "root".into(),
        created_at: now,
        updated_at: now,
    }
}

pub(super) fn credential(
    h: &Harness,
    kind: CredentialKind,
    principal: &str,
    secret: &str,
) -> Credential {
    let now = h.center.now();
    Credential {
        id: uuid::Uuid::now_v7(),
        kind,
        hash: secret_hash(secret),
        principal: principal.to_owned(),
        label: format!("{secret} label"),
        csrf: match kind {
            CredentialKind::Session => format!("csrf of {secret}"),
            CredentialKind::Token => String::new(),
        },
        created_by: "root".into(),
        created_at: now,
        last_used_at: now,
        expires_at: (kind == CredentialKind::Session).then(|| now + Duration::hours(12)),
        revoked_at: None,
        groups: match kind {
            CredentialKind::Session => vec!["secops".into(), "on call".into()],
            CredentialKind::Token => Vec::new(),
        },
    }
}

pub(super) fn stored_credential(h: &Harness, secret: &str) -> Credential {
    h.center
        .store()
        .credential(&secret_hash(secret))
        .expect("read")
        .expect("stored")
}

/// The stored policy with principals for the identity cases: `alice` an
/// analyst, `svc` an executor, `root` an admin.
pub(super) fn identity_policy(h: &Harness) {
    with_policy(h, |p| {
        p.with_principal("alice", ["analyst"])
            .and_then(|p| p.with_principal("svc", ["executor"]))
            .and_then(|p| p.with_principal("root", ["admin"]))
            .expect("principals")
    });
}

pub(super) fn with_user(h: &Harness, id: &str) {
    h.center.add_user(&root(), id, PASSWORD).expect("add user");
}

pub(super) fn sign_in(
    h: &Harness,
    id: &str,
    password: &str,
) -> crate::Result<crate::identity::Issued> {
    h.center.sign_in(
        id,
        password,
        "192.0.2.1",
        &SignInLimits::default(),
        &SessionLimits::default(),
    )
}

#[track_caller]
pub(super) fn assert_unauthenticated(
    result: crate::Result<impl std::fmt::Debug>,
    says: &str,
) -> String {
    match result {
        Err(Error::Unauthenticated { reason }) => {
            assert!(reason.contains(says), "{reason:?} should say {says:?}");
            reason
        }
        other => panic!("expected Unauthenticated ({says}), got {other:?}"),
    }
}
