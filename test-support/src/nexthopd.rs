//! nexthopd as a process under test or under load: the built binary, its
//! config written to a run directory, `nexthopd run` in a process group of
//! its own (stopped by PID on drop), ready once its listener is bound, and
//! the signals of the README (SIGHUP reload, SIGTERM shutdown).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

use crate::process::{Daemon, run, tail_file, write_file};
use crate::procfs::is_listening;
use crate::{Error, Result, poll};

/// The nexthopd binary for a test of another crate: `$NEXTHOPD` if set, else
/// `cargo build -p nexthopd` (a no-op when it is up to date; cargo sets
/// `$CARGO` for tests) and the binary beside the running test's `deps/`
/// directory, in the same profile. (nexthopd's own tests use
/// `env!("CARGO_BIN_EXE_nexthopd")`.)
pub fn binary() -> Result<PathBuf> {
    workspace_binary("nexthopd", "NEXTHOPD")
}

/// The nexthopctl binary, found as [`binary`] finds nexthopd (`$NEXTHOPCTL`
/// if set).
pub fn ctl_binary() -> Result<PathBuf> {
    // Built once per test process: a test runs it many times.
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    if let Some(p) = BUILT.get() {
        return Ok(p.clone());
    }
    let p = workspace_binary("nexthopctl", "NEXTHOPCTL")?;
    Ok(BUILT.get_or_init(|| p).clone())
}

/// Binary `name` of package `name`: `$env` if set, else `cargo build -p
/// name` and the binary beside the running test's `deps/` directory.
fn workspace_binary(name: &str, env: &str) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(Error::io(&p, std::io::ErrorKind::NotFound.into()))
        };
    }
    let exe = std::env::current_exe().map_err(|e| Error::io(Path::new("current_exe"), e))?;
    // target/<profile>/deps/<test binary> -> target/<profile>/<name>
    let Some(profile_dir) = exe
        .parent()
        .filter(|d| d.ends_with("deps"))
        .and_then(Path::parent)
    else {
        return Err(Error::Command {
            command: exe.display().to_string(),
            message: format!("not in a target/<profile>/deps directory: set ${env}"),
        });
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut args = vec!["build", "-q", "-p", name];
    if profile_dir.ends_with("release") {
        args.push("--release");
    }
    run(&cargo, &args, Duration::from_secs(900))?;
    let bin = profile_dir.join(name);
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(Error::io(&bin, std::io::ErrorKind::NotFound.into()))
    }
}

/// What a `nexthopctl` run gave.
#[derive(Clone, Debug)]
pub struct CtlOutput {
    /// Its exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl CtlOutput {
    /// Standard output parsed as JSON; panics naming the output otherwise.
    pub fn json(&self) -> serde_json::Value {
        assert_eq!(
            self.code,
            Some(0),
            "nexthopctl failed: {}{}",
            self.stdout,
            self.stderr
        );
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("nexthopctl printed no JSON ({e}): {}", self.stdout))
    }
}

/// Runs nexthopctl with `args` against the control socket `socket` (bounded
/// by a minute, against a hang).
pub fn ctl(socket: &Path, args: &[&str]) -> Result<CtlOutput> {
    let bin = ctl_binary()?;
    let child = Command::new(&bin)
        .arg("--socket")
        .arg(socket)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::io(&bin, e))?;
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        for _ in 0..600 {
            std::thread::sleep(Duration::from_millis(100));
            if std::fs::metadata(format!("/proc/{pid}")).is_err() {
                return;
            }
        }
        let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
    });
    let out = child.wait_with_output().map_err(|e| Error::io(&bin, e))?;
    let _ = watchdog.join();
    Ok(CtlOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs `nexthopd check --config <path>`: its output when the config is
/// valid, else an error with nexthopd's message (key and line).
pub fn check(binary: &Path, config: &Path) -> Result<String> {
    run(
        &binary.to_string_lossy(),
        &["check", "--config", &config.to_string_lossy()],
        Duration::from_secs(10),
    )
}

/// How to run nexthopd beyond its config.
#[derive(Clone, Debug)]
pub struct Options {
    /// `RUST_LOG` when the environment has none (`info`, `warn`...).
    pub rust_log: String,
    /// Arguments before `run` (`--log-format json`).
    pub args: Vec<String>,
    /// Bound on the wait for its listener.
    pub start_timeout: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            rust_log: "info".into(),
            args: Vec::new(),
            start_timeout: Duration::from_secs(15),
        }
    }
}

/// A running nexthopd; stopped (SIGTERM, then SIGKILL) on drop.
#[derive(Debug)]
pub struct Nexthopd {
    daemon: Daemon,
    binary: PathBuf,
    dir: PathBuf,
    listen: SocketAddr,
    options: Options,
}

impl Nexthopd {
    /// Writes `config` (TOML) to `dir/nexthopd.toml`, starts `binary run` on
    /// it with its output in `dir/nexthopd.log`, and waits until it listens on
    /// `listen`. Refuses when something listens there already (it would look
    /// ready); a nexthopd that exits first is an error with its output.
    pub fn start(binary: &Path, dir: &Path, config: &str, listen: SocketAddr) -> Result<Nexthopd> {
        Nexthopd::start_with(binary, dir, config, listen, Options::default())
    }

