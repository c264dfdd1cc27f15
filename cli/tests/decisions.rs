//! The commands that change actions: approve, reject, cancel, retry, undo.

mod common;

use common::{Db, invoice_on};
use serde_json::Value;

fn status(db: &Db, id: &str) -> String {
    db.action(id)["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// `(kind, entity)` as the command line describes an action.
fn described(db: &Db, id: &str) -> String {
    let a: actioncenter::Action =
        serde_json::from_value(db.action(id)).unwrap_or_else(|e| panic!("action: {e}"));
    format!("({}, {})", a.kind, a.entity.describe())
}

/// The short id the command line prints for `id`.
fn short(db: &Db, id: &str) -> String {
    let history = db.run(&["history", "--status", "all", "--limit", "1000"]);
    history
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .find(|s| s.len() >= 8 && id.starts_with(s))
        .unwrap_or(id)
        .to_owned()
}

#[test]
fn approve_one_action_records_the_decision_and_the_actor() {
    let db = Db::demo();
    let id = db.id("isolate_device", "pending");
    let (s, what) = (short(&db, &id), described(&db, &id));
    let run = db.run(&["approve", &id, "-m", "confirmed by the SOC"]);
    assert_eq!(run.ok(), format!("Approved {s} {what}: now approved\n"));
    let a = db.action(&id);
    assert_eq!(a["status"], "approved");
    assert_eq!(a["decisions"][0]["by"], "carol");
    assert_eq!(a["decisions"][0]["comment"], "confirmed by the SOC");
    let events = db.json(&["show", &id])["events"].clone();
    let last = events
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (
            last["actor"].as_str(),
            last["event"].as_str(),
            last["to"].as_str()
        ),
        (Some("carol"), Some("approve"), Some("approved"))
    );
}

#[test]
fn approve_by_investigation_reports_each_action() {
    let db = Db::demo();
    let run = db.run(&["approve", "--investigation", "inv-2041", "--yes"]);
    let out = run.ok();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert_eq!(lines[0], "Acting on 2 actions of investigation inv-2041:");
    assert!(
        lines[3..5]
            .iter()
            .all(|l| l.starts_with("Approved ") && l.ends_with(": now approved"))
    );
    assert_eq!(lines[5], "2 of 2 succeeded.");
    assert_eq!(
        db.json(&["pending", "--investigation", "inv-2041"])["items"],
        serde_json::json!([])
    );
    let none = db.run(&["approve", "--investigation", "inv-9999", "--yes"]);
    assert_eq!(
        none.ok(),
        "No action of investigation inv-9999 can be approved.\n"
    );
}

#[test]
fn approve_several_with_one_in_the_wrong_state_is_partial() {
    let db = Db::demo();
    let pending = db.id("stop_service", "pending");
    let done = db.id("isolate_device", "completed");
    let run = db.run(&["approve", &pending, &done]);
    assert_eq!(run.code, 21, "{run:?}");
    assert_eq!(
        run.error_line(),
        format!(
            "error: {}: cannot approve action {done}: it is completed",
            short(&db, &done)
        )
    );
    assert!(run.stdout.ends_with("1 of 2 succeeded.\n"), "{run:?}");
    assert_eq!(status(&db, &pending), "approved");
    assert_eq!(status(&db, &done), "completed");
}

#[test]
fn approve_json_is_one_result_per_item_in_the_library_schema() {
    let db = Db::demo();
    let pending = db.id("stop_service", "pending");
    let done = db.id("isolate_device", "completed");
    let run = db.run(&["--json", "approve", &pending, &done]);
    assert_eq!(run.code, 21);
    assert_eq!(run.stderr, "");
    let items: Value = serde_json::from_str(&run.stdout).unwrap_or_default();
    assert_eq!(items[0]["ok"], true);
    assert_eq!(items[0]["action"]["status"], "approved");
    assert_eq!(items[1]["ok"], false);
    assert_eq!(items[1]["error"]["kind"], "invalid_transition");
    assert_eq!(items[1]["error"]["code"], 2);
}

#[test]
fn several_items_failing_alike_keep_their_code() {
    let db = Db::demo();
    let a = db.id("stop_service", "pending");
    let b = db.id("remove_scheduled_task", "pending");
    let before = db.snapshot();
    let run = db.run(&["reject", &a, &b]);
    assert_eq!(run.code, 6, "{run:?}");
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "error: {}: invalid comment: a comment is required",
                short(&db, &a)
            ),
            format!(
                "error: {}: invalid comment: a comment is required",
                short(&db, &b)
            ),
        ]
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn reject_with_a_comment() {
    let db = Db::demo();
    let id = db.id("block_url", "pending");
    let run = db.run(&["reject", &id, "-m", "known partner domain"]);
    assert!(run.ok().ends_with(": now rejected\n"), "{run:?}");
    let a = db.action(&id);
    assert_eq!(a["status"], "rejected");
    assert_eq!(a["decisions"][0]["verdict"], "reject");
    assert_eq!(a["decisions"][0]["comment"], "known partner domain");
}

