//! A small in-memory virtual network of speakers: no sockets, byte pipes between
//! them, a virtual clock that jumps to the next `poll_timeout`. Each node plays
//! the runtime: it carries out Connect and Close, keeps a bounded output buffer
//! per connection (so backpressure is real), reads what arrives, and records
//! every message it hands to the wire.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use nexthop_core::session::State;
use nexthop_router::prefix::Ipv4Prefix;
use nexthop_router::rib::Path;
use nexthop_speaker::config::Config;
use nexthop_speaker::config::file::{ConfigFile, Neighbor, Originate};
use nexthop_speaker::{Closed, Command, ConnKey, Duration, Instant, Speaker, Transmit};

/// The runtime's output buffer bound per connection.
pub const OUTPUT_BOUND: usize = 64 * 1024;

/// A message a node's runtime wrote.
#[derive(Clone, Debug)]
pub struct Sent {
    pub at: Instant,
    pub conn: ConnKey,
    pub to: Option<IpAddr>,
    pub bytes: Vec<u8>,
    pub shared: bool,
}

impl Sent {
    pub fn message_type(&self) -> u8 {
        self.bytes[18]
    }
    /// NOTIFICATION code and subcode.
    pub fn notification(&self) -> Option<(u8, u8)> {
        (self.message_type() == 3).then(|| (self.bytes[19], self.bytes[20]))
    }
}

pub struct Node {
    pub addr: IpAddr,
    pub speaker: Speaker,
    pub alive: bool,
    /// Whether the runtime reads its sockets (a stalled node does not).
    pub reading: bool,
    pub sent: Vec<Sent>,
    /// Connections the speaker closed or lost, and messages it handed out on
    /// them afterwards, past the last ones taken at the `Close` (must stay
    /// empty).
    pub dead: BTreeSet<ConnKey>,
    pub sent_on_dead: Vec<Sent>,
    /// Accepted connections the speaker refused.
    pub refused: usize,
    out: HashMap<ConnKey, Vec<u8>>,
    inbuf: HashMap<ConnKey, Vec<u8>>,
    ready: BTreeSet<ConnKey>,
    eof: BTreeSet<ConnKey>,
    /// Peak bytes in any one output buffer.
    pub peak_out: usize,
}

impl Node {
    pub fn state_of(&self, peer: IpAddr) -> Option<State> {
        self.speaker.session_state(peer)
    }

    /// Best IPv4 path to `prefix`.
    pub fn best(&self, prefix: &str) -> Option<&Path> {
        let p: Ipv4Prefix = prefix.parse().unwrap();
        self.speaker.router().best(&p).map(|(p, _)| p)
    }

    pub fn notifications(&self) -> Vec<(u8, u8)> {
        self.sent.iter().filter_map(Sent::notification).collect()
    }

    /// Messages written to `peer`.
    pub fn sent_to(&self, peer: IpAddr) -> impl Iterator<Item = &Sent> {
        self.sent.iter().filter(move |s| s.to == Some(peer))
    }

    /// Bytes buffered by this node's runtime for `conn`.
    pub fn buffered(&self, conn: ConnKey) -> usize {
        self.out.get(&conn).map_or(0, Vec::len)
    }
}

/// What nexthopd would make of `file`; a config the parser refuses fails the
/// test with its error and the text.
pub fn validated(file: &ConfigFile) -> Config {
    file.config()
        .unwrap_or_else(|e| panic!("{e}\n{}", file.to_toml()))
}

pub struct Net {
    pub now: Instant,
    pub nodes: Vec<Node>,
    /// (node, conn) -> (node, conn) at the other end.
    links: BTreeMap<(usize, ConnKey), (usize, ConnKey)>,
    next_port: u16,
}

/// `10.0.x.y` for node `i`.
pub fn addr(i: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, (i / 250) as u8, (i % 250 + 1) as u8))
}

impl Net {
    pub fn new() -> Self {
        Net {
            now: Instant::from_secs(1_000),
            nodes: Vec::new(),
            links: BTreeMap::new(),
            next_port: 40_000,
        }
    }

    /// Adds a node at `addr` with `config`; returns its index.
    pub fn add(&mut self, addr: IpAddr, config: &ConfigFile) -> usize {
        let config = validated(config);
        self.nodes.push(Node {
            addr,
            speaker: Speaker::new(config, self.now),
            alive: true,
            reading: true,
            sent: Vec::new(),
            dead: BTreeSet::new(),
            sent_on_dead: Vec::new(),
            refused: 0,
            out: HashMap::new(),
            inbuf: HashMap::new(),
            ready: BTreeSet::new(),
            eof: BTreeSet::new(),
            peak_out: 0,
        });
        self.nodes.len() - 1
    }

    pub fn index_of(&self, addr: IpAddr) -> Option<usize> {
        self.nodes.iter().position(|n| n.addr == addr && n.alive)
    }

