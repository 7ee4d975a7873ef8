//! `explain` and `explain_export` agree with what the router does: the explained
//! best is the selected best, each loser lost at a step where the best is
//! strictly better, and a peer is said to be sent a prefix exactly when it is,
//! with the attributes it was sent.

mod common;
use common::*;

use std::net::{IpAddr, Ipv4Addr};

use proptest::prelude::*;

use nexthop_router::attributes::Community;
use nexthop_router::decision::{self, DecisionOptions, Reason, SelectionKey, select};
use nexthop_router::policy::{Match, Policy, Rule, Verdict as PolicyVerdict};
use nexthop_router::prefix::Ipv4Prefix;
use nexthop_router::rib::PeerId;
use nexthop_router::router::{NotSent, Router, Verdict};

fn base() -> SelectionKey {
    SelectionKey {
        local_pref: 100,
        locally_originated: false,
        as_path_len: 3,
        origin: 1,
        med: 50,
        neighbor_as: Some(65001),
        ebgp: false,
        igp_cost: 10,
        router_id: 0x0a00_0005,
        cluster_list_len: 2,
        peer_address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 5)),
    }
}

const STEPS: [Reason; 10] = [
    Reason::LocalPref,
    Reason::LocallyOriginated,
    Reason::AsPathLength,
    Reason::Origin,
    Reason::MultiExitDisc,
    Reason::EbgpOverIbgp,
    Reason::IgpCost,
    Reason::RouterId,
    Reason::ClusterListLength,
    Reason::PeerAddress,
];

/// `k` made better than `base()` at `step`.
fn better_at(step: Reason, mut k: SelectionKey) -> SelectionKey {
    match step {
        Reason::LocalPref => k.local_pref = 200,
        Reason::LocallyOriginated => k.locally_originated = true,
        Reason::AsPathLength => k.as_path_len = 2,
        Reason::Origin => k.origin = 0,
        Reason::MultiExitDisc => k.med = 10,
        Reason::EbgpOverIbgp => k.ebgp = true,
        Reason::IgpCost => k.igp_cost = 5,
        Reason::RouterId => k.router_id = 0x0a00_0001,
        Reason::ClusterListLength => k.cluster_list_len = 1,
        Reason::PeerAddress => k.peer_address = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
        Reason::OnlyPath => {}
    }
    k
}

/// One row per step: the loser is better at every later step, so only `step`
/// can decide; `explain` names it for the loser and for the best.
#[test]
fn table_one_row_per_step() {
    let o = DecisionOptions::default();
    for (pos, &step) in STEPS.iter().enumerate() {
        let winner = better_at(step, base());
        let mut loser = base();
        for &later in &STEPS[pos + 1..] {
            loser = better_at(later, loser);
        }
        for (paths, w, l) in [([winner, loser], 0, 1), ([loser, winner], 1, 0)] {
            let mut lost = Vec::new();
            assert_eq!(
                decision::explain(&paths, &o, &mut lost),
                Some((w, step)),
                "{step:?}"
            );
            assert_eq!(lost[l], Some(step), "{step:?}: the loser's step");
            assert_eq!(lost[w], None, "{step:?}: the best did not lose");
            assert_eq!(select(&paths, &o, &mut Vec::new()), Some((w, step)));
        }
    }
}

/// RFC 4271 §9.1.2.2 (c): MED decides only between paths from the same
/// neighbouring AS, unless always-compare-med.
#[test]
fn med_only_within_a_neighbouring_as() {
    let a = better_at(Reason::MultiExitDisc, base());
    let mut b = better_at(Reason::RouterId, base());
    b.neighbor_as = Some(65002);
    let mut lost = Vec::new();
    let o = DecisionOptions::default();
    assert_eq!(
        decision::explain(&[a, b], &o, &mut lost),
        Some((1, Reason::RouterId))
    );
    assert_eq!(lost, vec![Some(Reason::RouterId), None]);
    let o = DecisionOptions {
        always_compare_med: true,
    };
    assert_eq!(
        decision::explain(&[a, b], &o, &mut lost),
        Some((0, Reason::MultiExitDisc))
    );
    assert_eq!(lost, vec![None, Some(Reason::MultiExitDisc)]);
}

