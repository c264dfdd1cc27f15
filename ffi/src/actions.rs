//! The verbs that change actions: propose, decide, execute, undo, bulk.

use std::ffi::c_char;

use engine::{BulkOp, ClaimRequest, Decide, Kind, Proposal, Selection, UndoRequest};

use crate::boundary::boundary;
use crate::convert::{
    Out, action_id, expected, filter, json, object, optional_text, set_json_opt, text,
};
use crate::handle::{ac_center, ac_principal, engine_and_principal};
use crate::status::ac_status;

/// Records a proposed action: Pending when the policy wants a person's
/// approval, Approved when it does not (full automation, manual response).
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs Propose on the
///   action's category.
/// - `proposal_json`: UTF-8 JSON, borrowed for the call. Not NULL. For
///   example `{"kind": "isolate_device", "entity": {"type": "device",
///   "device_id": "dev-42"}, "source": {"type": "automated_investigation",
///   "investigation_id": "inv-7"}, "parameters": {"isolation": "full"},
///   "idempotency_key": "inv-7/isolate/dev-42", "comment": "..."}`;
///   `investigation_id`, `incident_id`, `alert_id`, `parameters`,
///   `idempotency_key` and `comment` are optional. `comment` says why, for
///   the audit trail (the propose event's comment, and a manual response's
///   decision). `idempotency_key` makes a retried proposal safe: the same
///   key with the same proposal by the same principal returns the action
///   the first one made (`AC_STATUS_OK`, nothing new stored); the same key
///   with another proposal fails with `AC_STATUS_DUPLICATE`. A key is its
///   proposer's own: another principal's proposal under the same key is a
///   proposal of its own.
/// - `out_action_json`: receives the new action as JSON (its `id` names it
///   in later calls), which the caller owns and frees with
///   `ac_string_free`; NULL on failure. May be NULL.
///
/// While an action of the same kind on the same entity is active (pending,
/// approved or running), another is refused with `AC_STATUS_DUPLICATE`
/// naming it (`existing` in the error JSON), unless the policy allows
/// duplicates for the kind (`allow_duplicates`). Thread safe.
///
/// # Safety
///
/// `proposal_json` is NULL or a NUL-terminated string; `out_action_json` is
/// NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_propose(
    center: *const ac_center,
    by: *const ac_principal,
    proposal_json: *const c_char,
    out_action_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_action_json) };
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let proposal = Proposal::from_json(unsafe { text(proposal_json, "proposal_json") }?)?;
        set_json_opt(out, &engine.propose(&by, proposal)?)
    }
}

/// Approves a pending action. Short of the kind's quorum the approval is
/// recorded and the action stays Pending; at the quorum it becomes
/// Approved and waits for an executor.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs Approve on the
///   action's category and may not be its proposer unless the policy
///   allows self-approval.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `comment`: borrowed; NULL for none.
/// - `expected_version`: the version the approver saw; when the action is
///   no longer at it the call fails with `AC_STATUS_CONFLICT` and changes
///   nothing. 0 approves whatever the version.
/// - `out_action_json`: receives the action after the call, owned by the
///   caller (free with `ac_string_free`); NULL on failure. May be NULL.
///
/// Thread safe: of approvers racing on one action at one
/// `expected_version`, exactly one succeeds and the others get
/// `AC_STATUS_CONFLICT`.
///
/// # Safety
///
/// `id` and `comment` are NULL or NUL-terminated strings;
/// `out_action_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_approve(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
    comment: *const c_char,
    expected_version: u64,
    out_action_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_action_json) };
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        let decide = Decide {
            // SAFETY: per this function's contract.
            comment: unsafe { optional_text(comment, "comment") }?.map(str::to_owned),
            expected_version: expected(expected_version),
        };
        let action = engine.approve(&by, id, &decide)?;
        set_json_opt(out, &action)
    }
}

/// Rejects a pending action: it becomes Rejected, for good.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs Approve on the
///   action's category.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `comment`: why, borrowed. Required by the engine: NULL or empty fails
///   with `AC_STATUS_VALIDATION`.
/// - `expected_version`: as for `ac_center_approve`; 0 for any.
/// - `out_action_json`: receives the action after the call, owned by the
///   caller (free with `ac_string_free`); NULL on failure. May be NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `id` and `comment` are NULL or NUL-terminated strings;
/// `out_action_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_reject(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
    comment: *const c_char,
    expected_version: u64,
    out_action_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_action_json) };
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        let decide = Decide {
            // SAFETY: per this function's contract.
            comment: unsafe { optional_text(comment, "comment") }?.map(str::to_owned),
            expected_version: expected(expected_version),
        };
        let action = engine.reject(&by, id, &decide)?;
        set_json_opt(out, &action)
    }
}

