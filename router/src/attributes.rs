//! Path attributes as the router keeps them (RFC 4271 §5, §4.3), owned and
//! interned: each distinct set is stored once, behind an [`AttrRef`], and shared by
//! every prefix and peer that uses it.
//!
//! The wire layer builds an [`Attributes`] from core's attribute views once per
//! UPDATE; the RIB then holds 8-byte references to the interned set.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Deref;
use std::sync::Arc;

use crate::as_path::{AsPath, merge_as4_aggregator};

/// ORIGIN (RFC 4271 §5.1.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// 0: IGP.
    #[default]
    Igp,
    /// 1: EGP.
    Egp,
    /// 2: INCOMPLETE.
    Incomplete,
}

impl Origin {
    /// The code point (RFC 4271 §4.3).
    pub const fn code(self) -> u8 {
        match self {
            Origin::Igp => 0,
            Origin::Egp => 1,
            Origin::Incomplete => 2,
        }
    }
}

/// NEXT_HOP (RFC 4271 §5.1.3), or the next hop of MP_REACH_NLRI (RFC 4760 §3),
/// which for IPv6 may carry a link-local address after the global one (RFC 2545 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NextHop {
    /// An IPv4 next hop.
    V4(Ipv4Addr),
    /// An IPv6 next hop.
    V6 {
        /// The global address.
        global: Ipv6Addr,
        /// The link-local address, when the peer is on a shared link.
        link_local: Option<Ipv6Addr>,
    },
}

/// A COMMUNITIES value (RFC 1997): `asn:value` in 32 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Community(pub u32);

impl Community {
    /// NO_EXPORT (RFC 1997).
    pub const NO_EXPORT: Community = Community(0xffff_ff01);
    /// NO_ADVERTISE (RFC 1997).
    pub const NO_ADVERTISE: Community = Community(0xffff_ff02);
    /// `asn:value`.
    pub const fn new(asn: u16, value: u16) -> Self {
        Community(((asn as u32) << 16) | value as u32)
    }
}

/// An EXTENDED_COMMUNITIES value (RFC 4360), kept as its 8 octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtendedCommunity(pub [u8; 8]);

/// A LARGE_COMMUNITY value (RFC 8092 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LargeCommunity {
    /// Global Administrator (an ASN).
    pub global_admin: u32,
    /// Local Data Part 1.
    pub local_data_1: u32,
    /// Local Data Part 2.
    pub local_data_2: u32,
}

/// AGGREGATOR (RFC 4271 §5.1.7), with a 4-octet AS (RFC 6793).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Aggregator {
    /// The AS that formed the aggregate.
    pub asn: u32,
    /// The BGP Identifier of the speaker that formed it.
    pub address: Ipv4Addr,
}

/// An attribute the router does not know, kept as received so an optional
/// transitive one can be passed on with the Partial bit set (RFC 4271 §5, §9).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RawAttribute {
    /// Attribute flags as received (RFC 4271 §4.3).
    pub flags: u8,
    /// Attribute type code.
    pub type_code: u8,
    /// Attribute value.
    pub value: Box<[u8]>,
}

impl RawAttribute {
    /// Optional bit (RFC 4271 §4.3).
    pub const OPTIONAL: u8 = 0x80;
    /// Transitive bit.
    pub const TRANSITIVE: u8 = 0x40;
    /// Partial bit.
    pub const PARTIAL: u8 = 0x20;
    /// Extended Length bit.
    pub const EXTENDED_LENGTH: u8 = 0x10;

    /// Whether it is optional transitive, the only kind of unknown attribute that is
    /// passed on (RFC 4271 §9).
    pub fn is_optional_transitive(&self) -> bool {
        self.flags & (Self::OPTIONAL | Self::TRANSITIVE) == Self::OPTIONAL | Self::TRANSITIVE
    }
}

