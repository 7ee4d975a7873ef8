//! RFC 4271 §9.1.2.2 and RFC 4456 §9: one test per tie-break step, each with a
//! losing path that would win every later step, so only that step can decide.

use std::net::{IpAddr, Ipv4Addr};

use nexthop_router::decision::{DecisionOptions, Reason, SelectionKey, removed_at, select};

fn base() -> SelectionKey {
    SelectionKey {
        local_pref: 100,
        locally_originated: false,
        as_path_len: 3,
        origin: 0,
        med: 50,
        neighbor_as: Some(65001),
        ebgp: true,
        igp_cost: 10,
        router_id: 0x0a00_0005,
        cluster_list_len: 1,
        peer_address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 5)),
    }
}

/// A path that is better than `base()` at every step after `step`, and so beats it
/// there unless `step` decides.
fn better_after(step: Reason) -> SelectionKey {
    let mut k = base();
    let steps = [
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
    let pos = steps.iter().position(|s| *s == step).unwrap();
    for s in &steps[pos + 1..] {
        match s {
            Reason::LocallyOriginated => k.locally_originated = true,
            Reason::AsPathLength => k.as_path_len = 1,
            Reason::Origin => k.origin = 0,
            Reason::MultiExitDisc => k.med = 0,
            Reason::EbgpOverIbgp => k.ebgp = true,
            Reason::IgpCost => k.igp_cost = 0,
            Reason::RouterId => k.router_id = 1,
            Reason::ClusterListLength => k.cluster_list_len = 0,
            Reason::PeerAddress => k.peer_address = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            _ => {}
        }
    }
    k
}

/// `winner` beats `loser` at `reason`, in either order; and `removed_at`
/// (what `explain` shows) names that step for the loser and none for the
/// winner: every test below is also a row of explain's table.
fn check(winner: SelectionKey, loser: SelectionKey, reason: Reason) {
    let mut scratch = Vec::new();
    let o = DecisionOptions::default();
    assert_eq!(removed_at(&[loser, winner], &o), [Some(reason), None]);
    assert_eq!(removed_at(&[winner, loser], &o), [None, Some(reason)]);
    assert_eq!(
        select(&[loser, winner], &o, &mut scratch),
        Some((1, reason))
    );
    assert_eq!(
        select(&[winner, loser], &o, &mut scratch),
        Some((0, reason))
    );
}

#[test]
fn empty_and_single() {
    let mut s = Vec::new();
    assert_eq!(select(&[], &DecisionOptions::default(), &mut s), None);
    assert_eq!(
        select(&[base()], &DecisionOptions::default(), &mut s),
        Some((0, Reason::OnlyPath))
    );
}

/// §9.1.1: the highest degree of preference wins, even with a longer AS_PATH.
#[test]
fn highest_local_pref_wins() {
    let mut loser = better_after(Reason::LocalPref);
    loser.local_pref = 100;
    let mut winner = base();
    winner.local_pref = 200;
    winner.as_path_len = 9;
    check(winner, loser, Reason::LocalPref);
}

/// Among equally preferred paths, the speaker's own wins, even with a longer
/// AS_PATH (a reflected copy of an anycast prefix must not replace it).
#[test]
fn locally_originated_wins() {
    let loser = better_after(Reason::LocallyOriginated);
    let mut winner = base();
    winner.locally_originated = true;
    winner.as_path_len = 9;
    check(winner, loser, Reason::LocallyOriginated);
}

/// §9.1.2.2 (a): the shortest AS_PATH wins.
#[test]
fn shortest_as_path_wins() {
    let mut loser = better_after(Reason::AsPathLength);
    loser.as_path_len = 4;
    let mut winner = base();
    winner.as_path_len = 2;
    winner.origin = 2;
    check(winner, loser, Reason::AsPathLength);
}

/// §9.1.2.2 (b): the lowest ORIGIN wins (IGP < EGP < INCOMPLETE).
#[test]
fn lowest_origin_wins() {
    let mut loser = better_after(Reason::Origin);
    loser.origin = 2;
    let mut winner = base();
    winner.origin = 1;
    winner.med = 1000;
    check(winner, loser, Reason::Origin);
}

/// §9.1.2.2 (c): between paths from the same neighbouring AS, the lowest MED wins;
/// a missing MED counts as 0 (SelectionKey.med = 0).
#[test]
fn lowest_med_within_neighbor_as_wins() {
    let mut loser = better_after(Reason::MultiExitDisc);
    loser.med = 100;
    let mut winner = base();
    winner.med = 10;
    winner.ebgp = false;
    winner.igp_cost = 1000;
    check(winner, loser, Reason::MultiExitDisc);
}

/// §9.1.2.2 (c): MED is not compared between neighbouring ASes unless
/// always-compare-med is set.
#[test]
fn med_ignored_across_neighbor_as_unless_always_compare() {
    let mut low_med = base();
    low_med.med = 0;
    low_med.neighbor_as = Some(65001);
    low_med.router_id = 9;
    let mut high_med = base();
    high_med.med = 500;
    high_med.neighbor_as = Some(65002);
    high_med.router_id = 1;
    let mut s = Vec::new();
    let paths = [low_med, high_med];
    assert_eq!(
        select(&paths, &DecisionOptions::default(), &mut s),
        Some((1, Reason::RouterId))
    );
    let always = DecisionOptions {
        always_compare_med: true,
    };
    assert_eq!(
        select(&paths, &always, &mut s),
        Some((0, Reason::MultiExitDisc))
    );
}

/// §9.1.2.2 (c) is not transitive: A(AS1, MED 10), B(AS1, MED 20), C(AS2, MED 5).
/// B is removed by A; A and C go on to the next step.
#[test]
fn med_elimination_is_per_neighbor_as() {
    let mut a = base();
    a.neighbor_as = Some(1);
    a.med = 10;
    a.router_id = 30;
    let mut b = base();
    b.neighbor_as = Some(1);
    b.med = 20;
    b.router_id = 1; // would win on router ID, but MED removed it
    let mut c = base();
    c.neighbor_as = Some(2);
    c.med = 5;
    c.router_id = 20;
    let mut s = Vec::new();
    assert_eq!(
        select(&[a, b, c], &DecisionOptions::default(), &mut s),
        Some((2, Reason::RouterId))
    );
}

/// §9.1.2.2 (d): eBGP-learned wins over iBGP-learned.
#[test]
fn ebgp_over_ibgp() {
    let mut loser = better_after(Reason::EbgpOverIbgp);
    loser.ebgp = false;
    let mut winner = base();
    winner.ebgp = true;
    winner.igp_cost = 1000;
    check(winner, loser, Reason::EbgpOverIbgp);
}

/// §9.1.2.2 (e): the lowest interior cost to the NEXT_HOP wins.
#[test]
fn lowest_igp_cost_wins() {
    let mut loser = better_after(Reason::IgpCost);
    loser.igp_cost = 20;
    let mut winner = base();
    winner.igp_cost = 5;
    winner.router_id = u32::MAX;
    check(winner, loser, Reason::IgpCost);
}

/// §9.1.2.2 (f) and RFC 4456 §9: the lowest BGP Identifier (ORIGINATOR_ID when
/// present) wins.
#[test]
fn lowest_router_id_wins() {
    let mut loser = better_after(Reason::RouterId);
    loser.router_id = 0x0a00_0009;
    let mut winner = base();
    winner.router_id = 0x0a00_0002;
    winner.cluster_list_len = 5;
    check(winner, loser, Reason::RouterId);
}

/// RFC 4456 §9: the shortest CLUSTER_LIST wins.
#[test]
fn shortest_cluster_list_wins() {
    let mut loser = better_after(Reason::ClusterListLength);
    loser.cluster_list_len = 3;
    let mut winner = base();
    winner.cluster_list_len = 1;
    winner.peer_address = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 200));
    check(winner, loser, Reason::ClusterListLength);
}

