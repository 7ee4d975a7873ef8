//! `nexthopd run`: logging, the runtime's loop, and the signals.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use nexthop_control::{Action, ActionResult, ApiError, Backend, ReloadResult};
use nexthop_runtime_edge::Turn;

use nexthop_runtime_mio::{Instant, Options, Runtime, USER_TOKEN, mio, monotonic_clock};
use nexthop_speaker::Speaker;
use nexthop_speaker::config::Config;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook_mio::v1_0::Signals;
use tracing::{error, info, warn};
use tracing_subscriber::EnvFilter;

use crate::LogFormat;
use crate::control::{self, Answer, ControlConfig, ControlLoop, DaemonRequest};

/// The shutdown communication sent in every Cease (RFC 9003).
const SHUTDOWN_MESSAGE: &str = "nexthopd shutting down";

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
    let control_cfg = control_config(&cfg);
    let mut clock = monotonic_clock();
    let speaker = speaker(cfg, clock(), "mio");
    let mut rt = Runtime::new(speaker, clock, Options::default()).map_err(|e| e.to_string())?;
    let mut signals =
        Signals::new([SIGTERM, SIGINT, SIGHUP]).map_err(|e| format!("signals: {e}"))?;
    rt.registry()
        .register(&mut signals, USER_TOKEN, mio::Interest::READABLE)
        .map_err(|e| format!("signals: {e}"))?;
    let waker = Arc::new(
        mio::Waker::new(rt.registry(), USER_TOKEN).map_err(|e| format!("control waker: {e}"))?,
    );
    let (mut ctl, _guard) = start_control(
        &control_cfg,
        Arc::new(move || {
            let _ = waker.wake();
        }),
        "mio",
    )?;
    serve(&mut rt, path, || signals.pending().collect(), &mut ctl)
}

/// Where the control API listens: `[control]` of the config, with the socket
/// from `$NEXTHOP_SOCKET` when the config names no socket of its own.
fn control_config(cfg: &Config) -> ControlConfig {
    let c = &cfg.control;
    let default = c.socket.as_os_str() == nexthop_speaker::config::DEFAULT_CONTROL_SOCKET;
    let socket = match std::env::var_os("NEXTHOP_SOCKET") {
        Some(env) if default => env.into(),
        _ => c.socket.clone(),
    };
    ControlConfig {
        socket,
        listen: c.listen,
        allow_write_over_tcp: c.allow_write_over_tcp,
    }
}

/// Binds the control sockets and starts the control thread; the loop's end.
fn start_control(
    cfg: &ControlConfig,
    wake: control::Wake,
    runtime: &'static str,
) -> Result<(ControlLoop, control::SocketGuard), String> {
    let (to_loop, rx) = control::queue(wake);
    let turns = control::turn_histogram();
    let guard = control::start(cfg, to_loop, turns.clone())?;
    info!(socket = %cfg.socket.display(), tcp = ?cfg.listen, "control API listening");
    Ok((ControlLoop::new(rx, turns, runtime), guard))
}

/// What the daemon's loop needs of a runtime (both runtimes have it).
trait Loop {
    /// One turn of the event loop.
    fn turn_once(&mut self, wait: Option<Duration>) -> std::io::Result<Turn>;
    /// The control API's queued work, answered by the speaker.
    fn answer_control(&mut self, control: &mut ControlLoop);
    /// An operator's action on the speaker.
    fn act(&mut self, action: Action) -> Result<ActionResult, ApiError>;
    fn speaker(&self) -> &Speaker;
    fn input_shutdown(&mut self);
    fn input_reload(&mut self, cfg: Config) -> nexthop_speaker::ReloadSummary;
    fn open_connections(&self) -> usize;
}

