//! From the configuration to what core's session and the router take: a
//! neighbour's [`SessionConfig`] (RFC 4271 §8.1 session attributes, RFC 5492
//! capabilities) and [`PeerConfig`] (policy, reflection, ADD-PATH send mode), and
//! the router's own settings and originated routes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nexthop_core::session::{AddPathConfig, Jitter, LocalCapabilities, SessionConfig};
use nexthop_core::time::Duration;
use nexthop_core::wire::{Family, FamilySet};
use nexthop_router::attributes::{Attributes, Community, LargeCommunity, NextHop, Origin};
use nexthop_router::peer::{AddPathSend, PeerConfig};
use nexthop_router::policy::{Action, NeighborPolicy};
use nexthop_router::prefix::{IpPrefix, Ipv4Prefix, Ipv6Prefix, PrefixRange};
use nexthop_router::router::RouterConfig;

use crate::config::{self, AddPath, FamilyName, Neighbor, Originate, PrefixRule};

/// Everything the speaker keeps about one neighbour's configuration.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PeerSpec {
    pub address: IpAddr,
    pub port: u16,
    pub session: SessionConfig,
    pub router: PeerConfig,
    pub bind: Option<IpAddr>,
    pub md5_key: Option<Vec<u8>>,
    pub min_ttl: Option<u8>,
    pub connect_timeout: Duration,
    /// `keep_received_routes` (also in `router.keep_received`).
    pub keep_received: bool,
}

/// The router's settings from `[router]`.
pub(crate) fn router_config(r: &config::Router) -> RouterConfig {
    let mut c = RouterConfig::new(r.asn, r.router_id);
    c.cluster_id = r.cluster_id;
    // Peers get the bytes; nothing in the daemon reads the decoded copy.
    c.keep_message_content = false;
    // Loc-RIB changes are collected only while a watcher is connected
    // (`Backend::set_watching`).
    c.report_loc_rib = false;
    c
}

/// A seed for a session's jitter that differs per neighbour and is stable.
fn seed(address: IpAddr, router_id: Ipv4Addr) -> u64 {
    let a = match address {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    let x = (a as u64) ^ ((a >> 64) as u64) ^ (u64::from(u32::from(router_id)) << 32);
    // splitmix64
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) | 1
}

fn families(list: &[FamilyName]) -> FamilySet {
    let mut s = FamilySet::EMPTY;
    for f in list {
        s.insert(match f {
            FamilyName::Ipv4Unicast => Family::IPV4_UNICAST,
            FamilyName::Ipv6Unicast => Family::IPV6_UNICAST,
        });
    }
    s
}

