//! The session's inputs: RFC 4271 §8.2.2, event by event, state by state.
//!
//! Each `handle_*` method maps its input to an RFC event, logs it, applies the
//! state's action and then reports the resulting transition. Per-connection
//! events act on that connection; while another live connection exists (a
//! collision, RFC 4271 §6.8), a failure of one that is not Established closes only
//! that one, as if each connection had its own FSM.

mod admin;
mod collision;
mod idle;
mod receive;
mod tcp;
mod timer_events;

use crate::time::Instant;
use crate::wire::codes::{ErrorCode, NotificationCode, fsm_subcode};
use crate::wire::family::FamilySet;

use crate::session::log::{EventRecord, SessionLog, TransitionRecord};
use crate::session::output::{ConnectionCommand, DownReason, Event};
use crate::session::state::{ConnectionId, Direction, FsmEvent};
use crate::session::{NOTIFICATION_DATA_LEN, NotificationData, Phase, Session};

/// What a failure does to ConnectRetryCounter (§8.2.2).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Counter {
    Increment,
    Reset,
    Keep,
}

pub(super) fn cease(subcode: u8) -> NotificationCode {
    NotificationCode::new(ErrorCode::Cease, subcode)
}

pub(super) fn fsm_error(phase: Phase) -> NotificationCode {
    let sub = match phase {
        Phase::OpenSent => fsm_subcode::UNEXPECTED_MESSAGE_IN_OPEN_SENT,
        Phase::OpenConfirm => fsm_subcode::UNEXPECTED_MESSAGE_IN_OPEN_CONFIRM,
        Phase::Established => fsm_subcode::UNEXPECTED_MESSAGE_IN_ESTABLISHED,
        _ => fsm_subcode::UNSPECIFIED,
    };
    NotificationCode::new(ErrorCode::FiniteStateMachine, sub)
}

impl<L: SessionLog> Session<L> {
    pub(super) fn established_slot(&self) -> Option<usize> {
        self.connections
            .iter()
            .position(|c| c.is_some_and(|c| c.is_live() && c.phase == Phase::Established))
    }

    /// Queues a NOTIFICATION on `slot`; the connection stops counting and is
    /// closed once it is sent.
    pub(super) fn queue_notification(
        &mut self,
        slot: usize,
        code: NotificationCode,
        data: NotificationData,
    ) {
        self.timers.stop_connection(slot);
        if let Some(c) = self.connections[slot].as_mut() {
            c.send_keepalive = false;
            c.route_refresh = FamilySet::EMPTY;
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

    pub(super) fn drop_connection(&mut self, slot: usize) {
        if let Some(c) = self.connections[slot].take() {
            self.commands.push(ConnectionCommand::Close(c.id));
        }
        self.timers.stop_connection(slot);
    }

    /// An error on `slot`: its NOTIFICATION (if any) then close. While another
    /// live connection exists and this one was not Established, only this one
    /// ends; else the session goes to Idle.
    pub(super) fn fail(
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
    pub(super) fn stop_all(
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

    // ----- logging -----------------------------------------------------------

    pub(super) fn log_event(&mut self, event: FsmEvent, slot: Option<usize>) {
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
    pub(super) fn observe(&mut self, slot: Option<usize>) {
        let c = slot.and_then(|s| self.connections[s]);
        match c {
            Some(c) => self.observe_with(c.id, c.direction),
            None => self.observe_inner(None, None),
        }
    }

    pub(super) fn observe_with(&mut self, id: ConnectionId, direction: Direction) {
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
