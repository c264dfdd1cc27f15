//! Many hosts on one queue, as separate processes on one PostgreSQL
//! server.
//!
//! Each "host" is this test binary started again with
//! `child --exact` and its role in the environment;
//! it opens its own [`PostgresStore`] (its own pool), says `ready` on
//! stdout, waits for `go` on stdin so that all hosts start together,
//! works, and says `done ...`. Each process has a manual clock at a time
//! the parent gives it: leases run out because the parent moves its
//! clock, never because a test sleeps.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;

use actioncenter::audit::AuditEvent;
use actioncenter::{
    ActionCenter, ActionId, Automation, AutomationLevel, ClaimRequest, Clock, Decide, Entity,
    Error, Event, Filter, Kind, ManualClock, PageRequest, Policy, PostgresOptions, PostgresStore,
    Principal, Proposal, Source, Status, Store,
};

#[path = "support/pg_cluster.rs"]
mod pg_cluster;
use pg_cluster::{TestSchema, URL_VAR, server};

const ROLE_VAR: &str = "ACTIONCENTER_TEST_ROLE";
const SCHEMA_VAR: &str = "ACTIONCENTER_TEST_SCHEMA";
const NAME_VAR: &str = "ACTIONCENTER_TEST_NAME";
const CLOCK_VAR: &str = "ACTIONCENTER_TEST_CLOCK_MICROS";
const HOLD_VAR: &str = "ACTIONCENTER_TEST_HOLD_AFTER";
/// The full name of [`child`] in this test binary.
const CHILD_TEST: &str = "child";
/// Marks the lines a child says, among libtest's own.
const TAG: &str = "actioncenter-test-child:";
/// How long the parent waits for any one line from a child.
const PATIENCE: StdDuration = StdDuration::from_secs(300);

const LEASE_SECONDS: i64 = 60;
const BATCH: usize = 20;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

fn center_on(url: &str, schema: &str, policy: Policy, clock: Arc<dyn Clock>) -> ActionCenter {
    let options = PostgresOptions {
        pool_size: 2,
        ..PostgresOptions::in_schema(schema)
    };
    let store = PostgresStore::connect_with(url, &options).expect("connect");
    ActionCenter::with_clock(Arc::new(store), policy, clock)
}

// ----- the child's side --------------------------------------------------

fn say(line: &str) {
    println!("{TAG} {line}");
}

/// Waits for the parent's word on stdin; `None` when stdin closed.
fn hear() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim().to_owned()),
    }
}

/// A host, when this binary was started by a parent below; a no-op
/// otherwise.
#[test]
fn child() {
    let Ok(role) = std::env::var(ROLE_VAR) else {
        return;
    };
    let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} not set"));
    let micros: i64 = var(CLOCK_VAR).parse().expect("clock");
    let clock = Arc::new(ManualClock::starting_at(
        DateTime::from_timestamp_micros(micros).expect("clock in range"),
    ));
    let center = center_on(&var(URL_VAR), &var(SCHEMA_VAR), Policy::default(), clock);
    let name = var(NAME_VAR);
    match role.as_str() {
        "executor" => {
            let hold_after = std::env::var(HOLD_VAR)
                .ok()
                .map(|v| v.parse::<usize>().expect("hold after"));
            executor(&center, &Principal::new(name, ["executor"]), hold_after);
        }
        "approver" => approver(&center, &Principal::new(name, ["analyst"])),
        other => panic!("unknown role {other}"),
    }
}

/// Claims and completes until the queue is empty. With `hold_after`,
/// claims one more batch after that many and then waits, leases held,
/// until it is killed.
fn executor(center: &ActionCenter, me: &Principal, hold_after: Option<usize>) {
    say("ready");
    assert_eq!(hear().as_deref(), Some("go"));
    let request = ClaimRequest {
        limit: BATCH,
        lease_seconds: LEASE_SECONDS,
        kinds: None,
    };
    let (mut done, mut batches) = (0usize, 0usize);
    loop {
        let got = center.claim(me, &request).expect("claim");
        if got.is_empty() {
            break;
        }
        if hold_after == Some(batches) {
            say(&format!("holding {}", got.len()));
            // The parent kills this process here.
            let _ = hear();
            return;
        }
        for a in got {
            center
                .complete(
                    me,
                    a.id,
                    a.lease_token().unwrap_or_default(),
                    json!({"by": me.id}),
                )
                .expect("complete");
            done += 1;
        }
        batches += 1;
    }
    say(&format!("done {done}"));
}

