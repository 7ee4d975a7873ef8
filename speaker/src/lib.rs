//! nexthop-speaker: the whole BGP speaker, sans-IO.
//!
//! A [`Speaker`] holds one core [`Session`] per configured (or dynamic) neighbour
//! (RFC 4271 §8), the [`Router`] (RFC 4271 §9: RIBs, decision, update groups), the
//! mapping between the runtime's connections and the sessions, every session's
//! next deadline on core's [`TimerWheel`], and the [`config::Config`]. It owns no
//! socket and reads no clock: a runtime (runtime-mio, runtime-uring, a test's
//! virtual network) owns sockets, buffers and time, and drives it:
//!
//! - inputs, each carrying `now`: [`Speaker::handle_accepted`],
//!   [`Speaker::handle_connected`], [`Speaker::handle_connect_failed`],
//!   [`Speaker::handle_read`], [`Speaker::handle_closed`],
//!   [`Speaker::handle_timeout`], [`Speaker::handle_shutdown`],
//!   [`Speaker::handle_reload`];
//! - outputs, drained after every input: [`Speaker::poll_command`] until `None`,
//!   [`Speaker::poll_ready`] until `None` (and [`Speaker::poll_transmit`] on each
//!   connection it names, while the runtime's output buffer for it is under its
//!   bound), repeated until all three give nothing; then
//!   [`Speaker::poll_timeout`]. The [`SansIo`] trait (of nexthop-runtime-edge,
//!   re-exported here with its types) is this contract, for runtimes generic
//!   over what they drive.
//!
//! The control interface (issue 13): [`Speaker`] implements
//! [`nexthop_control::Backend`], called at turn boundaries: status, neighbours
//! with their counters (messages and bytes by type each way, NOTIFICATIONs by
//! code, flaps, the last error in words), route views, the operator's actions
//! (disable with Cease 6/2 and an RFC 9003 message, kept across reloads;
//! enable; reset with 6/4 or soft; refresh; RFC 8326 graceful shutdown, whose
//! Cease comes from a deadline in [`Speaker::poll_timeout`]), watch events
//! (collected only while watched, in a bounded queue) and the metrics
//! snapshot. Call the trait's methods as `Backend::neighbors(&speaker, now)`:
//! [`Speaker::neighbors`] is an older inherent list of (address, state).
//!
//! What a runtime must know:
//! - A `Close` command comes as soon as the session lets go of a connection.
//!   Then take what `poll_transmit` still gives for it (the session's last
//!   messages, such as a NOTIFICATION: a few hundred bytes), whatever the output
//!   bound, write everything handed out, send FIN and wait for the peer's FIN
//!   up to the runtime's linger. The runtime is the one layer that lingers: the
//!   speaker keeps no timer for a closing connection and forgets it once its
//!   last messages are handed out. Loop over the outputs until none of them
//!   gives anything.
//! - A connection named by `poll_ready` stays the runtime's to poll until
//!   `poll_transmit` on it returns `None`: when its output buffer is full, stop,
//!   and call `poll_transmit` again when the socket drains (writable).
//! - Each [`Transmit`] is one whole BGP message; a `Shared` one is the same
//!   allocation for every member of an update group: write its bytes, drop it.
//! - `handle_accepted` and `handle_connected` take the socket's real local
//!   address (`getsockname`, not the listen address): it is the next hop "self"
//!   for peers with no `bind_addr`. IPv4-mapped IPv6 addresses (a listener on
//!   `[::]`) are matched as IPv4.
//! - A read of zero bytes, a reset or a failed write is `handle_closed` at once,
//!   in the same loop turn; a failed or timed-out connect is
//!   `handle_connect_failed`. A `Close` can name a connection whose connect is
//!   still in progress: abort it. Reports on keys the speaker forgot are ignored.
//! - `handle_read` consumes whole messages only; keep the rest and pass it again
//!   with what follows.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
mod control;
mod drive;
mod log;
mod neighbor;
mod reload;
mod sans_io;

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use nexthop_core::session::{ConnectionError, ConnectionId, Session, State, TRANSMIT_BUFFER_LEN};
use nexthop_core::timer_wheel::{TimerHandle, TimerWheel};
use nexthop_core::wire::codes::cease_subcode;
use nexthop_core::wire::header::MessageType;
use nexthop_router::peer::PeerConfig;
use nexthop_router::prefix::IpPrefix;
use nexthop_router::rib::PeerId;
use nexthop_router::router::{ImportError, Router, UpdateError};

