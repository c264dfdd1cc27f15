//! Where the engine's "now" comes from. Tests inject a [`ManualClock`]
//! and move time forward instead of sleeping.

use std::fmt::Debug;
use std::sync::Mutex;

use chrono::{DateTime, Duration, SubsecRound, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + Debug + 'static {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to.
///
/// ```
/// use actioncenter::{Clock, ManualClock};
/// let clock = ManualClock::starting_at("2026-01-01T00:00:00Z".parse().unwrap());
/// clock.advance(chrono::Duration::hours(1));
/// assert_eq!(clock.now().to_rfc3339(), "2026-01-01T01:00:00+00:00");
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock showing `at`.
    pub fn starting_at(at: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Mutex::new(at),
        }
    }

    /// Moves the clock forward (or back, with a negative duration),
    /// stopping at the ends of the calendar rather than overflowing.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now = now
            .checked_add_signed(by)
            .unwrap_or(if by < Duration::zero() {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            });
    }

    /// Sets the clock.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// `at` cut to whole microseconds, the precision every store keeps.
pub(crate) fn to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    at.trunc_subsecs(6)
}
