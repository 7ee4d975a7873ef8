//! The runtime conformance suite: each scenario is written once, generic over the
//! backend, and run against runtime-mio and runtime-uring (`mio::*`, `uring::*`).
//!
//! Speakers talk over loopback on addresses of this suite's own (127.0.0.200-229
//! for pairs, 127.201.0.0/16 and 127.202.0.0/16 for the thousand sessions), on
//! ports the kernel reports free, never 179. Waits are bounded; no assertion is
//! about how long something took, except that a peer's disappearance is seen long
//! before the 240 s hold timer could have fired.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use nexthop_runtime_conformance::{
    Backend, Mio, Node, OpenSettings, RawPeer, State, TcpOptions, Uring, UringSqpoll, config,
    free_port, neighbor, router,
};
use nexthop_speaker::config::file::Originate;

/// An output bound small enough for a test to fill.
const BOUND: usize = 64 * 1024;
/// Longer than any wait below: a session going down within a wait was not taken
/// down by its hold timer.
const HOLD: u16 = 240;
const WAIT: Duration = Duration::from_secs(60);

/// The suite's addresses: 127.0.0.200-214 for mio's runs, 215-229 for uring's,
/// 230-244 for uring with SQPOLL.
fn ip<B: Backend>(i: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 200 + 15 * B::INDEX + i))
}

/// A raw peer from `from` of AS `asn`, brought to Established with `dut`.
fn raw_peer(
    dut: SocketAddr,
    from: IpAddr,
    asn: u32,
    options: &TcpOptions,
) -> std::io::Result<RawPeer> {
    RawPeer::establish(
        from,
        dut,
        &OpenSettings::from_address(asn, HOLD, from),
        options,
    )
}

fn prefix_count(node: &Node, from: IpAddr) -> u32 {
    node.query(move |d| {
        let s = d.speaker();
        s.router_peer(from)
            .map_or(0, |p| s.router().prefix_count(p))
    })
}

/// A actively connects to B, which accepts: both reach Established, and a route A
/// originates reaches B.
fn accept_and_connect<B: Backend>() {
    let (a, b) = (ip::<B>(1), ip::<B>(2));
    let (pa, pb) = (free_port(a).unwrap(), free_port(b).unwrap());
    let b_node = Node::start::<B>(
        "b",
        config(
            &router(65002, b, &[SocketAddr::new(b, pb)])
                .neighbor(neighbor(a, 65001, pa).passive(true).mrai(0)),
        ),
        BOUND,
    );
    let a_node = Node::start::<B>(
        "a",
        config(
            &router(65001, a, &[SocketAddr::new(a, pa)])
                .neighbor(
                    neighbor(b, 65002, pb)
                        .bind_addr(a)
                        .mrai(0)
                        .connect_retry_time(2),
                )
                .originate(Originate::new("198.51.100.0/24".parse().unwrap())),
        ),
        BOUND,
    );
    a_node.wait_until("A Established with B", WAIT, move |d| {
        d.speaker().session_state(b) == Some(State::Established)
    });
    b_node.wait_until("B Established with A", WAIT, move |d| {
        d.speaker().session_state(a) == Some(State::Established)
    });
    b_node.wait_until("A's route at B", WAIT, move |d| {
        let s = d.speaker();
        s.router_peer(a)
            .is_some_and(|p| s.router().prefix_count(p) == 1)
    });
    assert_eq!(prefix_count(&b_node, a), 1);
    assert_eq!(a_node.query(|d| d.open_connections()), 1);
}

/// Both connect at once (RFC 4271 §6.8): one connection survives on each side
/// and the session is Established over it.
fn collision<B: Backend>() {
    let (a, b) = (ip::<B>(3), ip::<B>(4));
    let (pa, pb) = (free_port(a).unwrap(), free_port(b).unwrap());
    let cfg = |me: IpAddr, my_port: u16, asn: u32, peer: IpAddr, peer_port: u16, peer_asn: u32| {
        config(
            &router(asn, me, &[SocketAddr::new(me, my_port)]).neighbor(
                neighbor(peer, peer_asn, peer_port)
                    .bind_addr(me)
                    .connect_retry_time(1),
            ),
        )
    };
    let (ca, cb) = (
        cfg(a, pa, 65001, b, pb, 65002),
        cfg(b, pb, 65002, a, pa, 65001),
    );
    // Start both before either turns, so both connects go out together.
    let b_node = Node::start::<B>("b", cb, BOUND);
    let a_node = Node::start::<B>("a", ca, BOUND);
    for (node, peer) in [(&a_node, b), (&b_node, a)] {
        node.wait_until("Established after the collision", WAIT, move |d| {
            d.speaker().session_state(peer) == Some(State::Established)
        });
        node.wait_until("one connection left", WAIT, move |d| {
            d.open_connections() == 1 && d.speaker().connection_count() == 1
        });
    }
    assert_eq!(a_node.state(b), Some(State::Established));
    assert_eq!(b_node.state(a), Some(State::Established));
}

