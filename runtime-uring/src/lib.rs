//! The io_uring runtime for nexthop: sockets, buffers and completions, nothing
//! else.
//!
//! [`Runtime`] is a single-threaded loop on one io_uring instance that drives a
//! sans-IO speaker (the [`SansIo`] trait of nexthop-runtime-edge, the one
//! runtime-mio drives too): a multishot accept per listen address; a multishot
//! receive per connection from a ring of provided buffers, so an idle peer holds
//! no receive buffer (an unconsumed tail is copied into a small per-connection
//! buffer); `sendmsg` of the speaker's transmits as they are (an update group's
//! shared bytes are lent to the kernel for every member, never copied),
//! zero-copy when asked; all the speaker's timers behind one timeout entry;
//! submissions batched, one `io_uring_enter` per loop turn. A zero-length
//! receive, a reset or a failed send is reported to the speaker in the turn
//! that sees it.
//!
//! What both runtimes share is nexthop-runtime-edge's: the order in which the
//! speaker's outputs are drained and pulled under the output bound, the fair
//! receive budget (receive completions are handed over side by side, at most
//! [`Options::recv_budget`] bytes a turn), and the per-peer socket options,
//! failing closed: TCP_NODELAY on every connection, TCP-MD5 (RFC 2385), GTSM
//! (RFC 5082) on the listeners' handshake (a filter drops a peer's SYN below
//! its minimum TTL) and on each connection. A connection whose option cannot
//! be set is closed with a logged error; a config that asks for options this
//! build cannot apply is refused by [`Runtime::new`]. The ring's own tunables
//! are [`RingOptions`].
//!
//! Where io_uring cannot be used, [`probe`] says why in one line, so the daemon can
//! fall back to runtime-mio.
//!
//! ```no_run
//! use nexthop_runtime_uring::{Options, Runtime, SansIo, monotonic_clock};
//! fn run(speaker: impl SansIo) -> std::io::Result<()> {
//!     nexthop_runtime_uring::probe().map_err(std::io::Error::other)?;
//!     let mut rt = Runtime::new(speaker, monotonic_clock(), Options::default())?;
//!     loop {
//!         rt.turn(None)?;
//!     }
//! }
//! ```
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod conn;
mod runtime;
mod sys;

pub use nexthop_runtime_edge::{
    Closed, Command, ConnKey, ConnKeyHasher, Duration, Instant, Options, SansIo, Stats, Turn,
    monotonic_clock,
};
pub use runtime::{Runtime, Waker};
pub use sys::ring::RingFeatures;

/// Whether this runtime can run here: the setup flags the kernel accepts, or one
/// line saying why not (kernel too old, io_uring disabled by sysctl or refused by a
/// seccomp filter, an operation missing), for the daemon's fallback to mio.
pub fn probe() -> Result<RingFeatures, String> {
    sys::ring::probe()
}

/// The ring's tunables (the ones both runtimes have are [`Options`]).
#[derive(Clone, Debug)]
pub struct RingOptions {
    /// Submission queue entries (a power of two); the completion queue is 8 times that.
    pub ring_entries: u32,
    /// Provided receive buffers shared by all connections (a power of two).
    pub recv_buffers: u16,
    /// Size of one provided receive buffer.
    pub recv_buffer_size: u32,
    /// Most transmits gathered into one `sendmsg` (at most 1024, the kernel's
    /// `UIO_MAXIOV`).
    pub send_batch: usize,
    /// Send with `IORING_OP_SENDMSG_ZC` (zero copy) instead of `IORING_OP_SENDMSG`.
    pub zero_copy: bool,
    /// `IORING_SETUP_SQPOLL`: a kernel thread takes submissions (and does the
    /// sends) while this thread goes on, and polls for this long after the last
    /// one before it sleeps; `None` (the default) submits from this thread.
    /// It costs a core while busy; worth it only with a core to spare.
    pub sqpoll_idle: Option<Duration>,
}

impl Default for RingOptions {
    fn default() -> Self {
        RingOptions {
            ring_entries: 4096,
            recv_buffers: 256,
            recv_buffer_size: 16 * 1024,
            send_batch: 1024,
            zero_copy: false,
            sqpoll_idle: None,
        }
    }
}
