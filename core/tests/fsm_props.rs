//! Random inputs never panic a session and keep its invariants: at most one
//! connection Established; in Established the KeepaliveTimer runs exactly when
//! the negotiated hold time is non-zero; nothing (no message, no command) is ever
//! produced for a connection the runtime reported closed or the session closed.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

use nexthop_core::session::{
    ConnectionCommand, ConnectionError, ConnectionId, Damping, Session, SessionConfig, State,
    Timer, emit_open,
};
use nexthop_core::time::{Duration, Instant};
use nexthop_core::wire::Family;
use nexthop_core::wire::codes::ErrorCode;
use nexthop_core::wire::error::{DecodeError, ErrorData, ErrorKind};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Input {
    ManualStart,
    ManualStop(u8),
    AutomaticStart,
    AutomaticStop,
    MaxPrefix,
    Advance(u64),
    Connected(usize),
    Accepted,
    Failed(usize, u8),
    Read(usize, Wire),
    /// A valid OPEN and a KEEPALIVE in one read: the common path to Established.
    Handshake(usize, u16, u32),
    UpdateError,
}

#[derive(Clone, Debug)]
enum Wire {
    Open { hold: u16, id: u32, asn: u32 },
    Keepalive,
    Notification(u8, u8),
    Update,
    RouteRefresh,
    Bytes(Vec<u8>),
}

fn wire() -> impl Strategy<Value = Wire> {
    prop_oneof![
        3 => (prop::sample::select(vec![0u16, 1, 3, 6, 90]), prop::sample::select(vec![0u32, 1, 2, 3]), prop::sample::select(vec![65001u32, 65002, 4_200_000_000]))
            .prop_map(|(hold, id, asn)| Wire::Open { hold, id, asn }),
        4 => Just(Wire::Keepalive),
        1 => (1u8..8, 0u8..10).prop_map(|(c, s)| Wire::Notification(c, s)),
        2 => Just(Wire::Update),
        1 => Just(Wire::RouteRefresh),
        1 => prop::collection::vec(any::<u8>(), 0..40).prop_map(Wire::Bytes),
    ]
}

fn input() -> impl Strategy<Value = Input> {
    prop_oneof![
        2 => Just(Input::ManualStart),
        1 => (2u8..5).prop_map(Input::ManualStop),
        2 => Just(Input::AutomaticStart),
        1 => Just(Input::AutomaticStop),
        1 => Just(Input::MaxPrefix),
        4 => (0u64..8000).prop_map(Input::Advance),
        3 => (0usize..4).prop_map(Input::Connected),
        3 => Just(Input::Accepted),
        2 => (0usize..4, 0u8..4).prop_map(|(i, e)| Input::Failed(i, e)),
        8 => (0usize..4, wire()).prop_map(|(i, w)| Input::Read(i, w)),
        5 => (0usize..4, prop::sample::select(vec![0u16, 3, 9, 240]), prop::sample::select(vec![1u32, 3]))
            .prop_map(|(i, h, id)| Input::Handshake(i, h, id)),
        1 => Just(Input::UpdateError),
    ]
}

fn encode(w: &Wire) -> Vec<u8> {
    let msg = |ty: u8, body: &[u8]| {
        let mut m = vec![0xff; 16];
        m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
        m.push(ty);
        m.extend_from_slice(body);
        m
    };
    match w {
        Wire::Open { hold, id, asn } => {
            let mut c = SessionConfig::new(IpAddr::V4(Ipv4Addr::LOCALHOST), *asn, *id);
            c.hold_time = *hold;
            let mut buf = vec![0u8; 4096];
            let n = emit_open(&c, &mut buf).unwrap();
            buf.truncate(n);
            buf
        }
        Wire::Keepalive => msg(4, &[]),
        Wire::Notification(c, s) => msg(3, &[*c, *s]),
        Wire::Update => msg(2, &[0, 0, 0, 0]),
        Wire::RouteRefresh => msg(5, &[0, 1, 0, 1]),
        Wire::Bytes(b) => b.clone(),
    }
}

