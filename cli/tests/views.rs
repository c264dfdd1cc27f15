//! The read-only commands, the demo and the operator's commands, run as a
//! person or a script would run them.

mod common;

use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration as StdDuration;

use actioncenter::chrono::{Duration, Utc};
use actioncenter::{
    ActionCenter, ClaimRequest, Entity, Kind, ManualClock, Policy, Principal, Proposal, Source,
    SqliteStore,
};
use common::{Db, actionctl, command, invoice_on, os_account};
use serde_json::Value;

const HISTORY: [&str; 7] = [
    "completed",
    "failed",
    "rejected",
    "expired",
    "cancelled",
    "undone",
    "undo_failed",
];

fn items(page: &Value) -> Vec<Value> {
    page["items"].as_array().cloned().unwrap_or_default()
}

fn strs(values: &[Value], key: &str) -> Vec<String> {
    values
        .iter()
        .map(|v| v[key].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn demo_prints_the_pending_and_history_tabs() {
    let db = Db::none();
    let run = db.run(&["demo"]);
    let out = run.ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!(
            "Sample database {}: 34 actions, every step in the audit trail.",
            db.path.display()
        )
    );
    assert_eq!(lines[2], "Pending (9)");
    let header: Vec<&str> = lines[3]
        .split("  ")
        .filter(|c| !c.is_empty())
        .map(str::trim)
        .collect();
    assert_eq!(
        header,
        [
            "ID",
            "KIND",
            "ENTITY",
            "SOURCE",
            "INVESTIGATION",
            "AGE",
            "EXPIRES IN"
        ]
    );
    assert!(out.contains("\n9 in all.\n\nHistory (20)\n"), "{out}");
    assert!(out.contains("\n20 in all.\n"), "{out}");
    assert!(!out.contains('\x1b'), "no colour when not on a terminal");
}

#[test]
fn the_demos_refused_example_is_refused_for_the_reason_it_gives() {
    let db = Db::none();
    let demo = db.run(&["demo"]);
    let line = demo
        .ok()
        .lines()
        .find(|l| l.contains("--as dana approve"))
        .expect("the example");
    let (command, why) = line.split_once('#').expect("a reason");
    assert_eq!(why.trim(), "refused: dana, a responder, may not approve");
    // The line names the database; `run` names it too.
    let words: Vec<&str> = command.split_whitespace().skip(1).collect();
    let args = match words.as_slice() {
        ["--db", _, rest @ ..] => rest.to_vec(),
        all => all.to_vec(),
    };
    let run = db.run(&args);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stderr.contains("dana may not approve"),
        "{}",
        run.stderr
    );
}