    /// [`Nexthopd::start`] with `options`.
    pub fn start_with(
        binary: &Path,
        dir: &Path,
        config: &str,
        listen: SocketAddr,
        options: Options,
    ) -> Result<Nexthopd> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        write_file(&dir.join("nexthopd.toml"), config)?;
        let daemon = Nexthopd::launch(binary, dir, listen, &options)?;
        Ok(Nexthopd {
            daemon,
            binary: binary.to_path_buf(),
            dir: dir.to_path_buf(),
            listen,
            options,
        })
    }

    fn launch(binary: &Path, dir: &Path, listen: SocketAddr, options: &Options) -> Result<Daemon> {
        let not_ready = |reason: String, output: String| Error::NotReady {
            name: format!("nexthopd on {listen}"),
            reason,
            output,
        };
        if is_listening(listen) {
            return Err(not_ready(
                format!("{listen} is taken by another process"),
                String::new(),
            ));
        }
        let mut cmd = Command::new(binary);
        cmd.args(&options.args)
            .arg("run")
            .arg("--config")
            .arg(dir.join("nexthopd.toml"));
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", &options.rust_log);
        }
        // Its own control socket (a config's `[control] socket` wins).
        cmd.env("NEXTHOP_SOCKET", control_socket(dir));
        let log = dir.join("nexthopd.log");
        let mut d = Daemon::spawn_logging_to("nexthopd", dir, &log, cmd)?;
        let ready = poll(options.start_timeout, || {
            if let Some(status) = d.exit_status() {
                return Some(Err(format!("it exited ({status})")));
            }
            is_listening(listen).then_some(Ok(()))
        });
        match ready {
            Some(Ok(())) => Ok(d),
            Some(Err(reason)) => Err(not_ready(reason, d.output_tail(30))),
            None => {
                let output = d.output_tail(30);
                d.kill9();
                Err(not_ready(
                    format!("no listener after {:?}", options.start_timeout),
                    output,
                ))
            }
        }
    }

    /// Its control API's Unix socket (unless its config names another).
    pub fn control_socket(&self) -> PathBuf {
        control_socket(&self.dir)
    }

    /// `nexthopctl ARGS` against it.
    pub fn ctl(&self, args: &[&str]) -> Result<CtlOutput> {
        ctl(&self.control_socket(), args)
    }

    /// Its PID.
    pub fn pid(&self) -> u32 {
        self.daemon.pid() as u32
    }

    /// Where it listens.
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// Its config file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("nexthopd.toml")
    }

    /// Its log (stdout and stderr).
    pub fn log_path(&self) -> &Path {
        self.daemon.log_path()
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The last `lines` lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail_file(self.log_path(), lines)
    }

    /// Waits at most `timeout` until its log holds `what`; the log then, or an
    /// error with the log's end.
    pub fn wait_log(&self, what: &str, timeout: Duration) -> Result<String> {
        poll(timeout, || {
            let log = self.log();
            log.contains(what).then_some(log)
        })
        .ok_or_else(|| Error::Timeout {
            what: format!(
                "{what:?} in the log of nexthopd on {} ({timeout:?})",
                self.listen
            ),
            output: self.log_tail(30),
        })
    }

    /// Waits at most `timeout` for it to exit; how it ended.
    pub fn wait_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let listen = self.listen;
        poll(timeout, || self.exit_status()).ok_or_else(|| Error::Timeout {
            what: format!("nexthopd on {listen} to exit ({timeout:?})"),
            output: self.log_tail(30),
        })
    }

    /// How it ended, once it has.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.daemon.exit_status()
    }

    /// Runs `nexthopd check` on its config file.
    pub fn check(&self) -> Result<String> {
        check(&self.binary, &self.config_path())
    }

    /// Sends `sig` while it runs.
    pub fn signal(&mut self, sig: i32) -> Result<()> {
        self.daemon.signal(sig)
    }

    /// Writes `config` as its config file and sends SIGHUP.
    pub fn reload(&mut self, config: &str) -> Result<()> {
        write_file(&self.config_path(), config)?;
        self.signal(libc::SIGHUP)
    }

    /// SIGTERM, then up to `grace` for it to exit (SIGKILL after): how it ended.
    pub fn terminate(&mut self, grace: Duration) -> Option<ExitStatus> {
        self.daemon.terminate(grace)
    }

    /// SIGKILL: a crash, no NOTIFICATION.
    pub fn kill9(&mut self) {
        self.daemon.kill9();
    }

    /// Stops it (SIGTERM, 5 s, SIGKILL) and starts it again on its current
    /// config file.
    pub fn restart(&mut self) -> Result<()> {
        self.daemon.terminate(Duration::from_secs(5));
        self.daemon = Nexthopd::launch(&self.binary, &self.dir, self.listen, &self.options)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RunDir;

    #[test]
    fn an_address_already_listened_on_is_refused_before_start() {
        let run = RunDir::new("unit_nexthopd_taken").unwrap();
        let l = std::net::TcpListener::bind("127.0.0.62:0").unwrap();
        let listen = l.local_addr().unwrap();
        let e = Nexthopd::start(Path::new("/bin/true"), run.path(), "", listen).unwrap_err();
        assert!(e.to_string().contains("taken"), "{e}");
        assert!(!run.path().join("nexthopd.log").exists(), "nothing started");
    }

    #[test]
    fn a_process_that_exits_before_listening_is_an_error_with_its_output() {
        let run = RunDir::new("unit_nexthopd_exits").unwrap();
        let listen = SocketAddr::new("127.0.0.62".parse().unwrap(), 1);
        // `sh run --config ...`: sh cannot open a script named `run`.
        let e = Nexthopd::start(Path::new("/bin/sh"), run.path(), "", listen).unwrap_err();
        let text = e.to_string();
        assert!(text.contains("exited") && text.contains("run"), "{text}");
        assert!(run.path().join("nexthopd.toml").is_file());
    }
}

/// The control socket of a nexthopd whose run directory is `dir`.
pub fn control_socket(dir: &Path) -> PathBuf {
    dir.join("nexthopd.sock")
}
