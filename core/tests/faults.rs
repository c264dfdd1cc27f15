//! Storage faults: a realistic scenario replayed once to count its
//! storage calls (K), then once per call N in 1..=K on a fresh store
//! whose call N fails ([`FaultyStore`]). The engine call that made it
//! must return a `Storage` error and leave the store exactly as it was
//! before that call (every action, every event, counts equal to a
//! recount of the listed actions, the chain head, the policy and its
//! history, the checkpoints); the audit trail verifies; and the scenario
//! goes on from there (the failed call again, then the rest) to the end.
//! A second pass fails call N and every call after it (a dead disk): the
//! state is the one before the failing call.
//!
//! On memory and on SQLite. Faults below SQLite (a full disk) are in
//! `sqlite_full_disk.rs`.

use std::collections::HashMap;
use std::sync::Arc;

use actioncenter::chrono::{Duration, TimeZone, Utc};
use actioncenter::conformance::{Fault, FaultyStore};
use actioncenter::serde_json::{Value, json};
use actioncenter::{
    ActionCenter, ActionId, BulkOp, ClaimRequest, Counts, Decide, Entity, ErrorKind, Filter, Kind,
    KindRule, ManualClock, MemoryStore, Policy, Principal, Proposal, Result, Seen, Selection,
    SigningKey, Source, Status, Store, UndoRequest, VerifyOptions,
};

fn root() -> Principal {
    Principal::new("root", ["admin"])
}
fn air() -> Principal {
    Principal::new("air", ["automation"])
}
fn alice() -> Principal {
    Principal::new("alice", ["analyst"])
}
fn bob() -> Principal {
    Principal::new("bob", ["analyst"])
}
fn agent() -> Principal {
    Principal::new("agent-1", ["executor"])
}
fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

/// What the steps share: the engine, its clock, and what earlier steps
/// made (ids by name, lease tokens by name).
struct Ctx {
    center: ActionCenter,
    clock: Arc<ManualClock>,
    ids: HashMap<&'static str, ActionId>,
    tokens: HashMap<&'static str, String>,
}

impl Ctx {
    fn id(&self, name: &str) -> ActionId {
        self.ids[name]
    }
    fn propose(&mut self, name: &'static str, kind: Kind, entity: Entity) -> Result<()> {
        let source = Source::AutomatedInvestigation {
            investigation_id: "inv-1".into(),
        };
        let p = Proposal::new(kind, entity, source).with_idempotency_key(format!("inv-1/{name}"));
        let a = self.center.propose(&air(), p)?;
        self.ids.insert(name, a.id);
        Ok(())
    }
    /// Claims what is claimable, recording each lease token under the
    /// name of its action.
    fn claim(&mut self, lease_seconds: i64) -> Result<()> {
        let claimed = self.center.claim(
            &agent(),
            &ClaimRequest {
                limit: 10,
                lease_seconds,
                kinds: None,
            },
        )?;
        for a in claimed {
            let name = self
                .ids
                .iter()
                .find(|(_, id)| **id == a.id)
                .map(|(n, _)| *n)
                .expect("a claimed action of the scenario");
            self.tokens
                .insert(name, a.lease_token().unwrap_or_default().to_owned());
        }
        Ok(())
    }
    fn token(&self, name: &str) -> String {
        self.tokens[name].clone()
    }
}

fn file(device: &str) -> Entity {
    Entity::File {
        sha256: "ab".repeat(32),
        path: "C:\\tmp\\evil.exe".into(),
        device_id: device.into(),
    }
}

fn device(id: &str) -> Entity {
    Entity::Device {
        device_id: id.into(),
        name: None,
    }
}

/// One engine call (or a move of the clock, which makes no storage call).
struct Step {
    name: &'static str,
    /// A call that moves several actions, each on its own (bulk, undo
    /// with fan-out, the sweeps): a fault at item i leaves the items
    /// before it moved, each with its event. Done again, it moves the rest.
    per_item: bool,
    run: fn(&mut Ctx) -> Result<()>,
}

