//! Watch events (`GET /v1/watch`): session state changes and best-path changes,
//! collected only while a watcher is connected, into a bounded queue. Overflow
//! drops the newest events and counts them; the count is given once, as a
//! `Lost` event, when the queue has room again.

use std::collections::VecDeque;
use std::net::IpAddr;

use nexthop_control::WatchEvent;
use nexthop_core::session::State;
use nexthop_router::prefix::IpPrefix;
use nexthop_router::prefix::{Ipv4Prefix, Ipv6Prefix};

use crate::Speaker;

/// Events a watcher has not taken yet, at most.
pub(crate) const WATCH_QUEUE_LEN: usize = 65_536;

/// How far back a Down event looks for the state change it explains.
const REASON_LOOKBACK: usize = 8;

#[derive(Debug, Default)]
pub(crate) struct Watch {
    pub on: bool,
    queue: VecDeque<WatchEvent>,
    /// Lost since the last `Lost` event.
    lost: u64,
    /// Lost since the start.
    pub lost_total: u64,
    /// A down reason that came before its state change.
    pending_reason: Option<(IpAddr, String)>,
    capacity: usize,
}

impl Watch {
    fn capacity(&self) -> usize {
        if self.capacity == 0 {
            WATCH_QUEUE_LEN
        } else {
            self.capacity
        }
    }

    pub(crate) fn set(&mut self, on: bool) {
        self.on = on;
        if !on {
            self.queue = VecDeque::new();
            self.lost = 0;
            self.pending_reason = None;
        }
    }

    /// No room for another event (one slot is kept for the `Lost` event).
    fn is_full(&self) -> bool {
        self.queue.len() + 1 >= self.capacity()
    }

    fn lose(&mut self) {
        self.lost += 1;
        self.lost_total += 1;
    }

    fn push(&mut self, event: WatchEvent) {
        if !self.on {
            return;
        }
        if self.is_full() {
            self.lose();
            return;
        }
        self.queue.push_back(event);
    }

    pub(crate) fn pop(&mut self) -> Option<WatchEvent> {
        if self.lost > 0 && self.queue.len() + 1 < self.capacity() {
            let count = std::mem::take(&mut self.lost);
            self.queue.push_back(WatchEvent::Lost {
                time_ms: 0,
                count,
                message: format!(
                    "{count} events lost: the speaker's watch queue ({} events) was full",
                    self.capacity()
                ),
            });
        }
        self.queue.pop_front()
    }

    pub(crate) fn state_changed(&mut self, neighbor: IpAddr, from: State, to: State) {
        let reason = match self.pending_reason.take() {
            Some((a, r)) if a == neighbor && to != State::Established => Some(r),
            other => {
                self.pending_reason = other;
                None
            }
        };
        self.push(WatchEvent::State {
            time_ms: 0,
            neighbor,
            from: from.name().to_string(),
            to: to.name().to_string(),
            reason,
        });
    }

    /// The reason of `neighbor`'s last transition down: put on its state
    /// change, queued just before, or kept for the one that follows.
    pub(crate) fn down_reason(&mut self, neighbor: IpAddr, reason: String) {
        let recent = self.queue.iter_mut().rev().take(REASON_LOOKBACK).find(|e| {
            matches!(e, WatchEvent::State { neighbor: n, to, reason: None, .. }
                if *n == neighbor && to != State::Established.name())
        });
        match recent {
            Some(WatchEvent::State { reason: r, .. }) => *r = Some(reason),
            _ => self.pending_reason = Some((neighbor, reason)),
        }
    }

    pub(crate) fn best_path(&mut self, event: WatchEvent) {
        self.push(event);
    }
}

impl Speaker {
    /// Takes the router's Loc-RIB changes of the last decision batch; while a
    /// watcher is connected, each becomes a `BestPath` event.
    pub(crate) fn take_loc_rib_changes(&mut self) {
        let changes = self.router.take_loc_rib_changes();
        if changes.is_empty() || !self.control.watch.on {
            return;
        }
        // `started` is as good as any instant here: the daemon fills time_ms,
        // and `age_s` of a just-changed prefix is 0 whatever `now` is.
        let now = self.last_now.max(self.started);
        for prefix in changes {
            if self.control.watch.is_full() {
                // Not converted: it would be dropped.
                self.control.watch.lose();
                continue;
            }
            let best = match &prefix {
                IpPrefix::V4(p) => self
                    .router
                    .best::<Ipv4Prefix>(p)
                    .map(|(path, _)| super::routes::route_of(self, now, &prefix, path, true)),
                IpPrefix::V6(p) => self
                    .router
                    .best::<Ipv6Prefix>(p)
                    .map(|(path, _)| super::routes::route_of(self, now, &prefix, path, true)),
            };
            self.control.watch.best_path(WatchEvent::BestPath {
                time_ms: 0,
                prefix: prefix.to_string(),
                best,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, n])
    }

    #[test]
    fn off_collects_nothing() {
        let mut w = Watch::default();
        w.state_changed(a(1), State::Idle, State::Connect);
        assert_eq!(w.pop(), None);
    }

    #[test]
    fn a_full_queue_drops_and_reports_the_loss_once() {
        let mut w = Watch {
            capacity: 4,
            ..Watch::default()
        };
        w.set(true);
        for _ in 0..10 {
            w.state_changed(a(1), State::Idle, State::Connect);
        }
        let mut got = Vec::new();
        while let Some(e) = w.pop() {
            got.push(e);
        }
        // Three kept (one slot for the report), seven lost, reported once.
        assert_eq!(got.len(), 4, "{got:?}");
        match &got[3] {
            WatchEvent::Lost { count, .. } => assert_eq!(*count, 7),
            other => panic!("expected Lost, got {other:?}"),
        }
        assert_eq!(w.lost_total, 7);
        w.state_changed(a(1), State::Connect, State::Idle);
        assert!(matches!(w.pop(), Some(WatchEvent::State { .. })));
        assert_eq!(w.pop(), None);
    }

    #[test]
    fn the_down_reason_lands_on_its_state_change_in_either_order() {
        let mut w = Watch::default();
        w.set(true);
        w.state_changed(a(1), State::Established, State::Idle);
        w.down_reason(a(1), "hold timer expired".into());
        w.down_reason(a(2), "connection reset by peer".into());
        w.state_changed(a(2), State::Established, State::Idle);
        for n in [1, 2] {
            match w.pop() {
                Some(WatchEvent::State {
                    neighbor, reason, ..
                }) => {
                    assert_eq!(neighbor, a(n));
                    assert!(reason.is_some());
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
