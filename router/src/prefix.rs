//! IP prefixes as the RIB keys them (RFC 4271 §4.3 NLRI, RFC 4760 §5 for IPv6),
//! and the prefix-length ranges (`ge`/`le`) that prefix allow-lists match with.
//!
//! These are owned, compact keys (5 and 17 bytes); the wire layer converts core's
//! NLRI views into them. A prefix type stands for its family: [`PerFamily`]
//! holds one value per family, and generic code picks its own with the prefix
//! type.

use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

use nexthop_core::wire::Family;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IPv4 prefix: address with the host bits cleared, and length 0..=32.
/// Ordered by address, then length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv4Prefix {
    addr: [u8; 4],
    len: u8,
}

/// An IPv6 prefix: address with the host bits cleared, and length 0..=128.
/// Ordered by address, then length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv6Prefix {
    addr: [u8; 16],
    len: u8,
}

/// A prefix of either family, for configuration and policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpPrefix {
    /// IPv4.
    V4(Ipv4Prefix),
    /// IPv6.
    V6(Ipv6Prefix),
}

/// Error of prefix construction or parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixError;

impl fmt::Display for PrefixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid prefix")
    }
}

impl std::error::Error for PrefixError {}

// The order is that of the address octets then the length (what a derive would
// give), compared as one integer: the RIB's ordered maps compare keys on every
// lookup.
impl Ipv4Prefix {
    fn sort_key(&self) -> u64 {
        (u64::from(u32::from_be_bytes(self.addr)) << 8) | u64::from(self.len)
    }
}

impl Ord for Ipv4Prefix {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for Ipv4Prefix {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ipv6Prefix {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (u128::from_be_bytes(self.addr), self.len)
            .cmp(&(u128::from_be_bytes(other.addr), other.len))
    }
}

impl PartialOrd for Ipv6Prefix {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

fn mask_bytes<const N: usize>(mut addr: [u8; N], len: u8) -> [u8; N] {
    for (i, b) in addr.iter_mut().enumerate() {
        let bit = (i * 8) as u32;
        let len = u32::from(len);
        if len <= bit {
            *b = 0;
        } else if len < bit + 8 {
            *b &= 0xffu8 << (8 - (len - bit));
        }
    }
    addr
}

impl Ipv4Prefix {
    /// The prefix `addr/len`, host bits cleared; `None` if `len > 32`.
    pub fn new(addr: Ipv4Addr, len: u8) -> Option<Self> {
        (len <= 32).then(|| Ipv4Prefix {
            addr: mask_bytes(addr.octets(), len),
            len,
        })
    }
    /// The network address.
    pub fn addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.addr)
    }
}

impl Ipv6Prefix {
    /// The prefix `addr/len`, host bits cleared; `None` if `len > 128`.
    pub fn new(addr: Ipv6Addr, len: u8) -> Option<Self> {
        (len <= 128).then(|| Ipv6Prefix {
            addr: mask_bytes(addr.octets(), len),
            len,
        })
    }
    /// The network address.
    pub fn addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.addr)
    }
}

/// What the RIB, policy and encoder need of a prefix type.
pub trait RoutePrefix: Copy + Eq + Hash + Ord + fmt::Debug + Send + Sync + 'static {
    /// Whether it is an IPv6 prefix (carried in MP_REACH_NLRI, RFC 4760) rather
    /// than IPv4 (the UPDATE's own NLRI fields).
    const IPV6: bool;
    /// Builds a prefix from `len` and the first `ceil(len/8)` address octets as
    /// NLRI carries them (RFC 4271 §4.3); `None` if the length is too long.
    fn from_nlri(len: u8, octets: &[u8]) -> Option<Self>;
    /// Prefix length in bits.
    fn prefix_len(&self) -> u8;
    /// The address octets in network order (4 or 16 of them).
    fn octets(&self) -> &[u8];
    /// The family-independent form, for policy.
    fn to_ip_prefix(self) -> IpPrefix;
    /// The family's unicast AFI/SAFI (RFC 4760).
    const FAMILY: Family;
    /// This family's entry of a [`PerFamily`].
    fn select<K: FamilyKind>(f: &PerFamily<K>) -> &K::Of<Self>;
    /// This family's entry of a [`PerFamily`], mutable.
    fn select_mut<K: FamilyKind>(f: &mut PerFamily<K>) -> &mut K::Of<Self>;
}