#[test]
fn reject_without_a_comment_is_refused_and_changes_nothing() {
    let db = Db::demo();
    let id = db.id("block_url", "pending");
    let before = db.snapshot();
    db.run(&["reject", &id])
        .fails(6, "error: invalid comment: a comment is required");
    assert_eq!(db.snapshot(), before);
}

#[test]
fn cancel_an_approved_action() {
    let db = Db::demo();
    let id = db.id("restore_email", "approved");
    let before = db.snapshot();
    db.run(&["cancel", &id])
        .fails(6, "error: invalid comment: a comment is required");
    assert_eq!(db.snapshot(), before);
    db.run(&["cancel", &id, "-m", "mail restored by hand"]).ok();
    let a = db.action(&id);
    assert_eq!(a["status"], "cancelled");
    assert_eq!(a["cancellation"]["by"], "carol");
}

#[test]
fn retry_a_failed_action_then_not_twice() {
    let db = Db::demo();
    let id = db.id("remove_registry_key", "failed");
    let run = db.run(&["retry", &id, "-m", "protection lifted"]);
    assert!(run.ok().ends_with(": now approved\n"), "{run:?}");
    let before = db.snapshot();
    db.run(&["retry", &id]).fails(
        2,
        &format!("error: cannot retry action {id}: it is approved"),
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn undo_refuses_without_yes_when_no_one_can_answer() {
    let db = Db::demo();
    let id = invoice_on(&db, "FIN-LT-042");
    let before = db.snapshot();
    let run = db.run(&["undo", &id, "--all-instances", "-m", "false positive"]);
    assert_eq!(run.code, 64, "{run:?}");
    assert_eq!(
        run.error_line(),
        "error: undo changes 4 actions: pass --yes to confirm when standard input is not a terminal"
    );
    assert!(
        run.stdout.contains(
            "The same file is quarantined on 3 more devices: SALES-LT-023, ENG-LT-007, HR-WS-017.\n"
        ),
        "{run:?}"
    );
    assert!(
        run.stdout
            .contains("--all-instances: it will be restored on 3 more devices too.\n"),
        "{run:?}"
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn undo_all_instances_fans_out_to_every_device() {
    let db = Db::demo();
    let id = invoice_on(&db, "FIN-LT-042");
    let run = db.run(&[
        "undo",
        &id,
        "--all-instances",
        "-m",
        "false positive",
        "--yes",
    ]);
    let out = run.ok();
    assert!(
        out.ends_with("4 of 4 sent to undo; waiting for an executor.\n"),
        "{out}"
    );
    assert_eq!(out.matches(": now undoing\n").count(), 4, "{out}");
    for device in ["FIN-LT-042", "HR-WS-017", "ENG-LT-007", "SALES-LT-023"] {
        let a = db.action(&invoice_on(&db, device));
        assert_eq!(a["status"], "undoing", "{device}");
        assert_eq!(a["undo"]["inverse"], "restore_file");
        assert_eq!(a["undo"]["comment"], "false positive");
    }
    let other = db.action(&invoice_on(&db, "HR-WS-017"));
    assert_eq!(other["undo"]["fanned_out_from"], id.as_str());
}

#[test]
fn undo_one_instance_says_how_many_more_there_are() {
    let db = Db::demo();
    let id = invoice_on(&db, "ENG-LT-007");
    let run = db.run(&["--json", "undo", &id, "-m", "false positive", "-y"]);
    let report = run.json();
    assert_eq!(report["action"]["status"], "undoing");
    assert_eq!(report["instances"], serde_json::json!([]));
    assert_eq!(status(&db, &invoice_on(&db, "FIN-LT-042")), "completed");
    let human = db.run(&["undo", &invoice_on(&db, "FIN-LT-042"), "-m", "fp", "-y"]);
    assert!(
        human.ok().contains("The same file is quarantined on 2 more devices: SALES-LT-023, HR-WS-017.\nOnly this instance will be restored; add --all-instances for every device.\n"),
        "{human:?}"
    );
}

#[test]
fn undo_in_the_wrong_state_fails_before_asking() {
    let db = Db::demo();
    let id = db.id("isolate_device", "pending");
    let before = db.snapshot();
    db.run(&["undo", &id, "-m", "x"])
        .fails(2, &format!("error: cannot undo action {id}: it is pending"));
    assert_eq!(db.snapshot(), before);
}

#[test]
fn undo_of_a_kind_without_inverse_is_refused() {
    let db = Db::demo();
    let id = db.id("run_antivirus_scan", "completed");
    let before = db.snapshot();
    db.run(&["undo", &id, "-m", "x", "--yes"]).fails(
        6,
        "error: invalid kind: run_antivirus_scan actions cannot be undone",
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn undo_without_a_comment_is_refused_and_changes_nothing() {
    let db = Db::demo();
    let id = invoice_on(&db, "FIN-LT-042");
    let before = db.snapshot();
    let run = db.run(&["undo", &id, "--all-instances", "--yes"]);
    assert_eq!(run.code, 6, "{run:?}");
    assert_eq!(
        run.error_line(),
        "error: invalid comment: a comment is required"
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn approve_by_investigation_needs_a_confirmation_without_a_terminal() {
    let db = Db::demo();
    let before = db.snapshot();
    let run = db.run(&["approve", "--investigation", "inv-2041"]);
    assert_eq!(run.code, 64, "{run:?}");
    assert_eq!(
        run.error_line(),
        "error: approve changes 2 actions: pass --yes to confirm when standard input is not a terminal"
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn a_selection_that_changed_since_the_preview_is_refused() {
    let db = Db::demo();
    let preview = db.json(&["approve", "--investigation", "inv-2041", "--preview"]);
    assert_eq!(preview["count"], 2);
    let token = preview["snapshot"].as_str().unwrap_or_default().to_owned();
    // Another analyst rejects one of them after this one looked.
    let one = preview["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    db.run(&["--as", "alice", "reject", &one, "-m", "benign"])
        .ok();
    let before = db.snapshot();
    db.run(&["approve", "--investigation", "inv-2041", "--snapshot", &token])
        .fails(
            5,
            "error: the selection changed since it was previewed (2 actions then, 1 now); preview it again",
        );
    assert_eq!(db.snapshot(), before);
    // The preview shown in words carries the token too, and acts as shown.
    let shown = db.run(&["approve", "--investigation", "inv-2041", "--preview"]);
    let token = shown
        .ok()
        .lines()
        .find_map(|l| l.strip_prefix("Snapshot: "))
        .unwrap_or_default()
        .to_owned();
    let done = db.json(&[
        "approve",
        "--investigation",
        "inv-2041",
        "--snapshot",
        &token,
    ]);
    assert_eq!(done.as_array().map(Vec::len), Some(1));
}
