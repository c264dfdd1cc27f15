//! Lists, pages, counts, id prefixes and the change feed.

use super::fixtures::*;

pub fn list_pages_newest_first_and_stays_stable(h: &Harness) {
    let mut made = Vec::new();
    for i in 0..7 {
        made.push(isolate(h, &format!("d{i}")).id);
        h.clock.advance(Duration::milliseconds(3));
    }
    let first = h
        .center
        .list(&alice(), &Filter::default(), &PageRequest::first(3))
        .expect("page 1");
    assert_eq!(
        first.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![made[6], made[5], made[4]]
    );
    isolate(h, "newcomer");
    let cursor = first.next_cursor.expect("more");
    let second = h
        .center
        .list(&alice(), &Filter::default(), &PageRequest::after(cursor, 3))
        .expect("page 2");
    assert_eq!(
        second.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![made[3], made[2], made[1]]
    );
    let third = h
        .center
        .list(
            &alice(),
            &Filter::default(),
            &PageRequest::after(second.next_cursor.expect("more"), 3),
        )
        .expect("3");
    assert_eq!(
        third.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![made[0]]
    );
    assert_eq!(third.next_cursor, None);
    let bad = h
        .center
        .list(&alice(), &Filter::default(), &PageRequest::after("nope", 3))
        .expect_err("cursor");
    assert_validation(bad, "cursor");
    assert_validation(
        h.center
            .list(&alice(), &Filter::default(), &PageRequest::first(0))
            .expect_err("limit"),
        "limit",
    );
}

