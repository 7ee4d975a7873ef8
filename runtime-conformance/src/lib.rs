//! One runtime conformance suite, written once and run against both runtimes.
//!
//! A [`Backend`] adapts a runtime (runtime-mio's or runtime-uring's `Runtime`) to
//! the small [`Driver`] interface the suite needs: turn the loop, look at the
//! speaker, give it an input, read its counters and its sockets' options. A
//! [`Node`] runs one speaker (nexthop's, or a test's own [`SansIo`]) on one
//! backend on its own thread, so a test can set several speakers talking over
//! loopback and ask each what it sees. A [`RawPeer`] (test-support's, on core's
//! emitters and views) is a hand-driven BGP peer on a plain socket, for what a
//! speaker would not do: stop reading, reset, send with a low TTL, read the
//! Cease bytes. Configs come from the speaker's typed builder ([`router`],
//! [`neighbor`], [`config`]). [`kernel`] makes the kernel refuse
//! socket options to a node's thread, for the fail-closed paths.
//!
//! Tests live in `tests/`; each is a function generic over the backend,
//! instantiated once per runtime. With the `portable-fallback` feature the
//! runtimes use the edge's portable socket options (as on systems other than
//! Linux); the suite then checks that configs asking for TCP-MD5 or GTSM are
//! refused instead of the Linux-only options.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod backend;
pub mod kernel;
mod node;

pub use backend::{Backend, Driver, Mio, Uring, UringSqpoll, UringZeroCopy};
pub use nexthop_test_support::address::free_port;
pub use nexthop_test_support::raw_peer::{OpenSettings, RawPeer, TcpOptions, tcp_connect};
pub use node::{Node, Paused, config, neighbor, router};

pub use nexthop_core::session::State;
pub use nexthop_runtime_edge::{
    Closed, Command, ConnKey, Duration, Options, SansIo, Stats, sockopt,
};
pub use nexthop_speaker::config::Config;
pub use nexthop_speaker::{Instant, Speaker};
