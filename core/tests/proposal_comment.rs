//! A proposal's comment is the audit trail's record of why.

use actioncenter::*;

fn isolation(source: Source, comment: Option<&str>) -> Proposal {
    let device = Entity::Device {
        device_id: "dev-1".into(),
        name: None,
    };
    Proposal {
        comment: comment.map(str::to_owned),
        ..Proposal::new(Kind::IsolateDevice, device, source)
    }
}

#[test]
fn the_comment_of_a_manual_response_is_on_its_event_and_its_decision() -> Result<()> {
    let center = ActionCenter::in_memory();
    let alice = Principal::new("alice", ["analyst"]);
    let source = Source::ManualResponse {
        person: "alice".into(),
    };
    let action = center.propose(&alice, isolation(source, Some("beaconing")))?;
    assert_eq!(action.decisions[0].comment.as_deref(), Some("beaconing"));
    let events = center.history_of(&alice, action.id)?;
    assert_eq!(events[0].comment.as_deref(), Some("beaconing"));
    Ok(())
}

#[test]
fn a_proposal_comment_past_the_limit_is_refused_and_stores_nothing() -> Result<()> {
    let center = ActionCenter::in_memory();
    let air = Principal::new("air", ["automation"]);
    let source = Source::Antivirus;
    let long = "x".repeat(5000);
    let err = center
        .propose(&air, isolation(source, Some(&long)))
        .expect_err("too long");
    assert_eq!(err.kind(), ErrorKind::Validation);
    assert_eq!(center.counts(&air, &Filter::default())?.total(), 0);
    Ok(())
}
