//! Bad input: every refusal is one line on standard error, a documented
//! exit code, and an unchanged database.

mod common;

use common::{Db, shared_prefix};

#[test]
fn unknown_id_is_not_found() {
    let db = Db::demo();
    let before = db.snapshot();
    db.run(&["approve", "ffffffff"])
        .fails(1, "error: action ffffffff not found");
    db.run(&["show", "ffffffff-ffff-7fff-bfff-ffffffffffff"])
        .fails(
            1,
            "error: action ffffffff-ffff-7fff-bfff-ffffffffffff not found",
        );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn one_unknown_id_among_several_changes_nothing() {
    let db = Db::demo();
    let pending = db.id("stop_service", "pending");
    let before = db.snapshot();
    db.run(&["approve", &pending, "ffffffff"])
        .fails(1, "error: action ffffffff not found");
    assert_eq!(db.snapshot(), before);
}

#[test]
fn ambiguous_prefix_lists_the_candidates() {
    let db = Db::demo();
    let ids: Vec<String> = db
        .actions()
        .iter()
        .filter_map(|a| a["id"].as_str().map(str::to_owned))
        .collect();
    let prefix = shared_prefix(&ids);
    assert!(prefix.len() >= 4, "{prefix}");
    let mut candidates: Vec<&String> = ids.iter().filter(|id| id.starts_with(&prefix)).collect();
    candidates.sort();
    let shown: Vec<&str> = candidates.iter().take(5).map(|s| s.as_str()).collect();
    let more = if candidates.len() > 5 { ", ..." } else { "" };
    let before = db.snapshot();
    db.run(&["approve", &prefix]).fails(
        6,
        &format!(
            "error: invalid id: prefix \"{prefix}\" is ambiguous: {}{more}",
            shown.join(", ")
        ),
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn malformed_id_is_a_validation_error() {
    let db = Db::demo();
    db.run(&["show", "xyz"]).fails(
        6,
        "error: invalid id: \"xyz\" is neither an id nor a prefix of 4 to 32 hex digits",
    );
}

#[test]
fn wrong_state_is_an_invalid_transition() {
    let db = Db::demo();
    let id = db.id("isolate_device", "completed");
    let before = db.snapshot();
    db.run(&["approve", &id]).fails(
        2,
        &format!("error: cannot approve action {id}: it is completed"),
    );
    db.run(&["cancel", &id, "-m", "late"]).fails(
        2,
        &format!("error: cannot cancel action {id}: it is completed"),
    );
    assert_eq!(db.snapshot(), before);
}

/// Stores a policy with a viewer (vera) and analysts (dana, carol, alice) as the
/// database's next version.
fn set_policy(db: &Db) {
    db.set_policy(
        r#"{"roles": {"viewer": {"view": ["*"]},
                      "analyst": {"view": ["*"], "approve": ["*"], "cancel": ["*"], "undo": ["*"]}},
            "principals": {"vera": ["viewer"], "dana": ["analyst"], "carol": ["analyst"],
                           "alice": ["analyst"]}}"#,
    );
}

#[test]
fn missing_permission_names_it() {
    let db = Db::demo();
    set_policy(&db);
    let id = db.id("isolate_device", "pending");
    let before = db.snapshot();
    db.run(&["--as", "vera", "approve", &id])
        .fails(3, "error: vera may not approve device actions");
    let file = db.id("quarantine_file", "pending");
    db.run(&["--as", "vera", "reject", &file, "-m", "no"])
        .fails(3, "error: vera may not approve file actions");
    assert_eq!(db.snapshot(), before);
    // A viewer still sees everything.
    let run = db.run(&["--as", "vera", "pending"]);
    assert!(run.ok().ends_with("9 in all.\n"), "{run:?}");
}

/// Why an actor the stored policy does not name is refused, as every command says it.
const UNNAMED: &str = "(mallory is not among the principals of the stored policy)";

#[test]
fn actor_missing_from_the_policy_file_has_no_roles() {
    let db = Db::demo();
    set_policy(&db);
    db.run(&["--as", "mallory", "pending"]).fails(
        3,
        &format!("error: mallory may not view any actions {UNNAMED}"),
    );
}

#[test]
fn approve_by_an_actor_missing_from_the_policy_file_says_why_too() {
    let db = Db::demo();
    set_policy(&db);
    let id = db.id("disable_user", "pending");
    let before = db.snapshot();
    db.run(&["--as", "mallory", "approve", &id]).fails(
        3,
        &format!("error: mallory may not view any actions {UNNAMED}"),
    );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn self_approval_is_refused() {
    let db = Db::demo();
    set_policy(&db);
    let id = db.id("release_device", "pending");
    let before = db.snapshot();
    db.run(&["--as", "dana", "approve", &id]).fails(
        4,
        &format!("error: dana proposed action {id} and may not approve it"),
    );
    assert_eq!(db.snapshot(), before);
    // Another analyst may.
    db.run(&["--as", "alice", "approve", &id]).ok();
}

#[test]
fn errors_are_json_on_one_line_with_json() {
    let db = Db::demo();
    let run = db.run(&["--json", "approve", "ffffffff"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "");
    let err: serde_json::Value = serde_json::from_str(run.error_line()).unwrap_or_default();
    assert_eq!(
        err,
        serde_json::json!({"kind": "not_found", "code": 1, "id": "ffffffff",
                           "message": "action ffffffff not found", "retryable": false})
    );
    let usage = db.run(&["--json", "pending", "--bogus"]);
    assert_eq!(usage.code, 64);
    let err: serde_json::Value = serde_json::from_str(usage.error_line()).unwrap_or_default();
    assert_eq!(err["kind"], "usage");
}

#[test]
fn a_file_that_is_not_a_database_is_refused_untouched() {
    let db = Db::none();
    let notes = db.file(
        "notes.txt",
        &"these are not the rows you are looking for\n".repeat(50),
    );
    let before = std::fs::read(&notes).unwrap_or_default();
    for args in [
        vec!["pending"],
        vec!["approve", "0190a6b2"],
        vec!["audit", "verify"],
        vec!["demo"],
        vec!["demo", "--fresh"],
    ] {
        common::actionctl(&notes, &args).fails(
            8,
            &format!(
                "error: storage: {} is not an actioncenter database (file is not a database)",
                notes.display()
            ),
        );
    }
    assert_eq!(std::fs::read(&notes).unwrap_or_default(), before);
}

#[test]
fn a_corrupted_database_is_a_storage_error_and_is_left_as_it_was() {
    let db = Db::demo();
    // Let the demo's last writes reach the main file, then damage pages in its middle.
    db.run(&["counts"]).ok();
    let mut bytes = db.bytes();
    assert!(bytes.len() > 16 * 4096, "{} bytes", bytes.len());
    for b in &mut bytes[3 * 4096..13 * 4096] {
        *b = 0xab;
    }
    std::fs::write(&db.path, &bytes).unwrap_or_else(|e| panic!("write: {e}"));
    for wal in ["-wal", "-shm"] {
        let mut p = db.path.clone().into_os_string();
        p.push(wal);
        let _ = std::fs::remove_file(p);
    }
    for args in [["history", "--status", "all"], ["audit", "verify", ""]] {
        let args: Vec<&str> = args.into_iter().filter(|a| !a.is_empty()).collect();
        let run = db.run(&args);
        assert_eq!(run.code, 8, "{args:?}: {run:?}");
        assert!(run.error_line().starts_with("error: storage: "), "{run:?}");
    }
    assert_eq!(db.bytes(), bytes);
}

#[test]
fn a_missing_database_is_not_created_by_a_view() {
    let db = Db::none();
    db.run(&["pending"]).fails(
        8,
        &format!(
            "error: storage: no database at {}: create a sample with `actionctl demo`, or name one with --db or ACTIONCENTER_DB",
            db.path.display()
        ),
    );
    assert!(!db.path.exists());
}

#[test]
fn an_empty_file_is_no_database_either() {
    // SQLite makes a database of an empty file: a view wrote the schema
    // and the bare bootstrap policy into it, which no one could then
    // administer.
    let db = Db::none();
    std::fs::write(&db.path, b"").unwrap_or_else(|e| panic!("write: {e}"));
    for args in [&["pending"][..], &["audit", "verify"][..]] {
        db.run(args).fails(
            8,
            &format!(
                "error: storage: no database at {} (an empty file): create a sample with `actionctl demo`, or name one with --db or ACTIONCENTER_DB",
                db.path.display()
            ),
        );
    }
    assert_eq!(db.bytes(), Vec::<u8>::new());
    // `demo` still makes one of it.
    assert_eq!(db.run(&["demo"]).code, 0);
    assert_eq!(db.run(&["pending"]).code, 0);
}

#[test]
fn a_sqlite_file_without_tables_is_no_database_either() {
    // Not empty: a SQLite file whose tables were all dropped. A view wrote
    // the schema and the bootstrap policy into it too.
    let db = Db::none();
    let conn = rusqlite::Connection::open(&db.path).unwrap_or_else(|e| panic!("open: {e}"));
    conn.execute_batch("CREATE TABLE t (x); DROP TABLE t;")
        .unwrap_or_else(|e| panic!("sql: {e}"));
    drop(conn);
    let before = db.bytes();
    assert!(!before.is_empty());
    for args in [&["pending"][..], &["audit", "verify"][..], &["whoami"][..]] {
        db.run(args).fails(
            8,
            &format!(
                "error: storage: {} holds no actioncenter tables (is this the right file?)",
                db.path.display()
            ),
        );
    }
    assert_eq!(db.bytes(), before, "the file was written");
    assert_eq!(db.run(&["demo"]).code, 0);
    assert_eq!(db.run(&["pending"]).code, 0);
}

#[test]
fn an_empty_global_option_is_a_usage_error_like_an_empty_db() {
    let db = Db::demo();
    for (env, args) in [
        ("ACTIONCENTER_ACTOR", &["whoami"][..]),
        ("ACTIONCENTER_POSTGRES", &["counts"][..]),
    ] {
        let run = db.run_env(args, env, "");
        assert_eq!(run.code, 64, "{env}: {run:?}");
        assert!(run.stderr.contains("a value is required"), "{env}: {run:?}");
    }
    let run = db.run(&["--as", "", "whoami"]);
    assert_eq!(run.code, 64, "{run:?}");
}

#[test]
fn usage_errors_are_one_line_with_code_64() {
    let db = Db::demo();
    db.run(&["frobnicate"]).fails(
        64,
        "error: unrecognized subcommand 'frobnicate' (see actionctl --help)",
    );
    db.run(&["approve"]).fails(
        64,
        "error: the following required arguments were not provided: <ID>... (see actionctl --help)",
    );
}

#[test]
fn bad_filter_values_are_validation_errors() {
    let db = Db::demo();
    db.run(&["history", "--status", "done"])
        .fails(6, "error: invalid status: unknown status \"done\"");
    db.run(&["pending", "--kind", "reboot"])
        .fails(6, "error: invalid kind: unknown kind \"reboot\"");
    db.run(&["pending", "--since", "yesterday"]).fails(
        6,
        "error: invalid since: \"yesterday\" is not a time: use 2025-06-01, 2025-06-01T10:00:00Z, or an age such as 30m, 12h, 7d, 2w",
    );
    db.run(&["pending", "--limit", "0"])
        .fails(6, "error: invalid limit: must be between 1 and 1000, got 0");
}

#[test]
fn an_option_given_with_nothing_in_it_is_refused_and_changes_nothing() {
    let db = Db::demo();
    let before = db.snapshot();
    // An unset shell variable: `--investigation "$INV"`. Read as "any", a
    // bulk approval would reach every pending action; read as "none", a
    // view would say there is nothing.
    db.run(&["approve", "--investigation", "", "-m", "ok"])
        .fails(
            6,
            "error: invalid filter.investigation_id: must not be empty",
        );
    db.run(&["history", "--status", ""]).fails(
        6,
        "error: invalid status: names nothing: give one or more, comma separated",
    );
    db.run(&["pending", "--kind", ","]).fails(
        6,
        "error: invalid kind: names nothing: give one or more, comma separated",
    );
    db.run(&["pending", "--source", ""]).fails(
        6,
        "error: invalid source: names nothing: give one or more, comma separated",
    );
    db.run(&["history", "--created-by", ""])
        .fails(6, "error: invalid filter.created_by: must not be empty");
    db.run(&["history", "--decided-by", " "])
        .fails(6, "error: invalid filter.decided_by: must not be empty");
    assert_eq!(db.snapshot(), before);
}
