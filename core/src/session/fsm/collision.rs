//! Connection collision detection (RFC 4271 §6.8), with the
//! CollisionDetectEstablishedState option (§8.1.1).

use crate::wire::codes::cease_subcode;

use super::cease;
use crate::session::log::SessionLog;
use crate::session::output::{DownReason, Event};
use crate::session::state::{Direction, FsmEvent};
use crate::session::{NotificationData, Phase, Session};

impl<L: SessionLog> Session<L> {
    /// RFC 4271 §6.8, on an OPEN received on `slot` from a peer with `peer_id`:
    /// if the other connection is in OpenConfirm (or Established, with
    /// CollisionDetectEstablishedState), one of the two is closed with Cease 6/7:
    /// the one we initiated when our BGP Identifier is the lower, else the one the
    /// peer initiated. Without that option, a new connection colliding with an
    /// Established one is the one closed. Returns whether `slot` survives.
    pub(super) fn resolve_collision(&mut self, slot: usize, peer_id: u32) -> bool {
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
        loser != slot
    }
}
