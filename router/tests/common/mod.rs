//! Test fixtures: a peer's view of what it was sent (a table built from the
//! messages), and a network of routers linked in memory, run in virtual time.
#![allow(dead_code)]

use nexthop_router::time::Duration;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use nexthop_router::as_path::AsPath;
use nexthop_router::attributes::{AttrRef, Attributes, NextHop};
use nexthop_router::group::{Content, Message};
use nexthop_router::peer::{PeerConfig, SessionParams};
use nexthop_router::prefix::{IpPrefix, Ipv4Prefix};
use nexthop_router::rib::PeerId;
use nexthop_router::router::{Router, RouterConfig};
use nexthop_router::time::Instant;

pub const T0: Instant = Instant::ZERO;

pub fn v4(s: &str) -> Ipv4Prefix {
    s.parse().unwrap()
}

/// `10.x.y.0/24` for index `i`.
pub fn nth(i: u32) -> Ipv4Prefix {
    Ipv4Prefix::new(Ipv4Addr::from(0x0a00_0000 | (i << 8)), 24).unwrap()
}

pub fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

pub fn attrs(path: &[u32], next_hop: &str) -> Attributes {
    Attributes {
        as_path: AsPath::sequence(path),
        next_hop: Some(NextHop::V4(ip(next_hop))),
        ..Default::default()
    }
}

pub fn peer(addr: &str, asn: u32) -> PeerConfig {
    let mut c = PeerConfig::new(IpAddr::V4(ip(addr)), asn);
    c.mrai = Some(Duration::ZERO);
    c
}

pub fn router(asn: u32, id: &str) -> Router {
    Router::new(RouterConfig::new(asn, ip(id)))
}

/// What a peer holds after applying every message it was sent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Table {
    pub routes: BTreeMap<(IpPrefix, u32), AttrRef>,
    pub end_of_rib: u32,
    pub messages: usize,
}

impl Table {
    pub fn apply(&mut self, m: &Message) {
        assert_eq!(
            m.content.len(),
            m.updates().count(),
            "the tests' routers keep every UPDATE's content"
        );
        for c in &m.content {
            self.messages += 1;
            match c {
                Content::Ipv4(u) => {
                    for (id, p) in &u.withdrawn {
                        self.routes.remove(&(IpPrefix::V4(*p), *id));
                    }
                    for (id, p) in &u.announced {
                        self.routes
                            .insert((IpPrefix::V4(*p), *id), u.attrs.clone().unwrap());
                    }
                }
                Content::Ipv6(u) => {
                    for (id, p) in &u.withdrawn {
                        self.routes.remove(&(IpPrefix::V6(*p), *id));
                    }
                    for (id, p) in &u.announced {
                        self.routes
                            .insert((IpPrefix::V6(*p), *id), u.attrs.clone().unwrap());
                    }
                }
                Content::EndOfRib { .. } => self.end_of_rib += 1,
            }
        }
    }

    pub fn get(&self, p: Ipv4Prefix) -> Option<&AttrRef> {
        self.routes.get(&(IpPrefix::V4(p), 0))
    }

    pub fn paths(&self, p: Ipv4Prefix) -> Vec<&AttrRef> {
        self.routes
            .range((IpPrefix::V4(p), 0)..=(IpPrefix::V4(p), u32::MAX))
            .map(|(_, a)| a)
            .collect()
    }
}

/// Takes every message waiting for `peer`.
pub fn drain(r: &mut Router, peer: PeerId) -> Vec<Arc<Message>> {
    let mut v = Vec::new();
    while let Some(m) = r.poll_transmit(peer) {
        v.push(m);
    }
    v
}

/// Runs the router's timers until nothing is due, then drains `peers` into tables.
pub fn settle(r: &mut Router, now: Instant, peers: &[PeerId], tables: &mut [Table]) {
    while let Some(t) = r.poll_timeout() {
        if t > now {
            break;
        }
        r.handle_timeout(now);
    }
    for (p, t) in peers.iter().zip(tables.iter_mut()) {
        for m in drain(r, *p) {
            t.apply(&m);
        }
    }
}

/// One end of a link: a router and its peer id for the other end.
#[derive(Clone, Copy, Debug)]
pub struct End {
    pub router: usize,
    pub peer: PeerId,
}

/// Routers linked in memory, in virtual time. Messages go over a link in order and
/// arrive at once; [`Net::run`] jumps the clock to the next timer when idle.
pub struct Net {
    pub routers: Vec<Router>,
    pub links: Vec<(End, End)>,
    pub now: Instant,
    pub delivered: u64,
}

impl Net {
    pub fn new() -> Self {
        Net {
            routers: Vec::new(),
            links: Vec::new(),
            now: T0,
            delivered: 0,
        }
    }

    pub fn add(&mut self, r: Router) -> usize {
        self.routers.push(r);
        self.routers.len() - 1
    }

    /// Configures both ends and brings the session up.
    pub fn link(
        &mut self,
        a: usize,
        a_cfg: PeerConfig,
        b: usize,
        b_cfg: PeerConfig,
        params: impl Fn(Ipv4Addr) -> SessionParams,
    ) -> (End, End) {
        let pa = self.routers[a].add_peer(a_cfg);
        let pb = self.routers[b].add_peer(b_cfg);
        let ida = self.routers[a].config().router_id;
        let idb = self.routers[b].config().router_id;
        self.routers[a].handle_session_up(pa, params(idb), self.now);
        self.routers[b].handle_session_up(pb, params(ida), self.now);
        let ends = (
            End {
                router: a,
                peer: pa,
            },
            End {
                router: b,
                peer: pb,
            },
        );
        self.links.push(ends);
        ends
    }

    /// Delivers a message as the wire would: each UPDATE in its bytes, parsed
    /// by core.
    fn apply(&mut self, to: End, m: &Message) {
        let now = self.now;
        for update in m.updates() {
            self.delivered += 1;
            self.routers[to.router]
                .handle_update_bytes(to.peer, update, now)
                .unwrap();
        }
    }

    /// Delivers everything queued and runs due timers; true if anything happened.
    pub fn step(&mut self) -> bool {
        let mut busy = false;
        for r in self.routers.iter_mut() {
            if r.poll_timeout().is_some_and(|t| t <= self.now) {
                r.handle_timeout(self.now);
                busy = true;
            }
        }
        for i in 0..self.links.len() {
            let (a, b) = self.links[i];
            for (from, to) in [(a, b), (b, a)] {
                while let Some(m) = self.routers[from.router].poll_transmit(from.peer) {
                    busy = true;
                    self.apply(to, &m);
                }
            }
        }
        busy
    }

    /// Runs until no message is in flight and no timer is due, jumping the clock.
    pub fn run(&mut self) {
        loop {
            if self.step() {
                continue;
            }
            let next = self.routers.iter().filter_map(|r| r.poll_timeout()).min();
            match next {
                Some(t) if t > self.now => self.now = t,
                Some(_) => continue,
                None => return,
            }
        }
    }
}
