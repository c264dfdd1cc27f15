//! The server process killed mid-request: `actioncenter-server` on a
//! SQLite file takes proposals (each with an `Idempotency-Key`) and
//! approvals (each with `If-Match`) from several clients at once; the
//! test kills it with SIGKILL at a random moment, checks the file, starts
//! it again on the same file and retries every request left unanswered,
//! with the same key and body:
//! - a retried proposal returns the action the first one made, if it was
//!   made (same id), and each key names at most one action;
//! - no request is half applied: `verify_audit` intact, an approval is
//!   either there in full (status, decision and event) or absent;
//! - everything answered before the kill is there.
//!
//! 20 cycles by default; `ACTIONCENTER_SERVER_CRASH_CYCLES=N` for more.
//! The seed is printed; `ACTIONCENTER_SERVER_CRASH_SEED=N` replays it.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actioncenter::{
    ActionCenter, ActionId, Event, Filter, Principal, SqliteStore, Status, Verdict,
};
use common::{isolate, policy};
use serde_json::Value;

/// SplitMix64, seeded from the environment or the time.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}

fn number(var: &str) -> Option<u64> {
    std::env::var(var).ok().and_then(|s| s.trim().parse().ok())
}

/// A server process on `db`, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(db: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_actioncenter-server"))
            .arg("--db")
            .arg(db)
            .args(["--listen", "127.0.0.1:0", "--rate-limit", "0"])
            .env("RUST_LOG", "error")
            .env_remove("ACTIONCENTER_POSTGRES")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let base = loop {
            let line = lines
                .next()
                .expect("the server ended before it listened")
                .unwrap();
            if let Some(rest) = line.strip_prefix("Action center: ") {
                break rest.trim().trim_end_matches('/').to_owned();
            }
        };
        // Keep reading, so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = reqwest::blocking::get(format!("{base}/healthz"))
                && r.status() == 200
            {
                break;
            }
            assert!(Instant::now() < deadline, "the server did not answer");
            std::thread::sleep(Duration::from_millis(10));
        }
        Server { child, base }
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// A request and what became of it.
#[derive(Debug, Clone)]
enum Request {
    Propose { key: String, body: Value },
    Approve { id: String, by: usize },
}

#[derive(Debug, Default)]
struct Record {
    /// Idempotency key → the id the server answered with.
    proposed: HashMap<String, String>,
    /// Approvals answered 200: id → version.
    approved: HashMap<String, u64>,
    /// Sent, and no answer came (the server died first).
    unanswered: Vec<Request>,
    answered: u64,
}

/// Sends `request`; `Some(status, body)` if an answer came.
fn send(
    base: &str,
    http: &reqwest::blocking::Client,
    tokens: &[String],
    request: &Request,
) -> Option<(u16, Value)> {
    let r = match request {
        Request::Propose { key, body } => http
            .post(format!("{base}/api/v1/actions"))
            .bearer_auth(&tokens[0])
            .header("idempotency-key", key)
            .json(body),
        Request::Approve { id, by } => http
            .post(format!("{base}/api/v1/actions/{id}/approve"))
            .bearer_auth(&tokens[*by])
            .header("if-match", "\"1\"")
            .json(&serde_json::json!({"comment": "go"})),
    };
    let r = r.send().ok()?;
    let status = r.status().as_u16();
    let body: Value = r.json().ok()?;
    Some((status, body))
}

/// Records an answer; panics on an answer no client should get.
fn record(rec: &mut Record, request: &Request, status: u16, body: &Value) {
    rec.answered += 1;
    match request {
        Request::Propose { key, .. } => {
            assert_eq!(status, 201, "proposal {key}: {body}");
            let id = body["id"].as_str().unwrap().to_owned();
            if let Some(first) = rec.proposed.insert(key.clone(), id.clone()) {
                assert_eq!(first, id, "the key {key} answered with two actions");
            }
        }
        Request::Approve { id, .. } => match status {
            200 => {
                assert_eq!(body["status"], "approved");
                rec.approved
                    .insert(id.clone(), body["version"].as_u64().unwrap());
            }
            // The other approver was first (or this one, before a kill).
            409 => {}
            other => panic!("approval of {id}: {other} {body}"),
        },
    }
}

