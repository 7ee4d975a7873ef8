//! The sessions' log hook: core's [`SessionLog`] records as `tracing` events with
//! the seed daemon's field names (`neighbor`, `fsm_state`, `event`,
//! `connection_id`, `direction`).

use std::net::IpAddr;

use nexthop_core::session::{EventRecord, SessionLog, TransitionRecord};

/// Logs every FSM event (debug) and state transition (info) of one session.
#[derive(Clone, Copy, Debug)]
pub struct TracingLog {
    /// The neighbour, for records that predate the session's config.
    pub neighbor: IpAddr,
}

impl SessionLog for TracingLog {
    fn event(&mut self, r: &EventRecord) {
        tracing::debug!(
            neighbor = %r.neighbor,
            fsm_state = %r.fsm_state,
            event = %r.event,
            connection_id = r.connection_id.map(|c| c.0),
            direction = r.direction.map(tracing::field::display),
            "fsm event"
        );
    }

    fn transition(&mut self, r: &TransitionRecord) {
        tracing::info!(
            neighbor = %r.neighbor,
            fsm_state = %r.fsm_state,
            to = %r.to,
            connection_id = r.connection_id.map(|c| c.0),
            direction = r.direction.map(tracing::field::display),
            "fsm transition"
        );
    }
}
