//! Byte-exact messages from the seed session log (`tests/data/session-log.txt`, a
//! copy of the project's `shared/seed/session-log.txt` kept with the test so that
//! it always runs):
//! a session between AS 4200000001 (BGP Identifier 0.0.0.1) and AS 4200000002
//! (0.0.0.2), both 4-octet speakers with hold time 6 that advertise IPv4
//! unicast, route refresh and ADD-PATH receive. The log prints byte lists in hex
//! without `0x`; they are transcribed here.

use nexthop_core::wire::capability::{AddPathMode, Capabilities, Capability, negotiate};
use nexthop_core::wire::codes::{ErrorCode, NotificationCode};
use nexthop_core::wire::keepalive::Keepalive;
use nexthop_core::wire::notification::Notification;
use nexthop_core::wire::open::{AS_TRANS, Open, my_as_field};
use nexthop_core::wire::{EncodeError, Family, FamilySet};

/// Entry 16, "sending open msg with header": the local OPEN.
const LOCAL_OPEN: [u8; 51] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x33, 0x01, 0x04, 0x5b, 0xa0, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x16, 0x02, 0x14, 0x01,
    0x04, 0x00, 0x01, 0x00, 0x01, 0x02, 0x00, 0x41, 0x04, 0xfa, 0x56, 0xea, 0x01, 0x45, 0x04, 0x00,
    0x01, 0x01, 0x01,
];

/// Entry 19, "recv open msg": the log prints the peer's OPEN as values only
/// (`asn: 23456, hold_time: 6, id: 2`, the same capabilities with 4200000002);
/// its bytes are entry 16's with the identifier and 4-octet AS changed.
const PEER_OPEN: [u8; 51] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x33, 0x01, 0x04, 0x5b, 0xa0, 0x00, 0x06, 0x00, 0x00, 0x00, 0x02, 0x16, 0x02, 0x14, 0x01,
    0x04, 0x00, 0x01, 0x00, 0x01, 0x02, 0x00, 0x41, 0x04, 0xfa, 0x56, 0xea, 0x02, 0x45, 0x04, 0x00,
    0x01, 0x01, 0x01,
];

/// Entry 23, "sending keepalive msg with header".
const KEEPALIVE: [u8; 19] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x13, 0x04,
];

/// Entry 50, "sending notification msg with header": 4 (Hold Timer Expired) / 0.
const HOLD_TIMER_EXPIRED: [u8; 21] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x15, 0x03, 0x04, 0x00,
];

const ADD_PATH_IPV4_RECEIVE: [(Family, AddPathMode); 1] =
    [(Family::IPV4_UNICAST, AddPathMode::Receive)];

/// The capabilities entries 15 and 19 print, for AS `asn`, in their order.
fn capabilities(asn: u32) -> [Capability<'static>; 4] {
    [
        Capability::Multiprotocol(Family::IPV4_UNICAST),
        Capability::RouteRefresh,
        Capability::FourOctetAs(asn),
        Capability::AddPath(nexthop_core::wire::capability::AddPaths::List(
            &ADD_PATH_IPV4_RECEIVE,
        )),
    ]
}

