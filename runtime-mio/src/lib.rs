//! The mio runtime for nexthop: sockets, buffers and the clock, nothing else.
//!
//! [`Runtime`] is a single-threaded mio loop that drives a sans-IO speaker (the
//! [`SansIo`] trait of `nexthop_speaker`, implemented by its `Speaker`): one listener per
//! listen address, accepted connections handed to the speaker (which refuses
//! unknown addresses: they are closed at once and leave no state), non-blocking
//! outbound connects with a timeout and a bind address, TCP_NODELAY on every
//! connection, TCP-MD5 (RFC 2385) and GTSM (RFC 5082) when asked. Reads go into a
//! per-connection buffer that the speaker parses in place; writes come from the
//! speaker only while the connection's output is under its bound
//! (backpressure). A read of zero bytes or a socket error is reported to the
//! speaker in the same loop turn. All protocol timers are the speaker's: the mio
//! poll timeout is its next deadline.
//!
//! Per-peer socket options come from [`SansIo::peer_socket_options`]: a TCP-MD5
//! key is installed on every listener of the peer's family (the kernel then
//! refuses unsigned SYNs from it) and given to the outbound socket before
//! `connect`; with GTSM the listeners and the peer's sockets send with TTL 255 and
//! the peer's sockets drop segments below its minimum TTL. The minimum is set on
//! the accepted socket, so segments queued before the accept are not checked.
//!
//! The runtime's own deadlines (connect timeouts, the linger of a closed
//! connection) are kept beside the speaker's; the loop sleeps until the earliest.
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
pub mod sockopt;

pub use buffers::READ_BOUND;
pub use mio;
pub use nexthop_core as core;
pub use nexthop_speaker::{
    Closed, Command, ConnKey, ConnKeyHasher, Duration, Instant, PeerSockOpts, SansIo, Speaker,
    Transmit, peer_options,
};
pub use runtime::{Runtime, Stats, Turn, USER_TOKEN};

/// A clock in milliseconds since the call, from the monotonic system clock.
pub fn monotonic_clock() -> impl FnMut() -> Instant {
    let start = std::time::Instant::now();
    move || Instant::from_millis(u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX))
}

/// Tunables of the runtime.
#[derive(Clone, Debug)]
pub struct Options {
    /// Most unwritten bytes per connection before the runtime stops pulling from
    /// the speaker (one transmit may overshoot it).
    pub output_bound: usize,
    /// How long a connection the speaker closed may take to write what it was
    /// handed and see the peer's FIN.
    pub linger: Duration,
    /// Listen backlog.
    pub backlog: i32,
    /// Reads per connection and readiness event before others get a turn.
    pub reads_per_turn: usize,
    /// SO_SNDBUF of every connection; `None` leaves the kernel's autotuning.
    /// A small value moves a slow peer's backlog from kernel memory to the
    /// speaker, which keeps it bounded.
    pub send_buffer: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            output_bound: 256 * 1024,
            linger: Duration::from_secs(2),
            backlog: 1024,
            reads_per_turn: 16,
            send_buffer: None,
        }
    }
}
