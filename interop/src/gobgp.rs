//! GoBGP 3 driver: `gobgpd` with a TOML config and its gRPC API on
//! `<local address>:50051`; routes and queries through the `gobgp` CLI (JSON).

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::driver::{
    CLI_TIMEOUT, Driver, Flavor, Instance, Originate, instance_in_field, items, strs,
};
use crate::model::{Community, LargeCommunity, MessageCounts};
use crate::{
    Error, Family, Prefix, ReceivedRoute, Result, Route, RunDir, SessionState, Speaker,
    SpeakerConfig,
};
use nexthop_test_support::process::{run, write_file};

const GOBGP: Flavor = Flavor {
    name: "gobgp",
    process: "gobgpd",
    log: None,
    ready: "gobgp API to answer",
    start_timeout: Duration::from_secs(15),
    stop_grace: Duration::from_secs(2),
};
/// Port of gobgpd's gRPC API, on the daemon's own loopback address.
pub const API_PORT: u16 = 50051;

/// A GoBGP daemon under test; stopped on drop.
#[derive(Debug)]
pub struct GoBgp {
    inst: Instance,
}

impl GoBgp {
    /// Writes the config, starts gobgpd, waits until its API answers, then adds
    /// the configured routes.
    pub fn start(run_dir: &RunDir, cfg: SpeakerConfig) -> Result<GoBgp> {
        GoBgp {
            inst: Instance::new(run_dir, &GOBGP, cfg)?,
        }
        .launched()
    }

    /// Runs the `gobgp` CLI against this daemon.
    pub fn gobgp(&self, args: &[&str]) -> Result<String> {
        let host = self.inst.cfg.local_address.to_string();
        let port = API_PORT.to_string();
        Ok(run(
            "gobgp",
            &[&["-u", &host, "-p", &port], args].concat(),
            CLI_TIMEOUT,
        )?)
    }

    fn neighbor_json(&self, neighbor: Ipv4Addr) -> Result<Value> {
        let out = self.gobgp(&["-j", "neighbor", &neighbor.to_string()])?;
        serde_json::from_str(&out)
            .map_err(|e| Error::new(format!("gobgp neighbor json: {e}: {out}")))
    }

    /// Messages sent to and received from `neighbor`: `(sent, received)`.
    pub fn message_counts(&self, neighbor: Ipv4Addr) -> Result<(MessageCounts, MessageCounts)> {
        let v = self.neighbor_json(neighbor)?;
        let m = &v["state"]["messages"];
        let c = |x: &Value| MessageCounts {
            update: x["update"].as_u64().unwrap_or(0),
            refresh: x["refresh"].as_u64().unwrap_or(0),
            notification: x["notification"].as_u64().unwrap_or(0),
            open: x["open"].as_u64().unwrap_or(0),
        };
        Ok((c(&m["sent"]), c(&m["received"])))
    }

    fn add_path(&self, r: &Route) -> Result<()> {
        let fam = if r.prefix.is_v6() { "ipv6" } else { "ipv4" };
        let p = r.prefix.to_string();
        let mut args: Vec<String> = ["global", "rib", "add", "-a", fam, &p]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if let Some(nh) = self.inst.cfg.next_hop_of(r) {
            args.extend(["nexthop".into(), nh.to_string()]);
        }
        if !r.communities.is_empty() {
            let cs: Vec<String> = r.communities.iter().map(|c| c.to_string()).collect();
            args.extend(["community".into(), cs.join(",")]);
        }
        if !r.large_communities.is_empty() {
            let cs: Vec<String> = r.large_communities.iter().map(|c| c.to_string()).collect();
            args.extend(["large-community".into(), cs.join(",")]);
        }
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        self.gobgp(&a).map(|_| ())
    }
}

