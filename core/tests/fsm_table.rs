//! RFC 4271 §8.2.2, state by state and event by event: for each of the 6 x 28
//! (state, event) pairs, a session is put in the state, given the event through
//! its public inputs, and checked for the resulting state, the timers armed and
//! the messages sent.
//!
//! How each event reaches a session (the session sees the runtime's view):
//! - 1-8: `handle_manual_start`, `handle_manual_stop`, `handle_automatic_start`,
//!   `handle_automatic_stop`; events 4-7 are the same calls on a session whose
//!   config sets PassiveTcpEstablishment and/or DampPeerOscillations.
//! - 9-13: `handle_timeout` at the timer's deadline; where the timer is not
//!   running, a spurious `handle_timeout(now)`, which must change nothing.
//! - 14, 17: `handle_accepted` (the runtime has validated the source; the session
//!   sees only confirmed connections). 15: the runtime refuses the connection
//!   itself, so no input reaches the session, except in Idle, where the session
//!   refuses (`handle_accepted` returns `None`). 16: `handle_connected` on the
//!   session's outbound attempt (on its existing connection where it has none).
//! - 18: `handle_connection_failed` on the session's connection.
//! - 19-22, 24-27: `handle_read` of an OPEN, a header error (bad marker), an OPEN
//!   with hold time 1, NOTIFICATION 2/1, NOTIFICATION 6/2, KEEPALIVE, UPDATE.
//!   Event 20 uses a session with DelayOpen running where the state allows it.
//! - 23: a second connection whose OPEN makes the first one lose the collision
//!   (our identifier 1 is lower than the peer's 2, so our outbound connection
//!   loses); it cannot occur before OpenConfirm (and in Established only with
//!   CollisionDetectEstablishedState), where no input is given.
//! - 28: `handle_update_error` (the router found a malformed UPDATE); only an
//!   Established session has one.

use std::net::{IpAddr, Ipv4Addr};

use nexthop_core::session::{
    ConnectionCommand, ConnectionError, ConnectionId, Damping, Session, SessionConfig, State,
    Timer, emit_open,
};
use nexthop_core::time::{Duration, Instant};
use nexthop_core::wire::codes::ErrorCode;
use nexthop_core::wire::error::{DecodeError, ErrorData, ErrorKind};
use nexthop_core::wire::header::{Header, MessageType};

const T0: Instant = Instant::from_secs(100);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Msg {
    Open,
    Keepalive,
    Notification(u8, u8),
}
use Msg::*;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    Plain,
    Passive,
    Damp,
    DampPassive,
    DelayOpen,
    Deterministic,
}

fn config(v: Variant) -> SessionConfig {
    let mut c = SessionConfig::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 65001, 1);
    c.remote_asn = Some(65002);
    match v {
        Variant::Passive => c.passive_tcp_establishment = true,
        Variant::Damp => c.damp_peer_oscillations = Some(Damping::default()),
        Variant::DampPassive => {
            c.damp_peer_oscillations = Some(Damping::default());
            c.passive_tcp_establishment = true;
        }
        Variant::DelayOpen => c.delay_open_time = Duration::from_secs(5),
        Variant::Deterministic => c.deterministic_collision_resolution = true,
        Variant::Plain => {}
    }
    c
}

