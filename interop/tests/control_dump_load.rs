//! Issue 13: a full route dump through the control API while many sessions
//! with a short hold time run. nexthopd originates a table; raw peers
//! (test-support's `RawPeer`, one thread each) connect from 127.6.x.y to a
//! `[[dynamic_neighbor]]` with hold time 3 s, send a KEEPALIVE every second
//! and note when each message arrives. `GET /v1/routes` is read while they
//! run and every route counted. Asserted: every route arrives, and no session
//! goes down — no peer goes the hold time without a message from nexthopd
//! (its hold timer would expire, RFC 4271 §6.5), none is closed, and every
//! neighbour is still Established at nexthopd with no flap afterwards. The
//! largest KEEPALIVE gap a peer saw is printed as a figure, not asserted.
//!
//! Scale: `NEXTHOP_DUMP_PEERS` (default 100) and `NEXTHOP_DUMP_PREFIXES`
//! (default 20000). nexthopd on 127.0.0.191, a free port.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nexthop_speaker::config::file::{ConfigFile, Originate};
use nexthop_test_support::address::free_port;
use nexthop_test_support::nexthopd::{Nexthopd, binary, control_socket, ctl};
use nexthop_test_support::raw_peer::{OpenSettings, TcpOptions};
use nexthop_test_support::{RawPeer, RunDir, http};

const OUR_AS: u32 = 65191;
const PEER_AS: u32 = 65300;
const HOLD: u16 = 3;
const KEEPALIVE: u8 = 4;

fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one peer saw.
#[derive(Debug, Default)]
struct Seen {
    /// Largest gap between two messages of any type (what its hold timer sees).
    max_gap: Duration,
    /// Largest gap between two KEEPALIVEs.
    max_keepalive_gap: Duration,
    /// Largest gap between two KEEPALIVEs with the dump running in between.
    max_keepalive_gap_dump: Duration,
    /// The session ended (closed, reset or a NOTIFICATION): why.
    ended: Option<String>,
    messages: u64,
}

