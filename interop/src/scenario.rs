//! A load generator scenario's device under test as a daemon of this harness:
//! the [`SpeakerConfig`] that makes BIRD, GoBGP, FRR or OpenBGPD the route
//! reflector (RFC 4456) or route server (RFC 7947) of a
//! [`nexthop_loadgen::Scenario`]'s simulated peers, for the benchmark harness
//! and the load generator's own tests.

use std::net::IpAddr;

use nexthop_loadgen::Scenario;

use crate::{AddPath, Error, Family, Neighbor, Result, SpeakerConfig};

impl SpeakerConfig {
    /// The device under test of `s`, at `s.dut` (an IPv4 loopback address):
    /// every simulated peer is a neighbour, a route-reflector client on iBGP
    /// (cluster ID the router ID) and a route-server client on eBGP; passive
    /// when the peers connect, else dialled on the scenario's port where they
    /// listen; ADD-PATH both ways when the scenario uses it; IPv6 unicast too
    /// when it announces IPv6 prefixes.
    pub fn for_scenario(s: &Scenario) -> Result<SpeakerConfig> {
        let IpAddr::V4(address) = s.dut.ip() else {
            return Err(Error::new(format!(
                "{}: the harness runs daemons on IPv4",
                s.dut
            )));
        };
        let mut cfg = SpeakerConfig::new(address, s.dut_asn);
        cfg.port = s.dut.port();
        if s.ibgp {
            cfg.cluster_id = Some(cfg.router_id);
        }
        let families: &[Family] = if s.ipv6_prefixes > 0 {
            &Family::ALL
        } else {
            &[Family::Ipv4Unicast]
        };
        for i in 0..s.peers() {
            let mut n = Neighbor::new(s.peer_addr(i), s.peer_asn(i))
                .families(families)
                .hold_time(s.hold_time);
            n = if s.passive {
                n.port(s.dut.port())
            } else {
                n.passive()
            };
            n = if s.ibgp { n.rr_client() } else { n.rs_client() };
            if s.add_path {
                n = n.add_path(AddPath::Both);
            }
            cfg = cfg.neighbor(n);
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_peer_is_a_client_of_the_device_under_test() {
        let mut s = Scenario::new("127.0.0.96:1796".parse().unwrap());
        s.peer_base = "127.0.0.200".parse().unwrap();
        s.receivers = 2;
        let cfg = SpeakerConfig::for_scenario(&s).unwrap();
        assert_eq!((cfg.local_address.octets()[3], cfg.port), (96, 1796));
        assert_eq!(cfg.cluster_id, Some(cfg.router_id));
        assert_eq!(cfg.neighbors.len(), 3);
        for (i, n) in cfg.neighbors.iter().enumerate() {
            assert_eq!(n.address, s.peer_addr(i as u32));
            assert!(n.passive && n.rr_client && !n.rs_client);
            assert_eq!(n.families, vec![Family::Ipv4Unicast]);
            assert_eq!((n.hold_time, n.add_path), (90, None));
        }

        s.ibgp = false;
        s.passive = true;
        s.add_path = true;
        s.ipv6_prefixes = 10;
        let cfg = SpeakerConfig::for_scenario(&s).unwrap();
        assert_eq!(cfg.cluster_id, None);
        let n = &cfg.neighbors[2];
        assert!(!n.passive && n.rs_client && !n.rr_client);
        assert_eq!((n.asn, n.port), (s.peer_asn(2), 1796));
        assert_eq!(n.add_path, Some(AddPath::Both));
        assert_eq!(n.families, Family::ALL.to_vec());

        s.dut = "[::1]:179".parse().unwrap();
        assert!(SpeakerConfig::for_scenario(&s).is_err());
    }
}
