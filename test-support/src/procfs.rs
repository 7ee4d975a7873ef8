//! What /proc says about processes and sockets: the process table, a
//! process's family, CPU time and memory ([`Usage`]), and which process holds
//! a listening TCP socket. Linux only; a value that cannot be read is `None`
//! (the process has gone), never a panic.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::sys;

/// One line of the process table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessEntry {
    /// Its PID.
    pub pid: i32,
    /// Its parent's PID.
    pub ppid: i32,
    /// Its process group.
    pub pgrp: i32,
    /// Its command name (`/proc/PID/comm`, at most 15 bytes).
    pub comm: String,
    /// Its command line, arguments separated by spaces (empty for a zombie).
    pub cmdline: String,
    /// Whether it has exited and waits to be reaped.
    pub zombie: bool,
}

/// The fields of `/proc/PID/stat` after the command name, which may hold
/// spaces and parentheses: `(comm, [state, ppid, pgrp, ...])`.
fn stat_fields(pid: i32) -> Option<(String, Vec<String>)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_string();
    let rest = stat
        .get(close + 1..)?
        .split_whitespace()
        .map(str::to_string)
        .collect();
    Some((comm, rest))
}

/// Every process on the machine.
pub fn processes() -> Vec<ProcessEntry> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let (comm, rest) = stat_fields(pid)?;
            let field = |i: usize| rest.get(i).and_then(|v| v.parse().ok());
            let cmdline = fs::read(format!("/proc/{pid}/cmdline"))
                .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
                .unwrap_or_default();
            Some(ProcessEntry {
                pid,
                ppid: field(1)?,
                pgrp: field(2)?,
                comm,
                cmdline,
                zombie: rest.first().is_some_and(|s| s == "Z"),
            })
        })
        .collect()
}

/// `root`, all its descendants, and the members of the process group it
/// leads (helpers that left its tree but not its group).
pub fn family_of(root: i32) -> Vec<i32> {
    let procs = processes();
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    for p in &procs {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut stack = vec![root];
    stack.extend(procs.iter().filter(|p| p.pgrp == root).map(|p| p.pid));
    let mut seen = BTreeSet::new();
    while let Some(p) = stack.pop() {
        if seen.insert(p)
            && let Some(c) = children.get(&p)
        {
            stack.extend(c.iter().copied());
        }
    }
    seen.into_iter().collect()
}

/// Whether `pid` exists and has not exited (a zombie is not alive).
pub fn alive(pid: i32) -> bool {
    stat_fields(pid).is_some_and(|(_, rest)| rest.first().is_some_and(|s| s != "Z"))
}

/// The parent of `pid`.
pub fn parent_of(pid: i32) -> Option<i32> {
    stat_fields(pid)?.1.get(1)?.parse().ok()
}

/// CPU time and memory of a process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// User plus system CPU time.
    pub cpu: Duration,
    /// Peak resident set size, in bytes (the high-water mark).
    pub peak_rss: u64,
}

impl Usage {
    /// The calling thread's CPU time (getrusage; a single-threaded tool's own
    /// cost even inside a bigger process) and the process's peak RSS.
    pub fn of_this_thread() -> Usage {
        let (cpu, peak_rss) = sys::thread_cpu_and_process_peak_rss();
        Usage { cpu, peak_rss }
    }

    /// Another process's CPU time (utime + stime of /proc/PID/stat) and peak
    /// RSS (VmHWM of /proc/PID/status); `None` once it is gone.
    pub fn of_pid(pid: u32) -> Option<Usage> {
        let (_, rest) = stat_fields(i32::try_from(pid).ok()?)?;
        // utime and stime are fields 14 and 15 of the line: 11 and 12 after
        // the command name.
        let utime: u64 = rest.get(11)?.parse().ok()?;
        let stime: u64 = rest.get(12)?.parse().ok()?;
        let cpu = Duration::from_millis((utime + stime) * 1000 / sys::clock_ticks());
        let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let peak_rss = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024);
        Some(Usage { cpu, peak_rss })
    }

    /// [`Usage::of_pid`] summed over `pid` and its descendants (daemons such as
    /// OpenBGPD and FRR work in several processes); the peak RSS is the sum of
    /// each one's peak. `None` once `pid` is gone.
    pub fn of_process_tree(pid: u32) -> Option<Usage> {
        let mut total = Usage::of_pid(pid)?;
        let procs = processes();
        let mut parents = vec![i32::try_from(pid).ok()?];
        while let Some(parent) = parents.pop() {
            for child in procs.iter().filter(|p| p.ppid == parent) {
                if let Some(u) = u32::try_from(child.pid).ok().and_then(Usage::of_pid) {
                    total.cpu += u.cpu;
                    total.peak_rss += u.peak_rss;
                }
                parents.push(child.pid);
            }
        }
        Some(total)
    }
}

/// The `local_address` of `addr` as /proc/net/tcp{,6} writes it: the address
/// as 32-bit words in host byte order, in hex, then `:PORT` in hex.
fn proc_net_address(addr: SocketAddr) -> String {
    let words: Vec<String> = match addr.ip() {
        IpAddr::V4(a) => vec![format!("{:08X}", u32::from_ne_bytes(a.octets()))],
        IpAddr::V6(a) => a
            .octets()
            .chunks(4)
            .map(|w| format!("{:08X}", u32::from_ne_bytes([w[0], w[1], w[2], w[3]])))
            .collect(),
    };
    format!("{}:{:04X}", words.concat(), addr.port())
}

