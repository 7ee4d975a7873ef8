//! The runtime's socket duties checked with a scripted sans-IO speaker: accept
//! and connect, refusal of unknown addresses without state, a peer's close seen
//! in the same turn, a Close that writes what was handed out then FIN, connect
//! failures, and the two bounds (output backpressure, read buffer).

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use nexthop_runtime_mio::{
    Closed, Command, ConnKey, Duration, Instant, Options, READ_BOUND, Runtime, SansIo,
    monotonic_clock,
};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Accepted(ConnKey, SocketAddr),
    Connected(ConnKey),
    ConnectFailed(ConnKey),
    Read(ConnKey, Vec<u8>),
    Closed(ConnKey, Closed),
}

/// A scripted speaker: accepts the addresses in `allow`, greets each connection
/// with `greeting`, consumes what it reads when `consume`, and in `flood` mode
/// always has another 4 KiB chunk (numbered bytes) for accepted connections.
#[derive(Default)]
struct Mock {
    listen: Vec<SocketAddr>,
    allow: Vec<IpAddr>,
    greeting: Vec<u8>,
    consume: bool,
    flood: bool,
    next: u32,
    commands: VecDeque<Command>,
    ready: VecDeque<ConnKey>,
    out: HashMap<ConnKey, VecDeque<Vec<u8>>>,
    seen: Vec<Seen>,
    handed_out: usize,
    flood_counter: u8,
}

const CHUNK: usize = 4096;

impl Mock {
    fn key(&mut self) -> ConnKey {
        self.next += 1;
        ConnKey(self.next)
    }

    fn send(&mut self, k: ConnKey, bytes: &[u8]) {
        self.out.entry(k).or_default().push_back(bytes.to_vec());
        self.ready.push_back(k);
    }

    fn connect(&mut self, remote: SocketAddr, bind: Option<IpAddr>) -> ConnKey {
        let conn = self.key();
        self.commands.push_back(Command::Connect {
            conn,
            remote,
            bind,
            md5_key: None,
            min_ttl: None,
            timeout: Duration::from_secs(5),
        });
        conn
    }

