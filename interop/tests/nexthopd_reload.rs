//! SIGHUP reload of `router_id`, `asn`, `[[dynamic_neighbor]]` ranges, `md5_key`
//! and `min_ttl`, each seen from the peer's side (README, "SIGHUP";
//! `speaker/src/reload.rs`): a new router ID or AS resets every session with
//! Cease 6/6 (RFC 4486) and the next OPEN carries the new BGP Identifier or My
//! AS; a range added admits a peer it covers, a range removed ends its session
//! with Cease 6/3 and closes new connections at once; a key added resets the
//! session (6/6), then an unsigned peer cannot connect and a signed one can
//! (RFC 2385); a minimum TTL added resets the session (6/6), then a peer whose
//! segments carry TTL 200 never reaches Established and one with TTL 255 does
//! (RFC 5082); a key added to a `[[dynamic_neighbor]]` range does to the
//! range's session what it does to a neighbour's.
//!
//! The peer is test-support's raw BGP peer (nexthop-core's emitters and views)
//! whose socket options (source address, IP_TTL, TCP-MD5 key) are set before
//! `connect`.
//! Addresses: nexthopd on 127.0.0.234, ports 10241-10247; the clients connect
//! from 127.0.0.235, .236, .237, .238 and .239. Needs no root (ports above 1024).
//! Waits are bounds against a hang, not thresholds: a refused peer is one that
//! gets no session within the bound.

#![deny(unsafe_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use nexthop_interop::nexthopd::config_file;
use nexthop_interop::{Neighbor, Nexthopd, RunDir, SpeakerConfig, WAIT, wait_for, wait_until};
use nexthop_speaker::config::file::{ConfigFile, DynamicNeighbor};
use nexthop_test_support::RawPeer;
use nexthop_test_support::raw_peer::{OpenSettings, PeerOpen, Refused, TcpOptions};

/// What a connection attempt came to (read through its `Debug` text, which
/// the tests compare).
#[derive(Debug)]
#[allow(dead_code)]
enum Outcome {
    /// Both OPENs and KEEPALIVEs exchanged: nexthopd is Established once it
    /// reads our KEEPALIVE. Carries the peer and nexthopd's OPEN.
    Established(RawPeer, PeerOpen),
    /// The TCP connection did not open within the bound (SYNs dropped).
    NoConnection(String),
    /// Connected, but nexthopd closed it (or sent a NOTIFICATION: its code and
    /// subcode) before the session was up.
    Refused(Option<(u8, u8)>),
    /// Connected, but no OPEN came within the bound.
    Silent,
}

/// Connects from `from` to `to` with `opts` as AS `asn` and tries to reach
/// Established, the connect and each read bounded by `bound` (only against a
/// hang).
fn try_session(
    from: Ipv4Addr,
    to: SocketAddrV4,
    opts: &TcpOptions,
    asn: u32,
    bound: Duration,
) -> Outcome {
    let options = TcpOptions {
        connect_timeout: bound,
        ..opts.clone()
    };
    let mut peer = match RawPeer::connect(from.into(), to.into(), &options) {
        Ok(p) => p,
        Err(e) => return Outcome::NoConnection(e.to_string()),
    };
    if peer.set_read_timeout(Some(bound)).is_err() {
        return Outcome::Refused(None);
    }
    // Higher than the 192.0.2.x of the speakers under test: a collision with a
    // stale connection in OpenConfirm keeps the new one (RFC 4271 §6.8).
    let id = Ipv4Addr::new(203, 0, 113, from.octets()[3]);
    match peer.handshake(&OpenSettings::new(asn, 90, id)) {
        Ok(()) => match peer.peer_open() {
            Some(open) => Outcome::Established(peer, open),
            None => Outcome::Refused(None),
        },
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Outcome::Silent
        }
        Err(e) => Outcome::Refused(
            e.get_ref()
                .and_then(|e| e.downcast_ref::<Refused>())
                .map(|r| (r.0.code, r.0.subcode)),
        ),
    }
}

const ME: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 234);
const OUR_AS: u32 = 65234;
/// How long a peer that must be refused is given to get a session anyway.
const REFUSAL_BOUND: Duration = Duration::from_secs(5);

