//! One conformance suite for every backend.
//!
//! Each case is a function of a [`Harness`]. The [`suite!`] macro holds
//! the list of cases once and expands one `#[test]` per case per backend,
//! so no backend can leave a case out; a case missing from the list is
//! dead code, which the lints refuse.

use std::sync::{Arc, Barrier};

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;

use crate::audit::Mismatch;
use crate::checkpoint::Checkpoint;
use crate::engine::{
    ActionCenter, BulkOp, ClaimRequest, Decide, Proposal, Seen, Selection, UndoRequest,
};
use crate::error::Error;
use crate::machine::{Event, ExpiryOutcome};
use crate::model::{Action, ActionId, Category, Entity, Kind, Outcome, Source, SourceType, Status};
use crate::policy::{Automation, AutomationLevel, KindRule, Operation, Policy, Principal};
use crate::query::{Filter, PageRequest};
use crate::store::Store;
use crate::{ManualClock, MemoryStore};

/// A fresh engine over one backend, with a manual clock.
pub(crate) struct Harness {
    pub center: ActionCenter,
    pub clock: Arc<ManualClock>,
    /// Overwrites the comment of audit event `seq` behind the engine's back.
    pub tamper: Box<dyn Fn(u64)>,
    /// Opens a second engine on the same database (another "process").
    pub reopen: Box<dyn Fn() -> Arc<dyn Store>>,
    /// Writes an action's row as given, behind the engine's back: no
    /// compare-and-set, no audit event.
    pub rewrite: Box<dyn Fn(&Action)>,
    /// Deletes every audit event after the first `n`, behind the engine's back.
    pub truncate: Box<dyn Fn(u64)>,
    _keep: Box<dyn std::any::Any>,
}

fn start() -> Arc<ManualClock> {
    Arc::new(ManualClock::starting_at(
        Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
            .single()
            .unwrap_or_default(),
    ))
}

pub(crate) fn memory() -> Option<Harness> {
    let store = Arc::new(MemoryStore::new());
    let clock = start();
    let center = ActionCenter::with_clock(store.clone(), Policy::default(), clock.clone());
    center.stored_policy().expect("bootstrap policy");
    let tamper_store = store.clone();
    let reopen_store = store.clone();
    let rewrite_store = store.clone();
    let truncate_store = store.clone();
    Some(Harness {
        center,
        clock,
        tamper: Box::new(move |seq| {
            tamper_store
                .tamper_with_event(seq, "tampered")
                .expect("tamper")
        }),
        reopen: Box::new(move || reopen_store.clone() as Arc<dyn Store>),
        rewrite: Box::new(move |a| {
            let a = a.clone();
            rewrite_store
                .tamper_with_action(a.id, |stored| *stored = a)
                .expect("rewrite")
        }),
        truncate: Box::new(move |n| {
            let total = truncate_store.chain_head().expect("head").0;
            truncate_store
                .truncate_events(usize::try_from(total - n).expect("n"))
                .expect("truncate")
        }),
        _keep: Box::new(()),
    })
}

#[cfg(feature = "sqlite")]
pub(crate) fn sqlite() -> Option<Harness> {
    use crate::store::SqliteStore;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("actioncenter.db");
    let store = Arc::new(SqliteStore::open(&path).expect("open sqlite"));
    let clock = start();
    let center = ActionCenter::with_clock(store, Policy::default(), clock.clone());
    center.stored_policy().expect("bootstrap policy");
    let tamper_path = path.clone();
    let rewrite_path = path.clone();
    let truncate_path = path.clone();
    Some(Harness {
        center,
        clock,
        tamper: Box::new(move |seq| {
            let conn = rusqlite::Connection::open(&tamper_path).expect("open");
            conn.execute(
                "UPDATE events SET comment = 'tampered' WHERE seq = ?1",
                [seq as i64],
            )
            .expect("tamper");
        }),
        reopen: Box::new(move || {
            Arc::new(SqliteStore::open(&path).expect("reopen")) as Arc<dyn Store>
        }),
        rewrite: Box::new(move |a| {
            let conn = rusqlite::Connection::open(&rewrite_path).expect("open");
            let doc = serde_json::to_string(a).expect("doc");
            conn.execute(
                "UPDATE actions SET status = ?1, version = ?2, doc = ?3 WHERE id = ?4",
                rusqlite::params![a.status.as_str(), a.version as i64, doc, a.id.to_string()],
            )
            .expect("rewrite");
        }),
        truncate: Box::new(move |n| {
            let conn = rusqlite::Connection::open(&truncate_path).expect("open");
            conn.execute("DELETE FROM events WHERE seq > ?1", [n as i64])
                .expect("truncate");
        }),
        _keep: Box::new(dir),
    })
}

/// A fresh schema on the test server (see [`pg_test_cluster`]); `None`
/// when there is no server and the tests may skip.
///
/// [`pg_test_cluster`]: crate::store::pg_test_cluster
#[cfg(feature = "postgres")]
pub(crate) fn postgres() -> Option<Harness> {
    use crate::store::pg_test_cluster::{TestSchema, server};
    use crate::store::{PostgresOptions, PostgresStore};
    let url = server()?;
    let schema = TestSchema::new(&url);
    let options = PostgresOptions {
        pool_size: 4,
        ..PostgresOptions::in_schema(schema.name())
    };
    let store = Arc::new(PostgresStore::connect_with(&url, &options).expect("open postgres"));
    let clock = start();
    let center = ActionCenter::with_clock(store.clone(), Policy::default(), clock.clone());
    center.stored_policy().expect("bootstrap policy");
    let (rewrite_store, truncate_store) = (store.clone(), store.clone());
    Some(Harness {
        center,
        clock,
        rewrite: Box::new(move |a| {
            let doc = serde_json::to_string(a).expect("doc");
            rewrite_store
                .tamper_sql(
                    "UPDATE actions SET status = $1, version = $2, doc = $3::text::jsonb WHERE id = $4",
                    &[&a.status.as_str(), &(a.version as i64), &doc, &a.id.to_string()],
                )
                .expect("rewrite");
        }),
        truncate: Box::new(move |n| {
            truncate_store
                .tamper_sql("DELETE FROM events WHERE seq > $1", &[&(n as i64)])
                .expect("truncate");
        }),
        tamper: Box::new(move |seq| store.tamper_with_event(seq, "tampered").expect("tamper")),
        reopen: Box::new(move || {
            Arc::new(PostgresStore::connect_with(&url, &options).expect("reopen")) as Arc<dyn Store>
        }),
        // Dropped last: the schema goes once the stores are closed.
        _keep: Box::new(schema),
    })
}

