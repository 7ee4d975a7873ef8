//! Sessions as the speaker runs them: a peer that disappears (the seed's
//! scenario), connections from unknown addresses and dynamic ranges, a wrong AS
//! (RFC 4271 §6.2), max-prefix (RFC 4486), ROUTE-REFRESH (RFC 2918) and a
//! malformed UPDATE (RFC 7606 session reset).

mod net;

use std::net::{IpAddr, SocketAddr};

use net::{Net, addr, config, neighbor, originate, validated};
use nexthop_core::session::{SessionConfig, State, emit_open};
use nexthop_core::wire::header::{Header, MessageType};
use nexthop_speaker::config::file::{ConfigFile, Originate};
use nexthop_speaker::{Closed, Command, ConnKey, Duration, Instant, Speaker};

#[test]
fn peer_closing_tcp_while_established_is_down_at_once_and_reconnects() {
    let (a, b) = (addr(0), addr(1));
    let b_config = config(65002, b)
        .neighbor(neighbor(a, 65001))
        .originate(originate("203.0.113.0/24"));
    let mut net = Net::new();
    let na = net.add(a, &config(65001, a).neighbor(neighbor(b, 65002)));
    let nb = net.add(b, &b_config);
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[na].best("203.0.113.0/24").is_some()
    }));
    net.run_for(Duration::from_secs(4));
    let killed_at = net.now;
    let sent_before = net.nodes[na].sent.len();

    // B's process dies: A reads zero bytes now.
    net.kill(nb);
    // Down at this same instant: not at hold-timer expiry.
    assert_ne!(net.nodes[na].state_of(b), Some(State::Established));
    assert_eq!(net.now, killed_at);
    // Routes flushed in the same call.
    assert!(net.nodes[na].best("203.0.113.0/24").is_none());
    net.drive();
    // Nothing was written on the dead connection, no NOTIFICATION anywhere.
    assert!(net.nodes[na].sent_on_dead.is_empty());
    assert!(net.nodes[na].sent[sent_before..].is_empty());

    // A keeps trying; B returns and the session with it, routes too.
    net.run_for(Duration::from_secs(5));
    assert!(net.nodes[na].sent_on_dead.is_empty());
    net.restart(nb, &b_config);
    assert!(
        net.run_until(Duration::from_secs(30), |n| n.established(na, b)
            && n.nodes[na].best("203.0.113.0/24").is_some())
    );
    assert!(net.nodes[na].sent_on_dead.is_empty());
    assert!(net.nodes[na].notifications().iter().all(|&n| n == (6, 7)));
}

fn speaker(config: &ConfigFile) -> Speaker {
    Speaker::new(validated(config), Instant::from_secs(1))
}

#[test]
fn connection_from_an_unconfigured_address_is_refused_without_state() {
    let (s, x) = (addr(0), addr(1));
    let mut sp = speaker(
        &config(65001, s)
            .neighbor(neighbor(x, 65002).passive(true))
            .dynamic_neighbor("10.9.0.0/16".parse().unwrap(), 65009),
    );
    let now = Instant::from_secs(2);
    let local = SocketAddr::new(s, 179);
    let before = sp.neighbors();
    let stranger: IpAddr = "10.8.0.1".parse().unwrap();
    assert_eq!(
        sp.handle_accepted(now, local, SocketAddr::new(stranger, 50000)),
        None
    );
    assert_eq!(sp.neighbors(), before);
    assert_eq!(sp.connection_count(), 0);
    assert_eq!(sp.poll_command(), None);
    assert_eq!(sp.poll_ready(), None);

    // The configured neighbour and an address of the dynamic range are taken;
    // the dynamic one gets a session then (and sends its OPEN).
    let k1 = sp
        .handle_accepted(now, local, SocketAddr::new(x, 50001))
        .unwrap();
    let dynamic: IpAddr = "10.9.3.4".parse().unwrap();
    assert_eq!(sp.session_state(dynamic), None);
    let k2 = sp
        .handle_accepted(now, local, SocketAddr::new(dynamic, 50002))
        .unwrap();
    assert_ne!(k1, k2);
    assert_eq!(sp.session_state(dynamic), Some(State::OpenSent));
    let mut ready = Vec::new();
    while let Some(k) = sp.poll_ready() {
        ready.push(k);
    }
    ready.sort();
    assert_eq!(ready, vec![k1, k2]);
    let open = sp.poll_transmit(now, k2).unwrap();
    assert_eq!(open.as_ref()[18], 1);
    // IPv4-mapped addresses (a listener on [::]) are the same peer.
    let mapped: IpAddr = "::ffff:10.9.3.4".parse().unwrap();
    assert_eq!(sp.session_state(mapped), Some(State::OpenSent));

    // The dynamic peer goes away: its session is forgotten.
    sp.handle_closed(now, k2, Closed::PeerClosed);
    assert_eq!(sp.session_state(dynamic), None);
    assert_eq!(sp.poll_transmit(now, k2).map(|t| t.as_ref().to_vec()), None);
    // The configured one stays.
    sp.handle_closed(now, k1, Closed::Reset);
    assert!(sp.session_state(x).is_some());
}

