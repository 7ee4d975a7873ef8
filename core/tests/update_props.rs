//! Property tests for UPDATE encoding and parsing: arbitrary UPDATEs (every
//! attribute kind, unknown attributes, IPv4 and IPv6, with and without ADD-PATH,
//! 2- and 4-octet AS) survive parse(emit(m)) == m and emit(parse(b)) == b; and
//! arbitrary or mutated bytes never make the parser panic or report an offset
//! past the message.

use std::net::{Ipv4Addr, Ipv6Addr};

use nexthop_core::wire::attribute::{
    Aggregator, AsPath, AsSegment, Asns, Community, ExtendedCommunity, Flags, Items,
    LargeCommunity, MpNextHop, Origin, PathAttribute, RawAttribute, SegmentType,
};
use nexthop_core::wire::nlri::{Ipv4Prefix, Ipv6Prefix, Nlri};
use nexthop_core::wire::update::{Update, UpdateBuilder};
use nexthop_core::wire::{DecodeError, ErrorData, Family, Negotiated};
use proptest::prelude::*;

type Path = Vec<(u8, Vec<u32>)>;

#[derive(Clone, Debug, PartialEq)]
enum MAttr {
    Origin(u8),
    AsPath(Path),
    NextHop(Ipv4Addr),
    Med(u32),
    LocalPref(u32),
    Atomic,
    Aggregator(u32, Ipv4Addr),
    Communities(Vec<u32>),
    OriginatorId(Ipv4Addr),
    ClusterList(Vec<Ipv4Addr>),
    Ext(Vec<[u8; 8]>),
    As4Path(Path),
    As4Aggregator(u32, Ipv4Addr),
    Large(Vec<(u32, u32, u32)>),
    Unknown(u8, u8, Vec<u8>),
}

#[derive(Clone, Debug, PartialEq)]
enum Mp {
    Reach(MpNextHop, Vec<Nlri>),
    Unreach(Vec<Nlri>),
}

#[derive(Clone, Debug, PartialEq)]
struct Model {
    four: bool,
    add_v4: bool,
    add_v6: bool,
    withdrawn: Vec<Nlri>,
    attrs: Vec<MAttr>,
    mp: Option<Mp>,
    nlri: Vec<Nlri>,
}

impl Model {
    fn negotiated(&self) -> Negotiated {
        let mut n = Negotiated {
            four_octet_as: self.four,
            ..Default::default()
        };
        for (on, f) in [
            (self.add_v4, Family::IPV4_UNICAST),
            (self.add_v6, Family::IPV6_UNICAST),
        ] {
            if on {
                n.add_path_receive.insert(f);
                n.add_path_send.insert(f);
            }
        }
        n
    }
}

fn v4_nlri(add_path: bool) -> impl Strategy<Value = Nlri> {
    (any::<u32>(), 0u8..=32, any::<u32>()).prop_map(move |(a, l, id)| Nlri {
        path_id: add_path.then_some(id),
        prefix: Ipv4Prefix::new(Ipv4Addr::from_bits(a), l).unwrap().into(),
    })
}

fn v6_nlri(add_path: bool) -> impl Strategy<Value = Nlri> {
    (any::<u128>(), 0u8..=128, any::<u32>()).prop_map(move |(a, l, id)| Nlri {
        path_id: add_path.then_some(id),
        prefix: Ipv6Prefix::new(Ipv6Addr::from_bits(a), l).unwrap().into(),
    })
}

fn path(max_asn: u32, types: std::ops::RangeInclusive<u8>) -> impl Strategy<Value = Path> {
    prop::collection::vec((types, prop::collection::vec(1..=max_asn, 1..8)), 0..4)
}

fn addr() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from_bits)
}

fn unknown_type() -> impl Strategy<Value = u8> {
    prop_oneof![11u8..=13, 19u8..=31, 33u8..=255]
}