/// One path's attributes, owned. Lists are kept sorted and deduplicated where order
/// carries no meaning (the communities), so equal sets intern to one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Attributes {
    /// ORIGIN.
    pub origin: Origin,
    /// AS_PATH, with AS4_PATH already merged in for 2-octet peers.
    pub as_path: AsPath,
    /// NEXT_HOP, or the MP_REACH_NLRI next hop.
    pub next_hop: Option<NextHop>,
    /// MULTI_EXIT_DISC.
    pub med: Option<u32>,
    /// LOCAL_PREF.
    pub local_pref: Option<u32>,
    /// ATOMIC_AGGREGATE.
    pub atomic_aggregate: bool,
    /// AGGREGATOR (AS4_AGGREGATOR merged in).
    pub aggregator: Option<Aggregator>,
    /// COMMUNITIES (RFC 1997), sorted.
    pub communities: Vec<Community>,
    /// EXTENDED_COMMUNITIES (RFC 4360), sorted.
    pub extended_communities: Vec<ExtendedCommunity>,
    /// LARGE_COMMUNITY (RFC 8092), sorted.
    pub large_communities: Vec<LargeCommunity>,
    /// ORIGINATOR_ID (RFC 4456 §8).
    pub originator_id: Option<Ipv4Addr>,
    /// CLUSTER_LIST (RFC 4456 §8), most recent first.
    pub cluster_list: Vec<Ipv4Addr>,
    /// Unrecognised optional transitive attributes, in type order.
    pub unknown: Vec<RawAttribute>,
}

impl Attributes {
    /// Puts the lists into their canonical order (sorted, no duplicates), drops
    /// unknown attributes that are not optional transitive. The wire layer calls it
    /// once per UPDATE; [`AttributeStore::intern`] assumes it.
    pub fn normalize(&mut self) {
        self.communities.sort_unstable();
        self.communities.dedup();
        self.extended_communities.sort_unstable();
        self.extended_communities.dedup();
        self.large_communities.sort_unstable();
        self.large_communities.dedup();
        self.unknown.retain(RawAttribute::is_optional_transitive);
        self.unknown.sort_by_key(|a| a.type_code);
    }

    /// Applies AS4_PATH and AS4_AGGREGATOR received from a peer without the 4-octet
    /// AS capability (RFC 6793 §4.2.3) to this set's AS_PATH and AGGREGATOR.
    pub fn merge_as4(&mut self, as4_path: Option<&AsPath>, as4_aggregator: Option<Aggregator>) {
        let (agg, ignore_as4_path) = merge_as4_aggregator(
            self.aggregator.map(|a| (a.asn, u32::from(a.address))),
            as4_aggregator.map(|a| (a.asn, u32::from(a.address))),
        );
        self.aggregator = agg.map(|(asn, addr)| Aggregator {
            asn,
            address: Ipv4Addr::from(addr),
        });
        if let Some(as4) = as4_path
            && !ignore_as4_path
        {
            self.as_path = self.as_path.merge_as4(as4);
        }
    }

    /// Adds a community, keeping the list canonical.
    pub fn add_community(&mut self, c: Community) {
        if let Err(i) = self.communities.binary_search(&c) {
            self.communities.insert(i, c);
        }
    }

    /// Adds a large community, keeping the list canonical.
    pub fn add_large_community(&mut self, c: LargeCommunity) {
        if let Err(i) = self.large_communities.binary_search(&c) {
            self.large_communities.insert(i, c);
        }
    }
}

/// A reference to an interned attribute set. Cloning it is a reference count
/// increment; two references from one store are equal exactly when they point to
/// the same set, so comparing and hashing them is by address.
#[derive(Clone, Debug)]
pub struct AttrRef(Arc<Attributes>);

impl AttrRef {
    /// The address of the shared set, a key for memo tables.
    pub fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }

    /// How many references to the set exist, the store's own included.
    pub fn users(&self) -> usize {
        Arc::strong_count(&self.0)
    }
}

impl Deref for AttrRef {
    type Target = Attributes;
    fn deref(&self) -> &Attributes {
        &self.0
    }
}

impl PartialEq for AttrRef {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for AttrRef {}

impl Hash for AttrRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.addr().hash(state)
    }
}

/// The table entry: hashes and compares by content, so a set can be found by value.
#[derive(Debug)]
struct Interned(Arc<Attributes>);

