//! UpdateBuilder: UPDATE encoding into 0xa5-filled buffers (RFC 4271 §4.3,
//! RFC 4760, RFC 7911, RFC 8654), checked byte for byte and by parsing back.

use std::net::{Ipv4Addr, Ipv6Addr};

use nexthop_core::wire::attribute::{
    AsPath, AsSegment, Asns, Communities, Community, MpNextHop, Origin, PathAttribute, SegmentType,
};
use nexthop_core::wire::nlri::{Ipv4Prefix, Ipv6Prefix, Nlri, Prefix};
use nexthop_core::wire::update::{Update, UpdateBuilder};
use nexthop_core::wire::{EncodeError, Family, Negotiated};

fn v4(a: [u8; 4], len: u8) -> Nlri {
    Nlri::new(Ipv4Prefix::new(Ipv4Addr::from(a), len).unwrap())
}

fn v6(a: Ipv6Addr, len: u8) -> Nlri {
    Nlri::new(Ipv6Prefix::new(a, len).unwrap())
}

const SEQ: [AsSegment<'static>; 1] = [AsSegment {
    kind: SegmentType::AsSequence,
    asns: Asns::List(&[65001, 65002]),
}];

fn common<'a>() -> [PathAttribute<'a>; 3] {
    [
        PathAttribute::Origin(Origin::Igp),
        PathAttribute::AsPath(AsPath::List(&SEQ)),
        PathAttribute::NextHop(Ipv4Addr::new(192, 0, 2, 1)),
    ]
}

/// A withdrawal, three attributes and two prefixes, byte for byte.
#[test]
fn builds_a_classic_update() {
    let mut buf = [0xa5u8; 128];
    let mut b = UpdateBuilder::new(&mut buf, &Negotiated::default()).unwrap();
    assert_eq!(b.withdraw(&v4([198, 51, 100, 0], 24)), Ok(true));
    for a in common() {
        b.attribute(&a).unwrap();
    }
    b.attribute(&PathAttribute::Communities(Communities::List(&[
        Community::NO_EXPORT,
    ])))
    .unwrap();
    assert_eq!(b.nlri(&v4([10, 0, 0, 0], 8)), Ok(true));
    assert_eq!(b.nlri(&v4([10, 1, 2, 3], 32)), Ok(true));
    let len = b.finish().unwrap();
    #[rustfmt::skip]
    let expected: Vec<u8> = [
        &[0xff; 16][..], &[0, 61, 2],
        &[0, 4, 24, 198, 51, 100],
        &[0, 27],
        &[0x40, 1, 1, 0],
        &[0x40, 2, 6, 2, 2, 0xfd, 0xe9, 0xfd, 0xea],
        &[0x40, 3, 4, 192, 0, 2, 1],
        &[0xc0, 8, 4, 0xff, 0xff, 0xff, 0x01],
        &[8, 10, 32, 10, 1, 2, 3],
    ].concat();
    assert_eq!(&buf[..len], &expected[..]);
    assert!(buf[len..].iter().all(|&b| b == 0xa5));
    let u = Update::parse(&buf[..len], &Negotiated::default()).unwrap();
    assert_eq!(u.nlri().count(), 2);
    assert_eq!(u.as_path().unwrap().route_selection_len(), 2);
}

/// An UPDATE with nothing is the IPv4 End-of-RIB (RFC 4724 §2).
#[test]
fn empty_builder_is_end_of_rib() {
    let mut buf = [0xa5u8; 24];
    let b = UpdateBuilder::new(&mut buf, &Negotiated::default()).unwrap();
    assert_eq!(b.finish(), Ok(23));
    assert_eq!(&buf[16..], &[0, 23, 2, 0, 0, 0, 0, 0xa5]);
}

/// Prefixes are packed up to 4096 octets, then refused; the message parses.
#[test]
fn packs_nlri_up_to_the_maximum_message() {
    for (n, max) in [
        (Negotiated::default(), 4096),
        (
            Negotiated {
                extended_message: true,
                ..Default::default()
            },
            65535,
        ),
    ] {
        let mut buf = vec![0xa5u8; 70000];
        let mut b = UpdateBuilder::new(&mut buf, &n).unwrap();
        for a in common() {
            b.attribute(&a).unwrap();
        }
        let mut fit = 0u32;
        for i in 0..20000u32 {
            let p = v4([10, (i >> 8) as u8, i as u8, 0], 24);
            if b.nlri(&p).unwrap() {
                fit += 1;
            } else {
                break;
            }
        }
        let len = b.finish().unwrap();
        assert!(len <= max && len > max - 4, "{len}");
        assert!(buf[len..].iter().all(|&b| b == 0xa5));
        let u = Update::parse(&buf[..len], &n).unwrap();
        assert_eq!(u.nlri().count() as u32, fit);
        assert_eq!(u.treat_as_withdraw(), None);
    }
}

