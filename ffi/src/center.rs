//! Opening and closing a center, its clock, and the policy stored in its
//! database.

use std::ffi::c_char;
use std::sync::Arc;

use engine::{ActionCenter, ManualClock, MemoryStore, Policy};

use crate::boundary::boundary;
use crate::convert::{Out, expected, optional_text, set_json_opt, text};
use crate::handle::{CENTERS, Center, ac_center, ac_principal, engine_and_principal};
use crate::status::ac_status;

fn open(engine: ActionCenter, clock: Option<Arc<ManualClock>>, out: Out<*mut ac_center>) {
    out.set(CENTERS.insert(Center { engine, clock }));
}

/// Opens the SQLite database at `path`, creating it if missing. Many
/// processes and handles may open one file: they share its actions, its
/// audit trail and its policy.
///
/// The policy is the database's, not the handle's: every handle enforces
/// the policy stored in the database (`ac_center_policy`). A new database
/// gets the default policy as its bootstrap policy (stored as version 1,
/// the first audit event); change it with `ac_center_set_policy`.
///
/// - `path`: UTF-8, NUL-terminated, borrowed for the call. Not NULL.
/// - `out_center`: receives a new handle, which the caller owns and closes
///   with `ac_center_close`; NULL on failure. Not NULL.
///
/// Fails with `AC_STATUS_STORAGE` when the file cannot be opened or is not
/// an actioncenter database (or one of a newer schema). Thread safe.
///
/// # Safety
///
/// `path` is NULL or a NUL-terminated string; `out_center` is NULL or
/// valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_open_sqlite(
    path: *const c_char,
    out_center: *mut *mut ac_center,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::required(out_center, "out_center", std::ptr::null_mut()) }?;
        // SAFETY: per this function's contract.
        let path = unsafe { text(path, "path") }?;
        open(ActionCenter::open_sqlite(path)?, None, out);
        Ok(())
    }
}

/// Connects to the PostgreSQL database at `url` (a
/// `postgres://user:password@host:port/dbname` URL or a `host=... user=...
/// dbname=...` string), creating or migrating its tables on first use.
/// Many hosts may share one database and its queue. As for
/// `ac_center_open_sqlite`, the policy is the one stored in the database;
/// a new database gets the default policy as its bootstrap policy.
///
/// - `url`: UTF-8, borrowed for the call. Not NULL.
/// - `out_center`: receives a new handle, which the caller owns and closes
///   with `ac_center_close`; NULL on failure. Not NULL.
///
/// Needs a library built with the cargo feature `postgres` (the default);
/// without it the call fails with `AC_STATUS_STORAGE` and says so. A `url`
/// that is not a connection string fails with `AC_STATUS_VALIDATION`; a
/// server that cannot be reached, or a database that is not an
/// actioncenter one, with `AC_STATUS_STORAGE`. Thread safe.
///
/// # Safety
///
/// `url` is NULL or a NUL-terminated string; `out_center` is NULL or valid
/// for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_open_postgres(
    url: *const c_char,
    out_center: *mut *mut ac_center,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::required(out_center, "out_center", std::ptr::null_mut()) }?;
        // SAFETY: per this function's contract.
        let url = unsafe { text(url, "url") }?;
        open(open_postgres(url)?, None, out);
        Ok(())
    }
}

#[cfg(feature = "postgres")]
fn open_postgres(url: &str) -> engine::Result<ActionCenter> {
    ActionCenter::open_postgres(url)
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(_url: &str) -> engine::Result<ActionCenter> {
    Err(engine::Error::storage_msg(
        "this libactioncenter was built without PostgreSQL support \
         (build it with `cargo build -p actioncenter-ffi --features postgres`)",
    ))
}

/// Opens a center over a new, empty in-memory store and the system clock.
/// Its actions live as long as the handle. The store starts with the
/// default policy as its bootstrap policy; change it with
/// `ac_center_set_policy`.
///
/// - `out_center`: receives a new handle, which the caller owns and closes
///   with `ac_center_close`; NULL on failure. Not NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `out_center` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_open_memory(out_center: *mut *mut ac_center) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::required(out_center, "out_center", std::ptr::null_mut()) }?;
        open(ActionCenter::in_memory(), None, out);
        Ok(())
    }
}

/// Opens a center like `ac_center_open_memory`, on a manual clock that
/// shows `unix_seconds` (seconds since 1970-01-01 UTC) and moves only by
/// `ac_center_advance_clock`. For tests of integrations that must see
/// approval windows and leases run out without sleeping.
///
/// - `out_center`: receives a new handle, which the caller owns and closes
///   with `ac_center_close`; NULL on failure. Not NULL.
///
/// Fails with `AC_STATUS_VALIDATION` when `unix_seconds` is out of range.
/// Thread safe.
///
/// # Safety
///
/// `out_center` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_open_memory_at(
    unix_seconds: i64,
    out_center: *mut *mut ac_center,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::required(out_center, "out_center", std::ptr::null_mut()) }?;
        let start = engine::chrono::DateTime::from_timestamp(unix_seconds, 0).ok_or_else(|| {
            engine::Error::validation("unix_seconds", format!("{unix_seconds} is out of range"))
        })?;
        let clock = Arc::new(ManualClock::starting_at(start));
        let engine = ActionCenter::with_clock(
            Arc::new(MemoryStore::new()),
            Policy::default(),
            Arc::clone(&clock) as Arc<dyn engine::Clock>,
        );
        open(engine, Some(clock), out);
        Ok(())
    }
}

