//! Bulk decisions by ids and by filter: each item on its own terms, at the
//! versions the caller saw.

use super::fixtures::*;

pub fn bulk_by_ids_reports_each_item(h: &Harness) {
    let a = quarantine(h, &sha(1), "d1");
    let b = quarantine(h, &sha(2), "d2");
    let done = completed(h);
    let ghost = ActionId::new_at(h.center.now());
    let ids = vec![a.id, ghost, done.id, b.id];
    let seen: Vec<Seen> = [&a, &a, &done, &b]
        .iter()
        .zip(&ids)
        .map(|(x, id)| Seen {
            id: *id,
            version: x.version,
        })
        .collect();
    let results = h
        .center
        .bulk(
            &alice(),
            &BulkOp::Approve { comment: None },
            &Selection::Ids(seen),
        )
        .expect("bulk");
    assert_eq!(results.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
    assert!(results[0].result.is_ok());
    assert!(matches!(results[1].result, Err(Error::NotFound { .. })));
    assert!(matches!(
        results[2].result,
        Err(Error::InvalidTransition {
            status: Status::Completed,
            ..
        })
    ));
    assert!(results[3].result.is_ok());
    assert_eq!(stored(h, a.id).status, Status::Approved);
    assert_eq!(stored(h, b.id).status, Status::Approved);
    let json = serde_json::to_value(&results[1]).expect("json");
    assert_eq!(
        (json["ok"].clone(), json["error"]["kind"].clone()),
        (json!(false), json!("not_found"))
    );
}

pub fn bulk_by_filter_touches_only_actions_it_can_move(h: &Harness) {
    let done = completed(h);
    let p1 = quarantine(h, &sha(2), "d2");
    let p2 = isolate(h, "d3");
    let elsewhere = h
        .center
        .propose(
            &air(),
            Proposal::new(Kind::IsolateDevice, device("d4"), investigation("inv-2")),
        )
        .expect("propose");
    let op = BulkOp::Reject {
        comment: "closed as benign".into(),
    };
    let filter = Filter::investigation("inv-1");
    let preview = h
        .center
        .preview_bulk(&alice(), &op, &filter)
        .expect("preview");
    assert_eq!(preview.count, 2);
    let results = h
        .center
        .bulk(
            &alice(),
            &op,
            &Selection::Filter {
                filter,
                snapshot: preview.snapshot,
            },
        )
        .expect("bulk");
    let mut ids: Vec<ActionId> = results.iter().map(|r| r.id).collect();
    ids.sort();
    assert_eq!(ids, vec![p1.id, p2.id]);
    assert!(results.iter().all(|r| r.result.is_ok()));
    assert_eq!(stored(h, done.id).status, Status::Completed);
    assert_eq!(stored(h, elsewhere.id).status, Status::Pending);
}

pub fn bulk_by_filter_never_reaches_past_what_the_caller_may_view(h: &Harness) {
    let policy = Policy::from_json(
        r#"{"roles": {"automation": {"propose": ["*"], "view": ["*"]},
                      "device_analyst": {"view": ["device"], "approve": ["device"]},
                      "analyst": {"view": ["*"]}, "admin": {"administer": ["*"]}}}"#,
    )
    .expect("policy");
    h.center
        .set_policy(&root(), policy, None, None)
        .expect("set");
    let file = quarantine(h, &sha(1), "d1");
    let dev = isolate(h, "d2");
    let dana = Principal::new("dana", ["device_analyst"]);
    let only_files = Filter {
        categories: vec![Category::File],
        ..Filter::investigation("inv-1")
    };
    let op = BulkOp::Approve { comment: None };
    let preview = h
        .center
        .preview_bulk(&dana, &op, &only_files)
        .expect("preview");
    assert_eq!(preview.count, 0);
    let results = h
        .center
        .bulk(
            &dana,
            &op,
            &Selection::Filter {
                filter: only_files,
                snapshot: preview.snapshot,
            },
        )
        .expect("bulk");
    assert!(results.is_empty(), "{results:?}");
    assert_eq!(stored(h, file.id).status, Status::Pending);
    assert_eq!(stored(h, dev.id).status, Status::Pending);
}

pub fn bulk_by_ids_acts_only_at_the_versions_seen(h: &Harness) {
    let a = quarantine(h, &sha(1), "d1");
    let b = quarantine(h, &sha(2), "d2");
    let seen = vec![Seen::of(&a), Seen::of(&b)];
    // Someone else approves b after the analyst looked.
    h.center.cancel(&air(), b.id, "withdrawn").expect("cancel");
    let results = h
        .center
        .bulk(
            &alice(),
            &BulkOp::Approve { comment: None },
            &Selection::Ids(seen),
        )
        .expect("bulk");
    assert!(results[0].result.is_ok());
    assert!(
        matches!(results[1].result, Err(Error::Conflict { .. })),
        "{:?}",
        results[1]
    );
    assert_eq!(stored(h, b.id).status, Status::Cancelled);
}

/// An id given twice is refused before anything is done: each action gets
/// one result.
pub fn bulk_refuses_an_id_listed_twice(h: &Harness) {
    let a = quarantine(h, &sha(1), "d1");
    let b = quarantine(h, &sha(2), "d2");
    let before = event_count(h);
    let err = h
        .center
        .bulk(
            &alice(),
            &BulkOp::Approve { comment: None },
            &Selection::Ids(vec![Seen::of(&a), Seen::of(&b), Seen::of(&a)]),
        )
        .expect_err("twice");
    assert!(err.to_string().contains("listed twice"), "{err}");
    assert_validation(err, "ids[2]");
    assert_eq!(event_count(h), before);
    assert_eq!(stored(h, a.id).status, Status::Pending);
    assert_eq!(stored(h, b.id).status, Status::Pending);
}

