//! Backend comparison: the same workloads through runtime-mio and runtime-uring,
//! side by side in one run.
//!
//! ```text
//! cargo run --release -p nexthop-benchrun --bin backend-bench -- compare
//! ```
//!
//! Each workload runs the device under test (DUT) as a child process of this
//! binary (`backend-bench dut --runtime mio|uring --config FILE`), so its CPU
//! time, peak RSS and system calls are its own. Workloads:
//!
//! - fan-out: one eBGP sender announces `--routes` IPv4 prefixes (ten to an
//!   UPDATE) to the DUT, which sends them to `--receivers` eBGP receivers in one
//!   update group. The load comes from nexthop-loadgen (one thread, one mio
//!   poll; its convergence: first UPDATE sent to the last receiver complete;
//!   CPU and system calls then cover the run up to convergence, sessions
//!   coming up included, the closing of the sessions not; "load CPU" is
//!   loadgen's own from the first UPDATE to convergence), or with `--load threads` from plain blocking sockets here, one
//!   thread per peer (CPU and system calls then cover only the announcement).
//! - idle: `--idle-sessions` sessions with a 9 s hold time (3 s keepalives) for
//!   `--idle-secs`, peers on plain sockets here; "convergence" there is the time
//!   to establish them all.
//!
//! Every workload runs twice per runtime: clean (convergence, CPU seconds
//! from /proc/PID/stat, peak RSS from VmHWM; fan-out `--reps` times, the
//! runtimes taking turns, and the median kept) and once with `strace -c -f`
//! attached to the DUT for the measured phase only (system calls; its timings are
//! not used). Peers use 127.203.0.0/16 to 127.209.0.0/16.
#![deny(unsafe_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use nexthop_runtime_conformance::{
    Backend, Config, Mio, OpenSettings, Options, RawPeer, Speaker, TcpOptions, Uring, UringSqpoll,
    UringZeroCopy,
};
use nexthop_speaker::config::file::{ConfigFile, Neighbor};
use nexthop_test_support::Usage;
use nexthop_test_support::raw_peer::Received;

