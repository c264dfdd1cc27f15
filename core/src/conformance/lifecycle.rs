//! Proposals, decisions, expiry, claims, leases and the end of an action: the
//! state machine row by row, and the errors it gives.

use super::fixtures::*;

/// No action or policy is at version 0: expecting it is bad input, not a
/// version that moved on.
pub fn an_expected_version_0_is_refused_as_input(h: &Harness) {
    let a = quarantine(h, &sha(1), "d1");
    let before = event_count(h);
    let zero = Decide {
        expected_version: Some(0),
        ..Decide::default()
    };
    let err = h.center.approve(&alice(), a.id, &zero).expect_err("zero");
    assert_validation(err, "expected_version");
    let policy = h.center.policy().expect("policy");
    let err = h
        .center
        .set_policy(&root(), policy, Some(0), None)
        .expect_err("zero");
    assert_validation(err, "expected_version");
    assert_eq!(event_count(h), before);
    assert_eq!(stored(h, a.id).status, Status::Pending);
}

pub fn propose_needing_approval_is_pending(h: &Harness) {
    let a = quarantine(h, &sha(1), "dev-1");
    assert_eq!(a.status, Status::Pending);
    assert_eq!(a.expires_at, Some(h.center.now() + Duration::days(7)));
    assert_eq!(a.investigation_id.as_deref(), Some("inv-1"));
    assert_eq!(a.category, Category::File);
    assert_eq!(stored(h, a.id), a);
}

pub fn propose_under_full_automation_is_approved(h: &Harness) {
    with_policy(h, |p| {
        p.with_automation(Automation {
            default: AutomationLevel::Full,
            ..Automation::default()
        })
    });
    let a = quarantine(h, &sha(1), "dev-1");
    assert_eq!((a.status, a.expires_at), (Status::Approved, None));
}

pub fn naming_a_source_borrows_none_of_its_automation(h: &Harness) {
    // The antivirus's proposals need no approval; the automation role
    // (the default's machines) may name the antivirus, a responder may
    // name it but not borrow its level.
    with_policy(h, |p| {
        p.with_automation(Automation {
            default: AutomationLevel::Semi,
            sources: [(SourceType::Antivirus, AutomationLevel::Full)].into(),
            ..Automation::default()
        })
    });
    let propose = |who: &Principal, device_id: &str| {
        h.center
            .propose(
                who,
                Proposal::new(Kind::IsolateDevice, device(device_id), Source::Antivirus),
            )
            .expect("propose")
    };
    let dana = Principal::new("dana", ["responder"]);
    let by_dana = propose(&dana, "ceo-laptop");
    assert_eq!(
        by_dana.status,
        Status::Pending,
        "dana borrowed the antivirus's level"
    );
    assert!(by_dana.decisions.is_empty());
    assert_eq!(propose(&air(), "dev-av").status, Status::Approved);
}

pub fn manual_response_starts_approved(h: &Harness) {
    let src = Source::ManualResponse {
        person: "alice".into(),
    };
    let a = h
        .center
        .propose(
            &alice(),
            Proposal::new(Kind::IsolateDevice, device("d"), src),
        )
        .expect("propose");
    assert_eq!(a.status, Status::Approved);
}

pub fn manual_response_for_someone_else_is_refused(h: &Harness) {
    let src = Source::ManualResponse {
        person: "bob".into(),
    };
    let err = h
        .center
        .propose(
            &alice(),
            Proposal::new(Kind::IsolateDevice, device("d"), src),
        )
        .expect_err("spoof");
    assert_validation(err, "source.person");
    assert_eq!(event_count(h), 0);
}

pub fn manual_response_needs_approve_and_counts_toward_the_quorum(h: &Harness) {
    let responder = Principal::new("rita", ["responder"]);
    let src = |p: &str| Source::ManualResponse { person: p.into() };
    let denied = h
        .center
        .propose(
            &responder,
            Proposal::new(Kind::IsolateDevice, device("d"), src("rita")),
        )
        .expect_err("responder lacks approve");
    assert!(
        matches!(
            denied,
            Error::PermissionDenied {
                operation: Operation::Approve,
                ..
            }
        ),
        "{denied:?}"
    );
    kind_rule(
        h,
        Kind::IsolateDevice,
        KindRule {
            quorum: Some(2),
            ..KindRule::default()
        },
    );
    let a = h
        .center
        .propose(
            &alice(),
            Proposal::new(Kind::IsolateDevice, device("d"), src("alice")),
        )
        .expect("propose");
    assert_eq!((a.status, a.approvers()), (Status::Pending, vec!["alice"]));
    let b = h
        .center
        .approve(&bob(), a.id, &Decide::default())
        .expect("second approver");
    assert_eq!((b.status, b.decisions.len()), (Status::Approved, 2));
}