fn key_strategy() -> impl Strategy<Value = SelectionKey> {
    (
        (0u32..3, any::<bool>(), 0u32..3, 0u8..3, 0u32..3),
        (
            prop::option::of(0u32..3),
            any::<bool>(),
            0u32..3,
            0u32..3,
            0u32..3,
            0u8..3,
        ),
    )
        .prop_map(
            |((lp, lo, len, origin, med), (nas, ebgp, igp, rid, cl, addr))| SelectionKey {
                local_pref: lp,
                locally_originated: lo,
                as_path_len: len,
                origin,
                med,
                neighbor_as: nas,
                ebgp,
                igp_cost: igp,
                router_id: rid,
                cluster_list_len: cl,
                peer_address: IpAddr::V4(Ipv4Addr::new(10, 0, 0, addr)),
            },
        )
}

/// Whether `b` is strictly better than `l` at total-order step `s`, and equal.
fn at(s: Reason, b: &SelectionKey, l: &SelectionKey) -> std::cmp::Ordering {
    match s {
        Reason::LocalPref => l.local_pref.cmp(&b.local_pref),
        Reason::LocallyOriginated => l.locally_originated.cmp(&b.locally_originated),
        Reason::AsPathLength => b.as_path_len.cmp(&l.as_path_len),
        Reason::Origin => b.origin.cmp(&l.origin),
        Reason::MultiExitDisc => b.med.cmp(&l.med),
        Reason::EbgpOverIbgp => l.ebgp.cmp(&b.ebgp),
        Reason::IgpCost => b.igp_cost.cmp(&l.igp_cost),
        Reason::RouterId => b.router_id.cmp(&l.router_id),
        Reason::ClusterListLength => b.cluster_list_len.cmp(&l.cluster_list_len),
        Reason::PeerAddress => b.peer_address.cmp(&l.peer_address),
        Reason::OnlyPath => std::cmp::Ordering::Equal,
    }
}

proptest! {
    #[test]
    fn explained_best_is_selected_and_losers_lost_where_best_is_better(
        keys in prop::collection::vec(key_strategy(), 1..8),
        always in any::<bool>(),
    ) {
        let o = DecisionOptions { always_compare_med: always };
        let mut lost = Vec::new();
        let explained = decision::explain(&keys, &o, &mut lost);
        prop_assert_eq!(explained, select(&keys, &o, &mut Vec::new()));
        let (b, _) = explained.unwrap();
        let best = &keys[b];
        for (i, l) in keys.iter().enumerate() {
            if i == b {
                prop_assert_eq!(lost[i], None);
                continue;
            }
            let step = lost[i].expect("every other path lost at a step");
            if step == Reason::MultiExitDisc && !always {
                // Removed by a path of its own neighbouring AS with a lower MED.
                prop_assert!(keys.iter().any(|k| k.neighbor_as == l.neighbor_as && k.med < l.med));
                continue;
            }
            if step == Reason::PeerAddress && at(step, best, l) == std::cmp::Ordering::Equal {
                // Tied with the best at every step it was compared at (the
                // same key, or keys that differ only in a MED never compared
                // across ASes): the first path wins, as select does.
                continue;
            }
            prop_assert_eq!(at(step, best, l), std::cmp::Ordering::Less, "{:?}", step);
            // It survived every earlier total-order step, tied with the best there.
            for &s in STEPS.iter().take_while(|&&s| s != step) {
                if s != Reason::MultiExitDisc {
                    prop_assert_eq!(at(s, best, l), std::cmp::Ordering::Equal, "{:?}", s);
                }
            }
        }
    }
}

// ----- the router -----

const AS: u32 = 65000;

struct Scenario {
    r: Router,
    peers: Vec<PeerId>,
    tables: Vec<Table>,
    /// Prefixes each peer announced.
    announced: Vec<u32>,
}

