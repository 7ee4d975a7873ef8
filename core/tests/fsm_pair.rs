//! Two sessions in virtual time (RFC 4271 §8): establishment, collisions (§6.8),
//! the seed daemon's dead-connection scenario, hold timer expiry, passive mode,
//! DelayOpen and damping of peer oscillations.

mod pair;

use nexthop_core::session::{
    ConnectionCommand, ConnectionError, Damping, DownReason, Event, FsmEvent, State,
};
use nexthop_core::time::{Duration, Instant};
use nexthop_core::wire::Family;
use pair::{A, B, Pair, configs};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// A active, B passive, as in the seed log (the peer connects in).
fn active_passive() -> Pair {
    let (a, mut b) = configs();
    b.passive_tcp_establishment = true;
    Pair::new(a, b)
}

fn establish(p: &mut Pair) {
    p.start(B);
    p.start(A);
    p.run_until_pred(secs(10), |p| p.established());
}

#[test]
fn normal_establishment() {
    let mut p = active_passive();
    let t0 = p.now;
    establish(&mut p);
    // In-memory pipes: everything happens at the start instant.
    assert_eq!(p.now, t0);
    let states: Vec<_> = p
        .a()
        .session
        .log()
        .transitions
        .iter()
        .map(|(_, t)| t.to)
        .collect();
    assert_eq!(
        states,
        [
            State::Connect,
            State::OpenSent,
            State::OpenConfirm,
            State::Established
        ]
    );
    let states: Vec<_> = p
        .b()
        .session
        .log()
        .transitions
        .iter()
        .map(|(_, t)| t.to)
        .collect();
    assert_eq!(
        states,
        [
            State::Active,
            State::OpenSent,
            State::OpenConfirm,
            State::Established
        ]
    );
    let info = p.a().session.session_info().copied().unwrap();
    assert_eq!(info.peer_asn, 65002);
    assert_eq!(info.peer_id, 2);
    assert_eq!(info.hold_time, 6);
    assert_eq!(info.keepalive_time, secs(2));
    assert!(info.families.contains(Family::IPV4_UNICAST));
    assert!(info.route_refresh);
    assert!(info.negotiated.four_octet_as);
    assert_eq!(p.a().established_count(), 1);
    // Keepalives flow every 2 s and the session stays up.
    p.run_for(secs(30));
    assert!(p.established());
    let keepalives = p.a().sent.iter().filter(|s| s.message_type() == 4).count();
    assert!((15..=17).contains(&keepalives), "{keepalives}");
    assert!(p.a().sent_on_dead.is_empty() && p.b().sent_on_dead.is_empty());
}

/// RFC 4271 §6.8: both connect at once; each closes one of the two with Cease
/// 6/7 and both are Established on the other. A's BGP Identifier (1) is the lower,
/// so the connection A initiated is the one closed, under either option.
#[test]
fn simultaneous_connect_under_each_collision_option() {
    for deterministic in [false, true] {
        let (mut a, mut b) = configs();
        a.deterministic_collision_resolution = deterministic;
        b.deterministic_collision_resolution = deterministic;
        let mut p = Pair::new(a, b);
        p.start_both();
        p.run_until_pred(secs(10), |p| p.established());
        assert_eq!(p.links.len(), 2, "both connected");
        let link = p.established_link().unwrap();
        let a_conn = p.links[link].ends[A];
        let b_conn = p.links[link].ends[B];
        assert_eq!(p.b().session.established_connection(), Some(b_conn));
        // The surviving connection is the one B initiated.
        assert!(
            p.b()
                .commands
                .iter()
                .any(|(_, c)| *c == ConnectionCommand::Connect(b_conn))
        );
        for side in [A, B] {
            assert_eq!(
                p.sides[side]
                    .notifications()
                    .iter()
                    .map(|n| n.1)
                    .collect::<Vec<_>>(),
                [(6, 7)],
                "side {side}, deterministic {deterministic}"
            );
            assert_eq!(p.sides[side].established_count(), 1);
            assert_eq!(p.sides[side].session.connections().count(), 1);
        }
        let _ = a_conn;
        p.run_for(secs(20));
        assert!(p.established());
    }
}

