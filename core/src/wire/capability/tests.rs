//! Capabilities as RFC 5492 and each capability's RFC lay them out.

use std::string::ToString;

use super::*;
use crate::wire::family::{Afi, FamilySet, Safi};
use crate::wire::open::Open;

/// Parses one capability triple.
fn one(bytes: &[u8]) -> Capability<'_> {
    validate(bytes, 0).unwrap();
    let mut it = Capabilities::Wire(bytes).iter();
    let c = it.next().unwrap();
    assert!(it.next().is_none());
    c
}

/// Emits `c` into a 0xa5-filled buffer and checks the bytes.
#[track_caller]
fn assert_emits(c: &Capability<'_>, expected: &[u8]) {
    let mut buf = [0xa5u8; 300];
    assert_eq!(c.emit(&mut buf), Ok(expected.len()));
    assert_eq!(&buf[..expected.len()], expected);
    assert!(buf[expected.len()..].iter().all(|&b| b == 0xa5));
    assert_eq!(c.buffer_len(), expected.len());
}

/// RFC 4760 §8: AFI, a reserved octet ignored on receipt, SAFI.
#[test]
fn multiprotocol() {
    let c = one(&[1, 4, 0, 2, 0xff, 1]);
    assert_eq!(c, Capability::Multiprotocol(Family::IPV6_UNICAST));
    assert_emits(&c, &[1, 4, 0, 2, 0, 1]);
    assert_eq!(c.to_string(), "Multiprotocol Extensions ipv6-unicast");
}

/// RFC 2918 §2, RFC 8654 §3, RFC 7313 §3.1: capabilities with no value.
#[test]
fn capabilities_without_value() {
    for (bytes, c, text) in [
        ([2u8, 0], Capability::RouteRefresh, "Route Refresh"),
        ([6, 0], Capability::ExtendedMessage, "Extended Message"),
        (
            [70, 0],
            Capability::EnhancedRouteRefresh,
            "Enhanced Route Refresh",
        ),
    ] {
        assert_eq!(one(&bytes), c);
        assert_emits(&c, &bytes);
        assert_eq!(c.to_string(), text);
    }
}

/// RFC 6793 §3: the speaker's 4-octet AS.
#[test]
fn four_octet_as() {
    let c = one(&[65, 4, 0xfa, 0x56, 0xea, 0x01]);
    assert_eq!(c, Capability::FourOctetAs(4_200_000_001));
    assert_emits(&c, &[65, 4, 0xfa, 0x56, 0xea, 0x01]);
    assert_eq!(c.to_string(), "4-octet AS 4200000001");
}

/// RFC 7911 §4: (AFI, SAFI, Send/Receive) items.
#[test]
fn add_path() {
    let bytes = [69, 8, 0, 1, 1, 3, 0, 2, 1, 2];
    let c = one(&bytes);
    let Capability::AddPath(items) = c else {
        panic!("{c:?}")
    };
    assert_eq!(items.len(), 2);
    assert!(items.iter().eq([
        (Family::IPV4_UNICAST, AddPathMode::Both),
        (Family::IPV6_UNICAST, AddPathMode::Send),
    ]));
    let list = [
        (Family::IPV4_UNICAST, AddPathMode::Both),
        (Family::IPV6_UNICAST, AddPathMode::Send),
    ];
    assert_eq!(c, Capability::AddPath(AddPaths::List(&list)));
    assert_emits(&Capability::AddPath(AddPaths::List(&list)), &bytes);
    assert_eq!(
        c.to_string(),
        "ADD-PATH [ipv4-unicast send/receive, ipv6-unicast send]"
    );
}

/// RFC 7911 §4: a Send/Receive value other than 1-3 makes the capability
/// "not understood": it is kept raw, not an error.
#[test]
fn add_path_with_unknown_mode_is_kept_raw() {
    let bytes = [69, 4, 0, 1, 1, 4];
    assert_eq!(
        one(&bytes),
        Capability::Unknown {
            code: 69,
            value: &bytes[2..]
        }
    );
}

