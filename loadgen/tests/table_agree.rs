//! The receivers' fast NLRI walk ([`PrefixTable::apply`]) against the reference
//! through core's iterators ([`PrefixTable::apply_generic`]): the same UPDATEs,
//! built octet by octet, must give the same changes, counts and table.
//!
//! The UPDATEs mix prefixes of the plan, prefixes just past it and random ones
//! of any length, with bits set past the prefix length (RFC 4271 §4.3 leaves
//! them to the sender), in the withdrawn routes and NLRI fields and in
//! MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760) of either family, with and
//! without ADD-PATH (RFC 7911), some of them treat-as-withdraw (RFC 7606).
//! Their AS_PATHs have 1 to 5 ASes, and tables that track final best paths
//! (random final lengths) must agree on those bits too.

use std::net::Ipv4Addr;
use std::sync::Arc;

use nexthop_core::wire::update::Update;
use nexthop_core::wire::{Family, FamilySet, Negotiated};
use nexthop_loadgen::routes::{FinalLengths, PrefixPlan};
use nexthop_loadgen::table::{Applied, PrefixTable};
use proptest::prelude::*;

/// One NLRI entry to encode: three in four are prefixes of the plan (or just
/// past it), the rest random.
#[derive(Clone, Debug)]
struct Entry {
    kind: u8,
    index: u32,
    len: u8,
    addr: u128,
    garbage: u8,
    path_id: u8,
}

/// An MP attribute: IPv6 (else IPv4) and its entries.
type Mp = Option<(bool, Vec<Entry>)>;

#[derive(Clone, Debug)]
struct Message {
    withdrawn: Vec<Entry>,
    nlri: Vec<Entry>,
    unreach: Mp,
    reach: Mp,
    /// ORIGIN, AS_PATH and NEXT_HOP present.
    attributes: bool,
    /// ORIGIN's value is 7: treat-as-withdraw (RFC 7606 §7.1).
    bad_origin: bool,
    /// ASes in the AS_PATH (one AS_SEQUENCE).
    as_len: u8,
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        any::<u8>(),
        any::<u32>(),
        any::<u8>(),
        any::<u128>(),
        any::<u8>(),
        any::<u8>(),
    )
        .prop_map(|(kind, index, len, addr, garbage, path_id)| Entry {
            kind,
            index,
            len,
            addr,
            garbage,
            path_id,
        })
}

fn entries() -> impl Strategy<Value = Vec<Entry>> {
    prop::collection::vec(entry(), 0..40)
}

fn mp() -> impl Strategy<Value = Mp> {
    prop::option::of((any::<bool>(), entries()))
}

fn message() -> impl Strategy<Value = Message> {
    (
        entries(),
        entries(),
        mp(),
        mp(),
        prop::bool::weighted(0.9),
        prop::bool::weighted(0.15),
        1u8..=5,
    )
        .prop_map(
            |(withdrawn, nlri, unreach, reach, attributes, bad_origin, as_len)| Message {
                withdrawn,
                nlri,
                unreach,
                reach,
                attributes,
                bad_origin,
                as_len,
            },
        )
}

fn plan() -> impl Strategy<Value = PrefixPlan> {
    (
        1u32..4,
        0u32..400,
        0u32..200,
        prop::sample::select(vec![0.0, 0.5, 1.0]),
        prop::option::of((any::<u32>(), 8u8..=32)),
        prop::option::weighted(0.1, (any::<u32>(), 0u8..=32)),
    )
        .prop_map(|(senders, v4, v6, overlap, base, raw)| {
            let plan = PrefixPlan::new(senders, v4, v6, overlap);
            let plan = match base {
                Some((addr, len)) => plan.with_v4(Ipv4Addr::from_bits(addr), len).unwrap_or(plan),
                None => plan,
            };
            // A plan built by hand: a base with bits past the length, or a
            // length of 0, which the fast walk leaves to the reference.
            match raw {
                Some((addr, len)) => PrefixPlan {
                    v4_base: Ipv4Addr::from_bits(addr),
                    v4_len: len,
                    ..plan
                },
                None => plan,
            }
        })
}

/// Appends one entry of a field of family `v6`.
fn encode_entry(out: &mut Vec<u8>, plan: &PrefixPlan, v6: bool, e: &Entry, add_path: bool) {
    let (len, octets): (u8, [u8; 16]) = if !e.kind.is_multiple_of(4) {
        if v6 {
            let p = plan.v6_prefix(e.index % (plan.v6_union() + 3));
            (p.prefix_len(), p.octets())
        } else {
            let p = plan.v4_prefix(e.index % (plan.v4_union() + 3));
            let mut a = [0u8; 16];
            a[..4].copy_from_slice(&p.bits().to_be_bytes());
            (p.prefix_len(), a)
        }
    } else if v6 {
        (e.len % 129, e.addr.to_be_bytes())
    } else {
        let mut a = [0u8; 16];
        a[..4].copy_from_slice(&(e.addr as u32).to_be_bytes());
        (e.len % 33, a)
    };
    let n = usize::from(len).div_ceil(8);
    let mut octets = octets;
    // Keep the prefix's bits, then set some past its length.
    for (i, o) in octets.iter_mut().enumerate() {
        let keep = (usize::from(len).saturating_sub(i * 8)).min(8);
        *o &= !(0xffu8.checked_shr(keep as u32).unwrap_or(0));
    }
    if !len.is_multiple_of(8) {
        octets[n - 1] |= e.garbage & (0xff >> (len % 8));
    }
    if add_path {
        out.extend_from_slice(&u32::from(e.path_id % 3).to_be_bytes());
    }
    out.push(len);
    out.extend_from_slice(&octets[..n]);
}

