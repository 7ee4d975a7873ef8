//! Administrative events (RFC 4271 §8.1.2): manual and automatic start and
//! stop, and the router's prefix limit as an AutomaticStop (RFC 4486).

use crate::time::Instant;
use crate::wire::codes::cease_subcode;
use crate::wire::family::{Family, FamilySet};

use super::{Counter, cease};
use crate::session::log::SessionLog;
use crate::session::messages::shutdown_communication;
use crate::session::output::{ConnectionCommand, DownReason};
use crate::session::state::{ConnectionId, Direction, FsmEvent, State};
use crate::session::timers::Timer;
use crate::session::{Connection, NotificationData, Phase, Session};

impl<L: SessionLog> Session<L> {
    /// ManualStart (event 1), or ManualStart_with_PassiveTcpEstablishment (4)
    /// when the config says passive. Ignored unless Idle.
    pub fn handle_manual_start(&mut self, now: Instant) {
        let event = if self.config.passive_tcp_establishment {
            FsmEvent::ManualStartWithPassiveTcpEstablishment
        } else {
            FsmEvent::ManualStart
        };
        self.log_event(event, None);
        if self.state() == State::Idle {
            self.connect_retry_counter = 0;
            self.start(now);
        }
        self.observe(None);
    }

    /// AutomaticStart (event 3, or 5, 6, 7 as the config's passive and damping
    /// options say). Ignored unless Idle, and, with DampPeerOscillations, while
    /// the IdleHoldTimer runs.
    pub fn handle_automatic_start(&mut self, now: Instant) {
        let event = self.automatic_start_event();
        self.log_event(event, None);
        let damped = self.config.damp_peer_oscillations.is_some()
            && self.timers.is_running(Timer::IdleHold, 0);
        if self.state() == State::Idle && !damped {
            self.start(now);
        }
        self.observe(None);
    }

    /// ManualStop (event 2): a Cease with `subcode` (2, Administrative Shutdown,
    /// or 4, Administrative Reset, or 3, Peer De-configured) and, for 2 and 4, the
    /// shutdown communication `communication` (RFC 9003; empty for none) on every
    /// connection that has sent its OPEN; then Idle, with no automatic restart.
    pub fn handle_manual_stop(&mut self, now: Instant, subcode: u8, communication: &str) {
        self.log_event(FsmEvent::ManualStop, None);
        self.enabled = false;
        let data = if communication.is_empty()
            || !matches!(
                subcode,
                cease_subcode::ADMINISTRATIVE_SHUTDOWN | cease_subcode::ADMINISTRATIVE_RESET
            ) {
            NotificationData::Inline([0; 8], 0)
        } else {
            NotificationData::Shared(shutdown_communication(
                communication,
                &mut self.notification_data,
            ) as u16)
        };
        if self.state() != State::Idle {
            self.stop_all(
                now,
                cease(subcode),
                data,
                DownReason::ManualStop,
                Counter::Reset,
            );
        }
        self.timers.stop(Timer::IdleHold, 0);
        self.observe(None);
    }

    /// AutomaticStop (event 8) with a Cease `subcode`: like ManualStop, but the
    /// session restarts on its own after the idle hold time.
    pub fn handle_automatic_stop(&mut self, now: Instant, subcode: u8) {
        self.log_event(FsmEvent::AutomaticStop, None);
        if self.state() != State::Idle {
            let code = cease(subcode);
            self.stop_all(
                now,
                code,
                NotificationData::Inline([0; 8], 0),
                DownReason::AutomaticStop(code),
                Counter::Increment,
            );
        }
        self.observe(None);
    }

    /// The router's prefix limit was exceeded for `family` (RFC 4486 §4): an
    /// AutomaticStop with Cease 6/1 whose data is the AFI, SAFI and the limit.
    pub fn handle_max_prefix_exceeded(&mut self, now: Instant, family: Family, limit: u32) {
        self.log_event(FsmEvent::AutomaticStop, self.established_slot());
        if self.state() != State::Idle {
            let afi = u16::from(family.afi).to_be_bytes();
            let l = limit.to_be_bytes();
            let data = [
                afi[0],
                afi[1],
                u8::from(family.safi),
                l[0],
                l[1],
                l[2],
                l[3],
                0,
            ];
            let code = cease(cease_subcode::MAXIMUM_NUMBER_OF_PREFIXES_REACHED);
            self.stop_all(
                now,
                code,
                NotificationData::Inline(data, 7),
                DownReason::AutomaticStop(code),
                Counter::Increment,
            );
        }
        self.observe(None);
    }

    pub(super) fn automatic_start_event(&self) -> FsmEvent {
        match (
            self.config.damp_peer_oscillations.is_some(),
            self.config.passive_tcp_establishment,
        ) {
            (false, false) => FsmEvent::AutomaticStart,
            (false, true) => FsmEvent::AutomaticStartWithPassiveTcpEstablishment,
            (true, false) => FsmEvent::AutomaticStartWithDampPeerOscillations,
            (true, true) => {
                FsmEvent::AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment
            }
        }
    }

    /// Idle -> Connect (initiate a connection, start ConnectRetryTimer) or, when
    /// passive, Idle -> Active (wait for the peer; no ConnectRetryTimer, so a
    /// passive session never dials out).
    pub(super) fn start(&mut self, now: Instant) {
        self.enabled = true;
        self.timers.stop(Timer::IdleHold, 0);
        if self.config.passive_tcp_establishment {
            self.base = State::Active;
        } else {
            self.base = State::Connect;
            self.restart_connect_retry(now);
            self.initiate_connection();
        }
    }

    pub(super) fn restart_connect_retry(&mut self, now: Instant) {
        let d = self.jittered(
            self.config.connect_retry_time,
            self.config.connect_retry_jitter,
        );
        self.timers.set(Timer::ConnectRetry, 0, now + d);
    }

    pub(super) fn initiate_connection(&mut self) {
        let Some(slot) = self.connections.iter().position(Option::is_none) else {
            return;
        };
        let id = self.allocate_id();
        self.connections[slot] = Some(Connection {
            id,
            direction: Direction::Outbound,
            phase: Phase::Connecting,
            info: None,
            send_open: false,
            send_keepalive: false,
            route_refresh: FamilySet::EMPTY,
            notification: None,
        });
        self.commands.push(ConnectionCommand::Connect(id));
    }

    pub(super) fn allocate_id(&mut self) -> ConnectionId {
        let id = ConnectionId(self.next_connection_id);
        self.next_connection_id = self.next_connection_id.wrapping_add(1).max(1);
        id
    }
}