impl Driver for GoBgp {
    instance_in_field!();
    fn command(&self) -> Result<Command> {
        let conf = self.inst.dir.join("gobgpd.toml");
        write_file(&conf, &render(&self.inst.cfg))?;
        let mut cmd = Command::new("gobgpd");
        cmd.arg("-f")
            .arg(&conf)
            .arg(format!(
                "--api-hosts={}:{API_PORT}",
                self.inst.cfg.local_address
            ))
            .arg("--pprof-disable")
            .arg("--log-plain");
        Ok(cmd)
    }
    fn ready(&self) -> bool {
        self.gobgp(&["global"]).is_ok()
    }
    /// The configured routes go in through the API.
    fn after_start(&mut self) -> Result<()> {
        for r in &self.inst.cfg.routes {
            self.add_path(r)?;
        }
        Ok(())
    }
}

impl Originate for GoBgp {
    fn originate(&self, route: &Route) -> Result<()> {
        self.add_path(route)
    }
    fn stop_originating(&self, prefix: Prefix) -> Result<()> {
        let fam = Family::of(&prefix).afi();
        self.gobgp(&["global", "rib", "del", "-a", fam, &prefix.to_string()])
            .map(|_| ())
    }
}

impl Speaker for GoBgp {
    fn session_state(&self, neighbor: Ipv4Addr) -> Result<SessionState> {
        self.inst.cfg.find_neighbor(neighbor)?;
        let v = self.neighbor_json(neighbor)?;
        let s = &v["state"]["session_state"];
        Ok(match s.as_u64() {
            Some(1) => SessionState::Idle,
            Some(2) => SessionState::Connect,
            Some(3) => SessionState::Active,
            Some(4) => SessionState::OpenSent,
            Some(5) => SessionState::OpenConfirm,
            Some(6) => SessionState::Established,
            _ => match s.as_str() {
                Some(t) => SessionState::parse(t),
                None => SessionState::Other(s.to_string()),
            },
        })
    }

    fn received_routes(&self, neighbor: Ipv4Addr) -> Result<Vec<ReceivedRoute>> {
        let n = self.inst.cfg.find_neighbor(neighbor)?.clone();
        let mut out = Vec::new();
        for name in n.afis() {
            let text = self.gobgp(&[
                "-j",
                "neighbor",
                &neighbor.to_string(),
                "adj-in",
                "-a",
                name,
            ])?;
            let v: Value = serde_json::from_str(&text)
                .map_err(|e| Error::new(format!("gobgp adj-in json: {e}: {text}")))?;
            let mut paths = parse_rib(&v);
            if n.add_path.is_some_and(|m| m.receives()) {
                // The JSON has no path identifier; the text table's ID column has.
                let table =
                    self.gobgp(&["neighbor", &neighbor.to_string(), "adj-in", "-a", name])?;
                fill_path_ids(&mut paths, &table);
            }
            out.extend(paths);
        }
        Ok(out)
    }

    /// Not available: GoBGP 3.10's `neighbor X softresetin` (and `softreset`) only
    /// re-applies the import policy to its Adj-RIB-In; it sends no ROUTE-REFRESH
    /// (checked: the peer sends no UPDATE, GoBGP counts no refresh sent).
    fn request_refresh(&self, neighbor: Ipv4Addr) -> Result<()> {
        self.inst.cfg.find_neighbor(neighbor)?;
        Err(Error::new(
            "gobgp cannot send ROUTE-REFRESH: `softresetin` only re-applies its import policy",
        ))
    }
}

