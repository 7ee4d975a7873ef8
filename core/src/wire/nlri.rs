//! IPv4 and IPv6 prefixes and the NLRI fields that carry them.
//!
//! RFC 4271 §4.3 (length in bits, then the fewest octets that hold the prefix),
//! RFC 4760 §5 (the same encoding inside MP_REACH_NLRI / MP_UNREACH_NLRI) and
//! RFC 7911 §3 (ADD-PATH: a 4-octet path identifier before each prefix).
//! A field is validated once ([`check`]); iterating it afterwards costs no checks.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::codes::{ErrorCode, update_subcode};
use super::error::{DecodeError, EncodeError, ErrorData, ErrorKind};
use super::family::Afi;

/// An IPv4 prefix; bits past the length are zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Ipv4Prefix {
    addr: u32,
    len: u8,
}

/// An IPv6 prefix; bits past the length are zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Ipv6Prefix {
    /// Network byte order: keeps the struct 17 bytes with alignment 1.
    addr: [u8; 16],
    len: u8,
}

/// The mask of a `len`-bit IPv4 prefix; `len` is at most 32. Branch-free: the
/// shift is done in 64 bits, so length 0 shifts every one out.
const fn mask32(len: u8) -> u32 {
    (u64::MAX << (32 - len as u32)) as u32
}

/// The mask of a `len`-bit IPv6 prefix; `len` is at most 128.
const fn mask128(len: u8) -> u128 {
    match u128::MAX.checked_shl(128 - len as u32) {
        Some(m) => m,
        None => 0,
    }
}

impl Ipv4Prefix {
    /// A prefix of `len` bits of `addr` (the rest masked off); `None` past 32.
    pub const fn new(addr: Ipv4Addr, len: u8) -> Option<Self> {
        if len > 32 {
            return None;
        }
        Some(Ipv4Prefix {
            addr: addr.to_bits() & mask32(len),
            len,
        })
    }

    /// The network address.
    pub const fn addr(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.addr)
    }

    /// The address as a host-order integer.
    pub const fn bits(&self) -> u32 {
        self.addr
    }

    /// The prefix length in bits.
    pub const fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether this is the default route (length 0).
    pub const fn is_default(&self) -> bool {
        self.len == 0
    }
}

impl Ipv6Prefix {
    /// A prefix of `len` bits of `addr` (the rest masked off); `None` past 128.
    pub const fn new(addr: Ipv6Addr, len: u8) -> Option<Self> {
        if len > 128 {
            return None;
        }
        Some(Ipv6Prefix {
            addr: (addr.to_bits() & mask128(len)).to_be_bytes(),
            len,
        })
    }

    /// The network address.
    pub const fn addr(&self) -> Ipv6Addr {
        Ipv6Addr::from_octets(self.addr)
    }

    /// The address as a host-order integer.
    pub const fn bits(&self) -> u128 {
        u128::from_be_bytes(self.addr)
    }

    /// The address octets.
    pub const fn octets(&self) -> [u8; 16] {
        self.addr
    }

    /// The prefix length in bits.
    pub const fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether this is the default route (length 0).
    pub const fn is_default(&self) -> bool {
        self.len == 0
    }
}

/// An IPv4 or IPv6 prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Prefix {
    /// IPv4.
    V4(Ipv4Prefix),
    /// IPv6.
    V6(Ipv6Prefix),
}

impl Prefix {
    /// The prefix length in bits.
    pub const fn prefix_len(&self) -> u8 {
        match self {
            Prefix::V4(p) => p.len,
            Prefix::V6(p) => p.len,
        }
    }

    /// Whether this is a default route.
    pub const fn is_default(&self) -> bool {
        self.prefix_len() == 0
    }

    /// The prefix's address family.
    pub const fn afi(&self) -> Afi {
        match self {
            Prefix::V4(_) => Afi::Ipv4,
            Prefix::V6(_) => Afi::Ipv6,
        }
    }

    /// Octets the prefix takes on the wire: length octet and address octets.
    pub const fn wire_len(&self) -> usize {
        1 + (self.prefix_len() as usize).div_ceil(8)
    }
}

impl From<Ipv4Prefix> for Prefix {
    fn from(p: Ipv4Prefix) -> Self {
        Prefix::V4(p)
    }
}

impl From<Ipv6Prefix> for Prefix {
    fn from(p: Ipv6Prefix) -> Self {
        Prefix::V6(p)
    }
}

/// One NLRI entry: a prefix and, with ADD-PATH, its path identifier (RFC 7911 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Nlri {
    /// The path identifier, present when ADD-PATH is in use for the family.
    pub path_id: Option<u32>,
    /// The prefix.
    pub prefix: Prefix,
}

impl Nlri {
    /// A prefix without a path identifier.
    pub fn new(prefix: impl Into<Prefix>) -> Self {
        Nlri {
            path_id: None,
            prefix: prefix.into(),
        }
    }

