//! Test harness that drives real BGP daemons on loopback addresses: BIRD 2, GoBGP,
//! FRR bgpd, OpenBGPD and ExaBGP (Debian packages; `scripts/install-peers`).
//!
//! Each driver renders a [`SpeakerConfig`] into the daemon's own config language,
//! starts it in a per-test [`RunDir`] as a guard that stops it (and all it forked)
//! by PID on drop, waits until its control interface answers, and offers the
//! queries of the [`Speaker`] trait: session state and received routes per
//! neighbour, adding and withdrawing routes at run time, route refresh, kill -9
//! and restart. [`ExaBgp`] doubles as an independent decoder (its JSON API), and
//! [`Capture`] as a third one (tshark on `lo`). Nothing here sends traffic outside
//! 127.0.0.0/8: sessions are on loopback addresses and next hops are documentation
//! addresses (198.51.100.0/24, 2001:db8::/32) that are only attribute values.
//!
//! ```no_run
//! use nexthop_interop::*;
//! # fn main() -> Result<()> {
//! require(&["bird", "birdc"]);
//! let run = RunDir::new("my_test")?;
//! let me = "127.0.0.2".parse().unwrap(); // where nexthopd listens and binds
//! let bird_addr = "127.0.0.3".parse().unwrap();
//! let cfg = SpeakerConfig::new(bird_addr, 65003)
//!     .neighbor(Neighbor::new(me, 65002).passive())
//!     .route(Route::new("198.18.3.0/24").community(65003, 1).large_community(65003, 1, 2));
//! let bird = Bird::start(&run, cfg)?;
//! // ... start nexthopd with neighbor 127.0.0.3, bind_addr 127.0.0.2 ...
//! bird.wait_established(me, WAIT)?;
//! let r = bird.wait_route(me, Prefix::new("198.18.2.0/24"), WAIT)?;
//! assert_eq!(r.as_path, vec![65002]);
//! # Ok(()) }
//! ```
//!
//! # Pointing a daemon at nexthopd
//! What the drivers generate, and what nexthopd's side must match:
//! - every speaker has its own 127.0.0.x address (never 127.0.0.1, which other
//!   processes may hold on port 179) and binds it strictly; nexthopd must **bind
//!   its outgoing connections** to its own address (`bind_addr`): the kernel picks
//!   127.0.0.1 as source for any 127.x destination, and every daemon matches a
//!   connection to a neighbour by its source address;
//! - BIRD: `local A as N; neighbor B as M; strict bind; multihop;` plus a private
//!   `igp table` where 198.51.100.0/24 and 2001:db8::/32 are reachable via `lo`
//!   (else received routes stay unreachable and are not passed on);
//! - GoBGP: `local-address` per neighbour, gRPC API on `A:50051`, an export policy
//!   `set-next-hop = "unchanged"` so that the next hop given to `global rib add`
//!   is sent instead of 127.x; after a session drop it refuses connections for a
//!   few seconds (idle hold);
//! - FRR: `bgpd -Z -l A`, `no bgp ebgp-requires-policy`, `no bgp network
//!   import-check`, `update-source`, `disable-connected-check`, `bgp route-map
//!   delay-timer 0` and `coalesce-time 0` (else the first UPDATE waits ~5 s),
//!   route-maps defined before `router bgp`, and `attribute-unchanged next-hop` on
//!   eBGP; it sends a speaker's own routes back to it;
//! - OpenBGPD: `listen on A`, `local-address A`, `fib-update no`, `multihop 64` on
//!   eBGP with `match to any set nexthop no-modify`: then it sends the next hop set
//!   on its networks, not its own 127.x address;
//! - ExaBGP: environment `exabgp.tcp.bind=A` (else it never listens);
//! - graceful restart is off in every driver by default: with it on, BIRD keeps a
//!   killed peer's routes as stale instead of withdrawing them.

#![warn(missing_docs)]

use std::fmt;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

