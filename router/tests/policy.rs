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

/// Max-prefix is reported so the session can send Cease 6/1 (RFC 4486 §4).
#[test]
fn max_prefix_is_reported() {
    let mut r = router(AS, "192.0.2.1");
    let mut cfg = peer("172.16.0.1", 65001);
    cfg.max_prefix = Some(10);
    let e = up(&mut r, cfg, "172.16.0.1");
    let ten: Vec<_> = (0..10).map(|i| (0, nth(i))).collect();
    let a = attrs(&[65001], "172.16.0.1");
    assert_eq!(r.handle_update(e, &[], &ten, Some(a.clone()), T0), Ok(()));
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
