//! Processes a test or tool starts: a per-run directory, a guard that stops a
//! daemon and everything it forked by PID (on drop too, so a failing or
//! panicking test leaves nothing behind), leftovers of an earlier run stopped
//! through their pid files, and command-line calls with a bounded time.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::procfs::{alive, family_of, processes};
use crate::{Error, Result, sys};

/// Daemon process names the leftover killer may stop (matched on /proc/PID/comm).
const DAEMON_COMMS: &[&str] = &[
    "bird", "gobgpd", "bgpd", "exabgp", "python3", "tshark", "dumpcap",
];

/// The directory of one test or run: configs, sockets, logs and pid files of
/// its daemons.
///
/// It is `$TMPDIR/nexthop-runs/<name>`, the same on every run, so that the
/// processes a crashed earlier run left are found through their pid files and
/// stopped before the directory is emptied.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Prepares the run directory `name`: stops leftovers, empties it.
    pub fn new(name: &str) -> Result<RunDir> {
        let base = std::env::temp_dir().join("nexthop-runs");
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

/// Writes a file, with an error that names the path.
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
    let procs = processes();
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
        eprintln!("test-support: killing leftover process {pid} of an earlier run in {dir_s}");
        sys::kill(*pid, libc::SIGKILL);
    }
    if !victims.is_empty() {
        thread::sleep(Duration::from_millis(200));
    }
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
    pub fn spawn(name: &str, dir: &Path, cmd: Command) -> Result<Daemon> {
        let log = dir.join(format!("{name}.out"));
        Daemon::spawn_logging_to(name, dir, &log, cmd)
    }

    /// [`Daemon::spawn`] with its output to `log`.
    pub fn spawn_logging_to(
        name: &str,
        dir: &Path,
        log: &Path,
        mut cmd: Command,
    ) -> Result<Daemon> {
        use std::os::unix::process::CommandExt;
        sys::become_subreaper();
        let out = fs::File::create(log).map_err(|e| Error::io(log, e))?;
        let err = out.try_clone().map_err(|e| Error::io(log, e))?;
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = cmd.spawn().map_err(|e| Error::Command {
            command: format!("{cmd:?}"),
            message: format!("cannot start {name}: {e}"),
        })?;
        let pid = child.id() as i32;
        let pgid_file = dir.join(format!("{name}.pgid"));
        let mut d = Daemon {
            name: name.to_string(),
            child: Some(child),
            pid,
            pgid_file,
            log: log.to_path_buf(),
        };
        if let Err(e) = write_file(&d.pgid_file, &format!("{pid} {name}\n")) {
            d.kill9();
            return Err(e);
        }
        Ok(d)
    }

    /// Its PID (also its process group id).
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Where its stdout and stderr go.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// True while the main process runs.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// How the main process ended, once it has (and `None` while it runs).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
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
            return Err(Error::NotRunning {
                name: self.name.clone(),
            });
        }
        sys::kill(self.pid, sig);
        Ok(())
    }

    fn stop_with(&mut self, grace: Option<Duration>) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        let t0 = Instant::now();
        let family = family_of(self.pid);
        if let Some(grace) = grace {
            sys::kill(self.pid, libc::SIGTERM);
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
                sys::kill(p, libc::SIGKILL);
            }
        }
        if matches!(child.try_wait(), Ok(None)) {
            sys::kill(self.pid, libc::SIGKILL);
        }
        let status = child.wait().ok();
        let end = Instant::now() + Duration::from_secs(3);
        loop {
            for &p in &all {
                if p != self.pid {
                    sys::reap(p);
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
                        "test-support: {}: processes {left:?} still present after kill",
                        self.name
                    );
                }
                break;
            }
            for &p in &left {
                if alive(p) {
                    sys::kill(p, libc::SIGKILL);
                }
            }
            thread::sleep(Duration::from_millis(20));
        }
        // What was stopped, for `leftovers_under` to check (zombies have no cmdline).
        let pids: Vec<String> = all.iter().map(|p| p.to_string()).collect();
        let _ = fs::write(self.pgid_file.with_extension("stopped"), pids.join("\n"));
        let _ = fs::remove_file(&self.pgid_file);
        eprintln!(
            "test-support: stopped {} (pid {}) in {:?}",
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

/// Runs a command-line program for at most `timeout`; returns its stdout, or
/// an error with its stderr when it fails or takes longer.
pub fn run(program: &str, args: &[&str], timeout: Duration) -> Result<String> {
    let cmdline = format!("{program} {}", args.join(" "));
    let failed = |message: String| Error::Command {
        command: cmdline.clone(),
        message,
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("cannot run: {e}")))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let t_out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let t_err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
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
    let out = t_out.join().unwrap_or_default();
    let err = t_err.join().unwrap_or_default();
    match status {
        None => Err(failed(format!("took over {timeout:?}"))),
        Some(st) if !st.success() => Err(failed(format!(
            "failed ({st}): {}{}",
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
    processes()
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
    fn a_run_that_fails_or_hangs_is_an_error_with_its_output() {
        assert_eq!(
            run("sh", &["-c", "echo out"], Duration::from_secs(10)).unwrap(),
            "out\n"
        );
        let e = run(
            "sh",
            &["-c", "echo why >&2; exit 3"],
            Duration::from_secs(10),
        )
        .unwrap_err();
        assert!(e.to_string().contains("why"), "{e}");
        let e = run("sleep", &["5"], Duration::from_millis(100)).unwrap_err();
        assert!(e.to_string().contains("took over"), "{e}");
    }

    #[test]
    fn a_new_run_dir_stops_what_an_earlier_run_left_and_only_that() {
        let run = RunDir::new("unit_leftover").unwrap();
        let dir = format!("{}/", run.path().display());
        let start = |name: &str, script: &str| {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", script]);
            let d = Daemon::spawn(name, run.path(), cmd).unwrap();
            let pid = d.pid();
            // The test process crashed: no guard ran, the pid files stay.
            std::mem::forget(d);
            pid
        };
        let ours = start("ours", &format!("while :; do sleep 1; done # {dir}"));
        // Named by a pid file, but neither mentioning the directory nor a
        // daemon: a stranger that reused a PID, left alone.
        let stranger = start("stranger", "while :; do sleep 1; done");
        let _again = RunDir::new("unit_leftover").unwrap();
        let end = Instant::now() + Duration::from_secs(5);
        while alive(ours) && Instant::now() < end {
            sys::reap(ours);
            thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(ours), "the earlier run's process is stopped");
        assert!(alive(stranger), "a process that is not the run's stays");
        sys::kill(stranger, libc::SIGKILL);
        while alive(stranger) && Instant::now() < end + Duration::from_secs(5) {
            sys::reap(stranger);
            thread::sleep(Duration::from_millis(20));
        }
    }
}
