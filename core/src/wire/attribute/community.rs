//! Attributes that are lists of fixed-size items: COMMUNITIES (RFC 1997),
//! EXTENDED_COMMUNITIES (RFC 4360), LARGE_COMMUNITY (RFC 8092) and CLUSTER_LIST
//! (RFC 4456 §8). Each is a view over the wire or a caller's list for encoding.

use core::net::Ipv4Addr;

use super::super::error::EncodeError;

/// A fixed-size list item.
pub trait WireItem: Copy {
    /// Octets per item.
    const LEN: usize;
    /// Reads an item from exactly `LEN` bytes.
    fn read(bytes: &[u8]) -> Self;
    /// Writes the item into exactly `LEN` bytes.
    fn write(&self, out: &mut [u8]);
}

fn be32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    if let Some(s) = b.get(..4) {
        a.copy_from_slice(s);
    }
    u32::from_be_bytes(a)
}

/// A list of items: over the wire (validated to a whole number of items) or a
/// caller's slice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Items<'a, T> {
    /// The attribute value.
    Wire(&'a [u8]),
    /// A list, for encoding.
    List(&'a [T]),
}

#[cfg(feature = "defmt")]
impl<T: WireItem> defmt::Format for Items<'_, T> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "{=usize} items", self.len());
    }
}

impl<'a, T: WireItem> Items<'a, T> {
    /// Validates a value: a non-zero multiple of the item size (RFC 7606 §7.8,
    /// §7.10, §7.14; RFC 8092 §6).
    pub fn parse(value: &'a [u8]) -> Option<Self> {
        if value.is_empty() || !value.len().is_multiple_of(T::LEN) {
            None
        } else {
            Some(Items::Wire(value))
        }
    }

    /// How many items.
    pub fn len(&self) -> usize {
        match self {
            Items::Wire(b) => b.len() / T::LEN,
            Items::List(l) => l.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items in order.
    pub fn iter(&self) -> ItemIter<'a, T> {
        match *self {
            Items::Wire(b) => ItemIter {
                wire: b.chunks_exact(T::LEN),
                list: [].iter(),
            },
            Items::List(l) => ItemIter {
                wire: [].chunks_exact(T::LEN),
                list: l.iter(),
            },
        }
    }

    /// Octets of the encoded value.
    pub fn value_len(&self) -> usize {
        self.len() * T::LEN
    }

    /// Writes the value; returns the bytes written.
    pub fn emit_value(&self, buffer: &mut [u8]) -> Result<usize, EncodeError> {
        let required = self.value_len();
        let Some(out) = buffer.get_mut(..required) else {
            return Err(EncodeError::InsufficientSize { required });
        };
        match self {
            Items::Wire(b) => out.copy_from_slice(&b[..required]),
            Items::List(l) => {
                for (item, o) in l.iter().zip(out.chunks_exact_mut(T::LEN)) {
                    item.write(o);
                }
            }
        }
        Ok(required)
    }
}

impl<T: WireItem + PartialEq> Items<'_, T> {
    /// Whether `item` is in the list.
    pub fn contains(&self, item: &T) -> bool {
        self.iter().any(|i| i == *item)
    }
}

/// Iterator over [`Items`].
#[derive(Clone, Debug)]
pub struct ItemIter<'a, T> {
    wire: core::slice::ChunksExact<'a, u8>,
    list: core::slice::Iter<'a, T>,
}

impl<T: WireItem> Iterator for ItemIter<'_, T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        if let Some(c) = self.wire.next() {
            return Some(T::read(c));
        }
        self.list.next().copied()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.wire.len() + self.list.len();
        (n, Some(n))
    }
}

impl<T: WireItem> ExactSizeIterator for ItemIter<'_, T> {}

/// A community (RFC 1997): high 16 bits an AS, low 16 bits a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Community(pub u32);

impl Community {
    /// GRACEFUL_SHUTDOWN (RFC 8326).
    pub const GRACEFUL_SHUTDOWN: Community = Community(0xFFFF_0000);
    /// ACCEPT_OWN (RFC 7611).
    pub const ACCEPT_OWN: Community = Community(0xFFFF_0001);
    /// LLGR_STALE (RFC 9494).
    pub const LLGR_STALE: Community = Community(0xFFFF_0006);
    /// NO_LLGR (RFC 9494).
    pub const NO_LLGR: Community = Community(0xFFFF_0007);
    /// BLACKHOLE (RFC 7999).
    pub const BLACKHOLE: Community = Community(0xFFFF_029A);
    /// NO_EXPORT (RFC 1997): do not advertise outside the AS or confederation.
    pub const NO_EXPORT: Community = Community(0xFFFF_FF01);
    /// NO_ADVERTISE (RFC 1997): do not advertise to any peer.
    pub const NO_ADVERTISE: Community = Community(0xFFFF_FF02);
    /// NO_EXPORT_SUBCONFED (RFC 1997): do not advertise to external peers, even
    /// within a confederation.
    pub const NO_EXPORT_SUBCONFED: Community = Community(0xFFFF_FF03);
    /// NOPEER (RFC 3765).
    pub const NOPEER: Community = Community(0xFFFF_FF04);

    /// A community from an AS and a value.
    pub const fn new(asn: u16, value: u16) -> Self {
        Community(((asn as u32) << 16) | value as u32)
    }

