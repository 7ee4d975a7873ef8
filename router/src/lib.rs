//! nexthop-router: the routing half of a BGP speaker, sans-IO and deterministic.
//!
//! It holds every peer's routes and decides what each peer is sent: Adj-RIB-In,
//! Loc-RIB and Adj-RIB-Out (RFC 4271 §3.2), the decision process (§9.1), route
//! reflection (RFC 4456) and route server mode (RFC 7947). Like `nexthop-core` it is
//! driven only by `handle_*`/`poll_*` calls that carry `now`; unlike core it may
//! allocate.
//!
//! [`router::Router`] is the whole of it. Its methods, as quinn-proto's:
//! - inputs: `handle_session_up(peer, SessionParams::from(&info), now)` when core's
//!   session FSM reports Established, `handle_update_bytes(peer, message, now)` for
//!   each UPDATE the FSM hands over (parsed by core, RFC 7606 applied; or
//!   `handle_update` with owned routes of one family), `handle_route_refresh`,
//!   `handle_session_down(peer, now)`, `handle_igp_change(now)`; configuration:
//!   `add_peer`, `reconfigure_peer`, `remove_peer`, `originate`;
//! - timers: `poll_timeout()` says when `handle_timeout(now)` is due: it runs the
//!   decision process on what changed, then flushes the update groups whose
//!   MinRouteAdvertisementInterval has run;
//! - output: `poll_ready_peer()` names each peer whose output went from nothing
//!   to something, once, so a caller with thousands of peers scans none of
//!   them; `poll_transmit(peer)` gives the next encoded UPDATEs for a peer (a
//!   run of them back to back, up to 64 KiB), shared (`Arc`) by every member of
//!   the peer's update group.
//!
//! The pieces: [`prefix`] (RIB keys), [`attributes`] (owned, interned path
//! attributes), [`rib`] (paths per prefix, best path), [`decision`] (RFC 4271
//! §9.1.2.2), [`as_path`] (RFC 6793), [`export`] (what may be sent to whom, and how
//! it changes), [`policy`] (per-neighbour rule lists), [`group`] (update groups and
//! their Adj-RIB-Out), [`encode`] (the UPDATE encoder seam), [`wire`] (core's
//! codec on both sides), [`peer`], [`time`].
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod as_path;
pub mod attributes;
pub mod chunk_map;
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
