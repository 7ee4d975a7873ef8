//! Bounded output: a peer that does not read has its unsent output capped; past
//! the cap it catches up from the Adj-RIB-Out, and ends with the same table as a
//! peer that kept up, without holding back the others.

mod common;
use common::*;

use nexthop_router::peer::SessionParams;
use nexthop_router::router::{Router, RouterConfig};
use nexthop_router::time::Instant;

#[test]
fn slow_peer_catches_up_from_adj_rib_out() {
    let mut cfg = RouterConfig::new(65000, ip("192.0.2.1"));
    cfg.output_limit = 16 * 1024;
    let mut r = Router::new(cfg);
    let src = r.add_peer(peer("172.16.0.9", 65009));
    r.handle_session_up(src, SessionParams::ipv4(ip("172.16.0.9")), T0);
    let ecfg = |a: &str| {
        let mut c = peer(a, 65001);
        c.local_v4 = Some(ip("192.0.2.1"));
        c
    };
    let fast = r.add_peer(ecfg("172.16.0.1"));
    let slow = r.add_peer(ecfg("172.16.0.2"));
    r.handle_session_up(fast, SessionParams::ipv4(ip("172.16.0.1")), T0);
    r.handle_session_up(slow, SessionParams::ipv4(ip("172.16.0.2")), T0);
    assert_eq!(r.group_of(fast), r.group_of(slow));
    let mut t = vec![Table::default(), Table::default()];
    settle(&mut r, T0, &[fast, slow], &mut t);
    assert!(!r.is_catching_up(slow));

    // Twenty rounds of changes; the slow peer reads nothing.
    let mut max_pending = 0;
    for round in 0..20u32 {
        let now = Instant::from_millis(u64::from(round) * 1000);
        let n = if round == 0 { 1000 } else { 900 };
        let announce: Vec<_> = (0..n).map(|i| (0, nth(i))).collect();
        let path = [65009, round];
        r.handle_update(src, &[], &announce, Some(attrs(&path, "172.16.0.9")), now)
            .unwrap();
        if round == 10 {
            let withdraw: Vec<_> = (900..1000).map(|i| (0, nth(i))).collect();
            r.handle_update(src, &withdraw, &[], None, now).unwrap();
        }
        settle(&mut r, now, &[fast], &mut t[..1]);
        if round == 0 {
            // It read the first round, so it holds prefixes that are later withdrawn.
            settle(&mut r, now, &[slow], &mut t[1..]);
            assert_eq!(t[1].routes.len(), 1000);
        }
        max_pending = max_pending.max(r.pending_output(slow));
    }
    assert!(max_pending <= 16 * 1024, "output capped: {max_pending}");
    assert!(r.is_catching_up(slow));
    assert!(r.stats().catch_ups >= 1);

    // The slow peer reads again: it is walked up to date.
    for m in drain(&mut r, slow) {
        t[1].apply(&m);
    }
    assert!(!r.is_catching_up(slow));
    assert_eq!(t[0].routes, t[1].routes);
    assert_eq!(t[1].routes.len(), 1000 - 100);

    // Back in the group: both get the next change.
    let now = Instant::from_millis(100_000);
    r.handle_update(src, &[(0, nth(899))], &[], None, now)
        .unwrap();
    settle(&mut r, now, &[fast, slow], &mut t);
    assert_eq!(t[0].routes, t[1].routes);
    assert_eq!(t[1].routes.len(), 899);
}

/// An End-of-RIB still queued when the peer falls behind is sent after the walk.
#[test]
fn end_of_rib_survives_a_dropped_queue() {
    let mut cfg = RouterConfig::new(65000, ip("192.0.2.1"));
    cfg.output_limit = 4096;
    let mut r = Router::new(cfg);
    let src = r.add_peer(peer("172.16.0.9", 65009));
    r.handle_session_up(src, SessionParams::ipv4(ip("172.16.0.9")), T0);
    let first: Vec<_> = (0..100).map(|i| (0, nth(i))).collect();
    r.handle_update(src, &[], &first, Some(attrs(&[65009], "172.16.0.9")), T0)
        .unwrap();
    r.handle_timeout(T0);
    let mut c = peer("172.16.0.1", 65001);
    c.local_v4 = Some(ip("192.0.2.1"));
    let late = r.add_peer(c);
    r.handle_session_up(late, SessionParams::ipv4(ip("172.16.0.1")), T0);
    // One read: the walk queues the table and End-of-RIB behind it; one is taken.
    let mut t = Table::default();
    t.apply(&r.poll_transmit(late).unwrap());
    assert_eq!(t.end_of_rib, 0);
    assert!(!r.is_catching_up(late));
    assert!(r.pending_output(late) > 0, "End-of-RIB waits in the queue");
    // A flood overflows the queue before the peer reads on.
    let more: Vec<_> = (100..3000).map(|i| (0, nth(i))).collect();
    r.handle_update(src, &[], &more, Some(attrs(&[65009, 1], "172.16.0.9")), T0)
        .unwrap();
    r.handle_timeout(T0);
    assert!(r.is_catching_up(late));
    assert_eq!(r.stats().catch_ups, 1, "a peer falls behind once per flush");
    for m in drain(&mut r, late) {
        t.apply(&m);
    }
    assert_eq!(t.end_of_rib, 1);
    assert_eq!(t.routes.len(), 3000);
}

/// Withdrawals that were in the dropped queue reach the peer by the walk: the
/// Adj-RIB-Out keeps their tombstones until every member is past them.
#[test]
fn withdrawals_in_a_dropped_queue_are_not_lost() {
    let mut cfg = RouterConfig::new(65000, ip("192.0.2.1"));
    cfg.output_limit = 4096;
    let mut r = Router::new(cfg);
    let src = r.add_peer(peer("172.16.0.9", 65009));
    r.handle_session_up(src, SessionParams::ipv4(ip("172.16.0.9")), T0);
    let mut c = peer("172.16.0.1", 65001);
    c.local_v4 = Some(ip("192.0.2.1"));
    let slow = r.add_peer(c);
    r.handle_session_up(slow, SessionParams::ipv4(ip("172.16.0.1")), T0);
    let old: Vec<_> = (0..50).map(|i| (0, nth(i))).collect();
    r.handle_update(src, &[], &old, Some(attrs(&[65009], "172.16.0.9")), T0)
        .unwrap();
    r.handle_timeout(T0);
    let mut t = Table::default();
    for m in drain(&mut r, slow) {
        t.apply(&m);
    }
    assert_eq!(t.routes.len(), 50);
    // One flush withdraws the old prefixes and floods new ones past the limit.
    let new: Vec<_> = (1000..4000).map(|i| (0, nth(i))).collect();
    r.handle_update(src, &old, &new, Some(attrs(&[65009], "172.16.0.9")), T0)
        .unwrap();
    r.handle_timeout(T0);
    assert!(r.is_catching_up(slow));
    for m in drain(&mut r, slow) {
        t.apply(&m);
    }
    assert_eq!(t.routes.len(), 3000);
    assert!(t.get(nth(0)).is_none(), "the withdrawal was not lost");
    // Once everyone is past them, the tombstones go.
    r.handle_update(
        src,
        &[],
        &[(0, nth(0))],
        Some(attrs(&[65009], "172.16.0.9")),
        T0,
    )
    .unwrap();
    r.handle_timeout(T0);
    assert!(r.adj_rib_out(slow, &nth(1)).is_empty());
}
