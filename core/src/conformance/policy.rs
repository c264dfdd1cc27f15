//! The stored policy: permissions, self-approval, quorum, changes to the
//! policy, acting for another.

use super::fixtures::*;

/// The `via` a host sets on a principal is recorded beside its id in
/// decisions and audit events: it is held to the id's rules, so that no
/// caller is recorded as "system as alice" or with a line break.
pub fn a_principals_via_is_held_to_the_rules_of_an_id(h: &Harness) {
    let a = quarantine(h, &sha(1), "dev-1");
    let before = event_count(h);
    let long = "x".repeat(5000);
    for via in ["", " root", "a\nb", "\u{202e}toor", long.as_str(), "system"] {
        let mut by = alice();
        by.via = Some(via.to_owned());
        let err = h
            .center
            .approve(&by, a.id, &Decide::default())
            .expect_err("a via no id could be");
        assert_validation(err, "principal.via");
    }
    assert_eq!(event_count(h), before);
    assert_eq!(stored(h, a.id).status, Status::Pending);
    let mut by = alice();
    by.via = Some("root".into());
    let done = h
        .center
        .approve(&by, a.id, &Decide::default())
        .expect("a via like an id");
    assert_eq!(done.decisions[0].via.as_deref(), Some("root"));
}

pub fn missing_permission_is_denied_and_named(h: &Harness) {
    let a = quarantine(h, &sha(1), "dev-1");
    let err = h
        .center
        .approve(&viewer(), a.id, &Decide::default())
        .expect_err("viewer");
    assert_eq!(err.to_string(), "vera may not approve file actions");
    let err = h.center.propose(
        &viewer(),
        Proposal::new(
            Kind::BlockUrl,
            Entity::Url {
                url: "http://x".into(),
            },
            Source::Antivirus,
        ),
    );
    assert!(matches!(
        err,
        Err(Error::PermissionDenied {
            operation: Operation::Propose,
            category: Some(Category::Network),
            ..
        })
    ));
    let err = h
        .center
        .claim(&alice(), &ClaimRequest::default())
        .expect_err("not an executor");
    assert_eq!(err.to_string(), "alice may not execute any actions");
    assert_eq!(stored(h, a.id), a);
}

pub fn self_approval_is_refused_admins_too(h: &Harness) {
    let admin = Principal::new("root", ["admin"]);
    let a = h
        .center
        .propose(
            &admin,
            Proposal::new(Kind::IsolateDevice, device("d"), investigation("inv-2")),
        )
        .expect("propose");
    let err = h
        .center
        .approve(&admin, a.id, &Decide::default())
        .expect_err("self");
    assert!(
        matches!(err, Error::SelfApproval { ref principal, id } if principal == "root" && id == a.id),
        "{err:?}"
    );
    assert_eq!(stored(h, a.id), a);
}

pub fn self_approval_when_the_policy_allows_it(h: &Harness) {
    with_policy(h, |p| p.with_self_approval(true));
    let a = h
        .center
        .propose(
            &alice(),
            Proposal::new(Kind::IsolateDevice, device("d"), investigation("inv-2")),
        )
        .expect("propose");
    assert_eq!(
        h.center
            .approve(&alice(), a.id, &Decide::default())
            .expect("self ok")
            .status,
        Status::Approved
    );
}

pub fn unknown_role_is_a_validation_error(h: &Harness) {
    let impostor = Principal::new("system", ["admin"]);
    let err = h
        .center
        .propose(
            &impostor,
            Proposal::new(Kind::IsolateDevice, device("d"), Source::Antivirus),
        )
        .expect_err("reserved");
    assert_validation(err, "principal.id");
    let ghost = Principal::new("casper", ["ghost"]);
    let err = h
        .center
        .propose(
            &ghost,
            Proposal::new(Kind::IsolateDevice, device("d"), Source::Antivirus),
        )
        .expect_err("role");
    assert_validation(err, "principal.roles");
    assert_eq!(event_count(h), 0);
}

