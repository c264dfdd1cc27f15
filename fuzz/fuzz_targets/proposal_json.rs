//! A proposal document, as every door reads one: never a panic; what
//! parses round-trips; what an engine accepts or refuses, it does cleanly.
#![no_main]

use actioncenter::error::read_document;
use actioncenter::{ActionCenter, Principal, Proposal};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = read_document("proposal", data) else {
        return;
    };
    let Ok(proposal) = Proposal::from_json(&text) else {
        return;
    };
    let again = serde_json::to_string(&proposal).expect("a parsed proposal serializes");
    let back = Proposal::from_json(&again).expect("a serialized proposal parses");
    assert_eq!(back, proposal, "round trip");
    let center = ActionCenter::in_memory();
    let root = Principal::new("root", ["admin"]);
    if let Ok(action) = center.propose(&root, proposal) {
        let stored = center
            .get(&root, action.id)
            .expect("a stored action reads back");
        assert_eq!(stored, action);
    }
    assert!(center.verify_audit().expect("verify").is_intact());
});
