//! The control thread and the loop's end against a fake speaker: sockets,
//! errors, limits, paged dumps, watchers.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::IpAddr;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use nexthop_control::*;

use super::{ControlConfig, ControlLoop, WATCH_QUEUE_LEN, queue, start, turn_histogram};

struct Fake {
    routes: u32,
    pages: Arc<AtomicUsize>,
    events: VecDeque<WatchEvent>,
    watching: bool,
}

impl Backend for Fake {
    type Instant = ();
    fn status(&self, _: ()) -> Status {
        Status {
            version: String::new(),
            asn: 65000,
            router_id: "192.0.2.1".parse().unwrap(),
            uptime_s: 1,
            runtime: String::new(),
            neighbors: 0,
            established: 0,
            shutting_down: false,
        }
    }
    fn neighbors(&self, _: ()) -> Vec<NeighborSummary> {
        Vec::new()
    }
    fn neighbor(&self, _: (), a: IpAddr) -> Result<NeighborDetail, ApiError> {
        Err(ApiError::unknown_neighbor(a))
    }
    fn check_routes(&self, q: &RouteQuery) -> Result<(), ApiError> {
        match &q.prefix {
            Some(p) if !p.contains('/') => Err(ApiError::bad_prefix(p)),
            _ => Ok(()),
        }
    }
    fn routes(
        &self,
        _: (),
        _q: &RouteQuery,
        c: &mut RouteCursor,
        max: usize,
        out: &mut Vec<Route>,
    ) -> Result<(), ApiError> {
        self.pages.fetch_add(1, Ordering::Relaxed);
        let from: u32 = c
            .after
            .as_deref()
            .map_or(0, |a| a.parse::<u32>().unwrap() + 1);
        let to = (from + max as u32).min(self.routes);
        for i in from..to {
            out.push(route(i));
        }
        c.after = Some((to.max(1) - 1).to_string());
        c.done = to >= self.routes;
        Ok(())
    }
    fn route_summary(&self, q: &RouteQuery) -> Result<RouteSummary, ApiError> {
        Ok(RouteSummary {
            view: q.view.clone(),
            families: Vec::new(),
        })
    }
    fn explain(&self, _: (), p: &str) -> Result<Explain, ApiError> {
        Err(ApiError::bad_prefix(p))
    }
    fn explain_to(&self, _: (), p: &str, _: IpAddr) -> Result<ExplainTo, ApiError> {
        Err(ApiError::bad_prefix(p))
    }
    fn act(&mut self, _: (), a: Action) -> Result<ActionResult, ApiError> {
        Ok(ActionResult {
            message: format!("{a:?}"),
        })
    }
    fn set_watching(&mut self, on: bool) {
        self.watching = on;
    }
    fn poll_event(&mut self) -> Option<WatchEvent> {
        if self.watching {
            self.events.pop_front()
        } else {
            None
        }
    }
    fn metrics(&self, _: ()) -> MetricsSnapshot {
        MetricsSnapshot::default()
    }
}

fn route(i: u32) -> Route {
    Route {
        prefix: format!("10.{}.{}.0/24", i >> 8 & 255, i & 255),
        path_id: 0,
        best: true,
        from: Some("192.0.2.2".parse().unwrap()),
        as_path: "65001 65002".into(),
        next_hop: Some("192.0.2.2".parse().unwrap()),
        origin: "igp".into(),
        local_pref: Some(100),
        med: None,
        communities: vec!["65000:1".into()],
        large_communities: Vec::new(),
        originator_id: None,
        cluster_list: Vec::new(),
        age_s: 3,
    }
}