fn model() -> impl Strategy<Value = Model> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_flat_map(|(four, add_v4, add_v6)| {
        let max_asn = if four { u32::MAX } else { 65535 };
        let mandatory = (
            0u8..=2,
            path(max_asn, 1..=4),
            (0x0100_0000u32..0xe000_0000).prop_map(Ipv4Addr::from_bits),
        );
        let optional = (
            prop::option::of(any::<u32>().prop_map(MAttr::Med)),
            prop::option::of(any::<u32>().prop_map(MAttr::LocalPref)),
            prop::option::of(Just(MAttr::Atomic)),
            prop::option::of((1..=max_asn, addr()).prop_map(|(a, b)| MAttr::Aggregator(a, b))),
            prop::option::of(
                prop::collection::vec(any::<u32>(), 1..6).prop_map(MAttr::Communities),
            ),
            prop::option::of(addr().prop_map(MAttr::OriginatorId)),
            prop::option::of(prop::collection::vec(addr(), 1..4).prop_map(MAttr::ClusterList)),
            prop::option::of(prop::collection::vec(any::<[u8; 8]>(), 1..4).prop_map(MAttr::Ext)),
            prop::option::of(
                prop::collection::vec(any::<(u32, u32, u32)>(), 1..4).prop_map(MAttr::Large),
            ),
        );
        let as4 = (
            prop::option::of(path(u32::MAX, 1..=2).prop_map(MAttr::As4Path)),
            prop::option::of((1..=u32::MAX, addr()).prop_map(|(a, b)| MAttr::As4Aggregator(a, b))),
        );
        let unknown = prop::collection::btree_map(
            unknown_type(),
            (
                any::<bool>(),
                any::<bool>(),
                any::<bool>(),
                prop::collection::vec(any::<u8>(), 0..300),
            ),
            0..3,
        );
        let mp = prop::option::of(prop_oneof![
            (
                prop_oneof![
                    any::<u128>().prop_map(|a| MpNextHop::Ipv6(Ipv6Addr::from_bits(a))),
                    (any::<u128>(), any::<u128>()).prop_map(|(g, l)| MpNextHop::Ipv6LinkLocal {
                        global: Ipv6Addr::from_bits(g),
                        link_local: Ipv6Addr::from_bits(l),
                    }),
                ],
                prop::collection::vec(v6_nlri(add_v6), 0..20)
            )
                .prop_map(|(nh, n)| Mp::Reach(nh, n)),
            prop::collection::vec(v6_nlri(add_v6), 0..20).prop_map(Mp::Unreach),
        ]);
        (
            mandatory,
            optional,
            as4,
            unknown,
            mp,
            prop::collection::vec(v4_nlri(add_v4), 0..20),
            prop::collection::vec(v4_nlri(add_v4), 0..20),
        )
            .prop_map(move |(m, o, as4, unknown, mp, withdrawn, nlri)| {
                let mut attrs = vec![MAttr::Origin(m.0), MAttr::AsPath(m.1), MAttr::NextHop(m.2)];
                attrs.extend(
                    [o.0, o.1, o.2, o.3, o.4, o.5, o.6, o.7, o.8]
                        .into_iter()
                        .flatten(),
                );
                if !four {
                    attrs.extend([as4.0, as4.1].into_iter().flatten());
                }
                for (tc, (t, p, x, v)) in unknown {
                    let flags = 0x80 | if t { 0x40 } else { 0 } | if p { 0x20 } else { 0 };
                    let flags = flags | if x || v.len() > 255 { 0x10 } else { 0 };
                    attrs.push(MAttr::Unknown(flags, tc, v));
                }
                Model {
                    four,
                    add_v4,
                    add_v6,
                    withdrawn,
                    attrs,
                    mp,
                    nlri,
                }
            })
    })
}

fn segments(p: &Path) -> Vec<AsSegment<'_>> {
    p.iter()
        .map(|(k, a)| AsSegment {
            kind: SegmentType::from(*k),
            asns: Asns::List(a),
        })
        .collect()
}

