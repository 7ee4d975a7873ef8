//! The BGP session: RFC 4271 §8's finite state machine for one peer, sans-IO.
//!
//! Read RFC 4271 §8 first. A [`Session`] is a pure state machine: no clock, no
//! socket, no allocation (quinn-proto's `Connection` is the model). The runtime
//! owns the TCP connections, the buffers and the clock, and drives the session
//! through four kinds of methods:
//!
//! - getters (`&self`): [`Session::state`], [`Session::session_info`], ...;
//! - inputs (`handle_*`, each taking `now`): start and stop, connection events
//!   identified by [`ConnectionId`], bytes read ([`Session::handle_read`]), timer
//!   expiry ([`Session::handle_timeout`]), and the router's limits
//!   ([`Session::handle_max_prefix_exceeded`], [`Session::handle_update_error`]);
//! - application mutators, which queue work without an RFC 4271 event:
//!   [`Session::request_route_refresh`] (RFC 2918), refused with a
//!   [`RouteRefreshError`] where the RFC forbids the message;
//! - outputs (`poll_*`), to be drained after every input and mutator, in this
//!   order:
//!   1. [`Session::poll_transmit`] until `None`: messages to write, per
//!      connection, each with its [`MessageType`];
//!   2. [`Session::poll_connection_command`] until `None`: connect, close;
//!   3. [`Session::poll_event`] until `None`: events for the router;
//!   4. [`Session::poll_timeout`]: the one next deadline, for a timer wheel.
//!
//! An UPDATE is not queued as an event: [`Session::handle_read`] stops after one
//! and hands it back borrowed from the caller's bytes ([`Read::update`]), for the
//! router to parse with [`SessionInfo::negotiated`] before reading on.
//!
//! A session tracks at most two TCP connections, so that a connection collision
//! (RFC 4271 §6.8) keeps both connections' states and timers apart until one is
//! closed with Cease 6/7. When the runtime reports a connection gone (the peer
//! closed it, it was reset, a write failed), the session is Idle (or Active, where
//! §8.2.2 says so) at that same `now` and produces nothing more for it.

mod config;
mod fsm;
mod log;
mod messages;
mod negotiation;
mod output;
mod refresh;
mod state;
mod timers;

pub use config::{AddPathConfig, Damping, Jitter, LocalCapabilities, SessionConfig};
pub use log::{EventRecord, NoLog, SessionLog, TransitionRecord};
pub use messages::{GracefulRestartInfo, emit_open, with_local_open};
pub use negotiation::{SessionInfo, negotiate};
pub use output::{ConnectionCommand, ConnectionError, DownReason, Event};
pub use refresh::RouteRefreshError;
pub use state::{ConnectionId, Direction, FsmEvent, State};
pub use timers::Timer;

use crate::time::{Duration, Instant};
use crate::wire::NotificationCode;
use crate::wire::family::FamilySet;
use crate::wire::header::{MAX_MESSAGE_LEN, MessageType};
use crate::wire::keepalive::Keepalive;
use crate::wire::notification::Notification;
use crate::wire::route_refresh::{RouteRefresh, RouteRefreshSubtype};

use output::Ring;
use timers::{TimerTable, XorShift};

/// Where a connection is in its own life; the session's [`State`] is derived
/// from its connections' phases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// Outbound: the runtime is connecting.
    Connecting,
    /// TCP is up, our OPEN is not sent yet (DelayOpen running).
    Connected,
    /// Our OPEN is sent.
    OpenSent,
    /// OPENs exchanged.
    OpenConfirm,
    /// KEEPALIVE received in OpenConfirm.
    Established,
}

/// Where the data of a queued NOTIFICATION is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotificationData {
    /// Up to 8 bytes, here.
    Inline([u8; 8], u8),
    /// The first `n` bytes of the session's shared NOTIFICATION data buffer.
    Shared(u16),
}

/// One TCP connection of the session.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Connection {
    pub(crate) id: ConnectionId,
    pub(crate) direction: Direction,
    pub(crate) phase: Phase,
    /// What the peer's OPEN and ours agreed, from OpenConfirm on.
    pub(crate) info: Option<SessionInfo>,
    pub(crate) send_open: bool,
    pub(crate) send_keepalive: bool,
    /// Families to send a ROUTE-REFRESH request for (RFC 2918 §3).
    pub(crate) route_refresh: FamilySet,
    /// A NOTIFICATION to send, after which the connection is closed. A connection
    /// with one queued no longer counts for the session's state.
    pub(crate) notification: Option<(NotificationCode, NotificationData)>,
}

impl Connection {
    pub(crate) fn is_live(&self) -> bool {
        self.notification.is_none()
    }
}

/// The smallest buffer [`Session::poll_transmit`] takes: the largest message
/// (RFC 4271 §4.1) without the extended message capability.
pub const TRANSMIT_BUFFER_LEN: usize = MAX_MESSAGE_LEN;

