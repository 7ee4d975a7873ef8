//! SIGTERM, SIGINT and the second signal (README, "SIGTERM / SIGINT"): either
//! signal sends every Established peer a Cease / Administrative Shutdown (6/2)
//! carrying the RFC 9003 communication "nexthopd shutting down" and exits 0; a
//! second signal while the shutdown still waits exits at once, status 0
//! (`nexthopd/src/run.rs`).
//!
//! The peer is test-support's raw BGP peer (nexthop-core's emitters and views).
//! What keeps a shutdown waiting: a closed connection lingers until the peer's
//! FIN (at most the runtime's linger, 2 s); a peer that neither reads nor closes
//! holds it.
//!
//! Addresses: the raw peer listens on 127.0.0.232 and nexthopd on 127.0.0.233,
//! on ports the kernel hands out; nexthopd connects out to the peer. Each test
//! runs on both runtimes (`runtime = "uring"` fails, never skips, where io_uring
//! is missing: nexthopd exits 2).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::time::Duration;

use nexthop_speaker::config::RuntimeKind;
use nexthop_speaker::config::file::{ConfigFile, Neighbor};
use nexthop_test_support::address::free_port;
use nexthop_test_support::nexthopd::Nexthopd;
use nexthop_test_support::raw_peer::OpenSettings;
use nexthop_test_support::{RawPeer, RunDir};

const PEER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 232);
const PEER_AS: u32 = 65232;
const ME: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 233);
/// Bound on every wait: only a test that would otherwise hang fails on it.
const WAIT: Duration = Duration::from_secs(30);

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_nexthopd"))
}

/// nexthopd on `listen` with one active neighbour at the raw peer's
/// `peer_port`, on `runtime`.
fn config(runtime: RuntimeKind, listen: SocketAddr, peer_port: u16) -> ConfigFile {
    ConfigFile::new(65233, Ipv4Addr::new(192, 0, 2, 233))
        .listen(listen)
        .runtime(runtime)
        .neighbor(
            Neighbor::new(IpAddr::V4(PEER), PEER_AS)
                .port(peer_port)
                .connect_retry_time(1),
        )
}

/// nexthopd started with an Established session to a raw peer.
fn established(runtime: RuntimeKind, name: &str) -> (RunDir, Nexthopd, RawPeer) {
    let run = RunDir::new(&format!("nexthopd-signals-{name}-{runtime}")).unwrap();
    let listener = TcpListener::bind((PEER, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let listen = SocketAddr::new(IpAddr::V4(ME), free_port(IpAddr::V4(ME)).unwrap());
    let toml = config(runtime, listen, port).to_toml();
    let n = Nexthopd::start(bin(), run.path(), &toml, listen).unwrap();
    let mut peer = RawPeer::accept(&listener, WAIT).unwrap();
    peer.handshake(&OpenSettings::new(
        PEER_AS,
        90,
        Ipv4Addr::new(192, 0, 2, 232),
    ))
    .unwrap_or_else(|e| panic!("{e}\n{}", n.log()));
    assert_eq!(peer.peer_open().map(|o| o.asn), Some(65233));
    n.wait_log("to=Established", WAIT).unwrap();
    (run, n, peer)
}

/// The last line saying the shutdown finished by itself.
fn clean_end(log: &str) -> bool {
    log.lines().any(|l| l.trim_end().ends_with("shut down"))
}

fn signal_sends_cease_6_2_with_the_communication_and_exits_0(runtime: RuntimeKind, sig: i32) {
    let name = if sig == libc::SIGTERM {
        "SIGTERM"
    } else {
        "SIGINT"
    };
    let (_run, mut n, mut peer) = established(runtime, name);
    n.signal(sig).unwrap();
    let cease = peer.wait_notification(WAIT).unwrap();
    assert_eq!(
        (cease.code, cease.subcode),
        (6, 2),
        "Cease / Administrative Shutdown (RFC 4486 §4): {cease:?}"
    );
    assert_eq!(
        cease.communication.as_deref(),
        Some("nexthopd shutting down"),
        "RFC 9003 shutdown communication"
    );
    drop(peer); // our FIN: nothing keeps the shutdown waiting
    let status = n.wait_exit(WAIT).unwrap();
    let log = n.log();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains(&format!("signal=\"{name}\"")), "{log}");
    assert!(clean_end(&log), "no clean end of the shutdown:\n{log}");
}

fn a_second_signal_during_shutdown_exits_at_once_with_0(runtime: RuntimeKind) {
    let (_run, mut n, peer) = established(runtime, "second");
    // The peer neither reads nor closes: the closed connection lingers.
    let _held = peer.into_parts();
    n.signal(libc::SIGINT).unwrap();
    n.wait_log("shutting down: Cease to every peer", WAIT)
        .unwrap();
    n.signal(libc::SIGTERM).unwrap();
    let status = n.wait_exit(WAIT).unwrap();
    let log = n.log();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(
        log.contains("second signal during shutdown: exiting now"),
        "the second signal did not end it:\n{log}"
    );
    assert!(
        !clean_end(&log) && !log.contains("shutdown took too long"),
        "the shutdown ended by itself, not by the second signal:\n{log}"
    );
}

#[test]
fn sigint_sends_cease_6_2_with_the_communication_and_exits_0_mio() {
    signal_sends_cease_6_2_with_the_communication_and_exits_0(RuntimeKind::Mio, libc::SIGINT);
}

#[test]
fn sigint_sends_cease_6_2_with_the_communication_and_exits_0_uring() {
    signal_sends_cease_6_2_with_the_communication_and_exits_0(RuntimeKind::Uring, libc::SIGINT);
}

#[test]
fn sigterm_sends_cease_6_2_with_the_communication_and_exits_0_mio() {
    signal_sends_cease_6_2_with_the_communication_and_exits_0(RuntimeKind::Mio, libc::SIGTERM);
}

#[test]
fn sigterm_sends_cease_6_2_with_the_communication_and_exits_0_uring() {
    signal_sends_cease_6_2_with_the_communication_and_exits_0(RuntimeKind::Uring, libc::SIGTERM);
}

#[test]
fn a_second_signal_during_shutdown_exits_at_once_with_0_mio() {
    a_second_signal_during_shutdown_exits_at_once_with_0(RuntimeKind::Mio);
}

#[test]
fn a_second_signal_during_shutdown_exits_at_once_with_0_uring() {
    a_second_signal_during_shutdown_exits_at_once_with_0(RuntimeKind::Uring);
}
