//! Speakers over a virtual wire reach Established and exchange routes (RFC 4271
//! §8, §9): the negotiated parameters reach the router, originated routes carry
//! their configured attributes, next hop self towards eBGP.

mod net;

use std::net::IpAddr;

use net::{Net, addr, config, neighbor, originate, validated};
use nexthop_core::session::State;
use nexthop_router::attributes::NextHop;
use nexthop_speaker::Duration;
use nexthop_speaker::config::file::Neighbor;
use nexthop_speaker::config::{AddPath, FamilyName};

/// [`neighbor`] negotiating IPv4 and IPv6 unicast.
fn dual_stack(address: IpAddr, remote_asn: u32) -> Neighbor {
    neighbor(address, remote_asn).families(&FamilyName::ALL)
}

fn v4(a: IpAddr) -> NextHop {
    match a {
        IpAddr::V4(a) => NextHop::V4(a),
        IpAddr::V6(_) => unreachable!(),
    }
}

#[test]
fn two_speakers_reach_established_and_exchange_routes() {
    let (a, b, c) = (addr(0), addr(1), addr(2));
    let mut net = Net::new();
    let na = net.add(
        a,
        &config(65001, a).neighbor(neighbor(b, 65002)).originate(
            originate("198.51.100.0/24")
                .community(65001, 7)
                .large_community(65001, 1, 2),
        ),
    );
    let nb = net.add(
        b,
        &config(65002, b)
            .neighbor(neighbor(a, 65001))
            .neighbor(neighbor(c, 65002))
            .originate(originate("203.0.113.0/24").next_hop("198.51.100.9".parse().unwrap())),
    );
    let nc = net.add(c, &config(65002, c).neighbor(neighbor(b, 65002)));
    assert!(
        net.run_until(Duration::from_secs(30), |n| n.established(na, b)
            && n.established(nb, a)
            && n.established(nc, b))
    );
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[na].best("203.0.113.0/24").is_some()
            && n.nodes[nb].best("198.51.100.0/24").is_some()
            && n.nodes[nc].best("203.0.113.0/24").is_some()
            && n.nodes[nc].best("198.51.100.0/24").is_some()
    }));

    // B's route at A (eBGP): AS_PATH 65002, next hop B itself.
    let p = net.nodes[na].best("203.0.113.0/24").unwrap();
    assert_eq!(p.attrs.as_path.neighbor_as(), Some(65002));
    assert_eq!(p.attrs.as_path.route_selection_len(), 1);
    assert_eq!(p.attrs.next_hop, Some(v4(b)));
    // At C (iBGP): the configured next hop, an empty AS_PATH, LOCAL_PREF.
    let p = net.nodes[nc].best("203.0.113.0/24").unwrap();
    assert_eq!(
        p.attrs.next_hop,
        Some(NextHop::V4("198.51.100.9".parse().unwrap()))
    );
    assert_eq!(p.attrs.as_path.route_selection_len(), 0);
    assert_eq!(p.attrs.local_pref, Some(100));
    // A's route at B: next hop A's own address on the session (none configured),
    // communities carried.
    let p = net.nodes[nb].best("198.51.100.0/24").unwrap();
    assert_eq!(p.attrs.as_path.neighbor_as(), Some(65001));
    assert_eq!(p.attrs.next_hop, Some(v4(a)));
    assert_eq!(p.attrs.communities.len(), 1);
    assert_eq!(p.attrs.communities[0].0, 65001 << 16 | 7);
    assert_eq!(p.attrs.large_communities.len(), 1);
    assert_eq!(p.attrs.large_communities[0].local_data_2, 2);
    // ... and at C through B: next hop unchanged over iBGP.
    let p = net.nodes[nc].best("198.51.100.0/24").unwrap();
    assert_eq!(p.attrs.next_hop, Some(v4(a)));

    // The negotiated parameters reached the routers.
    let rp = net.nodes[na].speaker.router_peer(b).unwrap();
    let s = net.nodes[na].speaker.router().session(rp).unwrap();
    assert!(s.four_octet_as && s.ipv4.enabled && !s.ipv6.enabled);
    assert_eq!(s.max_message_len, 65535);
    assert_eq!(s.local_address, Some(a));

    // The sessions stay up over several hold times: KEEPALIVEs flow.
    net.run_for(Duration::from_secs(60));
    for (i, p) in [(na, b), (nb, a), (nb, c), (nc, b)] {
        assert_eq!(net.nodes[i].state_of(p), Some(State::Established));
        assert!(
            net.nodes[i]
                .sent_to(p)
                .filter(|s| s.message_type() == 4)
                .count()
                >= 15
        );
    }
    assert!(net.nodes[na].notifications().iter().all(|&n| n == (6, 7)));
    // UPDATEs went as the router's shared messages.
    assert!(
        net.nodes[na]
            .sent
            .iter()
            .any(|s| s.message_type() == 2 && s.shared)
    );
}

