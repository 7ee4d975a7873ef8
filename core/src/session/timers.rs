//! The session's timers (RFC 4271 §8.1.3, §10) as a small fixed table, and the
//! seedable jitter source.
//!
//! ConnectRetry and IdleHold belong to the session; Hold, Keepalive and DelayOpen
//! belong to each of its (at most two) connections, so that a collision keeps
//! both connections' timers apart. A deadline that has passed fires at the next
//! `handle_timeout`; an early or spurious call does nothing.

use crate::time::{Duration, Instant};

use super::config::Jitter;

/// A kind of timer (RFC 4271 §8.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Timer {
    /// ConnectRetryTimer: paces outbound connection attempts.
    ConnectRetry,
    /// HoldTimer: the peer must send something within the hold time.
    Hold,
    /// KeepaliveTimer: we send a KEEPALIVE when it fires.
    Keepalive,
    /// DelayOpenTimer: wait this long for the peer's OPEN before sending ours.
    DelayOpen,
    /// IdleHoldTimer: Idle this long before an automatic restart.
    IdleHold,
}

impl Timer {
    /// Every kind.
    pub const ALL: [Timer; 5] = [
        Timer::ConnectRetry,
        Timer::Hold,
        Timer::Keepalive,
        Timer::DelayOpen,
        Timer::IdleHold,
    ];

    /// The RFC's name.
    pub const fn name(self) -> &'static str {
        match self {
            Timer::ConnectRetry => "ConnectRetryTimer",
            Timer::Hold => "HoldTimer",
            Timer::Keepalive => "KeepaliveTimer",
            Timer::DelayOpen => "DelayOpenTimer",
            Timer::IdleHold => "IdleHoldTimer",
        }
    }

    const fn per_connection(self) -> bool {
        matches!(self, Timer::Hold | Timer::Keepalive | Timer::DelayOpen)
    }
}

/// Number of entries: two session timers and three per connection slot.
const LEN: usize = 2 + 3 * 2;

/// The deadlines, indexed by timer and connection slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TimerTable {
    deadlines: [Option<Instant>; LEN],
}

impl TimerTable {
    fn index(timer: Timer, slot: usize) -> usize {
        let slot = slot.min(1);
        match timer {
            Timer::ConnectRetry => 0,
            Timer::IdleHold => 1,
            Timer::Hold => 2 + slot * 3,
            Timer::Keepalive => 3 + slot * 3,
            Timer::DelayOpen => 4 + slot * 3,
        }
    }

    pub(crate) fn set(&mut self, timer: Timer, slot: usize, at: Instant) {
        self.deadlines[Self::index(timer, slot)] = Some(at);
    }

    pub(crate) fn stop(&mut self, timer: Timer, slot: usize) {
        self.deadlines[Self::index(timer, slot)] = None;
    }

    pub(crate) fn get(&self, timer: Timer, slot: usize) -> Option<Instant> {
        self.deadlines[Self::index(timer, slot)]
    }

    pub(crate) fn is_running(&self, timer: Timer, slot: usize) -> bool {
        self.get(timer, slot).is_some()
    }

    /// Stops a connection slot's timers.
    pub(crate) fn stop_connection(&mut self, slot: usize) {
        for t in [Timer::Hold, Timer::Keepalive, Timer::DelayOpen] {
            self.stop(t, slot);
        }
    }

    /// The earliest deadline of a kind, over both connection slots.
    pub(crate) fn earliest_of(&self, timer: Timer) -> Option<Instant> {
        if timer.per_connection() {
            match (self.get(timer, 0), self.get(timer, 1)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        } else {
            self.get(timer, 0)
        }
    }

    /// The earliest deadline of all.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// A timer due at `now`, with its slot: session timers first, then by slot.
    pub(crate) fn expired(&self, now: Instant) -> Option<(Timer, usize)> {
        for slot in 0..2 {
            for t in Timer::ALL {
                if (slot == 0 || t.per_connection())
                    && self.get(t, slot).is_some_and(|at| at <= now)
                {
                    return Some((t, slot));
                }
            }
        }
        None
    }
}

/// A small xorshift64* generator: the session's only source of randomness, for
/// jitter (RFC 4271 §10). Seeded from the config, so that runs are reproducible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct XorShift(u64);

impl XorShift {
    pub(crate) fn new(seed: u64) -> Self {
        XorShift(if seed == 0 {
            0x2545_f491_4f6c_dd1d
        } else {
            seed
        })
    }

    pub(crate) fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }

    /// `base` scaled by a factor drawn uniformly from the jitter's range.
    pub(crate) fn jitter(&mut self, base: Duration, jitter: Option<Jitter>) -> Duration {
        let Some(j) = jitter else { return base };
        let lo = u32::from(j.min_permille.min(j.max_permille));
        let hi = u32::from(j.max_permille.max(j.min_permille));
        let factor = lo + self.next_u32() % (hi - lo + 1);
        base.mul_ratio(factor, 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_orders_and_expires() {
        let mut t = TimerTable::default();
        t.set(Timer::Hold, 1, Instant::from_secs(5));
        t.set(Timer::ConnectRetry, 0, Instant::from_secs(7));
        assert_eq!(t.next(), Some(Instant::from_secs(5)));
        assert_eq!(t.expired(Instant::from_secs(4)), None);
        assert_eq!(
            t.expired(Instant::from_secs(7)),
            Some((Timer::ConnectRetry, 0))
        );
        assert_eq!(t.earliest_of(Timer::Hold), Some(Instant::from_secs(5)));
        t.stop_connection(1);
        assert_eq!(t.earliest_of(Timer::Hold), None);
    }

    #[test]
    fn jitter_stays_in_range_and_is_reproducible() {
        let mut a = XorShift::new(42);
        let mut b = XorShift::new(42);
        for _ in 0..1000 {
            let d = a.jitter(Duration::from_secs(4), Some(Jitter::RFC4271));
            assert!(d >= Duration::from_secs(3) && d <= Duration::from_secs(4));
            assert_eq!(d, b.jitter(Duration::from_secs(4), Some(Jitter::RFC4271)));
        }
    }
}
