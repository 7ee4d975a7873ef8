//! RFC 4271 §6.3 and RFC 7606: one test per error clause and per attribute rule.
//! Each builds an UPDATE by hand, parses it, and checks the error's kind, offset,
//! NOTIFICATION code/subcode and data, and action; treat-as-withdraw UPDATEs must
//! still give every prefix they carried.

use std::net::Ipv4Addr;

use nexthop_core::wire::attribute::{Community, Origin, type_code};
use nexthop_core::wire::error::Layer;
use nexthop_core::wire::nlri::{Ipv4Prefix, Nlri, Prefix};
use nexthop_core::wire::update::{PeerType, Update};
use nexthop_core::wire::{
    DecodeError, ErrorAction, ErrorKind, Family, FamilySet, Negotiated, NotificationCode,
};

const ATTRS_AT: usize = 23; // with an empty withdrawn routes field

fn attr(flags: u8, tc: u8, value: &[u8]) -> Vec<u8> {
    let mut v = vec![flags, tc];
    if flags & 0x10 != 0 {
        v.extend_from_slice(&(value.len() as u16).to_be_bytes());
    } else {
        v.push(value.len() as u8);
    }
    v.extend_from_slice(value);
    v
}

fn update(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let len = 23 + withdrawn.len() + attrs.len() + nlri.len();
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&(len as u16).to_be_bytes());
    m.push(2);
    m.extend_from_slice(&(withdrawn.len() as u16).to_be_bytes());
    m.extend_from_slice(withdrawn);
    m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    m.extend_from_slice(attrs);
    m.extend_from_slice(nlri);
    m
}

fn origin() -> Vec<u8> {
    attr(0x40, 1, &[0])
}
fn as_path() -> Vec<u8> {
    attr(0x40, 2, &[2, 1, 0xfd, 0xe9])
}
fn next_hop() -> Vec<u8> {
    attr(0x40, 3, &[192, 0, 2, 1])
}
fn mandatory() -> Vec<u8> {
    [origin(), as_path(), next_hop()].concat()
}

const NLRI: [u8; 5] = [8, 10, 16, 172, 16];

fn neg() -> Negotiated {
    Negotiated::default()
}

fn prefix(a: [u8; 4], len: u8) -> Nlri {
    Nlri::new(Ipv4Prefix::new(Ipv4Addr::from(a), len).unwrap())
}

#[track_caller]
fn expect(
    e: DecodeError,
    msg: &[u8],
    kind: ErrorKind,
    offset: usize,
    code: (u8, u8),
    data: &[u8],
    action: ErrorAction,
) {
    assert_eq!(e.kind, kind);
    assert_eq!(e.offset, offset, "offset");
    assert_eq!(e.notification, NotificationCode::from_wire(code.0, code.1));
    assert_eq!(e.data.resolve(msg), data, "data");
    assert_eq!(e.action, action);
    assert!(e.offset < msg.len());
}

/// A treat-as-withdraw UPDATE still gives its classic prefixes.
#[track_caller]
fn withdrawn_anyway(u: &Update<'_>) {
    let got: Vec<_> = u.nlri().collect();
    assert_eq!(got, [prefix([10, 0, 0, 0], 8), prefix([172, 16, 0, 0], 16)]);
}

#[track_caller]
fn parse_withdraw(attrs: &[u8], kind: ErrorKind, code: (u8, u8), data_at: usize, data_len: usize) {
    let m = update(&[], attrs, &NLRI);
    let u = Update::parse(&m, &neg()).unwrap();
    let e = u.treat_as_withdraw().expect("treat-as-withdraw");
    let data = m[data_at..data_at + data_len].to_vec();
    expect(
        e,
        &m,
        kind,
        data_at,
        code,
        &data,
        ErrorAction::TreatAsWithdraw,
    );
    withdrawn_anyway(&u);
}