/// A peer's FIN and a peer's RST each take the session down at once: long
/// before the hold timer (240 s), within a bounded wait.
fn peer_close_and_reset_seen_at_once<B: Backend>() {
    let dut = ip::<B>(5);
    let (closer, resetter, crasher) = (ip::<B>(6), ip::<B>(7), ip::<B>(8));
    let port = free_port(dut).unwrap();
    let crasher_port = free_port(crasher).unwrap();
    let held = |address, asn, port| {
        neighbor(address, asn, port)
            .passive(true)
            .hold_time(HOLD)
            .keepalive_time(80)
    };
    let dut_node = Node::start::<B>(
        "dut",
        config(
            &router(65000, dut, &[SocketAddr::new(dut, port)])
                .neighbor(held(closer, 65006, 179))
                .neighbor(held(resetter, 65007, 179))
                .neighbor(held(crasher, 65008, crasher_port)),
        ),
        BOUND,
    );
    let addr = SocketAddr::new(dut, port);
    let tcp = TcpOptions::default();
    let p1 = raw_peer(addr, closer, 65006, &tcp).expect("closer up");
    let p2 = raw_peer(addr, resetter, 65007, &tcp).expect("resetter up");
    // A speaker on the same backend whose process "dies": the kernel sends FIN.
    let crash_node = Node::start::<B>(
        "crasher",
        config(
            &router(65008, crasher, &[SocketAddr::new(crasher, crasher_port)]).neighbor(
                neighbor(dut, 65000, port)
                    .bind_addr(crasher)
                    .hold_time(HOLD),
            ),
        ),
        BOUND,
    );
    for peer in [closer, resetter, crasher] {
        dut_node.wait_until("Established", WAIT, move |d| {
            d.speaker().session_state(peer) == Some(State::Established)
        });
    }
    assert_eq!(dut_node.query(|d| d.open_connections()), 3);

    p1.close();
    dut_node.wait_until("down after the peer's FIN", WAIT, move |d| {
        d.speaker().session_state(closer) != Some(State::Established)
    });
    p2.reset();
    dut_node.wait_until("down after the peer's RST", WAIT, move |d| {
        d.speaker().session_state(resetter) != Some(State::Established)
    });
    crash_node.crash();
    dut_node.wait_until("down after the peer's process ended", WAIT, move |d| {
        d.speaker().session_state(crasher) != Some(State::Established)
    });
    dut_node.wait_until("every socket closed", WAIT, |d| d.open_connections() == 0);
}

