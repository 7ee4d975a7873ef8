//! What a scenario tells a DUT's config: peer addresses and ASes, next hops;
//! and what it refuses before opening a socket.

use std::net::Ipv4Addr;

use nexthop_loadgen::{Report, Scenario};

fn scenario() -> Scenario {
    Scenario::new("127.0.0.2:179".parse().unwrap())
}

#[test]
fn peer_addresses_skip_dot_zero_and_dot_255() {
    let mut s = scenario();
    s.peer_base = Ipv4Addr::new(127, 0, 0, 250);
    let addrs: Vec<Ipv4Addr> = (0..8).map(|i| s.peer_addr(i)).collect();
    assert_eq!(
        addrs,
        [
            [127, 0, 0, 250],
            [127, 0, 0, 251],
            [127, 0, 0, 252],
            [127, 0, 0, 253],
            [127, 0, 0, 254],
            [127, 0, 1, 1],
            [127, 0, 1, 2],
            [127, 0, 1, 3],
        ]
        .map(Ipv4Addr::from)
    );
    // 2,000 peers stay in 127/8.
    assert!(s.peer_addr(1_999).is_loopback());
}

#[test]
fn ases_and_next_hops() {
    let mut s = scenario();
    s.senders = 300;
    assert_eq!(s.peer_asn(7), 65000);
    s.ibgp = false;
    s.local_asn = 65100;
    assert_eq!(s.peer_asn(7), 65107);
    assert!(s.is_sender(299) && !s.is_sender(300));
    assert_eq!(s.sender_next_hop(0), Ipv4Addr::new(198, 51, 100, 1));
    assert_eq!(s.sender_next_hop(253), Ipv4Addr::new(198, 51, 100, 254));
    // Past .254 the next hops wrap inside the /24, never .0 or .255.
    assert_eq!(s.sender_next_hop(254), Ipv4Addr::new(198, 51, 100, 1));
    assert_eq!(
        s.sender_next_hop_v6(2),
        "2001:db8::3".parse::<std::net::Ipv6Addr>().unwrap()
    );
}

#[test]
fn bad_scenarios_are_refused() {
    let mut s = scenario();
    assert_eq!(s.validate(), Ok(()));
    s.next_hop = Ipv4Addr::new(127, 0, 0, 1);
    assert!(s.validate().is_err());
    let mut s = scenario();
    s.dut = "192.0.2.1:179".parse().unwrap();
    assert!(s.validate().is_err(), "never off loopback");
    let mut s = scenario();
    s.peer_base = Ipv4Addr::new(10, 0, 0, 1);
    assert!(s.validate().is_err());
    let mut s = scenario();
    s.ibgp = false;
    assert!(s.validate().is_err(), "eBGP peers would share the DUT's AS");
    s.local_asn = 65100;
    assert_eq!(s.validate(), Ok(()));
    let mut s = scenario();
    s.local_asn = 65001;
    assert!(s.validate().is_err(), "iBGP needs the DUT's AS");
    let mut s = scenario();
    s.prefix_base = Some((Ipv4Addr::new(127, 0, 0, 0), 24));
    assert!(s.validate().is_err());
}

#[test]
fn an_empty_report_prints_and_serialises() {
    let r = Report::default();
    let text = r.to_string();
    assert!(text.contains("convergence           -"));
    let v = r.to_json();
    assert_eq!(v["complete"], false);
    assert!(v["convergence_secs"].is_null());
}
