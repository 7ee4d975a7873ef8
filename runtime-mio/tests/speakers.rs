//! Two real speakers in two runtimes over loopback (one thread, turns
//! interleaved): one connects, the other accepts, both reach Established and
//! exchange their routes; when one runtime goes away the other's session goes
//! down in the turn that sees the FIN, not at hold-timer expiry (90 s here). A
//! raw peer that completes the OPEN exchange and then stops reading costs the
//! runtime at most its output bound while the speaker has far more to send.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration as StdDuration, Instant as StdInstant};

use nexthop_core::session::State;
use nexthop_runtime_mio::{Instant, Options, Runtime, monotonic_clock};
use nexthop_speaker::Speaker;
use nexthop_speaker::config::Config;

type Rt = Runtime<Speaker, Box<dyn FnMut() -> Instant>>;

fn lo(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

const PORT: u16 = 10179;

fn runtime(toml: &str) -> Rt {
    runtime_with(toml, Options::default())
}

fn runtime_with(toml: &str, opts: Options) -> Rt {
    let cfg = Config::from_toml(toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    let mut clock: Box<dyn FnMut() -> Instant> = Box::new(monotonic_clock());
    let speaker = Speaker::new(cfg, clock());
    Runtime::new(speaker, clock, opts).unwrap()
}

fn config(me: u8, peer: u8, passive: bool, originate: &str) -> String {
    format!(
        r#"
[router]
asn = 650{me}
router_id = "192.0.2.{me}"
listen = ["127.0.0.{me}:{PORT}"]

[[neighbor]]
address = "127.0.0.{peer}"
remote_asn = 650{peer}
port = {PORT}
passive = {passive}
bind_addr = "127.0.0.{me}"
hold_time = 90
connect_retry_time = 1
mrai = 0
{originate}"#
    )
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
    let originate = |me: u8| {
        format!("\n[[originate]]\nprefix = \"198.18.{me}.0/24\"\nnext_hop = \"198.51.100.{me}\"\n")
    };
    let mut ra = runtime(&config(a, b, true, &originate(a)));
    let mut rb = runtime(&config(b, a, false, &originate(b)));
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
    let with = |key: &str| format!("md5_key = \"{key}\"\nmin_ttl = 254\n");
    let session = |a: u8, b: u8, ka: &str, kb: &str, wait: StdDuration| {
        let mut ra = runtime(&config(a, b, true, &with(ka)));
        let mut rb = runtime(&config(b, a, false, &with(kb)));
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

/// An OPEN for AS `asn`, identifier 192.0.2.`id`, hold time 90, no capabilities.
fn open(asn: u16, id: u8) -> Vec<u8> {
    let mut m = vec![0xff; 16];
    m.extend_from_slice(&29u16.to_be_bytes());
    m.push(1);
    m.push(4);
    m.extend_from_slice(&asn.to_be_bytes());
    m.extend_from_slice(&90u16.to_be_bytes());
    m.extend_from_slice(&[192, 0, 2, id]);
    m.push(0);
    m
}

#[test]
fn a_peer_that_stops_reading_costs_at_most_the_output_bound() {
    // 20000 prefixes, each with its own community: one UPDATE of 50 bytes or
    // more each, over 1 MB in all, more than the output bound and the kernel's
    // buffers together.
    const N: usize = 20000;
    let mut originate = String::new();
    for i in 0..N {
        originate.push_str(&format!(
            "\n[[originate]]\nprefix = \"198.18.{}.{}/32\"\nnext_hop = \"198.51.100.86\"\ncommunities = [\"65086:{}\"]\n",
            i / 256,
            i % 256,
            i
        ));
    }
    // A small kernel send buffer, so that the backlog shows in the runtime.
    let opts = Options {
        send_buffer: Some(16 * 1024),
        ..Options::default()
    };
    let bound = opts.output_bound;
    let mut ra = runtime_with(&config(86, 87, true, &originate), opts);
    let to = SocketAddr::new(lo(86), PORT);
    let sock = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    sock.bind(&SocketAddr::new(lo(87), 0).into()).unwrap();
    sock.connect(&to.into()).unwrap();
    let mut s: TcpStream = sock.into();
    s.write_all(&open(65087, 87)).unwrap();
    let mut keepalive = vec![0xff; 16];
    keepalive.extend_from_slice(&[0, 19, 4]);
    s.write_all(&keepalive).unwrap();
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