fn scenario(seed: u64) -> Scenario {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut r = router(AS, "192.0.2.1");
    let mut peers = Vec::new();
    for i in 0..8u32 {
        let addr = format!("10.0.{}.{}", i / 250, 1 + i % 250);
        let kind = next(3);
        let mut c = if kind == 0 {
            let mut c = peer(&addr, 65100 + i);
            c.local_v4 = Some(ip("192.0.2.1"));
            c
        } else {
            let mut c = peer(&addr, AS);
            c.route_reflector_client = kind == 2;
            c
        };
        if next(3) == 0 {
            c.export = Policy {
                rules: vec![Rule {
                    matches: vec![Match::AsPathContains(64999)],
                    actions: vec![],
                    verdict: PolicyVerdict::Reject,
                }],
                ..Policy::accept_all()
            };
        }
        if next(3) == 0 {
            c.import = Policy {
                rules: vec![Rule {
                    matches: vec![Match::AsPathContains(65999)],
                    actions: vec![],
                    verdict: PolicyVerdict::Reject,
                }],
                ..Policy::accept_all()
            };
        }
        let p = r.add_peer(c);
        r.handle_session_up(p, nexthop_router::peer::SessionParams::ipv4(ip(&addr)), T0);
        peers.push(p);
    }
    let mut tables = vec![Table::default(); peers.len()];
    settle(&mut r, T0, &peers, &mut tables);
    let mut announced = vec![0; peers.len()];
    for (n, &p) in peers.iter().enumerate() {
        let asn = if r.is_internal(p) {
            vec![]
        } else {
            vec![65100 + n as u32]
        };
        for k in 0..6 {
            if next(2) == 0 {
                continue;
            }
            announced[n] += 1;
            let mut path = asn.clone();
            path.extend((0..next(3)).map(|_| 64999 + next(3) as u32 * 1000));
            let mut a = attrs(&path, &format!("10.9.0.{}", n + 1));
            if !r.is_internal(p) && next(6) == 0 {
                // Our own AS in the path: rejected by the loop check (§9.1.2).
                a.as_path = nexthop_router::as_path::AsPath::sequence(&[65100 + n as u32, AS]);
            }
            match next(5) {
                0 => a.add_community(Community::NO_EXPORT),
                1 => a.add_community(Community::NO_ADVERTISE),
                _ => {}
            }
            a.local_pref = Some(100 + next(2) as u32 * 50);
            r.handle_update(p, &[], &[(0, nth(k))], Some(a), T0)
                .unwrap();
        }
    }
    settle(&mut r, T0, &peers, &mut tables);
    Scenario {
        r,
        peers,
        tables,
        announced,
    }
}

/// Over generated scenarios (eBGP, iBGP clients and non-clients, NO_EXPORT,
/// NO_ADVERTISE, export policies): `explain_export` says advertised exactly
/// when the peer's Adj-RIB-Out holds the prefix, with the attributes the peer
/// received; otherwise a reason, never "pending" once settled.
#[test]
fn explain_export_agrees_with_what_is_sent() {
    let mut counts = std::collections::BTreeMap::new();
    for seed in 0..40 {
        let s = scenario(seed);
        for (i, &p) in s.peers.iter().enumerate() {
            for k in 0..7 {
                let prefix: Ipv4Prefix = nth(k);
                let e = s.r.explain_export(p, &prefix);
                let held =
                    s.r.adj_rib_out(p, &prefix)
                        .iter()
                        .any(|o| o.attrs.is_some() && o.source != p);
                assert_eq!(!e.sent.is_empty(), held, "seed {seed} peer {i} {prefix}");
                assert_eq!(e.not_sent.is_none(), held);
                match s.tables[i].get(prefix) {
                    Some(got) => {
                        assert_eq!(e.sent.len(), 1);
                        assert_eq!(**got, *e.sent[0].2, "seed {seed} peer {i} {prefix}");
                    }
                    None => assert!(e.sent.is_empty(), "seed {seed} peer {i} {prefix}"),
                }
                let code = e.not_sent.map_or("advertised", NotSent::code);
                assert_ne!(code, "pending");
                *counts.entry(code).or_insert(0) += 1;
            }
        }
    }
    // The scenarios reach every reason they can produce.
    for code in [
        "advertised",
        "no_route",
        "split_horizon",
        "ibgp_to_ibgp_non_client",
        "no_advertise",
        "no_export",
        "export_policy",
    ] {
        assert!(counts.contains_key(code), "{code} never seen: {counts:?}");
    }
    println!("explain_export reasons over the scenarios: {counts:?}");
}