#[test]
fn withdrawal_propagates() {
    let (a, b) = (addr(0), addr(1));
    let with = |o: bool| {
        let cfg = config(65001, a).neighbor(neighbor(b, 65002));
        if o {
            cfg.originate(originate("198.51.100.0/24"))
        } else {
            cfg
        }
    };
    let mut net = Net::new();
    let na = net.add(a, &with(true));
    let nb = net.add(b, &config(65002, b).neighbor(neighbor(a, 65001)));
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[nb].best("198.51.100.0/24").is_some()
    }));
    let summary = net.nodes[na]
        .speaker
        .handle_reload(net.now, validated(&with(false)));
    assert_eq!(summary.unchanged, 1);
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[nb].best("198.51.100.0/24").is_none()
    }));
    assert!(net.established(nb, a));
}

#[test]
fn add_path_carries_several_paths_for_one_prefix() {
    // C and D both originate 203.0.113.0/24 towards A; A sends both paths to B
    // over an ADD-PATH session (RFC 7911).
    let (a, b, c, d) = (addr(0), addr(1), addr(2), addr(3));
    let mut net = Net::new();
    let na = net.add(
        a,
        &config(65001, a)
            .neighbor(neighbor(b, 65001).add_path(AddPath::Both))
            .neighbor(neighbor(c, 65003))
            .neighbor(neighbor(d, 65004)),
    );
    let nb = net.add(
        b,
        &config(65001, b).neighbor(neighbor(a, 65001).add_path(AddPath::Both)),
    );
    for (x, asn) in [(c, 65003), (d, 65004)] {
        net.add(
            x,
            &config(asn, x)
                .neighbor(neighbor(a, 65001))
                .originate(originate("203.0.113.0/24")),
        );
    }
    let prefix: nexthop_router::prefix::Ipv4Prefix = "203.0.113.0/24".parse().unwrap();
    assert!(net.run_until(Duration::from_secs(60), |n| {
        n.nodes[nb]
            .speaker
            .router()
            .rib::<nexthop_router::prefix::Ipv4Prefix>()
            .paths(&prefix)
            .len()
            == 2
    }));
    let rp = net.nodes[na].speaker.router_peer(b).unwrap();
    let s = net.nodes[na].speaker.router().session(rp).unwrap();
    assert!(s.ipv4.add_path_send && s.ipv4.add_path_receive);
    let paths = net.nodes[nb]
        .speaker
        .router()
        .rib::<nexthop_router::prefix::Ipv4Prefix>()
        .paths(&prefix)
        .to_vec();
    let mut ids: Vec<u32> = paths.iter().map(|p| p.path_id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 2);
    let mut origins: Vec<_> = paths
        .iter()
        .map(|p| p.attrs.as_path.neighbor_as())
        .collect();
    origins.sort();
    assert_eq!(origins, vec![Some(65003), Some(65004)]);
}

#[test]
fn ipv6_routes_over_an_ipv4_session_with_next_hop_self_v6() {
    let (a, b) = (addr(0), addr(1));
    let mut net = Net::new();
    let _na = net.add(
        a,
        &config(65001, a)
            .neighbor(dual_stack(b, 65002).next_hop_v6("2001:db8::a".parse().unwrap()))
            .originate(originate("2001:db8:100::/48").community(65001, 6))
            .originate(originate("198.51.100.0/24")),
    );
    let nb = net.add(b, &config(65002, b).neighbor(dual_stack(a, 65001)));
    let p6: nexthop_router::prefix::Ipv6Prefix = "2001:db8:100::/48".parse().unwrap();
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[nb].speaker.router().best(&p6).is_some()
            && n.nodes[nb].best("198.51.100.0/24").is_some()
    }));
    let (p, _) = net.nodes[nb].speaker.router().best(&p6).unwrap();
    assert_eq!(
        p.attrs.next_hop,
        Some(NextHop::V6 {
            global: "2001:db8::a".parse().unwrap(),
            link_local: None
        })
    );
    assert_eq!(p.attrs.as_path.neighbor_as(), Some(65001));
    // IPv4 routes keep next hop self from the session.
    assert_eq!(
        net.nodes[nb]
            .best("198.51.100.0/24")
            .unwrap()
            .attrs
            .next_hop,
        Some(v4(a))
    );
}

/// Router bug, reported to the lead: the update group's export memo
/// (`group::MemoKey`) does not include the family, so an IPv6 route with the
/// same attribute set as an IPv4 one (two `[[originate]]`s without next hop or
/// communities) is sent with the IPv4 "next hop self" (as `::ffff:a.b.c.d`).
#[test]
fn ipv6_and_ipv4_originated_with_the_same_attributes() {
    let (a, b) = (addr(0), addr(1));
    let mut net = Net::new();
    net.add(
        a,
        &config(65001, a)
            .neighbor(dual_stack(b, 65002).next_hop_v6("2001:db8::a".parse().unwrap()))
            .originate(originate("198.51.100.0/24"))
            .originate(originate("2001:db8:100::/48")),
    );
    let nb = net.add(b, &config(65002, b).neighbor(dual_stack(a, 65001)));
    let p6: nexthop_router::prefix::Ipv6Prefix = "2001:db8:100::/48".parse().unwrap();
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[nb].speaker.router().best(&p6).is_some()
    }));
    let (p, _) = net.nodes[nb].speaker.router().best(&p6).unwrap();
    assert_eq!(
        p.attrs.next_hop,
        Some(NextHop::V6 {
            global: "2001:db8::a".parse().unwrap(),
            link_local: None
        })
    );
}