fn field(plan: &PrefixPlan, v6: bool, entries: &[Entry], neg: &Negotiated) -> Vec<u8> {
    let family = if v6 {
        Family::IPV6_UNICAST
    } else {
        Family::IPV4_UNICAST
    };
    let add_path = neg.add_path_receive.contains(family);
    let mut out = Vec::new();
    for e in entries {
        encode_entry(&mut out, plan, v6, e, add_path);
    }
    out
}

/// An optional attribute with the extended length flag (RFC 4271 §4.3).
fn attribute(out: &mut Vec<u8>, type_code: u8, value: &[u8]) {
    out.extend_from_slice(&[0x90, type_code]);
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
}

fn afi(v6: bool) -> [u8; 3] {
    [0, if v6 { 2 } else { 1 }, 1]
}

fn encode(plan: &PrefixPlan, m: &Message, neg: &Negotiated) -> Vec<u8> {
    let mut attrs = Vec::new();
    if let Some((v6, entries)) = &m.reach {
        let mut v = afi(*v6).to_vec();
        if *v6 {
            v.push(16);
            v.extend_from_slice(
                &"2001:db8::1"
                    .parse::<std::net::Ipv6Addr>()
                    .unwrap()
                    .octets(),
            );
        } else {
            v.extend_from_slice(&[4, 198, 51, 100, 1]);
        }
        v.push(0);
        v.extend(field(plan, *v6, entries, neg));
        attribute(&mut attrs, 14, &v);
    }
    if let Some((v6, entries)) = &m.unreach {
        let mut v = afi(*v6).to_vec();
        v.extend(field(plan, *v6, entries, neg));
        attribute(&mut attrs, 15, &v);
    }
    if m.attributes {
        let origin = if m.bad_origin { 7 } else { 0 };
        attrs.extend_from_slice(&[0x40, 1, 1, origin]);
        let n = m.as_len;
        attrs.extend_from_slice(&[0x40, 2, 2 + 4 * n, 2, n]);
        for k in 0..n {
            attrs.extend_from_slice(&(64_500 + u32::from(k)).to_be_bytes());
        }
        attrs.extend_from_slice(&[0x40, 3, 4, 198, 51, 100, 1]);
    }
    let withdrawn = field(plan, false, &m.withdrawn, neg);
    let nlri = field(plan, false, &m.nlri, neg);
    let mut out = vec![0xff; 16];
    out.extend_from_slice(&[0, 0, 2]);
    out.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
    out.extend(withdrawn);
    out.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    out.extend(attrs);
    out.extend(nlri);
    let len = (out.len() as u16).to_be_bytes();
    out[16..18].copy_from_slice(&len);
    out
}

fn negotiated(v4_add_path: bool, v6_add_path: bool) -> Negotiated {
    let mut fams = FamilySet::EMPTY;
    if v4_add_path {
        fams.insert(Family::IPV4_UNICAST);
    }
    if v6_add_path {
        fams.insert(Family::IPV6_UNICAST);
    }
    Negotiated {
        four_octet_as: true,
        add_path_receive: fams,
        add_path_send: fams,
        ..Negotiated::default()
    }
}

/// Applies `messages` to a table of `size` indices (the plan's, or fewer)
/// both ways; returns how many parsed.
fn agree(plan: &PrefixPlan, size: u32, neg: &Negotiated, messages: &[Message]) -> usize {
    agree_final(plan, size, neg, messages, None)
}