/// Expands one `#[test]` per case for a backend. The case list lives here, once.
macro_rules! suite {
    ($backend:ident, $make:path) => {
        mod $backend {
            suite!(@cases $make;
                propose_needing_approval_is_pending,
                propose_under_full_automation_is_approved,
                manual_response_starts_approved,
                manual_response_for_someone_else_is_refused,
                manual_response_needs_approve_and_counts_toward_the_quorum,
                automation_none_refuses_automated_proposals,
                approve_moves_pending_to_approved,
                approval_short_of_quorum_stays_pending,
                same_approver_twice_does_not_make_a_quorum,
                reject_needs_a_comment_and_records_it,
                expire_due_closes_pending_past_their_window,
                expiry_outcome_can_be_reject,
                approving_after_the_window_closed_is_expired,
                rejecting_after_the_window_closed_is_expired,
                proposer_may_cancel_without_cancel_permission,
                others_need_cancel_permission_and_a_comment,
                claim_takes_approved_actions_with_a_lease,
                complete_records_the_result,
                fail_records_the_error,
                only_the_lease_holder_may_finish,
                finishing_after_the_lease_ran_out_is_expired,
                heartbeat_extends_the_lease,
                expired_lease_returns_the_action_to_the_queue,
                expired_lease_after_the_last_attempt_fails_the_action,
                retry_is_limited_by_max_attempts,
                undo_runs_the_inverse_to_undone,
                failed_undo_can_be_undone_again,
                undoing_lease_expiry_waits_for_another_executor,
                kinds_without_inverse_cannot_be_undone,
                undo_needs_a_comment,
                final_statuses_refuse_every_event,
                invalid_transition_names_status_and_event,
                unknown_id_is_not_found,
                missing_permission_is_denied_and_named,
                self_approval_is_refused_admins_too,
                self_approval_when_the_policy_allows_it,
                stale_expected_version_is_a_conflict,
                bad_proposals_change_nothing,
                unknown_role_is_a_validation_error,
                undo_all_instances_fans_out_to_the_same_file_only,
                undo_instances_previews_the_fan_out,
                check_undo_refuses_what_undo_refuses_and_changes_nothing,
                bulk_by_ids_reports_each_item,
                bulk_by_filter_touches_only_actions_it_can_move,
                bulk_by_filter_never_reaches_past_what_the_caller_may_view,
                list_pages_newest_first_and_stays_stable,
                list_filters_by_every_field,
                counts_per_status,
                viewers_see_only_their_categories,
                resolve_id_accepts_unique_prefixes,
                events_since_is_the_change_feed,
                subscribers_hear_every_committed_event,
                subscriber_handles_are_never_reused,
                audit_trail_verifies,
                tampering_is_found_at_the_first_bad_event,
                racing_approvers_leave_exactly_one_decision,
                racing_approvers_without_a_version_still_leave_one_decision,
                racing_claimers_never_share_an_action,
                a_second_handle_sees_the_same_database,
                a_rejected_row_edited_to_approved_is_found_and_never_claimed,
                an_action_pointed_at_another_device_is_found,
                a_history_the_table_does_not_allow_is_found,
                a_cut_tail_is_found_below_the_latest_checkpoint,
                a_checkpoint_needs_its_signer_and_administer,
                an_exported_checkpoint_finds_deleted_checkpoints,
                every_handle_enforces_the_stored_policy,
                a_policy_change_needs_administer_and_is_audited,
                a_decision_records_the_policy_it_was_made_under,
                a_stale_policy_version_is_refused,
                acting_as_another_needs_administer_and_is_recorded,
                authorize_follows_the_tables_who_column,
                a_stale_lease_token_is_refused_whoever_presents_it,
                an_undo_waiting_is_not_an_undo_leased,
                undo_attempts_are_capped_like_the_forward_path,
                bulk_by_ids_acts_only_at_the_versions_seen,
                bulk_by_filter_refuses_a_selection_that_changed,
                undo_fans_out_only_to_the_confirmed_instances,
                a_retried_proposal_returns_the_original,
                an_idempotency_key_reused_for_another_proposal_is_refused,
                a_second_active_action_on_an_entity_is_a_duplicate,
                duplicates_are_allowed_where_the_policy_says_so,
                a_clock_past_what_doors_can_show_is_refused,
                fields_a_newer_library_wrote_survive_a_rewrite,
                pages_across_several_statuses_stay_newest_first,
                counts_agree_with_the_listed_actions_after_every_kind_of_move,
                claims_take_the_oldest_and_a_recovered_lease_rejoins_in_its_place,
                decided_actions_leave_the_expiry_sweep,
                accounts_are_created_once_and_replaced_only_when_they_exist,
                credentials_are_found_by_hash_and_listed_oldest_first,
                touch_moves_only_live_credentials,
                revoking_counts_only_live_credentials,
                hits_count_within_a_window_and_start_again_in_the_next,
                adding_a_user_needs_administer_and_a_principal_of_the_policy,
                signing_in_gives_a_session_and_says_nothing_of_which_part_was_wrong,
                a_disabled_account_is_refused_and_its_sessions_and_tokens_end,
                sign_in_is_throttled_per_account,
                a_session_ends_after_its_idle_and_absolute_timeouts,
                an_api_token_ends_at_its_expiry,
                a_revoked_token_is_refused_and_listed_without_its_secret,
                roles_come_from_the_stored_policy_at_every_call,
                a_session_by_groups_gets_its_roles_from_the_groups_at_every_call,
            );
        }
    };
    (@cases $make:path; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                match $make() {
                    Some(h) => super::$case(&h),
                    None => eprintln!("skipped {}: backend not available", stringify!($case)),
                }
            }
        )*
    };
}

suite!(memory_backend, super::memory);
#[cfg(feature = "sqlite")]
suite!(sqlite_backend, super::sqlite);
#[cfg(feature = "postgres")]
suite!(postgres_backend, super::postgres);

// ----- fixtures ------------------------------------------------------------

fn air() -> Principal {
    Principal::new("air", ["automation"])
}
fn alice() -> Principal {
    Principal::new("alice", ["analyst"])
}
fn bob() -> Principal {
    Principal::new("bob", ["analyst"])
}
fn agent() -> Principal {
    Principal::new("agent-1", ["executor"])
}
fn agent2() -> Principal {
    Principal::new("agent-2", ["executor"])
}
fn viewer() -> Principal {
    Principal::new("vera", ["viewer"])
}

