//! `actionctl propose`: a manual response by the acting principal, under
//! the library's rules.

mod common;

use common::Db;
use serde_json::json;

#[test]
fn a_manual_isolation_is_approved_at_once_and_recorded_as_yours() {
    let db = Db::demo();
    let run = db.run(&[
        "--json",
        "propose",
        "isolate_device",
        "--device-id",
        "FIN-LT-099",
        "--device-name",
        "finance laptop",
        "-m",
        "beaconing to C2",
        "--investigation",
        "inv-2041",
        "--param",
        "isolation=full",
    ]);
    let out = run.json();
    let action = &out["action"];
    let id = action["id"].as_str().unwrap_or_default();
    assert_eq!(action["status"], "approved");
    assert_eq!(action["kind"], "isolate_device");
    assert_eq!(
        action["entity"],
        json!({"type": "device", "device_id": "FIN-LT-099", "name": "finance laptop"})
    );
    assert_eq!(
        action["source"],
        json!({"type": "manual_response", "person": "carol"})
    );
    assert_eq!(action["created_by"], "carol");
    assert_eq!(action["investigation_id"], "inv-2041");
    assert_eq!(action["parameters"], json!({"isolation": "full"}));
    assert_eq!(action["decisions"][0]["by"], "carol");
    assert_eq!(action["decisions"][0]["comment"], "beaconing to C2");
    let short = out["short_id"].as_str().unwrap_or_default();
    assert!(short.len() >= 8 && id.starts_with(short), "{short} of {id}");
    let events = db.json(&["show", short])["events"].clone();
    assert_eq!(events[0]["event"], "propose");
    assert_eq!(events[0]["comment"], "beaconing to C2");
}

#[test]
fn the_plain_output_names_the_new_action_by_its_short_id() {
    let db = Db::demo();
    let run = db.run(&["propose", "disable_user", "--user", "j.doe@contoso.com"]);
    let out = run.ok();
    let a = db.one("the new disable_user", |a| {
        a["source"]["type"] == "manual_response" && a["kind"] == "disable_user"
    });
    let id = a["id"].as_str().unwrap_or_default();
    let first = out.lines().next().unwrap_or_default();
    let short = first
        .strip_prefix("Proposed ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_default();
    assert!(short.len() >= 8 && id.starts_with(short), "{out}");
    assert_eq!(
        first,
        format!("Proposed {short} (disable_user, j.doe@contoso.com): now approved")
    );
    assert_eq!(a["status"], "approved");
}

#[test]
fn a_missing_entity_field_is_refused_and_changes_nothing() {
    let db = Db::demo();
    let before = db.snapshot();
    let run = db.run(&[
        "propose",
        "quarantine_file",
        "--path",
        "C:\\x.exe",
        "--device-id",
        "dev-7",
    ]);
    run.fails(6, "error: invalid entity: missing field `sha256`");
    assert_eq!(run.stdout, "");
    assert_eq!(db.snapshot(), before);
}

#[test]
fn an_entity_the_kind_does_not_act_on_is_refused_and_changes_nothing() {
    let db = Db::demo();
    let before = db.snapshot();
    let run = db.run(&["propose", "isolate_device", "--user", "bob"]);
    run.fails(
        6,
        "error: invalid entity: isolate_device acts on a device, not on a user",
    );
    assert_eq!(run.stdout, "");
    assert_eq!(db.snapshot(), before);
}

#[test]
fn a_device_name_for_a_service_is_refused_not_dropped() {
    let db = Db::demo();
    let before = db.snapshot();
    for (kind, option) in [
        ("stop_service", "--service"),
        ("disable_driver", "--driver"),
        ("remove_scheduled_task", "--task"),
    ] {
        let run = db.run(&[
            "propose",
            kind,
            "--device-id",
            "dev-zz",
            option,
            "Spooler",
            "--device-name",
            "MYHOST",
        ]);
        assert_eq!(run.code, 64, "{kind}: {run:?}");
        assert!(
            run.stderr.contains("--device-name names a device"),
            "{kind}: {run:?}"
        );
    }
    assert_eq!(db.snapshot(), before);
}

#[test]
fn proposing_without_the_permission_is_refused_and_changes_nothing() {
    let db = Db::demo();
    db.set_policy(
        r#"{"roles": {"viewer": {"view": ["*"]}, "responder": {"view": ["*"], "propose": ["*"]}},
            "principals": {"vera": ["viewer"], "rita": ["responder"]}}"#,
    );
    let before = db.snapshot();
    let args = ["propose", "isolate_device", "--device-id", "dev-1"];
    let as_vera = [&["--as", "vera"][..], &args[..]].concat();
    db.run(&as_vera)
        .fails(3, "error: vera may not propose device actions");
    // A manual response is its proposer's approval: Propose alone is not enough.
    let as_rita = [&["--as", "rita"][..], &args[..]].concat();
    db.run(&as_rita)
        .fails(3, "error: rita may not approve device actions");
    assert_eq!(db.snapshot(), before);
}

#[test]
fn a_parameter_without_a_value_is_a_usage_error() {
    let db = Db::demo();
    let before = db.snapshot();
    db.run(&["propose", "isolate_device", "--device-id", "d", "--param", "x"])
        .fails(
            64,
            "error: invalid value 'x' for '--param <KEY=VALUE>': \"x\" is not KEY=VALUE (see actionctl --help)",
        );
    assert_eq!(db.snapshot(), before);
}

#[test]
fn help_explains_the_entity_fields_per_kind() {
    let db = Db::none();
    let help = db.run(&["propose", "--help"]);
    let text = help.ok();
    for needle in [
        "--sha256 HEX --path PATH --device-id ID",
        "--cluster-id ID [--query TEXT], or --address MAILBOX",
        "disable_user, enable_user            --user ID",
        "--service NAME --device-id ID",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}