/// A peer restarts and connects again while we are still Established on its
/// old connection. Without CollisionDetectEstablishedState the new connection
/// is closed (6/7); with it, BGP Identifiers decide: A (1) is lower, so A closes
/// the connection it initiated, the Established one, and moves to the new one.
#[test]
fn collision_with_established_connection() {
    for deterministic in [false, true] {
        let (mut a, b) = configs();
        a.deterministic_collision_resolution = deterministic;
        let mut pb = b;
        pb.passive_tcp_establishment = true;
        let mut p = Pair::new(a, pb);
        establish(&mut p);
        let old = p.a().session.established_connection().unwrap();
        p.run_for(secs(1));
        p.restart_side(B, b);
        p.start(B);
        p.drive();
        let a_notes = p.a().notifications();
        assert_eq!(a_notes.iter().map(|n| n.1).collect::<Vec<_>>(), [(6, 7)]);
        let closed = p
            .a()
            .sent
            .iter()
            .find(|s| s.notification().is_some())
            .unwrap()
            .conn;
        if deterministic {
            assert_eq!(closed, old, "the Established connection loses");
            assert!(p.a().events.iter().any(|(_, e)| matches!(
                e,
                Event::Down {
                    was_established: true,
                    ..
                }
            )));
            assert!(p.established());
            assert_ne!(p.a().session.established_connection(), Some(old));
        } else {
            assert_ne!(closed, old, "the new connection loses");
            assert_eq!(p.a().session.established_connection(), Some(old));
            assert_eq!(p.b().state(), State::Idle);
        }
    }
}

/// The seed log's defect, reversed: Established, the peer closes TCP; the local
/// session is Idle at that same instant, sends nothing more on the connection,
/// reconnects after ConnectRetryTime and is Established again.
#[test]
fn seed_scenario_peer_closes_tcp() {
    let mut p = active_passive();
    establish(&mut p);
    p.run_for(Duration::from_millis(1098)); // entry 35 came 1.098 s after Established
    let link = p.established_link().unwrap();
    let dead = p.links[link].ends[A];
    let t = p.now;
    p.kill_link(link, B);
    // Same instant, before anything else runs.
    assert_eq!(p.a().state(), State::Idle);
    assert!(!p.a().session.has_connection(dead));
    p.drive();
    assert_eq!(p.now, t);
    let down: Vec<_> = p
        .a()
        .events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Down { .. }))
        .collect();
    assert_eq!(
        down,
        [&(
            t,
            Event::Down {
                reason: DownReason::Connection(ConnectionError::PeerClosed),
                was_established: true
            }
        )]
    );
    let last = p.a().session.log().transitions.last().unwrap();
    assert_eq!(
        (last.0, last.1.fsm_state, last.1.to),
        (t, State::Established, State::Idle)
    );
    assert_eq!(last.1.connection_id, Some(dead));
    assert_eq!(p.a().session.poll_timeout(), Some(t + secs(1)));
    p.run_until_pred(secs(10), |p| p.established());
    assert_eq!(*p.a().connects().last().unwrap(), t + secs(1));
    assert_eq!(p.now, t + secs(1));
    // Nothing was ever written on the dead connection after it died, nor any
    // NOTIFICATION at all, nor anything on a connection known closed.
    assert!(p.a().sent.iter().all(|s| s.conn != dead || s.at < t));
    assert!(p.a().notifications().is_empty());
    assert!(p.a().sent_on_dead.is_empty());
    assert_eq!(p.a().established_count(), 2);
}

