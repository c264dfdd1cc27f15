//! Decisions on the pending actions an engine keeps, over a store whose
//! reads are round trips to a server (`Store::reads_are_round_trips`, as
//! PostgreSQL's are; here memory and SQLite behind a wrapper that says
//! so and counts the calls). Deciding on a kept copy costs one storage
//! call instead of two; a copy that went stale, because another handle
//! decided or a newer library rewrote the document at the same version,
//! is never written over the stored action: the decision is the one a
//! handle that kept nothing makes. PostgreSQL runs the same cases through
//! its conformance suite (`scripts/test-postgres.sh`).

#![cfg(feature = "sqlite")]

use std::sync::Arc;

use actioncenter::conformance::FaultyStore;
use actioncenter::serde_json::json;
use actioncenter::{
    Action, ActionCenter, Decide, Entity, ErrorKind, Kind, KindRule, MemoryStore, Policy,
    Principal, Proposal, Source, SqliteStore, Status, Store, SystemClock,
};

fn air() -> Principal {
    Principal::new("air", ["automation"])
}
fn alice() -> Principal {
    Principal::new("alice", ["analyst"])
}
fn bob() -> Principal {
    Principal::new("bob", ["analyst"])
}

/// A store and a way to rewrite its stored action behind the engine's
/// back, at the same version (as a newer library's migration would).
struct Backend {
    name: &'static str,
    store: Arc<FaultyStore>,
    rewrite: Box<dyn Fn(&Action)>,
    _dir: Option<tempfile::TempDir>,
}

fn backends(round_trips: bool) -> Vec<Backend> {
    let wrap = |inner: Arc<dyn Store>| {
        let store = FaultyStore::new(inner);
        Arc::new(if round_trips {
            store.with_round_trips()
        } else {
            store
        })
    };
    let memory = Arc::new(MemoryStore::new());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kept.db");
    let sqlite = Arc::new(SqliteStore::open(&path).expect("open sqlite"));
    vec![
        Backend {
            name: "memory",
            store: wrap(memory.clone()),
            rewrite: Box::new(move |a: &Action| {
                let a = a.clone();
                memory
                    .tamper_with_action(a.id, |stored| *stored = a)
                    .expect("rewrite")
            }),
            _dir: None,
        },
        Backend {
            name: "sqlite",
            store: wrap(sqlite),
            rewrite: Box::new(move |a: &Action| {
                let conn = rusqlite::Connection::open(&path).expect("open");
                let doc = actioncenter::serde_json::to_string(a).expect("doc");
                conn.execute(
                    "UPDATE actions SET doc = ?1 WHERE id = ?2",
                    rusqlite::params![doc, a.id.to_string()],
                )
                .expect("rewrite");
            }),
            _dir: Some(dir),
        },
    ]
}

fn engine(store: &Arc<FaultyStore>, policy: Policy) -> ActionCenter {
    let center = ActionCenter::with_clock(store.clone(), policy, Arc::new(SystemClock));
    center.stored_policy().expect("bootstrap policy");
    center
}

fn isolation(device: &str) -> Proposal {
    Proposal::new(
        Kind::IsolateDevice,
        Entity::Device {
            device_id: device.into(),
            name: None,
        },
        Source::Antivirus,
    )
}

/// Storage calls `f` made.
fn calls<T>(store: &FaultyStore, f: impl FnOnce() -> T) -> (u64, T) {
    let before = store.calls();
    let out = f();
    (store.calls() - before, out)
}

#[test]
fn approving_an_action_this_handle_proposed_is_one_storage_call() {
    for (round_trips, expected) in [(true, 1), (false, 2)] {
        for b in backends(round_trips) {
            let center = engine(&b.store, Policy::default());
            let a = center.propose(&air(), isolation("dev-1")).expect("propose");
            let (n, approved) = calls(&b.store, || {
                center.approve(&alice(), a.id, &Decide::default())
            });
            let approved = approved.expect("approve");
            assert_eq!(n, expected, "{} (round trips: {round_trips})", b.name);
            assert_eq!(approved.status, Status::Approved);
            assert_eq!(
                b.store.get(a.id).expect("get"),
                Some(approved),
                "{}",
                b.name
            );
            assert!(
                center.verify_audit().expect("verify").is_intact(),
                "{}",
                b.name
            );
        }
    }
}

