//! `scripts/bench`: the workloads of issue 7 against nexthopd and BIRD 2,
//! GoBGP, FRR bgpd and OpenBGPD, each started from a generated config on its
//! own loopback address and stopped by PID afterwards, with nexthop-loadgen's
//! simulated peers as senders and receivers. Each figure is the median of
//! several short runs (a fresh daemon per run), with min and max; the results
//! go to a Markdown table, an SVG chart and the raw runs as JSON.

mod dut;
mod output;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use dut::{Dut, Kind, usage};
use nexthop_interop::RunDir;
use nexthop_loadgen::{Phase, Scenario, Usage, run_with_stop};

#[derive(Parser, Debug)]
#[command(
    name = "nexthop-benchrun",
    about = "side-by-side BGP benchmarks on loopback"
)]
struct Args {
    /// Scaled-down sizes and fewer runs: a minutes-long run.
    #[arg(long)]
    quick: bool,
    /// Workloads to run (comma-separated): a, b-rr, b-rs, c, d.
    #[arg(long, value_delimiter = ',', default_value = "a,b-rr,b-rs,c,d")]
    workloads: Vec<String>,
    /// Daemons (comma-separated): nexthopd-mio, nexthopd-uring, bird, gobgp, frr, openbgpd.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "nexthopd-mio,nexthopd-uring,bird,gobgp,frr,openbgpd"
    )]
    duts: Vec<String>,
    /// Runs per workload and daemon (default 5, or 3 with --quick).
    #[arg(long)]
    runs: Option<usize>,
    /// Multiply every prefix and peer count by this (after --quick).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Seconds a run may take before it counts as failed.
    #[arg(long)]
    timeout: Option<u64>,
    /// Seconds of the idle window of workload (c) (default 60, or 15 with --quick);
    /// CPU is reported per minute, scaled from this window.
    #[arg(long)]
    idle_window: Option<u64>,
    /// Milliseconds between two sessions' starts (0: all at once).
    #[arg(long, default_value_t = 0.0)]
    connect_interval_ms: f64,
    /// The nexthopd binary.
    #[arg(long, default_value = "target/release/nexthopd")]
    nexthopd: PathBuf,
    /// Output directory (bench.md, bench.svg, bench.json).
    #[arg(long, default_value = "results")]
    out: PathBuf,
    /// Skip a daemon after its first failed run of a workload.
    #[arg(long, default_value_t = true)]
    skip_after_failure: bool,
}

/// One workload.
#[derive(Clone, Debug)]
pub struct Workload {
    /// Short id: a, b-rr, b-rs, c, d.
    pub id: &'static str,
    /// What it is, with its sizes.
    pub title: String,
    senders: u32,
    receivers: u32,
    prefixes: u32,
    overlap: f64,
    ibgp: bool,
    /// Idle window (workload c).
    pub idle: Option<Duration>,
}

impl Workload {
    /// Paths the DUT stores in its Adj-RIB-In (senders x prefixes).
    pub fn paths(&self) -> u64 {
        u64::from(self.senders) * u64::from(self.prefixes)
    }
    /// Sessions.
    pub fn sessions(&self) -> u32 {
        self.senders + self.receivers
    }
    /// Whether the receivers check the final best path: iBGP senders whose
    /// prefixes overlap, so that the load generator gives their AS_PATHs
    /// decisive lengths (one strictly shortest per prefix) and a receiver
    /// knows which path it must end up with.
    pub fn final_best_path(&self) -> bool {
        self.senders > 1 && self.overlap > 0.0 && self.ibgp
    }
}