struct Server {
    dir: PathBuf,
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    pages: Arc<AtomicUsize>,
    _guard: super::SocketGuard,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nexthopd-control-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A control thread and a loop thread over a fake speaker with `routes` routes
/// and `events` queued watch events.
fn server(name: &str, routes: u32, events: usize, listen: Option<std::net::SocketAddr>) -> Server {
    let dir = temp_dir(name);
    let socket = dir.join("sub").join("nexthopd.sock");
    let (wake_tx, wake_rx) = std::sync::mpsc::channel::<()>();
    let wake_tx = std::sync::Mutex::new(wake_tx);
    let (to_loop, rx) = queue(Arc::new(move || {
        let _ = wake_tx.lock().unwrap().send(());
    }));
    let turns = turn_histogram();
    let cfg = ControlConfig {
        socket: socket.clone(),
        listen,
        allow_write_over_tcp: false,
    };
    let guard = start(&cfg, to_loop, turns.clone()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let pages = Arc::new(AtomicUsize::new(0));
    let (s, p) = (stop.clone(), pages.clone());
    std::thread::spawn(move || {
        let mut ctl = ControlLoop::new(rx, turns, "fake");
        let mut fake = Fake {
            routes,
            pages: p,
            events: (0..events)
                .map(|i| WatchEvent::State {
                    time_ms: 0,
                    neighbor: "192.0.2.2".parse().unwrap(),
                    from: "Idle".into(),
                    to: format!("Connect{i}"),
                    reason: None,
                })
                .collect(),
            watching: false,
        };
        while !s.load(Ordering::Relaxed) {
            let _ = ctl.take();
            ctl.answer(&mut fake, ());
            if !ctl.has_work() {
                let _ = wake_rx.recv_timeout(Duration::from_millis(20));
            }
        }
    });
    Server {
        dir,
        socket,
        stop,
        pages,
        _guard: guard,
    }
}

/// One request over the socket; the status and the de-chunked body.
fn request(socket: &Path, method: &str, target: &str, body: &str) -> (u16, String) {
    let mut s = UnixStream::connect(socket).unwrap();
    exchange(&mut s, method, target, body)
}

fn exchange<S: Read + Write>(s: &mut S, method: &str, target: &str, body: &str) -> (u16, String) {
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let status: u16 = head[9..12].parse().unwrap();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    loop {
        let (len, rest) = s.split_once("\r\n").unwrap();
        let n = usize::from_str_radix(len.trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
}

fn error_code(body: &str) -> String {
    let v: ErrorBody = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert!(!v.error.message.is_empty());
    v.error.code
}

#[test]
fn socket_is_0660_in_a_created_directory_and_answers() {
    let s = server("mode", 0, 0, None);
    let mode = std::fs::metadata(&s.socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660);
    let (st, body) = request(&s.socket, "GET", "/v1/status", "");
    assert_eq!(st, 200, "{body}");
    let v: Status = serde_json::from_str(&body).unwrap();
    assert_eq!((v.asn, v.runtime.as_str()), (65000, "fake"));
    assert!(!v.version.is_empty());
}

#[test]
fn a_live_socket_is_refused_and_a_stale_one_replaced() {
    let s = server("live", 0, 0, None);
    let (to_loop, _rx) = queue(Arc::new(|| {}));
    let cfg = ControlConfig {
        socket: s.socket.clone(),
        listen: None,
        allow_write_over_tcp: false,
    };
    let e = start(&cfg, to_loop, turn_histogram()).unwrap_err();
    assert!(e.contains("in use"), "{e}");
    // A stale socket: bound, then its listener gone.
    let dir = temp_dir("stale");
    std::fs::create_dir_all(&dir).unwrap();
    let stale = dir.join("s.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    let (to_loop, _rx) = queue(Arc::new(|| {}));
    let cfg = ControlConfig {
        socket: stale.clone(),
        listen: None,
        allow_write_over_tcp: false,
    };
    let _g = start(&cfg, to_loop, turn_histogram()).unwrap();
    assert!(UnixStream::connect(&stale).is_ok());
    // A regular file is never removed.
    let file = dir.join("file");
    std::fs::write(&file, "x").unwrap();
    let (to_loop, _rx) = queue(Arc::new(|| {}));
    let cfg = ControlConfig {
        socket: file.clone(),
        listen: None,
        allow_write_over_tcp: false,
    };
    let e = start(&cfg, to_loop, turn_histogram()).unwrap_err();
    assert!(e.contains("not a socket"), "{e}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_requests_get_json_errors() {
    let s = server("errors", 0, 0, None);
    let cases = [
        ("GET", "/v1/nope", "", 404, "not_found"),
        ("GET", "/v1/neighbors/not-an-ip", "", 400, "bad_request"),
        (
            "GET",
            "/v1/neighbors/192.0.2.9",
            "",
            404,
            "unknown_neighbor",
        ),
        ("GET", "/v1/routes?prefix=10.0.0.0", "", 400, "bad_prefix"),
        ("GET", "/v1/routes?bogus=1", "", 400, "bad_request"),
        ("GET", "/v1/explain", "", 400, "bad_request"),
        (
            "POST",
            "/v1/neighbors/192.0.2.9/refresh",
            "{\"direction\":\"sideways\"}",
            400,
            "bad_request",
        ),
        ("DELETE", "/v1/status", "", 405, "bad_request"),
        ("POST", "/v1/status", "", 405, "bad_request"),
    ];
    for (m, t, b, status, code) in cases {
        let (st, body) = request(&s.socket, m, t, b);
        assert_eq!(st, status, "{m} {t}: {body}");
        assert_eq!(error_code(&body), code, "{m} {t}");
    }
    // Too large a body: 413, and the daemon goes on.
    let big = "x".repeat(super::http::MAX_BODY + 1);
    let (st, body) = request(&s.socket, "POST", "/v1/neighbors/192.0.2.9/disable", &big);
    assert_eq!(st, 413, "{body}");
    assert_eq!(request(&s.socket, "GET", "/v1/status", "").0, 200);
    // Actions reach the speaker.
    let (st, body) = request(
        &s.socket,
        "POST",
        "/v1/neighbors/192.0.2.9/disable",
        r#"{"message":"maintenance"}"#,
    );
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("maintenance"), "{body}");
}

#[test]
fn a_stalled_client_does_not_hold_up_others() {
    let s = server("stall", 0, 0, None);
    let mut stalled = UnixStream::connect(&s.socket).unwrap();
    stalled
        .write_all(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut half = UnixStream::connect(&s.socket).unwrap();
    half.write_all(
        b"POST /v1/neighbors/192.0.2.9/disable HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
    )
    .unwrap();
    for _ in 0..5 {
        assert_eq!(request(&s.socket, "GET", "/v1/status", "").0, 200);
    }
    drop(stalled);
}

#[test]
fn tcp_serves_reads_only() {
    let port = nexthop_test_support::address::free_port("127.0.0.1".parse().unwrap()).unwrap();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let s = server("tcp", 10, 0, Some(addr));
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    let (st, _) = exchange(&mut c, "GET", "/v1/status", "");
    assert_eq!(st, 200);
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    let (st, body) = exchange(&mut c, "POST", "/v1/neighbors/192.0.2.9/enable", "");
    assert_eq!(st, 403, "{body}");
    assert!(body.contains("allow_write_over_tcp"), "{body}");
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    let (st, body) = exchange(&mut c, "GET", "/metrics", "");
    assert_eq!(st, 200);
    assert!(
        body.contains("nexthop_event_loop_turn_seconds_count"),
        "{body}"
    );
    drop(s);
}

#[test]
fn a_dump_streams_in_pages_while_other_requests_are_answered() {
    const N: u32 = 100_000;
    let s = server("dump", N, 0, None);
    let mut c = UnixStream::connect(&s.socket).unwrap();
    write!(
        c,
        "GET /v1/routes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    // Read a little, then stop: the dump waits for this client.
    let mut first = [0u8; 4096];
    let n = c.read(&mut first).unwrap();
    assert!(n > 0);
    std::thread::sleep(Duration::from_millis(200));
    let paused_at = s.pages.load(Ordering::Relaxed);
    // Meanwhile the loop answers others.
    assert_eq!(request(&s.socket, "GET", "/v1/status", "").0, 200);
    let pages_needed = N as usize / super::PREFIXES_PER_TURN;
    assert!(
        paused_at < pages_needed,
        "the dump ran ahead of its reader: {paused_at} pages"
    );
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    let mut raw = first[..n].to_vec();
    raw.extend(rest);
    let text = String::from_utf8(raw).unwrap();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    let routes: Vec<Route> = serde_json::from_str(&dechunk(body)).unwrap();
    assert_eq!(routes.len(), N as usize);
    assert_eq!(routes[12345], route(12345));
    assert!(s.pages.load(Ordering::Relaxed) >= pages_needed, "not paged");
    // An empty table is an empty array.
    let e = server("dump-empty", 0, 0, None);
    let (st, body) = request(&e.socket, "GET", "/v1/routes", "");
    assert_eq!((st, body.trim()), (200, "[]"));
}

#[test]
fn a_slow_watcher_is_dropped_with_a_last_line() {
    let s = server("watch", 0, WATCH_QUEUE_LEN * 2, None);
    let mut c = UnixStream::connect(&s.socket).unwrap();
    write!(
        c,
        "GET /v1/watch HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    let lines: Vec<WatchEvent> = dechunk(body)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() < WATCH_QUEUE_LEN * 2);
    match lines.last().unwrap() {
        WatchEvent::Lost { message, .. } => assert!(message.contains("too slowly"), "{message}"),
        other => panic!("last line {other:?}"),
    }
    match &lines[0] {
        WatchEvent::State { time_ms, .. } => assert!(*time_ms > 0),
        other => panic!("first line {other:?}"),
    }
}
