//! Undo: the inverse action, its attempts and leases, and the fan-out to every
//! instance of the same file.

use super::fixtures::*;

pub fn undo_runs_the_inverse_to_undone(h: &Harness) {
    let u = undoing(h);
    assert_eq!(u.status, Status::Undoing);
    assert_eq!(
        u.undo.as_ref().map(|x| x.inverse.clone()),
        Some(Kind::RestoreFile)
    );
    let claimed = claim_one(h, &agent2());
    assert_eq!(
        (claimed[0].id, claimed[0].status),
        (u.id, Status::UndoRunning)
    );
    assert!(claimed[0].active_attempt().expect("lease").undo);
    assert!(
        claim_one(h, &agent()).is_empty(),
        "a leased undo is not claimable"
    );
    h.clock.advance(Duration::seconds(30));
    let renewed = h
        .center
        .heartbeat(&agent2(), u.id, &tok(h, u.id), 60)
        .expect("heartbeat during undo");
    assert_eq!(
        (renewed.status, renewed.lease_until()),
        (
            Status::UndoRunning,
            Some(h.center.now() + Duration::seconds(60))
        )
    );
    let done = h
        .center
        .complete(&agent2(), u.id, &tok(h, u.id), json!({"restored": true}))
        .expect("complete");
    assert_eq!(done.status, Status::Undone);
}

pub fn failed_undo_can_be_undone_again(h: &Harness) {
    let u = undoing(h);
    claim_one(h, &agent());
    assert_eq!(
        h.center
            .fail(&agent(), u.id, &tok(h, u.id), "file in use")
            .expect("fail")
            .status,
        Status::UndoFailed
    );
    let again = h
        .center
        .undo(&bob(), u.id, &undo_req("retry restore"))
        .expect("undo again")
        .action;
    assert_eq!(again.status, Status::Undoing);
    assert_eq!(
        again.undo.as_ref().map(|x| x.requested_by.as_str()),
        Some("bob")
    );
}

pub fn undoing_lease_expiry_waits_for_another_executor(h: &Harness) {
    let u = undoing(h);
    claim_one(h, &agent());
    h.clock.advance(Duration::minutes(5));
    assert_eq!(h.center.recover_leases().expect("sweep").len(), 1);
    let b = stored(h, u.id);
    assert_eq!(
        (b.status, b.active_attempt().is_none()),
        (Status::Undoing, true)
    );
    assert_eq!(claim_one(h, &agent2())[0].id, u.id);
}

pub fn kinds_without_inverse_cannot_be_undone(h: &Harness) {
    with_policy(h, |p| {
        p.with_automation(Automation {
            default: AutomationLevel::Full,
            ..Automation::default()
        })
    });
    let a = h
        .center
        .propose(
            &air(),
            Proposal::new(Kind::RunAntivirusScan, device("d"), Source::Antivirus),
        )
        .expect("propose");
    claim_one(h, &agent());
    h.center
        .complete(&agent(), a.id, &tok(h, a.id), json!({}))
        .expect("complete");
    assert_validation(
        h.center
            .undo(&alice(), a.id, &undo_req("why"))
            .expect_err("no inverse"),
        "kind",
    );
}

pub fn undo_needs_a_comment(h: &Harness) {
    let a = completed(h);
    assert_validation(
        h.center
            .undo(&alice(), a.id, &undo_req(""))
            .expect_err("comment"),
        "comment",
    );
    assert_eq!(stored(h, a.id).status, Status::Completed);
}

pub fn undo_all_instances_fans_out_to_the_same_file_only(h: &Harness) {
    let same = complete_quarantines(h, &sha(7), &["d1", "d2", "d3"]);
    let other = complete_quarantines(h, &sha(8), &["d1"]);
    let confirmed: Vec<Seen> = h
        .center
        .undo_instances(&alice(), same[0].id)
        .expect("preview")
        .iter()
        .map(Seen::of)
        .collect();
    let request = UndoRequest {
        instances: confirmed,
        ..undo_req("false positive")
    };
    let report = h.center.undo(&alice(), same[0].id, &request).expect("undo");
    assert_eq!(report.action.status, Status::Undoing);
    let mut fanned: Vec<ActionId> = report.instances.iter().map(|r| r.id).collect();
    fanned.sort();
    let mut expected = vec![same[1].id, same[2].id];
    expected.sort();
    assert_eq!(fanned, expected);
    for item in &report.instances {
        let a = item.result.as_ref().expect("undone");
        assert_eq!(
            a.undo.as_ref().and_then(|u| u.fanned_out_from),
            Some(same[0].id)
        );
    }
    assert_eq!(stored(h, other[0].id).status, Status::Completed);
}

pub fn undo_instances_previews_the_fan_out(h: &Harness) {
    let same = complete_quarantines(h, &sha(7), &["d1", "d2", "d3"]);
    let preview = h
        .center
        .undo_instances(&alice(), same[1].id)
        .expect("preview");
    assert_eq!(preview.len(), 2);
    assert!(
        preview
            .iter()
            .all(|a| a.id != same[1].id && a.status == Status::Completed)
    );
    assert!(
        h.center
            .undo_instances(&alice(), isolate(h, "d").id)
            .expect("not a file")
            .is_empty()
    );
}