    /// A prefix with a path identifier.
    pub fn with_path_id(path_id: u32, prefix: impl Into<Prefix>) -> Self {
        Nlri {
            path_id: Some(path_id),
            prefix: prefix.into(),
        }
    }

    /// Octets the entry takes on the wire.
    pub const fn buffer_len(&self) -> usize {
        let id = if self.path_id.is_some() { 4 } else { 0 };
        id + self.prefix.wire_len()
    }

    /// Writes the entry (path identifier if any, length octet, prefix octets);
    /// returns the bytes written.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize, EncodeError> {
        let required = self.buffer_len();
        let Some(out) = buffer.get_mut(..required) else {
            return Err(EncodeError::InsufficientSize { required });
        };
        let mut at = 0;
        if let Some(id) = self.path_id {
            out[..4].copy_from_slice(&id.to_be_bytes());
            at = 4;
        }
        let len = self.prefix.prefix_len();
        out[at] = len;
        let n = usize::from(len).div_ceil(8);
        match self.prefix {
            Prefix::V4(p) => out[at + 1..].copy_from_slice(&p.addr.to_be_bytes()[..n]),
            Prefix::V6(p) => out[at + 1..].copy_from_slice(&p.addr[..n]),
        }
        Ok(required)
    }
}

/// Validates an NLRI field (§4.3, RFC 4760 §5, RFC 7911 §3): every length at most
/// the family's maximum, no prefix (or path identifier) running past the field.
///
/// `message[start..end]` is the field; returns the number of entries. The error is
/// 3/10 Invalid Network Field at the offending entry, with no data and the
/// "session reset" action (RFC 7606 §5.3); callers change the action where the
/// field is in an MP attribute.
pub fn check(
    message: &[u8],
    start: usize,
    end: usize,
    afi: Afi,
    add_path: bool,
) -> Result<usize, DecodeError> {
    let max = if afi == Afi::Ipv6 { 128 } else { 32 };
    let Some(field) = message.get(start..end) else {
        return Err(invalid(start, 0));
    };
    if add_path {
        return check_add_path(field, start, max);
    }
    // One load, one compare and one add per entry: only the last entry can run
    // past the field, so that is checked once, after the loop.
    let mut at = 0;
    let mut entry = 0;
    let mut count = 0;
    while let Some(&len) = field.get(at) {
        if len > max {
            return Err(invalid(start + at, len));
        }
        entry = at;
        at += 1 + ((usize::from(len) + 7) >> 3);
        count += 1;
    }
    if at > field.len() {
        let len = field.get(entry).copied().unwrap_or(0);
        return Err(invalid(start + entry, len));
    }
    Ok(count)
}

/// [`check`] for a field whose entries start with a path identifier.
fn check_add_path(field: &[u8], start: usize, max: u8) -> Result<usize, DecodeError> {
    let mut at = 0;
    let mut count = 0;
    while at < field.len() {
        let entry = at;
        at += 4;
        let Some(&len) = field.get(at) else {
            return Err(invalid(start + entry, 0));
        };
        if len > max {
            return Err(invalid(start + at, len));
        }
        at += 1 + usize::from(len).div_ceil(8);
        if at > field.len() {
            return Err(invalid(start + entry, len));
        }
        count += 1;
    }
    Ok(count)
}

fn invalid(offset: usize, prefix_len: u8) -> DecodeError {
    DecodeError::reset(
        ErrorKind::InvalidNetworkField { prefix_len },
        offset,
        ErrorCode::UpdateMessage,
        update_subcode::INVALID_NETWORK_FIELD,
        ErrorData::Empty,
    )
}

/// An iterator over an NLRI field that [`check`] accepted.
///
/// It reads entries until the field ends, checking only what keeps it from
/// panicking: over bytes `check` did not accept it stops at the first entry that
/// does not fit (or whose length is past the family's maximum).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NlriIter<'a> {
    bytes: &'a [u8],
    ipv6: bool,
    add_path: bool,
}

impl<'a> NlriIter<'a> {
    /// An iterator over `field`, a validated NLRI field of `count` entries (the
    /// count is not needed: the field's end ends the iteration).
    pub const fn new_unchecked(field: &'a [u8], count: usize, afi: Afi, add_path: bool) -> Self {
        let _ = count;
        NlriIter {
            bytes: field,
            ipv6: matches!(afi, Afi::Ipv6),
            add_path,
        }
    }

    /// Validates `field` (offsets in the error count from the field's start) and
    /// returns an iterator over it.
    pub fn new(field: &'a [u8], afi: Afi, add_path: bool) -> Result<Self, DecodeError> {
        let count = check(field, 0, field.len(), afi, add_path)?;
        Ok(Self::new_unchecked(field, count, afi, add_path))
    }