/// The peer's OPEN: AS 65002, id 2, hold time `hold`.
fn peer_open(hold: u16) -> Vec<u8> {
    let mut c = SessionConfig::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 65002, 2);
    c.hold_time = hold;
    let mut buf = vec![0u8; 4096];
    let n = emit_open(&c, &mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn message(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    m.push(ty);
    m.extend_from_slice(body);
    m
}

struct Fixture {
    s: Session,
    now: Instant,
    /// The session's first connection, where it has one.
    conn: Option<ConnectionId>,
}

impl Fixture {
    /// Drains every output; returns the messages written.
    fn drain(&mut self) -> Vec<Msg> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Some(t) = self.s.poll_transmit(self.now, &mut buf) {
            assert_eq!(
                Header::new_checked(&buf[..t.len]).unwrap().message_type(),
                t.message_type
            );
            out.push(match t.message_type {
                MessageType::Open => Open,
                MessageType::Keepalive => Keepalive,
                MessageType::Notification => Notification(buf[19], buf[20]),
                other => panic!("unexpected message type {other:?} ({} bytes)", t.len),
            });
        }
        while let Some(c) = self.s.poll_connection_command() {
            if let (ConnectionCommand::Connect(id), None) = (c, self.conn) {
                self.conn = Some(id);
            }
        }
        while self.s.poll_event().is_some() {}
        out
    }

    fn read(&mut self, bytes: &[u8]) {
        let conn = self.conn.unwrap_or(ConnectionId(1));
        let _ = self.s.handle_read(self.now, conn, bytes);
    }

    /// Runs the timers up to `timer`'s deadline, then fires it; `false` when it
    /// is not running (then a spurious `handle_timeout(now)` is given instead).
    fn fire(&mut self, timer: Timer) -> bool {
        let Some(at) = self.s.timer(timer) else {
            self.s.handle_timeout(self.now);
            return false;
        };
        while let Some(next) = self.s.poll_timeout().filter(|t| *t < at) {
            self.now = next;
            self.s.handle_timeout(next);
            self.drain();
        }
        self.now = at;
        self.s.handle_timeout(at);
        true
    }

    fn timers(&self) -> Vec<Timer> {
        Timer::ALL
            .into_iter()
            .filter(|t| self.s.timer(*t).is_some())
            .collect()
    }
}

/// A session of variant `v` brought to `state` (outputs drained).
fn fixture(state: State, v: Variant) -> Fixture {
    let mut f = Fixture {
        s: Session::new(config(v)),
        now: T0,
        conn: None,
    };
    if state == State::Idle {
        return f;
    }
    if state == State::Active {
        // Active with a connection waiting on DelayOpen: passive, accepted.
        if v == Variant::DelayOpen {
            let mut c = config(v);
            c.passive_tcp_establishment = true;
            f.s = Session::new(c);
            f.s.handle_manual_start(f.now);
            f.conn = f.s.handle_accepted(f.now);
            f.drain();
            assert_eq!(
                f.s.timer(Timer::DelayOpen),
                Some(T0 + Duration::from_secs(5))
            );
            return f;
        }
        // Active with ConnectRetryTimer running: OpenSent, then TCP failed.
        f.s.handle_manual_start(f.now);
        f.drain();
        let c = f.conn.unwrap();
        f.s.handle_connected(f.now, c);
        f.drain();
        f.s.handle_connection_failed(f.now, c, ConnectionError::Reset);
        f.drain();
        f.conn = None;
        assert_eq!(f.s.state(), State::Active);
        return f;
    }
    f.s.handle_manual_start(f.now);
    f.drain();
    if state == State::Connect {
        if v == Variant::DelayOpen {
            let c = f.conn.unwrap();
            f.s.handle_connected(f.now, c);
            f.drain();
        }
        return f;
    }
    let c = f.conn.unwrap();
    f.s.handle_connected(f.now, c);
    f.drain();
    if state == State::OpenSent {
        return f;
    }
    f.read(&peer_open(6));
    f.drain();
    if state == State::OpenConfirm {
        return f;
    }
    f.read(&message(4, &[]));
    f.drain();
    assert_eq!(f.s.state(), State::Established);
    f
}

