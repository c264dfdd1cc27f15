//! Faults below the SQLite store, through a VFS that delegates to the
//! default one (`support/faulty_vfs.rs`):
//!
//! - a full disk: every write is refused with a clear `Storage` error,
//!   nothing committed is lost, reads and `verify_audit` still work, and
//!   work resumes once space returns;
//! - the Nth write or sync of a scenario failed with an I/O error, for
//!   every N: the call in progress fails with `Storage`, the database is
//!   as before it, and the work goes on.

use std::sync::Arc;

use actioncenter::chrono::{Duration, TimeZone, Utc};
use actioncenter::serde_json::{Value, json};
use actioncenter::{
    ActionCenter, ActionId, BulkOp, ClaimRequest, Counts, Decide, Entity, Error, ErrorKind, Filter,
    Kind, ManualClock, Policy, Principal, Proposal, Result, Seen, Selection, SigningKey, Source,
    SqliteStore, Status, Store, UndoRequest, VerifyOptions,
};

#[path = "support/faulty_vfs.rs"]
mod faulty_vfs;

fn root() -> Principal {
    Principal::new("root", ["admin"])
}
fn air() -> Principal {
    Principal::new("air", ["automation"])
}
fn alice() -> Principal {
    Principal::new("alice", ["analyst"])
}
fn agent() -> Principal {
    Principal::new("agent-1", ["executor"])
}
fn key() -> SigningKey {
    SigningKey::from_bytes(&[9u8; 32])
}

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::starting_at(
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
            .single()
            .expect("time"),
    ))
}

fn propose(center: &ActionCenter, n: usize) -> Result<actioncenter::Action> {
    let p = Proposal::new(
        Kind::QuarantineFile,
        Entity::File {
            sha256: format!("{:064x}", n),
            path: format!("C:\\tmp\\evil-{n}.exe"),
            device_id: format!("dev-{n}"),
        },
        Source::AutomatedInvestigation {
            investigation_id: "inv-1".into(),
        },
    )
    .with_idempotency_key(format!("inv-1/{n}"));
    center.propose(&air(), p)
}

fn claim(center: &ActionCenter, limit: usize) -> Result<Vec<actioncenter::Action>> {
    center.claim(
        &agent(),
        &ClaimRequest {
            limit,
            lease_seconds: 300,
            kinds: None,
        },
    )
}

/// What the database holds, with the counts checked against a recount.
#[derive(Debug, PartialEq)]
struct Snapshot {
    actions: Vec<Value>,
    events: Vec<Value>,
    counts: Counts,
    head: (u64, String),
    policies: usize,
    checkpoints: usize,
}

fn snapshot(store: &dyn Store) -> Snapshot {
    let actions = store.list(&Filter::default(), None, 10_000).expect("list");
    let counts = store.count(&Filter::default()).expect("count");
    let mut recount = Counts::zero();
    for a in &actions {
        *recount.0.entry(a.status).or_default() += 1;
    }
    assert_eq!(counts, recount, "counts against a recount");
    Snapshot {
        actions: actions.iter().map(to_value).collect(),
        events: store
            .events_since(0, 100_000)
            .expect("events")
            .iter()
            .map(to_value)
            .collect(),
        counts,
        head: store.chain_head().expect("head"),
        policies: store.policy_history().expect("policies").len(),
        checkpoints: store.checkpoints().expect("checkpoints").len(),
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    actioncenter::serde_json::to_value(v).expect("serialize")
}

fn assert_intact(center: &ActionCenter, context: &str) {
    let report = center
        .verify_audit_with(&VerifyOptions {
            public_key: Some(key().verifying_key()),
            checkpoint: None,
        })
        .expect("verify");
    assert!(report.is_intact(), "{context}: {:?}", report.problem());
}

fn integrity_ok(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).expect("open");
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(ok, "ok");
}

