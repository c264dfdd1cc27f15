//! The README's Rust example, run as it is written: the test fails if the
//! README and this copy drift apart.
#![allow(clippy::unwrap_used)]

use actioncenter::*;

const EXAMPLE: &str = include_str!("readme_example.txt");

#[test]
fn the_readme_shows_this_example() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme.split("<!-- BEGIN rust -->").nth(1).unwrap();
    let code = section
        .split("```rust\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    assert_eq!(
        code, EXAMPLE,
        "README.md's Rust example differs from core/tests/readme_example.txt"
    );
}

#[test]
fn the_readme_example_runs() -> Result<()> {
    let dir = tempfile::tempdir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();

    // A new database stores the default policy as its first version.
    let center = ActionCenter::open_sqlite("actioncenter.db")?;
    let air = Principal::new("air", ["automation"]);
    let alice = Principal::new("alice", ["analyst"]);
    let agent = Principal::new("agent-1", ["executor"]);

    let action = center.propose(
        &air,
        Proposal::new(
            Kind::IsolateDevice,
            Entity::Device {
                device_id: "dev-42".into(),
                name: None,
            },
            Source::AutomatedInvestigation {
                investigation_id: "inv-7".into(),
            },
        )
        .with_idempotency_key("inv-7/isolate/dev-42"),
    )?; // Pending
    center.approve(&alice, action.id, &Decide::default().seen(action.version))?; // Approved
    for a in center.claim(
        &agent,
        &ClaimRequest {
            limit: 10,
            lease_seconds: 300,
            kinds: None,
        },
    )? {
        let token = a.lease_token().unwrap_or_default(); // this claim's fencing token
        center.complete(&agent, a.id, token, serde_json::json!({"isolated": true}))?;
    }
    let key = checkpoint::generate_key()?; // keep it outside the database
    center.checkpoint(&Principal::new("root", ["admin"]), &key)?;
    let report = center.verify_audit_with(&VerifyOptions {
        public_key: Some(key.verifying_key()),
        checkpoint: None,
    })?;
    assert!(report.is_intact(), "{:?}", report.problem());
    Ok(())
}
