//! The small configuration model every daemon driver renders into its own config
//! language, and the daemon-neutral view of what a daemon received.
//!
//! Addresses are checked against the workplace rules: speakers live on 127.0.0.0/8
//! (never 127.0.0.1 as a local address), next hops inside BGP come from
//! 198.51.100.0/24 or 2001:db8::/32, prefixes from 198.18.0.0/15 or 2001:db8::/32.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::{Error, Result};

/// An address family the session negotiates (RFC 4760 AFI/SAFI).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// AFI 1, SAFI 1.
    Ipv4Unicast,
    /// AFI 2, SAFI 1.
    Ipv6Unicast,
}

impl Family {
    /// Both, IPv4 first: the order drivers render and query them in.
    pub const ALL: [Family; 2] = [Family::Ipv4Unicast, Family::Ipv6Unicast];

    /// The AFI's name in the daemons' command languages: `ipv4`, `ipv6`.
    pub fn afi(self) -> &'static str {
        match self {
            Family::Ipv4Unicast => "ipv4",
            Family::Ipv6Unicast => "ipv6",
        }
    }

    /// The family a prefix belongs to.
    pub fn of(prefix: &Prefix) -> Family {
        if prefix.addr.is_ipv4() {
            Family::Ipv4Unicast
        } else {
            Family::Ipv6Unicast
        }
    }
}

/// ADD-PATH (RFC 7911) mode advertised to a neighbour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddPath {
    /// Receive several paths per prefix.
    Receive,
    /// Send several paths per prefix.
    Send,
    /// Both.
    Both,
}

impl AddPath {
    /// True when this side receives several paths.
    pub fn receives(self) -> bool {
        matches!(self, AddPath::Receive | AddPath::Both)
    }
    /// True when this side sends several paths.
    pub fn sends(self) -> bool {
        matches!(self, AddPath::Send | AddPath::Both)
    }
    /// The one of `receive`, `send`, `both` that names this mode: a daemon's
    /// word for it.
    pub fn pick<T>(self, receive: T, send: T, both: T) -> T {
        match self {
            AddPath::Receive => receive,
            AddPath::Send => send,
            AddPath::Both => both,
        }
    }
}

/// An IP prefix, `198.18.2.0/24` or `2001:db8:2::/48`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Prefix {
    /// Network address.
    pub addr: IpAddr,
    /// Prefix length in bits.
    pub len: u8,
}

impl Prefix {
    /// Parses `addr/len`; panics on a malformed literal (for test code).
    pub fn new(s: &str) -> Prefix {
        s.parse()
            .unwrap_or_else(|e| panic!("bad prefix literal {s:?}: {e}"))
    }
    /// True for an IPv6 prefix.
    pub fn is_v6(&self) -> bool {
        self.addr.is_ipv6()
    }
}

impl FromStr for Prefix {
    type Err = Error;
    fn from_str(s: &str) -> Result<Prefix> {
        let (a, l) = s
            .split_once('/')
            .ok_or_else(|| Error::new(format!("prefix {s:?} has no '/'")))?;
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| Error::new(format!("prefix {s:?}: bad address")))?;
        let len: u8 = l
            .trim()
            .parse()
            .map_err(|_| Error::new(format!("prefix {s:?}: bad length")))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if len > max {
            return Err(Error::new(format!("prefix {s:?}: length over {max}")));
        }
        Ok(Prefix { addr, len })
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// A standard community (RFC 1997) as `asn:value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Community(pub u16, pub u16);

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.0, self.1)
    }
}

impl Community {
    /// From the 32-bit wire value.
    pub fn from_u32(v: u32) -> Community {
        Community((v >> 16) as u16, v as u16)
    }
}

/// A large community (RFC 8092) as `global:local1:local2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LargeCommunity(pub u32, pub u32, pub u32);

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.0, self.1, self.2)
    }
}

