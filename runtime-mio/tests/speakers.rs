//! Two real speakers in two runtimes over loopback (one thread, turns
//! interleaved): one connects, the other accepts, both reach Established and
//! exchange their routes; when one runtime goes away the other's session goes
//! down in the turn that sees the FIN, not at hold-timer expiry (90 s here). A
//! raw peer that completes the OPEN exchange and then stops reading costs the
//! runtime at most its output bound while the speaker has far more to send.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use nexthop_core::session::State;
use nexthop_runtime_mio::{Instant, Options, Runtime, monotonic_clock};
use nexthop_speaker::Speaker;
use nexthop_speaker::config::file::{ConfigFile, Neighbor, Originate};
use nexthop_test_support::RawPeer;
use nexthop_test_support::raw_peer::{OpenSettings, TcpOptions};

type Rt = Runtime<Speaker, Box<dyn FnMut() -> Instant>>;

fn lo(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

const PORT: u16 = 10179;

fn runtime(file: &ConfigFile) -> Rt {
    runtime_with(file, Options::default())
}

fn runtime_with(file: &ConfigFile, opts: Options) -> Rt {
    let cfg = file
        .config()
        .unwrap_or_else(|e| panic!("{e}\n{}", file.to_toml()));
    let mut clock: Box<dyn FnMut() -> Instant> = Box::new(monotonic_clock());
    let speaker = Speaker::new(cfg, clock());
    Runtime::new(speaker, clock, opts).unwrap()
}

/// Speaker 127.0.0.`me` of AS 650`me` on port 10179, with one neighbour
/// 127.0.0.`peer` (AS 650`peer`) as `tune` makes it.
fn config(me: u8, peer: u8, passive: bool, tune: impl Fn(Neighbor) -> Neighbor) -> ConfigFile {
    let asn = |last: u8| 65000 + u32::from(last);
    ConfigFile::new(asn(me), Ipv4Addr::new(192, 0, 2, me))
        .listen(SocketAddr::new(lo(me), PORT))
        .neighbor(tune(
            Neighbor::new(lo(peer), asn(peer))
                .port(PORT)
                .passive(passive)
                .bind_addr(lo(me))
                .hold_time(90)
                .connect_retry_time(1)
                .mrai(0),
        ))
}

/// `prefix` originated with next hop 198.51.100.`me`.
fn originate(prefix: &str, me: u8) -> Originate {
    Originate::new(prefix.parse().unwrap()).next_hop(IpAddr::from([198, 51, 100, me]))
}

fn turn_until(rts: &mut [&mut Rt], what: &str, mut done: impl FnMut(&[&mut Rt]) -> bool) {
    let end = StdInstant::now() + StdDuration::from_secs(10);
    while !done(rts) {
        assert!(StdInstant::now() < end, "timed out waiting for {what}");
        for rt in rts.iter_mut() {
            rt.turn(Some(StdDuration::from_millis(5))).unwrap();
        }
    }
}

fn state(rt: &Rt, peer: IpAddr) -> Option<State> {
    rt.speaker().session_state(peer)
}

fn prefixes_from(rt: &Rt, peer: IpAddr) -> u32 {
    let s = rt.speaker();
    s.router_peer(peer)
        .map_or(0, |id| s.router().prefix_count(id))
}

#[test]
fn two_speakers_connect_accept_exchange_and_see_a_close_at_once() {
    let (a, b) = (84, 85);
    let own = |me: u8| originate(&format!("198.18.{me}.0/24"), me);
    let mut ra = runtime(&config(a, b, true, |n| n).originate(own(a)));
    let mut rb = runtime(&config(b, a, false, |n| n).originate(own(b)));
    turn_until(&mut [&mut ra, &mut rb], "Established both ways", |r| {
        state(r[0], lo(b)) == Some(State::Established)
            && state(r[1], lo(a)) == Some(State::Established)
    });
    assert_eq!(ra.stats().accepted, 1, "A accepted B's connection");
    assert_eq!(rb.stats().connects, 1, "B connected once");
    turn_until(
        &mut [&mut ra, &mut rb],
        "each side's route at the other",
        |r| prefixes_from(r[0], lo(b)) == 1 && prefixes_from(r[1], lo(a)) == 1,
    );

    // B's runtime goes away (its sockets close): A's session goes down in the
    // turn that reads the FIN; its hold timer (90 s) plays no part.
    drop(rb);
    let t = StdInstant::now();
    let mut turns = 0;
    while state(&ra, lo(b)) == Some(State::Established) {
        ra.turn(Some(StdDuration::from_secs(1))).unwrap();
        turns += 1;
        assert!(t.elapsed() < StdDuration::from_secs(5), "still Established");
    }
    assert_eq!(turns, 1, "down in the turn that saw the close");
    assert_eq!(prefixes_from(&ra, lo(b)), 0, "B's route withdrawn");
}

/// Two speakers with TCP-MD5 keys and GTSM configured: the same key on both
/// sides gives a session (both directions of the TCP connection signed, TTL 255
/// sent and at least 254 required); different keys give none, the kernel drops
/// the unsigned or wrongly signed segments.
#[test]
fn md5_and_gtsm_between_two_speakers() {
    let session = |a: u8, b: u8, ka: &str, kb: &str, wait: StdDuration| {
        let mut ra = runtime(&config(a, b, true, |n| n.md5_key(ka).min_ttl(254)));
        let mut rb = runtime(&config(b, a, false, |n| n.md5_key(kb).min_ttl(254)));
        let end = StdInstant::now() + wait;
        while StdInstant::now() < end {
            ra.turn(Some(StdDuration::from_millis(5))).unwrap();
            rb.turn(Some(StdDuration::from_millis(5))).unwrap();
            if state(&ra, lo(b)) == Some(State::Established)
                && state(&rb, lo(a)) == Some(State::Established)
            {
                return true;
            }
        }
        false
    };
    assert!(session(
        88,
        89,
        "s3cret",
        "s3cret",
        StdDuration::from_secs(10)
    ));
    assert!(!session(
        90,
        91,
        "s3cret",
        "other",
        StdDuration::from_secs(3)
    ));
}

#[test]
fn a_peer_that_stops_reading_costs_at_most_the_output_bound() {
    // 20000 prefixes, each with its own community: one UPDATE of 50 bytes or
    // more each, over 1 MB in all, more than the output bound and the kernel's
    // buffers together.
    const N: usize = 20000;
    let mut file = config(86, 87, true, |n| n);
    for i in 0..N {
        let prefix = format!("198.18.{}.{}/32", i / 256, i % 256);
        file = file.originate(originate(&prefix, 86).community(65086, i as u16));
    }
    // A small kernel send buffer, so that the backlog shows in the runtime.
    let opts = Options {
        send_buffer: Some(16 * 1024),
        ..Options::default()
    };
    let bound = opts.output_bound;
    let mut ra = runtime_with(&file, opts);
    let to = SocketAddr::new(lo(86), PORT);
    // A small receive window; OPEN and KEEPALIVE written without waiting for
    // the speaker's (this thread turns its runtime), and nothing read, ever.
    let small = TcpOptions {
        rcvbuf: Some(4096),
        ..TcpOptions::default()
    };
    let mut s = RawPeer::connect(lo(87), to, &small).unwrap();
    s.send(&OpenSettings::new(65087, 90, Ipv4Addr::new(192, 0, 2, 87)).encode())
        .unwrap();
    s.send_keepalive().unwrap();
    turn_until(&mut [&mut ra], "Established", |r| {
        state(r[0], lo(87)) == Some(State::Established)
    });
    // The peer reads nothing from here on. Turn until nothing moves any more.
    let mut last = (u64::MAX, 0);
    let mut stable = 0;
    let end = StdInstant::now() + StdDuration::from_secs(20);
    while stable < 30 {
        ra.turn(Some(StdDuration::from_millis(10))).unwrap();
        let now = (ra.stats().bytes_written, ra.stats().max_out_buffered);
        stable = if now == last { stable + 1 } else { 0 };
        last = now;
        assert!(StdInstant::now() < end, "still moving: {:?}", ra.stats());
    }
    let st = ra.stats();
    assert!(
        st.max_out_buffered > 0,
        "the output filled up (the peer's window closed): {st:?}"
    );
    // One transmit may overshoot the bound: at most a run of UPDATEs.
    let transmit = nexthop_router::group::COALESCE_BYTES;
    assert!(
        st.max_out_buffered <= bound + transmit,
        "output past its bound: {st:?}"
    );
    let conns = ra.connections();
    assert_eq!(conns.len(), 1, "{conns:?}");
    let (_, out) = ra.buffered(conns[0].0).unwrap();
    assert!(out > 0 && out <= bound + transmit, "{out} buffered");
    assert!(
        (st.bytes_written as usize) + out < N * 50,
        "the speaker kept the rest: {st:?}, {out} buffered"
    );
    assert_eq!(state(&ra, lo(87)), Some(State::Established));
    drop(s);
}
