//! BIRD 2 driver: `bird -f` in the foreground, `birdc` on a control socket in the
//! run directory. One `protocol bgp` per neighbour, named `peer_<address>`.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::driver::{CLI_TIMEOUT, Driver, Flavor, Instance, Originate, instance_in_field};
use crate::model::{Community, LargeCommunity, parse_as_path};
use crate::{
    Error, Family, Neighbor, Prefix, ReceivedRoute, Result, Route, RunDir, SessionState, Speaker,
    SpeakerConfig,
};
use nexthop_test_support::process::{run, write_file};

const BIRD: Flavor = Flavor {
    name: "bird",
    process: "bird",
    log: Some("bird.log"),
    ready: "birdc to answer",
    start_timeout: Duration::from_secs(15),
    stop_grace: Duration::from_secs(2),
};

/// A BIRD 2 daemon under test; stopped on drop.
#[derive(Debug)]
pub struct Bird {
    inst: Instance,
}

/// The protocol name BIRD knows `n` by.
pub fn protocol_name(n: &Neighbor) -> String {
    let a = n.address.to_string().replace('.', "_");
    if n.port == 179 {
        format!("peer_{a}")
    } else {
        format!("peer_{a}_p{}", n.port)
    }
}

impl Bird {
    /// Writes the config, starts BIRD and waits until `birdc` answers.
    pub fn start(run_dir: &RunDir, cfg: SpeakerConfig) -> Result<Bird> {
        if cfg.routes.iter().any(|r| r.next_hop.is_some()) {
            return Err(Error::new(
                "the BIRD driver sends the speaker's next_hop_v4/v6; per-route next hops are not supported",
            ));
        }
        Bird {
            inst: Instance::new(run_dir, &BIRD, cfg)?,
        }
        .launched()
    }

    fn conf_path(&self) -> PathBuf {
        self.inst.dir.join("bird.conf")
    }
    fn ctl(&self) -> String {
        self.inst
            .dir
            .join("bird.ctl")
            .to_string_lossy()
            .into_owned()
    }

    /// Runs `birdc` with `args`, returns its output without the banner.
    pub fn birdc(&self, args: &[&str]) -> Result<String> {
        let ctl = self.ctl();
        let out = run("birdc", &[&["-s", &ctl], args].concat(), CLI_TIMEOUT)?;
        Ok(out
            .lines()
            .filter(|l| !l.starts_with("BIRD ") || !l.ends_with("ready."))
            .collect::<Vec<_>>()
            .join("\n"))
    }

    /// Writes `cfg` as the config and has BIRD load it.
    fn reconfigure(&self, cfg: &SpeakerConfig) -> Result<()> {
        write_file(&self.conf_path(), &render(cfg, &self.inst.dir))?;
        let out = self.birdc(&["configure"])?;
        if out.contains("Reconfigured") || out.contains("Reconfiguration in progress") {
            Ok(())
        } else {
            Err(Error::new(format!(
                "{}: birdc configure: {out}",
                self.name()
            )))
        }
    }
}

impl Driver for Bird {
    instance_in_field!();
    fn command(&self) -> Result<Command> {
        write_file(&self.conf_path(), &render(&self.inst.cfg, &self.inst.dir))?;
        let mut cmd = Command::new("bird");
        cmd.arg("-f")
            .arg("-c")
            .arg(self.conf_path())
            .arg("-s")
            .arg(self.ctl())
            .arg("-P")
            .arg(self.inst.dir.join("bird.pid"));
        Ok(cmd)
    }
    fn ready(&self) -> bool {
        self.birdc(&["show", "status"]).is_ok()
    }
}

impl Originate for Bird {
    /// A static route, by reconfiguration.
    fn originate(&self, route: &Route) -> Result<()> {
        if route.next_hop.is_some() {
            return Err(Error::new(
                "BIRD driver: per-route next hops are not supported",
            ));
        }
        let mut cfg = self.inst.cfg.clone();
        cfg.set_route(route.clone());
        self.reconfigure(&cfg)
    }
    fn stop_originating(&self, prefix: Prefix) -> Result<()> {
        let mut cfg = self.inst.cfg.clone();
        cfg.remove_route(prefix);
        self.reconfigure(&cfg)
    }
}

impl Speaker for Bird {
    fn session_state(&self, neighbor: Ipv4Addr) -> Result<SessionState> {
        let n = self.inst.cfg.find_neighbor(neighbor)?;
        let out = self.birdc(&["show", "protocols", "all", &protocol_name(n)])?;
        Ok(out
            .lines()
            .find_map(|l| l.trim().strip_prefix("BGP state:"))
            .map(SessionState::parse)
            .unwrap_or_else(|| SessionState::Other(out.clone())))
    }