/// A route a daemon originates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The prefix.
    pub prefix: Prefix,
    /// NEXT_HOP to send; `None` uses the speaker's `next_hop_v4`/`next_hop_v6`.
    pub next_hop: Option<IpAddr>,
    /// COMMUNITIES.
    pub communities: Vec<Community>,
    /// LARGE_COMMUNITY.
    pub large_communities: Vec<LargeCommunity>,
}

impl Route {
    /// A route for `prefix` (a literal such as `"198.18.2.0/24"`).
    pub fn new(prefix: &str) -> Route {
        Route {
            prefix: Prefix::new(prefix),
            next_hop: None,
            communities: Vec::new(),
            large_communities: Vec::new(),
        }
    }
    /// Adds a community.
    pub fn community(mut self, asn: u16, value: u16) -> Route {
        self.communities.push(Community(asn, value));
        self
    }
    /// Adds a large community.
    pub fn large_community(mut self, g: u32, l1: u32, l2: u32) -> Route {
        self.large_communities.push(LargeCommunity(g, l1, l2));
        self
    }
    /// Sets the next hop of this route.
    pub fn next_hop(mut self, nh: IpAddr) -> Route {
        self.next_hop = Some(nh);
        self
    }
}

/// A BGP neighbour of a daemon under test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Neighbor {
    /// Its address (127.0.0.0/8).
    pub address: Ipv4Addr,
    /// Its TCP port.
    pub port: u16,
    /// Its AS; equal to the local AS makes the session iBGP.
    pub asn: u32,
    /// Only accept connections, never connect.
    pub passive: bool,
    /// Treat it as a route-reflector client (RFC 4456).
    pub rr_client: bool,
    /// Treat it as a route-server client (RFC 7947): our AS not prepended, next
    /// hop and MED passed on unchanged. eBGP only.
    pub rs_client: bool,
    /// ADD-PATH mode offered to it.
    pub add_path: Option<AddPath>,
    /// Families negotiated.
    pub families: Vec<Family>,
    /// Hold time offered (seconds).
    pub hold_time: u16,
}

impl Neighbor {
    /// An active neighbour on port 179 with both unicast families and a 90 s hold time.
    pub fn new(address: Ipv4Addr, asn: u32) -> Neighbor {
        Neighbor {
            address,
            port: 179,
            asn,
            passive: false,
            rr_client: false,
            rs_client: false,
            add_path: None,
            families: vec![Family::Ipv4Unicast, Family::Ipv6Unicast],
            hold_time: 90,
        }
    }
    /// Only accept its connections.
    pub fn passive(mut self) -> Neighbor {
        self.passive = true;
        self
    }
    /// Connect to it on `port`.
    pub fn port(mut self, port: u16) -> Neighbor {
        self.port = port;
        self
    }
    /// Reflect routes to it.
    pub fn rr_client(mut self) -> Neighbor {
        self.rr_client = true;
        self
    }
    /// Serve it as a route server (RFC 7947).
    pub fn rs_client(mut self) -> Neighbor {
        self.rs_client = true;
        self
    }
    /// Offer ADD-PATH.
    pub fn add_path(mut self, mode: AddPath) -> Neighbor {
        self.add_path = Some(mode);
        self
    }
    /// Negotiate only these families.
    pub fn families(mut self, families: &[Family]) -> Neighbor {
        self.families = families.to_vec();
        self
    }
    /// Offer this hold time.
    pub fn hold_time(mut self, seconds: u16) -> Neighbor {
        self.hold_time = seconds;
        self
    }
    /// True when this neighbour negotiates `family`.
    pub fn has(&self, family: Family) -> bool {
        self.families.contains(&family)
    }
    /// The AFI names (`ipv4`, `ipv6`) of the families it negotiates, IPv4 first.
    pub fn afis(&self) -> impl Iterator<Item = &'static str> + '_ {
        Family::ALL
            .into_iter()
            .filter(|f| self.has(*f))
            .map(Family::afi)
    }
    /// True for an iBGP session with a speaker of AS `local_asn`.
    pub fn is_ibgp(&self, local_asn: u32) -> bool {
        self.asn == local_asn
    }
}

