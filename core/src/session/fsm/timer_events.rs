//! Timer events (RFC 4271 §8.1.3): what each timer does when it expires, in each
//! state. A timer that is not due, or was stopped, does nothing.

use crate::time::Instant;
use crate::wire::codes::NotificationCode;

use crate::session::log::SessionLog;
use crate::session::output::DownReason;
use crate::session::state::{FsmEvent, State};
use crate::session::timers::Timer;
use crate::session::{Phase, Session};

impl<L: SessionLog> Session<L> {
    /// Handles every timer due at `now`. Calling it early, or twice, does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Each pass stops or moves the timer it handles; eight timers at most.
        for _ in 0..8 {
            let Some((timer, slot)) = self.timers.expired(now) else {
                break;
            };
            self.timers.stop(timer, slot);
            match timer {
                Timer::ConnectRetry => self.on_connect_retry_expires(now),
                Timer::IdleHold => self.on_idle_hold_expires(now),
                Timer::Hold => self.on_hold_expires(now, slot),
                Timer::Keepalive => self.on_keepalive_expires(now, slot),
                Timer::DelayOpen => self.on_delay_open_expires(now, slot),
            }
            self.observe(Some(slot));
        }
    }

    fn on_connect_retry_expires(&mut self, now: Instant) {
        self.log_event(FsmEvent::ConnectRetryTimerExpires, None);
        match self.state() {
            State::Connect => {
                // Drop the attempt (and any connection waiting on DelayOpen), retry.
                for slot in 0..2 {
                    if self.connections[slot]
                        .is_some_and(|c| c.is_live() && c.phase <= Phase::Connected)
                    {
                        self.drop_connection(slot);
                    }
                }
                self.restart_connect_retry(now);
                self.initiate_connection();
            }
            State::Active => {
                self.restart_connect_retry(now);
                self.base = State::Connect;
                self.initiate_connection();
            }
            // Stopped in every other state; a stale expiry changes nothing.
            _ => {}
        }
    }

    fn on_idle_hold_expires(&mut self, now: Instant) {
        self.log_event(FsmEvent::IdleHoldTimerExpires, None);
        if self.state() == State::Idle && self.enabled {
            let event = self.automatic_start_event();
            self.log_event(event, None);
            self.start(now);
        }
    }

    fn on_hold_expires(&mut self, now: Instant, slot: usize) {
        self.log_event(FsmEvent::HoldTimerExpires, Some(slot));
        if self.connections[slot].is_some_and(|c| c.is_live() && c.phase >= Phase::OpenSent) {
            self.fail(
                now,
                slot,
                Some((NotificationCode::HOLD_TIMER_EXPIRED, &[])),
                DownReason::HoldTimerExpired,
            );
        }
    }

    fn on_keepalive_expires(&mut self, now: Instant, slot: usize) {
        self.log_event(FsmEvent::KeepaliveTimerExpires, Some(slot));
        let Some(c) = self.connections[slot].as_mut() else {
            return;
        };
        if c.is_live() && c.phase >= Phase::OpenConfirm {
            c.send_keepalive = true;
            if let Some(ka) = c.info.map(|i| i.keepalive_time)
                && !ka.is_zero()
            {
                self.timers.set(Timer::Keepalive, slot, now + ka);
            }
        }
    }

    fn on_delay_open_expires(&mut self, now: Instant, slot: usize) {
        self.log_event(FsmEvent::DelayOpenTimerExpires, Some(slot));
        let Some(c) = self.connections[slot].as_mut() else {
            return;
        };
        if c.is_live() && c.phase == Phase::Connected {
            c.phase = Phase::OpenSent;
            c.send_open = true;
            self.timers
                .set(Timer::Hold, slot, now + self.config.open_hold_time);
            self.timers.stop(Timer::ConnectRetry, 0);
        }
    }
}
