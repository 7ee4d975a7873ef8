//! TCP connection events (RFC 4271 §8.1.4) as the runtime reports them: an
//! outbound connection up, an inbound one accepted, a connection lost.

use crate::time::Instant;
use crate::wire::family::FamilySet;

use super::Counter;
use crate::session::log::SessionLog;
use crate::session::output::{ConnectionError, DownReason, Event};
use crate::session::state::{ConnectionId, Direction, FsmEvent, State};
use crate::session::timers::Timer;
use crate::session::{Connection, Phase, Session};

impl<L: SessionLog> Session<L> {
    /// The outbound connection `connection` (from a
    /// [`Connect`](crate::session::ConnectionCommand::Connect)) is up: Tcp_CR_Acked (event 16).
    pub fn handle_connected(&mut self, now: Instant, connection: ConnectionId) {
        let Some(slot) = self.slot_of(connection) else {
            return;
        };
        self.log_event(FsmEvent::TcpCrAcked, Some(slot));
        if self.connections[slot].is_some_and(|c| c.is_live() && c.phase == Phase::Connecting) {
            self.connection_up(now, slot);
        }
        self.observe(Some(slot));
    }

    /// The peer connected to us: TcpConnectionConfirmed (event 17). Returns the
    /// id the session gives the connection, or `None` when it refuses it
    /// (Tcp_CR_Invalid, event 15: Idle, or two connections already), in which
    /// case the runtime closes the socket.
    pub fn handle_accepted(&mut self, now: Instant) -> Option<ConnectionId> {
        let free = self.connections.iter().position(Option::is_none);
        let (Some(slot), false) = (free, self.state() == State::Idle) else {
            self.log_event(FsmEvent::TcpCrInvalid, None);
            return None;
        };
        let id = self.allocate_id();
        self.connections[slot] = Some(Connection {
            id,
            direction: Direction::Inbound,
            phase: Phase::Connecting,
            info: None,
            send_open: false,
            send_keepalive: false,
            route_refresh: FamilySet::EMPTY,
            notification: None,
        });
        self.log_event(FsmEvent::TcpConnectionValid, Some(slot));
        self.log_event(FsmEvent::TcpConnectionConfirmed, Some(slot));
        self.connection_up(now, slot);
        self.observe(Some(slot));
        Some(id)
    }

    /// Events 16 and 17: with DelayOpen, start the DelayOpenTimer; else send the
    /// OPEN and set the HoldTimer to the large value (§8.2.2 Connect, Active).
    fn connection_up(&mut self, now: Instant, slot: usize) {
        self.timers.stop(Timer::ConnectRetry, 0);
        let delay = self.config.delay_open_time;
        let Some(c) = self.connections[slot].as_mut() else {
            return;
        };
        if delay.is_zero() {
            c.phase = Phase::OpenSent;
            c.send_open = true;
            self.timers
                .set(Timer::Hold, slot, now + self.config.open_hold_time);
        } else {
            c.phase = Phase::Connected;
            self.timers.set(Timer::DelayOpen, slot, now + delay);
        }
    }

    /// The runtime lost `connection`: the peer closed it (a read of zero bytes),
    /// it was reset, a write failed, or the connection attempt failed:
    /// TcpConnectionFails (event 18). Nothing more is produced for it: no
    /// NOTIFICATION, no close command. The session is Idle at this same `now`
    /// (Active from OpenSent, or with DelayOpen running, as §8.2.2 says), and
    /// restarts per the idle hold and connect retry times.
    pub fn handle_connection_failed(
        &mut self,
        now: Instant,
        connection: ConnectionId,
        error: ConnectionError,
    ) {
        let Some(slot) = self.slot_of(connection) else {
            return;
        };
        self.log_event(FsmEvent::TcpConnectionFails, Some(slot));
        let Some(c) = self.connections[slot].take() else {
            return;
        };
        self.timers.stop_connection(slot);
        if !c.is_live() {
            // Closing already (its NOTIFICATION was pending): now it is gone.
            self.observe(Some(slot));
            return;
        }
        let others = self.live().count() > 0;
        let reason = DownReason::Connection(error);
        if c.phase == Phase::Established {
            self.go_idle(now, reason, true, Counter::Increment);
        } else if others {
            // The other connection carries on alone.
        } else {
            match (c.phase, self.base) {
                (Phase::Connected, State::Connect) | (Phase::OpenSent, _) => {
                    // §8.2.2: Connect with DelayOpen running, and OpenSent, go to
                    // Active and keep listening.
                    self.restart_connect_retry(now);
                    self.base = State::Active;
                    self.events.push(Event::Down {
                        reason,
                        was_established: false,
                    });
                }
                _ => self.go_idle(now, reason, false, Counter::Increment),
            }
        }
        self.observe_with(c.id, c.direction);
    }
}
