//! A deterministic two-speaker harness (quinn-proto's `Pair` is the model): two
//! [`Session`]s wired by in-memory byte pipes, driven in virtual time. `drive`
//! moves bytes, commands and events until nothing moves; `step` jumps the clock
//! to the next deadline of either session.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::vec::Vec;

use nexthop_core::session::{
    ConnectionCommand, ConnectionError, ConnectionId, Event, EventRecord, Session, SessionConfig,
    SessionLog, State, TransitionRecord,
};
use nexthop_core::time::{Duration, Instant};

/// A log hook that keeps everything, stamped with the harness clock.
#[derive(Default)]
pub struct Recorder {
    pub now: Instant,
    pub events: Vec<(Instant, EventRecord)>,
    pub transitions: Vec<(Instant, TransitionRecord)>,
}

impl SessionLog for Recorder {
    fn event(&mut self, record: &EventRecord) {
        self.events.push((self.now, *record));
    }
    fn transition(&mut self, record: &TransitionRecord) {
        self.transitions.push((self.now, *record));
    }
}

/// A message a session wrote.
#[derive(Clone, Debug)]
pub struct Sent {
    pub at: Instant,
    pub conn: ConnectionId,
    pub bytes: Vec<u8>,
}

impl Sent {
    /// The message type octet.
    pub fn message_type(&self) -> u8 {
        self.bytes[18]
    }
    /// For a NOTIFICATION, its code and subcode.
    pub fn notification(&self) -> Option<(u8, u8)> {
        (self.message_type() == 3).then(|| (self.bytes[19], self.bytes[20]))
    }
}

pub struct Endpoint {
    pub session: Session<Recorder>,
    pub sent: Vec<Sent>,
    /// Messages written on a connection the harness knows closed: must stay empty.
    pub sent_on_dead: Vec<Sent>,
    pub events: Vec<(Instant, Event)>,
    pub commands: Vec<(Instant, ConnectionCommand)>,
    pub updates: Vec<(Instant, Vec<u8>)>,
}

impl Endpoint {
    fn new(config: SessionConfig) -> Self {
        Endpoint {
            session: Session::with_log(config, Recorder::default()),
            sent: Vec::new(),
            sent_on_dead: Vec::new(),
            events: Vec::new(),
            commands: Vec::new(),
            updates: Vec::new(),
        }
    }

    pub fn state(&self) -> State {
        self.session.state()
    }

    /// Connect commands issued, with their times.
    pub fn connects(&self) -> Vec<Instant> {
        self.commands
            .iter()
            .filter(|(_, c)| matches!(c, ConnectionCommand::Connect(_)))
            .map(|(t, _)| *t)
            .collect()
    }

    pub fn established_count(&self) -> usize {
        self.events
            .iter()
            .filter(|(_, e)| matches!(e, Event::Established { .. }))
            .count()
    }

    pub fn notifications(&self) -> Vec<(Instant, (u8, u8))> {
        self.sent
            .iter()
            .filter_map(|s| s.notification().map(|n| (s.at, n)))
            .collect()
    }
}

/// A TCP connection between the two: end `i` is side `i`'s id.
pub struct Link {
    pub ends: [ConnectionId; 2],
    /// Bytes in flight towards side `i`.
    to: [Vec<u8>; 2],
    /// Whether side `i`'s socket is open.
    open: [bool; 2],
}

pub struct Pair {
    pub now: Instant,
    pub sides: [Endpoint; 2],
    pub links: Vec<Link>,
    /// Whether connection attempts reach the other side at all.
    pub reachable: bool,
    /// A frozen side is a peer gone silent: it reads, writes and times nothing,
    /// while its sockets stay open.
    pub frozen: [bool; 2],
}

pub const A: usize = 0;
pub const B: usize = 1;

/// Two eBGP speakers: A is AS 65001 id 1 (10.0.0.1), B is AS 65002 id 2.
pub fn configs() -> (SessionConfig, SessionConfig) {
    let mut a = SessionConfig::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 65001, 1);
    a.remote_asn = Some(65002);
    let mut b = SessionConfig::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 65002, 2);
    b.remote_asn = Some(65001);
    (a, b)
}

impl Pair {
    pub fn new(a: SessionConfig, b: SessionConfig) -> Self {
        Pair {
            now: Instant::from_secs(1000),
            sides: [Endpoint::new(a), Endpoint::new(b)],
            links: Vec::new(),
            reachable: true,
            frozen: [false, false],
        }
    }