fn scenario() -> Vec<Step> {
    macro_rules! step {
        ($name:literal, $f:expr) => {
            Step {
                name: $name,
                per_item: false,
                run: $f,
            }
        };
        (per_item $name:literal, $f:expr) => {
            Step {
                name: $name,
                per_item: true,
                run: $f,
            }
        };
    }
    vec![
        step!("bootstrap the policy", |c| c
            .center
            .stored_policy()
            .map(drop)),
        step!("policy: a quorum of two to isolate", |c| {
            let rule = KindRule {
                quorum: Some(2),
                ..KindRule::default()
            };
            let p = Policy::default().with_kind_rule(Kind::IsolateDevice, rule)?;
            c.center
                .set_policy(&root(), p, None, Some("two people"))
                .map(drop)
        }),
        step!("propose quarantine on dev-1", |c| c.propose(
            "q1",
            Kind::QuarantineFile,
            file("dev-1")
        )),
        step!("propose quarantine on dev-2", |c| c.propose(
            "q2",
            Kind::QuarantineFile,
            file("dev-2")
        )),
        step!("propose quarantine on dev-3", |c| c.propose(
            "q3",
            Kind::QuarantineFile,
            file("dev-3")
        )),
        step!("propose isolate", |c| c.propose(
            "iso",
            Kind::IsolateDevice,
            device("dev-9")
        )),
        step!("propose disable user", |c| {
            c.propose(
                "user",
                Kind::DisableUser,
                Entity::User {
                    user_id: "mallory".into(),
                },
            )
        }),
        step!("propose block url (to reject)", |c| {
            c.propose(
                "url",
                Kind::BlockUrl,
                Entity::Url {
                    url: "https://evil.example/".into(),
                },
            )
        }),
        step!("propose quarantine on dev-4 (to expire)", |c| c.propose(
            "e1",
            Kind::QuarantineFile,
            file("dev-4")
        )),
        step!("propose isolate dev-5 (to expire)", |c| c.propose(
            "e2",
            Kind::IsolateDevice,
            device("dev-5")
        )),
        step!("a retried proposal returns the original", |c| {
            let before = c.id("q1");
            c.propose("q1", Kind::QuarantineFile, file("dev-1"))?;
            assert_eq!(c.id("q1"), before);
            Ok(())
        }),
        step!("approve isolate: one of two", |c| {
            let a = c
                .center
                .approve(&alice(), c.id("iso"), &Decide::default())?;
            assert_eq!(a.status, Status::Pending);
            Ok(())
        }),
        step!("approve isolate: two of two", |c| {
            let a = c.center.approve(&bob(), c.id("iso"), &Decide::default())?;
            assert_eq!(a.status, Status::Approved);
            Ok(())
        }),
        step!("reject block url", |c| {
            c.center
                .reject(&alice(), c.id("url"), &Decide::with_comment("benign"))
                .map(drop)
        }),
        step!(per_item "bulk approve, one item refused", |c| {
            let mut seen = Vec::new();
            for name in ["q1", "q2", "q3", "user", "url"] {
                let a = c.center.get(&alice(), c.id(name))?;
                if a.status != Status::Approved {
                    seen.push(Seen::of(&a));
                }
            }
            let op = BulkOp::Approve {
                comment: Some("batch".into()),
            };
            let items = c.center.bulk(&alice(), &op, &Selection::Ids(seen))?;
            for item in items {
                match item.result {
                    Err(e) if e.kind() == ErrorKind::Storage => return Err(e),
                    Err(e) => assert_eq!(item.id, c.id("url"), "{e}"),
                    Ok(a) => assert_eq!(a.status, Status::Approved),
                }
            }
            Ok(())
        }),
        step!("claim", |c| c.claim(60)),
        step!("heartbeat", |c| {
            let t = c.token("q1");
            c.center.heartbeat(&agent(), c.id("q1"), &t, 120).map(drop)
        }),
        step!("complete dev-1", |c| {
            let t = c.token("q1");
            c.center
                .complete(&agent(), c.id("q1"), &t, json!({"quarantined": 1}))
                .map(drop)
        }),
        step!("complete dev-2", |c| {
            let t = c.token("q2");
            c.center
                .complete(&agent(), c.id("q2"), &t, json!({"quarantined": 2}))
                .map(drop)
        }),
        step!("complete dev-3", |c| {
            let t = c.token("q3");
            c.center
                .complete(&agent(), c.id("q3"), &t, json!({"quarantined": 3}))
                .map(drop)
        }),
        step!("fail isolate", |c| {
            let t = c.token("iso");
            c.center
                .fail(&agent(), c.id("iso"), &t, "device offline")
                .map(drop)
        }),
        step!(per_item "undo dev-1 with fan-out to dev-2 and dev-3", |c| {
            let first = c.center.get(&alice(), c.id("q1"))?;
            if first.status == Status::Completed {
                let others = c.center.undo_instances(&alice(), first.id)?;
                assert_eq!(others.len(), 2);
                let request = UndoRequest {
                    comment: "false positive".into(),
                    expected_version: Some(first.version),
                    instances: others.iter().map(Seen::of).collect(),
                };
                let report = c.center.undo(&alice(), first.id, &request)?;
                for item in report.instances {
                    item.result?;
                }
            } else {
                // Done again after a fault among the instances: the ones
                // still completed, each on its own.
                for name in ["q2", "q3"] {
                    let a = c.center.get(&alice(), c.id(name))?;
                    if a.status == Status::Completed {
                        let request = UndoRequest {
                            comment: "false positive".into(),
                            expected_version: Some(a.version),
                            instances: vec![],
                        };
                        c.center.undo(&alice(), a.id, &request)?;
                    }
                }
            }
            Ok(())
        }),
        step!("eight days later", |c| {
            c.clock.advance(Duration::days(8));
            Ok(())
        }),
        step!(per_item "expire sweep", |c| {
            c.center.expire_due()?;
            for name in ["e1", "e2"] {
                assert_eq!(c.center.get(&alice(), c.id(name))?.status, Status::Expired);
            }
            Ok(())
        }),
        step!("claim the undos, 30 s leases", |c| c.claim(30)),
        step!("a minute later", |c| {
            c.clock.advance(Duration::minutes(1));
            Ok(())
        }),
        step!(per_item "lease sweep", |c| {
            c.center.recover_leases()?;
            // The three undos go back to the queue, and so does the
            // user's disabling, whose executor never came back.
            for name in ["q1", "q2", "q3"] {
                let a = c.center.get(&alice(), c.id(name))?;
                assert_eq!(a.status, Status::Undoing, "{name}");
                assert!(a.active_attempt().is_none());
            }
            assert_eq!(c.center.get(&alice(), c.id("user"))?.status, Status::Approved);
            Ok(())
        }),
        step!("policy change", |c| {
            let p = c.center.policy()?.with_kind_rule(
                Kind::DisableUser,
                KindRule {
                    quorum: Some(2),
                    ..KindRule::default()
                },
            )?;
            c.center.set_policy(&root(), p, None, None).map(drop)
        }),
        step!("checkpoint", |c| c
            .center
            .checkpoint(&root(), &key())
            .map(drop)),
        step!("a second checkpoint", |c| c
            .center
            .checkpoint(&root(), &key())
            .map(drop)),
    ]
}

