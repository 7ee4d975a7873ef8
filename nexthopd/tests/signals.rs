//! SIGINT and the second signal (README, "SIGTERM / SIGINT"): SIGINT sends every
//! Established peer a Cease / Administrative Shutdown (6/2) carrying the RFC 9003
//! communication "nexthopd shutting down" and exits 0; a second signal while the
//! shutdown still waits exits at once, status 0 (`nexthopd/src/run.rs`).
//!
//! The peer is a raw BGP speaker on nexthop-core (`raw_peer`). What keeps a
//! shutdown waiting: a closed connection lingers until the peer's FIN (at most
//! the runtime's linger, 2 s); a peer that neither reads nor closes holds it.
//!
//! Addresses: the raw peer listens on 127.0.0.232 (a port the kernel picks),
//! nexthopd on 127.0.0.233 ports 10233-10236 and connects out to the peer.
//! Each test runs on both runtimes (`runtime = "uring"` fails, never skips, where
//! io_uring is missing: nexthopd exits 2).
//! Run under the net lock: `flock /tmp/nexthop-net.lock cargo test -p nexthopd --test signals`.

mod raw_peer;

use std::net::{Ipv4Addr, TcpListener};

use nexthop_core::wire::Family;
use raw_peer::{Nexthopd, RawPeer, test_dir};

const PEER: &str = "127.0.0.232";
const PEER_AS: u32 = 65232;

/// The one place this file writes nexthopd TOML: nexthopd on `listen_port`,
/// one active neighbour at the raw peer's `peer_port`, on `runtime`.
fn config(runtime: &str, listen_port: u16, peer_port: u16) -> String {
    format!(
        "[router]\nasn = 65233\nrouter_id = \"192.0.2.233\"\nlisten = [\"127.0.0.233:{listen_port}\"]\nruntime = \"{runtime}\"\n\n\
         [[neighbor]]\naddress = \"{PEER}\"\nremote_asn = {PEER_AS}\nport = {peer_port}\nconnect_retry_time = 1\n"
    )
}

/// nexthopd started with an Established session to a raw peer.
fn established(runtime: &str, name: &str, listen_port: u16) -> (Nexthopd, RawPeer) {
    let listener = TcpListener::bind((PEER, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let n = Nexthopd::start(&test_dir(name), &config(runtime, listen_port, port));
    let peer = RawPeer::accept(
        &listener,
        PEER_AS,
        Ipv4Addr::new(192, 0, 2, 232),
        &[Family::IPV4_UNICAST],
    );
    assert_eq!(peer.open.asn, 65233);
    n.wait_log("to=Established");
    (n, peer)
}

/// The last line saying the shutdown finished by itself.
fn clean_end(log: &str) -> bool {
    log.lines().any(|l| l.trim_end().ends_with("shut down"))
}

#[test]
fn sigint_sends_cease_6_2_with_the_communication_and_exits_0_mio() {
    sigint_sends_cease_6_2_with_the_communication_and_exits_0("mio", 10233);
}

#[test]
fn sigint_sends_cease_6_2_with_the_communication_and_exits_0_uring() {
    sigint_sends_cease_6_2_with_the_communication_and_exits_0("uring", 10234);
}

#[test]
fn a_second_signal_during_shutdown_exits_at_once_with_0_mio() {
    a_second_signal_during_shutdown_exits_at_once_with_0("mio", 10235);
}

#[test]
fn a_second_signal_during_shutdown_exits_at_once_with_0_uring() {
    a_second_signal_during_shutdown_exits_at_once_with_0("uring", 10236);
}

fn sigint_sends_cease_6_2_with_the_communication_and_exits_0(runtime: &str, port: u16) {
    let (mut n, mut peer) = established(runtime, &format!("sigint-{runtime}"), port);
    n.signal("-INT");
    let cease = peer.wait_notification();
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
    let status = n.wait_exit();
    let log = n.output();
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("signal=\"SIGINT\""), "{log}");
    assert!(clean_end(&log), "no clean end of the shutdown:\n{log}");
}

fn a_second_signal_during_shutdown_exits_at_once_with_0(runtime: &str, port: u16) {
    let (mut n, peer) = established(runtime, &format!("second-signal-{runtime}"), port);
    // The peer neither reads nor closes: the closed connection lingers.
    let _held = peer.into_silent();
    n.signal("-INT");
    n.wait_log("shutting down: Cease to every peer");
    n.signal("-TERM");
    let status = n.wait_exit();
    let log = n.output();
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
