//! A receiver's cost per prefix: one sender's 100,000 IPv4 prefixes (the /25s
//! of workload b) announced then withdrawn, applied to a [`PrefixTable`] by the
//! fast NLRI walk and by the reference through core's iterators, with and
//! without parsing the UPDATEs (`Update::parse`) first.
//!
//! `cargo bench -p nexthop-loadgen --bench table`; the throughput is prefixes.

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nexthop_core::wire::Negotiated;
use nexthop_core::wire::update::Update;
use nexthop_loadgen::routes::{PrefixPlan, SenderRoutes, encode_sender};
use nexthop_loadgen::table::PrefixTable;

const PREFIXES: u32 = 100_000;

fn messages(stream: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(b) = stream.get(at + 16..at + 18) {
        let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
        out.push(&stream[at..at + len]);
        at += len;
    }
    out
}

fn bench(c: &mut Criterion) {
    let plan = PrefixPlan::new(1, PREFIXES, 0, 0.0);
    let neg = Negotiated {
        four_octet_as: true,
        ..Negotiated::default()
    };
    let sender = SenderRoutes {
        index: 0,
        asn: 65000,
        ebgp: false,
        next_hop: Ipv4Addr::new(198, 51, 100, 1),
        next_hop_v6: "2001:db8::1".parse().unwrap(),
        per_update: None,
        seed: 1,
    };
    let routes = encode_sender(&plan, &sender, 1.0, &neg);
    let announce = messages(&routes.announce.bytes);
    let withdraw = messages(&routes.withdraw.bytes);
    let all: Vec<&[u8]> = announce.iter().chain(&withdraw).copied().collect();
    let parsed: Vec<Update<'_>> = all
        .iter()
        .map(|m| Update::parse(m, &neg).unwrap())
        .collect();

    let mut g = c.benchmark_group("table");
    g.sample_size(20);
    g.measurement_time(std::time::Duration::from_secs(2));
    g.throughput(Throughput::Elements(2 * u64::from(PREFIXES)));
    let mut t = PrefixTable::new(plan.total());
    g.bench_function("apply", |b| {
        b.iter(|| {
            for u in &parsed {
                black_box(t.apply(u, &plan));
            }
        })
    });
    g.bench_function("apply_generic", |b| {
        b.iter(|| {
            for u in &parsed {
                black_box(t.apply_generic(u, &plan));
            }
        })
    });
    g.bench_function("parse+apply", |b| {
        b.iter(|| {
            for m in &all {
                let u = Update::parse(black_box(m), &neg).unwrap();
                black_box(t.apply(&u, &plan));
            }
        })
    });
    g.bench_function("parse+apply_generic", |b| {
        b.iter(|| {
            for m in &all {
                let u = Update::parse(black_box(m), &neg).unwrap();
                black_box(t.apply_generic(&u, &plan));
            }
        })
    });
    g.bench_function("parse", |b| {
        b.iter(|| {
            for m in &all {
                black_box(Update::parse(black_box(m), &neg).unwrap());
            }
        })
    });
    g.finish();
    assert_eq!(t.count(), 0);
}

criterion_group!(benches, bench);
criterion_main!(benches);
