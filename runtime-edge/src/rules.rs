//! Per-peer socket rules: the TCP-MD5 key (RFC 2385) and the GTSM minimum TTL
//! (RFC 5082 §3) for the peers in an address prefix. A configured neighbour is a
//! host prefix (/32, /128); a range of dynamic neighbours is a shorter one. The
//! longest prefix that holds an address decides, as the kernel decides between
//! TCP-MD5 keys.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An address prefix (`198.51.100.0/24`, `2001:db8::1/128`), its host bits zero.
/// An IPv4-mapped IPv6 prefix is kept as the IPv4 prefix it maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerPrefix {
    addr: IpAddr,
    len: u8,
}

/// A prefix length longer than its family's addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefixLengthError {
    /// The length asked for.
    pub len: u8,
    /// The family's longest (32 or 128).
    pub max: u8,
}

impl fmt::Display for PrefixLengthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "prefix length {} is longer than the address ({} bits)",
            self.len, self.max
        )
    }
}

impl std::error::Error for PrefixLengthError {}

fn max_len(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

impl PeerPrefix {
    /// The prefix of `len` bits of `addr` (host bits are cleared).
    pub fn new(addr: IpAddr, len: u8) -> Result<PeerPrefix, PrefixLengthError> {
        let (addr, len) = match addr {
            IpAddr::V6(a) if len >= 96 && a.to_ipv4_mapped().is_some() => {
                (IpAddr::V6(a).to_canonical(), len - 96)
            }
            a => (a, len),
        };
        let max = max_len(addr);
        if len > max {
            return Err(PrefixLengthError { len, max });
        }
        let addr = match addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask32(len))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask128(len))),
        };
        Ok(PeerPrefix { addr, len })
    }

    /// The one address `addr` (/32 or /128; an IPv4-mapped address as IPv4).
    pub fn host(addr: IpAddr) -> PeerPrefix {
        let addr = addr.to_canonical();
        PeerPrefix {
            addr,
            len: max_len(addr),
        }
    }

    /// The prefix's first address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// Its length in bits.
    pub fn length(&self) -> u8 {
        self.len
    }

    /// Whether it is one address.
    pub fn is_host(&self) -> bool {
        self.len == max_len(self.addr)
    }

    /// Whether `ip` (an IPv4-mapped address as IPv4) is in the prefix.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(p), IpAddr::V4(a)) => u32::from(a) & mask32(self.len) == u32::from(p),
            (IpAddr::V6(p), IpAddr::V6(a)) => u128::from(a) & mask128(self.len) == u128::from(p),
            _ => false,
        }
    }

    /// Whether `other` lies inside this prefix.
    pub fn covers(&self, other: &PeerPrefix) -> bool {
        other.len >= self.len && self.contains(other.addr)
    }
}

pub(crate) fn mask32(len: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(len.min(32)))
        .unwrap_or(0)
}

pub(crate) fn mask128(len: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(len.min(128)))
        .unwrap_or(0)
}

impl fmt::Display for PeerPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_host() {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.len)
        }
    }
}

/// The socket options of the peers in `prefix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerSocketRule {
    /// Which peers.
    pub prefix: PeerPrefix,
    /// TCP-MD5 key (RFC 2385), 1 to 80 bytes.
    pub md5_key: Option<Vec<u8>>,
    /// GTSM minimum TTL (hop limit for IPv6), RFC 5082 §3.
    pub min_ttl: Option<u8>,
}

impl PeerSocketRule {
    /// A rule for the one address `addr`.
    pub fn host(addr: IpAddr, md5_key: Option<Vec<u8>>, min_ttl: Option<u8>) -> PeerSocketRule {
        PeerSocketRule {
            prefix: PeerPrefix::host(addr),
            md5_key,
            min_ttl,
        }
    }
}

/// Rules by prefix, one per prefix; the longest prefix that holds an address is
/// its rule. A rule with neither a key nor a minimum TTL exempts its prefix from
/// a shorter one's GTSM check (the kernel has no such exemption for TCP-MD5: a
/// host inside a keyed range must sign).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerSocketRules {
    /// Longest prefix first, then by prefix.
    rules: Vec<PeerSocketRule>,
}

impl PeerSocketRules {
    /// No rules: no peer gets a key or a minimum TTL.
    pub fn new() -> PeerSocketRules {
        PeerSocketRules::default()
    }

    /// Adds `rule`, replacing (and returning) the rule of the same prefix.
    pub fn insert(&mut self, rule: PeerSocketRule) -> Option<PeerSocketRule> {
        let key = |r: &PeerSocketRule| (std::cmp::Reverse(r.prefix.len), r.prefix.addr);
        match self.rules.binary_search_by_key(&key(&rule), key) {
            Ok(i) => Some(std::mem::replace(&mut self.rules[i], rule)),
            Err(i) => {
                self.rules.insert(i, rule);
                None
            }
        }
    }

