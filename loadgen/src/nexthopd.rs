//! nexthopd as the device under test of a [`Scenario`]: its config file, from
//! the speaker's typed builder, for `nexthopd lab` and the benchmark harness.

use std::net::{IpAddr, Ipv4Addr};

use nexthop_speaker::config::file::{ConfigFile, Neighbor};
use nexthop_speaker::config::{AddPath, FamilyName};

use crate::Scenario;

impl Scenario {
    /// nexthopd's config as this scenario's device under test: it listens on
    /// `dut`, with router ID 192.0.2.N (N the last octet of the DUT's
    /// address); every simulated peer is a neighbour with MRAI 0 and the
    /// scenario's hold time, a route-reflector client on iBGP (cluster ID the
    /// router ID) and a route-server client (RFC 7947) on eBGP; passive when the
    /// peers connect, dialled on the DUT's port where they listen; ADD-PATH
    /// both ways when the scenario uses it; IPv6 unicast too when it announces
    /// IPv6 prefixes. The runtime is left to the caller.
    pub fn nexthopd_config(&self) -> ConfigFile {
        let last = match self.dut.ip() {
            IpAddr::V4(a) => a.octets()[3],
            IpAddr::V6(a) => a.octets()[15],
        };
        let id = Ipv4Addr::new(192, 0, 2, last);
        let mut f = ConfigFile::new(self.dut_asn, id).listen(self.dut);
        if self.ibgp {
            f = f.cluster_id(id);
        }
        let families: &[FamilyName] = if self.ipv6_prefixes > 0 {
            &FamilyName::ALL
        } else {
            &[FamilyName::Ipv4Unicast]
        };
        for i in 0..self.peers() {
            let mut n = Neighbor::new(IpAddr::V4(self.peer_addr(i)), self.peer_asn(i))
                .mrai(0)
                .hold_time(self.hold_time)
                .families(families);
            n = if self.passive {
                n.port(self.dut.port())
            } else {
                n.passive(true)
            };
            n = if self.ibgp {
                n.route_reflector_client(true)
            } else {
                n.route_server_client(true)
            };
            if self.add_path {
                n = n.add_path(AddPath::Both);
            }
            f = f.neighbor(n);
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_peer_is_a_client_of_nexthopd() {
        let mut s = Scenario::new("127.0.0.70:1790".parse().unwrap());
        s.receivers = 2;
        let c = s.nexthopd_config().config().unwrap();
        assert_eq!(c.router.router_id, Ipv4Addr::new(192, 0, 2, 70));
        assert_eq!(c.router.cluster_id, Some(c.router.router_id));
        assert_eq!(c.router.listen, vec![s.dut]);
        assert_eq!(c.neighbors.len(), 3);
        for (i, n) in c.neighbors.iter().enumerate() {
            assert_eq!(n.address, IpAddr::V4(s.peer_addr(i as u32)));
            assert!(n.passive && n.route_reflector_client && !n.route_server_client);
            assert_eq!((n.mrai, n.hold_time, n.add_path), (Some(0), 90, None));
            assert_eq!(n.families, vec![FamilyName::Ipv4Unicast]);
        }

        s.ibgp = false;
        s.passive = true;
        s.add_path = true;
        s.ipv6_prefixes = 10;
        let c = s.nexthopd_config().config().unwrap();
        assert_eq!(c.router.cluster_id, None);
        let n = &c.neighbors[2];
        assert!(!n.passive && n.route_server_client && !n.route_reflector_client);
        assert_eq!((n.remote_asn, n.port), (s.peer_asn(2), 1790));
        assert_eq!(n.add_path, Some(AddPath::Both));
        assert_eq!(n.families, FamilyName::ALL.to_vec());
    }
}
