//! What a run does ([`Scenario`]), what it tells while it runs ([`Progress`])
//! and what it found ([`Report`]).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::routes::PrefixPlan;

/// A load test: simulated peers on loopback against one device under test.
///
/// Peer `i` (senders first, then receivers) speaks from [`Scenario::peer_addr`]
/// with AS [`Scenario::peer_asn`]; a DUT's config is generated from these.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The device under test.
    pub dut: SocketAddr,
    /// The peers' AS: all of them on iBGP; on eBGP peer `i` has `local_asn + i`.
    pub local_asn: u32,
    /// The DUT's AS (checked in its OPEN).
    pub dut_asn: u32,
    /// Peers that announce routes.
    pub senders: u32,
    /// Peers that count routes.
    pub receivers: u32,
    /// IPv4 prefixes per sender.
    pub prefixes: u32,
    /// IPv6 prefixes per sender (MP_REACH_NLRI, RFC 4760).
    pub ipv6_prefixes: u32,
    /// iBGP (the DUT as route reflector) or eBGP (route server).
    pub ibgp: bool,
    /// Advertise ADD-PATH send and receive (RFC 7911).
    pub add_path: bool,
    /// Share of each sender's prefixes that the next sender also announces
    /// (0: disjoint; 1: all senders announce the same prefixes).
    pub overlap: f64,
    /// Share of each sender's prefixes withdrawn once every receiver is complete.
    pub withdraw: f64,
    /// Most prefixes in one UPDATE; `None` packs each UPDATE to 4096 octets.
    pub per_update: Option<u32>,
    /// IPv4 prefix base and length instead of the automatic plan (see
    /// [`crate::routes`]).
    pub prefix_base: Option<(Ipv4Addr, u8)>,
    /// Next hop of sender 0; sender `s` uses the `s`-th address after it
    /// within its /24 (198.51.100.1 by default; never 127/8).
    pub next_hop: Ipv4Addr,
    /// Address of peer 0; the others follow (skipping .0 and .255).
    pub peer_base: Ipv4Addr,
    /// Peers wait for the DUT to connect to them, on their own address and the
    /// DUT's port, instead of connecting.
    pub passive: bool,
    /// Hold time to offer, in seconds.
    pub hold_time: u16,
    /// Between two sessions' starts (zero: all at once). A DUT with a short
    /// listen backlog (BIRD's is 8) drops SYNs of simultaneous connections,
    /// which TCP retries after 1, 3, 7 s.
    pub connect_interval: Duration,
    /// Pause between all sessions Established and the first UPDATE.
    pub start_delay: Duration,
    /// How long to keep the sessions up once the run is complete (for idle CPU).
    pub hold: Duration,
    /// Give up after this long.
    pub timeout: Duration,
    /// Seed of the attribute generator.
    pub seed: u64,
    /// With overlapping iBGP senders (no ADD-PATH), also wait for every
    /// receiver to hold every prefix's final best path (the sender with the
    /// shortest AS_PATH, see [`crate::routes`]); a run is complete only then.
    /// Off for a DUT that does not select best paths (the built-in reflector
    /// passes on whatever came last).
    pub final_paths: bool,
}

impl Scenario {
    /// One iBGP sender of 10,000 prefixes and one receiver, AS 65000 on both
    /// sides, peers from 127.0.0.100.
    pub fn new(dut: SocketAddr) -> Self {
        Scenario {
            dut,
            local_asn: 65000,
            dut_asn: 65000,
            senders: 1,
            receivers: 1,
            prefixes: 10_000,
            ipv6_prefixes: 0,
            ibgp: true,
            add_path: false,
            overlap: 0.0,
            withdraw: 0.0,
            per_update: None,
            prefix_base: None,
            next_hop: Ipv4Addr::new(198, 51, 100, 1),
            peer_base: Ipv4Addr::new(127, 0, 0, 100),
            passive: false,
            hold_time: 90,
            connect_interval: Duration::ZERO,
            start_delay: Duration::ZERO,
            hold: Duration::ZERO,
            timeout: Duration::from_secs(600),
            seed: 1,
            final_paths: true,
        }
    }

