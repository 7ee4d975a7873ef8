//! The mio runtime for nexthop: sockets, buffers and readiness, nothing else.
//!
//! [`Runtime`] is a single-threaded mio loop that drives a sans-IO speaker (the
//! [`SansIo`] trait of nexthop-runtime-edge, implemented by nexthop-speaker's
//! `Speaker`): one listener per listen address, accepted connections handed to
//! the speaker (which refuses unknown addresses: they are closed at once and
//! leave no state), non-blocking outbound connects with a timeout and a bind
//! address. Reads go into a per-connection buffer that the speaker parses in
//! place; writes are vectored from the transmits the speaker handed out. A read
//! of zero bytes or a socket error is reported to the speaker in the same loop
//! turn. All protocol timers are the speaker's: the poll timeout is its next
//! deadline, or the runtime's own (connect timeouts, the linger of a closed
//! connection), whichever is first.
//!
//! What both runtimes share is nexthop-runtime-edge's: the order in which the
//! speaker's outputs are drained and pulled under the output bound
//! (backpressure), the fair receive budget (readable connections are read side
//! by side, at most [`Options::recv_budget`] bytes a turn), and the per-peer
//! socket options, failing closed: TCP_NODELAY on every connection; TCP-MD5
//! (RFC 2385) keys on the listeners and outbound sockets; GTSM (RFC 5082) with
//! TTL 255 out and, on the listeners, a filter that drops a peer's SYN below its
//! minimum TTL (the handshake never completes, nothing is accepted), the
//! accepted socket keeping the filter and getting the minimum TTL as well. A
//! connection whose option cannot be set is closed with a logged error, and a
//! config that asks for options this build cannot apply is refused by
//! [`Runtime::new`].
//!
//! Portable: on systems other than Linux (and on Linux with the
//! `portable-fallback` feature) the edge applies only the portable options.
//!
//! ```no_run
//! use nexthop_runtime_mio::{Options, Runtime, SansIo, monotonic_clock};
//! fn run(speaker: impl SansIo) -> std::io::Result<()> {
//!     let mut rt = Runtime::new(speaker, monotonic_clock(), Options::default())?;
//!     loop {
//!         rt.turn(None)?;
//!     }
//! }
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod buffers;
mod runtime;

pub use buffers::READ_BOUND;
pub use mio;
pub use nexthop_runtime_edge::{
    Closed, Command, ConnKey, ConnKeyHasher, Duration, Instant, Options, SansIo, Stats, Turn,
    monotonic_clock,
};
pub use runtime::{Runtime, USER_TOKEN};