/// Approves every pending action, expecting the version it read first;
/// counts the approvals it won and lost.
fn approver(center: &ActionCenter, me: &Principal) {
    let mut ids: Vec<ActionId> = center
        .list(me, &Filter::pending(), &PageRequest::first(1000))
        .expect("list")
        .items
        .iter()
        .map(|a| a.id)
        .collect();
    ids.sort();
    say("ready");
    assert_eq!(hear().as_deref(), Some("go"));
    let (mut won, mut lost) = (0usize, 0usize);
    for id in ids {
        let decide = Decide {
            comment: None,
            expected_version: Some(1),
        };
        match center.approve(me, id, &decide) {
            Ok(_) => won += 1,
            Err(Error::Conflict { .. } | Error::InvalidTransition { .. }) => lost += 1,
            Err(e) => panic!("{} approving {id}: {e}", me.id),
        }
    }
    say(&format!("done {won} {lost}"));
}

// ----- the parent's side -------------------------------------------------

/// A child process and what it says.
struct Host {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    said: Receiver<String>,
}

impl Host {
    fn spawn(url: &str, schema: &str, role: &str, name: &str, at: DateTime<Utc>) -> Host {
        Host::spawn_with(url, schema, role, name, at, None)
    }

    fn spawn_with(
        url: &str,
        schema: &str,
        role: &str,
        name: &str,
        at: DateTime<Utc>,
        hold_after: Option<usize>,
    ) -> Host {
        let exe = std::env::current_exe().expect("test binary");
        let mut cmd = Command::new(exe);
        cmd.args([CHILD_TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(URL_VAR, url)
            .env(ROLE_VAR, role)
            .env(SCHEMA_VAR, schema)
            .env(NAME_VAR, name)
            .env(CLOCK_VAR, at.timestamp_micros().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        match hold_after {
            Some(n) => cmd.env(HOLD_VAR, n.to_string()),
            None => cmd.env_remove(HOLD_VAR),
        };
        let mut child = cmd.spawn().expect("spawn child");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, said) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // libtest may have begun the line ("test ... ").
                if let Some((_, said)) = line.split_once(TAG)
                    && tx.send(said.trim().to_owned()).is_err()
                {
                    break;
                }
            }
        });
        Host {
            name: name.to_owned(),
            stdin: child.stdin.take(),
            child,
            said,
        }
    }

    /// The next thing the child says, which must start with `word`.
    fn expect(&self, word: &str) -> String {
        match self.said.recv_timeout(PATIENCE) {
            Ok(line) if line.starts_with(word) => line,
            Ok(line) => panic!("{} said {line:?}, expected {word:?}", self.name),
            Err(RecvTimeoutError::Timeout) => panic!("{} said nothing for {PATIENCE:?}", self.name),
            Err(RecvTimeoutError::Disconnected) => {
                panic!("{} ended without saying {word:?}", self.name)
            }
        }
    }

    fn go(&mut self) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "go").expect("tell child");
        stdin.flush().expect("flush");
    }

    /// Waits for `done ...` and a clean exit; returns the numbers said.
    fn finish(mut self) -> Vec<usize> {
        let line = self.expect("done");
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "{} exited with {status}", self.name);
        line.split_whitespace()
            .skip(1)
            .map(|n| n.parse().expect("number"))
            .collect()
    }

    /// Kills the child at once (SIGKILL): no clean-up runs in it.
    fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reap");
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        // A test that failed half-way leaves no process behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts everyone together.
fn start_all(hosts: &mut [Host]) {
    for h in hosts.iter() {
        h.expect("ready");
    }
    for h in hosts.iter_mut() {
        h.go();
    }
}

fn full_automation() -> Policy {
    Policy::default().with_automation(Automation {
        default: AutomationLevel::Full,
        ..Automation::default()
    })
}

