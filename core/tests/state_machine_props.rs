#![allow(clippy::unwrap_used)]
//! Random event sequences through the engine: every move it makes must be
//! a row of the table, every refusal must leave the action untouched, and
//! the audit chain must stay intact.

use std::sync::Arc;

use actioncenter::machine::TABLE;
use actioncenter::*;
use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Approve(u8),
    Reject,
    Cancel,
    Claim(u8),
    Heartbeat(u8),
    Complete(u8),
    Fail(u8),
    Retry,
    Undo,
    Wait(i64),
    ExpireDue,
    RecoverLeases,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..3).prop_map(Step::Approve),
        Just(Step::Reject),
        Just(Step::Cancel),
        (0u8..2).prop_map(Step::Claim),
        (0u8..2).prop_map(Step::Heartbeat),
        (0u8..2).prop_map(Step::Complete),
        (0u8..2).prop_map(Step::Fail),
        Just(Step::Retry),
        Just(Step::Undo),
        prop_oneof![Just(30i64), Just(120), Just(8 * 24 * 3600)].prop_map(Step::Wait),
        Just(Step::ExpireDue),
        Just(Step::RecoverLeases),
    ]
}

fn kind() -> impl Strategy<Value = (Kind, Entity)> {
    prop_oneof![
        Just((
            Kind::QuarantineFile,
            Entity::File {
                sha256: "a".repeat(64),
                path: "/tmp/x".into(),
                device_id: "d1".into()
            }
        )),
        Just((
            Kind::IsolateDevice,
            Entity::Device {
                device_id: "d1".into(),
                name: None
            }
        )),
        Just((
            Kind::RunAntivirusScan,
            Entity::Device {
                device_id: "d1".into(),
                name: None
            }
        )),
    ]
}

fn in_table(from: Option<Status>, event: Event, to: Status) -> bool {
    TABLE
        .iter()
        .any(|r| r.from == from && r.event == event && r.to.contains(&to))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn every_reached_status_is_allowed_by_the_table(
        (kind, entity) in kind(),
        quorum in 1u32..3,
        full_automation in any::<bool>(),
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        let clock = Arc::new(ManualClock::starting_at(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()));
        let mut policy = Policy::default()
            .with_kind_rule(kind.clone(), KindRule { quorum: Some(quorum), max_attempts: Some(2), ..KindRule::default() })
            .unwrap();
        if full_automation {
            policy = policy.with_automation(Automation { default: AutomationLevel::Full, ..Automation::default() });
        }
        let center = ActionCenter::with_clock(Arc::new(MemoryStore::new()), policy, clock.clone());
        let air = Principal::new("air", ["automation"]);
        let analysts: Vec<Principal> = (0..3).map(|i| Principal::new(format!("analyst-{i}"), ["analyst"])).collect();
        let agents: Vec<Principal> = (0..2).map(|i| Principal::new(format!("agent-{i}"), ["executor"])).collect();
        let source = Source::AutomatedInvestigation { investigation_id: "inv".into() };
        let action = center.propose(&air, Proposal::new(kind, entity, source)).unwrap();
        let id = action.id;
        // The bootstrap policy and the proposal.
        let mut seen = 2u64;

        for step in steps {
            let before = center.get(&analysts[0], id).unwrap();
            let token = before.lease_token().unwrap_or("no-lease").to_owned();
            let result: Result<()> = match &step {
                Step::Approve(i) => center.approve(&analysts[*i as usize], id, &Decide::default()).map(drop),
                Step::Reject => center.reject(&analysts[0], id, &Decide::with_comment("no")).map(drop),
                Step::Cancel => center.cancel(&analysts[1], id, "stop").map(drop),
                Step::Claim(i) => center
                    .claim(&agents[*i as usize], &ClaimRequest { limit: 1, lease_seconds: 60, kinds: None })
                    .map(drop),
                Step::Heartbeat(i) => center.heartbeat(&agents[*i as usize], id, &token, 60).map(drop),
                Step::Complete(i) => center.complete(&agents[*i as usize], id, &token, serde_json::json!({})).map(drop),
                Step::Fail(i) => center.fail(&agents[*i as usize], id, &token, "boom").map(drop),
                Step::Retry => center.retry(&analysts[0], id, None).map(drop),
                Step::Undo => center.undo(&analysts[2], id, &UndoRequest { comment: "fp".into(), ..UndoRequest::default() }).map(drop),
                Step::Wait(secs) => {
                    clock.advance(Duration::seconds(*secs));
                    Ok(())
                }
                Step::ExpireDue => center.expire_due().map(drop),
                Step::RecoverLeases => center.recover_leases().map(drop),
            };
            let after = center.get(&analysts[0], id).unwrap();
            let new_events = center.events_since(&analysts[0], seen, 100).unwrap();
            seen += new_events.len() as u64;
            for e in &new_events {
                let to = e.to.expect("an action's event has a status");
                prop_assert!(in_table(e.from, e.event, to), "{:?} {} -> {} is not in the table", e.from, e.event, to);
            }
            match result {
                Err(_) => {
                    prop_assert_eq!(&after, &before, "a refused {:?} changed the action", step);
                    prop_assert!(new_events.is_empty());
                }
                Ok(()) => {
                    if let Some(last) = new_events.last() {
                        prop_assert_eq!(last.to, Some(after.status));
                        prop_assert_eq!(last.version, Some(after.version));
                    } else if after != before {
                        // Only a heartbeat changes an action without an event.
                        prop_assert!(matches!(step, Step::Heartbeat(_)), "{:?} changed the action silently", step);
                        prop_assert_eq!(after.status, before.status);
                    }
                }
            }
            if before.status.is_final() {
                prop_assert_eq!(after.status, before.status, "left final status");
            }
        }
        prop_assert!(center.verify_audit().unwrap().is_intact());
    }
}
