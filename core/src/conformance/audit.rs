//! The audit trail proves itself: the chain, rows edited behind the engine's
//! back, a cut tail, checkpoints.

use super::fixtures::*;

pub fn audit_trail_verifies(h: &Harness) {
    undoing(h);
    quarantine(h, &sha(5), "d5");
    let report = h.center.verify_audit().expect("verify");
    assert!(report.is_intact(), "{report:?}");
    // The bootstrap policy, then five events of the undone action and one proposal.
    assert_eq!(report.events_checked, 7);
    assert_eq!(report.actions_checked, 2);
    let last = h.center.events_since(&alice(), 6, 1).expect("last");
    assert_eq!(report.head, last[0].hash);
}

pub fn tampering_is_found_at_the_first_bad_event(h: &Harness) {
    completed(h);
    quarantine(h, &sha(5), "d5");
    h.tamper(3);
    let report = h.center.verify_audit().expect("verify");
    let bad = report.first_bad.expect("tamper found");
    assert_eq!((bad.seq, bad.mismatch), (3, Mismatch::Hash));
    assert_eq!(report.events_checked, 3);
}

pub fn a_rejected_row_edited_to_approved_is_found_and_never_claimed(h: &Harness) {
    let r = rejected(h);
    let mut forged = r.clone();
    forged.status = Status::Approved;
    h.rewrite(&forged);
    let report = h.center.verify_audit().expect("verify");
    let bad = report.first_bad_action.clone().expect("forged row found");
    assert_eq!(bad.id, r.id);
    assert!(
        matches!(bad.mismatch, crate::audit::ActionMismatch::Status { .. }),
        "{bad:?}"
    );
    assert!(!report.is_intact());
}

pub fn an_action_pointed_at_another_device_is_found(h: &Harness) {
    let a = approved(h);
    let mut forged = a.clone();
    forged.entity = file_on(&sha(1), "dev-ceo");
    h.rewrite(&forged);
    let bad = h
        .center
        .verify_audit()
        .expect("verify")
        .first_bad_action
        .expect("forged target found");
    assert_eq!(
        (bad.id, bad.mismatch),
        (a.id, crate::audit::ActionMismatch::Digest)
    );
}

pub fn a_history_the_table_does_not_allow_is_found(h: &Harness) {
    // The row edited to approved, then claimed and completed: each event
    // is well formed and chained, but reject → claim is no move of the table.
    let r = rejected(h);
    let mut forged = r.clone();
    forged.status = Status::Approved;
    h.rewrite(&forged);
    // Executors do not re-verify a row when they claim (a documented
    // limit): the forged approval is taken...
    let claimed = claim_one(h, &agent());
    assert_eq!(claimed.iter().map(|c| c.id).collect::<Vec<_>>(), vec![r.id]);
    h.center
        .complete(&agent(), r.id, &tok(h, r.id), json!({}))
        .expect("complete");
    // ...and the trail names the move that cannot be.
    let bad = h
        .center
        .verify_audit()
        .expect("verify")
        .first_bad
        .expect("bad path found");
    assert!(
        matches!(&bad.mismatch, Mismatch::Transition { detail } if detail.contains("left it rejected")),
        "{bad:?}"
    );
    assert_eq!(bad.action_id, Some(r.id));
}

pub fn a_cut_tail_is_found_below_the_latest_checkpoint(h: &Harness) {
    completed(h);
    let cp = h.center.checkpoint(&root(), &signer()).expect("checkpoint");
    assert_eq!(cp.seq, event_count(h) as u64 + 1);
    quarantine(h, &sha(4), "d4");
    let report = h.center.verify_audit_with(&key_options()).expect("verify");
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.checkpoints.checked, 1);
    // Cut the last three events: the chain that is left is a valid prefix.
    h.truncate(cp.seq - 2);
    let report = h.center.verify_audit_with(&key_options()).expect("verify");
    let problem = report.checkpoints.problem.clone().expect("cut found");
    assert!(problem.contains("events were cut"), "{problem}");
    assert!(report.first_bad.is_none(), "the prefix itself chains");
}

pub fn a_checkpoint_needs_its_signer_and_administer(h: &Harness) {
    completed(h);
    let err = h
        .center
        .checkpoint(&alice(), &signer())
        .expect_err("analyst");
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    h.center.checkpoint(&root(), &signer()).expect("checkpoint");
    let other = crate::checkpoint::SigningKey::from_bytes(&[7u8; 32]);
    let report = h
        .center
        .verify_audit_with(&crate::engine::VerifyOptions {
            public_key: Some(other.verifying_key()),
            checkpoint: None,
        })
        .expect("verify");
    let problem = report.checkpoints.problem.expect("wrong key found");
    assert!(problem.contains("signed by key"), "{problem}");
}

pub fn an_exported_checkpoint_finds_deleted_checkpoints(h: &Harness) {
    completed(h);
    let exported = h.center.checkpoint(&root(), &signer()).expect("checkpoint");
    let parsed = Checkpoint::from_json(&exported.to_json()).expect("export parses");
    let options = crate::engine::VerifyOptions {
        checkpoint: Some(parsed),
        ..key_options()
    };
    assert!(h.center.verify_audit_with(&options).expect("v").is_intact());
    // A writer who cuts the tail and the checkpoint is caught by the copy kept outside.
    h.truncate(exported.seq - 1);
    let report = h.center.verify_audit_with(&options).expect("verify");
    assert!(report.checkpoints.problem.is_some(), "{report:?}");
}

pub fn fields_a_newer_library_wrote_survive_a_rewrite(h: &Harness) {
    let a = quarantine(h, &sha(1), "d1");
    let mut newer = a.clone();
    newer
        .extra
        .insert("risk_score".into(), json!({"value": 93, "model": "v4"}));
    newer.doc_version = 3;
    h.rewrite(&newer);
    let approved = h
        .center
        .approve(&alice(), a.id, &Decide::default())
        .expect("approve");
    let back = stored(h, a.id);
    assert_eq!(
        back.extra.get("risk_score"),
        Some(&json!({"value": 93, "model": "v4"}))
    );
    assert_eq!((back.doc_version, approved.doc_version), (3, 3));
}