pub use log::TracingLog;
pub use nexthop_core::time::{Duration, Instant};
pub use nexthop_runtime_edge::{
    Closed, Command, ConnKey, ConnKeyHash, ConnKeyHasher, PeerSocketRule, PeerSocketRules, SansIo,
};
pub use sans_io::peer_socket_rules;

use config::Config;
use neighbor::PeerSpec;

/// Bytes to write: one whole BGP message, owned (the session's OPEN, KEEPALIVE,
/// NOTIFICATION, ...), or one or more whole UPDATEs back to back, shared by every
/// member of an update group (the same allocation handed to each member: encoded
/// once, sent many times).
#[derive(Clone, Debug)]
pub enum Transmit {
    /// A message of the session.
    Owned(Vec<u8>),
    /// UPDATEs from the router.
    Shared(Arc<nexthop_router::group::Message>),
}

impl AsRef<[u8]> for Transmit {
    fn as_ref(&self) -> &[u8] {
        match self {
            Transmit::Owned(v) => v,
            Transmit::Shared(m) => &m.bytes,
        }
    }
}

/// What [`Speaker::handle_reload`] did to the `[[neighbor]]`s.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReloadSummary {
    /// New neighbours, started.
    pub added: usize,
    /// Neighbours no longer configured, stopped with Cease 6/3.
    pub removed: usize,
    /// Neighbours whose configuration changed, reset with Cease 6/6.
    pub changed: usize,
    /// Neighbours left as they were, sessions untouched.
    pub unchanged: usize,
    /// `[control]` changed: the control API's sockets are the daemon's, bound
    /// at start; the change takes effect at the next start (say so).
    pub control_changed: bool,
}

type Wheel = TimerWheel<u32, 1024, 4096>;

/// Where a session's next deadline is armed.
#[derive(Clone, Copy, Debug)]
enum Armed {
    Wheel(TimerHandle, Instant),
    /// The wheel was full: kept in the overflow set.
    Overflow(Instant),
}

impl Armed {
    fn at(self) -> Instant {
        match self {
            Armed::Wheel(_, t) | Armed::Overflow(t) => t,
        }
    }
}

struct Peer {
    spec: PeerSpec,
    dynamic: bool,
    session: Session<TracingLog>,
    router_peer: PeerId,
    /// The session's connections and their keys.
    conns: Vec<(ConnectionId, ConnKey)>,
    /// The connection the session is Established on (the router's output goes
    /// there).
    established: Option<ConnKey>,
    timer: Option<Armed>,
    /// What an operator reads of it (`nexthopctl show neighbor`).
    stats: control::stats::NeighborStats,
}

struct Conn {
    peer: usize,
    id: ConnectionId,
    local: Option<SocketAddr>,
    remote: SocketAddr,
    /// Session messages not yet handed out, with their type.
    queue: VecDeque<(MessageType, Vec<u8>)>,
    /// The session let go of it and `Close` was issued: once `queue` is handed
    /// out the entry is dropped. A closing connection no longer refers to its
    /// peer.
    closing: bool,
}

/// The sans-IO BGP speaker. See the [crate docs](crate).
pub struct Speaker {
    config: Config,
    router: Router,
    peers: Vec<Option<Peer>>,
    free_slots: Vec<usize>,
    by_addr: HashMap<IpAddr, usize>,
    /// Router peers not in use, kept for a neighbour with the same config.
    idle_router_peers: Vec<(PeerConfig, PeerId)>,
    /// The peer slot of each router peer in use, indexed by `PeerId`.
    by_router_peer: Vec<Option<usize>>,
    conns: HashMap<ConnKey, Conn, ConnKeyHasher>,
    next_key: u32,
    wheel: Box<Wheel>,
    overflow: BTreeSet<(Instant, usize)>,
    commands: VecDeque<Command>,
    ready: VecDeque<ConnKey>,
    reported: HashSet<ConnKey, ConnKeyHasher>,
    shutting_down: bool,
    buf: Box<[u8]>,
    /// When the speaker started (for `uptime_s`, and the downtime of a
    /// neighbour never Established).
    started: Instant,
    /// The latest `now` the speaker was given.
    last_now: Instant,
    /// The operator's state: disabled neighbours, graceful shutdowns, watch
    /// events.
    control: control::ControlState,
}

