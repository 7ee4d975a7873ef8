//! What nexthopd's black-box tests share: a raw BGP peer built on nexthop-core's
//! views and emitters (OPEN, KEEPALIVE, UPDATE, NOTIFICATION; RFC 4271 §4), and
//! nexthopd as a child process that is stopped by its PID when the guard drops,
//! even when the test fails.
//!
//! The raw peer does what a test needs and no more: it accepts or opens one TCP
//! connection, exchanges OPENs and KEEPALIVEs, sends UPDATEs, and collects what
//! nexthopd sends. No timer: a test holds the session for far less than the
//! 90 s hold time it offers.

// Each test file uses a part of this module.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nexthop_core::wire::attribute::{
    AsPath, AsSegment, Asns, MpNextHop, Origin, PathAttribute, SegmentType,
};
use nexthop_core::wire::capability::{Capabilities, Capability};
use nexthop_core::wire::header::{MAX_MESSAGE_LEN, frame};
use nexthop_core::wire::keepalive::Keepalive;
use nexthop_core::wire::message::Message;
use nexthop_core::wire::nlri::{Ipv4Prefix, Ipv6Prefix, Nlri, Prefix};
use nexthop_core::wire::open::{Open, my_as_field};
use nexthop_core::wire::update::UpdateBuilder;
use nexthop_core::wire::{Family, FamilySet, Negotiated};

/// Bound on every wait: only a test that would otherwise hang fails on it; it
/// is not a performance threshold.
pub const WAIT: Duration = Duration::from_secs(30);

/// The fields of the OPEN nexthopd sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerOpen {
    /// Its AS (the 4-octet AS capability's, else My Autonomous System).
    pub asn: u32,
    /// Its BGP Identifier.
    pub bgp_identifier: Ipv4Addr,
}

/// A NOTIFICATION received: code, subcode and the RFC 9003 communication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedNotification {
    /// Error code.
    pub code: u8,
    /// Error subcode.
    pub subcode: u8,
    /// The shutdown communication of a Cease 6/2 or 6/4, if any.
    pub communication: Option<String>,
}

/// A route announced to the raw peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announced {
    /// The prefix.
    pub prefix: Prefix,
    /// AS numbers of its AS_PATH, in order.
    pub as_path: Vec<u32>,
    /// NEXT_HOP, or MP_REACH_NLRI's global next hop.
    pub next_hop: IpAddr,
}

/// What the raw peer has seen on its session.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// Routes announced and not withdrawn since, in arrival order.
    pub routes: Vec<Announced>,
    /// NOTIFICATIONs, in order.
    pub notifications: Vec<ReceivedNotification>,
    /// Whether nexthopd closed the connection.
    pub closed: bool,
}

/// One BGP session, from the raw peer's side.
pub struct RawPeer {
    stream: TcpStream,
    buf: Vec<u8>,
    negotiated: Negotiated,
    asn: u32,
    /// nexthopd's OPEN.
    pub open: PeerOpen,
    /// What arrived after the OPEN.
    pub seen: Seen,
}

/// The negotiated parameters of a raw peer's session: both sides send the
/// 4-octet AS capability, neither extended messages nor ADD-PATH.
fn negotiated() -> Negotiated {
    Negotiated {
        four_octet_as: true,
        extended_message: false,
        add_path_receive: FamilySet::EMPTY,
        add_path_send: FamilySet::EMPTY,
    }
}