/// RFC 4724 §3 (and the N bit of RFC 8538): restart flags and time, then a
/// forwarding flag per family.
#[test]
fn graceful_restart() {
    let bytes = [64, 10, 0xc0, 0x78, 0, 1, 1, 0x80, 0, 2, 1, 0];
    let c = one(&bytes);
    let Capability::GracefulRestart(gr) = c else {
        panic!("{c:?}")
    };
    assert!(gr.restart_state());
    assert!(gr.notification());
    assert_eq!(gr.restart_flags, 0xc);
    assert_eq!(gr.restart_time, 120);
    let families: std::vec::Vec<_> = gr.families.iter().collect();
    assert_eq!(families.len(), 2);
    assert_eq!(families[0].family, Family::IPV4_UNICAST);
    assert!(families[0].forwarding_state());
    assert!(!families[1].forwarding_state());
    assert_emits(&c, &bytes);
    assert_eq!(
        c.to_string(),
        "Graceful Restart restarting notification time 120s \
         [ipv4-unicast forwarding preserved, ipv6-unicast]"
    );
    // No families: only the restart flags and time.
    assert_eq!(
        one(&[64, 2, 0x0f, 0xff]),
        Capability::GracefulRestart(GracefulRestart {
            restart_flags: 0,
            restart_time: 4095,
            families: Items::List(&[]),
        })
    );
}

/// Graceful Restart fields that do not fit their bits cannot be encoded.
#[test]
fn graceful_restart_out_of_range_is_not_encoded() {
    let mut buf = [0xa5u8; 8];
    for gr in [
        GracefulRestart {
            restart_flags: 0x10,
            restart_time: 0,
            families: Items::List(&[]),
        },
        GracefulRestart {
            restart_flags: 0,
            restart_time: 4096,
            families: Items::List(&[]),
        },
    ] {
        assert!(matches!(
            Capability::GracefulRestart(gr).emit(&mut buf),
            Err(EncodeError::Invalid { .. })
        ));
        assert_eq!(buf, [0xa5; 8]);
    }
}

/// RFC 8950 §3: (NLRI AFI, NLRI SAFI (2 octets), Nexthop AFI) items.
#[test]
fn extended_next_hop() {
    let bytes = [5, 12, 0, 1, 0, 1, 0, 2, 0, 1, 0, 2, 0, 2];
    let c = one(&bytes);
    let Capability::ExtendedNextHop(items) = c else {
        panic!("{c:?}")
    };
    assert!(items.iter().eq([
        ExtendedNextHop {
            family: Family::IPV4_UNICAST,
            next_hop_afi: Afi::Ipv6,
        },
        ExtendedNextHop {
            family: Family {
                afi: Afi::Ipv4,
                safi: Safi::Multicast
            },
            next_hop_afi: Afi::Ipv6,
        },
    ]));
    assert_emits(&c, &bytes);
    assert_eq!(
        c.to_string(),
        "Extended Next Hop Encoding [ipv4-unicast via ipv6, ipv4-multicast via ipv6]"
    );
    // A SAFI over 255 fits no Family: kept raw.
    let wide = [5, 6, 0, 1, 1, 0, 0, 2];
    assert_eq!(
        one(&wide),
        Capability::Unknown {
            code: 5,
            value: &wide[2..]
        }
    );
}

/// RFC 5492 §4: a capability we do not know is kept as received.
#[test]
fn unknown_capability_is_kept_raw() {
    let bytes = [128, 3, 1, 2, 3];
    let c = one(&bytes);
    assert_eq!(
        c,
        Capability::Unknown {
            code: 128,
            value: &[1, 2, 3]
        }
    );
    assert_emits(&c, &bytes);
    assert_eq!(c.to_string(), "capability 128 (01 02 03)");
}

