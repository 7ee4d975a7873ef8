//! Processes a test starts: a per-test run directory, a guard that stops a daemon and
//! everything it forked by PID (on drop too, so a failing or panicking test leaves
//! nothing behind), leftovers of a previous run killed through pid files, and CLI
//! calls with a bounded time.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Once;
use std::thread;
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// Daemon process names the leftover killer may stop (matched on /proc/PID/comm).
const DAEMON_COMMS: &[&str] = &[
    "bird", "gobgpd", "bgpd", "exabgp", "python3", "tshark", "dumpcap",
];

/// The directory of one test: configs, sockets, logs and pid files of its daemons.
///
/// It is `$TMPDIR/nexthop-interop/<test name>`, the same on every run, so that the
/// processes a crashed earlier run left are found through their pid files and
/// stopped before the directory is emptied.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Prepares the run directory for test `name`: stops leftovers, empties it.
    pub fn new(name: &str) -> Result<RunDir> {
        let base = std::env::temp_dir().join("nexthop-interop");
        let path = base.join(name);
        fs::create_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        // Daemons that drop privileges (FRR) must be able to traverse it.
        set_mode(&base, 0o755)?;
        set_mode(&path, 0o755)?;
        kill_leftovers(&path);
        for entry in fs::read_dir(&path).map_err(|e| Error::io(&path, e))? {
            let p = entry.map_err(|e| Error::io(&path, e))?.path();
            let r = if p.is_dir() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
            r.map_err(|e| Error::io(&p, e))?;
        }
        Ok(RunDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A sub-directory for one daemon instance, created empty.
    pub fn subdir(&self, name: &str) -> Result<PathBuf> {
        let p = self.path.join(name);
        fs::create_dir_all(&p).map_err(|e| Error::io(&p, e))?;
        set_mode(&p, 0o755)?;
        Ok(p)
    }
}

fn set_mode(p: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).map_err(|e| Error::io(p, e))
}

/// Writes a file, mapping the error to one that names the path.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// The files below `dir`, at any depth (unreadable directories are skipped).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for p in rd.flatten().map(|e| e.path()) {
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files
}

/// Stops processes of an earlier run of this directory: for each `*.pgid` file the
/// group it names (members whose comm is a daemon's), for each `*.pid` file the
/// process it names if its command line mentions the directory.
fn kill_leftovers(dir: &Path) {
    // With a trailing slash: `bird_gobgp` must not match `bird_gobgp_addpath`.
    let dir_s = format!("{}/", dir.to_string_lossy());
    let mut victims = BTreeSet::new();
    let procs = proc_table();
    for p in files_under(dir) {
        let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
        if ext != "pid" && ext != "pgid" {
            continue;
        }
        let Ok(text) = fs::read_to_string(&p) else {
            continue;
        };
        let Some(id) = text
            .split_whitespace()
            .next()
            .and_then(|t| t.parse::<i32>().ok())
        else {
            continue;
        };
        if id <= 1 {
            continue;
        }
        for pr in &procs {
            let in_group =
                ext == "pgid" && pr.pgrp == id && DAEMON_COMMS.contains(&pr.comm.as_str());
            let named = pr.pid == id && pr.cmdline.contains(&dir_s);
            if in_group || named {
                victims.insert(pr.pid);
            }
        }
    }
    for pid in &victims {
        eprintln!("interop: killing leftover process {pid} of an earlier run in {dir_s}");
        signal(*pid, libc::SIGKILL);
    }
    if !victims.is_empty() {
        thread::sleep(Duration::from_millis(200));
    }
}

#[derive(Debug)]
struct ProcInfo {
    pid: i32,
    ppid: i32,
    pgrp: i32,
    comm: String,
    cmdline: String,
    zombie: bool,
}

fn proc_table() -> Vec<ProcInfo> {
    let mut out = Vec::new();
    let Ok(rd) = fs::read_dir("/proc") else {
        return out;
    };
    for e in rd.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let rest: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if rest.len() < 3 {
            continue;
        }
        let cmdline = fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        out.push(ProcInfo {
            pid,
            ppid: rest[1].parse().unwrap_or(0),
            pgrp: rest[2].parse().unwrap_or(0),
            comm,
            cmdline,
            zombie: rest[0] == "Z",
        });
    }
    out
}

