//! Who acts, what the database's own policy allows, and a record that
//! proves itself, through the command line.

mod common;

use common::{Db, os_account};
use serde_json::Value;

/// A policy giving the account running the tests the analyst role only
/// (no administer: sam administers), with an isolation quorum of two.
fn analyst_only_policy(db: &Db) -> String {
    let me = os_account();
    let policy = serde_json::json!({
        "roles": {
            "analyst": {"view": ["*"], "propose": ["*"], "approve": ["*"], "cancel": ["*"], "undo": ["*"]},
            "automation": {"view": ["*"], "propose": ["*"]},
            "executor": {"view": ["*"], "execute": ["*"]},
            "admin": {"administer": ["*"]}
        },
        "principals": {me: ["analyst"], "carol": ["analyst"], "air": ["automation"], "sam": ["admin"]},
        "kinds": {"isolate_device": {"quorum": 2}}
    });
    db.file("analyst.json", &policy.to_string())
        .to_string_lossy()
        .into_owned()
}

#[test]
fn acting_as_another_needs_administer_so_one_person_cannot_make_a_quorum() {
    let db = Db::demo();
    let file = analyst_only_policy(&db);
    db.run_as_me(&["policy", "set", &file, "-m", "the account an analyst"])
        .ok();
    let id = db.id("isolate_device", "pending");
    let me = os_account();
    // The account approves once; it cannot come back as someone else.
    let first = db.run_as_me(&["--json", "approve", &id]).json();
    assert_eq!(first[0]["action"]["status"], "pending");
    let before = db.snapshot();
    db.run(&["approve", &id]).fails(
        3,
        &format!(
            "error: {me} may not administer device actions (acting as carol needs administer on every category)"
        ),
    );
    db.run_as_me(&["approve", &id]).fails(
        6,
        &format!(
            "error: invalid principal: {me} already approved action {id}; the quorum needs distinct approvers"
        ),
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn an_administrator_acting_as_someone_is_recorded_as_both() {
    let db = Db::demo();
    let id = db.id("stop_service", "pending");
    db.run(&["approve", &id, "-m", "confirmed"]).ok();
    let show = db.json(&["show", &id]);
    let last = show["events"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .unwrap_or_default();
    let me = os_account();
    assert_eq!(
        (last["actor"].as_str(), last["via"].as_str()),
        (Some("carol"), Some(me.as_str()))
    );
    assert_eq!(show["action"]["decisions"][0]["via"], me.as_str());
    let human = db.run(&["show", &id]).ok().to_owned();
    assert!(human.contains(&format!("{me} as carol")), "{human}");
}

#[test]
fn names_that_only_look_like_another_are_refused() {
    let db = Db::demo();
    let before = db.snapshot();
    db.run(&["--as", "system ", "pending"]).fails(
        6,
        "error: invalid principal.id: \"system \" starts or ends with white space",
    );
    let run = db.run(&["--as", "ali\u{202e}ce", "pending"]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(run.error_line().contains("U+202E"), "{run:?}");
    assert!(
        !run.stderr.contains('\u{202e}'),
        "the character itself reached the terminal"
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn the_same_action_twice_is_refused_as_a_duplicate() {
    let db = Db::demo();
    let args = [
        "propose",
        "isolate_device",
        "--device-id",
        "LAB-PC-1",
        "-m",
        "beaconing",
    ];
    db.run(&args).ok();
    let before = db.snapshot();
    let run = db.run(&args);
    assert_eq!(run.code, 9, "{run:?}");
    assert!(
        run.error_line()
            .starts_with("error: action is already in progress: isolate_device on LAB-PC-1 is "),
        "{run:?}"
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn an_edited_action_row_breaks_the_audit() {
    let db = Db::demo();
    let rejected = db.one("the rejected action", |a| a["status"] == "rejected");
    let id = rejected["id"].as_str().unwrap_or_default().to_owned();
    let conn = rusqlite::Connection::open(&db.path).unwrap_or_else(|e| panic!("open: {e}"));
    conn.execute(
        "UPDATE actions SET status = 'approved', doc = json_set(doc, '$.status', 'approved') WHERE id = ?1",
        [&id],
    )
    .unwrap_or_else(|e| panic!("tamper: {e}"));
    drop(conn);
    let run = db.run(&["audit", "verify"]);
    assert_eq!(run.code, 20, "{run:?}");
    assert!(
        run.error_line().starts_with(&format!(
            "error: audit trail broken: action {id} is approved, its last event moved it to rejected"
        )),
        "{run:?}"
    );
}

#[test]
fn checkpoints_find_a_cut_tail_with_the_public_key_and_the_exported_copy() {
    let db = Db::demo();
    let key = db.dir.path().join("audit.key");
    let key_s = key.to_string_lossy().into_owned();
    let public = format!("{key_s}.pub");
    let made = db
        .run_as_me(&["audit", "keygen", "--out", &key_s])
        .ok()
        .to_owned();
    assert!(made.contains("mode 0600"), "{made}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_default();
        assert_eq!(mode, 0o600);
    }
    // An analyst may not sign; the administrator may.
    let before = db.snapshot();
    let run = db.run(&["audit", "checkpoint", "--key", &key_s]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(db.snapshot(), before);
    let exported = db.dir.path().join("cp.json");
    let exported_s = exported.to_string_lossy().into_owned();
    db.run_as_me(&["audit", "checkpoint", "--key", &key_s, "--out", &exported_s])
        .ok();
    // A taken export name refuses the command before anything is signed,
    // and a refused signer leaves no export file behind.
    let before = db.snapshot();
    let again = db.run_as_me(&["audit", "checkpoint", "--key", &key_s, "--out", &exported_s]);
    assert_eq!(again.code, 6, "{again:?}");
    let other = db.dir.path().join("other.json");
    let run = db.run(&[
        "audit",
        "checkpoint",
        "--key",
        &key_s,
        "--out",
        &other.to_string_lossy(),
    ]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(!other.exists(), "the refused command left its export file");
    assert_eq!(db.snapshot(), before);
    let ok = db
        .run(&[
            "audit",
            "verify",
            "--public-key",
            &public,
            "--checkpoint",
            &exported_s,
        ])
        .ok()
        .to_owned();
    assert!(ok.contains("2 checkpoints, signatures valid"), "{ok}");
    // A writer cuts the last events and the stored checkpoint.
    let cp: Value = serde_json::from_str(&std::fs::read_to_string(&exported).unwrap_or_default())
        .unwrap_or_default();
    let seq = cp["seq"].as_i64().unwrap_or_default();
    let conn = rusqlite::Connection::open(&db.path).unwrap_or_else(|e| panic!("open: {e}"));
    conn.execute_batch(&format!(
        "DELETE FROM events WHERE seq > {}; DELETE FROM checkpoints;",
        seq - 3
    ))
    .unwrap_or_else(|e| panic!("tamper: {e}"));
    drop(conn);
    let run = db.run(&[
        "--json",
        "audit",
        "verify",
        "--public-key",
        &public,
        "--checkpoint",
        &exported_s,
    ]);
    assert_eq!(run.code, 20, "{run:?}");
    let report: Value = serde_json::from_str(&run.stdout).unwrap_or_default();
    let problem = report["checkpoints"]["problem"]
        .as_str()
        .unwrap_or_default();
    assert!(problem.contains("events were cut"), "{report}");
    // A key file that is not a key is refused by name.
    let bad = db.file("bad.pub", "not a key");
    let run = db.run(&["audit", "verify", "--public-key", &bad.to_string_lossy()]);
    assert_eq!(run.code, 6, "{run:?}");
}

#[test]
fn the_policy_is_the_databases_and_changes_are_audited() {
    let db = Db::demo();
    let mine = serde_json::json!({
        "roles": {"admin": {"administer": ["*"]}},
        "principals": {os_account(): ["admin"]},
    });
    let file = db.file("p.json", &mine.to_string());
    let file = file.to_string_lossy().into_owned();
    // An analyst may not change it.
    let before = db.snapshot();
    let run = db.run(&["policy", "set", &file]);
    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(db.snapshot(), before);
    // A policy that fails validation is refused, naming the field.
    let invalid = db.file(
        "bad.json",
        r#"{"roles": {}, "kinds": {"isolate_device": {"quorum": 0}}}"#,
    );
    let run = db.run_as_me(&["policy", "set", &invalid.to_string_lossy()]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(
        run.error_line()
            .contains("policy.kinds.isolate_device.quorum"),
        "{run:?}"
    );
    assert_eq!(db.snapshot(), before);
    // --policy on an existing database is refused: it enforces its own.
    let run = db.run(&["--policy", &file, "pending"]);
    assert_eq!(run.code, 64, "{run:?}");
    // A stale expected version is a conflict.
    let run = db.run_as_me(&["policy", "set", &file, "--expect-version", "7"]);
    assert_eq!(run.code, 5, "{run:?}");
    // A policy nobody could change again is refused, and stores nothing.
    let locked = db.file("locked.json", r#"{"roles": {}}"#);
    let run = db.run_as_me(&["policy", "set", &locked.to_string_lossy()]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(
        run.error_line()
            .contains("nobody could change the policy again"),
        "{run:?}"
    );
    assert_eq!(db.snapshot(), before);
    let events = db.admin_json(&["events", "--limit", "1000"]);
    assert_eq!(events["items"][0]["event"], "set_policy");
}

#[test]
fn a_policy_the_demo_cannot_be_played_under_is_refused_before_anything_is_written() {
    // The README's example policy approves antivirus proposals at once;
    // the story approves one by hand. The demo failed halfway, leaving two
    // actions and a database the next `demo` refused.
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/policy.json");
    let db = Db::none();
    let run = db.run(&["--policy", example, "demo"]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(
        run.error_line().contains("cannot be played under")
            && run.error_line().contains("nothing was written"),
        "{run:?}"
    );
    assert!(!db.path.exists(), "no database made");
    // Nor is one that exists removed by --fresh for it.
    let db = Db::demo();
    let before = db.bytes();
    let run = db.run(&["--policy", example, "demo", "--fresh"]);
    assert_eq!(run.code, 6, "{run:?}");
    assert_eq!(db.bytes(), before);
    // (A policy it can be played under starts one: views.rs.)
}

#[test]
fn reading_a_policy_stops_at_the_limit() {
    let db = Db::none();
    let run = db.run(&["--policy", "/dev/zero", "demo"]);
    assert_eq!(run.code, 6, "{run:?}");
    assert!(
        run.error_line().contains("more than 1048576 bytes"),
        "{run:?}"
    );
    assert!(!db.path.exists());
}
