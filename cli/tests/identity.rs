//! Local accounts and API tokens through the command line: `user ...` and
//! `token ...`. Every refusal is core's, with its exit code, and leaves
//! the accounts and tokens as they were; no listing ever shows a password
//! hash or a token's secret or hash.

mod common;

use common::{Db, os_account};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery\n";

/// The password hashes and token hashes the database holds, read behind
/// the command line's back.
fn stored_hashes(db: &Db) -> Vec<String> {
    let conn = rusqlite::Connection::open(&db.path).unwrap_or_else(|e| panic!("open: {e}"));
    let mut hashes = Vec::new();
    for sql in [
        "SELECT password_hash FROM accounts",
        "SELECT hash FROM credentials",
        "SELECT csrf FROM credentials WHERE csrf <> ''",
    ] {
        let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        hashes.extend(rows.map(|r| r.unwrap_or_else(|e| panic!("{sql}: {e}"))));
    }
    hashes
}

fn user_ids(db: &Db) -> Vec<String> {
    db.admin_json(&["user", "list"])
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn tokens(db: &Db) -> Vec<Value> {
    db.admin_json(&["token", "list"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn an_administrator_adds_lists_disables_and_enables_accounts() {
    let db = Db::demo();
    db.run_as_me_with_input(&["user", "add", "alice", "--password-stdin"], PASSWORD)
        .ok();
    let run = db.run_as_me_with_input(&["user", "add", "bob", "--password-stdin"], PASSWORD);
    assert_eq!(run.ok(), "Added account bob\n");
    assert_eq!(user_ids(&db), ["alice", "bob"]);

    let listed = db.run_as_me(&["user", "list"]).ok().to_owned();
    let header: Vec<&str> = listed
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(
        header,
        ["ID", "STATUS", "CREATED", "BY", "CREATED", "UPDATED"]
    );
    assert!(listed.contains("alice  active"), "{listed}");

    let run = db.run_as_me(&["user", "disable", "bob"]);
    assert_eq!(
        run.ok(),
        "Disabled account bob: it cannot sign in, and its sessions and API tokens ended\n"
    );
    let shown = db.admin_json(&["user", "list"]);
    assert_eq!(
        (shown[1]["id"].as_str(), shown[1]["disabled"].as_bool()),
        (Some("bob"), Some(true))
    );
    assert_eq!(shown[1]["created_by"], os_account().as_str());
    let enabled = db.admin_json(&["user", "enable", "bob"]);
    assert_eq!(enabled["disabled"], false);
}

#[test]
fn without_administer_nothing_changes() {
    let db = Db::demo();
    db.run_as_me_with_input(&["user", "add", "alice", "--password-stdin"], PASSWORD)
        .ok();
    let token = db.admin_json(&["token", "create", "--principal", "edr-agent"]);
    let id = token["token"]["id"].as_str().unwrap_or_default().to_owned();
    let (users, before) = (user_ids(&db), tokens(&db));

    // Acting as carol, an analyst (the test command's default).
    let refused = |what: &str| {
        format!(
            "error: carol may not administer device actions ({what} needs administer on every category)"
        )
    };
    db.run_with_input(&["user", "add", "carol", "--password-stdin"], PASSWORD)
        .fails(3, &refused("adding an account"));
    db.run(&["user", "disable", "alice"])
        .fails(3, &refused("disabling an account"));
    db.run(&["user", "list"])
        .fails(3, &refused("listing accounts"));
    db.run(&["token", "create", "--principal", "carol"])
        .fails(3, &refused("creating an API token"));
    db.run(&["token", "list"])
        .fails(3, &refused("listing API tokens"));
    db.run(&["token", "revoke", &id])
        .fails(3, &refused("revoking an API token"));
    db.run_with_input(&["user", "passwd", "alice", "--password-stdin"], PASSWORD)
        .fails(3, &refused("setting another account's password"));

    assert_eq!(user_ids(&db), users);
    assert_eq!(tokens(&db), before);
}

#[test]
fn duplicates_short_passwords_and_strangers_are_refused() {
    let db = Db::demo();
    let add = |id: &str, password: &str| {
        db.run_as_me_with_input(&["user", "add", id, "--password-stdin"], password)
    };
    add("alice", PASSWORD).ok();
    add("alice", PASSWORD).fails(
        6,
        "error: invalid account.id: an account alice exists already",
    );
    add("bob", "too short\n").fails(6, "error: invalid password: must be at least 12 characters");
    // Not the administrator's permission: the account's principal is missing.
    add("mallory", PASSWORD).fails(
        6,
        "error: invalid account.id: mallory is not among the principals of the stored policy: add it to the policy first",
    );
    // No terminal to ask on and no --password-stdin: refused, not read.
    db.run_as_me(&["user", "add", "bob"]).fails(
        64,
        "error: standard input is not a terminal to ask for the password on: pass it on standard input with --password-stdin",
    );
    db.run_as_me(&["user", "disable", "ghost"])
        .fails(1, "error: account ghost not found");
    assert_eq!(user_ids(&db), ["alice"]);
}

#[test]
fn your_own_password_needs_no_administer() {
    let db = Db::demo();
    let me = os_account();
    db.run_as_me_with_input(&["user", "add", &me, "--password-stdin"], PASSWORD)
        .ok();
    db.run_as_me_with_input(&["user", "add", "alice", "--password-stdin"], PASSWORD)
        .ok();
    let policy = serde_json::json!({
        "roles": {"analyst": {"view": ["*"], "approve": ["*"]}, "admin": {"administer": ["*"]}},
        "principals": {me.clone(): ["analyst"], "alice": ["analyst"], "sam": ["admin"]},
    });
    let file = db.file("analysts.json", &policy.to_string());
    db.run_as_me(&["policy", "set", &file.to_string_lossy()])
        .ok();

    let run = db.run_as_me_with_input(
        &["user", "passwd", &me, "--password-stdin"],
        "another fine password\n",
    );
    assert_eq!(
        run.ok(),
        format!("Set the password of account {me}; its sessions ended\n")
    );
    let run = db.run_as_me_with_input(
        &["user", "passwd", "alice", "--password-stdin"],
        "another fine password\n",
    );
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.error_line()
            .contains("setting another account's password"),
        "{run:?}"
    );
}

#[test]
fn a_token_is_created_shown_once_listed_and_revoked() {
    let db = Db::demo();
    let run = db.run_as_me(&[
        "token",
        "create",
        "--principal",
        "edr-agent",
        "--label",
        "edr executor",
        "--ttl",
        "30d",
    ]);
    let text = run.ok().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines[0].starts_with("Created API token ")
            && lines[0].contains(" for edr-agent (edr executor), expires "),
        "{text}"
    );
    assert!(
        lines[1].starts_with("act_") && lines[1].len() == 68,
        "{text}"
    );
    let id = lines[0]
        .split_whitespace()
        .nth(3)
        .unwrap_or_default()
        .to_owned();

    let created = db.admin_json(&["token", "create", "--principal", "alice"]);
    let secret = created["secret"].as_str().unwrap_or_default();
    assert!(secret.starts_with("act_"), "{created}");
    assert_eq!(created["token"]["principal"], "alice");
    assert_eq!(created["token"]["revoked_at"], Value::Null);
    assert!(created["token"].get("hash").is_none(), "{created}");

    let listed = tokens(&db);
    assert_eq!(listed.len(), 2);
    assert_eq!(
        (listed[0]["id"].as_str(), listed[0]["label"].as_str()),
        (Some(id.as_str()), Some("edr executor"))
    );
    assert_eq!(
        db.run_as_me(&["token", "revoke", &id]).ok(),
        format!("Revoked API token {id}\n")
    );
    let listed = tokens(&db);
    assert!(listed[0]["revoked_at"].is_string(), "{listed:?}");
    assert!(listed[1]["revoked_at"].is_null(), "{listed:?}");
    let table = db.run_as_me(&["token", "list"]).ok().to_owned();
    let row = table
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_default();
    assert!(row.contains("revoked"), "{table}");

    // A second revocation, an unknown id and a malformed one.
    db.run_as_me(&["token", "revoke", &id])
        .fails(1, &format!("error: token {id} not found"));
    db.run_as_me(&["token", "revoke", "0190a6b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b"])
        .fails(
            1,
            "error: token 0190a6b2-3c4d-7e5f-8a9b-0c1d2e3f4a5b not found",
        );
    db.run_as_me(&["token", "revoke", "0190a6b2"]).fails(
        6,
        "error: invalid token.id: \"0190a6b2\" is not a token id (the ID column of `actionctl token list`)",
    );
    let json = db.run_as_me(&["--json", "token", "revoke", "nope"]);
    assert_eq!(json.code, 6, "{json:?}");
    let err: Value = serde_json::from_str(json.error_line()).unwrap_or_default();
    assert_eq!(
        (err["kind"].as_str(), err["field"].as_str()),
        (Some("validation"), Some("token.id"))
    );
}

#[test]
fn bad_lifetimes_and_principals_are_refused() {
    let db = Db::demo();
    let create = |args: &[&str]| {
        let mut all = vec!["token", "create"];
        all.extend_from_slice(args);
        db.run_as_me(&all)
    };
    create(&["--principal", "edr-agent", "--ttl", "400d"]).fails(
        6,
        "error: invalid token.ttl: must be more than 0 and at most 366 days",
    );
    create(&["--principal", "edr-agent", "--ttl", "soon"]).fails(
        6,
        "error: invalid ttl: \"soon\" is not a lifetime: use 30m, 12h, 90d or 2w",
    );
    create(&["--principal", "mallory"]).fails(
        6,
        "error: invalid token.principal: mallory is not among the principals of the stored policy: add it to the policy first",
    );
    assert!(tokens(&db).is_empty());
}

#[test]
fn no_listing_shows_a_hash_or_a_secret() {
    let db = Db::demo();
    db.run_as_me_with_input(&["user", "add", "alice", "--password-stdin"], PASSWORD)
        .ok();
    let created = db.admin_json(&["token", "create", "--principal", "edr-agent"]);
    let secret = created["secret"].as_str().unwrap_or_default().to_owned();
    let hashes = stored_hashes(&db);
    assert_eq!(hashes.len(), 2, "one password hash, one token hash");
    assert!(hashes[0].starts_with("$argon2id$"));
    assert_ne!(hashes[1], secret);

    let mut shown = Vec::new();
    for args in [
        &["user", "list"][..],
        &["--json", "user", "list"],
        &["token", "list"],
        &["--json", "token", "list"],
        &["user", "disable", "alice"],
        &["--json", "user", "enable", "alice"],
    ] {
        shown.push(db.run_as_me(args).ok().to_owned());
    }
    for out in &shown {
        assert!(!out.contains(&secret), "the secret in {out}");
        assert!(!out.contains("act_"), "a secret in {out}");
        assert!(!out.contains("password_hash"), "{out}");
        for hash in &hashes {
            assert!(!out.contains(hash.as_str()), "a stored hash in {out}");
        }
    }
}