    fn reads(&self, k: ConnKey) -> Vec<u8> {
        self.seen
            .iter()
            .filter_map(|s| match s {
                Seen::Read(c, b) if *c == k => Some(b.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }
}

impl SansIo for Mock {
    type Transmit = Vec<u8>;
    fn listen_addresses(&self) -> Vec<SocketAddr> {
        self.listen.clone()
    }
    fn handle_accepted(
        &mut self,
        _: Instant,
        _: SocketAddr,
        remote: SocketAddr,
    ) -> Option<ConnKey> {
        if !self.allow.contains(&remote.ip()) {
            return None;
        }
        let k = self.key();
        self.seen.push(Seen::Accepted(k, remote));
        if !self.greeting.is_empty() {
            let g = self.greeting.clone();
            self.send(k, &g);
        }
        if self.flood {
            self.ready.push_back(k);
        }
        Some(k)
    }
    fn handle_connected(&mut self, _: Instant, conn: ConnKey, _: SocketAddr) {
        self.seen.push(Seen::Connected(conn));
        if !self.greeting.is_empty() {
            let g = self.greeting.clone();
            self.send(conn, &g);
        }
    }
    fn handle_connect_failed(&mut self, _: Instant, conn: ConnKey) {
        self.seen.push(Seen::ConnectFailed(conn));
    }
    fn handle_read(&mut self, _: Instant, conn: ConnKey, bytes: &[u8]) -> usize {
        if !self.consume {
            return 0;
        }
        self.seen.push(Seen::Read(conn, bytes.to_vec()));
        bytes.len()
    }
    fn handle_closed(&mut self, _: Instant, conn: ConnKey, reason: Closed) {
        self.seen.push(Seen::Closed(conn, reason));
    }
    fn handle_timeout(&mut self, _: Instant) {}
    fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }
    fn poll_ready(&mut self) -> Option<ConnKey> {
        self.ready.pop_front()
    }
    fn poll_transmit(&mut self, _: Instant, conn: ConnKey) -> Option<Vec<u8>> {
        if let Some(b) = self.out.get_mut(&conn).and_then(VecDeque::pop_front) {
            self.handed_out += b.len();
            return Some(b);
        }
        if self.flood {
            let chunk: Vec<u8> = (0..CHUNK)
                .map(|_| {
                    self.flood_counter = self.flood_counter.wrapping_add(1);
                    self.flood_counter
                })
                .collect();
            self.handed_out += CHUNK;
            return Some(chunk);
        }
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

type Rt = Runtime<Mock, Box<dyn FnMut() -> Instant>>;

fn runtime(mock: Mock) -> Rt {
    let clock: Box<dyn FnMut() -> Instant> = Box::new(monotonic_clock());
    Runtime::new(mock, clock, Options::default()).unwrap()
}

fn lo(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

/// Turns both runtimes until `done` holds (at most 5 s).
fn run_until(rts: &mut [&mut Rt], mut done: impl FnMut(&[&mut Rt]) -> bool) {
    let end = StdInstant::now() + StdDuration::from_secs(5);
    while !done(rts) {
        assert!(StdInstant::now() < end, "timed out");
        for rt in rts.iter_mut() {
            rt.turn(Some(StdDuration::from_millis(5))).unwrap();
        }
    }
}

fn stream_from(from: IpAddr, to: SocketAddr) -> TcpStream {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.bind(&SocketAddr::new(from, 0).into()).unwrap();
    s.connect(&to.into()).unwrap();
    s.into()
}

#[test]
fn two_runtimes_accept_and_connect_and_see_a_close_at_once() {
    let a = runtime(Mock {
        listen: vec![SocketAddr::new(lo(71), 0)],
        allow: vec![lo(72)],
        greeting: b"hello from a".to_vec(),
        consume: true,
        ..Mock::default()
    });
    let mut a = a;
    let a_addr = a.local_addresses()[0];
    let mut bm = Mock {
        listen: vec![SocketAddr::new(lo(72), 0)],
        greeting: b"hello from b".to_vec(),
        consume: true,
        ..Mock::default()
    };
    let kb = bm.connect(a_addr, Some(lo(72)));
    let mut b = runtime(bm);
    run_until(&mut [&mut a, &mut b], |r| {
        let ka = r[0].speaker().seen.iter().find_map(|s| match s {
            Seen::Accepted(k, _) => Some(*k),
            _ => None,
        });
        ka.is_some_and(|ka| r[0].speaker().reads(ka) == b"hello from b")
            && r[1].speaker().reads(kb) == b"hello from a"
    });
    assert!(b.speaker().seen.contains(&Seen::Connected(kb)));
    let Some(Seen::Accepted(ka, remote)) = a.speaker().seen.first().cloned() else {
        panic!("{:?}", a.speaker().seen)
    };
    assert_eq!(remote.ip(), lo(72), "bound to the bind address");
    assert_eq!(a.stats().accepted, 1);

    // B goes away: A sees the close in the turn that sees the FIN, no timer involved.
    drop(b);
    let t = StdInstant::now();
    run_until(&mut [&mut a], |r| {
        r[0].speaker()
            .seen
            .contains(&Seen::Closed(ka, Closed::PeerClosed))
    });
    assert!(t.elapsed() < StdDuration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(a.open_connections(), 0);
}

#[test]
fn an_unknown_address_is_closed_at_once_without_state() {
    let mut a = runtime(Mock {
        listen: vec![SocketAddr::new(lo(73), 0)],
        allow: vec![lo(74)],
        ..Mock::default()
    });
    let to = a.local_addresses()[0];
    let mut s = stream_from(lo(75), to);
    s.set_read_timeout(Some(StdDuration::from_secs(5))).unwrap();
    run_until(&mut [&mut a], |r| r[0].stats().refused == 1);
    assert_eq!(a.open_connections(), 0);
    assert!(a.speaker().seen.is_empty());
    let mut buf = [0u8; 16];
    assert_eq!(s.read(&mut buf).unwrap(), 0, "closed without a byte");
}

#[test]
fn close_writes_what_was_handed_out_then_fin() {
    let mut a = runtime(Mock {
        listen: vec![SocketAddr::new(lo(76), 0)],
        allow: vec![lo(77)],
        consume: true,
        ..Mock::default()
    });
    let to = a.local_addresses()[0];
    let mut s = stream_from(lo(77), to);
    run_until(&mut [&mut a], |r| !r[0].speaker().seen.is_empty());
    let k = ConnKey(1);
    a.input(|m, _| {
        m.send(k, b"notification");
        m.commands.push_back(Command::Close { conn: k });
    });
    s.set_read_timeout(Some(StdDuration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    let end = StdInstant::now() + StdDuration::from_secs(5);
    loop {
        a.turn(Some(StdDuration::from_millis(5))).unwrap();
        s.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
        assert!(StdInstant::now() < end, "no FIN");
    }
    assert_eq!(got, b"notification");
    // Our FIN back ends the linger; the speaker is not told about its own close.
    drop(s);
    run_until(&mut [&mut a], |r| r[0].open_connections() == 0);
    assert!(
        !a.speaker()
            .seen
            .iter()
            .any(|s| matches!(s, Seen::Closed(..)))
    );
}

#[test]
fn a_refused_connect_is_reported() {
    // Nothing listens on 127.0.0.78:1.
    let mut m = Mock::default();
    let k = m.connect(SocketAddr::new(lo(78), 1), Some(lo(79)));
    let mut a = runtime(m);
    run_until(&mut [&mut a], |r| {
        r[0].speaker().seen.contains(&Seen::ConnectFailed(k))
    });
    assert_eq!(a.open_connections(), 0);
    assert_eq!(a.stats().connect_failures, 1);
}

#[test]
fn a_peer_that_stops_reading_costs_at_most_the_output_bound() {
    let mut a = runtime(Mock {
        listen: vec![SocketAddr::new(lo(80), 0)],
        allow: vec![lo(81)],
        flood: true,
        ..Mock::default()
    });
    let bound = Options::default().output_bound;
    let to = a.local_addresses()[0];
    // A peer with a small receive window that reads nothing.
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.bind(&SocketAddr::new(lo(81), 0).into()).unwrap();
    sock.connect(&to.into()).unwrap();
    let mut s: TcpStream = sock.into();
    // Until the kernel buffers are full and the runtime has stopped pulling.
    let mut last = usize::MAX;
    let mut stable = 0;
    let end = StdInstant::now() + StdDuration::from_secs(10);
    while stable < 20 {
        a.turn(Some(StdDuration::from_millis(10))).unwrap();
        let h = a.speaker().handed_out;
        stable = if h == last { stable + 1 } else { 0 };
        last = h;
        assert!(
            StdInstant::now() < end,
            "the runtime keeps pulling: {h} bytes"
        );
    }
    let st = a.stats();
    let (_, out) = a.buffered(ConnKey(1)).unwrap();
    assert!(out <= bound + CHUNK, "{out} buffered");
    assert!(st.max_out_buffered <= bound + CHUNK, "{st:?}");
    assert_eq!(a.speaker().handed_out as u64, st.bytes_written + out as u64);
    assert!(out > 0, "the output filled up");

    // The peer reads again: the runtime resumes on writable and everything
    // arrives, in order.
    let mut expect: u8 = 0;
    let mut buf = vec![0u8; 65536];
    s.set_nonblocking(true).unwrap();
    let mut total = 0usize;
    let end = StdInstant::now() + StdDuration::from_secs(10);
    while total < 4 * last {
        a.turn(Some(StdDuration::from_millis(1))).unwrap();
        match s.read(&mut buf) {
            Ok(n) => {
                for &b in &buf[..n] {
                    expect = expect.wrapping_add(1);
                    assert_eq!(b, expect, "byte {total}");
                    total += 1;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
        assert!(StdInstant::now() < end, "stalled after {total} bytes");
    }
    assert!(a.stats().max_out_buffered <= bound + CHUNK);
}

#[test]
fn a_flood_without_whole_messages_stops_at_the_read_bound() {
    let mut a = runtime(Mock {
        listen: vec![SocketAddr::new(lo(82), 0)],
        allow: vec![lo(83)],
        consume: false,
        ..Mock::default()
    });
    let to = a.local_addresses()[0];
    let mut s = stream_from(lo(83), to);
    s.set_nonblocking(true).unwrap();
    let junk = vec![0x5a; 65536];
    let end = StdInstant::now() + StdDuration::from_secs(10);
    while !a
        .speaker()
        .seen
        .contains(&Seen::Closed(ConnKey(1), Closed::LocalError))
    {
        let _ = s.write(&junk);
        a.turn(Some(StdDuration::from_millis(5))).unwrap();
        assert!(StdInstant::now() < end, "{:?}", a.stats());
    }
    assert_eq!(a.stats().max_read_buffer, READ_BOUND);
    assert_eq!(a.open_connections(), 0);
}
