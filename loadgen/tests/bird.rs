//! Through BIRD 2 as an iBGP route reflector, when `bird` is installed (skipped
//! otherwise, saying so). BIRD runs from a generated config in a temporary
//! directory with its own pid file and is killed by that PID on drop, also
//! when an assertion fails. BIRD on 127.0.0.96:1796, peers from 127.0.0.200.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use nexthop_loadgen::{Scenario, Usage, run};

/// A BIRD process, killed by PID on drop.
struct Bird {
    dir: PathBuf,
    pid: Option<u32>,
}

impl Bird {
    /// Writes a route-reflector config for the scenario's peers and starts BIRD.
    fn start(s: &Scenario) -> Bird {
        let dir = std::env::temp_dir().join(format!(
            "nexthop-loadgen-bird-{}-{}",
            std::process::id(),
            s.dut.port()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ip = s.dut.ip();
        let mut conf = format!(
            "router id {ip};\n\
             log \"{log}\" {{ warning, error, fatal }};\n\
             protocol device {{}}\n\
             ipv4 table igp4;\n\
             ipv6 table igp6;\n\
             protocol static igp_v4 {{ ipv4 {{ table igp4; }}; route 198.51.100.0/24 via \"lo\"; }}\n\
             protocol static igp_v6 {{ ipv6 {{ table igp6; }}; route 2001:db8::/32 via \"lo\"; }}\n\
             template bgp rrclient {{\n\
               local {ip} port {port} as {asn};\n\
               strict bind; multihop; passive on;\n\
               rr client;\n\
               hold time 90;\n\
               ipv4 {{ import all; export all; igp table igp4; }};\n\
               ipv6 {{ import all; export all; igp table igp6; }};\n\
             }}\n",
            log = dir.join("bird.log").display(),
            port = s.dut.port(),
            asn = s.dut_asn,
        );
        for i in 0..s.peers() {
            writeln!(
                conf,
                "protocol bgp peer{i} from rrclient {{ neighbor {} as {}; }}",
                s.peer_addr(i),
                s.peer_asn(i)
            )
            .unwrap();
        }
        let file = dir.join("bird.conf");
        std::fs::write(&file, conf).unwrap();
        let pid_file = dir.join("bird.pid");
        let status = Command::new("bird")
            .arg("-c")
            .arg(&file)
            .arg("-s")
            .arg(dir.join("bird.ctl"))
            .arg("-P")
            .arg(&pid_file)
            .status()
            .expect("bird starts");
        assert!(status.success(), "bird refused its config");
        let mut bird = Bird { dir, pid: None };
        let until = Instant::now() + Duration::from_secs(10);
        while bird.pid.is_none() && Instant::now() < until {
            bird.pid = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|p| p.trim().parse().ok());
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(bird.pid.is_some(), "no pid file from bird");
        bird
    }
}

impl Drop for Bird {
    fn drop(&mut self) {
        if let Some(pid) = self.pid {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn bird_installed() -> bool {
    Command::new("bird").arg("--version").output().is_ok()
}

/// 1 sender x 10,000 IPv4 and 1,000 IPv6 prefixes -> 5 receivers through BIRD
/// as route reflector, then 30% withdrawn.
#[test]
fn through_bird_as_route_reflector() {
    if !bird_installed() {
        eprintln!("skipped: bird is not installed (apt-get install bird2)");
        return;
    }
    let dut: SocketAddr = "127.0.0.96:1796".parse().unwrap();
    let mut s = Scenario::new(dut);
    s.peer_base = "127.0.0.200".parse().unwrap();
    s.receivers = 5;
    s.prefixes = 10_000;
    s.ipv6_prefixes = 1_000;
    s.withdraw = 0.3;
    s.timeout = Duration::from_secs(120);
    let bird = Bird::start(&s);
    let report = run(&s, |_| {}).unwrap();
    let theirs = Usage::of_pid(bird.pid.unwrap());
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
/// (BIRD picks a best path for each), three receivers; then every sender
/// withdraws half and the other half stays.
#[test]
fn overlapping_senders_through_bird() {
    if !bird_installed() {
        eprintln!("skipped: bird is not installed (apt-get install bird2)");
        return;
    }
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
    let _bird = Bird::start(&s);
    let report = run(&s, |_| {}).unwrap();
    eprintln!("{report}");
    assert!(report.complete, "{report}");
    assert_eq!(report.expected, 2_000);
    assert_eq!(report.received_at_convergence, vec![2_000; 3]);
    assert_eq!(report.received, vec![1_000; 3]);
}