/// A caller buffer smaller than the maximum message limits packing.
#[test]
fn small_buffer_limits_packing() {
    let mut buf = [0xa5u8; 40];
    let mut b = UpdateBuilder::new(&mut buf, &Negotiated::default()).unwrap();
    let mut fit = 0;
    while b.withdraw(&v4([10, 0, 0, 0], 16)).unwrap() {
        fit += 1;
    }
    assert_eq!(fit, 5); // 21 + 15 + 2 (attribute length) = 38
    assert_eq!(b.finish(), Ok(38));
    assert_eq!(&buf[38..], &[0xa5, 0xa5]);
    assert!(matches!(
        UpdateBuilder::new(&mut [0xa5u8; 22], &Negotiated::default()),
        Err(EncodeError::InsufficientSize { required: 23 })
    ));
}

/// An attribute that does not fit is refused and nothing is written.
#[test]
fn attribute_too_big_leaves_buffer_untouched() {
    let mut buf = [0xa5u8; 30];
    let mut b = UpdateBuilder::new(&mut buf, &Negotiated::default()).unwrap();
    let c = [Community(1); 3];
    let e = b.attribute(&PathAttribute::Communities(Communities::List(&c)));
    assert_eq!(e, Err(EncodeError::InsufficientSize { required: 23 + 15 }));
    let _ = b;
    assert!(buf.iter().all(|&b| b == 0xa5));
}

/// A path identifier must be there exactly when ADD-PATH send is negotiated.
#[test]
fn add_path_ids_follow_the_session() {
    let mut n = Negotiated::default();
    let mut buf = [0xa5u8; 64];
    let mut b = UpdateBuilder::new(&mut buf, &n).unwrap();
    assert!(matches!(
        b.nlri(&Nlri::with_path_id(
            1,
            Ipv4Prefix::new(Ipv4Addr::new(10, 0, 0, 0), 8).unwrap()
        )),
        Err(EncodeError::Invalid { .. })
    ));
    n.add_path_send.insert(Family::IPV4_UNICAST);
    let mut b = UpdateBuilder::new(&mut buf, &n).unwrap();
    for a in common() {
        b.attribute(&a).unwrap();
    }
    let p = Nlri::with_path_id(7, Ipv4Prefix::new(Ipv4Addr::new(10, 0, 0, 0), 8).unwrap());
    assert_eq!(b.nlri(&p), Ok(true));
    let len = b.finish().unwrap();
    assert_eq!(&buf[len - 6..len], &[0, 0, 0, 7, 8, 10]);
    let mut r = Negotiated::default();
    r.add_path_receive.insert(Family::IPV4_UNICAST);
    let u = Update::parse(&buf[..len], &r).unwrap();
    assert_eq!(u.nlri().collect::<Vec<_>>(), [p]);
}

/// IPv6 prefixes are packed into MP_REACH_NLRI, which ends up first (RFC 7606
/// §5.1), with a 1-octet length when it fits and an extended one when not.
#[test]
fn packs_ipv6_into_mp_reach() {
    let nh = MpNextHop::Ipv6LinkLocal {
        global: "2001:db8::1".parse().unwrap(),
        link_local: "fe80::1".parse().unwrap(),
    };
    for count in [3usize, 1000] {
        let mut buf = vec![0xa5u8; 5000];
        let mut b = UpdateBuilder::new(&mut buf, &Negotiated::default()).unwrap();
        b.attribute(&PathAttribute::Origin(Origin::Igp)).unwrap();
        b.attribute(&PathAttribute::AsPath(AsPath::List(&SEQ)))
            .unwrap();
        b.begin_mp_reach(Family::IPV6_UNICAST, nh).unwrap();
        let mut fit = 0;
        for i in 0..count {
            let a = Ipv6Addr::new(0x2001, 0xdb8, i as u16, 0, 0, 0, 0, 0);
            if b.mp_nlri(&v6(a, 48)).unwrap() {
                fit += 1;
            }
        }
        let len = b.finish().unwrap();
        assert!(len <= 4096);
        assert!(buf[len..].iter().all(|&b| b == 0xa5));
        let u = Update::parse(&buf[..len], &Negotiated::default()).unwrap();
        assert_eq!(u.treat_as_withdraw(), None);
        let first = u.raw_attributes().next().unwrap().1;
        assert_eq!(first.type_code, 14);
        assert_eq!(first.flags.extended_length(), count > 3);
        let mp = u.mp_reach().unwrap();
        assert_eq!(mp.next_hop, nh);
        assert_eq!(mp.nlri.iter().count(), fit);
        if count == 3 {
            assert_eq!(fit, 3);
            let last = mp.nlri.iter().last().unwrap();
            assert_eq!(
                last.prefix,
                Prefix::V6(Ipv6Prefix::new("2001:db8:2::".parse().unwrap(), 48).unwrap())
            );
        } else {
            assert!(fit < 1000 && fit > 500);
        }
        assert_eq!(u.origin(), Some(Origin::Igp));
    }
}