/// The process and all its descendants, plus members of its process group.
fn family_of(root: i32) -> Vec<i32> {
    let procs = proc_table();
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for p in &procs {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut seen = BTreeSet::new();
    let mut stack = vec![root];
    for p in &procs {
        if p.pgrp == root {
            stack.push(p.pid);
        }
    }
    while let Some(p) = stack.pop() {
        if seen.insert(p)
            && let Some(c) = children.get(&p)
        {
            stack.extend(c.iter().copied());
        }
    }
    seen.into_iter().collect()
}

fn signal(pid: i32, sig: i32) {
    if pid > 1 {
        // SAFETY: kill(2) with plain integers, on a PID we started or found in our own pid files.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

fn alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Reaps `pid` if it is (or became, through the subreaper) our child.
fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: waitpid on a specific pid with WNOHANG; ECHILD when not ours.
    unsafe {
        libc::waitpid(pid, &mut status, libc::WNOHANG);
    }
}

static SUBREAPER: Once = Once::new();

/// Makes this process the reaper of orphaned daemon helpers (OpenBGPD's engines,
/// ExaBGP's API process), so that stopping them leaves no zombie on a machine whose
/// init does not reap.
fn become_subreaper() {
    SUBREAPER.call_once(|| {
        // SAFETY: prctl with integer arguments.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
    });
}

/// A running daemon; stops it and everything it forked on drop.
#[derive(Debug)]
pub struct Daemon {
    name: String,
    child: Option<Child>,
    pid: i32,
    pgid_file: PathBuf,
    log: PathBuf,
}

impl Daemon {
    /// Starts `cmd` in a process group of its own, output to `dir/<name>.out`,
    /// and records its PID in `dir/<name>.pgid`.
    pub fn spawn(name: &str, dir: &Path, mut cmd: Command) -> Result<Daemon> {
        use std::os::unix::process::CommandExt;
        become_subreaper();
        let log = dir.join(format!("{name}.out"));
        let out = fs::File::create(&log).map_err(|e| Error::io(&log, e))?;
        let err = out.try_clone().map_err(|e| Error::io(&log, e))?;
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd
            .spawn()
            .map_err(|e| Error::new(format!("cannot start {name} ({cmd:?}): {e}")))?;
        let pid = child.id() as i32;
        let pgid_file = dir.join(format!("{name}.pgid"));
        write_file(&pgid_file, &format!("{pid} {name}\n"))?;
        Ok(Daemon {
            name: name.to_string(),
            child: Some(child),
            pid,
            pgid_file,
            log,
        })
    }

    /// Its PID (also its process group id).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// True while the main process runs.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The last `lines` lines of its stdout/stderr.
    pub fn output_tail(&self, lines: usize) -> String {
        tail_file(&self.log, lines)
    }

    /// SIGKILL to the daemon and all its descendants, then reaps them.
    pub fn kill9(&mut self) {
        self.stop_with(None);
    }

    /// SIGTERM, up to `grace` for it to exit, then SIGKILL to whatever is left.
    /// Returns how the main process ended (`None` if it was already stopped).
    pub fn terminate(&mut self, grace: Duration) -> Option<ExitStatus> {
        self.stop_with(Some(grace))
    }

    /// Sends `sig` (SIGHUP for a reload...) to the main process while it runs.
    pub fn signal(&mut self, sig: i32) -> Result<()> {
        if !self.is_running() {
            return Err(Error::new(format!("{} is not running", self.name)));
        }
        signal(self.pid, sig);
        Ok(())
    }

    fn stop_with(&mut self, grace: Option<Duration>) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let t0 = Instant::now();
        let family = family_of(self.pid);
        if let Some(grace) = grace {
            signal(self.pid, libc::SIGTERM);
            let end = Instant::now() + grace;
            while Instant::now() < end && matches!(child.try_wait(), Ok(None)) {
                thread::sleep(Duration::from_millis(20));
            }
        }
        // Everything forked later than the first scan is found by a second one.
        let mut all: BTreeSet<i32> = family.into_iter().collect();
        all.extend(family_of(self.pid));
        for &p in &all {
            if p != self.pid && alive(p) {
                signal(p, libc::SIGKILL);
            }
        }
        if matches!(child.try_wait(), Ok(None)) {
            signal(self.pid, libc::SIGKILL);
        }
        let status = child.wait().ok();
        let end = Instant::now() + Duration::from_secs(3);
        loop {
            for &p in &all {
                if p != self.pid {
                    reap(p);
                }
            }
            let left: Vec<i32> = all
                .iter()
                .copied()
                .filter(|&p| p != self.pid && fs::metadata(format!("/proc/{p}")).is_ok())
                .collect();
            if left.is_empty() || Instant::now() >= end {
                if !left.is_empty() {
                    eprintln!(
                        "interop: {}: processes {left:?} still present after kill",
                        self.name
                    );
                }
                break;
            }
            for &p in &left {
                if alive(p) {
                    signal(p, libc::SIGKILL);
                }
            }
            thread::sleep(Duration::from_millis(20));
        }
        // What was stopped, for `leftovers_under` to check (zombies have no cmdline).
        let pids: Vec<String> = all.iter().map(|p| p.to_string()).collect();
        let _ = fs::write(self.pgid_file.with_extension("stopped"), pids.join("\n"));
        let _ = fs::remove_file(&self.pgid_file);
        eprintln!(
            "interop: stopped {} (pid {}) in {:?}",
            self.name,
            self.pid,
            t0.elapsed()
        );
        status
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.terminate(Duration::from_secs(2));
    }
}

/// True when something listens on TCP `addr:port` (from /proc/net/tcp).
pub fn is_listening(addr: std::net::Ipv4Addr, port: u16) -> bool {
    let Ok(text) = fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    // local_address is the address in host byte order as hex, then :PORT in hex;
    // state 0A is LISTEN.
    let want = format!("{:08X}:{:04X}", u32::from(addr).swap_bytes(), port);
    text.lines().skip(1).any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 3 && f[1] == want && f[3] == "0A"
    })
}