mod bird;
mod capture;
mod driver;
mod exabgp;
mod frr;
mod gobgp;
mod model;
pub mod nexthopd;
mod openbgpd;
mod scenario;

pub use bird::Bird;
pub use capture::{Capture, WireMessage};
pub use exabgp::{ExaBgp, ExaMessage};
pub use frr::Frr;
pub use gobgp::GoBgp;
pub use model::{
    AddPath, Community, Family, LargeCommunity, MessageCounts, Neighbor, Prefix, ReceivedRoute,
    Route, SessionState, SpeakerConfig,
};
pub use nexthop_test_support::process::{Daemon, RunDir};
pub use nexthopd::Nexthopd;
pub use openbgpd::OpenBgpd;

/// What went wrong while driving a daemon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    /// An error with this message.
    pub fn new(msg: impl Into<String>) -> Error {
        Error(msg.into())
    }
    pub(crate) fn io(path: &Path, e: std::io::Error) -> Error {
        Error(format!("{}: {e}", path.display()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<nexthop_test_support::Error> for Error {
    fn from(e: nexthop_test_support::Error) -> Error {
        Error(e.to_string())
    }
}

/// Result of the harness.
pub type Result<T> = std::result::Result<T, Error>;

/// Default bound on waits for a session or a route: only a test that would
/// otherwise hang fails on it; it is not a performance threshold.
pub const WAIT: Duration = Duration::from_secs(30);

/// How long to wait for a session to come back after a peer was killed and
/// restarted. Daemons back off after a peer's failures (OpenBGPD doubles its idle
/// hold time, GoBGP refuses connections for a while after a reset), so on a loaded
/// machine this takes longer than [`WAIT`]; the bound only keeps a broken run from
/// hanging.
pub const RESTART_WAIT: Duration = Duration::from_secs(150);

/// Polls `condition` every 50 ms until it holds or `timeout` has passed.
pub fn wait_until(
    timeout: Duration,
    what: &str,
    mut condition: impl FnMut() -> bool,
) -> Result<()> {
    wait_for(timeout, what, || condition().then_some(()))
}

/// Polls `probe` every 50 ms until it returns a value or `timeout` has passed.
pub fn wait_for<T>(
    timeout: Duration,
    what: &str,
    mut probe: impl FnMut() -> Option<T>,
) -> Result<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = probe() {
            return Ok(v);
        }
        if start.elapsed() >= timeout {
            return Err(Error::new(format!(
                "timed out after {timeout:?} waiting for {what}"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// What a peer did with a bare TCP connection (see [`probe_connection`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The connection was refused (nothing listens).
    Refused,
    /// Accepted, then closed; carries the bytes received before the close.
    Closed(Vec<u8>),
    /// Still open when the probe gave up; carries what was received.
    Open(Vec<u8>),
}

/// Opens a TCP connection from `from` (a 127.x address, port chosen by the kernel)
/// to `to`, sends nothing, and reads until the peer closes or `timeout` passes.
/// Shows whether a speaker closes a connection from an unconfigured address.
pub fn probe_connection(
    from: Ipv4Addr,
    to: std::net::SocketAddrV4,
    timeout: Duration,
) -> Result<Probe> {
    use std::io::Read;
    use std::net::{IpAddr, SocketAddr};
    if !from.is_loopback() || !to.ip().is_loopback() {
        return Err(Error::new("probe_connection: loopback addresses only"));
    }
    let to = SocketAddr::V4(to);
    let stream =
        match nexthop_test_support::RawPeer::connect(IpAddr::V4(from), to, &Default::default()) {
            Ok(peer) => peer.into_parts().0,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                return Ok(Probe::Refused);
            }
            Err(e) => return Err(Error::new(format!("connect {from} -> {to}: {e}"))),
        };
    let mut stream = stream;
    let end = Instant::now() + timeout;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Probe::Open(got));
        }
        stream
            .set_read_timeout(Some(left))
            .map_err(|e| Error::new(format!("set_read_timeout: {e}")))?;
        match stream.read(&mut buf) {
            Ok(0) => return Ok(Probe::Closed(got)),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(Probe::Open(got));
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Ok(Probe::Closed(got));
            }
            Err(e) => return Err(Error::new(format!("read: {e}"))),
        }
    }
}

/// Panics with a clear message unless this process is root and every program in
/// `programs` is on PATH (or an absolute path that exists). Interop tests call it
/// first: they fail, locally as in CI, where the daemons are missing
/// (`scripts/install-peers` installs them).
pub fn require(programs: &[&str]) {
    assert!(
        nexthop_test_support::is_root(),
        "interop tests need root (daemons bind 127.0.0.x:179 and switch users); run as root"
    );
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| !nexthop_test_support::installed(p))
        .collect();
    assert!(
        missing.is_empty(),
        "interop tests need {missing:?}, which are not installed: run scripts/install-peers \
         (packages bird2 gobgpd frr openbgpd exabgp)"
    );
}

