//! A filter (the query of a list, a count, a bulk by filter): never a
//! panic; what parses round-trips and can be run.
#![no_main]

use actioncenter::error::read_document;
use actioncenter::{ActionCenter, Filter, PageRequest, Principal};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = read_document("filter", data) else {
        return;
    };
    let Ok(filter) = Filter::from_json(&text) else {
        return;
    };
    let again = serde_json::to_string(&filter).expect("a parsed filter serializes");
    let back = Filter::from_json(&again).expect("a serialized filter parses");
    assert_eq!(back, filter, "round trip");
    let center = ActionCenter::in_memory();
    let viewer = Principal::new("vera", ["viewer"]);
    let _ = center.list(&viewer, &filter, &PageRequest::default());
    let _ = center.counts(&viewer, &filter);
});
