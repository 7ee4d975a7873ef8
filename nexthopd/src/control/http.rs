//! The control thread: HTTP/1.1 (hyper) on the Unix socket and optionally TCP,
//! on a tokio current-thread runtime of its own. It parses requests, queues
//! them for the loop, and encodes the answers; it never touches the speaker.

use std::convert::Infallible;
use std::net::IpAddr;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Frame, Incoming as HttpBody};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use nexthop_control::{
    Action, ApiError, Direction, ErrorBody, Family, RibView, RouteQuery, WatchEvent,
};
use prometheus_client::metrics::histogram::Histogram;
use serde::Deserialize;
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::{
    Answer, ControlConfig, Incoming, PAGES_IN_FLIGHT, Page, Query, ToLoop, WATCH_QUEUE_LEN,
};

/// Largest request body accepted.
pub const MAX_BODY: usize = 64 * 1024;
/// Connections served at once; more wait in the kernel's backlog.
pub const MAX_CONNECTIONS: usize = 64;
/// A client must send its request headers (and body) within this.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The loop answers a query within this, or the request fails with 503.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

type Resp = Response<ApiBody>;

/// Binds the control sockets (errors name the path or address and why) and
/// starts the control thread.
pub fn start(
    config: &ControlConfig,
    to_loop: ToLoop,
    turns: Histogram,
) -> Result<SocketGuard, String> {
    let unix = bind_unix(&config.socket)?;
    let guard = SocketGuard(config.socket.clone());
    let tcp = match config.listen {
        Some(a) => {
            let l = std::net::TcpListener::bind(a)
                .map_err(|e| format!("control: cannot listen on {a}: {e}"))?;
            l.set_nonblocking(true)
                .map_err(|e| format!("control: {a}: {e}"))?;
            Some(l)
        }
        None => None,
    };
    let allow_write_tcp = config.allow_write_over_tcp;
    let ctx = Arc::new(Ctx { to_loop, turns });
    std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(error = %e, "control: cannot start the runtime");
                    return;
                }
            };
            rt.block_on(async move {
                let limit = Arc::new(Semaphore::new(MAX_CONNECTIONS));
                let unix = match tokio::net::UnixListener::from_std(unix) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!(error = %e, "control: unix listener");
                        return;
                    }
                };
                if let Some(tcp) = tcp {
                    match tokio::net::TcpListener::from_std(tcp) {
                        Ok(l) => {
                            tokio::spawn(accept_tcp(
                                l,
                                ctx.clone(),
                                limit.clone(),
                                allow_write_tcp,
                            ));
                        }
                        Err(e) => tracing::error!(error = %e, "control: tcp listener"),
                    }
                }
                accept_unix(unix, ctx, limit).await;
            });
        })
        .map_err(|e| format!("control: cannot start its thread: {e}"))?;
    Ok(guard)
}

/// Removes the socket file when the daemon exits.
#[derive(Debug)]
pub struct SocketGuard(std::path::PathBuf);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Creates the parent directory, replaces a stale socket from a crashed run,
/// refuses a live one, binds, and sets mode 0660.
fn bind_unix(path: &Path) -> Result<std::os::unix::net::UnixListener, String> {
    let shown = path.display();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("control: cannot create {}: {e}", dir.display()))?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => match std::os::unix::net::UnixStream::connect(path) {
            Ok(_) => {
                return Err(format!(
                    "control: {shown} is in use: another process (another nexthopd?) answers on it"
                ));
            }
            Err(_) => {
                tracing::info!(socket = %shown, "control: replacing a stale socket file");
                std::fs::remove_file(path)
                    .map_err(|e| format!("control: cannot remove stale {shown}: {e}"))?;
            }
        },
        Ok(_) => {
            return Err(format!(
                "control: {shown} exists and is not a socket; not touching it"
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("control: {shown}: {e}")),
    }
    let l = std::os::unix::net::UnixListener::bind(path)
        .map_err(|e| format!("control: cannot bind {shown}: {e}"))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))
        .map_err(|e| format!("control: cannot set the mode of {shown}: {e}"))?;
    l.set_nonblocking(true)
        .map_err(|e| format!("control: {shown}: {e}"))?;
    Ok(l)
}

