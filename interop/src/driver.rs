//! What every daemon driver shares, written once: the [`Instance`]
//! (configuration, run sub-directory, running process), starting the daemon and
//! waiting until it answers ([`Driver::launch`]), stopping it by PID, the end of
//! its logs, and two helpers for the daemons' JSON. A driver file holds only its
//! [`Flavor`], its [`Driver`] hooks (how to start its daemon, how to know it is
//! ready), its [`Originate`] hooks (how to change its routes at run time) and its
//! queries.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::{Error, Prefix, Result, Route, RunDir, SpeakerConfig, wait_until};
use nexthop_test_support::process::{Daemon, tail_file};

/// Bound on one CLI call (`birdc`, `gobgp`, `vtysh`, `bgpctl`, `chown`).
pub const CLI_TIMEOUT: Duration = Duration::from_secs(10);

/// What tells one daemon from another in the shared driver code.
#[derive(Debug)]
pub struct Flavor {
    /// Names the instance (`bird@127.0.0.2`) and its run sub-directory.
    pub name: &'static str,
    /// Name of the process guard: its output goes to `<process>.out`.
    pub process: &'static str,
    /// The daemon's own log file in the run sub-directory, if it writes one.
    pub log: Option<&'static str>,
    /// What [`Driver::ready`] waits for, for the timeout message.
    pub ready: &'static str,
    /// Bound on the wait for [`Driver::ready`].
    pub start_timeout: Duration,
    /// Time between SIGTERM and SIGKILL in [`Instance::stop`].
    pub stop_grace: Duration,
}

/// One daemon instance: its configuration, its run sub-directory
/// (`<flavor name>-<address>`) and, while it runs, the guard of its process.
#[derive(Debug)]
pub struct Instance {
    flavor: &'static Flavor,
    /// The configuration it runs.
    pub cfg: SpeakerConfig,
    /// Its run sub-directory: config, sockets, logs, pid files.
    pub dir: PathBuf,
    daemon: Option<Daemon>,
}

impl Instance {
    /// Validates `cfg` and creates the instance's run sub-directory.
    pub fn new(run_dir: &RunDir, flavor: &'static Flavor, cfg: SpeakerConfig) -> Result<Instance> {
        cfg.validate()?;
        let dir = run_dir.subdir(&format!("{}-{}", flavor.name, cfg.local_address))?;
        Ok(Instance {
            flavor,
            cfg,
            dir,
            daemon: None,
        })
    }

    /// `<flavor name>@<address>`, for messages.
    pub fn name(&self) -> String {
        format!("{}@{}", self.flavor.name, self.cfg.local_address)
    }

    /// The running process, if any.
    pub fn daemon(&self) -> Option<&Daemon> {
        self.daemon.as_ref()
    }

    /// The running process, to signal it.
    pub fn daemon_mut(&mut self) -> Option<&mut Daemon> {
        self.daemon.as_mut()
    }

    /// SIGKILL to the daemon and what it forked; no-op when it is not running.
    pub fn kill9(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            d.kill9();
        }
    }

    /// SIGTERM, then SIGKILL after `grace`: how the process ended.
    pub fn terminate(&mut self, grace: Duration) -> Option<std::process::ExitStatus> {
        self.daemon.take().and_then(|mut d| d.terminate(grace))
    }

    /// Stops the daemon with its flavour's grace time.
    pub fn stop(&mut self) {
        let _ = self.terminate(self.flavor.stop_grace);
    }

    /// The last 30 lines of the daemon's own log and 10 of its output, or 30 of
    /// its output when it writes no log.
    pub fn log_tail(&self) -> String {
        let out = self.dir.join(format!("{}.out", self.flavor.process));
        match self.flavor.log {
            Some(log) => format!(
                "{}\n{}",
                tail_file(&self.dir.join(log), 30),
                tail_file(&out, 10)
            ),
            None => tail_file(&out, 30),
        }
    }
}

/// Implements [`Driver::instance`] and [`Driver::instance_mut`] for a driver
/// whose [`Instance`] is its field `inst`.
macro_rules! instance_in_field {
    () => {
        fn instance(&self) -> &$crate::driver::Instance {
            &self.inst
        }
        fn instance_mut(&mut self) -> &mut $crate::driver::Instance {
            &mut self.inst
        }
    };
}
pub(crate) use instance_in_field;

/// How a driver starts its daemon; [`Driver::launch`] is the shared sequence.
/// Public in a private module: other crates can neither name nor implement it
/// (nor [`Originate`]), which seals [`crate::Speaker`].
pub trait Driver {
    /// The instance.
    fn instance(&self) -> &Instance;
    /// The instance, to start or stop it.
    fn instance_mut(&mut self) -> &mut Instance;
    /// Writes the configuration and returns the command that runs the daemon in
    /// the foreground.
    fn command(&self) -> Result<Command>;
    /// True once the daemon answers on its control interface.
    fn ready(&self) -> bool;
    /// What to do once it answers (originate the configured routes...).
    fn after_start(&mut self) -> Result<()> {
        Ok(())
    }

    /// Starts the daemon, waits until it is ready (or has exited), then runs
    /// [`Driver::after_start`]. A daemon that does not come up is stopped, and
    /// the error carries the end of its output and log.
    fn launch(&mut self) -> Result<()> {
        let cmd = self.command()?;
        let inst = self.instance();
        let flavor = inst.flavor;
        let mut d = Daemon::spawn(flavor.process, &inst.dir, cmd)?;
        let ready = wait_until(flavor.start_timeout, flavor.ready, || {
            !d.is_running() || self.ready()
        });
        if ready.is_err() || !d.is_running() {
            let out = d.output_tail(30);
            drop(d);
            let log = match flavor.log {
                Some(log) => format!("\n{}", tail_file(&inst.dir.join(log), 20)),
                None => String::new(),
            };
            return Err(Error::new(format!(
                "{}: did not start\n{out}{log}",
                inst.name()
            )));
        }
        self.instance_mut().daemon = Some(d);
        self.after_start()
    }

    /// [`Driver::launch`]es it and returns it: the end of a driver's `start`.
    fn launched(mut self) -> Result<Self>
    where
        Self: Sized,
    {
        self.launch()?;
        Ok(self)
    }
}

/// How a driver changes the routes its daemon originates at run time, for
/// [`crate::Speaker::announce`] and [`crate::Speaker::withdraw`], which keep
/// the configuration in step (a restart originates what was announced last).
pub trait Originate: Driver {
    /// Starts originating `route` in the running daemon (the configuration
    /// still holds the routes before the change).
    fn originate(&self, route: &Route) -> Result<()>;
    /// Stops originating `prefix` in the running daemon (the configuration
    /// still holds it).
    fn stop_originating(&self, prefix: Prefix) -> Result<()>;
}

/// The elements of the JSON array `v`; none when `v` is not an array.
pub fn items(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

/// The string elements of the JSON array `v`.
pub fn strs(v: &Value) -> impl Iterator<Item = &str> {
    items(v).filter_map(Value::as_str)
}