    pub fn a(&self) -> &Endpoint {
        &self.sides[A]
    }
    pub fn b(&self) -> &Endpoint {
        &self.sides[B]
    }

    fn stamp(&mut self) {
        let now = self.now;
        for s in &mut self.sides {
            s.session.log_mut().now = now;
        }
    }

    /// Starts both sessions at the same instant.
    pub fn start_both(&mut self) {
        self.stamp();
        for side in [A, B] {
            self.sides[side].session.handle_manual_start(self.now);
        }
        self.drive();
    }

    pub fn start(&mut self, side: usize) {
        self.stamp();
        self.sides[side].session.handle_manual_start(self.now);
        self.drive();
    }

    /// Moves everything that can move at `now`, until nothing does.
    pub fn drive(&mut self) {
        self.stamp();
        for _ in 0..10_000 {
            let mut progress = false;
            for side in [A, B] {
                progress |= self.drain(side);
            }
            progress |= self.deliver();
            if !progress {
                return;
            }
        }
        panic!("the pair never settles");
    }

    fn link_of(&self, side: usize, conn: ConnectionId) -> Option<usize> {
        self.links.iter().position(|l| l.ends[side] == conn)
    }

    fn drain(&mut self, side: usize) -> bool {
        if self.frozen[side] {
            return false;
        }
        let now = self.now;
        let mut progress = false;
        let mut buf = vec![0u8; 4096];
        while let Some(t) = self.sides[side].session.poll_transmit(now, &mut buf) {
            let (conn, n) = (t.connection, t.len);
            progress = true;
            let sent = Sent {
                at: now,
                conn,
                bytes: buf[..n].to_vec(),
            };
            match self.link_of(side, conn) {
                Some(l) if self.links[l].open[side] => {
                    self.links[l].to[1 - side].extend_from_slice(&buf[..n]);
                    self.sides[side].sent.push(sent);
                }
                _ => self.sides[side].sent_on_dead.push(sent),
            }
        }
        while let Some(cmd) = self.sides[side].session.poll_connection_command() {
            progress = true;
            self.sides[side].commands.push((now, cmd));
            match cmd {
                ConnectionCommand::Connect(id) => {
                    let other = 1 - side;
                    let accepted = if self.reachable && !self.frozen[other] {
                        self.sides[other].session.handle_accepted(now)
                    } else {
                        None
                    };
                    match accepted {
                        Some(oid) => {
                            let mut ends = [id, id];
                            ends[other] = oid;
                            self.links.push(Link {
                                ends,
                                to: [Vec::new(), Vec::new()],
                                open: [true, true],
                            });
                            self.sides[side].session.handle_connected(now, id);
                        }
                        None => self.sides[side].session.handle_connection_failed(
                            now,
                            id,
                            ConnectionError::ConnectFailed,
                        ),
                    }
                }
                ConnectionCommand::Close(id) => {
                    if let Some(l) = self.link_of(side, id) {
                        self.links[l].open[side] = false;
                        self.links[l].to[side].clear();
                    }
                }
            }
        }
        while let Some(e) = self.sides[side].session.poll_event() {
            progress = true;
            self.sides[side].events.push((now, e));
        }
        progress
    }

    fn deliver(&mut self) -> bool {
        let now = self.now;
        let mut progress = false;
        for l in 0..self.links.len() {
            for side in [A, B] {
                if !self.links[l].open[side] || self.frozen[side] {
                    continue;
                }
                let conn = self.links[l].ends[side];
                if !self.links[l].to[side].is_empty() {
                    // One message per link and direction per pass, so that
                    // messages on different connections interleave as they
                    // would on a real network with equal latencies.
                    let pipe = &self.links[l].to[side];
                    let len = if pipe.len() >= 19 {
                        usize::from(u16::from_be_bytes([pipe[16], pipe[17]])).max(19)
                    } else {
                        pipe.len()
                    };
                    let len = len.min(pipe.len());
                    let chunk: Vec<u8> = self.links[l].to[side].drain(..len).collect();
                    let mut at = 0;
                    while at < chunk.len() {
                        let r = self.sides[side]
                            .session
                            .handle_read(now, conn, &chunk[at..]);
                        if let Some(u) = r.update {
                            self.sides[side].updates.push((now, u.to_vec()));
                        }
                        if r.consumed == 0 {
                            break;
                        }
                        at += r.consumed;
                    }
                    if at < chunk.len() {
                        let mut rest = chunk[at..].to_vec();
                        rest.extend_from_slice(&self.links[l].to[side]);
                        self.links[l].to[side] = rest;
                    }
                    progress = true;
                    continue;
                }
                if !self.links[l].open[1 - side] {
                    // The peer closed and everything it wrote has been read.
                    self.links[l].open[side] = false;
                    self.sides[side].session.handle_connection_failed(
                        now,
                        conn,
                        ConnectionError::PeerClosed,
                    );
                    progress = true;
                }
            }
        }
        progress
    }

