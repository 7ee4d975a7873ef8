//! Socket options the standard library and socket2 do not offer: TCP-MD5 signatures
//! (RFC 2385, `TCP_MD5SIG`) and GTSM's minimum TTL (RFC 5082, `IP_MINTTL`,
//! `IPV6_MINHOPCOUNT`).

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd};

use socket2::SockAddr;

/// Linux `struct tcp_md5sig` (include/uapi/linux/tcp.h).
#[repr(C)]
struct TcpMd5Sig {
    addr: libc::sockaddr_storage,
    flags: u8,
    prefixlen: u8,
    keylen: u16,
    ifindex: u32,
    key: [u8; 80],
}

/// The longest key `TCP_MD5SIG` takes.
pub(crate) const MD5_KEY_MAX: usize = 80;

/// Signs every segment to and from `peer` on `fd` with `key` (RFC 2385). On a
/// listener, this admits `peer`'s signed connections.
pub(crate) fn set_tcp_md5(fd: BorrowedFd<'_>, peer: SocketAddr, key: &[u8]) -> io::Result<()> {
    if key.len() > MD5_KEY_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "TCP-MD5 key longer than 80 bytes",
        ));
    }
    // SAFETY: TcpMd5Sig is plain old data; all-zero is valid.
    let mut sig: TcpMd5Sig = unsafe { std::mem::zeroed() };
    let sa = SockAddr::from(peer);
    // SAFETY: `sa` holds at most a sockaddr_storage worth of bytes (`sa.len()`), and
    // `sig.addr` is a sockaddr_storage: the copy stays inside both.
    unsafe {
        std::ptr::copy_nonoverlapping(
            sa.as_ptr().cast::<u8>(),
            (&raw mut sig.addr).cast::<u8>(),
            (sa.len() as usize).min(size_of::<libc::sockaddr_storage>()),
        );
    }
    sig.keylen = key.len() as u16;
    sig.key[..key.len()].copy_from_slice(key);
    setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_MD5SIG, &sig)
}

/// Drops packets from `peer`'s side that arrive with a TTL (hop limit) under `ttl`
/// (RFC 5082 GTSM).
pub(crate) fn set_min_ttl(fd: BorrowedFd<'_>, ipv6: bool, ttl: u8) -> io::Result<()> {
    let v: libc::c_int = ttl.into();
    if ipv6 {
        setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT, &v)
    } else {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_MINTTL, &v)
    }
}

fn setsockopt<V>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &V,
) -> io::Result<()> {
    // SAFETY: `value` is a live reference for the whole call and its size is passed;
    // the kernel copies it before returning and keeps no pointer to it.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const V).cast(),
            size_of::<V>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