fn peer(
    from: IpAddr,
    to: SocketAddr,
    stop: Arc<AtomicBool>,
    dumping: Arc<AtomicBool>,
) -> std::io::Result<thread::JoinHandle<Seen>> {
    let open = OpenSettings::from_address(PEER_AS, HOLD, from);
    let mut p = RawPeer::establish(from, to, &open, &TcpOptions::default())?;
    p.set_read_timeout(Some(Duration::from_millis(100)))?;
    Ok(thread::spawn(move || {
        let mut seen = Seen::default();
        let (mut last, mut last_ka, mut sent) = (Instant::now(), None::<Instant>, Instant::now());
        let mut dump_since_ka = false;
        while !stop.load(Ordering::Relaxed) {
            dump_since_ka |= dumping.load(Ordering::Relaxed);
            if sent.elapsed() >= Duration::from_secs(1) {
                if let Err(e) = p.send_keepalive() {
                    seen.ended = Some(format!("sending KEEPALIVE: {e}"));
                    break;
                }
                sent = Instant::now();
            }
            match p.read_message() {
                Ok(Some(m)) => {
                    let t = Instant::now();
                    seen.messages += 1;
                    seen.max_gap = seen.max_gap.max(t - last);
                    last = t;
                    if let Some((code, sub, _)) = m.notification() {
                        seen.ended = Some(format!("NOTIFICATION {code}/{sub}"));
                        break;
                    }
                    if m.0.get(18) == Some(&KEEPALIVE) {
                        if let Some(k) = last_ka {
                            seen.max_keepalive_gap = seen.max_keepalive_gap.max(t - k);
                            if dump_since_ka || dumping.load(Ordering::Relaxed) {
                                seen.max_keepalive_gap_dump =
                                    seen.max_keepalive_gap_dump.max(t - k);
                            }
                        }
                        last_ka = Some(t);
                        dump_since_ka = false;
                    }
                }
                Ok(None) => {
                    seen.ended = Some("closed by nexthopd".into());
                    break;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(e) => {
                    seen.ended = Some(format!("read: {e}"));
                    break;
                }
            }
        }
        seen.max_gap = seen.max_gap.max(last.elapsed());
        seen
    }))
}

#[test]
fn full_dump_keeps_every_short_hold_session_up() {
    let peers = env_or("NEXTHOP_DUMP_PEERS", 100);
    let prefixes = env_or("NEXTHOP_DUMP_PREFIXES", 20_000);
    assert!(peers <= 4000 && prefixes <= 1 << 22, "scale out of range");
    let run = RunDir::new("control_dump_load").unwrap();
    let me: IpAddr = "127.0.0.191".parse().unwrap();
    let listen = SocketAddr::new(me, free_port(me).unwrap());
    let mut file = ConfigFile::new(OUR_AS, Ipv4Addr::new(192, 0, 2, 191))
        .listen(listen)
        .dynamic_neighbor("127.6.0.0/20".parse().unwrap(), PEER_AS);
    for i in 0..prefixes {
        // /24s from 10.0.0.0 up: 65,536 per /8.
        let p = format!("{}.{}.{}.0/24", 10 + (i >> 16), i >> 8 & 0xff, i & 0xff);
        file = file.originate(Originate::new(p.parse().unwrap()));
    }
    let n = Nexthopd::start(&binary().unwrap(), run.path(), &file.to_toml(), listen).unwrap();
    let sock = control_socket(run.path());

    let stop = Arc::new(AtomicBool::new(false));
    let dumping = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for i in 1..=peers {
        let from = IpAddr::V4(Ipv4Addr::new(127, 6, (i >> 8) as u8, i as u8));
        let t = peer(from, listen, stop.clone(), dumping.clone())
            .unwrap_or_else(|e| panic!("peer {from}: {e}\n{}", n.log_tail(40)));
        threads.push((from, t));
    }
    // Every neighbour Established at nexthopd.
    let established = |n: &Nexthopd| {
        let v = ctl(&sock, &["--json", "status"]).unwrap().json();
        let _ = n;
        v["established"].as_u64().unwrap_or(0)
    };
    let t0 = Instant::now();
    while established(&n) < u64::from(peers) {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "not all {peers} Established\n{}",
            n.log_tail(40)
        );
        thread::sleep(Duration::from_millis(200));
    }

    // The dump, counted: every originated route arrives, once.
    dumping.store(true, Ordering::Relaxed);
    let d0 = Instant::now();
    let r = http::get(&sock, "/v1/routes", Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("{e}\n{}", n.log_tail(40)));
    let took = d0.elapsed();
    dumping.store(false, Ordering::Relaxed);
    assert_eq!(r.status, 200, "{}", r.text());
    let routes: serde_json::Value =
        serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("dump is not JSON: {e}"));
    let routes = routes.as_array().unwrap();
    assert_eq!(routes.len(), prefixes as usize, "routes in the dump");
    let mut names: Vec<&str> = routes
        .iter()
        .map(|r| r["prefix"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(
        names.len(),
        prefixes as usize,
        "distinct prefixes in the dump"
    );

    // Keep them running a hold time past the dump, then stop and collect.
    thread::sleep(Duration::from_secs(u64::from(HOLD) + 1));
    stop.store(true, Ordering::Relaxed);
    let mut worst = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut failures = Vec::new();
    for (from, t) in threads {
        let s = t.join().unwrap();
        if let Some(why) = &s.ended {
            failures.push(format!("{from}: session ended: {why}"));
        }
        if s.max_gap >= Duration::from_secs(u64::from(HOLD)) {
            failures.push(format!(
                "{from}: {:?} without a message from nexthopd: its hold timer ({HOLD} s) expired",
                s.max_gap
            ));
        }
        worst.0 = worst.0.max(s.max_gap);
        worst.1 = worst.1.max(s.max_keepalive_gap);
        worst.2 = worst.2.max(s.max_keepalive_gap_dump);
    }
    let status = ctl(&sock, &["--json", "show", "neighbors"]).unwrap().json();
    for x in status.as_array().unwrap() {
        if x["state"] != "Established" || x["flaps"] != 0 {
            failures.push(format!("at nexthopd: {x}"));
        }
    }
    eprintln!(
        "dump: {prefixes} routes, {} bytes in {took:?} with {peers} sessions (hold {HOLD} s); \
         largest gap between messages {:?}, between KEEPALIVEs {:?} (across the dump {:?})",
        r.body.len(),
        worst.0,
        worst.1,
        worst.2
    );
    assert!(failures.is_empty(), "{failures:#?}\n{}", n.log_tail(40));
}