fn workloads(a: &Args) -> Vec<Workload> {
    let q = a.quick;
    let sc = |full: u32, quick: u32| {
        (((if q { quick } else { full }) as f64) * a.scale)
            .round()
            .max(1.0) as u32
    };
    let idle = Duration::from_secs(a.idle_window.unwrap_or(if q { 15 } else { 60 }));
    let mut all = Vec::new();
    let (p, r) = (sc(1_000_000, 100_000), 1);
    all.push(Workload {
        id: "a",
        title: format!("(a) 1 sender x {p} IPv4 prefixes -> DUT -> {r} receiver (iBGP RR)"),
        senders: 1,
        receivers: r,
        prefixes: p,
        overlap: 0.0,
        ibgp: true,
        idle: None,
    });
    let (p, r) = (sc(100_000, 20_000), sc(200, 50));
    for (id, ibgp, what) in [
        ("b-rr", true, "iBGP route reflector"),
        ("b-rs", false, "eBGP route server"),
    ] {
        all.push(Workload {
            id,
            title: format!("(b) 1 sender x {p} prefixes -> {r} receivers, {what}"),
            senders: 1,
            receivers: r,
            prefixes: p,
            overlap: 0.0,
            ibgp,
            idle: None,
        });
    }
    let n = sc(2000, 500);
    all.push(Workload {
        id: "c",
        title: format!(
            "(c) {n} idle iBGP sessions, {} s idle window",
            idle.as_secs()
        ),
        senders: 0,
        receivers: n,
        prefixes: 0,
        overlap: 0.0,
        ibgp: true,
        idle: Some(idle),
    });
    let (p, s) = (sc(100_000, 20_000), 10);
    all.push(Workload {
        id: "d",
        title: format!(
            "(d) {s} senders x {p} overlapping prefixes -> 10 receivers (iBGP RR, best path)"
        ),
        senders: s,
        receivers: 10,
        prefixes: p,
        overlap: 1.0,
        ibgp: true,
        idle: None,
    });
    all.into_iter()
        .filter(|w| {
            a.workloads
                .iter()
                .any(|x| x == w.id || (x == "b" && w.id.starts_with('b')))
        })
        .collect()
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct RunResult {
    /// Every receiver held the full table (for c: every session up).
    pub ok: bool,
    /// Why not.
    pub error: Option<String>,
    /// Seconds until all sessions were Established.
    pub established: Option<f64>,
    /// Seconds from the first UPDATE byte until the last receiver was complete.
    pub convergence: Option<f64>,
    /// Seconds from the first UPDATE byte until every receiver held every
    /// prefix with its final best path (workloads of
    /// [`Workload::final_best_path`]).
    pub final_path: Option<f64>,
    /// Routes counted over all receivers per second of convergence.
    pub routes_per_sec: f64,
    /// DUT CPU seconds from its start to the end of the run (startup excluded).
    pub dut_cpu: f64,
    /// DUT peak RSS, bytes (over its process tree).
    pub dut_rss: u64,
    /// DUT peak RSS once started, before any session.
    pub dut_rss_start: u64,
    /// CPU seconds per minute in the idle window (c).
    pub idle_cpu_per_min: Option<f64>,
    /// The load generator's CPU seconds.
    pub loadgen_cpu: f64,
    /// Seconds from convergence until the DUT's CPU time stood still (to
    /// within the 100 ms the progress callback samples at).
    pub settle: Option<f64>,
}

/// How long the DUT's CPU time must stand still after convergence.
const QUIET: Duration = Duration::from_secs(1);

fn scenario(w: &Workload, kind: Kind, a: &Args) -> Scenario {
    let mut s = Scenario::new(SocketAddr::new(IpAddr::V4(kind.address()), 179));
    s.senders = w.senders;
    s.receivers = w.receivers;
    s.prefixes = w.prefixes;
    s.overlap = w.overlap;
    s.ibgp = w.ibgp;
    s.dut_asn = 65000;
    s.local_asn = if w.ibgp { 65000 } else { 65100 };
    s.peer_base = Ipv4Addr::new(127, 2, 0, 1);
    s.timeout = Duration::from_secs(a.timeout.unwrap_or(if a.quick { 120 } else { 300 }));
    s.connect_interval = Duration::from_secs_f64(a.connect_interval_ms / 1000.0);
    // Idle workloads hold for their window; the others until the DUT is
    // quiet (see `one_run`), at most a minute.
    s.hold = w.idle.unwrap_or(Duration::from_secs(60));
    s
}

fn one_run(w: &Workload, kind: Kind, a: &Args, stop: &AtomicBool) -> RunResult {
    let s = scenario(w, kind, a);
    let fail = |e: String| RunResult {
        error: Some(e),
        ..RunResult::default()
    };
    let run_dir = match RunDir::new(&format!("bench-{}", kind.name())) {
        Ok(d) => d,
        Err(e) => return fail(e.to_string()),
    };
    let dut = match Dut::start(kind, &s, &run_dir, &a.nexthopd) {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    // Let it finish starting (FRR and OpenBGPD fork; BIRD reads its config).
    std::thread::sleep(Duration::from_millis(300));
    let pid = dut.pid(s.dut);
    if pid.is_none() {
        return fail(format!("{}: no process listens on {}", kind.name(), s.dut));
    }
    let start = usage(pid);
    let mut idle_start: Option<(Instant, Usage)> = None;
    // After convergence (non-idle workloads) the sessions stay up until the
    // DUT's CPU time has not moved for QUIET: it may still be working (best
    // path over the later senders' copies in (d)) when the receivers first
    // hold every prefix.
    let run_stop = AtomicBool::new(false);
    let mut last_change: Option<(Instant, Duration)> = None;
    let report = run_with_stop(
        &s,
        |p| {
            if stop.load(Ordering::Relaxed) {
                run_stop.store(true, Ordering::Relaxed);
            }
            if p.phase == Phase::Holding && idle_start.is_none() {
                idle_start = Some((Instant::now(), usage(pid)));
            }
            if p.phase == Phase::Holding && w.idle.is_none() {
                let cpu = usage(pid).cpu;
                match last_change {
                    Some((_, c)) if c == cpu => {}
                    _ => last_change = Some((Instant::now(), cpu)),
                }
                if last_change.is_some_and(|(t, _)| t.elapsed() >= QUIET) {
                    run_stop.store(true, Ordering::Relaxed);
                }
            }
        },
        &run_stop,
    );
    let settle = match (idle_start, last_change) {
        (Some((t0, _)), Some((t1, _))) if w.idle.is_none() => {
            Some(t1.saturating_duration_since(t0).as_secs_f64())
        }
        _ => None,
    };
    let end = usage(pid);
    let idle_end = Instant::now();
    drop(dut);
    let report = match report {
        Ok(r) => r,
        Err(e) => return fail(format!("load generator: {e}")),
    };
    let idle_cpu_per_min = match (w.idle, idle_start) {
        (Some(_), Some((t, u))) => {
            let secs = idle_end.duration_since(t).as_secs_f64().max(1e-3);
            Some(end.cpu.saturating_sub(u.cpu).as_secs_f64() / secs * 60.0)
        }
        _ => None,
    };
    let ok = converged(w, &report);
    RunResult {
        ok,
        error: (!ok).then(|| {
            format!(
                "incomplete after {:.0} s: {}/{} receivers complete, {} of {} routes delivered{}, {} session drops{}",
                report.wall.as_secs_f64(),
                report
                    .receiver_complete
                    .iter()
                    .filter(|c| c.is_some())
                    .count(),
                report.receivers,
                report.received.iter().map(|&r| u64::from(r)).sum::<u64>(),
                u64::from(report.expected) * u64::from(report.receivers),
                if w.final_best_path()
                    && report.convergence.is_some()
                    && report.final_convergence.is_none()
                {
                    " but not every final best path"
                } else {
                    ""
                },
                report.session_drops,
                if report.established.is_none() {
                    ", not all sessions Established"
                } else {
                    ""
                }
            )
        }),
        established: report.established.map(|d| d.as_secs_f64()),
        convergence: report.convergence.map(|d| d.as_secs_f64()),
        final_path: report.final_convergence.map(|d| d.as_secs_f64()),
        routes_per_sec: report.routes_per_sec,
        dut_cpu: end.cpu.saturating_sub(start.cpu).as_secs_f64(),
        dut_rss: end.peak_rss,
        dut_rss_start: start.peak_rss,
        idle_cpu_per_min,
        loadgen_cpu: report.cpu.as_secs_f64(),
        settle,
    }
}

/// Whether a run converged: every session up, every receiver complete, and
/// for workloads of overlapping senders every receiver holding every prefix's
/// final best path (a run that never got there did not converge, whatever
/// the prefix counts say).
fn converged(w: &Workload, report: &nexthop_loadgen::Report) -> bool {
    report.complete
        && report.established.is_some()
        && (!w.final_best_path() || report.final_convergence.is_some())
}

fn main() -> ExitCode {
    let a = Args::parse();
    let runs = a.runs.unwrap_or(if a.quick { 3 } else { 5 });
    let mut kinds = Vec::new();
    for d in &a.duts {
        match Kind::parse(d) {
            Some(k) if k.available() => kinds.push(k),
            Some(k) => eprintln!("bench: {} is not installed; skipped", k.name()),
            None => {
                eprintln!("bench: unknown daemon {d}");
                return ExitCode::from(2);
            }
        }
    }
    if kinds.iter().any(|k| k.is_nexthopd()) && !a.nexthopd.is_file() {
        eprintln!(
            "bench: {} missing (cargo build --release -p nexthopd)",
            a.nexthopd.display()
        );
        return ExitCode::from(2);
    }
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_flag(sig, &stop);
    }
    let ws = workloads(&a);
    let mut results: Vec<output::Cell> = Vec::new();
    let started = Instant::now();
    'all: for w in &ws {
        eprintln!("== {}", w.title);
        for &k in &kinds {
            let mut cell = output::Cell {
                workload: w.clone(),
                kind: k,
                runs: Vec::new(),
            };
            for i in 0..runs {
                if stop.load(Ordering::Relaxed) {
                    results.push(cell);
                    break 'all;
                }
                let r = one_run(w, k, &a, &stop);
                eprintln!(
                    "   {:<15} run {}/{}: {} (t+{:.0} s)",
                    k.name(),
                    i + 1,
                    runs,
                    output::describe(w, &r),
                    started.elapsed().as_secs_f64()
                );
                let failed = !r.ok;
                cell.runs.push(r);
                if failed && a.skip_after_failure {
                    break;
                }
            }
            results.push(cell);
        }
    }
    let cmd: Vec<String> = std::env::args().collect();
    if let Err(e) = output::write_all(&a.out, &results, &cmd.join(" "), runs) {
        eprintln!("bench: writing results: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "bench: wrote {}/bench.md, bench.svg, bench.json",
        a.out.display()
    );
    ExitCode::SUCCESS
}

/// Sets `flag` when signal `sig` arrives (so that a Ctrl-C still stops every
/// daemon through the drop guards and writes what was measured).
fn signal_flag(sig: i32, flag: &Arc<AtomicBool>) -> std::io::Result<()> {
    signal_hook::flag::register(sig, Arc::clone(flag)).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(workloads: &str) -> Args {
        Args::parse_from(["nexthop-benchrun", "--quick", "--workloads", workloads])
    }

    #[test]
    fn only_overlapping_ibgp_workloads_check_the_final_best_path() {
        let ws = workloads(&args("a,b,c,d"));
        let ids: Vec<&str> = ws
            .iter()
            .filter(|w| w.final_best_path())
            .map(|w| w.id)
            .collect();
        assert_eq!(ids, ["d"]);
    }

    #[test]
    fn a_run_without_the_final_best_path_did_not_converge() {
        let ws = workloads(&args("a,d"));
        let (a, d) = (&ws[0], &ws[1]);
        let counted = nexthop_loadgen::Report {
            complete: true,
            established: Some(Duration::from_millis(5)),
            convergence: Some(Duration::from_secs(1)),
            ..Default::default()
        };
        assert!(converged(a, &counted));
        assert!(!converged(d, &counted));
        let fin = nexthop_loadgen::Report {
            final_tracked: true,
            final_convergence: Some(Duration::from_secs(2)),
            ..counted.clone()
        };
        assert!(converged(d, &fin));
        let down = nexthop_loadgen::Report {
            established: None,
            ..fin
        };
        assert!(!converged(d, &down));
    }
}
