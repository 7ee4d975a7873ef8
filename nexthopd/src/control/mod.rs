//! The control interface: an HTTP/1.1 JSON API (`/v1/...`) and `/metrics` on a
//! Unix socket and optionally TCP, served by a thread of its own, answered by
//! the event loop.
//!
//! The loop stays single-threaded and in charge: the control thread parses
//! HTTP and hands each request to the loop through a bounded queue (full: 503
//! `busy`), then wakes it (a `mio::Waker` under the runtime's user token, or
//! the io_uring runtime's waker). At each turn boundary the loop takes at most
//! [`REQUESTS_PER_TURN`] requests and answers them through
//! [`nexthop_control::Backend`] (the speaker). A route dump is a cursor: each
//! turn advances every dump by a share of [`PREFIXES_PER_TURN`] prefixes and
//! hands the page to the control thread through a bounded channel; a dump whose
//! client reads slowly keeps its page and waits (the control thread wakes the
//! loop when it took one), and one whose client left is dropped. A page is
//! written as JSON by the speaker straight into bytes (the attributes' part
//! once per attribute set); everything else is encoded on the control thread.
//! Watchers get events through bounded channels;
//! one that falls behind gets a last `lost` line and is dropped.

mod http;
mod metrics;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nexthop_control::{
    Action, ActionResult, ApiError, Backend, Explain, ExplainTo, MetricsSnapshot, NeighborDetail,
    NeighborSummary, ReloadResult, RouteCursor, RouteQuery, RouteSummary, Status, WatchEvent,
};
use prometheus_client::metrics::histogram::Histogram;
use tokio::sync::{mpsc, oneshot};

pub use http::{SocketGuard, start};

/// Requests taken from the queue per loop turn.
pub const REQUESTS_PER_TURN: usize = 32;
/// Prefixes visited per loop turn by all route dumps together.
pub const PREFIXES_PER_TURN: usize = 4096;
/// Requests waiting for the loop, at most.
pub const QUEUE_LEN: usize = 256;
/// Pages of a dump between the loop and its HTTP client, at most.
pub const PAGES_IN_FLIGHT: usize = 4;
/// Events waiting for one watcher, at most; more and it is dropped.
pub const WATCH_QUEUE_LEN: usize = 4096;

/// Where the API listens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControlConfig {
    /// The Unix socket.
    pub socket: PathBuf,
    /// TCP, optional.
    pub listen: Option<SocketAddr>,
    /// Whether POST requests are served over TCP.
    pub allow_write_over_tcp: bool,
}

/// A request the loop answers in one go.
#[derive(Debug)]
pub enum Query {
    /// `GET /v1/status`.
    Status,
    /// `GET /v1/neighbors`.
    Neighbors,
    /// `GET /v1/neighbors/ADDR`.
    Neighbor(IpAddr),
    /// `GET /v1/routes/summary`.
    RouteSummary(RouteQuery),
    /// `GET /v1/explain?prefix=P`.
    Explain(String),
    /// `GET /v1/explain?prefix=P&to=A`.
    ExplainTo(String, IpAddr),
    /// A POST action.
    Act(Action),
    /// `POST /v1/reload`.
    Reload,
    /// `POST /v1/shutdown`.
    Shutdown {
        /// Graceful (RFC 8326) first.
        graceful: bool,
        /// Seconds of graceful shutdown before the Cease.
        after_s: u64,
    },
    /// `GET /metrics`.
    Metrics,
}

/// The loop's answer to a [`Query`].
#[derive(Debug)]
pub enum Answer {
    /// Status.
    Status(Status),
    /// Neighbours.
    Neighbors(Vec<NeighborSummary>),
    /// One neighbour.
    Neighbor(Box<NeighborDetail>),
    /// Route counts.
    RouteSummary(RouteSummary),
    /// Explain.
    Explain(Explain),
    /// Explain --to.
    ExplainTo(ExplainTo),
    /// An action's result.
    Action(ActionResult),
    /// A reload's result.
    Reload(ReloadResult),
    /// The speaker's numbers.
    Metrics(Box<MetricsSnapshot>),
}

/// A page of a route dump, loop to control thread.
#[derive(Debug)]
pub enum Page {
    /// Routes as the API writes them: one line each, `,` then the route's
    /// JSON (`Backend::routes_json`).
    Routes(Vec<u8>),
    /// The dump is complete.
    End,
    /// The query was refused (before any route) or failed.
    Error(ApiError),
}

/// What the control thread sends the loop.
#[derive(Debug)]
pub enum Incoming {
    /// Answer `query` on `reply`.
    Query(Query, oneshot::Sender<Result<Answer, ApiError>>),
    /// Stream the routes of `query` on `pages`.
    Dump(RouteQuery, mpsc::Sender<Page>),
    /// Send watch events (about `neighbor`, or all) on `events`.
    Watch(Option<IpAddr>, mpsc::Sender<WatchEvent>),
}

