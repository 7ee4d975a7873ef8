//! nexthop-runtime-edge: what the two runtimes (runtime-mio's readiness loop,
//! runtime-uring's completion loop) share, written once. A runtime keeps only its
//! event mechanics and buffer ownership; everything at the edge between the
//! sockets and the sans-IO speaker is here:
//!
//! - the contract: the [`SansIo`] trait, [`ConnKey`], [`Command`], [`Closed`]
//!   (and [`Closed::from_error`], the one errno mapping);
//! - per-peer socket rules by address prefix ([`PeerSocketRules`]: RFC 2385
//!   TCP-MD5 keys, RFC 5082 GTSM minimum TTLs) and applying them, failing closed
//!   ([`PeerSockets`]), through one socket-option module ([`sockopt`]: the
//!   Linux options in an OS module, a portable fallback elsewhere, and
//!   [`sockopt::check`] to refuse at config time what a build cannot apply);
//! - GTSM on the handshake: the listener's socket filter ([`gtsm`]);
//! - the output pump ([`Pump`]: commands, ready connections, transmits under the
//!   output bound, until nothing) and the fair receive budget
//!   ([`ReceiveBudget`]);
//! - the clock ([`monotonic_clock`]), the counters ([`Stats`]) and the common
//!   tunables ([`Options`]).
//!
//! It depends on nexthop-core's time and connection types, socket2 and libc;
//! not on the speaker, the router or a config format.
#![deny(unsafe_code)]
#![warn(missing_docs)]

mod budget;
mod clock;
pub mod gtsm;
mod options;
mod peer_sockets;
mod pump;
mod rules;
mod sans_io;
pub mod sockopt;
mod stats;

pub use budget::{ReceiveBudget, Taken};
pub use clock::monotonic_clock;
pub use nexthop_core::time::{Duration, Instant};
pub use options::Options;
pub use peer_sockets::{ConnectError, PeerSockets, bind_listener};
pub use pump::{OutputQueue, Pump, TransmitOf};
pub use rules::{PeerPrefix, PeerSocketRule, PeerSocketRules, PrefixLengthError};
pub use sans_io::{Closed, Command, ConnKey, ConnKeyHash, ConnKeyHasher, SansIo};
pub use sockopt::{OptionError, SocketOption, Unsupported, check};
pub use stats::Stats;

/// What a runtime's loop turn saw besides the speaker's sockets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Turn {
    /// The caller's own event source woke the loop (runtime-mio: a source
    /// registered under its user token; runtime-uring: a waker).
    pub user: bool,
    /// How long the turn worked after its wait for events ended: the time
    /// spent on sockets, the speaker's inputs and outputs and its timers (the
    /// loop's busy time, for a turn-duration histogram).
    pub busy: std::time::Duration,
}
