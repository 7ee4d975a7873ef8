//! Applying the per-peer socket options (RFC 2385 TCP-MD5, RFC 5082 GTSM) and
//! the options every connection gets, failing closed: to listeners (the peers'
//! keys, TTL 255 and the GTSM filter that checks the handshake, for every rule of
//! the listener's family), to accepted connections and to outbound ones.
//!
//! Failing closed means: a connection whose key, minimum TTL, TTL 255 or
//! TCP_NODELAY cannot be set is closed with a logged error; and while a listener
//! lacks a peer's key or GTSM filter (the kernel refused it), a connection from
//! that peer is closed as soon as it is accepted, before the speaker hears of it,
//! instead of running unprotected.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tracing::{error, warn};

use crate::sockopt::{self, OptionError, SocketOption};
use crate::{ConnKey, Options, PeerPrefix, PeerSocketRules};

/// A non-blocking listening socket on `addr`: SO_REUSEADDR, and IPV6_V6ONLY on
/// an IPv6 address (an IPv4 peer connects to an IPv4 listener, where its rule
/// is installed).
pub fn bind_listener(addr: SocketAddr, backlog: i32) -> io::Result<Socket> {
    let s = Socket::new(
        Domain::for_address(addr),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )?;
    s.set_reuse_address(true)?;
    if addr.is_ipv6() {
        s.set_only_v6(true)?;
    }
    s.bind(&addr.into())
        .and_then(|()| s.listen(backlog))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
    Ok(s)
}