/// Withdrawals of IPv6 prefixes go into MP_UNREACH_NLRI; IPv4 withdrawals and
/// the MP attribute share the message.
#[test]
fn mp_unreach_with_classic_withdrawals() {
    let mut buf = [0xa5u8; 100];
    let mut b = UpdateBuilder::new(&mut buf, &Negotiated::default()).unwrap();
    assert_eq!(b.withdraw(&v4([10, 0, 0, 0], 8)), Ok(true));
    b.begin_mp_unreach(Family::IPV6_UNICAST).unwrap();
    assert_eq!(b.mp_nlri(&v6("2001:db8::".parse().unwrap(), 32)), Ok(true));
    assert!(b.mp_nlri(&v4([10, 0, 0, 0], 8)).is_err());
    let len = b.finish().unwrap();
    assert_eq!(
        &buf[19..len],
        &[
            0, 2, 8, 10, 0, 11, 0x80, 15, 8, 0, 2, 1, 32, 0x20, 0x01, 0x0d, 0xb8
        ]
    );
    let u = Update::parse(&buf[..len], &Negotiated::default()).unwrap();
    assert_eq!(u.all_withdrawn().count(), 2);
}

/// RFC 8950: IPv4 NLRI with an IPv6 next hop in MP_REACH_NLRI.
#[test]
fn ipv4_nlri_with_ipv6_next_hop() {
    let mut buf = [0xa5u8; 100];
    let mut b = UpdateBuilder::new(&mut buf, &Negotiated::default()).unwrap();
    b.attribute(&PathAttribute::Origin(Origin::Igp)).unwrap();
    b.attribute(&PathAttribute::AsPath(AsPath::EMPTY)).unwrap();
    b.begin_mp_reach(
        Family::IPV4_UNICAST,
        MpNextHop::Ipv6("2001:db8::1".parse().unwrap()),
    )
    .unwrap();
    assert_eq!(b.mp_nlri(&v4([192, 0, 2, 0], 24)), Ok(true));
    let len = b.finish().unwrap();
    let u = Update::parse(&buf[..len], &Negotiated::default()).unwrap();
    let mp = u.mp_reach().unwrap();
    assert_eq!(mp.family, Family::IPV4_UNICAST);
    assert_eq!(mp.nlri.iter().next(), Some(v4([192, 0, 2, 0], 24)));
    assert_eq!(u.treat_as_withdraw(), None);
}

