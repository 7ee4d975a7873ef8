//! Socket options, once for both runtimes: TCP-MD5 signatures (RFC 2385), GTSM
//! (RFC 5082: TTL 255 out, a minimum TTL in, the listener's handshake filter of
//! [`crate::gtsm`]), TCP_NODELAY, SO_SNDBUF. Every failure names the option
//! ([`OptionError`]), so a runtime can close the connection it was for and say
//! why.
//!
//! The options only Linux has live in its OS module; other systems (and Linux
//! with the `portable-fallback` feature) get a fallback that applies what is
//! portable and refuses the rest. [`check`] tells, before anything starts,
//! whether this build can apply a set of rules, naming the neighbour, the
//! config key and the reason.

#[cfg(all(target_os = "linux", not(feature = "portable-fallback")))]
#[path = "linux.rs"]
mod os;
#[cfg(any(not(target_os = "linux"), feature = "portable-fallback"))]
#[path = "portable.rs"]
mod os;
mod sys;

use std::fmt;
use std::io;
use std::os::fd::BorrowedFd;

use socket2::SockRef;

use crate::gtsm;
use crate::{PeerPrefix, PeerSocketRules};

/// Longest TCP-MD5 key the kernel takes.
pub const MD5_KEY_MAX: usize = os::MD5_KEY_MAX;

/// Whether this build uses the portable fallback (no TCP-MD5, no minimum TTL).
pub const PORTABLE_FALLBACK: bool =
    cfg!(any(not(target_os = "linux"), feature = "portable-fallback"));

/// A socket option this crate sets, by the name an operator knows it by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SocketOption {
    /// A TCP-MD5 key (RFC 2385).
    Md5Key,
    /// The GTSM minimum TTL or hop limit of a connection (RFC 5082 §3).
    MinTtl,
    /// The listener's GTSM filter, which checks the handshake.
    GtsmFilter,
    /// Sending with TTL (hop limit) 255, as GTSM asks of both ends.
    Ttl255,
    /// TCP_NODELAY.
    NoDelay,
    /// SO_SNDBUF.
    SendBuffer,
}

impl fmt::Display for SocketOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SocketOption::Md5Key => "the TCP-MD5 key (RFC 2385)",
            SocketOption::MinTtl => "the GTSM minimum TTL (RFC 5082)",
            SocketOption::GtsmFilter => "the listener's GTSM filter (RFC 5082)",
            SocketOption::Ttl255 => "TTL 255 (RFC 5082)",
            SocketOption::NoDelay => "TCP_NODELAY",
            SocketOption::SendBuffer => "SO_SNDBUF",
        })
    }
}

/// A socket option that could not be set.
#[derive(Debug)]
pub struct OptionError {
    /// Which.
    pub option: SocketOption,
    /// What the system said.
    pub error: io::Error,
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot set {}: {}", self.option, self.error)
    }
}

impl std::error::Error for OptionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

fn named(option: SocketOption) -> impl FnOnce(io::Error) -> OptionError {
    move |error| OptionError { option, error }
}

/// A rule this build cannot apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// The neighbour (a host) or the range of neighbours.
    pub prefix: PeerPrefix,
    /// The config key that asks for it: `md5_key` or `min_ttl`.
    pub key: &'static str,
    /// Why.
    pub reason: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.prefix.is_host() {
            "neighbor"
        } else {
            "neighbors"
        };
        write!(f, "{what} {}: {}: {}", self.prefix, self.key, self.reason)
    }
}

impl std::error::Error for Unsupported {}

