//! The route half of the control API: dumps with a cursor, longest match,
//! summaries, `explain` and `explain --to`, and a router path as an API
//! [`Route`].
//!
//! The dumps themselves live in `dump.rs` (re-exported here).
//!
//! SCAFFOLD: `explain` and `explain_to` are being written (issue 13, helper
//! "router"). No `todo!` may survive.

use std::net::IpAddr;

use nexthop_control::{ApiError, Explain, ExplainTo};

pub(crate) use super::dump::{check_routes, route_of, route_summary, routes};
use crate::{Instant, Speaker};

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
