//! The senders' routes: the prefix plan, the attributes, and the pre-encoded
//! UPDATE streams, parsed back with core's `Update::parse`.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use nexthop_core::wire::attribute::type_code;
use nexthop_core::wire::nlri::{Ipv4Prefix, Prefix};
use nexthop_core::wire::update::Update;
use nexthop_core::wire::{Family, FamilySet, Negotiated};
use nexthop_loadgen::routes::{PrefixPlan, SenderRoutes, encode_sender, withdrawn_count};
use nexthop_loadgen::table::PrefixTable;

fn four_octet() -> Negotiated {
    Negotiated {
        four_octet_as: true,
        ..Negotiated::default()
    }
}

fn sender(index: u32, ebgp: bool) -> SenderRoutes {
    SenderRoutes {
        index,
        asn: 65000 + if ebgp { 100 + index } else { 0 },
        ebgp,
        next_hop: Ipv4Addr::new(198, 51, 100, 1 + index as u8),
        next_hop_v6: "2001:db8::1".parse().unwrap(),
        per_update: None,
        seed: 7,
    }
}

/// Every message of a stream, parsed.
fn messages(bytes: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = usize::from(u16::from_be_bytes([bytes[at + 16], bytes[at + 17]]));
        out.push(&bytes[at..at + len]);
        at += len;
    }
    assert_eq!(at, bytes.len(), "the stream ends on a message boundary");
    out
}

#[test]
fn small_plans_use_the_benchmarking_block_as_24s() {
    let p = PrefixPlan::new(1, 300, 0, 0.0);
    assert_eq!((p.v4_base, p.v4_len), (Ipv4Addr::new(198, 18, 0, 0), 24));
    assert_eq!(p.v4_prefix(0).addr(), Ipv4Addr::new(198, 18, 0, 0));
    assert_eq!(p.v4_prefix(299).addr(), Ipv4Addr::new(198, 19, 43, 0));
}

#[test]
fn large_plans_fit_ten_slash_eight_with_longer_prefixes() {
    let p = PrefixPlan::new(1, 60_000, 0, 0.0);
    assert_eq!((p.v4_base, p.v4_len), (Ipv4Addr::new(10, 0, 0, 0), 24));
    let p = PrefixPlan::new(1, 100_000, 0, 0.0);
    assert_eq!(p.v4_len, 25);
    let p = PrefixPlan::new(1, 1_000_000, 0, 0.0);
    assert_eq!(p.v4_len, 28);
    let last = p.v4_prefix(999_999).addr();
    assert_eq!(last.octets()[0], 10, "{last} stays in 10/8");
}

#[test]
fn every_prefix_maps_back_to_its_index() {
    let p = PrefixPlan::new(3, 70_000, 2_000, 0.5);
    let mut seen = HashSet::new();
    for s in 0..3 {
        let r = p.v4_range(s);
        for i in (r.start..r.end).step_by(97).chain([r.end - 1]) {
            let idx = p.index(&Prefix::V4(p.v4_prefix(i))).unwrap();
            assert_eq!(idx, i);
            seen.insert(idx);
        }
        let r = p.v6_range(s);
        for i in r.start..r.end {
            let idx = p.index(&Prefix::V6(p.v6_prefix(i))).unwrap();
            assert_eq!(idx, p.v4_union() + i);
        }
    }
    // Outside the plan: another length, another base, past the end.
    let other = Ipv4Prefix::new(Ipv4Addr::new(10, 0, 0, 0), 16).unwrap();
    assert_eq!(p.index(&Prefix::V4(other)), None);
    let other = Ipv4Prefix::new(Ipv4Addr::new(192, 0, 2, 0), p.v4_len).unwrap();
    assert_eq!(p.index(&Prefix::V4(other)), None);
    assert_eq!(p.index(&Prefix::V4(p.v4_prefix(p.v4_union()))), None);
    assert!(
        p.v6_prefix(0).addr().segments()[0] == 0x3fff,
        "IPv6 from 3fff::/20"
    );
}

