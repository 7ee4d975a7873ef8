//! Loopback addresses and ports a test can use without a lock: a port the
//! kernel hands out on a given address, and a 127.x.y.z address that no TCP
//! socket uses, so that a test may take a fixed port (179) on it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::procfs::bound_addresses;
use crate::{Error, Result};

/// A TCP port free on `ip` now: bound with port 0 and released. Another
/// process may take it before the caller binds it; tests on distinct
/// addresses (see [`free_loopback_v4`]) do not race for it.
pub fn free_port(ip: IpAddr) -> Result<u16> {
    TcpListener::bind(SocketAddr::new(ip, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|source| Error::Io {
            context: format!("binding {ip}:0"),
            source,
        })
}

/// Addresses handed out by this process so far.
static HANDED_OUT: AtomicU32 = AtomicU32::new(0);

/// A loopback address no TCP socket uses (in /proc/net/tcp), in
/// 127.128.0.0/9 and picked from this process's PID, so that concurrent test
/// processes start far apart; each call gives another one.
pub fn free_loopback_v4() -> Result<Ipv4Addr> {
    let used: Vec<IpAddr> = bound_addresses().into_iter().map(|a| a.ip()).collect();
    // 2^23 addresses less .0 and .255 of each /24: room for every PID.
    let base = std::process::id().wrapping_mul(2_654_435_761) % (1 << 23);
    for _ in 0..1024 {
        let n = (base + HANDED_OUT.fetch_add(1, Ordering::Relaxed) * 7) % (1 << 23);
        let [_, b, c, d] = n.to_be_bytes();
        if d == 0 || d == 255 {
            continue;
        }
        let a = Ipv4Addr::new(127, 128 | b, c, d);
        if !used.contains(&IpAddr::V4(a)) {
            return Ok(a);
        }
    }
    Err(Error::Io {
        context: "looking for a free loopback address".into(),
        source: std::io::Error::from(std::io::ErrorKind::AddrInUse),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_port_and_address_can_be_bound() {
        let a = free_loopback_v4().unwrap();
        let b = free_loopback_v4().unwrap();
        assert_ne!(a, b);
        for ip in [a, b] {
            assert!(ip.is_loopback() && ip.octets()[1] >= 128, "{ip}");
            let port = free_port(IpAddr::V4(ip)).unwrap();
            assert_ne!(port, 0);
            TcpListener::bind((ip, port)).unwrap();
        }
    }
}