/// Bytes of the largest NOTIFICATION data the session keeps (RFC 9003: a length
/// octet and up to 255 octets of shutdown communication).
pub const NOTIFICATION_DATA_LEN: usize = 256;

/// One message from [`Session::poll_transmit`], written into the caller's
/// buffer: `buffer[..len]` goes on `connection`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use]
pub struct Transmit {
    /// The connection to write it on.
    pub connection: ConnectionId,
    /// Its length, header included.
    pub len: usize,
    /// What it is: OPEN, KEEPALIVE, NOTIFICATION or ROUTE-REFRESH (the session
    /// writes no UPDATE; the router does).
    pub message_type: MessageType,
}

/// The outcome of [`Session::handle_read`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Read<'a> {
    /// Bytes of the input the session consumed; the caller drops them and keeps
    /// the rest for the next call (with more bytes appended).
    pub consumed: usize,
    /// An UPDATE (the whole message, header included) for the router, borrowed
    /// from the input; the session stops reading after one, so call again with
    /// the rest.
    pub update: Option<&'a [u8]>,
}

/// One peer's BGP session: RFC 4271 §8, sans-IO. See the [module docs](self).
///
/// Size: 1160 bytes on x86_64 with the default [`NoLog`] hook (config 144 bytes,
/// two connection slots, eight timers, the output rings and a 256-byte buffer for
/// a NOTIFICATION's data); no I/O buffers. `tests/fsm_size.rs` fails past 1280.
pub struct Session<L: SessionLog = NoLog> {
    pub(crate) config: SessionConfig,
    pub(crate) log: L,
    /// Idle, Connect or Active: the state when no connection has sent an OPEN.
    pub(crate) base: State,
    pub(crate) connections: [Option<Connection>; 2],
    pub(crate) timers: TimerTable,
    pub(crate) rng: XorShift,
    pub(crate) next_connection_id: u32,
    /// ConnectRetryCounter (§8.1.3); it also drives DampPeerOscillations.
    pub(crate) connect_retry_counter: u32,
    /// Allowed to (re)start on its own: set by a start, cleared by ManualStop.
    pub(crate) enabled: bool,
    pub(crate) established_at: Option<Instant>,
    pub(crate) reported_state: State,
    pub(crate) commands: Ring<ConnectionCommand, 4>,
    pub(crate) events: Ring<Event, 8>,
    pub(crate) notification_data: [u8; NOTIFICATION_DATA_LEN],
}

impl Session<NoLog> {
    /// A session in Idle, logging nothing.
    pub fn new(config: SessionConfig) -> Self {
        Session::with_log(config, NoLog)
    }
}

impl<L: SessionLog> Session<L> {
    /// A session in Idle reporting to `log`.
    pub fn with_log(config: SessionConfig, log: L) -> Self {
        Session {
            rng: XorShift::new(config.rng_seed),
            config,
            log,
            base: State::Idle,
            connections: [None, None],
            timers: TimerTable::default(),
            next_connection_id: 1,
            connect_retry_counter: 0,
            enabled: false,
            established_at: None,
            reported_state: State::Idle,
            commands: Ring::new(),
            events: Ring::new(),
            notification_data: [0; NOTIFICATION_DATA_LEN],
        }
    }

    // ----- getters -------------------------------------------------------------

    /// The session's state: the most advanced of its live connections, else Idle,
    /// Connect or Active.
    pub fn state(&self) -> State {
        let mut s = self.base;
        for c in self.live() {
            let cs = match c.phase {
                Phase::Connecting | Phase::Connected => continue,
                Phase::OpenSent => State::OpenSent,
                Phase::OpenConfirm => State::OpenConfirm,
                Phase::Established => State::Established,
            };
            s = s.max(cs);
        }
        s
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The log hook.
    pub fn log(&self) -> &L {
        &self.log
    }

    /// The log hook, mutably.
    pub fn log_mut(&mut self) -> &mut L {
        &mut self.log
    }

    /// ConnectRetryCounter (RFC 4271 §8.1.3).
    pub fn connect_retry_counter(&self) -> u32 {
        self.connect_retry_counter
    }

    /// The connection UPDATEs flow on, when Established.
    pub fn established_connection(&self) -> Option<ConnectionId> {
        self.live()
            .find(|c| c.phase == Phase::Established)
            .map(|c| c.id)
    }

    /// What was negotiated, when Established.
    pub fn session_info(&self) -> Option<&SessionInfo> {
        self.live()
            .find(|c| c.phase == Phase::Established)
            .and_then(|c| c.info.as_ref())
    }

    /// The live connections (not closing) with their direction and the state each
    /// would give the session on its own.
    pub fn connections(&self) -> impl Iterator<Item = (ConnectionId, Direction, State)> + '_ {
        self.live().map(|c| {
            let s = match c.phase {
                Phase::Connecting | Phase::Connected => self.base,
                Phase::OpenSent => State::OpenSent,
                Phase::OpenConfirm => State::OpenConfirm,
                Phase::Established => State::Established,
            };
            (c.id, c.direction, s)
        })
    }

