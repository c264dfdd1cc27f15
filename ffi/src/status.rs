//! The status code every call returns.

use std::ffi::{CStr, c_char, c_int};

use engine::ErrorKind;

use crate::boundary::boundary;

/// What a call did: `AC_STATUS_OK`, or why it failed.
///
/// The numbers are stable and never reused. 1 to 99 belong to the engine's
/// error kinds (the same numbers as `code` in the error JSON, the Python
/// exception classes and `actionctl`); 100 and up are errors of the C
/// interface itself. A newer library may add codes: treat an unknown code
/// as a failure.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ac_status {
    /// The call succeeded.
    Ok = 0,
    /// No action with this id.
    NotFound = 1,
    /// The action's status does not allow the event (approve a completed
    /// action, complete a pending one...).
    InvalidTransition = 2,
    /// The principal lacks the permission the message names.
    PermissionDenied = 3,
    /// The proposer tried to approve their own action.
    SelfApproval = 4,
    /// Something changed since the caller looked: the action (it is not
    /// at `expected_version`, or another call changed it first), the
    /// stored policy (not at the `expected_version` given to
    /// `ac_center_set_policy`), or a bulk selection (not what
    /// `ac_center_preview_bulk` showed). Read it again; the error JSON's
    /// `what` says which (`"policy"`, `"selection"`; absent for an action).
    Conflict = 5,
    /// Bad input: malformed or wrongly shaped JSON, a missing comment, an
    /// oversized value, a malformed id... The message names the field.
    Validation = 6,
    /// The approval window or the executor's lease ran out, or the lease
    /// token is not the current lease's (the action was taken back and
    /// claimed again): the error JSON's `what` is `"approval window"`,
    /// `"lease"` or `"lease_token"`.
    Expired = 7,
    /// The database failed, or is not an actioncenter database. The error
    /// JSON's `retryable` says whether the same call may succeed if tried
    /// again (a busy database, a lost connection) or not (a file that is
    /// no actioncenter database, a schema this library does not know).
    Storage = 8,
    /// An action of the same kind on the same entity is already active
    /// (pending, approved or running) and the policy does not allow
    /// duplicates for the kind, or an idempotency key was used before for
    /// another proposal. The error JSON's `existing` names the action
    /// there already; `idempotency_key` is set in the second case.
    Duplicate = 9,
    /// The caller could not be identified: a wrong account name or
    /// password (the message never says which), a disabled account, an
    /// unknown, expired or revoked session or API token.
    Unauthenticated = 10,
    /// Too many attempts in a short time (sign-ins to one account or from
    /// one address). The error JSON's `retry_after_seconds` says when to
    /// try again; `retryable` is true.
    RateLimited = 11,
    /// A pointer argument that may not be NULL was NULL.
    NullArgument = 100,
    /// A string argument was not valid UTF-8.
    InvalidUtf8 = 101,
    /// A handle was closed or freed already, or was never returned by this
    /// library, or is of the wrong type.
    InvalidHandle = 102,
    /// The library panicked; the call changed nothing it had not committed
    /// before the panic. Please report it with the message.
    Panic = 103,
    /// An error this build of the C interface does not know how to report.
    /// Not reachable while the library and its engine come from one build.
    Internal = 104,
}

impl ac_status {
    /// Every status, in order of their numbers.
    pub(crate) const ALL: [ac_status; 17] = [
        ac_status::Ok,
        ac_status::NotFound,
        ac_status::InvalidTransition,
        ac_status::PermissionDenied,
        ac_status::SelfApproval,
        ac_status::Conflict,
        ac_status::Validation,
        ac_status::Expired,
        ac_status::Storage,
        ac_status::Duplicate,
        ac_status::Unauthenticated,
        ac_status::RateLimited,
        ac_status::NullArgument,
        ac_status::InvalidUtf8,
        ac_status::InvalidHandle,
        ac_status::Panic,
        ac_status::Internal,
    ];