fn render(cfg: &SpeakerConfig) -> String {
    let mut c = String::new();
    let _ = writeln!(
        c,
        "# generated by nexthop-interop\n[global.config]\n  as = {}\n  router-id = \"{}\"\n  port = {}\n  local-address-list = [\"{}\"]",
        cfg.asn, cfg.router_id, cfg.port, cfg.local_address
    );
    // Without a policy GoBGP sends its own address (127.x) as next hop on eBGP; the
    // routes it originates carry the next hop we want, so keep it unchanged.
    let set_nh = cfg.next_hop_v4.is_some() || cfg.next_hop_v6.is_some();
    if set_nh {
        c.push_str(
            "[global.apply-policy.config]\n  export-policy-list = [\"keep-next-hop\"]\n  default-export-policy = \"accept-route\"\n",
        );
    }
    for n in &cfg.neighbors {
        let _ = writeln!(
            c,
            "[[neighbors]]\n  [neighbors.config]\n    neighbor-address = \"{}\"\n    peer-as = {}",
            n.address, n.asn
        );
        let _ = writeln!(
            c,
            "  [neighbors.timers.config]\n    connect-retry = {}\n    hold-time = {}\n    keepalive-interval = {}\n    idle-hold-time-after-reset = {}",
            cfg.connect_retry,
            n.hold_time,
            (n.hold_time / 3).max(1),
            cfg.connect_retry
        );
        let _ = writeln!(
            c,
            "  [neighbors.transport.config]\n    local-address = \"{}\"\n    remote-port = {}\n    passive-mode = {}",
            cfg.local_address, n.port, n.passive
        );
        if cfg.graceful_restart {
            c.push_str("  [neighbors.graceful-restart.config]\n    enabled = true\n");
        }
        if n.rr_client {
            let _ = writeln!(
                c,
                "  [neighbors.route-reflector.config]\n    route-reflector-client = true\n    route-reflector-cluster-id = \"{}\"",
                cfg.cluster_id.unwrap_or(cfg.router_id)
            );
        }
        if n.rs_client {
            c.push_str("  [neighbors.route-server.config]\n    route-server-client = true\n");
        }
        for afi in n.afis() {
            let _ = writeln!(
                c,
                "  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = \"{afi}-unicast\""
            );
            if cfg.graceful_restart {
                c.push_str(
                    "    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n",
                );
            }
            if let Some(ap) = n.add_path {
                let _ = writeln!(
                    c,
                    "    [neighbors.afi-safis.add-paths.config]\n      receive = {}\n      send-max = {}",
                    ap.receives(),
                    if ap.sends() { 8 } else { 0 }
                );
            }
        }
    }
    if set_nh {
        c.push_str(
            "[[policy-definitions]]\n  name = \"keep-next-hop\"\n  [[policy-definitions.statements]]\n    name = \"unchanged\"\n    [policy-definitions.statements.actions.bgp-actions]\n      set-next-hop = \"unchanged\"\n",
        );
    }
    c
}

/// Sets `path_id` from the `ID Network Next-Hop AS_PATH ...` rows of the text
/// table, where one row matches a path's prefix, next hop and AS_PATH.
fn fill_path_ids(paths: &mut [ReceivedRoute], table: &str) {
    let rows: Vec<(u32, Prefix, Option<IpAddr>, Vec<u32>)> = table
        .lines()
        .filter_map(|l| {
            let (head, _attrs) = l.split_once('[').unwrap_or((l, ""));
            let t: Vec<&str> = head.split_whitespace().collect();
            let id = t.first()?.parse().ok()?;
            let prefix = t.get(1)?.parse().ok()?;
            let nh = t.get(2).and_then(|s| s.parse().ok());
            // AS numbers up to the age column (hh:mm:ss or "1d 02:03:04").
            let path = t
                .iter()
                .skip(3)
                .take_while(|s| !s.contains(':') && !s.ends_with('d'))
                .filter_map(|s| s.parse().ok())
                .collect();
            Some((id, prefix, nh, path))
        })
        .collect();
    for p in paths.iter_mut() {
        let m: Vec<u32> = rows
            .iter()
            .filter(|(_, pf, nh, path)| {
                Some(*pf) == p.prefix && *nh == p.next_hop && *path == p.as_path
            })
            .map(|r| r.0)
            .collect();
        if let [id] = m[..] {
            p.path_id = Some(id);
        }
    }
}

