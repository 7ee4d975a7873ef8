//! Going to Idle, and when to leave it: the automatic restart after the idle
//! hold time, with DampPeerOscillations' exponential backoff (RFC 4271 §8.1.1).

use crate::time::{Duration, Instant};

use super::Counter;
use crate::session::Session;
use crate::session::log::SessionLog;
use crate::session::output::{DownReason, Event};
use crate::session::state::State;
use crate::session::timers::Timer;

impl<L: SessionLog> Session<L> {
    /// To Idle: close every live connection, stop the timers, report why, and,
    /// when allowed, arm the IdleHoldTimer for an automatic restart after
    /// [`Session::restart_delay`]. A session that was Established for the
    /// damping's stable time first forgets its past failures.
    pub(super) fn go_idle(
        &mut self,
        now: Instant,
        reason: DownReason,
        was_established: bool,
        counter: Counter,
    ) {
        for slot in 0..2 {
            if self.connections[slot].is_some_and(|c| c.is_live()) {
                self.drop_connection(slot);
            }
        }
        self.timers.stop(Timer::ConnectRetry, 0);
        self.timers.stop(Timer::IdleHold, 0);
        self.base = State::Idle;
        // A session Established for the stable time forgets its past failures.
        if let (Some(at), Some(d)) = (self.established_at, self.config.damp_peer_oscillations)
            && was_established
            && now - at >= d.stable_time
        {
            self.connect_retry_counter = 0;
        }
        if was_established {
            self.established_at = None;
        }
        match counter {
            Counter::Increment => {
                self.connect_retry_counter = self.connect_retry_counter.saturating_add(1)
            }
            Counter::Reset => self.connect_retry_counter = 0,
            Counter::Keep => {}
        }
        self.events.push(Event::Down {
            reason,
            was_established,
        });
        if self.enabled && self.config.automatic_restart {
            let delay = self.restart_delay();
            self.timers.set(Timer::IdleHold, 0, now + delay);
        }
    }

    /// How long to stay Idle before an automatic restart: the idle hold time, or
    /// ConnectRetryTime where that is zero (so a failing peer is not redialled
    /// at once); with DampPeerOscillations, doubled for each consecutive failure
    /// after the first (ConnectRetryCounter), up to the configured maximum; then
    /// jittered by `idle_hold_jitter`.
    fn restart_delay(&mut self) -> Duration {
        let base = if self.config.idle_hold_time.is_zero() {
            self.config.connect_retry_time
        } else {
            self.config.idle_hold_time
        };
        let delay = match self.config.damp_peer_oscillations {
            Some(d) => {
                let doublings = self.connect_retry_counter.saturating_sub(1).min(20);
                base.saturating_mul(1 << doublings)
                    .min(d.max_idle_hold_time.max(base))
            }
            None => base,
        };
        self.jittered(delay, self.config.idle_hold_jitter)
    }
}