/// §9.1.2.2 (g): the lowest peer address wins.
#[test]
fn lowest_peer_address_wins() {
    let mut loser = base();
    loser.peer_address = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9));
    let mut winner = base();
    winner.peer_address = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 3));
    check(winner, loser, Reason::PeerAddress);
}

proptest::proptest! {
    /// `removed_at` (explain) and `select` (the decision) agree on every set of
    /// paths: the one path never removed is the one chosen, and the step
    /// `select` reports is the last step that removed a path.
    #[test]
    fn explain_agrees_with_the_decision(
        keys in proptest::collection::vec(
            (90u32..=100, proptest::bool::weighted(0.1), 1u32..4, 0u8..3, 0u32..3, 0u32..3,
             proptest::bool::ANY, 0u32..3, 1u32..4, 0u32..2, 1u8..4),
            1..7,
        ),
        always in proptest::bool::ANY,
    ) {
        let keys: Vec<SelectionKey> = keys
            .into_iter()
            .map(|(lp, local, len, origin, med, nas, ebgp, igp, rid, cl, addr)| SelectionKey {
                local_pref: lp,
                locally_originated: local,
                as_path_len: len,
                origin,
                med,
                neighbor_as: Some(65000 + nas),
                ebgp,
                igp_cost: igp,
                router_id: rid,
                cluster_list_len: cl,
                peer_address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, addr)),
            })
            .collect();
        let o = DecisionOptions { always_compare_med: always };
        let (chosen, reason) = select(&keys, &o, &mut Vec::new()).unwrap();
        let removed = removed_at(&keys, &o);
        let winners: Vec<usize> = (0..keys.len()).filter(|&i| removed[i].is_none()).collect();
        proptest::prop_assert_eq!(winners, vec![chosen]);
        if keys.len() == 1 {
            proptest::prop_assert_eq!(reason, Reason::OnlyPath);
        }
    }
}
