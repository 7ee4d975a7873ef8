//! The TOML configuration of nexthopd (and of any runtime driving the speaker),
//! and its validation.
//!
//! Parsing is two steps: serde reads the file into raw, span-carrying structs
//! (unknown keys and wrong types are refused there, with their line), then
//! [`Config::from_toml`] checks every value against the RFCs and the daemon's limits.
//! Every error names the key and the line; nothing starts on an invalid config.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;

/// The default BGP port (RFC 4271 §8.2.1.2... the IANA assignment).
pub const BGP_PORT: u16 = 179;
/// Longest TCP-MD5 key the kernel takes (`TCP_MD5SIG_MAXKEYLEN`).
pub const MD5_KEY_MAX: usize = 80;

/// A configuration error: which key, on which line, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path of the key, e.g. `neighbor[1].hold_time`; empty for a syntax error.
    pub key: String,
    /// 1-based line of the value, where known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.key.is_empty()) {
            (Some(l), false) => write!(f, "line {l}: {}: {}", self.key, self.message),
            (Some(l), true) => write!(f, "line {l}: {}", self.message),
            (None, false) => write!(f, "{}: {}", self.key, self.message),
            (None, true) => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Which I/O runtime drives the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// The portable mio reactor.
    Mio,
    /// The Linux io_uring loop.
    Uring,
}

impl RuntimeKind {
    /// Every runtime.
    pub const ALL: [RuntimeKind; 2] = [RuntimeKind::Mio, RuntimeKind::Uring];

    /// Its name in the config file: `mio`, `uring`.
    pub const fn name(self) -> &'static str {
        match self {
            RuntimeKind::Mio => "mio",
            RuntimeKind::Uring => "uring",
        }
    }
}

/// ADD-PATH directions for a neighbour (RFC 7911 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddPath {
    /// We receive several paths per prefix.
    Receive,
    /// We send several paths per prefix.
    Send,
    /// Both.
    Both,
}

impl AddPath {
    /// Every direction.
    pub const ALL: [AddPath; 3] = [AddPath::Receive, AddPath::Send, AddPath::Both];

    /// Its name in the config file: `receive`, `send`, `both`.
    pub const fn name(self) -> &'static str {
        match self {
            AddPath::Receive => "receive",
            AddPath::Send => "send",
            AddPath::Both => "both",
        }
    }
}

/// An address family nexthop routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FamilyName {
    /// `ipv4-unicast`.
    Ipv4Unicast,
    /// `ipv6-unicast`.
    Ipv6Unicast,
}

impl FamilyName {
    /// Every family.
    pub const ALL: [FamilyName; 2] = [FamilyName::Ipv4Unicast, FamilyName::Ipv6Unicast];

    /// Its name in the config file: `ipv4-unicast`, `ipv6-unicast`.
    pub const fn name(self) -> &'static str {
        match self {
            FamilyName::Ipv4Unicast => "ipv4-unicast",
            FamilyName::Ipv6Unicast => "ipv6-unicast",
        }
    }
}

/// An IP prefix as written in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefix {
    /// The network address (host bits zero).
    pub addr: IpAddr,
    /// The prefix length.
    pub len: u8,
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// An entry of a prefix allow-list: a prefix, and the range of lengths of the more
/// specific prefixes it also allows (`198.18.0.0/15 le 24`, `10.0.0.0/8 ge 16 le 24`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixRule {
    /// The covering prefix.
    pub prefix: Prefix,
    /// Shortest length allowed (default: the prefix's own).
    pub ge: u8,
    /// Longest length allowed (default: the prefix's own).
    pub le: u8,
}

/// A community to attach: standard (RFC 1997) or large (RFC 8092).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Community {
    /// `ASN:VALUE`, 16 bits each.
    Standard(u32),
    /// `ASN:DATA1:DATA2`, 32 bits each.
    Large([u32; 3]),
}

/// `[router]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Router {
    /// Our AS number.
    pub asn: u32,
    /// Our BGP Identifier.
    pub router_id: Ipv4Addr,
    /// Addresses to listen on.
    pub listen: Vec<SocketAddr>,
    /// The I/O runtime, and whether the config named it.
    pub runtime: Option<RuntimeKind>,
    /// Route reflection cluster ID (RFC 4456 §7); the router ID when absent.
    pub cluster_id: Option<Ipv4Addr>,
}