    /// The next deadline of either session.
    pub fn next_deadline(&self) -> Option<Instant> {
        [A, B]
            .into_iter()
            .filter(|&s| !self.frozen[s])
            .filter_map(|s| self.sides[s].session.poll_timeout())
            .min()
    }

    /// Jumps to the next deadline (if it is no later than `limit`) and handles it.
    pub fn step(&mut self, limit: Instant) -> bool {
        self.drive();
        let Some(next) = self.next_deadline() else {
            return false;
        };
        if next > limit {
            return false;
        }
        self.now = self.now.max(next);
        self.stamp();
        for side in [A, B] {
            if !self.frozen[side] {
                self.sides[side].session.handle_timeout(self.now);
            }
        }
        self.drive();
        true
    }

    /// Runs until `t`, then sets the clock to `t`.
    pub fn run_until(&mut self, t: Instant) {
        while self.step(t) {}
        self.now = self.now.max(t);
        self.drive();
    }

    pub fn run_for(&mut self, d: Duration) {
        let t = self.now + d;
        self.run_until(t);
    }

    /// Runs until `pred` holds, or fails after `limit` of virtual time.
    pub fn run_until_pred(&mut self, limit: Duration, mut pred: impl FnMut(&Pair) -> bool) {
        let end = self.now + limit;
        self.drive();
        while !pred(self) {
            assert!(self.step(end), "condition not reached by {end}");
        }
    }

    /// Both Established on the same link.
    pub fn established(&self) -> bool {
        self.a().state() == State::Established && self.b().state() == State::Established
    }

    /// The link both sides are Established on.
    pub fn established_link(&self) -> Option<usize> {
        let a = self.a().session.established_connection()?;
        self.link_of(A, a)
    }

    /// The TCP connection `link` dies: side `closer` closed it (its session
    /// is told the connection was reset), and the other side reads end of file.
    /// Both are told at this instant, with nothing in flight delivered.
    pub fn kill_link(&mut self, link: usize, closer: usize) {
        self.stamp();
        let now = self.now;
        let l = &mut self.links[link];
        l.open = [false, false];
        l.to = [Vec::new(), Vec::new()];
        let ends = l.ends;
        self.sides[closer].session.handle_connection_failed(
            now,
            ends[closer],
            ConnectionError::Reset,
        );
        self.sides[1 - closer].session.handle_connection_failed(
            now,
            ends[1 - closer],
            ConnectionError::PeerClosed,
        );
    }
}

impl Pair {
    /// Side `side` restarts with a fresh session (a crashed and restarted peer):
    /// its old sockets vanish without the other side being told.
    pub fn restart_side(&mut self, side: usize, config: SessionConfig) {
        for l in &mut self.links {
            l.open[side] = false;
            l.to[side].clear();
            l.to[1 - side].clear();
        }
        // The other side must not see end-of-file on those links: mark them as
        // still open on its end but never delivering again.
        for l in &mut self.links {
            if l.open[1 - side] {
                l.open[side] = true;
                l.ends[side] = ConnectionId(u32::MAX);
            }
        }
        self.sides[side] = Endpoint::new(config);
    }
}

impl Pair {
    /// The router of `side` writes `bytes` on its Established connection (an
    /// UPDATE or ROUTE-REFRESH, which the session does not write itself).
    pub fn write_established(&mut self, side: usize, bytes: &[u8]) {
        let conn = self.sides[side].session.established_connection().unwrap();
        let l = self.link_of(side, conn).unwrap();
        self.links[l].to[1 - side].extend_from_slice(bytes);
        self.sides[side].session.handle_update_sent(self.now);
        self.drive();
    }

    /// Runs `f` on a side's session at the current instant, then drives.
    pub fn with_session(&mut self, side: usize, f: impl FnOnce(&mut Session<Recorder>, Instant)) {
        self.stamp();
        let now = self.now;
        f(&mut self.sides[side].session, now);
        self.drive();
    }
}