    /// The rule of `ip`: the longest prefix that holds it.
    pub fn lookup(&self, ip: IpAddr) -> Option<&PeerSocketRule> {
        let ip = ip.to_canonical();
        self.rules.iter().find(|r| r.prefix.contains(ip))
    }

    /// Every rule, longest prefix first.
    pub fn iter(&self) -> impl Iterator<Item = &PeerSocketRule> {
        self.rules.iter()
    }

    /// How many rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether any rule of the family asks for GTSM.
    pub fn any_min_ttl(&self, v6: bool) -> bool {
        self.rules
            .iter()
            .any(|r| r.prefix.addr.is_ipv6() == v6 && r.min_ttl.is_some())
    }
}

impl FromIterator<PeerSocketRule> for PeerSocketRules {
    fn from_iter<I: IntoIterator<Item = PeerSocketRule>>(iter: I) -> Self {
        let mut rules = PeerSocketRules::new();
        for r in iter {
            rules.insert(r);
        }
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn prefix(s: &str, len: u8) -> PeerPrefix {
        PeerPrefix::new(ip(s), len).unwrap()
    }

    #[test]
    fn a_prefix_clears_its_host_bits_and_maps_ipv4_mapped_addresses() {
        assert_eq!(prefix("192.0.2.77", 24).addr(), ip("192.0.2.0"));
        assert_eq!(prefix("2001:db8::ffff", 32).addr(), ip("2001:db8::"));
        let mapped = prefix("::ffff:192.0.2.1", 120);
        assert_eq!((mapped.addr(), mapped.length()), (ip("192.0.2.0"), 24));
        assert_eq!(
            PeerPrefix::host(ip("::ffff:10.0.0.1")).to_string(),
            "10.0.0.1"
        );
        assert_eq!(prefix("10.1.2.0", 24).to_string(), "10.1.2.0/24");
        assert_eq!(
            PeerPrefix::new(ip("10.0.0.0"), 33),
            Err(PrefixLengthError { len: 33, max: 32 })
        );
        assert_eq!(prefix("0.0.0.0", 0).addr(), ip("0.0.0.0"));
    }

    #[test]
    fn containment_keeps_to_the_family() {
        let p = prefix("10.1.0.0", 16);
        assert!(p.contains(ip("10.1.255.3")));
        assert!(p.contains(ip("::ffff:10.1.0.1")));
        assert!(!p.contains(ip("10.2.0.1")));
        assert!(!p.contains(ip("::a01:1")));
        assert!(prefix("0.0.0.0", 0).contains(ip("203.0.113.9")));
        assert!(!prefix("::", 0).contains(ip("203.0.113.9")));
        assert!(p.covers(&prefix("10.1.4.0", 24)));
        assert!(!prefix("10.1.4.0", 24).covers(&p));
    }

    #[test]
    fn the_longest_prefix_decides() {
        let rules: PeerSocketRules = [
            PeerSocketRule {
                prefix: prefix("127.0.1.0", 24),
                md5_key: None,
                min_ttl: Some(254),
            },
            PeerSocketRule::host(ip("127.0.1.9"), Some(b"k".to_vec()), None),
            PeerSocketRule {
                prefix: prefix("127.0.0.0", 8),
                md5_key: None,
                min_ttl: Some(200),
            },
        ]
        .into_iter()
        .collect();
        assert_eq!(
            rules.lookup(ip("127.0.1.9")).unwrap().md5_key.as_deref(),
            Some(&b"k"[..])
        );
        assert_eq!(rules.lookup(ip("127.0.1.8")).unwrap().min_ttl, Some(254));
        assert_eq!(rules.lookup(ip("127.9.0.1")).unwrap().min_ttl, Some(200));
        assert!(rules.lookup(ip("10.0.0.1")).is_none());
        let lens: Vec<u8> = rules.iter().map(|r| r.prefix.length()).collect();
        assert_eq!(lens, [32, 24, 8]);
        assert!(rules.any_min_ttl(false) && !rules.any_min_ttl(true));
    }

    #[test]
    fn a_rule_for_the_same_prefix_replaces_the_old_one() {
        let mut rules = PeerSocketRules::new();
        assert!(
            rules
                .insert(PeerSocketRule::host(ip("192.0.2.1"), None, Some(1)))
                .is_none()
        );
        let old = rules.insert(PeerSocketRule::host(ip("192.0.2.1"), None, Some(2)));
        assert_eq!(old.unwrap().min_ttl, Some(1));
        assert_eq!(rules.len(), 1);
        assert_eq!(rules.lookup(ip("192.0.2.1")).unwrap().min_ttl, Some(2));
    }
}
