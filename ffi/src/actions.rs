//! The verbs that change actions: propose, decide, execute, undo, bulk.

use std::ffi::c_char;

use engine::{BulkOp, ClaimRequest, Decide, Kind, Proposal, Selection, UndoRequest};

use crate::boundary::boundary;
use crate::convert::{Out, action_id, json, optional_text, set_json_opt, text};
use crate::handle::{ac_center, ac_principal, engine_and_principal};
use crate::status::ac_status;

/// `0` stands for "any version" in the C signature; versions start at 1.
fn expected(version: u64) -> Option<u64> {
    (version != 0).then_some(version)
}

/// Records a proposed action: Pending when the policy wants a person's
/// approval, Approved when it does not (full automation, manual response).
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs Propose on the
///   action's category.
/// - `proposal_json`: UTF-8 JSON, borrowed for the call. Not NULL. For
///   example `{"kind": "isolate_device", "entity": {"type": "device",
///   "device_id": "dev-42"}, "source": {"type": "automated_investigation",
///   "investigation_id": "inv-7"}, "parameters": {"isolation": "full"}}`;
///   `investigation_id`, `incident_id`, `alert_id` and `parameters` are
///   optional.
/// - `out_action_json`: receives the new action as JSON (its `id` names it
///   in later calls), which the caller owns and frees with
///   `ac_string_free`; NULL on failure. May be NULL.
///
/// Thread safe.
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

/// Takes up to `limit` actions waiting for an executor (Approved ones, and
/// Undoing ones whose inverse must run), each with a lease of
/// `lease_seconds`. The executor carries each out and reports with
/// `ac_center_complete` or `ac_center_fail`, renewing the lease with
/// `ac_center_heartbeat` if it needs longer.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` claims only actions of
///   categories it may Execute.
/// - `limit`: 1 to 1000. `lease_seconds`: 1 to 86400.
/// - `kinds_json`: a JSON array of kinds to claim, such as
///   `["quarantine_file", "custom:reimage"]`, borrowed; NULL for any kind.
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
        let kinds: Vec<Kind> = match unsafe { optional_text(kinds_json, "kinds_json") }? {
            Some(text) => json("kinds", text)?,
            None => Vec::new(),
        };
        let request = ClaimRequest { limit, lease_seconds, kinds };
        out.set_json(&engine.claim(&by, &request)?)
    }
}

/// Renews the lease `by` holds on a claimed action, to `lease_seconds`
/// from now.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` holds the lease.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `lease_seconds`: 1 to 86400.
/// - `out_action_json`: receives the action after the call, owned by the
///   caller (free with `ac_string_free`); NULL on failure. May be NULL.
///
/// Fails with `AC_STATUS_EXPIRED` once the lease has run out. Thread safe.
///
/// # Safety
///
/// `id` is NULL or a NUL-terminated string; `out_action_json` is NULL or
/// valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_heartbeat(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
    lease_seconds: i64,
    out_action_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_action_json) };
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        let action = engine.heartbeat(&by, id, lease_seconds)?;
        set_json_opt(out, &action)
    }
}

/// Reports that the executor carried out a claimed action (Running becomes
/// Completed) or its undo (Undoing becomes Undone).
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` holds the lease.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `result_json`: what the executor found or did, any JSON value up to
///   64 KiB, borrowed; NULL records `null`.
/// - `out_action_json`: receives the action after the call, owned by the
///   caller (free with `ac_string_free`); NULL on failure. May be NULL.
///
/// Fails with `AC_STATUS_EXPIRED` when the lease ran out first. Thread safe.
///
/// # Safety
///
/// `id` and `result_json` are NULL or NUL-terminated strings;
/// `out_action_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_complete(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
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
        let result = match unsafe { optional_text(result_json, "result_json") }? {
            Some(text) => json("result", text)?,
            None => serde_json::Value::Null,
        };
        let action = engine.complete(&by, id, result)?;
        set_json_opt(out, &action)
    }
}

/// Reports that a claimed action (Running becomes Failed) or its undo
/// (Undoing becomes UndoFailed) failed.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` holds the lease.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `error`: what went wrong, borrowed. Required by the engine: NULL or
///   empty fails with `AC_STATUS_VALIDATION`.
/// - `out_action_json`: receives the action after the call, owned by the
///   caller (free with `ac_string_free`); NULL on failure. May be NULL.
///
/// Fails with `AC_STATUS_EXPIRED` when the lease ran out first. Thread safe.
///
/// # Safety
///
/// `id` and `error` are NULL or NUL-terminated strings; `out_action_json`
/// is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_fail(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
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
        let error = unsafe { optional_text(error, "error") }?.unwrap_or_default();
        let action = engine.fail(&by, id, error)?;
        set_json_opt(out, &action)
    }
}

/// Asks for a completed action (or one whose undo failed) to be undone: it
/// becomes Undoing, and an executor claims it and runs its inverse (release
/// from isolation, restore the file...). With `all_instances`, undoing a
/// quarantined file also undoes every other completed quarantine of the
/// same SHA-256, each checked on its own.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs Undo on the
///   action's category.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `comment`: why, borrowed. Required by the engine: NULL or empty fails
///   with `AC_STATUS_VALIDATION`.
/// - `out_report_json`: receives `{"action": {...}, "instances": [{"id",
///   "ok", "action" or "error"}...]}`, owned by the caller (free with
///   `ac_string_free`); NULL on failure. May be NULL.
///
/// The status is that of the action asked for; each other instance has its
/// own result in `instances`. Thread safe.
///
/// # Safety
///
/// `id` and `comment` are NULL or NUL-terminated strings;
/// `out_report_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_undo(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
    comment: *const c_char,
    all_instances: bool,
    out_report_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_report_json) };
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        let request = UndoRequest {
            // SAFETY: per this function's contract.
            comment: unsafe { optional_text(comment, "comment") }?.unwrap_or_default().to_owned(),
            all_instances,
        };
        let report = engine.undo(&by, id, &request)?;
        set_json_opt(out, &report)
    }
}

/// The other completed quarantines of the same file that
/// `ac_center_undo` with `all_instances` would also undo ("apply to N more
/// instances").
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

/// Runs one operation over many actions. Each item goes through the same
/// checks as the single call and gets its own result; one bad item never
/// undoes the others.
///
/// - `center`, `by`: borrowed handles. Not NULL.
/// - `op_json`: the operation, borrowed. Not NULL. One of
///   `{"op": "approve", "comment": "..."}` (comment optional),
///   `{"op": "reject" | "cancel" | "undo", "comment": "..."}`,
///   `{"op": "retry"}`.
/// - `selection_json`: which actions, borrowed. Not NULL. Either
///   `{"ids": ["0190...", ...]}` or `{"filter": {...}}` (the filter of
///   `ac_center_list`; only actions the operation can leave from are taken,
///   at most 10,000).
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
        let op: BulkOp = json("op", unsafe { text(op_json, "op_json") }?)?;
        // SAFETY: per this function's contract.
        let selection: Selection = json("selection", unsafe { text(selection_json, "selection_json") }?)?;
        out.set_json(&engine.bulk(&by, &op, &selection)?)
    }
}