struct Ctx {
    to_loop: ToLoop,
    turns: Histogram,
}

async fn accept_unix(l: tokio::net::UnixListener, ctx: Arc<Ctx>, limit: Arc<Semaphore>) {
    loop {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        match l.accept().await {
            Ok((s, _)) => {
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    serve(TokioIo::new(s), ctx, true).await;
                    drop(permit);
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "control: accept");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn accept_tcp(
    l: tokio::net::TcpListener,
    ctx: Arc<Ctx>,
    limit: Arc<Semaphore>,
    allow_write: bool,
) {
    loop {
        let Ok(permit) = limit.clone().acquire_owned().await else {
            return;
        };
        match l.accept().await {
            Ok((s, _)) => {
                let _ = s.set_nodelay(true);
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    serve(TokioIo::new(s), ctx, allow_write).await;
                    drop(permit);
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "control: accept");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn serve<I>(io: I, ctx: Arc<Ctx>, write_allowed: bool)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req| {
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(handle(req, &ctx, write_allowed).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT)
        .max_buf_size(MAX_BODY.max(8192))
        .serve_connection(io, svc);
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, "control: connection ended");
    }
}

// ----- routing ---------------------------------------------------------------

async fn handle(req: Request<HttpBody>, ctx: &Ctx, write_allowed: bool) -> Resp {
    match route(req, ctx, write_allowed).await {
        Ok(r) => r,
        Err(e) => error(e),
    }
}

async fn route(req: Request<HttpBody>, ctx: &Ctx, write_allowed: bool) -> Result<Resp, ApiError> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let params = parse_query(req.uri().query().unwrap_or(""))?;
    // Segments are percent-decoded: an IPv6 neighbour comes as `2001%3Adb8%3A%3A1`
    // from clients that encode colons (nexthopctl does).
    let decoded: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(decode)
        .collect::<Result<_, _>>()?;
    let segs: Vec<&str> = decoded.iter().map(String::as_str).collect();
    let is_post = method == Method::POST;
    if !(method == Method::GET || is_post) {
        return Err(ApiError::new(
            405,
            "bad_request",
            format!("method {method} not allowed: GET or POST"),
        ));
    }
    if is_post && !write_allowed {
        return Err(ApiError::new(
            403,
            "forbidden",
            "requests that change state are not served over TCP unless [control] allow_write_over_tcp = true; use the Unix socket",
        ));
    }
    let get = |allowed: &[&str]| -> Result<(), ApiError> {
        if is_post {
            return Err(ApiError::new(
                405,
                "bad_request",
                format!("{path} takes GET"),
            ));
        }
        check_params(&params, allowed)
    };
    match segs.as_slice() {
        ["metrics"] => {
            get(&[])?;
            match ask(ctx, Query::Metrics).await? {
                Answer::Metrics(m) => {
                    let text = super::metrics::encode(&m, &ctx.turns);
                    Ok(with_type(
                        Response::new(full(text.into_bytes())),
                        "text/plain; version=0.0.4; charset=utf-8",
                    ))
                }
                _ => Err(internal()),
            }
        }
        ["v1", "status"] => {
            get(&[])?;
            answer(ask(ctx, Query::Status).await?)
        }
        ["v1", "neighbors"] => {
            get(&[])?;
            answer(ask(ctx, Query::Neighbors).await?)
        }
        ["v1", "neighbors", addr] => {
            get(&[])?;
            let a = parse_addr(addr)?;
            answer(ask(ctx, Query::Neighbor(a)).await?)
        }
        ["v1", "neighbors", addr, action] if is_post => {
            check_params(&params, &[])?;
            let neighbor = parse_addr(addr)?;
            let body = read_body(req).await?;
            let a = neighbor_action(neighbor, action, &body)?;
            answer(ask(ctx, Query::Act(a)).await?)
        }
        ["v1", "neighbors", _, _] => Err(ApiError::new(
            405,
            "bad_request",
            format!("{path} takes POST"),
        )),
        ["v1", "routes"] => {
            get(&["prefix", "longest_match", "neighbor", "view", "family"])?;
            let q = route_query(&params)?;
            dump(ctx, q).await
        }
        ["v1", "routes", "summary"] => {
            get(&["neighbor", "view", "family"])?;
            let q = route_query(&params)?;
            answer(ask(ctx, Query::RouteSummary(q)).await?)
        }
        ["v1", "explain"] => {
            get(&["prefix", "to"])?;
            let prefix = param(&params, "prefix")
                .ok_or_else(|| ApiError::bad_request("explain needs ?prefix=PREFIX"))?
                .to_string();
            let q = match param(&params, "to") {
                Some(to) => Query::ExplainTo(prefix, parse_addr(to)?),
                None => Query::Explain(prefix),
            };
            answer(ask(ctx, q).await?)
        }
        ["v1", "watch"] => {
            get(&["neighbor"])?;
            let n = param(&params, "neighbor").map(parse_addr).transpose()?;
            watch(ctx, n)
        }
        ["v1", "reload"] if is_post => {
            check_params(&params, &[])?;
            answer(ask(ctx, Query::Reload).await?)
        }
        ["v1", "shutdown"] if is_post => {
            check_params(&params, &[])?;
            let body = read_body(req).await?;
            let b: ShutdownBody = parse_json(&body)?;
            let q = Query::Shutdown {
                graceful: b.graceful,
                after_s: b.after_s.unwrap_or(60),
            };
            answer(ask(ctx, q).await?)
        }
        ["v1", "reload" | "shutdown"] => Err(ApiError::new(
            405,
            "bad_request",
            format!("{path} takes POST"),
        )),
        _ => Err(ApiError::new(
            404,
            "not_found",
            format!(
                "no such endpoint: {path} (see /v1/status, /v1/neighbors, /v1/routes, /v1/explain, /v1/watch, /metrics)"
            ),
        )),
    }
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct DisableBody {
    message: Option<String>,
    graceful: bool,
    after_s: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EmptyBody {}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ResetBody {
    soft: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefreshBody {
    direction: Direction,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct ShutdownBody {
    graceful: bool,
    after_s: Option<u64>,
}

fn neighbor_action(neighbor: IpAddr, action: &str, body: &[u8]) -> Result<Action, ApiError> {
    Ok(match action {
        "disable" => {
            let b: DisableBody = parse_json(body)?;
            if b.message.as_ref().is_some_and(|m| m.len() > 255) {
                return Err(ApiError::bad_request(
                    "message: a shutdown communication is at most 255 bytes of UTF-8 (RFC 9003)",
                ));
            }
            Action::Disable {
                neighbor,
                message: b.message,
                graceful: b.graceful,
                after_s: b.after_s,
            }
        }
        "enable" => {
            let _: EmptyBody = parse_json(body)?;
            Action::Enable { neighbor }
        }
        "reset" => {
            let b: ResetBody = parse_json(body)?;
            Action::Reset {
                neighbor,
                soft: b.soft,
            }
        }
        "refresh" => {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Err(ApiError::bad_request(
                    "refresh needs a body {\"direction\": \"in\"} or {\"direction\": \"out\"}",
                ));
            }
            let b: RefreshBody = parse_json(body)?;
            Action::Refresh {
                neighbor,
                direction: b.direction,
            }
        }
        other => {
            return Err(ApiError::new(
                404,
                "not_found",
                format!("no action {other:?}: disable, enable, reset or refresh"),
            ));
        }
    })
}

fn parse_json<T: for<'de> Deserialize<'de> + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("request body: {e}")))
}

impl Default for RefreshBody {
    fn default() -> Self {
        RefreshBody {
            direction: Direction::In,
        }
    }
}

async fn read_body(req: Request<HttpBody>) -> Result<Vec<u8>, ApiError> {
    let body = Limited::new(req.into_body(), MAX_BODY);
    match tokio::time::timeout(READ_TIMEOUT, body.collect()).await {
        Err(_) => Err(ApiError::new(
            408,
            "bad_request",
            "the request body did not arrive in time",
        )),
        Ok(Err(e))
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::new(
                413,
                "too_large",
                format!("request body over {MAX_BODY} bytes"),
            ))
        }
        Ok(Err(e)) => Err(ApiError::bad_request(format!("request body: {e}"))),
        Ok(Ok(c)) => Ok(c.to_bytes().to_vec()),
    }
}

fn route_query(params: &[(String, String)]) -> Result<RouteQuery, ApiError> {
    let neighbor = param(params, "neighbor").map(parse_addr).transpose()?;
    let view = match (param(params, "view"), neighbor) {
        (None, None) => RibView::LocRib,
        (Some("loc_rib"), None) => RibView::LocRib,
        (None | Some("received"), Some(n)) => RibView::Received {
            neighbor: n,
            pre_policy: false,
        },
        (Some("received_pre"), Some(n)) => RibView::Received {
            neighbor: n,
            pre_policy: true,
        },
        (Some("advertised"), Some(n)) => RibView::Advertised { neighbor: n },
        (Some(v @ ("received" | "received_pre" | "advertised")), None) => {
            return Err(ApiError::bad_request(format!(
                "view={v} needs neighbor=ADDRESS"
            )));
        }
        (Some(v), _) => {
            return Err(ApiError::bad_request(format!(
                "unknown view {v:?}: received, received_pre or advertised (with neighbor=), or none for the Loc-RIB"
            )));
        }
    };
    let family = param(params, "family")
        .map(|f| f.parse::<Family>().map_err(ApiError::bad_request))
        .transpose()?;
    let longest_match = match param(params, "longest_match") {
        None | Some("false" | "0") => false,
        Some("true" | "1" | "") => true,
        Some(v) => {
            return Err(ApiError::bad_request(format!(
                "longest_match={v:?}: true or false"
            )));
        }
    };
    let prefix = param(params, "prefix").map(str::to_string);
    if longest_match && prefix.is_none() {
        return Err(ApiError::bad_request("longest_match needs prefix="));
    }
    Ok(RouteQuery {
        view,
        family,
        prefix,
        longest_match,
    })
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn check_params(params: &[(String, String)], allowed: &[&str]) -> Result<(), ApiError> {
    for (k, _) in params {
        if !allowed.contains(&k.as_str()) {
            return Err(ApiError::bad_request(if allowed.is_empty() {
                format!("unknown query parameter {k:?}: this endpoint takes none")
            } else {
                format!(
                    "unknown query parameter {k:?}: expected one of {}",
                    allowed.join(", ")
                )
            }));
        }
    }
    for (i, (k, _)) in params.iter().enumerate() {
        if params[..i].iter().any(|(k2, _)| k2 == k) {
            return Err(ApiError::bad_request(format!(
                "query parameter {k:?} given twice"
            )));
        }
    }
    Ok(())
}

fn parse_addr(s: &str) -> Result<IpAddr, ApiError> {
    s.parse::<IpAddr>().map(|a| a.to_canonical()).map_err(|_| {
        ApiError::bad_request(format!(
            "malformed neighbor address {s:?}: expected an IPv4 or IPv6 address"
        ))
    })
}

/// `a=b&c=d` with percent-decoding (`+` is a space).
fn parse_query(q: &str) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for part in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        out.push((decode(k)?, decode(v)?));
    }
    Ok(out)
}

