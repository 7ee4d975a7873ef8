//! Per-neighbour policy: the seed's session parameters (allow-lists, MED,
//! LOCAL_PREF, communities), max-prefix, and rule lists with AS-path and community
//! matching.

mod common;
use common::*;

use nexthop_router::attributes::Community;
use nexthop_router::peer::{PeerConfig, SessionParams};
use nexthop_router::policy::{Action, Match, NeighborPolicy, Policy, Rule, Verdict};
use nexthop_router::prefix::PrefixRange;
use nexthop_router::rib::PeerId;
use nexthop_router::router::{ImportError, Router};

const AS: u32 = 65000;

fn up(r: &mut Router, cfg: PeerConfig, id: &str) -> PeerId {
    let p = r.add_peer(cfg);
    r.handle_session_up(p, SessionParams::ipv4(ip(id)), T0);
    p
}

fn range(s: &str, ge: Option<u8>, le: Option<u8>) -> PrefixRange {
    PrefixRange::new(s.parse().unwrap(), ge, le)
}

#[test]
fn import_allow_list_and_local_pref() {
    let mut r = router(AS, "192.0.2.1");
    let mut cfg = peer("172.16.0.1", 65001);
    (cfg.import, cfg.export) = NeighborPolicy {
        allow_import: Some(vec![range("198.51.100.0/22", None, Some(24))]),
        local_pref: Some(250),
        ..Default::default()
    }
    .compile();
    let e = up(&mut r, cfg, "172.16.0.1");
    let inside = v4("198.51.101.0/24");
    let too_long = v4("198.51.101.0/25");
    let outside = v4("203.0.113.0/24");
    r.handle_update(
        e,
        &[],
        &[(0, inside), (0, too_long), (0, outside)],
        Some(attrs(&[65001], "172.16.0.1")),
        T0,
    )
    .unwrap();
    r.handle_timeout(T0);
    assert_eq!(r.best(&inside).unwrap().0.attrs.local_pref, Some(250));
    assert!(r.best(&too_long).is_none());
    assert!(r.best(&outside).is_none());
    assert_eq!(r.prefix_count(e), 1);
}

#[test]
fn export_allow_list_med_and_communities() {
    let mut r = router(AS, "192.0.2.1");
    let src = up(&mut r, peer("172.16.0.9", 65009), "172.16.0.9");
    let mut cfg = peer("172.16.0.1", 65001);
    (cfg.import, cfg.export) = NeighborPolicy {
        allow_export: Some(vec![range("198.51.100.0/22", Some(24), Some(24))]),
        med: Some(42),
        communities: vec![Community::new(65000, 7)],
        ..Default::default()
    }
    .compile();
    let e = up(&mut r, cfg, "172.16.0.1");
    r.handle_update(
        src,
        &[],
        &[(0, v4("198.51.100.0/24")), (0, v4("203.0.113.0/24"))],
        Some(attrs(&[65009], "172.16.0.9")),
        T0,
    )
    .unwrap();
    let mut t = vec![Table::default()];
    settle(&mut r, T0, &[e], &mut t);
    assert_eq!(t[0].routes.len(), 1);
    let a = t[0].get(v4("198.51.100.0/24")).unwrap();
    assert_eq!(a.med, Some(42));
    assert_eq!(a.communities, vec![Community::new(65000, 7)]);
}

