//! A writer with the database in hand rewrites an event and re-hashes
//! the whole chain after it: the chain then verifies on its own, and only
//! a checkpoint signed with a key the database never held finds it.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use actioncenter::*;

#[test]
fn a_rehashed_rewrite_is_found_only_by_a_signed_checkpoint() {
    let store = Arc::new(MemoryStore::new());
    let center = ActionCenter::with_clock(store.clone(), Policy::default(), Arc::new(SystemClock));
    let air = Principal::new("air", ["automation"]);
    let alice = Principal::new("alice", ["analyst"]);
    let root = Principal::new("root", ["admin"]);
    let device = Entity::Device {
        device_id: "dev-1".into(),
        name: None,
    };
    let source = Source::AutomatedInvestigation {
        investigation_id: "inv-1".into(),
    };
    let a = center
        .propose(&air, Proposal::new(Kind::IsolateDevice, device, source))
        .unwrap();
    center
        .reject(&alice, a.id, &Decide::with_comment("benign"))
        .unwrap();
    let key = checkpoint::generate_key().unwrap();
    let options = VerifyOptions {
        public_key: Some(key.verifying_key()),
        checkpoint: None,
    };
    center.checkpoint(&root, &key).unwrap();
    assert!(center.verify_audit_with(&options).unwrap().is_intact());

    // Who rejected it, rewritten, and every hash after it recomputed.
    store
        .rewrite_and_rehash(3, |e| e.actor = "mallory".into())
        .unwrap();
    let without_key = center.verify_audit().unwrap();
    assert!(
        without_key.first_bad.is_none(),
        "the chain itself links up: {without_key:?}"
    );
    let with_key = center.verify_audit_with(&options).unwrap();
    let problem = with_key
        .checkpoints
        .problem
        .clone()
        .expect("the rewrite is found");
    assert!(problem.contains("the trail was rewritten"), "{problem}");
    assert!(!with_key.is_intact());
}