/// Proposes `n` isolations from 4 threads.
fn propose_many(center: &ActionCenter, n: usize) {
    let air = Principal::new("air", ["automation"]);
    std::thread::scope(|s| {
        for t in 0..4 {
            let (center, air) = (center.clone(), air.clone());
            s.spawn(move || {
                for i in (t..n).step_by(4) {
                    center
                        .propose(
                            &air,
                            Proposal::new(
                                Kind::IsolateDevice,
                                Entity::Device {
                                    device_id: format!("dev-{i}"),
                                    name: None,
                                },
                                Source::Antivirus,
                            ),
                        )
                        .expect("propose");
                }
            });
        }
    });
}

/// Every audit event, in order.
fn all_events(store: &Arc<dyn Store>) -> Vec<AuditEvent> {
    let mut out: Vec<AuditEvent> = Vec::new();
    loop {
        let last = out.last().map_or(0, |e| e.seq);
        let batch = store.events_since(last, 1000).expect("events");
        if batch.is_empty() {
            return out;
        }
        out.extend(batch);
    }
}

/// The events of each action, in order.
fn events_by_action(events: &[AuditEvent]) -> HashMap<ActionId, Vec<Event>> {
    let mut by: HashMap<ActionId, Vec<Event>> = HashMap::new();
    for e in events {
        if let Some(id) = e.action_id {
            by.entry(id).or_default().push(e.event);
        }
    }
    by
}

/// The chain verifies and holds `events` events of actions, after the
/// one that stored the bootstrap policy.
fn assert_chain_intact(center: &ActionCenter, events: usize) {
    let report = center.verify_audit().expect("verify");
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.events_checked, events as u64 + 1);
}

#[test]
fn four_executor_processes_execute_ten_thousand_actions_once_each() {
    let Some(url) = server() else { return };
    let schema = TestSchema::new(&url);
    let n = 10_000;
    let clock = Arc::new(ManualClock::starting_at(t0()));
    let center = center_on(&url, schema.name(), full_automation(), clock);
    propose_many(&center, n);

    let mut hosts: Vec<Host> = (0..4)
        .map(|i| Host::spawn(&url, schema.name(), "executor", &format!("agent-{i}"), t0()))
        .collect();
    start_all(&mut hosts);
    let done: Vec<usize> = hosts.into_iter().map(|h| h.finish()[0]).collect();
    eprintln!("4 executor processes completed {done:?} of {n} actions");
    assert_eq!(done.iter().sum::<usize>(), n);
    assert!(done.iter().all(|&d| d > 0), "{done:?}");

    let counts = center
        .counts(&Principal::new("alice", ["analyst"]), &Filter::default())
        .expect("counts");
    assert_eq!(counts.get(Status::Completed), n as u64);
    let events = all_events(center.store());
    let by = events_by_action(&events);
    assert_eq!(by.len(), n);
    for (id, moves) in &by {
        assert_eq!(
            moves,
            &[Event::Propose, Event::Claim, Event::Complete],
            "{id}"
        );
    }
    // Each process completed what it said it did.
    for (i, d) in done.iter().enumerate() {
        let by_me = events
            .iter()
            .filter(|e| e.event == Event::Complete && e.actor == format!("agent-{i}"))
            .count();
        assert_eq!(by_me, *d, "agent-{i}");
    }
    assert_chain_intact(&center, 3 * n);
}

#[test]
fn four_approver_processes_leave_exactly_one_decision_each() {
    let Some(url) = server() else { return };
    let schema = TestSchema::new(&url);
    let n = 1_000;
    let clock = Arc::new(ManualClock::starting_at(t0()));
    let center = center_on(&url, schema.name(), Policy::default(), clock);
    propose_many(&center, n);

    let mut hosts: Vec<Host> = (0..4)
        .map(|i| {
            Host::spawn(
                &url,
                schema.name(),
                "approver",
                &format!("analyst-{i}"),
                t0(),
            )
        })
        .collect();
    start_all(&mut hosts);
    let said: Vec<Vec<usize>> = hosts.into_iter().map(Host::finish).collect();
    eprintln!("4 approver processes won/lost {said:?} over {n} actions");
    assert_eq!(said.iter().map(|s| s[0]).sum::<usize>(), n);
    assert_eq!(said.iter().map(|s| s[1]).sum::<usize>(), 3 * n);

    let alice = Principal::new("alice", ["analyst"]);
    let all = center
        .list(&alice, &Filter::default(), &PageRequest::first(1000))
        .expect("list")
        .items;
    assert_eq!(all.len(), n);
    for a in &all {
        assert_eq!(
            (a.status, a.decisions.len(), a.version),
            (Status::Approved, 1, 2),
            "{}",
            a.id
        );
    }
    let events = all_events(center.store());
    for (id, moves) in events_by_action(&events) {
        assert_eq!(moves, [Event::Propose, Event::Approve], "{id}");
    }
    assert_chain_intact(&center, 2 * n);
}

