//! CPU time and memory of the load generator itself (getrusage) and of another
//! process such as the device under test (/proc/PID), so that a report shows
//! what the measuring cost next to what it measured.

use std::time::Duration;

/// CPU time and peak resident memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// User plus system CPU time.
    pub cpu: Duration,
    /// Peak resident set size, in bytes (the process's high-water mark).
    pub peak_rss: u64,
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

fn rusage(who: libc::c_int) -> Option<libc::rusage> {
    // SAFETY: getrusage writes a whole `rusage` into the zeroed value we own.
    #[allow(unsafe_code)]
    unsafe {
        let mut r: libc::rusage = std::mem::zeroed();
        (libc::getrusage(who, &mut r) == 0).then_some(r)
    }
}

impl Usage {
    /// The calling thread's CPU time (the load generator runs on one thread, so
    /// this is its own cost even inside a bigger process) and the process's
    /// peak RSS.
    pub fn of_this_thread() -> Usage {
        let cpu = rusage(libc::RUSAGE_THREAD)
            .map(|r| timeval(r.ru_utime) + timeval(r.ru_stime))
            .unwrap_or_default();
        let peak_rss = rusage(libc::RUSAGE_SELF)
            .map(|r| r.ru_maxrss as u64 * 1024)
            .unwrap_or_default();
        Usage { cpu, peak_rss }
    }

    /// Another process's CPU time (user + system, /proc/PID/stat) and peak RSS
    /// (VmHWM in /proc/PID/status); `None` once it is gone.
    pub fn of_pid(pid: u32) -> Option<Usage> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command name (which may hold spaces) in parentheses.
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        // SAFETY: sysconf has no preconditions.
        #[allow(unsafe_code)]
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        let cpu = Duration::from_millis((utime + stime) * 1000 / hz);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let peak_rss = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024);
        Some(Usage { cpu, peak_rss })
    }

    /// [`Usage::of_pid`] summed over `pid` and all its descendants (daemons
    /// such as OpenBGPD and FRR work in several processes); peak RSS is the
    /// sum of each process's peak. `None` once `pid` is gone.
    pub fn of_process_tree(pid: u32) -> Option<Usage> {
        let mut total = Usage::of_pid(pid)?;
        let mut parents = vec![pid];
        let procs: Vec<(u32, u32)> = std::fs::read_dir("/proc")
            .ok()?
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter_map(|p| {
                let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
                let rest = stat.get(stat.rfind(')')? + 2..)?;
                let ppid = rest.split_whitespace().nth(1)?.parse().ok()?;
                Some((p, ppid))
            })
            .collect();
        while let Some(parent) = parents.pop() {
            for &(child, _) in procs.iter().filter(|(_, pp)| *pp == parent) {
                if let Some(u) = Usage::of_pid(child) {
                    total.cpu += u.cpu;
                    total.peak_rss += u.peak_rss;
                }
                parents.push(child);
            }
        }
        Some(total)
    }
}
