//! What the kernel does with the options the edge sets, checked on this kernel
//! (the facts `gtsm` and `peer_sockets` rely on): the listener's GTSM filter
//! drops a SYN below the peer's minimum TTL, so the connect never completes and
//! nothing reaches accept(), while other peers and a TTL of 255 get through; an
//! accepted socket inherits the filter; the listener's own IP_MINTTL would also
//! check SYNs, but for every peer alike; a TCP-MD5 key by prefix on a listener
//! makes it ignore unsigned SYNs from the whole prefix.
//!
//! Loopback only, on 127.0.3.0/24 and ::1, ports the kernel picks.
#![cfg(all(target_os = "linux", not(feature = "portable-fallback")))]

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsFd;
use std::time::Duration;

use nexthop_runtime_edge::sockopt::{self, Unsupported};
use nexthop_runtime_edge::{PeerPrefix, PeerSocketRule, PeerSocketRules, bind_listener, check};
use socket2::{Domain, Socket, Type};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A connect from `from` with TTL (hop limit) `ttl` to `to`, given up after 2 s.
fn connect(from: IpAddr, ttl: u32, to: SocketAddr) -> io::Result<Socket> {
    let s = Socket::new(Domain::for_address(to), Type::STREAM, None)?;
    if to.is_ipv6() {
        s.set_unicast_hops_v6(ttl)?;
    } else {
        s.set_ttl_v4(ttl)?;
    }
    s.bind(&SocketAddr::new(from, 0).into())?;
    s.connect_timeout(&to.into(), Duration::from_secs(2))?;
    Ok(s)
}

fn listener(addr: &str) -> (Socket, SocketAddr) {
    let l = bind_listener(SocketAddr::new(ip(addr), 0), 16).unwrap();
    let local = l.local_addr().unwrap().as_socket().unwrap();
    (l, local)
}

/// The next connection on the (non-blocking) listener, waiting up to 2 s.
fn accept(l: &Socket) -> (Socket, SocketAddr) {
    for _ in 0..200 {
        match l.accept() {
            Ok((s, from)) => return (s, from.as_socket().unwrap()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
    panic!("no connection to accept");
}

fn gtsm_rules(peer: &str, min_ttl: u8) -> PeerSocketRules {
    [PeerSocketRule::host(ip(peer), None, Some(min_ttl))]
        .into_iter()
        .collect()
}

#[test]
fn the_listeners_filter_drops_a_syn_below_the_minimum_ttl() {
    let (l, at) = listener("127.0.3.1");
    let rules = gtsm_rules("127.0.3.2", 254);
    assert!(sockopt::set_gtsm_filter(l.as_fd(), false, &rules).unwrap());
    assert!(sockopt::filter_len(l.as_fd()).unwrap() > 0);

    let e = connect(ip("127.0.3.2"), 200, at).map(drop).unwrap_err();
    assert_eq!(
        e.kind(),
        io::ErrorKind::TimedOut,
        "the SYN got an answer: {e}"
    );
    assert_eq!(
        l.accept().map(drop).unwrap_err().kind(),
        io::ErrorKind::WouldBlock,
        "nothing reached accept()"
    );

    // The same peer at TTL 254 and 255, and a peer without GTSM at TTL 200.
    let _ok = connect(ip("127.0.3.2"), 254, at).unwrap();
    let (a, from) = accept(&l);
    assert_eq!(from.ip(), ip("127.0.3.2"));
    assert!(
        sockopt::filter_len(a.as_fd()).unwrap() > 0,
        "the accepted socket inherits the listener's filter"
    );
    let _other = connect(ip("127.0.3.3"), 200, at).unwrap();
    assert_eq!(accept(&l).1.ip(), ip("127.0.3.3"));

    // No GTSM rule left: the filter goes, the low TTL gets through.
    assert!(!sockopt::set_gtsm_filter(l.as_fd(), false, &PeerSocketRules::new()).unwrap());
    assert_eq!(sockopt::filter_len(l.as_fd()).unwrap(), 0);
    let _low = connect(ip("127.0.3.2"), 200, at).unwrap();
}

#[test]
fn the_filter_checks_the_hop_limit_of_ipv6_syns() {
    let (l, at) = listener("::1");
    let rules = gtsm_rules("::1", 255);
    assert!(sockopt::set_gtsm_filter(l.as_fd(), true, &rules).unwrap());
    let e = connect(ip("::1"), 254, at).map(drop).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    let _ok = connect(ip("::1"), 255, at).unwrap();
    let (a, _) = accept(&l);
    // Set as the edge sets it on an accepted GTSM connection, and read back.
    sockopt::set_min_ttl(a.as_fd(), true, 255).unwrap();
    assert_eq!(sockopt::min_ttl(a.as_fd(), true).unwrap(), 255);
}

#[test]
fn the_listeners_own_minimum_ttl_checks_syns_but_for_every_peer_alike() {
    let (l, at) = listener("127.0.3.4");
    sockopt::set_min_ttl(l.as_fd(), false, 254).unwrap();
    // A peer with no GTSM at all is dropped too: why the edge uses a filter.
    let e = connect(ip("127.0.3.5"), 200, at).map(drop).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    let _ok = connect(ip("127.0.3.5"), 255, at).unwrap();
    let (a, _) = accept(&l);
    assert_eq!(
        sockopt::min_ttl(a.as_fd(), false).unwrap(),
        254,
        "inherited by the accepted socket"
    );
}

#[test]
fn a_prefix_key_on_the_listener_ignores_unsigned_syns_from_the_prefix() {
    let (l, at) = listener("127.0.3.6");
    let range = PeerPrefix::new(ip("127.0.4.0"), 24).unwrap();
    sockopt::set_md5_key(l.as_fd(), range, Some(b"range-secret")).unwrap();
    let e = connect(ip("127.0.4.9"), 64, at).map(drop).unwrap_err();
    assert_eq!(
        e.kind(),
        io::ErrorKind::TimedOut,
        "an unsigned SYN was answered"
    );
    let _outside = connect(ip("127.0.3.7"), 64, at).unwrap();
    sockopt::set_md5_key(l.as_fd(), range, None).unwrap();
    let _after = connect(ip("127.0.4.9"), 64, at).unwrap();
    // Too long a key is refused before the kernel sees it.
    let e = sockopt::set_md5_key(l.as_fd(), range, Some(&[1; 81])).unwrap_err();
    assert_eq!(e.option, nexthop_runtime_edge::SocketOption::Md5Key);
}

#[test]
fn this_build_applies_keys_and_minimum_ttls() {
    let rules: PeerSocketRules = [
        PeerSocketRule::host(ip("192.0.2.1"), Some(b"k".to_vec()), Some(255)),
        PeerSocketRule {
            prefix: PeerPrefix::new(ip("2001:db8::"), 32).unwrap(),
            md5_key: Some(b"k".to_vec()),
            min_ttl: Some(254),
        },
    ]
    .into_iter()
    .collect();
    assert_eq!(check(&rules), Ok(()));
    // More GTSM prefixes than one listener filter holds.
    let many: PeerSocketRules = (0..1000u32)
        .map(|i| {
            PeerSocketRule::host(
                std::net::Ipv4Addr::from(0x0a00_0000 + i).into(),
                None,
                Some(255),
            )
        })
        .collect();
    let Err(Unsupported { key, reason, .. }) = check(&many) else {
        panic!("1000 GTSM hosts fit in one filter")
    };
    assert_eq!(key, "min_ttl");
    assert!(reason.contains("instructions"), "{reason}");
}