/// Everything the store holds that the scenario touches, read from the
/// store under the faulty wrapper.
#[derive(Debug, PartialEq)]
struct Snapshot {
    actions: Vec<Value>,
    events: Vec<Value>,
    counts: Counts,
    chain_head: (u64, String),
    policy: Value,
    policy_history: Vec<Value>,
    checkpoints: Vec<Value>,
}

fn snapshot(store: &dyn Store) -> Snapshot {
    let actions = store.list(&Filter::default(), None, 10_000).expect("list");
    let counts = store.count(&Filter::default()).expect("count");
    let mut recount = Counts::zero();
    for a in &actions {
        *recount.0.entry(a.status).or_default() += 1;
    }
    assert_eq!(
        counts, recount,
        "counts against a recount of the listed actions"
    );
    Snapshot {
        actions: actions.iter().map(to_value).collect(),
        events: store
            .events_since(0, 100_000)
            .expect("events")
            .iter()
            .map(to_value)
            .collect(),
        counts,
        chain_head: store.chain_head().expect("head"),
        policy: to_value(&store.policy().expect("policy")),
        policy_history: store
            .policy_history()
            .expect("history")
            .iter()
            .map(to_value)
            .collect(),
        checkpoints: store
            .checkpoints()
            .expect("checkpoints")
            .iter()
            .map(to_value)
            .collect(),
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

/// A fresh, empty store of one backend, and what keeps it alive.
type Backend = fn() -> (Arc<dyn Store>, Box<dyn std::any::Any>);

fn memory() -> (Arc<dyn Store>, Box<dyn std::any::Any>) {
    (Arc::new(MemoryStore::new()), Box::new(()))
}

fn sqlite() -> (Arc<dyn Store>, Box<dyn std::any::Any>) {
    use actioncenter::{SqliteOptions, SqliteStore, Synchronous};
    let dir = tempfile::tempdir().expect("tempdir");
    let options = SqliteOptions {
        // The faults are above the store: durability is not what is tested.
        synchronous: Synchronous::Normal,
        ..SqliteOptions::default()
    };
    let store = SqliteStore::open_with(dir.path().join("faults.db"), &options).expect("open");
    (Arc::new(store), Box::new(dir))
}

/// Runs the scenario with `fault`; returns the storage calls made by the
/// end of each step, and how many steps a fault failed. Panics on any
/// breach. `ends` (the calls by the end of each step in a run without
/// faults) tells which step the fault falls in: only that one is
/// checked against a snapshot, the slow part.
fn replay(backend: Backend, fault: Fault, ends: &[u64]) -> (Vec<u64>, usize) {
    let (inner, _keep) = backend();
    let faulty = Arc::new(FaultyStore::new(inner.clone()));
    faulty.set_fault(fault);
    let clock = Arc::new(ManualClock::starting_at(
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
            .single()
            .expect("time"),
    ));
    let center = ActionCenter::with_clock(faulty.clone(), Policy::default(), clock.clone());
    let mut ctx = Ctx {
        center,
        clock,
        ids: HashMap::new(),
        tokens: HashMap::new(),
    };
    let dead = matches!(fault, Fault::From(_));
    let mut failed_steps = 0;
    let at = match fault {
        Fault::Never => None,
        Fault::Once(n) | Fault::From(n) => {
            Some(ends.iter().position(|end| *end >= n).expect("n <= K"))
        }
    };
    let mut step_ends = Vec::new();
    for (i, step) in scenario().into_iter().enumerate() {
        let before = (at == Some(i)).then(|| snapshot(inner.as_ref()));
        let failed_before = faulty.failed();
        let result = (step.run)(&mut ctx);
        let context = format!("{fault:?}, step {:?}", step.name);
        if faulty.failed() == failed_before {
            result.unwrap_or_else(|e| panic!("{context}: no fault, yet {e}"));
            step_ends.push(faulty.calls());
            continue;
        }
        let before = before.expect("the fault falls in the step the run without faults says");
        failed_steps += 1;
        let err = result.err().unwrap_or_else(|| {
            panic!("{context}: a storage call failed and the engine call succeeded")
        });
        assert_eq!(err.kind(), ErrorKind::Storage, "{context}: {err}");
        assert!(
            err.to_string().contains("injected fault"),
            "{context}: {err}"
        );
        let after = snapshot(inner.as_ref());
        if step.per_item {
            // The moves before the fault stay, each whole: nothing of the
            // trail before the call is lost or changed, the chain
            // verifies (below) and the counts recount (in `snapshot`).
            assert!(
                after.events.len() >= before.events.len()
                    && after.events[..before.events.len()] == before.events[..],
                "{context}: the trail before the call changed"
            );
            assert_eq!(after.policy_history, before.policy_history, "{context}");
            assert_eq!(after.checkpoints, before.checkpoints, "{context}");
        } else {
            assert_eq!(
                after, before,
                "{context}: the failed call changed the store"
            );
        }
        // The trail verifies, through an engine on the real store.
        let check = ActionCenter::with_clock(inner.clone(), Policy::default(), ctx.clock.clone());
        assert_intact(&check, &context);
        if dead {
            // Every later call fails too: nothing more to do.
            return (step_ends, failed_steps);
        }
        // The fault was transient: the same call again, then the rest.
        (step.run)(&mut ctx).unwrap_or_else(|e| panic!("{context}: done again: {e}"));
        step_ends.push(faulty.calls());
    }
    let check = ActionCenter::with_clock(inner.clone(), Policy::default(), ctx.clock.clone());
    assert_intact(&check, &format!("{fault:?}, at the end"));
    let end = snapshot(inner.as_ref());
    assert_eq!(end.checkpoints.len(), 2, "{fault:?}");
    assert_eq!(end.policy_history.len(), 3, "{fault:?}");
    (step_ends, failed_steps)
}

/// Every fault point of the scenario, transient and permanent; returns
/// how many were run.
fn every_fault_point(name: &str, backend: Backend) -> u64 {
    let (ends, none) = replay(backend, Fault::Never, &[]);
    assert_eq!(none, 0);
    let k = *ends.last().expect("steps");
    assert!(k > 50, "the scenario makes {k} storage calls");
    for n in 1..=k {
        let (_, failed) = replay(backend, Fault::Once(n), &ends);
        assert_eq!(failed, 1, "{name}: call {n} failed one step");
        let (_, failed) = replay(backend, Fault::From(n), &ends);
        assert_eq!(failed, 1, "{name}: from call {n}");
    }
    eprintln!(
        "{name}: {k} storage calls, {} fault points run (each once, and from there on)",
        2 * k
    );
    2 * k
}

#[test]
fn every_storage_call_of_the_scenario_fails_cleanly_on_memory() {
    every_fault_point("memory", memory);
}

#[test]
fn every_storage_call_of_the_scenario_fails_cleanly_on_sqlite() {
    every_fault_point("sqlite", sqlite);
}

/// A transition decided under the policy the handle holds costs the
/// store two calls: the read of the action and the change (which checks
/// the policy version itself). The version is read again only when a
/// result rests on the cached policy without a write: a refusal, or a
/// claim that found nothing.
#[test]
fn a_transition_under_the_cached_policy_is_two_storage_calls() {
    let store = Arc::new(FaultyStore::new(Arc::new(MemoryStore::new())));
    let center = ActionCenter::with_clock(
        store.clone(),
        Policy::default(),
        Arc::new(actioncenter::SystemClock),
    );
    let propose = |device: &str| {
        center
            .propose(
                &air(),
                Proposal::new(
                    Kind::IsolateDevice,
                    Entity::Device {
                        device_id: device.into(),
                        name: None,
                    },
                    Source::Antivirus,
                ),
            )
            .expect("propose")
    };
    let calls = |f: &dyn Fn()| {
        let before = store.calls();
        f();
        store.calls() - before
    };
    let a = propose("d-1");
    assert_eq!(
        calls(&|| {
            center
                .approve(&alice(), a.id, &Decide::default())
                .expect("approve");
        }),
        2,
        "approve: get, apply"
    );
    let request = ClaimRequest {
        limit: 1,
        lease_seconds: 60,
        kinds: None,
    };
    let before = store.calls();
    let claimed = center.claim(&agent(), &request).expect("claim");
    assert_eq!(
        (claimed.len(), store.calls() - before),
        (1, 1),
        "claim: the claim"
    );
    let running = &claimed[0];
    let token = running.lease_token().expect("token").to_owned();
    assert_eq!(
        calls(&|| {
            center
                .complete(&agent(), running.id, &token, json!({}))
                .expect("complete");
        }),
        2,
        "complete: get, apply"
    );
    // A refusal is confirmed against the stored policy version.
    assert_eq!(
        calls(&|| {
            center
                .approve(&alice(), a.id, &Decide::default())
                .expect_err("not pending");
        }),
        2,
        "refused approve: get, policy version"
    );
    // An empty claim is confirmed too.
    assert_eq!(
        calls(&|| {
            assert!(center.claim(&agent(), &request).expect("claim").is_empty());
        }),
        2,
        "empty claim: claim, policy version"
    );
}

#[test]
fn a_feed_poll_that_finds_nothing_new_reads_no_chain_head() {
    let store = Arc::new(FaultyStore::new(Arc::new(MemoryStore::new())));
    let center = ActionCenter::with_clock(
        store.clone(),
        Policy::default(),
        Arc::new(actioncenter::SystemClock),
    );
    let proposal = Proposal::new(
        Kind::IsolateDevice,
        Entity::Device {
            device_id: "d-1".into(),
            name: None,
        },
        Source::Antivirus,
    );
    center.propose(&air(), proposal).expect("propose");
    let calls = |after: u64| {
        let before = store.calls();
        let page = center.events_since(&alice(), after, 10).expect("feed");
        (store.calls() - before, page.len())
    };
    // The first page reaches the head; a poll from there finds nothing
    // new at a position this handle saw the trail reach: no head read.
    let (_, first) = calls(0);
    let head = first as u64;
    assert_eq!(
        calls(head),
        (2, 0),
        "caught-up poll: policy version, the page"
    );
    // A position this handle never saw is checked against the head once,
    // and refused when the trail never reached it.
    let before = store.calls();
    let refused = center
        .events_since(&alice(), head + 5, 10)
        .expect_err("past the head");
    assert_eq!(refused.kind(), actioncenter::ErrorKind::Validation);
    assert_eq!(
        store.calls() - before,
        3,
        "unseen position: policy version, page, head"
    );
}
