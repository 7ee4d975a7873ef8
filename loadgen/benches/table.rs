//! A receiver's cost per prefix: one sender's 100,000 IPv4 prefixes (the /25s
//! of workload b) announced then withdrawn, applied to a [`PrefixTable`] by the
//! fast NLRI walk and by the reference through core's iterators, with and
//! without parsing the UPDATEs (`Update::parse`) first.
//!
//! `cargo bench -p nexthop-loadgen --bench table`; the throughput is prefixes.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nexthop_core::wire::update::Update;
use nexthop_loadgen::routes::one_sender_fixture;
use nexthop_loadgen::table::PrefixTable;

const PREFIXES: u32 = 100_000;

fn bench(c: &mut Criterion) {
    let (plan, routes) = one_sender_fixture(PREFIXES);
    let neg = routes.negotiated;
    let all = routes.all_messages();
    let parsed = routes.parsed().expect("the fixture's UPDATEs parse");

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
