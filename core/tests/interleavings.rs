//! Interleaving tests in the manner of PostgreSQL's isolation tester.
//!
//! For each pair of sessions that matter (approve vs expire, complete vs
//! lease recovery, undo fan-out vs a new quarantine of the same file,
//! policy change vs decision) each session is a list of steps; every
//! interleaving of the two lists (every permutation that keeps each
//! session's own order) is run on a fresh store with a manual clock, and
//! its outcome must be one of the outcomes of the two serial orders,
//! stated explicitly below. Engine calls are atomic, so a decision is two
//! steps: read the action (its version), then decide on that version
//! (what an HTTP client does with `If-Match`).
//!
//! On memory and SQLite (a new file per interleaving); on PostgreSQL (a
//! new schema per interleaving) when `ACTIONCENTER_PG_URL` is set.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use actioncenter::*;
use support::*;

/// Makes a fresh engine on a fresh store with this clock and policy.
type Maker<'a> = &'a dyn Fn(Arc<ManualClock>, Policy) -> ActionCenter;

/// Every interleaving of two sessions of `m` and `n` steps, as the
/// session (0 or 1) of each step in turn.
fn interleavings(m: usize, n: usize) -> Vec<Vec<usize>> {
    if m == 0 {
        return vec![vec![1; n]];
    }
    if n == 0 {
        return vec![vec![0; m]];
    }
    let mut out = Vec::new();
    for mut rest in interleavings(m - 1, n) {
        rest.insert(0, 0);
        out.push(rest);
    }
    for mut rest in interleavings(m, n - 1) {
        rest.insert(0, 1);
        out.push(rest);
    }
    out
}

fn binomial(m: usize, n: usize) -> usize {
    (1..=n).fold(1, |acc, k| acc * (m + k) / k)
}

/// Where step `step` (from 1) of session `session` falls in `order`.
fn at(order: &[usize], session: usize, step: usize) -> usize {
    order
        .iter()
        .enumerate()
        .filter(|(_, s)| **s == session)
        .nth(step - 1)
        .map(|(i, _)| i)
        .unwrap()
}

/// Runs every interleaving of sessions of `steps` steps; `run` plays one
/// order on a fresh store and returns its outcome. Checks that
/// `allowed` is exactly the outcomes of the two serial orders, and that
/// every interleaving ends in the one of them `expect` names (which
/// serial order it is equivalent to). Returns how many interleavings ran.
fn check_all(
    name: &str,
    backend: &str,
    steps: [usize; 2],
    allowed: &[&str],
    expect: impl Fn(&[usize]) -> usize,
    run: impl Fn(&[usize]) -> String,
) -> usize {
    let orders = interleavings(steps[0], steps[1]);
    assert_eq!(orders.len(), binomial(steps[0], steps[1]));
    let serial_a: Vec<usize> = [vec![0; steps[0]], vec![1; steps[1]]].concat();
    let serial_b: Vec<usize> = [vec![1; steps[1]], vec![0; steps[0]]].concat();
    let serial: BTreeSet<String> = [run(&serial_a), run(&serial_b)].into_iter().collect();
    let stated: BTreeSet<String> = allowed.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        serial, stated,
        "{name} on {backend}: the serial outcomes are not the ones stated"
    );
    for order in &orders {
        let outcome = run(order);
        assert!(
            stated.contains(&outcome),
            "{name} on {backend}: the interleaving {} ends in {outcome:?}, no serial outcome",
            show(order)
        );
        assert_eq!(
            outcome,
            allowed[expect(order)],
            "{name} on {backend}: the interleaving {}",
            show(order)
        );
    }
    orders.len()
}

