//! The panic boundary every export runs in, and the per-thread last error.

use std::any::Any;
use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::ffi::{CStr, CString, c_char};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use serde_json::json;

use crate::status::ac_status;

/// Why a call failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The engine refused: its error kind is the status.
    Engine(engine::Error),
    /// A pointer argument that must not be NULL was NULL.
    NullArgument { argument: Cow<'static, str> },
    /// A string argument was not UTF-8.
    InvalidUtf8 {
        argument: Cow<'static, str>,
        valid_up_to: usize,
    },
    /// A handle that is not (or no longer) one this library handed out.
    InvalidHandle { argument: &'static str },
    /// The library caught a panic.
    Panic { message: String },
    /// Something the interface cannot put in a status of its own.
    Internal { message: String },
}

impl From<engine::Error> for Failure {
    fn from(e: engine::Error) -> Self {
        Failure::Engine(e)
    }
}

impl Failure {
    /// A NULL `argument`.
    pub(crate) fn null(argument: &'static str) -> Failure {
        Failure::NullArgument {
            argument: Cow::Borrowed(argument),
        }
    }

    /// The same failure about item `index` of the array argument it names.
    pub(crate) fn at_index(self, index: usize) -> Failure {
        match self {
            Failure::NullArgument { argument } => Failure::NullArgument {
                argument: Cow::Owned(format!("{argument}[{index}]")),
            },
            Failure::InvalidUtf8 {
                argument,
                valid_up_to,
            } => Failure::InvalidUtf8 {
                argument: Cow::Owned(format!("{argument}[{index}]")),
                valid_up_to,
            },
            other => other,
        }
    }

    fn status(&self) -> ac_status {
        match self {
            Failure::Engine(e) => ac_status::of_kind(e.kind()),
            Failure::NullArgument { .. } => ac_status::NullArgument,
            Failure::InvalidUtf8 { .. } => ac_status::InvalidUtf8,
            Failure::InvalidHandle { .. } => ac_status::InvalidHandle,
            Failure::Panic { .. } => ac_status::Panic,
            Failure::Internal { .. } => ac_status::Internal,
        }
    }

    fn message(&self) -> String {
        match self {
            Failure::Engine(e) => e.to_string(),
            Failure::NullArgument { argument } => format!("argument {argument} is NULL"),
            Failure::InvalidUtf8 {
                argument,
                valid_up_to,
            } => {
                format!("argument {argument} is not valid UTF-8 (bad byte at offset {valid_up_to})")
            }
            Failure::InvalidHandle { argument } => format!(
                "argument {argument} is not an open handle of its type (closed or freed already?)"
            ),
            Failure::Panic { message } => format!("the library panicked: {message}"),
            Failure::Internal { message } => message.clone(),
        }
    }

    /// `{"kind", "code", "message", ...}`: the engine's error JSON, or the
    /// same shape with the argument named for interface errors.
    fn to_json(&self) -> serde_json::Value {
        let status = self.status();
        let kind = status.name().to_str().unwrap_or("internal");
        match self {
            Failure::Engine(e) => {
                let mut v = e.to_json();
                // Keep `code` equal to the status even for a kind this build
                // does not know.
                v["code"] = json!(status as i32);
                v
            }
            Failure::NullArgument { argument } => {
                json!({"kind": kind, "code": status as i32, "message": self.message(), "argument": argument})
            }
            Failure::InvalidHandle { argument } => {
                json!({"kind": kind, "code": status as i32, "message": self.message(), "argument": argument})
            }
            Failure::InvalidUtf8 {
                argument,
                valid_up_to,
            } => json!({
                "kind": kind, "code": status as i32, "message": self.message(),
                "argument": argument, "valid_up_to": valid_up_to,
            }),
            Failure::Panic { .. } | Failure::Internal { .. } => {
                json!({"kind": kind, "code": status as i32, "message": self.message()})
            }
        }
    }
}

/// The last failure of a thread, kept for `ac_last_error_message` and
/// `ac_last_error_json`.
pub(crate) struct LastError {
    pub(crate) message: CString,
    pub(crate) json: CString,
}

thread_local! {
    static LAST_ERROR: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

/// A C string of `text`, with any NUL byte written as `\0`.
pub(crate) fn c_string(text: String) -> CString {
    CString::new(text)
        .or_else(|e| CString::new(String::from_utf8_lossy(&e.into_vec()).replace('\0', "\\0")))
        .unwrap_or_default()
}

fn remember(failure: Option<&Failure>) {
    let entry = failure.map(|f| LastError {
        message: c_string(f.message()),
        json: c_string(f.to_json().to_string()),
    });
    // `try_with`: during thread teardown there is nowhere to keep it.
    let _ = LAST_ERROR.try_with(|slot| {
        if let Ok(mut slot) = slot.try_borrow_mut()
            && (entry.is_some() || slot.is_some())
        {
            *slot = entry;
        }
    });
}

/// A pointer into this thread's last error (the part `pick` chooses), or
/// to a static empty string when the last call succeeded. Valid until the
/// next call that returns a status on this thread.
pub(crate) fn last_error(pick: fn(&LastError) -> &CStr) -> *const c_char {
    LAST_ERROR
        .try_with(|slot| match slot.try_borrow() {
            Ok(slot) => slot.as_ref().map_or(c"".as_ptr(), |e| pick(e).as_ptr()),
            Err(_) => c"".as_ptr(),
        })
        .unwrap_or(c"".as_ptr())
}

thread_local! {
    /// How many panic boundaries this thread is inside.
    static BOUNDARY_DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Installs, once per process, a panic hook that says nothing about a
/// panic inside a boundary: the boundary turns it into a status and the
/// thread's last error, and a library must not write to its host's
/// standard error. Panics elsewhere (on threads the library did not enter
/// through an export, or in host code) go to the hook that was there
/// before, so the host's own reporting is unchanged.
fn install_quiet_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let inside = BOUNDARY_DEPTH.try_with(Cell::get).unwrap_or(0) > 0;
            if !inside {
                previous(info);
            }
        }));
    });
}

