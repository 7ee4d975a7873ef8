//! The connection to core's codec: the router's attributes encoded with core's
//! UpdateBuilder and parsed back with core's Update are the same attributes, for
//! 4-octet and 2-octet AS sessions, IPv4 and IPv6, with ADD-PATH; malformed
//! attributes lead to treat-as-withdraw.

mod common;
use common::*;

use nexthop_core::wire::update::Update;
use nexthop_router::as_path::{AsPath, Segment, SegmentType};
use nexthop_router::attributes::{
    Aggregator, Attributes, Community, ExtendedCommunity, LargeCommunity, NextHop, Origin,
    RawAttribute,
};
use nexthop_router::encode::{EncodeParams, UpdateEncoder};
use nexthop_router::peer::{FamilyParams, SessionParams};
use nexthop_router::prefix::{Ipv4Prefix, Ipv6Prefix};
use nexthop_router::router::UpdateError;
use nexthop_router::wire::{CoreEncoder, attributes_of, negotiated_of};

fn full() -> Attributes {
    let mut a = Attributes {
        origin: Origin::Egp,
        as_path: AsPath {
            segments: vec![
                Segment {
                    kind: SegmentType::Sequence,
                    asns: vec![65001, 4_200_000_001, 65002],
                },
                Segment {
                    kind: SegmentType::Set,
                    asns: vec![65010, 4_200_000_010],
                },
            ],
        },
        next_hop: Some(NextHop::V4(ip("192.0.2.9"))),
        med: Some(7),
        local_pref: Some(120),
        atomic_aggregate: true,
        aggregator: Some(Aggregator {
            asn: 4_200_000_010,
            address: ip("192.0.2.10"),
        }),
        communities: vec![Community::new(65000, 1), Community::NO_EXPORT],
        extended_communities: vec![ExtendedCommunity([0, 2, 0xfd, 0xe8, 0, 0, 0, 1])],
        large_communities: vec![LargeCommunity {
            global_admin: 4_200_000_001,
            local_data_1: 1,
            local_data_2: 2,
        }],
        originator_id: Some(ip("10.0.0.1")),
        cluster_list: vec![ip("10.255.0.1"), ip("10.255.0.2")],
        unknown: vec![RawAttribute {
            flags: 0xe0,
            type_code: 99,
            value: Box::new([1, 2, 3]),
        }],
    };
    a.normalize();
    a
}

fn session(four_octet_as: bool, add_path: bool) -> SessionParams {
    let f = FamilyParams {
        enabled: true,
        add_path_receive: add_path,
        add_path_send: add_path,
    };
    SessionParams {
        remote_id: ip("10.0.0.1"),
        four_octet_as,
        ipv4: f,
        ipv6: f,
        max_message_len: 4096,
        local_address: None,
    }
}

fn params(s: &SessionParams) -> EncodeParams {
    EncodeParams {
        four_octet_as: s.four_octet_as,
        add_path: s.ipv4.add_path_send,
        max_message_len: s.max_message_len,
    }
}

#[test]
fn attributes_round_trip_through_core() {
    for four in [true, false] {
        for add_path in [false, true] {
            let s = session(four, add_path);
            let a = full();
            let mut e = CoreEncoder;
            let enc = e.path_attributes(&params(&s), &a);
            let nlri: Vec<(u32, Ipv4Prefix)> = (0..3).map(|i| (i + 1, nth(i))).collect();
            let mut msg = Vec::new();
            assert_eq!(e.announce(&params(&s), &a, &enc, &nlri, &mut msg), 3);
            let u = Update::parse(&msg, &negotiated_of(&s)).expect("core parses it");
            assert!(u.treat_as_withdraw().is_none());
            assert_eq!(attributes_of(&u, four), a, "four_octet_as={four}");
            let got: Vec<_> = u
                .nlri()
                .map(|n| (n.path_id, n.prefix.prefix_len()))
                .collect();
            let want: Vec<_> = (1..=3).map(|i| (add_path.then_some(i), 24u8)).collect();
            assert_eq!(got, want);
        }
    }
}