#[test]
fn overlap_and_withdrawal_sizes() {
    // Disjoint: two ranges of 100; withdrawing 30% of each leaves 140.
    let p = PrefixPlan::new(2, 100, 0, 0.0);
    assert_eq!(p.total(), 200);
    assert_eq!(p.remaining_after_withdraw(0.3), 140);
    // Same prefixes: 100 in all; 70 left.
    let p = PrefixPlan::new(10, 100, 0, 1.0);
    assert_eq!(p.total(), 100);
    assert_eq!(p.remaining_after_withdraw(0.3), 70);
    // Half: [0,100) and [50,150); after: [30,100) and [80,150) = [30,150).
    let p = PrefixPlan::new(2, 100, 10, 0.5);
    assert_eq!(p.v4_union(), 150);
    assert_eq!(p.v6_union(), 15);
    assert_eq!(p.remaining_after_withdraw(0.3), 120 + 12);
    assert_eq!(withdrawn_count(10, 0.25), 2);
}

#[test]
fn caller_bases_are_checked() {
    let p = PrefixPlan::new(1, 1000, 0, 0.0);
    let q = p.with_v4(Ipv4Addr::new(100, 64, 0, 0), 24).unwrap();
    assert_eq!(q.v4_prefix(1).addr(), Ipv4Addr::new(100, 64, 1, 0));
    assert!(p.with_v4(Ipv4Addr::new(126, 255, 0, 0), 24).is_err());
    assert!(p.with_v4(Ipv4Addr::new(255, 255, 0, 0), 24).is_err());
    assert!(p.with_v4(Ipv4Addr::new(10, 0, 0, 0), 33).is_err());
}

/// The announcements parse, carry every prefix of the range once, in UPDATEs
/// of at most 4096 octets, with realistic attributes; the withdrawals take
/// back exactly the first part of the range.
#[test]
fn ibgp_streams_parse_back() {
    let plan = PrefixPlan::new(2, 5_000, 0, 0.0);
    let neg = four_octet();
    let routes = encode_sender(&plan, &sender(1, false), 0.2, &neg);
    let mut prefixes = Vec::new();
    let mut path_lens = HashSet::new();
    let mut community_counts = HashSet::new();
    let mut with_med = 0;
    let msgs = messages(&routes.announce.bytes);
    assert_eq!(msgs.len() as u32, routes.announce.messages);
    for m in &msgs {
        assert!(m.len() <= 4096);
        let u = Update::parse(m, &neg).unwrap();
        assert!(u.treat_as_withdraw().is_none());
        assert_eq!(u.next_hop(), Some(Ipv4Addr::new(198, 51, 100, 2)));
        assert_eq!(u.local_pref(), Some(100));
        assert!(u.origin().is_some());
        let path = u.as_path().unwrap();
        let n = path.route_selection_len();
        assert!((1..=15).contains(&n), "path of {n}");
        path_lens.insert(n);
        let c = u.communities().map_or(0, |c| c.len());
        assert!(c <= 10);
        community_counts.insert(c);
        with_med += usize::from(u.med().is_some());
        prefixes.extend(u.nlri().map(|n| n.prefix));
    }
    // Packed: a /24 takes 4 octets, so well over 500 prefixes per UPDATE.
    assert!(msgs.len() < 5_000 / 500);
    let expected: Vec<Prefix> = (5_000..10_000)
        .map(|i| Prefix::V4(plan.v4_prefix(i)))
        .collect();
    assert_eq!(prefixes, expected);
    assert!(path_lens.len() > 1, "paths of several lengths");
    assert!(community_counts.len() > 1);
    assert!(with_med > 0 && with_med < msgs.len());

    let mut withdrawn = Vec::new();
    for m in messages(&routes.withdraw.bytes) {
        let u = Update::parse(m, &neg).unwrap();
        assert_eq!(u.nlri().count(), 0);
        withdrawn.extend(u.withdrawn().map(|n| n.prefix));
    }
    assert_eq!(withdrawn, expected[..1_000]);
}

