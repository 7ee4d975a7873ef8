//! A BGP session over IPv6 transport (`::1`): nexthopd listens on `[::1]`, a raw
//! peer (nexthop-core's emitters, `raw_peer`) connects from `::1`, and routes go
//! both ways over that session: nexthopd's originated IPv6 prefix and a prefix
//! learned from an IPv4 peer reach the IPv6 peer; the IPv6 peer's prefix reaches
//! the IPv4 peer through nexthopd (MP_REACH_NLRI, RFC 4760; RFC 4271 §9.1.3).
//!
//! Addresses: nexthopd listens on [::1] and 127.0.0.237, port 10237 (mio) or
//! 10239 (uring; it fails, never skips, where io_uring is missing); the IPv4
//! raw peer listens on 127.0.0.238 (a port the kernel picks) and nexthopd connects
//! out to it. Next hops are documentation addresses (2001:db8::/32).
//! Run under the net lock: `flock /tmp/nexthop-net.lock cargo test -p nexthopd --test ipv6_session`.

mod raw_peer;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};

use nexthop_core::wire::Family;
use raw_peer::{Nexthopd, RawPeer, test_dir, v6};

const V6_PEER_AS: u32 = 65236;
const V4_PEER_AS: u32 = 65238;
const OUR_AS: u32 = 65237;

/// The one place this file writes nexthopd TOML: the IPv6 neighbour `::1`
/// (passive), the IPv4 neighbour at 127.0.0.238:`v4_port` carrying both
/// families, one originated IPv6 prefix.
fn config(runtime: &str, listen_port: u16, v4_port: u16) -> String {
    format!(
        "[router]\nasn = {OUR_AS}\nrouter_id = \"192.0.2.237\"\nruntime = \"{runtime}\"\n\
         listen = [\"[::1]:{listen_port}\", \"127.0.0.237:{listen_port}\"]\n\n\
         [[neighbor]]\naddress = \"::1\"\nremote_asn = {V6_PEER_AS}\npassive = true\n\
         families = [\"ipv6-unicast\"]\nnext_hop_v6 = \"2001:db8::237\"\n\n\
         [[neighbor]]\naddress = \"127.0.0.238\"\nremote_asn = {V4_PEER_AS}\nport = {v4_port}\n\
         connect_retry_time = 1\nfamilies = [\"ipv4-unicast\", \"ipv6-unicast\"]\n\
         next_hop_v6 = \"2001:db8::237\"\n\n\
         [[originate]]\nprefix = \"2001:db8:237::/48\"\nnext_hop = \"2001:db8::237\"\n"
    )
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn session_over_ipv6_exchanges_routes_both_ways(runtime: &str, listen_port: u16) {
    let v4_listener = TcpListener::bind(("127.0.0.238", 0)).unwrap();
    let v4_port = v4_listener.local_addr().unwrap().port();
    let n = Nexthopd::start(
        &test_dir(&format!("ipv6-{runtime}")),
        &config(runtime, listen_port, v4_port),
    );
    let mut v4_peer = RawPeer::accept(
        &v4_listener,
        V4_PEER_AS,
        Ipv4Addr::new(192, 0, 2, 238),
        &[Family::IPV4_UNICAST, Family::IPV6_UNICAST],
    );
    let to = SocketAddr::new(ip("::1"), listen_port);
    let mut v6_peer = RawPeer::connect(
        to,
        V6_PEER_AS,
        Ipv4Addr::new(192, 0, 2, 236),
        &[Family::IPV6_UNICAST],
    );
    assert_eq!(v6_peer.open.asn, OUR_AS);
    assert_eq!(v6_peer.open.bgp_identifier, Ipv4Addr::new(192, 0, 2, 237));
    n.wait_log("neighbor=::1 fsm_state=OpenConfirm to=Established");

    // The IPv6 peer to nexthopd, passed on to the IPv4 peer.
    v6_peer.announce_route(v6("2001:db8:236::/48"), ip("2001:db8::236"));
    // The IPv4 peer to nexthopd, passed on to the IPv6 peer.
    v4_peer.announce_route(v6("2001:db8:238::/48"), ip("2001:db8::238"));

    let r = v4_peer.wait_route(v6("2001:db8:236::/48"));
    assert_eq!(r.as_path, vec![OUR_AS, V6_PEER_AS], "{r:?}\n{}", n.output());
    assert_eq!(r.next_hop, ip("2001:db8::237"), "eBGP: next hop self");

    let r = v6_peer.wait_route(v6("2001:db8:237::/48"));
    assert_eq!(r.as_path, vec![OUR_AS], "originated: {r:?}");
    assert_eq!(r.next_hop, ip("2001:db8::237"));
    let r = v6_peer.wait_route(v6("2001:db8:238::/48"));
    assert_eq!(r.as_path, vec![OUR_AS, V4_PEER_AS], "{r:?}\n{}", n.output());
    assert_eq!(r.next_hop, ip("2001:db8::237"), "eBGP: next hop self");
    drop(n);
}

#[test]
fn session_over_ipv6_exchanges_routes_both_ways_mio() {
    session_over_ipv6_exchanges_routes_both_ways("mio", 10237);
}

#[test]
fn session_over_ipv6_exchanges_routes_both_ways_uring() {
    session_over_ipv6_exchanges_routes_both_ways("uring", 10239);
}