#[test]
fn well_formed_update_parses() {
    let attrs = [mandatory(), attr(0x80, 4, &[0, 0, 0, 7])].concat();
    let m = update(&[24, 198, 51, 100], &attrs, &NLRI);
    let u = Update::parse(&m, &neg()).unwrap();
    assert_eq!(u.treat_as_withdraw(), None);
    assert!(u.discarded().is_empty());
    assert_eq!(u.origin(), Some(Origin::Igp));
    assert_eq!(u.next_hop(), Some(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(u.med(), Some(7));
    assert_eq!(u.as_path().unwrap().first_asn(), Some(65001));
    assert_eq!(
        u.withdrawn().collect::<Vec<_>>(),
        [prefix([198, 51, 100, 0], 24)]
    );
    assert_eq!(u.attributes().count(), 4);
    withdrawn_anyway(&u);
}

// ---- RFC 4271 §6.3 ----

/// §6.3: Withdrawn Routes Length does not fit the message -> 3/1, session reset.
#[test]
fn withdrawn_routes_length_too_long_is_malformed_attribute_list() {
    let mut m = update(&[], &[], &[]);
    m[19..21].copy_from_slice(&3u16.to_be_bytes());
    let e = Update::parse(&m, &neg()).unwrap_err();
    expect(
        e,
        &m,
        ErrorKind::MalformedAttributeList,
        19,
        (3, 1),
        &[],
        ErrorAction::SessionReset,
    );
}

/// §6.3: Total Path Attribute Length does not fit the message -> 3/1, session reset.
#[test]
fn total_path_attribute_length_too_long_is_malformed_attribute_list() {
    let mut m = update(&[8, 10], &mandatory(), &[]);
    let at = 21 + 2;
    m[at..at + 2].copy_from_slice(&100u16.to_be_bytes());
    let e = Update::parse(&m, &neg()).unwrap_err();
    expect(
        e,
        &m,
        ErrorKind::MalformedAttributeList,
        at,
        (3, 1),
        &[],
        ErrorAction::SessionReset,
    );
}

/// §6.3: a well-known attribute we do not recognize -> 3/2 with the attribute.
#[test]
fn unrecognized_well_known_attribute_resets() {
    let attrs = [mandatory(), attr(0x40, 99, &[1, 2])].concat();
    let m = update(&[], &attrs, &NLRI);
    let e = Update::parse(&m, &neg()).unwrap_err();
    let at = ATTRS_AT + mandatory().len();
    expect(
        e,
        &m,
        ErrorKind::UnrecognizedWellKnownAttribute { type_code: 99 },
        at,
        (3, 2),
        &m[at..at + 5],
        ErrorAction::SessionReset,
    );
}

/// An unknown optional attribute is kept, and re-advertised with Partial set.
#[test]
fn unknown_optional_attribute_is_kept() {
    let attrs = [mandatory(), attr(0xc0, 99, &[1, 2])].concat();
    let m = update(&[], &attrs, &NLRI);
    let u = Update::parse(&m, &neg()).unwrap();
    let unknown = u.attributes().last().unwrap();
    let nexthop_core::wire::attribute::PathAttribute::Unknown(raw) = unknown else {
        panic!("{unknown:?}")
    };
    assert_eq!(raw.value, &[1, 2]);
    let mut out = [0xa5u8; 6];
    assert_eq!(raw.propagated().unwrap().emit(&mut out), Ok(5));
    assert_eq!(out, [0xe0, 99, 2, 1, 2, 0xa5]);
    // An optional non-transitive attribute is not passed on.
    let attrs = [mandatory(), attr(0x80, 99, &[1, 2])].concat();
    let m = update(&[], &attrs, &NLRI);
    let u = Update::parse(&m, &neg()).unwrap();
    let (_, raw) = u.raw_attributes().last().unwrap();
    assert_eq!(raw.propagated(), None);
}

/// §6.3, RFC 7606 §3 (d): ORIGIN, AS_PATH, NEXT_HOP missing with NLRI -> 3/3
/// with the missing type code, treat-as-withdraw.
#[test]
fn missing_well_known_attributes_treat_as_withdraw() {
    for (missing, attrs) in [
        (1u8, [as_path(), next_hop()].concat()),
        (2, [origin(), next_hop()].concat()),
        (3, [origin(), as_path()].concat()),
    ] {
        let m = update(&[], &attrs, &NLRI);
        let u = Update::parse(&m, &neg()).unwrap();
        let e = u.treat_as_withdraw().unwrap();
        expect(
            e,
            &m,
            ErrorKind::MissingWellKnownAttribute { type_code: missing },
            21,
            (3, 3),
            &[missing],
            ErrorAction::TreatAsWithdraw,
        );
        withdrawn_anyway(&u);
    }
}

/// Without NLRI, no attribute is mandatory (RFC 4760 §4: withdraw-only UPDATEs).
#[test]
fn no_nlri_needs_no_attributes() {
    let m = update(&[8, 10], &[], &[]);
    let u = Update::parse(&m, &neg()).unwrap();
    assert_eq!(u.treat_as_withdraw(), None);
    assert_eq!(u.withdrawn().count(), 1);
}

/// §6.3, RFC 7606 §3 (c): Optional/Transitive bits in conflict -> 3/4 with the
/// attribute, treat-as-withdraw.
#[test]
fn attribute_flags_error_treat_as_withdraw() {
    let attrs = [attr(0xc0, 1, &[0]), as_path(), next_hop()].concat();
    parse_withdraw(
        &attrs,
        ErrorKind::AttributeFlags {
            type_code: 1,
            flags: 0xc0,
        },
        (3, 4),
        ATTRS_AT,
        4,
    );
}

/// The Partial and Extended Length bits are not in conflict with anything.
#[test]
fn partial_and_extended_length_bits_are_accepted() {
    let attrs = [
        attr(0x50, 1, &[2]),
        as_path(),
        next_hop(),
        attr(0xe0, 8, &[0, 1, 0, 2]),
    ]
    .concat();
    let m = update(&[], &attrs, &NLRI);
    let u = Update::parse(&m, &neg()).unwrap();
    assert_eq!(u.treat_as_withdraw(), None);
    assert_eq!(u.origin(), Some(Origin::Incomplete));
    assert_eq!(
        u.communities().unwrap().iter().next(),
        Some(Community::new(1, 2))
    );
}

/// RFC 7606 §7.1: ORIGIN of length other than 1 -> 3/5, treat-as-withdraw.
#[test]
fn origin_length_error() {
    let attrs = [attr(0x40, 1, &[0, 0]), as_path(), next_hop()].concat();
    parse_withdraw(
        &attrs,
        ErrorKind::AttributeLength {
            type_code: 1,
            length: 2,
        },
        (3, 5),
        ATTRS_AT,
        5,
    );
}

/// §6.3, RFC 7606 §7.1: undefined ORIGIN value -> 3/6, treat-as-withdraw.
#[test]
fn invalid_origin() {
    let attrs = [attr(0x40, 1, &[3]), as_path(), next_hop()].concat();
    parse_withdraw(
        &attrs,
        ErrorKind::InvalidOrigin { origin: 3 },
        (3, 6),
        ATTRS_AT,
        4,
    );
}

/// RFC 7606 §7.2: an unknown segment type, a zero-length segment, or a segment
/// running past the attribute -> 3/11 at the segment, treat-as-withdraw.
#[test]
fn malformed_as_path() {
    for (value, bad_at) in [
        (vec![5u8, 1, 0, 1], 0usize),
        (vec![2, 1, 0, 1, 2, 0], 4),
        (vec![2, 3, 0, 1, 0, 2], 0),
        (vec![2, 1, 0, 1, 2], 4),
    ] {
        let a = attr(0x40, 2, &value);
        let attrs = [origin(), a.clone(), next_hop()].concat();
        let m = update(&[], &attrs, &NLRI);
        let u = Update::parse(&m, &neg()).unwrap();
        let e = u.treat_as_withdraw().unwrap();
        let start = ATTRS_AT + 4;
        assert_eq!(e.kind, ErrorKind::MalformedAsPath);
        assert_eq!(e.offset, start + 3 + bad_at);
        assert_eq!(e.notification, NotificationCode::from_wire(3, 11));
        assert_eq!(e.data.resolve(&m), &a[..]);
        assert_eq!(e.action, ErrorAction::TreatAsWithdraw);
        assert_eq!(u.as_path(), None);
        withdrawn_anyway(&u);
    }
}

/// A 4-octet session reads 4-octet AS numbers; the same bytes on a 2-octet
/// session are a different (but valid) path.
#[test]
fn as_path_width_follows_the_session() {
    let path = attr(0x40, 2, &[2, 1, 0, 1, 0x11, 0x70]);
    let attrs = [origin(), path, next_hop()].concat();
    let m = update(&[], &attrs, &NLRI);
    let four = Negotiated {
        four_octet_as: true,
        ..neg()
    };
    let u = Update::parse(&m, &four).unwrap();
    assert_eq!(u.as_path().unwrap().first_asn(), Some(70000));
    // The same bytes on a 2-octet session: one AS, then a bad segment type.
    let u = Update::parse(&m, &neg()).unwrap();
    assert_eq!(
        u.treat_as_withdraw().unwrap().kind,
        ErrorKind::MalformedAsPath
    );
    let path = attr(0x40, 2, &[2, 2, 0, 1, 0x11, 0x70, 1, 1, 0, 9]);
    let m = update(&[], &[origin(), path, next_hop()].concat(), &NLRI);
    let p = Update::parse(&m, &neg()).unwrap().as_path().unwrap();
    assert_eq!(p.route_selection_len(), 3);
    assert_eq!(p.origin_asn(), None);
    assert_eq!(p.first_asn(), Some(1));
}

/// RFC 7606 §7.3: NEXT_HOP of length other than 4 -> 3/5, treat-as-withdraw.
#[test]
fn next_hop_length_error() {
    let attrs = [origin(), as_path(), attr(0x40, 3, &[1, 2, 3])].concat();
    let at = ATTRS_AT + 4 + 7;
    parse_withdraw(
        &attrs,
        ErrorKind::AttributeLength {
            type_code: 3,
            length: 3,
        },
        (3, 5),
        at,
        6,
    );
}

/// §6.3: a NEXT_HOP that cannot be a unicast host -> 3/8, treat-as-withdraw.
#[test]
fn invalid_next_hop() {
    for addr in [[0u8, 0, 0, 0], [224, 0, 0, 5], [255, 255, 255, 255]] {
        let attrs = [origin(), as_path(), attr(0x40, 3, &addr)].concat();
        parse_withdraw(&attrs, ErrorKind::InvalidNextHop, (3, 8), ATTRS_AT + 11, 7);
    }
}

/// RFC 7606 §7.4 and §7.5: MED and LOCAL_PREF of length other than 4 -> 3/5,
/// treat-as-withdraw.
#[test]
fn med_and_local_pref_length_errors() {
    for (flags, tc) in [(0x80u8, 4u8), (0x40, 5)] {
        let attrs = [mandatory(), attr(flags, tc, &[0, 0, 1])].concat();
        parse_withdraw(
            &attrs,
            ErrorKind::AttributeLength {
                type_code: tc,
                length: 3,
            },
            (3, 5),
            ATTRS_AT + 18,
            6,
        );
    }
}

/// RFC 7606 §7.6: ATOMIC_AGGREGATE with a value -> attribute discard.
#[test]
fn atomic_aggregate_length_error_is_discarded() {
    let attrs = [mandatory(), attr(0x40, 6, &[1])].concat();
    let m = update(&[], &attrs, &NLRI);
    let u = Update::parse(&m, &neg()).unwrap();
    assert_eq!(u.treat_as_withdraw(), None);
    assert!(u.discarded().contains(6));
    assert!(!u.atomic_aggregate());
    let e = u.discard_error().unwrap();
    expect(
        e,
        &m,
        ErrorKind::AttributeLength {
            type_code: 6,
            length: 1,
        },
        ATTRS_AT + 18,
        (3, 5),
        &m[ATTRS_AT + 18..ATTRS_AT + 22],
        ErrorAction::AttributeDiscard,
    );
    assert_eq!(u.attributes().count(), 3);
}

/// RFC 7606 §7.7: AGGREGATOR of the wrong length for the session -> attribute
/// discard; the right length is kept.
#[test]
fn aggregator_length_error_is_discarded() {
    let six = attr(0xc0, 7, &[0xfd, 0xe9, 192, 0, 2, 9]);
    let eight = attr(0xc0, 7, &[0, 0, 0xfd, 0xe9, 192, 0, 2, 9]);
    let four = Negotiated {
        four_octet_as: true,
        ..neg()
    };
    for (a, n, ok) in [
        (&six, neg(), true),
        (&eight, neg(), false),
        (&six, four, false),
        (&eight, four, true),
    ] {
        let path = if n.four_octet_as {
            attr(0x40, 2, &[2, 1, 0, 0, 0xfd, 0xe9])
        } else {
            as_path()
        };
        let attrs = [origin(), path, next_hop(), a.clone()].concat();
        let m = update(&[], &attrs, &NLRI);
        let u = Update::parse(&m, &n).unwrap();
        assert_eq!(u.treat_as_withdraw(), None);
        if ok {
            let g = u.aggregator().unwrap();
            assert_eq!((g.asn, g.address), (65001, Ipv4Addr::new(192, 0, 2, 9)));
        } else {
            assert!(u.discarded().contains(7));
            let e = u.discard_error().unwrap();
            assert_eq!(e.notification, NotificationCode::from_wire(3, 5));
            assert_eq!(e.data.resolve(&m), &a[..]);
            assert_eq!(e.action, ErrorAction::AttributeDiscard);
        }
    }
}

/// RFC 7606 §7.8: COMMUNITIES not a non-zero multiple of 4 -> treat-as-withdraw.
#[test]
fn communities_length_error() {
    for value in [&[0u8, 1, 0][..], &[]] {
        let attrs = [mandatory(), attr(0xc0, 8, value)].concat();
        parse_withdraw(
            &attrs,
            ErrorKind::AttributeLength {
                type_code: 8,
                length: value.len() as u16,
            },
            (3, 5),
            ATTRS_AT + 18,
            3 + value.len(),
        );
    }
}

/// RFC 7606 §7.9: ORIGINATOR_ID of length other than 4 -> treat-as-withdraw.
#[test]
fn originator_id_length_error() {
    let attrs = [mandatory(), attr(0x80, 9, &[1, 2, 3, 4, 5])].concat();
    parse_withdraw(
        &attrs,
        ErrorKind::AttributeLength {
            type_code: 9,
            length: 5,
        },
        (3, 5),
        ATTRS_AT + 18,
        8,
    );
}

/// RFC 7606 §7.10: CLUSTER_LIST not a non-zero multiple of 4 -> treat-as-withdraw.
#[test]
fn cluster_list_length_error() {
    let attrs = [mandatory(), attr(0x80, 10, &[1, 2, 3, 4, 5, 6])].concat();
    parse_withdraw(
        &attrs,
        ErrorKind::AttributeLength {
            type_code: 10,
            length: 6,
        },
        (3, 5),
        ATTRS_AT + 18,
        9,
    );
    let attrs = [
        mandatory(),
        attr(0x80, 10, &[1, 2, 3, 4, 5, 6, 7, 8]),
        attr(0x80, 9, &[9, 9, 9, 9]),
    ]
    .concat();
    let m = update(&[], &attrs, &NLRI);
    let u = Update::parse(&m, &neg()).unwrap();
    assert_eq!(
        u.cluster_list().unwrap().iter().collect::<Vec<_>>(),
        [Ipv4Addr::new(1, 2, 3, 4), Ipv4Addr::new(5, 6, 7, 8)]
    );
    assert_eq!(u.originator_id(), Some(Ipv4Addr::new(9, 9, 9, 9)));
}

/// RFC 7606 §7.14: EXTENDED_COMMUNITIES not a non-zero multiple of 8.
#[test]
fn extended_communities_length_error() {
    let attrs = [mandatory(), attr(0xc0, 16, &[0; 12])].concat();
    parse_withdraw(
        &attrs,
        ErrorKind::AttributeLength {
            type_code: 16,
            length: 12,
        },
        (3, 5),
        ATTRS_AT + 18,
        15,
    );
}

/// RFC 8092 §6: LARGE_COMMUNITY not a non-zero multiple of 12.
#[test]
fn large_community_length_error() {
    let attrs = [mandatory(), attr(0xc0, 32, &[0; 8])].concat();
    parse_withdraw(
        &attrs,
        ErrorKind::AttributeLength {
            type_code: 32,
            length: 8,
        },
        (3, 5),
        ATTRS_AT + 18,
        11,
    );
}

/// RFC 6793 §6: a malformed AS4_PATH or AS4_AGGREGATOR is discarded.
#[test]
fn as4_attributes_malformed_are_discarded() {
    for (a, kind, code) in [
        (
            attr(0xc0, 17, &[2, 2, 0, 0, 0, 1]),
            ErrorKind::OptionalAttribute { type_code: 17 },
            (3, 9),
        ),
        (
            attr(0xc0, 17, &[3, 1, 0, 0, 0, 1]),
            ErrorKind::OptionalAttribute { type_code: 17 },
            (3, 9),
        ),
        (
            attr(0xc0, 18, &[0, 0, 0, 1]),
            ErrorKind::AttributeLength {
                type_code: 18,
                length: 4,
            },
            (3, 5),
        ),
        (
            attr(0x40, 18, &[0, 1, 0x11, 0x70, 1, 1, 1, 1]),
            ErrorKind::AttributeFlags {
                type_code: 18,
                flags: 0x40,
            },
            (3, 4),
        ),
    ] {
        let attrs = [mandatory(), a.clone()].concat();
        let m = update(&[], &attrs, &NLRI);
        let u = Update::parse(&m, &neg()).unwrap();
        assert_eq!(u.treat_as_withdraw(), None);
        let e = u.discard_error().unwrap();
        assert_eq!(e.kind, kind);
        assert_eq!(e.notification, NotificationCode::from_wire(code.0, code.1));
        assert_eq!(e.data.resolve(&m), &a[..]);
        assert_eq!(e.action, ErrorAction::AttributeDiscard);
        assert!(u.discarded().contains(a[1]));
    }
}

/// RFC 6793 §3: AS4_PATH from a 4-octet-AS peer is discarded silently; on a
/// 2-octet session it is kept.
#[test]
fn as4_path_kept_only_on_two_octet_sessions() {
    let attrs = [mandatory(), attr(0xc0, 17, &[2, 1, 0, 1, 0x11, 0x70])].concat();
    let m = update(&[], &attrs, &NLRI);
    let u = Update::parse(&m, &neg()).unwrap();
    assert_eq!(u.as4_path().unwrap().first_asn(), Some(70000));
    let four = Negotiated {
        four_octet_as: true,
        ..neg()
    };
    let u = Update::parse(&m, &four).unwrap();
    assert!(u.as4_path().is_none());
    assert!(u.discarded().contains(17));
    assert_eq!(u.discard_error(), None);
}

/// §6.3, RFC 7606 §5.3: a prefix longer than 32 or running past the NLRI or
/// withdrawn routes field -> 3/10, session reset.
#[test]
fn invalid_network_field_resets() {
    let nlri_at = ATTRS_AT + mandatory().len();
    for (withdrawn, nlri, at, len) in [
        (&[][..], &[33u8, 1, 2, 3, 4, 5][..], nlri_at, 33u8),
        (&[], &[8, 10, 24, 1, 2][..], nlri_at + 2, 24),
        (&[16u8, 10][..], &[][..], 21, 16),
    ] {
        let m = update(withdrawn, &mandatory(), nlri);
        let e = Update::parse(&m, &neg()).unwrap_err();
        expect(
            e,
            &m,
            ErrorKind::InvalidNetworkField { prefix_len: len },
            at,
            (3, 10),
            &[],
            ErrorAction::SessionReset,
        );
    }
}

/// RFC 7911: with ADD-PATH, a path identifier without its prefix is invalid.
#[test]
fn add_path_truncated_entry_is_invalid_network_field() {
    let mut n = neg();
    n.add_path_receive.insert(Family::IPV4_UNICAST);
    let m = update(&[], &mandatory(), &[0, 0, 0, 1, 8, 10, 0, 0, 0]);
    let e = Update::parse(&m, &n).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidNetworkField { prefix_len: 0 });
    assert_eq!(e.offset, ATTRS_AT + 18 + 6);
    let m = update(&[], &mandatory(), &[0, 0, 0, 1, 8, 10]);
    let u = Update::parse(&m, &n).unwrap();
    assert_eq!(u.nlri().next().unwrap().path_id, Some(1));
}

/// RFC 7606 §3 (g): a repeated attribute is discarded, the first kept.
#[test]
fn duplicate_attribute_keeps_the_first() {
    let attrs = [
        mandatory(),
        attr(0x80, 4, &[0, 0, 0, 1]),
        attr(0x80, 4, &[0, 0, 0, 2]),
    ]
    .concat();
    let m = update(&[], &attrs, &NLRI);
    let u = Update::parse(&m, &neg()).unwrap();
    assert_eq!(u.treat_as_withdraw(), None);
    assert_eq!(u.med(), Some(1));
    assert!(u.discarded().contains(4));
    let e = u.discard_error().unwrap();
    expect(
        e,
        &m,
        ErrorKind::DuplicateAttribute { type_code: 4 },
        ATTRS_AT + 25,
        (3, 1),
        &[],
        ErrorAction::AttributeDiscard,
    );
    assert_eq!(u.attributes().count(), 4);
}

fn mp_reach_v6(nlri: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 2, 1, 16];
    v.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    v.push(0);
    v.extend_from_slice(nlri);
    v
}

