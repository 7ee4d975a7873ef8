//! Asking the peer for its routes again (RFC 2918 §3, §4): the session's
//! `request_route_refresh` mutator queues a ROUTE-REFRESH that goes out through
//! `poll_transmit`, only on an Established session with the capability and the
//! family negotiated.

mod pair;

use nexthop_core::session::{
    ConnectionCommand, Event, RouteRefreshError, Session, State, TRANSMIT_BUFFER_LEN, emit_open,
};
use nexthop_core::time::{Duration, Instant};
use nexthop_core::wire::Family;
use nexthop_core::wire::header::MessageType;
use nexthop_core::wire::route_refresh::RouteRefreshSubtype;
use pair::{A, B, Pair, configs};

/// A active, B passive; `edit` changes B's config first.
fn pair_with(edit: impl FnOnce(&mut nexthop_core::session::SessionConfig)) -> Pair {
    let (a, mut b) = configs();
    b.passive_tcp_establishment = true;
    edit(&mut b);
    Pair::new(a, b)
}

fn establish(p: &mut Pair) {
    p.start(B);
    p.start(A);
    p.run_until_pred(Duration::from_secs(10), |p| p.established());
}

/// RFC 2918 §3: AFI 1, Reserved (subtype 0, RFC 7313 §3.2), SAFI 1.
const IPV4_REQUEST: [u8; 23] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0, 23, 5, 0, 1, 0, 1,
];

#[test]
fn a_request_is_written_by_poll_transmit_and_nothing_else_is_touched() {
    let mut p = pair_with(|_| {});
    establish(&mut p);
    p.with_session(A, |s, now| {
        assert_eq!(s.request_route_refresh(Family::IPV4_UNICAST), Ok(()));
        let mut buf = [0xa5u8; TRANSMIT_BUFFER_LEN];
        let t = s.poll_transmit(now, &mut buf).expect("a ROUTE-REFRESH");
        assert_eq!(t.message_type, MessageType::RouteRefresh);
        assert_eq!(Some(t.connection), s.established_connection());
        assert_eq!(&buf[..t.len], &IPV4_REQUEST[..]);
        assert!(buf[t.len..].iter().all(|&b| b == 0xa5));
        // Sent once.
        assert_eq!(s.poll_transmit(now, &mut buf), None);
    });
}

#[test]
fn the_peer_receives_the_request_as_a_route_refresh_event() {
    // B advertises IPv4 and IPv6 unicast, A IPv4 only: only IPv4 is negotiated.
    let mut p = pair_with(|b| {
        b.capabilities.families.insert(Family::IPV6_UNICAST);
    });
    establish(&mut p);
    let sent_before = p.a().sent.len();
    p.with_session(A, |s, _| {
        // The same family twice before it is written: one message.
        assert_eq!(s.request_route_refresh(Family::IPV4_UNICAST), Ok(()));
        assert_eq!(s.request_route_refresh(Family::IPV4_UNICAST), Ok(()));
    });
    let sent: Vec<_> = p.a().sent[sent_before..].to_vec();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].bytes, IPV4_REQUEST);
    let requests: Vec<_> = p
        .b()
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::RouteRefreshRequested { family, subtype } => Some((*family, *subtype)),
            _ => None,
        })
        .collect();
    assert_eq!(
        requests,
        vec![(Family::IPV4_UNICAST, RouteRefreshSubtype::Normal)]
    );
    assert_eq!(p.a().state(), State::Established);
    assert_eq!(p.b().state(), State::Established);
    p.with_session(A, |s, _| {
        assert_eq!(
            s.request_route_refresh(Family::IPV6_UNICAST),
            Err(RouteRefreshError::FamilyNotNegotiated(Family::IPV6_UNICAST))
        );
    });
    assert_eq!(p.a().sent.len(), sent_before + 1);
}

/// Refused, and nothing written, in every state before Established.
fn assert_refused_in(s: &mut Session, want: State) {
    assert_eq!(s.state(), want);
    assert_eq!(
        s.request_route_refresh(Family::IPV4_UNICAST),
        Err(RouteRefreshError::NotEstablished),
        "in {want}"
    );
    let mut buf = [0u8; TRANSMIT_BUFFER_LEN];
    while let Some(t) = s.poll_transmit(Instant::ZERO, &mut buf) {
        assert_ne!(t.message_type, MessageType::RouteRefresh, "in {want}");
    }
}

#[test]
fn refused_before_established() {
    let (a, b) = configs();
    let mut s = Session::new(a);
    let now = Instant::from_secs(1);
    assert_refused_in(&mut s, State::Idle);
    s.handle_manual_start(now);
    let Some(ConnectionCommand::Connect(id)) = s.poll_connection_command() else {
        panic!("a Connect");
    };
    assert_refused_in(&mut s, State::Connect);
    s.handle_connected(now, id);
    assert_refused_in(&mut s, State::OpenSent);
    let mut open = [0u8; TRANSMIT_BUFFER_LEN];
    let n = emit_open(&b, &mut open).unwrap();
    assert_eq!(s.handle_read(now, id, &open[..n]).consumed, n);
    assert_refused_in(&mut s, State::OpenConfirm);
    let keepalive = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0, 19, 4,
    ];
    assert_eq!(s.handle_read(now, id, &keepalive).consumed, 19);
    assert_eq!(s.state(), State::Established);
    assert_eq!(s.request_route_refresh(Family::IPV4_UNICAST), Ok(()));
}

#[test]
fn refused_when_the_peer_did_not_advertise_the_capability() {
    let mut p = pair_with(|b| b.capabilities.route_refresh = false);
    establish(&mut p);
    let sent = p.a().sent.len();
    p.with_session(A, |s, now| {
        assert_eq!(
            s.request_route_refresh(Family::IPV4_UNICAST),
            Err(RouteRefreshError::NotAdvertised)
        );
        let mut buf = [0u8; TRANSMIT_BUFFER_LEN];
        assert_eq!(s.poll_transmit(now, &mut buf), None);
    });
    assert_eq!(p.a().sent.len(), sent);
}

#[test]
fn a_notification_drops_a_request_not_yet_written() {
    let mut p = pair_with(|_| {});
    establish(&mut p);
    let sent = p.a().sent.len();
    p.with_session(A, |s, now| {
        assert_eq!(s.request_route_refresh(Family::IPV4_UNICAST), Ok(()));
        s.handle_manual_stop(now, 2, "");
    });
    let after: Vec<_> = p.a().sent[sent..]
        .iter()
        .map(|m| m.message_type())
        .collect();
    assert_eq!(after, vec![3], "only the Cease");
}

#[test]
fn errors_say_why() {
    assert_eq!(
        RouteRefreshError::NotEstablished.to_string(),
        "session not Established"
    );
    assert_eq!(
        RouteRefreshError::FamilyNotNegotiated(Family::IPV6_UNICAST).to_string(),
        "family ipv6-unicast not negotiated"
    );
}
