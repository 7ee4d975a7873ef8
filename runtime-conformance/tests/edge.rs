//! The runtime edge's duties, each written once and run against every backend
//! (`mio`, `uring`, `uring_sqpoll` in each group): GTSM (RFC 5082) on the
//! handshake, the options every socket gets (read back from the kernel), the
//! fail-closed paths, the fair receive budget; and, built with
//! `--features portable-fallback`, the refusal of configs that ask for what the
//! portable socket options cannot do.
//!
//! Addresses: 127.3.B.0/24, B = 1 for mio, 2 for uring, 3 for uring with
//! SQPOLL; ports the kernel reports free, never 179. The failures are the
//! kernel's own: a seccomp filter on a node's thread makes `setsockopt` refuse
//! the option under test ([`kernel::refuse_setsockopt`]).

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::time::{Duration, Instant as StdInstant};

use nexthop_runtime_conformance::{
    Backend, Closed, Command, Config, ConnKey, Instant, Mio, Node, OpenSettings, Options, RawPeer,
    SansIo, State, TcpOptions, Uring, UringSqpoll, config, free_port, kernel, neighbor, router,
    tcp_connect,
};
use nexthop_speaker::config::file::Neighbor;

const BOUND: usize = 64 * 1024;
const HOLD: u16 = 240;
const WAIT: Duration = Duration::from_secs(60);

fn ip<B: Backend>(i: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 3, B::INDEX + 1, i))
}

/// A passive neighbour holding its sessions for 240 s.
fn client(address: IpAddr, asn: u32) -> Neighbor {
    neighbor(address, asn, 179).passive(true).hold_time(HOLD)
}

/// A device under test on `dut` with `neighbors` ([`client`]s).
fn dut_config(dut: SocketAddr, neighbors: impl IntoIterator<Item = Neighbor>) -> Config {
    let mut file = router(65000, dut.ip(), &[dut]);
    file.neighbors.extend(neighbors);
    config(&file)
}

/// A TCP connection from `from` at TTL `ttl` (the kernel's when `None`),
/// given up after `timeout`.
fn connect(
    dut: SocketAddr,
    from: IpAddr,
    ttl: Option<u32>,
    timeout: Duration,
) -> std::io::Result<TcpStream> {
    let options = TcpOptions {
        ttl,
        connect_timeout: timeout,
        ..TcpOptions::default()
    };
    tcp_connect(from, dut, &options)
}

/// Whether the session with `peer` got past waiting for a connection.
#[cfg_attr(feature = "portable-fallback", allow(dead_code))]
fn opened(node: &Node, peer: IpAddr) -> bool {
    !matches!(
        node.state(peer),
        Some(State::Idle | State::Connect | State::Active) | None
    )
}

fn wait_established(node: &Node, peer: IpAddr) {
    node.wait_until("Established", WAIT, move |d| {
        d.speaker().session_state(peer) == Some(State::Established)
    });
}

/// A raw peer from `from` at TTL `ttl`, brought to Established.
#[cfg_attr(feature = "portable-fallback", allow(dead_code))]
fn raw_peer(dut: SocketAddr, from: IpAddr, asn: u32, ttl: u32) -> std::io::Result<RawPeer> {
    let options = TcpOptions {
        ttl: Some(ttl),
        ..TcpOptions::default()
    };
    RawPeer::establish(
        from,
        dut,
        &OpenSettings::from_address(asn, HOLD, from),
        &options,
    )
}

/// `(accepted, option failures, open sockets, speaker's connections)` of a node.
fn counts(node: &Node) -> (u64, u64, usize, usize) {
    node.query(|d| {
        let s = d.stats();
        (
            s.accepted,
            s.option_failures,
            d.open_connections(),
            d.speaker().connection_count(),
        )
    })
}

// ----- every build ------------------------------------------------------------