/// Applies RFC event `event` to a session in `state`; returns the result.
fn apply(state: State, event: u8) -> (State, Vec<Timer>, Vec<Msg>) {
    let variant = match event {
        4 | 5 if state == State::Idle => Variant::Passive,
        6 if state == State::Idle => Variant::Damp,
        7 if state == State::Idle => Variant::DampPassive,
        12 | 20 if matches!(state, State::Connect | State::Active) => Variant::DelayOpen,
        21 | 22 | 24..=27 if state == State::Active => Variant::DelayOpen,
        18 if state == State::Active => Variant::DelayOpen,
        23 if state == State::Established => Variant::Deterministic,
        _ => Variant::Plain,
    };
    let mut f = fixture(state, variant);
    if event == 13 && state == State::Idle {
        // Idle after a failed attempt, the IdleHoldTimer running.
        f.s.handle_manual_start(f.now);
        f.drain();
        f.s.handle_connection_failed(f.now, f.conn.unwrap(), ConnectionError::ConnectFailed);
        f.drain();
        assert!(f.s.timer(Timer::IdleHold).is_some());
    }
    let now = f.now;
    match event {
        1 | 4 => f.s.handle_manual_start(now),
        2 => f.s.handle_manual_stop(now, 2, ""),
        3 | 5 | 6 | 7 => f.s.handle_automatic_start(now),
        8 => f.s.handle_automatic_stop(now, 6),
        9 => {
            f.fire(Timer::ConnectRetry);
        }
        10 => {
            f.fire(Timer::Hold);
        }
        11 => {
            f.fire(Timer::Keepalive);
        }
        12 => {
            f.fire(Timer::DelayOpen);
        }
        13 => {
            f.fire(Timer::IdleHold);
        }
        14 | 17 => {
            let accepted = f.s.handle_accepted(now);
            assert_eq!(accepted.is_none(), state == State::Idle);
        }
        15 => {
            if state == State::Idle {
                assert_eq!(f.s.handle_accepted(now), None);
            }
        }
        16 => {
            let c = f.conn.unwrap_or(ConnectionId(1));
            f.s.handle_connected(now, c)
        }
        18 => {
            let c = f.conn.unwrap_or(ConnectionId(1));
            f.s.handle_connection_failed(now, c, ConnectionError::PeerClosed)
        }
        19 | 20 => f.read(&peer_open(6)),
        21 => {
            let mut m = message(4, &[]);
            m[0] = 0;
            f.read(&m)
        }
        22 => f.read(&peer_open(1)),
        23 => {
            if matches!(state, State::OpenConfirm | State::Established) {
                let second = f.s.handle_accepted(now).unwrap();
                f.drain();
                let _ = f.s.handle_read(now, second, &peer_open(6));
            }
        }
        24 => f.read(&message(3, &[2, 1, 0, 4])),
        25 => f.read(&message(3, &[6, 2])),
        26 => f.read(&message(4, &[])),
        27 => f.read(&message(2, &[0, 0, 0, 0])),
        28 => {
            let m = message(2, &[0, 0, 0, 1, 0xff]);
            let e = DecodeError::reset(
                ErrorKind::MalformedAttributeList,
                21,
                ErrorCode::UpdateMessage,
                1,
                ErrorData::Empty,
            );
            f.s.handle_update_error(now, &e, &m)
        }
        _ => unreachable!(),
    }
    let msgs = f.drain();
    (f.s.state(), f.timers(), msgs)
}

use State::*;
use Timer::{ConnectRetry as CR, DelayOpen as DO, Hold as H, IdleHold as IH, Keepalive as K};

type Row = (u8, State, &'static [Timer], &'static [Msg]);

const IDLE: &[Row] = &[
    (1, Connect, &[CR], &[]),
    (2, Idle, &[], &[]),
    (3, Connect, &[CR], &[]),
    (4, Active, &[], &[]),
    (5, Active, &[], &[]),
    (6, Connect, &[CR], &[]),
    (7, Active, &[], &[]),
    (8, Idle, &[], &[]),
    (9, Idle, &[], &[]),
    (10, Idle, &[], &[]),
    (11, Idle, &[], &[]),
    (12, Idle, &[], &[]),
    (13, Connect, &[CR], &[]),
    (14, Idle, &[], &[]),
    (15, Idle, &[], &[]),
    (16, Idle, &[], &[]),
    (17, Idle, &[], &[]),
    (18, Idle, &[], &[]),
    (19, Idle, &[], &[]),
    (20, Idle, &[], &[]),
    (21, Idle, &[], &[]),
    (22, Idle, &[], &[]),
    (23, Idle, &[], &[]),
    (24, Idle, &[], &[]),
    (25, Idle, &[], &[]),
    (26, Idle, &[], &[]),
    (27, Idle, &[], &[]),
    (28, Idle, &[], &[]),
];

