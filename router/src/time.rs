//! Virtual time: the router never reads a clock. Every `handle_*` call carries
//! `now`, in core's millisecond [`Instant`] from an epoch the caller chooses, so
//! the router and the session FSMs share one clock.

pub use nexthop_core::time::{Duration, Instant};