#[test]
fn a_full_disk_is_a_clear_error_loses_nothing_and_work_resumes_when_space_returns() {
    let _switches = faulty_vfs::lock();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("full.db");
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(faulty_vfs::uri(&path)).expect("open through the VFS"));
    let clock = clock();
    let center = ActionCenter::with_clock(store.clone(), Policy::default(), clock.clone());

    // Work before the disk fills: proposed, approved, running, completed.
    let ids: Vec<ActionId> = (0..30)
        .map(|n| propose(&center, n).expect("propose").id)
        .collect();
    for id in &ids[..12] {
        center
            .approve(&alice(), *id, &Decide::default())
            .expect("approve");
    }
    let running = claim(&center, 6).expect("claim");
    for a in &running[..3] {
        let token = a.lease_token().unwrap_or_default();
        center
            .complete(&agent(), a.id, token, json!({"ok": true}))
            .expect("complete");
    }
    center.checkpoint(&root(), &key()).expect("checkpoint");
    let before = snapshot(store.as_ref());

    faulty_vfs::set_full(true);
    let (pending, to_reject) = (ids[20], ids[19]);
    let still_running = &running[3];
    let token = still_running.lease_token().unwrap_or_default().to_owned();
    let writes: Vec<(&str, Write<'_>)> = vec![
        ("propose", Box::new(|| propose(&center, 100).map(drop))),
        (
            "approve",
            Box::new(|| {
                center
                    .approve(&alice(), pending, &Decide::default())
                    .map(drop)
            }),
        ),
        (
            "reject",
            Box::new(|| {
                center
                    .reject(&alice(), to_reject, &Decide::with_comment("no"))
                    .map(drop)
            }),
        ),
        ("claim", Box::new(|| claim(&center, 3).map(drop))),
        (
            "heartbeat",
            Box::new(|| {
                center
                    .heartbeat(&agent(), still_running.id, &token, 600)
                    .map(drop)
            }),
        ),
        (
            "complete",
            Box::new(|| {
                center
                    .complete(&agent(), still_running.id, &token, json!({}))
                    .map(drop)
            }),
        ),
        (
            "bulk",
            Box::new(|| {
                let seen = ids[21..25]
                    .iter()
                    .map(|id| Seen {
                        id: *id,
                        version: 1,
                    })
                    .collect();
                let op = BulkOp::Approve { comment: None };
                let items = center.bulk(&alice(), &op, &Selection::Ids(seen))?;
                items.into_iter().try_for_each(|i| i.result.map(drop))
            }),
        ),
        (
            "undo",
            Box::new(|| {
                let request = UndoRequest {
                    comment: "false positive".into(),
                    ..UndoRequest::default()
                };
                center.undo(&alice(), running[0].id, &request).map(drop)
            }),
        ),
        (
            "set_policy",
            Box::new(|| {
                center
                    .set_policy(&root(), Policy::default(), None, Some("again"))
                    .map(drop)
            }),
        ),
        (
            "checkpoint",
            Box::new(|| center.checkpoint(&root(), &key()).map(drop)),
        ),
    ];
    for (what, write) in &writes {
        let err: Error = write().expect_err(what);
        assert_eq!(err.kind(), ErrorKind::Storage, "{what}: {err}");
        let text = err.to_string();
        assert!(text.contains("database or disk is full"), "{what}: {text}");
        assert!(
            text.contains("full.db"),
            "{what}: names the database: {text}"
        );
        assert_eq!(snapshot(store.as_ref()), before, "{what} changed the store");
    }
    // Reads go on: the queue, the counts, the trail.
    assert_intact(&center, "while full");
    assert_eq!(
        center
            .counts(&alice(), &Filter::default())
            .expect("counts")
            .get(Status::Pending),
        18
    );
    // Space returns: the same calls work, on the same handle.
    faulty_vfs::set_full(false);
    for (what, write) in &writes {
        write().unwrap_or_else(|e| panic!("{what} once space returned: {e}"));
    }
    // A proposal retried with its key gets the one stored once space returned.
    propose(&center, 100).expect("retried proposal");
    assert_intact(&center, "after");
    let after = snapshot(store.as_ref());
    assert!(after.events.len() > before.events.len());
    assert_eq!(after.events[..before.events.len()], before.events[..]);
    assert_eq!(after.checkpoints, 2);
    drop(writes);
    drop(center);
    drop(store);
    integrity_ok(&path);
    // And without the VFS, as a new process would open it.
    let reopened = ActionCenter::with_clock(
        Arc::new(SqliteStore::open(&path).expect("reopen")),
        Policy::default(),
        clock,
    );
    assert_intact(&reopened, "reopened");
    assert_eq!(snapshot(reopened.store().as_ref()), after);
}

/// The scenario of the write-fault replay: each step one engine call.
type Write<'a> = Box<dyn Fn() -> Result<()> + 'a>;
type StepFn = fn(&ActionCenter, &ManualClock) -> Result<()>;

