//! Reading actions and their audit events, and the sweeps.

use std::ffi::c_char;

use engine::PageRequest;

use crate::boundary::boundary;
use crate::convert::{Out, action_id, filter, optional_text, set_json_opt, text};
use crate::handle::{CENTERS, ac_center, ac_principal, engine_and_principal};
use crate::status::ac_status;

/// One action, with its decisions, attempts and undo information.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs View on the
///   action's category.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `out_action_json`: receives the action as JSON, owned by the caller
///   (free with `ac_string_free`); NULL on failure. Not NULL.
///
/// Fails with `AC_STATUS_NOT_FOUND` for an unknown id. Thread safe.
///
/// # Safety
///
/// `id` is NULL or a NUL-terminated string; `out_action_json` is NULL or
/// valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_get(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
    out_action_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_action_json, "out_action_json") }?;
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        out.set_json(&engine.get(&by, id)?)
    }
}

/// The full id of the action whose id starts with `prefix` (4 or more hex
/// digits, like git's short ids), or of a full id. Prefixes of 8 digits
/// are often shared (ids made within a minute start alike): show people
/// `ac_center_short_id`, which is always unique.
///
/// - `center`: borrowed. Not NULL.
/// - `prefix`: borrowed. Not NULL.
/// - `out_id`: receives the full UUID, owned by the caller (free with
///   `ac_string_free`); NULL on failure. Not NULL.
///
/// Fails with `AC_STATUS_NOT_FOUND` when no id matches and
/// `AC_STATUS_VALIDATION` when several do. Thread safe.
///
/// # Safety
///
/// `prefix` is NULL or a NUL-terminated string; `out_id` is NULL or valid
/// for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_resolve_id(
    center: *const ac_center,
    prefix: *const c_char,
    out_id: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_id, "out_id") }?;
        let center = CENTERS.get(center, "center")?;
        // SAFETY: per this function's contract.
        let prefix = unsafe { text(prefix, "prefix") }?;
        out.set_text(center.engine.resolve_id(prefix)?.to_string());
        Ok(())
    }
}

/// `ac_center_resolve_id` among the actions `by` may view: a prefix finds
/// no action of a category `by` may not view (`AC_STATUS_NOT_FOUND`), and
/// the message of an ambiguous one names none. For a prefix that comes
/// from someone else (a chat command, a ticket). A full id is taken as it
/// is.
///
/// - `center`, `by`: borrowed handles. Not NULL.
/// - `prefix`: borrowed. Not NULL.
/// - `out_id`: receives the full UUID, owned by the caller (free with
///   `ac_string_free`); NULL on failure. Not NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `prefix` is NULL or a NUL-terminated string; `out_id` is NULL or valid
/// for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_resolve_id_for(
    center: *const ac_center,
    by: *const ac_principal,
    prefix: *const c_char,
    out_id: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_id, "out_id") }?;
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let prefix = unsafe { text(prefix, "prefix") }?;
        out.set_text(engine.resolve_id_for(&by, prefix)?.to_string());
        Ok(())
    }
}

/// The short id of an action: the shortest prefix of its id, 8 characters
/// or more, that `ac_center_resolve_id` resolves to it alone. Ids made
/// within about a minute share their first 8 hex digits (UUID v7 starts
/// with the time), so a fixed 8-character prefix is often ambiguous; show
/// people this one instead. It may grow as more actions are stored: keep
/// the full id in anything that lasts.
///
/// - `center`: borrowed. Not NULL.
/// - `id`: the action's full UUID, borrowed. Not NULL.
/// - `out_short_id`: receives the short id, owned by the caller (free with
///   `ac_string_free`); NULL on failure. Not NULL.
///
/// Fails with `AC_STATUS_NOT_FOUND` for an id that is not stored. Thread
/// safe.
///
/// # Safety
///
/// `id` is NULL or a NUL-terminated string; `out_short_id` is NULL or
/// valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_short_id(
    center: *const ac_center,
    id: *const c_char,
    out_short_id: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_short_id, "out_short_id") }?;
        let center = CENTERS.get(center, "center")?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        let short = center.engine.short_ids(&[id])?.into_iter().next();
        out.set_text(short.unwrap_or_else(|| id.to_string()));
        Ok(())
    }
}

/// A page of the actions `by` may view that pass a filter, newest first:
/// the Pending and History views.
///
/// - `center`, `by`: borrowed handles. Not NULL.
/// - `filter_json`: borrowed; NULL for every action. Every field is
///   optional: `{"statuses": ["pending"], "kinds": [...], "categories":
///   [...], "sources": [...], "investigation_id": "...", "entity": "...",
///   "created_by": "...", "decided_by": "...", "created_after":
///   "2026-01-01T00:00:00Z", "created_before": "..."}`.
/// - `cursor`: the `next_cursor` of the previous page, borrowed; NULL for
///   the first page.
/// - `limit`: items per page, 1 to 1000.
/// - `out_page_json`: receives `{"items": [...], "next_cursor": "..." or
///   null}`, owned by the caller (free with `ac_string_free`); NULL on
///   failure. Not NULL.
///
/// Thread safe. Actions created while a reader pages never shift its pages.
///
/// # Safety
///
/// `filter_json` and `cursor` are NULL or NUL-terminated strings;
/// `out_page_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_list(
    center: *const ac_center,
    by: *const ac_principal,
    filter_json: *const c_char,
    cursor: *const c_char,
    limit: usize,
    out_page_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_page_json, "out_page_json") }?;
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let filter = unsafe { filter(filter_json) }?;
        let page = PageRequest {
            limit: Some(limit),
            // SAFETY: per this function's contract.
            cursor: unsafe { optional_text(cursor, "cursor") }?.map(str::to_owned),
        };
        out.set_json(&engine.list(&by, &filter, &page)?)
    }
}