    /// An empty iterator.
    pub const fn empty() -> Self {
        NlriIter {
            bytes: &[],
            ipv6: false,
            add_path: false,
        }
    }

    /// The field's bytes not yet iterated.
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Whether entries carry path identifiers.
    pub const fn add_path(&self) -> bool {
        self.add_path
    }

    /// Reads one entry, moving past it only when all of it fits.
    #[inline]
    fn step(&mut self) -> Option<Nlri> {
        match (self.ipv6, self.add_path) {
            (false, false) => step::<false, false>(&mut self.bytes),
            (false, true) => step::<false, true>(&mut self.bytes),
            (true, false) => step::<true, false>(&mut self.bytes),
            (true, true) => step::<true, true>(&mut self.bytes),
        }
    }
}

/// Reads the entry at the start of `bytes` and moves `bytes` past it; leaves
/// `bytes` as it was when the entry does not fit or its length is too long.
/// One copy per family and ADD-PATH mode, so a loop over a field tests neither.
#[inline(always)]
fn step<const IPV6: bool, const ADD_PATH: bool>(bytes: &mut &[u8]) -> Option<Nlri> {
    let mut b = *bytes;
    let path_id = if ADD_PATH {
        let (id, rest) = b.split_first_chunk::<4>()?;
        b = rest;
        Some(u32::from_be_bytes(*id))
    } else {
        None
    };
    let (&len, rest) = b.split_first()?;
    let n = (usize::from(len) + 7) >> 3;
    let prefix = if IPV6 {
        if len > 128 {
            return None;
        }
        // Read a whole address where the field allows and mask: no
        // variable-length copy on the fast path.
        let bits = match rest.first_chunk::<16>() {
            Some(a) => u128::from_be_bytes(*a),
            None => {
                let mut a = [0u8; 16];
                a.get_mut(..n)?.copy_from_slice(rest.get(..n)?);
                u128::from_be_bytes(a)
            }
        };
        Prefix::V6(Ipv6Prefix {
            addr: (bits & mask128(len)).to_be_bytes(),
            len,
        })
    } else {
        if len > 32 {
            return None;
        }
        let bits = match rest.first_chunk::<4>() {
            Some(a) => u32::from_be_bytes(*a),
            None => {
                let mut a = [0u8; 4];
                a.get_mut(..n)?.copy_from_slice(rest.get(..n)?);
                u32::from_be_bytes(a)
            }
        };
        Prefix::V4(Ipv4Prefix {
            addr: bits & mask32(len),
            len,
        })
    };
    *bytes = rest.get(n..)?;
    Some(Nlri { path_id, prefix })
}

/// Calls `f` on each entry of `bytes` with one copy of [`step`]'s loop.
#[inline(always)]
fn fold<const IPV6: bool, const ADD_PATH: bool, B, F>(mut bytes: &[u8], init: B, mut f: F) -> B
where
    F: FnMut(B, Nlri) -> B,
{
    let mut acc = init;
    while let Some(n) = step::<IPV6, ADD_PATH>(&mut bytes) {
        acc = f(acc, n);
    }
    acc
}

impl Iterator for NlriIter<'_> {
    type Item = Nlri;

    /// A failed step leaves the iterator where it was, so it fails again: the
    /// iterator is fused.
    #[inline]
    fn next(&mut self) -> Option<Nlri> {
        self.step()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // Each entry takes at least one octet (five with a path identifier).
        let min = if self.add_path { 5 } else { 1 };
        (0, Some(self.bytes.len() / min))
    }

    /// `for_each`, `count` and the like come here: the family and ADD-PATH mode
    /// are tested once per field, not once per entry.
    #[inline]
    fn fold<B, F>(self, init: B, f: F) -> B
    where
        F: FnMut(B, Nlri) -> B,
    {
        match (self.ipv6, self.add_path) {
            (false, false) => fold::<false, false, B, F>(self.bytes, init, f),
            (false, true) => fold::<false, true, B, F>(self.bytes, init, f),
            (true, false) => fold::<true, false, B, F>(self.bytes, init, f),
            (true, true) => fold::<true, true, B, F>(self.bytes, init, f),
        }
    }
}

impl core::iter::FusedIterator for NlriIter<'_> {}