#[test]
fn ipv6_announce_and_withdraw_round_trip() {
    let s = session(true, true);
    let mut a = full();
    a.next_hop = Some(NextHop::V6 {
        global: "2001:db8::9".parse().unwrap(),
        link_local: Some("fe80::9".parse().unwrap()),
    });
    let p: Ipv6Prefix = "2001:db8:100::/48".parse().unwrap();
    let mut e = CoreEncoder;
    let enc = e.path_attributes(&params(&s), &a);
    let mut msg = Vec::new();
    e.announce(&params(&s), &a, &enc, &[(5, p)], &mut msg);
    let mut r = router(65000, "192.0.2.1");
    let peer_id = r.add_peer(peer("10.0.0.1", 65000));
    r.handle_session_up(peer_id, s, T0);
    r.handle_update_bytes(peer_id, &msg, T0).unwrap();
    r.handle_timeout(T0);
    let (best, _) = r.best(&p).expect("installed");
    assert_eq!(best.path_id, 5);
    assert_eq!(best.attrs.next_hop, a.next_hop);
    let mut wd = Vec::new();
    e.withdraw(&params(&s), &[(5, p)], &mut wd);
    r.handle_update_bytes(peer_id, &wd, T0).unwrap();
    r.handle_timeout(T0);
    assert!(r.best(&p).is_none());
    let mut eor = Vec::new();
    e.end_of_rib::<Ipv6Prefix>(&mut eor);
    let u = Update::parse(&eor, &negotiated_of(&s)).unwrap();
    assert!(u.is_end_of_rib().is_some());
    r.handle_update_bytes(peer_id, &eor, T0).unwrap();
}

/// RFC 7606 §7.4: a MULTI_EXIT_DISC of the wrong length is treat-as-withdraw:
/// the prefix's earlier route goes.
#[test]
fn malformed_attribute_is_treat_as_withdraw() {
    let s = SessionParams::ipv4(ip("10.0.0.1"));
    let mut r = router(65000, "192.0.2.1");
    let peer_id = r.add_peer(peer("10.0.0.1", 65000));
    r.handle_session_up(peer_id, s, T0);
    let a = attrs(&[], "10.0.0.1");
    let mut e = CoreEncoder;
    let p = params(&s);
    let mut msg = Vec::new();
    let enc = e.path_attributes(&p, &a);
    e.announce(&p, &a, &enc, &[(0, nth(1))], &mut msg);
    r.handle_update_bytes(peer_id, &msg, T0).unwrap();
    r.handle_timeout(T0);
    assert!(r.best(&nth(1)).is_some());
    // The same UPDATE with a 3-byte MED appended to the attributes.
    let mut bad_attrs = e.path_attributes(&p, &a);
    bad_attrs.extend_from_slice(&[0x80, 4, 3, 0, 0, 1]);
    let mut bad = Vec::new();
    e.announce(&p, &a, &bad_attrs, &[(0, nth(1))], &mut bad);
    r.handle_update_bytes(peer_id, &bad, T0).unwrap();
    r.handle_timeout(T0);
    assert!(r.best(&nth(1)).is_none(), "treat-as-withdraw");
    // A broken header is a session reset, reported with its NOTIFICATION.
    let mut broken = msg.clone();
    broken[0] = 0;
    assert!(matches!(
        r.handle_update_bytes(peer_id, &broken, T0),
        Err(UpdateError::Decode(_))
    ));
}

