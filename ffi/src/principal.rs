//! Principals: who is acting.

use std::ffi::c_char;
use std::sync::Arc;

use engine::Principal;
use serde::Deserialize;

use crate::boundary::{Failure, boundary};
use crate::convert::{Out, json, text};
use crate::handle::{PRINCIPALS, ac_principal};
use crate::status::ac_status;

/// `{"id": "alice", "roles": ["analyst"]}`, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalJson {
    id: String,
    roles: Vec<String>,
}

/// Makes a principal from an id and roles. The center's policy checks the
/// roles on every call (an unknown role fails there with
/// `AC_STATUS_VALIDATION`).
///
/// - `id`: UTF-8, borrowed for the call (copied). Not NULL.
/// - `roles`: an array of `roles_len` UTF-8 strings, borrowed for the call
///   (copied); none of them NULL. May be NULL when `roles_len` is 0.
/// - `out_principal`: receives a new handle, which the caller owns and
///   frees with `ac_principal_free`; NULL on failure. Not NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `id` is NULL or a NUL-terminated string; `roles` is NULL or points to
/// `roles_len` pointers, each NULL or a NUL-terminated string;
/// `out_principal` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_principal_new(
    id: *const c_char,
    roles: *const *const c_char,
    roles_len: usize,
    out_principal: *mut *mut ac_principal,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::required(out_principal, "out_principal", std::ptr::null_mut()) }?;
        // SAFETY: per this function's contract.
        let id = unsafe { text(id, "id") }?;
        let roles: &[*const c_char] = match (roles.is_null(), roles_len) {
            (_, 0) => &[],
            (true, _) => return Err(Failure::null("roles")),
            // SAFETY: not NULL, and `roles_len` readable pointers per the contract.
            (false, len) => unsafe { std::slice::from_raw_parts(roles, len) },
        };
        let roles = roles
            .iter()
            .enumerate()
            // SAFETY: each is NULL or a NUL-terminated string per the contract.
            .map(|(i, role)| unsafe { text(*role, "roles") }.map(str::to_owned).map_err(|f| f.at_index(i)))
            .collect::<Result<Vec<String>, Failure>>()?;
        out.set(PRINCIPALS.insert(Arc::new(Principal::new(id, roles))));
        Ok(())
    }
}

/// Makes a principal from JSON: `{"id": "alice", "roles": ["analyst"]}`.
///
/// - `principal_json`: UTF-8 JSON, borrowed for the call. Not NULL.
/// - `out_principal`: receives a new handle, which the caller owns and
///   frees with `ac_principal_free`; NULL on failure. Not NULL.
///
/// Fails with `AC_STATUS_VALIDATION` naming the bad field. Thread safe.
///
/// # Safety
///
/// `principal_json` is NULL or a NUL-terminated string; `out_principal` is
/// NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_principal_from_json(
    principal_json: *const c_char,
    out_principal: *mut *mut ac_principal,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::required(out_principal, "out_principal", std::ptr::null_mut()) }?;
        // SAFETY: per this function's contract.
        let p: PrincipalJson = json("principal", unsafe { text(principal_json, "principal_json") }?)?;
        out.set(PRINCIPALS.insert(Arc::new(Principal::new(p.id, p.roles))));
        Ok(())
    }
}

/// Frees a principal. Calls under way on other threads that were passed it
/// finish first.
///
/// - `principal`: the handle to free, owned by the caller until now. NULL
///   is accepted and does nothing.
///
/// Fails with `AC_STATUS_INVALID_HANDLE` for a handle freed already.
/// Thread safe.
///
/// # Safety
///
/// None beyond passing a handle from this library or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_principal_free(principal: *mut ac_principal) -> ac_status {
    boundary! {
        if !principal.is_null() {
            drop(PRINCIPALS.remove(principal, "principal")?);
        }
        Ok(())
    }
}