/// Attributes encoded once (an update group's) are reused as bytes.
#[test]
fn pre_encoded_attributes() {
    let mut attrs = [0u8; 64];
    let mut at = 0;
    for a in common() {
        at += a.emit(&mut attrs[at..], false).unwrap();
    }
    let shared = &attrs[..at];
    for i in 0..3u8 {
        let mut buf = [0xa5u8; 64];
        let mut b = UpdateBuilder::new(&mut buf, &Negotiated::default()).unwrap();
        b.raw_attributes(shared).unwrap();
        assert_eq!(b.nlri(&v4([10, i, 0, 0], 16)), Ok(true));
        let len = b.finish().unwrap();
        let u = Update::parse(&buf[..len], &Negotiated::default()).unwrap();
        assert_eq!(u.next_hop(), Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(u.nlri().next(), Some(v4([10, i, 0, 0], 16)));
    }
}

/// Calls out of order are refused.
#[test]
fn order_is_enforced() {
    let mut buf = [0xa5u8; 64];
    let mut b = UpdateBuilder::new(&mut buf, &Negotiated::default()).unwrap();
    b.nlri(&v4([10, 0, 0, 0], 8)).unwrap();
    assert!(b.withdraw(&v4([10, 0, 0, 0], 8)).is_err());
    let after = Err(EncodeError::Invalid {
        what: "path attributes after NLRI",
    });
    assert_eq!(b.attribute(&PathAttribute::Origin(Origin::Igp)), after);
    assert_eq!(b.raw_attributes(&[0x40, 1, 1, 0]), after);
    assert_eq!(b.begin_mp_unreach(Family::IPV6_UNICAST), after);
}

/// Every typed attribute: emit into a 0xa5 buffer, parse back alone.
#[test]
fn typed_attributes_emit_and_parse() {
    let four = Negotiated {
        four_octet_as: true,
        ..Default::default()
    };
    let two = Negotiated::default();
    let comms = [Community::NO_EXPORT, Community::new(65001, 7)];
    let big_path = [AsSegment {
        kind: SegmentType::AsSequence,
        asns: Asns::List(&[65001; 100]),
    }];
    let cases: Vec<(PathAttribute<'_>, Negotiated, Vec<u8>)> = vec![
        (PathAttribute::Origin(Origin::Egp), two, vec![0x40, 1, 1, 1]),
        (
            PathAttribute::MultiExitDisc(9),
            two,
            vec![0x80, 4, 4, 0, 0, 0, 9],
        ),
        (
            PathAttribute::LocalPref(100),
            two,
            vec![0x40, 5, 4, 0, 0, 0, 100],
        ),
        (PathAttribute::AtomicAggregate, two, vec![0x40, 6, 0]),
        (
            PathAttribute::Aggregator(nexthop_core::wire::attribute::Aggregator {
                asn: 70000,
                address: Ipv4Addr::new(10, 0, 0, 1),
            }),
            four,
            vec![0xc0, 7, 8, 0, 1, 0x11, 0x70, 10, 0, 0, 1],
        ),
        (
            PathAttribute::Aggregator(nexthop_core::wire::attribute::Aggregator {
                asn: 70000,
                address: Ipv4Addr::new(10, 0, 0, 1),
            }),
            two,
            vec![0xc0, 7, 6, 0x5b, 0xa0, 10, 0, 0, 1],
        ),
        (
            PathAttribute::Communities(Communities::List(&comms)),
            two,
            vec![0xc0, 8, 8, 0xff, 0xff, 0xff, 0x01, 0xfd, 0xe9, 0, 7],
        ),
        (
            PathAttribute::OriginatorId(Ipv4Addr::new(1, 2, 3, 4)),
            two,
            vec![0x80, 9, 4, 1, 2, 3, 4],
        ),
        (
            PathAttribute::AsPath(AsPath::List(&big_path)),
            four,
            [
                &[0x50u8, 2, 0x01, 0x92, 2, 100][..],
                &[0, 0, 0xfd, 0xe9].repeat(100),
            ]
            .concat(),
        ),
    ];
    for (a, n, wire) in cases {
        let mut buf = vec![0xa5u8; wire.len() + 1];
        assert_eq!(a.buffer_len(n.four_octet_as), wire.len());
        assert_eq!(a.emit(&mut buf, n.four_octet_as), Ok(wire.len()));
        assert_eq!(&buf[..wire.len()], &wire[..], "{a:?}");
        assert_eq!(buf[wire.len()], 0xa5);
        let (back, size) = PathAttribute::parse(&buf, &n).unwrap();
        assert_eq!(size, wire.len());
        let mut again = vec![0xa5u8; wire.len()];
        back.emit(&mut again, n.four_octet_as).unwrap();
        assert_eq!(again, wire);
        let mut short = vec![0xa5u8; wire.len() - 1];
        assert!(matches!(
            a.emit(&mut short, n.four_octet_as),
            Err(EncodeError::InsufficientSize { .. })
        ));
        assert!(short.iter().all(|&b| b == 0xa5));
    }
    // Standalone parse reports RFC 7606 errors.
    let e = PathAttribute::parse(&[0x40, 1, 1, 5], &two).unwrap_err();
    assert_eq!(
        e.notification,
        nexthop_core::wire::NotificationCode::from_wire(3, 6)
    );
}
