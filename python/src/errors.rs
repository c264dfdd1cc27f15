//! Core errors as Python exceptions.
//!
//! The classes live in `actioncenter._errors` (pure Python), because a
//! class with two bases, such as `NotFound(ActionCenterError, KeyError)`,
//! cannot be declared from Rust. This file picks the class for each core
//! kind; the class builds itself from core's error JSON, so every field
//! a playbook needs (code, kind, action id, status, event, field...)
//! arrives as core wrote it.

use actioncenter::{Error, ErrorKind};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

/// The module that defines the exception classes.
const ERRORS_MODULE: &str = "actioncenter._errors";

/// The class a kind has no class of its own raises: the base.
pub(crate) const BASE_CLASS: &str = "ActionCenterError";

/// The exception class of each kind. `vocabulary()` publishes this for
/// every kind of `ErrorKind::ALL`, and a Python test fails for a kind
/// that gets the base class.
pub(crate) fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NotFound => "NotFound",
        ErrorKind::InvalidTransition => "InvalidTransition",
        ErrorKind::PermissionDenied => "PermissionDenied",
        ErrorKind::SelfApproval => "SelfApproval",
        ErrorKind::Conflict => "Conflict",
        ErrorKind::Validation => "ValidationError",
        ErrorKind::Expired => "ExpiredError",
        ErrorKind::Storage => "StorageError",
        ErrorKind::Duplicate => "DuplicateError",
        ErrorKind::Unauthenticated => "UnauthenticatedError",
        ErrorKind::RateLimited => "RateLimitedError",
        // `ErrorKind` is `#[non_exhaustive]`: a kind core adds later
        // raises the base class (with its kind and code) until it gets
        // a class of its own, and the table test fails until then.
        _ => BASE_CLASS,
    }
}

/// Core's error JSON, with whether retrying may help (core's
/// `is_retryable`, which its JSON carries for storage errors only).
fn details(error: &Error) -> String {
    let mut json = error.to_json();
    if let Some(map) = json.as_object_mut() {
        map.insert("retryable".to_owned(), error.is_retryable().into());
    }
    json.to_string()
}

/// The exception instance for `error`, not raised.
pub(crate) fn exception<'py>(py: Python<'py>, error: &Error) -> PyResult<Bound<'py, PyAny>> {
    let class = py
        .import(ERRORS_MODULE)?
        .getattr(class_name(error.kind()))?;
    class.call_method1("_from_core", (details(error),))
}

/// `error` as a `PyErr` to raise.
pub(crate) fn to_py_err(py: Python<'_>, error: &Error) -> PyErr {
    match exception(py, error) {
        Ok(instance) => PyErr::from_value(instance),
        // Only when the package is broken (the module cannot be
        // imported); still say what the engine said.
        Err(cause) => {
            let err = PyRuntimeError::new_err(error.to_string());
            err.set_cause(py, Some(cause));
            err
        }
    }
}

/// Extension for `Result<T, actioncenter::Error>`: raise it in Python.
pub(crate) trait OrRaise<T> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> OrRaise<T> for Result<T, Error> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py_err(py, &e))
    }
}
