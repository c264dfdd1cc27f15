//! The race through the HTTP API that `races.rs` runs on one server and
//! `pg_races.rs` on two servers sharing a PostgreSQL database.
//!
//! Each pending action gets two to four contenders among approve (with
//! `If-Match` of the version read), reject, cancel and bulk approve, sent
//! by different clients at the same moment; then several executor
//! clients race to claim and complete the approved ones. Checks: no lost
//! update (at most one decision leaves Pending, each one answered 200 is
//! in the final state and the trail, one stored decision per answered
//! decision), no double execution (no attempt claimed twice, at most one
//! completion per action), `verify_audit` intact.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Barrier, Mutex};

use actioncenter::{ActionCenter, Filter, Principal, Proposal, Status};
use serde_json::{Value, json};

use crate::common::{self, Api};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Approve(usize),
    Reject,
    Cancel,
    Bulk,
}

/// Races `n` pending actions through the API, then the executors; `api`
/// gives a client for a principal (the `i`th client made: a test may
/// spread them over several servers). Returns the number of races.
pub fn race(center: &ActionCenter, api: &dyn Fn(&str, usize) -> Api, n: usize, label: &str) -> u64 {
    let soar = Principal::new("soar", ["automation"]);
    let ids: Vec<String> = (0..n)
        .map(|i| {
            let p: Proposal =
                serde_json::from_value(common::isolate(&format!("http-{i}"))).unwrap();
            center.propose(&soar, p).unwrap().id.to_string()
        })
        .collect();
    // Clients: alice and bob approve, bob rejects, soar cancels its own,
    // alice bulk-approves; each op on its own connection pool.
    let clients: Vec<Arc<Api>> = ["alice", "bob", "bob", "soar", "alice"]
        .iter()
        .enumerate()
        .map(|(i, p)| Arc::new(api(p, i)))
        .collect();
    let threads = 8;
    let mut tasks: Vec<Vec<(String, Op)>> = vec![Vec::new(); threads];
    let mut seed = 0x5eed_u64 ^ std::process::id() as u64;
    let mut rand = move |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n.max(1)
    };
    for id in &ids {
        let mut ops = vec![
            Op::Approve(0),
            Op::Approve(1),
            Op::Reject,
            Op::Cancel,
            Op::Bulk,
        ];
        let k = 2 + rand(3);
        let first = rand(threads);
        for j in 0..k {
            let op = ops.remove(rand(ops.len()));
            tasks[(first + j) % threads].push((id.clone(), op));
        }
    }
    for list in &mut tasks {
        for i in (1..list.len()).rev() {
            list.swap(i, rand(i + 1));
        }
    }
    let barrier = Arc::new(Barrier::new(threads));
    let acks: Arc<Mutex<Vec<(String, Op, Value)>>> = Arc::default();
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|list| {
            let (barrier, acks, clients) = (barrier.clone(), acks.clone(), clients.clone());
            std::thread::spawn(move || {
                barrier.wait();
                for (id, op) in list {
                    let path = format!("/api/v1/actions/{id}");
                    let seen = common::expect(clients[0].get(&path), 200);
                    let version = seen["version"].as_u64().unwrap();
                    let (status, body) = match op {
                        Op::Approve(who) => send(clients[who].post_if(
                            &format!("{path}/approve"),
                            version,
                            json!({}),
                        )),
                        Op::Reject => send(clients[2].post_if(
                            &format!("{path}/reject"),
                            version,
                            json!({"comment": "benign"}),
                        )),
                        Op::Cancel => send(
                            clients[3]
                                .post(&format!("{path}/cancel"), json!({"comment": "withdrawn"})),
                        ),
                        Op::Bulk => {
                            let (s, b) = send(clients[4].post(
                                "/api/v1/bulk",
                                json!({"op": "approve", "ids": [{"id": id, "version": version}]}),
                            ));
                            assert_eq!(s, 200, "{b}");
                            let item = b["results"][0].clone();
                            if item["ok"] == true {
                                (200, item["action"].clone())
                            } else {
                                (409, item)
                            }
                        }
                    };
                    match status {
                        200 => acks.lock().unwrap().push((id, op, body)),
                        409 => {}
                        other => panic!("{op:?} on {id}: {other} {body}"),
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let acks = acks.lock().unwrap().clone();
    let viewer = Principal::new("victor", ["viewer"]);
    for id in &ids {
        let mine: Vec<&(String, Op, Value)> = acks.iter().filter(|(i, _, _)| i == id).collect();
        let versions: HashSet<u64> = mine
            .iter()
            .map(|(_, _, b)| b["version"].as_u64().unwrap())
            .collect();
        assert_eq!(versions.len(), mine.len(), "lost update on {id}");
        let leaving = mine.iter().filter(|(_, op, _)| *op != Op::Cancel).count();
        assert!(leaving <= 1, "{id} left Pending twice");
        let action = center.get(&viewer, id.parse().unwrap()).unwrap();
        assert_eq!(action.decisions.len(), leaving, "{id}: decisions");
        let trail = center.history_of(&viewer, action.id).unwrap();
        for (_, op, b) in &mine {
            let v = b["version"].as_u64().unwrap();
            assert!(
                trail
                    .iter()
                    .any(|e| e.version == Some(v)
                        && e.to.map(|s| s.as_str()) == b["status"].as_str()),
                "{op:?} on {id} answered at version {v} is not in the trail"
            );
        }
    }

    // Executors: four clients with the executor's token race to claim.
    let approved = center
        .counts(&viewer, &Filter::default())
        .unwrap()
        .get(Status::Approved);
    let executors = 4;
    let barrier = Arc::new(Barrier::new(executors));
    let claims: Arc<Mutex<Vec<(String, usize)>>> = Arc::default();
    let done: Arc<Mutex<Vec<String>>> = Arc::default();
    let handles: Vec<_> = (0..executors)
        .map(|e| {
            let edr = api("edr", e);
            let (barrier, claims, done) = (barrier.clone(), claims.clone(), done.clone());
            std::thread::spawn(move || {
                barrier.wait();
                loop {
                    let got = common::expect(
                        edr.post("/api/v1/claims", json!({"limit": 2, "lease_seconds": 300})),
                        200,
                    );
                    let got = got.as_array().unwrap().clone();
                    if got.is_empty() {
                        return;
                    }
                    for a in got {
                        let id = a["id"].as_str().unwrap().to_owned();
                        let attempts = a["attempts"].as_array().unwrap();
                        claims.lock().unwrap().push((id.clone(), attempts.len()));
                        let token = attempts.last().unwrap()["lease_token"].clone();
                        let r = edr.post(
                            &format!("/api/v1/actions/{id}/complete"),
                            json!({"lease_token": token, "result": {}}),
                        );
                        common::expect(r, 200);
                        done.lock().unwrap().push(id);
                    }
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let claims = claims.lock().unwrap().clone();
    let unique: HashSet<&(String, usize)> = claims.iter().collect();
    assert_eq!(unique.len(), claims.len(), "an attempt claimed twice");
    let done = done.lock().unwrap().clone();
    let mut completions: HashMap<&String, usize> = HashMap::new();
    for id in &done {
        *completions.entry(id).or_default() += 1;
    }
    assert!(
        completions.values().all(|n| *n == 1),
        "an action completed twice"
    );
    assert_eq!(
        done.len() as u64,
        approved,
        "every approved action ran once"
    );
    let report = center.verify_audit().unwrap();
    assert!(report.is_intact(), "{:?}", report.problem());
    let races = n as u64 + approved;
    println!(
        "{label}: {races} races ({n} decisions, {approved} claims by 4 \
         executors), {} decisions answered 200, {} completions; 0 lost updates, \
         0 double executions",
        acks.len(),
        done.len()
    );
    races
}

fn send(r: reqwest::blocking::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}