fn emit(m: &Model, buf: &mut [u8]) -> usize {
    let n = m.negotiated();
    let mut b = UpdateBuilder::new(buf, &n).unwrap();
    for w in &m.withdrawn {
        assert_eq!(b.withdraw(w), Ok(true));
    }
    for a in &m.attrs {
        let segs;
        let comms: Vec<Community>;
        let ext: Vec<ExtendedCommunity>;
        let large: Vec<LargeCommunity>;
        let pa = match a {
            MAttr::Origin(o) => PathAttribute::Origin(Origin::from(*o)),
            MAttr::AsPath(p) => {
                segs = segments(p);
                PathAttribute::AsPath(AsPath::List(&segs))
            }
            MAttr::As4Path(p) => {
                segs = segments(p);
                PathAttribute::As4Path(AsPath::List(&segs))
            }
            MAttr::NextHop(a) => PathAttribute::NextHop(*a),
            MAttr::Med(x) => PathAttribute::MultiExitDisc(*x),
            MAttr::LocalPref(x) => PathAttribute::LocalPref(*x),
            MAttr::Atomic => PathAttribute::AtomicAggregate,
            MAttr::Aggregator(asn, address) => PathAttribute::Aggregator(Aggregator {
                asn: *asn,
                address: *address,
            }),
            MAttr::As4Aggregator(asn, address) => PathAttribute::As4Aggregator(Aggregator {
                asn: *asn,
                address: *address,
            }),
            MAttr::Communities(c) => {
                comms = c.iter().map(|&x| Community(x)).collect();
                PathAttribute::Communities(Items::List(&comms))
            }
            MAttr::OriginatorId(a) => PathAttribute::OriginatorId(*a),
            MAttr::ClusterList(c) => PathAttribute::ClusterList(Items::List(c)),
            MAttr::Ext(c) => {
                ext = c.iter().map(|&x| ExtendedCommunity(x)).collect();
                PathAttribute::ExtendedCommunities(Items::List(&ext))
            }
            MAttr::Large(c) => {
                large = c
                    .iter()
                    .map(|&(g, a, b)| LargeCommunity {
                        global_admin: g,
                        local_data_1: a,
                        local_data_2: b,
                    })
                    .collect();
                PathAttribute::LargeCommunities(Items::List(&large))
            }
            MAttr::Unknown(f, t, v) => PathAttribute::Unknown(RawAttribute {
                flags: Flags(*f),
                type_code: *t,
                value: v,
            }),
        };
        b.attribute(&pa).unwrap();
    }
    match &m.mp {
        Some(Mp::Reach(nh, nlri)) => {
            b.begin_mp_reach(Family::IPV6_UNICAST, *nh).unwrap();
            for p in nlri {
                assert_eq!(b.mp_nlri(p), Ok(true));
            }
        }
        Some(Mp::Unreach(nlri)) => {
            b.begin_mp_unreach(Family::IPV6_UNICAST).unwrap();
            for p in nlri {
                assert_eq!(b.mp_nlri(p), Ok(true));
            }
        }
        None => {}
    }
    for p in &m.nlri {
        assert_eq!(b.nlri(p), Ok(true));
    }
    b.finish().unwrap()
}

fn path_of(p: AsPath<'_>) -> Path {
    p.segments()
        .map(|s| (u8::from(s.kind), s.asns.iter().collect()))
        .collect()
}

fn model_of(u: &Update<'_>, m: &Model) -> Model {
    let mut attrs = Vec::new();
    let mut mp = None;
    for a in u.attributes() {
        attrs.push(match a {
            PathAttribute::Origin(o) => MAttr::Origin(o.into()),
            PathAttribute::AsPath(p) => MAttr::AsPath(path_of(p)),
            PathAttribute::As4Path(p) => MAttr::As4Path(path_of(p)),
            PathAttribute::NextHop(a) => MAttr::NextHop(a),
            PathAttribute::MultiExitDisc(x) => MAttr::Med(x),
            PathAttribute::LocalPref(x) => MAttr::LocalPref(x),
            PathAttribute::AtomicAggregate => MAttr::Atomic,
            PathAttribute::Aggregator(g) => MAttr::Aggregator(g.asn, g.address),
            PathAttribute::As4Aggregator(g) => MAttr::As4Aggregator(g.asn, g.address),
            PathAttribute::Communities(c) => MAttr::Communities(c.iter().map(|c| c.0).collect()),
            PathAttribute::OriginatorId(a) => MAttr::OriginatorId(a),
            PathAttribute::ClusterList(c) => MAttr::ClusterList(c.iter().collect()),
            PathAttribute::ExtendedCommunities(c) => MAttr::Ext(c.iter().map(|c| c.0).collect()),
            PathAttribute::LargeCommunities(c) => MAttr::Large(
                c.iter()
                    .map(|l| (l.global_admin, l.local_data_1, l.local_data_2))
                    .collect(),
            ),
            PathAttribute::Unknown(r) => MAttr::Unknown(r.flags.0, r.type_code, r.value.to_vec()),
            PathAttribute::MpReachNlri(r) => {
                assert_eq!(r.family, Family::IPV6_UNICAST);
                mp = Some(Mp::Reach(r.next_hop, r.nlri.iter().collect()));
                continue;
            }
            PathAttribute::MpUnreachNlri(r) => {
                mp = Some(Mp::Unreach(r.withdrawn.iter().collect()));
                continue;
            }
        });
    }
    Model {
        four: m.four,
        add_v4: m.add_v4,
        add_v6: m.add_v6,
        withdrawn: u.withdrawn().collect(),
        attrs,
        mp,
        nlri: u.nlri().collect(),
    }
}

