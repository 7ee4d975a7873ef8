//! The load generator against BIRD 2 as an iBGP route reflector: BIRD is
//! started by nexthop-interop's driver from the config it generates for the
//! scenario, the scenario runs, and the load generator's CPU time is printed
//! next to BIRD's.
//!
//! `cargo run --release -p nexthop-loadgen --example bird_rr -- --receivers 100 --prefixes 100000`

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use nexthop_interop::{Bird, RunDir, Speaker, SpeakerConfig};
use nexthop_loadgen::{Scenario, Usage, run};

#[derive(Parser)]
struct Args {
    /// Where BIRD listens.
    #[arg(long, default_value = "127.0.0.98:179")]
    dut: SocketAddr,
    #[arg(long, default_value_t = 1)]
    senders: u32,
    #[arg(long, default_value_t = 100)]
    receivers: u32,
    #[arg(long, default_value_t = 100_000)]
    prefixes: u32,
    #[arg(long, default_value_t = 0)]
    ipv6_prefixes: u32,
    #[arg(long, default_value_t = 0.0)]
    overlap: f64,
    #[arg(long, default_value_t = 0.0)]
    withdraw: f64,
    #[arg(long, default_value = "127.0.0.100")]
    peer_base: std::net::Ipv4Addr,
    /// Seconds to let BIRD start before the peers connect.
    #[arg(long, default_value_t = 0.0)]
    wait: f64,
    /// Milliseconds between two sessions' starts.
    #[arg(long, default_value_t = 0.0)]
    connect_interval_ms: f64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

fn main() {
    let a = Args::parse();
    if !nexthop_test_support::installed("bird") || !nexthop_test_support::installed("birdc") {
        eprintln!("bird is not installed (apt-get install bird2)");
        std::process::exit(2);
    }
    let mut s = Scenario::new(a.dut);
    s.senders = a.senders;
    s.receivers = a.receivers;
    s.prefixes = a.prefixes;
    s.ipv6_prefixes = a.ipv6_prefixes;
    s.overlap = a.overlap;
    s.withdraw = a.withdraw;
    s.peer_base = a.peer_base;
    s.timeout = Duration::from_secs(600);
    s.connect_interval = Duration::from_secs_f64(a.connect_interval_ms / 1000.0);
    let started = || -> nexthop_interop::Result<(Bird, RunDir)> {
        let run = RunDir::new("loadgen-bird-rr")?;
        let cfg = SpeakerConfig::for_scenario(&s)?;
        Ok((Bird::start(&run, cfg)?, run))
    };
    let (b, _run) = match started() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("bird_rr: {e}");
            std::process::exit(2);
        }
    };
    let Some(pid) = b.pid() else {
        eprintln!("bird_rr: BIRD is not running");
        std::process::exit(2);
    };
    std::thread::sleep(Duration::from_secs_f64(a.wait));
    let before = Usage::of_pid(pid).unwrap_or_default();
    let report = run(&s, |_| {}).expect("run");
    let after = Usage::of_pid(pid).unwrap_or_default();
    drop(b);
    let bird_cpu = after.cpu.saturating_sub(before.cpu);
    let share = report.cpu.as_secs_f64() / (report.cpu + bird_cpu).as_secs_f64().max(1e-9);
    if a.json {
        let mut v = report.to_json();
        v["dut_cpu_secs"] = bird_cpu.as_secs_f64().into();
        v["dut_peak_rss_bytes"] = after.peak_rss.into();
        v["loadgen_cpu_share"] = share.into();
        println!("{v}");
    } else {
        println!("{report}");
        println!(
            "BIRD CPU              {:.3} s (peak RSS {:.1} MiB)",
            bird_cpu.as_secs_f64(),
            after.peak_rss as f64 / (1024.0 * 1024.0)
        );
        println!(
            "loadgen CPU share     {:.1} % of loadgen + BIRD",
            share * 100.0
        );
    }
}