impl std::fmt::Debug for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speaker")
            .field("asn", &self.config.router.asn)
            .field("router_id", &self.config.router.router_id)
            .field("peers", &self.by_addr.len())
            .field("connections", &self.conns.len())
            .field("shutting_down", &self.shutting_down)
            .finish()
    }
}

impl Speaker {
    /// A speaker for `config`; sessions of configured neighbours start (passive
    /// ones wait for the peer), and the first Connect commands come from
    /// [`Speaker::poll_command`].
    pub fn new(config: Config, now: Instant) -> Speaker {
        let router = Router::new(neighbor::router_config(&config.router));
        let mut s = Speaker {
            config,
            router,
            peers: Vec::new(),
            free_slots: Vec::new(),
            by_addr: HashMap::new(),
            idle_router_peers: Vec::new(),
            by_router_peer: Vec::new(),
            conns: HashMap::default(),
            next_key: 1,
            wheel: Box::new(Wheel::new(Duration::from_millis(10))),
            overflow: BTreeSet::new(),
            commands: VecDeque::new(),
            ready: VecDeque::new(),
            reported: HashSet::default(),
            shutting_down: false,
            buf: vec![0; TRANSMIT_BUFFER_LEN].into_boxed_slice(),
            started: now,
            last_now: now,
            control: control::ControlState::default(),
        };
        let neighbors = s.config.neighbors.clone();
        for n in &neighbors {
            let spec = neighbor::static_peer(&s.config.router, n);
            let i = s.add_peer(spec, false);
            s.start(i, now);
        }
        let originate = s.config.originate.clone();
        for o in &originate {
            s.originate(o, now);
        }
        s
    }

    // ----- getters --------------------------------------------------------

