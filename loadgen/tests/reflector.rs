//! End to end on loopback: simulated peers through the built-in reflector.
//! Addresses: reflectors on 127.0.0.91-94, peers from 127.0.0.100 up, each
//! test its own range.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use nexthop_loadgen::{Phase, ReflectorConfig, Scenario, reflect, run};

/// A reflector on its own thread, stopped on drop (also on a failed assert).
struct Reflector {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Reflector {
    fn start(listen: SocketAddr, asn: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let mut c = ReflectorConfig::new(listen);
        c.asn = asn;
        let thread = std::thread::spawn(move || {
            reflect(&c, &s).expect("reflector runs");
        });
        Reflector {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Reflector {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// 1 sender x 10,000 prefixes -> 5 receivers; then 30% withdrawn.
#[test]
fn every_receiver_gets_the_table_and_the_withdrawals() {
    let dut: SocketAddr = "127.0.0.91:179".parse().unwrap();
    let _r = Reflector::start(dut, 65000);
    let mut s = Scenario::new(dut);
    s.peer_base = "127.0.0.100".parse().unwrap();
    s.receivers = 5;
    s.prefixes = 10_000;
    s.withdraw = 0.3;
    s.timeout = Duration::from_secs(60);
    let mut phases = Vec::new();
    let report = run(&s, |p| {
        if phases.last() != Some(&p.phase) {
            phases.push(p.phase);
        }
        assert!(p.received.iter().all(|&c| c <= 10_000));
    })
    .unwrap();
    eprintln!("{report}");
    assert!(report.complete, "{report}");
    assert_eq!(report.expected, 10_000);
    assert_eq!(report.received_at_convergence, vec![10_000; 5]);
    assert_eq!(report.expected_after_withdraw, Some(7_000));
    assert_eq!(report.received, vec![7_000; 5]);
    assert!(report.receiver_complete.iter().all(Option::is_some));
    assert_eq!(report.routes_received, 50_000);
    assert_eq!(report.session_drops, 0);
    assert_eq!(report.update_errors, 0);
    assert_eq!(report.unexpected_prefixes, 0);
    assert!(report.established.is_some() && report.convergence.is_some());
    assert!(report.first_prefix <= report.last_prefix);
    // Every UPDATE the sender wrote reached every receiver once.
    assert_eq!(report.updates_received, 5 * report.updates_sent);
    assert_eq!(
        phases,
        [
            Phase::Connecting,
            Phase::Announcing,
            Phase::Withdrawing,
            Phase::Holding,
            Phase::Done
        ]
        .iter()
        .filter(|p| phases.contains(p))
        .copied()
        .collect::<Vec<_>>()
    );
    assert_eq!(phases.last(), Some(&Phase::Done));
}

/// Two eBGP senders with IPv4 and IPv6 (MP_REACH_NLRI), small UPDATEs, three
/// receivers; the whole IPv6 part withdrawn with MP_UNREACH_NLRI.
#[test]
fn ebgp_ipv4_and_ipv6_from_two_senders() {
    let dut: SocketAddr = "127.0.0.92:179".parse().unwrap();
    let _r = Reflector::start(dut, 65000);
    let mut s = Scenario::new(dut);
    s.peer_base = "127.0.0.120".parse().unwrap();
    s.ibgp = false;
    s.local_asn = 65100;
    s.senders = 2;
    s.receivers = 3;
    s.prefixes = 3_000;
    s.ipv6_prefixes = 1_000;
    s.per_update = Some(10);
    s.withdraw = 0.5;
    s.timeout = Duration::from_secs(60);
    let report = run(&s, |_| {}).unwrap();
    eprintln!("{report}");
    assert!(report.complete, "{report}");
    assert_eq!(report.expected, 8_000);
    assert_eq!(report.received_at_convergence, vec![8_000; 3]);
    assert_eq!(report.received, vec![4_000; 3]);
    // 2 x (300 + 100) announcements, 2 x (1500/... ) withdrawals at most 4096 octets.
    assert!(report.updates_sent > 800);
    assert_eq!(report.update_errors, 0);
}

/// Peers that never get an answer time out instead of hanging; the report
/// says the run is incomplete.
#[test]
fn an_absent_dut_times_out_incomplete() {
    let mut s = Scenario::new("127.0.0.93:179".parse().unwrap());
    s.peer_base = "127.0.0.140".parse().unwrap();
    s.timeout = Duration::from_secs(2);
    let report = run(&s, |_| {}).unwrap();
    assert!(!report.complete);
    assert_eq!(report.established, None);
    assert_eq!(report.received, vec![0]);
}

/// `nexthop-loadgen calibrate` runs the reflector as a child process and
/// reports both CPU times.
#[test]
fn calibrate_reports_both_cpu_times() {
    let out = Command::new(env!("CARGO_BIN_EXE_nexthop-loadgen"))
        .args([
            "calibrate",
            "--listen",
            "127.0.0.94:179",
            "--peer-base",
            "127.0.0.150",
            "--receivers",
            "4",
            "--prefixes",
            "20000",
            "--timeout",
            "60",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("{v}");
    assert_eq!(
        v["complete"],
        true,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        v["received"],
        serde_json::json!([20_000, 20_000, 20_000, 20_000])
    );
    assert!(v["loadgen_cpu_secs"].as_f64().is_some());
    assert!(v["reflector_cpu_secs"].as_f64().is_some());
    assert!(v["loadgen_cpu_share"].as_f64().is_some());
}

/// A stop flag ends a run early: sessions up, nothing counted, incomplete.
#[test]
fn a_stop_flag_ends_the_run() {
    let dut: SocketAddr = "127.0.0.93:1793".parse().unwrap();
    let _r = Reflector::start(dut, 65000);
    let mut s = Scenario::new(dut);
    s.peer_base = "127.0.0.160".parse().unwrap();
    s.senders = 0;
    s.receivers = 3;
    s.prefixes = 0;
    s.hold = Duration::from_secs(600);
    s.timeout = Duration::from_secs(60);
    let stop = AtomicBool::new(false);
    let report = nexthop_loadgen::run_with_stop(
        &s,
        |p| {
            if p.phase == Phase::Holding {
                stop.store(true, Ordering::Relaxed);
            }
        },
        &stop,
    )
    .unwrap();
    assert!(report.established.is_some());
    assert!(
        report.wall < Duration::from_secs(60),
        "stopped, not timed out"
    );
}

/// Sessions started one at a time all come up and get the table; the
/// progress callback never sees the count of sessions up go down.
#[test]
fn paced_session_starts() {
    let dut: SocketAddr = "127.0.0.94:1794".parse().unwrap();
    let _r = Reflector::start(dut, 65000);
    let mut s = Scenario::new(dut);
    s.peer_base = "127.0.0.170".parse().unwrap();
    s.receivers = 4;
    s.prefixes = 1_000;
    s.connect_interval = Duration::from_millis(150);
    s.timeout = Duration::from_secs(60);
    let mut seen = Vec::new();
    let report = run(&s, |p| {
        if seen.last() != Some(&p.established) {
            seen.push(p.established);
        }
    })
    .unwrap();
    assert!(report.complete, "{report}");
    assert_eq!(report.received, vec![1_000; 4]);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert_eq!(seen.last(), Some(&5));
}

/// Overlapping iBGP senders through the reflector, which passes on whatever
/// came last and selects no best path: without final-path tracking the run
/// completes; with it, it does not (and says it tracked them).
#[test]
fn a_dut_without_best_paths_completes_only_without_final_tracking() {
    let dut: SocketAddr = "127.0.0.92:1792".parse().unwrap();
    let _r = Reflector::start(dut, 65000);
    for final_paths in [false, true] {
        let mut s = Scenario::new(dut);
        s.peer_base = "127.0.0.180".parse().unwrap();
        s.senders = 3;
        s.receivers = 2;
        s.prefixes = 2_000;
        s.overlap = 1.0;
        s.final_paths = final_paths;
        s.timeout = Duration::from_secs(if final_paths { 3 } else { 60 });
        let report = run(&s, |_| {}).unwrap();
        assert_eq!(report.final_tracked, final_paths, "{report}");
        assert!(
            report.convergence.is_some(),
            "every prefix arrived: {report}"
        );
        if final_paths {
            assert!(
                !report.complete,
                "the reflector's paths are not the shortest: {report}"
            );
        } else {
            assert!(report.complete, "{report}");
        }
    }
}
