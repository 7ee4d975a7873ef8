//! nexthop-control: the control API's contract.
//!
//! The JSON bodies of nexthopd's HTTP API (`/v1/...`), shared by the daemon
//! (which serves them), `nexthopctl` (which reads them) and the tests; and
//! [`Backend`], what the event loop answers requests with. The daemon's control
//! thread parses HTTP and hands each request to the loop through a bounded queue;
//! the loop calls the [`Backend`] (the speaker) at a turn boundary, with bounded
//! work per call (a route dump is a [`RouteCursor`] advanced a page per turn).
//!
//! Field names are part of the API (`v1`): add fields, never rename or remove.
#![deny(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

pub mod text;

/// The API version, the first segment of every path (`/v1/...`).
pub const API_VERSION: &str = "v1";

/// An address family the API knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4 unicast.
    Ipv4,
    /// IPv6 unicast.
    Ipv6,
}

impl Family {
    /// Both, in the order dumps walk them.
    pub const ALL: [Family; 2] = [Family::Ipv4, Family::Ipv6];

    /// `ipv4` / `ipv6`.
    pub const fn name(self) -> &'static str {
        match self {
            Family::Ipv4 => "ipv4",
            Family::Ipv6 => "ipv6",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Family {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ipv4" => Ok(Family::Ipv4),
            "ipv6" => Ok(Family::Ipv6),
            _ => Err(format!("unknown family {s:?}: expected ipv4 or ipv6")),
        }
    }
}

// ----- errors ----------------------------------------------------------------

/// An error answer: the HTTP status and a JSON body
/// `{"error": {"code": "...", "message": "..."}}` naming the problem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The HTTP status (400, 403, 404, 409, 413, 429, 500, 503).
    #[serde(skip)]
    pub status: u16,
    /// A stable machine-readable code: `bad_request`, `bad_prefix`,
    /// `unknown_neighbor`, `not_found`, `forbidden`, `conflict`,
    /// `too_large`, `busy`, `config_error`, `shutting_down`, `internal`.
    pub code: String,
    /// One line for a person: what was wrong, naming the value.
    pub message: String,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }
    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "bad_request", message)
    }
    /// 400 `bad_prefix` for the text `given`.
    pub fn bad_prefix(given: &str) -> Self {
        Self::new(
            400,
            "bad_prefix",
            format!(
                "malformed prefix {given:?}: expected ADDRESS/LENGTH with host bits clear, such as 192.0.2.0/24 or 2001:db8::/32"
            ),
        )
    }
    /// 404 `unknown_neighbor` for `address`.
    pub fn unknown_neighbor(address: impl fmt::Display) -> Self {
        Self::new(
            404,
            "unknown_neighbor",
            format!("no neighbor {address}: not configured and no dynamic session from it"),
        )
    }
    /// 409 `conflict`: the request cannot be done in the current state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "conflict", message)
    }
}

/// The JSON body of an error answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ApiError,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ApiError {}

// ----- status ----------------------------------------------------------------

/// `GET /v1/status`: the speaker at a glance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// nexthopd's version.
    pub version: String,
    /// Our AS.
    pub asn: u32,
    /// Our BGP Identifier.
    pub router_id: Ipv4Addr,
    /// Seconds since the speaker started.
    pub uptime_s: u64,
    /// The runtime (`mio` or `uring`); filled by the daemon.
    pub runtime: String,
    /// Neighbours known (configured, and dynamic ones with a session).
    pub neighbors: usize,
    /// Of them, Established.
    pub established: usize,
    /// Shutting down (a shutdown was asked for; sessions are closing).
    pub shutting_down: bool,
}

// ----- neighbours ------------------------------------------------------------

/// Prefix counts of one neighbour in one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilyCounts {
    /// The family.
    pub family: Family,
    /// Prefixes the neighbour announces now (before import policy).
    pub received: u64,
    /// Of them, accepted by import policy (in the Adj-RIB-In).
    pub accepted: u64,
    /// Prefixes we advertise to it now (its Adj-RIB-Out).
    pub advertised: u64,
}

