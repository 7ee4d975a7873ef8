//! `explain` and `explain --to` through the control API's route half, on a
//! speaker whose router is fed directly (sessions and UPDATEs in the router's
//! own terms).

use std::net::{IpAddr, Ipv4Addr};

use nexthop_router::as_path::AsPath;
use nexthop_router::attributes::{Attributes, NextHop};
use nexthop_router::peer::SessionParams;
use nexthop_router::prefix::Ipv4Prefix;

use super::{explain, explain_to};
use crate::config::file::{ConfigFile, Neighbor, Originate};
use crate::{Instant, Speaker};

const EBGP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const IBGP: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 3));

fn now() -> Instant {
    Instant::from_secs(100)
}

/// A speaker of AS 65001 originating 198.51.100.0/24, with an eBGP neighbour
/// (AS 65002) that announces 203.0.113.0/24 and 198.51.100.0/24, and an iBGP
/// neighbour; both sessions up in the router.
fn speaker() -> Speaker {
    let file = ConfigFile::new(65001, Ipv4Addr::new(10, 0, 0, 1))
        .neighbor(Neighbor::new(EBGP, 65002).mrai(0))
        .neighbor(Neighbor::new(IBGP, 65001).mrai(0))
        .originate(Originate::new("198.51.100.0/24".parse().unwrap()));
    let mut s = Speaker::new(file.config().unwrap(), now());
    let e = s.router_peer(EBGP).unwrap();
    let i = s.router_peer(IBGP).unwrap();
    s.router
        .handle_session_up(e, SessionParams::ipv4(Ipv4Addr::new(10, 0, 0, 2)), now());
    s.router
        .handle_session_up(i, SessionParams::ipv4(Ipv4Addr::new(10, 0, 0, 3)), now());
    let a = Attributes {
        as_path: AsPath::sequence(&[65002, 64600]),
        next_hop: Some(NextHop::V4(Ipv4Addr::new(10, 0, 0, 2))),
        ..Default::default()
    };
    let prefixes: [Ipv4Prefix; 2] = [
        "203.0.113.0/24".parse().unwrap(),
        "198.51.100.0/24".parse().unwrap(),
    ];
    let nlri: Vec<_> = prefixes.iter().map(|p| (0, *p)).collect();
    s.router
        .handle_update(e, &[], &nlri, Some(a), now())
        .unwrap();
    while let Some(t) = s.router.poll_timeout() {
        if t > now() {
            break;
        }
        s.router.handle_timeout(now());
    }
    s
}

#[test]
fn explain_names_the_step_each_path_lost_at() {
    let s = speaker();
    let e = explain(&s, now(), "198.51.100.0/24").unwrap();
    assert_eq!(e.prefix, "198.51.100.0/24");
    assert_eq!(e.candidates.len(), 2);
    let (best, other) = (&e.candidates[0], &e.candidates[1]);
    assert!(best.route.best && best.route.from.is_none(), "{best:?}");
    assert_eq!(best.step.as_deref(), Some("locally_originated"));
    assert!(
        best.reason.starts_with("won at locally originated"),
        "{}",
        best.reason
    );
    assert_eq!(other.route.from, Some(EBGP));
    assert!(!other.route.best);
    assert_eq!(other.step.as_deref(), Some("locally_originated"));
    assert!(
        other.reason.starts_with("lost at locally originated")
            && other.reason.contains("of the best path from this router"),
        "{}",
        other.reason
    );
}

#[test]
fn explain_a_host_address_uses_the_covering_prefix() {
    let s = speaker();
    let e = explain(&s, now(), "203.0.113.7").unwrap();
    assert_eq!(e.prefix, "203.0.113.0/24");
    assert_eq!(e.candidates.len(), 1);
    assert_eq!(e.candidates[0].step, None);
    assert_eq!(e.candidates[0].route.as_path, "65002 64600");
    let none = explain(&s, now(), "192.0.2.0/24").unwrap();
    assert!(none.candidates.is_empty());
    assert_eq!(
        explain(&s, now(), "203.0.113.7/24").unwrap_err().code,
        "bad_prefix"
    );
    assert_eq!(
        explain(&s, now(), "nonsense").unwrap_err().code,
        "bad_prefix"
    );
}

#[test]
fn explain_to_says_what_is_sent_or_the_one_reason() {
    let s = speaker();
    // The eBGP path goes to the iBGP neighbour with LOCAL_PREF added.
    let to_i = explain_to(&s, now(), "203.0.113.0/24", IBGP).unwrap();
    assert!(to_i.advertised, "{to_i:?}");
    assert_eq!(to_i.reason_code, None);
    assert_eq!(to_i.sent.len(), 1);
    assert_eq!(to_i.sent[0].as_path, "65002 64600");
    assert_eq!(to_i.sent[0].local_pref, Some(100));
    // Not back to the neighbour it came from.
    let to_e = explain_to(&s, now(), "203.0.113.0/24", EBGP).unwrap();
    assert!(!to_e.advertised && to_e.sent.is_empty());
    assert_eq!(to_e.reason_code.as_deref(), Some("split_horizon"));
    // Our own route goes to the eBGP neighbour with our AS prepended.
    let own = explain_to(&s, now(), "198.51.100.0/24", EBGP).unwrap();
    assert!(own.advertised, "{own:?}");
    assert_eq!(own.sent[0].as_path, "65001");
    let none = explain_to(&s, now(), "192.0.2.0/24", EBGP).unwrap();
    assert_eq!(none.reason_code.as_deref(), Some("no_route"));
    let unknown = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9));
    assert_eq!(
        explain_to(&s, now(), "192.0.2.0/24", unknown)
            .unwrap_err()
            .code,
        "unknown_neighbor"
    );
}
