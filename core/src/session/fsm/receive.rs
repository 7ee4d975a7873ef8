//! BGP message events (RFC 4271 §8.1.5): framing the bytes read, and what each
//! message does in each state; the router's verdict on an UPDATE.

use crate::time::Instant;
use crate::wire::codes::{ErrorCode, NotificationCode, open_subcode};
use crate::wire::error::DecodeError;
use crate::wire::header::{self, MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN, MessageType};
use crate::wire::notification::Notification;
use crate::wire::open::Open;
use crate::wire::route_refresh::{RouteRefresh, RouteRefreshSubtype};

use super::{Counter, fsm_error};
use crate::session::log::SessionLog;
use crate::session::negotiation::negotiate;
use crate::session::output::{ConnectionCommand, DownReason, Event};
use crate::session::state::{ConnectionId, FsmEvent};
use crate::session::timers::Timer;
use crate::session::{Connection, Phase, Read, Session};

impl<L: SessionLog> Session<L> {
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
        // Framed by `header::frame`: a whole header is there.
        let message_type = header::Header::new_unchecked(message).message_type();
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
        if !self.resolve_collision(slot, info.peer_id) {
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
            self.fail(now, slot, None, DownReason::UnexpectedMessage);
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