pub fn list_filters_by_every_field(h: &Harness) {
    let q = quarantine(h, &sha(3), "dev-a");
    h.clock.advance(Duration::hours(1));
    let i = isolate(h, "dev-b");
    let av = h
        .center
        .propose(
            &bob(),
            Proposal::new(
                Kind::StopService,
                Entity::Service {
                    device_id: "dev-a".into(),
                    name: "evil".into(),
                },
                Source::Antivirus,
            ),
        )
        .expect("av");
    h.center
        .approve(&alice(), i.id, &Decide::default())
        .expect("approve");
    let ids = |f: Filter| -> Vec<ActionId> {
        let mut v: Vec<ActionId> = h
            .center
            .list(&alice(), &f, &PageRequest::first(100))
            .expect("list")
            .items
            .iter()
            .map(|a| a.id)
            .collect();
        v.sort();
        v
    };
    let sorted = |mut v: Vec<ActionId>| {
        v.sort();
        v
    };
    assert_eq!(
        ids(Filter {
            statuses: vec![Status::Approved],
            ..Filter::default()
        }),
        vec![i.id]
    );
    assert_eq!(
        ids(Filter {
            kinds: vec![Kind::QuarantineFile],
            ..Filter::default()
        }),
        vec![q.id]
    );
    assert_eq!(
        ids(Filter {
            categories: vec![Category::Device],
            ..Filter::default()
        }),
        sorted(vec![i.id, av.id])
    );
    assert_eq!(
        ids(Filter {
            sources: vec![SourceType::Antivirus],
            ..Filter::default()
        }),
        vec![av.id]
    );
    assert_eq!(
        ids(Filter::investigation("inv-1")),
        sorted(vec![q.id, i.id])
    );
    assert_eq!(
        ids(Filter {
            entity: Some("dev-a".into()),
            ..Filter::default()
        }),
        sorted(vec![q.id, av.id])
    );
    assert_eq!(
        ids(Filter {
            entity: Some(sha(3)),
            ..Filter::default()
        }),
        vec![q.id]
    );
    assert_eq!(
        ids(Filter {
            created_by: Some("bob".into()),
            ..Filter::default()
        }),
        vec![av.id]
    );
    assert_eq!(
        ids(Filter {
            decided_by: Some("alice".into()),
            ..Filter::default()
        }),
        vec![i.id]
    );
    let t = q.created_at + Duration::minutes(30);
    assert_eq!(
        ids(Filter {
            created_before: Some(t),
            ..Filter::default()
        }),
        vec![q.id]
    );
    assert_eq!(
        ids(Filter {
            created_after: Some(t),
            ..Filter::default()
        }),
        sorted(vec![i.id, av.id])
    );
    // Times outside the years every door can show are refused, as on
    // every other input.
    let year_zero = "0000-01-01T00:00:00Z".parse().expect("year 0");
    for f in [
        Filter {
            created_after: Some(year_zero),
            ..Filter::default()
        },
        Filter {
            created_before: Some(year_zero),
            ..Filter::default()
        },
    ] {
        let err = h
            .center
            .list(&alice(), &f, &PageRequest::default())
            .expect_err("year 0");
        assert!(
            matches!(&err, Error::Validation { field, .. } if field.starts_with("filter.created_")),
            "{err:?}"
        );
        assert!(h.center.counts(&alice(), &f).is_err());
    }
    // An empty name is a mistake (an unset variable), not a filter that
    // matches nothing, nor one that matches everything.
    let empty = [
        Filter {
            investigation_id: Some(String::new()),
            ..Filter::pending()
        },
        Filter {
            entity: Some(" ".into()),
            ..Filter::pending()
        },
        Filter {
            created_by: Some(String::new()),
            ..Filter::pending()
        },
        Filter {
            decided_by: Some(String::new()),
            ..Filter::pending()
        },
    ];
    for f in empty {
        let err = h
            .center
            .list(&alice(), &f, &PageRequest::default())
            .expect_err("empty");
        assert!(
            matches!(&err, Error::Validation { field, message } if field.starts_with("filter.")
                && message == "must not be empty"),
            "{err:?}"
        );
        assert!(h.center.counts(&alice(), &f).is_err());
        assert!(
            h.center
                .preview_bulk(&alice(), &crate::BulkOp::Approve { comment: None }, &f)
                .is_err()
        );
    }
    assert!(Filter::from_json(r#"{"created_by": ""}"#).is_err());
}

pub fn counts_per_status(h: &Harness) {
    quarantine(h, &sha(1), "d1");
    quarantine(h, &sha(2), "d2");
    completed(h);
    let counts = h
        .center
        .counts(&alice(), &Filter::default())
        .expect("counts");
    assert_eq!(
        (
            counts.get(Status::Pending),
            counts.get(Status::Completed),
            counts.get(Status::Failed)
        ),
        (2, 1, 0)
    );
    assert_eq!(counts.0.len(), Status::ALL.len());
    let only_pending = h
        .center
        .counts(&alice(), &Filter::pending())
        .expect("counts");
    assert_eq!(only_pending.total(), 2);
}

/// A policy with a role that views files only; fiona, who holds it.
fn file_viewer(h: &Harness) -> Principal {
    with_policy(h, |p| {
        Policy::from_json(&p.to_json().replacen(
            r#""viewer": {"#,
            r#""file_viewer": {"view": ["file"]}, "viewer": {"#,
            1,
        ))
        .expect("policy")
    });
    Principal::new("fiona", ["file_viewer"])
}

pub fn viewers_see_only_their_categories(h: &Harness) {
    let fv = file_viewer(h);
    let q = quarantine(h, &sha(1), "d1");
    let i = isolate(h, "d2");
    let page = h
        .center
        .list(&fv, &Filter::default(), &PageRequest::first(10))
        .expect("list");
    assert_eq!(
        page.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![q.id]
    );
    assert!(matches!(
        h.center.get(&fv, i.id),
        Err(Error::PermissionDenied { .. })
    ));
    assert_eq!(
        h.center
            .counts(&fv, &Filter::default())
            .expect("counts")
            .total(),
        1
    );
    assert!(matches!(
        h.center.events_since(&fv, 0, 10),
        Err(Error::PermissionDenied { .. })
    ));
}

pub fn resolve_id_accepts_unique_prefixes(h: &Harness) {
    let a = isolate(h, "d1");
    let full = a.id.to_string();
    assert_eq!(h.center.resolve_id(&full).expect("full"), a.id);
    assert_eq!(h.center.resolve_id(&full[..13]).expect("prefix"), a.id);
    isolate(h, "d2");
    let err = h.center.resolve_id(&full[..4]).expect_err("ambiguous");
    assert!(err.to_string().contains("is ambiguous"), "{err}");
    assert!(matches!(
        h.center.resolve_id("ffffffff"),
        Err(Error::NotFound { .. })
    ));
    assert_validation(h.center.resolve_id("zz").expect_err("not hex"), "id");
    // Without its dashes, past the first group: the same prefix.
    let undashed: String = full.chars().filter(|c| *c != '-').collect();
    for n in [30, 31, 32] {
        assert_eq!(
            h.center.resolve_id(&undashed[..n]).expect("undashed"),
            a.id,
            "{n} digits"
        );
    }
    // Longer than an id: refused, and the message does not repeat it all.
    for long in ["f".repeat(33), "a".repeat(50_000), "x".repeat(50_000)] {
        let err = h.center.resolve_id(&long).expect_err("too long");
        assert!(
            err.to_string().len() < 200,
            "{} bytes",
            err.to_string().len()
        );
        assert_validation(err, "id");
    }
}

/// A prefix finds, and an ambiguous one names, only the actions the
/// caller may view: walking prefixes lists nothing else.
pub fn a_prefix_finds_only_what_the_caller_may_view(h: &Harness) {
    let fv = file_viewer(h);
    let q = quarantine(h, &sha(1), "d1");
    let i = isolate(h, "d2");
    let (qs, is) = (q.id.to_string(), i.id.to_string());
    let common = qs
        .bytes()
        .zip(is.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    assert!(common >= 4, "{qs} and {is} share no prefix of four digits");
    let shared = &qs[..common.min(8)];
    let err = h.center.resolve_id(shared).expect_err("both");
    assert!(err.to_string().contains(&is), "{err}");
    let err = h.center.resolve_id_for(&alice(), shared).expect_err("both");
    assert!(
        err.to_string().contains(&qs) && err.to_string().contains(&is),
        "{err}"
    );
    // Fiona views files only: the prefix is the quarantine's alone.
    assert_eq!(h.center.resolve_id_for(&fv, shared).expect("hers"), q.id);
    assert_eq!(
        h.center.resolve_id(&is[..common + 1]).expect("unique"),
        i.id
    );
    let err = h
        .center
        .resolve_id_for(&fv, &is[..common + 1])
        .expect_err("not hers");
    // The answer for an id nobody has.
    assert!(
        matches!(&err, Error::NotFound { id } if *id == is[..common + 1]),
        "{err:?}"
    );
    // A full id is taken as it is; reading the action checks it.
    assert_eq!(h.center.resolve_id_for(&fv, &is).expect("full"), i.id);
    assert!(matches!(
        h.center.get(&fv, i.id),
        Err(Error::PermissionDenied { .. })
    ));
    // A caller who may view nothing finds nothing.
    let stranger = Principal::new("mallory", Vec::<String>::new());
    assert!(matches!(
        h.center.resolve_id_for(&stranger, shared),
        Err(Error::NotFound { .. })
    ));
    // Many isolations under one prefix are not counted either: the prefix
    // is still the quarantine's alone for fiona.
    let more: Vec<ActionId> = (3..12).map(|n| isolate(h, &format!("d{n}")).id).collect();
    let all = [q.id, i.id].into_iter().chain(more.iter().copied());
    let common = all
        .map(|id| id.to_string())
        .fold(qs.clone(), |p, id| {
            p.chars()
                .zip(id.chars())
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a)
                .collect()
        })
        .len();
    assert!(common >= 4, "eleven ids share no four digits");
    let shared = &qs[..common.min(8)];
    assert_eq!(h.center.resolve_id_for(&fv, shared).expect("hers"), q.id);
    let err = h.center.resolve_id(shared).expect_err("eleven");
    assert!(err.to_string().ends_with(", ..."), "{err}");
}

pub fn events_since_is_the_change_feed(h: &Harness) {
    let a = completed(h);
    let events = h.center.events_since(&alice(), 0, 100).expect("feed");
    let moves: Vec<(u64, Event, Option<Status>)> =
        events.iter().map(|e| (e.seq, e.event, e.to)).collect();
    // The first event stores the bootstrap policy.
    assert_eq!(
        moves,
        vec![
            (1, Event::SetPolicy, None),
            (2, Event::Propose, Some(Status::Pending)),
            (3, Event::Approve, Some(Status::Approved)),
            (4, Event::Claim, Some(Status::Running)),
            (5, Event::Complete, Some(Status::Completed)),
        ]
    );
    assert!(events[1..].iter().all(|e| e.action_id == Some(a.id)));
    let tail = h.center.events_since(&alice(), 3, 100).expect("tail");
    assert_eq!(tail.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![4, 5]);
    assert_eq!(
        h.center.events_since(&alice(), 1, 2).expect("limit").len(),
        2
    );
    assert!(
        h.center
            .events_since(&alice(), 5, 10)
            .expect("end")
            .is_empty()
    );
    // A position this trail never reached is another trail's.
    for past in [6, 1_000, i64::MAX as u64] {
        let err = h.center.events_since(&alice(), past, 10).expect_err("past");
        assert!(
            matches!(&err, Error::Validation { field, message }
                if field == "seq" && message.contains("last event (5)")),
            "{past}: {err:?}"
        );
    }
}

pub fn subscribers_hear_every_committed_event(h: &Harness) {
    let heard = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = heard.clone();
    let sub = h
        .center
        .subscribe(move |e| sink.lock().expect("lock").push((e.seq, e.event)));
    let a = quarantine(h, &sha(1), "d");
    let _ = h.center.approve(&viewer(), a.id, &Decide::default());
    h.center
        .approve(&alice(), a.id, &Decide::default())
        .expect("approve");
    h.center.unsubscribe(sub);
    h.center.cancel(&alice(), a.id, "x").expect("cancel");
    assert_eq!(
        *heard.lock().expect("lock"),
        vec![(2, Event::Propose), (3, Event::Approve)]
    );
}

pub fn subscriber_handles_are_never_reused(h: &Harness) {
    let heard = Arc::new(std::sync::Mutex::new(0));
    let first = h.center.subscribe(|_| {});
    h.center.unsubscribe(first);
    let sink = heard.clone();
    let second = h
        .center
        .subscribe(move |_| *sink.lock().expect("lock") += 1);
    assert_ne!(first, second);
    h.center.unsubscribe(first);
    quarantine(h, &sha(1), "d");
    assert_eq!(
        *heard.lock().expect("lock"),
        1,
        "a stale handle removed a live subscriber"
    );
}

/// Actions in several statuses, made in order, with one page boundary
/// falling inside each status: the pages must still run newest first.
pub fn pages_across_several_statuses_stay_newest_first(h: &Harness) {
    let mut made = Vec::new();
    for i in 0..9 {
        let a = isolate(h, &format!("d{i}"));
        h.clock.advance(Duration::milliseconds(3));
        match i % 3 {
            0 => {
                h.center
                    .reject(
                        &alice(),
                        a.id,
                        &Decide {
                            comment: Some("no".into()),
                            ..Decide::default()
                        },
                    )
                    .expect("reject");
            }
            1 => {
                h.center.cancel(&air(), a.id, "not needed").expect("cancel");
            }
            _ => {}
        }
        made.push(a.id);
    }
    let filter = Filter {
        statuses: vec![Status::Pending, Status::Rejected, Status::Cancelled],
        ..Filter::default()
    };
    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let got = h.center.list(&alice(), &filter, &page).expect("page");
        seen.extend(got.items.iter().map(|a| a.id));
        match got.next_cursor {
            Some(c) => page = PageRequest::after(c, 2),
            None => break,
        }
    }
    made.reverse();
    assert_eq!(seen, made);
    let rejected_only = h
        .center
        .list(
            &alice(),
            &Filter {
                statuses: vec![Status::Rejected],
                ..Filter::default()
            },
            &PageRequest::first(10),
        )
        .expect("rejected");
    assert_eq!(
        rejected_only.items.iter().map(|a| a.id).collect::<Vec<_>>(),
        vec![made[2], made[5], made[8]]
    );
}

/// The badge counts a backend keeps must match what it lists, for every
/// filter shape, after moves into and out of every queue.
pub fn counts_agree_with_the_listed_actions_after_every_kind_of_move(h: &Harness) {
    quarantine(h, &sha(1), "d1");
    isolate(h, "d2");
    completed(h);
    let r = running(h);
    h.center
        .fail(&agent(), r.id, &tok(h, r.id), "boom")
        .expect("fail");
    undoing(h);
    let other = h
        .center
        .propose(
            &air(),
            Proposal::new(Kind::IsolateDevice, device("d9"), investigation("inv-2")),
        )
        .expect("propose");
    h.center.cancel(&air(), other.id, "dup").expect("cancel");
    let filters = [
        Filter::default(),
        Filter::pending(),
        Filter::history(),
        Filter::investigation("inv-2"),
        Filter {
            categories: vec![Category::Device],
            ..Filter::default()
        },
        Filter {
            statuses: vec![Status::Pending, Status::Undoing],
            categories: vec![Category::File],
            ..Filter::default()
        },
        Filter {
            entity: Some("d2".into()),
            ..Filter::default()
        },
    ];
    for filter in filters {
        let counts = h.center.counts(&alice(), &filter).expect("counts");
        let listed = h
            .center
            .list(&alice(), &filter, &PageRequest::first(1000))
            .expect("list");
        for status in Status::ALL {
            let n = listed.items.iter().filter(|a| a.status == status).count() as u64;
            assert_eq!(counts.get(status), n, "{status} under {filter:?}");
        }
    }
}
