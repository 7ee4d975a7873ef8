//! The logging hook: every FSM event handled and every state transition, with
//! the seed daemon's field names (`neighbor`, `fsm_state`, `event`,
//! `connection_id`, `direction`). With the `defmt` feature each is also logged
//! through `defmt`.

use core::net::IpAddr;

use super::state::{ConnectionId, Direction, FsmEvent, State};

/// An FSM event as the session handled it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventRecord {
    /// The peer.
    pub neighbor: IpAddr,
    /// The state when the event arrived.
    pub fsm_state: State,
    /// The event (RFC 4271 §8.1).
    pub event: FsmEvent,
    /// The connection it concerns, if any.
    pub connection_id: Option<ConnectionId>,
    /// That connection's direction.
    pub direction: Option<Direction>,
}

/// A state transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransitionRecord {
    /// The peer.
    pub neighbor: IpAddr,
    /// The state before (`fsm_state`, as the seed logged transitions).
    pub fsm_state: State,
    /// The state after.
    pub to: State,
    /// The connection that caused it, if any.
    pub connection_id: Option<ConnectionId>,
    /// That connection's direction.
    pub direction: Option<Direction>,
}

/// Receives the session's log records. Both methods default to doing nothing.
pub trait SessionLog {
    /// An FSM event was handled.
    fn event(&mut self, record: &EventRecord) {
        let _ = record;
    }
    /// The state changed.
    fn transition(&mut self, record: &TransitionRecord) {
        let _ = record;
    }
}

/// The default hook: logs nothing (beyond `defmt`, when enabled).
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NoLog;

impl SessionLog for NoLog {}

impl<L: SessionLog + ?Sized> SessionLog for &mut L {
    fn event(&mut self, record: &EventRecord) {
        (**self).event(record)
    }
    fn transition(&mut self, record: &TransitionRecord) {
        (**self).transition(record)
    }
}

/// An address formatted for `defmt`, which has no impl for `core::net` types.
#[cfg(feature = "defmt")]
pub(crate) struct DefmtIp(pub(crate) IpAddr);

#[cfg(feature = "defmt")]
impl defmt::Format for DefmtIp {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self.0 {
            IpAddr::V4(a) => {
                let [a, b, c, d] = a.octets();
                defmt::write!(f, "{=u8}.{=u8}.{=u8}.{=u8}", a, b, c, d)
            }
            IpAddr::V6(a) => {
                let [a, b, c, d, e, g, h, i] = a.segments();
                defmt::write!(
                    f,
                    "{=u16:x}:{=u16:x}:{=u16:x}:{=u16:x}:{=u16:x}:{=u16:x}:{=u16:x}:{=u16:x}",
                    a,
                    b,
                    c,
                    d,
                    e,
                    g,
                    h,
                    i
                )
            }
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for EventRecord {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "neighbor={} fsm_state={=str} event={=str} connection_id={} direction={}",
            DefmtIp(self.neighbor),
            self.fsm_state.name(),
            self.event.name(),
            self.connection_id,
            self.direction
        )
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for TransitionRecord {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "neighbor={} {=str} -> {=str} connection_id={} direction={}",
            DefmtIp(self.neighbor),
            self.fsm_state.name(),
            self.to.name(),
            self.connection_id,
            self.direction
        )
    }
}

#[cfg(feature = "defmt")]
pub(crate) fn defmt_event(r: &EventRecord) {
    defmt::debug!("fsm event: {}", r);
}

#[cfg(feature = "defmt")]
pub(crate) fn defmt_transition(r: &TransitionRecord) {
    defmt::info!("fsm transition: {}", r);
}