#[test]
fn demo_holds_every_status_source_and_an_intact_trail() {
    let db = Db::demo();
    let actions = db.actions();
    assert_eq!(actions.len(), 34);
    let mut statuses = strs(&actions, "status");
    statuses.sort();
    statuses.dedup();
    assert_eq!(statuses.len(), 12, "{statuses:?}");
    let mut sources: Vec<String> = actions
        .iter()
        .map(|a| a["source"]["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    sources.sort();
    sources.dedup();
    assert_eq!(
        sources,
        [
            "antivirus",
            "automated_investigation",
            "custom",
            "manual_response",
            "playbook"
        ]
    );
    let run = db.run(&["audit", "verify"]);
    assert!(run.ok().starts_with("Audit trail intact: "), "{run:?}");
}

#[test]
fn demo_refuses_a_database_that_holds_actions_and_changes_nothing() {
    let db = Db::demo();
    let before = db.snapshot();
    db.run(&["demo"]).fails(
        6,
        &format!(
            "error: invalid database: {} already holds 34 actions; the demo fills an empty database: pass --fresh to replace it, or --db for another file",
            db.path.display()
        ),
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn demo_append_refuses_a_database_with_work_for_executors() {
    let db = Db::demo();
    let before = db.snapshot();
    db.run(&["demo", "--append"]).fails(
        6,
        &format!(
            "error: invalid database: {} holds 3 actions waiting for executors, which the sample's executors would take; use another file",
            db.path.display()
        ),
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn demo_fresh_starts_over() {
    let db = Db::demo();
    let old = strs(&db.actions(), "id");
    db.run(&["demo", "--fresh"]).ok();
    let new = strs(&db.actions(), "id");
    assert_eq!(new.len(), 34);
    assert!(new.iter().all(|id| !old.contains(id)));
}

#[test]
fn demo_json_holds_both_tabs_in_the_library_schema() {
    let db = Db::none();
    let v = db.json(&["demo"]);
    let pending = items(&v["pending"]);
    assert_eq!(pending.len(), 9);
    assert!(
        pending
            .iter()
            .all(|a| a["status"] == "pending" && a["version"].is_u64())
    );
    let history = items(&v["history"]);
    assert_eq!(history.len(), 20);
    assert!(
        history
            .iter()
            .all(|a| HISTORY.contains(&a["status"].as_str().unwrap_or_default()))
    );
    assert_eq!(v["pending"]["next_cursor"], Value::Null);
}

#[test]
fn pending_lists_only_pending_actions_newest_first() {
    let db = Db::demo();
    let page = db.json(&["pending"]);
    let list = items(&page);
    assert_eq!(list.len(), 9);
    assert!(list.iter().all(|a| a["status"] == "pending"));
    let ids = strs(&list, "id");
    let mut sorted = ids.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted);
}

#[test]
fn pending_filters_by_investigation_kind_and_source() {
    let db = Db::demo();
    let inv = items(&db.json(&["pending", "--investigation", "inv-2041"]));
    let mut kinds = strs(&inv, "kind");
    kinds.sort();
    assert_eq!(kinds, ["remove_scheduled_task", "stop_service"]);
    let playbook = items(&db.json(&[
        "pending",
        "--source",
        "playbook",
        "--kind",
        "block_url,soft_delete_email",
    ]));
    assert_eq!(playbook.len(), 2);
    let device = items(&db.json(&["pending", "--entity", "FIN-LT-042"]));
    assert_eq!(device.len(), 2);
}

#[test]
fn pending_pages_with_the_printed_cursor() {
    let db = Db::demo();
    let first = db.json(&["pending", "--limit", "4"]);
    assert_eq!(items(&first).len(), 4);
    let cursor = first["next_cursor"].as_str().unwrap_or_default().to_owned();
    let human = db.run(&["pending", "--limit", "4"]);
    assert!(
        human.ok().ends_with(&format!(
            "Showing 4 of 9. Next page: actionctl pending --cursor {cursor} (with the same filters)\n"
        )),
        "{human:?}"
    );
    let second = db.json(&["pending", "--limit", "4", "--cursor", &cursor]);
    let third_cursor = second["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let third = db.json(&["pending", "--limit", "4", "--cursor", &third_cursor]);
    let mut seen = strs(&items(&first), "id");
    seen.extend(strs(&items(&second), "id"));
    seen.extend(strs(&items(&third), "id"));
    assert_eq!(seen, strs(&items(&db.json(&["pending"])), "id"));
    assert_eq!(third["next_cursor"], Value::Null);
}

#[test]
fn history_defaults_to_the_outcome_statuses() {
    let db = Db::demo();
    let list = items(&db.json(&["history"]));
    assert_eq!(list.len(), 20);
    assert!(
        list.iter()
            .all(|a| HISTORY.contains(&a["status"].as_str().unwrap_or_default()))
    );
}

#[test]
fn history_filters_by_status_and_time() {
    let db = Db::demo();
    let failed = items(&db.json(&["history", "--status", "failed"]));
    assert_eq!(strs(&failed, "kind"), ["remove_registry_key"]);
    let in_flight = items(&db.json(&["history", "--status", "approved,running,undoing"]));
    assert_eq!(in_flight.len(), 4);
    assert_eq!(items(&db.json(&["history", "--status", "all"])).len(), 34);
    assert_eq!(
        items(&db.json(&["history", "--until", "2000-01-01"])).len(),
        0
    );
    assert_eq!(
        items(&db.json(&["history", "--since", "2000-01-01T00:00:00Z"])).len(),
        20
    );
    // The last two days hold only the newest decisions' actions, never the oldest.
    let recent = items(&db.json(&["history", "--status", "all", "--since", "2d"]));
    assert!(!recent.is_empty() && recent.len() < 34, "{}", recent.len());
    let mine = items(&db.json(&["history", "--decided-by", "bob", "--status", "rejected"]));
    assert_eq!(strs(&mine, "kind"), ["disable_driver"]);
}

#[test]
fn history_table_shows_status_and_who_decided() {
    let db = Db::demo();
    let out = db.run(&["history", "--status", "rejected"]).ok().to_owned();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    let cells: Vec<&str> = lines[1]
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        &cells[2..],
        [
            "rejected",
            "disable_driver",
            "rtkio64 on FIN-LT-042",
            "AIR inv-2041",
            "inv-2041",
            "bob"
        ]
    );
    assert_eq!(lines[2], "1 in all.");
}

#[test]
fn show_prints_the_flyout_with_decisions_attempts_instances_and_audit_events() {
    let db = Db::demo();
    let id = invoice_on(&db, "FIN-LT-042");
    let out = db.run(&["show", &id]).ok().to_owned();
    assert!(out.starts_with(&format!("Action {id}\n")), "{out}");
    for needle in [
        "Status         completed",
        "Kind           quarantine_file (file category; undone by restore_file)",
        "  sha256: 5f1d8e3a",
        "Source         antivirus",
        "Investigation  inv-2042",
        "Alert          ALR-77810",
        "\nDecisions\n",
        "known ransomware dropper",
        "\nAttempts\n",
        "completed {\"quarantined\":true}",
        "The same file is quarantined on 3 more devices: SALES-LT-023, ENG-LT-007, HR-WS-017.",
        "\nAudit trail\n",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    let audit = out.split("\nAudit trail\n").nth(1).unwrap_or_default();
    let events: Vec<&str> = audit.lines().skip(1).collect();
    assert_eq!(events.len(), 4, "{audit}");
}

#[test]
fn show_names_who_acted_as_the_proposer_and_as_each_decider() {
    let db = Db::demo();
    let me = os_account();
    let proposed = db.json(&[
        "--as",
        "alice",
        "propose",
        "isolate_device",
        "--device-id",
        "dev-via",
    ]);
    let id = proposed["action"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let out = db.run(&["show", &id]).ok().to_owned();
    let row = |name: &str| {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row in\n{out}"))
            .to_owned()
    };
    assert!(
        row("Created").contains(&format!(" by {me} as alice (")),
        "{out}"
    );
    let decisions = out.split("\nDecisions\n").nth(1).unwrap_or_default();
    let first = decisions.lines().nth(1).unwrap_or_default();
    assert!(first.contains(&format!("{me} as alice")), "{out}");
    assert!(first.contains("approve"), "{out}");
}

#[test]
fn show_json_is_the_action_and_its_events() {
    let db = Db::demo();
    let id = db.id("remove_registry_key", "failed");
    let v = db.json(&["show", &id[..13]]);
    assert_eq!(v["action"]["id"], id.as_str());
    assert_eq!(v["action"]["attempts"].as_array().map(Vec::len), Some(2));
    let events: Vec<&str> = v["events"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["event"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        events,
        [
            "propose", "approve", "claim", "fail", "retry", "claim", "fail"
        ]
    );
}

#[test]
fn counts_per_status() {
    let db = Db::demo();
    let v = db.json(&["counts"]);
    let expected = serde_json::json!({
        "pending": 9, "approved": 2, "rejected": 1, "expired": 1, "cancelled": 1,
        "running": 1, "completed": 14, "failed": 1, "undoing": 1, "undo_running": 1,
        "undone": 1, "undo_failed": 1
    });
    assert_eq!(v, expected);
    let out = db
        .run(&["counts", "--investigation", "inv-2042"])
        .ok()
        .to_owned();
    assert!(out.contains("completed           4\n"), "{out}");
    assert!(out.ends_with("total               4\n"), "{out}");
}

#[test]
fn events_page_through_the_feed() {
    let db = Db::demo();
    let first = db.json(&["events", "--limit", "5"]);
    assert_eq!(first["next_since"], 5);
    let seqs: Vec<u64> = first["items"]
        .as_array()
        .map(|e| e.iter().filter_map(|e| e["seq"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    let human = db.run(&["events", "--limit", "5"]);
    assert!(
        human.ok().ends_with("More: actionctl events --since 5\n"),
        "{human:?}"
    );
    let all = db.json(&["events", "--limit", "1000"]);
    let total = all["items"].as_array().map(Vec::len).unwrap_or_default() as u64;
    assert_eq!(all["next_since"], Value::Null);
    let tail = db.json(&["events", "--since", &(total - 2).to_string()]);
    assert_eq!(tail["items"].as_array().map(Vec::len), Some(2));
    let none = db.run(&["events", "--since", &total.to_string()]);
    assert_eq!(none.ok(), format!("No events after {total}.\n"));
}

#[test]
fn events_json_says_more_exist_past_a_full_batch() {
    let db = Db::demo();
    let total = db.json(&["events", "--limit", "1000"])["items"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    // The demo writes more than one batch of 80 and fewer than two.
    assert!((81..160).contains(&total), "{total}");
    let first = db.json(&["events", "--limit", "80"]);
    assert_eq!(first["items"].as_array().map(Vec::len), Some(80));
    assert_eq!(first["next_since"], 80);
    let rest = db.json(&["events", "--since", "80", "--limit", "80"]);
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(total - 80));
    assert_eq!(rest["next_since"], Value::Null);
}

#[test]
fn a_batch_that_ends_the_feed_exactly_says_no_more() {
    let db = Db::demo();
    let total = db.json(&["events", "--limit", "1000"])["items"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    let exact = db.json(&["events", "--limit", &total.to_string()]);
    assert_eq!(exact["next_since"], Value::Null);
    let human = db.run(&["events", "--limit", &total.to_string()]);
    assert!(!human.ok().contains("More:"), "{human:?}");
}

#[test]
fn events_follow_prints_what_another_process_does() {
    let db = Db::demo();
    let total = db.json(&["events", "--limit", "1000"])["items"]
        .as_array()
        .map(Vec::len)
        .unwrap_or_default();
    let mut child = command(&db.path)
        .args([
            "--json",
            "events",
            "--follow",
            "--interval-ms",
            "100",
            "--since",
        ])
        .arg(total.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let stdout = child.stdout.take();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        if let Some(stdout) = stdout {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        }
    });
    let id = db.id("stop_service", "pending");
    db.run(&["approve", &id]).ok();
    let line = rx.recv_timeout(StdDuration::from_secs(20));
    let _ = child.kill();
    let _ = child.wait();
    let event: Value = serde_json::from_str(&line.unwrap_or_default()).unwrap_or_default();
    assert_eq!(event["seq"].as_u64(), Some(total as u64 + 1));
    assert_eq!(event["event"], "approve");
    assert_eq!(event["actor"], "carol");
    assert_eq!(event["action_id"], id.as_str());
}

#[test]
fn events_follow_interval_is_bounded() {
    let db = Db::demo();
    let run = db.run(&["events", "--follow", "--interval-ms", "5"]);
    assert_eq!(run.code, 64, "{run:?}");
    assert_eq!(
        run.error_line(),
        "error: invalid value '5' for '--interval-ms <MS>': 5 is not in 100..=60000 (see actionctl --help)"
    );
}

/// A database with one action whose approval window closed a day ago and
/// one whose executor's lease ran out an hour ago.
fn overdue_db() -> Db {
    let db = Db::none();
    let store = SqliteStore::open(&db.path).unwrap_or_else(|e| panic!("open: {e}"));
    let clock = Arc::new(ManualClock::starting_at(Utc::now() - Duration::days(8)));
    let policy = Policy::default()
        .with_principal("carol", ["analyst"])
        .and_then(|p| p.with_principal(&os_account(), ["admin"]))
        .unwrap_or_else(|e| panic!("policy: {e}"));
    let center = ActionCenter::with_clock(Arc::new(store), policy, clock.clone());
    let air = Principal::new("air", ["automation"]);
    let alice = Principal::new("alice", ["analyst"]);
    let agent = Principal::new("agent-1", ["executor"]);
    let device = |id: &str| Entity::Device {
        device_id: id.into(),
        name: None,
    };
    let source = Source::AutomatedInvestigation {
        investigation_id: "inv-1".into(),
    };
    let propose = |kind, on| {
        center
            .propose(&air, Proposal::new(kind, device(on), source.clone()))
            .unwrap_or_else(|e| panic!("propose: {e}"))
    };
    propose(Kind::IsolateDevice, "dev-1");
    clock.set(Utc::now() - Duration::hours(2));
    let scan = propose(Kind::RunAntivirusScan, "dev-2");
    center
        .approve(&alice, scan.id, &Default::default())
        .unwrap_or_else(|e| panic!("approve: {e}"));
    let request = ClaimRequest {
        limit: 1,
        lease_seconds: 3600,
        kinds: None,
    };
    center
        .claim(&agent, &request)
        .unwrap_or_else(|e| panic!("claim: {e}"));
    drop(center);
    db
}

#[test]
fn expire_moves_actions_whose_window_closed() {
    let db = overdue_db();
    let pending = items(&db.json(&["pending"]));
    assert_eq!(pending.len(), 1);
    let out = db.run(&["pending"]).ok().to_owned();
    assert!(out.contains("overdue 1d 0h"), "{out}");
    let moved = db.json(&["expire"]);
    assert_eq!(moved[0]["status"], "expired");
    assert_eq!(moved[0]["id"], pending[0]["id"]);
    let again = db.run(&["expire"]);
    assert_eq!(
        again.ok(),
        "No pending action has passed its approval window.\n"
    );
}

#[test]
fn recover_leases_returns_running_actions_to_the_queue() {
    let db = overdue_db();
    let run = db.run(&["recover-leases"]);
    let out = run.ok();
    assert!(out.contains("run_antivirus_scan"), "{out}");
    assert!(out.ends_with("Back in the queue: 1.\n"), "{out}");
    let moved = db.json(&["history", "--status", "approved"]);
    assert_eq!(
        items(&moved)[0]["attempts"][0]["outcome"]["type"],
        "lease_expired"
    );
    assert_eq!(
        db.run(&["recover-leases"]).ok(),
        "No executor's lease has run out.\n"
    );
}

#[test]
fn audit_verify_names_the_first_event_that_does_not_match() {
    let db = Db::demo();
    let events = db.json(&["events", "--limit", "1000"]);
    let seventh = events["items"][6]["action_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let conn = rusqlite::Connection::open(&db.path).unwrap_or_else(|e| panic!("open: {e}"));
    conn.execute(
        "UPDATE events SET comment = 'nothing to see' WHERE seq = 7",
        [],
    )
    .unwrap_or_else(|e| panic!("tamper: {e}"));
    drop(conn);
    db.run(&["audit", "verify"]).fails(
        20,
        "error: audit trail broken: audit event 7: its hash does not match its fields",
    );
    let json = db.run(&["--json", "audit", "verify"]);
    assert_eq!(json.code, 20);
    let report: Value = serde_json::from_str(&json.stdout).unwrap_or_default();
    assert_eq!(report["first_bad"]["seq"], 7);
    assert_eq!(report["first_bad"]["action_id"], seventh.as_str());
    assert_eq!(report["first_bad"]["mismatch"]["type"], "hash");
    let err: Value = serde_json::from_str(json.error_line()).unwrap_or_default();
    assert_eq!(
        (err["kind"].as_str(), err["code"].as_u64()),
        (Some("audit_broken"), Some(20))
    );
}

#[test]
fn audit_verify_calls_an_event_row_that_cannot_be_read_a_broken_trail() {
    // It exited 8, a storage failure, as for a failing disk.
    let db = Db::demo();
    let conn = rusqlite::Connection::open(&db.path).unwrap_or_else(|e| panic!("open: {e}"));
    conn.execute(
        "UPDATE events SET actor = CAST(x'ff61' AS TEXT) WHERE seq = 9",
        [],
    )
    .unwrap_or_else(|e| panic!("tamper: {e}"));
    drop(conn);
    let run = db.run(&["audit", "verify"]);
    assert_eq!(run.code, 20, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("audit trail broken: audit event 9: its row cannot be read"),
        "{}",
        run.stderr
    );
    let json = db.run(&["--json", "audit", "verify"]);
    let report: Value = serde_json::from_str(&json.stdout).unwrap_or_default();
    assert_eq!(report["first_bad"]["seq"], 9);
    assert_eq!(report["first_bad"]["mismatch"]["type"], "unreadable");
}

#[test]
fn policy_check_accepts_a_valid_file() {
    let db = Db::none();
    let file = db.file(
        "policy.json",
        r#"{"roles": {"analyst": {"view": ["*"], "approve": ["file"]}, "viewer": {"view": ["*"]},
                      "admin": {"administer": ["*"]}},
            "principals": {"vera": ["viewer"]}}"#,
    );
    let run = db.run(&["policy", "check", &file.to_string_lossy()]);
    assert_eq!(
        run.ok(),
        format!(
            "{}: valid policy with 3 roles: admin, analyst, viewer\n",
            file.display()
        )
    );
    let v = db.json(&["policy", "check", &file.to_string_lossy()]);
    assert_eq!(v["principals"]["vera"][0], "viewer");
    assert!(!db.path.exists(), "policy check needs no database");
}

#[test]
fn policy_check_refuses_what_policy_set_always_refuses() {
    let db = Db::none();
    for (name, text) in [
        ("none.json", r#"{"roles": {}}"#),
        ("viewers.json", r#"{"roles": {"viewer": {"view": ["*"]}}}"#),
        (
            "halves.json",
            r#"{"roles": {"a": {"administer": ["device", "file"]}, "b": {"administer": ["email", "identity", "network"]}}}"#,
        ),
    ] {
        let file = db.file(name, text);
        db.run(&["policy", "check", &file.to_string_lossy()]).fails(
            6,
            &format!(
                "error: {}: invalid policy: has no role that administers every category: nobody could change the policy again",
                file.display()
            ),
        );
    }
}

#[test]
fn policy_check_names_the_bad_field() {
    let db = Db::none();
    let file = db.file("bad.json", r#"{"roles": {"a": {"view": ["printers"]}}}"#);
    db.run(&["policy", "check", &file.to_string_lossy()]).fails(
        6,
        &format!(
            "error: {}: invalid policy.roles.a.view: unknown category \"printers\" (use one of device, file, email, identity, network, or \"*\")",
            file.display()
        ),
    );
    let missing = db.dir.path().join("missing.json");
    let run = db.run(&["policy", "check", &missing.to_string_lossy()]);
    assert_eq!(run.code, 6);
    assert!(
        run.error_line().starts_with(&format!(
            "error: {}: invalid policy: cannot read the file: ",
            missing.display()
        )),
        "{run:?}"
    );
}

#[test]
fn whoami_and_policy_show_tell_the_roles_in_force() {
    let db = Db::demo();
    let me = os_account();
    let out = db.run(&["whoami"]).ok().to_owned();
    assert!(
        out.starts_with(&format!(
            "{me} as carol (roles analyst, from the stored policy version 1)\n"
        )),
        "{out}"
    );
    assert!(out.contains("approve     all\n"), "{out}");
    assert!(out.contains("execute     -\n"), "{out}");
    let alice = db.json(&["--as", "alice", "whoami"]);
    assert_eq!(
        alice["principal"],
        serde_json::json!({"id": "alice", "roles": ["analyst"], "via": me})
    );
    assert_eq!(alice["account"], me.as_str());
    db.set_policy(r#"{"roles": {"viewer": {"view": ["*"]}}, "principals": {"vera": ["viewer"]}}"#);
    let vera = db.json(&["--as", "vera", "whoami"]);
    assert_eq!(vera["principal"]["roles"], serde_json::json!(["viewer"]));
    assert_eq!(vera["policy_version"], 2);
    db.run(&["--as", "mallory", "whoami"]).fails(
        3,
        "error: mallory may not view any actions (mallory is not among the principals of the stored policy)",
    );
    // carol is not in the new policy: the administrator reads it.
    let shown = db.run_as_me(&["--json", "policy", "show"]).json();
    assert_eq!(shown["version"], 2);
    assert_eq!(shown["policy"]["principals"]["vera"][0], "viewer");
    let history = db.run_as_me(&["--json", "policy", "history"]).json();
    assert_eq!(history.as_array().map(Vec::len), Some(2));
}

#[test]
fn environment_variables_name_the_database_actor_and_the_first_policy() {
    let db = Db::none();
    let first = Policy::default()
        .with_principal("vera", ["viewer"])
        .and_then(|p| p.with_principal(&os_account(), ["admin"]))
        .unwrap_or_else(|e| panic!("policy: {e}"));
    let file = db.file("p.json", &first.to_json());
    let run = |args: &[&str], env: &[(&str, &std::path::Path)]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_actionctl"));
        c.args(args)
            .env_remove("ACTIONCENTER_ACTOR")
            .env_remove("ACTIONCENTER_POLICY");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap_or_else(|e| panic!("run: {e}"))
    };
    // The policy of a database the demo creates.
    let made = run(
        &["demo"],
        &[
            ("ACTIONCENTER_DB", &db.path),
            ("ACTIONCENTER_POLICY", &file),
        ],
    );
    assert!(made.status.success(), "{made:?}");
    let output = run(
        &["--json", "whoami"],
        &[
            ("ACTIONCENTER_DB", &db.path),
            ("ACTIONCENTER_ACTOR", std::path::Path::new("vera")),
        ],
    );
    let me: Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    assert_eq!(me["principal"]["roles"], serde_json::json!(["viewer"]));
    // A database that exists keeps its own: --policy there is refused.
    let output = run(
        &["--json", "counts"],
        &[
            ("ACTIONCENTER_DB", &db.path),
            ("ACTIONCENTER_POLICY", &file),
        ],
    );
    assert_eq!(output.status.code(), Some(64), "{output:?}");
    let output = run(&["--json", "counts"], &[("ACTIONCENTER_DB", &db.path)]);
    let counts: Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    assert_eq!(counts["pending"], 9);
}

#[test]
fn every_command_speaks_json() {
    let db = Db::demo();
    let pending = db.id("stop_service", "pending");
    let failed = db.id("remove_registry_key", "failed");
    let invoice = invoice_on(&db, "HR-WS-017");
    let file = db.file("p.json", r#"{"roles": {"admin": {"administer": ["*"]}}}"#);
    let file = file.to_string_lossy().into_owned();
    for args in [
        vec!["pending"],
        vec!["history"],
        vec!["show", &pending],
        vec!["counts"],
        vec!["events"],
        vec!["approve", &pending],
        vec!["retry", &failed, "-m", "again"],
        vec!["cancel", &failed, "-m", "not needed"],
        vec![
            "reject",
            "--investigation",
            "inv-2043",
            "-m",
            "benign",
            "--yes",
        ],
        vec!["undo", &invoice, "-m", "false positive", "--yes"],
        vec!["audit", "verify"],
        vec!["expire"],
        vec!["recover-leases"],
        vec!["policy", "check", &file],
        vec!["policy", "show"],
        vec!["policy", "history"],
        vec!["whoami"],
    ] {
        let mut all = vec!["--json"];
        all.extend(args.iter().copied());
        let run = db.run(&all);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        let parsed: Result<Value, _> = serde_json::from_str(&run.stdout);
        assert!(parsed.is_ok(), "{args:?}: {}", run.stdout);
    }
}

#[test]
fn help_shows_examples_and_exit_codes() {
    let db = Db::none();
    let run = db.run(&["--help"]);
    let out = run.ok();
    assert!(out.contains("actionctl demo"), "{out}");
    assert!(
        out.contains("Exit codes:\n   0  success\n   1  not found"),
        "{out}"
    );
    assert!(out.contains("  64  usage"), "{out}");
    let undo = db.run(&["undo", "--help"]);
    assert!(undo.ok().contains("--all-instances"), "{undo:?}");
    assert!(undo.stdout.contains("--yes"), "{undo:?}");
}

#[test]
fn seed_makes_a_database_the_views_and_the_demo_work_on() {
    let db = Db::none();
    let run = db.run(&["--json", "seed", "--count", "300", "--days", "30"]);
    let v = run.json();
    assert_eq!(v["created"], 300);
    let counts = db.json(&["counts"]);
    let total: u64 = counts
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    assert_eq!(total, 300);
    assert_eq!(counts["approved"], 0);
    assert_eq!(counts["undoing"], 0);
    assert!(counts["pending"].as_u64().unwrap_or(0) > 0);
    db.run(&["audit", "verify"]).ok();
    let appended = db.json(&["demo", "--append"]);
    assert_eq!(items(&appended["pending"]).len().min(9), 9);
    let counts = db.json(&["counts"]);
    let total: u64 = counts
        .as_object()
        .map(|m| m.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    assert_eq!(total, 334);
}

#[test]
fn ids_print_as_unique_prefixes_that_commands_accept() {
    let db = Db::demo();
    let out = db.run(&["pending"]).ok().to_owned();
    let short = out
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_default()
        .to_owned();
    assert!(short.len() >= 8 && short.len() < 36, "{short}");
    let full = db.json(&["show", &short])["action"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(full.starts_with(&short));
    assert_eq!(items(&db.json(&["pending"]))[0]["id"], full.as_str());
    let other = actionctl(&db.path, &["show", &full]);
    assert_eq!(other.code, 0);
}

/// `actionctl --json whoami` with only these environment variables changed
/// (and no ACTIONCENTER_ACTOR).
fn whoami_with(env: &[(&str, Option<&str>)]) -> Value {
    let db = Db::demo();
    let mut c = command(&db.path);
    c.env_remove("ACTIONCENTER_ACTOR")
        .args(["--json", "whoami"]);
    for (key, value) in env {
        match value {
            Some(v) => c.env(key, v),
            None => c.env_remove(key),
        };
    }
    let output = c.output().unwrap_or_else(|e| panic!("run: {e}"));
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap_or_default()
}

#[cfg(unix)]
#[test]
fn without_user_or_logname_you_are_your_os_account() {
    let me = whoami_with(&[("USER", None), ("LOGNAME", None)]);
    assert_eq!(me["account"], os_account().as_str());
    assert_eq!(me["principal"]["id"], os_account().as_str());
}

#[cfg(unix)]
#[test]
fn user_and_logname_do_not_change_who_you_are() {
    let me = whoami_with(&[("USER", Some("mallory")), ("LOGNAME", Some("mallory"))]);
    assert_eq!(me["principal"]["id"], os_account().as_str());
}