    fn received_routes(&self, neighbor: Ipv4Addr) -> Result<Vec<ReceivedRoute>> {
        let n = self.inst.cfg.find_neighbor(neighbor)?;
        let out = self.birdc(&["show", "route", "all", "protocol", &protocol_name(n)])?;
        Ok(parse_routes(&out))
    }

    fn request_refresh(&self, neighbor: Ipv4Addr) -> Result<()> {
        let n = self.inst.cfg.find_neighbor(neighbor)?;
        self.birdc(&["reload", "in", &protocol_name(n)]).map(|_| ())
    }
}

fn render(cfg: &SpeakerConfig, dir: &std::path::Path) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "# generated by nexthop-interop");
    let _ = writeln!(c, "router id {};", cfg.router_id);
    let _ = writeln!(c, "log \"{}\" all;", dir.join("bird.log").display());
    // BIRD ignores `lo` for next-hop resolution: a private table holds the
    // documentation next-hop ranges as reachable through lo.
    c.push_str(
        "ipv4 table igp4;\nipv6 table igp6;\nprotocol device { }\n\
         protocol static igp_nh4 { ipv4 { table igp4; }; route 198.51.100.0/24 via \"lo\"; }\n\
         protocol static igp_nh6 { ipv6 { table igp6; }; route 2001:db8::/32 via \"lo\"; }\n",
    );
    for (name, v6) in [("orig4", false), ("orig6", true)] {
        let _ = writeln!(c, "protocol static {name} {{");
        let _ = writeln!(c, "  {};", if v6 { "ipv6" } else { "ipv4" });
        for r in cfg.routes.iter().filter(|r| r.prefix.is_v6() == v6) {
            let _ = write!(c, "  route {} via \"lo\" {{", r.prefix);
            for Community(a, b) in &r.communities {
                let _ = write!(c, " bgp_community.add(({a},{b}));");
            }
            for LargeCommunity(a, b, d) in &r.large_communities {
                let _ = write!(c, " bgp_large_community.add(({a},{b},{d}));");
            }
            c.push_str(" };\n");
        }
        c.push_str("}\n");
    }
    for n in &cfg.neighbors {
        let _ = writeln!(c, "protocol bgp {} {{", protocol_name(n));
        let _ = writeln!(
            c,
            "  local {} port {} as {};",
            cfg.local_address, cfg.port, cfg.asn
        );
        let _ = writeln!(c, "  neighbor {} port {} as {};", n.address, n.port, n.asn);
        // Without strict bind BIRD listens on 0.0.0.0; without multihop it refuses a
        // 127.x neighbour ("Invalid remote address").
        c.push_str("  strict bind;\n  multihop;\n  debug { states, events };\n");
        if n.passive {
            c.push_str("  passive on;\n");
        }
        let _ = writeln!(c, "  hold time {};", n.hold_time);
        let _ = writeln!(
            c,
            "  connect delay time 1;\n  connect retry time {};\n  error wait time 1, {};",
            cfg.connect_retry,
            cfg.connect_retry.max(2) * 2
        );
        let _ = writeln!(
            c,
            "  graceful restart {};",
            if cfg.graceful_restart { "on" } else { "off" }
        );
        if n.rr_client {
            c.push_str("  rr client;\n");
        }
        if n.rs_client {
            c.push_str("  rs client;\n");
        }
        if let Some(id) = cfg.cluster_id {
            let _ = writeln!(c, "  rr cluster id {id};");
        }
        for (fam, v6) in [(Family::Ipv4Unicast, false), (Family::Ipv6Unicast, true)] {
            if !n.has(fam) {
                continue;
            }
            let _ = write!(
                c,
                "  {} {{ import all; export all;",
                if v6 { "ipv6" } else { "ipv4" }
            );
            let nh: Option<IpAddr> = if v6 {
                cfg.next_hop_v6.map(IpAddr::V6)
            } else {
                cfg.next_hop_v4.map(IpAddr::V4)
            };
            if let Some(nh) = nh {
                let _ = write!(c, " next hop address {nh};");
            }
            let _ = write!(c, " igp table {};", if v6 { "igp6" } else { "igp4" });
            if let Some(ap) = n.add_path {
                let _ = write!(c, " add paths {};", ap.pick("rx", "tx", "on"));
            }
            c.push_str(" };\n");
        }
        c.push_str("}\n");
    }
    c
}