/// What is kept per family, as a type constructor: `Of<P>` is the state of the
/// family whose prefix type is `P` (a `Rib<P>`, a group's `GroupFamily<P>`, ...).
pub trait FamilyKind {
    /// The state of `P`'s family.
    type Of<P: RoutePrefix>;
}

/// The same type `T` in every family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Same<T>(PhantomData<T>);

impl<T> FamilyKind for Same<T> {
    type Of<P: RoutePrefix> = T;
}

/// One `K::Of<P>` for each family the router carries, IPv4 and IPv6 unicast
/// (RFC 4760: AFI 1 and 2, SAFI 1). Code over a family is written once, generic
/// over its prefix type `P`, and reaches its own entry with
/// [`PerFamily::get`]; each family's code is compiled on its own
/// (monomorphic), the choice of field made at compile time.
pub struct PerFamily<K: FamilyKind> {
    /// IPv4 unicast.
    pub ipv4: K::Of<Ipv4Prefix>,
    /// IPv6 unicast.
    pub ipv6: K::Of<Ipv6Prefix>,
}

impl<K: FamilyKind> PerFamily<K> {
    /// `P`'s family's entry.
    #[inline(always)]
    pub fn get<P: RoutePrefix>(&self) -> &K::Of<P> {
        P::select(self)
    }

    /// `P`'s family's entry, mutable.
    #[inline(always)]
    pub fn get_mut<P: RoutePrefix>(&mut self) -> &mut K::Of<P> {
        P::select_mut(self)
    }
}

impl<T: Copy> PerFamily<Same<T>> {
    /// `value` in every family.
    pub const fn both(value: T) -> Self {
        PerFamily {
            ipv4: value,
            ipv6: value,
        }
    }
}

impl<K: FamilyKind> Default for PerFamily<K>
where
    K::Of<Ipv4Prefix>: Default,
    K::Of<Ipv6Prefix>: Default,
{
    fn default() -> Self {
        PerFamily {
            ipv4: Default::default(),
            ipv6: Default::default(),
        }
    }
}

impl<K: FamilyKind> Clone for PerFamily<K>
where
    K::Of<Ipv4Prefix>: Clone,
    K::Of<Ipv6Prefix>: Clone,
{
    fn clone(&self) -> Self {
        PerFamily {
            ipv4: self.ipv4.clone(),
            ipv6: self.ipv6.clone(),
        }
    }
}

impl<K: FamilyKind> Copy for PerFamily<K>
where
    K::Of<Ipv4Prefix>: Copy,
    K::Of<Ipv6Prefix>: Copy,
{
}

impl<K: FamilyKind> fmt::Debug for PerFamily<K>
where
    K::Of<Ipv4Prefix>: fmt::Debug,
    K::Of<Ipv6Prefix>: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerFamily")
            .field("ipv4", &self.ipv4)
            .field("ipv6", &self.ipv6)
            .finish()
    }
}

impl<K: FamilyKind> PartialEq for PerFamily<K>
where
    K::Of<Ipv4Prefix>: PartialEq,
    K::Of<Ipv6Prefix>: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        self.ipv4 == other.ipv4 && self.ipv6 == other.ipv6
    }
}

impl<K: FamilyKind> Eq for PerFamily<K>
where
    K::Of<Ipv4Prefix>: Eq,
    K::Of<Ipv6Prefix>: Eq,
{
}

impl<K: FamilyKind> Hash for PerFamily<K>
where
    K::Of<Ipv4Prefix>: Hash,
    K::Of<Ipv6Prefix>: Hash,
{
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.ipv4.hash(state);
        self.ipv6.hash(state);
    }
}

impl RoutePrefix for Ipv4Prefix {
    const IPV6: bool = false;
    const FAMILY: Family = Family::IPV4_UNICAST;
    #[inline(always)]
    fn select<K: FamilyKind>(f: &PerFamily<K>) -> &K::Of<Self> {
        &f.ipv4
    }
    #[inline(always)]
    fn select_mut<K: FamilyKind>(f: &mut PerFamily<K>) -> &mut K::Of<Self> {
        &mut f.ipv4
    }
    fn from_nlri(len: u8, octets: &[u8]) -> Option<Self> {
        let mut a = [0u8; 4];
        let n = usize::from(len).div_ceil(8);
        a.get_mut(..n)?.copy_from_slice(octets.get(..n)?);
        Ipv4Prefix::new(Ipv4Addr::from(a), len)
    }
    fn prefix_len(&self) -> u8 {
        self.len
    }
    fn octets(&self) -> &[u8] {
        &self.addr
    }
    fn to_ip_prefix(self) -> IpPrefix {
        IpPrefix::V4(self)
    }
}

