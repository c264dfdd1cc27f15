//! Principals: who is acting.

use std::ffi::c_char;
use std::sync::Arc;

use engine::Principal;
use serde::Deserialize;

use crate::boundary::{Failure, boundary};
use crate::convert::{Out, object, text};
use crate::handle::{CENTERS, PRINCIPALS, ac_center, ac_principal};
use crate::status::ac_status;

/// `{"id": "alice", "roles": ["analyst"]}`, nothing else.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrincipalJson {
    id: String,
    roles: Vec<String>,
}

/// Makes a principal from an id and roles, for a host that authenticates
/// its callers itself and brings their identity. The policy stored in the
/// center's database checks the roles on every call (a role it does not
/// define fails there with `AC_STATUS_VALIDATION`). A host that knows a
/// caller by name only takes the roles the stored policy gives that name
/// with `ac_center_principal` instead.
///
/// - `id`: UTF-8, borrowed for the call (copied). Not NULL.
/// - `roles`: an array of `roles_len` UTF-8 strings, borrowed for the call
///   (copied); none of them NULL. May be NULL when `roles_len` is 0.
///   A `roles_len` no array of pointers can have (a negative length cast
///   to `size_t`) fails with `AC_STATUS_VALIDATION`.
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
            // No array of pointers this long fits in the address space:
            // a negative length cast to size_t, say.
            (false, len) if len > isize::MAX as usize / std::mem::size_of::<*const c_char>() => {
                return Err(engine::Error::validation(
                    "roles_len",
                    format!("{len} is longer than any array of pointers can be"),
                )
                .into());
            }
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

/// Makes a principal from JSON: `{"id": "alice", "roles": ["analyst"]}`,
/// nothing else (a `via` is set only by `ac_center_impersonate`).
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
        let p: PrincipalJson = object("principal", unsafe { text(principal_json, "principal_json") }?)?;
        out.set(PRINCIPALS.insert(Arc::new(Principal::new(p.id, p.roles))));
        Ok(())
    }
}

/// The principal `id` with the roles the policy stored in the center's
/// database gives it (its `principals` map): how a host that knows a
/// caller by name alone (an operating-system account, a service name)
/// turns it into a principal, rather than choosing the roles itself.
///
/// - `center`: borrowed. Not NULL.
/// - `id`: UTF-8, borrowed for the call. Not NULL.
/// - `out_principal`: receives a new handle, which the caller owns and
///   frees with `ac_principal_free`; NULL on failure. Not NULL.
///
/// Fails with `AC_STATUS_PERMISSION_DENIED` for an id that is not among
/// the principals of the stored policy, and `AC_STATUS_VALIDATION` for an
/// empty id or one with surrounding whitespace or invisible characters.
/// The principal keeps the roles it was made with: after the policy
/// changes, make it again. Thread safe.
///
/// # Safety
///
/// `id` is NULL or a NUL-terminated string; `out_principal` is NULL or
/// valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_principal(
    center: *const ac_center,
    id: *const c_char,
    out_principal: *mut *mut ac_principal,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::required(out_principal, "out_principal", std::ptr::null_mut()) }?;
        let center = CENTERS.get(center, "center")?;
        // SAFETY: per this function's contract.
        let id = unsafe { text(id, "id") }?;
        out.set(PRINCIPALS.insert(Arc::new(center.engine.principal(id)?)));
        Ok(())
    }
}

/// `real`, acting as the principal `as_id` of the stored policy (with the
/// roles the policy gives `as_id`). Every event and decision the returned
/// principal causes records both: `actor` is `as_id` and `via` is
/// `real`'s id ("root as dana").
///
/// - `center`, `real`: borrowed handles. Not NULL. `real` needs Administer
///   on every category.
/// - `as_id`: UTF-8, borrowed for the call. Not NULL.
/// - `out_principal`: receives a new handle, which the caller owns and
///   frees with `ac_principal_free`; NULL on failure. Not NULL.
///
/// Fails with `AC_STATUS_PERMISSION_DENIED` when `real` lacks Administer
/// or `as_id` is not among the principals of the stored policy. Thread
/// safe.
///
/// # Safety
///
/// `as_id` is NULL or a NUL-terminated string; `out_principal` is NULL or
/// valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_center_impersonate(
    center: *const ac_center,
    real: *const ac_principal,
    as_id: *const c_char,
    out_principal: *mut *mut ac_principal,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::required(out_principal, "out_principal", std::ptr::null_mut()) }?;
        let center = CENTERS.get(center, "center")?;
        let real = PRINCIPALS.get(real, "real")?;
        // SAFETY: per this function's contract.
        let as_id = unsafe { text(as_id, "as_id") }?;
        out.set(PRINCIPALS.insert(Arc::new(center.engine.impersonate(&real, as_id)?)));
        Ok(())
    }
}

/// A principal as JSON: `{"id": "dana", "roles": ["analyst"]}`, with
/// `"via": "root"` for one from `ac_center_impersonate`.
///
/// - `principal`: borrowed. Not NULL.
/// - `out_principal_json`: receives a string the caller owns and frees
///   with `ac_string_free`; NULL on failure. Not NULL.
///
/// Thread safe.
///
/// # Safety
///
/// `out_principal_json` is NULL or valid for writing one pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_principal_to_json(
    principal: *const ac_principal,
    out_principal_json: *mut *mut c_char,
) -> ac_status {
    boundary! {
        // SAFETY: per this function's contract.
        let out = unsafe { Out::string(out_principal_json, "out_principal_json") }?;
        let principal = PRINCIPALS.get(principal, "principal")?;
        out.set_json(&*principal)
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