#[test]
fn each_approval_of_a_quorum_is_one_call_and_the_last_one_approves() {
    let rule = KindRule {
        quorum: Some(2),
        ..KindRule::default()
    };
    let policy = Policy::default()
        .with_kind_rule(Kind::IsolateDevice, rule)
        .expect("policy");
    for b in backends(true) {
        let center = engine(&b.store, policy.clone());
        let a = center.propose(&air(), isolation("dev-1")).expect("propose");
        let (n1, first) = calls(&b.store, || {
            center.approve(&alice(), a.id, &Decide::default())
        });
        assert_eq!(
            (n1, first.expect("first").status),
            (1, Status::Pending),
            "{}",
            b.name
        );
        let (n2, second) = calls(&b.store, || {
            center.approve(&bob(), a.id, &Decide::default())
        });
        assert_eq!(
            (n2, second.expect("second").status),
            (1, Status::Approved),
            "{}",
            b.name
        );
        // The same approver twice is refused, kept copy or not.
        let b2 = center.propose(&air(), isolation("dev-2")).expect("propose");
        center
            .approve(&alice(), b2.id, &Decide::default())
            .expect("first");
        let again = center.approve(&alice(), b2.id, &Decide::default());
        assert_eq!(
            again.expect_err("twice").kind(),
            ErrorKind::Validation,
            "{}",
            b.name
        );
        assert!(
            center.verify_audit().expect("verify").is_intact(),
            "{}",
            b.name
        );
    }
}

#[test]
fn a_copy_another_handle_made_stale_is_read_again_and_decided_as_if_never_kept() {
    for b in backends(true) {
        let (first, second) = (
            engine(&b.store, Policy::default()),
            engine(&b.store, Policy::default()),
        );
        // Kept by the first handle, approved through the second.
        let a = first.propose(&air(), isolation("dev-1")).expect("propose");
        second
            .approve(&bob(), a.id, &Decide::default())
            .expect("approve");
        let events = b.store.events_of(a.id).expect("events").len();

        let reject = first.reject(&alice(), a.id, &Decide::with_comment("no"));
        let err = reject.expect_err("already approved");
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidTransition,
            "{}: {err}",
            b.name
        );
        let stored = b.store.get(a.id).expect("get").expect("stored");
        assert_eq!(
            (stored.status, stored.version),
            (Status::Approved, 2),
            "{}",
            b.name
        );
        assert_eq!(b.store.events_of(a.id).expect("events").len(), events);

        // With the version the caller saw: a conflict naming the stored one.
        let c = first.propose(&air(), isolation("dev-2")).expect("propose");
        second
            .reject(&bob(), c.id, &Decide::with_comment("no"))
            .expect("reject");
        let seen = Decide {
            comment: None,
            expected_version: Some(1),
        };
        let err = first.approve(&alice(), c.id, &seen).expect_err("moved on");
        assert_eq!(err.kind(), ErrorKind::Conflict, "{}: {err}", b.name);
        assert_eq!(
            b.store.get(c.id).expect("get").expect("c").status,
            Status::Rejected
        );
        assert!(
            first.verify_audit().expect("verify").is_intact(),
            "{}",
            b.name
        );
    }
}

#[test]
fn a_document_rewritten_at_the_same_version_is_not_written_over() {
    for b in backends(true) {
        let center = engine(&b.store, Policy::default());
        let a = center.propose(&air(), isolation("dev-1")).expect("propose");
        // A newer library's field, written at the same version.
        let mut newer = a.clone();
        newer
            .extra
            .insert("risk_score".into(), json!({"value": 93, "model": "v4"}));
        (b.rewrite)(&newer);

        let (n, approved) = calls(&b.store, || {
            center.approve(&alice(), a.id, &Decide::default())
        });
        let approved = approved.expect("approve");
        // The kept copy was refused (one call), then the action read
        // (another) and approved (a third).
        assert_eq!(n, 3, "{}", b.name);
        let stored = b.store.get(a.id).expect("get").expect("stored");
        assert_eq!(stored, approved, "{}", b.name);
        assert_eq!(stored.status, Status::Approved);
        assert_eq!(
            stored.extra.get("risk_score"),
            Some(&json!({"value": 93, "model": "v4"})),
            "{}",
            b.name
        );
    }
}

fn executor() -> Principal {
    Principal::new("agent-1", ["executor"])
}