const CONNECT: &[Row] = &[
    (1, Connect, &[CR], &[]),
    (2, Idle, &[], &[]),
    (3, Connect, &[CR], &[]),
    (4, Connect, &[CR], &[]),
    (5, Connect, &[CR], &[]),
    (6, Connect, &[CR], &[]),
    (7, Connect, &[CR], &[]),
    (8, Idle, &[IH], &[]),
    (9, Connect, &[CR], &[]),
    (10, Connect, &[CR], &[]),
    (11, Connect, &[CR], &[]),
    (12, OpenSent, &[H], &[Open]),
    (13, Connect, &[CR], &[]),
    (14, OpenSent, &[H], &[Open]),
    (15, Connect, &[CR], &[]),
    (16, OpenSent, &[H], &[Open]),
    (17, OpenSent, &[H], &[Open]),
    (18, Idle, &[IH], &[]),
    (19, Idle, &[IH], &[]),
    (20, OpenConfirm, &[H, K], &[Open, Keepalive]),
    (21, Idle, &[IH], &[]),
    (22, Idle, &[IH], &[]),
    (23, Connect, &[CR], &[]),
    (24, Idle, &[IH], &[]),
    (25, Idle, &[IH], &[]),
    (26, Idle, &[IH], &[]),
    (27, Idle, &[IH], &[]),
    (28, Connect, &[CR], &[]),
];

const ACTIVE: &[Row] = &[
    (1, Active, &[CR], &[]),
    (2, Idle, &[], &[]),
    (3, Active, &[CR], &[]),
    (4, Active, &[CR], &[]),
    (5, Active, &[CR], &[]),
    (6, Active, &[CR], &[]),
    (7, Active, &[CR], &[]),
    (8, Idle, &[IH], &[]),
    (9, Connect, &[CR], &[]),
    (10, Active, &[CR], &[]),
    (11, Active, &[CR], &[]),
    (12, OpenSent, &[H], &[Open]),
    (13, Active, &[CR], &[]),
    (14, OpenSent, &[H], &[Open]),
    (15, Active, &[CR], &[]),
    (16, Active, &[CR], &[]),
    (17, OpenSent, &[H], &[Open]),
    (18, Idle, &[IH], &[]),
    (19, Active, &[CR], &[]),
    (20, OpenConfirm, &[H, K], &[Open, Keepalive]),
    (21, Idle, &[IH], &[Notification(1, 1)]),
    (22, Idle, &[IH], &[Notification(2, 6)]),
    (23, Active, &[CR], &[]),
    (24, Idle, &[IH], &[]),
    (25, Idle, &[IH], &[]),
    (26, Idle, &[IH], &[]),
    (27, Idle, &[IH], &[]),
    (28, Active, &[CR], &[]),
];

const OPEN_SENT: &[Row] = &[
    (1, OpenSent, &[H], &[]),
    (2, Idle, &[], &[Notification(6, 2)]),
    (3, OpenSent, &[H], &[]),
    (4, OpenSent, &[H], &[]),
    (5, OpenSent, &[H], &[]),
    (6, OpenSent, &[H], &[]),
    (7, OpenSent, &[H], &[]),
    (8, Idle, &[IH], &[Notification(6, 6)]),
    (9, OpenSent, &[H], &[]),
    (10, Idle, &[IH], &[Notification(4, 0)]),
    (11, OpenSent, &[H], &[]),
    (12, OpenSent, &[H], &[]),
    (13, OpenSent, &[H], &[]),
    (14, OpenSent, &[H], &[Open]),
    (15, OpenSent, &[H], &[]),
    (16, OpenSent, &[H], &[]),
    (17, OpenSent, &[H], &[Open]),
    (18, Active, &[CR], &[]),
    (19, OpenConfirm, &[H, K], &[Keepalive]),
    (20, OpenConfirm, &[H, K], &[Keepalive]),
    (21, Idle, &[IH], &[Notification(1, 1)]),
    (22, Idle, &[IH], &[Notification(2, 6)]),
    (23, OpenSent, &[H], &[]),
    (24, Idle, &[IH], &[]),
    (25, Idle, &[IH], &[]),
    (26, Idle, &[IH], &[Notification(5, 1)]),
    (27, Idle, &[IH], &[Notification(5, 1)]),
    (28, OpenSent, &[H], &[]),
];