/// `A1 B1 A2 B2` for `[0, 1, 0, 1]`.
fn show(order: &[usize]) -> String {
    let mut counts = [0, 0];
    order
        .iter()
        .map(|s| {
            counts[*s] += 1;
            format!("{}{}", ["A", "B"][*s], counts[*s])
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn acked<T>(r: &Result<T>) -> &'static str {
    if r.is_ok() { "ok" } else { "refused" }
}

// ----- approve vs expire --------------------------------------------------

/// A: an analyst reads the pending action (A1), then approves the
/// version read (A2). B: the approval window closes (B1), the expiry
/// sweep runs (B2).
///
/// Allowed: approved (approval acknowledged, the sweep moves nothing), or
/// expired (approval refused, the sweep moves it). Never both, never an
/// approval after the window closed.
fn approve_vs_expire(make: Maker<'_>, backend: &str) -> usize {
    let allowed = [
        "approved; approve ok; sweep moved 0",
        "expired; approve refused; sweep moved 1",
    ];
    // Approved exactly when the approval came before the window closed.
    let expect = |o: &[usize]| usize::from(at(o, 0, 2) > at(o, 1, 1));
    check_all(
        "approve vs expire",
        backend,
        [2, 2],
        &allowed,
        expect,
        |order| {
            let clock = Arc::new(ManualClock::starting_at(chrono::Utc::now()));
            let c = make(clock.clone(), policy());
            let a = c
                .propose(&air(), block_url("https://evil.example/x"))
                .unwrap();
            let mut seen = None;
            let mut approve = None;
            let mut moved = 0;
            let mut steps = [0, 0];
            for s in order {
                steps[*s] += 1;
                match (*s, steps[*s]) {
                    (0, 1) => seen = Some(c.get(&alice(), a.id).unwrap().version),
                    (0, 2) => {
                        approve =
                            Some(c.approve(&alice(), a.id, &Decide::default().seen(seen.unwrap())))
                    }
                    (1, 1) => clock.advance(chrono::Duration::seconds(2)),
                    (1, 2) => moved = c.expire_due().unwrap().len(),
                    other => unreachable!("{other:?}"),
                }
            }
            check_store(&c, None);
            let now = c.get(&alice(), a.id).unwrap();
            format!(
                "{}; approve {}; sweep moved {moved}",
                now.status,
                acked(approve.as_ref().unwrap())
            )
        },
    )
}

// ----- complete vs lease recovery -----------------------------------------

/// A: the executor holding the lease reads its token (A1) and completes
/// (A2). B: the lease runs out (B1), the lease sweep runs (B2), another
/// executor claims (B3).
///
/// Allowed: completed by the first executor (one attempt; the sweep and
/// the second claim find nothing), or the first attempt taken back and
/// the action running under the second executor, the late completion
/// refused. Never a completion on a lease that was taken back.
fn complete_vs_recovery(make: Maker<'_>, backend: &str) -> usize {
    let allowed = [
        "completed; attempts [completed]; complete ok; recovered 0; reclaimed 0",
        "running; attempts [lease_expired, running]; complete refused; recovered 1; reclaimed 1",
    ];
    // Completed exactly when the completion came before the lease ran out.
    let expect = |o: &[usize]| usize::from(at(o, 0, 2) > at(o, 1, 1));
    check_all(
        "complete vs lease recovery",
        backend,
        [2, 3],
        &allowed,
        expect,
        |order| {
            let clock = Arc::new(ManualClock::starting_at(chrono::Utc::now()));
            let c = make(clock.clone(), policy());
            let a = c.propose(&air(), isolate("dev-1")).unwrap();
            c.approve(&alice(), a.id, &Decide::default()).unwrap();
            let request = ClaimRequest {
                limit: 1,
                lease_seconds: 30,
                kinds: None,
            };
            c.claim(&agent(1), &request).unwrap();
            let mut token = None;
            let mut complete = None;
            let (mut recovered, mut reclaimed) = (0, 0);
            let mut steps = [0, 0];
            for s in order {
                steps[*s] += 1;
                match (*s, steps[*s]) {
                    (0, 1) => {
                        token = c
                            .get(&agent(1), a.id)
                            .unwrap()
                            .lease_token()
                            .map(str::to_owned)
                    }
                    (0, 2) => {
                        complete = Some(c.complete(
                            &agent(1),
                            a.id,
                            token.as_deref().unwrap_or(""),
                            serde_json::json!({}),
                        ))
                    }
                    (1, 1) => clock.advance(chrono::Duration::seconds(31)),
                    (1, 2) => recovered = c.recover_leases().unwrap().len(),
                    (1, 3) => reclaimed = c.claim(&agent(2), &request).unwrap().len(),
                    other => unreachable!("{other:?}"),
                }
            }
            check_store(&c, None);
            let now = c.get(&alice(), a.id).unwrap();
            let attempts: Vec<&str> = now
                .attempts
                .iter()
                .map(|t| match &t.outcome {
                    None => "running",
                    Some(Outcome::Completed { .. }) => "completed",
                    Some(Outcome::Failed { .. }) => "failed",
                    Some(Outcome::LeaseExpired) => "lease_expired",
                })
                .collect();
            format!(
                "{}; attempts [{}]; complete {}; recovered {recovered}; reclaimed {reclaimed}",
                now.status,
                attempts.join(", "),
                acked(complete.as_ref().unwrap())
            )
        },
    )
}

// ----- undo fan-out vs a new quarantine of the same file ------------------

/// Setup: the file is quarantined (completed) on dev-1 and dev-2.
/// A: an analyst previews the other instances of dev-1's quarantine (A1),
/// then undoes dev-1 with the instances previewed (A2). B: automation
/// proposes quarantining the same file on dev-3 (B1), an analyst approves
/// (B2), an executor claims what waits (B3) and completes it (B4).
///
/// Allowed: the undo of dev-1 and dev-2 asked and dev-3 completed (the preview came
/// before dev-3's quarantine completed), or all three undos asked (it
/// came after). An instance nobody previewed is never undone.
fn undo_fan_out_vs_quarantine(make: Maker<'_>, backend: &str) -> usize {
    let allowed = [
        "dev-1 undo asked, dev-2 undo asked, dev-3 completed; undo ok",
        "dev-1 undo asked, dev-2 undo asked, dev-3 undo asked; undo ok",
    ];
    let sha = "c".repeat(64);
    // dev-3 is undone exactly when it completed before the preview.
    let expect = |o: &[usize]| usize::from(at(o, 1, 4) < at(o, 0, 1));
    check_all(
        "undo fan-out vs a new quarantine",
        backend,
        [2, 4],
        &allowed,
        expect,
        |order| {
            let clock = Arc::new(ManualClock::starting_at(chrono::Utc::now()));
            let c = make(clock.clone(), policy());
            let ex = agent(1);
            let request = ClaimRequest {
                limit: 10,
                lease_seconds: 300,
                kinds: None,
            };
            let mut ids = Vec::new();
            for dev in ["dev-1", "dev-2"] {
                let a = c.propose(&air(), quarantine(dev, &sha)).unwrap();
                c.approve(&alice(), a.id, &Decide::default()).unwrap();
                ids.push(a.id);
            }
            for a in c.claim(&ex, &request).unwrap() {
                c.complete(&ex, a.id, a.lease_token().unwrap(), serde_json::json!({}))
                    .unwrap();
            }
            let mut preview = Vec::new();
            let mut undo = None;
            let mut third = None;
            let mut claimed = Vec::new();
            let mut steps = [0, 0];
            for s in order {
                steps[*s] += 1;
                match (*s, steps[*s]) {
                    (0, 1) => {
                        preview = c
                            .undo_instances(&bob(), ids[0])
                            .unwrap()
                            .iter()
                            .map(Seen::of)
                            .collect()
                    }
                    (0, 2) => {
                        let r = UndoRequest {
                            comment: "false positive".into(),
                            expected_version: None,
                            instances: preview.clone(),
                        };
                        undo = Some(c.undo(&bob(), ids[0], &r))
                    }
                    (1, 1) => {
                        let a = c.propose(&air(), quarantine("dev-3", &sha)).unwrap();
                        third = Some(a.id);
                    }
                    (1, 2) => {
                        c.approve(&alice(), third.unwrap(), &Decide::default())
                            .unwrap();
                    }
                    // The executor takes what waits: dev-3's quarantine,
                    // and the undos when they were asked for first.
                    (1, 3) => claimed = c.claim(&agent(2), &request).unwrap(),
                    (1, 4) => {
                        for a in &claimed {
                            c.complete(
                                &agent(2),
                                a.id,
                                a.lease_token().unwrap(),
                                serde_json::json!({}),
                            )
                            .unwrap();
                        }
                    }
                    other => unreachable!("{other:?}"),
                }
            }
            check_store(&c, None);
            let undo = undo.unwrap();
            let fan_out_ok = undo
                .as_ref()
                .map(|r| r.instances.iter().all(|i| i.result.is_ok()))
                .unwrap_or(false);
            assert!(fan_out_ok, "an instance previewed was not undone: {undo:?}");
            let third = third.unwrap();
            // Whether the executor ran an undo yet depends on the order;
            // what matters is whether it was asked for.
            let status = |id| match c.get(&alice(), id).unwrap().status {
                Status::Undoing | Status::UndoRunning | Status::Undone => "undo asked".to_owned(),
                other => other.to_string(),
            };
            format!(
                "dev-1 {}, dev-2 {}, dev-3 {}; undo {}",
                status(ids[0]),
                status(ids[1]),
                status(third),
                acked(&undo)
            )
        },
    )
}

// ----- policy change vs decision ------------------------------------------

/// A: alice (an analyst) reads the pending action (A1), then approves the
/// version read (A2). B: an administrator reads the stored policy (B1),
/// then stores a new one, on the version read, in which analysts may no
/// longer approve (B2).
///
/// Allowed: approved under policy 1, then policy 2 stored; or policy 2
/// stored and the approval refused. Never an approval recorded under
/// policy 2, which does not grant it.
fn policy_change_vs_decision(make: Maker<'_>, backend: &str) -> usize {
    let allowed = [
        "approved; decided under policy [1]; policy 2; approve ok; set_policy ok",
        "pending; decided under policy []; policy 2; approve refused; set_policy ok",
    ];
    let mut stricter =
        serde_json::from_str::<serde_json::Value>(actioncenter::policy::DEFAULT_POLICY_JSON)
            .unwrap();
    stricter["roles"]["analyst"]
        .as_object_mut()
        .unwrap()
        .remove("approve");
    let stricter = Policy::from_value(stricter).unwrap();
    // Approved exactly when the approval came before the new policy.
    let expect = |o: &[usize]| usize::from(at(o, 0, 2) > at(o, 1, 2));
    check_all(
        "policy change vs decision",
        backend,
        [2, 2],
        &allowed,
        expect,
        |order| {
            let clock = Arc::new(ManualClock::starting_at(chrono::Utc::now()));
            let c = make(clock.clone(), Policy::default());
            let a = c.propose(&air(), isolate("dev-1")).unwrap();
            let mut seen = None;
            let mut policy_seen = None;
            let mut approve = None;
            let mut set = None;
            let mut steps = [0, 0];
            for s in order {
                steps[*s] += 1;
                match (*s, steps[*s]) {
                    (0, 1) => seen = Some(c.get(&alice(), a.id).unwrap().version),
                    (0, 2) => {
                        approve =
                            Some(c.approve(&alice(), a.id, &Decide::default().seen(seen.unwrap())))
                    }
                    (1, 1) => policy_seen = Some(c.stored_policy().unwrap().version),
                    (1, 2) => {
                        set = Some(c.set_policy(
                            &root(),
                            stricter.clone(),
                            policy_seen,
                            Some("analysts no longer approve"),
                        ))
                    }
                    other => unreachable!("{other:?}"),
                }
            }
            check_store(&c, None);
            let now = c.get(&alice(), a.id).unwrap();
            let under: Vec<String> = now
                .decisions
                .iter()
                .map(|d| d.policy_version.map(|v| v.to_string()).unwrap_or_default())
                .collect();
            format!(
                "{}; decided under policy [{}]; policy {}; approve {}; set_policy {}",
                now.status,
                under.join(", "),
                c.stored_policy().unwrap().version,
                acked(approve.as_ref().unwrap()),
                acked(set.as_ref().unwrap())
            )
        },
    )
}

fn all_pairs(make: Maker<'_>, backend: &str) -> usize {
    let n = approve_vs_expire(make, backend)
        + complete_vs_recovery(make, backend)
        + undo_fan_out_vs_quarantine(make, backend)
        + policy_change_vs_decision(make, backend);
    println!(
        "{backend}: {n} interleavings of 4 session pairs, each outcome a serial one \
         (approve vs expire 6, complete vs lease recovery 10, undo fan-out vs quarantine 15, \
         policy change vs decision 6)"
    );
    n
}

#[test]
fn every_interleaving_on_memory() {
    let make = |clock: Arc<ManualClock>, policy: Policy| {
        ActionCenter::with_clock(Arc::new(MemoryStore::new()), policy, clock)
    };
    assert_eq!(all_pairs(&make, "memory"), 37);
}

#[cfg(feature = "sqlite")]
#[test]
fn every_interleaving_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let n = std::sync::atomic::AtomicUsize::new(0);
    let make = |clock: Arc<ManualClock>, policy: Policy| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let store = SqliteStore::open(dir.path().join(format!("case-{i}.db"))).unwrap();
        ActionCenter::with_clock(Arc::new(store), policy, clock)
    };
    assert_eq!(all_pairs(&make, "SQLite"), 37);
}

#[cfg(feature = "postgres")]
#[test]
fn every_interleaving_on_postgres() {
    let Some(url) = std::env::var("ACTIONCENTER_PG_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        println!("skipped: ACTIONCENTER_PG_URL is not set (scripts/test-postgres.sh sets it)");
        return;
    };
    let prefix = format!("interleave_{}", std::process::id());
    let n = std::sync::atomic::AtomicUsize::new(0);
    let make = |clock: Arc<ManualClock>, policy: Policy| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let options = PostgresOptions {
            pool_size: 2,
            ..PostgresOptions::in_schema(format!("{prefix}_{i}"))
        };
        let store = PostgresStore::connect_with(&url, &options).unwrap();
        ActionCenter::with_clock(Arc::new(store), policy, clock)
    };
    let ran = all_pairs(&make, "PostgreSQL");
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    for i in 0..n.load(std::sync::atomic::Ordering::Relaxed) {
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {prefix}_{i} CASCADE"))
            .unwrap();
    }
    assert_eq!(ran, 37);
}
