//! AS_PATH (RFC 4271 §4.3 and §5.1.2, type 2) and AS4_PATH (RFC 6793, type 17).
//!
//! A path is a list of segments (AS_SET, AS_SEQUENCE, and the confederation
//! segments of RFC 5065), each of 2- or 4-octet AS numbers per the session
//! (RFC 6793 §4); AS4_PATH always carries 4-octet numbers.

use super::super::error::EncodeError;

/// AS_TRANS, the 2-octet stand-in for a 4-octet AS number (RFC 6793 §9).
pub const AS_TRANS: u16 = 23456;

/// A path segment type (RFC 4271 §4.3, RFC 5065 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SegmentType {
    /// 1: AS_SET, an unordered set of ASes.
    AsSet,
    /// 2: AS_SEQUENCE, an ordered list of ASes.
    AsSequence,
    /// 3: AS_CONFED_SEQUENCE (RFC 5065).
    AsConfedSequence,
    /// 4: AS_CONFED_SET (RFC 5065).
    AsConfedSet,
    /// Any other value (malformed on receipt, RFC 7606 §7.2).
    Unknown(u8),
}

impl From<u8> for SegmentType {
    fn from(v: u8) -> Self {
        match v {
            1 => SegmentType::AsSet,
            2 => SegmentType::AsSequence,
            3 => SegmentType::AsConfedSequence,
            4 => SegmentType::AsConfedSet,
            other => SegmentType::Unknown(other),
        }
    }
}

impl From<SegmentType> for u8 {
    fn from(t: SegmentType) -> u8 {
        match t {
            SegmentType::AsSet => 1,
            SegmentType::AsSequence => 2,
            SegmentType::AsConfedSequence => 3,
            SegmentType::AsConfedSet => 4,
            SegmentType::Unknown(v) => v,
        }
    }
}

impl SegmentType {
    /// Whether this is a confederation segment (RFC 5065).
    pub const fn is_confed(self) -> bool {
        matches!(
            self,
            SegmentType::AsConfedSequence | SegmentType::AsConfedSet
        )
    }
}

/// The AS numbers of one segment: over the wire, or a caller's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Asns<'a> {
    /// Wire bytes of 2- or 4-octet numbers.
    Wire {
        /// The numbers' bytes.
        bytes: &'a [u8],
        /// Whether they are 4 octets each.
        four_octet: bool,
    },
    /// A list, for encoding.
    List(&'a [u32]),
}

impl<'a> Asns<'a> {
    /// How many AS numbers.
    pub fn len(&self) -> usize {
        match self {
            Asns::Wire { bytes, four_octet } => bytes.len() / if *four_octet { 4 } else { 2 },
            Asns::List(l) => l.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The numbers, in order.
    pub fn iter(&self) -> AsnIter<'a> {
        match *self {
            Asns::Wire { bytes, four_octet } => AsnIter {
                bytes,
                width: if four_octet { 4 } else { 2 },
                list: [].iter(),
            },
            Asns::List(l) => AsnIter {
                bytes: &[],
                width: 4,
                list: l.iter(),
            },
        }
    }
}

/// Iterator over the AS numbers of a segment.
#[derive(Clone, Debug)]
pub struct AsnIter<'a> {
    bytes: &'a [u8],
    width: usize,
    list: core::slice::Iter<'a, u32>,
}

impl Iterator for AsnIter<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        if let Some(&a) = self.list.next() {
            return Some(a);
        }
        let (a, rest) = if self.width == 4 {
            let (a, rest) = self.bytes.split_first_chunk::<4>()?;
            (u32::from_be_bytes(*a), rest)
        } else {
            let (a, rest) = self.bytes.split_first_chunk::<2>()?;
            (u32::from(u16::from_be_bytes(*a)), rest)
        };
        self.bytes = rest;
        Some(a)
    }
}

/// One path segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AsSegment<'a> {
    /// Its type.
    pub kind: SegmentType,
    /// Its AS numbers.
    pub asns: Asns<'a>,
}

/// An AS_PATH or AS4_PATH value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AsPath<'a> {
    /// A validated wire value.
    Wire {
        /// The attribute value.
        bytes: &'a [u8],
        /// Whether AS numbers are 4 octets.
        four_octet: bool,
    },
    /// A list of segments, for encoding.
    List(&'a [AsSegment<'a>]),
}