/// RFC 7606 §3 (g): MP_REACH_NLRI twice -> 3/1, session reset.
#[test]
fn mp_reach_twice_resets() {
    let a = attr(0x80, 14, &mp_reach_v6(&[32, 0x20, 1, 0x0d, 0xb8]));
    let attrs = [a.clone(), origin(), as_path(), a.clone()].concat();
    let m = update(&[], &attrs, &[]);
    let e = Update::parse(&m, &neg()).unwrap_err();
    let at = ATTRS_AT + a.len() + 11;
    expect(
        e,
        &m,
        ErrorKind::DuplicateAttribute { type_code: 14 },
        at,
        (3, 1),
        &[],
        ErrorAction::SessionReset,
    );
}

/// RFC 4760, RFC 7606 §5.1: MP_REACH_NLRI is found wherever it is, and needs no
/// NEXT_HOP attribute.
#[test]
fn mp_reach_last_is_found() {
    let a = attr(0x80, 14, &mp_reach_v6(&[32, 0x20, 1, 0x0d, 0xb8, 0]));
    let attrs = [origin(), as_path(), a].concat();
    let m = update(&[], &attrs, &[]);
    let u = Update::parse(&m, &neg()).unwrap();
    assert_eq!(u.treat_as_withdraw(), None);
    let mp = u.mp_reach().unwrap();
    assert_eq!(mp.family, Family::IPV6_UNICAST);
    let v: Vec<_> = mp.nlri.iter().map(|n| n.prefix).collect();
    assert_eq!(v.len(), 2);
    assert!(matches!(v[0], Prefix::V6(p) if p.prefix_len() == 32));
    assert_eq!(u.all_announced().count(), 2);
}

