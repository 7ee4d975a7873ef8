//! The runtime against a toy sans-IO speaker on loopback: 4-byte records echoed
//! back, accept filtering, peer close and reset seen in the turn they happen,
//! outbound connects (refused, and to a listener), backpressure, the waker.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration as StdDuration;

use nexthop_runtime_uring::{
    Closed, Command, ConnKey, Duration, Instant, Options, RingOptions, Runtime, SansIo,
    monotonic_clock,
};

#[derive(Default)]
struct Echo {
    listen: Vec<SocketAddr>,
    accept_from: Option<std::net::IpAddr>,
    next: u32,
    commands: VecDeque<Command>,
    ready: VecDeque<ConnKey>,
    out: std::collections::HashMap<ConnKey, VecDeque<Vec<u8>>>,
    accepted: Vec<ConnKey>,
    connected: Vec<ConnKey>,
    failed: Vec<ConnKey>,
    closed: Vec<(ConnKey, Closed)>,
    received: usize,
    /// Bytes queued for every connection on each accept (a flood).
    flood: usize,
}

impl SansIo for Echo {
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
        if self.accept_from.is_some_and(|a| a != remote.ip()) {
            return None;
        }
        self.next += 1;
        let k = ConnKey(self.next);
        self.accepted.push(k);
        if self.flood > 0 {
            let q = self.out.entry(k).or_default();
            for _ in 0..self.flood / 4096 {
                q.push_back(vec![7u8; 4096]);
            }
            self.ready.push_back(k);
        }
        Some(k)
    }
    fn handle_connected(&mut self, _: Instant, conn: ConnKey, _: SocketAddr) {
        self.connected.push(conn);
    }
    fn handle_connect_failed(&mut self, _: Instant, conn: ConnKey) {
        self.failed.push(conn);
    }
    fn handle_read(&mut self, _: Instant, conn: ConnKey, bytes: &[u8]) -> usize {
        let whole = bytes.len() / 4 * 4;
        self.received += whole;
        if whole > 0 {
            self.out
                .entry(conn)
                .or_default()
                .push_back(bytes[..whole].to_vec());
            self.ready.push_back(conn);
        }
        whole
    }
    fn handle_closed(&mut self, _: Instant, conn: ConnKey, reason: Closed) {
        self.closed.push((conn, reason));
    }
    fn handle_timeout(&mut self, _: Instant) {}
    fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }
    fn poll_ready(&mut self) -> Option<ConnKey> {
        self.ready.pop_front()
    }
    fn poll_transmit(&mut self, _: Instant, conn: ConnKey) -> Option<Vec<u8>> {
        self.out.get_mut(&conn).and_then(|q| q.pop_front())
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

fn runtime(echo: Echo) -> Runtime<Echo, impl FnMut() -> Instant> {
    Runtime::with_ring(
        echo,
        monotonic_clock(),
        Options::default(),
        RingOptions {
            recv_buffers: 64,
            ..RingOptions::default()
        },
    )
    .unwrap()
}

fn turn_until<C: FnMut() -> Instant>(
    rt: &mut Runtime<Echo, C>,
    mut done: impl FnMut(&Echo) -> bool,
) {
    for _ in 0..2000 {
        if done(rt.speaker()) {
            return;
        }
        rt.turn(Some(StdDuration::from_millis(10))).unwrap();
    }
    panic!("condition not reached");
}

fn addr(last: u8) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, last], 0))
}

#[test]
fn records_are_echoed_and_a_partial_record_waits_for_the_rest() {
    let mut rt = runtime(Echo {
        listen: vec![addr(201)],
        ..Echo::default()
    });
    let local = rt.local_addresses()[0];
    let mut peer = TcpStream::connect(local).unwrap();
    peer.write_all(b"abcdef").unwrap();
    turn_until(&mut rt, |e| e.received == 4);
    peer.write_all(b"gh").unwrap();
    turn_until(&mut rt, |e| e.received == 8);
    let mut got = [0u8; 8];
    peer.set_read_timeout(Some(StdDuration::from_secs(5)))
        .unwrap();
    let mut n = 0;
    while n < 8 {
        rt.turn(Some(StdDuration::from_millis(1))).unwrap();
        n += peer.read(&mut got[n..]).unwrap();
    }
    assert_eq!(&got, b"abcdefgh");
}

#[test]
fn a_connection_the_speaker_refuses_is_closed_at_once() {
    let mut rt = runtime(Echo {
        listen: vec![addr(202)],
        accept_from: Some([127, 0, 0, 99].into()),
        ..Echo::default()
    });
    let local = rt.local_addresses()[0];
    let mut peer = TcpStream::connect(local).unwrap();
    for _ in 0..200 {
        rt.turn(Some(StdDuration::from_millis(5))).unwrap();
        if rt.stats().refused == 1 {
            break;
        }
    }
    assert_eq!(rt.stats().refused, 1);
    assert_eq!(rt.open_connections(), 0);
    peer.set_read_timeout(Some(StdDuration::from_secs(5)))
        .unwrap();
    let mut b = [0u8; 1];
    assert!(matches!(peer.read(&mut b), Ok(0) | Err(_)));
}