#[derive(Clone, Debug)]
struct Options {
    passive: bool,
    delay_open: bool,
    damping: bool,
    deterministic: bool,
    hold: u16,
}

fn options() -> impl Strategy<Value = Options> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec![0u16, 3, 6, 90]),
    )
        .prop_map(
            |(passive, delay_open, damping, deterministic, hold)| Options {
                passive,
                delay_open,
                damping,
                deterministic,
                hold,
            },
        )
}

/// The runtime's view: connections it knows, and those it knows are closed.
struct Runtime {
    now: Instant,
    known: Vec<ConnectionId>,
    closed: HashSet<ConnectionId>,
}

fn check(s: &mut Session, rt: &mut Runtime) -> Result<(), TestCaseError> {
    let mut buf = [0u8; 4096];
    while let Some(t) = s.poll_transmit(rt.now, &mut buf) {
        let conn = t.connection;
        prop_assert!(!rt.closed.contains(&conn), "message on closed {conn:?}");
        prop_assert!(t.len >= 19);
    }
    while let Some(cmd) = s.poll_connection_command() {
        match cmd {
            ConnectionCommand::Connect(id) => {
                prop_assert!(!rt.known.contains(&id), "id reused");
                rt.known.push(id);
            }
            ConnectionCommand::Close(id) => {
                prop_assert!(!rt.closed.contains(&id), "close of closed {id:?}");
                rt.closed.insert(id);
            }
        }
    }
    while s.poll_event().is_some() {}
    let established: Vec<_> = s
        .connections()
        .filter(|c| c.2 == State::Established)
        .collect();
    prop_assert!(established.len() <= 1);
    for (id, ..) in s.connections() {
        prop_assert!(!rt.closed.contains(&id), "closed {id:?} still tracked");
    }
    prop_assert_eq!(s.state() == State::Established, established.len() == 1);
    if let Some((id, ..)) = established.first() {
        let info = s.session_info().copied().unwrap();
        let keepalive = s.connection_timer(*id, Timer::Keepalive);
        prop_assert_eq!(keepalive.is_some(), info.hold_time != 0);
        prop_assert_eq!(
            s.connection_timer(*id, Timer::Hold).is_some(),
            info.hold_time != 0
        );
    }
    if let Some(t) = s.poll_timeout() {
        // Deadlines never lie in the past after handle_timeout ran at `now`
        // (they may equal `now` for a zero-length timer).
        let _ = t;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_inputs_keep_the_invariants(opts in options(), inputs in prop::collection::vec(input(), 1..80)) {
        let mut c = SessionConfig::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 65001, 2);
        c.passive_tcp_establishment = opts.passive;
        if opts.delay_open {
            c.delay_open_time = Duration::from_secs(2);
        }
        if opts.damping {
            c.damp_peer_oscillations = Some(Damping::default());
        }
        c.deterministic_collision_resolution = opts.deterministic;
        c.hold_time = opts.hold;
        c.connect_retry_jitter = Some(nexthop_core::session::Jitter::RFC4271);
        let mut s = Session::new(c);
        let mut rt = Runtime { now: Instant::from_secs(10), known: Vec::new(), closed: HashSet::new() };
        for input in inputs {
            let now = rt.now;
            let pick = |i: usize, rt: &Runtime| rt.known.get(i % rt.known.len().max(1)).copied();
            match input.clone() {
                Input::ManualStart => s.handle_manual_start(now),
                Input::ManualStop(sub) => s.handle_manual_stop(now, sub, "maintenance"),
                Input::AutomaticStart => s.handle_automatic_start(now),
                Input::AutomaticStop => s.handle_automatic_stop(now, 8),
                Input::MaxPrefix => s.handle_max_prefix_exceeded(now, Family::IPV4_UNICAST, 100),
                Input::Advance(ms) => {
                    rt.now = now + Duration::from_millis(ms);
                    s.handle_timeout(rt.now);
                }
                Input::Connected(i) => {
                    if let Some(id) = pick(i, &rt).filter(|id| !rt.closed.contains(id)) {
                        s.handle_connected(now, id);
                    }
                }
                Input::Accepted => {
                    if let Some(id) = s.handle_accepted(now) {
                        prop_assert!(!rt.known.contains(&id));
                        rt.known.push(id);
                    }
                }
                Input::Failed(i, e) => {
                    if let Some(id) = pick(i, &rt).filter(|id| !rt.closed.contains(id)) {
                        let e = [ConnectionError::PeerClosed, ConnectionError::Reset,
                                 ConnectionError::SendFailed, ConnectionError::ConnectFailed][usize::from(e)];
                        s.handle_connection_failed(now, id, e);
                        rt.closed.insert(id);
                        prop_assert!(!s.has_connection(id), "failed {id:?} still known");
                    }
                }
                Input::Read(..) | Input::Handshake(..) => {
                    let (i, bytes) = match &input {
                        Input::Read(i, w) => (*i, encode(w)),
                        Input::Handshake(i, hold, id) => {
                            let mut b = encode(&Wire::Open { hold: *hold, id: *id, asn: 65002 });
                            b.extend_from_slice(&encode(&Wire::Keepalive));
                            (*i, b)
                        }
                        _ => unreachable!(),
                    };
                    if let Some(id) = pick(i, &rt).filter(|id| !rt.closed.contains(id)) {
                        let mut at = 0;
                        for _ in 0..100 {
                            let r = s.handle_read(now, id, &bytes[at..]);
                            prop_assert!(r.consumed <= bytes.len() - at);
                            at += r.consumed;
                            check(&mut s, &mut rt)?;
                            if r.consumed == 0 || at == bytes.len() {
                                break;
                            }
                        }
                    }
                }
                Input::UpdateError => {
                    let e = DecodeError::reset(ErrorKind::MalformedAttributeList, 21,
                        ErrorCode::UpdateMessage, 1, ErrorData::span(19, 4));
                    s.handle_update_error(now, &e, &encode(&Wire::Update));
                }
            }
            check(&mut s, &mut rt)?;
            prop_assert_eq!(s.events_dropped(), 0);
        }
    }
}