/// How many actions `by` may view that pass a filter, per status: the tab
/// badges.
///
/// - `center`, `by`: borrowed handles. Not NULL.
/// - `filter_json`: as for `ac_center_list`, borrowed; NULL for every
///   action.
/// - `out_counts_json`: receives `{"pending": 3, "approved": 0, ...}` with
///   every status, owned by the caller (free with `ac_string_free`); NULL
///   on failure. Not NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `filter_json` is NULL or a NUL-terminated string; `out_counts_json` is
/// NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_counts(
    center: *const ac_center,
    by: *const ac_principal,
    filter_json: *const c_char,
    out_counts_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_counts_json, "out_counts_json") }?;
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let filter = unsafe { filter(filter_json) }?;
        out.set_json(&engine.counts(&by, &filter)?)
    }
}

/// The audit events of one action, oldest first.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs View on the
///   action's category.
/// - `id`: the action's UUID, borrowed. Not NULL.
/// - `out_events_json`: receives a JSON array of events `{"seq",
///   "action_id", "at", "actor", "event", "from", "to", "version",
///   "digest", "policy_version", "prev_hash", "hash"}`, with `"comment"`
///   when the event has one and `"via"` when an administrator acted as
///   `actor` (`ac_center_impersonate`: "root as dana"); see docs/json.md.
///   `"from"` is `null` on the event that created the action. Owned by
///   the caller (free with `ac_string_free`); NULL on failure. Not NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `id` is NULL or a NUL-terminated string; `out_events_json` is NULL or
/// valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_history(
    center: *const ac_center,
    by: *const ac_principal,
    id: *const c_char,
    out_events_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_events_json, "out_events_json") }?;
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let id = unsafe { action_id(id, "id") }?;
        out.set_json(&engine.history_of(&by, id)?)
    }
}

/// The change feed: audit events with a sequence number above `after_seq`,
/// oldest first, at most `limit`. Follow it by passing the last `seq` seen;
/// start at 0.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs View on every
///   category.
/// - `limit`: 1 to 1000.
/// - `out_events_json`: receives a JSON array of events (as
///   `ac_center_history`; `[]` when nothing is new), owned by the caller
///   (free with `ac_string_free`); NULL on failure. Not NULL. The feed
///   also holds the `set_policy` events (their `action_id`, `from` and
///   `to` are `null`); the first event of every database stores its
///   bootstrap policy.
///
/// Thread safe; sees events of every process on the same file.
///
/// # Safety
///
/// `out_events_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_events_since(
    center: *const ac_center,
    by: *const ac_principal,
    after_seq: u64,
    limit: usize,
    out_events_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_events_json, "out_events_json") }?;
        let (engine, by) = engine_and_principal(center, by)?;
        out.set_json(&engine.events_since(&by, after_seq, limit)?)
    }
}

/// The sweep that closes approval windows: every pending action whose
/// window has closed moves to its kind's expiry outcome (Expired by
/// default). Run it periodically from any one process (or several: an
/// action another sweep moved is skipped).
///
/// - `center`: borrowed. Not NULL.
/// - `out_count`: receives how many actions moved. May be NULL.
/// - `out_actions_json`: receives a JSON array of the moved actions, owned
///   by the caller (free with `ac_string_free`); NULL on failure. May be
///   NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `out_count` is NULL or valid for writing one `size_t`;
/// `out_actions_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_expire_due(
    center: *const ac_center,
    out_count: *mut usize,
    out_actions_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let count = unsafe { Out::optional(out_count, 0) };
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_actions_json) };
        let center = CENTERS.get(center, "center")?;
        let moved = center.engine.expire_due()?;
        set_json_opt(out, &moved)?;
        if let Some(count) = count {
            count.set(moved.len());
        }
        Ok(())
    }
}

/// The sweep that takes actions back from executors that died: every
/// action whose lease ran out returns to the queue (Running goes back to
/// Approved, UndoRunning to Undoing, and the attempt counts), or, once the
/// kind's maximum attempts are spent, becomes Failed or UndoFailed. The
/// taken-back claim's lease token is refused from then on. Run it
/// periodically from any one process (or several).
///
/// - `center`: borrowed. Not NULL.
/// - `out_count`: receives how many actions moved. May be NULL.
/// - `out_actions_json`: receives a JSON array of the moved actions, owned
///   by the caller (free with `ac_string_free`); NULL on failure. May be
///   NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `out_count` is NULL or valid for writing one `size_t`;
/// `out_actions_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_recover_leases(
    center: *const ac_center,
    out_count: *mut usize,
    out_actions_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let count = unsafe { Out::optional(out_count, 0) };
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_actions_json) };
        let center = CENTERS.get(center, "center")?;
        let moved = center.engine.recover_leases()?;
        set_json_opt(out, &moved)?;
        if let Some(count) = count {
            count.set(moved.len());
        }
        Ok(())
    }
}