/// RFC 7606 §7.11: MP_REACH_NLRI too short to name its family -> session reset.
#[test]
fn mp_reach_too_short_resets() {
    let a = attr(0x80, 14, &[0, 2]);
    let m = update(&[], &[a.clone(), origin(), as_path()].concat(), &[]);
    let e = Update::parse(&m, &neg()).unwrap_err();
    expect(
        e,
        &m,
        ErrorKind::AttributeLength {
            type_code: 14,
            length: 2,
        },
        ATTRS_AT,
        (3, 5),
        &a,
        ErrorAction::SessionReset,
    );
}

/// RFC 7606 §7.11: a next hop length that fits no form, or a next hop running
/// past the attribute -> AFI/SAFI disable for the family (callers reset).
#[test]
fn mp_reach_bad_next_hop_disables_the_family() {
    for value in [
        vec![0u8, 2, 1, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        vec![0, 2, 1, 16, 0, 0],
    ] {
        let a = attr(0x80, 14, &value);
        let m = update(&[], &[a.clone(), origin(), as_path()].concat(), &[]);
        let e = Update::parse(&m, &neg()).unwrap_err();
        expect(
            e,
            &m,
            ErrorKind::InvalidNextHop,
            ATTRS_AT,
            (3, 9),
            &a,
            ErrorAction::AfiSafiDisable(Family::IPV6_UNICAST),
        );
    }
}

/// RFC 7606 §5.3 and §7.11: a bad prefix inside MP_REACH_NLRI or MP_UNREACH_NLRI
/// -> 3/10, AFI/SAFI disable.
#[test]
fn mp_nlri_bad_prefix_disables_the_family() {
    let a = attr(0x80, 14, &mp_reach_v6(&[129, 0]));
    let m = update(&[], &[a, origin(), as_path()].concat(), &[]);
    let e = Update::parse(&m, &neg()).unwrap_err();
    expect(
        e,
        &m,
        ErrorKind::InvalidNetworkField { prefix_len: 129 },
        ATTRS_AT + 3 + 21,
        (3, 10),
        &[],
        ErrorAction::AfiSafiDisable(Family::IPV6_UNICAST),
    );
    let a = attr(0x80, 15, &[0, 2, 1, 64, 0x20, 1]);
    let m = update(&[], &a, &[]);
    let e = Update::parse(&m, &neg()).unwrap_err();
    expect(
        e,
        &m,
        ErrorKind::InvalidNetworkField { prefix_len: 64 },
        ATTRS_AT + 6,
        (3, 10),
        &[],
        ErrorAction::AfiSafiDisable(Family::IPV6_UNICAST),
    );
}

/// RFC 7606 §3 (j): the most severe error wins: a classic NLRI error (session
/// reset) beats an MP error (AFI/SAFI disable) and a treat-as-withdraw.
#[test]
fn most_severe_error_wins() {
    let a = attr(0x80, 14, &mp_reach_v6(&[129, 0]));
    let m = update(
        &[],
        &[a, attr(0x40, 1, &[7]), as_path(), next_hop()].concat(),
        &[40],
    );
    let e = Update::parse(&m, &neg()).unwrap_err();
    assert_eq!(e.action, ErrorAction::SessionReset);
    assert_eq!(e.kind, ErrorKind::InvalidNetworkField { prefix_len: 40 });
}

/// RFC 7606 §3 (c) with §7.11: MP_REACH_NLRI with wrong flags is
/// treat-as-withdraw, and its prefixes can still be withdrawn.
#[test]
fn mp_reach_flags_error_still_gives_prefixes() {
    let a = attr(0xc0, 14, &mp_reach_v6(&[32, 0x20, 1, 0x0d, 0xb8]));
    let m = update(&[], &[a.clone(), origin(), as_path()].concat(), &[]);
    let u = Update::parse(&m, &neg()).unwrap();
    let e = u.treat_as_withdraw().unwrap();
    expect(
        e,
        &m,
        ErrorKind::AttributeFlags {
            type_code: 14,
            flags: 0xc0,
        },
        ATTRS_AT,
        (3, 4),
        &a,
        ErrorAction::TreatAsWithdraw,
    );
    assert_eq!(u.all_announced().count(), 1);
}

/// RFC 4760 §7: a family nexthop cannot parse -> AFI/SAFI disable.
#[test]
fn mp_unknown_family_disables_it() {
    let a = attr(0x80, 15, &[0, 25, 70]);
    let m = update(&[], &a, &[]);
    let e = Update::parse(&m, &neg()).unwrap_err();
    let f = Family::from_wire(25, 70);
    expect(
        e,
        &m,
        ErrorKind::UnnegotiatedFamily { family: f },
        ATTRS_AT,
        (3, 9),
        &a,
        ErrorAction::AfiSafiDisable(f),
    );
}

/// RFC 7606 §4: the last attribute overruns the attribute field -> 3/1,
/// treat-as-withdraw, and the NLRI is still found by the Total Path Attribute
/// Length.
#[test]
fn attribute_overrunning_the_list_treat_as_withdraw() {
    let mut attrs = mandatory();
    attrs.extend_from_slice(&[0x80, 4, 9, 0, 0]);
    parse_withdraw(
        &attrs,
        ErrorKind::MalformedAttributeList,
        (3, 1),
        ATTRS_AT + 18,
        0,
    );
    let m = update(&[], &attrs, &NLRI);
    let u = Update::parse(&m, &neg()).unwrap();
    assert_eq!(
        u.treat_as_withdraw().unwrap().data.resolve(&m),
        &[] as &[u8]
    );
    assert_eq!(u.attributes().count(), 3);
}

/// RFC 7606 §4: fewer octets left than an attribute header -> treat-as-withdraw.
#[test]
fn attribute_header_truncated_treat_as_withdraw() {
    let mut attrs = mandatory();
    attrs.extend_from_slice(&[0x90, 4, 0]);
    parse_withdraw(
        &attrs,
        ErrorKind::MalformedAttributeList,
        (3, 1),
        ATTRS_AT + 18,
        0,
    );
}

/// RFC 4724 §2: End-of-RIB markers.
#[test]
fn end_of_rib() {
    let m = update(&[], &[], &[]);
    assert_eq!(
        Update::parse(&m, &neg()).unwrap().is_end_of_rib(),
        Some(Family::IPV4_UNICAST)
    );
    let m = update(&[], &attr(0x80, 15, &[0, 2, 1]), &[]);
    assert_eq!(
        Update::parse(&m, &neg()).unwrap().is_end_of_rib(),
        Some(Family::IPV6_UNICAST)
    );
    let m = update(&[], &mandatory(), &NLRI);
    assert_eq!(Update::parse(&m, &neg()).unwrap().is_end_of_rib(), None);
}

/// RFC 4271 §6.1 via the header: a message shorter than its length field.
#[test]
fn header_errors_are_reported() {
    let mut m = update(&[], &[], &[]);
    m[16..18].copy_from_slice(&22u16.to_be_bytes());
    let e = Update::parse(&m, &neg()).unwrap_err();
    assert_eq!(e.notification, NotificationCode::from_wire(1, 2));
    let e = Update::parse(&m[..10], &neg()).unwrap_err();
    assert!(matches!(
        e.kind,
        ErrorKind::Truncated {
            layer: Layer::Header,
            ..
        }
    ));
    let _ = FamilySet::EMPTY;
    let _ = type_code::ORIGIN;
}

/// RFC 7606 §7.5, §7.9, §7.10: from an external peer LOCAL_PREF, ORIGINATOR_ID
/// and CLUSTER_LIST are discarded, malformed or not; from an internal peer a
/// malformed one is treat-as-withdraw.
#[test]
fn external_peer_discards_internal_attributes() {
    for (flags, tc, value) in [
        (0x40u8, 5u8, vec![0, 0, 0, 100]),
        (0x40, 5, vec![0, 100]),
        (0x80, 9, vec![1, 1, 1, 1]),
        (0x80, 10, vec![1, 1, 1]),
    ] {
        let attrs = [mandatory(), attr(flags, tc, &value)].concat();
        let m = update(&[], &attrs, &NLRI);
        let u = Update::parse_from(&m, &neg(), PeerType::External).unwrap();
        assert_eq!(u.treat_as_withdraw(), None);
        assert!(u.discarded().contains(tc));
        assert_eq!(u.attributes().count(), 3);
        withdrawn_anyway(&u);
        let u = Update::parse_from(&m, &neg(), PeerType::Internal).unwrap();
        assert_eq!(u.treat_as_withdraw().is_some(), value.len() != 4);
    }
}

/// RFC 5065 §5.1 with RFC 7606 §7.2: confederation segments from an external
/// peer make the AS_PATH malformed.
#[test]
fn confederation_segments_from_external_peer() {
    let path = attr(0x40, 2, &[3, 1, 0xfd, 0xe9, 2, 1, 0, 1]);
    let m = update(&[], &[origin(), path, next_hop()].concat(), &NLRI);
    let u = Update::parse_from(&m, &neg(), PeerType::Internal).unwrap();
    assert_eq!(u.as_path().unwrap().route_selection_len(), 1);
    let u = Update::parse_from(&m, &neg(), PeerType::External).unwrap();
    let e = u.treat_as_withdraw().unwrap();
    assert_eq!(
        (e.kind, e.offset),
        (ErrorKind::MalformedAsPath, ATTRS_AT + 4 + 3)
    );
    withdrawn_anyway(&u);
}

/// RFC 7607 §2: AS 0 in AS_PATH is treat-as-withdraw; in AGGREGATOR it discards
/// the attribute.
#[test]
fn as_zero() {
    let path = attr(0x40, 2, &[2, 2, 0xfd, 0xe9, 0, 0]);
    let m = update(&[], &[origin(), path.clone(), next_hop()].concat(), &NLRI);
    let u = Update::parse(&m, &neg()).unwrap();
    let e = u.treat_as_withdraw().unwrap();
    expect(
        e,
        &m,
        ErrorKind::MalformedAsPath,
        ATTRS_AT + 4 + 3,
        (3, 11),
        &path,
        ErrorAction::TreatAsWithdraw,
    );
    withdrawn_anyway(&u);
}

/// RFC 7607 §2: AS 0 in AGGREGATOR discards it.
#[test]
fn as_zero_aggregator_is_discarded() {
    let a = attr(0xc0, 7, &[0, 0, 10, 0, 0, 1]);
    let m = update(&[], &[mandatory(), a.clone()].concat(), &NLRI);
    let u = Update::parse(&m, &neg()).unwrap();
    assert_eq!(u.treat_as_withdraw(), None);
    let e = u.discard_error().unwrap();
    expect(
        e,
        &m,
        ErrorKind::OptionalAttribute { type_code: 7 },
        ATTRS_AT + 18,
        (3, 9),
        &a,
        ErrorAction::AttributeDiscard,
    );
}

/// RFC 7606 §5.2: a treat-as-withdraw error in an UPDATE with path attributes
/// but no reachable NLRI leaves nothing to withdraw: session reset.
#[test]
fn malformed_update_without_reachable_nlri_resets() {
    let attrs = [mandatory(), attr(0xc0, 8, &[0, 1, 2])].concat();
    let m = update(&[8, 10], &attrs, &[]);
    let e = Update::parse(&m, &neg()).unwrap_err();
    assert_eq!(
        e.kind,
        ErrorKind::AttributeLength {
            type_code: 8,
            length: 3
        }
    );
    assert_eq!(e.action, ErrorAction::SessionReset);
}

/// RFC 4760 §3: with only MP_REACH_NLRI, a NEXT_HOP attribute is ignored, so a
/// malformed one does not withdraw the IPv6 routes.
#[test]
fn next_hop_without_classic_nlri_is_ignored() {
    let a = attr(0x80, 14, &mp_reach_v6(&[32, 0x20, 1, 0x0d, 0xb8]));
    let bad = attr(0x40, 3, &[0, 0, 0, 0]);
    let m = update(&[], &[a, origin(), as_path(), bad.clone()].concat(), &[]);
    let u = Update::parse(&m, &neg()).unwrap();
    assert_eq!(u.treat_as_withdraw(), None);
    assert!(u.discarded().contains(3));
    assert_eq!(u.next_hop(), None);
    let e = u.discard_error().unwrap();
    assert_eq!(e.kind, ErrorKind::InvalidNextHop);
    assert_eq!(e.data.resolve(&m), &bad[..]);
    assert_eq!(u.mp_reach().unwrap().nlri.iter().count(), 1);
}