/// The peer goes silent: the hold timer expires, NOTIFICATION 4/0 is sent
/// exactly once, then Idle; the connection is closed after the NOTIFICATION.
#[test]
fn hold_timer_expires_when_peer_goes_silent() {
    let mut p = active_passive();
    establish(&mut p);
    p.run_for(Duration::from_millis(4500));
    p.frozen[B] = true;
    let last_rx = p
        .a()
        .session
        .log()
        .events
        .iter()
        .filter(|(_, e)| e.event == FsmEvent::KeepAliveMsg)
        .map(|(t, _)| *t)
        .max()
        .unwrap();
    p.run_for(secs(30));
    let notes = p.a().notifications();
    assert_eq!(notes, [(last_rx + secs(6), (4, 0))]);
    let idle_at = p
        .a()
        .session
        .log()
        .transitions
        .iter()
        .find(|(_, t)| t.to == State::Idle)
        .unwrap()
        .0;
    assert_eq!(idle_at, last_rx + secs(6));
    let note = p
        .a()
        .sent
        .iter()
        .find(|s| s.notification().is_some())
        .unwrap();
    // The NOTIFICATION is the last message on that connection, then it is closed.
    assert!(
        p.a()
            .sent
            .iter()
            .all(|s| s.conn != note.conn || s.at <= note.at)
    );
    assert!(
        p.a()
            .commands
            .iter()
            .any(|(t, c)| *t == note.at && *c == ConnectionCommand::Close(note.conn))
    );
    assert!(p.a().events.iter().any(|(_, e)| *e
        == Event::Down {
            reason: DownReason::HoldTimerExpired,
            was_established: true
        }));
}

/// PassiveTcpEstablishment: the passive side waits in Active and never dials.
#[test]
fn passive_mode_waits_for_the_peer() {
    let mut p = active_passive();
    p.start(B);
    assert_eq!(p.b().state(), State::Active);
    p.run_for(secs(600));
    assert_eq!(p.b().state(), State::Active);
    assert!(p.b().connects().is_empty());
    assert_eq!(p.b().session.poll_timeout(), None);
    p.start(A);
    p.run_until_pred(secs(10), |p| p.established());
    assert!(p.b().connects().is_empty());
}

/// DelayOpen (RFC 4271 §8.1.1): A waits for B's OPEN before sending its own, and
/// goes from Active straight to OpenConfirm; with both delaying, the first
/// DelayOpenTimer to expire sends the first OPEN.
#[test]
fn delay_open() {
    let (mut a, b) = configs();
    a.delay_open_time = secs(5);
    a.passive_tcp_establishment = true;
    let mut p = Pair::new(a, b);
    p.start(A);
    let t = p.now;
    p.start(B);
    p.run_until_pred(secs(10), |p| p.established());
    assert_eq!(p.now, t);
    let states: Vec<_> = p
        .a()
        .session
        .log()
        .transitions
        .iter()
        .map(|(_, t)| t.to)
        .collect();
    assert_eq!(
        states,
        [State::Active, State::OpenConfirm, State::Established]
    );
    assert!(
        p.a()
            .session
            .log()
            .events
            .iter()
            .any(|(_, e)| e.event == FsmEvent::BgpOpenWithDelayOpenTimerRunning)
    );
    // B's OPEN came first on the wire.
    assert_eq!(p.a().sent[0].message_type(), 1);

    let (mut a, mut b) = configs();
    a.delay_open_time = secs(5);
    b.delay_open_time = secs(3);
    b.passive_tcp_establishment = true;
    let mut p = Pair::new(a, b);
    p.start(B);
    let t = p.now;
    p.start(A);
    assert_eq!(p.a().state(), State::Connect);
    assert!(
        p.a()
            .session
            .timer(nexthop_core::session::Timer::DelayOpen)
            .is_some()
    );
    p.run_until_pred(secs(10), |p| p.established());
    assert_eq!(p.now, t + secs(3));
    assert_eq!(p.b().sent[0].at, t + secs(3));
    assert_eq!(p.a().sent[0].at, t + secs(3));
}

