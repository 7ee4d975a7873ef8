//! `nexthopd run`: logging, the runtime's loop, and the signals.

use std::path::Path;
use std::time::{Duration, Instant as StdInstant};

use nexthop_runtime_mio::{Instant, Options, Runtime, USER_TOKEN, mio, monotonic_clock};
use nexthop_speaker::Speaker;
use nexthop_speaker::config::Config;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;
use tracing::{error, info, warn};
use tracing_subscriber::EnvFilter;

use crate::LogFormat;

/// The shutdown communication sent in every Cease (RFC 9003).
const SHUTDOWN_MESSAGE: &str = "nexthopd shutting down";
/// How long a shutdown may wait for NOTIFICATIONs to be written.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// Logs to stderr, text or JSON, filtered by `RUST_LOG` (default `info`).
pub fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => b.with_ansi(false).init(),
        LogFormat::Json => b.json().flatten_event(true).init(),
    }
}

/// The speaker for `cfg` at the runtime clock's `now`, logged.
fn speaker(cfg: Config, now: Instant, runtime: &str) -> Speaker {
    info!(
        asn = cfg.router.asn,
        router_id = %cfg.router.router_id,
        neighbors = cfg.neighbors.len(),
        runtime,
        "nexthopd starting"
    );
    Speaker::new(cfg, now)
}

/// Runs the speaker on the mio runtime until a SIGTERM or SIGINT shutdown ends.
pub fn run_mio(path: &Path, cfg: Config) -> Result<(), String> {
    let mut clock = monotonic_clock();
    let speaker = speaker(cfg, clock(), "mio");
    let mut rt = Runtime::new(speaker, clock, Options::default()).map_err(|e| e.to_string())?;
    let mut signals =
        Signals::new([SIGTERM, SIGINT, SIGHUP]).map_err(|e| format!("signals: {e}"))?;
    rt.registry()
        .register(&mut signals, USER_TOKEN, mio::Interest::READABLE)
        .map_err(|e| format!("signals: {e}"))?;
    serve(&mut rt, path, || signals.pending().collect())
}

/// What the daemon's loop needs of a runtime (both runtimes have it).
trait Loop {
    /// One turn of the event loop; whether a signal woke it.
    fn turn_once(&mut self, wait: Option<Duration>) -> std::io::Result<bool>;
    fn speaker(&self) -> &Speaker;
    fn input_shutdown(&mut self);
    fn input_reload(&mut self, cfg: Config) -> nexthop_speaker::ReloadSummary;
    fn open_connections(&self) -> usize;
}

macro_rules! impl_loop {
    ($krate:ident) => {
        impl<C: FnMut() -> $krate::Instant> Loop for $krate::Runtime<Speaker, C> {
            fn turn_once(&mut self, wait: Option<Duration>) -> std::io::Result<bool> {
                self.turn(wait).map(|t| t.user)
            }
            fn speaker(&self) -> &Speaker {
                $krate::Runtime::speaker(self)
            }
            fn input_shutdown(&mut self) {
                self.input(|s, now| s.handle_shutdown(now, SHUTDOWN_MESSAGE));
            }
            fn input_reload(&mut self, cfg: Config) -> nexthop_speaker::ReloadSummary {
                let s = self.input(|s, now| s.handle_reload(now, cfg));
                self.refresh_peer_options();
                s
            }
            fn open_connections(&self) -> usize {
                $krate::Runtime::open_connections(self)
            }
        }
    };
}

impl_loop!(nexthop_runtime_mio);
impl_loop!(nexthop_runtime_uring);

/// The daemon's loop on runtime `rt` until a SIGTERM or SIGINT shutdown ends;
/// `signals` gives the signals caught since the last call.
fn serve<L: Loop>(
    rt: &mut L,
    path: &Path,
    mut signals: impl FnMut() -> Vec<i32>,
) -> Result<(), String> {
    let mut shutdown: Option<StdInstant> = None;
    loop {
        let wait = shutdown.map(|_| Duration::from_millis(50));
        let user = rt.turn_once(wait).map_err(|e| format!("event loop: {e}"))?;
        if user {
            for sig in signals() {
                match sig {
                    SIGTERM | SIGINT if shutdown.is_none() => {
                        let name = if sig == SIGTERM { "SIGTERM" } else { "SIGINT" };
                        info!(signal = name, "shutting down: Cease to every peer");
                        rt.input_shutdown();
                        shutdown = Some(StdInstant::now() + SHUTDOWN_WAIT);
                    }
                    SIGTERM | SIGINT => {
                        warn!("second signal during shutdown: exiting now");
                        return Ok(());
                    }
                    SIGHUP => {
                        if let Some(cfg) = reloaded_config(path, rt.speaker().config()) {
                            log_reload(rt.input_reload(cfg));
                        }
                    }
                    _ => {}
                }
            }
        }
        if let Some(deadline) = shutdown {
            if rt.speaker().is_shut_down() && rt.open_connections() == 0 {
                info!("shut down");
                return Ok(());
            }
            if StdInstant::now() >= deadline {
                warn!(
                    open_connections = rt.open_connections(),
                    "shutdown took too long: exiting"
                );
                return Ok(());
            }
        }
    }
}

/// The config file again, for SIGHUP; `None` (logged) when it does not load.
fn reloaded_config(path: &Path, old: &Config) -> Option<Config> {
    info!(config = %path.display(), "SIGHUP: reloading the config");
    let cfg = match crate::load(path) {
        Ok(c) => c,
        Err(e) => {
            error!(error = %e, "config reload failed: keeping the running config");
            return None;
        }
    };
    if cfg.router.listen != old.router.listen {
        warn!("listen addresses changed: they take effect at the next start");
    }
    if cfg.router.runtime != old.router.runtime {
        warn!("runtime changed: it takes effect at the next start");
    }
    Some(cfg)
}

fn log_reload(s: nexthop_speaker::ReloadSummary) {
    info!(
        added = s.added,
        removed = s.removed,
        changed = s.changed,
        unchanged = s.unchanged,
        "config reloaded"
    );
}

/// Runs the speaker on the io_uring runtime until a SIGTERM or SIGINT shutdown
/// ends. Signals are caught on a thread that wakes the ring (`Turn::user`).
pub fn run_uring(path: &Path, cfg: Config) -> Result<(), String> {
    use nexthop_runtime_uring as uring;
    let mut clock = monotonic_clock();
    let speaker = speaker(cfg, clock(), "uring");
    let mut rt =
        uring::Runtime::new(speaker, clock, Options::default()).map_err(|e| e.to_string())?;
    let pending = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
        .map_err(|e| format!("signals: {e}"))?;
    let (queued, waker) = (pending.clone(), rt.waker());
    std::thread::spawn(move || {
        for sig in signals.forever() {
            queued.lock().unwrap_or_else(|e| e.into_inner()).push(sig);
            waker.wake();
        }
    });
    serve(&mut rt, path, || {
        std::mem::take(&mut *pending.lock().unwrap_or_else(|e| e.into_inner()))
    })
}