/// Re-encodes a parsed UPDATE from its views.
fn re_emit(u: &Update<'_>, buf: &mut [u8]) -> usize {
    let mut b = UpdateBuilder::new(buf, u.negotiated()).unwrap();
    for w in u.withdrawn() {
        assert_eq!(b.withdraw(&w), Ok(true));
    }
    for a in u.attributes() {
        if !matches!(
            a,
            PathAttribute::MpReachNlri(_) | PathAttribute::MpUnreachNlri(_)
        ) {
            b.attribute(&a).unwrap();
        }
    }
    if let Some(r) = u.mp_reach() {
        b.begin_mp_reach(r.family, r.next_hop).unwrap();
        for p in r.nlri.iter() {
            assert_eq!(b.mp_nlri(&p), Ok(true));
        }
    }
    if let Some(r) = u.mp_unreach() {
        b.begin_mp_unreach(r.family).unwrap();
        for p in r.withdrawn.iter() {
            assert_eq!(b.mp_nlri(&p), Ok(true));
        }
    }
    for p in u.nlri() {
        assert_eq!(b.nlri(&p), Ok(true));
    }
    b.finish().unwrap()
}

fn check_error(e: &DecodeError, m: &[u8]) {
    assert!(e.offset <= m.len(), "{e:?} past {}", m.len());
    if let ErrorData::Message { offset, len } = e.data {
        assert!((offset + len) as usize <= m.len(), "{e:?}");
    }
}

/// Reads everything a caller might read; nothing may panic.
fn exercise(u: &Update<'_>, m: &[u8]) {
    for e in [u.treat_as_withdraw(), u.discard_error()]
        .into_iter()
        .flatten()
    {
        check_error(&e, m);
    }
    let mut n = u.all_withdrawn().count() + u.all_announced().count();
    for a in u.attributes() {
        match a {
            PathAttribute::AsPath(p) | PathAttribute::As4Path(p) => {
                n += p.route_selection_len()
                    + p.segments().map(|s| s.asns.iter().count()).sum::<usize>();
                let _ = (p.first_asn(), p.origin_asn());
            }
            PathAttribute::Communities(c) => n += c.iter().count(),
            PathAttribute::ClusterList(c) => n += c.iter().count(),
            PathAttribute::ExtendedCommunities(c) => n += c.iter().count(),
            PathAttribute::LargeCommunities(c) => n += c.iter().count(),
            _ => {}
        }
    }
    for (_, r) in u.raw_attributes() {
        n += r.value.len();
    }
    let _ = (
        u.origin(),
        u.next_hop(),
        u.med(),
        u.local_pref(),
        u.aggregator(),
        u.is_end_of_rib(),
    );
    let _ = (
        u.originator_id(),
        u.as4_aggregator(),
        u.atomic_aggregate(),
        n,
    );
}