/// RFC 6793 §4.2.3 from the wire: a 2-octet session's AS_PATH with AS_TRANS and
/// its AS4_PATH become the real path.
#[test]
fn two_octet_session_merges_as4_path_on_receipt() {
    let s = session(false, false);
    let mut r = router(65000, "192.0.2.1");
    let peer_id = r.add_peer(peer("172.16.0.1", 65001));
    r.handle_session_up(peer_id, s, T0);
    let a = attrs(&[65001, 4_200_000_001], "172.16.0.1");
    let p = params(&s);
    let mut msg = Vec::new();
    let mut e = CoreEncoder;
    let enc = e.path_attributes(&p, &a);
    e.announce(&p, &a, &enc, &[(0, nth(1))], &mut msg);
    r.handle_update_bytes(peer_id, &msg, T0).unwrap();
    r.handle_timeout(T0);
    let (best, _) = r.best(&nth(1)).unwrap();
    assert_eq!(
        best.attrs.as_path,
        AsPath::sequence(&[65001, 4_200_000_001])
    );
}

/// The session FSM's Established report becomes the router's session parameters.
#[test]
fn session_info_converts() {
    use nexthop_core::session::SessionInfo;
    use nexthop_core::wire::{Family, FamilySet, Negotiated};
    let mut families = FamilySet::EMPTY;
    families.insert(Family::IPV4_UNICAST);
    families.insert(Family::IPV6_UNICAST);
    let mut send = FamilySet::EMPTY;
    send.insert(Family::IPV6_UNICAST);
    let info = SessionInfo {
        peer_asn: 65001,
        peer_id: u32::from(ip("10.0.0.7")),
        hold_time: 90,
        keepalive_time: nexthop_router::time::Duration::from_secs(30),
        negotiated: Negotiated {
            four_octet_as: true,
            extended_message: true,
            add_path_receive: FamilySet::EMPTY,
            add_path_send: send,
        },
        families,
        route_refresh: true,
        enhanced_route_refresh: false,
        graceful_restart: None,
        enforce_first_as: false,
        internal: false,
    };
    let s = SessionParams::from(&info);
    assert_eq!(s.remote_id, ip("10.0.0.7"));
    assert!(s.ipv4.enabled && s.ipv6.enabled);
    assert!(!s.ipv4.add_path_send && s.ipv6.add_path_send);
    assert_eq!(s.max_message_len, 65535);
    assert_eq!(negotiated_of(&s), info.negotiated);
}

/// Without `keep_message_content` a message carries the same bytes and no
/// decoded copy (what a daemon runs with).
#[test]
fn content_not_kept_leaves_the_bytes_alone() {
    use nexthop_router::router::{Router, RouterConfig};
    let mut out = Vec::new();
    for keep in [true, false] {
        let mut c = RouterConfig::new(65000, ip("192.0.2.1"));
        c.keep_message_content = keep;
        let mut r = Router::new(c);
        let src = r.add_peer(peer("172.16.0.9", 65009));
        r.handle_session_up(src, SessionParams::ipv4(ip("172.16.0.9")), T0);
        let dst = r.add_peer(peer("172.16.0.1", 65001));
        r.handle_session_up(dst, SessionParams::ipv4(ip("172.16.0.1")), T0);
        let announce: Vec<_> = (0..3000).map(|i| (0, nth(i))).collect();
        r.handle_update(src, &[], &announce, Some(attrs(&[65009], "172.16.0.9")), T0)
            .unwrap();
        r.handle_update(src, &[(0, nth(7))], &[], None, T0).unwrap();
        r.handle_timeout(T0);
        let msgs = drain(&mut r, dst);
        let updates: Vec<_> = msgs.iter().filter(|m| !m.is_end_of_rib()).collect();
        let count: usize = updates.iter().map(|m| m.updates().count()).sum();
        assert!(count > 1, "3000 prefixes need several UPDATEs");
        let kept: usize = updates.iter().map(|m| m.content.len()).sum();
        assert_eq!(kept, if keep { count } else { 0 });
        out.push(msgs.iter().map(|m| m.bytes.clone()).collect::<Vec<_>>());
    }
    assert_eq!(out[0], out[1]);
}