/// Declares a config table with its own keys followed by the per-neighbour
/// keys `[[neighbor]]` and `[[dynamic_neighbor]]` share (one list; see
/// [`PeerOptions`]).
macro_rules! with_peer_options {
    ($(#[$meta:meta])* $name:ident { $($own:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $($own)*
            /// Hold time we offer, seconds (0, or 3 and more).
            pub hold_time: u16,
            /// Keepalive interval, seconds; at most a third of the hold time.
            pub keepalive_time: u16,
            /// DelayOpenTime, seconds; 0 disables DelayOpen.
            pub delay_open_time: u16,
            /// RFC 7947 route server client.
            pub route_server_client: bool,
            /// RFC 4456 route reflector client.
            pub route_reflector_client: bool,
            /// ADD-PATH directions.
            pub add_path: Option<AddPath>,
            /// Families to negotiate.
            pub families: Vec<FamilyName>,
            /// TCP-MD5 key (RFC 2385).
            pub md5_key: Option<String>,
            /// GTSM minimum TTL (RFC 5082).
            pub min_ttl: Option<u8>,
            /// Prefixes accepted from the peer; `None` accepts all.
            pub import: Option<Vec<PrefixRule>>,
            /// Prefixes sent to the peer; `None` sends all.
            pub export: Option<Vec<PrefixRule>>,
            /// MED to set on routes sent to the peer.
            pub med: Option<u32>,
            /// LOCAL_PREF to set on routes learned from the peer.
            pub local_pref: Option<u32>,
            /// Communities (standard or large) attached to routes sent to the peer.
            pub communities: Vec<Community>,
            /// Most prefixes accepted in each family before Cease 6/1 (RFC 4486).
            pub max_prefix: Option<u32>,
            /// Check that AS_PATH starts with the peer's AS (RFC 4271 §6.3).
            pub enforce_first_as: bool,
            /// Keep the routes as received, before import policy, for
            /// `show routes --received --pre-policy` (memory: one more copy of the
            /// peer's table).
            pub keep_received_routes: bool,
            /// MinRouteAdvertisementInterval in seconds (RFC 4271 §9.2.1.1); `None`: 0,
            /// changes are sent at the next loop turn (batched by what arrived in that
            /// turn), as BIRD and OpenBGPD do. RFC 4271 §10 suggests 30 s for eBGP and
            /// 5 s for iBGP: set them here to get them.
            pub mrai: Option<u16>,
            /// The IPv4 next hop this speaker advertises as itself to the peer ("next
            /// hop self"); default: `bind_addr`, else the session's local address.
            pub next_hop_v4: Option<Ipv4Addr>,
            /// The IPv6 next hop "self" (needed for IPv6 routes over an IPv4 session);
            /// default: `bind_addr`, else the session's local address when IPv6.
            pub next_hop_v6: Option<std::net::Ipv6Addr>,
        }
    };
}

with_peer_options!(
    /// `[[neighbor]]`.
    Neighbor {
        /// The peer's address.
        pub address: IpAddr,
        /// The peer's AS.
        pub remote_asn: u32,
        /// The peer's TCP port for outbound connections (default 179).
        pub port: u16,
        /// Wait for the peer to connect (RFC 4271 §8.1.1 PassiveTcpEstablishment).
        pub passive: bool,
        /// ConnectRetryTime, seconds.
        pub connect_retry_time: u16,
        /// IdleHoldTime, seconds (RFC 4271 §8.1.1 DampPeerOscillations base); 0
        /// waits ConnectRetryTime before a restart (core's restart delay).
        pub idle_hold_time: u16,
        /// Apply jitter to timers (RFC 4271 §10).
        pub jitter: bool,
        /// Local address to bind outbound connections to.
        pub bind_addr: Option<IpAddr>,
    }
);

/// `[[dynamic_neighbor]]`: peers accepted from a range of addresses. They take
/// the per-neighbour options of a `[[neighbor]]` ([`PeerOptions`]), so a range of
/// clients is not a weaker class of peer; a range is always passive, and the
/// keys of outbound connections (`address`, `port`, `passive`, `bind_addr`,
/// `connect_retry_time`, `idle_hold_time`, `jitter`) have no meaning for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicNeighbor {
    /// The range.
    pub prefix: Prefix,
    /// Their AS.
    pub remote_asn: u32,
    /// The options each session accepted from the range gets.
    pub options: PeerOptions,
}

with_peer_options!(
    /// The per-neighbour keys `[[neighbor]]` and `[[dynamic_neighbor]]` share:
    /// what a session accepted from a range gets, each with the meaning of the
    /// [`Neighbor`] field of the same name.
    PeerOptions {}
);