pub fn bulk_by_filter_refuses_a_selection_that_changed(h: &Harness) {
    quarantine(h, &sha(1), "d1");
    quarantine(h, &sha(2), "d2");
    let op = BulkOp::Approve { comment: None };
    let filter = Filter::investigation("inv-1");
    let preview = h
        .center
        .preview_bulk(&alice(), &op, &filter)
        .expect("preview");
    assert_eq!(preview.count, 2);
    // A proposal arrives after the analyst looked.
    let late = quarantine(h, &sha(3), "d3");
    let before = event_count(h);
    let err = h
        .center
        .bulk(
            &alice(),
            &op,
            &Selection::Filter {
                filter: filter.clone(),
                snapshot: preview.snapshot,
            },
        )
        .expect_err("changed");
    assert!(
        matches!(
            err,
            Error::SelectionChanged {
                previewed: 2,
                now: 3
            }
        ),
        "{err:?}"
    );
    assert_eq!(event_count(h), before);
    assert_eq!(stored(h, late.id).status, Status::Pending);
    // A token shown for approving the same actions does not reject them.
    let preview = h
        .center
        .preview_bulk(&alice(), &op, &filter)
        .expect("preview");
    let reject = BulkOp::Reject {
        comment: "not ours".into(),
    };
    let err = h
        .center
        .bulk(
            &alice(),
            &reject,
            &Selection::Filter {
                filter: filter.clone(),
                snapshot: preview.snapshot,
            },
        )
        .expect_err("previewed for approve");
    assert!(err.to_string().contains("previewed for approve"), "{err}");
    assert_validation(err, "snapshot");
    assert_eq!(event_count(h), before);
    assert_eq!(stored(h, late.id).status, Status::Pending);
    // Nor one whose operation selects otherwise: cancelling takes the
    // approved actions too, approving only the pending ones.
    h.center
        .approve(&alice(), late.id, &Decide::default())
        .expect("approve");
    let cancel = BulkOp::Cancel {
        comment: "withdrawn".into(),
    };
    let preview = h
        .center
        .preview_bulk(&alice(), &cancel, &filter)
        .expect("preview");
    assert_eq!(preview.count, 3);
    let before = event_count(h);
    let err = h
        .center
        .bulk(
            &alice(),
            &op,
            &Selection::Filter {
                filter: filter.clone(),
                snapshot: preview.snapshot,
            },
        )
        .expect_err("previewed for cancel");
    assert!(err.to_string().contains("previewed for cancel"), "{err}");
    assert_eq!(event_count(h), before);
    // A token no preview gave is malformed input, not a changed selection.
    for bogus in [
        "bogus",
        "",
        "3-",
        "-0123456789abcdef0123456789abcdef",
        "x-0123456789abcdef0123456789abcdef",
        // A count past u64 (it read as 0 actions previewed).
        "99999999999999999999-0123456789abcdef0123456789abcdef",
    ] {
        let err = h
            .center
            .bulk(
                &alice(),
                &op,
                &Selection::Filter {
                    filter: Filter::investigation("inv-1"),
                    snapshot: bogus.to_owned(),
                },
            )
            .expect_err("bogus");
        assert_validation(err, "snapshot");
    }
    assert_eq!(event_count(h), before);
}

/// Items the store itself refuses in a bulk call (a version that moved on
/// after the engine read the action, a policy replaced meanwhile) keep
/// nothing of theirs, between items it applies: rows, counts and trail
/// are as if they had not been sent.
pub fn items_the_store_refuses_leave_no_trace(h: &Harness) {
    use crate::audit::{NewEvent, action_digest};
    use crate::store::Change;

    let items: Vec<Action> = (1..=4)
        .map(|n| quarantine(h, &sha(n), &format!("d{n}")))
        .collect();
    let policy = h.center.stored_policy().expect("policy").version;
    let approve = |a: &Action, expected: u64, decided_under: u64| {
        let mut next = a.clone();
        next.status = Status::Approved;
        next.expires_at = None;
        next.version = a.version + 1;
        next.updated_at = h.center.now();
        let event = NewEvent {
            action_id: Some(a.id),
            at: next.updated_at,
            actor: alice().id,
            via: None,
            event: Event::Approve,
            from: Some(a.status),
            to: Some(Status::Approved),
            comment: None,
            version: next.version,
            digest: action_digest(&next),
            policy_version: Some(decided_under),
        };
        Change {
            action: next,
            expected_version: expected,
            event: Some(event),
            policy_version: Some(decided_under),
            basis: None,
        }
    };
    let before = event_count(h);
    let results = h
        .center
        .store()
        .apply_many(vec![
            approve(&items[0], 1, policy),
            approve(&items[1], 2, policy),
            approve(&items[2], 1, policy + 1),
            approve(&items[3], 1, policy),
        ])
        .expect("one call");
    assert!(results[0].is_ok() && results[3].is_ok(), "{results:?}");
    assert!(
        matches!(
            results[1],
            Err(Error::Conflict {
                expected: 2,
                actual: 1,
                ..
            })
        ),
        "{:?}",
        results[1]
    );
    assert!(
        matches!(results[2], Err(Error::PolicyChanged { .. })),
        "{:?}",
        results[2]
    );
    for refused in &items[1..3] {
        assert_eq!(&stored(h, refused.id), refused);
    }
    assert_eq!(stored(h, items[3].id).status, Status::Approved);
    assert_eq!(event_count(h), before + 2);
    let counts = h
        .center
        .counts(&alice(), &Filter::default())
        .expect("counts");
    assert_eq!(
        (counts.get(Status::Pending), counts.get(Status::Approved)),
        (2, 2)
    );
    let report = h.center.verify_audit().expect("verify");
    assert!(report.is_intact(), "{report:?}");
}
