//! docs/json.md is the schema every binding speaks: each example tagged
//! with its type must parse as that type and re-serialize to the same JSON.
#![allow(clippy::unwrap_used)]

use actioncenter::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn round_trip<T: DeserializeOwned + Serialize>(name: &str, text: &str) {
    let parsed: T =
        parse_json(name, text).unwrap_or_else(|e| panic!("{name} example does not parse: {e}"));
    let again = serde_json::to_value(&parsed).unwrap();
    let original: Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        again, original,
        "{name} example does not re-serialize to itself"
    );
}

fn schema_doc() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/json.md")).unwrap()
}

/// Every `<!-- type: Name -->` example of the doc: its type name and its JSON text.
fn tagged_examples(doc: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = doc;
    while let Some(at) = rest.find("<!-- type: ") {
        rest = &rest[at + "<!-- type: ".len()..];
        let (name, after) = rest.split_once(" -->").unwrap();
        let body = after
            .split_once("```json\n")
            .unwrap()
            .1
            .split_once("```")
            .unwrap()
            .0;
        found.push((name.to_owned(), body.to_owned()));
    }
    found
}

#[test]
fn every_tagged_example_in_the_schema_doc_round_trips() {
    let doc = schema_doc();
    let mut checked = Vec::new();
    for (name, body) in tagged_examples(&doc) {
        let (name, body) = (name.as_str(), body.as_str());
        match name {
            "Proposal" => round_trip::<Proposal>(name, body),
            "Action" => round_trip::<Action>(name, body),
            "Filter" => round_trip::<Filter>(name, body),
            "PageRequest" => round_trip::<PageRequest>(name, body),
            "Decide" => round_trip::<Decide>(name, body),
            "ClaimRequest" => round_trip::<ClaimRequest>(name, body),
            "UndoRequest" => round_trip::<UndoRequest>(name, body),
            "BulkOp" => round_trip::<BulkOp>(name, body),
            "AuditEvent" => round_trip::<AuditEvent>(name, body),
            "Counts" => round_trip::<Counts>(name, body),
            "Account" => round_trip::<identity::Account>(name, body),
            "Credential" => round_trip::<identity::Credential>(name, body),
            "Policy" => {
                round_trip::<Policy>(name, body);
                Policy::from_json(body).unwrap();
            }
            other => panic!("docs/json.md names a type the test does not know: {other}"),
        }
        checked.push(name.to_owned());
    }
    assert_eq!(checked.len(), 14, "examples checked: {checked:?}");
}

fn audit_examples() -> Vec<AuditEvent> {
    tagged_examples(&schema_doc())
        .into_iter()
        .filter(|(name, _)| name == "AuditEvent")
        .map(|(_, body)| serde_json::from_str(&body).unwrap())
        .collect()
}

#[test]
fn the_audit_example_hashes_are_real() {
    for event in audit_examples() {
        assert!(event.hash_matches(), "event {} of docs/json.md", event.seq);
    }
}

/// The sorted keys of a JSON object.
fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[test]
fn documented_audit_events_have_the_keys_of_real_ones() {
    let center = ActionCenter::in_memory();
    let air = Principal::new("air", ["automation"]);
    let alice = Principal::new("alice", ["analyst"]);
    let device = Entity::Device {
        device_id: "dev-1".into(),
        name: None,
    };
    let source = Source::AutomatedInvestigation {
        investigation_id: "inv-1".into(),
    };
    let action = center
        .propose(&air, Proposal::new(Kind::IsolateDevice, device, source))
        .unwrap();
    center
        .approve(&alice, action.id, &Decide::with_comment("confirmed"))
        .unwrap();
    let real: Vec<Value> = center
        .history_of(&alice, action.id)
        .unwrap()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    // The creating event: `from` is there, as null; no comment, no key.
    assert_eq!(real[0]["from"], Value::Null);
    assert!(real[0].as_object().unwrap().contains_key("from"));
    assert!(!real[0].as_object().unwrap().contains_key("comment"));
    let documented: Vec<Value> = audit_examples()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    assert_eq!(documented.len(), 2);
    for (doc, real) in documented.iter().zip(&real) {
        assert_eq!(doc["event"], real["event"]);
        assert_eq!(keys(doc), keys(real), "the {} event", real["event"]);
        assert_eq!(doc["from"].is_null(), real["from"].is_null());
    }
}

#[test]
fn the_schema_doc_says_what_the_creating_event_holds() {
    let doc = schema_doc()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(doc.contains("`from` is `null` on the event that created the action"));
    assert!(doc.contains("but `comment`, which is left out when the event has none"));
}

#[test]
fn error_json_carries_kind_code_and_fields() {
    let err = Error::PermissionDenied {
        principal: "vera".into(),
        operation: Operation::Approve,
        category: Some(Category::File),
        detail: None,
    };
    assert_eq!(
        err.to_json(),
        serde_json::json!({ "kind": "permission_denied", "code": 3, "principal": "vera", "operation": "approve",
            "category": "file", "message": "vera may not approve file actions", "retryable": false })
    );
}
