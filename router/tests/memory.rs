//! Heap bytes per path, measured with a counting global allocator: N prefixes
//! from each of K peers, every peer's paths sharing one interned attribute set.
//! The figure covers the Adj-RIBs-In and Loc-RIB (the per-prefix table and the
//! paths), not the update groups' Adj-RIB-Out, which is measured separately.

mod common;
use common::*;

use nexthop_router::peer::SessionParams;
use nexthop_router::policy::{Policy, Verdict};
use nexthop_router::prefix::Ipv4Prefix;

mod counting;

const PREFIXES: u32 = 50_000;
const PEERS: u32 = 10;

fn measure(peers_n: u32, export: bool, keep_received: bool) -> (f64, usize) {
    let mut r = router(65000, "192.0.2.1");
    let mut peers = Vec::new();
    for k in 0..peers_n {
        let addr = format!("172.16.0.{}", k + 1);
        let mut cfg = peer(&addr, 65001 + k);
        cfg.keep_received = keep_received;
        if !export {
            cfg.export = Policy {
                rules: Vec::new(),
                default: Verdict::Reject,
            };
        }
        let p = r.add_peer(cfg);
        r.handle_session_up(p, SessionParams::ipv4(ip(&addr)), T0);
        peers.push((p, addr, 65001 + k));
    }
    r.handle_timeout(T0);
    let batch: Vec<_> = (0..PREFIXES).map(|i| (0, nth(i))).collect();
    let before = counting::live();
    for (p, addr, asn) in &peers {
        for chunk in batch.chunks(1000) {
            r.handle_update(*p, &[], chunk, Some(attrs(&[*asn], addr)), T0)
                .unwrap();
        }
    }
    r.handle_timeout(T0);
    // Drop queued output: the figure is about tables, not messages in flight.
    for (p, _, _) in &peers {
        while r.poll_transmit(*p).is_some() {}
    }
    let after = counting::live();
    let paths = r.rib::<Ipv4Prefix>().path_count();
    assert_eq!(paths, (PREFIXES * peers_n) as usize);
    ((after - before) as f64 / paths as f64, r.attribute_sets())
}

#[test]
fn heap_bytes_per_path() {
    let (rib_only, sets) = measure(PEERS, false, false);
    eprintln!(
        "heap bytes per path, {PREFIXES} prefixes x {PEERS} peers: {rib_only:.1} (RIB), {sets} attribute sets"
    );
    // 16 bytes of path plus the prefix's share of its table entry and list.
    assert!(rib_only < 32.0, "{rib_only:.1} bytes per path");
    assert_eq!(sets, PEERS as usize, "one interned set per peer");
    let (with_out, _) = measure(PEERS, true, false);
    eprintln!("heap bytes per path with one eBGP update group's Adj-RIB-Out: {with_out:.1}");
    let (one_peer, _) = measure(1, false, false);
    eprintln!("heap bytes per path, {PREFIXES} prefixes from one peer: {one_peer:.1}");
    assert!(one_peer < 64.0, "{one_peer:.1} bytes per path");

    // The pre-policy Adj-RIB-In (`keep_received`), in this same test: the
    // counting allocator sees every thread, so measurements must not overlap.
    let (kept, sets) = measure(PEERS, false, true);
    eprintln!(
        "heap bytes per path with keep_received: {kept:.1} ({:.1} more), {sets} attribute sets",
        kept - rib_only
    );
    assert_eq!(
        sets, PEERS as usize,
        "the kept copies share the interned sets"
    );
    // A (path id, reference) pair of 16 bytes and its prefix's share of the
    // peer's own table.
    assert!(
        kept - rib_only < 48.0,
        "{:.1} bytes more per path",
        kept - rib_only
    );
}