/// A peer that stops reading: the runtime holds at most the bound (plus one
/// message) for it, and another receiver still gets the whole table.
fn stalled_reader_is_bounded_and_delays_no_one<B: Backend>() {
    const ROUTES: u32 = 20_000;
    let (dut, src, fast, stuck) = (ip::<B>(9), ip::<B>(10), ip::<B>(11), ip::<B>(12));
    let port = free_port(dut).unwrap();
    let (src_port, fast_port) = (free_port(src).unwrap(), free_port(fast).unwrap());
    let client = |address, asn, port| {
        neighbor(address, asn, port)
            .passive(true)
            .mrai(0)
            .hold_time(HOLD)
    };
    let dut_node = Node::start::<B>(
        "dut",
        config(
            &router(65000, dut, &[SocketAddr::new(dut, port)])
                .neighbor(client(src, 65010, src_port))
                .neighbor(client(fast, 65011, fast_port))
                .neighbor(client(stuck, 65012, 179)),
        ),
        BOUND,
    );
    let addr = SocketAddr::new(dut, port);
    // A 4 KiB receive buffer: the stalled peer's kernel takes little.
    let small = TcpOptions {
        rcvbuf: Some(4096),
        ..TcpOptions::default()
    };
    let _stuck_peer = raw_peer(addr, stuck, 65012, &small).expect("stuck peer up");
    let fast_node = Node::start::<B>(
        "fast",
        config(
            &router(65011, fast, &[SocketAddr::new(fast, fast_port)])
                .neighbor(neighbor(dut, 65000, port).bind_addr(fast).hold_time(HOLD)),
        ),
        BOUND,
    );
    fast_node.wait_until("fast receiver Established", WAIT, move |d| {
        d.speaker().session_state(dut) == Some(State::Established)
    });
    // Each route with its own community: one UPDATE per route, a few MB in all.
    let mut src_config = router(65010, src, &[SocketAddr::new(src, src_port)]).neighbor(
        neighbor(dut, 65000, port)
            .bind_addr(src)
            .mrai(0)
            .hold_time(HOLD),
    );
    for i in 0..ROUTES {
        let prefix = format!("10.{}.{}.0/24", (i >> 8) & 0xff, i & 0xff);
        src_config = src_config
            .originate(Originate::new(prefix.parse().unwrap()).community(65010, i as u16));
    }
    let _src_node = Node::start::<B>("src", config(&src_config), BOUND);
    fast_node.wait_until(
        "the whole table at the fast receiver",
        Duration::from_secs(180),
        move |d| {
            let s = d.speaker();
            s.router_peer(dut)
                .is_some_and(|p| s.router().prefix_count(p) == ROUTES)
        },
    );
    let (max_out, stuck_state) =
        dut_node.query(move |d| (d.stats().max_out_buffered, d.speaker().session_state(stuck)));
    // The stalled connection's output reached the bound (the test exercised
    // backpressure) and never went past it by more than one transmit: a run of
    // UPDATEs the router shares between members, at most COALESCE_BYTES.
    assert!(max_out >= BOUND / 2, "backpressure not reached: {max_out}");
    assert!(
        max_out <= BOUND + nexthop_router::group::COALESCE_BYTES,
        "output grew past the bound: {max_out}"
    );
    assert_eq!(stuck_state, Some(State::Established));
}

/// 1000 sessions on loopback: the device under test listens on 1000 addresses
/// and accepts a dynamic range; one speaker opens a session to each address.
fn thousand_sessions<B: Backend>() {
    const N: u32 = 1000;
    let octet = B::INDEX + 1;
    let dut_ip = |i: u32| {
        IpAddr::V4(Ipv4Addr::new(
            127,
            201,
            octet * 16 + (i / 250) as u8,
            (i % 250 + 1) as u8,
        ))
    };
    let client_ip = |i: u32| {
        IpAddr::V4(Ipv4Addr::new(
            127,
            202,
            octet * 16 + (i / 250) as u8,
            (i % 250 + 1) as u8,
        ))
    };
    let port = free_port(dut_ip(0)).unwrap();
    let listen: Vec<SocketAddr> = (0..N).map(|i| SocketAddr::new(dut_ip(i), port)).collect();
    let range = format!("127.202.{}.0/22", octet * 16).parse().unwrap();
    let dut_node = Node::start::<B>(
        "dut1000",
        config(&router(65000, "10.0.0.1".parse().unwrap(), &listen).dynamic_neighbor(range, 65000)),
        BOUND,
    );
    let mut client_config = router(65000, "10.0.0.2".parse().unwrap(), &[]);
    for i in 0..N {
        client_config = client_config.neighbor(
            neighbor(dut_ip(i), 65000, port)
                .bind_addr(client_ip(i))
                .connect_retry_time(2),
        );
    }
    let client = Node::start::<B>("client1000", config(&client_config), BOUND);
    let long = Duration::from_secs(240);
    client.wait_until("1000 sessions Established at the client", long, |d| {
        d.speaker()
            .neighbors()
            .iter()
            .filter(|(_, s)| *s == State::Established)
            .count()
            == N as usize
    });
    dut_node.wait_until("1000 sessions Established at the DUT", long, |d| {
        d.speaker()
            .neighbors()
            .iter()
            .filter(|(_, s)| *s == State::Established)
            .count()
            == N as usize
    });
    assert_eq!(dut_node.query(|d| d.open_connections()), N as usize);
}