/// The router's `explain` names the best path the RIB holds first.
#[test]
fn router_explain_puts_the_selected_best_first() {
    for seed in 0..20 {
        let s = scenario(seed);
        for k in 0..6 {
            let prefix = nth(k);
            let c = s.r.explain(&prefix);
            match s.r.best(&prefix) {
                Some((best, reason)) => {
                    assert_eq!(c[0].path, *best);
                    assert_eq!(c[0].verdict, Verdict::Best(reason));
                    assert!(c[1..].iter().all(|c| matches!(c.verdict, Verdict::Lost(_))));
                    assert_eq!(c.len(), s.r.rib::<Ipv4Prefix>().paths(&prefix).len());
                }
                None => assert!(c.is_empty()),
            }
        }
    }
}

/// A session that is down, and a family not negotiated, come first.
#[test]
fn session_and_family_reasons() {
    let mut r = router(AS, "192.0.2.1");
    let p = r.add_peer(peer("10.0.0.1", AS));
    assert_eq!(
        r.explain_export(p, &nth(0)).not_sent,
        Some(NotSent::SessionNotEstablished)
    );
    r.handle_session_up(
        p,
        nexthop_router::peer::SessionParams::ipv4(ip("10.0.0.1")),
        T0,
    );
    let v6: nexthop_router::prefix::Ipv6Prefix = "2001:db8::/32".parse().unwrap();
    assert_eq!(
        r.explain_export(p, &v6).not_sent,
        Some(NotSent::FamilyNotNegotiated)
    );
    assert_eq!(
        r.explain_export(p, &nth(0)).not_sent,
        Some(NotSent::NoRoute)
    );
}

/// Per-neighbour counts: received is what the peer announces now (accepted
/// plus rejected by import policy or the loop check), accepted is its paths in
/// the RIB, advertised is its Adj-RIB-Out, each read in O(1); a session going
/// down clears them.
#[test]
fn per_neighbour_counts_match_the_tables() {
    let mut rejected_seen = 0;
    for seed in 0..40 {
        let mut s = scenario(seed);
        for (i, &p) in s.peers.iter().enumerate() {
            let received = s.r.received_count::<Ipv4Prefix>(p);
            let accepted = s.r.accepted_count::<Ipv4Prefix>(p);
            assert_eq!(received, s.announced[i], "seed {seed} peer {i}");
            let in_rib =
                s.r.rib::<Ipv4Prefix>()
                    .iter()
                    .filter(|(_, paths)| paths.iter().any(|x| x.peer == p))
                    .count() as u32;
            assert_eq!(accepted, in_rib, "seed {seed} peer {i}");
            rejected_seen += received - accepted;
            let out =
                s.r.adj_rib_out_after::<Ipv4Prefix>(p, None)
                    .filter(|(_, o)| o.iter().any(|o| o.attrs.is_some() && o.source != p))
                    .count() as u32;
            assert_eq!(
                s.r.advertised_count::<Ipv4Prefix>(p),
                out,
                "seed {seed} peer {i}"
            );
            assert_eq!(
                out as usize,
                s.tables[i].routes.len(),
                "seed {seed} peer {i}"
            );
        }
        let first = s.peers[0];
        s.r.handle_session_down(first, T0);
        assert_eq!(s.r.received_count::<Ipv4Prefix>(first), 0);
        assert_eq!(s.r.accepted_count::<Ipv4Prefix>(first), 0);
        let mut t = vec![Table::default(); s.peers.len()];
        settle(&mut s.r, T0, &s.peers, &mut t);
        for (i, &p) in s.peers.iter().enumerate().skip(1) {
            let out =
                s.r.adj_rib_out_after::<Ipv4Prefix>(p, None)
                    .filter(|(_, o)| o.iter().any(|o| o.attrs.is_some() && o.source != p))
                    .count() as u32;
            assert_eq!(
                s.r.advertised_count::<Ipv4Prefix>(p),
                out,
                "seed {seed} peer {i} after down"
            );
        }
    }
    assert!(
        rejected_seen > 0,
        "the scenarios reject some paths on import"
    );
}