#[test]
fn peer_close_and_reset_are_reported_in_the_turn_that_sees_them() {
    let mut rt = runtime(Echo {
        listen: vec![addr(203)],
        ..Echo::default()
    });
    let local = rt.local_addresses()[0];
    let a = TcpStream::connect(local).unwrap();
    let b = TcpStream::connect(local).unwrap();
    turn_until(&mut rt, |e| e.accepted.len() == 2);
    drop(a);
    turn_until(&mut rt, |e| e.closed.len() == 1);
    assert_eq!(rt.speaker().closed[0].1, Closed::PeerClosed);
    // SO_LINGER 0: close sends RST.
    socket2::SockRef::from(&b)
        .set_linger(Some(StdDuration::ZERO))
        .unwrap();
    drop(b);
    turn_until(&mut rt, |e| e.closed.len() == 2);
    assert_eq!(rt.speaker().closed[1].1, Closed::Reset);
    turn_until(&mut rt, |_| true);
    assert_eq!(rt.open_connections(), 0);
}

#[test]
fn outbound_connects_succeed_or_fail() {
    let listener = TcpListener::bind(addr(204)).unwrap();
    let target = listener.local_addr().unwrap();
    let closed_port = TcpListener::bind(addr(204)).unwrap().local_addr().unwrap();
    let mut echo = Echo::default();
    for (k, remote) in [(1, target), (2, closed_port)] {
        echo.commands.push_back(Command::Connect {
            conn: ConnKey(k),
            remote,
            bind: Some([127, 0, 0, 205].into()),
            md5_key: None,
            min_ttl: None,
            timeout: Duration::from_secs(5),
        });
    }
    let mut rt = runtime(echo);
    turn_until(&mut rt, |e| e.connected.len() == 1 && e.failed.len() == 1);
    assert_eq!(rt.speaker().connected, vec![ConnKey(1)]);
    assert_eq!(rt.speaker().failed, vec![ConnKey(2)]);
    let (_s, from) = listener.accept().unwrap();
    assert_eq!(from.ip(), std::net::IpAddr::from([127, 0, 0, 205]));
}

#[test]
fn a_peer_that_stops_reading_holds_at_most_the_output_bound() {
    let bound = 64 * 1024;
    let echo = Echo {
        listen: vec![addr(206)],
        flood: 8 << 20,
        ..Echo::default()
    };
    let mut rt = Runtime::new(
        echo,
        monotonic_clock(),
        Options {
            output_bound: bound,
            ..Options::default()
        },
    )
    .unwrap();
    let local = rt.local_addresses()[0];
    let _stuck = TcpStream::connect(local).unwrap();
    turn_until(&mut rt, |e| e.accepted.len() == 1);
    for _ in 0..100 {
        rt.turn(Some(StdDuration::from_millis(2))).unwrap();
    }
    // One transmit may overshoot the bound.
    assert!(
        rt.stats().max_out_buffered <= bound + 4096,
        "{:?}",
        rt.stats()
    );
    // The speaker still holds most of the flood: the runtime stopped pulling.
    let left: usize = rt.speaker().out.values().map(|q| q.len()).sum();
    assert!(left > 1000, "left {left}");
}

#[test]
fn a_waker_on_another_thread_ends_the_wait() {
    let mut rt = runtime(Echo::default());
    let w = rt.waker();
    let t = std::thread::spawn(move || {
        std::thread::sleep(StdDuration::from_millis(50));
        w.wake();
    });
    let mut woken = false;
    for _ in 0..100 {
        if rt.turn(Some(StdDuration::from_secs(5))).unwrap().user {
            woken = true;
            break;
        }
    }
    t.join().unwrap();
    assert!(woken);
}

#[test]
fn the_probe_accepts_this_machine_and_the_ring_uses_its_setup_flags() {
    let features = nexthop_runtime_uring::probe().expect("io_uring usable here");
    let rt = runtime(Echo::default());
    let used = rt.ring_features();
    assert_eq!(
        (used.single_issuer, used.defer_taskrun, used.coop_taskrun),
        (
            features.single_issuer,
            features.defer_taskrun,
            features.coop_taskrun
        )
    );
}

#[test]
fn a_burst_past_the_receive_budget_is_handled_over_several_turns_in_order() {
    let echo = Echo {
        listen: vec![addr(207)],
        ..Echo::default()
    };
    let opts = Options {
        recv_budget: 1024,
        ..Options::default()
    };
    let ring = RingOptions {
        recv_buffers: 64,
        recv_buffer_size: 512,
        ..RingOptions::default()
    };
    let mut rt = Runtime::with_ring(echo, monotonic_clock(), opts, ring).unwrap();
    let local = rt.local_addresses()[0];
    let mut peer = TcpStream::connect(local).unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let writer = {
        let mut w = peer.try_clone().unwrap();
        let d = data.clone();
        std::thread::spawn(move || w.write_all(&d).unwrap())
    };
    peer.set_nonblocking(true).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    for _ in 0..20_000 {
        if got.len() == data.len() {
            break;
        }
        rt.turn(Some(StdDuration::from_millis(1))).unwrap();
        while let Ok(n) = peer.read(&mut buf) {
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
    }
    writer.join().unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "echoed out of order");
    // More turns than one budget's worth: the burst was spread.
    assert!(
        rt.stats().turns > (data.len() / 1024) as u64 / 2,
        "{:?}",
        rt.stats()
    );
}
