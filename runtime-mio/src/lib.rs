//! The mio runtime for nexthop: sockets, buffers and the clock, nothing else.
//!
//! [`Runtime`] is a single-threaded mio loop that drives a sans-IO speaker (the
//! [`SansIo`] trait, implemented by `nexthop_speaker::Speaker`): one listener per
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
pub use nexthop_speaker::{Closed, Command, ConnKey, Duration, Instant, Speaker, Transmit};
pub use runtime::{PeerSockOpts, Runtime, Stats, Turn, USER_TOKEN};

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// What the runtime drives: the sans-IO speaker's inputs and outputs
/// (`/work/briefs/api-speaker.md`). After every input the runtime drains the
/// outputs: commands, then ready connections and their transmits.
pub trait SansIo {
    /// Bytes to write, owned or shared.
    type Transmit: AsRef<[u8]>;
    /// Where to listen.
    fn listen_addresses(&self) -> Vec<SocketAddr>;
    /// A connection was accepted; `None`: close it at once.
    fn handle_accepted(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<ConnKey>;
    /// An outbound connect completed.
    fn handle_connected(&mut self, now: Instant, conn: ConnKey, local: SocketAddr);
    /// An outbound connect failed or timed out.
    fn handle_connect_failed(&mut self, now: Instant, conn: ConnKey);
    /// Bytes arrived; returns how many were consumed.
    fn handle_read(&mut self, now: Instant, conn: ConnKey, bytes: &[u8]) -> usize;
    /// The connection is gone.
    fn handle_closed(&mut self, now: Instant, conn: ConnKey, reason: Closed);
    /// Timers at or before `now` run.
    fn handle_timeout(&mut self, now: Instant);
    /// The next socket command.
    fn poll_command(&mut self) -> Option<Command>;
    /// A connection with bytes to send.
    fn poll_ready(&mut self) -> Option<ConnKey>;
    /// The next bytes to write on `conn`.
    fn poll_transmit(&mut self, now: Instant, conn: ConnKey) -> Option<Self::Transmit>;
    /// When `handle_timeout` is next due.
    fn poll_timeout(&self) -> Option<Instant>;
    /// TCP-MD5 keys and GTSM minimum TTLs of the configured peers, for inbound
    /// connections (outbound ones get theirs with each `Command::Connect`).
    /// [`Runtime::new`] applies them; [`Runtime::refresh_peer_options`] again
    /// after a reload.
    fn peer_socket_options(&self) -> HashMap<IpAddr, PeerSockOpts> {
        HashMap::new()
    }
}

impl SansIo for Speaker {
    type Transmit = Transmit;
    fn listen_addresses(&self) -> Vec<SocketAddr> {
        Speaker::listen_addresses(self)
    }
    fn handle_accepted(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<ConnKey> {
        Speaker::handle_accepted(self, now, local, remote)
    }
    fn handle_connected(&mut self, now: Instant, conn: ConnKey, local: SocketAddr) {
        Speaker::handle_connected(self, now, conn, local)
    }
    fn handle_connect_failed(&mut self, now: Instant, conn: ConnKey) {
        Speaker::handle_connect_failed(self, now, conn)
    }
    fn handle_read(&mut self, now: Instant, conn: ConnKey, bytes: &[u8]) -> usize {
        Speaker::handle_read(self, now, conn, bytes)
    }
    fn handle_closed(&mut self, now: Instant, conn: ConnKey, reason: Closed) {
        Speaker::handle_closed(self, now, conn, reason)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Speaker::handle_timeout(self, now)
    }
    fn poll_command(&mut self) -> Option<Command> {
        Speaker::poll_command(self)
    }
    fn poll_ready(&mut self) -> Option<ConnKey> {
        Speaker::poll_ready(self)
    }
    fn poll_transmit(&mut self, now: Instant, conn: ConnKey) -> Option<Transmit> {
        Speaker::poll_transmit(self, now, conn)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        Speaker::poll_timeout(self)
    }
    fn peer_socket_options(&self) -> HashMap<IpAddr, PeerSockOpts> {
        self.config()
            .neighbors
            .iter()
            .filter(|n| n.md5_key.is_some() || n.min_ttl.is_some())
            .map(|n| {
                let opts = PeerSockOpts {
                    md5_key: n.md5_key.as_ref().map(|k| k.as_bytes().to_vec()),
                    min_ttl: n.min_ttl,
                };
                (n.address, opts)
            })
            .collect()
    }
}

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
