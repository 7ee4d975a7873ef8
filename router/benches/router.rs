//! Router benchmarks (issue 4): ingest of prefixes from one peer, fan-out of a
//! table to many peers in one update group versus one group per peer, and heap
//! bytes per path (counted by a global allocator).
//!
//! `cargo bench -p nexthop-router` runs them at a tenth of the sizes;
//! `NEXTHOP_BENCH_FULL=1 cargo bench -p nexthop-router` at the full ones (1M
//! prefixes ingested; 100k prefixes to 1000 peers; 1M prefixes x 10 peers).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

use nexthop_router::as_path::AsPath;
use nexthop_router::attributes::{Attributes, NextHop};
use nexthop_router::encode::{EncodeParams, UpdateEncoder};
use nexthop_router::peer::{PeerConfig, SessionParams};
use nexthop_router::policy::NeighborPolicy;
use nexthop_router::prefix::Ipv4Prefix;
use nexthop_router::rib::PeerId;
use nexthop_router::router::{Router, RouterConfig};
use nexthop_router::time::{Duration, Instant};
use nexthop_router::wire::CoreEncoder;

#[path = "../tests/counting/mod.rs"]
mod counting;

const T0: Instant = Instant::ZERO;
const AS: u32 = 65000;

fn full() -> bool {
    std::env::var_os("NEXTHOP_BENCH_FULL").is_some()
}

fn scale(n: u32) -> u32 {
    if full() { n } else { n / 10 }
}

fn nth(i: u32) -> Ipv4Prefix {
    // 1M distinct /24s and /32s: 10.0.0.0/24 upwards, then host routes.
    if i < 1 << 16 {
        Ipv4Prefix::new(Ipv4Addr::from(0x0a00_0000 | (i << 8)), 24).unwrap()
    } else {
        Ipv4Prefix::new(Ipv4Addr::from(0x6400_0000 + i), 32).unwrap()
    }
}

fn ebgp(i: u32, asn: u32) -> PeerConfig {
    let mut c = PeerConfig::new(IpAddr::V4(Ipv4Addr::from(0xac10_0000 + i)), asn);
    c.mrai = Some(Duration::ZERO);
    c.local_v4 = Some(Ipv4Addr::new(192, 0, 2, 1));
    c
}

fn session(i: u32) -> SessionParams {
    SessionParams::ipv4(Ipv4Addr::from(0xac10_0000 + i))
}

fn attrs(asn: u32, i: u32) -> Attributes {
    Attributes {
        as_path: AsPath::sequence(&[asn, 64512 + i % 7]),
        next_hop: Some(NextHop::V4(Ipv4Addr::from(0xac10_0000 + i))),
        med: Some(i % 3),
        ..Default::default()
    }
}

/// UPDATE messages announcing `n` prefixes in runs of 1000 sharing attributes,
/// encoded with core's builder as a peer would send them; in prefix order, or
/// `shuffled` (a peer dumping a hash-ordered table: the RIB's worst case).
fn updates(n: u32, shuffled: bool) -> Vec<Vec<u8>> {
    let params = EncodeParams {
        four_octet_as: true,
        add_path: false,
        max_message_len: 4096,
    };
    let mut e = CoreEncoder;
    let mut out = Vec::new();
    let mut all: Vec<(u32, Ipv4Prefix)> = (0..n).map(|i| (0, nth(i))).collect();
    if shuffled {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for i in (1..all.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            all.swap(i, (x % (i as u64 + 1)) as usize);
        }
    }
    for (k, chunk) in all.chunks(1000).enumerate() {
        let a = attrs(65001, k as u32);
        let enc = e.path_attributes(&params, &a);
        let mut rest = chunk;
        while !rest.is_empty() {
            let mut m = Vec::new();
            let took = e.announce(&params, &a, &enc, rest, &mut m);
            rest = &rest[took..];
            out.push(m);
        }
    }
    out
}