impl RoutePrefix for Ipv6Prefix {
    const IPV6: bool = true;
    const FAMILY: Family = Family::IPV6_UNICAST;
    #[inline(always)]
    fn select<K: FamilyKind>(f: &PerFamily<K>) -> &K::Of<Self> {
        &f.ipv6
    }
    #[inline(always)]
    fn select_mut<K: FamilyKind>(f: &mut PerFamily<K>) -> &mut K::Of<Self> {
        &mut f.ipv6
    }
    fn from_nlri(len: u8, octets: &[u8]) -> Option<Self> {
        let mut a = [0u8; 16];
        let n = usize::from(len).div_ceil(8);
        a.get_mut(..n)?.copy_from_slice(octets.get(..n)?);
        Ipv6Prefix::new(Ipv6Addr::from(a), len)
    }
    fn prefix_len(&self) -> u8 {
        self.len
    }
    fn octets(&self) -> &[u8] {
        &self.addr
    }
    fn to_ip_prefix(self) -> IpPrefix {
        IpPrefix::V6(self)
    }
}

impl IpPrefix {
    /// Prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        match self {
            IpPrefix::V4(p) => p.len,
            IpPrefix::V6(p) => p.len,
        }
    }

    /// Whether `other` lies within this prefix (same family, at least as long, and
    /// equal in this prefix's leading bits).
    pub fn covers(&self, other: &IpPrefix) -> bool {
        fn covers<const N: usize>(a: &[u8; N], alen: u8, b: &[u8; N], blen: u8) -> bool {
            blen >= alen && mask_bytes(*b, alen) == *a
        }
        match (self, other) {
            (IpPrefix::V4(a), IpPrefix::V4(b)) => covers(&a.addr, a.len, &b.addr, b.len),
            (IpPrefix::V6(a), IpPrefix::V6(b)) => covers(&a.addr, a.len, &b.addr, b.len),
            _ => false,
        }
    }
}

impl From<Ipv4Prefix> for IpPrefix {
    fn from(p: Ipv4Prefix) -> Self {
        IpPrefix::V4(p)
    }
}

impl From<Ipv6Prefix> for IpPrefix {
    fn from(p: Ipv6Prefix) -> Self {
        IpPrefix::V6(p)
    }
}

impl fmt::Display for Ipv4Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr(), self.len)
    }
}

impl fmt::Display for Ipv6Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr(), self.len)
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpPrefix::V4(p) => p.fmt(f),
            IpPrefix::V6(p) => p.fmt(f),
        }
    }
}

impl FromStr for IpPrefix {
    type Err = PrefixError;
    /// `192.0.2.0/24` or `2001:db8::/32`; host bits must be clear.
    fn from_str(s: &str) -> Result<Self, PrefixError> {
        let (addr, len) = s.split_once('/').ok_or(PrefixError)?;
        let len: u8 = len.parse().map_err(|_| PrefixError)?;
        let addr: IpAddr = addr.parse().map_err(|_| PrefixError)?;
        let p = match addr {
            IpAddr::V4(a) => IpPrefix::V4(Ipv4Prefix::new(a, len).ok_or(PrefixError)?),
            IpAddr::V6(a) => IpPrefix::V6(Ipv6Prefix::new(a, len).ok_or(PrefixError)?),
        };
        let same = match (p, addr) {
            (IpPrefix::V4(p), IpAddr::V4(a)) => p.addr() == a,
            (IpPrefix::V6(p), IpAddr::V6(a)) => p.addr() == a,
            _ => false,
        };
        same.then_some(p).ok_or(PrefixError)
    }
}

impl FromStr for Ipv4Prefix {
    type Err = PrefixError;
    fn from_str(s: &str) -> Result<Self, PrefixError> {
        match s.parse()? {
            IpPrefix::V4(p) => Ok(p),
            IpPrefix::V6(_) => Err(PrefixError),
        }
    }
}

impl FromStr for Ipv6Prefix {
    type Err = PrefixError;
    fn from_str(s: &str) -> Result<Self, PrefixError> {
        match s.parse()? {
            IpPrefix::V6(p) => Ok(p),
            IpPrefix::V4(_) => Err(PrefixError),
        }
    }
}

