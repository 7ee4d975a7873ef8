//! The devices under test: nexthopd (started here from a generated TOML) and
//! BIRD 2, GoBGP, FRR bgpd and OpenBGPD (started through nexthop-interop's
//! drivers from generated configs). Each gets its own loopback address on port
//! 179, every simulated peer as a passive neighbour (route-reflector client on
//! iBGP), and is stopped by PID when dropped. Its CPU time and peak RSS are
//! read from /proc over its process tree.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nexthop_interop::{Bird, Family, Frr, GoBgp, Neighbor, OpenBgpd, RunDir, SpeakerConfig};
use nexthop_loadgen::{Scenario, Usage};

/// A daemon the benchmark can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// nexthopd on the mio runtime.
    NexthopdMio,
    /// nexthopd on the io_uring runtime.
    NexthopdUring,
    /// BIRD 2.
    Bird,
    /// GoBGP 3.
    GoBgp,
    /// FRR bgpd (without zebra).
    Frr,
    /// OpenBGPD.
    OpenBgpd,
}

impl Kind {
    /// Every kind, nexthopd first.
    pub const ALL: [Kind; 6] = [
        Kind::NexthopdMio,
        Kind::NexthopdUring,
        Kind::Bird,
        Kind::GoBgp,
        Kind::Frr,
        Kind::OpenBgpd,
    ];

    /// Name on the command line and in the table.
    pub fn name(self) -> &'static str {
        match self {
            Kind::NexthopdMio => "nexthopd-mio",
            Kind::NexthopdUring => "nexthopd-uring",
            Kind::Bird => "bird",
            Kind::GoBgp => "gobgp",
            Kind::Frr => "frr",
            Kind::OpenBgpd => "openbgpd",
        }
    }

    /// Parses [`Kind::name`] (also `nexthopd` for mio).
    pub fn parse(s: &str) -> Option<Kind> {
        if s == "nexthopd" {
            return Some(Kind::NexthopdMio);
        }
        Kind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// Whether this is nexthopd.
    pub fn is_nexthopd(self) -> bool {
        matches!(self, Kind::NexthopdMio | Kind::NexthopdUring)
    }

    /// Its own loopback address.
    pub fn address(self) -> Ipv4Addr {
        let i = Kind::ALL.iter().position(|k| *k == self).unwrap_or(0) as u8;
        Ipv4Addr::new(127, 0, 60, 1 + i)
    }

    /// The program it needs, to skip it where it is not installed.
    pub fn program(self) -> Option<&'static str> {
        match self {
            Kind::NexthopdMio | Kind::NexthopdUring => None,
            Kind::Bird => Some("bird"),
            Kind::GoBgp => Some("gobgpd"),
            Kind::Frr => Some("/usr/lib/frr/bgpd"),
            Kind::OpenBgpd => Some("bgpd"),
        }
    }

    /// Whether it can run here.
    pub fn available(self) -> bool {
        match self.program() {
            None => true,
            Some(p) if p.starts_with('/') => Path::new(p).is_file(),
            Some(p) => std::env::var_os("PATH")
                .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(p).is_file())),
        }
    }
}

/// A running device under test, stopped on drop (the drivers' values are
/// held for their `Drop`).
#[allow(dead_code)]
pub enum Dut {
    /// nexthopd, our child.
    Nexthopd(NexthopdChild),
    /// BIRD.
    Bird(Bird),
    /// GoBGP.
    GoBgp(GoBgp),
    /// FRR.
    Frr(Frr),
    /// OpenBGPD.
    OpenBgpd(OpenBgpd),
}

/// nexthopd as a child process, killed by PID on drop.
pub struct NexthopdChild {
    child: Child,
    log: PathBuf,
}

impl Drop for NexthopdChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nexthopd's TOML for scenario `s`: every simulated peer a passive
/// neighbour, route-reflector client on iBGP, route-server client on eBGP.
pub fn nexthopd_toml(s: &Scenario, kind: Kind) -> String {
    let addr = kind.address();
    let mut c = String::new();
    let _ = writeln!(
        c,
        "[router]\nasn = {}\nrouter_id = \"192.0.2.{}\"\nlisten = [\"{}\"]\nruntime = \"{}\"",
        s.dut_asn,
        addr.octets()[3],
        s.dut,
        if kind == Kind::NexthopdUring {
            "uring"
        } else {
            "mio"
        }
    );
    if s.ibgp {
        let _ = writeln!(c, "cluster_id = \"192.0.2.{}\"", addr.octets()[3]);
    }
    for i in 0..s.peers() {
        let _ = writeln!(
            c,
            "\n[[neighbor]]\naddress = \"{}\"\nremote_asn = {}\npassive = true\nmrai = 0\nhold_time = {}\nfamilies = [\"ipv4-unicast\"]\n{} = true",
            s.peer_addr(i),
            s.peer_asn(i),
            s.hold_time,
            if s.ibgp {
                "route_reflector_client"
            } else {
                "route_server_client"
            }
        );
    }
    c
}