/// Wakes the event loop from the control thread.
pub type Wake = Arc<dyn Fn() + Send + Sync>;

/// The control thread's end of the queue: sends and wakes.
#[derive(Clone)]
pub struct ToLoop {
    tx: SyncSender<Incoming>,
    wake: Wake,
}

impl ToLoop {
    /// Queues `msg` and wakes the loop; `busy` (503) when the queue is full,
    /// `shutting_down` (503) when the loop is gone.
    pub fn send(&self, msg: Incoming) -> Result<(), ApiError> {
        match self.tx.try_send(msg) {
            Ok(()) => {
                (self.wake)();
                Ok(())
            }
            Err(TrySendError::Full(_)) => Err(ApiError::new(
                503,
                "busy",
                format!("the daemon has {QUEUE_LEN} requests waiting; try again"),
            )),
            Err(TrySendError::Disconnected(_)) => Err(ApiError::new(
                503,
                "shutting_down",
                "the daemon's event loop has stopped",
            )),
        }
    }

    /// Wakes the loop (a page was taken from a dump).
    pub fn wake(&self) {
        (self.wake)();
    }
}

/// A bounded queue into the loop, and its waker.
pub fn queue(wake: Wake) -> (ToLoop, Receiver<Incoming>) {
    let (tx, rx) = std::sync::mpsc::sync_channel(QUEUE_LEN);
    (ToLoop { tx, wake }, rx)
}

struct Dump {
    query: RouteQuery,
    cursor: RouteCursor,
    pages: mpsc::Sender<Page>,
}

struct Watcher {
    neighbor: Option<IpAddr>,
    events: mpsc::Sender<WatchEvent>,
}

/// What [`ControlLoop::take`] hands the daemon itself (not the speaker).
#[derive(Debug)]
pub enum DaemonRequest {
    /// Reload the config file; answer on the sender.
    Reload(oneshot::Sender<Result<Answer, ApiError>>),
    /// Shut down (after a graceful period of `after_s` when `graceful`).
    Shutdown {
        /// Graceful first.
        graceful: bool,
        /// Seconds.
        after_s: u64,
        /// Where to answer.
        reply: oneshot::Sender<Result<Answer, ApiError>>,
    },
}

/// The loop's side of the control interface.
pub struct ControlLoop {
    rx: Receiver<Incoming>,
    queries: Vec<(Query, oneshot::Sender<Result<Answer, ApiError>>)>,
    dumps: Vec<Dump>,
    watchers: Vec<Watcher>,
    watching: bool,
    turns: Histogram,
    runtime: &'static str,
    events_dropped: u64,
}

/// Buckets of the turn-duration histogram, seconds: 10 µs to ~2.6 s.
pub fn turn_histogram() -> Histogram {
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        1e-5, 4.0, 10,
    ))
}

impl ControlLoop {
    /// The loop's end of `rx`; `turns` is shared with `/metrics`.
    pub fn new(rx: Receiver<Incoming>, turns: Histogram, runtime: &'static str) -> Self {
        ControlLoop {
            rx,
            queries: Vec::new(),
            dumps: Vec::new(),
            watchers: Vec::new(),
            watching: false,
            turns,
            runtime,
            events_dropped: 0,
        }
    }

    /// Records a turn's busy time.
    pub fn observe_turn(&self, busy: Duration) {
        self.turns.observe(busy.as_secs_f64());
    }