/// DampPeerOscillations: each flap doubles the wait before reconnecting, and a
/// session that stays Established for the stable time starts over.
#[test]
fn damping_backoff_grows_then_resets() {
    let (mut a, mut b) = configs();
    a.damp_peer_oscillations = Some(Damping {
        max_idle_hold_time: secs(60),
        stable_time: secs(60),
    });
    b.passive_tcp_establishment = true;
    let mut p = Pair::new(a, b);
    establish(&mut p);
    let mut waits = Vec::new();
    for _ in 0..4 {
        let link = p.established_link().unwrap();
        let t = p.now;
        p.kill_link(link, B);
        p.run_until_pred(secs(300), |p| p.established());
        waits.push((*p.a().connects().last().unwrap() - t).total_secs());
    }
    assert_eq!(waits, [1, 2, 4, 8]);
    // Stable for a minute: the next flap waits the base time again.
    p.run_for(secs(61));
    let link = p.established_link().unwrap();
    let t = p.now;
    p.kill_link(link, B);
    p.run_until_pred(secs(300), |p| p.established());
    assert_eq!(*p.a().connects().last().unwrap() - t, secs(1));
}

/// A peer that cannot be reached: each failed attempt waits longer, up to the
/// maximum, when damping is on; without it, every ConnectRetryTime.
#[test]
fn unreachable_peer_retries() {
    for damping in [false, true] {
        let (mut a, b) = configs();
        if damping {
            a.damp_peer_oscillations = Some(Damping {
                max_idle_hold_time: secs(8),
                stable_time: secs(60),
            });
        }
        let mut p = Pair::new(a, b);
        p.reachable = false;
        let t0 = p.now;
        p.start(A);
        p.run_for(secs(40));
        let gaps: Vec<u64> = p
            .a()
            .connects()
            .windows(2)
            .map(|w| (w[1] - w[0]).total_secs())
            .collect();
        assert_eq!(p.a().connects()[0], t0);
        if damping {
            assert_eq!(&gaps[..5], [1, 2, 4, 8, 8]);
        } else {
            assert!(gaps.iter().all(|g| *g == 1), "{gaps:?}");
        }
        assert_eq!(p.a().state(), State::Idle);
        let _ = Instant::ZERO;
    }
}

fn message(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    m.push(ty);
    m.extend_from_slice(body);
    m
}

/// ManualStop with a shutdown communication (RFC 9003): Cease 6/2 carrying the
/// text, the peer reports it, and neither restarts on its own... except the
/// peer, whose stop was not manual: it waits in Active for a new connection.
#[test]
fn manual_stop_with_shutdown_communication() {
    use nexthop_core::wire::notification::Notification;
    let mut p = active_passive();
    establish(&mut p);
    p.with_session(A, |s, now| {
        s.handle_manual_stop(now, 2, "maintenance until 06:00")
    });
    assert_eq!(p.a().state(), State::Idle);
    let sent = p.a().sent.last().unwrap();
    let n = Notification::parse(&sent.bytes).unwrap();
    assert_eq!(n.shutdown_communication(), Some("maintenance until 06:00"));
    let (_, down) = p
        .b()
        .events
        .iter()
        .rev()
        .find(|(_, e)| matches!(e, Event::Down { .. }))
        .unwrap();
    assert!(matches!(
        down,
        Event::Down { reason: DownReason::NotificationReceived(code), was_established: true }
            if u8::from(code.code) == 6 && code.subcode == 2
    ));
    p.run_for(secs(600));
    assert_eq!(p.a().state(), State::Idle);
    assert_eq!(p.a().connects().len(), 1);
    assert_eq!(p.a().session.poll_timeout(), None);
    assert_eq!(p.b().state(), State::Active);
}

