//! The calls into the kernel that std does not wrap: signals, reaping, the
//! child subreaper, the effective user, resource usage and the clock tick.
//! The crate's only `unsafe` code; each call has plain integer arguments or a
//! value this module owns.
#![allow(unsafe_code)]

use std::sync::Once;
use std::time::Duration;

/// Sends `sig` to `pid`; PIDs 0 and 1 (and negative ones, process groups) are
/// never signalled.
pub fn kill(pid: i32, sig: i32) {
    if pid > 1 {
        // SAFETY: kill(2) with plain integers.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

/// Reaps `pid` if it has exited and is our child (or was re-parented to us as
/// the subreaper); a no-op otherwise.
pub fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: waitpid on one pid with WNOHANG, writing into a local.
    unsafe {
        libc::waitpid(pid, &mut status, libc::WNOHANG);
    }
}

static SUBREAPER: Once = Once::new();

/// Makes this process the reaper of orphans of what it started (a daemon's
/// helpers that outlive their parent), so that stopping them leaves no zombie
/// on a machine whose init does not reap.
pub fn become_subreaper() {
    SUBREAPER.call_once(|| {
        // SAFETY: prctl with integer arguments.
        unsafe {
            libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        }
    });
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// CPU time (user + system) of the calling thread and peak RSS of the
/// process, in bytes, from getrusage(2).
pub fn thread_cpu_and_process_peak_rss() -> (Duration, u64) {
    let timeval = |t: libc::timeval| {
        Duration::new(t.tv_sec as u64, 0) + Duration::from_micros(t.tv_usec as u64)
    };
    let rusage = |who| {
        // SAFETY: getrusage writes a whole `rusage` into the zeroed local.
        unsafe {
            let mut r: libc::rusage = std::mem::zeroed();
            (libc::getrusage(who, &mut r) == 0).then_some(r)
        }
    };
    let cpu = rusage(libc::RUSAGE_THREAD)
        .map(|r| timeval(r.ru_utime) + timeval(r.ru_stime))
        .unwrap_or_default();
    let peak = rusage(libc::RUSAGE_SELF)
        .map(|r| r.ru_maxrss as u64 * 1024)
        .unwrap_or_default();
    (cpu, peak)
}

/// Clock ticks per second, the unit of CPU times in /proc/PID/stat.
pub fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    hz.max(1) as u64
}