/// Shutdown: a Cease 6/2 (Administrative Shutdown, RFC 4486) with the RFC 9003
/// communication to every peer, every connection closed, then the loop ends.
fn clean_shutdown<B: Backend>() {
    let dut = ip::<B>(13);
    let peers = [ip::<B>(14), ip::<B>(0)];
    let port = free_port(dut).unwrap();
    let mut file = router(65000, dut, &[SocketAddr::new(dut, port)]);
    for (i, p) in peers.iter().enumerate() {
        file = file.neighbor(
            neighbor(*p, 65020 + i as u32, 179)
                .passive(true)
                .hold_time(HOLD),
        );
    }
    let node = Node::start::<B>("dut", config(&file), BOUND);
    let addr = SocketAddr::new(dut, port);
    let mut raw: Vec<RawPeer> = peers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            raw_peer(addr, *p, 65020 + i as u32, &TcpOptions::default()).expect("peer up")
        })
        .collect();
    for p in peers {
        node.wait_until("Established", WAIT, move |d| {
            d.speaker().session_state(p) == Some(State::Established)
        });
    }
    let shutdown =
        std::thread::spawn(move || node.shutdown("maintenance window", Duration::from_secs(30)));
    for p in &mut raw {
        let (code, subcode, data) = p
            .read_notification()
            .expect("read")
            .expect("a NOTIFICATION");
        assert_eq!((code, subcode), (6, 2), "Cease / Administrative Shutdown");
        let text = b"maintenance window";
        assert_eq!(data.first().copied(), Some(text.len() as u8));
        assert_eq!(&data[1..], text);
        assert!(p.reads_to_end(), "the connection ends after the Cease");
    }
    drop(raw);
    assert!(
        shutdown.join().expect("shutdown thread"),
        "shut down with every connection closed"
    );
}

/// TCP-MD5 (RFC 2385) and GTSM (RFC 5082) on both ends: the passive side's
/// listener carries the key and answers with TTL 255, the active side's socket
/// carries the key and its minimum TTL; the session comes up. (The portable
/// socket options refuse both: `edge.rs` checks that.)
#[cfg(not(feature = "portable-fallback"))]
fn md5_and_gtsm<B: Backend>() {
    // The addresses of `accept_and_connect`, on ports of their own.
    let (a, b) = (ip::<B>(1), ip::<B>(2));
    let (pa, pb) = (free_port(a).unwrap(), free_port(b).unwrap());
    let secure =
        |n: nexthop_speaker::config::file::Neighbor| n.md5_key("conformance-secret").min_ttl(255);
    let b_node = Node::start::<B>(
        "b",
        config(
            &router(65002, b, &[SocketAddr::new(b, pb)])
                .neighbor(secure(neighbor(a, 65001, pa).passive(true))),
        ),
        BOUND,
    );
    let a_node = Node::start::<B>(
        "a",
        config(
            &router(65001, a, &[SocketAddr::new(a, pa)]).neighbor(secure(
                neighbor(b, 65002, pb).bind_addr(a).connect_retry_time(2),
            )),
        ),
        BOUND,
    );
    a_node.wait_until(
        "A Established with B over TCP-MD5 and GTSM",
        WAIT,
        move |d| d.speaker().session_state(b) == Some(State::Established),
    );
    b_node.wait_until(
        "B Established with A over TCP-MD5 and GTSM",
        WAIT,
        move |d| d.speaker().session_state(a) == Some(State::Established),
    );
    // The key is really on B's listener: an unsigned SYN from A's address gets
    // no answer (the raw peer gives up after its 10 s connect timeout).
    let unsigned = raw_peer(SocketAddr::new(b, pb), a, 65001, &TcpOptions::default());
    assert!(unsigned.is_err(), "an unsigned connection was accepted");
}

macro_rules! suite {
    ($( $(#[$m:meta])* $name:ident ),* $(,)?) => {
        mod mio {
            $( $(#[$m])* #[test] fn $name() { super::$name::<super::Mio>() } )*
        }
        mod uring {
            $( $(#[$m])* #[test] fn $name() { super::$name::<super::Uring>() } )*
        }
        mod uring_sqpoll {
            $( $(#[$m])* #[test] fn $name() { super::$name::<super::UringSqpoll>() } )*
        }
    };
}

suite!(
    accept_and_connect,
    collision,
    peer_close_and_reset_seen_at_once,
    stalled_reader_is_bounded_and_delays_no_one,
    thousand_sessions,
    clean_shutdown,
    #[cfg(not(feature = "portable-fallback"))]
    md5_and_gtsm,
);