fn header(body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&((body.len() + 19) as u16).to_be_bytes());
    m.push(2);
    m.extend_from_slice(body);
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_of_emit_is_identity(m in model()) {
        let mut buf = vec![0xa5u8; 4096 + 16];
        let len = emit(&m, &mut buf);
        prop_assert!(len <= 4096);
        prop_assert!(buf[len..].iter().all(|&b| b == 0xa5));
        let u = Update::parse(&buf[..len], &m.negotiated()).unwrap();
        prop_assert_eq!(u.treat_as_withdraw(), None);
        prop_assert!(u.discarded().is_empty());
        // The builder moves the MP attribute first; the model keeps it apart.
        prop_assert_eq!(model_of(&u, &m), m);
    }

    #[test]
    fn emit_of_parse_is_identity(m in model()) {
        let mut buf = vec![0xa5u8; 4096];
        let len = emit(&m, &mut buf);
        let u = Update::parse(&buf[..len], &m.negotiated()).unwrap();
        let mut again = vec![0xa5u8; 4096];
        let len2 = re_emit(&u, &mut again);
        prop_assert_eq!(&again[..len2], &buf[..len]);
    }

    #[test]
    fn arbitrary_bodies_never_panic(
        body in prop::collection::vec(any::<u8>(), 0..300),
        four in any::<bool>(),
        add in any::<bool>(),
    ) {
        let m = header(&body);
        let mut n = Negotiated { four_octet_as: four, ..Default::default() };
        if add {
            n.add_path_receive.insert(Family::IPV4_UNICAST);
            n.add_path_receive.insert(Family::IPV6_UNICAST);
        }
        match Update::parse(&m, &n) {
            Ok(u) => exercise(&u, &m),
            Err(e) => check_error(&e, &m),
        }
        match Update::parse(&body, &n) {
            Ok(u) => exercise(&u, &body),
            Err(e) => check_error(&e, &body),
        }
    }

    #[test]
    fn mutated_updates_never_panic(
        m in model(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..5),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut buf = vec![0xa5u8; 4096];
        let len = emit(&m, &mut buf);
        let mut b = buf[19..len].to_vec();
        for (i, v) in edits {
            let i = i.index(b.len());
            b[i] = v;
        }
        if truncate {
            b.truncate(cut.index(b.len() + 1));
        }
        let msg = header(&b);
        match Update::parse(&msg, &m.negotiated()) {
            Ok(u) => exercise(&u, &msg),
            Err(e) => check_error(&e, &msg),
        }
    }

    /// Well-framed attribute lists of random flags, types and values reach every
    /// validation rule; nothing panics, offsets stay in the message, and an
    /// accepted UPDATE's prefix fields iterate to their end.
    #[test]
    fn attribute_soup_never_panics(
        attrs in prop::collection::vec(
            (
                prop_oneof![Just(0x40u8), Just(0x80), Just(0xc0), Just(0x50), any::<u8>()],
                prop_oneof![1u8..=18, Just(32), any::<u8>()],
                prop::collection::vec(any::<u8>(), 0..40),
            ),
            0..8,
        ),
        withdrawn in prop::collection::vec(any::<u8>(), 0..12),
        nlri in prop::collection::vec(any::<u8>(), 0..12),
        four in any::<bool>(),
        add in any::<bool>(),
    ) {
        let mut list = Vec::new();
        for (flags, tc, value) in &attrs {
            list.push(*flags);
            list.push(*tc);
            if flags & 0x10 != 0 {
                list.extend_from_slice(&(value.len() as u16).to_be_bytes());
            } else {
                list.push(value.len() as u8);
            }
            list.extend_from_slice(value);
        }
        let mut body = (withdrawn.len() as u16).to_be_bytes().to_vec();
        body.extend_from_slice(&withdrawn);
        body.extend_from_slice(&(list.len() as u16).to_be_bytes());
        body.extend_from_slice(&list);
        body.extend_from_slice(&nlri);
        let m = header(&body);
        let mut n = Negotiated { four_octet_as: four, ..Default::default() };
        if add {
            n.add_path_receive.insert(Family::IPV4_UNICAST);
            n.add_path_receive.insert(Family::IPV6_UNICAST);
        }
        match Update::parse(&m, &n) {
            Ok(u) => {
                exercise(&u, &m);
                let w: usize = u.withdrawn().map(|p| p.buffer_len()).sum();
                prop_assert_eq!(w, withdrawn.len());
                let a: usize = u.nlri().map(|p| p.buffer_len()).sum();
                prop_assert_eq!(a, nlri.len());
            }
            Err(e) => check_error(&e, &m),
        }
    }
}