/// Why a session last went down, or why it cannot come up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    /// `notification_sent`, `notification_received`, `hold_timer_expired`,
    /// `connection` (the TCP connection failed or was closed), `manual_stop`,
    /// `automatic_stop`, `unexpected_message`.
    pub kind: String,
    /// The NOTIFICATION code, where one was sent or received.
    pub code: Option<u8>,
    /// The NOTIFICATION subcode.
    pub subcode: Option<u8>,
    /// In words: `Cease / Administrative Shutdown: "maintenance"`,
    /// `connection reset by peer`, ...
    pub text: String,
    /// Seconds ago.
    pub age_s: u64,
}

/// One row of `GET /v1/neighbors`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeighborSummary {
    /// The neighbour's address.
    pub address: IpAddr,
    /// Its AS: configured, or learned from its OPEN for a dynamic neighbour.
    pub remote_asn: Option<u32>,
    /// RFC 4271 state name: Idle, Connect, Active, OpenSent, OpenConfirm,
    /// Established.
    pub state: String,
    /// Accepted from a `[[dynamic_neighbor]]` range.
    pub dynamic: bool,
    /// Disabled by an operator (`nexthopctl neighbor ADDR disable`).
    pub disabled: bool,
    /// Seconds Established; `None` when not Established.
    pub uptime_s: Option<u64>,
    /// Seconds since it left Established (or since the speaker started, if it
    /// never was); `None` when Established.
    pub downtime_s: Option<u64>,
    /// Sum of `families[].received`.
    pub prefixes_received: u64,
    /// Sum of `families[].accepted`.
    pub prefixes_accepted: u64,
    /// Sum of `families[].advertised`.
    pub prefixes_advertised: u64,
    /// Per family.
    pub families: Vec<FamilyCounts>,
    /// Why it last went down.
    pub last_error: Option<LastError>,
    /// Times it left Established.
    pub flaps: u64,
}

/// Message and byte counts by BGP message type, one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageCounts {
    /// OPEN messages.
    pub open: u64,
    /// UPDATE messages.
    pub update: u64,
    /// NOTIFICATION messages.
    pub notification: u64,
    /// KEEPALIVE messages.
    pub keepalive: u64,
    /// ROUTE-REFRESH messages.
    pub route_refresh: u64,
    /// Bytes of all messages, headers included.
    pub bytes: u64,
    /// Bytes of OPEN messages.
    #[serde(default)]
    pub open_bytes: u64,
    /// Bytes of UPDATE messages.
    #[serde(default)]
    pub update_bytes: u64,
    /// Bytes of NOTIFICATION messages.
    #[serde(default)]
    pub notification_bytes: u64,
    /// Bytes of KEEPALIVE messages.
    #[serde(default)]
    pub keepalive_bytes: u64,
    /// Bytes of ROUTE-REFRESH messages.
    #[serde(default)]
    pub route_refresh_bytes: u64,
}

/// NOTIFICATIONs with one code and subcode in one direction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationCount {
    /// `sent` or `received`.
    pub direction: String,
    /// The code.
    pub code: u8,
    /// The subcode.
    pub subcode: u8,
    /// Their names, `Cease / Administrative Shutdown`.
    pub name: String,
    /// How many.
    pub count: u64,
}

/// What a session negotiated (present while Established).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Negotiated {
    /// The peer's BGP Identifier.
    pub peer_router_id: Ipv4Addr,
    /// Hold time in use, seconds.
    pub hold_time_s: u16,
    /// Our KEEPALIVE interval, seconds.
    pub keepalive_s: u64,
    /// Families both advertised.
    pub families: Vec<Family>,
    /// 4-octet AS numbers (RFC 6793).
    pub four_octet_as: bool,
    /// Route refresh (RFC 2918).
    pub route_refresh: bool,
    /// Enhanced route refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// Extended messages (RFC 8654).
    pub extended_message: bool,
    /// ADD-PATH per family: `receive`, `send`, `both` (RFC 7911).
    pub add_path: Vec<(Family, String)>,
    /// Graceful restart (RFC 4724) was advertised by both.
    pub graceful_restart: bool,
    /// Internal (iBGP) session.
    pub internal: bool,
    /// Our address on the session.
    pub local_address: Option<IpAddr>,
}