/// Small UPDATEs on request, and the sender's AS first on eBGP.
#[test]
fn ebgp_paths_start_with_the_senders_as() {
    let plan = PrefixPlan::new(1, 400, 0, 0.0);
    let mut s = sender(0, true);
    s.per_update = Some(4);
    let neg = four_octet();
    let routes = encode_sender(&plan, &s, 0.0, &neg);
    assert_eq!(routes.announce.messages, 100);
    assert!(routes.withdraw.bytes.is_empty());
    let mut sets = HashSet::new();
    for m in messages(&routes.announce.bytes) {
        let u = Update::parse(m, &neg).unwrap();
        assert_eq!(u.nlri().count(), 4);
        assert_eq!(u.as_path().unwrap().first_asn(), Some(65100));
        assert_eq!(u.local_pref(), None);
        sets.insert(u.attribute(type_code::AS_PATH).unwrap().value.to_vec());
    }
    assert!(sets.len() > 50, "attribute sets vary: {}", sets.len());
}

/// IPv6 goes in MP_REACH_NLRI / MP_UNREACH_NLRI with the IPv6 next hop.
#[test]
fn ipv6_uses_mp_reach_and_mp_unreach() {
    let plan = PrefixPlan::new(1, 10, 3_000, 0.0);
    let neg = four_octet();
    let routes = encode_sender(&plan, &sender(0, false), 0.5, &neg);
    let mut table = PrefixTable::new(plan.total());
    for m in messages(&routes.announce.bytes) {
        let u = Update::parse(m, &neg).unwrap();
        if let Some(mp) = u.mp_reach() {
            assert_eq!(mp.family, Family::IPV6_UNICAST);
            assert_eq!(u.nlri().count(), 0);
        }
        table.apply(&u, &plan);
    }
    assert_eq!(table.count(), 3_010);
    for m in messages(&routes.withdraw.bytes) {
        table.apply(&Update::parse(m, &neg).unwrap(), &plan);
    }
    assert_eq!(table.count(), 5 + 1_500);
    let v6: Ipv6Addr = plan.v6_prefix(2_999).addr();
    assert_eq!(v6.segments()[0], 0x3fff);
}

/// A 2-octet AS session gets AS_TRANS in AS_PATH and the real path in AS4_PATH.
#[test]
fn two_octet_sessions_get_as4_path() {
    let plan = PrefixPlan::new(1, 2_000, 0, 0.0);
    let neg = Negotiated::default();
    let mut s = sender(0, false);
    s.per_update = Some(1);
    let routes = encode_sender(&plan, &s, 0.0, &neg);
    let mut as4 = 0;
    for m in messages(&routes.announce.bytes) {
        let u = Update::parse(m, &neg).unwrap();
        if let Some(p) = u.as4_path() {
            as4 += 1;
            assert!(u.as_path().unwrap().contains(23456));
            assert!(p.segments().any(|s| s.asns.iter().any(|a| a > 0xffff)));
        }
    }
    assert!(as4 > 0);
}

/// With ADD-PATH send every prefix carries path identifier 1.
#[test]
fn add_path_streams_carry_path_ids() {
    let plan = PrefixPlan::new(1, 100, 0, 0.0);
    let mut fams = FamilySet::EMPTY;
    fams.insert(Family::IPV4_UNICAST);
    let neg = Negotiated {
        four_octet_as: true,
        add_path_send: fams,
        add_path_receive: fams,
        ..Negotiated::default()
    };
    let routes = encode_sender(&plan, &sender(0, false), 0.0, &neg);
    let mut table = PrefixTable::new(plan.total());
    for m in messages(&routes.announce.bytes) {
        let u = Update::parse(m, &neg).unwrap();
        assert!(u.nlri().all(|n| n.path_id == Some(1)));
        table.apply(&u, &plan);
    }
    assert_eq!(table.count(), 100);
}