/// A value over 255 octets cannot be encoded; the buffer stays untouched.
#[test]
fn value_over_255_octets_is_too_long() {
    let items = [(Family::IPV4_UNICAST, AddPathMode::Receive); 64];
    let c = Capability::AddPath(AddPaths::List(&items));
    let mut buf = [0xa5u8; 300];
    assert_eq!(
        c.emit(&mut buf),
        Err(EncodeError::TooLong {
            length: 256,
            max: 255
        })
    );
    assert!(buf.iter().all(|&b| b == 0xa5));
    let mut short = [0xa5u8; 5];
    assert_eq!(
        Capability::FourOctetAs(1).emit(&mut short),
        Err(EncodeError::InsufficientSize { required: 6 })
    );
    assert_eq!(short, [0xa5; 5]);
}

/// A caller-built `Wire` list that does not hold whole triples shows what it
/// can and never panics.
#[test]
fn caller_built_wire_list_never_panics() {
    let caps = Capabilities::Wire(&[65, 2, 0, 1, 70, 9, 0]);
    let got: std::vec::Vec<_> = caps.iter().collect();
    assert_eq!(
        got,
        [Capability::Unknown {
            code: 65,
            value: &[0, 1]
        }]
    );
}

fn open_with<'a>(caps: &'a [Capability<'a>]) -> Open<'a> {
    Open {
        my_as: 65001,
        hold_time: 90,
        bgp_identifier: 1,
        capabilities: Capabilities::List(caps),
    }
}

/// RFC 7911 §4: we receive paths for a family where we advertised Receive or
/// Both and the peer Send or Both; we send where the converse holds.
#[test]
fn negotiate_add_path() {
    let v4 = Family::IPV4_UNICAST;
    let v6 = Family::IPV6_UNICAST;
    let local_items = [(v4, AddPathMode::Receive), (v6, AddPathMode::Both)];
    let remote_items = [(v4, AddPathMode::Both), (v6, AddPathMode::Receive)];
    let local = [Capability::AddPath(AddPaths::List(&local_items))];
    let remote = [Capability::AddPath(AddPaths::List(&remote_items))];
    let n = negotiate(&open_with(&local), &open_with(&remote));
    let mut v4_only = FamilySet::EMPTY;
    v4_only.insert(v4);
    let mut v6_only = FamilySet::EMPTY;
    v6_only.insert(v6);
    assert_eq!(n.add_path_receive, v4_only);
    assert_eq!(n.add_path_send, v6_only);
    assert!(!n.four_octet_as);

    // Receive against Receive: nothing either way.
    let remote_items = [(v4, AddPathMode::Receive)];
    let remote = [Capability::AddPath(AddPaths::List(&remote_items))];
    let n = negotiate(&open_with(&local), &open_with(&remote));
    assert!(n.add_path_receive.is_empty());
    assert!(!n.add_path_send.contains(v4));
}

/// RFC 6793 §4 and RFC 8654 §3: each needs both sides.
#[test]
fn negotiate_four_octet_as_and_extended_message() {
    let both = [Capability::FourOctetAs(65001), Capability::ExtendedMessage];
    let only_as = [Capability::FourOctetAs(65002)];
    let n = negotiate(&open_with(&both), &open_with(&both));
    assert!(n.four_octet_as && n.extended_message);
    let n = negotiate(&open_with(&both), &open_with(&only_as));
    assert!(n.four_octet_as && !n.extended_message);
    let n = negotiate(&open_with(&[]), &open_with(&both));
    assert!(!n.four_octet_as && !n.extended_message);
}

/// The families of every Multiprotocol capability, in order.
#[test]
fn multiprotocol_families() {
    let caps = [
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::RouteRefresh,
        Capability::Multiprotocol(Family::IPV6_UNICAST),
    ];
    let caps = Capabilities::List(&caps);
    assert!(
        caps.multiprotocol()
            .eq([Family::IPV4_UNICAST, Family::IPV6_UNICAST])
    );
    assert!(caps.contains(code::ROUTE_REFRESH));
    assert!(!caps.contains(code::ADD_PATH));
}