/// The router's prefix limit (RFC 4486): Cease 6/1 with AFI, SAFI and the limit,
/// then Idle and a restart after the idle hold time.
#[test]
fn max_prefix_is_an_automatic_stop() {
    let mut p = active_passive();
    establish(&mut p);
    let t = p.now;
    p.with_session(A, |s, now| {
        s.handle_max_prefix_exceeded(now, Family::IPV4_UNICAST, 1000)
    });
    let sent = p.a().sent.last().unwrap();
    assert_eq!(&sent.bytes[18..], &[3, 6, 1, 0, 1, 1, 0, 0, 0x03, 0xe8]);
    assert_eq!(p.a().state(), State::Idle);
    p.run_until_pred(secs(10), |p| p.established());
    assert_eq!(*p.a().connects().last().unwrap(), t + secs(1));
}

/// UPDATEs reach the router as borrowed views and restart the hold timer; a
/// ROUTE-REFRESH becomes an event; an UPDATE the router finds malformed ends
/// the session with the NOTIFICATION it calls for.
#[test]
fn updates_route_refresh_and_update_errors() {
    use nexthop_core::wire::codes::ErrorCode;
    use nexthop_core::wire::error::{DecodeError, ErrorData, ErrorKind};
    let mut p = active_passive();
    establish(&mut p);
    let update = message(2, &[0, 0, 0, 0]);
    p.run_for(secs(1));
    p.write_established(B, &update);
    assert_eq!(p.a().updates.len(), 1);
    assert_eq!(p.a().updates[0].1, update);
    let conn = p.a().session.established_connection().unwrap();
    assert_eq!(
        p.a()
            .session
            .connection_timer(conn, nexthop_core::session::Timer::Hold),
        Some(p.now + secs(6))
    );
    p.write_established(B, &message(5, &[0, 2, 0, 1]));
    assert!(p.a().events.iter().any(|(_, e)| matches!(
        e,
        Event::RouteRefreshRequested { family, .. } if *family == Family::IPV6_UNICAST
    )));
    let e = DecodeError::reset(
        ErrorKind::MalformedAttributeList,
        19,
        ErrorCode::UpdateMessage,
        1,
        ErrorData::Empty,
    );
    let u = p.a().updates[0].1.clone();
    p.with_session(A, |s, now| s.handle_update_error(now, &e, &u));
    assert_eq!(p.a().notifications().last().unwrap().1, (3, 1));
    assert_eq!(p.a().state(), State::Idle);
    assert_eq!(p.b().state(), State::Idle);
}

/// The log hook's transcript of an establishment, with the seed's fields: each
/// FSM event with the state it arrived in, the connection and its direction.
#[test]
fn log_hook_transcript() {
    use nexthop_core::session::Direction;
    let mut p = active_passive();
    establish(&mut p);
    let conn = p.a().session.established_connection();
    let a: Vec<_> = p
        .a()
        .session
        .log()
        .events
        .iter()
        .map(|(_, r)| {
            assert_eq!(r.neighbor.to_string(), "10.0.0.2");
            (
                r.fsm_state.to_string(),
                r.event.name(),
                r.connection_id,
                r.direction,
            )
        })
        .collect();
    let out = Some(Direction::Outbound);
    assert_eq!(
        a,
        [
            ("Idle".into(), "ManualStart", None, None),
            ("Connect".into(), "Tcp_CR_Acked", conn, out),
            ("OpenSent".into(), "BGPOpen", conn, out),
            ("OpenConfirm".into(), "KeepAliveMsg", conn, out),
        ]
    );
    let b: Vec<_> = p
        .b()
        .session
        .log()
        .transitions
        .iter()
        .map(|(_, r)| format!("{} -> {} {:?}", r.fsm_state, r.to, r.direction))
        .collect();
    assert_eq!(
        b,
        [
            "Idle -> Active None",
            "Active -> OpenSent Some(Inbound)",
            "OpenSent -> OpenConfirm Some(Inbound)",
            "OpenConfirm -> Established Some(Inbound)",
        ]
    );
}