/// A configured `[[neighbor]]`.
pub(crate) fn static_peer(r: &config::Router, n: &Neighbor) -> PeerSpec {
    let secs = |s: u16| Duration::from_secs(u64::from(s));
    let jitter = n.jitter.then_some(Jitter::RFC4271);
    let fams = families(&n.families);
    let mut add_path = AddPathConfig::default();
    match n.add_path {
        Some(AddPath::Receive) => add_path.receive = fams,
        Some(AddPath::Send) => add_path.send = fams,
        Some(AddPath::Both) => {
            add_path.receive = fams;
            add_path.send = fams;
        }
        None => {}
    }
    let mut s = SessionConfig::new(n.address, r.asn, u32::from(r.router_id));
    s.remote_asn = Some(n.remote_asn);
    s.passive_tcp_establishment = n.passive;
    s.connect_retry_time = secs(n.connect_retry_time.max(1));
    s.connect_retry_jitter = jitter;
    s.keepalive_time = secs(n.keepalive_time);
    s.hold_time = n.hold_time;
    s.idle_hold_time = secs(n.idle_hold_time);
    s.idle_hold_jitter = jitter;
    s.delay_open_time = secs(n.delay_open_time);
    s.enforce_first_as = n.enforce_first_as;
    s.capabilities = LocalCapabilities {
        families: fams,
        route_refresh: true,
        enhanced_route_refresh: false,
        extended_message: true,
        four_octet_as: true,
        add_path,
        graceful_restart: None,
    };
    s.rng_seed = seed(n.address, r.router_id);

    let mut p = PeerConfig::new(n.address, n.remote_asn);
    p.route_reflector_client = n.route_reflector_client;
    p.route_server_client = n.route_server_client;
    p.add_path_send = match n.add_path {
        Some(AddPath::Send | AddPath::Both) => AddPathSend::All,
        _ => AddPathSend::BestOnly,
    };
    p.enforce_first_as = n.enforce_first_as;
    p.max_prefix = n.max_prefix;
    p.keep_received = n.keep_received_routes;
    let ranges = |l: &Option<Vec<PrefixRule>>| {
        l.as_ref()
            .map(|l| l.iter().map(prefix_range).collect::<Vec<_>>())
    };
    let (mut standard, mut large) = (Vec::new(), Vec::new());
    for c in &n.communities {
        match *c {
            config::Community::Standard(v) => standard.push(Community(v)),
            config::Community::Large(v) => large.push(large_community(v)),
        }
    }
    let (import, mut export) = NeighborPolicy {
        allow_import: ranges(&n.import),
        allow_export: ranges(&n.export),
        med: n.med,
        local_pref: n.local_pref,
        communities: standard,
    }
    .compile();
    if let Some(rule) = export.rules.first_mut() {
        rule.actions
            .extend(large.into_iter().map(Action::AddLargeCommunity));
    }
    p.import = import;
    p.export = export;
    if let Some(IpAddr::V4(a)) = n.bind_addr {
        p.local_v4 = Some(a);
    }
    if let Some(IpAddr::V6(a)) = n.bind_addr {
        p.local_v6 = Some(a);
    }
    // Changes go out at the next loop turn unless an interval is configured
    // (see Neighbor::mrai).
    p.mrai = Some(secs(n.mrai.unwrap_or(0)));
    if n.next_hop_v4.is_some() {
        p.local_v4 = n.next_hop_v4;
    }
    if n.next_hop_v6.is_some() {
        p.local_v6 = n.next_hop_v6;
    }

    PeerSpec {
        address: n.address,
        port: n.port,
        session: s,
        router: p,
        bind: n.bind_addr,
        md5_key: n.md5_key.as_ref().map(|k| k.as_bytes().to_vec()),
        min_ttl: n.min_ttl,
        connect_timeout: secs(n.connect_retry_time.clamp(1, 30)),
        keep_received: n.keep_received_routes,
    }
}

/// A session accepted from `address` in the range of a `[[dynamic_neighbor]]`:
/// passive, with the range's options, built as a configured neighbour's are
/// ([`Neighbor::with_options`], then [`static_peer`]), never redialled.
pub(crate) fn dynamic_peer(
    r: &config::Router,
    d: &config::DynamicNeighbor,
    address: IpAddr,
) -> PeerSpec {
    let mut n = Neighbor::with_options(address, d.remote_asn, d.options.clone());
    n.passive = true;
    let mut spec = static_peer(r, &n);
    // Nobody redials a dynamic peer: when its session ends, it is forgotten.
    spec.session.automatic_restart = false;
    spec
}

/// The `[[dynamic_neighbor]]` whose range holds `address`: the longest prefix,
/// the first of equal ones (the rule [`crate::peer_socket_rules`] follows, so a
/// session's options and its socket's agree).
pub(crate) fn dynamic_neighbor_for(
    config: &config::Config,
    address: IpAddr,
) -> Option<&config::DynamicNeighbor> {
    let mut best: Option<&config::DynamicNeighbor> = None;
    for d in &config.dynamic_neighbors {
        if in_range(&d.prefix, address) && best.is_none_or(|b| d.prefix.len > b.prefix.len) {
            best = Some(d);
        }
    }
    best
}

/// Whether `address` lies in `prefix`.
pub(crate) fn in_range(prefix: &config::Prefix, address: IpAddr) -> bool {
    match (prefix.addr, address) {
        (IpAddr::V4(p), IpAddr::V4(a)) => {
            let m = u32::MAX
                .checked_shl(32 - u32::from(prefix.len))
                .unwrap_or(0);
            u32::from(p) & m == u32::from(a) & m
        }
        (IpAddr::V6(p), IpAddr::V6(a)) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(prefix.len))
                .unwrap_or(0);
            u128::from(p) & m == u128::from(a) & m
        }
        _ => false,
    }
}

fn large_community(v: [u32; 3]) -> LargeCommunity {
    LargeCommunity {
        global_admin: v[0],
        local_data_1: v[1],
        local_data_2: v[2],
    }
}