/// SO_REUSEADDR on the listeners, TCP_NODELAY on accepted and on outbound
/// connections, read back from the kernel.
fn listeners_reuse_addresses_and_connections_do_not_delay<B: Backend>() {
    let (a, b) = (ip::<B>(1), ip::<B>(2));
    let (pa, pb) = (free_port(a).unwrap(), free_port(b).unwrap());
    let b_node = Node::start::<B>(
        "b",
        dut_config(SocketAddr::new(b, pb), [client(a, 65001)]),
        BOUND,
    );
    let a_node = Node::start::<B>(
        "a",
        config(
            &router(65001, a, &[SocketAddr::new(a, pa)])
                .neighbor(neighbor(b, 65000, pb).bind_addr(a).connect_retry_time(2)),
        ),
        BOUND,
    );
    wait_established(&a_node, b);
    wait_established(&b_node, a);
    let options = |node: &Node| {
        node.query(|d| {
            let listener = d.listener_socket(0).expect("a listener");
            let (k, _) = d.connections()[0];
            let conn = d.connection_socket(k).expect("its socket");
            (
                socket2::SockRef::from(&listener)
                    .reuse_address()
                    .expect("SO_REUSEADDR"),
                socket2::SockRef::from(&conn)
                    .tcp_nodelay()
                    .expect("TCP_NODELAY"),
            )
        })
    };
    assert_eq!(
        options(&b_node),
        (true, true),
        "B: listener, accepted connection"
    );
    assert_eq!(
        options(&a_node),
        (true, true),
        "A: listener, outbound connection"
    );
}

/// A speaker that records every read: which connection, how many bytes.
#[derive(Default)]
struct Recorder {
    listen: Vec<SocketAddr>,
    accepted: u32,
    reads: Vec<(ConnKey, usize)>,
}