fn decode(s: &str) -> Result<String, ApiError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = b
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("bad percent-encoding in {s:?}"))
                    })?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| ApiError::bad_request(format!("{s:?} is not UTF-8")))
}

// ----- answers -----------------------------------------------------------------

async fn ask(ctx: &Ctx, q: Query) -> Result<Answer, ApiError> {
    let (tx, rx) = oneshot::channel();
    ctx.to_loop.send(Incoming::Query(q, tx))?;
    match tokio::time::timeout(ANSWER_TIMEOUT, rx).await {
        Ok(Ok(a)) => a,
        Ok(Err(_)) => Err(ApiError::new(
            503,
            "shutting_down",
            "the daemon's event loop stopped before answering",
        )),
        Err(_) => Err(ApiError::new(
            503,
            "busy",
            "the event loop did not answer in time",
        )),
    }
}

fn answer(a: Answer) -> Result<Resp, ApiError> {
    let body = match a {
        Answer::Status(v) => serde_json::to_vec(&v),
        Answer::Neighbors(v) => serde_json::to_vec(&v),
        Answer::Neighbor(v) => serde_json::to_vec(&v),
        Answer::RouteSummary(v) => serde_json::to_vec(&v),
        Answer::Explain(v) => serde_json::to_vec(&v),
        Answer::ExplainTo(v) => serde_json::to_vec(&v),
        Answer::Action(v) => serde_json::to_vec(&v),
        Answer::Reload(v) => serde_json::to_vec(&v),
        Answer::Metrics(_) => return Err(internal()),
    }
    .map_err(|_| internal())?;
    Ok(json(StatusCode::OK, body))
}