/// Max-prefix is reported so the session can send Cease 6/1 (RFC 4486 §4), with
/// the family whose count passed the limit; each family has the limit to itself.
#[test]
fn max_prefix_is_reported() {
    use nexthop_router::attributes::{Attributes, NextHop};
    use nexthop_router::peer::FamilyParams;
    use nexthop_router::prefix::Ipv6Prefix;
    let mut r = router(AS, "192.0.2.1");
    let mut cfg = peer("172.16.0.1", 65001);
    cfg.max_prefix = Some(10);
    let e = r.add_peer(cfg);
    let mut params = SessionParams::ipv4(ip("172.16.0.1"));
    params.ipv6 = FamilyParams {
        enabled: true,
        ..Default::default()
    };
    r.handle_session_up(e, params, T0);
    let ten: Vec<_> = (0..10).map(|i| (0, nth(i))).collect();
    let a = attrs(&[65001], "172.16.0.1");
    assert_eq!(r.handle_update(e, &[], &ten, Some(a.clone()), T0), Ok(()));
    // Ten IPv6 prefixes beside ten IPv4 ones: within each family's limit.
    let ten6: Vec<(u32, Ipv6Prefix)> = (0..10u16)
        .map(|i| (0, format!("2001:db8:{i:x}::/48").parse().unwrap()))
        .collect();
    let a6 = Attributes {
        next_hop: Some(NextHop::V6 {
            global: "2001:db8::9".parse().unwrap(),
            link_local: None,
        }),
        ..a.clone()
    };
    assert_eq!(r.handle_update(e, &[], &ten6, Some(a6.clone()), T0), Ok(()));
    assert_eq!(r.prefix_count(e), 20);
    let eleventh: Ipv6Prefix = "2001:db8:ff::/48".parse().unwrap();
    assert_eq!(
        r.handle_update(e, &[], &[(0, eleventh)], Some(a6), T0),
        Err(ImportError::MaxPrefix {
            limit: 10,
            count: 11,
            family: nexthop_core::wire::Family::IPV6_UNICAST,
        })
    );
    // Re-announcing the same prefixes is not more prefixes.
    assert_eq!(r.handle_update(e, &[], &ten, Some(a.clone()), T0), Ok(()));
    assert_eq!(
        r.handle_update(e, &[], &[(0, nth(10))], Some(a), T0),
        Err(ImportError::MaxPrefix {
            limit: 10,
            count: 11,
            family: nexthop_core::wire::Family::IPV4_UNICAST,
        })
    );
    r.handle_session_down(e, T0);
    r.handle_timeout(T0);
    assert_eq!(r.rib::<nexthop_router::prefix::Ipv4Prefix>().len(), 0);
}

/// A rule list: reject paths through AS 666, raise LOCAL_PREF for a customer's
/// origin, strip one community and add another; AS_PATH length bounds.
#[test]
fn rule_list_with_as_path_and_community_matching() {
    let mut r = router(AS, "192.0.2.1");
    let mut cfg = peer("172.16.0.1", 65001);
    let tag = Community::new(65001, 100);
    cfg.import = Policy {
        rules: vec![
            Rule {
                matches: vec![Match::AsPathContains(666)],
                actions: vec![],
                verdict: Verdict::Reject,
            },
            Rule {
                matches: vec![Match::AsPathLength { min: 5, max: 255 }],
                actions: vec![],
                verdict: Verdict::Reject,
            },
            Rule {
                matches: vec![Match::OriginAs(65100), Match::Community(tag)],
                actions: vec![
                    Action::SetLocalPref(300),
                    Action::RemoveCommunity(tag),
                    Action::AddCommunity(Community::new(65000, 1)),
                ],
                verdict: Verdict::Accept,
            },
        ],
        default: Verdict::Accept,
    };
    let e = up(&mut r, cfg, "172.16.0.1");
    let mut tagged = attrs(&[65001, 65100], "172.16.0.1");
    tagged.communities = vec![tag];
    let cases = [
        (nth(1), attrs(&[65001, 666, 65100], "172.16.0.1"), None),
        (nth(2), attrs(&[65001, 1, 2, 3, 4], "172.16.0.1"), None),
        (nth(3), tagged, Some(300)),
        (nth(4), attrs(&[65001, 65100], "172.16.0.1"), Some(100)),
    ];
    for (p, a, _) in &cases {
        r.handle_update(e, &[], &[(0, *p)], Some(a.clone()), T0)
            .unwrap();
    }
    r.handle_timeout(T0);
    for (p, _, lp) in &cases {
        let got = r
            .best(p)
            .map(|(path, _)| path.attrs.local_pref.unwrap_or(100));
        assert_eq!(got, *lp, "{p}");
    }
    let (best, _) = r.best(&nth(3)).unwrap();
    assert_eq!(best.attrs.communities, vec![Community::new(65000, 1)]);
}