/// [`agree`], with tables tracking final best paths of `finals`.
fn agree_final(
    plan: &PrefixPlan,
    size: u32,
    neg: &Negotiated,
    messages: &[Message],
    finals: Option<Arc<FinalLengths>>,
) -> usize {
    let mut fast = PrefixTable::new(size);
    let mut generic = PrefixTable::new(size);
    if let Some(f) = finals {
        fast = fast.with_final(Arc::clone(&f));
        generic = generic.with_final(f);
    }
    let mut parsed = 0;
    for m in messages {
        let bytes = encode(plan, m, neg);
        let Ok(u) = Update::parse(&bytes, neg) else {
            continue;
        };
        parsed += 1;
        let a = fast.apply(&u, plan);
        let b = generic.apply_generic(&u, plan);
        assert_eq!(a, b, "{m:?}");
        assert_eq!(fast.count(), generic.count());
        assert_eq!(fast.unexpected, generic.unexpected);
        assert_eq!(fast.final_count(), generic.final_count(), "{m:?}");
    }
    for i in 0..plan.total() {
        assert_eq!(fast.contains(i), generic.contains(i), "index {i}");
        assert_eq!(fast.holds_final(i), generic.holds_final(i), "index {i}");
    }
    let finals = (0..plan.total()).filter(|&i| fast.holds_final(i)).count();
    assert_eq!(finals, fast.final_count() as usize);
    parsed
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn fast_walk_agrees_with_core_iterators(
        plan in plan(),
        v4_add_path in prop::bool::weighted(0.25),
        v6_add_path in prop::bool::weighted(0.25),
        messages in prop::collection::vec(message(), 1..8),
        smaller in prop::option::weighted(0.1, 0u32..200),
    ) {
        let neg = negotiated(v4_add_path, v6_add_path);
        let size = plan.total().saturating_sub(smaller.unwrap_or(0));
        agree(&plan, size, &neg, &messages);
    }

    /// The final-path bits: random final lengths of 0 (none) to 5, so that
    /// an UPDATE's path length matches some prefixes and not others.
    #[test]
    fn fast_walk_agrees_on_final_paths(
        plan in plan(),
        v4_add_path in prop::bool::weighted(0.25),
        v6_add_path in prop::bool::weighted(0.25),
        messages in prop::collection::vec(message(), 1..8),
        smaller in prop::option::weighted(0.1, 0u32..200),
        seed in any::<u64>(),
    ) {
        let neg = negotiated(v4_add_path, v6_add_path);
        let size = plan.total().saturating_sub(smaller.unwrap_or(0));
        let mut rng = nexthop_loadgen::routes::Rng::new(seed);
        let lengths = (0..plan.total()).map(|_| rng.below(6) as u8).collect();
        let finals = Arc::new(FinalLengths { lengths });
        agree_final(&plan, size, &neg, &messages, Some(finals));
    }
}

fn plan_entry(index: u32) -> Entry {
    Entry {
        kind: 1,
        index,
        len: 0,
        addr: 0,
        garbage: 0xff,
        path_id: 1,
    }
}

/// A field whose last entry is too short to read eight octets from, in every
/// family and mode: the tail of the walk reads octet by octet.
#[test]
fn short_fields_and_the_last_entry() {
    let plan = PrefixPlan::new(1, 300, 300, 0.0);
    for (v4ap, v6ap) in [(false, false), (true, true)] {
        let neg = negotiated(v4ap, v6ap);
        for n in 0..4 {
            let entries: Vec<Entry> = (0..n).map(|i| plan_entry(i * 7)).collect();
            let m = Message {
                withdrawn: Vec::new(),
                nlri: entries.clone(),
                unreach: None,
                reach: Some((true, entries.clone())),
                attributes: true,
                bad_origin: false,
                as_len: 1,
            };
            assert_eq!(agree(&plan, plan.total(), &neg, &[m]), 1);
            let mut t = PrefixTable::new(plan.total());
            let u = encode(
                &plan,
                &Message {
                    withdrawn: Vec::new(),
                    nlri: entries.clone(),
                    unreach: None,
                    reach: Some((true, entries)),
                    attributes: true,
                    bad_origin: false,
                    as_len: 1,
                },
                &neg,
            );
            let a = t.apply(&Update::parse(&u, &neg).unwrap(), &plan);
            assert_eq!(
                a,
                Applied {
                    added: 2 * n,
                    removed: 0
                }
            );
        }
    }
}

/// A /25 plan (the 100k-prefix workload's): octets past the prefix length and
/// the next entry's octets must not change the index.
#[test]
fn bits_past_the_length_are_ignored() {
    let plan = PrefixPlan::new(1, 100_000, 0, 0.0);
    assert_eq!(plan.v4_len, 25);
    let neg = negotiated(false, false);
    let m = Message {
        withdrawn: Vec::new(),
        nlri: (0..30).map(|i| plan_entry(i * 3331)).collect(),
        unreach: None,
        reach: None,
        attributes: true,
        bad_origin: false,
        as_len: 1,
    };
    let bytes = encode(&plan, &m, &neg);
    let u = Update::parse(&bytes, &neg).unwrap();
    let mut t = PrefixTable::new(plan.total());
    assert_eq!(t.apply(&u, &plan).added, 30);
    for i in 0..30 {
        assert!(t.contains(i * 3331));
    }
    assert_eq!(t.unexpected, 0);
}

/// The fixture of the cost measurements splits into whole UPDATEs.
#[test]
fn a_stream_splits_into_its_messages() {
    let (_, routes) = nexthop_loadgen::routes::one_sender_fixture(5000);
    for stream in [&routes.announce, &routes.withdraw] {
        let msgs = stream.split();
        assert_eq!(msgs.len(), stream.messages as usize);
        assert_eq!(
            msgs.iter().map(|m| m.len()).sum::<usize>(),
            stream.bytes.len()
        );
        assert!(msgs.iter().all(|m| m[..16] == [0xff; 16] && m[18] == 2));
    }
    assert_eq!(
        routes.all_messages().len() as u32,
        routes.announce.messages + routes.withdraw.messages
    );
}
