//! Time for the sans-IO core: an [`Instant`] counted in milliseconds from an
//! arbitrary epoch the runtime picks, and a [`Duration`] between two of them.
//!
//! Nothing here reads a clock: the runtime converts its clock to an `Instant` and
//! passes it to every `handle_*` and `poll_*` call (smoltcp's `time` module is the
//! model). Arithmetic saturates, so a far deadline never wraps round to the past.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};

/// A point in time, in milliseconds since an epoch the runtime chose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Instant {
    millis: u64,
}

impl Instant {
    /// The epoch itself.
    pub const ZERO: Instant = Instant { millis: 0 };
    /// The latest representable instant; used as "never".
    pub const MAX: Instant = Instant { millis: u64::MAX };

    /// The instant `millis` milliseconds after the epoch.
    pub const fn from_millis(millis: u64) -> Instant {
        Instant { millis }
    }

    /// The instant `secs` seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Instant {
        Instant {
            millis: secs.saturating_mul(1000),
        }
    }

    /// Milliseconds since the epoch.
    pub const fn total_millis(self) -> u64 {
        self.millis
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration {
            millis: self.millis.saturating_sub(earlier.millis),
        }
    }

    /// `self + d`, saturating at [`Instant::MAX`].
    pub const fn saturating_add(self, d: Duration) -> Instant {
        Instant {
            millis: self.millis.saturating_add(d.millis),
        }
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.millis / 1000, self.millis % 1000)
    }
}

/// A span of time, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Duration {
    millis: u64,
}

impl Duration {
    /// No time at all.
    pub const ZERO: Duration = Duration { millis: 0 };

    /// `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Duration {
        Duration { millis }
    }

    /// `secs` seconds.
    pub const fn from_secs(secs: u64) -> Duration {
        Duration {
            millis: secs.saturating_mul(1000),
        }
    }

    /// The span in milliseconds.
    pub const fn total_millis(self) -> u64 {
        self.millis
    }

    /// The span in whole seconds, rounded down.
    pub const fn total_secs(self) -> u64 {
        self.millis / 1000
    }

    /// Whether the span is zero.
    pub const fn is_zero(self) -> bool {
        self.millis == 0
    }

    /// `self * n`, saturating.
    pub const fn saturating_mul(self, n: u64) -> Duration {
        Duration {
            millis: self.millis.saturating_mul(n),
        }
    }

    /// `self * numerator / denominator` without overflow for any `u32` ratio
    /// (used for jitter factors given in permille). A zero denominator gives zero.
    pub const fn mul_ratio(self, numerator: u32, denominator: u32) -> Duration {
        if denominator == 0 {
            return Duration::ZERO;
        }
        let wide = (self.millis as u128) * (numerator as u128) / (denominator as u128);
        Duration {
            millis: if wide > u64::MAX as u128 {
                u64::MAX
            } else {
                wide as u64
            },
        }
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.millis / 1000, self.millis % 1000)
    }
}

impl From<core::time::Duration> for Duration {
    fn from(d: core::time::Duration) -> Duration {
        Duration {
            millis: u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
        }
    }
}

impl From<Duration> for core::time::Duration {
    fn from(d: Duration) -> core::time::Duration {
        core::time::Duration::from_millis(d.millis)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = self.saturating_add(d);
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturates at zero when `rhs` is later.
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant {
            millis: self.millis.saturating_sub(d.millis),
        }
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, rhs: Duration) -> Duration {
        Duration {
            millis: self.millis.saturating_add(rhs.millis),
        }
    }
}

impl Sub for Duration {
    type Output = Duration;
    fn sub(self, rhs: Duration) -> Duration {
        Duration {
            millis: self.millis.saturating_sub(rhs.millis),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn arithmetic_saturates() {
        let t = Instant::from_millis(1500);
        assert_eq!(t + Duration::from_secs(1), Instant::from_millis(2500));
        assert_eq!(t - Instant::from_secs(2), Duration::ZERO);
        assert_eq!(Instant::MAX + Duration::from_secs(1), Instant::MAX);
        assert_eq!(
            Duration::from_secs(4).mul_ratio(750, 1000),
            Duration::from_millis(3000)
        );
        assert_eq!(Duration::from_millis(5).mul_ratio(1, 0), Duration::ZERO);
    }

    #[test]
    fn display_in_seconds() {
        assert_eq!(format!("{}", Instant::from_millis(1500)), "1.500s");
        assert_eq!(format!("{}", Duration::from_millis(42)), "0.042s");
    }
}
