//! UPDATE parsing throughput (issue 2): one full-table stream, about 1M IPv4 and
//! 200k IPv6 prefixes in 4096-byte messages, walked by each parser in the same run,
//! every attribute's typed value and every prefix visited.
//!
//! Two groups over the same walks: `update_parse/bytes` reports bytes/s,
//! `update_parse/prefixes` reports prefixes/s (announced and withdrawn).
//!
//! Run: `cargo bench -p nexthop-benches --bench update_parse -- --warm-up-time 2 --measurement-time 5`

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nexthop_benches::stream::{StreamSpec, generate};
use nexthop_benches::walk;

fn update_parse(c: &mut Criterion) {
    let stream = generate(&StreamSpec::FULL_TABLE);
    let counts = stream.counts;
    eprintln!(
        "stream: {} bytes, {counts:?}, {:.1} prefixes per message",
        stream.bytes.len(),
        counts.prefixes() as f64 / counts.messages as f64
    );
    let shared = Bytes::from(stream.bytes.clone());
    let bytes = stream.bytes;

    // Every walk must see the whole stream before it is timed.
    assert_eq!(walk::bgpkit::walk(&shared), counts, "bgpkit-parser");
    assert_eq!(walk::routecore::walk(&bytes), counts, "routecore");

    for (name, throughput) in [
        ("bytes", Throughput::Bytes(bytes.len() as u64)),
        ("prefixes", Throughput::Elements(counts.prefixes() as u64)),
    ] {
        let mut group = c.benchmark_group(format!("update_parse/{name}"));
        group.throughput(throughput);
        group.sample_size(10);
        group.bench_function("bgpkit-parser", |b| {
            b.iter(|| walk::bgpkit::walk(black_box(&shared)))
        });
        group.bench_function("routecore", |b| {
            b.iter(|| walk::routecore::walk(black_box(&bytes)))
        });
        group.finish();
    }
}

criterion_group!(benches, update_parse);
criterion_main!(benches);