/// Parses `gobgp -j neighbor X adj-in` (a map prefix -> paths).
fn parse_rib(v: &Value) -> Vec<ReceivedRoute> {
    let mut out = Vec::new();
    let Some(map) = v.as_object() else { return out };
    for (prefix, paths) in map {
        let Ok(p) = prefix.parse::<Prefix>() else {
            continue;
        };
        for path in items(paths) {
            let mut r = ReceivedRoute {
                prefix: Some(p),
                ..ReceivedRoute::default()
            };
            r.path_id = path["id"]
                .as_u64()
                .or_else(|| path["nlri"]["id"].as_u64())
                .or_else(|| path["identifier"].as_u64())
                .map(|x| x as u32);
            for a in items(&path["attrs"]) {
                match a["type"].as_u64() {
                    Some(2) => {
                        for seg in items(&a["as_paths"]) {
                            for asn in items(&seg["asns"]) {
                                if let Some(x) = asn.as_u64() {
                                    r.as_path.push(x as u32);
                                }
                            }
                        }
                    }
                    Some(3) | Some(14) => {
                        if let Some(nh) =
                            a["nexthop"].as_str().and_then(|s| s.parse::<IpAddr>().ok())
                        {
                            r.next_hop = Some(nh);
                        }
                    }
                    Some(4) => r.med = a["metric"].as_u64().map(|x| x as u32),
                    Some(5) => r.local_pref = a["value"].as_u64().map(|x| x as u32),
                    Some(8) => {
                        r.communities = items(&a["communities"])
                            .filter_map(|c| c.as_u64())
                            .map(|c| Community::from_u32(c as u32))
                            .collect()
                    }
                    Some(9) => r.originator_id = a["value"].as_str().and_then(|s| s.parse().ok()),
                    Some(10) => {
                        r.cluster_list = strs(&a["value"]).filter_map(|s| s.parse().ok()).collect()
                    }
                    Some(32) => {
                        r.large_communities = items(&a["value"])
                            .filter_map(|c| {
                                Some(LargeCommunity(
                                    c["ASN"].as_u64()? as u32,
                                    c["LocalData1"].as_u64()? as u32,
                                    c["LocalData2"].as_u64()? as u32,
                                ))
                            })
                            .collect()
                    }
                    _ => {}
                }
            }
            r.normalize();
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ids_come_from_the_text_table() {
        let table = "   ID  Network              Next Hop             AS_PATH              Age        Attrs
   7   198.18.50.0/24       198.51.100.51        65051 65053          00:00:00   [{Origin: i} {Communities: 65053:1}]
   8   198.18.50.0/24       198.51.100.51        65051 65054          1d 00:00:00   [{Origin: i}]
";
        let path = |asns: Vec<u32>| ReceivedRoute {
            prefix: Some(Prefix::new("198.18.50.0/24")),
            next_hop: Some("198.51.100.51".parse().unwrap()),
            as_path: asns,
            ..ReceivedRoute::default()
        };
        let mut paths = vec![
            path(vec![65051, 65054]),
            path(vec![65051, 65053]),
            path(vec![1]),
        ];
        fill_path_ids(&mut paths, table);
        assert_eq!(paths[0].path_id, Some(8));
        assert_eq!(paths[1].path_id, Some(7));
        assert_eq!(paths[2].path_id, None);
    }

    #[test]
    fn parses_adj_in_json() {
        let text = r#"{"198.18.2.0/24":[{"nlri":{"prefix":"198.18.2.0/24"},"attrs":[{"type":1,"value":0},{"type":2,"as_paths":[{"segment_type":2,"num":1,"asns":[65002]}]},{"type":3,"nexthop":"198.51.100.2"},{"type":8,"communities":[4259971073]},{"type":32,"value":[{"ASN":65002,"LocalData1":1,"LocalData2":2}]}],"neighbor-ip":"127.0.0.2"}]}"#;
        let r = parse_rib(&serde_json::from_str(text).unwrap());
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].as_path, vec![65002]);
        assert_eq!(r[0].next_hop, Some("198.51.100.2".parse().unwrap()));
        assert_eq!(r[0].communities, vec![Community(65002, 1)]);
        assert_eq!(r[0].large_communities, vec![LargeCommunity(65002, 1, 2)]);
    }
}
