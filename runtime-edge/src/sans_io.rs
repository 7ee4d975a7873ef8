//! The contract between a runtime and a sans-IO speaker: the [`SansIo`] trait (the
//! inputs a runtime feeds and the outputs it drains), the connection key the
//! speaker assigns ([`ConnKey`]), the socket [`Command`]s it gives, and how a
//! connection ended ([`Closed`]). A speaker (nexthop-speaker's `Speaker`, a
//! test's scripted one) implements it; runtime-mio, runtime-uring and a test's
//! virtual network drive it.

use std::io;
use std::net::{IpAddr, SocketAddr};

use nexthop_core::session::ConnectionError;

use crate::PeerSocketRules;
use crate::{Duration, Instant};

/// What a runtime drives: a sans-IO speaker's inputs and outputs. After every
/// input the runtime drains the outputs ([`crate::Pump::drain`]): commands, then
/// ready connections and their transmits while each connection's output is
/// under its bound, again until none gives anything.
pub trait SansIo {
    /// Bytes to write, owned or shared; kept alive until the kernel has taken them.
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
    /// An outbound connect failed, timed out, or its socket could not be given
    /// the options it asked for.
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
    /// Administrative shutdown of every session (a speaker without sessions has
    /// nothing to do).
    fn handle_shutdown(&mut self, now: Instant, communication: &str) {
        let _ = (now, communication);
    }
    /// After `handle_shutdown`: every NOTIFICATION handed out, every connection
    /// closed.
    fn is_shut_down(&self) -> bool {
        true
    }
    /// The TCP-MD5 keys (RFC 2385) and GTSM minimum TTLs (RFC 5082) of the peers
    /// that may connect to us, by address prefix. A runtime installs them on its
    /// listeners and applies them to the connections it accepts when it starts,
    /// and again when asked after a reload (outbound connections get theirs with
    /// each [`Command::Connect`]).
    fn peer_socket_rules(&self) -> PeerSocketRules {
        PeerSocketRules::default()
    }
}

/// A connection as the speaker knows it; assigned by the speaker, never reused
/// while the runtime may still report on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnKey(pub u32);

impl std::fmt::Display for ConnKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// Hashes [`ConnKey`]s with one multiply instead of SipHash: the speaker
/// assigns them, no peer chooses them, and the runtimes look one up for every
/// transmit. For `HashMap<ConnKey, _, ConnKeyHasher>`.
pub type ConnKeyHasher = std::hash::BuildHasherDefault<ConnKeyHash>;

/// The hasher state of [`ConnKeyHasher`].
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnKeyHash(u64);

impl std::hash::Hasher for ConnKeyHash {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (self.0 ^ u64::from(n)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// What the runtime must do with its sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Open a TCP connection to `remote` (port 179 unless configured), from `bind`
    /// when set, with TCP-MD5 key (RFC 2385) and GTSM minimum TTL (RFC 5082) when
    /// set, giving up after `timeout`. Report the outcome with
    /// [`SansIo::handle_connected`] or [`SansIo::handle_connect_failed`]; a key or
    /// a minimum TTL the runtime cannot apply fails the connect.
    Connect {
        /// The connection's key from now on.
        conn: ConnKey,
        /// The peer's address and port.
        remote: SocketAddr,
        /// Local address to bind to.
        bind: Option<IpAddr>,
        /// TCP-MD5 key.
        md5_key: Option<Vec<u8>>,
        /// GTSM minimum TTL (hop count for IPv6).
        min_ttl: Option<u8>,
        /// Give up after this long.
        timeout: Duration,
    },
    /// Close `conn` once what was already handed out by `poll_transmit` is
    /// written (bounded: the runtime gives up after a short linger). The speaker
    /// has forgotten it; reports on it are ignored.
    Close {
        /// The connection.
        conn: ConnKey,
    },
}

/// How a connection ended, as the runtime saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// A read returned zero bytes.
    PeerClosed,
    /// The connection was reset.
    Reset,
    /// A write failed.
    SendFailed,
    /// Something else local went wrong (the runtime gave up on the socket).
    LocalError,
}

impl Closed {
    /// How a connection ended, from the error a receive (or a connect) gave: the
    /// peer or the path ended it (reset, aborted, broken pipe, timed out,
    /// unreachable), or something local did.
    pub fn from_error(error: &io::Error) -> Closed {
        match error.kind() {
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::TimedOut
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable => Closed::Reset,
            _ => Closed::LocalError,
        }
    }
}

impl From<Closed> for ConnectionError {
    fn from(c: Closed) -> Self {
        match c {
            Closed::PeerClosed => ConnectionError::PeerClosed,
            Closed::Reset | Closed::LocalError => ConnectionError::Reset,
            Closed::SendFailed => ConnectionError::SendFailed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_the_peer_or_the_path_caused_are_a_reset_others_are_local() {
        for errno in [
            libc::ECONNRESET,
            libc::ECONNABORTED,
            libc::EPIPE,
            libc::ETIMEDOUT,
            libc::EHOSTUNREACH,
            libc::ENETUNREACH,
        ] {
            let e = io::Error::from_raw_os_error(errno);
            assert_eq!(Closed::from_error(&e), Closed::Reset, "{e}");
        }
        for errno in [libc::ENOMEM, libc::EBADF, libc::EINVAL, libc::ENOTCONN] {
            let e = io::Error::from_raw_os_error(errno);
            assert_eq!(Closed::from_error(&e), Closed::LocalError, "{e}");
        }
        assert_eq!(
            Closed::from_error(&io::ErrorKind::ConnectionReset.into()),
            Closed::Reset
        );
    }

    #[test]
    fn closed_becomes_the_sessions_connection_error() {
        assert_eq!(
            ConnectionError::from(Closed::PeerClosed),
            ConnectionError::PeerClosed
        );
        assert_eq!(
            ConnectionError::from(Closed::SendFailed),
            ConnectionError::SendFailed
        );
        assert_eq!(
            ConnectionError::from(Closed::LocalError),
            ConnectionError::Reset
        );
    }
}
