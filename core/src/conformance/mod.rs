//! The conformance suite, for any [`Store`].
//!
//! Every backend must behave the same under the engine: the same
//! transitions, errors, pages, counts, audit trail and policy checks.
//! This module holds the cases (one function of a [`Harness`] each, split
//! by area) and the [`conformance_suite!`](crate::conformance_suite) macro,
//! which expands one `#[test]` per case for a backend. The case list lives
//! in the macro, once: a backend cannot leave a case out. Core runs it on
//! [`MemoryStore`](crate::MemoryStore), SQLite and PostgreSQL; the author
//! of a third-party store runs it with one macro call.
//!
//! Enabled by the `conformance` feature:
//!
//! ```toml
//! [dev-dependencies]
//! actioncenter = { version = "0.1", features = ["conformance"] }
//! ```
//!
//! # Testing your own store
//!
//! Write a function that gives a fresh [`Harness`] over an empty store
//! (or `None`, after printing why, when the backend is not available and
//! the tests may skip), then call the macro:
//!
//! ```
//! use std::sync::Arc;
//! use actioncenter::conformance::Harness;
//! use actioncenter::{MemoryStore, Store};
//!
//! fn my_store() -> Option<Harness> {
//!     let store = Arc::new(MemoryStore::new()); // your backend here
//!     let tamper = store.clone();
//!     Some(
//!         Harness::new(store.clone())
//!             // Optional: the cases that need a hook the harness lacks
//!             // are skipped with a printed reason.
//!             .with_tamper_event(move |seq| {
//!                 tamper.tamper_with_event(seq, "tampered").expect("tamper")
//!             })
//!             .with_reopen(move || store.clone() as Arc<dyn Store>),
//!     )
//! }
//!
//! actioncenter::conformance_suite!(my_backend, my_store);
//! # fn main() {}
//! ```
//!
//! `cargo test` then runs `my_backend::propose_needing_approval_is_pending`
//! and every other case. A fault-injecting wrapper for any store,
//! [`FaultyStore`], is here too.

use std::sync::Arc;

use chrono::{TimeZone, Utc};

use crate::ManualClock;
use crate::engine::ActionCenter;
use crate::model::Action;
use crate::policy::Policy;
use crate::store::Store;

pub mod audit;
pub mod bulk;
mod faults;
mod fixtures;
pub mod identity;
pub mod lifecycle;
pub mod policy;
pub mod queries;
pub mod races;
pub mod undo;

pub use faults::{Fault, FaultyStore};

type Hook<T> = Option<Box<dyn Fn(T)>>;
type RewriteHook = Box<dyn Fn(&Action)>;
type ReopenHook = Box<dyn Fn() -> Arc<dyn Store>>;

/// A fresh engine over one store, with a manual clock, and the hooks some
/// cases need to reach behind the engine's back.
///
/// Every hook is optional: a case that needs one the harness lacks is
/// skipped with a printed reason (see [`Needs`]).
pub struct Harness {
    /// The engine under test, over the store, with [`Policy::default`]
    /// stored as the bootstrap policy.
    pub center: ActionCenter,
    /// The engine's clock: the cases move it to run out windows and leases.
    pub clock: Arc<ManualClock>,
    tamper_event: Hook<u64>,
    reopen: Option<ReopenHook>,
    rewrite_action: Option<RewriteHook>,
    truncate_events: Hook<u64>,
    keep: Vec<Box<dyn std::any::Any>>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("center", &self.center)
            .field("tamper_event", &self.tamper_event.is_some())
            .field("reopen", &self.reopen.is_some())
            .field("rewrite_action", &self.rewrite_action.is_some())
            .field("truncate_events", &self.truncate_events.is_some())
            .finish_non_exhaustive()
    }
}

/// A hook a case may need from its [`Harness`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// [`Harness::with_tamper_event`]
    TamperEvent,
    /// [`Harness::with_reopen`]
    Reopen,
    /// [`Harness::with_rewrite_action`]
    RewriteAction,
    /// [`Harness::with_truncate_events`]
    TruncateEvents,
}

/// Where every case's clock starts: 2026-03-01 09:00 UTC.
pub fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

