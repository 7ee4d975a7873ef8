//! The receivers' prefix table: duplicates and implicit replacements count once,
//! withdrawals (classic, MP_UNREACH_NLRI, treat-as-withdraw) count down.

use std::net::Ipv4Addr;

use nexthop_core::wire::attribute::{
    AsPath, AsSegment, Asns, MpNextHop, Origin, PathAttribute, SegmentType,
};
use nexthop_core::wire::nlri::{Nlri, Prefix};
use nexthop_core::wire::update::{Update, UpdateBuilder};
use nexthop_core::wire::{Family, FamilySet, Negotiated};
use nexthop_loadgen::routes::PrefixPlan;
use nexthop_loadgen::table::PrefixTable;

const SEQ: [AsSegment<'static>; 1] = [AsSegment {
    kind: SegmentType::AsSequence,
    asns: Asns::List(&[64500]),
}];

fn neg() -> Negotiated {
    Negotiated {
        four_octet_as: true,
        ..Negotiated::default()
    }
}

/// An UPDATE announcing `announce` and withdrawing `withdraw` (indices of `plan`).
fn update(plan: &PrefixPlan, neg: &Negotiated, announce: &[u32], withdraw: &[u32]) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let mut b = UpdateBuilder::new(&mut buf, neg).unwrap();
    let nlri = |i: u32| {
        let p = plan.v4_prefix(i);
        if neg.add_path_send.contains(Family::IPV4_UNICAST) {
            Nlri::with_path_id(i % 3, p)
        } else {
            Nlri::new(p)
        }
    };
    for &i in withdraw {
        assert!(b.withdraw(&nlri(i)).unwrap());
    }
    if !announce.is_empty() {
        b.attribute(&PathAttribute::Origin(Origin::Igp)).unwrap();
        b.attribute(&PathAttribute::AsPath(AsPath::List(&SEQ)))
            .unwrap();
        b.attribute(&PathAttribute::NextHop(Ipv4Addr::new(198, 51, 100, 1)))
            .unwrap();
    }
    for &i in announce {
        assert!(b.nlri(&nlri(i)).unwrap());
    }
    let n = b.finish().unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn duplicates_and_replacements_count_once() {
    let plan = PrefixPlan::new(1, 100, 0, 0.0);
    let mut t = PrefixTable::new(plan.total());
    let n = neg();
    let m = update(&plan, &n, &[0, 1, 2], &[]);
    let a = t.apply(&Update::parse(&m, &n).unwrap(), &plan);
    assert_eq!((a.added, a.removed, t.count()), (3, 0, 3));
    // The same prefixes again (an implicit replacement): nothing new.
    let a = t.apply(&Update::parse(&m, &n).unwrap(), &plan);
    assert_eq!((a.added, t.count()), (0, 3));
    // Withdraw one, announce one: withdrawals are applied first.
    let m = update(&plan, &n, &[3], &[0, 50]);
    let a = t.apply(&Update::parse(&m, &n).unwrap(), &plan);
    assert_eq!((a.added, a.removed, t.count()), (1, 1, 3));
    assert!(!t.contains(0) && t.contains(3));
    t.clear();
    assert_eq!(t.count(), 0);
}

#[test]
fn prefixes_outside_the_plan_are_counted_apart() {
    let plan = PrefixPlan::new(1, 10, 0, 0.0);
    let other = PrefixPlan::new(1, 10, 0, 0.0)
        .with_v4(Ipv4Addr::new(192, 0, 2, 0), 28)
        .unwrap();
    let mut t = PrefixTable::new(plan.total());
    let n = neg();
    let m = update(&other, &n, &[0, 1], &[]);
    t.apply(&Update::parse(&m, &n).unwrap(), &plan);
    assert_eq!((t.count(), t.unexpected), (0, 2));
}