pub fn check_undo_refuses_what_undo_refuses_and_changes_nothing(h: &Harness) {
    let same = complete_quarantines(h, &sha(7), &["d1", "d2"]);
    let events = event_count(h);
    let others = h
        .center
        .check_undo(&alice(), same[0].id, Some("fp"))
        .expect("allowed");
    assert_eq!(
        others.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![same[1].id]
    );
    let denied = h
        .center
        .check_undo(&viewer(), same[0].id, None)
        .expect_err("viewer");
    assert!(
        matches!(
            denied,
            Error::PermissionDenied {
                operation: Operation::Undo,
                ..
            }
        ),
        "{denied:?}"
    );
    assert_validation(
        h.center
            .check_undo(&alice(), same[0].id, Some(" "))
            .expect_err("comment"),
        "comment",
    );
    let pending = quarantine(h, &sha(9), "d9");
    let wrong = h
        .center
        .check_undo(&alice(), pending.id, None)
        .expect_err("pending");
    assert_invalid(wrong, Status::Pending, Event::Undo);
    assert_eq!(event_count(h), events + 1);
    assert_eq!(stored(h, same[0].id).status, Status::Completed);
}

pub fn an_undo_waiting_is_not_an_undo_leased(h: &Harness) {
    let u = undoing(h);
    assert_eq!(
        (u.status, u.active_attempt().is_none()),
        (Status::Undoing, true)
    );
    let c = claim_one(h, &agent());
    assert_eq!(c[0].status, Status::UndoRunning);
    let counts = h
        .center
        .counts(&alice(), &Filter::default())
        .expect("counts");
    assert_eq!(
        (counts.get(Status::Undoing), counts.get(Status::UndoRunning)),
        (0, 1)
    );
}

pub fn undo_attempts_are_capped_like_the_forward_path(h: &Harness) {
    kind_rule(
        h,
        Kind::QuarantineFile,
        KindRule {
            max_attempts: Some(2),
            ..KindRule::default()
        },
    );
    let u = undoing(h);
    claim_one(h, &agent());
    h.center
        .fail(&agent(), u.id, &tok(h, u.id), "locked")
        .expect("fail 1");
    h.center
        .undo(&alice(), u.id, &undo_req("again"))
        .expect("undo 2");
    claim_one(h, &agent());
    // The executor dies: the lease runs out on the last undo attempt.
    h.clock.advance(Duration::minutes(2));
    let moved = h.center.recover_leases().expect("sweep");
    assert_eq!(moved[0].status, Status::UndoFailed);
    let err = h
        .center
        .undo(&alice(), u.id, &undo_req("third"))
        .expect_err("capped");
    assert_validation(err, "attempts");
}

pub fn undo_fans_out_only_to_the_confirmed_instances(h: &Harness) {
    let other = complete_quarantines(h, &sha(8), &["d1"]);
    let more = complete_quarantines(h, &sha(9), &["d1", "d2"]);
    let same = complete_quarantines(h, &sha(7), &["d1", "d2"]);
    let confirmed: Vec<Seen> = h
        .center
        .undo_instances(&alice(), same[0].id)
        .expect("preview")
        .iter()
        .map(Seen::of)
        .collect();
    assert_eq!(confirmed.len(), 1);
    // A new instance completes after the confirmation.
    let late = complete_quarantines(h, &sha(7), &["d3"]);
    let request = UndoRequest {
        instances: confirmed,
        ..undo_req("false positive")
    };
    let report = h.center.undo(&alice(), same[0].id, &request).expect("undo");
    assert_eq!(report.instances.len(), 1);
    assert_eq!(report.instances[0].id, same[1].id);
    assert_eq!(stored(h, late[0].id).status, Status::Completed);
    // A list naming an action that is no other instance of the file (an
    // unrelated one, the action itself, one twice) is bad input: the
    // whole undo is refused and nothing is undone.
    for (target, instances, field, why) in [
        (
            &late[0],
            vec![Seen::of(&other[0])],
            "instances[0]",
            "is no other quarantine of the same file",
        ),
        (
            &late[0],
            vec![Seen::of(&late[0])],
            "instances[0]",
            "is the action being undone itself",
        ),
        (
            &more[0],
            vec![Seen::of(&more[1]), Seen::of(&more[1])],
            "instances[1]",
            "is listed twice",
        ),
    ] {
        let request = UndoRequest {
            instances,
            ..undo_req("fp")
        };
        let err = h
            .center
            .undo(&alice(), target.id, &request)
            .expect_err("bad instances");
        assert!(
            matches!(&err, Error::Validation { field: f, message } if f == field && message.contains(why)),
            "{err:?}"
        );
        for untouched in [&late[0], &other[0], &more[0], &more[1]] {
            assert_eq!(stored(h, untouched.id).status, Status::Completed);
        }
    }
    // Who may not undo is refused as such, whatever the list names: the
    // answer tells nothing of the other actions.
    let request = UndoRequest {
        instances: vec![Seen::of(&other[0])],
        ..undo_req("fp")
    };
    let err = h
        .center
        .undo(&viewer(), late[0].id, &request)
        .expect_err("no undo");
    assert!(
        matches!(
            &err,
            Error::PermissionDenied {
                operation: Operation::Undo,
                ..
            }
        ),
        "{err:?}"
    );
}