/// What a test does with any of the daemons. Implemented by the drivers of this
/// crate only (its supertrait is private): the lifecycle methods are written once,
/// here, over the driver's shared instance.
pub trait Speaker: driver::Originate {
    /// State of the session with `neighbor`.
    fn session_state(&self, neighbor: Ipv4Addr) -> Result<SessionState>;
    /// Paths received from `neighbor`, both families.
    fn received_routes(&self, neighbor: Ipv4Addr) -> Result<Vec<ReceivedRoute>>;
    /// Asks `neighbor` to send its routes again (ROUTE-REFRESH, RFC 2918).
    fn request_refresh(&self, neighbor: Ipv4Addr) -> Result<()>;

    /// Originates `route` at run time, in place of any route for its prefix;
    /// a restart keeps it.
    fn announce(&mut self, route: Route) -> Result<()> {
        model::check_route(&route)?;
        self.originate(&route)?;
        self.instance_mut().cfg.set_route(route);
        Ok(())
    }
    /// Stops originating `prefix` at run time; a restart keeps it withdrawn.
    fn withdraw(&mut self, prefix: Prefix) -> Result<()> {
        self.stop_originating(prefix)?;
        self.instance_mut().cfg.remove_route(prefix);
        Ok(())
    }
    /// A short name for messages (`bird@127.0.0.2`).
    fn name(&self) -> String {
        self.instance().name()
    }
    /// The PID of the process it was started as, while it runs (the root of
    /// its process tree, unless it daemonizes).
    fn pid(&self) -> Option<u32> {
        self.instance().daemon().map(|d| d.pid() as u32)
    }
    /// The configuration it runs.
    fn config(&self) -> &SpeakerConfig {
        &self.instance().cfg
    }
    /// SIGKILL to the daemon (and what it forked): a crash, no NOTIFICATION.
    fn kill9(&mut self) {
        self.instance_mut().kill9();
    }
    /// Starts it again with its current configuration after `kill9` or `stop`.
    fn restart(&mut self) -> Result<()> {
        self.stop();
        self.launch()
    }
    /// Stops it with SIGTERM (then SIGKILL): what Drop does.
    fn stop(&mut self) {
        self.instance_mut().stop();
    }
    /// The end of its log, for failure messages.
    fn log_tail(&self) -> String {
        self.instance().log_tail()
    }

    /// Waits until the session with `neighbor` is Established.
    fn wait_established(&self, neighbor: Ipv4Addr, timeout: Duration) -> Result<()> {
        let mut last = None;
        wait_until(timeout, "Established", || {
            let s = self.session_state(neighbor);
            let ok = s == Ok(SessionState::Established);
            last = Some(s);
            ok
        })
        .map_err(|e| self.explain(e, &format!("session with {neighbor}: last state {last:?}")))
    }

    /// Waits until the session with `neighbor` is anything but Established.
    fn wait_not_established(&self, neighbor: Ipv4Addr, timeout: Duration) -> Result<()> {
        wait_until(timeout, "session down", || {
            !matches!(self.session_state(neighbor), Ok(SessionState::Established))
        })
        .map_err(|e| self.explain(e, &format!("session with {neighbor} stays up")))
    }