#[test]
fn mp_unreach_withdraws_ipv6() {
    let plan = PrefixPlan::new(1, 0, 10, 0.0);
    let n = neg();
    let mut t = PrefixTable::new(plan.total());
    let mut buf = vec![0u8; 4096];
    let mut b = UpdateBuilder::new(&mut buf, &n).unwrap();
    b.attribute(&PathAttribute::Origin(Origin::Igp)).unwrap();
    b.attribute(&PathAttribute::AsPath(AsPath::List(&SEQ)))
        .unwrap();
    b.begin_mp_reach(
        Family::IPV6_UNICAST,
        MpNextHop::Ipv6("2001:db8::1".parse().unwrap()),
    )
    .unwrap();
    for i in 0..10 {
        assert!(b.mp_nlri(&Nlri::new(plan.v6_prefix(i))).unwrap());
    }
    let len = b.finish().unwrap();
    t.apply(&Update::parse(&buf[..len], &n).unwrap(), &plan);
    assert_eq!(t.count(), 10);
    let mut b = UpdateBuilder::new(&mut buf, &n).unwrap();
    b.begin_mp_unreach(Family::IPV6_UNICAST).unwrap();
    for i in 0..4 {
        assert!(b.mp_nlri(&Nlri::new(plan.v6_prefix(i))).unwrap());
    }
    let len = b.finish().unwrap();
    t.apply(&Update::parse(&buf[..len], &n).unwrap(), &plan);
    assert_eq!(t.count(), 6);
}

/// RFC 7606: an UPDATE with a malformed ORIGIN is treat-as-withdraw.
#[test]
fn treat_as_withdraw_takes_prefixes_back() {
    let plan = PrefixPlan::new(1, 10, 0, 0.0);
    let n = neg();
    let mut t = PrefixTable::new(plan.total());
    let m = update(&plan, &n, &[0, 1, 2], &[]);
    t.apply(&Update::parse(&m, &n).unwrap(), &plan);
    let mut bad = m.clone();
    // ORIGIN's value is the first attribute's fourth octet: 23 + 3.
    assert_eq!(bad[23..26], [0x40, 1, 1]);
    bad[26] = 7;
    let u = Update::parse(&bad, &n).unwrap();
    assert!(u.treat_as_withdraw().is_some());
    let a = t.apply(&u, &plan);
    assert_eq!((a.removed, t.count()), (3, 0));
}

/// With ADD-PATH a prefix counts while any of its paths is announced.
#[test]
fn add_path_counts_prefixes_not_paths() {
    let plan = PrefixPlan::new(1, 10, 0, 0.0);
    let mut fams = FamilySet::EMPTY;
    fams.insert(Family::IPV4_UNICAST);
    let n = Negotiated {
        four_octet_as: true,
        add_path_send: fams,
        add_path_receive: fams,
        ..Negotiated::default()
    };
    let mut t = PrefixTable::new(plan.total());
    let v4 = |i: u32| -> Prefix { Prefix::V4(plan.v4_prefix(i)) };
    // Two paths (ids 1 and 2) for prefix 0, one for prefix 1.
    let mut buf = vec![0u8; 4096];
    let mut b = UpdateBuilder::new(&mut buf, &n).unwrap();
    b.attribute(&PathAttribute::Origin(Origin::Igp)).unwrap();
    b.attribute(&PathAttribute::AsPath(AsPath::List(&SEQ)))
        .unwrap();
    b.attribute(&PathAttribute::NextHop(Ipv4Addr::new(198, 51, 100, 1)))
        .unwrap();
    for (id, i) in [(1, 0), (2, 0), (1, 1)] {
        assert!(b.nlri(&Nlri::with_path_id(id, v4(i))).unwrap());
    }
    let len = b.finish().unwrap();
    t.apply(&Update::parse(&buf[..len], &n).unwrap(), &plan);
    assert_eq!(t.count(), 2);
    // Withdrawing path 1 of prefix 0 leaves path 2: still two prefixes.
    let mut b = UpdateBuilder::new(&mut buf, &n).unwrap();
    assert!(b.withdraw(&Nlri::with_path_id(1, v4(0))).unwrap());
    let len = b.finish().unwrap();
    t.apply(&Update::parse(&buf[..len], &n).unwrap(), &plan);
    assert_eq!(t.count(), 2);
    let mut b = UpdateBuilder::new(&mut buf, &n).unwrap();
    assert!(b.withdraw(&Nlri::with_path_id(2, v4(0))).unwrap());
    let len = b.finish().unwrap();
    t.apply(&Update::parse(&buf[..len], &n).unwrap(), &plan);
    assert_eq!(t.count(), 1);
}