/// The last `lines` lines of a file, or a note that it cannot be read.
pub fn tail_file(path: &Path, lines: usize) -> String {
    match fs::read_to_string(path) {
        Ok(s) => {
            let v: Vec<&str> = s.lines().collect();
            v[v.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("({}: {e})", path.display()),
    }
}

/// Runs a CLI command for at most `timeout`; returns its stdout, or an error with
/// its stderr when it fails or takes longer.
pub fn run(program: &str, args: &[&str], timeout: Duration) -> Result<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::new(format!("cannot run {program}: {e}")))?;
    let mut so = child.stdout.take().expect("piped");
    let mut se = child.stderr.take().expect("piped");
    let t_out = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = so.read_to_end(&mut s);
        s
    });
    let t_err = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = se.read_to_end(&mut s);
        s
    });
    let end = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() < end => thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let out = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).to_string();
    let err = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).to_string();
    let cmdline = format!("{program} {}", args.join(" "));
    match status {
        None => Err(Error::new(format!("`{cmdline}` took over {timeout:?}"))),
        Some(st) if !st.success() => Err(Error::new(format!(
            "`{cmdline}` failed ({st}): {}{}",
            err.trim(),
            out.trim()
        ))),
        Some(_) => Ok(out),
    }
}

/// Processes still present (zombies included) whose command line mentions `dir`,
/// or that a [`Daemon`] under `dir` stopped (its `*.stopped` files) and that still
/// exist as a daemon's process: what a test leaves behind.
pub fn leftovers_under(dir: &Path) -> Vec<String> {
    // With a trailing slash: `bird_gobgp` must not match `bird_gobgp_addpath`.
    let dir_s = format!("{}/", dir.to_string_lossy());
    let mut stopped = BTreeSet::new();
    for p in files_under(dir) {
        if p.extension().is_some_and(|x| x == "stopped") {
            let text = fs::read_to_string(&p).unwrap_or_default();
            stopped.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
        }
    }
    proc_table()
        .into_iter()
        .filter(|p| {
            p.cmdline.contains(&dir_s)
                || (stopped.contains(&p.pid) && DAEMON_COMMS.contains(&p.comm.as_str()))
        })
        .map(|p| {
            format!(
                "{} {} {}{}",
                p.pid,
                p.comm,
                p.cmdline.trim(),
                if p.zombie { " (zombie)" } else { "" }
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_a_daemon_stops_what_it_forked() {
        let run = RunDir::new("unit_daemon_guard").unwrap();
        let mut cmd = Command::new("sh");
        // A child in another process group, like ExaBGP's API process.
        cmd.args(["-c", "setsid sleep 61 & sleep 62 & wait"]);
        let d = Daemon::spawn("sh", run.path(), cmd).unwrap();
        let pid = d.pid();
        let mut family = Vec::new();
        let end = Instant::now() + Duration::from_secs(5);
        while family.len() < 3 && Instant::now() < end {
            family = family_of(pid);
            thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(family.len(), 3, "sh and two sleeps: {family:?}");
        drop(d);
        for p in family {
            assert!(
                fs::metadata(format!("/proc/{p}")).is_err(),
                "{p} still there"
            );
        }
        assert!(leftovers_under(run.path()).is_empty());
    }

    #[test]
    fn sees_a_listener() {
        let a = std::net::Ipv4Addr::new(127, 0, 0, 60);
        let l = std::net::TcpListener::bind((a, 0)).unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(is_listening(a, port));
        drop(l);
        // A fork by a parallel test may hold the socket until its exec.
        crate::wait_until(Duration::from_secs(5), "listener gone", || {
            !is_listening(a, port)
        })
        .unwrap();
    }
}