#[test]
fn a_server_killed_mid_request_loses_nothing_and_applies_nothing_twice() {
    let cycles = number("ACTIONCENTER_SERVER_CRASH_CYCLES").unwrap_or(20);
    let seed = number("ACTIONCENTER_SERVER_CRASH_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    });
    println!("seed: {seed} (replay with ACTIONCENTER_SERVER_CRASH_SEED={seed})");
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.db");
    let tokens: Vec<String> = {
        let center = ActionCenter::new(SqliteStore::open(&db).unwrap(), policy());
        let admin = Principal::new("admin", ["admin"]);
        ["soar", "alice", "bob"]
            .iter()
            .map(|p| {
                center
                    .create_token(&admin, p, "crash test", chrono::Duration::days(1))
                    .unwrap()
                    .secret
            })
            .collect()
    };
    let tokens = Arc::new(tokens);
    let rec = Arc::new(Mutex::new(Record::default()));
    let mut retried = 0u64;
    let mut in_flight_total = 0u64;
    // Proposals the server committed but died before answering.
    let mut applied_unanswered = 0u64;
    let started = Instant::now();
    let mut server = Server::start(&db);
    for cycle in 0..cycles {
        let stop = Arc::new(AtomicBool::new(false));
        let base = server.base.clone();
        let workers: Vec<_> = (0..5u64)
            .map(|t| {
                let (stop, base, tokens, rec) =
                    (stop.clone(), base.clone(), tokens.clone(), rec.clone());
                std::thread::spawn(move || {
                    let http = client();
                    let mut n = 0;
                    let mut rng = Rng(seed ^ (cycle << 8) ^ t);
                    while !stop.load(Ordering::SeqCst) {
                        n += 1;
                        let request = if t < 3 {
                            let key = format!("c{cycle}-t{t}-{n}");
                            Request::Propose {
                                body: isolate(&format!("dev-{key}")),
                                key,
                            }
                        } else {
                            let ids: Vec<String> =
                                rec.lock().unwrap().proposed.values().cloned().collect();
                            if ids.is_empty() {
                                std::thread::sleep(Duration::from_millis(1));
                                continue;
                            }
                            let id = ids[rng.below(ids.len() as u64) as usize].clone();
                            Request::Approve {
                                id,
                                by: (t - 2) as usize,
                            }
                        };
                        match send(&base, &http, &tokens, &request) {
                            Some((status, body)) => {
                                record(&mut rec.lock().unwrap(), &request, status, &body)
                            }
                            None => {
                                rec.lock().unwrap().unanswered.push(request);
                                // The server is gone: stop.
                                return;
                            }
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(30 + rng.below(300)));
        server.kill();
        stop.store(true, Ordering::SeqCst);
        for w in workers {
            w.join().unwrap();
        }

        // The file, with the server down.
        let unanswered = std::mem::take(&mut rec.lock().unwrap().unanswered);
        in_flight_total += unanswered.len() as u64;
        let before_retry = check_file(&db, &rec.lock().unwrap());

        // Up again on the same file; every unanswered request retried.
        server = Server::start(&db);
        let http = client();
        for request in &unanswered {
            let (status, body) =
                send(&server.base, &http, &tokens, request).expect("the restarted server answers");
            if let Request::Propose { key, .. } = request {
                assert_eq!(status, 201, "retry of {key}: {body}");
                if let Some(first) = before_retry.get(key) {
                    applied_unanswered += 1;
                    assert_eq!(
                        body["id"].as_str(),
                        Some(first.as_str()),
                        "the retry of {key} made a second action"
                    );
                }
            }
            record(&mut rec.lock().unwrap(), request, status, &body);
            retried += 1;
        }
    }
    server.kill();
    let rec = rec.lock().unwrap();
    let by_key = check_file(&db, &rec);
    assert_eq!(by_key.len(), rec.proposed.len());
    println!(
        "server crash cycles: {cycles}, requests answered: {}, unanswered at a kill and \
         retried: {retried} (in flight: {in_flight_total}; proposals committed before the kill \
         but unanswered: {applied_unanswered}, each retry got the same id), actions: {}, \
         approvals: {}; 0 duplicates, 0 half-applied, in {:.1} s",
        rec.answered,
        by_key.len(),
        rec.approved.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(rec.answered >= cycles, "too little work to prove anything");
}

/// Checks the file with no server on it; returns key → action id.
fn check_file(db: &Path, rec: &Record) -> HashMap<String, String> {
    let center = ActionCenter::new(SqliteStore::open(db).unwrap(), policy());
    let report = center.verify_audit().unwrap();
    assert!(report.is_intact(), "verify_audit: {:?}", report.problem());
    let store = center.store();
    let mut by_key: HashMap<String, String> = HashMap::new();
    let mut before: Option<ActionId> = None;
    loop {
        let batch = store.list(&Filter::default(), before, 1000).unwrap();
        for a in &batch {
            let id = a.id.to_string();
            if let Some(key) = &a.idempotency_key
                && let Some(other) = by_key.insert(key.clone(), id.clone())
            {
                panic!("key {key} names two actions, {other} and {id}");
            }
            // An approval is there in full or not at all.
            let approvals = a
                .decisions
                .iter()
                .filter(|d| d.verdict == Verdict::Approve)
                .count();
            let events: Vec<Event> = store
                .events_of(a.id)
                .unwrap()
                .iter()
                .map(|e| e.event)
                .collect();
            let approve_events = events.iter().filter(|e| **e == Event::Approve).count();
            assert!(approvals <= 1, "{id} approved {approvals} times");
            assert_eq!(approvals, approve_events, "{id}: half an approval");
            assert_eq!(
                a.status == Status::Approved,
                approvals == 1,
                "{id} is {} with {approvals} approvals",
                a.status
            );
        }
        if batch.len() < 1000 {
            break;
        }
        before = batch.last().map(|a| a.id);
    }
    let keys: HashSet<&String> = by_key.keys().collect();
    for (key, id) in &rec.proposed {
        assert!(keys.contains(key), "the answered proposal {key} is lost");
        assert_eq!(&by_key[key], id, "key {key} now names another action");
    }
    for (id, version) in &rec.approved {
        let a = store.get(id.parse().unwrap()).unwrap().unwrap();
        assert_eq!(a.status, Status::Approved, "the answered approval of {id}");
        assert!(a.version >= *version);
    }
    by_key
}
