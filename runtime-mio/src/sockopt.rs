//! Socket options the standard library and socket2 do not offer: TCP-MD5
//! signatures (RFC 2385, Linux `TCP_MD5SIG`) and the Generalized TTL Security
//! Mechanism (RFC 5082, `IP_MINTTL` / `IPV6_MINHOPCOUNT`). The only module of the
//! crate with `unsafe`: each block is one `setsockopt(2)` on a descriptor the caller
//! owns, with a value of the exact type and length the kernel expects.
#![allow(unsafe_code)]

use std::io;
use std::mem;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, BorrowedFd};

/// Longest TCP-MD5 key the kernel takes (`TCP_MD5SIG_MAXKEYLEN`).
pub const MD5_KEY_MAX: usize = 80;

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

fn sockaddr_storage(addr: IpAddr) -> libc::sockaddr_storage {
    // The zeroed storage is then filled through the socket2 conversion, which
    // writes a sockaddr_in or sockaddr_in6 with the family set.
    let sa = socket2::SockAddr::from(SocketAddr::new(addr, 0));
    let mut out = zeroed_storage();
    let n = (sa.len() as usize).min(mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: `sa.as_ptr()` points to `sa.len()` initialized bytes of a socket
    // address; `out` is a distinct, live sockaddr_storage at least `n` bytes long.
    unsafe {
        std::ptr::copy_nonoverlapping(
            sa.as_ptr() as *const u8,
            &mut out as *mut libc::sockaddr_storage as *mut u8,
            n,
        );
    }
    out
}

fn zeroed_storage() -> libc::sockaddr_storage {
    // SAFETY: sockaddr_storage is plain old data; all-zero bytes are a valid value.
    unsafe { mem::zeroed() }
}

fn setsockopt<T>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: `fd` is a live descriptor borrowed for the call; `value` points to a
    // live `T` whose size is passed as the option length.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            value as *const T as *const libc::c_void,
            mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets (or with `None`, removes) the TCP-MD5 key for segments exchanged with
/// `peer` on `fd`: before `connect` on an outbound socket, on the listening socket
/// for inbound ones (RFC 2385 §4; the kernel then drops unsigned SYNs from `peer`).
pub fn set_md5_key(fd: BorrowedFd<'_>, peer: IpAddr, key: Option<&[u8]>) -> io::Result<()> {
    let key = key.unwrap_or(&[]);
    if key.len() > MD5_KEY_MAX {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("a TCP-MD5 key is at most {MD5_KEY_MAX} bytes"),
        ));
    }
    let mut sig = TcpMd5Sig {
        addr: sockaddr_storage(peer),
        flags: 0,
        prefixlen: 0,
        keylen: key.len() as u16,
        ifindex: 0,
        key: [0; MD5_KEY_MAX],
    };
    sig.key[..key.len()].copy_from_slice(key);
    setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_MD5SIG, &sig)
}

/// GTSM (RFC 5082 §3): drop segments that arrive with a TTL (hop limit) below
/// `min_ttl`. `v6` selects IPV6_MINHOPCOUNT, for an IPv6 socket.
pub fn set_min_ttl(fd: BorrowedFd<'_>, v6: bool, min_ttl: u8) -> io::Result<()> {
    let v: libc::c_int = min_ttl.into();
    if v6 {
        setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT, &v)
    } else {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_MINTTL, &v)
    }
}

/// Sends with TTL (hop limit) 255, as GTSM asks of both ends (RFC 5082 §3 (1)).
pub fn set_ttl_255(fd: BorrowedFd<'_>, v6: bool) -> io::Result<()> {
    let v: libc::c_int = 255;
    if v6 {
        setsockopt(fd, libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, &v)
    } else {
        setsockopt(fd, libc::IPPROTO_IP, libc::IP_TTL, &v)
    }
}

/// Reads an integer socket option (tests check what was set).
pub fn get_int(fd: BorrowedFd<'_>, level: libc::c_int, name: libc::c_int) -> io::Result<i32> {
    let mut v: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `fd` is live for the call; `v` and `len` are live locals of the sizes
    // passed.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            &mut v as *mut libc::c_int as *mut libc::c_void,
            &mut len,
        )
    };
    if rc == 0 {
        Ok(v)
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn md5_struct_has_the_kernel_layout() {
        // 128 (sockaddr_storage) + 1 + 1 + 2 + 4 + 80.
        assert_eq!(mem::size_of::<TcpMd5Sig>(), 216);
    }

    #[test]
    fn options_are_accepted_by_the_kernel() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        set_md5_key(l.as_fd(), "127.0.0.9".parse().unwrap(), Some(b"secret")).unwrap();
        set_md5_key(l.as_fd(), "127.0.0.9".parse().unwrap(), None).unwrap();
        assert!(set_md5_key(l.as_fd(), "127.0.0.9".parse().unwrap(), Some(&[1; 81])).is_err());
        set_min_ttl(l.as_fd(), false, 254).unwrap();
        assert_eq!(
            get_int(l.as_fd(), libc::IPPROTO_IP, libc::IP_MINTTL).unwrap(),
            254
        );
        set_ttl_255(l.as_fd(), false).unwrap();
        assert_eq!(
            get_int(l.as_fd(), libc::IPPROTO_IP, libc::IP_TTL).unwrap(),
            255
        );
    }
}