pub fn every_handle_enforces_the_stored_policy(h: &Harness) {
    kind_rule(
        h,
        Kind::QuarantineFile,
        KindRule {
            quorum: Some(2),
            ..KindRule::default()
        },
    );
    // Another process opens the same database with the default policy as
    // its bootstrap: the stored quorum of two holds there too.
    let other = ActionCenter::with_clock(h.reopen(), Policy::default(), h.clock.clone());
    let a = quarantine(h, &sha(1), "d1");
    let after_one = other
        .approve(&alice(), a.id, &Decide::default())
        .expect("first approval");
    assert_eq!(after_one.status, Status::Pending);
    assert_eq!(
        other
            .policy()
            .expect("policy")
            .quorum(&Kind::QuarantineFile),
        2
    );
}

/// A handle decides under the policy it last read and lets the store's
/// atomic version check refuse it when another handle stored a new one:
/// a grant made elsewhere is honoured, and so is a revocation.
pub fn a_policy_stored_by_another_handle_governs_the_next_decision(h: &Harness) {
    let other = ActionCenter::with_clock(h.reopen(), Policy::default(), h.clock.clone());
    let own = |n: &str| {
        h.center
            .propose(
                &alice(),
                Proposal::new(Kind::IsolateDevice, device(n), investigation("inv-2")),
            )
            .expect("propose")
    };
    // Both handles hold the stored policy (no self-approval) in their cache.
    let first = own("d-1");
    let err = h
        .center
        .approve(&alice(), first.id, &Decide::default())
        .expect_err("self-approval off");
    assert!(matches!(err, Error::SelfApproval { .. }), "{err:?}");
    let v1 = other.stored_policy().expect("policy").version;
    // The other handle grants self-approval: this handle's cache is stale
    // and would refuse; the refusal is checked against the store.
    let v2 = other
        .set_policy(
            &root(),
            Policy::default().with_self_approval(true),
            Some(v1),
            None,
        )
        .expect("grant")
        .version;
    let approved = h
        .center
        .approve(&alice(), first.id, &Decide::default())
        .expect("granted elsewhere");
    assert_eq!(approved.status, Status::Approved);
    assert_eq!(approved.decisions[0].policy_version, Some(v2));
    // The other handle revokes it again: this handle's cache would allow;
    // the store refuses the change decided under it, and it is decided
    // again under the stored policy.
    let second = own("d-2");
    other
        .set_policy(&root(), Policy::default(), Some(v2), None)
        .expect("revoke");
    let err = h
        .center
        .approve(&alice(), second.id, &Decide::default())
        .expect_err("revoked elsewhere");
    assert!(matches!(err, Error::SelfApproval { .. }), "{err:?}");
    assert_eq!(stored(h, second.id), second);
}

/// A claim decided under a policy another handle has since replaced is
/// refused by the store as a whole, and decided again under the stored
/// one: the executor whose grant was taken away claims nothing, and the
/// action, the counts and the trail are as they were.
pub fn a_claim_under_a_replaced_policy_claims_nothing(h: &Harness) {
    let other = ActionCenter::with_clock(h.reopen(), Policy::default(), h.clock.clone());
    let a = approved(h);
    let before = (
        h.center
            .counts(&alice(), &Filter::default())
            .expect("counts"),
        event_count(h),
    );
    let v1 = other.stored_policy().expect("policy").version;
    let mut doc: serde_json::Value =
        serde_json::from_str(&Policy::default().to_json()).expect("policy json");
    doc["roles"]["executor"] = json!({"view": ["*"]});
    other
        .set_policy(
            &root(),
            Policy::from_value(doc).expect("policy"),
            Some(v1),
            None,
        )
        .expect("take the execute grant away");
    // This handle's cached policy still grants it.
    let err = h
        .center
        .claim(
            &agent(),
            &ClaimRequest {
                limit: 10,
                lease_seconds: 60,
                kinds: None,
            },
        )
        .expect_err("no execute grant in the stored policy");
    assert!(matches!(err, Error::PermissionDenied { .. }), "{err:?}");
    assert_eq!(stored(h, a.id), a);
    let after = (
        h.center
            .counts(&alice(), &Filter::default())
            .expect("counts"),
        event_count(h),
    );
    assert_eq!(after, before);
}

