//! An exported checkpoint (`actionctl verify --checkpoint FILE`): never a
//! panic; what parses round-trips; verifying a database against it
//! succeeds only for the checkpoint that database really signed.
#![no_main]

use std::sync::OnceLock;

use actioncenter::error::read_document;
use actioncenter::{
    ActionCenter, Checkpoint, Entity, Kind, Principal, Proposal, SigningKey, Source, VerifyOptions,
};
use libfuzzer_sys::fuzz_target;

struct Signed {
    center: ActionCenter,
    real: Checkpoint,
    key: SigningKey,
}

fn signed() -> &'static Signed {
    static ONCE: OnceLock<Signed> = OnceLock::new();
    ONCE.get_or_init(|| {
        let center = ActionCenter::in_memory();
        let root = Principal::new("root", ["admin"]);
        let proposal = Proposal::new(
            Kind::IsolateDevice,
            Entity::Device {
                device_id: "dev-1".into(),
                name: None,
            },
            Source::Antivirus,
        );
        center.propose(&root, proposal).expect("propose");
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let real = center.checkpoint(&root, &key).expect("checkpoint");
        let report = center
            .verify_audit_with(&VerifyOptions {
                public_key: Some(key.verifying_key()),
                checkpoint: Some(real.clone()),
            })
            .expect("verify");
        assert!(
            report.is_intact(),
            "the genuine checkpoint: {:?}",
            report.problem()
        );
        Signed { center, real, key }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = read_document("checkpoint", data) else {
        return;
    };
    let Ok(cp) = Checkpoint::from_json(&text) else {
        return;
    };
    let back = Checkpoint::from_json(&cp.to_json()).expect("its JSON parses");
    assert_eq!(back, cp, "round trip");
    let s = signed();
    let genuine = cp == s.real;
    let report = s
        .center
        .verify_audit_with(&VerifyOptions {
            public_key: Some(s.key.verifying_key()),
            checkpoint: Some(cp),
        })
        .expect("verification runs");
    assert_eq!(report.is_intact(), genuine, "{:?}", report.problem());
});