/// `keep_received`: the peer's paths as it sent them, before import policy and
/// the loop checks, one per announced prefix; replaced, withdrawn and
/// treat-as-withdrawn paths leave; a session going down empties it.
#[test]
fn pre_policy_adj_rib_in() {
    let mut r = router(AS, "192.0.2.1");
    let mut c = peer("10.0.0.1", 65001);
    c.keep_received = true;
    c.import = Policy {
        rules: vec![Rule {
            matches: vec![Match::AsPathContains(65999)],
            actions: vec![],
            verdict: PolicyVerdict::Reject,
        }],
        ..Policy::accept_all()
    };
    let p = r.add_peer(c);
    let plain = r.add_peer(peer("10.0.0.2", 65002));
    for (x, a) in [(p, "10.0.0.1"), (plain, "10.0.0.2")] {
        r.handle_session_up(x, nexthop_router::peer::SessionParams::ipv4(ip(a)), T0);
    }
    let mut lp = attrs(&[65001], "10.0.0.1");
    lp.local_pref = Some(555); // dropped on import from eBGP, kept as received
    r.handle_update(p, &[], &[(0, nth(0)), (0, nth(1))], Some(lp), T0)
        .unwrap();
    let rejected = attrs(&[65001, 65999], "10.0.0.1");
    r.handle_update(p, &[], &[(0, nth(2))], Some(rejected.clone()), T0)
        .unwrap();
    let looped = attrs(&[65001, AS], "10.0.0.1");
    r.handle_update(p, &[], &[(0, nth(3))], Some(looped), T0)
        .unwrap();
    r.handle_update(
        plain,
        &[],
        &[(0, nth(0))],
        Some(attrs(&[65002], "10.0.0.2")),
        T0,
    )
    .unwrap();
    let got: Vec<_> = r
        .received_after::<Ipv4Prefix>(p, None)
        .map(|(x, v)| (*x, v.len(), v[0].1.local_pref))
        .collect();
    assert_eq!(
        got,
        vec![
            (nth(0), 1, Some(555)),
            (nth(1), 1, Some(555)),
            (nth(2), 1, None),
            (nth(3), 1, None)
        ]
    );
    assert_eq!(r.received_count::<Ipv4Prefix>(p), 4);
    assert_eq!(r.accepted_count::<Ipv4Prefix>(p), 2);
    assert_eq!(r.received_after::<Ipv4Prefix>(plain, None).count(), 0);
    // The cursor resumes after a prefix.
    assert_eq!(
        r.received_after::<Ipv4Prefix>(p, Some(&nth(1)))
            .map(|(x, _)| *x)
            .collect::<Vec<_>>(),
        vec![nth(2), nth(3)]
    );
    // Withdrawn, treat-as-withdraw, replaced.
    r.handle_update(p, &[(0, nth(0))], &[], None, T0).unwrap();
    r.handle_update(p, &[], &[(0, nth(2))], None, T0).unwrap();
    r.handle_update(
        p,
        &[],
        &[(0, nth(1))],
        Some(attrs(&[65001, 1], "10.0.0.1")),
        T0,
    )
    .unwrap();
    let got: Vec<_> = r
        .received_after::<Ipv4Prefix>(p, None)
        .map(|(x, v)| (*x, v[0].1.as_path.route_selection_len()))
        .collect();
    assert_eq!(got, vec![(nth(1), 2), (nth(3), 2)]);
    assert_eq!(r.received_count::<Ipv4Prefix>(p), 2);
    let sets = r.attribute_sets();
    r.handle_session_down(p, T0);
    assert_eq!(r.received_after::<Ipv4Prefix>(p, None).count(), 0);
    assert!(r.attribute_sets() < sets, "the kept sets are given back");
}