pub fn a_policy_change_needs_administer_and_is_audited(h: &Harness) {
    let before = h.center.stored_policy().expect("policy");
    let err = h
        .center
        .set_policy(
            &alice(),
            Policy::default().with_self_approval(true),
            None,
            None,
        )
        .expect_err("analyst");
    assert!(
        matches!(
            &err,
            Error::PermissionDenied {
                operation: Operation::Administer,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(h.center.stored_policy().expect("p").version, before.version);
    let stored = h
        .center
        .set_policy(
            &root(),
            Policy::default().with_self_approval(true),
            Some(before.version),
            Some("allow self-approval"),
        )
        .expect("set");
    assert_eq!(stored.version, before.version + 1);
    let last = h
        .center
        .events_since(&alice(), 0, 1000)
        .expect("events")
        .pop()
        .expect("event");
    assert_eq!(
        (
            last.event,
            last.action_id,
            last.version,
            last.digest.as_deref(),
            last.actor.as_str()
        ),
        (
            Event::SetPolicy,
            None,
            Some(stored.version),
            Some(stored.policy.digest().as_str()),
            "root"
        )
    );
    let history = h.center.policy_history(&alice()).expect("history");
    assert_eq!(history.len() as u64, stored.version);
    assert!(h.center.verify_audit().expect("verify").is_intact());
    let bad = h.center.set_policy(&root(), Policy::default(), None, None);
    assert!(bad.is_ok());
    let invalid = Policy::from_json(r#"{"roles": {}, "kinds": {"block_url": {"quorum": 0}}}"#);
    assert!(invalid.is_err());
}

pub fn a_decision_records_the_policy_it_was_made_under(h: &Harness) {
    let v1 = h.center.stored_policy().expect("p").version;
    let a = quarantine(h, &sha(1), "d1");
    with_policy(h, |p| p);
    let approved = h
        .center
        .approve(&alice(), a.id, &Decide::default())
        .expect("approve");
    let v2 = v1 + 1;
    assert_eq!(approved.decisions[0].policy_version, Some(v2));
    let events = h.center.history_of(&alice(), a.id).expect("history");
    assert_eq!(
        events.iter().map(|e| e.policy_version).collect::<Vec<_>>(),
        vec![Some(v1), Some(v2)]
    );
}

pub fn a_stale_policy_version_is_refused(h: &Harness) {
    let v = h.center.stored_policy().expect("p").version;
    with_policy(h, |p| p);
    let err = h
        .center
        .set_policy(&root(), Policy::default(), Some(v), None)
        .expect_err("stale");
    assert!(
        matches!(err, Error::PolicyChanged { expected, actual } if expected == v && actual == v + 1),
        "{err:?}"
    );
}

pub fn acting_as_another_needs_administer_and_is_recorded(h: &Harness) {
    with_policy(h, |p| {
        p.with_principal("alice", ["analyst"])
            .and_then(|p| p.with_principal("bob", ["analyst"]))
            .and_then(|p| p.with_principal("root", ["admin"]))
            .expect("principals")
            .with_kind_rule(
                Kind::QuarantineFile,
                KindRule {
                    quorum: Some(2),
                    ..KindRule::default()
                },
            )
            .expect("rule")
    });
    let err = h
        .center
        .impersonate(&alice(), "bob")
        .expect_err("not admin");
    assert!(
        matches!(
            &err,
            Error::PermissionDenied {
                operation: Operation::Administer,
                ..
            }
        ),
        "{err:?}"
    );
    let a = quarantine(h, &sha(1), "d1");
    let alice = h.center.principal("alice").expect("alice");
    h.center
        .approve(&alice, a.id, &Decide::default())
        .expect("first");
    let bob_by_root = h.center.impersonate(&root(), "bob").expect("admin");
    assert_eq!(bob_by_root.shown(), "root as bob");
    let done = h
        .center
        .approve(&bob_by_root, a.id, &Decide::default())
        .expect("second");
    assert_eq!(done.status, Status::Approved);
    assert_eq!(done.decisions[1].via.as_deref(), Some("root"));
    let last = h
        .center
        .history_of(&alice, a.id)
        .expect("h")
        .pop()
        .expect("e");
    assert_eq!(last.actor_shown(), "root as bob");
    let unknown = h.center.principal("mallory").expect_err("unknown");
    assert!(
        unknown.to_string().contains("not among the principals"),
        "{unknown}"
    );
}

/// An administrator acting as another administrator cannot act as a third
/// principal from there: the record would name the second, not the person,
/// and one person could make a quorum of two.
pub fn acting_as_someone_cannot_be_stacked(h: &Harness) {
    with_policy(h, |p| {
        p.with_principal("alice", ["analyst"])
            .and_then(|p| p.with_principal("bob", ["analyst"]))
            .and_then(|p| p.with_principal("root", ["admin", "analyst"]))
            .and_then(|p| p.with_principal("sam", ["admin", "analyst"]))
            .expect("principals")
            .with_kind_rule(
                Kind::QuarantineFile,
                KindRule {
                    quorum: Some(2),
                    ..KindRule::default()
                },
            )
            .expect("rule")
    });
    let a = quarantine(h, &sha(1), "d1");
    let root = h.center.principal("root").expect("root");
    h.center
        .approve(&root, a.id, &Decide::default())
        .expect("first");
    let sam_by_root = h.center.impersonate(&root, "sam").expect("admin");
    assert_eq!(sam_by_root.shown(), "root as sam");
    for target in ["alice", "sam", "root"] {
        let err = h
            .center
            .impersonate(&sam_by_root, target)
            .expect_err("stacked");
        assert!(
            matches!(&err, Error::PermissionDenied { principal, operation: Operation::Administer, detail: Some(d), .. }
                if principal == "sam" && d.contains("root as sam")),
            "{err:?}"
        );
    }
    // And root acting as sam is still root for the quorum.
    let err = h
        .center
        .approve(&sam_by_root, a.id, &Decide::default())
        .expect_err("root twice");
    assert!(
        matches!(&err, Error::Validation { message, .. } if message.contains("root already approved")),
        "{err:?}"
    );
    assert_eq!(
        h.center.get(&root, a.id).expect("get").status,
        Status::Pending
    );
}

pub fn authorize_follows_the_tables_who_column(h: &Harness) {
    use crate::machine::{TABLE, Who};
    let policy = h.center.policy().expect("policy");
    for row in TABLE {
        for op in Operation::ALL {
            let role = format!("only_{op}");
            let json = format!(r#"{{"roles": {{"{role}": {{"{op}": ["*"]}}}}}}"#);
            let only = Policy::from_json(&json).expect("policy");
            let p = Principal::new("pat", [role.as_str()]);
            let allowed = only
                .authorize(&p, row.event, Category::File, Some("someone"))
                .is_ok();
            let expected = match row.who {
                Who::Holder(want) | Who::ProposerOr(want) => {
                    op == want || op == Operation::Administer
                }
                Who::LeaseHolder => op == Operation::Execute || op == Operation::Administer,
                Who::System => false,
            };
            assert_eq!(
                allowed, expected,
                "{:?} {} with only {op}",
                row.from, row.event
            );
            if let Who::ProposerOr(_) = row.who {
                assert!(
                    only.authorize(&p, row.event, Category::File, Some("pat"))
                        .is_ok()
                );
            }
        }
    }
    assert!(
        policy
            .authorize(&alice(), Event::Approve, Category::File, None)
            .is_ok()
    );
}