/// Runs `body` inside a panic boundary: quiet, and caught.
fn catch<T>(body: impl FnOnce() -> T) -> std::thread::Result<T> {
    /// Leaves the boundary even if leaving is by unwinding.
    struct Inside;
    impl Drop for Inside {
        fn drop(&mut self) {
            let _ = BOUNDARY_DEPTH.try_with(|d| d.set(d.get().saturating_sub(1)));
        }
    }
    install_quiet_hook();
    let _ = BOUNDARY_DEPTH.try_with(|d| d.set(d.get() + 1));
    let inside = Inside;
    let result = panic::catch_unwind(AssertUnwindSafe(body));
    drop(inside);
    result
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_owned())
}

/// Runs the body of an export that returns a status: a panic becomes
/// `AC_STATUS_PANIC`, an error its status, and the thread's last error
/// describes the outcome (cleared on success).
pub(crate) fn run(body: impl FnOnce() -> Result<(), Failure>) -> ac_status {
    let failure = match catch(body) {
        Ok(Ok(())) => None,
        Ok(Err(failure)) => Some(failure),
        Err(payload) => Some(Failure::Panic {
            message: panic_message(payload.as_ref()),
        }),
    };
    let status = failure.as_ref().map_or(ac_status::Ok, Failure::status);
    // Building the message cannot panic in practice; if it did, the
    // status still gets out.
    let _ = catch(|| remember(failure.as_ref()));
    status
}

/// Runs the body of an export that returns a value rather than a status
/// (a static string, nothing): a panic returns `fallback`. Leaves the last
/// error alone.
pub(crate) fn run_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch(body).unwrap_or(fallback)
}

