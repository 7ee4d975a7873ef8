//! nexthop-router: the routing half of a BGP speaker, sans-IO and deterministic.
//!
//! It holds every peer's routes and decides what each peer is sent: Adj-RIB-In,
//! Loc-RIB and Adj-RIB-Out (RFC 4271 §3.2), the decision process (§9.1), route
//! reflection (RFC 4456) and route server mode (RFC 7947). Like `nexthop-core` it is
//! driven only by `handle_*`/`poll_*` calls that carry `now`; unlike core it may
//! allocate.
//!
//! [`router::Router`] is the whole of it. Its methods, as quinn-proto's:
//! - inputs: `handle_session_up(peer, params, now)` when a session reaches
//!   Established, `handle_update(peer, withdrawn, announced, attrs, now)` for each
//!   UPDATE's routes of one family (attributes already turned into an owned
//!   [`attributes::Attributes`]), `handle_treat_as_withdraw`, `handle_route_refresh`,
//!   `handle_session_down(peer, now)`;
//! - timers: `poll_timeout()` says when `handle_timeout(now)` is due: it runs the
//!   decision process on what changed, then flushes the update groups whose
//!   MinRouteAdvertisementInterval has run;
//! - output: `poll_transmit(peer)` gives the next encoded UPDATE for a peer,
//!   shared (`Arc`) by every member of the peer's update group.
//!
//! The pieces: [`prefix`] (RIB keys), [`attributes`] (owned, interned path
//! attributes), [`rib`] (paths per prefix, best path), [`decision`] (RFC 4271
//! §9.1.2.2), [`as_path`] (RFC 6793), [`export`] (what may be sent to whom, and how
//! it changes), [`policy`] (per-neighbour rule lists), [`group`] (update groups and
//! their Adj-RIB-Out), [`encode`] (UPDATE encoding), [`peer`], [`time`].
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod as_path;
pub mod attributes;
pub mod decision;
pub mod encode;
pub mod export;
pub mod group;
pub mod peer;
pub mod policy;
pub mod prefix;
pub mod rib;
pub mod router;
pub mod time;
pub mod wire;