fn sha(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

fn file_on(hash: &str, device: &str) -> Entity {
    Entity::File {
        sha256: hash.to_owned(),
        path: "C:\\Users\\x\\evil.exe".into(),
        device_id: device.into(),
    }
}

fn device(id: &str) -> Entity {
    Entity::Device {
        device_id: id.into(),
        name: None,
    }
}

fn investigation(id: &str) -> Source {
    Source::AutomatedInvestigation {
        investigation_id: id.into(),
    }
}

fn quarantine(h: &Harness, hash: &str, dev: &str) -> Action {
    h.center
        .propose(
            &air(),
            Proposal::new(
                Kind::QuarantineFile,
                file_on(hash, dev),
                investigation("inv-1"),
            ),
        )
        .expect("propose")
}

fn isolate(h: &Harness, dev: &str) -> Action {
    h.center
        .propose(
            &air(),
            Proposal::new(Kind::IsolateDevice, device(dev), investigation("inv-1")),
        )
        .expect("propose")
}

fn approved(h: &Harness) -> Action {
    let a = quarantine(h, &sha(1), "dev-1");
    h.center
        .approve(&alice(), a.id, &Decide::default())
        .expect("approve")
}

fn running(h: &Harness) -> Action {
    let a = approved(h);
    let claimed = h
        .center
        .claim(
            &agent(),
            &ClaimRequest {
                limit: 1,
                lease_seconds: 60,
                kinds: vec![],
            },
        )
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].id, a.id);
    claimed.into_iter().next().expect("one")
}

fn completed(h: &Harness) -> Action {
    let a = running(h);
    h.center
        .complete(&agent(), a.id, &tok(h, a.id), json!({"ok": true}))
        .expect("complete")
}

fn undoing(h: &Harness) -> Action {
    let a = completed(h);
    h.center
        .undo(&alice(), a.id, &undo_req("false positive"))
        .expect("undo")
        .action
}

fn undo_req(comment: &str) -> UndoRequest {
    UndoRequest {
        comment: comment.into(),
        ..UndoRequest::default()
    }
}

/// The lease token of the claim an action is under now.
fn tok(h: &Harness, id: ActionId) -> String {
    stored(h, id).lease_token().unwrap_or_default().to_owned()
}

fn root() -> Principal {
    Principal::new("root", ["admin"])
}

fn claim_one(h: &Harness, who: &Principal) -> Vec<Action> {
    h.center
        .claim(
            who,
            &ClaimRequest {
                limit: 1,
                lease_seconds: 60,
                kinds: vec![],
            },
        )
        .expect("claim")
}

fn stored(h: &Harness, id: ActionId) -> Action {
    h.center.get(&alice(), id).expect("get")
}

/// How many events of actions the trail holds (not of the policy).
fn event_count(h: &Harness) -> usize {
    h.center
        .events_since(&alice(), 0, 1000)
        .expect("events")
        .iter()
        .filter(|e| e.action_id.is_some())
        .count()
}

fn with_policy(h: &Harness, f: impl FnOnce(Policy) -> Policy) {
    h.center
        .set_policy(&root(), f(Policy::default()), None, None)
        .expect("policy");
}

fn kind_rule(h: &Harness, kind: Kind, rule: KindRule) {
    with_policy(h, |p| p.with_kind_rule(kind, rule).expect("rule"));
}

#[track_caller]
fn assert_invalid(err: Error, status: Status, event: Event) {
    match err {
        Error::InvalidTransition {
            status: s,
            event: e,
            ..
        } => assert_eq!((s, e), (status, event)),
        other => panic!("expected InvalidTransition {status}/{event}, got {other:?}"),
    }
}

#[track_caller]
fn assert_validation(err: Error, field: &str) {
    match err {
        Error::Validation { field: f, .. } => assert_eq!(f, field),
        other => panic!("expected Validation of {field}, got {other:?}"),
    }
}

// ----- the state machine, row by row -------------------------------------

fn propose_needing_approval_is_pending(h: &Harness) {
    let a = quarantine(h, &sha(1), "dev-1");
    assert_eq!(a.status, Status::Pending);
    assert_eq!(a.expires_at, Some(h.center.now() + Duration::days(7)));
    assert_eq!(a.investigation_id.as_deref(), Some("inv-1"));
    assert_eq!(a.category, Category::File);
    assert_eq!(stored(h, a.id), a);
}

fn propose_under_full_automation_is_approved(h: &Harness) {
    with_policy(h, |p| {
        p.with_automation(Automation {
            default: AutomationLevel::Full,
            ..Automation::default()
        })
    });
    let a = quarantine(h, &sha(1), "dev-1");
    assert_eq!((a.status, a.expires_at), (Status::Approved, None));
}

