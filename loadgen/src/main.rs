//! `nexthop-loadgen`: runs a load scenario against a BGP speaker on loopback,
//! runs the built-in trivial reflector, or measures the load generator against
//! that reflector to show its own cost.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Child, Command, ExitCode};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use nexthop_loadgen::{Progress, ReflectorConfig, Report, Scenario, Usage, reflect, run_with_stop};

#[derive(Parser)]
#[command(
    name = "nexthop-loadgen",
    about = "BGP load generator on loopback",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a scenario against a device under test and print the report.
    Run {
        /// The device under test.
        #[arg(long)]
        dut: SocketAddr,
        /// PID of the device under test, to report its CPU time and peak RSS
        /// (summed over its child processes) beside the load generator's.
        #[arg(long)]
        dut_pid: Option<u32>,
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Run the built-in trivial reflector (copies every UPDATE to every other peer).
    Reflect {
        /// Address and port to listen on.
        #[arg(long)]
        listen: SocketAddr,
        /// Its AS.
        #[arg(long, default_value_t = 65000)]
        asn: u32,
    },
    /// Run a scenario against the built-in reflector started as a child process,
    /// and print the load generator's CPU time next to the reflector's.
    Calibrate {
        /// Where the reflector listens.
        #[arg(long, default_value = "127.0.0.95:179")]
        listen: SocketAddr,
        #[command(flatten)]
        load: LoadArgs,
    },
}

#[derive(Args, Clone)]
struct LoadArgs {
    /// Peers' AS (iBGP: the DUT's; eBGP: peer i gets this + i).
    #[arg(long, default_value_t = 65000)]
    local_asn: u32,
    /// The DUT's AS.
    #[arg(long, default_value_t = 65000)]
    dut_asn: u32,
    /// Senders.
    #[arg(long, default_value_t = 1)]
    senders: u32,
    /// Receivers.
    #[arg(long, default_value_t = 1)]
    receivers: u32,
    /// IPv4 prefixes per sender.
    #[arg(long, default_value_t = 10_000)]
    prefixes: u32,
    /// IPv6 prefixes per sender.
    #[arg(long, default_value_t = 0)]
    ipv6_prefixes: u32,
    /// eBGP instead of iBGP (set --local-asn other than --dut-asn).
    #[arg(long)]
    ebgp: bool,
    /// Advertise ADD-PATH send/receive.
    #[arg(long)]
    add_path: bool,
    /// Share of prefixes each sender shares with the next, 0..=1.
    #[arg(long, default_value_t = 0.0)]
    overlap: f64,
    /// Share of each sender's prefixes withdrawn after convergence, 0..=1.
    #[arg(long, default_value_t = 0.0)]
    withdraw: f64,
    /// Most prefixes per UPDATE (default: pack to 4096 octets).
    #[arg(long)]
    per_update: Option<u32>,
    /// IPv4 prefix base and length, e.g. 100.64.0.0/24 (default: automatic).
    #[arg(long, value_parser = parse_prefix)]
    prefix_base: Option<(Ipv4Addr, u8)>,
    /// Next hop of sender 0 (the others follow within its /24).
    #[arg(long, default_value = "198.51.100.1")]
    next_hop: Ipv4Addr,
    /// Address of peer 0 (the others follow).
    #[arg(long, default_value = "127.0.0.100")]
    peer_base: Ipv4Addr,
    /// Peers listen on their own address for the DUT to connect.
    #[arg(long)]
    passive: bool,
    /// Hold time offered, seconds.
    #[arg(long, default_value_t = 90)]
    hold_time: u16,
    /// Milliseconds between two sessions' starts (0: all at once).
    #[arg(long, default_value_t = 0.0)]
    connect_interval_ms: f64,
    /// Seconds between all sessions up and the first UPDATE.
    #[arg(long, default_value_t = 0.0)]
    start_delay: f64,
    /// Seconds to keep the sessions up after the run.
    #[arg(long, default_value_t = 0.0)]
    hold: f64,
    /// Seconds before giving up.
    #[arg(long, default_value_t = 600.0)]
    timeout: f64,
    /// Seed of the attribute generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Do not wait for the final best paths of overlapping senders (for a DUT
    /// that does not select best paths).
    #[arg(long)]
    no_final_paths: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// No progress lines on stderr.
    #[arg(long, short)]
    quiet: bool,
}

/// Set by SIGINT and SIGTERM: the run stops and still prints its report.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

fn catch_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is
        // async-signal-safe.
        #[allow(unsafe_code)]
        unsafe {
            libc::signal(sig, on_signal as *const () as libc::sighandler_t);
        }
    }
}

fn parse_prefix(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let (a, l) = s.split_once('/').ok_or("expected ADDRESS/LENGTH")?;
    Ok((
        a.parse().map_err(|e| format!("{e}"))?,
        l.parse().map_err(|e| format!("{e}"))?,
    ))
}

impl LoadArgs {
    fn scenario(&self, dut: SocketAddr) -> Scenario {
        let mut s = Scenario::new(dut);
        s.local_asn = self.local_asn;
        s.dut_asn = self.dut_asn;
        s.senders = self.senders;
        s.receivers = self.receivers;
        s.prefixes = self.prefixes;
        s.ipv6_prefixes = self.ipv6_prefixes;
        s.ibgp = !self.ebgp;
        s.add_path = self.add_path;
        s.overlap = self.overlap;
        s.withdraw = self.withdraw;
        s.per_update = self.per_update;
        s.prefix_base = self.prefix_base;
        s.next_hop = self.next_hop;
        s.peer_base = self.peer_base;
        s.passive = self.passive;
        s.hold_time = self.hold_time;
        s.connect_interval = Duration::from_secs_f64(self.connect_interval_ms / 1000.0);
        s.start_delay = Duration::from_secs_f64(self.start_delay);
        s.hold = Duration::from_secs_f64(self.hold);
        s.timeout = Duration::from_secs_f64(self.timeout);
        s.seed = self.seed;
        s.final_paths = !self.no_final_paths;
        s
    }
}

