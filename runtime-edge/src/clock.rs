//! The runtimes' clock: the speaker's [`Instant`] from the monotonic system clock.

use crate::Instant;

/// A clock in milliseconds since the call, from the monotonic system clock.
pub fn monotonic_clock() -> impl FnMut() -> Instant {
    let start = std::time::Instant::now();
    move || Instant::from_millis(u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX))
}