#[test]
fn wrong_remote_as_is_refused_with_notification_2_2() {
    let (a, b) = (addr(0), addr(1));
    let mut net = Net::new();
    let na = net.add(a, &config(65001, a).neighbor(neighbor(b, 65099)));
    let _nb = net.add(b, &config(65002, b).neighbor(neighbor(a, 65001)));
    net.run_for(Duration::from_secs(10));
    assert!(!net.established(na, b));
    let n = net.nodes[na].notifications();
    assert!(n.contains(&(2, 2)), "{n:?}");
    // And A never took the session up with the router.
    let rp = net.nodes[na].speaker.router_peer(b).unwrap();
    assert!(net.nodes[na].speaker.router().session(rp).is_none());
}

#[test]
fn max_prefix_sends_cease_6_1_and_flushes() {
    let (a, b) = (addr(0), addr(1));
    let mut net = Net::new();
    let mut b_config = config(65002, b).neighbor(neighbor(a, 65001));
    for i in 0..3 {
        b_config = b_config.originate(originate(&format!("203.0.{i}.0/24")));
    }
    let na = net.add(
        a,
        &config(65001, a).neighbor(neighbor(b, 65002).max_prefix(2)),
    );
    let nb = net.add(b, &b_config);
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[na].notifications().contains(&(6, 1))
    }));
    net.drive();
    assert!(net.nodes[na].best("203.0.0.0/24").is_none());
    // B read the Cease: its session with A is down, and it answered with no
    // NOTIFICATION of its own (RFC 4271 §6.4: the receiver just closes).
    assert!(!net.established(nb, a));
    assert_eq!(
        net.nodes[nb]
            .sent_to(a)
            .filter_map(|s| s.notification())
            .count(),
        0
    );
    // Data: AFI 1, SAFI 1, limit 2 (RFC 4486 §4).
    let s = net.nodes[na]
        .sent
        .iter()
        .find(|s| s.notification() == Some((6, 1)))
        .unwrap();
    assert_eq!(&s.bytes[21..], &[0, 1, 1, 0, 0, 0, 2]);
}

/// A hand-driven peer `x` of a speaker `s`, over one accepted connection.
struct Raw {
    sp: Speaker,
    k: ConnKey,
    now: Instant,
}

impl Raw {
    /// The speaker originates `routes`.
    fn new(routes: impl IntoIterator<Item = Originate>) -> Raw {
        let (s, x) = (addr(0), addr(1));
        let mut cfg = config(65001, s).neighbor(neighbor(x, 65002).passive(true));
        cfg.originate.extend(routes);
        let mut sp = speaker(&cfg);
        let now = Instant::from_secs(2);
        let k = sp
            .handle_accepted(now, SocketAddr::new(s, 179), SocketAddr::new(x, 40000))
            .unwrap();
        let mut raw = Raw { sp, k, now };
        let mut open = [0u8; 4096];
        let mut c = SessionConfig::new(x, 65002, 0x0a00_0002);
        c.hold_time = 90;
        let n = emit_open(&c, &mut open).unwrap();
        raw.send(&open[..n]);
        raw.send(&keepalive());
        assert_eq!(raw.sp.session_state(x), Some(State::Established));
        raw
    }

    fn send(&mut self, bytes: &[u8]) {
        assert_eq!(self.sp.handle_read(self.now, self.k, bytes), bytes.len());
    }