#[cfg(feature = "defmt")]
impl defmt::Format for AsPath<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "AsPath(");
        for s in self.segments() {
            let open = match s.kind {
                SegmentType::AsSet => "{",
                SegmentType::AsConfedSequence => "(",
                SegmentType::AsConfedSet => "[",
                _ => "",
            };
            defmt::write!(f, " {=str}", open);
            for a in s.asns.iter() {
                defmt::write!(f, " {=u32}", a);
            }
        }
        defmt::write!(f, ")");
    }
}

impl<'a> AsPath<'a> {
    /// The empty path (what an iBGP speaker originates, §5.1.2).
    pub const EMPTY: AsPath<'static> = AsPath::List(&[]);

    /// Validates an AS_PATH value (RFC 4271 §6.3, RFC 7606 §7.2): every segment of
    /// a known type, non-empty, and within the value, and no AS 0 (RFC 7607 §2).
    /// `allow_confed` is false for AS4_PATH (RFC 6793 §6) and for a path from an
    /// external peer (RFC 5065 §5.1). On error, returns the offset of the bad
    /// segment within the value.
    pub fn parse(value: &'a [u8], four_octet: bool, allow_confed: bool) -> Result<Self, usize> {
        let width = if four_octet { 4 } else { 2 };
        let mut at = 0;
        while at < value.len() {
            let Some(&[kind, count]) = value.get(at..at + 2) else {
                return Err(at);
            };
            let kind = SegmentType::from(kind);
            if matches!(kind, SegmentType::Unknown(_))
                || (kind.is_confed() && !allow_confed)
                || count == 0
            {
                return Err(at);
            }
            let end = at + 2 + usize::from(count) * width;
            let Some(asns) = value.get(at + 2..end) else {
                return Err(at);
            };
            let as0 = if four_octet {
                asns.chunks_exact(4).any(|a| a == [0, 0, 0, 0])
            } else {
                asns.chunks_exact(2).any(|a| a == [0, 0])
            };
            if as0 {
                return Err(at);
            }
            at = end;
        }
        Ok(AsPath::Wire {
            bytes: value,
            four_octet,
        })
    }

    /// The segments, in order.
    pub fn segments(&self) -> Segments<'a> {
        match *self {
            AsPath::Wire { bytes, four_octet } => Segments {
                bytes,
                four_octet,
                list: [].iter(),
            },
            AsPath::List(l) => Segments {
                bytes: &[],
                four_octet: true,
                list: l.iter(),
            },
        }
    }

    /// The path length for route selection (RFC 4271 §9.1.2.2 (a)): an AS_SET
    /// counts 1 whatever its size, confederation segments count 0 (RFC 5065 §5.3).
    pub fn route_selection_len(&self) -> usize {
        self.segments()
            .map(|s| match s.kind {
                SegmentType::AsSequence => s.asns.len(),
                SegmentType::AsSet => 1,
                _ => 0,
            })
            .sum()
    }

    /// The first AS of the path, if it starts with an AS_SEQUENCE (the neighbor's
    /// AS on an eBGP session, §6.3).
    pub fn first_asn(&self) -> Option<u32> {
        let s = self.segments().next()?;
        if s.kind == SegmentType::AsSequence {
            s.asns.iter().next()
        } else {
            None
        }
    }

    /// The originating AS: the last AS of a path ending in an AS_SEQUENCE.
    pub fn origin_asn(&self) -> Option<u32> {
        let s = self.segments().last()?;
        if s.kind == SegmentType::AsSequence {
            s.asns.iter().last()
        } else {
            None
        }
    }

    /// Whether `asn` appears anywhere in the path (loop detection, §9.1.2).
    pub fn contains(&self, asn: u32) -> bool {
        self.segments().any(|s| s.asns.iter().any(|a| a == asn))
    }

    /// Octets the value takes when encoded with `four_octet` numbers.
    pub fn value_len(&self, four_octet: bool) -> usize {
        match *self {
            AsPath::Wire {
                bytes,
                four_octet: f,
            } if f == four_octet => bytes.len(),
            _ => {
                let w = if four_octet { 4 } else { 2 };
                self.segments().map(|s| 2 + s.asns.len() * w).sum()
            }
        }
    }

    /// Fails where a segment holds more than 255 ASes (a list built by a caller).
    pub fn check_encodable(&self) -> Result<(), EncodeError> {
        if self.segments().any(|s| s.asns.len() > 255) {
            return Err(EncodeError::Invalid {
                what: "AS_PATH segment of more than 255 ASes",
            });
        }
        Ok(())
    }

    /// Writes the value with `four_octet` numbers (4-octet numbers become AS_TRANS
    /// in a 2-octet path, RFC 6793 §4.2.2); returns the bytes written.
    pub fn emit_value(&self, buffer: &mut [u8], four_octet: bool) -> Result<usize, EncodeError> {
        let required = self.value_len(four_octet);
        if buffer.len() < required {
            return Err(EncodeError::InsufficientSize { required });
        }
        if let AsPath::Wire {
            bytes,
            four_octet: f,
        } = *self
            && f == four_octet
        {
            buffer[..required].copy_from_slice(bytes);
            return Ok(required);
        }
        self.check_encodable()?;
        let mut at = 0;
        for s in self.segments() {
            buffer[at] = s.kind.into();
            buffer[at + 1] = s.asns.len() as u8;
            at += 2;
            for a in s.asns.iter() {
                if four_octet {
                    buffer[at..at + 4].copy_from_slice(&a.to_be_bytes());
                    at += 4;
                } else {
                    let a = u16::try_from(a).unwrap_or(AS_TRANS);
                    buffer[at..at + 2].copy_from_slice(&a.to_be_bytes());
                    at += 2;
                }
            }
        }
        Ok(at)
    }
}