/// The configuration of one daemon under test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpeakerConfig {
    /// Address it binds and listens on (127.0.0.0/8, not 127.0.0.1).
    pub local_address: Ipv4Addr,
    /// Port it listens on.
    pub port: u16,
    /// Its AS.
    pub asn: u32,
    /// Its BGP identifier.
    pub router_id: Ipv4Addr,
    /// Cluster id when it reflects routes.
    pub cluster_id: Option<Ipv4Addr>,
    /// Its neighbours.
    pub neighbors: Vec<Neighbor>,
    /// Routes it originates from the start.
    pub routes: Vec<Route>,
    /// NEXT_HOP it sends for IPv4 routes it originates (198.51.100.0/24).
    pub next_hop_v4: Option<Ipv4Addr>,
    /// NEXT_HOP it sends for IPv6 routes it originates (2001:db8::/32).
    pub next_hop_v6: Option<Ipv6Addr>,
    /// Seconds between connection attempts.
    pub connect_retry: u16,
    /// Announce and honour graceful restart (RFC 4724). Off by default, so that a
    /// killed peer's routes go at once instead of being kept as stale.
    pub graceful_restart: bool,
}

impl SpeakerConfig {
    /// A speaker on `local_address:179` with router id `192.0.2.<last octet>` and
    /// next hops `198.51.100.<last octet>` and `2001:db8::<last octet, in hex digits
    /// that read as the decimal octet>`.
    pub fn new(local_address: Ipv4Addr, asn: u32) -> SpeakerConfig {
        let o = local_address.octets()[3];
        SpeakerConfig {
            local_address,
            port: 179,
            asn,
            router_id: Ipv4Addr::new(192, 0, 2, o),
            cluster_id: None,
            neighbors: Vec::new(),
            routes: Vec::new(),
            next_hop_v4: Some(Ipv4Addr::new(198, 51, 100, o)),
            // 127.0.0.42 -> 2001:db8::42: the last group reads like the octet.
            next_hop_v6: Some(Ipv6Addr::new(
                0x2001,
                0xdb8,
                0,
                0,
                0,
                0,
                0,
                u16::from_str_radix(&o.to_string(), 16).unwrap_or(0),
            )),
            connect_retry: 2,
            graceful_restart: false,
        }
    }
    /// Adds a neighbour.
    pub fn neighbor(mut self, n: Neighbor) -> SpeakerConfig {
        self.neighbors.push(n);
        self
    }
    /// Adds a route to originate.
    pub fn route(mut self, r: Route) -> SpeakerConfig {
        self.routes.push(r);
        self
    }
    /// Sets the cluster id (route reflection).
    pub fn cluster_id(mut self, id: Ipv4Addr) -> SpeakerConfig {
        self.cluster_id = Some(id);
        self
    }
    /// Turns graceful restart (RFC 4724) on or off.
    pub fn graceful_restart(mut self, on: bool) -> SpeakerConfig {
        self.graceful_restart = on;
        self
    }
    /// Sets the router id.
    pub fn router_id(mut self, id: Ipv4Addr) -> SpeakerConfig {
        self.router_id = id;
        self
    }
    /// Originates `route` in place of any route for its prefix.
    pub fn set_route(&mut self, route: Route) {
        self.remove_route(route.prefix);
        self.routes.push(route);
    }
    /// Stops originating `prefix`.
    pub fn remove_route(&mut self, prefix: Prefix) {
        self.routes.retain(|r| r.prefix != prefix);
    }
    /// The neighbour at `address`.
    pub fn find_neighbor(&self, address: Ipv4Addr) -> Result<&Neighbor> {
        self.neighbors
            .iter()
            .find(|n| n.address == address)
            .ok_or_else(|| Error::new(format!("{address} is not a configured neighbour")))
    }
    /// The next hop `route` is sent with.
    pub fn next_hop_of(&self, route: &Route) -> Option<IpAddr> {
        route.next_hop.or(if route.prefix.is_v6() {
            self.next_hop_v6.map(IpAddr::V6)
        } else {
            self.next_hop_v4.map(IpAddr::V4)
        })
    }