const OPEN_CONFIRM: &[Row] = &[
    (1, OpenConfirm, &[H, K], &[]),
    (2, Idle, &[], &[Notification(6, 2)]),
    (3, OpenConfirm, &[H, K], &[]),
    (4, OpenConfirm, &[H, K], &[]),
    (5, OpenConfirm, &[H, K], &[]),
    (6, OpenConfirm, &[H, K], &[]),
    (7, OpenConfirm, &[H, K], &[]),
    (8, Idle, &[IH], &[Notification(6, 6)]),
    (9, OpenConfirm, &[H, K], &[]),
    (10, Idle, &[IH], &[Notification(4, 0)]),
    (11, OpenConfirm, &[H, K], &[Keepalive]),
    (12, OpenConfirm, &[H, K], &[]),
    (13, OpenConfirm, &[H, K], &[]),
    (14, OpenConfirm, &[H, K], &[Open]),
    (15, OpenConfirm, &[H, K], &[]),
    (16, OpenConfirm, &[H, K], &[]),
    (17, OpenConfirm, &[H, K], &[Open]),
    (18, Idle, &[IH], &[]),
    (19, Idle, &[IH], &[Notification(5, 2)]),
    (20, Idle, &[IH], &[Notification(5, 2)]),
    (21, Idle, &[IH], &[Notification(1, 1)]),
    (22, Idle, &[IH], &[Notification(5, 2)]),
    (23, OpenConfirm, &[H, K], &[Notification(6, 7), Keepalive]),
    (24, Idle, &[IH], &[]),
    (25, Idle, &[IH], &[]),
    (26, Established, &[H, K], &[]),
    (27, Idle, &[IH], &[Notification(5, 2)]),
    (28, OpenConfirm, &[H, K], &[]),
];

const ESTABLISHED: &[Row] = &[
    (1, Established, &[H, K], &[]),
    (2, Idle, &[], &[Notification(6, 2)]),
    (3, Established, &[H, K], &[]),
    (4, Established, &[H, K], &[]),
    (5, Established, &[H, K], &[]),
    (6, Established, &[H, K], &[]),
    (7, Established, &[H, K], &[]),
    (8, Idle, &[IH], &[Notification(6, 6)]),
    (9, Established, &[H, K], &[]),
    (10, Idle, &[IH], &[Notification(4, 0)]),
    (11, Established, &[H, K], &[Keepalive]),
    (12, Established, &[H, K], &[]),
    (13, Established, &[H, K], &[]),
    (14, Established, &[H, K], &[Open]),
    (15, Established, &[H, K], &[]),
    (16, Established, &[H, K], &[]),
    (17, Established, &[H, K], &[Open]),
    (18, Idle, &[IH], &[]),
    (19, Idle, &[IH], &[Notification(5, 3)]),
    (20, Idle, &[IH], &[Notification(5, 3)]),
    (21, Idle, &[IH], &[Notification(1, 1)]),
    (22, Idle, &[IH], &[Notification(5, 3)]),
    (23, OpenConfirm, &[H, K], &[Notification(6, 7), Keepalive]),
    (24, Idle, &[IH], &[]),
    (25, Idle, &[IH], &[]),
    (26, Established, &[H, K], &[]),
    (27, Established, &[H, K], &[]),
    (28, Idle, &[IH], &[Notification(3, 1)]),
];

#[test]
fn every_state_and_event_of_rfc4271_8_2_2() {
    let tables = [
        (Idle, IDLE),
        (Connect, CONNECT),
        (Active, ACTIVE),
        (OpenSent, OPEN_SENT),
        (OpenConfirm, OPEN_CONFIRM),
        (Established, ESTABLISHED),
    ];
    let mut failures = Vec::new();
    let mut pairs = 0;
    for (state, rows) in tables {
        assert_eq!(rows.len(), 28, "{state}: every event");
        for (i, &(event, to, timers, msgs)) in rows.iter().enumerate() {
            assert_eq!(usize::from(event), i + 1);
            pairs += 1;
            let got = apply(state, event);
            let want = (to, timers.to_vec(), msgs.to_vec());
            if got != want {
                failures.push(format!(
                    "{state} + event {event}: got {got:?}, want {want:?}"
                ));
            }
        }
    }
    assert_eq!(pairs, 6 * 28);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The DelayOpen timer is what Connect and Active arm when TCP comes up with
/// DelayOpen configured (§8.2.2 events 16, 17).
#[test]
fn delay_open_fixtures_arm_the_delay_open_timer() {
    let f = fixture(Connect, Variant::DelayOpen);
    assert_eq!(f.timers(), [DO]);
    let f = fixture(Active, Variant::DelayOpen);
    assert_eq!(f.timers(), [DO]);
}