impl RawPeer {
    /// Accepts one connection on `listener` (bounded by [`WAIT`]) and brings the
    /// session to Established as AS `asn` with BGP Identifier `id`, offering
    /// `families`.
    pub fn accept(listener: &TcpListener, asn: u32, id: Ipv4Addr, families: &[Family]) -> RawPeer {
        listener.set_nonblocking(true).unwrap();
        let end = Instant::now() + WAIT;
        let stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(Instant::now() < end, "no connection from nexthopd");
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("accept: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        RawPeer::establish(stream, asn, id, families)
    }

    /// Connects to `to` (retrying while it refuses, bounded by [`WAIT`]: nexthopd
    /// may not listen yet) and brings the session to Established.
    pub fn connect(to: SocketAddr, asn: u32, id: Ipv4Addr, families: &[Family]) -> RawPeer {
        let end = Instant::now() + WAIT;
        let stream = loop {
            match TcpStream::connect_timeout(&to, WAIT) {
                Ok(s) => break s,
                Err(e)
                    if e.kind() == std::io::ErrorKind::ConnectionRefused
                        && Instant::now() < end =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("connect {to}: {e}"),
            }
        };
        RawPeer::establish(stream, asn, id, families)
    }

    fn establish(stream: TcpStream, asn: u32, id: Ipv4Addr, families: &[Family]) -> RawPeer {
        stream.set_nodelay(true).unwrap();
        let mut p = RawPeer {
            stream,
            buf: Vec::new(),
            negotiated: negotiated(),
            asn,
            open: PeerOpen {
                asn: 0,
                bgp_identifier: Ipv4Addr::UNSPECIFIED,
            },
            seen: Seen::default(),
        };
        let mut caps: Vec<Capability> = families
            .iter()
            .map(|&f| Capability::Multiprotocol(f))
            .collect();
        caps.push(Capability::RouteRefresh);
        caps.push(Capability::FourOctetAs(asn));
        let open = Open {
            my_as: my_as_field(asn),
            hold_time: 90,
            bgp_identifier: u32::from(id),
            capabilities: Capabilities::List(&caps),
        };
        let mut out = [0u8; MAX_MESSAGE_LEN];
        let n = open.emit(&mut out).unwrap();
        p.send(&out[..n]);
        let msg = p
            .next_message(Instant::now() + WAIT)
            .expect("nexthopd's OPEN");
        let theirs = Open::parse(&msg).unwrap_or_else(|e| panic!("nexthopd's OPEN: {e}"));
        p.open = PeerOpen {
            asn: theirs.asn(),
            bgp_identifier: Ipv4Addr::from(theirs.bgp_identifier),
        };
        let n = Keepalive.emit(&mut out).unwrap();
        p.send(&out[..n]);
        // Established once nexthopd's KEEPALIVE arrives (RFC 4271 §8.2.2, OpenConfirm).
        let msg = p
            .next_message(Instant::now() + WAIT)
            .expect("nexthopd's KEEPALIVE");
        match Message::parse(&msg, &p.negotiated) {
            Ok(Message::Keepalive(_)) => {}
            other => panic!("expected KEEPALIVE after OPEN, got {other:?}"),
        }
        p
    }

    /// Writes `bytes` (whole messages).
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("send to nexthopd: {e}"));
    }

    /// The next whole message, or `None` at `deadline` or when the connection
    /// closed (then `seen.closed`).
    pub fn next_message(&mut self, deadline: Instant) -> Option<Vec<u8>> {
        loop {
            match frame(&self.buf, self.negotiated.max_message_len()) {
                Ok(Some(len)) => return Some(self.buf.drain(..len).collect()),
                Ok(None) => {}
                Err(e) => panic!("nexthopd sent a bad header: {e}"),
            }
            if self.seen.closed {
                return None;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.stream.set_read_timeout(Some(left)).unwrap();
            let mut chunk = [0u8; 8192];
            match self.stream.read(&mut chunk) {
                Ok(0) => self.seen.closed = true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    self.seen.closed = true
                }
                Err(e) => panic!("read from nexthopd: {e}"),
            }
        }
    }

    /// Reads and records messages until `done(&self.seen)` holds; panics with
    /// what was seen after [`WAIT`].
    pub fn read_until(&mut self, what: &str, mut done: impl FnMut(&Seen) -> bool) {
        let end = Instant::now() + WAIT;
        while !done(&self.seen) {
            match self.next_message(end) {
                Some(msg) => self.record(&msg),
                None if self.seen.closed && !done(&self.seen) => {
                    panic!("connection closed before {what}: {:?}", self.seen)
                }
                None => {
                    assert!(
                        Instant::now() < end,
                        "no {what} after {WAIT:?}: {:?}",
                        self.seen
                    );
                }
            }
        }
    }

    /// Waits for a NOTIFICATION; returns the first one.
    pub fn wait_notification(&mut self) -> ReceivedNotification {
        self.read_until("a NOTIFICATION", |s| !s.notifications.is_empty());
        self.seen.notifications[0].clone()
    }

    /// Waits until `prefix` is announced; returns the route.
    pub fn wait_route(&mut self, prefix: Prefix) -> Announced {
        self.read_until(&format!("a route for {prefix:?}"), |s| {
            s.routes.iter().any(|r| r.prefix == prefix)
        });
        self.seen
            .routes
            .iter()
            .find(|r| r.prefix == prefix)
            .cloned()
            .unwrap()
    }

    fn record(&mut self, msg: &[u8]) {
        match Message::parse(msg, &self.negotiated) {
            Ok(Message::Update(u)) => {
                for w in u.all_withdrawn() {
                    self.seen.routes.retain(|r| r.prefix != w.prefix);
                }
                let as_path: Vec<u32> = u
                    .as_path()
                    .map(|p| p.segments().flat_map(|s| s.asns.iter()).collect())
                    .unwrap_or_default();
                let v4 = u.next_hop().map(IpAddr::V4);
                let mp = u.mp_reach().map(|m| match m.next_hop {
                    MpNextHop::Ipv4(a) => IpAddr::V4(a),
                    MpNextHop::Ipv6(a) => IpAddr::V6(a),
                    MpNextHop::Ipv6LinkLocal { global, .. } => IpAddr::V6(global),
                });
                for n in u.nlri() {
                    self.announce(n.prefix, &as_path, v4);
                }
                if let Some(m) = u.mp_reach() {
                    for n in m.nlri.iter() {
                        self.announce(n.prefix, &as_path, mp);
                    }
                }
            }
            Ok(Message::Notification(n)) => self.seen.notifications.push(ReceivedNotification {
                code: u8::from(n.code.code),
                subcode: n.code.subcode,
                communication: n.shutdown_communication().map(str::to_string),
            }),
            Ok(_) => {}
            Err(e) => panic!("nexthopd sent a message core refuses: {e}"),
        }
    }

    fn announce(&mut self, prefix: Prefix, as_path: &[u32], next_hop: Option<IpAddr>) {
        let next_hop =
            next_hop.unwrap_or_else(|| panic!("{prefix:?} announced without a next hop"));
        self.seen.routes.retain(|r| r.prefix != prefix);
        self.seen.routes.push(Announced {
            prefix,
            as_path: as_path.to_vec(),
            next_hop,
        });
    }

    /// Announces `prefix` with AS_PATH (our AS) and `next_hop`: an IPv4 prefix in
    /// the NLRI field with NEXT_HOP, an IPv6 one in MP_REACH_NLRI (RFC 4760 §3).
    pub fn announce_route(&mut self, prefix: Prefix, next_hop: IpAddr) {
        let mut buf = [0u8; MAX_MESSAGE_LEN];
        let asns = [self.asn];
        let seg = [AsSegment {
            kind: SegmentType::AsSequence,
            asns: Asns::List(&asns),
        }];
        let mut b = UpdateBuilder::new(&mut buf, &self.negotiated).unwrap();
        b.attribute(&PathAttribute::Origin(Origin::Igp)).unwrap();
        b.attribute(&PathAttribute::AsPath(AsPath::List(&seg)))
            .unwrap();
        match (prefix, next_hop) {
            (Prefix::V4(_), IpAddr::V4(nh)) => {
                b.attribute(&PathAttribute::NextHop(nh)).unwrap();
                assert!(b.nlri(&Nlri::new(prefix)).unwrap());
            }
            (Prefix::V6(_), IpAddr::V6(nh)) => {
                b.begin_mp_reach(Family::IPV6_UNICAST, MpNextHop::Ipv6(nh))
                    .unwrap();
                assert!(b.mp_nlri(&Nlri::new(prefix)).unwrap());
            }
            _ => panic!("{prefix:?} with next hop {next_hop}: families differ"),
        }
        let n = b.finish().unwrap();
        self.send(&buf[..n]);
    }

    /// Stops reading: nothing more is taken from the socket (the kernel's
    /// receive buffer fills and nexthopd's writes stall there).
    pub fn into_silent(self) -> TcpStream {
        self.stream
    }
}