    /// Senders plus receivers.
    pub fn peers(&self) -> u32 {
        self.senders + self.receivers
    }

    /// Peer `i`'s address: the `i`-th after `peer_base`, skipping host parts
    /// .0 and .255.
    pub fn peer_addr(&self, i: u32) -> Ipv4Addr {
        let mut a = self.peer_base.to_bits();
        for _ in 0..i {
            a = a.wrapping_add(1);
            while a & 0xff == 0 || a & 0xff == 255 {
                a = a.wrapping_add(1);
            }
        }
        Ipv4Addr::from_bits(a)
    }

    /// Peer `i`'s AS.
    pub fn peer_asn(&self, i: u32) -> u32 {
        if self.ibgp {
            self.local_asn
        } else {
            self.local_asn + i
        }
    }

    /// Whether peer `i` is a sender.
    pub fn is_sender(&self, i: u32) -> bool {
        i < self.senders
    }

    /// Sender `s`'s IPv4 next hop.
    pub fn sender_next_hop(&self, s: u32) -> Ipv4Addr {
        let b = self.next_hop.to_bits();
        let host = (b & 0xff) + s;
        let host = if host > 254 {
            1 + (host - 1) % 254
        } else {
            host
        };
        Ipv4Addr::from_bits((b & !0xff) | host)
    }

    /// Sender `s`'s IPv6 next hop: 2001:db8::1 + `s` (RFC 3849).
    pub fn sender_next_hop_v6(&self, s: u32) -> Ipv6Addr {
        Ipv6Addr::from_bits((0x2001_0db8_u128 << 96) + 1 + u128::from(s))
    }

    /// The prefix plan of this scenario.
    pub fn plan(&self) -> Result<PrefixPlan, String> {
        let plan = PrefixPlan::new(
            self.senders,
            self.prefixes,
            self.ipv6_prefixes,
            self.overlap,
        );
        match self.prefix_base {
            Some((base, len)) => plan.with_v4(base, len),
            None => Ok(plan),
        }
    }

    /// Checks what can be checked before opening any socket.
    pub fn validate(&self) -> Result<(), String> {
        if self.next_hop.octets()[0] == 127 {
            return Err("next hop in 127/8: daemons refuse it".into());
        }
        if !self.peer_base.is_loopback() || !self.peer_addr(self.peers()).is_loopback() {
            return Err("peers must use loopback addresses (127/8)".into());
        }
        if !self.dut.ip().is_loopback() {
            return Err("the device under test must be on loopback".into());
        }
        if !self.ibgp && (0..self.peers()).any(|i| self.peer_asn(i) == self.dut_asn) {
            return Err("eBGP: the peers' ASes (local AS + i) include the DUT's".into());
        }
        if self.ibgp && self.local_asn != self.dut_asn {
            return Err("iBGP needs the DUT's AS as local AS".into());
        }
        self.plan().map(|_| ())
    }
}

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Opening sessions.
    Connecting,
    /// Senders are announcing; receivers count.
    Announcing,
    /// Senders are withdrawing; receivers count down.
    Withdrawing,
    /// Complete; sessions kept up for the hold time.
    Holding,
    /// Over.
    Done,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Connecting => "connecting",
            Phase::Announcing => "announcing",
            Phase::Withdrawing => "withdrawing",
            Phase::Holding => "holding",
            Phase::Done => "done",
        })
    }
}

/// A snapshot for progress bars, given about ten times a second and at each
/// change of phase.
#[derive(Clone, Debug)]
pub struct Progress {
    /// The phase.
    pub phase: Phase,
    /// Since the run started.
    pub elapsed: Duration,
    /// Sessions Established.
    pub established: u32,
    /// All sessions.
    pub sessions: u32,
    /// Prefixes each receiver must hold in this phase.
    pub expected: u32,
    /// Prefixes each receiver holds.
    pub received: Vec<u32>,
    /// Receivers that hold exactly the expected table.
    pub receivers_complete: u32,
    /// Bytes of UPDATEs the senders wrote, and of all their streams.
    pub sent_bytes: (u64, u64),
}