fn internal() -> ApiError {
    ApiError::new(500, "internal", "internal error: unexpected answer")
}

fn json(status: StatusCode, mut body: Vec<u8>) -> Resp {
    body.push(b'\n');
    let mut r = Response::new(full(body));
    *r.status_mut() = status;
    with_type(r, "application/json")
}

fn with_type(mut r: Resp, t: &'static str) -> Resp {
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(t));
    r
}

fn error(e: ApiError) -> Resp {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(&ErrorBody { error: e }).unwrap_or_default();
    json(status, body)
}

/// A dump: the first page decides the status (a refused query is an error
/// answer); then the routes stream as one JSON array, page by page.
async fn dump(ctx: &Ctx, q: RouteQuery) -> Result<Resp, ApiError> {
    let (tx, mut rx) = mpsc::channel(PAGES_IN_FLIGHT);
    ctx.to_loop.send(Incoming::Dump(q, tx))?;
    let first = rx.recv().await;
    ctx.to_loop.wake();
    let first = match first {
        Some(Page::Error(e)) => return Err(e),
        Some(p) => p,
        None => {
            return Err(ApiError::new(
                503,
                "shutting_down",
                "the daemon's event loop stopped",
            ));
        }
    };
    let body = ApiBody::Dump(DumpBody {
        first: Some(first),
        rx,
        to_loop: ctx.to_loop.clone(),
        started: false,
        finished: false,
    });
    Ok(with_type(Response::new(body), "application/json"))
}

