//! Through BIRD 2 as an iBGP route reflector, when `bird` is installed (skipped
//! otherwise, saying so; a failure under `CI=true`). BIRD runs from the config
//! nexthop-interop's driver generates for the scenario, in a run directory of
//! its own, and is stopped by PID on drop, also when an assertion fails. BIRDs
//! on 127.0.0.95-99, peers from 127.0.0.200 to .249.

use std::net::SocketAddr;
use std::time::Duration;

use nexthop_interop::Speaker;
use nexthop_loadgen::{Scenario, Usage, run};

mod support;
use support::start_bird;

/// 1 sender x 10,000 IPv4 and 1,000 IPv6 prefixes -> 5 receivers through BIRD
/// as route reflector, then 30% withdrawn.
#[test]
fn through_bird_as_route_reflector() {
    let dut: SocketAddr = "127.0.0.96:1796".parse().unwrap();
    let mut s = Scenario::new(dut);
    s.peer_base = "127.0.0.200".parse().unwrap();
    s.receivers = 5;
    s.prefixes = 10_000;
    s.ipv6_prefixes = 1_000;
    s.withdraw = 0.3;
    s.timeout = Duration::from_secs(120);
    let Some((_run, bird)) = start_bird("through_bird", &s) else {
        return;
    };
    let report = run(&s, |_| {}).unwrap();
    let theirs = bird.pid().and_then(Usage::of_pid);
    eprintln!("{report}\nbird: {theirs:?}");
    assert!(report.complete, "{report}");
    assert_eq!(report.expected, 11_000);
    assert_eq!(report.received_at_convergence, vec![11_000; 5]);
    assert_eq!(report.expected_after_withdraw, Some(7_700));
    assert_eq!(report.received, vec![7_700; 5]);
    assert_eq!(report.update_errors, 0);
    assert_eq!(report.session_drops, 0);
}

/// Ten senders announcing the same 2,000 prefixes with different attributes
/// (BIRD picks a best path for each: the strictly shortest AS_PATH, which
/// every receiver must end up with), three receivers; then every sender
/// withdraws half and the other half stays.
#[test]
fn overlapping_senders_through_bird() {
    let dut: SocketAddr = "127.0.0.97:1797".parse().unwrap();
    let mut s = Scenario::new(dut);
    s.peer_base = "127.0.0.220".parse().unwrap();
    s.senders = 10;
    s.receivers = 3;
    s.prefixes = 2_000;
    s.overlap = 1.0;
    s.per_update = Some(50);
    s.withdraw = 0.5;
    s.timeout = Duration::from_secs(120);
    let Some((_run, _bird)) = start_bird("overlapping", &s) else {
        return;
    };
    let report = run(&s, |_| {}).unwrap();
    eprintln!("{report}");
    assert!(report.complete, "{report}");
    assert_eq!(report.expected, 2_000);
    assert_eq!(report.received_at_convergence, vec![2_000; 3]);
    // The senders' decisive path lengths make one best path per prefix, and
    // BIRD's choice is the expected one at every receiver.
    assert!(report.final_tracked);
    let fin = report.final_convergence.expect("final best paths held");
    assert!(fin >= report.convergence.unwrap());
    assert_eq!(report.received, vec![1_000; 3]);
}

/// Peers that wait for BIRD to connect to them (passive TCP establishment,
/// RFC 4271 §8.1.1), each listening on its own address.
#[test]
fn passive_peers_are_dialled_by_bird() {
    let dut: SocketAddr = "127.0.0.99:1799".parse().unwrap();
    let mut s = Scenario::new(dut);
    s.peer_base = "127.0.0.240".parse().unwrap();
    s.passive = true;
    s.receivers = 2;
    s.prefixes = 1_000;
    s.timeout = Duration::from_secs(120);
    let Some((_run, _bird)) = start_bird("passive", &s) else {
        return;
    };
    let report = run(&s, |_| {}).unwrap();
    eprintln!("{report}");
    assert!(report.complete, "{report}");
    assert_eq!(report.received, vec![1_000; 2]);
}

/// ADD-PATH (RFC 7911) both ways: three senders announce the same prefixes
/// with path identifiers, BIRD sends every path to the receivers, which count
/// each prefix once; withdrawing half from every sender takes half away.
#[test]
fn add_path_receivers_count_prefixes_not_paths() {
    let dut: SocketAddr = "127.0.0.95:1795".parse().unwrap();
    let mut s = Scenario::new(dut);
    s.peer_base = "127.0.0.245".parse().unwrap();
    s.add_path = true;
    s.senders = 3;
    s.receivers = 2;
    s.prefixes = 1_000;
    s.overlap = 1.0;
    s.withdraw = 0.5;
    s.timeout = Duration::from_secs(120);
    let Some((_run, _bird)) = start_bird("add_path", &s) else {
        return;
    };
    let report = run(&s, |_| {}).unwrap();
    eprintln!("{report}");
    assert!(report.complete, "{report}");
    assert_eq!(report.received_at_convergence, vec![1_000; 2]);
    assert_eq!(report.received, vec![500; 2]);
    // Several paths per prefix arrived: more announcements than prefixes.
    assert_eq!(report.update_errors, 0);
}