fn ingest(c: &mut Criterion) {
    let n = scale(1_000_000);
    let mut g = c.benchmark_group("ingest");
    g.sample_size(10);
    g.throughput(Throughput::Elements(u64::from(n)));
    for (order, shuffled) in [("in prefix order", false), ("shuffled", true)] {
        let msgs = updates(n, shuffled);
        g.bench_function(
            format!("{n} prefixes from one peer, wire UPDATEs, {order}"),
            |b| {
                b.iter_batched(
                    || {
                        let mut r = Router::new(RouterConfig::new(AS, Ipv4Addr::new(192, 0, 2, 1)));
                        let p = r.add_peer(ebgp(1, 65001));
                        r.handle_session_up(p, session(1), T0);
                        (r, p)
                    },
                    |(mut r, p)| {
                        for m in &msgs {
                            r.handle_update_bytes(p, m, T0).unwrap();
                        }
                        r.handle_timeout(T0);
                        black_box(r)
                    },
                    BatchSize::PerIteration,
                )
            },
        );
    }
    g.finish();
}

/// A router with one source peer and `peers` receivers; `distinct` gives each
/// receiver its own export policy (so its own update group).
fn fanout_router(peers: u32, distinct: bool) -> (Router, PeerId, Vec<PeerId>) {
    let mut r = Router::new(RouterConfig::new(AS, Ipv4Addr::new(192, 0, 2, 1)));
    let src = r.add_peer(ebgp(0, 65001));
    r.handle_session_up(src, session(0), T0);
    let mut out = Vec::new();
    for i in 1..=peers {
        let mut c = ebgp(i, 65100 + i);
        if distinct {
            c.export = NeighborPolicy {
                med: Some(i),
                ..Default::default()
            }
            .compile()
            .1;
        }
        let p = r.add_peer(c);
        r.handle_session_up(p, session(i), T0);
        out.push(p);
    }
    r.handle_timeout(T0);
    for &p in &out {
        while r.poll_transmit(p).is_some() {}
    }
    (r, src, out)
}

fn fanout(c: &mut Criterion) {
    let n = scale(100_000);
    let peers = scale(1000);
    let announce: Vec<(u32, Ipv4Prefix)> = (0..n).map(|i| (0, nth(i))).collect();
    let mut g = c.benchmark_group("fanout");
    g.sample_size(10);
    g.throughput(Throughput::Elements(u64::from(n) * u64::from(peers)));
    for distinct in [false, true] {
        let name = if distinct {
            format!("{n} prefixes to {peers} peers, one group each")
        } else {
            format!("{n} prefixes to {peers} peers, one update group")
        };
        g.bench_function(name, |b| {
            b.iter_batched(
                || fanout_router(peers, distinct),
                |(mut r, src, out)| {
                    for (k, chunk) in announce.chunks(1000).enumerate() {
                        r.handle_update(src, &[], chunk, Some(attrs(65001, k as u32)), T0)
                            .unwrap();
                    }
                    r.handle_timeout(T0);
                    let mut bytes = 0;
                    for &p in &out {
                        while let Some(m) = r.poll_transmit(p) {
                            bytes += m.bytes.len();
                        }
                    }
                    black_box((r, bytes))
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

/// Heap bytes per path at N prefixes x 10 peers, printed once.
fn heap_per_path(_: &mut Criterion) {
    let n = scale(1_000_000);
    let peers = 10;
    let mut r = Router::new(RouterConfig::new(AS, Ipv4Addr::new(192, 0, 2, 1)));
    let mut ids = Vec::new();
    for i in 1..=peers {
        let mut c = ebgp(i, 65000 + i);
        c.export = nexthop_router::policy::Policy {
            rules: Vec::new(),
            default: nexthop_router::policy::Verdict::Reject,
        };
        let p = r.add_peer(c);
        r.handle_session_up(p, session(i), T0);
        ids.push(p);
    }
    r.handle_timeout(T0);
    let all: Vec<(u32, Ipv4Prefix)> = (0..n).map(|i| (0, nth(i))).collect();
    let before = counting::live();
    for (k, &p) in ids.iter().enumerate() {
        for (j, chunk) in all.chunks(1000).enumerate() {
            let a = attrs(65001 + k as u32, j as u32);
            r.handle_update(p, &[], chunk, Some(a), T0).unwrap();
        }
    }
    r.handle_timeout(T0);
    let after = counting::live();
    let paths = r.rib::<Ipv4Prefix>().path_count();
    println!(
        "heap bytes per path: {:.1} ({n} prefixes x {peers} peers, {paths} paths, {} attribute sets)",
        (after - before) as f64 / paths as f64,
        r.attribute_sets()
    );
}

criterion_group!(benches, heap_per_path, ingest, fanout);
criterion_main!(benches);
