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

#[cfg(feature = "defmt")]
pub(crate) fn defmt_event(r: &EventRecord) {
    defmt::debug!(
        "fsm event: event={=str} fsm_state={=str} connection_id={=?} direction={=?}",
        r.event.name(),
        r.fsm_state.name(),
        r.connection_id,
        r.direction
    );
}

#[cfg(feature = "defmt")]
pub(crate) fn defmt_transition(r: &TransitionRecord) {
    defmt::info!(
        "fsm transition {=str} -> {=str}: connection_id={=?} direction={=?}",
        r.fsm_state.name(),
        r.to.name(),
        r.connection_id,
        r.direction
    );
}
