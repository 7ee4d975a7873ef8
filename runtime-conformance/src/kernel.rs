//! What the suite asks of the kernel directly, the crate's one module with
//! `unsafe`: making the kernel refuse chosen socket options to one thread (a
//! seccomp filter: the runtime's real `setsockopt` call
//! fails with `EPERM`, so its fail-closed path runs as it would for any
//! refusal), and how many bytes a socket has not had acknowledged yet.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// `offsetof(struct seccomp_data, ...)`.
const NR: u32 = 0;
const ARCH: u32 = 4;
/// The low 32 bits of `args[i]` (little-endian).
const fn arg(i: u32) -> u32 {
    16 + 8 * i
}

#[cfg(target_arch = "x86_64")]
const AUDIT_ARCH: u32 = 0xc000_003e;
#[cfg(target_arch = "aarch64")]
const AUDIT_ARCH: u32 = 0xc000_00b7;

fn ins(code: u32, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

/// From now on, `setsockopt(fd, level, name, ...)` fails with `EPERM` on the
/// calling thread, for each `(level, name)` given (other threads, and other
/// options, are not affected). Filters add up; none can be removed: call it on
/// a thread that ends with the test (a [`crate::Node`]'s).
pub fn refuse_setsockopt(options: &[(libc::c_int, libc::c_int)]) -> io::Result<()> {
    let n = options.len();
    if n == 0 || n > 60 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "1 to 60 options",
        ));
    }
    let ld = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let jeq = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
    let ret = libc::BPF_RET | libc::BPF_K;
    // Layout: 4 header instructions, 4 per option, then allow, then refuse.
    let allow = 4 + 4 * n;
    let mut p = vec![
        ins(ld, 0, 0, ARCH),
        ins(jeq, 0, (allow - 2) as u8, AUDIT_ARCH),
        ins(ld, 0, 0, NR),
        ins(jeq, 0, (allow - 4) as u8, libc::SYS_setsockopt as u32),
    ];
    for (i, &(level, name)) in options.iter().enumerate() {
        let refuse_from_last = 4 * (n - i) - 3;
        p.extend([
            ins(ld, 0, 0, arg(1)),
            ins(jeq, 0, 2, level as u32),
            ins(ld, 0, 0, arg(2)),
            ins(jeq, refuse_from_last as u8, 0, name as u32),
        ]);
    }
    p.push(ins(ret, 0, 0, libc::SECCOMP_RET_ALLOW));
    p.push(ins(ret, 0, 0, libc::SECCOMP_RET_ERRNO | libc::EPERM as u32));
    let prog = libc::sock_fprog {
        len: p.len() as u16,
        filter: p.as_mut_ptr(),
    };
    // SAFETY: PR_SET_NO_NEW_PRIVS takes plain integers; it only restricts this
    // thread.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `prog` points to `p`, a live array of `prog.len` instructions the
    // kernel copies during the call; the filter applies to this thread only (no
    // SECCOMP_FILTER_FLAG_TSYNC).
    let rc = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER,
            &prog as *const libc::sock_fprog,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Bytes written on `fd` the peer's kernel has not acknowledged yet (`SIOCOUTQ`):
/// 0 once everything sent reached the peer's socket.
pub fn unacknowledged(fd: BorrowedFd<'_>) -> io::Result<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ) writes one int into the live local `n`; `fd` is
    // live for the call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCOUTQ, &mut n as *mut libc::c_int) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(n).unwrap_or(0))
}