/// Why an outbound socket could not be made.
#[derive(Debug)]
pub enum ConnectError {
    /// The socket, its bind address or the connect itself failed.
    Socket(io::Error),
    /// A socket option the connection needs could not be set.
    Option(OptionError),
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConnectError::Socket(e) => e.fmt(f),
            ConnectError::Option(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ConnectError {}

impl From<io::Error> for ConnectError {
    fn from(e: io::Error) -> Self {
        ConnectError::Socket(e)
    }
}

impl From<OptionError> for ConnectError {
    fn from(e: OptionError) -> Self {
        ConnectError::Option(e)
    }
}

/// What is installed on one listener, and which rules' options are missing.
#[derive(Debug)]
struct Listener {
    local: SocketAddr,
    /// Prefixes whose TCP-MD5 key is installed.
    keys: Vec<PeerPrefix>,
    /// Rules (by prefix) whose option the kernel refused here.
    missing: Vec<(PeerPrefix, SocketOption)>,
}

/// The per-peer socket rules in force and what each listener holds of them.
/// A runtime keeps one, adds each listener to it, and asks it to set up every
/// connection it accepts or opens.
#[derive(Debug, Default)]
pub struct PeerSockets {
    rules: PeerSocketRules,
    /// By the runtime's listener index.
    listeners: Vec<Listener>,
}

impl PeerSockets {
    /// No rules and no listeners yet.
    pub fn new() -> PeerSockets {
        PeerSockets::default()
    }

    /// The rules in force.
    pub fn rules(&self) -> &PeerSocketRules {
        &self.rules
    }

    /// A new listener, the runtime's next index: every rule of its family is
    /// installed on it.
    pub fn add_listener(&mut self, fd: BorrowedFd<'_>, local: SocketAddr) {
        let mut l = Listener {
            local,
            keys: Vec::new(),
            missing: Vec::new(),
        };
        l.install(fd, &PeerSocketRules::new(), &self.rules);
        self.listeners.push(l);
    }

    /// New rules (after a reload): when they differ from those in force, every
    /// listener (`fds`, by index) gets them. Connections already accepted keep
    /// what they have (a neighbour whose options change is reset by the speaker).
    pub fn update(&mut self, rules: PeerSocketRules, fds: &[BorrowedFd<'_>]) {
        if rules == self.rules {
            return;
        }
        for (l, fd) in self.listeners.iter_mut().zip(fds) {
            l.install(*fd, &self.rules, &rules);
        }
        self.rules = rules;
    }

    /// Whether listener `listener` may hand a connection from `remote` to the
    /// speaker: not while it lacks the option of `remote`'s rule. A refusal is
    /// logged; the runtime closes the connection.
    pub fn admit(&self, listener: usize, remote: SocketAddr) -> Result<(), OptionError> {
        let Some(rule) = self.rules.lookup(remote.ip()) else {
            return Ok(());
        };
        let Some(l) = self.listeners.get(listener) else {
            return Ok(());
        };
        match l.missing.iter().find(|(p, _)| *p == rule.prefix) {
            None => Ok(()),
            Some(&(_, option)) => {
                error!(
                    neighbor = %rule.prefix, %remote, listener = %l.local, %option,
                    "connection closed: the listener lacks the peer's socket option"
                );
                Err(OptionError {
                    option,
                    error: io::Error::other("not installed on the listener"),
                })
            }
        }
    }

    /// Sets up a connection accepted from `remote`: TCP_NODELAY, the send
    /// buffer, and for a GTSM peer TTL 255 and its minimum TTL (the listener's
    /// filter, which the socket inherits, already checks it). An error is logged;
    /// the runtime closes the connection.
    pub fn accepted(
        &self,
        conn: ConnKey,
        fd: BorrowedFd<'_>,
        remote: SocketAddr,
        options: &Options,
    ) -> Result<(), OptionError> {
        let min_ttl = self.rules.lookup(remote.ip()).and_then(|r| r.min_ttl);
        let v6 = remote.is_ipv6();
        let r = common(fd, options).and_then(|()| match min_ttl {
            Some(t) => gtsm(fd, v6, t),
            None => Ok(()),
        });
        if let Err(e) = &r {
            error!(connection_id = conn.0, %remote, direction = "inbound", error = %e, "connection closed");
        }
        r
    }

    /// A non-blocking socket for an outbound connection to `remote`, every
    /// option set before the connect: TCP_NODELAY, the send buffer, the bind
    /// address, the TCP-MD5 key for `remote`, TTL 255 and the minimum TTL. A
    /// failed option is logged as an error.
    pub fn outbound(
        conn: ConnKey,
        remote: SocketAddr,
        bind: Option<IpAddr>,
        md5_key: Option<&[u8]>,
        min_ttl: Option<u8>,
        options: &Options,
    ) -> Result<Socket, ConnectError> {
        let r = (|| {
            let s = Socket::new(
                Domain::for_address(remote),
                Type::STREAM.nonblocking(),
                Some(Protocol::TCP),
            )?;
            let fd = s.as_fd();
            common(fd, options)?;
            if let Some(b) = bind {
                s.bind(&SockAddr::from(SocketAddr::new(b, 0)))?;
            }
            if let Some(key) = md5_key {
                sockopt::set_md5_key(fd, PeerPrefix::host(remote.ip()), Some(key))?;
            }
            if let Some(t) = min_ttl {
                gtsm(fd, remote.is_ipv6(), t)?;
            }
            Ok(s)
        })();
        if let Err(ConnectError::Option(e)) = &r {
            error!(connection_id = conn.0, %remote, direction = "outbound", error = %e, "connect abandoned");
        }
        r
    }
}

fn common(fd: BorrowedFd<'_>, options: &Options) -> Result<(), OptionError> {
    sockopt::set_nodelay(fd)?;
    if let Some(n) = options.send_buffer {
        sockopt::set_send_buffer(fd, n)?;
    }
    Ok(())
}

fn gtsm(fd: BorrowedFd<'_>, v6: bool, min_ttl: u8) -> Result<(), OptionError> {
    sockopt::set_ttl_255(fd, v6)?;
    sockopt::set_min_ttl(fd, v6, min_ttl)
}

impl Listener {
    /// Moves the listener from `old` rules to `new` ones: keys no longer wanted
    /// are removed, the wanted ones set, TTL 255 and the GTSM filter set for the
    /// family. What the kernel refuses is logged and recorded as missing.
    fn install(&mut self, fd: BorrowedFd<'_>, old: &PeerSocketRules, new: &PeerSocketRules) {
        let v6 = self.local.is_ipv6();
        let ours = |p: &PeerPrefix| p.addr().is_ipv6() == v6;
        let mut missing = Vec::new();
        for prefix in std::mem::take(&mut self.keys) {
            let kept = new
                .iter()
                .any(|r| r.prefix == prefix && r.md5_key.is_some());
            if kept {
                continue;
            }
            if let Err(e) = sockopt::set_md5_key(fd, prefix, None) {
                // The old key stays: the peer must still sign, which fails closed.
                warn!(neighbor = %prefix, listener = %self.local, error = %e, "cannot remove a TCP-MD5 key");
            }
        }
        for r in new.iter().filter(|r| ours(&r.prefix)) {
            let Some(key) = &r.md5_key else { continue };
            match sockopt::set_md5_key(fd, r.prefix, Some(key)) {
                Ok(()) => self.keys.push(r.prefix),
                Err(e) => {
                    error!(neighbor = %r.prefix, listener = %self.local, error = %e, "connections from this peer will be closed");
                    missing.push((r.prefix, e.option));
                }
            }
        }
        let gtsm_rules = || {
            new.iter()
                .filter(|r| ours(&r.prefix) && r.min_ttl.is_some())
        };
        // The listener answers SYNs (SYN-ACK) itself: with TTL 255, or a GTSM
        // peer drops them (RFC 5082 §3).
        let mut gtsm_failed = None;
        if new.any_min_ttl(v6)
            && let Err(e) = sockopt::set_ttl_255(fd, v6)
        {
            gtsm_failed = Some(e);
        }
        if gtsm_failed.is_none()
            && (new.any_min_ttl(v6) || old.any_min_ttl(v6))
            && let Err(e) = sockopt::set_gtsm_filter(fd, v6, new)
        {
            gtsm_failed = Some(e);
        }
        if let Some(e) = gtsm_failed {
            error!(listener = %self.local, error = %e, "GTSM not in force on this listener: connections from its GTSM peers are closed");
            missing.extend(gtsm_rules().map(|r| (r.prefix, e.option)));
        }
        self.missing = missing;
    }
}
