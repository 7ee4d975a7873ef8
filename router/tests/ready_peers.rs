//! The router names the peers whose output went from nothing to something
//! (`poll_ready_peer`), each once until `poll_transmit` gives it nothing, so a
//! speaker with thousands of peers does not scan them all after each input.

mod common;
use common::*;

use nexthop_router::peer::SessionParams;
use nexthop_router::rib::PeerId;
use nexthop_router::router::{Router, RouterConfig};
use nexthop_router::time::Instant;

fn ready(r: &mut Router) -> Vec<PeerId> {
    std::iter::from_fn(|| r.poll_ready_peer()).collect()
}

#[test]
fn only_peers_given_output_are_named_and_each_once() {
    let mut r = Router::new(RouterConfig::new(65000, ip("192.0.2.1")));
    let src = r.add_peer(peer("172.16.0.9", 65009));
    let ecfg = |a: &str| {
        let mut c = peer(a, 65001);
        c.local_v4 = Some(ip("192.0.2.1"));
        c
    };
    let a = r.add_peer(ecfg("172.16.0.1"));
    let b = r.add_peer(ecfg("172.16.0.2"));
    let down = r.add_peer(ecfg("172.16.0.3"));
    assert_eq!(ready(&mut r), vec![]);

    // Sessions up: each is to be walked to End-of-RIB.
    r.handle_session_up(src, SessionParams::ipv4(ip("172.16.0.9")), T0);
    r.handle_session_up(a, SessionParams::ipv4(ip("172.16.0.1")), T0);
    r.handle_session_up(b, SessionParams::ipv4(ip("172.16.0.2")), T0);
    assert_eq!(ready(&mut r), vec![src, a, b]);
    assert_eq!(ready(&mut r), vec![], "named once");
    for p in [src, a, b] {
        assert!(!drain(&mut r, p).is_empty(), "End-of-RIB");
    }
    assert_eq!(ready(&mut r), vec![]);

    // Routes from `src`: after the decision and the flush, `a` and `b` have
    // UPDATEs; `src` (it sent them) and `down` (no session) do not.
    let announce: Vec<_> = (0..10).map(|i| (0, nth(i))).collect();
    r.handle_update(src, &[], &announce, Some(attrs(&[65009], "172.16.0.9")), T0)
        .unwrap();
    assert_eq!(ready(&mut r), vec![], "nothing before the decision");
    r.handle_timeout(T0);
    assert_eq!(ready(&mut r), vec![a, b]);
    assert!(r.pending_output(a) > 0 && r.pending_output(b) > 0);
    assert_eq!(r.pending_output(src), 0);
    assert_eq!(r.pending_output(down), 0);

    // More output for `a`, not drained yet: not named again. `b` drained: named
    // again at the next flush (after the eBGP MRAI, 30 s).
    assert!(!drain(&mut r, b).is_empty());
    let later = Instant::from_secs(31);
    r.handle_update(src, &[(0, nth(0))], &[], None, later)
        .unwrap();
    r.handle_timeout(later);
    assert_eq!(ready(&mut r), vec![b]);
    assert!(!drain(&mut r, a).is_empty());
    assert!(!drain(&mut r, b).is_empty());

    // A route refresh from `a` begins a walk: `a` alone is named.
    r.handle_route_refresh(a, later);
    assert_eq!(ready(&mut r), vec![a]);
}