    /// Waits until `neighbor` sent `n` paths for `prefix`; returns them.
    fn wait_paths(
        &self,
        neighbor: Ipv4Addr,
        prefix: Prefix,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<ReceivedRoute>> {
        let mut last = Vec::new();
        let what = format!("{n} path(s) for {prefix} from {neighbor}");
        wait_for(timeout, &what, || {
            let got: Vec<ReceivedRoute> = self
                .received_routes(neighbor)
                .ok()?
                .into_iter()
                .filter(|r| r.prefix == Some(prefix))
                .collect();
            let ok = got.len() == n;
            last = got.clone();
            ok.then_some(got)
        })
        .map_err(|e| self.explain(e, &format!("last seen: {last:?}")))
    }

    /// Waits until `neighbor` sent one path for `prefix`; returns it.
    fn wait_route(
        &self,
        neighbor: Ipv4Addr,
        prefix: Prefix,
        timeout: Duration,
    ) -> Result<ReceivedRoute> {
        Ok(self.wait_paths(neighbor, prefix, 1, timeout)?.remove(0))
    }

    /// Waits until `neighbor` has no path for `prefix`.
    fn wait_no_route(&self, neighbor: Ipv4Addr, prefix: Prefix, timeout: Duration) -> Result<()> {
        self.wait_paths(neighbor, prefix, 0, timeout).map(|_| ())
    }

    /// Adds the daemon's name and log tail to an error.
    fn explain(&self, e: Error, context: &str) -> Error {
        Error::new(format!(
            "{}: {e}; {context}\n--- log of {} ---\n{}",
            self.name(),
            self.name(),
            self.log_tail()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn require_fails_loudly_when_a_daemon_is_missing() {
        let e = std::panic::catch_unwind(|| require(&["nexthop-interop-no-such-daemon"]))
            .expect_err("a missing daemon fails the test");
        let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
        // The root check comes first; as root the missing program is named.
        let want = if nexthop_test_support::is_root() {
            "nexthop-interop-no-such-daemon\"], which are not installed"
        } else {
            "need root"
        };
        assert!(msg.contains(want), "{msg}");
        if nexthop_test_support::is_root() {
            require(&["sh", "/bin/sh"]);
        }
    }

    #[test]
    fn probe_sees_refusal_close_and_silence() {
        use std::io::Write;
        use std::net::{SocketAddrV4, TcpListener};
        let a = Ipv4Addr::new(127, 0, 0, 60);
        let l = TcpListener::bind(SocketAddrV4::new(a, 0)).unwrap();
        let std::net::SocketAddr::V4(addr) = l.local_addr().unwrap() else {
            unreachable!()
        };
        let t = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            drop(s); // closed at once
            let (mut s, _) = l.accept().unwrap();
            s.write_all(b"hi").unwrap();
            std::thread::sleep(Duration::from_millis(800));
            let _ = (l, s);
        });
        let d = Duration::from_millis(400);
        assert_eq!(probe_connection(a, addr, d), Ok(Probe::Closed(Vec::new())));
        assert_eq!(
            probe_connection(a, addr, d),
            Ok(Probe::Open(b"hi".to_vec()))
        );
        t.join().unwrap();
        assert_eq!(probe_connection(a, addr, d), Ok(Probe::Refused));
        assert!(probe_connection(Ipv4Addr::new(10, 0, 0, 1), addr, d).is_err());
    }

    #[test]
    fn wait_until_is_bounded() {
        let t = Instant::now();
        let e = wait_until(Duration::from_millis(120), "never", || false).unwrap_err();
        assert!(e.to_string().contains("never"));
        assert!(t.elapsed() >= Duration::from_millis(120));
        let mut n = 0;
        assert_eq!(
            wait_for(Duration::from_secs(5), "third call", || {
                n += 1;
                (n == 3).then_some(n)
            }),
            Ok(3)
        );
    }
}
