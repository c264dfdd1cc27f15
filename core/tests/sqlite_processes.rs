//! Several processes on one SQLite file: the locking and compare-and-set
//! that hold between threads must hold between processes too.
//!
//! The parent tests re-run this test binary as children (the `child_*`
//! entry points, ignored in normal runs) and read their verdicts from
//! stdout.
#![cfg(feature = "sqlite")]
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

use actioncenter::*;

const ROLE: &str = "ACTIONCENTER_CHILD_ROLE";
const DB: &str = "ACTIONCENTER_CHILD_DB";
const GO: &str = "ACTIONCENTER_CHILD_GO";

fn spawn(role: &str, entry: &str, db: &Path, name: &str) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            entry,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, name)
        .env(DB, db)
        .env(GO, db.with_extension("go"))
        .env("ACTIONCENTER_CHILD_KIND", role)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// Lines `VERDICT <id> <word>` printed by a child.
fn verdicts(child: std::process::Child) -> Vec<(String, String)> {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once("VERDICT ").map(|(_, rest)| rest))
        .map(|l| {
            let (id, word) = l.split_once(' ').unwrap();
            (id.to_owned(), word.to_owned())
        })
        .collect()
}

fn seed(db: &Path, n: usize, full_automation: bool) -> (ActionCenter, Vec<Action>) {
    let store = SqliteStore::open(db).unwrap();
    let mut policy = Policy::default();
    if full_automation {
        policy = policy.with_automation(Automation {
            default: AutomationLevel::Full,
            ..Automation::default()
        });
    }
    let center = ActionCenter::new(store, policy);
    let air = Principal::new("air", ["automation"]);
    let actions = (0..n)
        .map(|i| {
            let entity = Entity::Device {
                device_id: format!("dev-{i}"),
                name: None,
            };
            let source = Source::AutomatedInvestigation {
                investigation_id: "inv-race".into(),
            };
            center
                .propose(&air, Proposal::new(Kind::IsolateDevice, entity, source))
                .unwrap()
        })
        .collect();
    (center, actions)
}

#[test]
fn two_processes_racing_to_approve_leave_one_decision_each() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("race.db");
    let (center, actions) = seed(&db, 200, false);
    let children: Vec<_> = ["analyst-a", "analyst-b"]
        .iter()
        .map(|n| spawn("approve", "child_approver", &db, n))
        .collect();
    std::fs::write(db.with_extension("go"), b"go").unwrap();
    let mut by_action: HashMap<String, Vec<String>> = HashMap::new();
    for child in children {
        for (id, word) in verdicts(child) {
            by_action.entry(id).or_default().push(word);
        }
    }
    let alice = Principal::new("alice", ["analyst"]);
    for a in &actions {
        let mut words = by_action.remove(&a.id.to_string()).unwrap_or_default();
        words.sort();
        assert_eq!(words, vec!["conflict", "ok"], "action {}", a.id);
        let stored = center.get(&alice, a.id).unwrap();
        assert_eq!(
            (stored.status, stored.decisions.len()),
            (Status::Approved, 1)
        );
    }
    let report = center.verify_audit().unwrap();
    assert!(report.is_intact(), "{report:?}");
    // The bootstrap policy, then a proposal and an approval per action.
    assert_eq!(report.events_checked, 401);
}

#[test]
fn two_executor_processes_never_run_the_same_action() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("queue.db");
    let (center, actions) = seed(&db, 200, true);
    let children: Vec<_> = ["agent-a", "agent-b"]
        .iter()
        .map(|n| spawn("execute", "child_executor", &db, n))
        .collect();
    std::fs::write(db.with_extension("go"), b"go").unwrap();
    let mut runs: HashMap<String, usize> = HashMap::new();
    for child in children {
        for (id, _) in verdicts(child) {
            *runs.entry(id).or_default() += 1;
        }
    }
    let alice = Principal::new("alice", ["analyst"]);
    for a in &actions {
        assert_eq!(
            runs.get(&a.id.to_string()),
            Some(&1),
            "action {} ran {:?} times",
            a.id,
            runs.get(&a.id.to_string())
        );
        assert_eq!(center.get(&alice, a.id).unwrap().status, Status::Completed);
    }
    assert!(center.verify_audit().unwrap().is_intact());
}

fn child_center() -> Option<(ActionCenter, Principal)> {
    let name = std::env::var(ROLE).ok()?;
    let db = std::env::var(DB).ok()?;
    let center = ActionCenter::new(SqliteStore::open(db).unwrap(), Policy::default());
    // Start together: wait for the parent's go file (bounded).
    let go = std::env::var(GO).ok()?;
    for _ in 0..10_000 {
        if Path::new(&go).exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let role = if std::env::var("ACTIONCENTER_CHILD_KIND").ok()? == "execute" {
        "executor"
    } else {
        "analyst"
    };
    Some((center, Principal::new(name, [role])))
}

#[test]
#[ignore = "child process entry point, run by two_processes_racing_to_approve_leave_one_decision_each"]
fn child_approver() {
    let Some((center, me)) = child_center() else {
        return;
    };
    let page = center
        .list(
            &me,
            &Filter::investigation("inv-race"),
            &PageRequest::first(1000),
        )
        .unwrap();
    for a in page.items {
        let word = match center.approve(
            &me,
            a.id,
            &Decide {
                comment: None,
                expected_version: Some(1),
            },
        ) {
            Ok(_) => "ok",
            Err(Error::Conflict { .. }) => "conflict",
            Err(e) => panic!("unexpected error approving {}: {e}", a.id),
        };
        println!("VERDICT {} {word}", a.id);
    }
}

#[test]
#[ignore = "child process entry point, run by two_executor_processes_never_run_the_same_action"]
fn child_executor() {
    let Some((center, me)) = child_center() else {
        return;
    };
    loop {
        let claimed = center
            .claim(
                &me,
                &ClaimRequest {
                    limit: 5,
                    lease_seconds: 300,
                    kinds: None,
                },
            )
            .unwrap();
        if claimed.is_empty() {
            return;
        }
        for a in claimed {
            center
                .complete(
                    &me,
                    a.id,
                    a.lease_token().unwrap_or_default(),
                    serde_json::json!({"by": me.id}),
                )
                .unwrap();
            println!("VERDICT {} done", a.id);
        }
    }
}
