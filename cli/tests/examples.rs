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
    let path = format!("{}/../examples/policy.json", env!("CARGO_MANIFEST_DIR"));
    let db = Db::none();
    let bob = db.json(&["--policy", &path, "--as", "bob", "whoami"]);
    assert_eq!(
        bob,
        serde_json::json!({"id": "bob", "roles": ["analyst", "identity"]})
    );
}