impl Neighbor {
    /// Its per-neighbour options, the keys a `[[dynamic_neighbor]]` shares.
    pub fn peer_options(&self) -> PeerOptions {
        PeerOptions {
            hold_time: self.hold_time,
            keepalive_time: self.keepalive_time,
            delay_open_time: self.delay_open_time,
            route_server_client: self.route_server_client,
            route_reflector_client: self.route_reflector_client,
            add_path: self.add_path,
            families: self.families.clone(),
            md5_key: self.md5_key.clone(),
            min_ttl: self.min_ttl,
            import: self.import.clone(),
            export: self.export.clone(),
            med: self.med,
            local_pref: self.local_pref,
            communities: self.communities.clone(),
            max_prefix: self.max_prefix,
            enforce_first_as: self.enforce_first_as,
            keep_received_routes: self.keep_received_routes,
            mrai: self.mrai,
            next_hop_v4: self.next_hop_v4,
            next_hop_v6: self.next_hop_v6,
        }
    }

    /// The neighbour at `address` with `options`, and the defaults of the keys
    /// of outbound connections: port 179, active, no bind address,
    /// ConnectRetryTime 120 s, IdleHoldTime 0, jitter.
    pub fn with_options(address: IpAddr, remote_asn: u32, options: PeerOptions) -> Neighbor {
        Neighbor {
            address,
            remote_asn,
            port: BGP_PORT,
            passive: false,
            hold_time: options.hold_time,
            keepalive_time: options.keepalive_time,
            connect_retry_time: 120,
            idle_hold_time: 0,
            delay_open_time: options.delay_open_time,
            jitter: true,
            route_server_client: options.route_server_client,
            route_reflector_client: options.route_reflector_client,
            add_path: options.add_path,
            families: options.families,
            bind_addr: None,
            md5_key: options.md5_key,
            min_ttl: options.min_ttl,
            import: options.import,
            export: options.export,
            med: options.med,
            local_pref: options.local_pref,
            communities: options.communities,
            max_prefix: options.max_prefix,
            enforce_first_as: options.enforce_first_as,
            keep_received_routes: options.keep_received_routes,
            mrai: options.mrai,
            next_hop_v4: options.next_hop_v4,
            next_hop_v6: options.next_hop_v6,
        }
    }
}

/// Where the control API listens when `[control] socket` is not given.
pub const DEFAULT_CONTROL_SOCKET: &str = "/run/nexthopd/nexthopd.sock";

/// Longest Unix socket path (`sun_path` is 108 bytes with its NUL).
pub const CONTROL_SOCKET_MAX: usize = 107;

/// `[control]`: where the control API (`/v1`, `/metrics`) is served. Read at
/// start: a reload that changes it takes effect at the next start
/// ([`crate::ReloadSummary::control_changed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    /// The Unix socket (created 0660, its directory created).
    pub socket: std::path::PathBuf,
    /// Also serve over TCP here (read-only requests and `/metrics`, unless
    /// `allow_write_over_tcp`).
    pub listen: Option<SocketAddr>,
    /// Serve actions (POST) over TCP too.
    pub allow_write_over_tcp: bool,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            socket: DEFAULT_CONTROL_SOCKET.into(),
            listen: None,
            allow_write_over_tcp: false,
        }
    }
}

/// `[[originate]]`: a prefix we announce ourselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Originate {
    /// The prefix.
    pub prefix: Prefix,
    /// Its NEXT_HOP, of the prefix's family; `None`: the router's own address on
    /// each session.
    pub next_hop: Option<IpAddr>,
    /// COMMUNITIES (RFC 1997), each `ASN:VALUE` as 32 bits.
    pub communities: Vec<u32>,
    /// LARGE_COMMUNITY values (RFC 8092), `ASN:DATA1:DATA2`.
    pub large_communities: Vec<[u32; 3]>,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `[router]`.
    pub router: Router,
    /// `[[neighbor]]`.
    pub neighbors: Vec<Neighbor>,
    /// `[[dynamic_neighbor]]`.
    pub dynamic_neighbors: Vec<DynamicNeighbor>,
    /// `[[originate]]`.
    pub originate: Vec<Originate>,
    /// `[control]`.
    pub control: Control,
}

pub mod file;
mod parse;
mod text;

#[cfg(test)]
use parse::{parse_community, parse_prefix_rule};

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