fn show_progress(quiet: bool) -> impl FnMut(Progress) {
    let mut last = None;
    move |p: Progress| {
        if quiet {
            return;
        }
        let secs = p.elapsed.as_secs();
        if last == Some((secs, p.phase)) {
            return;
        }
        last = Some((secs, p.phase));
        let min = p.received.iter().min().copied().unwrap_or(0);
        eprintln!(
            "[{:>4}s] {:<11} up {}/{}  receivers complete {}/{}  slowest {}/{}  sent {}/{} bytes",
            secs,
            p.phase.to_string(),
            p.established,
            p.sessions,
            p.receivers_complete,
            p.received.len(),
            min,
            p.expected,
            p.sent_bytes.0,
            p.sent_bytes.1
        );
    }
}

fn print(report: &Report, json: bool, extra: Option<serde_json::Value>) {
    if json {
        let mut v = report.to_json();
        if let (Some(obj), Some(serde_json::Value::Object(e))) = (v.as_object_mut(), extra) {
            obj.extend(e);
        }
        println!("{v}");
    } else {
        println!("{report}");
    }
}

/// Kills the reflector child on every way out.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn calibrate(listen: SocketAddr, load: &LoadArgs) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let child = Command::new(exe)
        .args([
            "reflect",
            "--listen",
            &listen.to_string(),
            "--asn",
            &load.dut_asn.to_string(),
        ])
        .spawn()
        .map_err(|e| e.to_string())?;
    let guard = ChildGuard(child);
    let pid = guard.0.id();
    // The child binds quickly; the sessions retry each second anyway.
    std::thread::sleep(Duration::from_millis(200));
    let before = Usage::of_pid(pid).unwrap_or_default();
    // The built-in reflector passes on whatever came last: no best paths.
    let mut scenario = load.scenario(listen);
    scenario.final_paths = false;
    let report =
        run_with_stop(&scenario, show_progress(load.quiet), &STOP).map_err(|e| e.to_string())?;
    let theirs = Usage::of_pid(pid).ok_or("the reflector is gone")?;
    drop(guard);
    let extra = other_usage("reflector", before, theirs, &report);
    print(&report, load.json, Some(extra.clone()));
    if !load.json {
        print_other("reflector", &extra, "reflector");
    }
    if report.complete {
        Ok(())
    } else {
        Err("incomplete: not every receiver got the expected table".into())
    }
}

/// The CPU time and peak RSS of another process over a run, and the load
/// generator's share of the CPU time of both, as JSON fields.
fn other_usage(prefix: &str, before: Usage, after: Usage, report: &Report) -> serde_json::Value {
    let cpu = after.cpu.saturating_sub(before.cpu);
    let share = report.cpu.as_secs_f64() / (report.cpu + cpu).as_secs_f64().max(1e-9);
    serde_json::json!({
        format!("{prefix}_cpu_secs"): cpu.as_secs_f64(),
        format!("{prefix}_peak_rss_bytes"): after.peak_rss,
        "loadgen_cpu_share": share,
    })
}

fn print_other(name: &str, extra: &serde_json::Value, prefix: &str) {
    println!(
        "{:<22}{:.3} s (peak RSS {:.1} MiB)",
        format!("{name} CPU"),
        extra[format!("{prefix}_cpu_secs")].as_f64().unwrap_or(0.0),
        extra[format!("{prefix}_peak_rss_bytes")]
            .as_f64()
            .unwrap_or(0.0)
            / (1024.0 * 1024.0)
    );
    println!(
        "loadgen CPU share     {:.1} % of loadgen + {name}",
        extra["loadgen_cpu_share"].as_f64().unwrap_or(0.0) * 100.0
    );
}

fn run_against(dut: SocketAddr, dut_pid: Option<u32>, load: &LoadArgs) -> Result<(), String> {
    let before = dut_pid.and_then(Usage::of_process_tree);
    let report = run_with_stop(&load.scenario(dut), show_progress(load.quiet), &STOP)
        .map_err(|e| e.to_string())?;
    let extra = match (dut_pid.and_then(Usage::of_process_tree), before) {
        (Some(after), Some(before)) => Some(other_usage("dut", before, after, &report)),
        _ => None,
    };
    print(&report, load.json, extra.clone());
    if let (false, Some(e)) = (load.json, &extra) {
        print_other("DUT", e, "dut");
    }
    if report.complete {
        Ok(())
    } else {
        Err("incomplete: not every receiver got the expected table".into())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    catch_signals();
    let result = match cli.command {
        Cmd::Run { dut, dut_pid, load } => run_against(dut, dut_pid, &load),
        Cmd::Reflect { listen, asn } => {
            let mut c = ReflectorConfig::new(listen);
            c.asn = asn;
            reflect(&c, &STOP).map(|_| ()).map_err(|e| e.to_string())
        }
        Cmd::Calibrate { listen, load } => calibrate(listen, &load),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nexthop-loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}
