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

#[test]
fn every_tagged_example_in_the_schema_doc_round_trips() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/json.md")).unwrap();
    let mut checked = Vec::new();
    let mut rest = doc.as_str();
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
            "Policy" => {
                round_trip::<Policy>(name, body);
                Policy::from_json(body).unwrap();
            }
            other => panic!("docs/json.md names a type the test does not know: {other}"),
        }
        checked.push(name.to_owned());
    }
    assert_eq!(checked.len(), 11, "examples checked: {checked:?}");
}

#[test]
fn the_audit_example_hash_is_real() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/json.md")).unwrap();
    let body = doc.split_once("<!-- type: AuditEvent -->").unwrap().1;
    let body = body
        .split_once("```json\n")
        .unwrap()
        .1
        .split_once("```")
        .unwrap()
        .0;
    let event: AuditEvent = serde_json::from_str(body).unwrap();
    assert!(event.hash_matches());
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
            "category": "file", "message": "vera may not approve file actions" })
    );
}