fn watch(ctx: &Ctx, neighbor: Option<IpAddr>) -> Result<Resp, ApiError> {
    let (tx, rx) = mpsc::channel(WATCH_QUEUE_LEN);
    ctx.to_loop.send(Incoming::Watch(neighbor, tx))?;
    Ok(with_type(
        Response::new(ApiBody::Watch(rx)),
        "application/x-ndjson",
    ))
}

fn full(b: Vec<u8>) -> ApiBody {
    ApiBody::Full(Full::new(Bytes::from(b)))
}

/// A response body: whole, a streamed route dump, or watch lines.
pub enum ApiBody {
    /// Whole.
    Full(Full<Bytes>),
    /// A route dump.
    Dump(DumpBody),
    /// JSON lines of events.
    Watch(mpsc::Receiver<WatchEvent>),
}

/// The streamed JSON array of a route dump.
pub struct DumpBody {
    first: Option<Page>,
    rx: mpsc::Receiver<Page>,
    to_loop: ToLoop,
    started: bool,
    finished: bool,
}

impl DumpBody {
    fn frame(&mut self, page: Option<Page>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match page {
            Some(Page::Routes(mut lines)) => {
                // Each route is a line `,{...}`: the dump's first `,` opens
                // the array.
                if !self.started
                    && let Some(first) = lines.first_mut()
                {
                    *first = b'[';
                    self.started = true;
                }
                Poll::Ready(Some(Ok(Frame::data(Bytes::from(lines)))))
            }
            Some(Page::End) => {
                self.finished = true;
                let end: &'static [u8] = if self.started { b"]\n" } else { b"[]\n" };
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(end)))))
            }
            // Cut the response short: the client sees an incomplete body,
            // never a complete-looking partial table.
            Some(Page::Error(e)) => Poll::Ready(Some(Err(std::io::Error::other(e.message)))),
            None => Poll::Ready(Some(Err(std::io::Error::other(
                "the event loop stopped during the dump",
            )))),
        }
    }
}