/// Moves the manual clock of a center from `ac_center_open_memory_at`
/// forward by `seconds` (back, if negative).
///
/// - `center`: borrowed. Not NULL.
///
/// Fails with `AC_STATUS_VALIDATION` for a center on the system clock.
/// Thread safe; calls under way on other threads see the old or the new
/// time.
///
/// # Safety
///
/// None beyond passing a handle from this library or NULL: any other value
/// is answered with `AC_STATUS_INVALID_HANDLE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_advance_clock(
    center: *const ac_center,
    seconds: i64,
) -> ac_status {
    boundary! {
        let center = CENTERS.get(center, "center")?;
        let Some(clock) = center.clock else {
            return Err(engine::Error::validation(
                "center",
                "runs on the system clock; only a center from ac_center_open_memory_at has a clock to move",
            )
            .into());
        };
        let by = engine::chrono::Duration::try_seconds(seconds).ok_or_else(|| {
            engine::Error::validation("seconds", format!("{seconds} is out of range"))
        })?;
        clock.advance(by);
        Ok(())
    }
}

/// Closes a center without waiting for calls under way on other threads:
/// they finish normally, and later calls with this handle fail with
/// `AC_STATUS_INVALID_HANDLE`. An in-memory center's actions are gone; the
/// database connections close when the last call under way returns. When
/// that closes the last SQLite (or PostgreSQL) center of the process, the
/// pool's housekeeping threads end too, and the call that closes it waits
/// for them (at most 2 s): nothing of the library keeps running.
///
/// - `center`: the handle to close, owned by the caller until now. NULL is
///   accepted and does nothing.
///
/// Fails with `AC_STATUS_INVALID_HANDLE` for a handle closed already.
/// Thread safe.
///
/// # Safety
///
/// None beyond passing a handle from this library or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_close(center: *mut ac_center) -> ac_status {
    boundary! {
        if !center.is_null() {
            drop(CENTERS.remove(center, "center")?);
        }
        Ok(())
    }
}

/// Stores `policy_json` as the next version of the database's policy:
/// roles and their grants, the principals and their roles, automation
/// levels, quorums, approval windows, attempts, duplicates. Every handle on
/// the database, in this process and in others, enforces it from then on;
/// calls under way finish with the policy they started with, or are tried
/// again under the new one. The change is an audit event (`set_policy`)
/// carrying the new policy's digest. The format is in docs/json.md.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs Administer on
///   every category (the default policy's `admin` role).
/// - `policy_json`: UTF-8 JSON, borrowed for the call. Not NULL.
/// - `expected_version`: the version of the policy the caller read (the
///   `version` of `ac_center_policy`); when another change was stored since,
///   the call fails with `AC_STATUS_CONFLICT` (`what` is `"policy"`) and
///   changes nothing. 0 replaces whatever version is stored.
/// - `comment`: why, for the audit trail, borrowed; NULL for none.
/// - `out_stored_json`: receives the stored policy as `ac_center_policy`
///   gives it, owned by the caller (free with `ac_string_free`); NULL on
///   failure. May be NULL.
///
/// Fails with `AC_STATUS_VALIDATION` naming the bad field, and with
/// `AC_STATUS_PERMISSION_DENIED` without Administer; the policy in force
/// stays. Thread safe.
///
/// # Safety
///
/// `policy_json` and `comment` are NULL or NUL-terminated strings;
/// `out_stored_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_set_policy(
    center: *const ac_center,
    by: *const ac_principal,
    policy_json: *const c_char,
    expected_version: u64,
    comment: *const c_char,
    out_stored_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::optional_string(out_stored_json) };
        let (engine, by) = engine_and_principal(center, by)?;
        // SAFETY: per this function's contract.
        let policy = unsafe { text(policy_json, "policy_json") }?;
        // SAFETY: per this function's contract.
        let comment = unsafe { optional_text(comment, "comment") }?;
        let policy = Policy::from_json(policy)?;
        let stored = engine.set_policy(&by, policy, expected(expected_version), comment)?;
        set_json_opt(out, &*stored)
    }
}

/// The policy stored in the database, in force for every handle on it:
/// `{"version": 2, "digest": "...", "set_by": "root", "set_at":
/// "2026-03-01T09:00:00Z", "policy": {...}}`. Version 1 is the bootstrap
/// policy (`set_by` is `"system"`).
///
/// - `center`: borrowed. Not NULL.
/// - `out_stored_policy_json`: receives a string the caller owns and frees
///   with `ac_string_free`; NULL on failure. Not NULL.
///
/// Thread safe; sees changes made by every process on the database.
///
/// # Safety
///
/// `out_stored_policy_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_policy(
    center: *const ac_center,
    out_stored_policy_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_stored_policy_json, "out_stored_policy_json") }?;
        let center = CENTERS.get(center, "center")?;
        out.set_json(&*center.engine.stored_policy()?)
    }
}

/// Every version of the stored policy, oldest first, each as
/// `ac_center_policy` gives it.
///
/// - `center`, `by`: borrowed handles. Not NULL. `by` needs View on some
///   category.
/// - `out_json`: receives a JSON array, owned by the caller (free with
///   `ac_string_free`); NULL on failure. Not NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `out_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_policy_history(
    center: *const ac_center,
    by: *const ac_principal,
    out_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_json, "out_json") }?;
        let (engine, by) = engine_and_principal(center, by)?;
        out.set_json(&engine.policy_history(&by)?)
    }
}