    /// The status of an engine error of kind `kind`: the status with the
    /// kind's number. A kind added to the engine before it has a status
    /// here is `Internal` (the unit tests fail until it has one).
    pub(crate) fn of_kind(kind: ErrorKind) -> ac_status {
        ac_status::ALL
            .into_iter()
            .find(|s| s.is_engine_kind() && *s as i32 == kind.code())
            .unwrap_or(ac_status::Internal)
    }

    /// Whether this status stands for an engine error kind (1 to 99).
    fn is_engine_kind(self) -> bool {
        (1..100).contains(&(self as i32))
    }

    /// The snake_case name, as `kind` in the error JSON.
    pub(crate) fn name(self) -> &'static CStr {
        match self {
            ac_status::Ok => c"ok",
            ac_status::NotFound => c"not_found",
            ac_status::InvalidTransition => c"invalid_transition",
            ac_status::PermissionDenied => c"permission_denied",
            ac_status::SelfApproval => c"self_approval",
            ac_status::Conflict => c"conflict",
            ac_status::Validation => c"validation",
            ac_status::Expired => c"expired",
            ac_status::Storage => c"storage",
            ac_status::Duplicate => c"duplicate",
            ac_status::Unauthenticated => c"unauthenticated",
            ac_status::RateLimited => c"rate_limited",
            ac_status::NullArgument => c"null_argument",
            ac_status::InvalidUtf8 => c"invalid_utf8",
            ac_status::InvalidHandle => c"invalid_handle",
            ac_status::Panic => c"panic",
            ac_status::Internal => c"internal",
        }
    }
}

/// The snake_case name of a status code (`"ok"`, `"not_found"`,
/// `"conflict"`, `"null_argument"`...), or `"unknown"` for a number that is
/// no status.
///
/// Takes an `int` rather than an `ac_status`, so any number is safe to pass.
/// Returns a static string: never NULL, never to be freed. Thread safe;
/// leaves the thread's last error as it is.
#[unsafe(no_mangle)]
pub extern "C" fn ac_status_name(status: c_int) -> *const c_char {
    boundary!(or c"unknown".as_ptr() => {
        ac_status::ALL
            .into_iter()
            .find(|s| *s as c_int == status)
            .map_or(c"unknown", ac_status::name)
            .as_ptr()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kind added to the engine fails here until it has a status of its
    /// own number and name.
    #[test]
    fn every_engine_kind_has_a_status_of_its_own_number() {
        for kind in ErrorKind::ALL {
            let status = ac_status::of_kind(kind);
            assert_ne!(
                status,
                ac_status::Internal,
                "ErrorKind::{kind:?} (code {}) has no ac_status: add one with that number",
                kind.code()
            );
            assert_eq!(status as i32, kind.code(), "{kind:?}");
            assert_eq!(status.name().to_str().ok(), Some(kind.as_str()), "{kind:?}");
        }
    }

    #[test]
    fn every_engine_status_is_an_engine_kind() {
        for status in ac_status::ALL.into_iter().filter(|s| s.is_engine_kind()) {
            assert!(
                ErrorKind::ALL.iter().any(|k| k.code() == status as i32),
                "{status:?} is no engine error kind"
            );
        }
    }

    #[test]
    fn interface_codes_never_collide_with_engine_codes() {
        let mut numbers: Vec<i32> = ac_status::ALL.iter().map(|s| *s as i32).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), ac_status::ALL.len());
        for s in ac_status::ALL {
            let n = s as i32;
            assert!(n == 0 || n >= 100 || s.is_engine_kind(), "{s:?}");
        }
        assert_eq!(ac_status::NullArgument as i32, 100);
        assert_eq!(ac_status::Internal as i32, 104);
    }

    #[test]
    fn status_name_of_an_unknown_number_is_unknown() {
        // SAFETY: ac_status_name returns static NUL-terminated strings.
        let name = |n| unsafe { CStr::from_ptr(ac_status_name(n)) };
        assert_eq!(name(5), c"conflict");
        assert_eq!(name(9), c"duplicate");
        assert_eq!(name(103), c"panic");
        assert_eq!(name(10), c"unauthenticated");
        assert_eq!(name(11), c"rate_limited");
        assert_eq!(name(12), c"unknown");
        assert_eq!(name(-1), c"unknown");
    }
}
