//! UPDATE parsing throughput (issue 2): one full-table stream, about 1M IPv4 and
//! 200k IPv6 prefixes in messages of up to 4096 bytes, walked by each parser in
//! the same run: every message framed by `header::frame`, parsed, and every
//! attribute's typed value and every prefix read (see `nexthop_benches::walk`).
//!
//! Two criterion groups time the same walks: `update_parse/bytes` reports bytes/s,
//! `update_parse/prefixes` prefixes/s (announced and withdrawn). Before them, a
//! best-of-N of interleaved runs prints each parser's rate and the ratio of the
//! others to the fastest baseline, which holds up better than criterion's means on
//! a machine shared with other work.
//!
//! Run: `cargo bench -p nexthop-benches --bench update_parse -- --warm-up-time 2 --measurement-time 5`

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nexthop_benches::stream::{Counts, StreamSpec, generate};
use nexthop_benches::walk;

/// A parser's walk over the whole stream.
type Walk<'a> = (&'static str, Box<dyn Fn() -> Counts + 'a>);

/// The walks, ours first. Each returns the counts and digest of what it read,
/// which are checked against the generator's before anything is timed.
fn walks<'a>(bytes: &'a [u8], shared: &'a Bytes) -> Vec<Walk<'a>> {
    vec![
        (
            "nexthop-core",
            Box::new(move || walk::nexthop::walk(black_box(bytes))),
        ),
        (
            "bgpkit-parser",
            Box::new(move || walk::bgpkit::walk(black_box(shared))),
        ),
        (
            "routecore",
            Box::new(move || walk::routecore::walk(black_box(bytes))),
        ),
    ]
}

/// Best time of each walk over `rounds` rounds, the walks interleaved so that
/// load from elsewhere hits them alike.
fn best_of(rounds: usize, walks: &[Walk<'_>]) -> Vec<Duration> {
    let mut best = vec![Duration::MAX; walks.len()];
    for _ in 0..rounds {
        for (i, (_, run)) in walks.iter().enumerate() {
            let start = Instant::now();
            black_box(run());
            best[i] = best[i].min(start.elapsed());
        }
    }
    best
}

fn update_parse(c: &mut Criterion) {
    let stream = generate(&StreamSpec::FULL_TABLE);
    let counts = stream.counts;
    let prefixes = counts.prefixes();
    let len = stream.bytes.len();
    eprintln!(
        "stream: {len} bytes, {} messages, {prefixes} prefixes ({:.1} per message), {counts:?}",
        counts.messages,
        prefixes as f64 / counts.messages as f64
    );
    let shared = Bytes::from(stream.bytes.clone());
    let bytes = stream.bytes;
    let walks = walks(&bytes, &shared);

    // Every walk must read the whole stream, value for value, before it is timed.
    for (name, run) in &walks {
        assert_eq!(
            run(),
            counts,
            "{name} read something else than was generated"
        );
    }

    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        let best = best_of(15, &walks);
        let fastest_baseline = walks
            .iter()
            .zip(&best)
            .filter(|((name, _), _)| *name != "nexthop-core")
            .map(|(_, t)| *t)
            .min()
            .unwrap_or(Duration::MAX);
        eprintln!("best of 15 interleaved runs:");
        for ((name, _), t) in walks.iter().zip(&best) {
            let s = t.as_secs_f64();
            eprintln!(
                "  {name:<14} {:>8.2} ms {:>7.2} Mprefixes/s {:>8.1} MiB/s  {:.2}x the fastest baseline",
                s * 1e3,
                prefixes as f64 / s / 1e6,
                len as f64 / s / (1024.0 * 1024.0),
                fastest_baseline.as_secs_f64() / s
            );
        }
    }

    for (group_name, throughput) in [
        ("bytes", Throughput::Bytes(len as u64)),
        ("prefixes", Throughput::Elements(prefixes as u64)),
    ] {
        let mut group = c.benchmark_group(format!("update_parse/{group_name}"));
        group.throughput(throughput);
        group.sample_size(10);
        for (name, run) in &walks {
            group.bench_function(*name, |b| b.iter(run));
        }
        group.finish();
    }
}

criterion_group!(benches, update_parse);
criterion_main!(benches);
