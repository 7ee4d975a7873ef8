//! `Router::explain_export`, the answer to "why is this neighbour not sent this
//! prefix": one router with peers of every kind and routes that meet each rule,
//! the reason named for each, and for every peer and prefix the explanation
//! agrees with what the peer was actually sent.

mod common;
use common::*;

use nexthop_router::attributes::Community;
use nexthop_router::export::Refusal as Rule;
use nexthop_router::peer::{PeerConfig, SessionParams};
use nexthop_router::policy::{Match, Policy, Rule as PolicyRule, Verdict};
use nexthop_router::prefix::{IpPrefix, Ipv4Prefix, Ipv6Prefix, PrefixRange};
use nexthop_router::rib::PeerId;
use nexthop_router::router::{Refusal, Router};

const AS: u32 = 65000;

fn up(r: &mut Router, cfg: PeerConfig, id: &str) -> PeerId {
    let p = r.add_peer(cfg);
    r.handle_session_up(p, SessionParams::ipv4(ip(id)), T0);
    p
}

fn ebgp(addr: &str, asn: u32) -> PeerConfig {
    let mut c = peer(addr, asn);
    c.local_v4 = Some(ip("192.0.2.1"));
    c
}

#[test]
fn each_reason_is_named_and_agrees_with_what_was_sent() {
    let mut r = router(AS, "192.0.2.1");
    let a = up(&mut r, peer("10.0.0.1", AS), "10.0.0.1");
    let b = up(&mut r, peer("10.0.0.2", AS), "10.0.0.2");
    let mut cc = peer("10.0.0.3", AS);
    cc.route_reflector_client = true;
    let c = up(&mut r, cc, "10.0.0.3");
    let e = up(&mut r, ebgp("172.16.0.1", 65001), "172.16.0.1");
    let mut fc = ebgp("172.16.0.2", 65002);
    fc.export = Policy {
        rules: vec![PolicyRule {
            matches: vec![Match::Prefix(vec![PrefixRange::exact(IpPrefix::V4(v4(
                "198.51.100.0/24",
            )))])],
            actions: Vec::new(),
            verdict: Verdict::Reject,
        }],
        default: Verdict::Accept,
    };
    let f = up(&mut r, fc, "172.16.0.2");
    let g = r.add_peer(ebgp("172.16.0.3", 65003)); // configured, never up

    let p1 = v4("203.0.113.0/24"); // from a, an iBGP non-client
    let p2 = v4("198.51.100.0/24"); // from e; f's export policy rejects it
    let p3 = v4("192.0.2.0/24"); // from e, NO_EXPORT
    let p4 = v4("100.64.0.0/24"); // from e, NO_ADVERTISE
    r.handle_update(a, &[], &[(0, p1)], Some(attrs(&[65010], "10.0.0.1")), T0)
        .unwrap();
    r.handle_update(e, &[], &[(0, p2)], Some(attrs(&[65001], "172.16.0.1")), T0)
        .unwrap();
    let mut at = attrs(&[65001], "172.16.0.1");
    at.communities = vec![Community::NO_EXPORT];
    r.handle_update(e, &[], &[(0, p3)], Some(at), T0).unwrap();
    let mut at = attrs(&[65001], "172.16.0.1");
    at.communities = vec![Community::NO_ADVERTISE];
    r.handle_update(e, &[], &[(0, p4)], Some(at), T0).unwrap();
    let peers = [a, b, c, e, f];
    let mut tables = vec![Table::default(); peers.len()];
    settle(&mut r, T0, &peers, &mut tables);

    let why = |r: &Router, p: Ipv4Prefix, to: PeerId| r.explain_export(&p, to).refusal;
    assert_eq!(why(&r, p1, b), Some(Refusal::Rule(Rule::IbgpNonClient)));
    // Its own source is an iBGP non-client too: the group's rule comes first
    // (the router never considers sending it to that group at all).
    assert_eq!(why(&r, p1, a), Some(Refusal::Rule(Rule::IbgpNonClient)));
    assert_eq!(
        why(&r, p1, c),
        None,
        "non-client's route reflected to a client"
    );
    assert_eq!(why(&r, p1, e), None);
    assert_eq!(why(&r, p2, f), Some(Refusal::ExportPolicy(Some(0))));
    assert_eq!(why(&r, p2, e), Some(Refusal::SplitHorizon));
    assert_eq!(why(&r, p3, f), Some(Refusal::Rule(Rule::NoExport)));
    assert_eq!(why(&r, p3, a), None, "NO_EXPORT still goes to iBGP");
    assert_eq!(why(&r, p4, a), Some(Refusal::Rule(Rule::NoAdvertise)));
    assert_eq!(why(&r, v4("10.99.0.0/16"), a), Some(Refusal::NoRoute));
    assert_eq!(why(&r, p1, g), Some(Refusal::SessionNotEstablished));
    let v6 = Ipv6Prefix::new("2001:db8::".parse().unwrap(), 32).unwrap();
    assert_eq!(
        r.explain_export(&v6, a).refusal,
        Some(Refusal::FamilyNotNegotiated)
    );

    // The explanation and the peer's table agree, for every pair.
    for (k, &to) in peers.iter().enumerate() {
        for p in [p1, p2, p3, p4] {
            let x = r.explain_export(&p, to);
            let got = tables[k].get(p);
            assert_eq!(
                x.refusal.is_none(),
                got.is_some(),
                "peer {k}, {p:?}: explained {:?}, sent {got:?}",
                x.refusal
            );
            if let Some(sent) = got {
                assert_eq!(x.sent.len(), 1);
                assert_eq!(**sent, *x.sent[0].2, "the attributes it was sent");
            }
        }
    }
}

/// The decision's explanation: each loser's step, the best first.
#[test]
fn explain_names_the_step_each_path_lost_at() {
    use nexthop_router::decision::Reason;
    let mut r = router(AS, "192.0.2.1");
    let a = up(&mut r, peer("10.0.0.1", AS), "10.0.0.1");
    let b = up(&mut r, peer("10.0.0.2", AS), "10.0.0.2");
    let e = up(&mut r, ebgp("172.16.0.1", 65001), "172.16.0.1");
    let p = v4("203.0.113.0/24");
    let mut hi = attrs(&[65010], "10.0.0.1");
    hi.local_pref = Some(200);
    r.handle_update(a, &[], &[(0, p)], Some(hi), T0).unwrap();
    let mut long = attrs(&[65010, 65011], "10.0.0.2");
    long.local_pref = Some(200);
    r.handle_update(b, &[], &[(0, p)], Some(long), T0).unwrap();
    r.handle_update(e, &[], &[(0, p)], Some(attrs(&[65001], "172.16.0.1")), T0)
        .unwrap();
    settle(&mut r, T0, &[a, b, e], &mut vec![Table::default(); 3]);
    let x = r.explain(&p);
    let by_peer = |peer: PeerId| x.iter().find(|c| c.path.peer == peer).unwrap();
    assert!(x[0].best && x[0].path.peer == a, "best first: {x:?}");
    assert_eq!(
        by_peer(a).step,
        Some(Reason::AsPathLength),
        "won at the last step that removed one"
    );
    assert_eq!(by_peer(b).step, Some(Reason::AsPathLength));
    // eBGP paths have no LOCAL_PREF: the default 100 < 200.
    assert_eq!(by_peer(e).step, Some(Reason::LocalPref));
    assert_eq!(x[1].path.peer, b, "the path that went furthest next");
}