/// A configuration reload: a changed export policy moves the peer to another
/// update group; what it no longer gets is withdrawn, the rest re-sent with the
/// new attributes; the other members see nothing.
#[test]
fn export_policy_change_without_session_reset() {
    use nexthop_router::router::Reconfigured;
    let mut r = router(AS, "192.0.2.1");
    let src = up(&mut r, peer("172.16.0.9", 65009), "172.16.0.9");
    let cfg = |addr: &str, asn: u32| {
        let mut c = peer(addr, asn);
        c.local_v4 = Some(ip("192.0.2.1"));
        c
    };
    let e1 = up(&mut r, cfg("172.16.0.1", 65001), "172.16.0.1");
    let e2 = up(&mut r, cfg("172.16.0.2", 65002), "172.16.0.2");
    let ps: Vec<_> = (0..20).map(|i| (0, nth(i))).collect();
    r.handle_update(src, &[], &ps, Some(attrs(&[65009], "172.16.0.9")), T0)
        .unwrap();
    let mut t = vec![Table::default(), Table::default()];
    settle(&mut r, T0, &[e1, e2], &mut t);
    assert_eq!(t[0].routes.len(), 20);
    assert_eq!(r.group_count(), 2, "the source's group and the receivers'");
    let before = t[0].messages;

    let mut changed = cfg("172.16.0.2", 65002);
    changed.export = NeighborPolicy {
        allow_export: Some(vec![range("10.0.0.0/16", None, Some(24))]),
        med: Some(5),
        ..Default::default()
    }
    .compile()
    .1;
    assert_eq!(r.reconfigure_peer(e2, changed, T0), Reconfigured::Applied);
    assert_eq!(r.group_count(), 3);
    settle(&mut r, T0, &[e1, e2], &mut t);
    assert_eq!(t[0].messages, before, "the other member saw nothing");
    assert_eq!(t[1].routes.len(), 20, "all 20 are inside 10.0.0.0/16");
    assert!(t[1].routes.values().all(|a| a.med == Some(5)));

    let mut narrower = cfg("172.16.0.2", 65002);
    narrower.export = NeighborPolicy {
        allow_export: Some(vec![range("10.0.0.0/20", None, Some(24))]),
        ..Default::default()
    }
    .compile()
    .1;
    r.reconfigure_peer(e2, narrower, T0);
    settle(&mut r, T0, &[e1, e2], &mut t);
    assert_eq!(t[1].routes.len(), 16, "10.0.0.0/24 .. 10.0.15.0/24");
    assert!(t[1].routes.values().all(|a| a.med.is_none()));

    // Back to the shared policy: back in the shared group, with everything.
    r.reconfigure_peer(e2, cfg("172.16.0.2", 65002), T0);
    assert_eq!(r.group_count(), 2);
    assert_eq!(r.group_of(e1), r.group_of(e2));
    settle(&mut r, T0, &[e1, e2], &mut t);
    assert_eq!(t[0].routes, t[1].routes);

    let mut import = cfg("172.16.0.2", 65002);
    import.max_prefix = Some(5);
    assert_eq!(
        r.reconfigure_peer(e2, import, T0),
        Reconfigured::RouteRefreshNeeded
    );
    assert_eq!(
        r.reconfigure_peer(e2, cfg("172.16.0.3", 65002), T0),
        Reconfigured::ResetNeeded
    );
}

/// Making a peer a route reflector client makes its routes reflected to the
/// other non-clients (RFC 4456 §6).
#[test]
fn becoming_a_client_is_reflected() {
    let mut r = router(AS, "192.0.2.1");
    let a = up(&mut r, peer("10.0.0.1", AS), "10.0.0.1");
    let b = up(&mut r, peer("10.0.0.2", AS), "10.0.0.2");
    r.handle_update(a, &[], &[(0, nth(1))], Some(attrs(&[], "10.0.0.1")), T0)
        .unwrap();
    let mut t = vec![Table::default()];
    settle(&mut r, T0, &[b], &mut t);
    assert!(t[0].routes.is_empty(), "non-client to non-client");
    let mut client = peer("10.0.0.1", AS);
    client.route_reflector_client = true;
    r.reconfigure_peer(a, client, T0);
    settle(&mut r, T0, &[b], &mut t);
    let got = t[0].get(nth(1)).expect("reflected now");
    assert_eq!(got.originator_id, Some(ip("10.0.0.1")));
}

/// A removed neighbour's routes go, and its session does not come back.
#[test]
fn removed_peer_stays_down() {
    let mut r = router(AS, "192.0.2.1");
    let e = up(&mut r, peer("172.16.0.1", 65001), "172.16.0.1");
    r.handle_update(
        e,
        &[],
        &[(0, nth(1))],
        Some(attrs(&[65001], "172.16.0.1")),
        T0,
    )
    .unwrap();
    r.handle_timeout(T0);
    r.remove_peer(e, T0);
    r.handle_timeout(T0);
    assert!(r.best(&nth(1)).is_none());
    r.handle_session_up(e, SessionParams::ipv4(ip("172.16.0.1")), T0);
    assert!(r.session(e).is_none());
}