pub fn automation_none_refuses_automated_proposals(h: &Harness) {
    with_policy(h, |p| {
        p.with_automation(Automation {
            default: AutomationLevel::None,
            ..Automation::default()
        })
    });
    let err = h
        .center
        .propose(
            &air(),
            Proposal::new(Kind::IsolateDevice, device("d"), Source::Antivirus),
        )
        .expect_err("none");
    assert!(
        matches!(
            err,
            Error::PermissionDenied {
                operation: Operation::Propose,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("automation level is none"),
        "{err}"
    );
}

pub fn approve_moves_pending_to_approved(h: &Harness) {
    let a = quarantine(h, &sha(1), "dev-1");
    let b = h
        .center
        .approve(&alice(), a.id, &Decide::with_comment("looks bad"))
        .expect("approve");
    assert_eq!((b.status, b.version), (Status::Approved, 2));
    assert_eq!(b.expires_at, None);
    assert_eq!(b.decisions.len(), 1);
    assert_eq!(b.decisions[0].by, "alice");
    assert_eq!(b.decisions[0].comment.as_deref(), Some("looks bad"));
    assert_eq!(stored(h, a.id), b);
}

pub fn approval_short_of_quorum_stays_pending(h: &Harness) {
    kind_rule(
        h,
        Kind::IsolateDevice,
        KindRule {
            quorum: Some(2),
            ..KindRule::default()
        },
    );
    let a = isolate(h, "dev-9");
    let first = h
        .center
        .approve(&alice(), a.id, &Decide::default())
        .expect("first");
    assert_eq!((first.status, first.decisions.len()), (Status::Pending, 1));
    let second = h
        .center
        .approve(&bob(), a.id, &Decide::default())
        .expect("second");
    assert_eq!(
        (second.status, second.decisions.len()),
        (Status::Approved, 2)
    );
    let events = h.center.history_of(&alice(), a.id).expect("history");
    let moves: Vec<_> = events.iter().map(|e| (e.event, e.from, e.to)).collect();
    assert_eq!(
        moves,
        vec![
            (Event::Propose, None, Some(Status::Pending)),
            (Event::Approve, Some(Status::Pending), Some(Status::Pending)),
            (
                Event::Approve,
                Some(Status::Pending),
                Some(Status::Approved)
            ),
        ]
    );
}

pub fn same_approver_twice_does_not_make_a_quorum(h: &Harness) {
    kind_rule(
        h,
        Kind::IsolateDevice,
        KindRule {
            quorum: Some(2),
            ..KindRule::default()
        },
    );
    let a = isolate(h, "dev-9");
    h.center
        .approve(&alice(), a.id, &Decide::default())
        .expect("first");
    let err = h
        .center
        .approve(&alice(), a.id, &Decide::default())
        .expect_err("twice");
    assert_validation(err, "principal");
    assert_eq!(stored(h, a.id).status, Status::Pending);
}

/// One person is one approver, whoever they act as: an administrator
/// acting as someone else (`root as alice`) is held to the proposal and
/// to the earlier approvals under both names.
pub fn acting_as_another_makes_no_quorum_and_no_self_approval(h: &Harness) {
    with_policy(h, |p| {
        p.with_principal("alice", ["analyst"])
            .and_then(|p| p.with_principal("bob", ["analyst"]))
            .and_then(|p| p.with_principal("air", ["automation"]))
            .and_then(|p| p.with_principal("root", ["admin"]))
            .expect("principals")
            .with_kind_rule(
                Kind::IsolateDevice,
                KindRule {
                    quorum: Some(2),
                    ..KindRule::default()
                },
            )
            .expect("rule")
    });
    let as_ = |id: &str| h.center.impersonate(&root(), id).expect("admin");
    let approve = |by: &Principal, id| h.center.approve(by, id, &Decide::default());
    let unchanged = |before: &Action| {
        let now = stored(h, before.id);
        assert_eq!((now.status, now.version), (Status::Pending, before.version));
    };

    // Root as alice, then root: one person, twice.
    let a = isolate(h, "dev-a");
    let first = approve(&as_("alice"), a.id).expect("root as alice");
    let err = approve(&root(), a.id).expect_err("root again");
    assert!(err.to_string().contains("root already approved"), "{err}");
    assert_validation(err, "principal");
    unchanged(&first);
    // Root as bob after root as alice: the same.
    assert_validation(
        approve(&as_("bob"), a.id).expect_err("root as bob"),
        "principal",
    );
    unchanged(&first);
    // Alice, after root acted as her: her name has approved already.
    assert_validation(approve(&alice(), a.id).expect_err("alice"), "principal");
    // Bob is another person: the quorum is met.
    assert_eq!(approve(&bob(), a.id).expect("bob").status, Status::Approved);

    // Root proposes as air: root may approve it neither as root nor as
    // anyone else, and alice and bob still may.
    let b = h
        .center
        .propose(
            &as_("air"),
            Proposal::new(Kind::IsolateDevice, device("dev-b"), investigation("inv-1")),
        )
        .expect("root as air proposes");
    assert_eq!(b.created_via.as_deref(), Some("root"));
    for by in [root(), as_("bob")] {
        let err = approve(&by, b.id).expect_err("the proposer");
        assert!(
            matches!(&err, Error::SelfApproval { principal, .. } if principal == "root"),
            "{}: {err:?}",
            by.shown()
        );
        unchanged(&b);
    }
    // Root as alice on alice's own proposal: alice proposed it.
    let c = h
        .center
        .propose(
            &alice(),
            Proposal::new(
                Kind::IsolateDevice,
                device("dev-c"),
                Source::ManualResponse {
                    person: "alice".into(),
                },
            ),
        )
        .expect("alice responds");
    let err = approve(&as_("alice"), c.id).expect_err("alice's own");
    assert!(
        matches!(&err, Error::SelfApproval { principal, .. } if principal == "alice"),
        "{err:?}"
    );
    unchanged(&c);
    // A manual response by root as alice counts as root's approval too.
    let d = h
        .center
        .propose(
            &as_("alice"),
            Proposal::new(
                Kind::IsolateDevice,
                device("dev-d"),
                Source::ManualResponse {
                    person: "alice".into(),
                },
            ),
        )
        .expect("root as alice responds");
    assert!(matches!(
        approve(&as_("bob"), d.id).expect_err("root again"),
        Error::SelfApproval { .. }
    ));
    unchanged(&d);
    assert_eq!(approve(&bob(), d.id).expect("bob").status, Status::Approved);
}

pub fn reject_needs_a_comment_and_records_it(h: &Harness) {
    let a = quarantine(h, &sha(1), "dev-1");
    let escape = h
        .center
        .reject(
            &alice(),
            a.id,
            &Decide::with_comment("benign\u{1b}[2J all approved"),
        )
        .expect_err("escape");
    assert_validation(escape, "comment");
    let err = h
        .center
        .reject(&alice(), a.id, &Decide::with_comment("   "))
        .expect_err("blank");
    assert_validation(err, "comment");
    assert_eq!(stored(h, a.id), a);
    let r = h
        .center
        .reject(&alice(), a.id, &Decide::with_comment("benign admin tool"))
        .expect("reject");
    assert_eq!(r.status, Status::Rejected);
    let last = h
        .center
        .history_of(&alice(), a.id)
        .expect("history")
        .pop()
        .expect("event");
    assert_eq!(last.comment.as_deref(), Some("benign admin tool"));
}

pub fn expire_due_closes_pending_past_their_window(h: &Harness) {
    let a = quarantine(h, &sha(2), "dev-1");
    let b = approved(h);
    h.clock.advance(Duration::days(7) - Duration::seconds(1));
    assert!(h.center.expire_due().expect("sweep").is_empty());
    h.clock.advance(Duration::seconds(1));
    let expired = h.center.expire_due().expect("sweep");
    assert_eq!(expired.iter().map(|x| x.id).collect::<Vec<_>>(), vec![a.id]);
    assert_eq!(stored(h, a.id).status, Status::Expired);
    assert_eq!(stored(h, a.id).expires_at, a.expires_at);
    assert_eq!(stored(h, b.id).status, Status::Approved);
    let last = h
        .center
        .history_of(&alice(), a.id)
        .expect("history")
        .pop()
        .expect("event");
    assert_eq!((last.actor.as_str(), last.event), ("system", Event::Expire));
    assert!(h.center.expire_due().expect("again").is_empty());
}

pub fn expiry_outcome_can_be_reject(h: &Harness) {
    kind_rule(
        h,
        Kind::QuarantineFile,
        KindRule {
            pending_ttl_seconds: Some(60),
            on_expiry: Some(ExpiryOutcome::Reject),
            ..KindRule::default()
        },
    );
    let a = quarantine(h, &sha(1), "dev-1");
    h.clock.advance(Duration::seconds(60));
    h.center.expire_due().expect("sweep");
    assert_eq!(stored(h, a.id).status, Status::Rejected);
}

pub fn approving_after_the_window_closed_is_expired(h: &Harness) {
    let a = quarantine(h, &sha(1), "dev-1");
    h.clock.advance(Duration::days(8));
    let err = h
        .center
        .approve(&alice(), a.id, &Decide::default())
        .expect_err("late");
    assert!(
        matches!(
            err,
            Error::Expired {
                what: "approval window",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(stored(h, a.id), a);
}

pub fn rejecting_after_the_window_closed_is_expired(h: &Harness) {
    let a = quarantine(h, &sha(1), "dev-1");
    h.clock.advance(Duration::days(7));
    let err = h
        .center
        .reject(&alice(), a.id, &Decide::with_comment("too late"))
        .expect_err("late");
    assert!(
        matches!(
            err,
            Error::Expired {
                what: "approval window",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(stored(h, a.id), a);
}

pub fn proposer_may_cancel_without_cancel_permission(h: &Harness) {
    let a = quarantine(h, &sha(1), "dev-1");
    let c = h.center.cancel(&air(), a.id, "superseded").expect("cancel");
    assert_eq!(c.status, Status::Cancelled);
    assert_eq!(
        c.cancellation.as_ref().map(|n| n.comment.as_str()),
        Some("superseded")
    );
}

pub fn others_need_cancel_permission_and_a_comment(h: &Harness) {
    let a = approved(h);
    let err = h
        .center
        .cancel(&agent(), a.id, "no")
        .expect_err("no permission");
    assert!(
        matches!(
            err,
            Error::PermissionDenied {
                operation: Operation::Cancel,
                ..
            }
        ),
        "{err:?}"
    );
    assert_validation(
        h.center.cancel(&bob(), a.id, "").expect_err("no comment"),
        "comment",
    );
    assert_eq!(
        h.center
            .cancel(&bob(), a.id, "change window")
            .expect("cancel")
            .status,
        Status::Cancelled
    );
}

pub fn claim_takes_approved_actions_with_a_lease(h: &Harness) {
    let a = approved(h);
    let pending = quarantine(h, &sha(2), "dev-2");
    let claimed = h
        .center
        .claim(
            &agent(),
            &ClaimRequest {
                limit: 10,
                lease_seconds: 90,
                kinds: None,
            },
        )
        .expect("claim");
    assert_eq!(claimed.iter().map(|x| x.id).collect::<Vec<_>>(), vec![a.id]);
    let c = &claimed[0];
    assert_eq!(c.status, Status::Running);
    let attempt = c.active_attempt().expect("attempt");
    assert_eq!(
        (attempt.executor.as_str(), attempt.lease_until),
        ("agent-1", h.center.now() + Duration::seconds(90))
    );
    assert_eq!(stored(h, a.id), *c);
    assert_eq!(stored(h, pending.id).status, Status::Pending);
    assert!(claim_one(h, &agent2()).is_empty());
}

pub fn a_claim_naming_no_kind_is_refused_not_taken_for_any_kind(h: &Harness) {
    let a = approved(h);
    let request = |kinds| ClaimRequest {
        limit: 10,
        lease_seconds: 90,
        kinds,
    };
    let err = h
        .center
        .claim(&agent(), &request(Some(vec![])))
        .expect_err("an empty list of kinds");
    assert_eq!(err.kind(), crate::ErrorKind::Validation, "{err}");
    assert!(err.to_string().contains("kinds"), "{err}");
    assert_eq!(stored(h, a.id).status, Status::Approved, "nothing claimed");
    let other = h
        .center
        .claim(&agent(), &request(Some(vec![Kind::IsolateDevice])))
        .expect("claim another kind");
    assert!(other.is_empty(), "{other:?}");
    let claimed = h
        .center
        .claim(&agent(), &request(Some(vec![a.kind.clone()])))
        .expect("claim its kind");
    assert_eq!(claimed.iter().map(|x| x.id).collect::<Vec<_>>(), vec![a.id]);
}

pub fn complete_records_the_result(h: &Harness) {
    let a = running(h);
    let c = h
        .center
        .complete(
            &agent(),
            a.id,
            &tok(h, a.id),
            json!({"quarantine_path": "Q:\\1"}),
        )
        .expect("complete");
    assert_eq!(c.status, Status::Completed);
    let attempt = c.attempts.last().expect("attempt");
    assert_eq!(
        attempt.outcome,
        Some(Outcome::Completed {
            result: json!({"quarantine_path": "Q:\\1"})
        })
    );
    assert!(c.active_attempt().is_none());
}

pub fn fail_records_the_error(h: &Harness) {
    let a = running(h);
    assert_validation(
        h.center
            .fail(&agent(), a.id, &tok(h, a.id), "")
            .expect_err("empty"),
        "error",
    );
    let f = h
        .center
        .fail(&agent(), a.id, &tok(h, a.id), "device offline")
        .expect("fail");
    assert_eq!(f.status, Status::Failed);
    assert_eq!(
        f.attempts[0].outcome,
        Some(Outcome::Failed {
            error: "device offline".into()
        })
    );
}

pub fn only_the_lease_holder_may_finish(h: &Harness) {
    let a = running(h);
    let err = h
        .center
        .complete(&agent2(), a.id, &tok(h, a.id), json!({}))
        .expect_err("not holder");
    assert!(err.to_string().contains("held by agent-1"), "{err}");
    assert_eq!(stored(h, a.id), a);
}

pub fn finishing_after_the_lease_ran_out_is_expired(h: &Harness) {
    let a = running(h);
    h.clock.advance(Duration::seconds(60));
    let err = h
        .center
        .complete(&agent(), a.id, &tok(h, a.id), json!({}))
        .expect_err("late");
    assert!(
        matches!(err, Error::Expired { what: "lease", .. }),
        "{err:?}"
    );
    assert_eq!(stored(h, a.id), a);
}

pub fn heartbeat_extends_the_lease(h: &Harness) {
    let a = running(h);
    let events = event_count(h);
    h.clock.advance(Duration::seconds(50));
    let b = h
        .center
        .heartbeat(&agent(), a.id, &tok(h, a.id), 60)
        .expect("heartbeat");
    assert_eq!(
        b.lease_until(),
        Some(h.center.now() + Duration::seconds(60))
    );
    assert_eq!(event_count(h), events, "heartbeats are not audited");
    h.clock.advance(Duration::seconds(50));
    assert!(h.center.recover_leases().expect("sweep").is_empty());
    assert_eq!(
        h.center
            .complete(&agent(), a.id, &tok(h, a.id), json!({}))
            .expect("complete")
            .status,
        Status::Completed
    );
}

pub fn expired_lease_returns_the_action_to_the_queue(h: &Harness) {
    let a = running(h);
    h.clock.advance(Duration::seconds(61));
    let recovered = h.center.recover_leases().expect("sweep");
    assert_eq!(recovered.len(), 1);
    let b = stored(h, a.id);
    assert_eq!(b.status, Status::Approved);
    assert_eq!(b.attempts[0].outcome, Some(Outcome::LeaseExpired));
    let again = claim_one(h, &agent2());
    assert_eq!(again[0].id, a.id);
    assert_eq!(again[0].forward_attempts(), 2);
}

pub fn expired_lease_after_the_last_attempt_fails_the_action(h: &Harness) {
    kind_rule(
        h,
        Kind::QuarantineFile,
        KindRule {
            max_attempts: Some(2),
            ..KindRule::default()
        },
    );
    let a = running(h);
    h.clock.advance(Duration::seconds(61));
    h.center.recover_leases().expect("first sweep");
    assert_eq!(stored(h, a.id).status, Status::Approved);
    claim_one(h, &agent());
    h.clock.advance(Duration::seconds(61));
    let moved = h.center.recover_leases().expect("second sweep");
    assert_eq!(moved.len(), 1);
    let b = stored(h, a.id);
    assert_eq!((b.status, b.forward_attempts()), (Status::Failed, 2));
    assert_eq!(b.attempts[1].outcome, Some(Outcome::LeaseExpired));
    assert!(claim_one(h, &agent()).is_empty());
}

pub fn retry_is_limited_by_max_attempts(h: &Harness) {
    kind_rule(
        h,
        Kind::QuarantineFile,
        KindRule {
            max_attempts: Some(2),
            ..KindRule::default()
        },
    );
    let a = running(h);
    h.center
        .fail(&agent(), a.id, &tok(h, a.id), "timeout")
        .expect("fail");
    assert_eq!(
        h.center
            .retry(&alice(), a.id, Some("try again"))
            .expect("retry")
            .status,
        Status::Approved
    );
    claim_one(h, &agent());
    h.center
        .fail(&agent(), a.id, &tok(h, a.id), "timeout")
        .expect("fail again");
    let err = h.center.retry(&alice(), a.id, None).expect_err("limit");
    assert_validation(err, "attempts");
    assert_eq!(stored(h, a.id).status, Status::Failed);
}

/// A caller refused the step learns nothing of the action's version from
/// a stale one: the refusal is the same as without a version, on a single
/// decision and on each bulk item.
pub fn a_stale_version_tells_nothing_to_a_caller_refused_the_step(h: &Harness) {
    let policy = Policy::from_json(
        r#"{"roles": {"automation": {"propose": ["*"], "view": ["*"]},
                      "device_analyst": {"view": ["device"], "approve": ["device"], "cancel": ["device"]},
                      "blind_approver": {"view": ["email"], "approve": ["file"]},
                      "analyst": {"view": ["*"], "approve": ["*"]},
                      "admin": {"administer": ["*"]}}}"#,
    )
    .expect("policy");
    h.center
        .set_policy(&root(), policy, None, None)
        .expect("set");
    let file = quarantine(h, &sha(1), "d1");
    let dana = Principal::new("dana", ["device_analyst"]);
    let plain = h
        .center
        .approve(&dana, file.id, &Decide::default())
        .expect_err("may not");
    assert!(matches!(plain, Error::PermissionDenied { .. }), "{plain:?}");
    let stale = Decide {
        expected_version: Some(file.version + 98),
        ..Decide::default()
    };
    let err = h
        .center
        .approve(&dana, file.id, &stale)
        .expect_err("may not");
    assert_eq!(err.to_string(), plain.to_string());
    let err = h
        .center
        .cancel_expecting(&dana, file.id, "x", Some(file.version + 98))
        .expect_err("may not");
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    let results = h
        .center
        .bulk(
            &dana,
            &BulkOp::Approve { comment: None },
            &Selection::Ids(vec![Seen {
                id: file.id,
                version: file.version + 98,
            }]),
        )
        .expect("bulk");
    assert!(
        matches!(results[0].result, Err(Error::PermissionDenied { .. })),
        "{results:?}"
    );
    // Nor a principal the policy refuses (a role it does not define).
    let stranger = Principal::new("zed", ["no_such_role"]);
    let plain = h
        .center
        .approve(&stranger, file.id, &Decide::default())
        .expect_err("refused");
    let err = h
        .center
        .approve(&stranger, file.id, &stale)
        .expect_err("refused");
    assert_eq!(err.to_string(), plain.to_string());
    // Nor one who may take the step but not view the action: refused as
    // a viewer would be, not told the version.
    let bea = Principal::new("bea", ["blind_approver"]);
    for err in [
        h.center
            .approve(&bea, file.id, &stale)
            .expect_err("may not view"),
        h.center
            .bulk(
                &bea,
                &BulkOp::Approve { comment: None },
                &Selection::Ids(vec![Seen {
                    id: file.id,
                    version: file.version + 98,
                }]),
            )
            .expect("bulk")
            .remove(0)
            .result
            .expect_err("may not view"),
    ] {
        assert!(
            matches!(
                err,
                Error::PermissionDenied {
                    operation: Operation::View,
                    ..
                }
            ),
            "{err:?}"
        );
    }
    // Who may take the step still hears of the conflict.
    let err = h
        .center
        .approve(&alice(), file.id, &stale)
        .expect_err("stale");
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    assert_eq!(stored(h, file.id), file);
}

/// Cancel and retry compare-and-set when given the version seen: a
/// version that moved on is a `conflict`, and nothing changes.
pub fn cancel_and_retry_refuse_a_version_that_moved_on(h: &Harness) {
    let a = quarantine(h, &sha(1), "d1");
    let approved = h
        .center
        .approve(&alice(), a.id, &Decide::default())
        .expect("approve");
    let err = h
        .center
        .cancel_expecting(&root(), a.id, "saw it pending", Some(a.version))
        .expect_err("stale");
    assert!(
        matches!(err, Error::Conflict { expected, actual, .. }
            if expected == a.version && actual == approved.version),
        "{err:?}"
    );
    assert_eq!(stored(h, a.id), approved);
    let cancelled = h
        .center
        .cancel_expecting(&root(), a.id, "seen approved", Some(approved.version))
        .expect("current");
    assert_eq!(cancelled.status, Status::Cancelled);

    let b = running(h);
    let failed = h
        .center
        .fail(&agent(), b.id, &tok(h, b.id), "timeout")
        .expect("fail");
    let err = h
        .center
        .retry_expecting(&alice(), b.id, None, Some(b.version))
        .expect_err("stale");
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
    assert_eq!(stored(h, b.id), failed);
    let retried = h
        .center
        .retry_expecting(&alice(), b.id, None, Some(failed.version))
        .expect("current");
    assert_eq!(retried.status, Status::Approved);
}

pub fn final_statuses_refuse_every_event(h: &Harness) {
    let rejected = quarantine(h, &sha(1), "d1");
    h.center
        .reject(&alice(), rejected.id, &Decide::with_comment("no"))
        .expect("reject");
    let cancelled = quarantine(h, &sha(2), "d2");
    h.center.cancel(&air(), cancelled.id, "no").expect("cancel");
    for (id, status) in [
        (rejected.id, Status::Rejected),
        (cancelled.id, Status::Cancelled),
    ] {
        let before = event_count(h);
        assert_invalid(
            h.center
                .approve(&alice(), id, &Decide::default())
                .expect_err("approve"),
            status,
            Event::Approve,
        );
        assert_invalid(
            h.center
                .reject(&alice(), id, &Decide::with_comment("x"))
                .expect_err("reject"),
            status,
            Event::Reject,
        );
        assert_invalid(
            h.center.cancel(&alice(), id, "x").expect_err("cancel"),
            status,
            Event::Cancel,
        );
        assert_invalid(
            h.center.retry(&alice(), id, None).expect_err("retry"),
            status,
            Event::Retry,
        );
        assert_invalid(
            h.center
                .undo(&alice(), id, &undo_req("x"))
                .expect_err("undo"),
            status,
            Event::Undo,
        );
        assert_invalid(
            h.center
                .complete(&agent(), id, &tok(h, id), json!({}))
                .expect_err("complete"),
            status,
            Event::Complete,
        );
        assert_invalid(
            h.center
                .fail(&agent(), id, &tok(h, id), "x")
                .expect_err("fail"),
            status,
            Event::Fail,
        );
        assert_invalid(
            h.center
                .heartbeat(&agent(), id, &tok(h, id), 10)
                .expect_err("heartbeat"),
            status,
            Event::Heartbeat,
        );
        assert_eq!(event_count(h), before);
    }
    assert!(claim_one(h, &agent()).is_empty());
}

pub fn invalid_transition_names_status_and_event(h: &Harness) {
    let a = completed(h);
    let err = h
        .center
        .approve(&alice(), a.id, &Decide::default())
        .expect_err("completed");
    assert_eq!(
        err.to_string(),
        format!("cannot approve action {}: it is completed", a.id)
    );
    assert_invalid(err, Status::Completed, Event::Approve);
}

pub fn unknown_id_is_not_found(h: &Harness) {
    let id = ActionId::new_at(h.center.now());
    let err = h
        .center
        .approve(&alice(), id, &Decide::default())
        .expect_err("missing");
    assert!(
        matches!(&err, Error::NotFound { id: s } if *s == id.to_string()),
        "{err:?}"
    );
    assert!(matches!(
        h.center.get(&alice(), id),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        h.center.undo(&alice(), id, &undo_req("x")),
        Err(Error::NotFound { .. })
    ));
}

pub fn stale_expected_version_is_a_conflict(h: &Harness) {
    kind_rule(
        h,
        Kind::IsolateDevice,
        KindRule {
            quorum: Some(2),
            ..KindRule::default()
        },
    );
    let a = isolate(h, "d");
    h.center
        .approve(
            &alice(),
            a.id,
            &Decide {
                comment: None,
                expected_version: Some(a.version),
            },
        )
        .expect("first");
    let err = h
        .center
        .approve(
            &bob(),
            a.id,
            &Decide {
                comment: None,
                expected_version: Some(a.version),
            },
        )
        .expect_err("stale");
    assert!(
        matches!(
            err,
            Error::Conflict {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(stored(h, a.id).decisions.len(), 1);
}

pub fn bad_proposals_change_nothing(h: &Harness) {
    let p = |kind: Kind, entity: Entity| Proposal::new(kind, entity, investigation("inv-1"));
    let mismatch = h
        .center
        .propose(&air(), p(Kind::IsolateDevice, file_on(&sha(1), "d")))
        .expect_err("mismatch");
    assert_validation(mismatch, "entity");
    let bad_hash = h
        .center
        .propose(&air(), p(Kind::QuarantineFile, file_on("ABC", "d")))
        .expect_err("hash");
    assert_validation(bad_hash, "entity.sha256");
    let empty = h
        .center
        .propose(&air(), p(Kind::IsolateDevice, device(" ")))
        .expect_err("empty");
    assert_validation(empty, "entity.device_id");
    let long = h
        .center
        .propose(&air(), p(Kind::IsolateDevice, device(&"d".repeat(2000))))
        .expect_err("long");
    assert_validation(long, "entity.device_id");
    let mut big = p(Kind::IsolateDevice, device("d"));
    big.parameters
        .insert("blob".into(), json!("x".repeat(70_000)));
    assert_validation(
        h.center.propose(&air(), big).expect_err("big"),
        "parameters",
    );
    assert_validation(
        Proposal::from_json(r#"{"kind": "isolate_device"}"#).expect_err("shape"),
        "proposal",
    );
    assert_validation(
        Proposal::from_json(r#"{"kind": "reboot", "entity": {}, "source": {}}"#).expect_err("kind"),
        "proposal.kind",
    );
    assert_eq!(
        h.center
            .counts(&alice(), &Filter::default())
            .expect("counts")
            .total(),
        0
    );
    assert_eq!(event_count(h), 0);
}

pub fn a_stale_lease_token_is_refused_whoever_presents_it(h: &Harness) {
    let first = running(h);
    let stale = first.lease_token().expect("token").to_owned();
    h.clock.advance(Duration::minutes(2));
    assert_eq!(h.center.recover_leases().expect("sweep").len(), 1);
    // The same principal claims again: a new token.
    let again = claim_one(h, &agent());
    let fresh = again[0].lease_token().expect("token").to_owned();
    assert_ne!(stale, fresh);
    let before = stored(h, first.id);
    for who in [agent(), agent2()] {
        let err = h
            .center
            .complete(&who, first.id, &stale, json!({"late": true}))
            .expect_err("stale");
        assert!(
            matches!(&err, Error::StaleLease { token, .. } if *token == stale),
            "{err:?}"
        );
        let err = h
            .center
            .heartbeat(&who, first.id, &stale, 60)
            .expect_err("stale");
        assert!(matches!(err, Error::StaleLease { .. }), "{err:?}");
        let err = h
            .center
            .fail(&who, first.id, &stale, "late")
            .expect_err("stale");
        assert!(matches!(err, Error::StaleLease { .. }), "{err:?}");
    }
    assert_eq!(stored(h, first.id), before);
    h.center
        .complete(&agent(), first.id, &fresh, json!({}))
        .expect("the current lease completes");
}

pub fn a_retried_proposal_returns_the_original(h: &Harness) {
    let first = h
        .center
        .propose(&air(), keyed("inv-1/isolate/d1", "d1"))
        .expect("first");
    let before = event_count(h);
    let retry = h
        .center
        .propose(&air(), keyed("inv-1/isolate/d1", "d1"))
        .expect("retry");
    assert_eq!(retry.id, first.id);
    assert_eq!(event_count(h), before);
    assert!(
        first.proposal_digest.is_some(),
        "a keyed proposal keeps its digest"
    );
    // Without a key nothing can be retried, so nothing is kept to compare.
    assert_eq!(isolate(h, "d2").proposal_digest, None);
}

pub fn an_idempotency_key_reused_for_another_proposal_is_refused(h: &Harness) {
    let first = h.center.propose(&air(), keyed("k-1", "d1")).expect("first");
    let err = h
        .center
        .propose(&air(), keyed("k-1", "d2"))
        .expect_err("other body");
    assert!(
        matches!(&err, Error::Duplicate { existing, idempotency_key: Some(k), .. } if *existing == first.id && k == "k-1"),
        "{err:?}"
    );
    assert_eq!(err.kind(), crate::error::ErrorKind::Duplicate);
    assert_eq!(event_count(h), 1);
    assert_eq!(event_count(h), 1);
}

/// A key is the proposer's own: another proposer using it makes an
/// action of its own, and cannot take the key from the first one.
pub fn an_idempotency_key_belongs_to_its_proposer(h: &Harness) {
    // Another proposer takes "k-1" first, for another device.
    let squatted = h
        .center
        .propose(&alice(), keyed("k-1", "d9"))
        .expect("another proposer's key");
    assert_eq!(squatted.idempotency_key.as_deref(), Some("k-1"));
    // The automation's own proposal under the key is still made, and a
    // retry of it answers with it, not with the other proposer's.
    let first = h
        .center
        .propose(&air(), keyed("k-1", "d1"))
        .expect("the key is the automation's own");
    assert_ne!(first.id, squatted.id);
    assert_eq!(first.created_by, air().id);
    let retry = h.center.propose(&air(), keyed("k-1", "d1")).expect("retry");
    assert_eq!(retry.id, first.id);
    let retry = h
        .center
        .propose(&alice(), keyed("k-1", "d9"))
        .expect("retry");
    assert_eq!(retry.id, squatted.id);
    // Reused by its proposer for another proposal, it is a duplicate
    // naming that proposer's own action.
    let err = h
        .center
        .propose(&alice(), keyed("k-1", "d3"))
        .expect_err("other body");
    assert!(
        matches!(&err, Error::Duplicate { existing, .. } if *existing == squatted.id),
        "{err:?}"
    );
    assert_eq!(event_count(h), 2);
}

pub fn a_second_active_action_on_an_entity_is_a_duplicate(h: &Harness) {
    let first = isolate(h, "d1");
    let before = event_count(h);
    let err = h
        .center
        .propose(
            &air(),
            Proposal::new(Kind::IsolateDevice, device("d1"), investigation("inv-2")),
        )
        .expect_err("duplicate");
    assert!(
        matches!(&err, Error::Duplicate { existing, idempotency_key: None, .. } if *existing == first.id),
        "{err:?}"
    );
    assert!(err.to_string().contains("already in progress"), "{err}");
    assert_eq!(event_count(h), before);
    // Another kind, or the same kind once the first is no longer active, is fine.
    h.center
        .propose(
            &air(),
            Proposal::new(Kind::RunAntivirusScan, device("d1"), investigation("inv-2")),
        )
        .expect("another kind");
    h.center
        .reject(&alice(), first.id, &Decide::with_comment("no"))
        .expect("reject");
    isolate(h, "d1");
}

pub fn duplicates_are_allowed_where_the_policy_says_so(h: &Harness) {
    kind_rule(
        h,
        Kind::IsolateDevice,
        KindRule {
            allow_duplicates: Some(true),
            ..KindRule::default()
        },
    );
    isolate(h, "d1");
    isolate(h, "d1");
    assert_eq!(event_count(h), 2);
}

pub fn a_clock_past_what_doors_can_show_is_refused(h: &Harness) {
    h.clock.set(
        Utc.with_ymd_and_hms(9999, 12, 30, 0, 0, 0)
            .single()
            .expect("time"),
    );
    let err = h
        .center
        .propose(
            &air(),
            Proposal::new(Kind::IsolateDevice, device("d1"), investigation("inv-1")),
        )
        .expect_err("expiry past year 9999");
    assert_validation(err, "expires_at");
    assert_eq!(event_count(h), 0);
    h.clock.set(
        Utc.with_ymd_and_hms(10000, 1, 2, 0, 0, 0)
            .single()
            .expect("time"),
    );
    let err = h
        .center
        .propose(
            &alice(),
            Proposal::new(
                Kind::IsolateDevice,
                device("d1"),
                Source::ManualResponse {
                    person: "alice".into(),
                },
            ),
        )
        .expect_err("clock past year 9999");
    assert_validation(err, "clock");
    assert_eq!(event_count(h), 0);
}

pub fn claims_take_the_oldest_and_a_recovered_lease_rejoins_in_its_place(h: &Harness) {
    let approve = |dev: &str| {
        let a = quarantine(h, &sha(1), dev);
        h.center
            .approve(&alice(), a.id, &Decide::default())
            .expect("approve")
    };
    let (a, b, c) = (approve("d1"), approve("d2"), approve("d3"));
    assert_eq!(claim_one(h, &agent())[0].id, a.id);
    h.clock.advance(Duration::seconds(61));
    assert_eq!(h.center.recover_leases().expect("sweep").len(), 1);
    assert_eq!(claim_one(h, &agent2())[0].id, a.id);
    assert_eq!(claim_one(h, &agent2())[0].id, b.id);
    h.center.cancel(&air(), c.id, "not needed").expect("cancel");
    assert!(claim_one(h, &agent2()).is_empty());
}

pub fn decided_actions_leave_the_expiry_sweep(h: &Harness) {
    let a = quarantine(h, &sha(1), "d1");
    let b = quarantine(h, &sha(2), "d2");
    let c = quarantine(h, &sha(3), "d3");
    h.center
        .approve(&alice(), a.id, &Decide::default())
        .expect("approve");
    h.center.cancel(&air(), b.id, "dup").expect("cancel");
    h.clock.advance(Duration::days(8));
    let expired = h.center.expire_due().expect("sweep");
    assert_eq!(expired.iter().map(|x| x.id).collect::<Vec<_>>(), vec![c.id]);
    assert!(h.center.recover_leases().expect("no leases").is_empty());
}

/// A retry puts a failed action back into its kind's one slot on its
/// entity. While another action holds the slot the retry is refused as a
/// `Duplicate` naming the holder and nothing is written; in a bulk call the
/// other items are still retried.
pub fn a_retry_into_a_taken_slot_is_a_duplicate(h: &Harness) {
    let failed = |dev: &str| {
        let a = isolate(h, dev);
        h.center
            .approve(&alice(), a.id, &Decide::default())
            .expect("approve");
        let claimed = claim_one(h, &agent());
        assert_eq!(claimed.len(), 1);
        h.center
            .fail(&agent(), a.id, &tok(h, a.id), "timeout")
            .expect("fail")
    };
    let (a, b) = (failed("d1"), failed("d2"));
    // A new isolation of d1 takes the slot a left.
    let holder = isolate(h, "d1");
    let before = event_count(h);
    let err = h.center.retry(&alice(), a.id, None).expect_err("taken");
    assert!(
        matches!(&err, Error::Duplicate { existing, .. } if *existing == holder.id),
        "{err:?}"
    );
    assert_eq!(stored(h, a.id), a);
    assert_eq!(event_count(h), before);

    let results = h
        .center
        .bulk(
            &alice(),
            &BulkOp::Retry { comment: None },
            &Selection::Ids(vec![Seen::of(&b), Seen::of(&a)]),
        )
        .expect("bulk");
    assert!(results[0].result.is_ok(), "{:?}", results[0]);
    assert!(
        matches!(&results[1].result, Err(Error::Duplicate { existing, .. }) if *existing == holder.id),
        "{:?}",
        results[1]
    );
    assert_eq!(stored(h, b.id).status, Status::Approved);
    assert_eq!(stored(h, a.id), a);
    // Once the holder leaves the slot, the retry goes through.
    h.center
        .reject(&alice(), holder.id, &Decide::with_comment("no"))
        .expect("reject");
    let retried = h.center.retry(&alice(), a.id, None).expect("free");
    assert_eq!(retried.status, Status::Approved);
    let report = h.center.verify_audit().expect("verify");
    assert!(report.is_intact(), "{report:?}");
}