fn handshake_bytes() -> Vec<u8> {
    let mut b = encode(&Wire::Open {
        hold: 9,
        id: 3,
        asn: 65002,
    });
    b.extend_from_slice(&encode(&Wire::Keepalive));
    b.extend_from_slice(&encode(&Wire::Update));
    b.extend_from_slice(&encode(&Wire::Keepalive));
    b
}

proptest! {
    /// The peer's bytes cut anywhere give the same session: handle_read
    /// consumes whole messages only and the caller keeps the rest.
    #[test]
    fn fragmented_input_gives_the_same_result(cuts in prop::collection::vec(0usize..60, 0..12)) {
        let stream = handshake_bytes();
        let mut s = Session::new(SessionConfig::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 65001, 2));
        let now = Instant::from_secs(1);
        s.handle_manual_start(now);
        let conn = match s.poll_connection_command() {
            Some(ConnectionCommand::Connect(id)) => id,
            other => panic!("{other:?}"),
        };
        s.handle_connected(now, conn);
        let mut pending: Vec<u8> = Vec::new();
        let mut fed = 0;
        let mut updates = 0;
        let mut points: Vec<usize> = cuts.iter().scan(0, |at, c| { *at += c; Some(*at) }).collect();
        points.push(stream.len());
        for p in points {
            let p = p.min(stream.len());
            if p <= fed {
                continue;
            }
            pending.extend_from_slice(&stream[fed..p]);
            fed = p;
            loop {
                let r = s.handle_read(now, conn, &pending);
                updates += usize::from(r.update.is_some());
                let consumed = r.consumed;
                pending.drain(..consumed);
                if consumed == 0 {
                    break;
                }
            }
        }
        prop_assert!(pending.is_empty());
        prop_assert_eq!(updates, 1);
        prop_assert_eq!(s.state(), State::Established);
        // The smaller of 9 and our 6.
        prop_assert_eq!(s.session_info().map(|i| i.hold_time), Some(6));
    }
}
