//! The speaker's side of the runtime contract: [`SansIo`] (nexthop-runtime-edge's
//! trait) implemented for [`Speaker`], and the per-peer socket rules of a config
//! ([`peer_socket_rules`]: RFC 2385 TCP-MD5 keys, RFC 5082 GTSM minimum TTLs) a
//! runtime puts on its listeners and on the connections peers open to us.

use std::net::SocketAddr;

use nexthop_runtime_edge::PeerPrefix;

use crate::config::Config;
use crate::{
    Closed, Command, ConnKey, Instant, PeerSocketRule, PeerSocketRules, SansIo, Speaker, Transmit,
};

/// The TCP-MD5 keys and GTSM minimum TTLs of `config`: one rule per
/// `[[dynamic_neighbor]]` range that has either (prefix = the range; of equal
/// ranges the first, as the speaker picks), and one host rule (/32, /128) per
/// `[[neighbor]]` that has either, keyed by its canonical address (an
/// IPv4-mapped IPv6 address as IPv4). The longest prefix wins, so a configured
/// neighbour inside a range keeps its own rule: one with neither option gets an
/// empty host rule, which exempts it from the range's GTSM check. (TCP-MD5 has
/// no such exemption in the kernel; the config refuses a neighbour without a key
/// inside a keyed range.)
pub fn peer_socket_rules(config: &Config) -> PeerSocketRules {
    let mut rules = PeerSocketRules::new();
    for d in &config.dynamic_neighbors {
        let o = &d.options;
        if o.md5_key.is_none() && o.min_ttl.is_none() {
            continue;
        }
        // A validated prefix always fits; a hand-built one too long for its
        // family falls back to the whole family: stricter, not weaker.
        let prefix = PeerPrefix::new(d.prefix.addr, d.prefix.len)
            .or_else(|_| PeerPrefix::new(d.prefix.addr, 0))
            .expect("length 0 fits every family");
        if rules.iter().any(|r| r.prefix == prefix) {
            continue;
        }
        rules.insert(PeerSocketRule {
            prefix,
            md5_key: o.md5_key.as_ref().map(|k| k.as_bytes().to_vec()),
            min_ttl: o.min_ttl,
        });
    }
    for n in &config.neighbors {
        let in_ruled_range = !rules.is_empty() && rules.lookup(n.address).is_some();
        if n.md5_key.is_some() || n.min_ttl.is_some() || in_ruled_range {
            rules.insert(PeerSocketRule::host(
                n.address,
                n.md5_key.as_ref().map(|k| k.as_bytes().to_vec()),
                n.min_ttl,
            ));
        }
    }
    rules
}

impl SansIo for Speaker {
    type Transmit = Transmit;