/// A prefix with a length range, as prefix lists write it: `10.0.0.0/8 ge 16 le 24`
/// matches every prefix inside 10.0.0.0/8 whose length is 16..=24. Without `ge`/`le`
/// it matches the prefix exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PrefixRange {
    /// The covering prefix.
    pub prefix: IpPrefix,
    /// Shortest matching length (`ge`); defaults to the prefix's own length.
    pub ge: u8,
    /// Longest matching length (`le`): the family's maximum when only `ge` is given,
    /// else the prefix's own length.
    pub le: u8,
}

impl PrefixRange {
    /// Exactly `prefix`.
    pub fn exact(prefix: IpPrefix) -> Self {
        PrefixRange {
            prefix,
            ge: prefix.prefix_len(),
            le: prefix.prefix_len(),
        }
    }

    /// `prefix ge ge le le`, where a missing `ge` is the prefix's length and a missing
    /// `le` is the family's maximum if `ge` is given, else the prefix's length.
    pub fn new(prefix: IpPrefix, ge: Option<u8>, le: Option<u8>) -> Self {
        let max = match prefix {
            IpPrefix::V4(_) => 32,
            IpPrefix::V6(_) => 128,
        };
        let ge_v = ge.unwrap_or(prefix.prefix_len()).max(prefix.prefix_len());
        let le_v = match (ge, le) {
            (_, Some(le)) => le.min(max),
            (Some(_), None) => max,
            (None, None) => prefix.prefix_len(),
        };
        PrefixRange {
            prefix,
            ge: ge_v,
            le: le_v,
        }
    }

    /// Whether `p` lies in the range.
    pub fn matches(&self, p: &IpPrefix) -> bool {
        (self.ge..=self.le).contains(&p.prefix_len()) && self.prefix.covers(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The integer comparison orders as the octets then the length would.
    #[test]
    fn order_is_octets_then_length() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let (r1, r2) = (next(), next());
            // Nearby addresses and lengths, so ties on the address are common.
            let a4 = Ipv4Prefix::new(
                Ipv4Addr::from((r1 as u32) & 0xff00_ff00),
                (r1 >> 40) as u8 % 33,
            )
            .unwrap();
            let b4 = Ipv4Prefix::new(
                Ipv4Addr::from((r2 as u32) & 0xff00_ff00),
                (r2 >> 40) as u8 % 33,
            )
            .unwrap();
            assert_eq!(
                a4.cmp(&b4),
                (a4.octets(), a4.len).cmp(&(b4.octets(), b4.len))
            );
            let a6 = Ipv6Prefix::new(
                Ipv6Addr::from(u128::from(r1 & 0xff0f) << 100),
                (r1 >> 32) as u8 % 129,
            )
            .unwrap();
            let b6 = Ipv6Prefix::new(
                Ipv6Addr::from(u128::from(r2 & 0xff0f) << 100),
                (r2 >> 32) as u8 % 129,
            )
            .unwrap();
            assert_eq!(
                a6.cmp(&b6),
                (a6.octets(), a6.len).cmp(&(b6.octets(), b6.len))
            );
        }
    }

    #[test]
    fn host_bits_are_cleared_and_parse_rejects_them() {
        let p = Ipv4Prefix::new(Ipv4Addr::new(10, 1, 2, 3), 12).unwrap();
        assert_eq!(p.to_string(), "10.0.0.0/12");
        assert!("10.1.0.0/12".parse::<IpPrefix>().is_err());
        assert!("10.0.0.0/33".parse::<IpPrefix>().is_err());
        assert_eq!(
            "2001:db8::/32".parse::<IpPrefix>().unwrap().to_string(),
            "2001:db8::/32"
        );
    }

    #[test]
    fn ranges_match_by_cover_and_length() {
        let p: IpPrefix = "10.0.0.0/8".parse().unwrap();
        let r = PrefixRange::new(p, Some(16), Some(24));
        assert!(r.matches(&"10.1.0.0/16".parse().unwrap()));
        assert!(r.matches(&"10.1.2.0/24".parse().unwrap()));
        assert!(!r.matches(&"10.1.2.0/25".parse().unwrap()));
        assert!(!r.matches(&"10.0.0.0/8".parse().unwrap()));
        assert!(!r.matches(&"11.1.0.0/16".parse().unwrap()));
        assert!(PrefixRange::exact(p).matches(&p));
        let ge = PrefixRange::new(p, Some(24), None);
        assert!(ge.matches(&"10.9.9.9/32".parse().unwrap()));
        let v6: IpPrefix = "2001:db8::/32".parse().unwrap();
        assert!(!PrefixRange::new(v6, None, Some(128)).matches(&p));
    }
}