    /// The node's process dies: every connection of it is closed at once and
    /// the other ends see a read of zero bytes now.
    pub fn kill(&mut self, i: usize) {
        let now = self.now;
        self.nodes[i].alive = false;
        let mine: Vec<_> = self
            .links
            .keys()
            .filter(|(n, _)| *n == i)
            .copied()
            .collect();
        for k in mine {
            if let Some((j, kj)) = self.links.remove(&k) {
                self.links.remove(&(j, kj));
                self.nodes[j].dead.insert(kj);
                self.nodes[j].out.remove(&kj);
                self.nodes[j].inbuf.remove(&kj);
                self.nodes[j].ready.remove(&kj);
                self.nodes[j]
                    .speaker
                    .handle_closed(now, kj, Closed::PeerClosed);
            }
        }
    }

    /// The node starts again with `config` (fresh state).
    pub fn restart(&mut self, i: usize, config: &ConfigFile) {
        let config = validated(config);
        let n = &mut self.nodes[i];
        n.speaker = Speaker::new(config, self.now);
        n.alive = true;
        n.out.clear();
        n.inbuf.clear();
        n.ready.clear();
        n.eof.clear();
    }

    /// Moves everything that can move at the current instant.
    pub fn drive(&mut self) {
        for _ in 0..100_000 {
            if !self.turn() {
                return;
            }
        }
        panic!("the network does not settle");
    }

    fn turn(&mut self) -> bool {
        let now = self.now;
        let mut progress = false;
        let addrs: Vec<IpAddr> = self.nodes.iter().map(|n| n.addr).collect();
        for i in 0..self.nodes.len() {
            if !self.nodes[i].alive {
                continue;
            }
            while let Some(cmd) = self.nodes[i].speaker.poll_command() {
                progress = true;
                self.command(i, cmd);
            }
            let n = &mut self.nodes[i];
            while let Some(k) = n.speaker.poll_ready() {
                n.ready.insert(k);
            }
            for k in n.ready.clone() {
                loop {
                    if n.out.get(&k).map_or(0, Vec::len) >= OUTPUT_BOUND {
                        break;
                    }
                    match n.speaker.poll_transmit(now, k) {
                        Some(t) => {
                            progress = true;
                            let to = self.links.get(&(i, k)).map(|&(j, _)| addrs[j]);
                            let sent = Sent {
                                at: now,
                                conn: k,
                                to,
                                bytes: t.as_ref().to_vec(),
                                shared: matches!(t, Transmit::Shared(_)),
                            };
                            if n.dead.contains(&k) {
                                n.sent_on_dead.push(sent.clone());
                            }
                            let o = n.out.entry(k).or_default();
                            o.extend_from_slice(t.as_ref());
                            n.peak_out = n.peak_out.max(o.len());
                            n.sent.push(sent);
                        }
                        None => {
                            n.ready.remove(&k);
                            break;
                        }
                    }
                }
            }
        }
        // Wires: output buffers to the other end's input, then reads.
        let links: Vec<_> = self.links.iter().map(|(a, b)| (*a, *b)).collect();
        for ((i, ki), (j, kj)) in links {
            if !self.nodes[j].reading {
                continue;
            }
            let Some(bytes) = self.nodes[i].out.get_mut(&ki).filter(|b| !b.is_empty()) else {
                continue;
            };
            let bytes = std::mem::take(bytes);
            self.nodes[j].inbuf.entry(kj).or_default().extend(bytes);
            // The writer's buffer drained: it polls again.
            self.nodes[i].ready.insert(ki);
            progress = true;
        }
        for j in 0..self.nodes.len() {
            if !self.nodes[j].alive || !self.nodes[j].reading {
                continue;
            }
            let keys: Vec<_> = self.nodes[j]
                .inbuf
                .iter()
                .filter(|(_, b)| !b.is_empty())
                .map(|(k, _)| *k)
                .collect();
            for k in keys {
                let n = &mut self.nodes[j];
                let buf = n.inbuf.remove(&k).unwrap_or_default();
                let used = n.speaker.handle_read(now, k, &buf);
                if used > 0 {
                    progress = true;
                }
                if used < buf.len() {
                    n.inbuf.insert(k, buf[used..].to_vec());
                }
            }
            let eofs: Vec<_> = std::mem::take(&mut self.nodes[j].eof).into_iter().collect();
            for k in eofs {
                progress = true;
                let n = &mut self.nodes[j];
                n.inbuf.remove(&k);
                n.out.remove(&k);
                n.ready.remove(&k);
                n.dead.insert(k);
                n.speaker.handle_closed(now, k, Closed::PeerClosed);
            }
        }
        progress
    }