impl Harness {
    /// The engine over `store` (empty), with the default policy stored
    /// and a manual clock at [`start_time`]. Panics if the store cannot
    /// store the bootstrap policy.
    pub fn new(store: Arc<dyn Store>) -> Harness {
        let clock = Arc::new(ManualClock::starting_at(start_time()));
        let center = ActionCenter::with_clock(store, Policy::default(), clock.clone());
        center.stored_policy().expect("bootstrap policy");
        Harness {
            center,
            clock,
            tamper_event: None,
            reopen: None,
            rewrite_action: None,
            truncate_events: None,
            keep: Vec::new(),
        }
    }

    /// How to overwrite the comment of audit event `seq` in the store,
    /// bypassing the chain (any new comment will do).
    pub fn with_tamper_event(mut self, hook: impl Fn(u64) + 'static) -> Harness {
        self.tamper_event = Some(Box::new(hook));
        self
    }

    /// How to open a second handle on the same database, as another
    /// process would.
    pub fn with_reopen(mut self, hook: impl Fn() -> Arc<dyn Store> + 'static) -> Harness {
        self.reopen = Some(Box::new(hook));
        self
    }

    /// How to write an action's stored record as given, bypassing the
    /// engine: no compare-and-set, no audit event. Index columns a backend
    /// derives from the record (status, version) follow it.
    pub fn with_rewrite_action(mut self, hook: impl Fn(&Action) + 'static) -> Harness {
        self.rewrite_action = Some(Box::new(hook));
        self
    }

    /// How to delete every audit event after the first `n`.
    pub fn with_truncate_events(mut self, hook: impl Fn(u64) + 'static) -> Harness {
        self.truncate_events = Some(Box::new(hook));
        self
    }

    /// Keeps `value` alive as long as the harness (a temporary directory,
    /// a test schema), dropped after the engine.
    pub fn keep(mut self, value: impl std::any::Any) -> Harness {
        self.keep.push(Box::new(value));
        self
    }

    /// Whether the harness has the hook.
    pub fn has(&self, needs: Needs) -> bool {
        match needs {
            Needs::TamperEvent => self.tamper_event.is_some(),
            Needs::Reopen => self.reopen.is_some(),
            Needs::RewriteAction => self.rewrite_action.is_some(),
            Needs::TruncateEvents => self.truncate_events.is_some(),
        }
    }

    /// Overwrites the comment of audit event `seq`. Panics without the hook.
    pub fn tamper(&self, seq: u64) {
        (self.tamper_event.as_ref().expect("no tamper_event hook"))(seq)
    }

    /// A second handle on the same database. Panics without the hook.
    pub fn reopen(&self) -> Arc<dyn Store> {
        (self.reopen.as_ref().expect("no reopen hook"))()
    }

    /// Writes `action`'s stored record as given. Panics without the hook.
    pub fn rewrite(&self, action: &Action) {
        (self
            .rewrite_action
            .as_ref()
            .expect("no rewrite_action hook"))(action)
    }

    /// Deletes every audit event after the first `n`. Panics without the hook.
    pub fn truncate(&self, n: u64) {
        (self
            .truncate_events
            .as_ref()
            .expect("no truncate_events hook"))(n)
    }
}

/// Runs one case on a fresh harness from `make`: skipped, with the reason
/// printed, when `make` gives none or the harness lacks a hook the case
/// needs. Called by [`conformance_suite!`](crate::conformance_suite).
pub fn run(name: &str, make: fn() -> Option<Harness>, needs: &[Needs], case: fn(&Harness)) {
    let Some(h) = make() else {
        eprintln!("skipped {name}: backend not available");
        return;
    };
    if let Some(missing) = needs.iter().find(|n| !h.has(**n)) {
        eprintln!("skipped {name}: the harness has no {missing:?} hook");
        return;
    }
    case(&h);
}

