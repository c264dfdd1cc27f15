//! A clock that Python tests move by hand, so they never sleep.

use std::sync::Arc;

use actioncenter::chrono::{DateTime, Duration, Utc};
use actioncenter::{Clock, Error};
use pyo3::prelude::*;

use crate::errors::OrRaise;

/// core's `ManualClock`. Times cross as RFC 3339 text in UTC; the
/// Python `actioncenter.ManualClock` turns them into `datetime`.
#[pyclass(frozen, module = "actioncenter._native")]
#[derive(Debug)]
pub struct ManualClock {
    pub(crate) clock: Arc<actioncenter::ManualClock>,
}

fn parse_time(field: &str, text: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::validation(field, format!("{text:?} is not an RFC 3339 time: {e}")))
}

#[pymethods]
impl ManualClock {
    /// A clock showing `start` (RFC 3339).
    #[new]
    fn new(py: Python<'_>, start: &str) -> PyResult<Self> {
        let at = parse_time("start", start).or_raise(py)?;
        Ok(ManualClock {
            clock: Arc::new(actioncenter::ManualClock::starting_at(at)),
        })
    }

    /// The time shown, RFC 3339 in UTC.
    fn now(&self) -> String {
        self.clock.now().to_rfc3339()
    }

    /// Moves the clock by `microseconds` (negative goes back). A move
    /// past the times chrono holds is refused, not a panic.
    fn advance(&self, py: Python<'_>, microseconds: i64) -> PyResult<()> {
        let by = Duration::microseconds(microseconds);
        let next = self.clock.now().checked_add_signed(by).ok_or_else(|| {
            Error::validation(
                "by",
                format!("moving the clock by {microseconds} microseconds leaves the calendar"),
            )
        });
        self.clock.set(next.or_raise(py)?);
        Ok(())
    }

    /// Sets the clock to `at` (RFC 3339).
    fn set(&self, py: Python<'_>, at: &str) -> PyResult<()> {
        let at = parse_time("at", at).or_raise(py)?;
        self.clock.set(at);
        Ok(())
    }
}
