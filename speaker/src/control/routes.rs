//! The route half of the control API: dumps with a cursor, longest match,
//! summaries, `explain` and `explain --to`, and a router path as an API
//! [`Route`].
//!
//! SCAFFOLD: the signatures are the contract between `control/mod.rs` and this
//! file; the bodies are being written (issue 13). No `todo!` may survive.

use std::net::IpAddr;

use nexthop_control::{ApiError, Explain, ExplainTo, Route, RouteCursor, RouteQuery, RouteSummary};
use nexthop_router::prefix::IpPrefix;
use nexthop_router::rib::Path;

use crate::{Instant, Speaker};

/// Checks `query` before a dump: `bad_prefix`, `unknown_neighbor`.
pub(crate) fn check_routes(s: &Speaker, query: &RouteQuery) -> Result<(), ApiError> {
    let _ = (s, query);
    todo!("issue 13: routes")
}

/// The next page of a dump (see `Backend::routes`).
pub(crate) fn routes(
    s: &Speaker,
    now: Instant,
    query: &RouteQuery,
    cursor: &mut RouteCursor,
    max: usize,
    out: &mut Vec<Route>,
) -> Result<(), ApiError> {
    let _ = (s, now, query, cursor, max, out);
    todo!("issue 13: routes")
}

/// Counts of the table `query` names.
pub(crate) fn route_summary(s: &Speaker, query: &RouteQuery) -> Result<RouteSummary, ApiError> {
    let _ = (s, query);
    todo!("issue 13: routes")
}

/// Every candidate path of `prefix` and why it won or lost.
pub(crate) fn explain(s: &Speaker, now: Instant, prefix: &str) -> Result<Explain, ApiError> {
    let _ = (s, now, prefix);
    todo!("issue 13: explain")
}

/// Whether `neighbor` is sent `prefix`, and why not.
pub(crate) fn explain_to(
    s: &Speaker,
    now: Instant,
    prefix: &str,
    neighbor: IpAddr,
) -> Result<ExplainTo, ApiError> {
    let _ = (s, now, prefix, neighbor);
    todo!("issue 13: explain")
}

/// `path` of `prefix` as an API route (`best`: it is the prefix's best path).
/// Used for watch events too.
pub(crate) fn route_of(
    s: &Speaker,
    now: Instant,
    prefix: &IpPrefix,
    path: &Path,
    best: bool,
) -> Route {
    let _ = (s, now, prefix, path, best);
    todo!("issue 13: routes")
}