/// Iterator over the segments of a path.
#[derive(Clone, Debug)]
pub struct Segments<'a> {
    bytes: &'a [u8],
    four_octet: bool,
    list: core::slice::Iter<'a, AsSegment<'a>>,
}

impl<'a> Iterator for Segments<'a> {
    type Item = AsSegment<'a>;

    fn next(&mut self) -> Option<AsSegment<'a>> {
        if let Some(&s) = self.list.next() {
            return Some(s);
        }
        let (&[kind, count], rest) = self.bytes.split_first_chunk::<2>()?;
        let n = usize::from(count) * if self.four_octet { 4 } else { 2 };
        let Some(asns) = rest.get(..n) else {
            self.bytes = &[];
            return None;
        };
        self.bytes = &rest[n..];
        Some(AsSegment {
            kind: kind.into(),
            asns: Asns::Wire {
                bytes: asns,
                four_octet: self.four_octet,
            },
        })
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Asns<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "[");
        for a in self.iter() {
            defmt::write!(f, " {=u32}", a);
        }
        defmt::write!(f, " ]");
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for AsSegment<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "{} {}", self.kind, self.asns);
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for AsnIter<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "AsnIter");
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Segments<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "Segments");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_length_counts_sets_once_and_confeds_not() {
        // (65001 65002) 1 2 {3 4 5}
        let v = [
            3, 2, 0xfd, 0xe9, 0xfd, 0xea, 2, 2, 0, 1, 0, 2, 1, 3, 0, 3, 0, 4, 0, 5,
        ];
        let p = AsPath::parse(&v, false, true).unwrap();
        assert_eq!(p.route_selection_len(), 3);
        assert_eq!(p.first_asn(), None);
        assert!(p.contains(65002));
        assert!(AsPath::parse(&v, false, false).is_err());
        assert_eq!(AsPath::parse(&[2, 0], false, true), Err(0));
        assert_eq!(
            AsPath::parse(&[2, 1, 0, 1, 5, 1, 0, 0], false, true),
            Err(4)
        );
    }

    #[test]
    fn re_encodes_between_widths() {
        let seg = [AsSegment {
            kind: SegmentType::AsSequence,
            asns: Asns::List(&[1, 70000]),
        }];
        let p = AsPath::List(&seg);
        let mut buf = [0xa5u8; 7];
        assert_eq!(p.emit_value(&mut buf, false), Ok(6));
        assert_eq!(buf, [2, 2, 0, 1, 0x5b, 0xa0, 0xa5]);
    }
}