/// Parses `birdc show route all` output into paths.
fn parse_routes(out: &str) -> Vec<ReceivedRoute> {
    let mut routes = Vec::new();
    let mut cur: Option<ReceivedRoute> = None;
    let mut last_prefix: Option<Prefix> = None;
    for line in out.lines() {
        if line.starts_with("Table ") || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with('\t') && !line.starts_with("  \t") && line.contains('[') {
            // A route line: "PREFIX  unicast [proto ...]" or "   unicast [...]" for a
            // further path of the same prefix.
            if let Some(mut r) = cur.take() {
                r.normalize();
                routes.push(r);
            }
            let first = line.split_whitespace().next().unwrap_or("");
            if let Ok(p) = first.parse::<Prefix>() {
                last_prefix = Some(p);
            }
            cur = Some(ReceivedRoute {
                prefix: last_prefix,
                ..ReceivedRoute::default()
            });
            continue;
        }
        let Some(r) = cur.as_mut() else { continue };
        let l = line.trim();
        let Some((key, val)) = l.split_once(':') else {
            continue;
        };
        let val = val.trim();
        match key {
            "BGP.as_path" => r.as_path = parse_as_path(val),
            "BGP.next_hop" => {
                r.next_hop = val.split_whitespace().next().and_then(|a| a.parse().ok())
            }
            "BGP.local_pref" => r.local_pref = val.parse().ok(),
            "BGP.med" => r.med = val.parse().ok(),
            "BGP.originator_id" => r.originator_id = val.parse().ok(),
            "BGP.cluster_list" => {
                r.cluster_list = val
                    .split_whitespace()
                    .filter_map(|a| a.parse().ok())
                    .collect()
            }
            "BGP.community" => {
                r.communities = tuples(val)
                    .into_iter()
                    .filter_map(|t| match t[..] {
                        [a, b] => Some(Community(a as u16, b as u16)),
                        _ => None,
                    })
                    .collect()
            }
            "BGP.large_community" => {
                r.large_communities = tuples(val)
                    .into_iter()
                    .filter_map(|t| match t[..] {
                        [a, b, c] => Some(LargeCommunity(a, b, c)),
                        _ => None,
                    })
                    .collect()
            }
            _ => {}
        }
    }
    if let Some(mut r) = cur.take() {
        r.normalize();
        routes.push(r);
    }
    routes
}

/// `(1,2) (3, 4, 5)` -> [[1,2],[3,4,5]].
fn tuples(s: &str) -> Vec<Vec<u32>> {
    s.split('(')
        .filter_map(|t| t.split_once(')').map(|(inner, _)| inner))
        .map(|inner| {
            inner
                .split(',')
                .filter_map(|x| x.trim().parse().ok())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_show_route_all() {
        let out = "Table master4:\n\
198.18.3.0/24        unicast [peer_127_0_0_3 05:59:14.110 from 127.0.0.3] * (100/?) [AS65003?]\n\
\tdev lo\n\
\tType: BGP univ\n\
\tBGP.origin: Incomplete\n\
\tBGP.as_path: 65003 65004\n\
\tBGP.next_hop: 198.51.100.3\n\
\tBGP.local_pref: 100\n\
\tBGP.community: (65003,1) (65003,0)\n\
\tBGP.large_community: (65003, 1, 2)\n\
\tBGP.originator_id: 192.0.2.3\n\
\tBGP.cluster_list: 192.0.2.9 192.0.2.8\n\
                     unicast [peer_127_0_0_3 05:59:14.110 from 127.0.0.3] (100/?) [AS65003?]\n\
\tdev lo\n\
\tBGP.as_path: 65003\n\
\tBGP.next_hop: 198.51.100.4\n";
        let r = parse_routes(out);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].prefix, Some(Prefix::new("198.18.3.0/24")));
        assert_eq!(r[0].as_path, vec![65003, 65004]);
        assert_eq!(
            r[0].communities,
            vec![Community(65003, 0), Community(65003, 1)]
        );
        assert_eq!(r[0].large_communities, vec![LargeCommunity(65003, 1, 2)]);
        assert_eq!(r[0].originator_id, Some(Ipv4Addr::new(192, 0, 2, 3)));
        assert_eq!(r[0].cluster_list.len(), 2);
        assert_eq!(r[1].prefix, Some(Prefix::new("198.18.3.0/24")));
        assert_eq!(r[1].next_hop, Some("198.51.100.4".parse().unwrap()));
    }
}
