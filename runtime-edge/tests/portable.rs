//! The portable fallback (other systems, or Linux with `portable-fallback`):
//! what every system has is applied, TCP-MD5 and minimum TTLs are refused by
//! the config-time check, naming the neighbour, the key and the reason, and by
//! the setters themselves.
#![cfg(any(not(target_os = "linux"), feature = "portable-fallback"))]

use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsFd;

use nexthop_runtime_edge::sockopt::{self, PORTABLE_FALLBACK};
use nexthop_runtime_edge::{
    PeerPrefix, PeerSocketRule, PeerSocketRules, SocketOption, bind_listener, check,
};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn a_key_or_a_minimum_ttl_is_refused_naming_the_neighbour_and_the_key() {
    const { assert!(PORTABLE_FALLBACK) };
    let key: PeerSocketRules = [PeerSocketRule::host(
        ip("192.0.2.1"),
        Some(b"k".to_vec()),
        None,
    )]
    .into_iter()
    .collect();
    let e = check(&key).unwrap_err();
    assert_eq!(
        (e.prefix, e.key),
        (PeerPrefix::host(ip("192.0.2.1")), "md5_key")
    );
    assert!(
        e.to_string()
            .starts_with("neighbor 192.0.2.1: md5_key: TCP-MD5 (RFC 2385) is not available"),
        "{e}"
    );

    let range = PeerSocketRule {
        prefix: PeerPrefix::new(ip("127.0.1.0"), 24).unwrap(),
        md5_key: None,
        min_ttl: Some(254),
    };
    let e = check(&[range].into_iter().collect()).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("neighbors 127.0.1.0/24: min_ttl: GTSM (RFC 5082)"),
        "{e}"
    );

    // A neighbour with neither is fine.
    let plain: PeerSocketRules = [PeerSocketRule::host(ip("192.0.2.2"), None, None)]
        .into_iter()
        .collect();
    assert_eq!(check(&plain), Ok(()));
}

#[test]
fn portable_options_apply_and_the_others_fail_by_name() {
    let l = bind_listener(SocketAddr::new(ip("127.0.3.20"), 0), 4).unwrap();
    assert!(l.reuse_address().unwrap());
    sockopt::set_ttl_255(l.as_fd(), false).unwrap();
    assert_eq!(l.ttl_v4().unwrap(), 255);
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sockopt::set_nodelay(s.as_fd()).unwrap();
    assert!(s.tcp_nodelay().unwrap());
    let e = sockopt::set_md5_key(l.as_fd(), PeerPrefix::host(ip("127.0.3.21")), Some(b"k"))
        .unwrap_err();
    assert_eq!(e.option, SocketOption::Md5Key);
    assert_eq!(e.error.kind(), std::io::ErrorKind::Unsupported);
    let e = sockopt::set_min_ttl(l.as_fd(), false, 255).unwrap_err();
    assert_eq!(e.option, SocketOption::MinTtl);
    let rules: PeerSocketRules = [PeerSocketRule::host(ip("127.0.3.21"), None, Some(255))]
        .into_iter()
        .collect();
    let e = sockopt::set_gtsm_filter(l.as_fd(), false, &rules).unwrap_err();
    assert_eq!(e.option, SocketOption::GtsmFilter);
}