    /// Where to listen (from `[router] listen`).
    pub fn listen_addresses(&self) -> Vec<SocketAddr> {
        self.config.router.listen.clone()
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The router (RIBs, update groups, counters), for inspection.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The session state of the neighbour at `address`, configured or dynamic.
    pub fn session_state(&self, address: IpAddr) -> Option<State> {
        self.peer_at(address).map(|p| p.session.state())
    }

    /// The router's id for the neighbour at `address`.
    pub fn router_peer(&self, address: IpAddr) -> Option<PeerId> {
        self.peer_at(address).map(|p| p.router_peer)
    }

    /// Neighbours with state (configured, and dynamic ones with a session).
    pub fn neighbors(&self) -> Vec<(IpAddr, State)> {
        let mut v: Vec<_> = self
            .peers
            .iter()
            .flatten()
            .map(|p| (p.spec.address, p.session.state()))
            .collect();
        v.sort();
        v
    }

    /// Connections the speaker knows (including closing ones with bytes left).
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Bytes of session messages waiting on `conn` (the router's UPDATEs are
    /// counted by [`Router::pending_output`]).
    pub fn queued_bytes(&self, conn: ConnKey) -> usize {
        self.conns
            .get(&conn)
            .map_or(0, |c| c.queue.iter().map(|(_, m)| m.len()).sum())
    }

    fn peer_at(&self, address: IpAddr) -> Option<&Peer> {
        let i = *self.by_addr.get(&address.to_canonical())?;
        self.peers.get(i)?.as_ref()
    }

    // ----- inputs ---------------------------------------------------------

    /// A connection was accepted from `remote` on `local`. `None`: no neighbour
    /// or dynamic range matches (or the session refuses it, or the speaker is
    /// shutting down): the runtime closes the socket at once and keeps no state
    /// for it; neither does the speaker.
    pub fn handle_accepted(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<ConnKey> {
        if self.shutting_down {
            return None;
        }
        let ip = remote.ip().to_canonical();
        if self.control.is_disabled(ip) {
            tracing::info!(neighbor = %ip, "connection refused: neighbour disabled by the operator");
            return None;
        }
        let (i, created) = match self.by_addr.get(&ip) {
            Some(&i) => (i, false),
            None => {
                let d = neighbor::dynamic_neighbor_for(&self.config, ip)?;
                let spec = neighbor::dynamic_peer(&self.config.router, d, ip);
                let i = self.add_peer(spec, true);
                if let Some(p) = self.peers[i].as_mut() {
                    p.session.handle_manual_start(now);
                }
                (i, true)
            }
        };
        let p = self.peers[i].as_mut()?;
        let Some(id) = p.session.handle_accepted(now) else {
            tracing::info!(neighbor = %ip, state = %p.session.state(), "connection refused by the session");
            if created {
                self.free_peer(i, now);
            } else {
                self.drive(i, now);
            }
            return None;
        };
        let key = ConnKey(self.next_key);
        self.next_key = self.next_key.wrapping_add(1).max(1);
        p.conns.push((id, key));
        self.conns.insert(
            key,
            Conn {
                peer: i,
                id,
                local: Some(local),
                remote,
                queue: VecDeque::new(),
                closing: false,
            },
        );
        tracing::debug!(neighbor = %ip, conn = %key, connection_id = id.0, "accepted");
        self.drive(i, now);
        Some(key)
    }

    /// An outbound connect of `Command::Connect { conn, .. }` completed, from
    /// `local`.
    pub fn handle_connected(&mut self, now: Instant, conn: ConnKey, local: SocketAddr) {
        let Some(c) = self.conns.get_mut(&conn).filter(|c| !c.closing) else {
            return;
        };
        c.local = Some(local);
        let (i, id) = (c.peer, c.id);
        if let Some(p) = self.peers[i].as_mut() {
            p.session.handle_connected(now, id);
            self.drive(i, now);
        }
    }

    /// The outbound connect of `conn` failed (refused, unreachable, timed out).
    pub fn handle_connect_failed(&mut self, now: Instant, conn: ConnKey) {
        self.lose(now, conn, ConnectionError::ConnectFailed);
    }

    /// Bytes arrived on `conn`. Returns how many were consumed (whole messages);
    /// the runtime keeps the rest and passes it again, with more, next time.
    /// Each UPDATE goes to the router as it is framed.
    pub fn handle_read(&mut self, now: Instant, conn: ConnKey, bytes: &[u8]) -> usize {
        let Some(c) = self.conns.get(&conn) else {
            return bytes.len();
        };
        if c.closing {
            return bytes.len();
        }
        let (i, id) = (c.peer, c.id);
        let mut consumed = 0;
        loop {
            let Some(p) = self.peers[i].as_mut() else {
                return bytes.len();
            };
            let rest = &bytes[consumed..];
            let read = p.session.handle_read(now, id, rest);
            p.stats.count_received(&rest[..read.consumed]);
            consumed += read.consumed;
            if let Some(update) = read.update {
                // Events before the UPDATE (Established, on the same read) go to
                // the router first.
                self.drive(i, now);
                let Some(p) = self.peers[i].as_mut() else {
                    return bytes.len();
                };
                let rp = p.router_peer;
                match self.router.handle_update_bytes(rp, update, now) {
                    Ok(()) => {}
                    Err(UpdateError::Decode(e)) => {
                        tracing::warn!(neighbor = %p.spec.address, error = %e, "malformed UPDATE");
                        p.session.handle_update_error(now, &e, update);
                    }
                    Err(UpdateError::Import(ImportError::MaxPrefix {
                        limit,
                        count,
                        family,
                    })) => {
                        tracing::warn!(neighbor = %p.spec.address, limit, count, "maximum prefixes reached");
                        p.session.handle_max_prefix_exceeded(now, family, limit);
                    }
                    Err(UpdateError::Import(e)) => {
                        tracing::debug!(neighbor = %p.spec.address, error = %e, "UPDATE not taken");
                    }
                }
            }
            self.drive(i, now);
            if read.consumed == 0 || consumed >= bytes.len() {
                break;
            }
            // The session may have closed the connection meanwhile.
            if self.conns.get(&conn).is_none_or(|c| c.closing) {
                return bytes.len();
            }
        }
        consumed
    }

    /// `conn` is gone: a read of zero bytes, a reset, or a failed send. Its
    /// session goes down in this same call; nothing more is sent on `conn`.
    pub fn handle_closed(&mut self, now: Instant, conn: ConnKey, reason: Closed) {
        self.lose(now, conn, reason.into());
    }

    /// Timers (sessions', the router's decision batching and MRAI) due at or
    /// before `now` run.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = now;
        let mut due = Vec::new();
        while let Some((_, i)) = self.wheel.poll(now) {
            due.push(i as usize);
        }
        while let Some(&(t, i)) = self.overflow.first() {
            if t > now {
                break;
            }
            self.overflow.pop_first();
            due.push(i);
        }
        for i in due {
            if let Some(p) = self.peers.get_mut(i).and_then(Option::as_mut) {
                p.timer = None;
                p.session.handle_timeout(now);
                self.drive(i, now);
            }
        }
        if self.router.poll_timeout().is_some_and(|t| t <= now) {
            self.router.handle_timeout(now);
            self.take_router_output();
        }
        self.handle_control_timeout(now);
    }

    /// Administrative shutdown of every session: Cease 6/2 with the RFC 9003
    /// shutdown `communication` to every peer past OpenSent, then no restarts and
    /// no new connections. The runtime keeps looping until
    /// [`Speaker::is_shut_down`].
    pub fn handle_shutdown(&mut self, now: Instant, communication: &str) {
        self.shutting_down = true;
        tracing::info!(communication, "shutting down");
        for i in 0..self.peers.len() {
            if let Some(p) = self.peers[i].as_mut() {
                p.session.handle_manual_stop(
                    now,
                    cease_subcode::ADMINISTRATIVE_SHUTDOWN,
                    communication,
                );
                self.drive(i, now);
            }
        }
        for i in 0..self.peers.len() {
            if self.peers[i].is_some() {
                self.free_peer(i, now);
            }
        }
    }

    // ----- outputs --------------------------------------------------------

    /// The next socket command.
    pub fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }

    /// A connection that has bytes to send, each reported once until
    /// `poll_transmit` on it returns `None`.
    pub fn poll_ready(&mut self) -> Option<ConnKey> {
        while let Some(k) = self.ready.pop_front() {
            if self.conns.contains_key(&k) {
                return Some(k);
            }
            self.reported.remove(&k);
        }
        None
    }

    /// The next message to write on `conn`: the session's own messages first
    /// (KEEPALIVE and NOTIFICATION are never stuck behind UPDATEs), then the
    /// router's UPDATEs. Call it only while the runtime's output buffer for
    /// `conn` is under its bound: a slow peer's backlog stays in the router,
    /// bounded, and catches up from the Adj-RIB-Out.
    pub fn poll_transmit(&mut self, now: Instant, conn: ConnKey) -> Option<Transmit> {
        let Some(c) = self.conns.get_mut(&conn) else {
            self.reported.remove(&conn);
            return None;
        };
        if let Some((_, bytes)) = c.queue.pop_front() {
            if c.closing && c.queue.is_empty() {
                // Its last message: `Close` was issued already.
                self.conns.remove(&conn);
                self.reported.remove(&conn);
            }
            return Some(Transmit::Owned(bytes));
        }
        if c.closing {
            self.conns.remove(&conn);
            self.reported.remove(&conn);
            return None;
        }
        let i = c.peer;
        if let Some(p) = self.peers[i].as_mut()
            && p.established == Some(conn)
            && let Some(m) = self.router.poll_transmit(p.router_peer)
        {
            p.session.handle_update_sent(now);
            p.stats.count_sent_updates(&m.bytes);
            self.rearm(i);
            return Some(Transmit::Shared(m));
        }
        self.reported.remove(&conn);
        None
    }

    /// When [`Speaker::handle_timeout`] is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.wheel.next_expiry(),
            self.overflow.first().map(|&(t, _)| t),
            self.router.poll_timeout(),
            self.control.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// After [`Speaker::handle_shutdown`]: every NOTIFICATION was handed out and
    /// every connection closed (its `Close` command taken).
    pub fn is_shut_down(&self) -> bool {
        self.shutting_down && self.conns.is_empty() && self.commands.is_empty()
    }

    // ----- internals ------------------------------------------------------

    fn add_peer(&mut self, spec: PeerSpec, dynamic: bool) -> usize {
        let router_peer = match self
            .idle_router_peers
            .iter()
            .position(|(c, _)| *c == spec.router)
        {
            Some(j) => self.idle_router_peers.swap_remove(j).1,
            None => self.router.add_peer(spec.router.clone()),
        };
        let peer = Peer {
            session: Session::with_log(
                spec.session,
                TracingLog {
                    neighbor: spec.address,
                },
            ),
            spec,
            dynamic,
            router_peer,
            conns: Vec::new(),
            established: None,
            timer: None,
            stats: control::stats::NeighborStats::default(),
        };
        let address = peer.spec.address;
        let i = match self.free_slots.pop() {
            Some(i) => {
                self.peers[i] = Some(peer);
                i
            }
            None => {
                self.peers.push(Some(peer));
                self.peers.len() - 1
            }
        };
        self.by_addr.insert(address, i);
        let rp = router_peer.0 as usize;
        if self.by_router_peer.len() <= rp {
            self.by_router_peer.resize(rp + 1, None);
        }
        self.by_router_peer[rp] = Some(i);
        i
    }

    fn start(&mut self, i: usize, now: Instant) {
        if let Some(p) = self.peers[i].as_mut() {
            if self.control.is_disabled(p.spec.address) {
                // Stays down until the operator enables it.
                return;
            }
            p.session.handle_manual_start(now);
            self.drive(i, now);
        }
    }

    fn originate(&mut self, o: &config::Originate, now: Instant) {
        let attrs = neighbor::originate_attributes(o);
        match neighbor::ip_prefix(&o.prefix) {
            IpPrefix::V4(p) => self.router.originate(p, attrs, now),
            IpPrefix::V6(p) => self.router.originate(p, attrs, now),
        }
    }

    /// ManualStop with Cease `subcode`, then forget the peer.
    fn stop_peer(&mut self, i: usize, now: Instant, subcode: u8) {
        if let Some(p) = self.peers[i].as_mut() {
            p.session.handle_manual_stop(now, subcode, "");
            self.drive(i, now);
            self.free_peer(i, now);
        }
    }

    /// Forgets peer `i`: its router peer goes down and back to the idle pool, its
    /// connections close (after what is queued on them), its timer is cancelled.
    fn free_peer(&mut self, i: usize, now: Instant) {
        let Some(p) = self.peers[i].take() else {
            return;
        };
        self.free_slots.push(i);
        if self.by_addr.get(&p.spec.address) == Some(&i) {
            self.by_addr.remove(&p.spec.address);
        }
        if let Some(slot) = self.by_router_peer.get_mut(p.router_peer.0 as usize) {
            *slot = None;
        }
        if self.router.session(p.router_peer).is_some() {
            self.router.handle_session_down(p.router_peer, now);
        }
        if p.dynamic {
            // Kept for the next session from this address.
            self.idle_router_peers.push((p.spec.router, p.router_peer));
        } else {
            self.router.remove_peer(p.router_peer, now);
        }
        match p.timer {
            Some(Armed::Wheel(h, _)) => {
                self.wheel.cancel(h);
            }
            Some(Armed::Overflow(t)) => {
                self.overflow.remove(&(t, i));
            }
            None => {}
        }
        for (_, key) in p.conns {
            close_conn(&mut self.conns, &mut self.reported, &mut self.commands, key);
        }
    }

    /// The runtime lost `conn`.
    fn lose(&mut self, now: Instant, conn: ConnKey, error: ConnectionError) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        self.reported.remove(&conn);
        if c.closing {
            return;
        }
        let i = c.peer;
        if let Some(p) = self.peers[i].as_mut() {
            p.conns.retain(|&(_, k)| k != conn);
            tracing::info!(neighbor = %p.spec.address, conn = %conn, remote = %c.remote, ?error, "connection lost");
            p.session.handle_connection_failed(now, c.id, error);
            self.drive(i, now);
        }
    }

