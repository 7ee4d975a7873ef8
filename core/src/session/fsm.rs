//! The session's inputs: RFC 4271 §8.2.2, event by event, state by state.
//!
//! Each `handle_*` method maps its input to an RFC event, logs it, applies the
//! state's action and then reports the resulting transition. Per-connection
//! events act on that connection; while another live connection exists (a
//! collision, RFC 4271 §6.8), a failure of one that is not Established closes only
//! that one, as if each connection had its own FSM.

use crate::time::Instant;
use crate::wire::codes::{ErrorCode, NotificationCode, cease_subcode, fsm_subcode, open_subcode};
use crate::wire::error::DecodeError;
use crate::wire::family::Family;
use crate::wire::header::{self, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, MessageType};
use crate::wire::notification::Notification;
use crate::wire::open::Open;
use crate::wire::route_refresh::{RouteRefresh, RouteRefreshSubtype};

use super::log::{EventRecord, SessionLog, TransitionRecord};
use super::messages::shutdown_communication;
use super::negotiation::negotiate;
use super::output::{ConnectionCommand, ConnectionError, DownReason, Event};
use super::state::{ConnectionId, Direction, FsmEvent, State};
use super::timers::Timer;
use super::{Connection, NOTIFICATION_DATA_LEN, NotificationData, Phase, Read, Session};

/// What a failure does to ConnectRetryCounter (§8.2.2).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Counter {
    Increment,
    Reset,
    Keep,
}

fn cease(subcode: u8) -> NotificationCode {
    NotificationCode::new(ErrorCode::Cease, subcode)
}

fn fsm_error(phase: Phase) -> NotificationCode {
    let sub = match phase {
        Phase::OpenSent => fsm_subcode::UNEXPECTED_MESSAGE_IN_OPEN_SENT,
        Phase::OpenConfirm => fsm_subcode::UNEXPECTED_MESSAGE_IN_OPEN_CONFIRM,
        Phase::Established => fsm_subcode::UNEXPECTED_MESSAGE_IN_ESTABLISHED,
        _ => fsm_subcode::UNSPECIFIED,
    };
    NotificationCode::new(ErrorCode::FiniteStateMachine, sub)
}

impl<L: SessionLog> Session<L> {
    // ----- administrative events (§8.1.2) ------------------------------------

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

    fn automatic_start_event(&self) -> FsmEvent {
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
    fn start(&mut self, now: Instant) {
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

    fn restart_connect_retry(&mut self, now: Instant) {
        let d = self.jittered(
            self.config.connect_retry_time,
            self.config.connect_retry_jitter,
        );
        self.timers.set(Timer::ConnectRetry, 0, now + d);
    }

    fn initiate_connection(&mut self) {
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
            notification: None,
        });
        self.commands.push(ConnectionCommand::Connect(id));
    }

    fn allocate_id(&mut self) -> ConnectionId {
        let id = ConnectionId(self.next_connection_id);
        self.next_connection_id = self.next_connection_id.wrapping_add(1).max(1);
        id
    }

    // ----- timer events (§8.1.3) ---------------------------------------------

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

    // ----- TCP connection events (§8.1.4) ------------------------------------