    /// Checks the workplace rules on addresses; every driver calls it before start.
    pub fn validate(&self) -> Result<()> {
        if !self.local_address.is_loopback() || self.local_address == Ipv4Addr::LOCALHOST {
            return Err(Error::new(format!(
                "local address {} must be in 127.0.0.0/8 and not 127.0.0.1",
                self.local_address
            )));
        }
        for n in &self.neighbors {
            if !n.address.is_loopback() {
                return Err(Error::new(format!(
                    "neighbour {} is not a loopback address",
                    n.address
                )));
            }
            if n.address == self.local_address && n.port == self.port {
                return Err(Error::new(format!(
                    "neighbour {} is the speaker itself",
                    n.address
                )));
            }
        }
        if let Some(nh) = self.next_hop_v4 {
            check_next_hop(IpAddr::V4(nh))?;
        }
        if let Some(nh) = self.next_hop_v6 {
            check_next_hop(IpAddr::V6(nh))?;
        }
        for r in &self.routes {
            check_route(r)?;
        }
        Ok(())
    }
}

/// Checks a route against the documentation ranges.
pub fn check_route(r: &Route) -> Result<()> {
    let ok = match r.prefix.addr {
        IpAddr::V4(a) => {
            let o = a.octets();
            o[0] == 198 && (o[1] == 18 || o[1] == 19) && r.prefix.len >= 15
        }
        IpAddr::V6(a) => {
            a.segments()[0] == 0x2001 && a.segments()[1] == 0xdb8 && r.prefix.len >= 32
        }
    };
    if !ok {
        return Err(Error::new(format!(
            "prefix {} is outside 198.18.0.0/15 and 2001:db8::/32",
            r.prefix
        )));
    }
    if let Some(nh) = r.next_hop {
        check_next_hop(nh)?;
    }
    Ok(())
}

fn check_next_hop(nh: IpAddr) -> Result<()> {
    let ok = match nh {
        IpAddr::V4(a) => a.octets()[..3] == [198, 51, 100],
        IpAddr::V6(a) => a.segments()[0] == 0x2001 && a.segments()[1] == 0xdb8,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::new(format!(
            "next hop {nh} is outside 198.51.100.0/24 and 2001:db8::/32"
        )))
    }
}

/// BGP FSM state of a session (RFC 4271 §8.2.2), as a daemon reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Idle.
    Idle,
    /// Connect.
    Connect,
    /// Active.
    Active,
    /// OpenSent.
    OpenSent,
    /// OpenConfirm.
    OpenConfirm,
    /// Established.
    Established,
    /// Anything else the daemon printed (down, start, unknown neighbour...).
    Other(String),
}

impl SessionState {
    /// Maps a daemon's spelling (case-insensitive) to a state.
    pub fn parse(s: &str) -> SessionState {
        match s.trim().to_ascii_lowercase().as_str() {
            "idle" => SessionState::Idle,
            "connect" => SessionState::Connect,
            "active" => SessionState::Active,
            "opensent" => SessionState::OpenSent,
            "openconfirm" => SessionState::OpenConfirm,
            "established" | "establ" => SessionState::Established,
            other => SessionState::Other(other.to_string()),
        }
    }
}

/// One path a daemon received from a neighbour, with its attributes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceivedRoute {
    /// The prefix (NLRI).
    pub prefix: Option<Prefix>,
    /// ADD-PATH path identifier, where the daemon shows it.
    pub path_id: Option<u32>,
    /// NEXT_HOP (or the global address of MP_REACH's next hop).
    pub next_hop: Option<IpAddr>,
    /// AS_PATH flattened (AS_SET members in order).
    pub as_path: Vec<u32>,
    /// COMMUNITIES, sorted.
    pub communities: Vec<Community>,
    /// LARGE_COMMUNITY, sorted.
    pub large_communities: Vec<LargeCommunity>,
    /// ORIGINATOR_ID (RFC 4456).
    pub originator_id: Option<Ipv4Addr>,
    /// CLUSTER_LIST (RFC 4456), in order.
    pub cluster_list: Vec<Ipv4Addr>,
    /// LOCAL_PREF.
    pub local_pref: Option<u32>,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
}

