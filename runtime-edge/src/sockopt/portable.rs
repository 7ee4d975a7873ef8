//! The portable fallback, for systems other than Linux (and for Linux with the
//! `portable-fallback` feature, so this path is built and tested here): only
//! what every system has, through socket2 (TCP_NODELAY, SO_SNDBUF,
//! SO_REUSEADDR, IP_TTL / IPV6_UNICAST_HOPS), applies. TCP-MD5, the minimum TTL
//! and the listener's GTSM filter are refused: the BSDs sign TCP-MD5 through
//! IPsec security associations set up outside the socket, and neither a per-peer
//! minimum TTL nor a socket filter on the IP header is common to them, illumos
//! and macOS. [`super::check`] refuses a config that asks for them.

use std::io;
use std::os::fd::BorrowedFd;

use crate::PeerPrefix;
use crate::gtsm::Instruction;

/// Why TCP-MD5 cannot be applied.
pub(crate) const MD5: Result<(), &str> =
    Err("TCP-MD5 (RFC 2385) is not available with the portable socket options of this build");
/// Why the minimum TTL cannot be applied.
pub(crate) const MIN_TTL: Result<(), &str> = Err(
    "GTSM (RFC 5082) minimum TTLs are not available with the portable socket options of this build",
);

/// The longest key (none is taken here).
pub(crate) const MD5_KEY_MAX: usize = 80;

fn unsupported(why: Result<(), &str>) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        why.err().unwrap_or("not available"),
    )
}

pub(crate) fn set_md5_key(
    _fd: BorrowedFd<'_>,
    _prefix: PeerPrefix,
    _key: Option<&[u8]>,
) -> io::Result<()> {
    Err(unsupported(MD5))
}

pub(crate) fn set_min_ttl(_fd: BorrowedFd<'_>, _v6: bool, _min_ttl: u8) -> io::Result<()> {
    Err(unsupported(MIN_TTL))
}

pub(crate) fn attach_filter(_fd: BorrowedFd<'_>, _program: &[Instruction]) -> io::Result<()> {
    Err(unsupported(MIN_TTL))
}

/// Nothing is ever attached.
pub(crate) fn detach_filter(_fd: BorrowedFd<'_>) -> io::Result<()> {
    Ok(())
}

pub(crate) fn filter_len(_fd: BorrowedFd<'_>) -> io::Result<u32> {
    Ok(0)
}

pub(crate) fn min_ttl(_fd: BorrowedFd<'_>, _v6: bool) -> io::Result<u8> {
    Ok(0)
}