fn speaker(port: u16, peer: Option<(Ipv4Addr, u32)>) -> SpeakerConfig {
    let mut cfg = SpeakerConfig::new(ME, OUR_AS);
    cfg.port = port;
    match peer {
        Some((a, asn)) => cfg.neighbor(Neighbor::new(a, asn).passive()),
        None => cfg,
    }
}

/// `cfg` as nexthopd's config file (the typed builder), with `edit` applied.
fn file(cfg: &SpeakerConfig, edit: impl FnOnce(ConfigFile) -> ConfigFile) -> ConfigFile {
    edit(config_file(cfg).unwrap())
}

/// `f` with `edit` applied to its neighbour at `peer`.
fn with_neighbor(
    mut f: ConfigFile,
    peer: Ipv4Addr,
    edit: impl FnOnce(
        nexthop_speaker::config::file::Neighbor,
    ) -> nexthop_speaker::config::file::Neighbor,
) -> ConfigFile {
    let n = f.neighbor_mut(IpAddr::V4(peer)).expect("the neighbour");
    *n = edit(n.clone());
    f
}

/// Lines of nexthopd's log where the session with `peer` became Established.
fn established_lines(n: &Nexthopd, peer: Ipv4Addr) -> usize {
    let needle = format!("neighbor={peer} fsm_state=OpenConfirm to=Established");
    n.log().lines().filter(|l| l.contains(&needle)).count()
}

