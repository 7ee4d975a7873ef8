//! nexthop-router: the routing half of a BGP speaker, sans-IO and deterministic.
//!
//! It holds every peer's routes and decides what each peer is sent: Adj-RIB-In,
//! Loc-RIB and Adj-RIB-Out (RFC 4271 §3.2), the decision process (§9.1), route
//! reflection (RFC 4456) and route server mode (RFC 7947). Like `nexthop-core` it is
//! driven only by `handle_*`/`poll_*` calls that carry `now`; unlike core it may
//! allocate.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod as_path;
pub mod decision;