macro_rules! impl_loop {
    ($krate:ident) => {
        impl<C: FnMut() -> $krate::Instant> Loop for $krate::Runtime<Speaker, C> {
            fn turn_once(&mut self, wait: Option<Duration>) -> std::io::Result<Turn> {
                self.turn(wait)
            }
            fn answer_control(&mut self, control: &mut ControlLoop) {
                self.input(|s, now| control.answer(s, now));
            }
            fn act(&mut self, action: Action) -> Result<ActionResult, ApiError> {
                self.input(|s, now| s.act(now, action))
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
/// `signals` gives the signals caught since the last call; `control` is the
/// control API's end in the loop.
fn serve<L: Loop>(
    rt: &mut L,
    path: &Path,
    mut signals: impl FnMut() -> Vec<i32>,
    control: &mut ControlLoop,
) -> Result<(), String> {
    // The runtime bounds the shutdown: each connection's close lingers at most
    // its `Options::linger`; a second signal exits at once.
    let mut shutdown = false;
    // A graceful shutdown (RFC 8326) asked for through the API: when the
    // Cease goes out.
    let mut graceful_until: Option<std::time::Instant> = None;
    loop {
        let mut wait = shutdown.then_some(Duration::from_millis(50));
        if control.has_work() {
            wait = Some(Duration::ZERO);
        }
        if let Some(t) = graceful_until {
            let left = t.saturating_duration_since(std::time::Instant::now());
            wait = Some(wait.map_or(left, |w| w.min(left)));
        }
        let turn = rt.turn_once(wait).map_err(|e| format!("event loop: {e}"))?;
        control.observe_turn(turn.busy);
        if turn.user {
            for sig in signals() {
                match sig {
                    SIGTERM | SIGINT if !shutdown => {
                        let name = if sig == SIGTERM { "SIGTERM" } else { "SIGINT" };
                        info!(signal = name, "shutting down: Cease to every peer");
                        rt.input_shutdown();
                        shutdown = true;
                    }
                    SIGTERM | SIGINT => {
                        warn!("second signal during shutdown: exiting now");
                        return Ok(());
                    }
                    SIGHUP => {
                        info!(config = %path.display(), "SIGHUP: reloading the config");
                        match reloaded_config(path, rt.speaker().config()) {
                            Ok(cfg) => log_reload(rt.input_reload(cfg)),
                            Err(e) => {
                                error!(error = %e, "config reload failed: keeping the running config")
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        for req in control.take() {
            match req {
                DaemonRequest::Reload(reply) => {
                    info!(config = %path.display(), "control API: reloading the config");
                    let answer = match reloaded_config(path, rt.speaker().config()) {
                        Ok(cfg) => {
                            let s = rt.input_reload(cfg);
                            log_reload(s);
                            Ok(Answer::Reload(ReloadResult {
                                added: s.added,
                                removed: s.removed,
                                changed: s.changed,
                                unchanged: s.unchanged,
                            }))
                        }
                        Err(e) => {
                            error!(error = %e, "config reload failed: keeping the running config");
                            Err(ApiError::new(400, "config_error", e))
                        }
                    };
                    let _ = reply.send(answer);
                }
                DaemonRequest::Shutdown {
                    graceful,
                    after_s,
                    reply,
                } => {
                    if shutdown {
                        let _ = reply.send(Err(ApiError::new(
                            409,
                            "shutting_down",
                            "already shutting down",
                        )));
                        continue;
                    }
                    let answer = if graceful {
                        info!(after_s, "control API: graceful shutdown (RFC 8326)");
                        graceful_until =
                            Some(std::time::Instant::now() + Duration::from_secs(after_s));
                        rt.act(Action::GracefulShutdownAll { after_s })
                            .map(Answer::Action)
                    } else {
                        info!("control API: shutting down: Cease to every peer");
                        rt.input_shutdown();
                        shutdown = true;
                        Ok(Answer::Action(ActionResult {
                            message: "shutting down: Cease to every peer".into(),
                        }))
                    };
                    let _ = reply.send(answer);
                }
            }
        }
        if control.is_busy() {
            rt.answer_control(control);
        }
        if let Some(t) = graceful_until
            && std::time::Instant::now() >= t
        {
            info!("graceful shutdown period over: Cease to every peer");
            graceful_until = None;
            rt.input_shutdown();
            shutdown = true;
        }
        if shutdown && rt.speaker().is_shut_down() && rt.open_connections() == 0 {
            info!("shut down");
            return Ok(());
        }
    }
}

/// The config file again, for SIGHUP and `POST /v1/reload`; the error names
/// the file and the line.
fn reloaded_config(path: &Path, old: &Config) -> Result<Config, String> {
    let cfg = crate::load(path)?;
    if cfg.router.listen != old.router.listen {
        warn!("listen addresses changed: they take effect at the next start");
    }
    if cfg.router.runtime != old.router.runtime {
        warn!("runtime changed: it takes effect at the next start");
    }
    Ok(cfg)
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
    let control_cfg = control_config(&cfg);
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
    let waker = rt.waker();
    let (mut ctl, _guard) = start_control(&control_cfg, Arc::new(move || waker.wake()), "uring")?;
    serve(
        &mut rt,
        path,
        || std::mem::take(&mut *pending.lock().unwrap_or_else(|e| e.into_inner())),
        &mut ctl,
    )
}
