//! A listener at the descriptor limit: the failed accept is not retried every
//! loop turn (the listener rests), and connections waiting in the backlog are
//! accepted once descriptors are free again. Alone in its test binary: it lowers
//! the process's RLIMIT_NOFILE.

use std::collections::VecDeque;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use nexthop_runtime_uring::{
    Closed, Command, ConnKey, Instant, Options, Runtime, SansIo, monotonic_clock,
};

/// Accepts every connection and does nothing else.
#[derive(Default)]
struct AcceptAll {
    listen: Vec<SocketAddr>,
    next: u32,
    commands: VecDeque<Command>,
}

impl SansIo for AcceptAll {
    type Transmit = Vec<u8>;
    fn listen_addresses(&self) -> Vec<SocketAddr> {
        self.listen.clone()
    }
    fn handle_accepted(&mut self, _: Instant, _: SocketAddr, _: SocketAddr) -> Option<ConnKey> {
        self.next += 1;
        Some(ConnKey(self.next))
    }
    fn handle_connected(&mut self, _: Instant, _: ConnKey, _: SocketAddr) {}
    fn handle_connect_failed(&mut self, _: Instant, _: ConnKey) {}
    fn handle_read(&mut self, _: Instant, _: ConnKey, bytes: &[u8]) -> usize {
        bytes.len()
    }
    fn handle_closed(&mut self, _: Instant, _: ConnKey, _: Closed) {}
    fn handle_timeout(&mut self, _: Instant) {}
    fn poll_command(&mut self) -> Option<Command> {
        self.commands.pop_front()
    }
    fn poll_ready(&mut self) -> Option<ConnKey> {
        None
    }
    fn poll_transmit(&mut self, _: Instant, _: ConnKey) -> Option<Vec<u8>> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

fn nofile() -> libc::rlimit {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct it is given.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) }, 0);
    r
}

fn set_nofile(r: libc::rlimit) {
    // SAFETY: setrlimit reads one rlimit from the struct it is given.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) }, 0);
}

/// The highest open descriptor of this process.
fn highest_fd() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap()
}

#[test]
fn a_failed_accept_rests_the_listener_and_the_backlog_is_accepted_later() {
    // No io_uring here is a failure, not a skip: this crate cannot work without it.
    nexthop_runtime_uring::probe().expect("io_uring usable here");
    let speaker = AcceptAll {
        listen: vec![SocketAddr::from(([127, 0, 0, 1], 0))],
        ..AcceptAll::default()
    };
    let mut rt = Runtime::new(speaker, monotonic_clock(), Options::default()).unwrap();
    let at = rt.local_addresses()[0];
    let clients: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(at).unwrap()).collect();

    // No descriptor left: every accept fails with EMFILE.
    let saved = nofile();
    set_nofile(libc::rlimit {
        rlim_cur: highest_fd() + 1,
        rlim_max: saved.rlim_max,
    });
    // The lowest free descriptor is the next one: fill the gaps below the limit.
    let mut fillers = Vec::new();
    while let Ok(f) = std::fs::File::open("/dev/null") {
        fillers.push(f);
    }
    let started = StdInstant::now();
    for _ in 0..30 {
        rt.turn(Some(StdDuration::from_millis(5))).unwrap();
    }
    let elapsed = started.elapsed().as_millis() as u64;
    let stats = rt.stats();
    set_nofile(saved);
    drop(fillers);
    assert_eq!(stats.accepted, 0);
    assert!(stats.accept_failures >= 1, "{stats:?}");
    // Retried once per rest (100 ms), not once per turn.
    assert!(
        stats.accept_failures <= 2 + elapsed / 100,
        "{} failed accepts in {elapsed} ms and 30 turns",
        stats.accept_failures
    );

    // Descriptors again: the waiting connections are accepted.
    for _ in 0..500 {
        if rt.stats().accepted == clients.len() as u64 {
            break;
        }
        rt.turn(Some(StdDuration::from_millis(10))).unwrap();
    }
    assert_eq!(rt.stats().accepted, clients.len() as u64);
}