impl PartialEq for Interned {
    fn eq(&self, other: &Self) -> bool {
        *self.0 == *other.0
    }
}
impl Eq for Interned {}
impl Hash for Interned {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}
impl std::borrow::Borrow<Attributes> for Interned {
    fn borrow(&self) -> &Attributes {
        &self.0
    }
}

/// A fast, deterministic hasher (the Fx hash of rustc with a final mix), so that
/// runs repeat exactly.
#[derive(Clone, Copy, Default)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i))
    }
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i))
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i))
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64)
    }
    fn finish(&self) -> u64 {
        // The multiply leaves the low bits, which index the table, poorly mixed;
        // finish with murmur3's fmix64 so every input bit reaches them.
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }
}

/// `BuildHasher` of [`FxHasher`].
pub type FxBuild = BuildHasherDefault<FxHasher>;
/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = std::collections::HashMap<K, V, FxBuild>;
/// A `HashSet` with [`FxHasher`].
pub type FxHashSet<K> = std::collections::HashSet<K, FxBuild>;

/// The interning table: one stored copy of each distinct attribute set.
///
/// A set stays in the table while anything outside it holds an [`AttrRef`];
/// [`AttributeStore::release`] frees a set as its last user lets go, and
/// [`AttributeStore::sweep`] frees any whose users dropped their references
/// without telling the store.
#[derive(Debug, Default)]
pub struct AttributeStore {
    table: HashSet<Interned, FxBuild>,
}

impl AttributeStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The shared copy of `attrs`, stored now if it was not yet. `attrs` must be
    /// normalized ([`Attributes::normalize`]).
    pub fn intern(&mut self, attrs: Attributes) -> AttrRef {
        if let Some(i) = self.table.get(&attrs) {
            return AttrRef(i.0.clone());
        }
        let arc = Arc::new(attrs);
        self.table.insert(Interned(arc.clone()));
        AttrRef(arc)
    }

    /// Gives back a reference; frees the set if that was its last user.
    pub fn release(&mut self, r: AttrRef) {
        if Arc::strong_count(&r.0) == 2
            && self
                .table
                .get(&*r.0)
                .is_some_and(|i| Arc::ptr_eq(&i.0, &r.0))
        {
            self.table.remove(&*r.0);
        }
    }

    /// Frees every set that only the store still holds. O(stored sets).
    pub fn sweep(&mut self) {
        self.table.retain(|i| Arc::strong_count(&i.0) > 1);
    }

    /// Number of distinct sets stored.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether no set is stored.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(med: u32) -> Attributes {
        Attributes {
            as_path: AsPath::sequence(&[65001, 65002]),
            next_hop: Some(NextHop::V4(Ipv4Addr::new(192, 0, 2, 1))),
            med: Some(med),
            ..Default::default()
        }
    }

    #[test]
    fn equal_sets_intern_to_one_and_are_freed_with_their_last_user() {
        let mut store = AttributeStore::new();
        let a = store.intern(attrs(1));
        let b = store.intern(attrs(1));
        let c = store.intern(attrs(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(store.len(), 2);
        store.release(a);
        assert_eq!(store.len(), 2, "b still uses it");
        store.release(b);
        assert_eq!(store.len(), 1);
        drop(c);
        store.sweep();
        assert!(store.is_empty());
    }

    #[test]
    fn normalize_sorts_communities_and_drops_non_transitive_unknowns() {
        let mut a = Attributes {
            communities: vec![
                Community::new(2, 2),
                Community::new(1, 1),
                Community::new(2, 2),
            ],
            unknown: vec![
                RawAttribute {
                    flags: 0x80,
                    type_code: 99,
                    value: Box::new([1]),
                },
                RawAttribute {
                    flags: 0xc0,
                    type_code: 98,
                    value: Box::new([2]),
                },
            ],
            ..Default::default()
        };
        a.normalize();
        assert_eq!(
            a.communities,
            vec![Community::new(1, 1), Community::new(2, 2)]
        );
        assert_eq!(a.unknown.len(), 1);
        assert_eq!(a.unknown[0].type_code, 98);
    }
}