impl SansIo for Recorder {
    type Transmit = Vec<u8>;
    fn listen_addresses(&self) -> Vec<SocketAddr> {
        self.listen.clone()
    }
    fn handle_accepted(&mut self, _: Instant, _: SocketAddr, _: SocketAddr) -> Option<ConnKey> {
        self.accepted += 1;
        Some(ConnKey(self.accepted))
    }
    fn handle_connected(&mut self, _: Instant, _: ConnKey, _: SocketAddr) {}
    fn handle_connect_failed(&mut self, _: Instant, _: ConnKey) {}
    fn handle_read(&mut self, _: Instant, conn: ConnKey, bytes: &[u8]) -> usize {
        self.reads.push((conn, bytes.len()));
        bytes.len()
    }
    fn handle_closed(&mut self, _: Instant, _: ConnKey, _: Closed) {}
    fn handle_timeout(&mut self, _: Instant) {}
    fn poll_command(&mut self) -> Option<Command> {
        None
    }
    fn poll_ready(&mut self) -> Option<ConnKey> {
        None
    }
    fn poll_transmit(&mut self, _: Instant, _: ConnKey) -> Option<Vec<u8>> {
        None
    }
    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

/// Two peers with 64 KiB each waiting in the kernel at once, a receive budget
/// of 16 KiB a turn: their bytes reach the speaker side by side, never more
/// than one budget of one while the other waits (read one after the other, one
/// peer's 64 KiB would go in a row).
fn peers_sending_at_once_are_read_side_by_side<B: Backend>() {
    const EACH: usize = 64 * 1024;
    const BUDGET: usize = 16 * 1024;
    let dut = SocketAddr::new(ip::<B>(10), free_port(ip::<B>(10)).unwrap());
    let node = Node::spawn::<B>(
        "recorder",
        move || Recorder {
            listen: vec![dut],
            ..Recorder::default()
        },
        Options {
            recv_budget: BUDGET,
            ..Options::default()
        },
        || {},
    )
    .expect("the recorder starts");
    let mut senders: Vec<TcpStream> = [ip::<B>(11), ip::<B>(12)]
        .into_iter()
        .map(|from| connect(dut, from, None, Duration::from_secs(10)).expect("connect"))
        .collect();
    node.wait_until("both accepted", WAIT, |d| d.speaker().accepted == 2);
    {
        let _paused = node.pause();
        for s in &mut senders {
            s.write_all(&[0x5a; EACH]).expect("write");
        }
        // Every byte in the DUT's socket (its kernel acknowledged them all)
        // before the runtime reads anything.
        let end = StdInstant::now() + WAIT;
        for s in &senders {
            while kernel::unacknowledged(s.as_fd()).expect("SIOCOUTQ") > 0 {
                assert!(
                    StdInstant::now() < end,
                    "the DUT's kernel did not take the bytes"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }
    node.wait_until("everything read", WAIT, |d| {
        d.speaker().reads.iter().map(|r| r.1).sum::<usize>() == 2 * EACH
    });
    let reads = node.query(|d| d.speaker().reads.clone());
    let mut left: HashMap<ConnKey, usize> = HashMap::from([(ConnKey(1), EACH), (ConnKey(2), EACH)]);
    let (mut run, mut longest) = ((ConnKey(0), 0), 0);
    for &(k, n) in &reads {
        run = if run.0 == k { (k, run.1 + n) } else { (k, n) };
        let other = if k == ConnKey(1) {
            ConnKey(2)
        } else {
            ConnKey(1)
        };
        if left[&other] > 0 {
            longest = longest.max(run.1);
        }
        *left.get_mut(&k).expect("a known connection") -= n;
    }
    // A share of the budget, plus one read (16 KiB) past it at most.
    assert!(
        longest <= 2 * BUDGET,
        "{longest} bytes of one peer in a row while the other waited: {reads:?}"
    );
}

// ----- Linux socket options ------------------------------------------------------

/// GTSM (RFC 5082) on the handshake: a sender whose TTL is below the
/// neighbour's `min_ttl` never completes its connect, the speaker never sees a
/// connection, the session never leaves Active; a neighbour without GTSM is
/// accepted from the same distance; the GTSM neighbour at TTL 255 reaches
/// Established, on a socket that keeps checking (the listener's filter and its
/// own minimum TTL).
#[cfg(not(feature = "portable-fallback"))]
fn a_sender_below_the_minimum_ttl_never_reaches_open<B: Backend>() {
    use nexthop_runtime_conformance::sockopt;
    let dut = SocketAddr::new(ip::<B>(20), free_port(ip::<B>(20)).unwrap());
    let (gtsm, plain) = (ip::<B>(21), ip::<B>(22));
    let node = Node::start::<B>(
        "dut",
        dut_config(
            dut,
            [client(gtsm, 65021).min_ttl(254), client(plain, 65022)],
        ),
        BOUND,
    );
    // TTL 200 arrives as 200 over loopback: 54 hops too far.
    let far = connect(dut, gtsm, Some(200), Duration::from_secs(3));
    let e = far.map(drop).expect_err("the connect completed");
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
    assert_eq!(counts(&node), (0, 0, 0, 0), "nothing was accepted");
    assert!(!opened(&node, gtsm), "{:?}", node.state(gtsm));

    let _plain = raw_peer(dut, plain, 65022, 200).expect("a neighbour without GTSM");
    wait_established(&node, plain);

    let _near = raw_peer(dut, gtsm, 65021, 255).expect("the GTSM neighbour at TTL 255");
    wait_established(&node, gtsm);
    let (min_ttl, filter) = node
        .query(move |d| {
            let (k, _) = *d.connections().iter().find(|(_, r)| r.ip() == gtsm)?;
            let fd = d.connection_socket(k)?;
            Some((
                sockopt::min_ttl(fd, false).ok()?,
                sockopt::filter_len(fd).ok()?,
            ))
        })
        .expect("the GTSM neighbour's socket");
    assert_eq!(min_ttl, 254);
    assert!(filter > 0, "the accepted socket lost the listener's filter");
}

/// A reload moves the listener's rules: GTSM taken off one neighbour and put on
/// another, a key added to a third; the listener drops exactly the SYNs the new
/// rules say (refreshed from the speaker after `handle_reload`).
#[cfg(not(feature = "portable-fallback"))]
fn a_reload_moves_the_listeners_keys_and_gtsm_filter<B: Backend>() {
    let dut = SocketAddr::new(ip::<B>(80), free_port(ip::<B>(80)).unwrap());
    let (was, now_gtsm, keyed) = (ip::<B>(81), ip::<B>(82), ip::<B>(83));
    let node = Node::start::<B>(
        "dut",
        dut_config(
            dut,
            [
                client(was, 65081).min_ttl(254),
                client(now_gtsm, 65082),
                client(keyed, 65083),
            ],
        ),
        BOUND,
    );
    let far = |from| connect(dut, from, Some(200), Duration::from_secs(3));
    assert!(far(was).is_err(), "GTSM not in force before the reload");
    let mut reloaded = Some(dut_config(
        dut,
        [
            client(was, 65081),
            client(now_gtsm, 65082).min_ttl(254),
            client(keyed, 65083).md5_key("k"),
        ],
    ));
    node.query(move |d| {
        d.input(&mut |s, now| {
            if let Some(c) = reloaded.take() {
                s.handle_reload(now, c);
            }
        });
        d.refresh_peer_options();
    });
    let _was = raw_peer(dut, was, 65081, 200).expect("GTSM taken off");
    wait_established(&node, was);
    let e = far(now_gtsm).map(drop).expect_err("GTSM put on");
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
    let e = connect(dut, keyed, None, Duration::from_secs(3))
        .map(drop)
        .expect_err("an unsigned SYN from a keyed neighbour was answered");
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
}

/// A `[[dynamic_neighbor]]` range's socket options guard the handshake as a
/// configured neighbour's do (one prefix rule on the listener): from an address
/// in a range with `min_ttl`, a SYN below it never completes, and nothing
/// reaches the speaker; at TTL 255 a peer of the range reaches Established on a
/// socket with the range's minimum TTL. From a range with `md5_key`, an
/// unsigned SYN is never answered. A configured neighbour inside the GTSM range
/// keeps its own (empty) rule and is accepted from the same distance.
#[cfg(not(feature = "portable-fallback"))]
fn a_ranges_min_ttl_and_md5_key_guard_the_handshake<B: Backend>() {
    use nexthop_runtime_conformance::sockopt;
    use nexthop_speaker::config::file::DynamicNeighbor;
    let dut = SocketAddr::new(ip::<B>(90), free_port(ip::<B>(90)).unwrap());
    let gtsm_range = SocketAddr::new(ip::<B>(96), 0);
    let (far_peer, near_peer, inside) = (ip::<B>(97), ip::<B>(98), ip::<B>(100));
    let keyed_peer = ip::<B>(113);
    let mut file = router(65000, dut.ip(), &[dut]).neighbor(client(inside, 65100));
    file = file
        .dynamic(
            DynamicNeighbor::new(format!("{}/28", gtsm_range.ip()).parse().unwrap(), 65096)
                .hold_time(HOLD)
                .min_ttl(254),
        )
        .dynamic(
            DynamicNeighbor::new(format!("{}/28", ip::<B>(112)).parse().unwrap(), 65112)
                .hold_time(HOLD)
                .md5_key("range key"),
        );
    let node = Node::start::<B>("dut", config(&file), BOUND);

    // TTL 200 arrives as 200 over loopback: 54 hops too far for the range.
    let e = connect(dut, far_peer, Some(200), Duration::from_secs(3))
        .map(drop)
        .expect_err("the connect from the range completed below its min_ttl");
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
    // An unsigned SYN from the keyed range is dropped by the kernel.
    let e = connect(dut, keyed_peer, None, Duration::from_secs(3))
        .map(drop)
        .expect_err("an unsigned SYN from a keyed range was answered");
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
    assert_eq!(counts(&node), (0, 0, 0, 0), "nothing was accepted");
    assert_eq!(node.state(far_peer), None, "no session for the far peer");
    assert_eq!(
        node.state(keyed_peer),
        None,
        "no session for the unsigned peer"
    );

    // The configured neighbour inside the range keeps its own rule (no GTSM).
    let _inside = raw_peer(dut, inside, 65100, 200).expect("the neighbour inside the range");
    wait_established(&node, inside);

    // A peer of the range at TTL 255 is a dynamic session with its minimum TTL.
    let _near = raw_peer(dut, near_peer, 65096, 255).expect("a range peer at TTL 255");
    wait_established(&node, near_peer);
    let (min_ttl, filter) = node
        .query(move |d| {
            let (k, _) = *d.connections().iter().find(|(_, r)| r.ip() == near_peer)?;
            let fd = d.connection_socket(k)?;
            Some((
                sockopt::min_ttl(fd, false).ok()?,
                sockopt::filter_len(fd).ok()?,
            ))
        })
        .expect("the range peer's socket");
    assert_eq!(min_ttl, 254);
    assert!(filter > 0, "the accepted socket lost the listener's filter");
}

/// The kernel refuses TCP-MD5 to the connecting side: its connects are
/// abandoned before a SYN leaves (logged, counted), and the peer, whose
/// listener has the key, never sees a connection.
#[cfg(not(feature = "portable-fallback"))]
fn an_outbound_connection_without_its_key_is_never_opened<B: Backend>() {
    let (a, b) = (ip::<B>(30), ip::<B>(31));
    let (pa, pb) = (free_port(a).unwrap(), free_port(b).unwrap());
    let key = "fail-closed";
    let b_node = Node::start::<B>(
        "b",
        dut_config(SocketAddr::new(b, pb), [client(a, 65030).md5_key(key)]),
        BOUND,
    );
    let a_config = config(
        &router(65030, a, &[SocketAddr::new(a, pa)]).neighbor(
            neighbor(b, 65000, pb)
                .bind_addr(a)
                .connect_retry_time(1)
                .md5_key(key),
        ),
    );
    let a_node = Node::spawn::<B>(
        "a",
        move || nexthop_runtime_conformance::Speaker::new(a_config, Instant::ZERO),
        Options::default(),
        || {
            kernel::refuse_setsockopt(&[(libc::IPPROTO_TCP, libc::TCP_MD5SIG_EXT)])
                .expect("seccomp")
        },
    )
    .expect("A starts (its listener lacks B's key, which closes B's connections)");
    a_node.wait_until("two connects abandoned", WAIT, |d| {
        let s = d.stats();
        s.option_failures >= 2 && s.connect_failures >= 2
    });
    assert!(!opened(&a_node, b));
    assert_eq!(a_node.query(|d| d.open_connections()), 0);
    assert_eq!(counts(&b_node), (0, 0, 0, 0), "B saw no connection");
}

/// The kernel refuses a peer's key to the listener: a connection from that
/// peer (unsigned, as the kernel now lets it through) is closed as soon as it
/// is accepted, before the speaker hears of it; another neighbour is accepted.
#[cfg(not(feature = "portable-fallback"))]
fn a_listener_without_the_peers_key_closes_its_connections<B: Backend>() {
    let dut = SocketAddr::new(ip::<B>(40), free_port(ip::<B>(40)).unwrap());
    let (keyed, plain) = (ip::<B>(41), ip::<B>(42));
    let cfg = dut_config(
        dut,
        [client(keyed, 65041).md5_key("k"), client(plain, 65042)],
    );
    let node = Node::spawn::<B>(
        "dut",
        move || nexthop_runtime_conformance::Speaker::new(cfg, Instant::ZERO),
        Options::default(),
        || {
            kernel::refuse_setsockopt(&[(libc::IPPROTO_TCP, libc::TCP_MD5SIG_EXT)])
                .expect("seccomp")
        },
    )
    .expect("the DUT starts");
    assert!(
        raw_peer(dut, keyed, 65041, 64).is_err(),
        "an unsigned session came up"
    );
    node.wait_until("the connection refused", WAIT, |d| {
        d.stats().option_failures == 1
    });
    assert_eq!(counts(&node), (0, 1, 0, 0));
    assert!(!opened(&node, keyed));
    let _plain = raw_peer(dut, plain, 65042, 64).expect("a neighbour without a key");
    wait_established(&node, plain);
}

/// The kernel refuses the GTSM filter to the listener: a connection from a
/// GTSM neighbour, even at TTL 255, is closed as soon as it is accepted;
/// another neighbour is accepted.
#[cfg(not(feature = "portable-fallback"))]
fn a_listener_without_its_gtsm_filter_closes_connections_from_gtsm_peers<B: Backend>() {
    let dut = SocketAddr::new(ip::<B>(50), free_port(ip::<B>(50)).unwrap());
    let (gtsm, plain) = (ip::<B>(51), ip::<B>(52));
    let cfg = dut_config(
        dut,
        [client(gtsm, 65051).min_ttl(254), client(plain, 65052)],
    );
    let node = Node::spawn::<B>(
        "dut",
        move || nexthop_runtime_conformance::Speaker::new(cfg, Instant::ZERO),
        Options::default(),
        || {
            kernel::refuse_setsockopt(&[(libc::SOL_SOCKET, libc::SO_ATTACH_FILTER)])
                .expect("seccomp")
        },
    )
    .expect("the DUT starts");
    assert!(
        raw_peer(dut, gtsm, 65051, 255).is_err(),
        "a session came up without the filter"
    );
    node.wait_until("the connection refused", WAIT, |d| {
        d.stats().option_failures == 1
    });
    assert_eq!(counts(&node), (0, 1, 0, 0));
    let _plain = raw_peer(dut, plain, 65052, 64).expect("a neighbour without GTSM");
    wait_established(&node, plain);
}

/// The kernel refuses an accepted socket its minimum TTL, then TCP_NODELAY: each
/// such connection is closed (the speaker hears it closed; its session does not
/// come up), while what the kernel still allows works.
#[cfg(not(feature = "portable-fallback"))]
fn an_accepted_connection_whose_options_fail_is_closed<B: Backend>() {
    let dut = SocketAddr::new(ip::<B>(60), free_port(ip::<B>(60)).unwrap());
    let (gtsm, plain, other) = (ip::<B>(61), ip::<B>(62), ip::<B>(63));
    let node = Node::start::<B>(
        "dut",
        dut_config(
            dut,
            [
                client(gtsm, 65061).min_ttl(254),
                client(plain, 65062),
                client(other, 65063),
            ],
        ),
        BOUND,
    );
    node.query(|_| kernel::refuse_setsockopt(&[(libc::IPPROTO_IP, libc::IP_MINTTL)]))
        .expect("seccomp");
    assert!(
        raw_peer(dut, gtsm, 65061, 255).is_err(),
        "a session came up without its minimum TTL"
    );
    node.wait_until("the connection closed", WAIT, |d| {
        d.stats().option_failures == 1
    });
    assert_eq!(counts(&node), (1, 1, 0, 0), "accepted, then closed");
    assert!(!opened(&node, gtsm));
    let _plain = raw_peer(dut, plain, 65062, 64).expect("a neighbour without GTSM");
    wait_established(&node, plain);

    node.query(|_| kernel::refuse_setsockopt(&[(libc::IPPROTO_TCP, libc::TCP_NODELAY)]))
        .expect("seccomp");
    assert!(
        raw_peer(dut, other, 65063, 64).is_err(),
        "a session came up without TCP_NODELAY"
    );
    node.wait_until("the connection closed", WAIT, |d| {
        d.stats().option_failures == 2
    });
    assert!(!opened(&node, other));
    assert_eq!(
        node.state(plain),
        Some(State::Established),
        "the others are untouched"
    );
}

// ----- the portable fallback ----------------------------------------------------

/// Built with the portable socket options, a runtime refuses to start a config
/// that asks for a TCP-MD5 key or a minimum TTL, naming the neighbour (or the
/// range) and the key; without them it starts.
#[cfg(feature = "portable-fallback")]
fn a_config_asking_for_keys_or_gtsm_is_refused<B: Backend>() {
    let dut = SocketAddr::new(ip::<B>(70), free_port(ip::<B>(70)).unwrap());
    let peer = ip::<B>(71);
    let start = |n: Neighbor| {
        let cfg = dut_config(dut, [n]);
        Node::spawn::<B>(
            "dut",
            move || nexthop_runtime_conformance::Speaker::new(cfg, Instant::ZERO),
            Options::default(),
            || {},
        )
    };
    let e = start(client(peer, 65071).md5_key("k"))
        .err()
        .expect("started with a TCP-MD5 key");
    assert!(
        e.contains(&format!(
            "neighbor {peer}: md5_key: TCP-MD5 (RFC 2385) is not available"
        )),
        "{e}"
    );
    let e = start(client(peer, 65071).min_ttl(255))
        .err()
        .expect("started with a minimum TTL");
    assert!(
        e.contains(&format!("neighbor {peer}: min_ttl: GTSM (RFC 5082)")),
        "{e}"
    );
    // A range asks for the same and is refused the same way, named by prefix.
    for (range, key) in [
        (
            nexthop_speaker::config::file::DynamicNeighbor::new(
                format!("{}/30", ip::<B>(72)).parse().unwrap(),
                65072,
            )
            .md5_key("k"),
            "md5_key",
        ),
        (
            nexthop_speaker::config::file::DynamicNeighbor::new(
                format!("{}/30", ip::<B>(72)).parse().unwrap(),
                65072,
            )
            .min_ttl(255),
            "min_ttl",
        ),
    ] {
        let cfg = config(&router(65000, dut.ip(), &[dut]).dynamic(range));
        let e = Node::spawn::<B>(
            "dut",
            move || nexthop_runtime_conformance::Speaker::new(cfg, Instant::ZERO),
            Options::default(),
            || {},
        )
        .err()
        .expect("started with a range's key or minimum TTL");
        assert!(
            e.contains(&format!("neighbors {}/30: {key}: ", ip::<B>(72))),
            "{e}"
        );
    }
    let node = start(client(peer, 65071)).expect("a plain config starts");
    assert_eq!(counts(&node), (0, 0, 0, 0));
}

macro_rules! suite {
    ($group:ident: $($name:ident),* $(,)?) => {
        mod $group {
            mod mio {
                $( #[test] fn $name() { super::super::$name::<super::super::Mio>() } )*
            }
            mod uring {
                $( #[test] fn $name() { super::super::$name::<super::super::Uring>() } )*
            }
            mod uring_sqpoll {
                $( #[test] fn $name() { super::super::$name::<super::super::UringSqpoll>() } )*
            }
        }
    };
}

suite!(
    sockets:
    listeners_reuse_addresses_and_connections_do_not_delay,
    peers_sending_at_once_are_read_side_by_side,
);

#[cfg(not(feature = "portable-fallback"))]
suite!(
    linux_options:
    a_sender_below_the_minimum_ttl_never_reaches_open,
    a_reload_moves_the_listeners_keys_and_gtsm_filter,
    a_ranges_min_ttl_and_md5_key_guard_the_handshake,
    an_outbound_connection_without_its_key_is_never_opened,
    a_listener_without_the_peers_key_closes_its_connections,
    a_listener_without_its_gtsm_filter_closes_connections_from_gtsm_peers,
    an_accepted_connection_whose_options_fail_is_closed,
);

#[cfg(feature = "portable-fallback")]
suite!(portable_fallback: a_config_asking_for_keys_or_gtsm_is_refused);
