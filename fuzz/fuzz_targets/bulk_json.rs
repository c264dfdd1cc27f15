//! A bulk request body (POST /api/v1/bulk, the bindings' bulk): the
//! operation, then either ids at versions or a filter and its snapshot,
//! read as the server reads it. Never a panic; what parses round-trips
//! and runs cleanly.
#![no_main]

use actioncenter::{
    ActionCenter, BulkOp, Filter, Principal, Seen, Selection, error::read_document, parse_json,
};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = read_document("bulk", data) else {
        return;
    };
    let Ok(mut body) = parse_json::<Map<String, Value>>("bulk", &text) else {
        return;
    };
    let ids = body.remove("ids");
    let filter = body.remove("filter");
    let snapshot = body.remove("snapshot");
    let Ok(op) = parse_json::<BulkOp>("bulk", &Value::Object(body).to_string()) else {
        return;
    };
    let op_back: BulkOp =
        parse_json("bulk", &serde_json::to_string(&op).expect("op")).expect("op parses");
    assert_eq!(op_back, op, "op round trip");
    let selection = match (ids, filter) {
        (Some(ids), None) => match parse_json::<Vec<Seen>>("bulk.ids", &ids.to_string()) {
            Ok(seen) => Selection::Ids(seen),
            Err(_) => return,
        },
        (None, Some(filter)) => {
            let Ok(filter) = Filter::from_json(&filter.to_string()) else {
                return;
            };
            let snapshot = match snapshot {
                Some(Value::String(s)) => s,
                _ => String::new(),
            };
            Selection::Filter { filter, snapshot }
        }
        _ => return,
    };
    let sel_back: Selection = parse_json(
        "selection",
        &serde_json::to_string(&selection).expect("selection"),
    )
    .expect("selection parses");
    assert_eq!(sel_back, selection, "selection round trip");
    let center = ActionCenter::in_memory();
    let alice = Principal::new("alice", ["analyst"]);
    if let Ok(results) = center.bulk(&alice, &op, &selection) {
        // Nothing exists, so nothing can have been done.
        assert!(results.iter().all(|r| r.result.is_err()));
    }
});