/// A session from `from` with `opts`, retried (bounded by [`WAIT`]) while
/// nexthopd restarts the neighbour; nexthopd's log must show it Established.
fn session(
    n: &Nexthopd,
    port: u16,
    from: Ipv4Addr,
    asn: u32,
    opts: &TcpOptions,
) -> (RawPeer, PeerOpen) {
    let before = established_lines(n, from);
    let to = SocketAddrV4::new(ME, port);
    let mut last = String::new();
    let got = wait_for(WAIT, "a session", || {
        match try_session(from, to, opts, asn, REFUSAL_BOUND) {
            Outcome::Established(c, f) => Some((c, f)),
            other => {
                last = format!("{other:?}");
                None
            }
        }
    })
    .unwrap_or_else(|e| panic!("{e}: last {last}\n{}", n.log_tail(30)));
    wait_for(WAIT, "Established in nexthopd's log", || {
        (established_lines(n, from) > before).then_some(())
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", n.log_tail(30)));
    got
}

/// Lines of nexthopd's log where it read an OPEN from `peer` (OpenSent to
/// OpenConfirm).
fn open_read_lines(n: &Nexthopd, peer: Ipv4Addr) -> usize {
    let needle = format!("neighbor={peer} fsm_state=OpenSent to=OpenConfirm");
    n.log().lines().filter(|l| l.contains(&needle)).count()
}

/// What a refused attempt came to: the client's outcome, and whether nexthopd
/// read the client's OPEN.
struct Refusal {
    /// The client's outcome; its connection (if any) is closed.
    outcome: String,
    /// The client got nexthopd's OPEN and KEEPALIVE.
    answered: bool,
    open_read: bool,
}

/// One attempt that must not give nexthopd a session with `from`: the client
/// keeps what it got for [`REFUSAL_BOUND`] and nexthopd's log must show no
/// Established for it.
fn refused(n: &Nexthopd, port: u16, from: Ipv4Addr, asn: u32, opts: &TcpOptions) -> Refusal {
    let before = established_lines(n, from);
    let opens = open_read_lines(n, from);
    let outcome = try_session(from, SocketAddrV4::new(ME, port), opts, asn, REFUSAL_BOUND);
    if matches!(outcome, Outcome::Established(..)) {
        // nexthopd answered our OPEN; Established on its side needs our
        // KEEPALIVE, which must not get through.
        let _ = wait_until(REFUSAL_BOUND, "Established", || {
            established_lines(n, from) > before
        });
    }
    assert_eq!(
        established_lines(n, from),
        before,
        "{from} ({opts:?}) got a session: {outcome:?}\n{}",
        n.log_tail(30)
    );
    Refusal {
        open_read: open_read_lines(n, from) > opens,
        answered: matches!(outcome, Outcome::Established(..)),
        outcome: format!("{outcome:?}"),
    }
}

/// Reloads `toml`; the established `client` gets NOTIFICATION `want`.
fn reload_expecting(n: &mut Nexthopd, file: ConfigFile, client: &mut RawPeer, want: (u8, u8)) {
    n.reload(&file).unwrap();
    let got = client
        .wait_notification(WAIT)
        .ok()
        .map(|n| (n.code, n.subcode));
    assert_eq!(
        got,
        Some(want),
        "NOTIFICATION after the reload\n{}",
        n.log_tail(30)
    );
}

#[test]
fn reload_of_router_id_restarts_the_session_with_the_new_identifier() {
    let run = RunDir::new("nexthopd_reload_router_id").unwrap();
    let (peer, port) = (Ipv4Addr::new(127, 0, 0, 235), 10241);
    let mut cfg = speaker(port, Some((peer, 65235)));
    let mut n = Nexthopd::start_file(&run, cfg.clone(), &file(&cfg, |f| f)).unwrap();
    let (mut c, open) = session(&n, port, peer, 65235, &TcpOptions::default());
    assert_eq!(open.bgp_identifier, cfg.router_id);

    cfg.router_id = Ipv4Addr::new(192, 0, 2, 134);
    reload_expecting(&mut n, file(&cfg, |f| f), &mut c, (6, 6));
    let (_c, open) = session(&n, port, peer, 65235, &TcpOptions::default());
    assert_eq!(open.bgp_identifier, Ipv4Addr::new(192, 0, 2, 134));
    assert_eq!(open.asn, OUR_AS);
}

#[test]
fn reload_of_asn_restarts_the_session_with_the_new_as() {
    let run = RunDir::new("nexthopd_reload_asn").unwrap();
    let (peer, port) = (Ipv4Addr::new(127, 0, 0, 235), 10242);
    let mut cfg = speaker(port, Some((peer, 65235)));
    let mut n = Nexthopd::start_file(&run, cfg.clone(), &file(&cfg, |f| f)).unwrap();
    let (mut c, open) = session(&n, port, peer, 65235, &TcpOptions::default());
    assert_eq!(open.asn, OUR_AS);

    cfg.asn = 65134;
    reload_expecting(&mut n, file(&cfg, |f| f), &mut c, (6, 6));
    let (_c, open) = session(&n, port, peer, 65235, &TcpOptions::default());
    assert_eq!(open.asn, 65134);
    assert_eq!(open.bgp_identifier, cfg.router_id);
}

#[test]
fn reload_adds_and_removes_a_dynamic_range() {
    let run = RunDir::new("nexthopd_reload_dynamic").unwrap();
    let (peer, port) = (Ipv4Addr::new(127, 0, 0, 236), 10243);
    let cfg = speaker(port, None);
    let none = TcpOptions::default();
    let mut n = Nexthopd::start_file(&run, cfg.clone(), &file(&cfg, |f| f)).unwrap();
    // No range covers it: closed at once, no OPEN.
    let out = refused(&n, port, peer, 65236, &none).outcome;
    assert_eq!(out, "Refused(None)");

    n.reload(&file(&cfg, |f| {
        f.dynamic_neighbor("127.0.0.236/32".parse().unwrap(), 65236)
    }))
    .unwrap();
    let (mut c, open) = session(&n, port, peer, 65236, &none);
    assert_eq!(open.asn, OUR_AS);

    // Range removed: Cease 6/3 (Peer De-configured), and no new session.
    reload_expecting(&mut n, file(&cfg, |f| f), &mut c, (6, 3));
    let out = refused(&n, port, peer, 65236, &none).outcome;
    assert_eq!(out, "Refused(None)");
}

#[test]
fn reload_of_md5_key_refuses_an_unsigned_peer_and_admits_a_signed_one() {
    let run = RunDir::new("nexthopd_reload_md5").unwrap();
    let (peer, port) = (Ipv4Addr::new(127, 0, 0, 237), 10244);
    let cfg = speaker(port, Some((peer, 65237)));
    let unsigned = TcpOptions::default();
    let signed = TcpOptions {
        md5_key: Some(b"nexthop-reload-test".to_vec()),
        ..TcpOptions::default()
    };
    let mut n = Nexthopd::start_file(&run, cfg.clone(), &file(&cfg, |f| f)).unwrap();
    let (mut c, _) = session(&n, port, peer, 65237, &unsigned);

    let keyed = file(&cfg, |f| {
        with_neighbor(f, peer, |n| n.md5_key("nexthop-reload-test"))
    });
    reload_expecting(&mut n, keyed, &mut c, (6, 6));
    drop(c);
    let out = refused(&n, port, peer, 65237, &unsigned).outcome;
    assert!(
        out.starts_with("NoConnection"),
        "an unsigned SYN is dropped: {out}"
    );
    session(&n, port, peer, 65237, &signed);
}

/// A `[[dynamic_neighbor]]` range's options take part in reload like a
/// neighbour's: a key added to the range resets its session (6/6), then the
/// listener carries the range's prefix key: an unsigned peer of the range
/// cannot connect and a signed one can (RFC 2385).
#[test]
fn reload_of_a_ranges_md5_key_restarts_its_session_and_refuses_an_unsigned_peer() {
    let run = RunDir::new("nexthopd_reload_range_md5").unwrap();
    let (peer, port) = (Ipv4Addr::new(127, 0, 0, 238), 10247);
    let cfg = speaker(port, None);
    let range = |key: Option<&str>| {
        let d = DynamicNeighbor::new("127.0.0.236/30".parse().unwrap(), 65238);
        match key {
            Some(k) => d.md5_key(k),
            None => d,
        }
    };
    let unsigned = TcpOptions::default();
    let signed = TcpOptions {
        md5_key: Some(b"nexthop-range-key".to_vec()),
        ..TcpOptions::default()
    };
    let mut n =
        Nexthopd::start_file(&run, cfg.clone(), &file(&cfg, |f| f.dynamic(range(None)))).unwrap();
    let (mut c, _) = session(&n, port, peer, 65238, &unsigned);

    let keyed = file(&cfg, |f| f.dynamic(range(Some("nexthop-range-key"))));
    reload_expecting(&mut n, keyed, &mut c, (6, 6));
    drop(c);
    let out = refused(&n, port, peer, 65238, &unsigned).outcome;
    assert!(
        out.starts_with("NoConnection"),
        "an unsigned SYN from the range is dropped: {out}"
    );
    session(&n, port, peer, 65238, &signed);
}

/// nexthopd with `min_ttl = 255` added by a reload to the neighbour at
/// 127.0.0.239 (the session with a TTL 200 peer was reset); the TTL 200
/// client's refused attempt.
fn min_ttl_reloaded(test: &str, port: u16) -> (Nexthopd, Refusal) {
    let run = RunDir::new(test).unwrap();
    let peer = Ipv4Addr::new(127, 0, 0, 239);
    let cfg = speaker(port, Some((peer, 65239)));
    let low = TcpOptions {
        ttl: Some(200),
        ..TcpOptions::default()
    };
    let gtsm = TcpOptions {
        ttl: Some(255),
        ..TcpOptions::default()
    };
    let mut n = Nexthopd::start_file(&run, cfg.clone(), &file(&cfg, |f| f)).unwrap();
    let (mut c, _) = session(&n, port, peer, 65239, &low);

    let limited = file(&cfg, |f| with_neighbor(f, peer, |n| n.min_ttl(255)));
    reload_expecting(&mut n, limited, &mut c, (6, 6));
    drop(c);
    let refusal = refused(&n, port, peer, 65239, &low);
    session(&n, port, peer, 65239, &gtsm);
    (n, refusal)
}

#[test]
fn reload_of_min_ttl_refuses_a_peer_below_it() {
    min_ttl_reloaded("nexthopd_reload_min_ttl", 10245);
}

#[test]
fn reload_of_min_ttl_drops_every_segment_below_it() {
    let (n, refusal) = min_ttl_reloaded("nexthopd_reload_min_ttl_open", 10246);
    assert!(
        !refusal.open_read && !refusal.answered,
        "an OPEN below min_ttl reached the FSM (RFC 5082 §3, README: segments below \
         min_ttl are dropped): {}\n{}",
        refusal.outcome,
        n.log_tail(30)
    );
}