    /// The AS half.
    pub const fn asn(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The value half.
    pub const fn value(self) -> u16 {
        self.0 as u16
    }

    /// The well-known name, where it has one.
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            Community::GRACEFUL_SHUTDOWN => "GRACEFUL_SHUTDOWN",
            Community::ACCEPT_OWN => "ACCEPT_OWN",
            Community::LLGR_STALE => "LLGR_STALE",
            Community::NO_LLGR => "NO_LLGR",
            Community::BLACKHOLE => "BLACKHOLE",
            Community::NO_EXPORT => "NO_EXPORT",
            Community::NO_ADVERTISE => "NO_ADVERTISE",
            Community::NO_EXPORT_SUBCONFED => "NO_EXPORT_SUBCONFED",
            Community::NOPEER => "NOPEER",
            _ => return None,
        })
    }
}

impl core::fmt::Display for Community {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}:{}", self.asn(), self.value()),
        }
    }
}

impl WireItem for Community {
    const LEN: usize = 4;
    fn read(b: &[u8]) -> Self {
        Community(be32(b))
    }
    fn write(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.0.to_be_bytes());
    }
}

/// An extended community (RFC 4360 §2): type, subtype and value octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExtendedCommunity(pub [u8; 8]);

impl ExtendedCommunity {
    /// The type high octet.
    pub const fn type_high(&self) -> u8 {
        self.0[0]
    }

    /// The subtype octet (for the types that have one).
    pub const fn subtype(&self) -> u8 {
        self.0[1]
    }

    /// Whether it may be passed on outside the AS (the Transitive bit is 0).
    pub const fn is_transitive(&self) -> bool {
        self.0[0] & 0x40 == 0
    }

    /// Whether the IANA authority bit is 0 (IANA-assigned type).
    pub const fn is_iana_authority(&self) -> bool {
        self.0[0] & 0x80 == 0
    }
}

impl WireItem for ExtendedCommunity {
    const LEN: usize = 8;
    fn read(b: &[u8]) -> Self {
        let mut a = [0u8; 8];
        if let Some(s) = b.get(..8) {
            a.copy_from_slice(s);
        }
        ExtendedCommunity(a)
    }
    fn write(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.0);
    }
}

/// A large community (RFC 8092 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LargeCommunity {
    /// Global Administrator: an AS number.
    pub global_admin: u32,
    /// Local Data Part 1.
    pub local_data_1: u32,
    /// Local Data Part 2.
    pub local_data_2: u32,
}

impl WireItem for LargeCommunity {
    const LEN: usize = 12;
    fn read(b: &[u8]) -> Self {
        LargeCommunity {
            global_admin: be32(b),
            local_data_1: be32(b.get(4..).unwrap_or(&[])),
            local_data_2: be32(b.get(8..).unwrap_or(&[])),
        }
    }
    fn write(&self, out: &mut [u8]) {
        out[..4].copy_from_slice(&self.global_admin.to_be_bytes());
        out[4..8].copy_from_slice(&self.local_data_1.to_be_bytes());
        out[8..12].copy_from_slice(&self.local_data_2.to_be_bytes());
    }
}

impl WireItem for Ipv4Addr {
    const LEN: usize = 4;
    fn read(b: &[u8]) -> Self {
        Ipv4Addr::from_bits(be32(b))
    }
    fn write(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.octets());
    }
}

/// COMMUNITIES (RFC 1997, type 8).
pub type Communities<'a> = Items<'a, Community>;
/// EXTENDED_COMMUNITIES (RFC 4360, type 16).
pub type ExtendedCommunities<'a> = Items<'a, ExtendedCommunity>;
/// LARGE_COMMUNITY (RFC 8092, type 32).
pub type LargeCommunities<'a> = Items<'a, LargeCommunity>;
/// CLUSTER_LIST (RFC 4456 §8, type 10): cluster IDs, most recent first.
pub type ClusterList<'a> = Items<'a, Ipv4Addr>;

#[cfg(feature = "defmt")]
impl<T> defmt::Format for ItemIter<'_, T> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "ItemIter");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_communities_have_names() {
        let c = Communities::parse(&[0xff, 0xff, 0xff, 0x01, 0, 100, 0, 7]).unwrap();
        let v: std::vec::Vec<_> = c.iter().collect();
        assert_eq!(v, [Community::NO_EXPORT, Community::new(100, 7)]);
        assert_eq!(std::format!("{} {}", v[0], v[1]), "NO_EXPORT 100:7");
        assert!(c.contains(&Community::NO_EXPORT));
        assert!(Communities::parse(&[0, 1, 2]).is_none());
        assert!(Communities::parse(&[]).is_none());
    }

    #[test]
    fn large_communities_emit() {
        let l = [LargeCommunity {
            global_admin: 1,
            local_data_1: 2,
            local_data_2: 3,
        }];
        let mut buf = [0xa5u8; 13];
        assert_eq!(LargeCommunities::List(&l).emit_value(&mut buf), Ok(12));
        assert_eq!(&buf[..12], &[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
        assert_eq!(buf[12], 0xa5);
        let back = LargeCommunities::parse(&buf[..12]).unwrap();
        assert_eq!(back.iter().next(), Some(l[0]));
    }
}
