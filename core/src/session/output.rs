//! What a session gives back: connection commands for the runtime and events for
//! the router, queued in fixed-capacity rings until polled.

use crate::wire::NotificationCode;
use crate::wire::family::Family;
use crate::wire::route_refresh::RouteRefreshSubtype;

use super::negotiation::SessionInfo;
use super::state::{ConnectionId, State};

/// What the runtime must do with its sockets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConnectionCommand {
    /// Open a TCP connection to the peer, known from now on by this id; report
    /// the outcome with `handle_connected` or `handle_connection_failed`.
    Connect(ConnectionId),
    /// Close this connection (after writing everything `poll_transmit` gave for
    /// it). The session has forgotten it.
    Close(ConnectionId),
}

/// Why a connection or session ended, as reported by the runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ConnectionError {
    /// The peer closed the connection: a read returned zero bytes.
    PeerClosed,
    /// The connection was reset.
    Reset,
    /// A write failed.
    SendFailed,
    /// An outbound connection attempt failed (refused, unreachable, timed out).
    ConnectFailed,
}

/// Why a session lost its connection: it went to Idle, or, for a TCP failure in
/// OpenSent or in Connect with DelayOpen running, to Active (RFC 4271 §8.2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DownReason {
    /// The runtime reported the TCP connection gone; nothing was sent on it.
    Connection(ConnectionError),
    /// The peer sent a NOTIFICATION.
    NotificationReceived(NotificationCode),
    /// We sent a NOTIFICATION for this error (a malformed message, an OPEN we
    /// refused, an unexpected message, a collision lost, ...).
    NotificationSent(NotificationCode),
    /// The hold timer expired (NOTIFICATION 4/0 sent).
    HoldTimerExpired,
    /// ManualStop (Cease sent where a connection was open).
    ManualStop,
    /// AutomaticStop, such as the router's max-prefix limit (Cease sent).
    AutomaticStop(NotificationCode),
    /// A message the state does not expect arrived before our OPEN was sent
    /// (Connect or Active with DelayOpen running): the connection was dropped
    /// without a NOTIFICATION (RFC 4271 §8.2.2).
    UnexpectedMessage,
}

/// Events for the router, in the order they happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// The session changed state.
    StateChanged {
        /// The state before.
        from: State,
        /// The state after.
        to: State,
    },
    /// The session reached Established on `connection`, with what was negotiated.
    Established {
        /// The connection UPDATEs flow on.
        connection: ConnectionId,
        /// The negotiated session parameters.
        info: SessionInfo,
    },
    /// The session lost its connection (see [`DownReason`]). When it had been
    /// Established, the router drops the routes learned from the peer.
    Down {
        /// Why.
        reason: DownReason,
        /// Whether it was Established.
        was_established: bool,
    },
    /// The peer asked for our routes again (RFC 2918, RFC 7313).
    RouteRefreshRequested {
        /// The family.
        family: Family,
        /// The message subtype (RFC 7313 §3): a request, or the beginning or
        /// end of the peer's own refresh.
        subtype: RouteRefreshSubtype,
    },
}

/// A fixed-capacity FIFO; a push onto a full one drops the newest item and counts it.
#[derive(Clone, Debug)]
pub(crate) struct Ring<T: Copy, const N: usize> {
    items: [Option<T>; N],
    head: usize,
    len: usize,
    pub(crate) dropped: u32,
}

impl<T: Copy, const N: usize> Ring<T, N> {
    pub(crate) const fn new() -> Self {
        Ring {
            items: [None; N],
            head: 0,
            len: 0,
            dropped: 0,
        }
    }

    pub(crate) fn push(&mut self, item: T) {
        if self.len == N {
            self.dropped = self.dropped.saturating_add(1);
            return;
        }
        self.items[(self.head + self.len) % N] = Some(item);
        self.len += 1;
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let item = self.items[self.head].take();
        self.head = (self.head + 1) % N;
        self.len -= 1;
        item
    }
}