    /// Whether the session knows `connection` at all (live or closing).
    pub fn has_connection(&self, connection: ConnectionId) -> bool {
        self.slot_of(connection).is_some()
    }

    /// The deadline of a timer: for Hold, Keepalive and DelayOpen, the earliest
    /// over the session's connections.
    pub fn timer(&self, timer: Timer) -> Option<Instant> {
        self.timers.earliest_of(timer)
    }

    /// The deadline of one connection's Hold, Keepalive or DelayOpen timer (for
    /// ConnectRetry and IdleHold, the session's).
    pub fn connection_timer(&self, connection: ConnectionId, timer: Timer) -> Option<Instant> {
        match timer {
            Timer::ConnectRetry | Timer::IdleHold => self.timers.get(timer, 0),
            _ => self
                .slot_of(connection)
                .and_then(|s| self.timers.get(timer, s)),
        }
    }

    /// Events dropped because the queue was full (the caller did not drain it).
    pub fn events_dropped(&self) -> u32 {
        self.events.dropped
    }

    pub(crate) fn live(&self) -> impl Iterator<Item = &Connection> + '_ {
        self.connections.iter().flatten().filter(|c| c.is_live())
    }

    pub(crate) fn slot_of(&self, id: ConnectionId) -> Option<usize> {
        self.connections
            .iter()
            .position(|c| c.is_some_and(|c| c.id == id))
    }

    // ----- outputs -------------------------------------------------------------

    /// The next message to send: writes it into `buffer` and says which
    /// connection to write it on, its length and its type. `buffer` must hold
    /// [`TRANSMIT_BUFFER_LEN`] bytes; a smaller one that cannot hold the next
    /// message gives `None` and keeps the message queued.
    ///
    /// Per connection, in this order: our OPEN, a NOTIFICATION (the last message:
    /// the connection is closed after it), a KEEPALIVE, ROUTE-REFRESH requests.
    #[must_use]
    pub fn poll_transmit(&mut self, now: Instant, buffer: &mut [u8]) -> Option<Transmit> {
        let _ = now;
        debug_assert!(buffer.len() >= TRANSMIT_BUFFER_LEN);
        for slot in 0..2 {
            let Some(c) = self.connections[slot] else {
                continue;
            };
            let sent = |len, message_type| Transmit {
                connection: c.id,
                len,
                message_type,
            };
            if c.send_open {
                let n = emit_open(&self.config, buffer).ok()?;
                if let Some(c) = self.connections[slot].as_mut() {
                    c.send_open = false;
                }
                return Some(sent(n, MessageType::Open));
            }
            if let Some((code, data)) = c.notification {
                let data: &[u8] = match &data {
                    NotificationData::Inline(bytes, len) => &bytes[..usize::from(*len).min(8)],
                    NotificationData::Shared(len) => {
                        &self.notification_data[..usize::from(*len).min(NOTIFICATION_DATA_LEN)]
                    }
                };
                let n = Notification { code, data }.emit(buffer).ok()?;
                // The NOTIFICATION is the last thing on this connection.
                self.connections[slot] = None;
                self.timers.stop_connection(slot);
                self.commands.push(ConnectionCommand::Close(c.id));
                return Some(sent(n, MessageType::Notification));
            }
            if c.send_keepalive {
                let n = Keepalive.emit(buffer).ok()?;
                if let Some(c) = self.connections[slot].as_mut() {
                    c.send_keepalive = false;
                }
                return Some(sent(n, MessageType::Keepalive));
            }
            if let Some(family) = messages::FAMILIES
                .into_iter()
                .find(|f| c.route_refresh.contains(*f))
            {
                let request = RouteRefresh {
                    family,
                    subtype: RouteRefreshSubtype::Normal,
                };
                let n = request.emit(buffer).ok()?;
                if let Some(c) = self.connections[slot].as_mut() {
                    c.route_refresh.remove(family);
                }
                return Some(sent(n, MessageType::RouteRefresh));
            }
        }
        None
    }

    /// The next command for the runtime's sockets.
    #[must_use]
    pub fn poll_connection_command(&mut self) -> Option<ConnectionCommand> {
        self.commands.pop()
    }

    /// The next event for the router.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop()
    }

    /// The next deadline at which [`Session::handle_timeout`] has work.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    // ----- helpers shared by the inputs ------------------------------------

    pub(crate) fn jittered(&mut self, base: Duration, jitter: Option<Jitter>) -> Duration {
        self.rng.jitter(base, jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{IpAddr, Ipv4Addr};

    #[test]
    fn new_session_is_idle_and_silent() {
        let mut s = Session::new(SessionConfig::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, 4)),
            65001,
            1,
        ));
        let mut buf = [0u8; 4096];
        assert_eq!(s.state(), State::Idle);
        assert_eq!(s.poll_transmit(Instant::ZERO, &mut buf), None);
        assert_eq!(s.poll_connection_command(), None);
        assert_eq!(s.poll_event(), None);
        assert_eq!(s.poll_timeout(), None);
    }
}