/// Whether this build can apply every rule: an `Err` names the first neighbour
/// (or range), the config key and the reason. For a daemon to refuse a config
/// at load time rather than run without the protection it asks for.
pub fn check(rules: &PeerSocketRules) -> Result<(), Unsupported> {
    for r in rules.iter() {
        let refuse = |key, reason: &str| Unsupported {
            prefix: r.prefix,
            key,
            reason: reason.to_string(),
        };
        if let Some(k) = &r.md5_key {
            os::MD5.map_err(|why| refuse("md5_key", why))?;
            if k.is_empty() || k.len() > MD5_KEY_MAX {
                return Err(refuse("md5_key", "a TCP-MD5 key is 1 to 80 bytes"));
            }
        }
        if r.min_ttl.is_some() {
            os::MIN_TTL.map_err(|why| refuse("min_ttl", why))?;
        }
    }
    for v6 in [false, true] {
        if let Err(e) = gtsm::program(v6, rules) {
            let first = rules
                .iter()
                .find(|r| r.prefix.addr().is_ipv6() == v6 && r.min_ttl.is_some());
            if let Some(r) = first {
                return Err(Unsupported {
                    prefix: r.prefix,
                    key: "min_ttl",
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Sets (or with `None`, removes) the TCP-MD5 key for segments exchanged with
/// the peers in `prefix` on `fd`: before `connect` on an outbound socket, on the
/// listening socket for inbound ones (RFC 2385 §4; the kernel then drops unsigned
/// SYNs from them, and an accepted connection inherits its peer's key).
pub fn set_md5_key(
    fd: BorrowedFd<'_>,
    prefix: PeerPrefix,
    key: Option<&[u8]>,
) -> Result<(), OptionError> {
    os::set_md5_key(fd, prefix, key).map_err(named(SocketOption::Md5Key))
}

/// GTSM (RFC 5082 §3): drop segments that arrive with a TTL (hop limit) below
/// `min_ttl`. `v6` selects IPV6_MINHOPCOUNT, for an IPv6 socket.
pub fn set_min_ttl(fd: BorrowedFd<'_>, v6: bool, min_ttl: u8) -> Result<(), OptionError> {
    os::set_min_ttl(fd, v6, min_ttl).map_err(named(SocketOption::MinTtl))
}

/// Sends with TTL (hop limit) 255, as GTSM asks of both ends (RFC 5082 §3 (1)).
pub fn set_ttl_255(fd: BorrowedFd<'_>, v6: bool) -> Result<(), OptionError> {
    let s = SockRef::from(&fd);
    let r = if v6 {
        s.set_unicast_hops_v6(255)
    } else {
        s.set_ttl_v4(255)
    };
    r.map_err(named(SocketOption::Ttl255))
}

/// TCP_NODELAY: a BGP message goes out when it is written.
pub fn set_nodelay(fd: BorrowedFd<'_>) -> Result<(), OptionError> {
    SockRef::from(&fd)
        .set_tcp_nodelay(true)
        .map_err(named(SocketOption::NoDelay))
}

/// SO_SNDBUF of `bytes`.
pub fn set_send_buffer(fd: BorrowedFd<'_>, bytes: usize) -> Result<(), OptionError> {
    SockRef::from(&fd)
        .set_send_buffer_size(bytes)
        .map_err(named(SocketOption::SendBuffer))
}

/// Puts the GTSM filter for the `v6` family's `rules` on the listener `fd`
/// (replacing the one it has), or removes it when no rule of the family asks for
/// a minimum TTL. Returns whether a filter is attached.
pub fn set_gtsm_filter(
    fd: BorrowedFd<'_>,
    v6: bool,
    rules: &PeerSocketRules,
) -> Result<bool, OptionError> {
    let failed = named(SocketOption::GtsmFilter);
    match gtsm::program(v6, rules) {
        Ok(Some(p)) => os::attach_filter(fd, &p).map(|()| true).map_err(failed),
        Ok(None) => os::detach_filter(fd).map(|()| false).map_err(failed),
        Err(e) => Err(failed(io::Error::new(io::ErrorKind::InvalidInput, e))),
    }
}

/// Instructions of the socket filter on `fd` (0: none), as the kernel reports
/// them: an accepted socket inherits its listener's.
pub fn filter_len(fd: BorrowedFd<'_>) -> io::Result<u32> {
    os::filter_len(fd)
}

/// The minimum TTL (hop limit) set on `fd` (0: none).
pub fn min_ttl(fd: BorrowedFd<'_>, v6: bool) -> io::Result<u8> {
    os::min_ttl(fd, v6)
}

/// Reads an integer option, for tests that check what was set.
pub fn get_int(fd: BorrowedFd<'_>, level: libc::c_int, name: libc::c_int) -> io::Result<i32> {
    sys::getsockopt_int(fd, level, name)
}