    /// The outbound connection `connection` (from a
    /// [`Connect`](ConnectionCommand::Connect)) is up: Tcp_CR_Acked (event 16).
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
                }
                (Phase::Connecting | Phase::Connected, _) => {
                    self.go_idle(now, DownReason::ConnectRetry, false, Counter::Increment)
                }
                _ => self.go_idle(now, reason, false, Counter::Increment),
            }
        }
        self.observe_with(c.id, c.direction);
    }

    // ----- BGP message events (§8.1.5) ---------------------------------------

    /// Bytes read from `connection`. Frames and handles whole messages; stops
    /// after an UPDATE (handed back borrowed from `bytes`) or after the first
    /// error. Bytes for a connection the session closed are consumed and ignored.
    pub fn handle_read<'a>(
        &mut self,
        now: Instant,
        connection: ConnectionId,
        bytes: &'a [u8],
    ) -> Read<'a> {
        let mut consumed = 0;
        loop {
            let Some(slot) = self.slot_of(connection) else {
                return Read {
                    consumed: bytes.len(),
                    update: None,
                };
            };
            let Some(c) = self.connections[slot].filter(|c| c.is_live()) else {
                return Read {
                    consumed: bytes.len(),
                    update: None,
                };
            };
            let max_len = match c.info {
                Some(i) if c.phase == Phase::Established && i.negotiated.extended_message => {
                    MAX_EXTENDED_MESSAGE_LEN
                }
                _ => MAX_MESSAGE_LEN,
            };
            let stream = &bytes[consumed..];
            let len = match header::frame(stream, max_len) {
                Ok(Some(len)) => len,
                Ok(None) => {
                    return Read {
                        consumed,
                        update: None,
                    };
                }
                Err(e) => {
                    self.log_event(FsmEvent::BgpHeaderErr, Some(slot));
                    self.decode_error(now, slot, &e, stream);
                    self.observe(Some(slot));
                    return Read {
                        consumed: bytes.len(),
                        update: None,
                    };
                }
            };
            let message = &stream[..len];
            consumed += len;
            let stop = self.on_message(now, slot, message);
            self.observe(Some(slot));
            match stop {
                Stop::Continue => {}
                Stop::Update => {
                    return Read {
                        consumed,
                        update: Some(message),
                    };
                }
                Stop::Yield => {
                    return Read {
                        consumed,
                        update: None,
                    };
                }
                Stop::Closed => {
                    return Read {
                        consumed: bytes.len(),
                        update: None,
                    };
                }
            }
        }
    }

    fn on_message(&mut self, now: Instant, slot: usize, message: &[u8]) -> Stop {
        let Some(c) = self.connections[slot] else {
            return Stop::Closed;
        };
        let message_type = MessageType::from(message.get(18).copied().unwrap_or(0));
        match message_type {
            MessageType::Open => self.on_open(now, slot, c, message),
            MessageType::Notification => {
                // A NOTIFICATION that does not parse still ends the session.
                let code = Notification::parse(message)
                    .map(|n| n.code)
                    .unwrap_or(NotificationCode::from_wire(0, 0));
                let version = code.code == ErrorCode::OpenMessage
                    && code.subcode == open_subcode::UNSUPPORTED_VERSION_NUMBER;
                let event = if version {
                    FsmEvent::NotifMsgVerErr
                } else {
                    FsmEvent::NotifMsg
                };
                self.log_event(event, Some(slot));
                // Never answer a NOTIFICATION with one: drop the connection.
                self.connections[slot] = None;
                self.timers.stop_connection(slot);
                self.commands.push(ConnectionCommand::Close(c.id));
                let reason = DownReason::NotificationReceived(code);
                let counter = if version {
                    Counter::Keep
                } else {
                    Counter::Increment
                };
                if c.phase == Phase::Established || self.live().count() == 0 {
                    self.go_idle(now, reason, c.phase == Phase::Established, counter);
                }
                Stop::Closed
            }
            MessageType::Keepalive => {
                self.log_event(FsmEvent::KeepAliveMsg, Some(slot));
                match c.phase {
                    Phase::OpenConfirm => {
                        self.restart_hold(now, slot);
                        self.become_established(now, slot);
                        Stop::Continue
                    }
                    Phase::Established => {
                        self.restart_hold(now, slot);
                        Stop::Continue
                    }
                    _ => self.unexpected(now, slot, c.phase),
                }
            }
            MessageType::Update => {
                self.log_event(FsmEvent::UpdateMsg, Some(slot));
                if c.phase == Phase::Established {
                    self.restart_hold(now, slot);
                    Stop::Update
                } else {
                    self.unexpected(now, slot, c.phase)
                }
            }
            MessageType::RouteRefresh => {
                if c.phase != Phase::Established {
                    return self.unexpected(now, slot, c.phase);
                }
                self.restart_hold(now, slot);
                let rr = match RouteRefresh::parse(message) {
                    Ok(rr) => rr,
                    Err(e) => {
                        self.decode_error(now, slot, &e, message);
                        return Stop::Closed;
                    }
                };
                // RFC 2918 §4: ignore it unless route refresh was negotiated;
                // RFC 7313 §3.2: ignore unknown subtypes.
                let negotiated = c
                    .info
                    .is_some_and(|i| i.route_refresh || i.enhanced_route_refresh);
                if negotiated && !matches!(rr.subtype, RouteRefreshSubtype::Unknown(_)) {
                    self.events.push(Event::RouteRefreshRequested {
                        family: rr.family,
                        subtype: rr.subtype,
                    });
                    return Stop::Yield;
                }
                Stop::Continue
            }
            MessageType::Unknown(_) => self.unexpected(now, slot, c.phase),
        }
    }

    fn on_open(&mut self, now: Instant, slot: usize, c: Connection, message: &[u8]) -> Stop {
        let delay_open = self.timers.is_running(Timer::DelayOpen, slot);
        let event = if delay_open {
            FsmEvent::BgpOpenWithDelayOpenTimerRunning
        } else {
            FsmEvent::BgpOpen
        };
        self.log_event(event, Some(slot));
        if !matches!(c.phase, Phase::Connected | Phase::OpenSent) {
            return self.unexpected(now, slot, c.phase);
        }
        let checked = Open::parse(message).and_then(|open| negotiate(&self.config, &open));
        let info = match checked {
            Ok(info) => info,
            Err(e) => {
                self.log_event(FsmEvent::BgpOpenMsgErr, Some(slot));
                self.decode_error(now, slot, &e, message);
                return Stop::Closed;
            }
        };
        if !self.resolve_collision(now, slot, info.peer_id) {
            return Stop::Closed;
        }
        self.timers.stop(Timer::ConnectRetry, 0);
        self.timers.stop(Timer::DelayOpen, slot);
        let Some(c) = self.connections[slot].as_mut() else {
            return Stop::Closed;
        };
        if c.phase == Phase::Connected {
            c.send_open = true;
        }
        c.phase = Phase::OpenConfirm;
        c.info = Some(info);
        c.send_keepalive = true;
        if info.hold_time == 0 {
            self.timers.stop(Timer::Hold, slot);
            self.timers.stop(Timer::Keepalive, slot);
        } else {
            self.timers
                .set(Timer::Keepalive, slot, now + info.keepalive_time);
            self.restart_hold(now, slot);
        }
        Stop::Continue
    }

    /// RFC 4271 §6.8, on an OPEN received on `slot` from a peer with `peer_id`:
    /// if the other connection is in OpenConfirm (or Established, with
    /// CollisionDetectEstablishedState), one of the two is closed with Cease 6/7:
    /// the one we initiated when our BGP Identifier is the lower, else the one the
    /// peer initiated. Without that option, a new connection colliding with an
    /// Established one is the one closed. Returns whether `slot` survives.
    fn resolve_collision(&mut self, now: Instant, slot: usize, peer_id: u32) -> bool {
        let other = 1 - slot;
        let Some(o) = self.connections[other].filter(|c| c.is_live()) else {
            return true;
        };
        let compare = match o.phase {
            Phase::OpenConfirm => true,
            Phase::Established => self.config.deterministic_collision_resolution,
            _ => return true,
        };
        let loser = if compare {
            let lose_direction = if self.config.router_id < peer_id {
                Direction::Outbound
            } else {
                Direction::Inbound
            };
            if self.connections[slot].is_some_and(|c| c.direction == lose_direction) {
                slot
            } else {
                other
            }
        } else {
            slot
        };
        self.log_event(FsmEvent::OpenCollisionDump, Some(loser));
        let code = cease(cease_subcode::CONNECTION_COLLISION_RESOLUTION);
        let was_established = o.phase == Phase::Established && loser == other;
        self.queue_notification(loser, code, NotificationData::Inline([0; 8], 0));
        if was_established {
            self.established_at = None;
            self.connect_retry_counter = self.connect_retry_counter.saturating_add(1);
            self.events.push(Event::Down {
                reason: DownReason::NotificationSent(code),
                was_established: true,
            });
        }
        let _ = now;
        loser != slot
    }

    fn become_established(&mut self, now: Instant, slot: usize) {
        let Some(c) = self.connections[slot].as_mut() else {
            return;
        };
        c.phase = Phase::Established;
        self.established_at = Some(now);
        if let Some(info) = c.info {
            self.events.push(Event::Established {
                connection: c.id,
                info,
            });
        }
    }

    fn restart_hold(&mut self, now: Instant, slot: usize) {
        let hold = self.connections[slot]
            .and_then(|c| c.info)
            .map(|i| i.hold_time);
        match hold {
            Some(0) => self.timers.stop(Timer::Hold, slot),
            Some(h) => self.timers.set(
                Timer::Hold,
                slot,
                now + crate::time::Duration::from_secs(u64::from(h)),
            ),
            None => {}
        }
    }

    /// A message the state does not expect (§8.2.2 "any other event"): before our
    /// OPEN, drop the connection; after it, NOTIFICATION Finite State Machine
    /// Error (RFC 6608).
    fn unexpected(&mut self, now: Instant, slot: usize, phase: Phase) -> Stop {
        if phase >= Phase::OpenSent {
            let code = fsm_error(phase);
            self.fail(
                now,
                slot,
                Some((code, &[])),
                DownReason::NotificationSent(code),
            );
        } else {
            self.fail(now, slot, None, DownReason::ConnectRetry);
        }
        Stop::Closed
    }

    /// BGPHeaderErr, BGPOpenMsgErr, UpdateMsgErr: the NOTIFICATION the error
    /// calls for, then Idle.
    fn decode_error(&mut self, now: Instant, slot: usize, e: &DecodeError, message: &[u8]) {
        let data = e.data.resolve(message);
        self.fail(
            now,
            slot,
            Some((e.notification, data)),
            DownReason::NotificationSent(e.notification),
        );
    }

    /// The router found an error in an UPDATE it was given (UpdateMsgErr, event
    /// 28). Only an error whose RFC 7606 action is a session reset ends the
    /// session: NOTIFICATION with the error's code and data, then Idle.
    pub fn handle_update_error(&mut self, now: Instant, error: &DecodeError, message: &[u8]) {
        let slot = self.established_slot();
        self.log_event(FsmEvent::UpdateMsgErr, slot);
        if let Some(slot) = slot
            && matches!(
                error.action,
                crate::wire::ErrorAction::SessionReset
                    | crate::wire::ErrorAction::AfiSafiDisable(_)
            )
        {
            self.decode_error(now, slot, error, message);
        }
        self.observe(slot);
    }

    /// The router wrote an UPDATE on the Established connection: the
    /// KeepaliveTimer restarts (RFC 4271 §4.4).
    pub fn handle_update_sent(&mut self, now: Instant) {
        if let Some(slot) = self.established_slot()
            && let Some(ka) = self.connections[slot]
                .and_then(|c| c.info)
                .map(|i| i.keepalive_time)
            && !ka.is_zero()
        {
            self.timers.set(Timer::Keepalive, slot, now + ka);
        }
    }

    // ----- shared actions ----------------------------------------------------

    fn established_slot(&self) -> Option<usize> {
        self.connections
            .iter()
            .position(|c| c.is_some_and(|c| c.is_live() && c.phase == Phase::Established))
    }

    /// Queues a NOTIFICATION on `slot`; the connection stops counting and is
    /// closed once it is sent.
    fn queue_notification(&mut self, slot: usize, code: NotificationCode, data: NotificationData) {
        self.timers.stop_connection(slot);
        if let Some(c) = self.connections[slot].as_mut() {
            c.send_keepalive = false;
            c.notification = Some((code, data));
        }
    }

    fn stash_data(&mut self, data: &[u8]) -> NotificationData {
        if data.len() <= 8 {
            let mut b = [0; 8];
            b[..data.len()].copy_from_slice(data);
            NotificationData::Inline(b, data.len() as u8)
        } else {
            let n = data.len().min(NOTIFICATION_DATA_LEN);
            self.notification_data[..n].copy_from_slice(&data[..n]);
            NotificationData::Shared(n as u16)
        }
    }

    fn drop_connection(&mut self, slot: usize) {
        if let Some(c) = self.connections[slot].take() {
            self.commands.push(ConnectionCommand::Close(c.id));
        }
        self.timers.stop_connection(slot);
    }

    /// An error on `slot`: its NOTIFICATION (if any) then close. While another
    /// live connection exists and this one was not Established, only this one
    /// ends; else the session goes to Idle.
    fn fail(
        &mut self,
        now: Instant,
        slot: usize,
        notification: Option<(NotificationCode, &[u8])>,
        reason: DownReason,
    ) {
        let Some(c) = self.connections[slot] else {
            return;
        };
        match notification {
            // Nothing is written on a connection TCP has not completed.
            Some((code, data)) if c.phase > Phase::Connecting => {
                let data = self.stash_data(data);
                self.queue_notification(slot, code, data);
            }
            _ => self.drop_connection(slot),
        }
        let established = c.phase == Phase::Established;
        if established || self.live().count() == 0 {
            self.go_idle(now, reason, established, Counter::Increment);
        }
    }

    /// ManualStop and AutomaticStop: a Cease on every connection that sent its
    /// OPEN, close the others, Idle.
    fn stop_all(
        &mut self,
        now: Instant,
        code: NotificationCode,
        data: NotificationData,
        reason: DownReason,
        counter: Counter,
    ) {
        let established = self.established_slot().is_some();
        for slot in 0..2 {
            match self.connections[slot] {
                Some(c) if c.is_live() && c.phase >= Phase::OpenSent => {
                    self.queue_notification(slot, code, data)
                }
                Some(c) if c.is_live() => self.drop_connection(slot),
                _ => {}
            }
        }
        self.go_idle(now, reason, established, counter);
    }

    /// To Idle: close every live connection, stop the timers, report why, and,
    /// when allowed, arm the IdleHoldTimer for an automatic restart. The delay is
    /// the idle hold time (ConnectRetryTime where that is zero), doubled per
    /// consecutive failure with DampPeerOscillations, then jittered.
    fn go_idle(
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
            let delay = self.jittered(delay, self.config.idle_hold_jitter);
            self.timers.set(Timer::IdleHold, 0, now + delay);
        }
    }

    // ----- logging -----------------------------------------------------------

    fn log_event(&mut self, event: FsmEvent, slot: Option<usize>) {
        let c = slot.and_then(|s| self.connections[s]);
        let record = EventRecord {
            neighbor: self.config.neighbor,
            fsm_state: self.state(),
            event,
            connection_id: c.map(|c| c.id),
            direction: c.map(|c| c.direction),
        };
        #[cfg(feature = "defmt")]
        super::log::defmt_event(&record);
        self.log.event(&record);
    }

    /// Reports a change of state since the last report.
    fn observe(&mut self, slot: Option<usize>) {
        let c = slot.and_then(|s| self.connections[s]);
        match c {
            Some(c) => self.observe_with(c.id, c.direction),
            None => self.observe_inner(None, None),
        }
    }

    fn observe_with(&mut self, id: ConnectionId, direction: Direction) {
        self.observe_inner(Some(id), Some(direction));
    }

    fn observe_inner(&mut self, id: Option<ConnectionId>, direction: Option<Direction>) {
        let to = self.state();
        let from = self.reported_state;
        if to == from {
            return;
        }
        self.reported_state = to;
        let record = TransitionRecord {
            neighbor: self.config.neighbor,
            fsm_state: from,
            to,
            connection_id: id,
            direction,
        };
        #[cfg(feature = "defmt")]
        super::log::defmt_transition(&record);
        self.log.transition(&record);
        self.events.push(Event::StateChanged { from, to });
    }
}

/// Whether `handle_read` goes on after a message.
enum Stop {
    Continue,
    /// An UPDATE for the router: return it.
    Update,
    /// An event was queued: return so the caller drains it.
    Yield,
    /// The connection is closed or closing: consume everything.
    Closed,
}