impl ReceivedRoute {
    /// The prefix; every driver sets it.
    pub fn prefix(&self) -> Prefix {
        self.prefix
            .expect("driver left a received route without prefix")
    }
    pub(crate) fn normalize(&mut self) {
        self.communities.sort();
        self.large_communities.sort();
    }
}

/// Message counters of one direction of a session, as GoBGP and FRR report them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MessageCounts {
    /// UPDATE messages.
    pub update: u64,
    /// ROUTE-REFRESH messages.
    pub refresh: u64,
    /// NOTIFICATION messages.
    pub notification: u64,
    /// OPEN messages.
    pub open: u64,
}

/// Parses `a:b` into a community.
pub fn parse_community(s: &str) -> Option<Community> {
    let (a, b) = s.trim().split_once(':')?;
    Some(Community(a.trim().parse().ok()?, b.trim().parse().ok()?))
}

/// Parses `a:b:c` into a large community.
pub fn parse_large_community(s: &str) -> Option<LargeCommunity> {
    let mut it = s.trim().split(':').map(|p| p.trim().parse::<u32>());
    let c = LargeCommunity(it.next()?.ok()?, it.next()?.ok()?, it.next()?.ok()?);
    if it.next().is_some() { None } else { Some(c) }
}

/// Parses a space-separated AS path, ignoring set/confed brackets.
pub fn parse_as_path(s: &str) -> Vec<u32> {
    s.split(|c: char| c.is_whitespace() || "{}[](),".contains(c))
        .filter_map(|t| t.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_round_trip() {
        assert_eq!(Prefix::new("198.18.2.0/24").to_string(), "198.18.2.0/24");
        assert_eq!(
            Prefix::new("2001:db8:2::/48").to_string(),
            "2001:db8:2::/48"
        );
        assert!("198.18.2.0/33".parse::<Prefix>().is_err());
        assert!("198.18.2.0".parse::<Prefix>().is_err());
    }

    #[test]
    fn communities_parse() {
        assert_eq!(parse_community("65002:1"), Some(Community(65002, 1)));
        assert_eq!(Community::from_u32(4259971073), Community(65002, 1));
        assert_eq!(
            parse_large_community("65002:1:2"),
            Some(LargeCommunity(65002, 1, 2))
        );
        assert_eq!(parse_large_community("65002:1"), None);
        assert_eq!(
            parse_as_path("65002 {65003 65004}"),
            vec![65002, 65003, 65004]
        );
    }

    #[test]
    fn rules_on_addresses_are_enforced() {
        let lo = Ipv4Addr::new(127, 0, 0, 2);
        assert!(SpeakerConfig::new(lo, 65002).validate().is_ok());
        assert!(
            SpeakerConfig::new(Ipv4Addr::LOCALHOST, 65002)
                .validate()
                .is_err()
        );
        assert!(
            SpeakerConfig::new(Ipv4Addr::new(10, 0, 0, 1), 65002)
                .validate()
                .is_err()
        );
        let c =
            SpeakerConfig::new(lo, 65002).neighbor(Neighbor::new(Ipv4Addr::new(10, 0, 0, 1), 1));
        assert!(c.validate().is_err());
        let c = SpeakerConfig::new(lo, 65002).route(Route::new("10.0.0.0/8"));
        assert!(c.validate().is_err());
        let c = SpeakerConfig::new(lo, 65002)
            .route(Route::new("198.18.0.0/24").next_hop("127.0.0.9".parse().unwrap()));
        assert!(c.validate().is_err());
        let c = SpeakerConfig::new(lo, 65002).route(Route::new("2001:db8:1::/48"));
        assert!(c.validate().is_ok());
    }
}
