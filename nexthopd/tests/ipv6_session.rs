//! A BGP session over IPv6 transport (`::1`): nexthopd listens on `[::1]`, a raw
//! peer (test-support's, on nexthop-core's emitters and views) connects from
//! `::1`, and routes go both ways over that session: nexthopd's originated IPv6
//! prefix and a prefix learned from an IPv4 peer reach the IPv6 peer; the IPv6
//! peer's prefix reaches the IPv4 peer through nexthopd (MP_REACH_NLRI, RFC
//! 4760; RFC 4271 §9.1.3).
//!
//! Addresses: nexthopd listens on [::1] and 127.0.0.237, on ports the kernel
//! hands out; the IPv4 raw peer listens on 127.0.0.238 and nexthopd connects out
//! to it. Each test runs on both runtimes (uring fails, never skips, where
//! io_uring is missing). Next hops are documentation addresses (2001:db8::/32).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::time::Duration;

use nexthop_core::wire::Family;
use nexthop_core::wire::nlri::{Ipv6Prefix, Prefix};
use nexthop_speaker::config::file::{ConfigFile, Neighbor, Originate};
use nexthop_speaker::config::{FamilyName, RuntimeKind};
use nexthop_test_support::address::free_port;
use nexthop_test_support::nexthopd::Nexthopd;
use nexthop_test_support::raw_peer::{OpenSettings, TcpOptions};
use nexthop_test_support::{RawPeer, RunDir};

const V6_PEER_AS: u32 = 65236;
const V4_PEER_AS: u32 = 65238;
const OUR_AS: u32 = 65237;
const V4_PEER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 238);
/// Bound on every wait: only a test that would otherwise hang fails on it.
const WAIT: Duration = Duration::from_secs(30);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn v6(s: &str) -> Prefix {
    let (a, l) = s.split_once('/').unwrap();
    Prefix::V6(Ipv6Prefix::new(a.parse::<Ipv6Addr>().unwrap(), l.parse().unwrap()).unwrap())
}

/// nexthopd listening on `v6_listen` and `v4_listen`: the IPv6 neighbour `::1`
/// (passive), the IPv4 neighbour at 127.0.0.238:`v4_port` carrying both
/// families, one originated IPv6 prefix.
fn config(
    runtime: RuntimeKind,
    v6_listen: SocketAddr,
    v4_listen: SocketAddr,
    v4_port: u16,
) -> ConfigFile {
    let next_hop: Ipv6Addr = "2001:db8::237".parse().unwrap();
    ConfigFile::new(OUR_AS, Ipv4Addr::new(192, 0, 2, 237))
        .runtime(runtime)
        .listen(v6_listen)
        .listen(v4_listen)
        .neighbor(
            Neighbor::new(ip("::1"), V6_PEER_AS)
                .passive(true)
                .families(&[FamilyName::Ipv6Unicast])
                .next_hop_v6(next_hop),
        )
        .neighbor(
            Neighbor::new(IpAddr::V4(V4_PEER), V4_PEER_AS)
                .port(v4_port)
                .connect_retry_time(1)
                .families(&FamilyName::ALL)
                .next_hop_v6(next_hop),
        )
        .originate(
            Originate::new("2001:db8:237::/48".parse().unwrap()).next_hop(IpAddr::V6(next_hop)),
        )
}

fn session_over_ipv6_exchanges_routes_both_ways(runtime: RuntimeKind) {
    let run = RunDir::new(&format!("nexthopd-ipv6-{runtime}")).unwrap();
    let v4_listener = TcpListener::bind((V4_PEER, 0)).unwrap();
    let v4_port = v4_listener.local_addr().unwrap().port();
    let v6_listen = SocketAddr::new(ip("::1"), free_port(ip("::1")).unwrap());
    let me = ip("127.0.0.237");
    let v4_listen = SocketAddr::new(me, free_port(me).unwrap());
    let toml = config(runtime, v6_listen, v4_listen, v4_port).to_toml();
    let n = Nexthopd::start(
        Path::new(env!("CARGO_BIN_EXE_nexthopd")),
        run.path(),
        &toml,
        v6_listen,
    )
    .unwrap();
    let mut v4_peer = RawPeer::accept(&v4_listener, WAIT).unwrap();
    v4_peer
        .handshake(
            &OpenSettings::new(V4_PEER_AS, 90, Ipv4Addr::new(192, 0, 2, 238))
                .families(&[Family::IPV4_UNICAST, Family::IPV6_UNICAST]),
        )
        .unwrap_or_else(|e| panic!("{e}\n{}", n.log()));
    let open = OpenSettings::new(V6_PEER_AS, 90, Ipv4Addr::new(192, 0, 2, 236))
        .families(&[Family::IPV6_UNICAST]);
    let mut v6_peer = RawPeer::establish(ip("::1"), v6_listen, &open, &TcpOptions::default())
        .unwrap_or_else(|e| panic!("{e}\n{}", n.log()));
    let theirs = v6_peer.peer_open().unwrap();
    assert_eq!(theirs.asn, OUR_AS);
    assert_eq!(theirs.bgp_identifier, Ipv4Addr::new(192, 0, 2, 237));
    n.wait_log("neighbor=::1 fsm_state=OpenConfirm to=Established", WAIT)
        .unwrap();

    // The IPv6 peer to nexthopd, passed on to the IPv4 peer.
    v6_peer
        .announce(v6("2001:db8:236::/48"), ip("2001:db8::236"))
        .unwrap();
    // The IPv4 peer to nexthopd, passed on to the IPv6 peer.
    v4_peer
        .announce(v6("2001:db8:238::/48"), ip("2001:db8::238"))
        .unwrap();

    let nexthopd_self = Some(ip("2001:db8::237"));
    let r = v4_peer.wait_route(v6("2001:db8:236::/48"), WAIT).unwrap();
    assert_eq!(r.as_path, vec![OUR_AS, V6_PEER_AS], "{r:?}\n{}", n.log());
    assert_eq!(r.next_hop, nexthopd_self, "eBGP: next hop self");

    let r = v6_peer.wait_route(v6("2001:db8:237::/48"), WAIT).unwrap();
    assert_eq!(r.as_path, vec![OUR_AS], "originated: {r:?}");
    assert_eq!(r.next_hop, nexthopd_self);
    let r = v6_peer.wait_route(v6("2001:db8:238::/48"), WAIT).unwrap();
    assert_eq!(r.as_path, vec![OUR_AS, V4_PEER_AS], "{r:?}\n{}", n.log());
    assert_eq!(r.next_hop, nexthopd_self, "eBGP: next hop self");
}

#[test]
fn session_over_ipv6_exchanges_routes_both_ways_mio() {
    session_over_ipv6_exchanges_routes_both_ways(RuntimeKind::Mio);
}

#[test]
fn session_over_ipv6_exchanges_routes_both_ways_uring() {
    session_over_ipv6_exchanges_routes_both_ways(RuntimeKind::Uring);
}