    fn mark_ready(&mut self, key: ConnKey) {
        if self.reported.insert(key) {
            self.ready.push_back(key);
        }
    }

    /// The Established connection of every peer the router says has new
    /// output is ready (the router names each once: no scan of every peer).
    fn take_router_output(&mut self) {
        self.take_loc_rib_changes();
        while let Some(rp) = self.router.poll_ready_peer() {
            let key = self
                .by_router_peer
                .get(rp.0 as usize)
                .copied()
                .flatten()
                .and_then(|i| self.peers[i].as_ref())
                .and_then(|p| p.established);
            if let Some(k) = key {
                self.mark_ready(k);
            }
        }
    }
}

/// The session let go of `key`: `Close` is issued at once. What is still queued
/// on it (the session's last messages, such as a NOTIFICATION) is handed out by
/// `poll_transmit` after the `Close`, and the entry dropped with the last of it;
/// with nothing queued, it is dropped now.
fn close_conn(
    conns: &mut HashMap<ConnKey, Conn, ConnKeyHasher>,
    reported: &mut HashSet<ConnKey, ConnKeyHasher>,
    commands: &mut VecDeque<Command>,
    key: ConnKey,
) {
    let Some(c) = conns.get_mut(&key).filter(|c| !c.closing) else {
        return;
    };
    c.closing = true;
    commands.push_back(Command::Close { conn: key });
    if c.queue.is_empty() {
        conns.remove(&key);
        reported.remove(&key);
    }
}
