//! A receiver's cost per prefix in CPU time of the thread (which depends less
//! than criterion's wall times on what else the machine runs): one
//! sender's 100,000 IPv4 /25s (workload b) announced then withdrawn, `passes`
//! times.
//!
//! `cargo run --release -p nexthop-loadgen --example table_cost -- MODE [PASSES]`,
//! MODE one of `apply`, `generic` (pre-parsed UPDATEs), `parse+apply`,
//! `parse+generic`, `parse`.

use std::hint::black_box;

use nexthop_core::wire::update::Update;
use nexthop_loadgen::Usage;
use nexthop_loadgen::routes::one_sender_fixture;
use nexthop_loadgen::table::PrefixTable;

const PREFIXES: u32 = 100_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("apply", String::as_str);
    let passes: u32 = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(200);
    let (plan, routes) = one_sender_fixture(PREFIXES);
    let neg = routes.negotiated;
    let all = routes.all_messages();
    let parsed = routes.parsed().expect("the fixture's UPDATEs parse");
    let mut t = PrefixTable::new(plan.total());
    let start = Usage::of_this_thread().cpu;
    for _ in 0..passes {
        match mode {
            "apply" => parsed.iter().for_each(|u| {
                black_box(t.apply(u, &plan));
            }),
            "generic" => parsed.iter().for_each(|u| {
                black_box(t.apply_generic(u, &plan));
            }),
            "parse+apply" => all.iter().for_each(|m| {
                let u = Update::parse(black_box(m), &neg).unwrap();
                black_box(t.apply(&u, &plan));
            }),
            "parse+generic" => all.iter().for_each(|m| {
                let u = Update::parse(black_box(m), &neg).unwrap();
                black_box(t.apply_generic(&u, &plan));
            }),
            "parse" => all.iter().for_each(|m| {
                black_box(Update::parse(black_box(m), &neg).unwrap());
            }),
            _ => panic!("unknown mode {mode}"),
        }
    }
    let prefixes = 2 * u64::from(PREFIXES) * u64::from(passes);
    let cpu = Usage::of_this_thread().cpu.saturating_sub(start);
    let ns = cpu.as_nanos() as f64 / prefixes as f64;
    assert_eq!(t.count(), 0);
    println!("{mode}: {prefixes} prefixes, {ns:.2} CPU ns/prefix");
}