#[cfg(feature = "defmt")]
impl defmt::Format for NlriIter<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "NlriIter {{ bytes: {=usize} }}", self.bytes.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_masked() {
        let p = Ipv4Prefix::new(Ipv4Addr::new(10, 1, 2, 3), 16).unwrap();
        assert_eq!(p.addr(), Ipv4Addr::new(10, 1, 0, 0));
        assert!(Ipv4Prefix::new(Ipv4Addr::UNSPECIFIED, 33).is_none());
        let p = Ipv6Prefix::new("2001:db8::1".parse().unwrap(), 32).unwrap();
        assert_eq!(p.addr(), "2001:db8::".parse::<Ipv6Addr>().unwrap());
        assert_eq!((mask32(0), mask32(1), mask32(32)), (0, 1 << 31, u32::MAX));
        assert_eq!(
            (mask128(0), mask128(1), mask128(128)),
            (0, 1 << 127, u128::MAX)
        );
    }

    #[test]
    fn iterates_with_and_without_path_ids() {
        let field = [24, 192, 0, 2, 0, 32, 10, 0, 0, 1];
        let v: std::vec::Vec<_> = NlriIter::new(&field, Afi::Ipv4, false).unwrap().collect();
        assert_eq!(v.len(), 3);
        assert_eq!(
            v[2].prefix,
            Prefix::V4(Ipv4Prefix::new(Ipv4Addr::new(10, 0, 0, 1), 32).unwrap())
        );
        assert_eq!(v[1].prefix.prefix_len(), 0);
        let field = [0, 0, 0, 7, 8, 10];
        let v: std::vec::Vec<_> = NlriIter::new(&field, Afi::Ipv4, true).unwrap().collect();
        assert_eq!(
            v,
            [Nlri::with_path_id(
                7,
                Ipv4Prefix::new(Ipv4Addr::new(10, 0, 0, 0), 8).unwrap()
            )]
        );
    }

    #[test]
    fn bad_fields_are_invalid_network_field() {
        let e = NlriIter::new(&[33, 1, 2, 3, 4, 5], Afi::Ipv4, false).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidNetworkField { prefix_len: 33 });
        let e = NlriIter::new(&[8, 1, 24, 1, 2], Afi::Ipv4, false).unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(NlriIter::new(&[129], Afi::Ipv6, false).is_err());
        assert!(NlriIter::new(&[0, 0, 0, 1], Afi::Ipv6, true).is_err());
    }

    #[test]
    fn emit_writes_path_id_and_octets() {
        let n = Nlri::with_path_id(9, Ipv4Prefix::new(Ipv4Addr::new(10, 20, 0, 0), 12).unwrap());
        let mut buf = [0xa5u8; 8];
        assert_eq!(n.emit(&mut buf), Ok(7));
        assert_eq!(buf, [0, 0, 0, 9, 12, 10, 16, 0xa5]);
        let mut small = [0xa5u8; 6];
        assert_eq!(
            n.emit(&mut small),
            Err(EncodeError::InsufficientSize { required: 7 })
        );
        assert_eq!(small, [0xa5; 6]);
    }

    /// The rules of §4.3 / RFC 7911 §3 written the plain way: entry by entry.
    fn reference(field: &[u8], afi: Afi, add_path: bool) -> Result<usize, (usize, u8)> {
        let max = if afi == Afi::Ipv6 { 128 } else { 32 };
        let (mut at, mut count) = (0, 0);
        while at < field.len() {
            let entry = at;
            if add_path {
                at += 4;
                if at >= field.len() {
                    return Err((entry, 0));
                }
            }
            let len = field[at];
            if len > max {
                return Err((at, len));
            }
            at += 1 + usize::from(len).div_ceil(8);
            if at > field.len() {
                return Err((entry, len));
            }
            count += 1;
        }
        Ok(count)
    }

    proptest::proptest! {
        #[test]
        fn check_and_iteration_follow_the_rules(
            field in proptest::collection::vec(
                proptest::prop_oneof![0u8..=40, 0u8..=130, proptest::num::u8::ANY], 0..40),
            ipv6: bool,
            add_path: bool,
        ) {
            let afi = if ipv6 { Afi::Ipv6 } else { Afi::Ipv4 };
            let got = check(&field, 0, field.len(), afi, add_path)
                .map_err(|e| match e.kind {
                    ErrorKind::InvalidNetworkField { prefix_len } => (e.offset, prefix_len),
                    _ => (usize::MAX, 0),
                });
            proptest::prop_assert_eq!(got, reference(&field, afi, add_path));
            // Iterating unchecked bytes never panics and reads no more entries
            // than fit; a valid field gives exactly its entries, all bytes used.
            let it = NlriIter::new_unchecked(&field, 0, afi, add_path);
            let mut by_next = it;
            let by_next: std::vec::Vec<Nlri> = core::iter::from_fn(|| by_next.next()).collect();
            let by_fold = it.fold(std::vec::Vec::new(), |mut v, n| {
                v.push(n);
                v
            });
            proptest::prop_assert_eq!(&by_next, &by_fold);
            let n = by_fold.len();
            if let Ok(count) = got {
                proptest::prop_assert_eq!(n, count);
                let mut it = NlriIter::new_unchecked(&field, count, afi, add_path);
                for _ in 0..count {
                    it.next();
                }
                proptest::prop_assert!(it.as_bytes().is_empty());
            }
        }
    }
}