    /// Takes at most [`REQUESTS_PER_TURN`] requests from the queue: dumps and
    /// watchers are kept, queries for the speaker wait for [`Self::answer`],
    /// reload and shutdown are returned for the daemon.
    pub fn take(&mut self) -> Vec<DaemonRequest> {
        let mut daemon = Vec::new();
        for _ in 0..REQUESTS_PER_TURN {
            match self.rx.try_recv() {
                Ok(Incoming::Query(Query::Reload, reply)) => {
                    daemon.push(DaemonRequest::Reload(reply))
                }
                Ok(Incoming::Query(Query::Shutdown { graceful, after_s }, reply)) => {
                    daemon.push(DaemonRequest::Shutdown {
                        graceful,
                        after_s,
                        reply,
                    })
                }
                Ok(Incoming::Query(q, reply)) => self.queries.push((q, reply)),
                Ok(Incoming::Dump(query, pages)) => self.dumps.push(Dump {
                    query,
                    cursor: RouteCursor::default(),
                    pages,
                }),
                Ok(Incoming::Watch(neighbor, events)) => {
                    self.watchers.push(Watcher { neighbor, events })
                }
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        daemon
    }

    /// Whether the next turn has control work without waiting for events: a
    /// dump whose client has room for a page, or requests still queued.
    pub fn has_work(&self) -> bool {
        !self.queries.is_empty() || self.dumps.iter().any(|d| d.pages.capacity() > 0)
    }

    /// Whether [`Self::answer`] has anything to do this turn (so an idle
    /// control interface costs the loop nothing).
    pub fn is_busy(&self) -> bool {
        !self.queries.is_empty()
            || !self.dumps.is_empty()
            || !self.watchers.is_empty()
            || self.watching
    }

    /// Answers the queued queries, advances the dumps and moves watch events,
    /// all with bounded work.
    pub fn answer<B: Backend>(&mut self, b: &mut B, now: B::Instant) {
        for (q, reply) in std::mem::take(&mut self.queries) {
            let a = self.query(b, now, q);
            let _ = reply.send(a);
        }
        self.advance_dumps(b, now);
        self.move_events(b);
    }

    fn query<B: Backend>(
        &mut self,
        b: &mut B,
        now: B::Instant,
        q: Query,
    ) -> Result<Answer, ApiError> {
        Ok(match q {
            Query::Status => {
                let mut s = b.status(now);
                s.runtime = self.runtime.to_string();
                s.version = env!("CARGO_PKG_VERSION").to_string();
                Answer::Status(s)
            }
            Query::Neighbors => Answer::Neighbors(b.neighbors(now)),
            Query::Neighbor(a) => Answer::Neighbor(Box::new(b.neighbor(now, a)?)),
            Query::RouteSummary(q) => Answer::RouteSummary(b.route_summary(&q)?),
            Query::Explain(p) => Answer::Explain(b.explain(now, &p)?),
            Query::ExplainTo(p, to) => Answer::ExplainTo(b.explain_to(now, &p, to)?),
            Query::Act(a) => Answer::Action(b.act(now, a)?),
            Query::Metrics => {
                let mut m = b.metrics(now);
                m.events_lost += self.events_dropped;
                Answer::Metrics(Box::new(m))
            }
            Query::Reload | Query::Shutdown { .. } => {
                return Err(ApiError::new(
                    500,
                    "internal",
                    "daemon request reached the speaker",
                ));
            }
        })
    }

    fn advance_dumps<B: Backend>(&mut self, b: &mut B, now: B::Instant) {
        if self.dumps.is_empty() {
            return;
        }
        let share = (PREFIXES_PER_TURN / self.dumps.len()).max(64);
        let mut budget = PREFIXES_PER_TURN;
        self.dumps.retain_mut(|d| {
            if d.pages.is_closed() {
                return false;
            }
            if d.pages.capacity() == 0 {
                return true;
            }
            if d.cursor.done {
                // Complete: `End` when there is room (now there is).
                let _ = d.pages.try_send(Page::End);
                return false;
            }
            if budget == 0 {
                return true;
            }
            if d.cursor == RouteCursor::default()
                && let Err(e) = b.check_routes(&d.query)
            {
                let _ = d.pages.try_send(Page::Error(e));
                return false;
            }
            let max = share.min(budget);
            budget -= max;
            let mut out = Vec::new();
            if let Err(e) = b.routes_json(now, &d.query, &mut d.cursor, max, &mut out) {
                let _ = d.pages.try_send(Page::Error(e));
                return false;
            }
            if !out.is_empty() && d.pages.try_send(Page::Routes(out)).is_err() {
                return false;
            }
            true
        });
    }

    fn move_events<B: Backend>(&mut self, b: &mut B) {
        self.watchers.retain(|w| !w.events.is_closed());
        let want = !self.watchers.is_empty();
        if want != self.watching {
            b.set_watching(want);
            self.watching = want;
        }
        if !want {
            return;
        }
        let time_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        // Bounded: the speaker's queue is bounded, and so is each watcher's.
        while let Some(mut ev) = b.poll_event() {
            match &mut ev {
                WatchEvent::State { time_ms: t, .. }
                | WatchEvent::BestPath { time_ms: t, .. }
                | WatchEvent::Lost { time_ms: t, .. } => *t = time_ms,
            }
            let about = ev.neighbor();
            let mut dropped = 0;
            self.watchers.retain(|w| {
                let lost = matches!(ev, WatchEvent::Lost { .. });
                if w.neighbor.is_some() && !lost && w.neighbor != about {
                    return true;
                }
                // The last slot is kept for the line that says it is dropped.
                if w.events.capacity() <= 1 {
                    let _ = w.events.try_send(too_slow());
                    dropped += 1;
                    return false;
                }
                w.events.try_send(ev.clone()).is_ok()
            });
            self.events_dropped += dropped;
        }
    }
}

/// A slow watcher's last line, before the loop drops it.
fn too_slow() -> WatchEvent {
    WatchEvent::Lost {
        time_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
        count: 0,
        message: format!(
            "this watcher read too slowly ({WATCH_QUEUE_LEN} events waiting) and is dropped"
        ),
    }
}
