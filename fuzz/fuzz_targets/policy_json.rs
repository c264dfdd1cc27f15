//! A policy document (a policy file, PUT /api/v1/policy): never a panic;
//! what parses is valid and round-trips.
#![no_main]

use actioncenter::Policy;
use actioncenter::error::read_document;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = read_document("policy", data) else {
        return;
    };
    let Ok(policy) = Policy::from_json(&text) else {
        return;
    };
    policy.validate().expect("a parsed policy is valid");
    let back = Policy::from_json(&policy.to_json()).expect("its JSON parses");
    assert_eq!(back, policy, "round trip");
    assert_eq!(back.digest(), policy.digest());
    let canonical = Policy::from_json(&policy.to_canonical_json()).expect("canonical parses");
    assert_eq!(canonical, policy);
});
