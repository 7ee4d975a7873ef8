//! Moving a session's output where it goes after each input: its messages to
//! the connection queues, its socket commands to the runtime, its events
//! (Established, Down, ROUTE-REFRESH) to the router; and its next deadline onto
//! the timer wheel.

use std::collections::VecDeque;
use std::net::SocketAddr;

use nexthop_core::session::{ConnectionCommand, Event};
use nexthop_core::wire::header::MessageType;
use nexthop_core::wire::route_refresh::RouteRefreshSubtype;
use nexthop_router::peer::SessionParams;

use crate::{Armed, Command, Conn, ConnKey, Instant, Speaker, close_conn};

impl Speaker {
    /// Moves peer `i`'s session output where it goes: messages to connection
    /// queues, commands to the runtime, events to the router; then re-arms its
    /// deadline. A dynamic peer left without connections is forgotten.
    pub(crate) fn drive(&mut self, i: usize, now: Instant) {
        self.last_now = now;
        let Some(p) = self.peers[i].as_mut() else {
            return;
        };
        while let Some(t) = p.session.poll_transmit(now, &mut self.buf) {
            let Some(&(_, key)) = p.conns.iter().find(|(c, _)| *c == t.connection) else {
                continue;
            };
            let Some(c) = self.conns.get_mut(&key) else {
                continue;
            };
            // A KEEPALIVE behind another unsent one adds nothing (a peer that
            // does not read must not grow the queue).
            if t.message_type == MessageType::Keepalive
                && c.queue
                    .back()
                    .is_some_and(|(queued, _)| *queued == MessageType::Keepalive)
            {
                continue;
            }
            p.stats.count_sent(&self.buf[..t.len]);
            c.queue
                .push_back((t.message_type, self.buf[..t.len].to_vec()));
            if self.reported.insert(key) {
                self.ready.push_back(key);
            }
        }
        while let Some(cmd) = p.session.poll_connection_command() {
            match cmd {
                ConnectionCommand::Connect(id) => {
                    let key = ConnKey(self.next_key);
                    self.next_key = self.next_key.wrapping_add(1).max(1);
                    let remote = SocketAddr::new(p.spec.address, p.spec.port);
                    p.conns.push((id, key));
                    self.conns.insert(
                        key,
                        Conn {
                            peer: i,
                            id,
                            local: None,
                            remote,
                            queue: VecDeque::new(),
                            closing: false,
                        },
                    );
                    self.commands.push_back(Command::Connect {
                        conn: key,
                        remote,
                        bind: p.spec.bind,
                        md5_key: p.spec.md5_key.clone(),
                        min_ttl: p.spec.min_ttl,
                        timeout: p.spec.connect_timeout,
                    });
                }
                ConnectionCommand::Close(id) => {
                    let Some(j) = p.conns.iter().position(|(c, _)| *c == id) else {
                        continue;
                    };
                    let (_, key) = p.conns.swap_remove(j);
                    close_conn(&mut self.conns, &mut self.reported, &mut self.commands, key);
                }
            }
        }
        while let Some(ev) = p.session.poll_event() {
            match ev {
                Event::Established { connection, info } => {
                    let Some(&(_, key)) = p.conns.iter().find(|(c, _)| *c == connection) else {
                        continue;
                    };
                    let mut params = SessionParams::from(&info);
                    params.local_address = self
                        .conns
                        .get(&key)
                        .and_then(|c| c.local)
                        .map(|a| a.ip().to_canonical());
                    if self.router.session(p.router_peer).is_some() {
                        self.router.handle_session_down(p.router_peer, now);
                    }
                    tracing::info!(
                        neighbor = %p.spec.address,
                        peer_asn = info.peer_asn,
                        hold_time = info.hold_time,
                        conn = %key,
                        "session established"
                    );
                    self.router.handle_session_up(p.router_peer, params, now);
                    p.established = Some(key);
                    p.stats.established(now);
                }
                Event::Down {
                    reason,
                    was_established,
                } => {
                    p.established = None;
                    p.stats.down(now, reason, was_established);
                    if self.control.watching()
                        && let Some(e) = p.stats.last_error.as_ref()
                    {
                        self.control.down_reason(p.spec.address, e.text.clone());
                    }
                    if self.router.session(p.router_peer).is_some() {
                        self.router.handle_session_down(p.router_peer, now);
                    }
                    if was_established {
                        tracing::info!(neighbor = %p.spec.address, ?reason, "session down");
                    } else {
                        tracing::debug!(neighbor = %p.spec.address, ?reason, "connection attempt ended");
                    }
                }
                Event::RouteRefreshRequested { family, subtype } => {
                    if matches!(subtype, RouteRefreshSubtype::Normal) && p.established.is_some() {
                        tracing::info!(neighbor = %p.spec.address, ?family, "route refresh requested");
                        self.router.handle_route_refresh(p.router_peer, now);
                    }
                }
                Event::StateChanged { from, to } => {
                    self.control.state_changed(p.spec.address, from, to);
                }
            }
        }
        // The router names the peers it gave output to (this one, on
        // Established or a route refresh).
        self.take_router_output();
        let Some(p) = self.peers[i].as_ref() else {
            return;
        };
        let forget = p.dynamic && p.conns.is_empty();
        if forget {
            self.free_peer(i, now);
        } else {
            self.rearm(i);
        }
    }

    /// Puts peer `i`'s next deadline on the wheel (or the overflow set).
    pub(crate) fn rearm(&mut self, i: usize) {
        let Some(p) = self.peers[i].as_mut() else {
            return;
        };
        let want = p.session.poll_timeout();
        if p.timer.map(Armed::at) == want {
            return;
        }
        match p.timer.take() {
            Some(Armed::Wheel(h, _)) => {
                self.wheel.cancel(h);
            }
            Some(Armed::Overflow(t)) => {
                self.overflow.remove(&(t, i));
            }
            None => {}
        }
        if let Some(t) = want {
            p.timer = Some(match self.wheel.arm(t, i as u32) {
                Ok(h) => Armed::Wheel(h, t),
                Err(_) => {
                    self.overflow.insert((t, i));
                    Armed::Overflow(t)
                }
            });
        }
    }
}