fn steps() -> Vec<(&'static str, StepFn)> {
    fn first(center: &ActionCenter, status: Status) -> Result<actioncenter::Action> {
        let filter = Filter {
            statuses: vec![status],
            ..Filter::default()
        };
        let page = center.list(&alice(), &filter, &actioncenter::PageRequest::default())?;
        Ok(page
            .items
            .last()
            .cloned()
            .expect("an action in that status"))
    }
    vec![
        ("bootstrap", |c, _| c.stored_policy().map(drop)),
        ("propose 1", |c, _| propose(c, 1).map(drop)),
        ("propose 2", |c, _| propose(c, 2).map(drop)),
        ("propose 3", |c, _| propose(c, 3).map(drop)),
        ("approve", |c, _| {
            let a = first(c, Status::Pending)?;
            c.approve(&alice(), a.id, &Decide::default()).map(drop)
        }),
        ("reject", |c, _| {
            let a = first(c, Status::Pending)?;
            c.reject(&alice(), a.id, &Decide::with_comment("benign"))
                .map(drop)
        }),
        ("claim", |c, _| {
            let got = claim(c, 5)?;
            assert_eq!(got.len(), 1);
            Ok(())
        }),
        ("complete", |c, _| {
            let a = first(c, Status::Running)?;
            let token = a.lease_token().unwrap_or_default().to_owned();
            c.complete(&agent(), a.id, &token, json!({"ok": 1}))
                .map(drop)
        }),
        ("undo", |c, _| {
            let a = first(c, Status::Completed)?;
            let request = UndoRequest {
                comment: "false positive".into(),
                ..UndoRequest::default()
            };
            c.undo(&alice(), a.id, &request).map(drop)
        }),
        ("expire", |c, clock| {
            clock.advance(Duration::days(8));
            let moved = c.expire_due()?;
            assert_eq!(moved.len(), 1);
            Ok(())
        }),
        ("policy", |c, _| {
            c.set_policy(&root(), Policy::default(), None, Some("again"))
                .map(drop)
        }),
        ("checkpoint", |c, _| c.checkpoint(&root(), &key()).map(drop)),
    ]
}

/// Runs the steps on a fresh database through the VFS, failing its
/// `n`th write or sync (0: none); returns the writes and syncs made and
/// whether the fault fell in a step.
fn replay_writes(n: u64) -> (u64, bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("io.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(faulty_vfs::uri(&path)).expect("open"));
    let clock = clock();
    let center = ActionCenter::with_clock(store.clone(), Policy::default(), clock.clone());
    faulty_vfs::fail_at(n);
    let mut hit = false;
    for (name, step) in steps() {
        let before = snapshot(store.as_ref());
        let was = faulty_vfs::failed();
        let result = step(&center, &clock);
        if faulty_vfs::failed() == was {
            result.unwrap_or_else(|e| panic!("write {n}, {name}: no fault, yet {e}"));
            continue;
        }
        hit = true;
        let err = result.expect_err("the failed write or sync fails the call");
        assert_eq!(err.kind(), ErrorKind::Storage, "write {n}, {name}: {err}");
        assert_eq!(
            snapshot(store.as_ref()),
            before,
            "write {n}, {name}: the failed call changed the database"
        );
        assert_intact(&center, &format!("write {n}, {name}"));
        if name == "expire" {
            clock.advance(Duration::days(-8));
        }
        step(&center, &clock).unwrap_or_else(|e| panic!("write {n}, {name}, again: {e}"));
    }
    let calls = faulty_vfs::calls();
    assert_intact(&center, &format!("write {n}, at the end"));
    assert_eq!(snapshot(store.as_ref()).checkpoints, 1);
    drop(center);
    drop(store);
    integrity_ok(&path);
    (calls, hit)
}

#[test]
fn every_write_and_sync_of_a_scenario_failed_in_turn_is_a_clean_storage_error() {
    let _switches = faulty_vfs::lock();
    let (total, hit) = replay_writes(0);
    assert!(!hit);
    assert!(total > 20, "{total} writes and syncs");
    for n in 1..=total {
        let (_, hit) = replay_writes(n);
        assert!(hit, "write {n} of {total} fell in no step");
    }
    eprintln!("sqlite: {total} writes and syncs, each failed in turn");
}