/// `GET /v1/neighbors/ADDR`: everything about one neighbour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NeighborDetail {
    /// The summary row.
    #[serde(flatten)]
    pub summary: NeighborSummary,
    /// The configured (or range's) settings, as `key = value` strings of the
    /// config: hold time, passive, route reflector / server client, ADD-PATH,
    /// max_prefix, md5 (as `set`), min_ttl, ...
    pub config: Vec<(String, String)>,
    /// What was negotiated, while Established.
    pub negotiated: Option<Negotiated>,
    /// Messages received.
    pub messages_received: MessageCounts,
    /// Messages sent.
    pub messages_sent: MessageCounts,
    /// NOTIFICATIONs sent and received, by code and subcode.
    pub notifications: Vec<NotificationCount>,
    /// The import policy in force, one line per rule.
    pub import_policy: Vec<String>,
    /// The export policy in force, one line per rule.
    pub export_policy: Vec<String>,
    /// Graceful shutdown (RFC 8326) in progress: seconds until the Cease.
    pub graceful_shutdown_in_s: Option<u64>,
    /// The update group it is in.
    pub update_group: Option<usize>,
    /// Bytes of UPDATEs waiting for it.
    pub output_pending_bytes: u64,
}

// ----- routes ----------------------------------------------------------------

/// One path, as `show routes` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The prefix, `192.0.2.0/24`.
    pub prefix: String,
    /// ADD-PATH path identifier (0 without ADD-PATH).
    pub path_id: u32,
    /// The best path of its prefix (Loc-RIB).
    pub best: bool,
    /// The neighbour it was learned from; `None` for a route we originate.
    pub from: Option<IpAddr>,
    /// AS_PATH as text: `65001 65002 {65003 65004}` (sets in braces,
    /// confederation segments in parentheses).
    pub as_path: String,
    /// NEXT_HOP (or the MP_REACH next hop; the global one for IPv6).
    pub next_hop: Option<IpAddr>,
    /// `igp`, `egp` or `incomplete`.
    pub origin: String,
    /// LOCAL_PREF.
    pub local_pref: Option<u32>,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
    /// Standard communities, `65000:1`, well-known ones by name
    /// (`no-export`, `no-advertise`, `graceful-shutdown`, ...).
    pub communities: Vec<String>,
    /// Large communities, `65000:1:2`.
    pub large_communities: Vec<String>,
    /// ORIGINATOR_ID (RFC 4456).
    pub originator_id: Option<Ipv4Addr>,
    /// CLUSTER_LIST (RFC 4456).
    pub cluster_list: Vec<Ipv4Addr>,
    /// Seconds since this prefix's paths last changed.
    pub age_s: u64,
}

/// Which table a route query reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "table", rename_all = "snake_case")]
pub enum RibView {
    /// Every path of every prefix (best first), the Loc-RIB and all
    /// Adj-RIBs-In after import policy.
    LocRib,
    /// What `neighbor` sent: after import policy (`pre_policy` false) or as
    /// received (true; needs `keep_received_routes` on the neighbour).
    Received {
        /// The neighbour.
        neighbor: IpAddr,
        /// Before import policy.
        pre_policy: bool,
    },
    /// What we advertise to `neighbor` (its Adj-RIB-Out).
    Advertised {
        /// The neighbour.
        neighbor: IpAddr,
    },
}

/// `GET /v1/routes?...` as a value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteQuery {
    /// The table.
    pub view: RibView,
    /// One family, or both.
    pub family: Option<Family>,
    /// One prefix (exact), or with `longest_match` the most specific prefix
    /// covering this one (an address alone is a host prefix). Text as given:
    /// the backend parses it and answers `bad_prefix` when malformed.
    pub prefix: Option<String>,
    /// Longest-prefix match instead of exact.
    pub longest_match: bool,
}

/// Where a route dump stands: the family being walked and the last prefix
/// given. Opaque to the daemon; a fresh one starts at the beginning.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouteCursor {
    /// Index into [`Family::ALL`] of the family being walked.
    pub family: usize,
    /// The last prefix visited in it (text form), `None` before the first.
    pub after: Option<String>,
    /// The dump is complete.
    pub done: bool,
}

