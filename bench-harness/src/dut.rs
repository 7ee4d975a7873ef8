//! The devices under test: nexthopd (started by test-support from the config
//! the load generator's scenario gives it) and BIRD 2, GoBGP, FRR bgpd and
//! OpenBGPD (started through nexthop-interop's drivers from the configs they
//! generate for the scenario). Each gets its own loopback address on port 179,
//! every simulated peer as a passive neighbour (route-reflector client on
//! iBGP, route-server client on eBGP), and is stopped by PID when dropped. Its
//! CPU time and peak RSS are read from /proc over its process tree.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use nexthop_interop::{Bird, Frr, GoBgp, OpenBgpd, RunDir, SpeakerConfig};
use nexthop_loadgen::{Scenario, Usage};
use nexthop_speaker::config::RuntimeKind;
use nexthop_speaker::config::file::ConfigFile;
use nexthop_test_support::nexthopd::{Nexthopd, Options};
use nexthop_test_support::poll;
use nexthop_test_support::procfs::{is_listening, listener_root};

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
        self.program().is_none_or(nexthop_test_support::installed)
    }
}

/// A running device under test, stopped by PID on drop (the values are held
/// for their `Drop`).
#[allow(dead_code)]
pub enum Dut {
    /// nexthopd, our child.
    Nexthopd(Nexthopd),
    /// BIRD.
    Bird(Bird),
    /// GoBGP.
    GoBgp(GoBgp),
    /// FRR.
    Frr(Frr),
    /// OpenBGPD.
    OpenBgpd(OpenBgpd),
}

/// nexthopd's config for scenario `s` on the runtime of `kind`
/// ([`Scenario::nexthopd_config`]: every simulated peer a passive neighbour,
/// route-reflector client on iBGP, route-server client on eBGP).
pub fn nexthopd_config(s: &Scenario, kind: Kind) -> ConfigFile {
    s.nexthopd_config().runtime(if kind == Kind::NexthopdUring {
        RuntimeKind::Uring
    } else {
        RuntimeKind::Mio
    })
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
        let cfg = || SpeakerConfig::for_scenario(s).map_err(e);
        let dut = match kind {
            Kind::NexthopdMio | Kind::NexthopdUring => {
                let dir = run_dir
                    .subdir(&format!("{}-{}", kind.name(), kind.address()))
                    .map_err(|e| e.to_string())?;
                let options = Options {
                    rust_log: "warn".into(),
                    start_timeout: Duration::from_secs(30),
                    ..Options::default()
                };
                let toml = nexthopd_config(s, kind).to_toml();
                let n = Nexthopd::start_with(nexthopd, &dir, &toml, s.dut, options)
                    .map_err(|e| format!("{}: {e}", kind.name()))?;
                return Ok(Dut::Nexthopd(n));
            }
            Kind::Bird => Dut::Bird(Bird::start(run_dir, cfg()?).map_err(e)?),
            Kind::GoBgp => Dut::GoBgp(GoBgp::start(run_dir, cfg()?).map_err(e)?),
            Kind::Frr => Dut::Frr(Frr::start(run_dir, cfg()?).map_err(e)?),
            Kind::OpenBgpd => Dut::OpenBgpd(OpenBgpd::start(run_dir, cfg()?).map_err(e)?),
        };
        // The drivers wait for their control interface; the BGP listener may
        // come a little later.
        poll(Duration::from_secs(30), || {
            is_listening(s.dut).then_some(())
        })
        .map(|()| dut)
        .ok_or_else(|| format!("{} does not listen on {}", kind.name(), s.dut))
    }

    /// The root of its process tree.
    pub fn pid(&self, addr: SocketAddr) -> Option<u32> {
        match self {
            Dut::Nexthopd(n) => Some(n.pid()),
            _ => listener_root(addr),
        }
    }
}

/// CPU time and peak RSS over `pid`'s process tree.
pub fn usage(pid: Option<u32>) -> Usage {
    pid.and_then(Usage::of_process_tree).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nexthopd_runs_the_runtime_of_its_kind() {
        let s = Scenario::new(SocketAddr::new(Kind::NexthopdUring.address().into(), 179));
        let c = nexthopd_config(&s, Kind::NexthopdUring).config().unwrap();
        assert_eq!(c.router.runtime, Some(RuntimeKind::Uring));
        assert_eq!(c.router.router_id, std::net::Ipv4Addr::new(192, 0, 2, 2));
        let c = nexthopd_config(&s, Kind::NexthopdMio).config().unwrap();
        assert_eq!(c.router.runtime, Some(RuntimeKind::Mio));
    }
}
