//! A receiver's cost per prefix in CPU time of the thread (which depends less
//! than criterion's wall times on what else the machine runs): one
//! sender's 100,000 IPv4 /25s (workload b) announced then withdrawn, `passes`
//! times.
//!
//! `cargo run --release -p nexthop-loadgen --example table_cost -- MODE [PASSES]`,
//! MODE one of `apply`, `generic` (pre-parsed UPDATEs), `parse+apply`,
//! `parse+generic`, `parse`.

use std::hint::black_box;
use std::net::Ipv4Addr;

use nexthop_core::wire::Negotiated;
use nexthop_core::wire::update::Update;
use nexthop_loadgen::Usage;
use nexthop_loadgen::routes::{PrefixPlan, SenderRoutes, encode_sender};
use nexthop_loadgen::table::PrefixTable;

const PREFIXES: u32 = 100_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("apply", String::as_str);
    let passes: u32 = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(200);
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
    let mut all: Vec<&[u8]> = Vec::new();
    for stream in [&routes.announce.bytes, &routes.withdraw.bytes] {
        let mut at = 0;
        while let Some(b) = stream.get(at + 16..at + 18) {
            let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
            all.push(&stream[at..at + len]);
            at += len;
        }
    }
    let parsed: Vec<Update<'_>> = all
        .iter()
        .map(|m| Update::parse(m, &neg).unwrap())
        .collect();
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