#[test]
fn a_killed_executors_actions_return_after_the_lease_and_run_once() {
    let Some(url) = server() else { return };
    let schema = TestSchema::new(&url);
    let n = 1_000;
    let clock = Arc::new(ManualClock::starting_at(t0()));
    let center = center_on(&url, schema.name(), full_automation(), clock.clone());
    propose_many(&center, n);

    // The doomed executor completes two batches, claims a third and
    // stops there, leases held.
    let mut doomed = Host::spawn_with(&url, schema.name(), "executor", "doomed", t0(), Some(2));
    start_all(std::slice::from_mut(&mut doomed));
    let held: usize = doomed.expect("holding")[8..].parse().expect("count");
    assert_eq!(held, BATCH);

    // Two more executors start, and the doomed one is killed while they run.
    let mut healthy: Vec<Host> = (1..=2)
        .map(|i| Host::spawn(&url, schema.name(), "executor", &format!("agent-{i}"), t0()))
        .collect();
    start_all(&mut healthy);
    doomed.kill();
    let done: Vec<usize> = healthy.into_iter().map(|h| h.finish()[0]).collect();
    assert_eq!(done.iter().sum::<usize>(), n - 3 * BATCH);

    let alice = Principal::new("alice", ["analyst"]);
    let running = Filter {
        statuses: vec![Status::Running],
        ..Filter::default()
    };
    let stuck: Vec<ActionId> = center
        .list(&alice, &running, &PageRequest::first(100))
        .expect("list")
        .items
        .iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(stuck.len(), held);

    // Before the lease runs out nothing moves; after it, all held do.
    assert!(center.recover_leases().expect("recover").is_empty());
    clock.set(t0() + Duration::seconds(LEASE_SECONDS + 1));
    let recovered = center.recover_leases().expect("recover");
    assert_eq!(recovered.len(), held);
    assert!(recovered.iter().all(|a| a.status == Status::Approved));

    let mut late = Host::spawn(&url, schema.name(), "executor", "agent-3", clock.now());
    start_all(std::slice::from_mut(&mut late));
    assert_eq!(late.finish(), vec![held]);
    eprintln!(
        "killed executor held {held}; others completed {done:?}; {held} recovered and completed once"
    );

    let counts = center.counts(&alice, &Filter::default()).expect("counts");
    assert_eq!(counts.get(Status::Completed), n as u64);
    let events = all_events(center.store());
    let by = events_by_action(&events);
    for (id, moves) in &by {
        let completes = moves.iter().filter(|e| **e == Event::Complete).count();
        assert_eq!(completes, 1, "{id}: {moves:?}");
        if stuck.contains(id) {
            assert_eq!(
                moves,
                &[
                    Event::Propose,
                    Event::Claim,
                    Event::LeaseExpire,
                    Event::Claim,
                    Event::Complete
                ],
                "{id}"
            );
        } else {
            assert_eq!(moves, &[Event::Propose, Event::Claim, Event::Complete]);
        }
    }
    let by_doomed = events
        .iter()
        .filter(|e| e.event == Event::Complete && e.actor == "doomed")
        .count();
    assert_eq!(by_doomed, 2 * BATCH);
    for id in &stuck {
        let a = center.get(&alice, *id).expect("get");
        assert_eq!(a.attempts.len(), 2);
        assert_eq!(a.attempts[0].executor, "doomed");
    }
    assert_chain_intact(&center, 3 * n + 2 * held);
}