/// ADD-PATH `BestN`: the N best are refused, a path that would pass is ranked
/// past N, so the peer gets nothing: `add_path_limit`. With every path it gets
/// the one that passes.
#[test]
fn add_path_limit() {
    use nexthop_router::peer::{AddPathSend, FamilyParams, SessionParams};
    for (mode, sent) in [(AddPathSend::BestN(1), false), (AddPathSend::All, true)] {
        let mut r = router(AS, "192.0.2.1");
        let a = r.add_peer(peer("10.0.0.1", AS));
        let b = r.add_peer(peer("10.0.0.2", AS));
        let mut ec = peer("172.16.0.1", 65010);
        ec.local_v4 = Some(ip("192.0.2.1"));
        ec.add_path_send = mode;
        let e = r.add_peer(ec);
        for (x, addr) in [(a, "10.0.0.1"), (b, "10.0.0.2")] {
            r.handle_session_up(x, SessionParams::ipv4(ip(addr)), T0);
        }
        let mut params = SessionParams::ipv4(ip("172.16.0.1"));
        params.ipv4 = FamilyParams {
            enabled: true,
            add_path_receive: false,
            add_path_send: true,
        };
        r.handle_session_up(e, params, T0);
        let mut best = attrs(&[65020], "10.0.0.1");
        best.local_pref = Some(200);
        best.add_community(Community::NO_EXPORT);
        let mut other = attrs(&[65030], "10.0.0.2");
        other.local_pref = Some(100);
        r.handle_update(a, &[], &[(0, nth(0))], Some(best), T0)
            .unwrap();
        r.handle_update(b, &[], &[(0, nth(0))], Some(other), T0)
            .unwrap();
        let mut t = vec![Table::default(); 3];
        settle(&mut r, T0, &[a, b, e], &mut t);
        let x = r.explain_export(e, &nth(0));
        assert_eq!(!x.sent.is_empty(), sent, "{mode:?}");
        assert_eq!(t[2].paths(nth(0)).len(), usize::from(sent), "{mode:?}");
        if sent {
            assert_eq!(x.sent[0].0, b);
        } else {
            assert_eq!(x.not_sent, Some(NotSent::AddPathLimit(1)));
            assert_eq!(x.about.map(|p| p.peer), Some(b));
        }
    }
}

/// A path whose NEXT_HOP the IGP cannot resolve is left out of the decision
/// (RFC 4271 §9.1.2) and said so; IGP cost decides between the others (§9.1.2.2 (e)).
#[test]
fn unresolvable_next_hop_is_excluded_and_igp_cost_decides() {
    use nexthop_router::attributes::NextHop;
    use nexthop_router::peer::SessionParams;
    let mut r = router(AS, "192.0.2.1");
    let peers: Vec<PeerId> = (1..=3)
        .map(|i| {
            let addr = format!("10.0.0.{i}");
            let p = r.add_peer(peer(&addr, AS));
            r.handle_session_up(p, SessionParams::ipv4(ip(&addr)), T0);
            p
        })
        .collect();
    r.set_igp_cost(Box::new(|nh: &NextHop| match nh {
        NextHop::V4(a) if a.octets()[3] == 1 => None,
        NextHop::V4(a) => Some(100 - u32::from(a.octets()[3])),
        NextHop::V6 { .. } => Some(0),
    }));
    for (i, &p) in peers.iter().enumerate() {
        let a = attrs(&[65010], &format!("10.9.0.{}", i + 1));
        r.handle_update(p, &[], &[(0, nth(0))], Some(a), T0)
            .unwrap();
    }
    settle(&mut r, T0, &[], &mut []);
    let c = r.explain(&nth(0));
    assert_eq!(c.len(), 3);
    assert_eq!(c[0].path.peer, peers[2], "lowest IGP cost (97)");
    assert_eq!(c[0].verdict, Verdict::Best(Reason::IgpCost));
    assert_eq!(r.best(&nth(0)).map(|(p, _)| p.peer), Some(peers[2]));
    assert_eq!(c[1].path.peer, peers[1]);
    assert_eq!(c[1].verdict, Verdict::Lost(Reason::IgpCost));
    assert_eq!(c[2].path.peer, peers[0]);
    assert_eq!(c[2].verdict, Verdict::UnresolvableNextHop);
    assert_eq!(c[2].key, None);
}