const USAGE: &str = "usage: backend-bench compare [--routes N] [--receivers N,N] [--idle-sessions N] [--idle-secs S] [--reps N] [--no-strace] [--only mio|uring] [--zc] [--sqpoll]\n       backend-bench dut --runtime mio|uring|uring-zc|uring-sqpoll --config FILE";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.first().map(String::as_str) {
        Some("dut") => dut(&args[1..]),
        Some("compare") => compare(&args[1..]),
        _ => {
            eprintln!("{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(e) = r {
        eprintln!("backend-bench: {e}");
        std::process::exit(1);
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

// ----- the device under test ------------------------------------------------

/// Runs the speaker of `--config` on `--runtime` until standard input closes;
/// prints `ready` once listening and the runtime's counters at the end.
fn dut(args: &[String]) -> io::Result<()> {
    let runtime = flag(args, "--runtime").ok_or_else(|| io::Error::other(USAGE))?;
    let path = flag(args, "--config").ok_or_else(|| io::Error::other(USAGE))?;
    let text = std::fs::read_to_string(path)?;
    let config = Config::from_toml(&text).map_err(|e| io::Error::other(e.to_string()))?;
    let speaker = Speaker::new(config, nexthop_runtime_conformance::Instant::ZERO);
    let options = Options {
        output_bound: 256 * 1024,
        ..Options::default()
    };
    let mut driver = match runtime {
        "mio" => Mio::start(speaker, options)?,
        "uring" => Uring::start(speaker, options)?,
        "uring-zc" => UringZeroCopy::start(speaker, options)?,
        "uring-sqpoll" => UringSqpoll::start(speaker, options)?,
        other => return Err(io::Error::other(format!("unknown runtime {other}"))),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = io::stdin().read_to_end(&mut sink);
        s.store(true, Ordering::Release);
    });
    println!("ready");
    io::stdout().flush()?;
    while !stop.load(Ordering::Acquire) {
        driver.turn(Duration::from_secs(1))?;
    }
    let r = driver.speaker().router().stats();
    eprintln!(
        "dut {runtime}: {} bytes written, {} UPDATEs encoded, {} catch-ups",
        driver.stats().bytes_written,
        r.encoded_messages,
        r.catch_ups
    );
    eprintln!("dut {runtime}: {:?}", driver.stats());
    Ok(())
}

// ----- measurements ---------------------------------------------------------

/// utime + stime of `pid`, in seconds (from /proc; NaN once it is gone).
fn cpu_seconds(pid: u32) -> f64 {
    Usage::of_pid(pid).map_or(f64::NAN, |u| u.cpu.as_secs_f64())
}

/// Peak resident set of `pid`, in MiB (VmHWM; NaN once it is gone).
fn peak_rss_mib(pid: u32) -> f64 {
    Usage::of_pid(pid).map_or(f64::NAN, |u| u.peak_rss as f64 / (1024.0 * 1024.0))
}

fn traced(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| {
        s.lines()
            .any(|l| l.starts_with("TracerPid:") && l.split_whitespace().nth(1) != Some("0"))
    })
}

/// `strace -c -f` attached to a running process until [`Strace::finish`].
struct Strace {
    child: Child,
    out: std::path::PathBuf,
}

impl Strace {
    fn attach(pid: u32) -> io::Result<Strace> {
        let out = std::env::temp_dir().join(format!("backend-bench-strace-{pid}.txt"));
        let child = Command::new("strace")
            .args(["-c", "-f", "-q", "-o"])
            .arg(&out)
            .args(["-p", &pid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let start = Instant::now();
        while !traced(pid) {
            if start.elapsed() > Duration::from_secs(10) {
                return Err(io::Error::other("strace did not attach"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // Threads are attached one by one; give it a moment.
        std::thread::sleep(Duration::from_millis(200));
        Ok(Strace { child, out })
    }

    /// Detaches and returns the total number of system calls.
    fn finish(mut self) -> io::Result<u64> {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        self.child.wait()?;
        let text = std::fs::read_to_string(&self.out)?;
        let _ = std::fs::remove_file(&self.out);
        // The last line: "100.00  secs  usecs/call  calls  [errors]  total".
        let total = text
            .lines()
            .rev()
            .find(|l| l.trim_end().ends_with("total"))
            .unwrap_or("");
        let cols: Vec<&str> = total.split_whitespace().collect();
        cols.get(3)
            .and_then(|c| c.parse::<u64>().ok())
            .ok_or_else(|| io::Error::other(format!("cannot read the strace summary:\n{text}")))
    }
}

// ----- the DUT as a child ---------------------------------------------------

struct Dut {
    child: Child,
    config: std::path::PathBuf,
}

impl Dut {
    fn start(runtime: &str, config: &str) -> io::Result<Dut> {
        let path = std::env::temp_dir().join(format!(
            "backend-bench-{}-{runtime}.toml",
            std::process::id()
        ));
        std::fs::write(&path, config)?;
        let mut child = Command::new(std::env::current_exe()?)
            .args(["dut", "--runtime", runtime, "--config"])
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let mut line = String::new();
        let out = child
            .stdout
            .as_mut()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        BufReader::new(out).read_line(&mut line)?;
        if line.trim() != "ready" {
            return Err(io::Error::other(format!("the DUT did not start: {line:?}")));
        }
        Ok(Dut {
            child,
            config: path,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

// ----- workloads -------------------------------------------------------------

const DUT_ASN: u32 = 65000;
const SENDER_ASN: u32 = 65001;
const RECEIVER_ASN: u32 = 65002;
const PREFIXES_PER_UPDATE: u32 = 10;

fn peer_ip(net: u8, i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(
        127,
        net + (i / 250 / 256) as u8,
        (i / 250 % 256) as u8,
        (i % 250 + 1) as u8,
    ))
}

fn free_port(ip: IpAddr) -> io::Result<u16> {
    nexthop_test_support::address::free_port(ip).map_err(io::Error::other)
}

/// The DUT's config: listening on `dut`, every `(address, AS)` a passive
/// neighbour with MRAI 0, as `tune` makes it (hold time...).
fn dut_config(
    dut: SocketAddr,
    neighbors: impl IntoIterator<Item = (IpAddr, u32)>,
    tune: impl Fn(Neighbor) -> Neighbor,
) -> String {
    let mut f = ConfigFile::new(DUT_ASN, Ipv4Addr::new(10, 255, 0, 1)).listen(dut);
    for (ip, asn) in neighbors {
        f = f.neighbor(tune(Neighbor::new(ip, asn).passive(true).mrai(0)));
    }
    f.to_toml()
}

/// A raw peer from `from` of AS `asn` offering hold time `hold`, brought to
/// Established with `dut`.
fn raw_peer(dut: SocketAddr, from: IpAddr, asn: u32, hold: u16) -> io::Result<RawPeer> {
    let open = OpenSettings::from_address(asn, hold, from);
    RawPeer::establish(from, dut, &open, &TcpOptions::default())
}

/// The sender's UPDATEs (RFC 4271 §4.3): `routes` /24s, ten to an UPDATE, each
/// UPDATE with ORIGIN, a one-AS AS_PATH (4-octet), NEXT_HOP and its own
/// COMMUNITIES value.
fn encode_updates(routes: u32, next_hop: Ipv4Addr) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < routes {
        let n = PREFIXES_PER_UPDATE.min(routes - i);
        let mut attrs = vec![0x40, 1, 1, 0];
        attrs.extend_from_slice(&[0x40, 2, 6, 2, 1]);
        attrs.extend_from_slice(&SENDER_ASN.to_be_bytes());
        attrs.extend_from_slice(&[0x40, 3, 4]);
        attrs.extend_from_slice(&next_hop.octets());
        attrs.extend_from_slice(&[0xc0, 8, 4]);
        attrs.extend_from_slice(
            &(0xfde9_0000u32 | ((i / PREFIXES_PER_UPDATE) & 0xffff)).to_be_bytes(),
        );
        let mut body = vec![0, 0];
        body.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        body.extend_from_slice(&attrs);
        for p in i..i + n {
            body.extend_from_slice(&[24, 10 + (p >> 16) as u8, (p >> 8) as u8, p as u8]);
        }
        out.extend_from_slice(&[0xff; 16]);
        out.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
        out.push(2);
        out.extend_from_slice(&body);
        i += n;
    }
    out
}

/// Whether `m` is a KEEPALIVE (RFC 4271 §4.4), by core's header view.
fn is_keepalive(m: &Received) -> bool {
    m.message_type() == nexthop_core::wire::MessageType::Keepalive
}

/// Counts what one receiver got: UPDATE messages and announced prefixes.
struct Counter {
    updates: u64,
    prefixes: u64,
    buf: Vec<u8>,
}

impl Counter {
    /// Consumes whole messages from the buffer.
    fn feed(&mut self) {
        let mut at = 0;
        while self.buf.len() - at >= 19 {
            let len = usize::from(u16::from_be_bytes([self.buf[at + 16], self.buf[at + 17]]));
            if len < 19 || self.buf.len() - at < len {
                break;
            }
            if self.buf[at + 18] == 2 {
                self.updates += 1;
                let m = &self.buf[at + 19..at + len];
                let wl = usize::from(u16::from_be_bytes([m[0], m[1]]));
                let al = usize::from(u16::from_be_bytes([m[2 + wl], m[3 + wl]]));
                let mut nlri = &m[4 + wl + al..];
                while let Some(&bits) = nlri.first() {
                    let bytes = usize::from(bits).div_ceil(8);
                    nlri = nlri.get(1 + bytes..).unwrap_or(&[]);
                    self.prefixes += 1;
                }
            }
            at += len;
        }
        self.buf.drain(..at);
    }
}

struct Outcome {
    convergence: Duration,
    cpu: f64,
    /// The load generator's CPU from the first UPDATE to convergence, when it
    /// measures it (loadgen does; the thread-per-peer load does not).
    load_cpu: Option<f64>,
    rss: f64,
    updates: u64,
    syscalls: Option<u64>,
}

/// One sender, `receivers` receivers, `routes` routes.
fn fan_out(runtime: &str, routes: u32, receivers: u32, strace: bool) -> io::Result<Outcome> {
    let dut_ip = IpAddr::V4(Ipv4Addr::new(127, 203, 255, 1));
    let dut_addr = SocketAddr::new(dut_ip, free_port(dut_ip)?);
    let sender_ip = peer_ip(203, 0);
    let mut neighbors = vec![(sender_ip, SENDER_ASN)];
    neighbors.extend((0..receivers).map(|i| (peer_ip(204, i), RECEIVER_ASN)));
    let dut = Dut::start(
        runtime,
        &dut_config(dut_addr, neighbors, |n| n.hold_time(240)),
    )?;

    // Receivers: hold time 0 in their OPEN, so no keepalives either way.
    let start_barrier = Arc::new(Barrier::new(receivers as usize + 1));
    let updates = Arc::new(AtomicU64::new(0));
    let complete = Arc::new(AtomicU64::new(0));
    let (done_tx, done_rx) = std::sync::mpsc::channel::<Instant>();
    let mut threads = Vec::new();
    for i in 0..receivers {
        let (b, u, c, tx) = (
            start_barrier.clone(),
            updates.clone(),
            complete.clone(),
            done_tx.clone(),
        );
        let t = std::thread::Builder::new().stack_size(128 * 1024).spawn(
            move || -> io::Result<()> {
                let peer = raw_peer(dut_addr, peer_ip(204, i), RECEIVER_ASN, 0);
                b.wait();
                let (mut stream, buf) = peer?.into_parts();
                stream.set_read_timeout(Some(Duration::from_secs(300)))?;
                let mut counter = Counter {
                    updates: 0,
                    prefixes: 0,
                    buf,
                };
                counter.feed();
                let mut chunk = vec![0u8; 64 * 1024];
                let mut reported = false;
                loop {
                    if !reported && counter.prefixes >= u64::from(routes) {
                        reported = true;
                        u.fetch_add(counter.updates, Ordering::Relaxed);
                        c.fetch_add(1, Ordering::Relaxed);
                        let _ = tx.send(Instant::now());
                    }
                    let n = match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return Ok(()),
                        Ok(n) => n,
                    };
                    counter.buf.extend_from_slice(&chunk[..n]);
                    counter.feed();
                }
            },
        )?;
        threads.push(t);
    }
    drop(done_tx);
    let sender = raw_peer(dut_addr, sender_ip, SENDER_ASN, 0)?;
    start_barrier.wait();
    let payload = encode_updates(routes, Ipv4Addr::new(127, 203, 0, 1));
    // Let the DUT settle (every receiver's session is up) before measuring.
    std::thread::sleep(Duration::from_millis(500));
    let trace = if strace {
        Some(Strace::attach(dut.pid())?)
    } else {
        None
    };
    let cpu0 = cpu_seconds(dut.pid());
    let t0 = Instant::now();
    let (mut stream, _) = sender.into_parts();
    stream.write_all(&payload)?;
    let mut last = t0;
    for _ in 0..receivers {
        match done_rx.recv_timeout(Duration::from_secs(600)) {
            Ok(t) => last = last.max(t),
            Err(_) => return Err(io::Error::other("receivers did not converge")),
        }
    }
    let convergence = last - t0;
    let cpu = cpu_seconds(dut.pid()) - cpu0;
    let syscalls = match trace {
        Some(t) => Some(t.finish()?),
        None => None,
    };
    let rss = peak_rss_mib(dut.pid());
    let updates = updates.load(Ordering::Relaxed);
    drop(stream);
    dut.stop();
    for t in threads {
        let _ = t.join();
    }
    Ok(Outcome {
        convergence,
        cpu,
        load_cpu: None,
        rss,
        updates,
        syscalls,
    })
}

/// One sender, `receivers` receivers, `routes` routes, the load from
/// nexthop-loadgen (one thread, one mio poll): eBGP peers from 127.209.0.1, ten
/// prefixes to an UPDATE. CPU and system calls cover the run up to convergence
/// (sessions coming up included); convergence is loadgen's (first UPDATE sent
/// to the last receiver complete).
fn fan_out_loadgen(
    runtime: &str,
    routes: u32,
    receivers: u32,
    strace: bool,
) -> io::Result<Outcome> {
    let dut_ip = IpAddr::V4(Ipv4Addr::new(127, 209, 255, 1));
    let dut_addr = SocketAddr::new(dut_ip, free_port(dut_ip)?);
    let mut s = nexthop_loadgen::Scenario::new(dut_addr);
    s.senders = 1;
    s.receivers = receivers;
    s.prefixes = routes;
    s.ibgp = false;
    s.local_asn = 65001;
    s.dut_asn = DUT_ASN;
    s.per_update = Some(PREFIXES_PER_UPDATE);
    s.peer_base = Ipv4Addr::new(127, 209, 0, 1);
    s.timeout = Duration::from_secs(600);
    s.validate().map_err(io::Error::other)?;
    let neighbors = (0..s.peers()).map(|i| (IpAddr::V4(s.peer_addr(i)), s.peer_asn(i)));
    let dut = Dut::start(runtime, &dut_config(dut_addr, neighbors, |n| n))?;
    let mut trace = if strace {
        Some(Strace::attach(dut.pid())?)
    } else {
        None
    };
    let pid = dut.pid();
    let cpu0 = cpu_seconds(pid);
    // CPU and system calls are taken when the receivers are complete, before
    // loadgen closes the sessions: the sender's Cease withdraws every route,
    // and a runtime may write those withdrawals to receivers whose own Cease it
    // has not read yet (runtime-mio does, one output bound each), which is not
    // the workload.
    let mut at_convergence: Option<(f64, Option<io::Result<u64>>)> = None;
    let report = nexthop_loadgen::run(&s, |p| {
        if at_convergence.is_none()
            && matches!(
                p.phase,
                nexthop_loadgen::Phase::Holding | nexthop_loadgen::Phase::Done
            )
        {
            let cpu = cpu_seconds(pid) - cpu0;
            at_convergence = Some((cpu, trace.take().map(Strace::finish)));
        }
    })?;
    let (cpu, syscalls) = match at_convergence {
        Some((cpu, calls)) => (cpu, calls.transpose()?),
        None => (cpu_seconds(pid) - cpu0, None),
    };
    let syscalls = match (syscalls, trace) {
        (Some(n), _) => Some(n),
        (None, Some(t)) => Some(t.finish()?),
        (None, None) => None,
    };
    let rss = peak_rss_mib(pid);
    dut.stop();
    eprintln!(
        "  loadgen: CPU {:.2} s during convergence, {:.2} s in all, peak RSS {:.1} MiB",
        report.cpu_convergence.as_secs_f64(),
        report.cpu.as_secs_f64(),
        report.peak_rss as f64 / (1024.0 * 1024.0)
    );
    let convergence = report
        .convergence
        .filter(|_| report.complete)
        .ok_or_else(|| io::Error::other("loadgen: receivers did not converge"))?;
    Ok(Outcome {
        convergence,
        cpu,
        load_cpu: Some(report.cpu_convergence.as_secs_f64()),
        rss,
        updates: report.updates_received,
        syscalls,
    })
}

/// `sessions` idle sessions with 3 s keepalives for `secs` seconds.
fn idle(runtime: &str, sessions: u32, secs: u64, strace: bool) -> io::Result<Outcome> {
    let dut_ip = IpAddr::V4(Ipv4Addr::new(127, 207, 255, 1));
    let dut_addr = SocketAddr::new(dut_ip, free_port(dut_ip)?);
    let neighbors = (0..sessions).map(|i| (peer_ip(208, i), RECEIVER_ASN));
    let dut = Dut::start(
        runtime,
        &dut_config(dut_addr, neighbors, |n| n.hold_time(9).keepalive_time(3)),
    )?;
    let up = Arc::new(Barrier::new(sessions as usize + 1));
    let stop = Arc::new(AtomicBool::new(false));
    let keepalives = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let mut threads = Vec::new();
    for i in 0..sessions {
        let (up, stop, ka, failed) = (up.clone(), stop.clone(), keepalives.clone(), failed.clone());
        let t = std::thread::Builder::new()
            .stack_size(128 * 1024)
            .spawn(move || {
                let peer = raw_peer(dut_addr, peer_ip(208, i), RECEIVER_ASN, 9);
                up.wait();
                let Ok(mut peer) = peer else {
                    failed.fetch_add(1, Ordering::Relaxed);
                    return;
                };
                let _ = peer.set_read_timeout(Some(Duration::from_millis(500)));
                let mut got = 0u64;
                let mut last_sent = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    if last_sent.elapsed() >= Duration::from_secs(3) {
                        if peer.send_keepalive().is_err() {
                            failed.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        last_sent = Instant::now();
                    }
                    match peer.read_message() {
                        Ok(None) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                        Ok(Some(m)) => got += u64::from(is_keepalive(&m)),
                        Err(_) => {}
                    }
                }
                ka.fetch_add(got, Ordering::Relaxed);
            })?;
        threads.push(t);
    }
    up.wait();
    let established = t0.elapsed();
    if failed.load(Ordering::Relaxed) > 0 {
        return Err(io::Error::other(format!(
            "{} idle sessions failed to come up",
            failed.load(Ordering::Relaxed)
        )));
    }
    let trace = if strace {
        Some(Strace::attach(dut.pid())?)
    } else {
        None
    };
    let cpu0 = cpu_seconds(dut.pid());
    keepalives.store(0, Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(secs));
    let cpu = cpu_seconds(dut.pid()) - cpu0;
    let syscalls = match trace {
        Some(t) => Some(t.finish()?),
        None => None,
    };
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let rss = peak_rss_mib(dut.pid());
    let lost = failed.load(Ordering::Relaxed);
    dut.stop();
    if lost > 0 {
        return Err(io::Error::other(format!("{lost} idle sessions went down")));
    }
    Ok(Outcome {
        convergence: established,
        cpu,
        load_cpu: None,
        rss,
        updates: keepalives.load(Ordering::Relaxed),
        syscalls,
    })
}

// ----- the comparison --------------------------------------------------------

/// The run with the median convergence time.
fn median(mut runs: Vec<Outcome>) -> Outcome {
    runs.sort_by_key(|o| o.convergence);
    let mid = runs.len() / 2;
    runs.swap_remove(mid)
}

struct Row {
    workload: String,
    runtime: &'static str,
    clean: Outcome,
    /// Every clean run's convergence, in the order run.
    each: Vec<Duration>,
    syscalls: Option<(u64, u64)>,
}

fn compare(args: &[String]) -> io::Result<()> {
    let routes: u32 = flag(args, "--routes")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let receivers: Vec<u32> = flag(args, "--receivers")
        .unwrap_or("200,1000")
        .split(',')
        .filter_map(|v| v.parse().ok())
        .collect();
    let idle_sessions: u32 = flag(args, "--idle-sessions")
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let idle_secs: u64 = flag(args, "--idle-secs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let strace = !args.iter().any(|a| a == "--no-strace");
    let threads = flag(args, "--load") == Some("threads");
    let fan = |rt: &str, routes: u32, n: u32, strace: bool| {
        if threads {
            fan_out(rt, routes, n, strace)
        } else {
            fan_out_loadgen(rt, routes, n, strace)
        }
    };
    let reps: usize = flag(args, "--reps")
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let mut runtimes: Vec<&'static str> = match flag(args, "--only") {
        Some("mio") => vec!["mio"],
        Some("uring") => vec!["uring"],
        _ => vec!["mio", "uring"],
    };
    if args.iter().any(|a| a == "--zc") {
        runtimes.push("uring-zc");
    }
    if args.iter().any(|a| a == "--sqpoll") {
        runtimes.push("uring-sqpoll");
    }
    if let Err(why) = nexthop_runtime_uring::probe() {
        return Err(io::Error::other(format!("io_uring unavailable: {why}")));
    }
    let mut rows = Vec::new();
    for &n in &receivers {
        // The runtimes take turns, the first one changing from round to round,
        // so a change in the machine's other load falls on both alike.
        let mut runs: Vec<Vec<Outcome>> = runtimes.iter().map(|_| Vec::new()).collect();
        for rep in 0..reps {
            for k in 0..runtimes.len() {
                let i = (k + rep) % runtimes.len();
                let rt = runtimes[i];
                eprintln!(
                    "fan-out 1 x {routes} routes -> {n} receivers on {rt} ({}/{reps})...",
                    rep + 1
                );
                runs[i].push(fan(rt, routes, n, false)?);
            }
        }
        for (&rt, runs) in runtimes.iter().zip(runs) {
            let syscalls = if strace {
                eprintln!("fan-out to {n} on {rt} again under strace -c -f...");
                let t = fan(rt, routes, n, true)?;
                t.syscalls.map(|s| (s, t.updates))
            } else {
                None
            };
            rows.push(Row {
                workload: format!("1 x {}k routes -> {n}", routes / 1000),
                runtime: rt,
                each: runs.iter().map(|o| o.convergence).collect(),
                clean: median(runs),
                syscalls,
            });
        }
    }
    if idle_sessions > 0 {
        for &rt in &runtimes {
            eprintln!("idle: {idle_sessions} sessions, 3 s keepalives, {idle_secs} s on {rt}...");
            let clean = idle(rt, idle_sessions, idle_secs, false)?;
            let syscalls = if strace {
                eprintln!("  again under strace -c -f...");
                let t = idle(rt, idle_sessions, idle_secs, true)?;
                t.syscalls.map(|s| (s, t.updates))
            } else {
                None
            };
            rows.push(Row {
                workload: format!("{idle_sessions} idle, {idle_secs} s"),
                runtime: rt,
                each: vec![clean.convergence],
                clean,
                syscalls,
            });
        }
    }
    println!(
        "| workload | runtime | convergence (s) | routes/s delivered | CPU (s) | load CPU (s) | syscalls | messages sent | syscalls per 1000 messages | peak RSS (MiB) |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let idle = r.workload.contains("idle");
        let secs = r.clean.convergence.as_secs_f64();
        let rate = if idle {
            "-".to_string()
        } else {
            let delivered: f64 = f64::from(routes)
                * r.workload
                    .rsplit(' ')
                    .next()
                    .and_then(|n| n.parse::<f64>().ok())
                    .unwrap_or(0.0);
            format!("{:.0}", delivered / secs)
        };
        let (calls, msgs, per) = match r.syscalls {
            Some((c, m)) if m > 0 => (
                c.to_string(),
                m.to_string(),
                format!("{:.2}", 1000.0 * c as f64 / m as f64),
            ),
            Some((c, m)) => (c.to_string(), m.to_string(), "-".into()),
            None => ("-".into(), r.clean.updates.to_string(), "-".into()),
        };
        let load_cpu = r
            .clean
            .load_cpu
            .map_or_else(|| "-".to_string(), |c| format!("{c:.2}"));
        println!(
            "| {} | {} | {:.2} | {} | {:.2} | {} | {} | {} | {} | {:.1} |",
            r.workload, r.runtime, secs, rate, r.clean.cpu, load_cpu, calls, msgs, per, r.clean.rss
        );
    }
    // uring against mio, workload by workload.
    let per_msg = |r: &Row| {
        r.syscalls
            .filter(|&(_, m)| m > 0)
            .map(|(c, m)| c as f64 / m as f64)
    };
    for m in rows
        .iter()
        .filter(|r| r.runtime == "mio" && !r.workload.contains("idle"))
    {
        for u in rows
            .iter()
            .filter(|r| r.runtime != "mio" && r.workload == m.workload)
        {
            let speed = m.clean.convergence.as_secs_f64() / u.clean.convergence.as_secs_f64();
            let calls = match (per_msg(m), per_msg(u)) {
                (Some(a), Some(b)) => format!("{:.1}x fewer system calls per UPDATE", a / b),
                _ => "system calls not counted".into(),
            };
            // Run against run (they ran next to each other): the spread.
            let mut paired: Vec<f64> = m
                .each
                .iter()
                .zip(&u.each)
                .map(|(a, b)| a.as_secs_f64() / b.as_secs_f64())
                .collect();
            paired.sort_by(f64::total_cmp);
            let spread = match (paired.first(), paired.last()) {
                (Some(lo), Some(hi)) if paired.len() > 1 => {
                    format!(" (run against run: {lo:.2}x to {hi:.2}x)")
                }
                _ => String::new(),
            };
            println!(
                "\n{}: {} {speed:.2}x mio's throughput{spread}, {calls}",
                m.workload, u.runtime
            );
        }
    }
    Ok(())
}