/// The router's prefix for a validated config prefix.
pub(crate) fn ip_prefix(p: &config::Prefix) -> IpPrefix {
    match p.addr {
        IpAddr::V4(a) => IpPrefix::V4(
            Ipv4Prefix::new(a, p.len)
                .unwrap_or_else(|| Ipv4Prefix::new(Ipv4Addr::UNSPECIFIED, 0).expect("0.0.0.0/0")),
        ),
        IpAddr::V6(a) => IpPrefix::V6(
            Ipv6Prefix::new(a, p.len)
                .unwrap_or_else(|| Ipv6Prefix::new(Ipv6Addr::UNSPECIFIED, 0).expect("::/0")),
        ),
    }
}

fn prefix_range(r: &PrefixRule) -> PrefixRange {
    PrefixRange::new(ip_prefix(&r.prefix), Some(r.ge), Some(r.le))
}

/// The attributes of an originated route: ORIGIN IGP, an empty AS_PATH, and the
/// configured next hop and communities.
pub(crate) fn originate_attributes(o: &Originate) -> Attributes {
    let mut a = Attributes {
        origin: Origin::Igp,
        next_hop: o.next_hop.map(|nh| match nh {
            IpAddr::V4(a) => NextHop::V4(a),
            IpAddr::V6(a) => NextHop::V6 {
                global: a,
                link_local: None,
            },
        }),
        ..Default::default()
    };
    for &c in &o.communities {
        a.add_community(Community(c));
    }
    for &c in &o.large_communities {
        a.add_large_community(large_community(c));
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without `mrai` changes are not held back; with it, the interval applies.
    #[test]
    fn mrai_defaults_to_zero() {
        let c = config::Config::from_toml(
            "[router]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n[[neighbor]]\naddress = \"127.0.0.2\"\nremote_asn = 65001\n[[neighbor]]\naddress = \"127.0.0.3\"\nremote_asn = 65000\nmrai = 5\n",
        )
        .unwrap();
        let ebgp = static_peer(&c.router, &c.neighbors[0]);
        let ibgp = static_peer(&c.router, &c.neighbors[1]);
        assert_eq!(ebgp.router.mrai, Some(Duration::ZERO));
        assert_eq!(ibgp.router.mrai, Some(Duration::from_secs(5)));
    }

    /// A session accepted from a range is built as a configured passive
    /// neighbour with the same keys is, save that nobody redials it.
    #[test]
    fn a_dynamic_peer_is_a_passive_neighbour_with_the_ranges_options() {
        let options = "remote_asn = 65001\nhold_time = 30\nroute_reflector_client = true\n\
                       md5_key = \"k\"\nmin_ttl = 254\nimport = [\"198.18.0.0/15 le 24\"]\n\
                       export = [\"203.0.113.0/24\"]\nmed = 7\nlocal_pref = 300\n\
                       communities = [\"65000:1\", \"65000:1:2\"]\nmax_prefix = 10\n\
                       enforce_first_as = true\nmrai = 3\nadd_path = \"both\"\n\
                       next_hop_v4 = \"192.0.2.9\"\n";
        let c = config::Config::from_toml(&format!(
            "[router]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n\
             [[neighbor]]\naddress = \"127.0.1.7\"\npassive = true\n{options}\
             [[dynamic_neighbor]]\nprefix = \"127.0.2.0/24\"\n{options}"
        ))
        .unwrap();
        let address: IpAddr = "127.0.2.7".parse().unwrap();
        let d = dynamic_peer(&c.router, &c.dynamic_neighbors[0], address);
        let mut n = c.neighbors[0].clone();
        n.address = address;
        let mut s = static_peer(&c.router, &n);
        assert!(s.session.automatic_restart && !d.session.automatic_restart);
        s.session.automatic_restart = false;
        assert_eq!(d, s);
        // And the options arrived.
        assert!(d.router.route_reflector_client && d.session.passive_tcp_establishment);
        assert_eq!(
            (d.router.max_prefix, d.min_ttl, d.md5_key.as_deref()),
            (Some(10), Some(254), Some(&b"k"[..]))
        );
    }

    #[test]
    fn ranges() {
        let p = config::Prefix {
            addr: "127.0.1.0".parse().unwrap(),
            len: 24,
        };
        assert!(in_range(&p, "127.0.1.77".parse().unwrap()));
        assert!(!in_range(&p, "127.0.2.1".parse().unwrap()));
        assert!(!in_range(&p, "::1".parse().unwrap()));
        let all = config::Prefix {
            addr: "::".parse().unwrap(),
            len: 0,
        };
        assert!(in_range(&all, "2001:db8::1".parse().unwrap()));
    }
}