    fn command(&mut self, i: usize, cmd: Command) {
        let now = self.now;
        match cmd {
            Command::Connect { conn, remote, .. } => {
                let me = self.nodes[i].addr;
                let port = self.next_port;
                self.next_port = self.next_port.wrapping_add(1).max(1024);
                let local = SocketAddr::new(me, port);
                let Some(j) = self.index_of(remote.ip()) else {
                    self.nodes[i].speaker.handle_connect_failed(now, conn);
                    return;
                };
                match self.nodes[j].speaker.handle_accepted(now, remote, local) {
                    Some(kj) => {
                        self.links.insert((i, conn), (j, kj));
                        self.links.insert((j, kj), (i, conn));
                        self.nodes[i].speaker.handle_connected(now, conn, local);
                    }
                    None => {
                        self.nodes[j].refused += 1;
                        self.nodes[i].speaker.handle_connected(now, conn, local);
                        self.nodes[i].eof.insert(conn);
                    }
                }
            }
            Command::Close { conn } => {
                // The session's last messages (a NOTIFICATION) are taken after
                // the Close, whatever the output bound, then written.
                let to = self.links.get(&(i, conn)).map(|&(j, _)| self.nodes[j].addr);
                let n = &mut self.nodes[i];
                while let Some(t) = n.speaker.poll_transmit(now, conn) {
                    let o = n.out.entry(conn).or_default();
                    o.extend_from_slice(t.as_ref());
                    n.peak_out = n.peak_out.max(o.len());
                    n.sent.push(Sent {
                        at: now,
                        conn,
                        to,
                        bytes: t.as_ref().to_vec(),
                        shared: matches!(t, Transmit::Shared(_)),
                    });
                }
                n.dead.insert(conn);
                n.ready.remove(&conn);
                n.inbuf.remove(&conn);
                let rest = n.out.remove(&conn).unwrap_or_default();
                if let Some((j, kj)) = self.links.remove(&(i, conn)) {
                    self.links.remove(&(j, kj));
                    let o = &mut self.nodes[j];
                    o.inbuf.entry(kj).or_default().extend(rest);
                    o.eof.insert(kj);
                }
            }
        }
    }

    /// Jumps the clock to the next deadline of any node and runs it. `false`
    /// when no node has one before `limit`.
    pub fn step(&mut self, limit: Instant) -> bool {
        self.drive();
        let next = self
            .nodes
            .iter()
            .filter(|n| n.alive)
            .filter_map(|n| n.speaker.poll_timeout())
            .min();
        let Some(t) = next.filter(|&t| t <= limit) else {
            return false;
        };
        self.now = self.now.max(t);
        let now = self.now;
        for n in self.nodes.iter_mut().filter(|n| n.alive) {
            if n.speaker.poll_timeout().is_some_and(|t| t <= now) {
                n.speaker.handle_timeout(now);
            }
        }
        self.drive();
        true
    }

    /// Steps until `cond` holds; `false` if `within` passes first.
    pub fn run_until(&mut self, within: Duration, mut cond: impl FnMut(&Net) -> bool) -> bool {
        let limit = self.now.saturating_add(within);
        self.drive();
        loop {
            if cond(self) {
                return true;
            }
            if !self.step(limit) {
                self.now = self.now.max(limit);
                return cond(self);
            }
        }
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let limit = self.now.saturating_add(d);
        while self.step(limit) {}
        self.now = self.now.max(limit);
    }

    pub fn established(&self, i: usize, peer: IpAddr) -> bool {
        self.nodes[i].state_of(peer) == Some(State::Established)
    }
}

/// A config: `[router]` with AS `asn` and BGP Identifier `router_id` (an
/// IPv4 node address); neighbours and routes are added with the builder.
pub fn config(asn: u32, router_id: IpAddr) -> ConfigFile {
    let IpAddr::V4(id) = router_id else {
        panic!("{router_id}: a BGP Identifier is an IPv4 address");
    };
    ConfigFile::new(asn, id)
}

/// A `[[neighbor]]` with short timers (hold 9 s) and no jitter.
pub fn neighbor(address: IpAddr, remote_asn: u32) -> Neighbor {
    neighbor_hold(address, remote_asn, 9)
}

/// A `[[neighbor]]` with hold time `hold` (keepalive a third), ConnectRetry
/// 2 s, no jitter and MRAI 0.
pub fn neighbor_hold(address: IpAddr, remote_asn: u32, hold: u16) -> Neighbor {
    Neighbor::new(address, remote_asn)
        .hold_time(hold)
        .keepalive_time(hold / 3)
        .connect_retry_time(2)
        .jitter(false)
        .mrai(0)
}

/// An `[[originate]]` of `prefix`.
pub fn originate(prefix: &str) -> Originate {
    Originate::new(prefix.parse().unwrap_or_else(|e| panic!("{prefix}: {e}")))
}
