//! The Linux socket options: TCP-MD5 keys by prefix (`TCP_MD5SIG_EXT` with
//! `TCP_MD5SIG_FLAG_PREFIX`, RFC 2385), the minimum TTL (`IP_MINTTL`,
//! `IPV6_MINHOPCOUNT`, RFC 5082) and the listener's GTSM filter
//! (`SO_ATTACH_FILTER`, see [`crate::gtsm`]).

use std::io;
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;

use super::sys;
use crate::PeerPrefix;
use crate::gtsm::Instruction;

/// This system applies TCP-MD5, minimum TTLs and the GTSM filter.
pub(crate) const MD5: Result<(), &str> = Ok(());
pub(crate) const MIN_TTL: Result<(), &str> = Ok(());

/// Longest TCP-MD5 key the kernel takes (`TCP_MD5SIG_MAXKEYLEN`).
pub(crate) const MD5_KEY_MAX: usize = 80;
/// `TCP_MD5SIG_FLAG_PREFIX` of `<linux/tcp.h>`: `prefixlen` is used.
const TCP_MD5SIG_FLAG_PREFIX: u8 = 1;

/// `struct tcp_md5sig` of `<linux/tcp.h>` (not in libc).
#[repr(C)]
struct TcpMd5Sig {
    addr: libc::sockaddr_storage,
    flags: u8,
    prefixlen: u8,
    keylen: u16,
    ifindex: libc::c_int,
    key: [u8; MD5_KEY_MAX],
}

const _: () = assert!(size_of::<TcpMd5Sig>() == 216);

/// `struct sock_fprog`, pointing at the instructions it is built from.
#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const Instruction,
}

pub(crate) fn set_md5_key(
    fd: BorrowedFd<'_>,
    prefix: PeerPrefix,
    key: Option<&[u8]>,
) -> io::Result<()> {
    let key = key.unwrap_or(&[]);
    if key.len() > MD5_KEY_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a TCP-MD5 key is at most {MD5_KEY_MAX} bytes"),
        ));
    }
    let mut sig = TcpMd5Sig {
        addr: sys::sockaddr_storage(SocketAddr::new(prefix.addr(), 0)),
        flags: TCP_MD5SIG_FLAG_PREFIX,
        prefixlen: prefix.length(),
        keylen: key.len() as u16,
        ifindex: 0,
        key: [0; MD5_KEY_MAX],
    };
    sig.key[..key.len()].copy_from_slice(key);
    sys::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_MD5SIG_EXT, &sig)
}

pub(crate) fn set_min_ttl(fd: BorrowedFd<'_>, v6: bool, min_ttl: u8) -> io::Result<()> {
    let v: libc::c_int = min_ttl.into();
    if v6 {
        sys::setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT, &v)
    } else {
        sys::setsockopt(fd, libc::IPPROTO_IP, libc::IP_MINTTL, &v)
    }
}

pub(crate) fn attach_filter(fd: BorrowedFd<'_>, program: &[Instruction]) -> io::Result<()> {
    let len =
        u16::try_from(program.len()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    let prog = SockFprog {
        len,
        filter: program.as_ptr(),
    };
    // The kernel copies the instructions during the call; `program` outlives it.
    sys::setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog)
}

pub(crate) fn detach_filter(fd: BorrowedFd<'_>) -> io::Result<()> {
    match sys::setsockopt_flag(fd, libc::SOL_SOCKET, libc::SO_DETACH_FILTER) {
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        r => r,
    }
}

pub(crate) fn filter_len(fd: BorrowedFd<'_>) -> io::Result<u32> {
    sys::getsockopt_len(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER)
}

pub(crate) fn min_ttl(fd: BorrowedFd<'_>, v6: bool) -> io::Result<u8> {
    let v = if v6 {
        sys::getsockopt_int(fd, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT)?
    } else {
        sys::getsockopt_int(fd, libc::IPPROTO_IP, libc::IP_MINTTL)?
    };
    Ok(u8::try_from(v).unwrap_or(u8::MAX))
}
