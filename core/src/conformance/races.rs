//! Concurrent callers and a second handle on the same database.

use super::fixtures::*;

pub fn racing_approvers_leave_exactly_one_decision(h: &Harness) {
    let a = quarantine(h, &sha(1), "d");
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let results: Vec<Result<Action, Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let barrier = barrier.clone();
                let center = h.center.clone();
                s.spawn(move || {
                    let me = Principal::new(format!("analyst-{i}"), ["analyst"]);
                    barrier.wait();
                    center.approve(
                        &me,
                        a.id,
                        &Decide {
                            comment: None,
                            expected_version: Some(a.version),
                        },
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|t| t.join().expect("thread"))
            .collect()
    });
    let wins = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(Error::Conflict { .. })))
        .count();
    assert_eq!((wins, conflicts), (1, threads - 1), "{results:?}");
    let after = stored(h, a.id);
    assert_eq!((after.status, after.decisions.len()), (Status::Approved, 1));
    assert!(h.center.verify_audit().expect("verify").is_intact());
}

pub fn racing_approvers_without_a_version_still_leave_one_decision(h: &Harness) {
    let a = quarantine(h, &sha(1), "d");
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let results: Vec<Result<Action, Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let barrier = barrier.clone();
                let center = h.center.clone();
                s.spawn(move || {
                    let me = Principal::new(format!("analyst-{i}"), ["analyst"]);
                    barrier.wait();
                    center.approve(&me, a.id, &Decide::default())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|t| t.join().expect("thread"))
            .collect()
    });
    // A loser that read before the winner committed gets Conflict; one
    // that read after sees the action approved already.
    let wins = results.iter().filter(|r| r.is_ok()).count();
    let lost = results
        .iter()
        .filter(|r| {
            matches!(r, Err(Error::Conflict { .. }))
                || matches!(
                    r,
                    Err(Error::InvalidTransition {
                        status: Status::Approved,
                        ..
                    })
                )
        })
        .count();
    assert_eq!((wins, lost), (1, threads - 1), "{results:?}");
    assert_eq!(stored(h, a.id).decisions.len(), 1);
}

pub fn racing_claimers_never_share_an_action(h: &Harness) {
    with_policy(h, |p| {
        p.with_automation(Automation {
            default: AutomationLevel::Full,
            ..Automation::default()
        })
    });
    let total = 40;
    for i in 0..total {
        isolate(h, &format!("d{i}"));
    }
    let claimed: Vec<ActionId> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|w| {
                let center = h.center.clone();
                s.spawn(move || {
                    let me = Principal::new(format!("agent-{w}"), ["executor"]);
                    let mut mine = Vec::new();
                    loop {
                        let got = center
                            .claim(
                                &me,
                                &ClaimRequest {
                                    limit: 3,
                                    lease_seconds: 60,
                                    kinds: None,
                                },
                            )
                            .expect("claim");
                        if got.is_empty() {
                            return mine;
                        }
                        mine.extend(got.iter().map(|a| a.id));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|t| t.join().expect("thread"))
            .collect()
    });
    let mut unique = claimed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((claimed.len(), unique.len()), (total, total));
    assert!(h.center.verify_audit().expect("verify").is_intact());
}

pub fn a_second_handle_sees_the_same_database(h: &Harness) {
    let a = quarantine(h, &sha(1), "d");
    let other = ActionCenter::with_clock(h.reopen(), Policy::default(), h.clock.clone());
    other
        .approve(&alice(), a.id, &Decide::default())
        .expect("approve through the other handle");
    assert_eq!(stored(h, a.id).status, Status::Approved);
    assert_eq!(event_count(h), 2);
}