/// The inode of the TCP socket listening on `addr` (from /proc/net/tcp, or
/// tcp6 for an IPv6 address); `None` when nothing listens there.
pub fn listening_inode(addr: SocketAddr) -> Option<u64> {
    let table = if addr.is_ipv4() { "tcp" } else { "tcp6" };
    let text = fs::read_to_string(format!("/proc/net/{table}")).ok()?;
    let want = proc_net_address(addr);
    // Columns: sl local_address rem_address st ... inode (the tenth);
    // state 0A is LISTEN.
    text.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(1) == Some(&want.as_str()) && f.get(3) == Some(&"0A"))
            .then(|| f.get(9)?.parse().ok())
            .flatten()
    })
}

/// Whether a TCP socket listens on `addr`.
pub fn is_listening(addr: SocketAddr) -> bool {
    listening_inode(addr).is_some()
}

/// Local addresses of every TCP socket (any state) in /proc/net/tcp and tcp6.
pub fn bound_addresses() -> Vec<SocketAddr> {
    let mut out = Vec::new();
    for (table, v6) in [("tcp", false), ("tcp6", true)] {
        let Ok(text) = fs::read_to_string(format!("/proc/net/{table}")) else {
            continue;
        };
        for l in text.lines().skip(1) {
            if let Some(a) = l
                .split_whitespace()
                .nth(1)
                .and_then(|a| parse_proc_net(a, v6))
            {
                out.push(a);
            }
        }
    }
    out
}

/// Reads back what [`proc_net_address`] writes.
fn parse_proc_net(s: &str, v6: bool) -> Option<SocketAddr> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Option<Vec<[u8; 4]>> = (0..addr.len() / 8)
        .map(|i| {
            let w = u32::from_str_radix(addr.get(i * 8..i * 8 + 8)?, 16).ok()?;
            Some(w.to_ne_bytes())
        })
        .collect();
    let bytes = words?.concat();
    let ip = match (v6, bytes.len()) {
        (false, 4) => IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        (true, 16) => IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// The process that holds the socket with `inode` open.
pub fn socket_owner(inode: u64) -> Option<i32> {
    let target = format!("socket:[{inode}]");
    fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        let fds = fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
        fds.flatten()
            .any(|fd| fs::read_link(fd.path()).is_ok_and(|l| l.to_str() == Some(&target)))
            .then_some(pid)
    })
}

/// The root of the process tree that listens on `addr`: the owner of the
/// listening socket, climbed up to the ancestor that is our child (or was
/// re-parented to us or to init). For daemons that fork (FRR, OpenBGPD).
pub fn listener_root(addr: SocketAddr) -> Option<u32> {
    let mut pid = socket_owner(listening_inode(addr)?)?;
    let me = i32::try_from(std::process::id()).ok()?;
    while let Some(pp) = parent_of(pid) {
        if pp == me || pp <= 1 {
            break;
        }
        pid = pp;
    }
    u32::try_from(pid).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_listener_is_seen_with_its_owner_and_gone_after_close() {
        for ip in ["127.0.0.61", "::1"] {
            let l = TcpListener::bind((ip.parse::<IpAddr>().unwrap(), 0)).unwrap();
            let addr = l.local_addr().unwrap();
            let inode = listening_inode(addr).expect("listening");
            assert_eq!(socket_owner(inode), i32::try_from(std::process::id()).ok());
            assert!(bound_addresses().contains(&addr), "{addr}");
            drop(l);
            // A fork by a parallel test may hold the socket until its exec.
            let end = std::time::Instant::now() + Duration::from_secs(5);
            while is_listening(addr) && std::time::Instant::now() < end {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(!is_listening(addr), "{addr}");
        }
    }

    #[test]
    fn this_process_has_a_family_and_a_usage() {
        let me = std::process::id();
        let u = Usage::of_pid(me).unwrap();
        assert!(u.peak_rss > 0);
        let tree = Usage::of_process_tree(me).unwrap();
        assert!(tree.cpu >= u.cpu && tree.peak_rss >= u.peak_rss);
        assert!(alive(me as i32));
        assert!(family_of(me as i32).contains(&(me as i32)));
        let entry = processes().into_iter().find(|p| p.pid == me as i32);
        assert!(entry.is_some_and(|p| !p.zombie && p.cmdline.contains("nexthop_test_support")));
        assert!(Usage::of_this_thread().peak_rss > 0);
    }

    #[test]
    fn addresses_read_back_as_written() {
        for a in [
            "127.0.0.61:179",
            "[::1]:1790",
            "[2001:db8::1]:65535",
            "0.0.0.0:0",
        ] {
            let a: SocketAddr = a.parse().unwrap();
            assert_eq!(parse_proc_net(&proc_net_address(a), a.is_ipv6()), Some(a));
        }
        // As the kernel writes 127.0.0.1:179 on a little-endian machine.
        if cfg!(target_endian = "little") {
            assert_eq!(
                proc_net_address("127.0.0.1:179".parse().unwrap()),
                "0100007F:00B3"
            );
        }
    }
}