    /// Everything written on the connection, and the commands.
    fn drain(&mut self) -> (Vec<Vec<u8>>, Vec<Command>) {
        let mut out = Vec::new();
        let mut commands = Vec::new();
        loop {
            let mut moved = false;
            while let Some(c) = self.sp.poll_command() {
                commands.push(c);
                moved = true;
            }
            while let Some(k) = self.sp.poll_ready() {
                assert_eq!(k, self.k);
                moved = true;
            }
            while let Some(t) = self.sp.poll_transmit(self.now, self.k) {
                out.push(t.as_ref().to_vec());
                moved = true;
            }
            if self.sp.poll_timeout().is_some_and(|t| t <= self.now) {
                self.sp.handle_timeout(self.now);
                moved = true;
            }
            if !moved {
                return (out, commands);
            }
        }
    }
}

fn keepalive() -> [u8; 19] {
    let mut k = [0xff; 19];
    k[16] = 0;
    k[17] = 19;
    k[18] = 4;
    k
}

fn header(len: u16, kind: u8) -> Vec<u8> {
    let mut h = vec![0xff; 16];
    h.extend_from_slice(&len.to_be_bytes());
    h.push(kind);
    h
}

#[test]
fn route_refresh_gets_the_routes_resent() {
    let mut raw = Raw::new([originate("198.51.100.0/24")]);
    let (out, _) = raw.drain();
    let updates: Vec<_> = out.iter().filter(|m| m[18] == 2).cloned().collect();
    // The route, then End-of-RIB (an empty UPDATE, RFC 4724 §2).
    assert!(updates.len() >= 2, "{out:?}");
    let route = updates.iter().find(|m| m.len() > 23).unwrap().clone();
    // Nothing more on its own.
    raw.now = raw.now.saturating_add(Duration::from_millis(500));
    let (out, _) = raw.drain();
    assert!(out.iter().all(|m| m[18] != 2));

    // ROUTE-REFRESH for IPv4 unicast (RFC 2918 §3).
    let mut rr = header(23, 5);
    rr.extend_from_slice(&[0, 1, 0, 1]);
    raw.send(&rr);
    let (out, _) = raw.drain();
    assert!(out.contains(&route), "{out:?}");
}

#[test]
fn malformed_update_resets_the_session_with_its_notification() {
    let mut raw = Raw::new([]);
    raw.drain();
    // Withdrawn Routes Length overruns the message: Malformed Attribute List
    // (RFC 4271 §6.3, RFC 7606 §3 session reset).
    let mut bad = header(23, 2);
    bad.extend_from_slice(&[0, 16, 0, 0]);
    raw.send(&bad);
    let (out, commands) = raw.drain();
    let n = out.iter().find(|m| m[18] == 3).expect("a NOTIFICATION");
    assert_eq!((n[19], n[20]), (3, 1));
    // The NOTIFICATION is handed out before the Close.
    assert_eq!(commands, vec![Command::Close { conn: raw.k }]);
    assert_ne!(raw.sp.session_state(addr(1)), Some(State::Established));
}

#[test]
fn keepalive_is_not_stuck_behind_an_update_backlog() {
    // 4 000 routes with distinct attributes: a long backlog of UPDATEs (several
    // transmits, though the router hands out runs of UPDATEs of up to 64 KiB).
    let origin = (0..4000u16)
        .map(|i| originate(&format!("10.{}.{}.0/24", i / 256, i % 256)).community(65001, i));
    let mut raw = Raw::new(origin);
    while raw.sp.poll_timeout().is_some_and(|t| t <= raw.now) {
        raw.sp.handle_timeout(raw.now);
    }
    // The runtime takes a few transmits, then its buffer is full.
    let mut got = Vec::new();
    while let Some(k) = raw.sp.poll_ready() {
        assert_eq!(k, raw.k);
    }
    for _ in 0..4 {
        got.push(raw.sp.poll_transmit(raw.now, raw.k).unwrap());
    }
    assert!(got.iter().any(|t| t.as_ref()[18] == 2));
    // Time for a KEEPALIVE (the negotiated hold time 9 s / 3): it comes next,
    // before the rest of the UPDATEs.
    raw.now = raw.now.saturating_add(Duration::from_secs(3));
    while raw.sp.poll_timeout().is_some_and(|t| t <= raw.now) {
        raw.sp.handle_timeout(raw.now);
    }
    let next = raw.sp.poll_transmit(raw.now, raw.k).unwrap();
    assert_eq!(next.as_ref()[18], 4, "a KEEPALIVE first");
    assert!(matches!(next, nexthop_speaker::Transmit::Owned(_)));
    let after = raw.sp.poll_transmit(raw.now, raw.k).unwrap();
    assert_eq!(after.as_ref()[18], 2);
}

