//! nexthop-loadgen: simulated BGP peers on loopback for benchmarks and
//! `nexthopd lab`.
//!
//! A [`Scenario`] names a device under test (DUT), senders and receivers. Each
//! simulated peer is a real RFC 4271 session (nexthop-core's FSM: OPEN with
//! 4-octet AS, route refresh, MP IPv6 and optionally ADD-PATH; keepalives; hold
//! timer) on its own TCP connection from its own 127.x address. [`run`] opens
//! every session, and once all are Established the senders write UPDATEs that
//! were encoded before the clock started; the receivers count prefixes until
//! each holds the full table, then optionally count down a withdrawal.
//! [`Report`] gives the timings and the load generator's own CPU time and peak
//! RSS, so that its cost can be set beside the DUT's ([`Usage::of_pid`]).
//!
//! ```no_run
//! use nexthop_loadgen::{Scenario, run};
//! let mut s = Scenario::new("127.0.0.2:179".parse().unwrap());
//! s.senders = 1;
//! s.receivers = 100;
//! s.prefixes = 100_000;
//! let report = run(&s, |p| eprintln!("{}: {}/{} up", p.phase, p.established, p.sessions))?;
//! println!("{report}");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Everything runs on the calling thread, on one mio poll; one process holds a
//! few thousand sessions (the machine's limit is 20,000 descriptors a process).
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod engine;
mod nexthopd;
pub mod reflector;
pub mod routes;
mod scenario;
mod speaker;
pub mod table;

pub use engine::{run, run_with_stop};
/// CPU time and peak RSS: the load generator's own (getrusage of its thread)
/// and another process's (/proc), from test-support.
pub use nexthop_test_support::Usage;
pub use reflector::{ReflectorConfig, ReflectorStats, reflect};
pub use scenario::{Phase, Progress, Report, Scenario};
