//! Arguments in, results out: C strings, JSON, out-parameters.

use std::ffi::{CStr, c_char};

use engine::{ActionId, Filter};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::boundary::{Failure, c_string};

/// The UTF-8 text behind a required string argument.
///
/// # Safety
///
/// `ptr` is NULL or points to a NUL-terminated string that stays valid and
/// unchanged for `'a`.
pub(crate) unsafe fn text<'a>(
    ptr: *const c_char,
    argument: &'static str,
) -> Result<&'a str, Failure> {
    // SAFETY: forwarded from the caller.
    unsafe { optional_text(ptr, argument) }?.ok_or_else(|| Failure::null(argument))
}

/// The UTF-8 text behind a string argument that may be NULL.
///
/// # Safety
///
/// As for [`text`].
pub(crate) unsafe fn optional_text<'a>(
    ptr: *const c_char,
    argument: &'static str,
) -> Result<Option<&'a str>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: not NULL, and NUL-terminated and alive for 'a per the contract.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map(Some).map_err(|e| Failure::InvalidUtf8 {
        argument: argument.into(),
        valid_up_to: e.valid_up_to(),
    })
}

/// An action id: a full UUID (see `ac_center_resolve_id` for prefixes).
///
/// # Safety
///
/// As for [`text`].
pub(crate) unsafe fn action_id(
    ptr: *const c_char,
    argument: &'static str,
) -> Result<ActionId, Failure> {
    // SAFETY: forwarded from the caller.
    let text = unsafe { text(ptr, argument) }?;
    Ok(text.parse::<ActionId>()?)
}

/// The filter behind a nullable `filter_json`: NULL matches everything.
///
/// # Safety
///
/// `filter_json` is NULL or a NUL-terminated string.
pub(crate) unsafe fn filter(filter_json: *const c_char) -> Result<Filter, Failure> {
    // SAFETY: forwarded from the caller.
    match unsafe { optional_text(filter_json, "filter_json") }? {
        Some(text) => Ok(Filter::from_json(text)?),
        None => Ok(Filter::default()),
    }
}

/// The version a caller saw: `0` stands for "any version" in the C
/// signatures (versions start at 1).
pub(crate) fn expected(version: u64) -> Option<u64> {
    (version != 0).then_some(version)
}

/// A JSON document of type `T`; errors name the bad field under `root`.
pub(crate) fn json<T: DeserializeOwned>(root: &str, text: &str) -> Result<T, Failure> {
    Ok(engine::parse_json(root, text)?)
}

/// A JSON object of type `T`: `[]` is not an empty request.
pub(crate) fn object<T: DeserializeOwned>(root: &str, text: &str) -> Result<T, Failure> {
    Ok(engine::parse_json_object(root, text)?)
}

/// An out-parameter the caller must pass.
#[derive(Debug)]
pub(crate) struct Out<T> {
    ptr: *mut T,
}

impl<T> Out<T> {
    /// Checks `ptr` and, for pointer results, stores NULL in it at once so
    /// it reads NULL whenever the call fails.
    ///
    /// # Safety
    ///
    /// `ptr` is NULL or valid for writing a `T` until the call returns.
    pub(crate) unsafe fn required(
        ptr: *mut T,
        argument: &'static str,
        empty: T,
    ) -> Result<Out<T>, Failure> {
        if ptr.is_null() {
            return Err(Failure::null(argument));
        }
        // SAFETY: not NULL, writable per the contract.
        unsafe { ptr.write(empty) };
        Ok(Out { ptr })
    }

    /// Like [`required`](Self::required), for an out-parameter the caller
    /// may pass NULL to when it does not want that result.
    ///
    /// # Safety
    ///
    /// As for [`required`](Self::required).
    pub(crate) unsafe fn optional(ptr: *mut T, empty: T) -> Option<Out<T>> {
        if ptr.is_null() {
            return None;
        }
        // SAFETY: not NULL, writable per the contract.
        unsafe { ptr.write(empty) };
        Some(Out { ptr })
    }

    /// Hands `value` to the caller.
    pub(crate) fn set(self, value: T) {
        // SAFETY: checked not NULL and writable when `self` was made, and the
        // call has not returned yet.
        unsafe { self.ptr.write(value) };
    }
}

impl Out<*mut c_char> {
    /// A required `char **` result: set to NULL now.
    ///
    /// # Safety
    ///
    /// As for [`Out::required`].
    pub(crate) unsafe fn string(
        ptr: *mut *mut c_char,
        argument: &'static str,
    ) -> Result<Self, Failure> {
        // SAFETY: forwarded from the caller.
        unsafe { Out::required(ptr, argument, std::ptr::null_mut()) }
    }

    /// An optional `char **` result: set to NULL now, when given.
    ///
    /// # Safety
    ///
    /// As for [`Out::required`].
    pub(crate) unsafe fn optional_string(ptr: *mut *mut c_char) -> Option<Self> {
        // SAFETY: forwarded from the caller.
        unsafe { Out::optional(ptr, std::ptr::null_mut()) }
    }

    /// Hands `value` to the caller as a JSON string they free with
    /// `ac_string_free`.
    pub(crate) fn set_json<V: Serialize + ?Sized>(self, value: &V) -> Result<(), Failure> {
        let text = serde_json::to_string(value).map_err(|e| Failure::Internal {
            message: format!("cannot write the result as JSON: {e}"),
        })?;
        self.set_text(text);
        Ok(())
    }

    /// Hands `text` to the caller, to free with `ac_string_free`.
    pub(crate) fn set_text(self, text: String) {
        self.set(c_string(text).into_raw());
    }
}

/// Writes `value` as JSON into an optional out-parameter.
pub(crate) fn set_json_opt<V: Serialize + ?Sized>(
    out: Option<Out<*mut c_char>>,
    value: &V,
) -> Result<(), Failure> {
    match out {
        Some(out) => out.set_json(value),
        None => Ok(()),
    }
}