/// The interop drivers' config for scenario `s`: route-reflector clients on
/// iBGP, route-server clients (RFC 7947) on eBGP, as for nexthopd.
pub fn speaker_config(s: &Scenario, kind: Kind) -> SpeakerConfig {
    let mut cfg = SpeakerConfig::new(kind.address(), s.dut_asn);
    if s.ibgp {
        cfg.cluster_id = Some(cfg.router_id);
    }
    for i in 0..s.peers() {
        let mut n = Neighbor::new(s.peer_addr(i), s.peer_asn(i))
            .passive()
            .families(&[Family::Ipv4Unicast])
            .hold_time(s.hold_time);
        n = if s.ibgp { n.rr_client() } else { n.rs_client() };
        cfg = cfg.neighbor(n);
    }
    cfg
}

fn is_listening(addr: SocketAddr) -> Option<u64> {
    let IpAddr::V4(ip) = addr.ip() else {
        return None;
    };
    let want = format!(
        "{:08X}:{:04X}",
        u32::from_le_bytes(ip.octets()),
        addr.port()
    );
    let t = std::fs::read_to_string("/proc/net/tcp").ok()?;
    t.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(1) == Some(&want.as_str()) && f.get(3) == Some(&"0A"))
            .then(|| f.get(9)?.parse().ok())
            .flatten()
    })
}

fn ppid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.get(stat.rfind(')')? + 2..)?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The process that holds the listening socket on `addr`, climbed up to the
/// ancestor that is our child (or was re-parented to us or to init): the root
/// of the daemon's process tree.
pub fn daemon_root(addr: SocketAddr) -> Option<u32> {
    let inode = is_listening(addr)?;
    let target = format!("socket:[{inode}]");
    let owner = std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        fds.flatten()
            .any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|l| l.to_str() == Some(target.as_str()))
            })
            .then_some(pid)
    })?;
    let me = std::process::id();
    let mut pid = owner;
    while let Some(pp) = ppid(pid) {
        if pp == me || pp <= 1 {
            break;
        }
        pid = pp;
    }
    Some(pid)
}

impl Dut {
    /// Starts `kind` for scenario `s` (which must name its address), waits
    /// until it listens.
    pub fn start(
        kind: Kind,
        s: &Scenario,
        run_dir: &RunDir,
        nexthopd: &Path,
    ) -> Result<Dut, String> {
        let e = |e: nexthop_interop::Error| e.to_string();
        let dut = match kind {
            Kind::NexthopdMio | Kind::NexthopdUring => {
                let dir = run_dir
                    .subdir(&format!("{}-{}", kind.name(), kind.address()))
                    .map_err(e)?;
                let conf = dir.join("nexthopd.toml");
                std::fs::write(&conf, nexthopd_toml(s, kind)).map_err(|e| e.to_string())?;
                let log = dir.join("nexthopd.log");
                let f = std::fs::File::create(&log).map_err(|e| e.to_string())?;
                let f2 = f.try_clone().map_err(|e| e.to_string())?;
                let mut cmd = Command::new(nexthopd);
                cmd.arg("run")
                    .arg("--config")
                    .arg(&conf)
                    .stdin(Stdio::null())
                    .stdout(f)
                    .stderr(f2);
                if std::env::var_os("RUST_LOG").is_none() {
                    cmd.env("RUST_LOG", "warn");
                }
                let child = cmd
                    .spawn()
                    .map_err(|e| format!("{}: {e}", nexthopd.display()))?;
                Dut::Nexthopd(NexthopdChild { child, log })
            }
            Kind::Bird => Dut::Bird(Bird::start(run_dir, speaker_config(s, kind)).map_err(e)?),
            Kind::GoBgp => Dut::GoBgp(GoBgp::start(run_dir, speaker_config(s, kind)).map_err(e)?),
            Kind::Frr => Dut::Frr(Frr::start(run_dir, speaker_config(s, kind)).map_err(e)?),
            Kind::OpenBgpd => {
                Dut::OpenBgpd(OpenBgpd::start(run_dir, speaker_config(s, kind)).map_err(e)?)
            }
        };
        let mut dut = dut;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Dut::Nexthopd(n) = &mut dut
                && let Ok(Some(st)) = n.child.try_wait()
            {
                let out = std::fs::read_to_string(&n.log).unwrap_or_default();
                return Err(format!("{} exited ({st}): {}", kind.name(), out.trim()));
            }
            if is_listening(s.dut).is_some() {
                return Ok(dut);
            }
            if Instant::now() > deadline {
                return Err(format!("{} does not listen on {}", kind.name(), s.dut));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The root of its process tree.
    pub fn pid(&self, addr: SocketAddr) -> Option<u32> {
        match self {
            Dut::Nexthopd(n) => Some(n.child.id()),
            _ => daemon_root(addr),
        }
    }
}

/// CPU time and peak RSS over `pid`'s process tree.
pub fn usage(pid: Option<u32>) -> Usage {
    pid.and_then(Usage::of_process_tree).unwrap_or_default()
}