/// What a run measured. Times of the announcement phase count from the
/// senders' first UPDATE byte.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Sessions.
    pub sessions: u32,
    /// Senders.
    pub senders: u32,
    /// Receivers.
    pub receivers: u32,
    /// Distinct prefixes every receiver must hold.
    pub expected: u32,
    /// Distinct prefixes left after the withdrawal.
    pub expected_after_withdraw: Option<u32>,
    /// Encoding every sender's UPDATEs, before any session opens.
    pub encode_time: Duration,
    /// From the first connection attempt to all sessions Established.
    pub established: Option<Duration>,
    /// Every receiver held the full table (with the final best paths where
    /// tracked, and the reduced table after withdrawal).
    pub complete: bool,
    /// First prefix at any receiver.
    pub first_prefix: Option<Duration>,
    /// Last prefix counted at any receiver.
    pub last_prefix: Option<Duration>,
    /// Until the last receiver held the full table.
    pub convergence: Option<Duration>,
    /// Whether final best paths were tracked: an iBGP run without ADD-PATH
    /// whose senders' ranges overlap, their paths of decisive lengths
    /// ([`crate::routes::FinalLengths`]).
    pub final_tracked: bool,
    /// Until every receiver held every prefix with its final best path (the
    /// sender's of the strictly shortest AS_PATH); `None` if never, or not
    /// tracked.
    pub final_convergence: Option<Duration>,
    /// Until the senders had written everything.
    pub send_time: Option<Duration>,
    /// Routes counted over all receivers (expected x receivers when complete).
    pub routes_received: u64,
    /// `routes_received` per second of convergence.
    pub routes_per_sec: f64,
    /// When each receiver became complete.
    pub receiver_complete: Vec<Option<Duration>>,
    /// Prefixes each receiver held when the last one became complete.
    pub received_at_convergence: Vec<u32>,
    /// Prefixes each receiver held at the end.
    pub received: Vec<u32>,
    /// Prefixes of the plan the receivers already held before the first UPDATE
    /// was sent (summed): nonzero means the DUT kept routes of an earlier run.
    pub stale_prefixes: u64,
    /// From the first withdrawal byte to the last receiver at the reduced table.
    pub withdraw_convergence: Option<Duration>,
    /// UPDATE messages and bytes the senders wrote.
    pub updates_sent: u64,
    /// UPDATE bytes the senders wrote.
    pub bytes_sent: u64,
    /// UPDATE messages the receivers read.
    pub updates_received: u64,
    /// Bytes the receivers read.
    pub bytes_received: u64,
    /// Sessions that went down after being Established.
    pub session_drops: u32,
    /// Announcements of prefixes outside the plan.
    pub unexpected_prefixes: u64,
    /// UPDATEs that failed to parse.
    pub update_errors: u64,
    /// The load generator's CPU time over the whole run.
    pub cpu: Duration,
    /// Its CPU time from the first UPDATE byte to convergence.
    pub cpu_convergence: Duration,
    /// The process's peak RSS, bytes.
    pub peak_rss: u64,
    /// Wall time of the whole run.
    pub wall: Duration,
}

fn secs(d: Option<Duration>) -> serde_json::Value {
    d.map_or(serde_json::Value::Null, |d| d.as_secs_f64().into())
}