/// Cancels a pending or approved action: it becomes Cancelled, for good.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` is the proposer or
///   has Cancel on the action's category.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `comment`: why, borrowed. Required by the engine: NULL or empty fails
///   with `AC_STATUS_VALIDATION`.
/// - `out_action_json`: receives the action after the call, owned by the
///   caller (free with `ac_string_free`); NULL on failure. May be NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `id` and `comment` are NULL or NUL-terminated strings;
/// `out_action_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_cancel(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
    comment: *const c_char,
    out_action_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_action_json) };
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        // SAFETY: per this function's contract.
        let comment = unsafe { optional_text(comment, "comment") }?.unwrap_or_default();
        let action = engine.cancel(&by, id, comment)?;
        set_json_opt(out, &action)
    }
}

/// Sends a failed action back to the queue (Approved), within the kind's
/// maximum number of attempts.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs Approve on the
///   action's category.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `comment`: borrowed; NULL for none.
/// - `out_action_json`: receives the action after the call, owned by the
///   caller (free with `ac_string_free`); NULL on failure. May be NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `id` and `comment` are NULL or NUL-terminated strings;
/// `out_action_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_retry(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
    comment: *const c_char,
    out_action_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_action_json) };
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        // SAFETY: per this function's contract.
        let comment = unsafe { optional_text(comment, "comment") }?;
        let action = engine.retry(&by, id, comment)?;
        set_json_opt(out, &action)
    }
}

/// Takes up to `limit` actions waiting for an executor (Approved ones,
/// which become Running, and Undoing ones whose inverse must run, which
/// become UndoRunning), each with a lease of `lease_seconds`. The executor
/// carries each out and reports with `ac_center_complete` or
/// `ac_center_fail`, renewing the lease with `ac_center_heartbeat` if it
/// needs longer.
///
/// Each claim gets a fresh lease token: the `lease_token` of the last
/// entry of the action's `attempts` array (`attempts[-1].lease_token`),
/// which is the attempt this claim added (its `undo` is true when it runs
/// the inverse of an undo). Keep it with the action:
/// `ac_center_heartbeat`, `ac_center_complete` and `ac_center_fail` must
/// present it. Once the lease was taken back (`ac_center_recover_leases`)
/// and the action claimed again, the old token is refused with
/// `AC_STATUS_EXPIRED`, so an executor that lost its lease can never
/// report on a later claim.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` claims only actions of
///   categories it may Execute.
/// - `limit`: 1 to 1000. `lease_seconds`: 1 to 86400.
/// - `kinds_json`: a JSON array of kinds to claim, such as
///   `["quarantine_file", "custom:reimage"]`, borrowed; NULL for any kind.
///   An empty array is a validation error (field `kinds`), not "any kind".
/// - `out_actions_json`: receives a JSON array of the claimed actions
///   (`[]` when none waits), owned by the caller (free with
///   `ac_string_free`); NULL on failure. Not NULL.
///
/// Thread safe: concurrent executors, in this process or others on the
/// same file, never get the same action.
///
/// # Safety
///
/// `kinds_json` is NULL or a NUL-terminated string; `out_actions_json` is
/// NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_claim(
    center: *const ac_center,
    by: *const ac_principal,
    limit: usize,
    lease_seconds: i64,
    kinds_json: *const c_char,
    out_actions_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_actions_json, "out_actions_json") }?;
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let kinds: Option<Vec<Kind>> = match unsafe { optional_text(kinds_json, "kinds_json") }? {
            Some(text) => Some(json("kinds", text)?),
            None => None,
        };
        let request = ClaimRequest { limit, lease_seconds, kinds };
        out.set_json(&engine.claim(&by, &request)?)
    }
}

/// Renews the lease `by` holds on a claimed action, to `lease_seconds`
/// from now. A renewal is neither an audit event nor a new version.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` holds the lease.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `lease_token`: the token of the claim (see `ac_center_claim`),
///   borrowed. Not NULL.
/// - `lease_seconds`: 1 to 86400.
/// - `out_action_json`: receives the action after the call, owned by the
///   caller (free with `ac_string_free`); NULL on failure. May be NULL.
///
/// Fails with `AC_STATUS_EXPIRED` once the lease has run out or when
/// `lease_token` is not the current lease's, and changes nothing. Thread
/// safe.
///
/// # Safety
///
/// `id` and `lease_token` are NULL or NUL-terminated strings;
/// `out_action_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_heartbeat(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
    lease_token: *const c_char,
    lease_seconds: i64,
    out_action_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_action_json) };
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        // SAFETY: per this function's contract.
        let token = unsafe { text(lease_token, "lease_token") }?;
        let action = engine.heartbeat(&by, id, token, lease_seconds)?;
        set_json_opt(out, &action)
    }
}