/// An IPv4 prefix.
pub fn v4(s: &str) -> Prefix {
    let (a, l) = s.split_once('/').unwrap();
    Prefix::V4(Ipv4Prefix::new(a.parse::<Ipv4Addr>().unwrap(), l.parse().unwrap()).unwrap())
}

/// An IPv6 prefix.
pub fn v6(s: &str) -> Prefix {
    let (a, l) = s.split_once('/').unwrap();
    Prefix::V6(Ipv6Prefix::new(a.parse::<Ipv6Addr>().unwrap(), l.parse().unwrap()).unwrap())
}

/// nexthopd as a child process: `nexthopd run` on a config file, output in a
/// log file; killed by its PID (SIGKILL) when dropped while it still runs.
pub struct Nexthopd {
    child: Child,
    /// Its stdout and stderr.
    pub log: PathBuf,
    status: Option<ExitStatus>,
}

impl Nexthopd {
    /// Writes `toml` into `dir/nexthopd.toml` and starts `nexthopd run` on it.
    pub fn start(dir: &Path, toml: &str) -> Nexthopd {
        std::fs::create_dir_all(dir).unwrap();
        let conf = dir.join("nexthopd.toml");
        std::fs::write(&conf, toml).unwrap();
        let log = dir.join("nexthopd.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_nexthopd"))
            .arg("run")
            .arg("--config")
            .arg(&conf)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        Nexthopd {
            child,
            log,
            status: None,
        }
    }

    /// Its output so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits (bounded by [`WAIT`]) until its output holds `what`.
    pub fn wait_log(&self, what: &str) {
        let end = Instant::now() + WAIT;
        while !self.output().contains(what) {
            assert!(
                Instant::now() < end,
                "no {what:?} in nexthopd's output:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends `signal` (a `kill` name: `-INT`, `-TERM`, `-HUP`) to its PID.
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {signal} {}", self.child.id());
    }

    /// Waits (bounded by [`WAIT`]) until it exits; its status.
    pub fn wait_exit(&mut self) -> ExitStatus {
        let end = Instant::now() + WAIT;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                self.status = Some(s);
                return s;
            }
            assert!(
                Instant::now() < end,
                "nexthopd still runs:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Nexthopd {
    fn drop(&mut self) {
        if self.status.is_none() && matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A fresh directory for one test's files.
pub fn test_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nexthopd-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
