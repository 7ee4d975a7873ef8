//! BIRD 2 as the device under test: a route-reflector config generated for a
//! scenario's peers (interop-notes: `strict bind`, `multihop`, an IGP table so
//! that 198.51.100.0/24 and 2001:db8::/32 next hops resolve), started with its
//! own pid file in a temporary directory and killed by that PID on drop.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use nexthop_loadgen::Scenario;

/// A BIRD process, killed by PID on drop.
pub struct Bird {
    dir: PathBuf,
    /// BIRD's PID.
    pub pid: Option<u32>,
}

impl Bird {
    /// Writes a route-reflector config for the scenario's peers and starts BIRD.
    pub fn start(s: &Scenario) -> Bird {
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
               strict bind; multihop;{passive}\n\
               rr client;\n\
               hold time 90;\n\
               ipv4 {{ import all; export all; igp table igp4;{add_paths} }};\n\
               ipv6 {{ import all; export all; igp table igp6;{add_paths} }};\n\
             }}\n",
            log = dir.join("bird.log").display(),
            port = s.dut.port(),
            asn = s.dut_asn,
            // Peers that listen are dialled; the others dial BIRD.
            passive = if s.passive { "" } else { " passive on;" },
            add_paths = if s.add_path { " add paths on;" } else { "" },
        );
        for i in 0..s.peers() {
            writeln!(
                conf,
                "protocol bgp peer{i} from rrclient {{ neighbor {} port {} as {}; }}",
                s.peer_addr(i),
                s.dut.port(),
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
            // Wait until it is gone, so that the next BIRD can bind the address.
            let until = Instant::now() + Duration::from_secs(5);
            while alive(pid) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether process `pid` exists and is not a zombie.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let state = s.get(s.rfind(')')? + 2..)?.chars().next()?;
            Some(state != 'Z')
        })
        .unwrap_or(false)
}

/// Whether `bird` runs at all.
pub fn bird_installed() -> bool {
    Command::new("bird").arg("--version").output().is_ok()
}