/// Reports that the executor carried out a claimed action (Running becomes
/// Completed) or its undo (UndoRunning becomes Undone).
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` holds the lease.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `lease_token`: the token of the claim (see `ac_center_claim`),
///   borrowed. Not NULL.
/// - `result_json`: what the executor found or did, any JSON value up to
///   64 KiB, borrowed; NULL records `null`.
/// - `out_action_json`: receives the action after the call, owned by the
///   caller (free with `ac_string_free`); NULL on failure. May be NULL.
///
/// Fails with `AC_STATUS_EXPIRED` when the lease ran out first or
/// `lease_token` is not the current lease's (the action was taken back and
/// claimed again), and changes nothing. Thread safe.
///
/// # Safety
///
/// `id`, `lease_token` and `result_json` are NULL or NUL-terminated
/// strings; `out_action_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_complete(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
    lease_token: *const c_char,
    result_json: *const c_char,
    out_action_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_action_json) };
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        // SAFETY: per this function's contract.
        let token = unsafe { text(lease_token, "lease_token") }?;
        // SAFETY: per this function's contract.
        let result = match unsafe { optional_text(result_json, "result_json") }? {
            Some(text) => json("result", text)?,
            None => serde_json::Value::Null,
        };
        let action = engine.complete(&by, id, token, result)?;
        set_json_opt(out, &action)
    }
}

/// Reports that a claimed action (Running becomes Failed) or its undo
/// (UndoRunning becomes UndoFailed) failed.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` holds the lease.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `lease_token`: the token of the claim (see `ac_center_claim`),
///   borrowed. Not NULL.
/// - `error`: what went wrong, borrowed. Required by the engine: NULL or
///   empty fails with `AC_STATUS_VALIDATION`.
/// - `out_action_json`: receives the action after the call, owned by the
///   caller (free with `ac_string_free`); NULL on failure. May be NULL.
///
/// Fails with `AC_STATUS_EXPIRED` when the lease ran out first or
/// `lease_token` is not the current lease's, and changes nothing. Thread
/// safe.
///
/// # Safety
///
/// `id`, `lease_token` and `error` are NULL or NUL-terminated strings;
/// `out_action_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_fail(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
    lease_token: *const c_char,
    error: *const c_char,
    out_action_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_action_json) };
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        // SAFETY: per this function's contract.
        let token = unsafe { text(lease_token, "lease_token") }?;
        // SAFETY: per this function's contract.
        let error = unsafe { optional_text(error, "error") }?.unwrap_or_default();
        let action = engine.fail(&by, id, token, error)?;
        set_json_opt(out, &action)
    }
}

/// Asks for a completed action (or one whose undo failed) to be undone: it
/// becomes Undoing, and an executor claims it and runs its inverse (release
/// from isolation, restore the file...). For a quarantined file, the other
/// instances of the same file the caller confirmed are undone too, each
/// checked on its own: pass those `ac_center_undo_instances` showed, each
/// with the version shown. Nothing else is undone, and an instance that
/// changed since is refused on its own.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs Undo on the
///   action's category.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `request_json`: borrowed. Not NULL. `{"comment": "false positive",
///   "expected_version": 4, "instances": [{"id": "0190...", "version":
///   4}, ...]}`: `comment` (why) is required; `expected_version`, the
///   version of the action the caller saw (when it changed since, the call
///   fails with `AC_STATUS_CONFLICT`), and `instances` ("apply to N more
///   instances", empty for this action alone) are optional.
/// - `out_report_json`: receives `{"action": {...}, "instances": [{"id",
///   "ok", "action" or "error"}...]}`, owned by the caller (free with
///   `ac_string_free`); NULL on failure. May be NULL.
///
/// The status is that of the action asked for; each confirmed instance has
/// its own result in `instances`. Thread safe.
///
/// # Safety
///
/// `id` and `request_json` are NULL or NUL-terminated strings;
/// `out_report_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_undo(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
    request_json: *const c_char,
    out_report_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_report_json) };
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        // SAFETY: per this function's contract.
        let request: UndoRequest = object("request", unsafe { text(request_json, "request_json") }?)?;
        let report = engine.undo(&by, id, &request)?;
        set_json_opt(out, &report)
    }
}