fn claim_one(center: &ActionCenter) -> Action {
    let request = actioncenter::ClaimRequest {
        limit: 1,
        lease_seconds: 60,
        kinds: None,
    };
    let mut claimed = center.claim(&executor(), &request).expect("claim");
    assert_eq!(claimed.len(), 1);
    claimed.remove(0)
}

#[test]
fn an_executor_finishes_what_it_claimed_in_one_call_and_renews_without_a_read_of_it() {
    for b in backends(true) {
        let center = engine(&b.store, Policy::default());
        for (device, fails) in [("dev-1", false), ("dev-2", true)] {
            let a = center.propose(&air(), isolation(device)).expect("propose");
            center
                .approve(&alice(), a.id, &Decide::default())
                .expect("approve");
            let c = claim_one(&center);
            let token = c.lease_token().expect("token").to_owned();
            let (n, renewed) = calls(&b.store, || {
                center.heartbeat(&executor(), c.id, &token, 120)
            });
            // The stored policy is read again for a renewal (its change
            // carries no policy version to be refused by), then one write.
            assert_eq!(n, 2, "{}: heartbeat", b.name);
            assert_eq!(
                b.store.get(c.id).expect("get"),
                Some(renewed.expect("renew"))
            );
            let (n, done) = calls(&b.store, || {
                if fails {
                    center.fail(&executor(), c.id, &token, "offline")
                } else {
                    center.complete(&executor(), c.id, &token, json!({"ok": true}))
                }
            });
            let done = done.expect("finish");
            assert_eq!(n, 1, "{}: finish", b.name);
            let status = if fails {
                Status::Failed
            } else {
                Status::Completed
            };
            assert_eq!(done.status, status, "{}", b.name);
            assert_eq!(b.store.get(c.id).expect("get"), Some(done), "{}", b.name);
        }
        assert!(
            center.verify_audit().expect("verify").is_intact(),
            "{}",
            b.name
        );
    }
}

#[test]
fn a_lease_renewed_through_another_handle_is_not_written_back() {
    for b in backends(true) {
        let (first, second) = (
            engine(&b.store, Policy::default()),
            engine(&b.store, Policy::default()),
        );
        let a = first.propose(&air(), isolation("dev-1")).expect("propose");
        first
            .approve(&alice(), a.id, &Decide::default())
            .expect("approve");
        let c = claim_one(&first);
        let token = c.lease_token().expect("token").to_owned();
        // The same executor renews through another handle: a new lease
        // deadline, no new version, so the first handle's copy is stale.
        let renewed = second
            .heartbeat(&executor(), c.id, &token, 600)
            .expect("renew");
        assert_eq!(renewed.version, c.version);
        assert_ne!(renewed.lease_until(), c.lease_until());

        let (n, done) = calls(&b.store, || {
            first.complete(&executor(), c.id, &token, json!({"ok": true}))
        });
        let done = done.expect("complete");
        assert_eq!(n, 3, "{}: the copy refused, read, completed", b.name);
        let attempt = done.attempts.last().expect("attempt");
        assert_eq!(
            Some(attempt.lease_until),
            renewed.lease_until(),
            "{}: the renewed deadline, not the copy's",
            b.name
        );
        assert_eq!(b.store.get(c.id).expect("get"), Some(done), "{}", b.name);
    }
}

#[test]
fn a_failing_store_is_asked_once_and_its_error_is_the_answer() {
    use actioncenter::conformance::Fault;
    for b in backends(true) {
        let center = engine(&b.store, Policy::default());
        let a = center.propose(&air(), isolation("dev-1")).expect("propose");
        b.store.set_fault(Fault::Once(b.store.calls() + 1));
        let (n, approved) = calls(&b.store, || {
            center.approve(&alice(), a.id, &Decide::default())
        });
        let err = approved.expect_err("the store failed");
        assert_eq!(
            (n, err.kind()),
            (1, ErrorKind::Storage),
            "{}: {err}",
            b.name
        );
        // Nothing was written; the next approval reads and approves.
        let stored = b.store.get(a.id).expect("get").expect("stored");
        assert_eq!(stored.status, Status::Pending, "{}", b.name);
        let approved = center.approve(&alice(), a.id, &Decide::default());
        assert_eq!(
            approved.expect("approve").status,
            Status::Approved,
            "{}",
            b.name
        );
        assert!(
            center.verify_audit().expect("verify").is_intact(),
            "{}",
            b.name
        );
    }
}