fn manual_response_starts_approved(h: &Harness) {
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

fn manual_response_for_someone_else_is_refused(h: &Harness) {
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

fn manual_response_needs_approve_and_counts_toward_the_quorum(h: &Harness) {
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

fn automation_none_refuses_automated_proposals(h: &Harness) {
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

fn approve_moves_pending_to_approved(h: &Harness) {
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

fn approval_short_of_quorum_stays_pending(h: &Harness) {
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

fn same_approver_twice_does_not_make_a_quorum(h: &Harness) {
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

fn reject_needs_a_comment_and_records_it(h: &Harness) {
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

fn expire_due_closes_pending_past_their_window(h: &Harness) {
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

fn expiry_outcome_can_be_reject(h: &Harness) {
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

fn approving_after_the_window_closed_is_expired(h: &Harness) {
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

fn rejecting_after_the_window_closed_is_expired(h: &Harness) {
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

fn proposer_may_cancel_without_cancel_permission(h: &Harness) {
    let a = quarantine(h, &sha(1), "dev-1");
    let c = h.center.cancel(&air(), a.id, "superseded").expect("cancel");
    assert_eq!(c.status, Status::Cancelled);
    assert_eq!(
        c.cancellation.as_ref().map(|n| n.comment.as_str()),
        Some("superseded")
    );
}

fn others_need_cancel_permission_and_a_comment(h: &Harness) {
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

fn claim_takes_approved_actions_with_a_lease(h: &Harness) {
    let a = approved(h);
    let pending = quarantine(h, &sha(2), "dev-2");
    let claimed = h
        .center
        .claim(
            &agent(),
            &ClaimRequest {
                limit: 10,
                lease_seconds: 90,
                kinds: vec![],
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

fn complete_records_the_result(h: &Harness) {
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

fn fail_records_the_error(h: &Harness) {
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

fn only_the_lease_holder_may_finish(h: &Harness) {
    let a = running(h);
    let err = h
        .center
        .complete(&agent2(), a.id, &tok(h, a.id), json!({}))
        .expect_err("not holder");
    assert!(err.to_string().contains("held by agent-1"), "{err}");
    assert_eq!(stored(h, a.id), a);
}

fn finishing_after_the_lease_ran_out_is_expired(h: &Harness) {
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

fn heartbeat_extends_the_lease(h: &Harness) {
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

fn expired_lease_returns_the_action_to_the_queue(h: &Harness) {
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

fn expired_lease_after_the_last_attempt_fails_the_action(h: &Harness) {
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

fn retry_is_limited_by_max_attempts(h: &Harness) {
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

fn undo_runs_the_inverse_to_undone(h: &Harness) {
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

fn failed_undo_can_be_undone_again(h: &Harness) {
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

fn undoing_lease_expiry_waits_for_another_executor(h: &Harness) {
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

fn kinds_without_inverse_cannot_be_undone(h: &Harness) {
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

fn undo_needs_a_comment(h: &Harness) {
    let a = completed(h);
    assert_validation(
        h.center
            .undo(&alice(), a.id, &undo_req(""))
            .expect_err("comment"),
        "comment",
    );
    assert_eq!(stored(h, a.id).status, Status::Completed);
}

fn final_statuses_refuse_every_event(h: &Harness) {
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

fn invalid_transition_names_status_and_event(h: &Harness) {
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

// ----- errors ----------------------------------------------------------------

fn unknown_id_is_not_found(h: &Harness) {
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

fn missing_permission_is_denied_and_named(h: &Harness) {
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

fn self_approval_is_refused_admins_too(h: &Harness) {
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

fn self_approval_when_the_policy_allows_it(h: &Harness) {
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

fn stale_expected_version_is_a_conflict(h: &Harness) {
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

fn bad_proposals_change_nothing(h: &Harness) {
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

fn unknown_role_is_a_validation_error(h: &Harness) {
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

// ----- undo fan-out -------------------------------------------------------

fn complete_quarantines(h: &Harness, hash: &str, devices: &[&str]) -> Vec<Action> {
    let ids: Vec<ActionId> = devices.iter().map(|d| quarantine(h, hash, d).id).collect();
    for id in &ids {
        h.center
            .approve(&alice(), *id, &Decide::default())
            .expect("approve");
    }
    let claimed = h
        .center
        .claim(
            &agent(),
            &ClaimRequest {
                limit: 100,
                lease_seconds: 60,
                kinds: vec![],
            },
        )
        .expect("claim");
    assert_eq!(claimed.len(), ids.len());
    ids.iter()
        .map(|id| {
            h.center
                .complete(&agent(), *id, &tok(h, *id), json!({}))
                .expect("complete")
        })
        .collect()
}

fn undo_all_instances_fans_out_to_the_same_file_only(h: &Harness) {
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

fn undo_instances_previews_the_fan_out(h: &Harness) {
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

fn check_undo_refuses_what_undo_refuses_and_changes_nothing(h: &Harness) {
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

// ----- bulk ------------------------------------------------------------------

fn bulk_by_ids_reports_each_item(h: &Harness) {
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

fn bulk_by_filter_touches_only_actions_it_can_move(h: &Harness) {
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

fn bulk_by_filter_never_reaches_past_what_the_caller_may_view(h: &Harness) {
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

// ----- queries ---------------------------------------------------------------

fn list_pages_newest_first_and_stays_stable(h: &Harness) {
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

fn list_filters_by_every_field(h: &Harness) {
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
}

fn counts_per_status(h: &Harness) {
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

fn viewers_see_only_their_categories(h: &Harness) {
    with_policy(h, |p| {
        Policy::from_json(&p.to_json().replacen(
            r#""viewer": {"#,
            r#""file_viewer": {"view": ["file"]}, "viewer": {"#,
            1,
        ))
        .expect("policy")
    });
    let q = quarantine(h, &sha(1), "d1");
    let i = isolate(h, "d2");
    let fv = Principal::new("fiona", ["file_viewer"]);
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

fn resolve_id_accepts_unique_prefixes(h: &Harness) {
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
}

// ----- feed and audit ------------------------------------------------------

fn events_since_is_the_change_feed(h: &Harness) {
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
}

fn subscribers_hear_every_committed_event(h: &Harness) {
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

fn subscriber_handles_are_never_reused(h: &Harness) {
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

fn audit_trail_verifies(h: &Harness) {
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

fn tampering_is_found_at_the_first_bad_event(h: &Harness) {
    completed(h);
    quarantine(h, &sha(5), "d5");
    (h.tamper)(3);
    let report = h.center.verify_audit().expect("verify");
    let bad = report.first_bad.expect("tamper found");
    assert_eq!((bad.seq, bad.mismatch), (3, Mismatch::Hash));
    assert_eq!(report.events_checked, 3);
}

// ----- concurrency -----------------------------------------------------------

fn racing_approvers_leave_exactly_one_decision(h: &Harness) {
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

fn racing_approvers_without_a_version_still_leave_one_decision(h: &Harness) {
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

fn racing_claimers_never_share_an_action(h: &Harness) {
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
                                    kinds: vec![],
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

fn a_second_handle_sees_the_same_database(h: &Harness) {
    let a = quarantine(h, &sha(1), "d");
    let other = ActionCenter::with_clock((h.reopen)(), Policy::default(), h.clock.clone());
    other
        .approve(&alice(), a.id, &Decide::default())
        .expect("approve through the other handle");
    assert_eq!(stored(h, a.id).status, Status::Approved);
    assert_eq!(event_count(h), 2);
}

// ----- trust: the record proves itself -------------------------------------

fn rejected(h: &Harness) -> Action {
    let a = quarantine(h, &sha(3), "dev-9");
    h.center
        .reject(&alice(), a.id, &Decide::with_comment("benign"))
        .expect("reject")
}

fn a_rejected_row_edited_to_approved_is_found_and_never_claimed(h: &Harness) {
    let r = rejected(h);
    let mut forged = r.clone();
    forged.status = Status::Approved;
    (h.rewrite)(&forged);
    let report = h.center.verify_audit().expect("verify");
    let bad = report.first_bad_action.clone().expect("forged row found");
    assert_eq!(bad.id, r.id);
    assert!(
        matches!(bad.mismatch, crate::audit::ActionMismatch::Status { .. }),
        "{bad:?}"
    );
    assert!(!report.is_intact());
}

fn an_action_pointed_at_another_device_is_found(h: &Harness) {
    let a = approved(h);
    let mut forged = a.clone();
    forged.entity = file_on(&sha(1), "dev-ceo");
    (h.rewrite)(&forged);
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

fn a_history_the_table_does_not_allow_is_found(h: &Harness) {
    // The row edited to approved, then claimed and completed: each event
    // is well formed and chained, but reject → claim is no move of the table.
    let r = rejected(h);
    let mut forged = r.clone();
    forged.status = Status::Approved;
    (h.rewrite)(&forged);
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

fn signer() -> crate::checkpoint::SigningKey {
    crate::checkpoint::SigningKey::from_bytes(&[42u8; 32])
}

fn key_options() -> crate::engine::VerifyOptions {
    crate::engine::VerifyOptions {
        public_key: Some(signer().verifying_key()),
        checkpoint: None,
    }
}

fn a_cut_tail_is_found_below_the_latest_checkpoint(h: &Harness) {
    completed(h);
    let cp = h.center.checkpoint(&root(), &signer()).expect("checkpoint");
    assert_eq!(cp.seq, event_count(h) as u64 + 1);
    quarantine(h, &sha(4), "d4");
    let report = h.center.verify_audit_with(&key_options()).expect("verify");
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.checkpoints.checked, 1);
    // Cut the last three events: the chain that is left is a valid prefix.
    (h.truncate)(cp.seq - 2);
    let report = h.center.verify_audit_with(&key_options()).expect("verify");
    let problem = report.checkpoints.problem.clone().expect("cut found");
    assert!(problem.contains("events were cut"), "{problem}");
    assert!(report.first_bad.is_none(), "the prefix itself chains");
}

fn a_checkpoint_needs_its_signer_and_administer(h: &Harness) {
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

fn an_exported_checkpoint_finds_deleted_checkpoints(h: &Harness) {
    completed(h);
    let exported = h.center.checkpoint(&root(), &signer()).expect("checkpoint");
    let parsed = Checkpoint::from_json(&exported.to_json()).expect("export parses");
    let options = crate::engine::VerifyOptions {
        checkpoint: Some(parsed),
        ..key_options()
    };
    assert!(h.center.verify_audit_with(&options).expect("v").is_intact());
    // A writer who cuts the tail and the checkpoint is caught by the copy kept outside.
    (h.truncate)(exported.seq - 1);
    let report = h.center.verify_audit_with(&options).expect("verify");
    assert!(report.checkpoints.problem.is_some(), "{report:?}");
}

fn every_handle_enforces_the_stored_policy(h: &Harness) {
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
    let other = ActionCenter::with_clock((h.reopen)(), Policy::default(), h.clock.clone());
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

fn a_policy_change_needs_administer_and_is_audited(h: &Harness) {
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

fn a_decision_records_the_policy_it_was_made_under(h: &Harness) {
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

fn a_stale_policy_version_is_refused(h: &Harness) {
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

fn acting_as_another_needs_administer_and_is_recorded(h: &Harness) {
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

fn authorize_follows_the_tables_who_column(h: &Harness) {
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

fn a_stale_lease_token_is_refused_whoever_presents_it(h: &Harness) {
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

fn an_undo_waiting_is_not_an_undo_leased(h: &Harness) {
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

fn undo_attempts_are_capped_like_the_forward_path(h: &Harness) {
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

fn bulk_by_ids_acts_only_at_the_versions_seen(h: &Harness) {
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

fn bulk_by_filter_refuses_a_selection_that_changed(h: &Harness) {
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
                filter,
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
}

fn undo_fans_out_only_to_the_confirmed_instances(h: &Harness) {
    let other = complete_quarantines(h, &sha(8), &["d1"]);
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
    // An id that is not another instance of the file is refused alone.
    let request = UndoRequest {
        instances: vec![Seen::of(&other[0])],
        ..undo_req("fp")
    };
    let report = h.center.undo(&alice(), late[0].id, &request).expect("undo");
    assert!(matches!(
        report.instances[0].result,
        Err(Error::Validation { .. })
    ));
    assert_eq!(stored(h, other[0].id).status, Status::Completed);
}

fn keyed(key: &str, dev: &str) -> Proposal {
    Proposal::new(Kind::IsolateDevice, device(dev), investigation("inv-1"))
        .with_idempotency_key(key)
}

fn a_retried_proposal_returns_the_original(h: &Harness) {
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
}

fn an_idempotency_key_reused_for_another_proposal_is_refused(h: &Harness) {
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
}

fn a_second_active_action_on_an_entity_is_a_duplicate(h: &Harness) {
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

fn duplicates_are_allowed_where_the_policy_says_so(h: &Harness) {
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

fn a_clock_past_what_doors_can_show_is_refused(h: &Harness) {
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

fn fields_a_newer_library_wrote_survive_a_rewrite(h: &Harness) {
    let a = quarantine(h, &sha(1), "d1");
    let mut newer = a.clone();
    newer
        .extra
        .insert("risk_score".into(), json!({"value": 93, "model": "v4"}));
    newer.doc_version = 3;
    (h.rewrite)(&newer);
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

/// Actions in several statuses, made in order, with one page boundary
/// falling inside each status: the pages must still run newest first.
fn pages_across_several_statuses_stay_newest_first(h: &Harness) {
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
fn counts_agree_with_the_listed_actions_after_every_kind_of_move(h: &Harness) {
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

fn claims_take_the_oldest_and_a_recovered_lease_rejoins_in_its_place(h: &Harness) {
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

fn decided_actions_leave_the_expiry_sweep(h: &Harness) {
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

// ----- identity: accounts, sessions, API tokens, rate limits ----------------

use crate::identity::{
    Account, Credential, CredentialKind, Revoke, SessionLimits, SignInLimits, secret_hash,
};

const PASSWORD: &str = "correct horse battery";

fn account(h: &Harness, id: &str) -> Account {
    let now = h.center.now();
    Account {
        id: id.to_owned(),
        password_hash: format!("$argon2id$not-a-real-hash-of-{id}"),
        disabled: false,
        created_by: "root".into(),
        created_at: now,
        updated_at: now,
    }
}

fn credential(h: &Harness, kind: CredentialKind, principal: &str, secret: &str) -> Credential {
    let now = h.center.now();
    Credential {
        id: uuid::Uuid::now_v7(),
        kind,
        hash: secret_hash(secret),
        principal: principal.to_owned(),
        label: format!("{secret} label"),
        csrf: match kind {
            CredentialKind::Session => format!("csrf of {secret}"),
            CredentialKind::Token => String::new(),
        },
        created_by: "root".into(),
        created_at: now,
        last_used_at: now,
        expires_at: (kind == CredentialKind::Session).then(|| now + Duration::hours(12)),
        revoked_at: None,
        groups: match kind {
            CredentialKind::Session => vec!["secops".into(), "on call".into()],
            CredentialKind::Token => Vec::new(),
        },
    }
}

fn stored_credential(h: &Harness, secret: &str) -> Credential {
    h.center
        .store()
        .credential(&secret_hash(secret))
        .expect("read")
        .expect("stored")
}

/// The stored policy with principals for the identity cases: `alice` an
/// analyst, `svc` an executor, `root` an admin.
fn identity_policy(h: &Harness) {
    with_policy(h, |p| {
        p.with_principal("alice", ["analyst"])
            .and_then(|p| p.with_principal("svc", ["executor"]))
            .and_then(|p| p.with_principal("root", ["admin"]))
            .expect("principals")
    });
}

fn with_user(h: &Harness, id: &str) {
    h.center.add_user(&root(), id, PASSWORD).expect("add user");
}

fn sign_in(h: &Harness, id: &str, password: &str) -> crate::Result<crate::identity::Issued> {
    h.center.sign_in(
        id,
        password,
        "192.0.2.1",
        &SignInLimits::default(),
        &SessionLimits::default(),
    )
}

#[track_caller]
fn assert_unauthenticated(result: crate::Result<impl std::fmt::Debug>, says: &str) -> String {
    match result {
        Err(Error::Unauthenticated { reason }) => {
            assert!(reason.contains(says), "{reason:?} should say {says:?}");
            reason
        }
        other => panic!("expected Unauthenticated ({says}), got {other:?}"),
    }
}

fn accounts_are_created_once_and_replaced_only_when_they_exist(h: &Harness) {
    let store = h.center.store();
    store
        .put_account(&account(h, "zoe"), true)
        .expect("create zoe");
    store
        .put_account(&account(h, "alice"), true)
        .expect("create alice");
    let again = store
        .put_account(&account(h, "alice"), true)
        .expect_err("twice");
    assert_eq!(
        again.to_string(),
        super::account_exists("alice").to_string()
    );
    assert!(
        matches!(&again, Error::Validation { field, .. } if field == "account.id"),
        "{again:?}"
    );

    h.clock.advance(Duration::seconds(5));
    let mut replaced = account(h, "alice");
    replaced.password_hash = "$argon2id$another".into();
    replaced.disabled = true;
    store.put_account(&replaced, false).expect("replace");
    assert_eq!(store.account("alice").expect("read"), Some(replaced));

    let missing = store
        .put_account(&account(h, "ghost"), false)
        .expect_err("missing");
    assert!(
        matches!(&missing, Error::NotFound { id } if id == "account ghost"),
        "{missing:?}"
    );
    assert_eq!(store.account("ghost").expect("read"), None);
    let ids: Vec<String> = store
        .accounts()
        .expect("list")
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(ids, ["alice", "zoe"]);
}

fn credentials_are_found_by_hash_and_listed_oldest_first(h: &Harness) {
    let store = h.center.store();
    let t1 = credential(h, CredentialKind::Token, "svc", "t1");
    let s1 = credential(h, CredentialKind::Session, "alice", "s1");
    // Made in the same microsecond as t1: the id breaks the tie.
    let t2 = credential(h, CredentialKind::Token, "svc", "t2");
    h.clock.advance(Duration::seconds(1));
    let t3 = credential(h, CredentialKind::Token, "alice", "t3");
    for c in [&t1, &s1, &t2, &t3] {
        store.put_credential(c).expect("put");
    }
    assert_eq!(stored_credential(h, "t1"), t1);
    assert_eq!(stored_credential(h, "s1"), s1);
    assert_eq!(store.credential(&secret_hash("nope")).expect("read"), None);
    assert_eq!(
        store.credentials(CredentialKind::Token).expect("tokens"),
        vec![t1.clone(), t2, t3]
    );
    assert_eq!(
        store
            .credentials(CredentialKind::Session)
            .expect("sessions"),
        vec![s1]
    );
    let twin = Credential {
        id: uuid::Uuid::now_v7(),
        ..t1
    };
    let err = store.put_credential(&twin).expect_err("same hash");
    assert!(matches!(&err, Error::Storage { .. }), "{err:?}");
}

fn touch_moves_only_live_credentials(h: &Harness) {
    let store = h.center.store();
    let c = credential(h, CredentialKind::Session, "alice", "s1");
    store.put_credential(&c).expect("put");
    h.clock.advance(Duration::minutes(1));
    let used = h.center.now();
    store.touch_credential(&c.hash, used).expect("touch");
    assert_eq!(stored_credential(h, "s1").last_used_at, used);

    h.clock.advance(Duration::minutes(1));
    let revoked = h.center.now();
    assert_eq!(
        store
            .revoke_credentials(&Revoke::Hash(c.hash.clone()), revoked)
            .expect("revoke"),
        1
    );
    h.clock.advance(Duration::minutes(1));
    store
        .touch_credential(&c.hash, h.center.now())
        .expect("touch after revoke");
    let after = stored_credential(h, "s1");
    assert_eq!(
        (after.last_used_at, after.revoked_at),
        (used, Some(revoked))
    );
    store
        .touch_credential(&secret_hash("nope"), h.center.now())
        .expect("touching nothing is no error");
}

fn revoking_counts_only_live_credentials(h: &Harness) {
    let store = h.center.store();
    let by_id = credential(h, CredentialKind::Token, "svc", "t1");
    let by_hash = credential(h, CredentialKind::Session, "alice", "s1");
    let alice_sessions = [
        credential(h, CredentialKind::Session, "alice", "s2"),
        credential(h, CredentialKind::Session, "alice", "s3"),
    ];
    let alice_token = credential(h, CredentialKind::Token, "alice", "t2");
    let bob_session = credential(h, CredentialKind::Session, "bob", "s4");
    for c in [&by_id, &by_hash, &alice_token, &bob_session]
        .into_iter()
        .chain(&alice_sessions)
    {
        store.put_credential(c).expect("put");
    }
    let at = h.center.now();
    let revoke = |which: Revoke| store.revoke_credentials(&which, at).expect("revoke");

    assert_eq!(revoke(Revoke::Id(by_id.id)), 1);
    assert_eq!(revoke(Revoke::Id(by_id.id)), 0, "already revoked");
    assert_eq!(revoke(Revoke::Id(uuid::Uuid::now_v7())), 0, "unknown id");
    assert_eq!(stored_credential(h, "t1").revoked_at, Some(at));

    assert_eq!(revoke(Revoke::Hash(by_hash.hash.clone())), 1);
    assert_eq!(revoke(Revoke::Hash(by_hash.hash.clone())), 0);

    let sessions_of = |principal: &str| Revoke::Principal {
        principal: principal.to_owned(),
        kind: CredentialKind::Session,
    };
    // s1 is revoked already: only s2 and s3 count.
    assert_eq!(revoke(sessions_of("alice")), 2);
    assert_eq!(revoke(sessions_of("alice")), 0);
    assert_eq!(stored_credential(h, "t2").revoked_at, None, "a token stays");
    assert_eq!(stored_credential(h, "s4").revoked_at, None, "bob's stays");
    // A later revocation leaves the first time.
    h.clock.advance(Duration::minutes(1));
    store
        .revoke_credentials(&Revoke::Hash(by_hash.hash.clone()), h.center.now())
        .expect("revoke");
    assert_eq!(stored_credential(h, "s1").revoked_at, Some(at));
}

fn hits_count_within_a_window_and_start_again_in_the_next(h: &Harness) {
    let store = h.center.store();
    let hit = |key: &str, window: i64| store.hit(key, window).expect("hit");
    assert_eq!((hit("a", 10), hit("a", 10), hit("a", 10)), (1, 2, 3));
    assert_eq!(hit("b", 10), 1, "keys count apart");
    assert_eq!((hit("a", 11), hit("a", 11)), (1, 2), "a new window");
    assert_eq!(hit("a", 10), 1, "any other window starts again");
    assert_eq!(hit("b", 10), 2);
}

fn adding_a_user_needs_administer_and_a_principal_of_the_policy(h: &Harness) {
    identity_policy(h);
    let denied = h
        .center
        .add_user(&alice(), "alice", PASSWORD)
        .expect_err("analyst");
    assert!(
        matches!(
            &denied,
            Error::PermissionDenied {
                operation: Operation::Administer,
                ..
            }
        ),
        "{denied:?}"
    );
    assert!(h.center.users(&root()).expect("users").is_empty());

    let added = h
        .center
        .add_user(&root(), "alice", PASSWORD)
        .expect("add alice");
    assert_eq!(
        (added.id.as_str(), added.disabled, added.created_by.as_str()),
        ("alice", false, "root")
    );
    assert!(added.password_hash.is_empty(), "never shown");
    assert!(
        h.center
            .store()
            .account("alice")
            .expect("read")
            .expect("stored")
            .password_hash
            .starts_with("$argon2id$")
    );
    let twice = h
        .center
        .add_user(&root(), "alice", PASSWORD)
        .expect_err("twice");
    assert!(
        matches!(&twice, Error::Validation { field, .. } if field == "account.id"),
        "{twice:?}"
    );
    let short = h
        .center
        .add_user(&root(), "svc", "short")
        .expect_err("short");
    assert!(
        matches!(&short, Error::Validation { field, .. } if field == "password"),
        "{short:?}"
    );
    let stranger = h
        .center
        .add_user(&root(), "mallory", PASSWORD)
        .expect_err("not in the policy");
    assert!(
        matches!(&stranger, Error::PermissionDenied { .. }),
        "{stranger:?}"
    );
    let users = h.center.users(&root()).expect("users");
    assert_eq!(
        users.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["alice"]
    );
    assert!(users.iter().all(|a| a.password_hash.is_empty()));
    assert!(h.center.users(&alice()).is_err());
}

fn signing_in_gives_a_session_and_says_nothing_of_which_part_was_wrong(h: &Harness) {
    identity_policy(h);
    with_user(h, "alice");
    let issued = sign_in(h, "alice", PASSWORD).expect("sign in");
    assert!(issued.secret.starts_with(crate::identity::SESSION_PREFIX));
    assert_eq!(issued.credential.hash, secret_hash(&issued.secret));
    assert_ne!(issued.credential.hash, issued.secret);
    let who = h
        .center
        .session(&issued.secret, &SessionLimits::default())
        .expect("session");
    assert_eq!(
        (who.principal.id.as_str(), who.principal.roles.clone()),
        ("alice", vec!["analyst".to_owned()])
    );

    let wrong_password = assert_unauthenticated(sign_in(h, "alice", "wrong horse battery"), "");
    let unknown_account = assert_unauthenticated(sign_in(h, "nobody", PASSWORD), "");
    assert_eq!(wrong_password, unknown_account);
    let not_a_user = assert_unauthenticated(sign_in(h, "svc", PASSWORD), "");
    assert_eq!(not_a_user, unknown_account);

    h.center.sign_out(&issued.secret).expect("sign out");
    assert_unauthenticated(
        h.center.session(&issued.secret, &SessionLimits::default()),
        "revoked",
    );
    assert_unauthenticated(
        h.center.session(
            &format!("{}{}", crate::identity::SESSION_PREFIX, "0".repeat(64)),
            &SessionLimits::default(),
        ),
        "unknown session",
    );
}

fn a_disabled_account_is_refused_and_its_sessions_and_tokens_end(h: &Harness) {
    identity_policy(h);
    with_user(h, "alice");
    let session = sign_in(h, "alice", PASSWORD).expect("sign in");
    let token = h
        .center
        .create_token(&root(), "alice", "laptop", Duration::days(30))
        .expect("token");
    let other = h
        .center
        .create_token(&root(), "svc", "agent", Duration::days(30))
        .expect("token");

    let denied = h
        .center
        .set_user_disabled(&alice(), "alice", true)
        .expect_err("analyst");
    assert!(
        matches!(denied, Error::PermissionDenied { .. }),
        "{denied:?}"
    );
    h.center
        .session(&session.secret, &SessionLimits::default())
        .expect("still signed in");

    let disabled = h
        .center
        .set_user_disabled(&root(), "alice", true)
        .expect("disable");
    assert!(disabled.disabled && disabled.password_hash.is_empty());
    assert_unauthenticated(
        sign_in(h, "alice", PASSWORD),
        "wrong account name or password",
    );
    assert_unauthenticated(
        h.center.session(&session.secret, &SessionLimits::default()),
        "revoked",
    );
    assert_unauthenticated(h.center.authenticate_token(&token.secret), "revoked");
    assert!(stored_credential(h, &session.secret).revoked_at.is_some());
    assert!(stored_credential(h, &token.secret).revoked_at.is_some());
    h.center
        .authenticate_token(&other.secret)
        .expect("another principal's token stays");

    h.center
        .set_user_disabled(&root(), "alice", false)
        .expect("enable");
    sign_in(h, "alice", PASSWORD).expect("signs in again");
    assert_unauthenticated(h.center.authenticate_token(&token.secret), "revoked");
    let missing = h
        .center
        .set_user_disabled(&root(), "ghost", true)
        .expect_err("no account");
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");
}

fn sign_in_is_throttled_per_account(h: &Harness) {
    identity_policy(h);
    with_user(h, "alice");
    let limits = SignInLimits {
        window: Duration::minutes(5),
        per_account: 3,
        per_address: 1000,
    };
    let attempt = |id: &str, password: &str, address: &str| {
        h.center
            .sign_in(id, password, address, &limits, &SessionLimits::default())
    };
    for n in 0..3 {
        assert_unauthenticated(
            attempt("alice", "wrong horse battery", &format!("192.0.2.{n}")),
            "",
        );
    }
    // From yet another address, with the right password: the account's
    // count is spent.
    match attempt("alice", PASSWORD, "198.51.100.7") {
        Err(Error::RateLimited {
            retry_after_seconds,
            ..
        }) => assert!(
            (1..=300).contains(&retry_after_seconds),
            "{retry_after_seconds}"
        ),
        other => panic!("expected RateLimited, got {other:?}"),
    }
    with_user(h, "svc");
    attempt("svc", PASSWORD, "198.51.100.7").expect("another account is not throttled");

    h.clock.advance(Duration::minutes(5));
    attempt("alice", PASSWORD, "198.51.100.7").expect("a new window");
}

fn a_session_ends_after_its_idle_and_absolute_timeouts(h: &Harness) {
    identity_policy(h);
    with_user(h, "alice");
    let limits = SessionLimits {
        idle: Duration::minutes(30),
        absolute: Duration::hours(2),
    };
    let start = |h: &Harness| {
        h.center
            .sign_in(
                "alice",
                PASSWORD,
                "192.0.2.1",
                &SignInLimits::default(),
                &limits,
            )
            .expect("sign in")
            .secret
    };
    let busy = start(h);
    let idle = start(h);
    // Used every 29 minutes, the busy one outlives the idle timeout...
    for _ in 0..4 {
        h.clock.advance(Duration::minutes(29));
        h.center.session(&busy, &limits).expect("in use");
    }
    assert_unauthenticated(h.center.session(&idle, &limits), "idle");
    // ...but not the absolute one.
    h.clock.advance(Duration::minutes(4));
    assert_unauthenticated(h.center.session(&busy, &limits), "expired");
}

fn an_api_token_ends_at_its_expiry(h: &Harness) {
    identity_policy(h);
    let denied = h
        .center
        .create_token(&alice(), "svc", "agent", Duration::days(1))
        .expect_err("analyst");
    assert!(
        matches!(denied, Error::PermissionDenied { .. }),
        "{denied:?}"
    );
    for bad in [Duration::zero(), Duration::days(367)] {
        let err = h
            .center
            .create_token(&root(), "svc", "agent", bad)
            .expect_err("ttl");
        assert!(
            matches!(&err, Error::Validation { field, .. } if field == "token.ttl"),
            "{err:?}"
        );
    }
    let token = h
        .center
        .create_token(&root(), "svc", "agent", Duration::days(1))
        .expect("token");
    assert!(token.secret.starts_with(crate::identity::TOKEN_PREFIX));
    h.clock.advance(Duration::days(1) - Duration::seconds(1));
    let who = h.center.authenticate_token(&token.secret).expect("valid");
    assert_eq!(who.principal.id, "svc");
    assert_eq!(
        stored_credential(h, &token.secret).last_used_at,
        h.center.now(),
        "the use is recorded"
    );
    h.clock.advance(Duration::seconds(1));
    assert_unauthenticated(h.center.authenticate_token(&token.secret), "expired");
    // A secret of the wrong shape is unknown before any lookup.
    assert_unauthenticated(h.center.authenticate_token("act_short"), "unknown token");
}

fn a_revoked_token_is_refused_and_listed_without_its_secret(h: &Harness) {
    identity_policy(h);
    let token = h
        .center
        .create_token(&root(), "svc", "agent", Duration::days(30))
        .expect("token");
    let id = token.credential.id;
    let denied = h.center.revoke_token(&alice(), id).expect_err("analyst");
    assert!(
        matches!(denied, Error::PermissionDenied { .. }),
        "{denied:?}"
    );
    h.center
        .authenticate_token(&token.secret)
        .expect("still valid");

    h.center.revoke_token(&root(), id).expect("revoke");
    assert_unauthenticated(h.center.authenticate_token(&token.secret), "revoked");
    for again in [id, uuid::Uuid::now_v7()] {
        let err = h
            .center
            .revoke_token(&root(), again)
            .expect_err("nothing live");
        assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    }
    let listed = h.center.tokens(&root()).expect("tokens");
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id, listed[0].revoked_at.is_some()), (id, true));
    let shown = serde_json::to_string(&listed).expect("json");
    assert!(!shown.contains(&token.secret), "{shown}");
    assert!(!shown.contains(&token.credential.hash), "{shown}");
    assert!(h.center.tokens(&alice()).is_err());
}

fn roles_come_from_the_stored_policy_at_every_call(h: &Harness) {
    identity_policy(h);
    with_user(h, "alice");
    let token = h
        .center
        .create_token(&root(), "svc", "agent", Duration::days(30))
        .expect("token");
    let session = sign_in(h, "alice", PASSWORD).expect("sign in").secret;
    let limits = SessionLimits::default();
    assert_eq!(
        h.center
            .authenticate_token(&token.secret)
            .expect("token")
            .principal
            .roles,
        ["executor"]
    );

    // The policy keeps the principals but takes their roles away.
    with_policy(h, |p| {
        p.with_principal("alice", Vec::<String>::new())
            .and_then(|p| p.with_principal("svc", Vec::<String>::new()))
            .expect("principals")
    });
    let svc = h.center.authenticate_token(&token.secret).expect("token");
    assert!(svc.principal.roles.is_empty(), "{:?}", svc.principal);
    let claim = h.center.claim(
        &svc.principal,
        &ClaimRequest {
            limit: 1,
            lease_seconds: 60,
            kinds: vec![],
        },
    );
    assert!(
        matches!(claim, Err(Error::PermissionDenied { .. })),
        "{claim:?}"
    );
    let alice_now = h.center.session(&session, &limits).expect("session");
    assert!(alice_now.principal.roles.is_empty());

    // The policy no longer names them at all.
    with_policy(h, |p| p);
    for refused in [
        h.center.authenticate_token(&token.secret).map(|_| ()),
        h.center.session(&session, &limits).map(|_| ()),
    ] {
        assert!(
            matches!(refused, Err(Error::PermissionDenied { .. })),
            "{refused:?}"
        );
    }
}

fn a_session_by_groups_gets_its_roles_from_the_groups_at_every_call(h: &Harness) {
    let groups = |analyst: &'static str| {
        move |p: Policy| {
            p.with_principal("root", ["admin"])
                .and_then(|p| p.with_group("secops", [analyst]))
                .expect("groups")
        }
    };
    with_policy(h, groups("analyst"));
    let limits = SessionLimits::default();
    // grace is named by no principal: only a group the provider asserted
    // gives her a role.
    let unknown = h
        .center
        .start_session("grace", "oidc", &["sales".into()], &limits);
    assert!(
        matches!(unknown, Err(Error::PermissionDenied { .. })),
        "{unknown:?}"
    );
    let issued = h
        .center
        .start_session("grace", "oidc", &["secops".into()], &limits)
        .expect("session");
    assert_eq!(
        stored_credential(h, &issued.secret).groups,
        vec!["secops".to_owned()]
    );
    let who = h.center.session(&issued.secret, &limits).expect("session");
    assert_eq!(who.principal.roles, vec!["analyst".to_owned()]);
    with_policy(h, groups("viewer"));
    let who = h.center.session(&issued.secret, &limits).expect("session");
    assert_eq!(who.principal.roles, vec!["viewer".to_owned()]);
}