/// The other completed quarantines of the same file that an undo of `id`
/// may also undo ("apply to N more instances"): what to show a person
/// before they confirm. Pass the confirmed ones, each `{"id", "version"}`
/// as shown here, in the `instances` of `ac_center_undo`.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs View on the
///   action's category.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `out_actions_json`: receives a JSON array of actions (`[]` for an
///   action that is no file quarantine), owned by the caller (free with
///   `ac_string_free`); NULL on failure. Not NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `id` is NULL or a NUL-terminated string; `out_actions_json` is NULL or
/// valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_undo_instances(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
    out_actions_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_actions_json, "out_actions_json") }?;
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        out.set_json(&engine.undo_instances(&by, id)?)
    }
}

/// What a bulk operation by filter would act on now: the actions the
/// filter matches that are in a status the operation can leave from (so
/// "approve investigation X" shows only its pending actions), at most
/// 10,000, and the snapshot token that `ac_center_bulk` needs to act on
/// exactly those. Changes nothing.
///
/// - `center`, `by`: borrowed handles. Not NULL. Only actions `by` may
///   view are counted.
/// - `op_json`: the operation, as for `ac_center_bulk`, borrowed. Not NULL.
/// - `filter_json`: the filter of `ac_center_list`, borrowed; NULL for
///   every action.
/// - `out_preview_json`: receives `{"count": 2, "snapshot": "...",
///   "items": [{"id": "0190...", "version": 1}, ...]}`, owned by the
///   caller (free with `ac_string_free`); NULL on failure. Not NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `op_json` and `filter_json` are NULL or NUL-terminated strings;
/// `out_preview_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_preview_bulk(
    center: *const ac_center,
    by: *const ac_principal,
    op_json: *const c_char,
    filter_json: *const c_char,
    out_preview_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_preview_json, "out_preview_json") }?;
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let op: BulkOp = object("op", unsafe { text(op_json, "op_json") }?)?;
        // SAFETY: per this function's contract.
        let filter = unsafe { filter(filter_json) }?;
        out.set_json(&engine.preview_bulk(&by, &op, &filter)?)
    }
}

/// Runs one operation over many actions. Each item goes through the same
/// checks as the single call and gets its own result; one bad item never
/// undoes the others. The items that pass their checks are written in one
/// transaction.
///
/// - `center`, `by`: borrowed handles. Not NULL.
/// - `op_json`: the operation, borrowed. Not NULL. One of
///   `{"op": "approve", "comment": "..."}` (comment optional),
///   `{"op": "reject" | "cancel" | "undo", "comment": "..."}`,
///   `{"op": "retry"}` (comment optional).
/// - `selection_json`: which actions, as the caller saw them, borrowed.
///   Not NULL. Either `{"ids": [{"id": "0190...", "version": 3}, ...]}`:
///   these actions, each only while it is still at the version seen (an
///   item that changed fails with its own `conflict`); or `{"filter":
///   {"filter": {...}, "snapshot": "..."}}`: the actions
///   `ac_center_preview_bulk` showed for that filter, with its snapshot
///   token. When the filter no longer selects exactly those, nothing is
///   done and the call fails with `AC_STATUS_CONFLICT` (`what` is
///   `"selection"`; `previewed` and `now` give the counts): preview again.
/// - `out_results_json`: receives a JSON array with one
///   `{"id", "ok": true, "action"}` or `{"id", "ok": false, "error":
///   {"kind", "code", "message", ...}}` per item, owned by the caller (free
///   with `ac_string_free`); NULL on failure. Not NULL.
///
/// Returns `AC_STATUS_OK` when the items ran, whatever each one's outcome.
/// Thread safe.
///
/// # Safety
///
/// `op_json` and `selection_json` are NULL or NUL-terminated strings;
/// `out_results_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_bulk(
    center: *const ac_center,
    by: *const ac_principal,
    op_json: *const c_char,
    selection_json: *const c_char,
    out_results_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_results_json, "out_results_json") }?;
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let op: BulkOp = object("op", unsafe { text(op_json, "op_json") }?)?;
        // SAFETY: per this function's contract.
        let selection: Selection = object("selection", unsafe { text(selection_json, "selection_json") }?)?;
        out.set_json(&engine.bulk(&by, &op, &selection)?)
    }
}