    fn listen_addresses(&self) -> Vec<SocketAddr> {
        Speaker::listen_addresses(self)
    }
    fn handle_accepted(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<ConnKey> {
        Speaker::handle_accepted(self, now, local, remote)
    }
    fn handle_connected(&mut self, now: Instant, conn: ConnKey, local: SocketAddr) {
        Speaker::handle_connected(self, now, conn, local)
    }
    fn handle_connect_failed(&mut self, now: Instant, conn: ConnKey) {
        Speaker::handle_connect_failed(self, now, conn)
    }
    fn handle_read(&mut self, now: Instant, conn: ConnKey, bytes: &[u8]) -> usize {
        Speaker::handle_read(self, now, conn, bytes)
    }
    fn handle_closed(&mut self, now: Instant, conn: ConnKey, reason: Closed) {
        Speaker::handle_closed(self, now, conn, reason)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Speaker::handle_timeout(self, now)
    }
    fn poll_command(&mut self) -> Option<Command> {
        Speaker::poll_command(self)
    }
    fn poll_ready(&mut self) -> Option<ConnKey> {
        Speaker::poll_ready(self)
    }
    fn poll_transmit(&mut self, now: Instant, conn: ConnKey) -> Option<Transmit> {
        Speaker::poll_transmit(self, now, conn)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Speaker::poll_timeout(self)
    }
    fn handle_shutdown(&mut self, now: Instant, communication: &str) {
        Speaker::handle_shutdown(self, now, communication)
    }
    fn is_shut_down(&self) -> bool {
        Speaker::is_shut_down(self)
    }
    fn peer_socket_rules(&self) -> PeerSocketRules {
        peer_socket_rules(self.config())
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;
    use crate::config::file::{ConfigFile, DynamicNeighbor, Neighbor};

    #[test]
    fn only_neighbours_with_a_key_or_a_minimum_ttl_get_socket_options() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let config = ConfigFile::new(65000, "192.0.2.1".parse().unwrap())
            .neighbor(Neighbor::new(ip("::ffff:192.0.2.2"), 65001).md5_key("s3cret"))
            .neighbor(Neighbor::new(ip("2001:db8::3"), 65002).min_ttl(254))
            .neighbor(Neighbor::new(ip("192.0.2.4"), 65003))
            .config()
            .unwrap();
        let rules = peer_socket_rules(&config);
        assert_eq!(rules.len(), 2);
        let mapped: IpAddr = "192.0.2.2".parse().unwrap();
        let rule = rules.lookup(mapped).unwrap();
        assert_eq!(
            (
                rule.prefix.to_string(),
                rule.md5_key.as_deref(),
                rule.min_ttl
            ),
            ("192.0.2.2".to_string(), Some(&b"s3cret"[..]), None),
            "an IPv4-mapped address is a /32"
        );
        let v6: IpAddr = "2001:db8::3".parse().unwrap();
        let rule = rules.lookup(v6).unwrap();
        assert_eq!(
            (rule.prefix.length(), rule.min_ttl, rule.md5_key.as_deref()),
            (128, Some(254), None)
        );
        assert!(rules.lookup("192.0.2.4".parse().unwrap()).is_none());
    }

    /// A range with a key or a minimum TTL is one rule for the whole range; a
    /// configured neighbour inside it keeps its own, an empty one when it has
    /// neither option (exempt from the range's GTSM check); of two equal ranges
    /// the first decides, as it does for the session.
    #[test]
    fn a_range_gets_one_prefix_rule_and_a_neighbour_inside_keeps_its_own() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let range = |p: &str, asn| DynamicNeighbor::new(p.parse().unwrap(), asn);
        let config = ConfigFile::new(65000, "192.0.2.1".parse().unwrap())
            .neighbor(Neighbor::new(ip("127.0.1.7"), 65001))
            .neighbor(Neighbor::new(ip("127.0.1.8"), 65001).min_ttl(200))
            .neighbor(Neighbor::new(ip("127.0.2.1"), 65001))
            .dynamic(range("127.0.1.0/24", 65002).min_ttl(254))
            .dynamic(range("127.0.1.0/24", 65003).min_ttl(100))
            .dynamic(range("2001:db8::/64", 65004).md5_key("range key"))
            .dynamic(range("10.0.0.0/8", 65005))
            .config()
            .unwrap();
        let rules = peer_socket_rules(&config);
        let summary = rules
            .iter()
            .map(|r| (r.prefix.to_string(), r.md5_key.as_deref(), r.min_ttl))
            .collect::<Vec<_>>();
        assert_eq!(
            summary,
            vec![
                // Longest prefix first (a /64 is longer than a /32).
                ("2001:db8::/64".to_string(), Some(&b"range key"[..]), None),
                ("127.0.1.7".to_string(), None::<&[u8]>, None::<u8>),
                ("127.0.1.8".to_string(), None, Some(200)),
                ("127.0.1.0/24".to_string(), None, Some(254)),
            ]
        );
        assert_eq!(rules.lookup(ip("127.0.1.99")).unwrap().min_ttl, Some(254));
        assert_eq!(
            rules.lookup(ip("::ffff:127.0.1.99")).unwrap().min_ttl,
            Some(254)
        );
        assert_eq!(rules.lookup(ip("127.0.1.7")).unwrap().min_ttl, None);
        assert!(rules.lookup(ip("127.0.2.1")).is_none());
        assert!(rules.lookup(ip("10.1.2.3")).is_none());
        assert_eq!(
            rules.lookup(ip("2001:db8::42")).unwrap().md5_key.as_deref(),
            Some(&b"range key"[..])
        );
    }
}