fn open<'a>(asn: u32, id: u32, caps: &'a [Capability<'a>]) -> Open<'a> {
    Open {
        my_as: my_as_field(asn),
        hold_time: 6,
        bgp_identifier: id,
        capabilities: Capabilities::List(caps),
    }
}

/// Encodes into a 0xa5-filled buffer 8 bytes longer than needed and checks the
/// bytes, and that nothing past them was written.
fn assert_emits(emit: impl Fn(&mut [u8]) -> Result<usize, EncodeError>, expected: &[u8]) {
    let mut buf = vec![0xa5u8; expected.len() + 8];
    assert_eq!(emit(&mut buf), Ok(expected.len()));
    assert_eq!(&buf[..expected.len()], expected);
    assert!(buf[expected.len()..].iter().all(|&b| b == 0xa5));

    // One byte short: InsufficientSize, and the buffer stays as it was.
    let mut short = vec![0xa5u8; expected.len() - 1];
    assert_eq!(
        emit(&mut short),
        Err(EncodeError::InsufficientSize {
            required: expected.len()
        })
    );
    assert!(short.iter().all(|&b| b == 0xa5));
}

/// Entries 15-16: the OPEN for AS 4200000001 encodes to exactly the logged bytes.
#[test]
fn local_open_encodes_to_entry_16() {
    let caps = capabilities(4_200_000_001);
    let open = open(4_200_000_001, 1, &caps);
    assert_eq!(open.my_as, AS_TRANS);
    assert_eq!(open.buffer_len(), 51);
    assert_emits(|b| open.emit(b), &LOCAL_OPEN);
}

/// Entry 16 parses back to the values entry 15 prints.
#[test]
fn entry_16_parses_to_entry_15() {
    let open = Open::parse(&LOCAL_OPEN).unwrap();
    assert_eq!(open.my_as, 23456);
    assert_eq!(open.hold_time, 6);
    assert_eq!(open.bgp_identifier, 1);
    assert_eq!(open.asn(), 4_200_000_001);
    let parsed: Vec<Capability<'_>> = open.capabilities.iter().collect();
    assert_eq!(parsed, capabilities(4_200_000_001));
    assert_eq!(
        open.capabilities,
        Capabilities::List(&capabilities(4_200_000_001))
    );
    assert_eq!(
        open.to_string(),
        "OPEN version 4, My AS 23456, Hold Time 6, BGP Identifier 0.0.0.1, capabilities \
         [Multiprotocol Extensions ipv4-unicast, Route Refresh, 4-octet AS 4200000001, \
         ADD-PATH [ipv4-unicast receive]]"
    );
}

/// Entry 19: the peer's OPEN, both ways.
#[test]
fn peer_open_of_entry_19() {
    let caps = capabilities(4_200_000_002);
    let expected = open(4_200_000_002, 2, &caps);
    assert_emits(|b| expected.emit(b), &PEER_OPEN);
    let parsed = Open::parse(&PEER_OPEN).unwrap();
    assert_eq!(parsed, expected);
    assert_eq!(parsed.asn(), 4_200_000_002);
    assert_eq!(parsed.bgp_identifier, 2);
}

/// Both sides advertised 4-octet AS and ADD-PATH receive only: 4-octet AS paths,
/// no extended messages, and no ADD-PATH in either direction, since neither
/// side offered to send.
#[test]
fn the_session_negotiates_four_octet_as_and_no_add_path() {
    let local = Open::parse(&LOCAL_OPEN).unwrap();
    let peer = Open::parse(&PEER_OPEN).unwrap();
    let n = negotiate(&local, &peer);
    assert!(n.four_octet_as);
    assert!(!n.extended_message);
    assert_eq!(n.add_path_receive, FamilySet::EMPTY);
    assert_eq!(n.add_path_send, FamilySet::EMPTY);
}

/// Entry 23: the KEEPALIVE.
#[test]
fn keepalive_of_entry_23() {
    assert_emits(|b| Keepalive.emit(b), &KEEPALIVE);
}

/// Entries 48-50: NOTIFICATION 4 (Hold Timer Expired) / 0, no data.
#[test]
fn hold_timer_expired_of_entry_50() {
    let n = Notification {
        code: NotificationCode::HOLD_TIMER_EXPIRED,
        data: &[],
    };
    assert_emits(|b| n.emit(b), &HOLD_TIMER_EXPIRED);
    let parsed = Notification::parse(&HOLD_TIMER_EXPIRED).unwrap();
    assert_eq!(parsed, n);
    assert_eq!(parsed.code.code, ErrorCode::HoldTimerExpired);
    assert_eq!(parsed.code.subcode, 0);
    assert_eq!(parsed.data, &[] as &[u8]);
    assert_eq!(parsed.to_string(), "4 (Hold Timer Expired) / 0");
}

/// The seed session log, compiled into the test: it cannot be missing.
const SEED_LOG: &str = include_str!("data/session-log.txt");

/// The transcriptions above match the log.
#[test]
fn transcriptions_match_the_log() {
    let log = SEED_LOG;
    let entry = |n: u32| -> Vec<u8> {
        let start = log.find(&format!("\n| {n} |")).expect("entry in log");
        let rest = &log[start + 1..];
        let end = rest[1..].find("\n| ").map_or(rest.len(), |e| e + 1);
        let line = rest[..end]
            .lines()
            .find_map(|l| l.strip_prefix("message_contents = ["))
            .expect("byte list");
        line.trim_end_matches(']')
            .split(", ")
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    };
    assert_eq!(entry(16), LOCAL_OPEN);
    assert_eq!(entry(23), KEEPALIVE);
    assert_eq!(entry(50), HOLD_TIMER_EXPIRED);
}
