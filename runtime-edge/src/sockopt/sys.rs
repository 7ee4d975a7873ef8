//! The crate's one module that talks to the kernel directly: `setsockopt(2)` and
//! `getsockopt(2)` with values the standard library and socket2 do not build, and
//! the copy of a socket address into the `sockaddr_storage` a kernel struct
//! embeds. Each `unsafe` block is one call on a descriptor the caller borrows,
//! with a value of the exact type and length the kernel expects.
#![allow(unsafe_code)]

use std::io;
use std::mem;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Sets option `name` at `level` on `fd` to `value` (passed with its size).
#[cfg_attr(
    any(not(target_os = "linux"), feature = "portable-fallback"),
    allow(dead_code)
)]
pub(crate) fn setsockopt<T>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    let len = libc::socklen_t::try_from(mem::size_of::<T>())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `fd` is a live descriptor borrowed for the call; `value` points to a
    // live `T` of `len` bytes, which the kernel copies before returning.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Removes an option whose setting takes no value (`SO_DETACH_FILTER`).
#[cfg_attr(
    any(not(target_os = "linux"), feature = "portable-fallback"),
    allow(dead_code)
)]
pub(crate) fn setsockopt_flag(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<()> {
    let v: libc::c_int = 0;
    setsockopt(fd, level, name, &v)
}

/// Reads an integer option.
pub(crate) fn getsockopt_int(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<i32> {
    let mut v: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `fd` is live for the call; `v` and `len` are live locals, `len`
    // holding the size of `v`.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut v as *mut libc::c_int).cast::<libc::c_void>(),
            &mut len,
        )
    };
    if rc == 0 {
        Ok(v)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The length the kernel reports for an option asked with no buffer (for
/// `SO_GET_FILTER`: the instructions of the attached filter, 0 for none).
#[cfg_attr(
    any(not(target_os = "linux"), feature = "portable-fallback"),
    allow(dead_code)
)]
pub(crate) fn getsockopt_len(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<u32> {
    let mut len: libc::socklen_t = 0;
    // SAFETY: `fd` is live for the call; with a zero length the kernel writes no
    // value, only the length into the live local `len`.
    let rc =
        unsafe { libc::getsockopt(fd.as_raw_fd(), level, name, std::ptr::null_mut(), &mut len) };
    if rc == 0 {
        Ok(len)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `addr` as a `sockaddr_storage` (`sockaddr_in` or `sockaddr_in6`, the rest
/// zero), for kernel structs that embed one.
#[cfg_attr(
    any(not(target_os = "linux"), feature = "portable-fallback"),
    allow(dead_code)
)]
pub(crate) fn sockaddr_storage(addr: SocketAddr) -> libc::sockaddr_storage {
    let sa = socket2::SockAddr::from(addr);
    // SAFETY: sockaddr_storage is plain old data; all-zero bytes are a valid value.
    let mut out: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let n = (sa.len() as usize).min(mem::size_of::<libc::sockaddr_storage>());
    // SAFETY: `sa.as_ptr()` points to `sa.len()` initialized bytes of a socket
    // address; `out` is a distinct, live sockaddr_storage of at least `n` bytes.
    unsafe {
        std::ptr::copy_nonoverlapping(sa.as_ptr().cast::<u8>(), (&raw mut out).cast::<u8>(), n);
    }
    out
}