/// Counts of one family's table (`show routes --summary`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FamilySummary {
    /// The family.
    pub family: Family,
    /// Prefixes with at least one path.
    pub prefixes: u64,
    /// Paths.
    pub paths: u64,
}

/// `GET /v1/routes/summary?...`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteSummary {
    /// The table counted.
    pub view: RibView,
    /// Per family.
    pub families: Vec<FamilySummary>,
}

// ----- explain ---------------------------------------------------------------

/// One candidate path of `explain PREFIX`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The path.
    pub route: Route,
    /// The decision step (snake case: `local_pref`, `locally_originated`,
    /// `as_path_length`, `origin`, `med`, `ebgp_over_ibgp`, `igp_cost`,
    /// `router_id`, `cluster_list_length`, `peer_address`) at which it lost
    /// to the best path; for the best path, the step that decided; `None` for
    /// a path left out of the decision (`excluded`) or the only path.
    pub step: Option<String>,
    /// In words: `lost at LOCAL_PREF (RFC 4271 §9.1.1): 100 < 200 of the best
    /// path from 192.0.2.2`, or for the best `won at AS_PATH length ...`.
    pub reason: String,
    /// Why it was left out of the decision (unresolvable next hop, AS loop,
    /// ...), if it was.
    pub excluded: Option<String>,
}

/// `GET /v1/explain?prefix=P`: every candidate path and why it won or lost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explain {
    /// The prefix.
    pub prefix: String,
    /// The candidates, best first.
    pub candidates: Vec<Candidate>,
}

/// `GET /v1/explain?prefix=P&to=ADDR`: is `neighbor` sent `prefix`, and if
/// not, why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainTo {
    /// The prefix.
    pub prefix: String,
    /// The neighbour.
    pub neighbor: IpAddr,
    /// Whether it is advertised to it.
    pub advertised: bool,
    /// The paths sent (with the attributes it gets), when advertised.
    pub sent: Vec<Route>,
    /// Why not, machine-readable: `session_not_established`,
    /// `family_not_negotiated`, `no_route`, `split_horizon`,
    /// `ibgp_to_ibgp_non_client` (RFC 4456 §8), `no_advertise`, `no_export`,
    /// `export_policy`, `add_path_limit`, or `pending` (it may be sent and
    /// waits for the update group's next flush, MRAI); `None` when
    /// advertised.
    pub reason_code: Option<String>,
    /// In words, naming the rule: `export policy rule 2 (prefix list ...)
    /// rejects it`, `learned from iBGP peer 10.0.0.2, a non-client, and
    /// 10.0.0.3 is a non-client: RFC 4456 §8 does not reflect between them`.
    pub reason: String,
}

// ----- actions ----------------------------------------------------------------

/// Which routes `refresh` re-exchanges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Ask the peer for its routes again (ROUTE-REFRESH, RFC 2918).
    In,
    /// Send the peer our routes again.
    Out,
}

/// An operator's action on the speaker (POST requests).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Stop the session with Cease 6/2 and the RFC 9003 `message`; it stays
    /// down (across reloads) until enabled. With `graceful`, first
    /// re-advertise the routes with GRACEFUL_SHUTDOWN (RFC 8326) and send the
    /// Cease after `after_s` seconds (default 60).
    Disable {
        /// The neighbour.
        neighbor: IpAddr,
        /// The shutdown communication (RFC 9003), at most 255 bytes of UTF-8.
        message: Option<String>,
        /// Graceful shutdown first.
        graceful: bool,
        /// Seconds between the GRACEFUL_SHUTDOWN re-advertisement and the Cease.
        after_s: Option<u64>,
    },
    /// Let a disabled neighbour's session start again.
    Enable {
        /// The neighbour.
        neighbor: IpAddr,
    },
    /// Reset the session (Cease 6/4, Administrative Reset), or with `soft`
    /// keep it and exchange the routes again (ROUTE-REFRESH in, re-send out).
    Reset {
        /// The neighbour.
        neighbor: IpAddr,
        /// Soft reset.
        soft: bool,
    },
    /// Re-exchange the routes in one direction.
    Refresh {
        /// The neighbour.
        neighbor: IpAddr,
        /// Which way.
        direction: Direction,
    },
    /// Graceful shutdown of every session (RFC 8326): re-advertise every route
    /// with GRACEFUL_SHUTDOWN now; the daemon shuts down after `after_s`.
    GracefulShutdownAll {
        /// Seconds until the Cease.
        after_s: u64,
    },
}