impl Body for ApiBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            ApiBody::Full(f) => Pin::new(f)
                .poll_frame(cx)
                .map(|o| o.map(|r| r.map_err(|e: Infallible| match e {}))),
            ApiBody::Dump(d) => {
                if d.finished {
                    return Poll::Ready(None);
                }
                if let Some(p) = d.first.take() {
                    return d.frame(Some(p));
                }
                match d.rx.poll_recv(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(p) => {
                        // Room for another page: let the loop fill it.
                        d.to_loop.wake();
                        d.frame(p)
                    }
                }
            }
            ApiBody::Watch(rx) => match rx.poll_recv(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Ready(Some(ev)) => {
                    let mut line = serde_json::to_vec(&ev).unwrap_or_default();
                    line.push(b'\n');
                    Poll::Ready(Some(Ok(Frame::data(Bytes::from(line)))))
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ApiBody::Full(f) => f.is_end_stream(),
            ApiBody::Dump(d) => d.finished,
            ApiBody::Watch(_) => false,
        }
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            ApiBody::Full(f) => f.size_hint(),
            _ => hyper::body::SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode() {
        let q = parse_query("prefix=2001%3Adb8%3A%3A%2F32&longest_match=true&x=a+b").unwrap();
        assert_eq!(q[0], ("prefix".into(), "2001:db8::/32".into()));
        assert_eq!(q[2], ("x".into(), "a b".into()));
        assert!(parse_query("prefix=%zz").is_err());
        assert!(parse_query("prefix=%f").is_err());
    }

    #[test]
    fn route_queries_need_a_neighbor_for_its_views() {
        let p = |s: &str| route_query(&parse_query(s).unwrap());
        assert_eq!(p("").unwrap().view, RibView::LocRib);
        assert_eq!(p("view=advertised").unwrap_err().status, 400);
        assert_eq!(p("neighbor=10.0.0.1&view=nope").unwrap_err().status, 400);
        assert_eq!(p("family=ipv5").unwrap_err().status, 400);
        assert_eq!(p("longest_match=true").unwrap_err().status, 400);
        assert_eq!(
            p("neighbor=10.0.0.1&view=received_pre").unwrap().view,
            RibView::Received {
                neighbor: "10.0.0.1".parse().unwrap(),
                pre_policy: true
            }
        );
        assert_eq!(p("neighbor=ten").unwrap_err().status, 400);
    }

    #[test]
    fn actions_parse_their_bodies() {
        let n: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(
            neighbor_action(n, "disable", br#"{"message":"maint","graceful":true}"#).unwrap(),
            Action::Disable {
                neighbor: n,
                message: Some("maint".into()),
                graceful: true,
                after_s: None
            }
        );
        assert_eq!(
            neighbor_action(n, "disable", b"").unwrap(),
            Action::Disable {
                neighbor: n,
                message: None,
                graceful: false,
                after_s: None
            }
        );
        assert_eq!(
            neighbor_action(
                n,
                "disable",
                &format!(r#"{{"message":"{}"}}"#, "x".repeat(256)).into_bytes()
            )
            .unwrap_err()
            .status,
            400
        );
        assert_eq!(neighbor_action(n, "refresh", b"").unwrap_err().status, 400);
        assert_eq!(
            neighbor_action(n, "refresh", br#"{"direction":"out"}"#).unwrap(),
            Action::Refresh {
                neighbor: n,
                direction: Direction::Out
            }
        );
        assert_eq!(
            neighbor_action(n, "reset", br#"{"soft":1}"#)
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(neighbor_action(n, "explode", b"").unwrap_err().status, 404);
    }
}
