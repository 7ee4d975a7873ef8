//! The FSM's states and events (RFC 4271 §8.1, §8.2.2), the connections a session
//! tracks, and their names as the RFC spells them.

use core::fmt;

/// A session state (RFC 4271 §8.2.2). Prints in the RFC's spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum State {
    /// Refuses connections; waits for a start event.
    Idle,
    /// Waiting for an outbound TCP connection to complete.
    Connect,
    /// Waiting for the peer to connect.
    Active,
    /// OPEN sent, waiting for the peer's.
    OpenSent,
    /// OPENs exchanged, waiting for a KEEPALIVE or NOTIFICATION.
    OpenConfirm,
    /// UPDATE, NOTIFICATION and KEEPALIVE messages flow.
    Established,
}

impl State {
    /// Every state, in the RFC's order.
    pub const ALL: [State; 6] = [
        State::Idle,
        State::Connect,
        State::Active,
        State::OpenSent,
        State::OpenConfirm,
        State::Established,
    ];

    /// The RFC's spelling.
    pub const fn name(self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An FSM event (RFC 4271 §8.1.2-8.1.5), numbered as the RFC numbers them. The
/// session reports each one it handles through its log hook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[allow(missing_docs)]
pub enum FsmEvent {
    ManualStart = 1,
    ManualStop = 2,
    AutomaticStart = 3,
    ManualStartWithPassiveTcpEstablishment = 4,
    AutomaticStartWithPassiveTcpEstablishment = 5,
    AutomaticStartWithDampPeerOscillations = 6,
    AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment = 7,
    AutomaticStop = 8,
    ConnectRetryTimerExpires = 9,
    HoldTimerExpires = 10,
    KeepaliveTimerExpires = 11,
    DelayOpenTimerExpires = 12,
    IdleHoldTimerExpires = 13,
    TcpConnectionValid = 14,
    TcpCrInvalid = 15,
    TcpCrAcked = 16,
    TcpConnectionConfirmed = 17,
    TcpConnectionFails = 18,
    BgpOpen = 19,
    BgpOpenWithDelayOpenTimerRunning = 20,
    BgpHeaderErr = 21,
    BgpOpenMsgErr = 22,
    OpenCollisionDump = 23,
    NotifMsgVerErr = 24,
    NotifMsg = 25,
    KeepAliveMsg = 26,
    UpdateMsg = 27,
    UpdateMsgErr = 28,
}

impl FsmEvent {
    /// The RFC's name for the event.
    pub const fn name(self) -> &'static str {
        use FsmEvent::*;
        match self {
            ManualStart => "ManualStart",
            ManualStop => "ManualStop",
            AutomaticStart => "AutomaticStart",
            ManualStartWithPassiveTcpEstablishment => "ManualStart_with_PassiveTcpEstablishment",
            AutomaticStartWithPassiveTcpEstablishment => {
                "AutomaticStart_with_PassiveTcpEstablishment"
            }
            AutomaticStartWithDampPeerOscillations => "AutomaticStart_with_DampPeerOscillations",
            AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment => {
                "AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment"
            }
            AutomaticStop => "AutomaticStop",
            ConnectRetryTimerExpires => "ConnectRetryTimer_Expires",
            HoldTimerExpires => "HoldTimer_Expires",
            KeepaliveTimerExpires => "KeepaliveTimer_Expires",
            DelayOpenTimerExpires => "DelayOpenTimer_Expires",
            IdleHoldTimerExpires => "IdleHoldTimer_Expires",
            TcpConnectionValid => "TcpConnection_Valid",
            TcpCrInvalid => "Tcp_CR_Invalid",
            TcpCrAcked => "Tcp_CR_Acked",
            TcpConnectionConfirmed => "TcpConnectionConfirmed",
            TcpConnectionFails => "TcpConnectionFails",
            BgpOpen => "BGPOpen",
            BgpOpenWithDelayOpenTimerRunning => "BGPOpen with DelayOpenTimer running",
            BgpHeaderErr => "BGPHeaderErr",
            BgpOpenMsgErr => "BGPOpenMsgErr",
            OpenCollisionDump => "OpenCollisionDump",
            NotifMsgVerErr => "NotifMsgVerErr",
            NotifMsg => "NotifMsg",
            KeepAliveMsg => "KeepAliveMsg",
            UpdateMsg => "UpdateMsg",
            UpdateMsgErr => "UpdateMsgErr",
        }
    }

    /// The RFC's event number.
    pub const fn number(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for FsmEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Identifies one TCP connection of a session, between the session and its
/// runtime. The session assigns them (for [`Connect`](super::ConnectionCommand::Connect)
/// and for accepted connections), never reusing one within a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConnectionId(pub u32);

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// Who opened a connection (the seed's `direction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// We connected to the peer.
    Outbound,
    /// The peer connected to us.
    Inbound,
}

impl Direction {
    /// `outbound` or `inbound`, as the seed log spells them.
    pub const fn name(self) -> &'static str {
        match self {
            Direction::Outbound => "outbound",
            Direction::Inbound => "inbound",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