/// Expands one `#[test]` per conformance case, in a module named
/// `$backend`, each on a fresh harness from `$make`, a
/// `fn() -> Option<Harness>` in scope where the macro is called. The list
/// of cases lives here, once. See the [module docs](crate::conformance).
#[macro_export]
macro_rules! conformance_suite {
    ($backend:ident, $make:path) => {
        $crate::conformance_suite!(@expand $backend, $make;
            lifecycle::an_expected_version_0_is_refused_as_input,
            lifecycle::propose_needing_approval_is_pending,
            lifecycle::propose_under_full_automation_is_approved,
            lifecycle::naming_a_source_borrows_none_of_its_automation,
            lifecycle::manual_response_starts_approved,
            lifecycle::manual_response_for_someone_else_is_refused,
            lifecycle::manual_response_needs_approve_and_counts_toward_the_quorum,
            lifecycle::automation_none_refuses_automated_proposals,
            lifecycle::approve_moves_pending_to_approved,
            lifecycle::approval_short_of_quorum_stays_pending,
            lifecycle::same_approver_twice_does_not_make_a_quorum,
            lifecycle::acting_as_another_makes_no_quorum_and_no_self_approval,
            lifecycle::reject_needs_a_comment_and_records_it,
            lifecycle::expire_due_closes_pending_past_their_window,
            lifecycle::expiry_outcome_can_be_reject,
            lifecycle::approving_after_the_window_closed_is_expired,
            lifecycle::rejecting_after_the_window_closed_is_expired,
            lifecycle::proposer_may_cancel_without_cancel_permission,
            lifecycle::others_need_cancel_permission_and_a_comment,
            lifecycle::claim_takes_approved_actions_with_a_lease,
            lifecycle::a_claim_naming_no_kind_is_refused_not_taken_for_any_kind,
            lifecycle::complete_records_the_result,
            lifecycle::fail_records_the_error,
            lifecycle::only_the_lease_holder_may_finish,
            lifecycle::finishing_after_the_lease_ran_out_is_expired,
            lifecycle::heartbeat_extends_the_lease,
            lifecycle::expired_lease_returns_the_action_to_the_queue,
            lifecycle::expired_lease_after_the_last_attempt_fails_the_action,
            lifecycle::retry_is_limited_by_max_attempts,
            lifecycle::cancel_and_retry_refuse_a_version_that_moved_on,
            lifecycle::a_stale_version_tells_nothing_to_a_caller_refused_the_step,
            undo::undo_runs_the_inverse_to_undone,
            undo::failed_undo_can_be_undone_again,
            undo::undoing_lease_expiry_waits_for_another_executor,
            undo::kinds_without_inverse_cannot_be_undone,
            undo::undo_needs_a_comment,
            lifecycle::final_statuses_refuse_every_event,
            lifecycle::invalid_transition_names_status_and_event,
            lifecycle::unknown_id_is_not_found,
            policy::missing_permission_is_denied_and_named,
            policy::a_principals_via_is_held_to_the_rules_of_an_id,
            policy::self_approval_is_refused_admins_too,
            policy::self_approval_when_the_policy_allows_it,
            lifecycle::stale_expected_version_is_a_conflict,
            lifecycle::bad_proposals_change_nothing,
            policy::unknown_role_is_a_validation_error,
            undo::undo_all_instances_fans_out_to_the_same_file_only,
            undo::undo_instances_previews_the_fan_out,
            undo::check_undo_refuses_what_undo_refuses_and_changes_nothing,
            bulk::bulk_by_ids_reports_each_item,
            bulk::bulk_by_filter_touches_only_actions_it_can_move,
            bulk::bulk_by_filter_never_reaches_past_what_the_caller_may_view,
            queries::list_pages_newest_first_and_stays_stable,
            queries::list_filters_by_every_field,
            queries::counts_per_status,
            queries::viewers_see_only_their_categories,
            queries::resolve_id_accepts_unique_prefixes,
            queries::a_prefix_finds_only_what_the_caller_may_view,
            queries::events_since_is_the_change_feed,
            queries::subscribers_hear_every_committed_event,
            queries::subscriber_handles_are_never_reused,
            audit::audit_trail_verifies,
            audit::tampering_is_found_at_the_first_bad_event [TamperEvent],
            races::racing_approvers_leave_exactly_one_decision,
            races::racing_approvers_without_a_version_still_leave_one_decision,
            races::racing_claimers_never_share_an_action,
            races::a_second_handle_sees_the_same_database [Reopen],
            audit::a_rejected_row_edited_to_approved_is_found_and_never_claimed [RewriteAction],
            audit::an_action_pointed_at_another_device_is_found [RewriteAction],
            audit::a_history_the_table_does_not_allow_is_found [RewriteAction],
            audit::a_cut_tail_is_found_below_the_latest_checkpoint [TruncateEvents],
            audit::a_checkpoint_needs_its_signer_and_administer,
            audit::an_exported_checkpoint_finds_deleted_checkpoints [TruncateEvents],
            policy::every_handle_enforces_the_stored_policy [Reopen],
            policy::a_policy_stored_by_another_handle_governs_the_next_decision [Reopen],
            policy::a_claim_under_a_replaced_policy_claims_nothing [Reopen],
            policy::a_policy_change_needs_administer_and_is_audited,
            policy::a_decision_records_the_policy_it_was_made_under,
            policy::a_stale_policy_version_is_refused,
            policy::acting_as_another_needs_administer_and_is_recorded,
            policy::acting_as_someone_cannot_be_stacked,
            policy::authorize_follows_the_tables_who_column,
            lifecycle::a_stale_lease_token_is_refused_whoever_presents_it,
            undo::an_undo_waiting_is_not_an_undo_leased,
            undo::undo_attempts_are_capped_like_the_forward_path,
            bulk::bulk_by_ids_acts_only_at_the_versions_seen,
            bulk::items_the_store_refuses_leave_no_trace,
            bulk::bulk_refuses_an_id_listed_twice,
            bulk::bulk_by_filter_refuses_a_selection_that_changed,
            undo::undo_fans_out_only_to_the_confirmed_instances,
            lifecycle::a_retried_proposal_returns_the_original,
            lifecycle::an_idempotency_key_reused_for_another_proposal_is_refused,
            lifecycle::an_idempotency_key_belongs_to_its_proposer,
            lifecycle::a_second_active_action_on_an_entity_is_a_duplicate,
            lifecycle::a_retry_into_a_taken_slot_is_a_duplicate,
            lifecycle::duplicates_are_allowed_where_the_policy_says_so,
            lifecycle::a_clock_past_what_doors_can_show_is_refused,
            audit::fields_a_newer_library_wrote_survive_a_rewrite [RewriteAction],
            queries::pages_across_several_statuses_stay_newest_first,
            queries::counts_agree_with_the_listed_actions_after_every_kind_of_move,
            lifecycle::claims_take_the_oldest_and_a_recovered_lease_rejoins_in_its_place,
            lifecycle::decided_actions_leave_the_expiry_sweep,
            identity::accounts_are_created_once_and_replaced_only_when_they_exist,
            identity::credentials_are_found_by_hash_and_listed_oldest_first,
            identity::touch_moves_only_live_credentials,
            identity::revoking_counts_only_live_credentials,
            identity::hits_count_within_a_window_and_start_again_in_the_next,
            identity::adding_a_user_needs_administer_and_a_principal_of_the_policy,
            identity::signing_in_gives_a_session_and_says_nothing_of_which_part_was_wrong,
            identity::a_disabled_account_is_refused_and_its_sessions_and_tokens_end,
            identity::sign_in_is_throttled_per_account,
            identity::a_session_ends_after_its_idle_and_absolute_timeouts,
            identity::an_api_token_ends_at_its_expiry,
            identity::a_revoked_token_is_refused_and_listed_without_its_secret,
            identity::a_policy_nobody_could_change_again_is_refused_and_stores_nothing,
            identity::roles_come_from_the_stored_policy_at_every_call,
            identity::a_session_by_groups_gets_its_roles_from_the_groups_at_every_call,
        );
    };
    (@expand $backend:ident, $make:path; $($area:ident :: $case:ident $([$($need:ident),*])?),* $(,)?) => {
        mod $backend {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[test]
                fn $case() {
                    $crate::conformance::run(
                        stringify!($case),
                        $make,
                        &[$($($crate::conformance::Needs::$need),*)?],
                        $crate::conformance::$area::$case,
                    );
                }
            )*
        }
    };
}
