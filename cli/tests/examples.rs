//! The files the README shows, as a newcomer would use them.

mod common;

use common::*;

fn repo_file(path: &str) -> String {
    let full = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("read {full}: {e}"))
}

#[test]
fn the_example_policy_passes_policy_check() {
    let path = format!("{}/../examples/policy.json", env!("CARGO_MANIFEST_DIR"));
    let db = Db::none();
    let run = db.run(&["policy", "check", &path]);
    assert_eq!(
        run.ok(),
        format!(
            "{path}: valid policy with 6 roles: admin, analyst, automation, executor, identity, viewer\n"
        )
    );
}

#[test]
fn the_readme_shows_the_example_policy_as_it_is() {
    let policy = repo_file("examples/policy.json");
    let readme = repo_file("README.md");
    assert!(
        readme.contains(&format!("```json\n{policy}```\n")),
        "README.md does not show examples/policy.json verbatim"
    );
}

#[test]
fn the_example_policy_gives_its_principals_their_roles() {
    let db = Db::demo();
    db.set_policy(&repo_file("examples/policy.json"));
    let bob = db.json(&["--as", "bob", "whoami"]);
    assert_eq!(
        bob["principal"]["roles"],
        serde_json::json!(["analyst", "identity"])
    );
}

/// The example of docs/json.md marked `<!-- shape: NAME -->`.
fn documented_shape(name: &str) -> serde_json::Value {
    let doc = repo_file("docs/json.md");
    let marker = format!("<!-- shape: {name} -->");
    let body = doc
        .split_once(&marker)
        .and_then(|(_, rest)| rest.split_once("```json\n"))
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(body, _)| body)
        .unwrap_or_else(|| panic!("docs/json.md has no {marker}"));
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{marker}: {e}"))
}

/// The sorted keys of an object.
fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = v
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

#[test]
fn show_json_is_the_documented_shape() {
    let db = Db::demo();
    let id = db.id("remove_registry_key", "failed");
    let shown = db.json(&["show", &id]);
    assert_eq!(keys(&shown), keys(&documented_shape("show")));
    let action: actioncenter::Action =
        serde_json::from_value(shown["action"].clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(action.id.to_string(), id);
    let events: Vec<actioncenter::AuditEvent> =
        serde_json::from_value(shown["events"].clone()).unwrap_or_else(|e| panic!("{e}"));
    assert!(events.iter().all(|e| e.action_id == Some(action.id)));
}

#[test]
fn events_json_is_the_documented_shape() {
    let db = Db::demo();
    let batch = db.json(&["events", "--limit", "3"]);
    assert_eq!(keys(&batch), keys(&documented_shape("events")));
    assert_eq!(batch["next_since"], 3);
    let events: Vec<actioncenter::AuditEvent> =
        serde_json::from_value(batch["items"].clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(events.len(), 3);
}

#[test]
fn list_json_is_the_documented_page() {
    let db = Db::demo();
    let page = db.json(&["pending", "--limit", "2"]);
    assert_eq!(keys(&page), keys(&documented_shape("Page")));
    let page: actioncenter::Page = serde_json::from_value(page).unwrap_or_else(|e| panic!("{e}"));
    assert!(page.next_cursor.is_some());
}

#[test]
fn propose_json_is_the_documented_shape() {
    let db = Db::demo();
    let proposed = db.json(&["propose", "block_url", "--url", "https://evil.example/x"]);
    assert_eq!(keys(&proposed), keys(&documented_shape("propose")));
    let action: actioncenter::Action =
        serde_json::from_value(proposed["action"].clone()).unwrap_or_else(|e| panic!("{e}"));
    let short = proposed["short_id"].as_str().unwrap_or_default();
    assert!(action.id.to_string().starts_with(short) && short.len() >= 8);
}

#[test]
fn token_create_json_is_the_documented_shape() {
    let db = Db::demo();
    let created = db.admin_json(&["token", "create", "--principal", "edr-agent"]);
    assert_eq!(keys(&created), keys(&documented_shape("token-create")));
    let token: actioncenter::identity::Credential =
        serde_json::from_value(created["token"].clone()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(token.principal, "edr-agent");
    assert!(token.hash.is_empty(), "the hash is never shown");
}
