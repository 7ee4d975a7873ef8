//! Virtual time: the router never reads a clock. Every `handle_*` call carries
//! `now`, measured from an epoch the caller chooses.

use std::ops::{Add, Sub};
use std::time::Duration;

/// A point in time, in microseconds since the caller's epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    micros: u64,
}

impl Instant {
    /// The epoch.
    pub const ZERO: Instant = Instant { micros: 0 };

    /// `micros` microseconds after the epoch.
    pub const fn from_micros(micros: u64) -> Self {
        Instant { micros }
    }

    /// `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Self {
        Instant {
            micros: millis * 1000,
        }
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> u64 {
        self.micros
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant {
            micros: self.micros.saturating_add(d.as_micros() as u64),
        }
    }
}

impl Sub for Instant {
    type Output = Duration;
    /// The time from `rhs` to `self`, zero if `rhs` is later.
    fn sub(self, rhs: Instant) -> Duration {
        Duration::from_micros(self.micros.saturating_sub(rhs.micros))
    }
}