/// The panic boundary around the body of every export.
///
/// `boundary! { body }`: for an export that returns `ac_status`; the body
/// evaluates to `Result<(), Failure>`, and the thread's last error
/// describes the outcome. `boundary!(or fallback => body)`: for an export
/// that returns a value (a static string, nothing); a panic returns
/// `fallback`, and the last error is left alone.
macro_rules! boundary {
    (or $fallback:expr => $body:expr) => {
        $crate::boundary::run_value($fallback, move || $body)
    };
    ($($body:tt)*) => {
        $crate::boundary::run(move || -> ::std::result::Result<(), $crate::boundary::Failure> {
            $($body)*
        })
    };
}
pub(crate) use boundary;

/// Panics inside the panic boundary on purpose, to show that a panic in
/// the library becomes a status: returns `AC_STATUS_PANIC` with a last
/// error message. A library built with `panic = "abort"` would abort here
/// instead, so an integration can run this once in its tests. Writes
/// nothing to standard error: a panic inside the library is reported only
/// through the status and `ac_last_error_message` (the library installs,
/// once, a panic hook that is silent inside its exports and hands every
/// other panic to the hook installed before it). Takes no pointers and
/// changes nothing. Thread safe.
#[unsafe(no_mangle)]
pub extern "C" fn ac_boundary_selftest() -> ac_status {
    boundary! {
        panic!("ac_boundary_selftest panics on purpose")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_message() -> String {
        let p = last_error(|e| &e.message);
        // SAFETY: points into this thread's last error, unchanged since.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    #[test]
    fn a_panic_becomes_a_status_and_a_message() {
        let status = boundary! { panic!("on purpose") };
        assert_eq!(status, ac_status::Panic);
        assert_eq!(last_message(), "the library panicked: on purpose");
    }

    #[test]
    fn success_clears_the_last_error() {
        let status = boundary! { Err(Failure::null("id")) };
        assert_eq!(status, ac_status::NullArgument);
        assert_eq!(last_message(), "argument id is NULL");
        assert_eq!(boundary! { Ok(()) }, ac_status::Ok);
        assert_eq!(last_message(), "");
    }

    /// Set in the child process of the stderr tests: what it must do.
    const CHILD: &str = "ACTIONCENTER_BOUNDARY_TEST_CHILD";

    /// Runs one test of this binary in a child process, with `role` in
    /// `CHILD`, and returns its standard error.
    fn child_stderr(test: &str, role: &str) -> String {
        let exe = std::env::current_exe().expect("current exe");
        let output = std::process::Command::new(exe)
            .args([test, "--exact", "--nocapture", "--test-threads=1", "-q"])
            .env(CHILD, role)
            .env("RUST_BACKTRACE", "1")
            .output()
            .expect("run the child");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    }

    /// The child's part: panics inside the boundary, and, when asked,
    /// outside it too, on a thread of its own.
    #[test]
    fn child_panics() {
        let Ok(role) = std::env::var(CHILD) else {
            return;
        };
        assert_eq!(ac_boundary_selftest(), ac_status::Panic);
        assert_eq!(
            last_message(),
            "the library panicked: ac_boundary_selftest panics on purpose"
        );
        if role == "and-outside" {
            let outside = std::thread::spawn(|| panic!("outside the boundary"));
            assert!(outside.join().is_err());
        }
    }

    #[test]
    fn a_panic_inside_the_boundary_writes_nothing_to_stderr() {
        let stderr = child_stderr("boundary::tests::child_panics", "inside");
        assert_eq!(stderr, "");
    }

    #[test]
    fn a_panic_outside_the_boundary_still_reaches_the_previous_hook() {
        let stderr = child_stderr("boundary::tests::child_panics", "and-outside");
        assert!(stderr.contains("outside the boundary"), "{stderr}");
        assert!(!stderr.contains("on purpose"), "{stderr}");
    }

    #[test]
    fn a_nul_inside_a_message_is_escaped() {
        assert_eq!(c_string("a\0b".to_owned()).as_bytes(), b"a\\0b");
    }
}
