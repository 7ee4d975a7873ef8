//! One runtime conformance suite, written once and run against both runtimes.
//!
//! A [`Backend`] adapts a runtime (runtime-mio's or runtime-uring's `Runtime`) to
//! the small [`Driver`] interface the suite needs: turn the loop, look at the
//! speaker, give it an input. A [`Node`] runs one speaker on one backend on its own
//! thread, so a test can set several speakers talking over loopback and ask each
//! what it sees. A [`RawPeer`] is a hand-driven BGP peer on a plain socket, for
//! what a speaker would not do: stop reading, reset, read the Cease bytes.
//!
//! Tests live in `tests/`; each is a function generic over the backend,
//! instantiated once per runtime.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod node;
mod raw;

pub use backend::{Backend, Driver, Mio, Uring, UringSqpoll, UringZeroCopy};
pub use node::{Node, Paused, free_port, neighbor_toml, router_toml};
pub use raw::RawPeer;

pub use nexthop_core::session::State;
pub use nexthop_speaker::config::Config;
pub use nexthop_speaker::{Instant, Speaker};