/// An UPDATE from AS 65002 announcing 198.51.100.0/24 with ORIGIN `origin`.
fn update(origin: u8) -> Vec<u8> {
    let attrs: [u8; 20] = [
        0x40, 1, 1, origin, // ORIGIN
        0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xea, // AS_PATH: SEQUENCE 65002
        0x40, 3, 4, 10, 0, 0, 2, // NEXT_HOP
    ];
    let mut m = header(47, 2);
    m.extend_from_slice(&[0, 0, 0, 20]);
    m.extend_from_slice(&attrs);
    m.extend_from_slice(&[24, 198, 51, 100]);
    m
}

#[test]
fn treat_as_withdraw_keeps_the_session_and_drops_the_route() {
    let mut raw = Raw::new([]);
    raw.drain();
    let prefix: nexthop_router::prefix::Ipv4Prefix = "198.51.100.0/24".parse().unwrap();
    raw.send(&update(0));
    raw.drain();
    assert!(raw.sp.router().best(&prefix).is_some());
    // ORIGIN 5 is undefined: treat-as-withdraw (RFC 7606 §7.1).
    raw.send(&update(5));
    let (out, commands) = raw.drain();
    assert!(raw.sp.router().best(&prefix).is_none());
    assert!(out.iter().all(|m| m[18] != 3), "no NOTIFICATION");
    assert!(commands.is_empty());
    assert_eq!(raw.sp.session_state(addr(1)), Some(State::Established));
}

#[test]
fn a_session_holds_at_most_two_connections() {
    let (s, x) = (addr(0), addr(1));
    let mut sp = speaker(&config(65001, s).neighbor(neighbor(x, 65002).passive(true)));
    let now = Instant::from_secs(2);
    let local = SocketAddr::new(s, 179);
    let k1 = sp.handle_accepted(now, local, SocketAddr::new(x, 40001));
    let k2 = sp.handle_accepted(now, local, SocketAddr::new(x, 40002));
    assert!(k1.is_some() && k2.is_some() && k1 != k2);
    assert_eq!(
        sp.handle_accepted(now, local, SocketAddr::new(x, 40003)),
        None
    );
    assert_eq!(sp.connection_count(), 2);
    // One goes away: a new one is taken again.
    sp.handle_closed(now, k1.unwrap(), Closed::Reset);
    assert!(
        sp.handle_accepted(now, local, SocketAddr::new(x, 40004))
            .is_some()
    );
}

/// One layer lingers on close: the runtime. The speaker issues `Close` at once,
/// even while the runtime's buffer for the connection is full, and hands out the
/// Cease after it (the runtime takes it whatever its bound); it keeps no timer
/// of its own for the close.
#[test]
fn shutdown_closes_at_once_even_when_the_runtime_cannot_write() {
    let mut raw = Raw::new([]);
    raw.drain();
    raw.sp.handle_shutdown(raw.now, "bye");
    // The runtime's buffer for the connection is full: it takes no bytes, only
    // commands.
    while raw.sp.poll_ready().is_some() {}
    assert_eq!(raw.sp.poll_command(), Some(Command::Close { conn: raw.k }));
    assert_eq!(raw.sp.poll_command(), None);
    assert_eq!(raw.sp.poll_timeout(), None, "no timer for the close");
    assert!(!raw.sp.is_shut_down(), "the Cease is not handed out yet");
    // On the Close the runtime takes the last message, whatever its bound.
    let cease = raw.sp.poll_transmit(raw.now, raw.k).expect("the Cease");
    let cease = cease.as_ref();
    assert_eq!(
        Header::new_checked(cease).unwrap().message_type(),
        MessageType::Notification
    );
    assert_eq!((cease[19], cease[20]), (6, 2));
    assert!(raw.sp.poll_transmit(raw.now, raw.k).is_none());
    assert!(raw.sp.is_shut_down());
    assert_eq!(raw.sp.connection_count(), 0);
}