impl Report {
    /// The report as JSON; durations in seconds.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "sessions": self.sessions,
            "senders": self.senders,
            "receivers": self.receivers,
            "expected": self.expected,
            "expected_after_withdraw": self.expected_after_withdraw,
            "encode_secs": self.encode_time.as_secs_f64(),
            "established_secs": secs(self.established),
            "complete": self.complete,
            "first_prefix_secs": secs(self.first_prefix),
            "last_prefix_secs": secs(self.last_prefix),
            "convergence_secs": secs(self.convergence),
            "final_tracked": self.final_tracked,
            "final_convergence_secs": secs(self.final_convergence),
            "send_secs": secs(self.send_time),
            "routes_received": self.routes_received,
            "routes_per_sec": self.routes_per_sec,
            "receiver_complete_secs": self.receiver_complete.iter().map(|d| secs(*d)).collect::<Vec<_>>(),
            "received_at_convergence": self.received_at_convergence,
            "received": self.received,
            "stale_prefixes": self.stale_prefixes,
            "withdraw_convergence_secs": secs(self.withdraw_convergence),
            "updates_sent": self.updates_sent,
            "bytes_sent": self.bytes_sent,
            "updates_received": self.updates_received,
            "bytes_received": self.bytes_received,
            "session_drops": self.session_drops,
            "unexpected_prefixes": self.unexpected_prefixes,
            "update_errors": self.update_errors,
            "loadgen_cpu_secs": self.cpu.as_secs_f64(),
            "loadgen_cpu_convergence_secs": self.cpu_convergence.as_secs_f64(),
            "loadgen_peak_rss_bytes": self.peak_rss,
            "wall_secs": self.wall.as_secs_f64(),
        })
    }
}

fn show(d: Option<Duration>) -> String {
    d.map_or("-".into(), |d| format!("{:.3} s", d.as_secs_f64()))
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "sessions              {} ({} senders, {} receivers)",
            self.sessions, self.senders, self.receivers
        )?;
        writeln!(f, "complete              {}", self.complete)?;
        writeln!(
            f,
            "UPDATEs encoded in    {:.3} s",
            self.encode_time.as_secs_f64()
        )?;
        writeln!(f, "all Established after {}", show(self.established))?;
        writeln!(f, "expected prefixes     {}", self.expected)?;
        writeln!(f, "first prefix          {}", show(self.first_prefix))?;
        writeln!(f, "last prefix           {}", show(self.last_prefix))?;
        writeln!(f, "senders done          {}", show(self.send_time))?;
        writeln!(f, "convergence           {}", show(self.convergence))?;
        if self.final_tracked {
            writeln!(f, "final best path       {}", show(self.final_convergence))?;
        }
        writeln!(f, "routes received       {}", self.routes_received)?;
        writeln!(f, "routes/s              {:.0}", self.routes_per_sec)?;
        if let Some(n) = self.expected_after_withdraw {
            writeln!(f, "after withdrawal      {n} prefixes")?;
            writeln!(
                f,
                "withdraw convergence  {}",
                show(self.withdraw_convergence)
            )?;
        }
        writeln!(
            f,
            "updates sent/received {} / {}",
            self.updates_sent, self.updates_received
        )?;
        writeln!(
            f,
            "bytes sent/received   {} / {}",
            self.bytes_sent, self.bytes_received
        )?;
        writeln!(f, "session drops         {}", self.session_drops)?;
        writeln!(f, "unexpected prefixes   {}", self.unexpected_prefixes)?;
        if self.stale_prefixes > 0 {
            writeln!(
                f,
                "stale prefixes        {} (held before the first UPDATE)",
                self.stale_prefixes
            )?;
        }
        writeln!(f, "update errors         {}", self.update_errors)?;
        writeln!(
            f,
            "loadgen CPU           {:.3} s ({:.3} s during convergence)",
            self.cpu.as_secs_f64(),
            self.cpu_convergence.as_secs_f64()
        )?;
        writeln!(
            f,
            "loadgen peak RSS      {:.1} MiB",
            self.peak_rss as f64 / (1024.0 * 1024.0)
        )?;
        write!(f, "wall                  {:.3} s", self.wall.as_secs_f64())
    }
}

/// The IP of a peer as a socket address with port 0 (what peers bind).
pub(crate) fn bind_addr(ip: Ipv4Addr) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(ip), 0)
}
