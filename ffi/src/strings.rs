//! The strings the library hands out: results to free, the last error,
//! the version.

use std::ffi::{CString, c_char};

use crate::boundary::{boundary, last_error};

/// Frees a string the library returned through a `char **` out-parameter.
///
/// - `string`: owned by the caller until now, and by nobody after. NULL is
///   accepted and does nothing.
///
/// Thread safe: a string may be freed on another thread than the one that
/// received it.
///
/// # Safety
///
/// `string` is NULL or a string from this library's out-parameters that
/// was not freed already. The static strings of `ac_last_error_message`,
/// `ac_last_error_json`, `ac_status_name` and `ac_version` are not to be
/// freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ac_string_free(string: *mut c_char) {
    boundary!(or () => {
        if !string.is_null() {
            // SAFETY: made by `CString::into_raw` and not freed already, per
            // this function's contract.
            drop(unsafe { CString::from_raw(string) });
        }
    })
}

/// The message of the last failed call on this thread, such as
/// `cannot approve action 0190...: it is completed`; an empty string when
/// the thread's last call succeeded or none was made.
///
/// Never NULL. The string belongs to the library: do not free it. It stays
/// valid until the next call on this thread to a function that returns
/// `ac_status`. Each thread has its own: calls on other threads never
/// change it.
#[unsafe(no_mangle)]
pub extern "C" fn ac_last_error_message() -> *const c_char {
    boundary!(or c"".as_ptr() => last_error(|e| &e.message))
}

/// The last failed call on this thread as JSON, with the fields a program
/// acts on: `{"kind": "conflict", "code": 5, "message": "...", "id": ...,
/// "expected": 2, "actual": 3}`; `field` for validation errors; `what`
/// for conflicts about the policy or a bulk selection and for expired
/// deadlines and stale lease tokens; `existing` (and `idempotency_key`) for
/// duplicates; `retryable` for storage errors, true when the same call may
/// succeed if tried again (a busy database, a lost connection); `argument`
/// for NULL arguments, invalid UTF-8 and invalid handles. An empty string
/// when the thread's last call succeeded.
///
/// Never NULL. The string belongs to the library: do not free it. It stays
/// valid until the next call on this thread to a function that returns
/// `ac_status`. Each thread has its own.
#[unsafe(no_mangle)]
pub extern "C" fn ac_last_error_json() -> *const c_char {
    boundary!(or c"".as_ptr() => last_error(|e| &e.json))
}

/// The library's version, such as `"0.1.0"`: compare it with
/// `AC_VERSION` to find a header and library of different builds.
///
/// A static string, never NULL: do not free it. Thread safe.
#[unsafe(no_mangle)]
pub extern "C" fn ac_version() -> *const c_char {
    const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    boundary!(or c"".as_ptr() => VERSION.as_ptr().cast())
}