/// The answer to an [`Action`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionResult {
    /// What was done, in words.
    pub message: String,
}

/// `POST /v1/reload`: what changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadResult {
    /// Neighbours added.
    pub added: usize,
    /// Neighbours removed.
    pub removed: usize,
    /// Neighbours reset for a changed config.
    pub changed: usize,
    /// Neighbours untouched.
    pub unchanged: usize,
}

// ----- watch -----------------------------------------------------------------

/// One line of `GET /v1/watch` (JSON lines).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WatchEvent {
    /// A session changed state.
    State {
        /// Milliseconds since the UNIX epoch (filled by the daemon).
        time_ms: u64,
        /// The neighbour.
        neighbor: IpAddr,
        /// RFC 4271 state name before.
        from: String,
        /// After.
        to: String,
        /// Why, when it went down.
        reason: Option<String>,
    },
    /// A prefix's best path changed.
    BestPath {
        /// Milliseconds since the UNIX epoch (filled by the daemon).
        time_ms: u64,
        /// The prefix.
        prefix: String,
        /// The new best path; `None`: no path left (withdrawn).
        best: Option<Route>,
    },
    /// Events were lost: the speaker's event queue overflowed (`count` lost)
    /// or this watcher read too slowly and is being dropped.
    Lost {
        /// Milliseconds since the UNIX epoch.
        time_ms: u64,
        /// Events lost.
        count: u64,
        /// What happened.
        message: String,
    },
}

impl WatchEvent {
    /// The neighbour an event is about, for `watch --neighbor`.
    pub fn neighbor(&self) -> Option<IpAddr> {
        match self {
            WatchEvent::State { neighbor, .. } => Some(*neighbor),
            WatchEvent::BestPath { best, .. } => best.as_ref().and_then(|r| r.from),
            WatchEvent::Lost { .. } => None,
        }
    }
}

// ----- metrics -----------------------------------------------------------------

/// One neighbour's counters for `/metrics`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeighborMetrics {
    /// The neighbour.
    pub address: IpAddr,
    /// Its AS, where known.
    pub remote_asn: Option<u32>,
    /// RFC 4271 state name.
    pub state: &'static str,
    /// Times it reached Established.
    pub established_total: u64,
    /// Times it left Established.
    pub flaps: u64,
    /// Per family.
    pub families: Vec<FamilyCounts>,
    /// Messages received.
    pub received: MessageCounts,
    /// Messages sent.
    pub sent: MessageCounts,
    /// NOTIFICATIONs by direction, code and subcode.
    pub notifications: Vec<NotificationCount>,
    /// Bytes of UPDATEs waiting for it.
    pub output_pending_bytes: u64,
}

/// The speaker's numbers for `/metrics`, taken at one turn boundary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Per neighbour.
    pub neighbors: Vec<NeighborMetrics>,
    /// Per family: Loc-RIB prefixes and paths.
    pub rib: Vec<FamilySummary>,
    /// Update groups.
    pub update_groups: u64,
    /// Distinct attribute sets interned.
    pub attribute_sets: u64,
    /// Paths rejected on import (loop detection, enforce-first-AS).
    pub rejected_paths: u64,
    /// Watch events lost to a full queue.
    pub events_lost: u64,
}

// ----- the backend ----------------------------------------------------------------

/// Appends `route` to a dump page: `,`, its JSON, `\n`.
pub fn write_route_line(out: &mut Vec<u8>, route: &Route) {
    out.push(b',');
    // A Route is plain data: serde_json cannot fail on it.
    let _ = serde_json::to_writer(&mut *out, route);
    out.push(b'\n');
}

/// What the event loop answers requests with: implemented by the speaker.
/// Every method is called at a turn boundary and does bounded work; none may
/// panic on any input.
pub trait Backend {
    /// `now` is the runtime clock's, in the speaker's time type.
    type Instant: Copy;

    /// `GET /v1/status` (the daemon fills `runtime` and `version`).
    fn status(&self, now: Self::Instant) -> Status;

    /// `GET /v1/neighbors`, sorted by address.
    fn neighbors(&self, now: Self::Instant) -> Vec<NeighborSummary>;

    /// `GET /v1/neighbors/ADDR`.
    fn neighbor(&self, now: Self::Instant, address: IpAddr) -> Result<NeighborDetail, ApiError>;

    /// Checks a route query before a dump starts: a malformed prefix is
    /// `bad_prefix`, an unknown neighbour `unknown_neighbor`.
    fn check_routes(&self, query: &RouteQuery) -> Result<(), ApiError>;

    /// The next page of a route dump: visits at most `max` prefixes after
    /// `cursor`, appends their paths to `out`, and moves `cursor` on (setting
    /// `done` at the end). A prefix query (exact or longest match) is one page.
    fn routes(
        &self,
        now: Self::Instant,
        query: &RouteQuery,
        cursor: &mut RouteCursor,
        max: usize,
        out: &mut Vec<Route>,
    ) -> Result<(), ApiError>;

    /// [`Backend::routes`] as the API writes it: each route appended to `out`
    /// as one line, `,` then its JSON then `\n` (the daemon makes the dump's
    /// first `,` its `[`); returns how many routes. The default writes
    /// [`Backend::routes`]'s page with [`write_route_line`]; a backend may write
    /// the bytes directly (the same bytes), without building [`Route`]s.
    fn routes_json(
        &self,
        now: Self::Instant,
        query: &RouteQuery,
        cursor: &mut RouteCursor,
        max: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, ApiError> {
        let mut page = Vec::new();
        self.routes(now, query, cursor, max, &mut page)?;
        for r in &page {
            write_route_line(out, r);
        }
        Ok(page.len())
    }

    /// `GET /v1/routes/summary`.
    fn route_summary(&self, query: &RouteQuery) -> Result<RouteSummary, ApiError>;

    /// `GET /v1/explain?prefix=P`.
    fn explain(&self, now: Self::Instant, prefix: &str) -> Result<Explain, ApiError>;

    /// `GET /v1/explain?prefix=P&to=ADDR`.
    fn explain_to(
        &self,
        now: Self::Instant,
        prefix: &str,
        neighbor: IpAddr,
    ) -> Result<ExplainTo, ApiError>;

    /// A POST action.
    fn act(&mut self, now: Self::Instant, action: Action) -> Result<ActionResult, ApiError>;

    /// Turns the collection of watch events on (a watcher connected) or off
    /// (none left). Off, nothing is collected.
    fn set_watching(&mut self, on: bool);

    /// The next watch event collected (`time_ms` 0: the daemon fills it).
    fn poll_event(&mut self) -> Option<WatchEvent>;

    /// `/metrics`' numbers.
    fn metrics(&self, now: Self::Instant) -> MetricsSnapshot;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_names_code_and_message() {
        let e = ApiError::unknown_neighbor("192.0.2.9");
        let json = serde_json::to_string(&ErrorBody { error: e }).unwrap();
        assert_eq!(
            json,
            r#"{"error":{"code":"unknown_neighbor","message":"no neighbor 192.0.2.9: not configured and no dynamic session from it"}}"#
        );
    }

    #[test]
    fn actions_and_events_are_tagged() {
        let a = Action::Refresh {
            neighbor: "192.0.2.1".parse().unwrap(),
            direction: Direction::In,
        };
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(
            json,
            r#"{"action":"refresh","neighbor":"192.0.2.1","direction":"in"}"#
        );
        assert_eq!(serde_json::from_str::<Action>(&json).unwrap(), a);
        let e = WatchEvent::Lost {
            time_ms: 1,
            count: 2,
            message: "slow".into(),
        };
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.starts_with(r#"{"type":"lost""#), "{json}");
    }
}
