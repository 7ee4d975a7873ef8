//! Path attributes (RFC 4271 §4.3 and §5): the attribute header, typed values,
//! and their validation per RFC 7606 §7 (in `validate.rs`).
//!
//! An attribute is flags, type code, a 1- or 2-octet length (Extended Length bit)
//! and a value. Typed values are views over the wire or caller lists for encoding.

mod as_path;
mod community;
mod mp;
pub(crate) mod validate;

use core::net::Ipv4Addr;

pub use as_path::{AS_TRANS, AsPath, AsSegment, AsnIter, Asns, SegmentType, Segments};
pub use community::{
    ClusterList, Communities, Community, ExtendedCommunities, ExtendedCommunity, ItemIter, Items,
    LargeCommunities, LargeCommunity, WireItem,
};
pub use mp::{MpNextHop, MpReachNlri, MpUnreachNlri, PrefixIter, Prefixes, family_supported};

use super::codes::ErrorCode;
use super::error::{DecodeError, EncodeError, ErrorAction, ErrorData, ErrorKind};

/// Attribute flags (RFC 4271 §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Flags(pub u8);

impl Flags {
    /// Optional bit: 1 optional, 0 well-known.
    pub const OPTIONAL: u8 = 0x80;
    /// Transitive bit.
    pub const TRANSITIVE: u8 = 0x40;
    /// Partial bit: some speaker on the path did not recognize the attribute.
    pub const PARTIAL: u8 = 0x20;
    /// Extended Length bit: the length field is 2 octets.
    pub const EXTENDED_LENGTH: u8 = 0x10;

    /// Well-known (mandatory or discretionary): transitive, not optional.
    pub const WELL_KNOWN: Flags = Flags(Self::TRANSITIVE);
    /// Optional transitive.
    pub const OPTIONAL_TRANSITIVE: Flags = Flags(Self::OPTIONAL | Self::TRANSITIVE);
    /// Optional non-transitive.
    pub const OPTIONAL_NON_TRANSITIVE: Flags = Flags(Self::OPTIONAL);

    /// Whether the Optional bit is set.
    pub const fn optional(self) -> bool {
        self.0 & Self::OPTIONAL != 0
    }
    /// Whether the Transitive bit is set.
    pub const fn transitive(self) -> bool {
        self.0 & Self::TRANSITIVE != 0
    }
    /// Whether the Partial bit is set.
    pub const fn partial(self) -> bool {
        self.0 & Self::PARTIAL != 0
    }
    /// Whether the Extended Length bit is set.
    pub const fn extended_length(self) -> bool {
        self.0 & Self::EXTENDED_LENGTH != 0
    }
    /// The Optional and Transitive bits, which RFC 7606 §3 (c) checks.
    pub const fn category(self) -> u8 {
        self.0 & (Self::OPTIONAL | Self::TRANSITIVE)
    }
}

/// Attribute type codes (IANA "BGP Path Attributes").
pub mod type_code {
    /// ORIGIN (RFC 4271).
    pub const ORIGIN: u8 = 1;
    /// AS_PATH (RFC 4271).
    pub const AS_PATH: u8 = 2;
    /// NEXT_HOP (RFC 4271).
    pub const NEXT_HOP: u8 = 3;
    /// MULTI_EXIT_DISC (RFC 4271).
    pub const MULTI_EXIT_DISC: u8 = 4;
    /// LOCAL_PREF (RFC 4271).
    pub const LOCAL_PREF: u8 = 5;
    /// ATOMIC_AGGREGATE (RFC 4271).
    pub const ATOMIC_AGGREGATE: u8 = 6;
    /// AGGREGATOR (RFC 4271).
    pub const AGGREGATOR: u8 = 7;
    /// COMMUNITIES (RFC 1997).
    pub const COMMUNITIES: u8 = 8;
    /// ORIGINATOR_ID (RFC 4456).
    pub const ORIGINATOR_ID: u8 = 9;
    /// CLUSTER_LIST (RFC 4456).
    pub const CLUSTER_LIST: u8 = 10;
    /// MP_REACH_NLRI (RFC 4760).
    pub const MP_REACH_NLRI: u8 = 14;
    /// MP_UNREACH_NLRI (RFC 4760).
    pub const MP_UNREACH_NLRI: u8 = 15;
    /// EXTENDED_COMMUNITIES (RFC 4360).
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    /// AS4_PATH (RFC 6793).
    pub const AS4_PATH: u8 = 17;
    /// AS4_AGGREGATOR (RFC 6793).
    pub const AS4_AGGREGATOR: u8 = 18;
    /// LARGE_COMMUNITY (RFC 8092).
    pub const LARGE_COMMUNITY: u8 = 32;
}

/// ORIGIN (RFC 4271 §5.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Origin {
    /// 0: IGP.
    Igp,
    /// 1: EGP.
    Egp,
    /// 2: INCOMPLETE.
    Incomplete,
    /// Any other value (invalid on receipt, §6.3).
    Unknown(u8),
}

impl From<u8> for Origin {
    fn from(v: u8) -> Self {
        match v {
            0 => Origin::Igp,
            1 => Origin::Egp,
            2 => Origin::Incomplete,
            other => Origin::Unknown(other),
        }
    }
}

impl From<Origin> for u8 {
    fn from(o: Origin) -> u8 {
        match o {
            Origin::Igp => 0,
            Origin::Egp => 1,
            Origin::Incomplete => 2,
            Origin::Unknown(v) => v,
        }
    }
}

/// AGGREGATOR (RFC 4271 §5.1.7) or AS4_AGGREGATOR (RFC 6793).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Aggregator {
    /// The AS that formed the aggregate (AS_TRANS in a 2-octet AGGREGATOR for a
    /// 4-octet AS).
    pub asn: u32,
    /// Its BGP speaker's address.
    #[cfg_attr(feature = "defmt", defmt(Debug2Format))]
    pub address: Ipv4Addr,
}

impl Aggregator {
    pub(crate) fn read(v: &[u8], four_octet: bool) -> Option<Self> {
        let (asn, rest) = if four_octet {
            let (a, r) = v.split_first_chunk::<4>()?;
            (u32::from_be_bytes(*a), r)
        } else {
            let (a, r) = v.split_first_chunk::<2>()?;
            (u32::from(u16::from_be_bytes(*a)), r)
        };
        let addr: [u8; 4] = rest.try_into().ok()?;
        Some(Aggregator {
            asn,
            address: Ipv4Addr::from(addr),
        })
    }

    fn write(&self, out: &mut [u8], four_octet: bool) -> usize {
        let at = if four_octet {
            out[..4].copy_from_slice(&self.asn.to_be_bytes());
            4
        } else {
            let a = u16::try_from(self.asn).unwrap_or(AS_TRANS);
            out[..2].copy_from_slice(&a.to_be_bytes());
            2
        };
        out[at..at + 4].copy_from_slice(&self.address.octets());
        at + 4
    }
}

/// An attribute as it is on the wire: flags, type code and value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RawAttribute<'a> {
    /// The flags received.
    pub flags: Flags,
    /// The type code.
    pub type_code: u8,
    /// The value.
    pub value: &'a [u8],
}

#[cfg(feature = "defmt")]
impl defmt::Format for RawAttribute<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(
            f,
            "RawAttribute {{ flags: {=u8:#x}, type_code: {=u8}, value: {=[u8]:x} }}",
            self.flags.0,
            self.type_code,
            self.value
        );
    }
}

impl<'a> RawAttribute<'a> {
    /// Reads the attribute starting at `bytes[0]`; returns it and its total size,
    /// or `None` if the header or value runs past `bytes`.
    #[inline]
    pub fn read(bytes: &'a [u8]) -> Option<(Self, usize)> {
        let (&flags, rest) = bytes.split_first()?;
        let (&type_code, rest) = rest.split_first()?;
        let (len, hdr, rest) = if flags & Flags::EXTENDED_LENGTH != 0 {
            let (l, r) = rest.split_first_chunk::<2>()?;
            (usize::from(u16::from_be_bytes(*l)), 4, r)
        } else {
            let (&l, r) = rest.split_first()?;
            (usize::from(l), 3, r)
        };
        let value = rest.get(..len)?;
        Some((
            RawAttribute {
                flags: Flags(flags),
                type_code,
                value,
            },
            hdr + len,
        ))
    }

    /// The same attribute with the Partial bit set, as an optional transitive
    /// attribute we do not recognize must be passed on (RFC 4271 §5).
    pub const fn with_partial(self) -> Self {
        RawAttribute {
            flags: Flags(self.flags.0 | Flags::PARTIAL),
            ..self
        }
    }

    /// How an unrecognized attribute is passed on (RFC 4271 §5): an optional
    /// transitive one with the Partial bit set, anything else not at all.
    pub const fn propagated(self) -> Option<Self> {
        if self.flags.optional() && self.flags.transitive() {
            Some(self.with_partial())
        } else {
            None
        }
    }

    /// Octets the attribute takes (the Extended Length bit is kept, and set if
    /// the value needs it).
    pub const fn buffer_len(&self) -> usize {
        header_len(self.flags, self.value.len()) + self.value.len()
    }

    /// Writes the attribute; returns the bytes written.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize, EncodeError> {
        let required = self.buffer_len();
        if buffer.len() < required {
            return Err(EncodeError::InsufficientSize { required });
        }
        let at = write_header(buffer, self.flags, self.type_code, self.value.len())?;
        buffer[at..required].copy_from_slice(self.value);
        Ok(required)
    }
}

const fn header_len(flags: Flags, value_len: usize) -> usize {
    if flags.extended_length() || value_len > 255 {
        4
    } else {
        3
    }
}

/// Writes an attribute header (setting the Extended Length bit when the value
/// needs it); the caller checked the buffer holds it.
fn write_header(
    out: &mut [u8],
    flags: Flags,
    type_code: u8,
    value_len: usize,
) -> Result<usize, EncodeError> {
    if value_len > usize::from(u16::MAX) {
        return Err(EncodeError::TooLong {
            length: value_len,
            max: usize::from(u16::MAX),
        });
    }
    out[1] = type_code;
    if header_len(flags, value_len) == 4 {
        out[0] = flags.0 | Flags::EXTENDED_LENGTH;
        out[2..4].copy_from_slice(&(value_len as u16).to_be_bytes());
        Ok(4)
    } else {
        out[0] = flags.0;
        out[2] = value_len as u8;
        Ok(3)
    }
}

/// Iterator over the attributes of a path attributes field; it stops at the
/// first attribute that does not fit.
#[derive(Clone, Debug)]
pub struct RawAttributes<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> RawAttributes<'a> {
    /// Iterates `bytes`, a path attributes field that starts `offset` bytes into
    /// its message.
    pub const fn new(bytes: &'a [u8], offset: usize) -> Self {
        RawAttributes { bytes, offset }
    }
}

impl<'a> Iterator for RawAttributes<'a> {
    /// The attribute and the offset of its flags octet in the message.
    type Item = (usize, RawAttribute<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (a, n) = RawAttribute::read(self.bytes)?;
        let at = self.offset;
        self.bytes = &self.bytes[n..];
        self.offset += n;
        Some((at, a))
    }
}

/// Where an attribute is in its message: its flags octet, its value, its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub value: usize,
    pub end: usize,
}

impl Span {
    /// An UPDATE Message Error about this attribute, whose data is the whole
    /// attribute (RFC 4271 §6.3: "type, length and value").
    pub fn error(
        &self,
        _message: &[u8],
        kind: ErrorKind,
        subcode: u8,
        action: ErrorAction,
    ) -> DecodeError {
        DecodeError::reset(
            kind,
            self.start,
            ErrorCode::UpdateMessage,
            subcode,
            ErrorData::span(self.start, self.end - self.start),
        )
        .with_action(action)
    }
}

/// A typed path attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PathAttribute<'a> {
    /// ORIGIN (type 1).
    Origin(Origin),
    /// AS_PATH (type 2).
    AsPath(AsPath<'a>),
    /// NEXT_HOP (type 3).
    NextHop(#[cfg_attr(feature = "defmt", defmt(Debug2Format))] Ipv4Addr),
    /// MULTI_EXIT_DISC (type 4).
    MultiExitDisc(u32),
    /// LOCAL_PREF (type 5).
    LocalPref(u32),
    /// ATOMIC_AGGREGATE (type 6).
    AtomicAggregate,
    /// AGGREGATOR (type 7).
    Aggregator(Aggregator),
    /// COMMUNITIES (type 8).
    Communities(Communities<'a>),
    /// ORIGINATOR_ID (type 9).
    OriginatorId(#[cfg_attr(feature = "defmt", defmt(Debug2Format))] Ipv4Addr),
    /// CLUSTER_LIST (type 10).
    ClusterList(ClusterList<'a>),
    /// MP_REACH_NLRI (type 14).
    MpReachNlri(MpReachNlri<'a>),
    /// MP_UNREACH_NLRI (type 15).
    MpUnreachNlri(MpUnreachNlri<'a>),
    /// EXTENDED_COMMUNITIES (type 16).
    ExtendedCommunities(ExtendedCommunities<'a>),
    /// AS4_PATH (type 17), always 4-octet.
    As4Path(AsPath<'a>),
    /// AS4_AGGREGATOR (type 18), always 4-octet.
    As4Aggregator(Aggregator),
    /// LARGE_COMMUNITY (type 32).
    LargeCommunities(LargeCommunities<'a>),
    /// Any other attribute, kept as received.
    Unknown(RawAttribute<'a>),
}

impl<'a> PathAttribute<'a> {
    /// The type code.
    pub const fn type_code(&self) -> u8 {
        use type_code::*;
        match self {
            PathAttribute::Origin(_) => ORIGIN,
            PathAttribute::AsPath(_) => AS_PATH,
            PathAttribute::NextHop(_) => NEXT_HOP,
            PathAttribute::MultiExitDisc(_) => MULTI_EXIT_DISC,
            PathAttribute::LocalPref(_) => LOCAL_PREF,
            PathAttribute::AtomicAggregate => ATOMIC_AGGREGATE,
            PathAttribute::Aggregator(_) => AGGREGATOR,
            PathAttribute::Communities(_) => COMMUNITIES,
            PathAttribute::OriginatorId(_) => ORIGINATOR_ID,
            PathAttribute::ClusterList(_) => CLUSTER_LIST,
            PathAttribute::MpReachNlri(_) => MP_REACH_NLRI,
            PathAttribute::MpUnreachNlri(_) => MP_UNREACH_NLRI,
            PathAttribute::ExtendedCommunities(_) => EXTENDED_COMMUNITIES,
            PathAttribute::As4Path(_) => AS4_PATH,
            PathAttribute::As4Aggregator(_) => AS4_AGGREGATOR,
            PathAttribute::LargeCommunities(_) => LARGE_COMMUNITY,
            PathAttribute::Unknown(r) => r.type_code,
        }
    }

    /// The flags this attribute is sent with (RFC 4271 §5, each attribute's RFC);
    /// an unknown attribute keeps its own.
    pub const fn flags(&self) -> Flags {
        match self {
            PathAttribute::Origin(_)
            | PathAttribute::AsPath(_)
            | PathAttribute::NextHop(_)
            | PathAttribute::LocalPref(_)
            | PathAttribute::AtomicAggregate => Flags::WELL_KNOWN,
            PathAttribute::MultiExitDisc(_)
            | PathAttribute::OriginatorId(_)
            | PathAttribute::ClusterList(_)
            | PathAttribute::MpReachNlri(_)
            | PathAttribute::MpUnreachNlri(_) => Flags::OPTIONAL_NON_TRANSITIVE,
            PathAttribute::Aggregator(_)
            | PathAttribute::Communities(_)
            | PathAttribute::ExtendedCommunities(_)
            | PathAttribute::As4Path(_)
            | PathAttribute::As4Aggregator(_)
            | PathAttribute::LargeCommunities(_) => Flags::OPTIONAL_TRANSITIVE,
            PathAttribute::Unknown(r) => r.flags,
        }
    }

    /// Parses and validates one attribute standing alone (`bytes` starts at its
    /// flags octet; offsets in the error count from there), for a session with
    /// `negotiated` and an internal peer; returns it and its size. An attribute the
    /// session ignores (AS4_PATH / AS4_AGGREGATOR between 4-octet speakers) comes
    /// back as [`PathAttribute::Unknown`]. Errors carry the RFC 7606 action.
    pub fn parse(
        bytes: &'a [u8],
        negotiated: &super::Negotiated,
    ) -> Result<(PathAttribute<'a>, usize), DecodeError> {
        let Some((raw, size)) = RawAttribute::read(bytes) else {
            return Err(DecodeError::reset(
                ErrorKind::Truncated {
                    layer: super::error::Layer::PathAttribute,
                    required: 3,
                    available: bytes.len(),
                },
                0,
                ErrorCode::UpdateMessage,
                super::codes::update_subcode::MALFORMED_ATTRIBUTE_LIST,
                ErrorData::Empty,
            )
            .with_action(ErrorAction::TreatAsWithdraw));
        };
        let span = Span {
            start: 0,
            value: size - raw.value.len(),
            end: size,
        };
        match validate::check(bytes, span, raw, negotiated, false) {
            validate::Verdict::Valid => Ok((Self::from_validated(raw, negotiated), size)),
            validate::Verdict::Discard(None) => Ok((PathAttribute::Unknown(raw), size)),
            validate::Verdict::Discard(Some(e))
            | validate::Verdict::Withdraw(e, _)
            | validate::Verdict::Fatal(e) => Err(e),
        }
    }

    /// A typed view of an attribute the UPDATE walk validated; over bytes it did
    /// not validate it gives `Unknown` where a fixed-size value does not fit.
    pub fn from_validated(
        raw: RawAttribute<'a>,
        negotiated: &super::Negotiated,
    ) -> PathAttribute<'a> {
        use type_code::*;
        let v = raw.value;
        // Each arm builds its variant in place; a value that does not fit gives
        // `Unknown` (no `Option<PathAttribute>` to build and copy out again).
        let u32v = || v.try_into().ok().map(u32::from_be_bytes);
        match raw.type_code {
            ORIGIN => match v.first() {
                Some(&o) => PathAttribute::Origin(o.into()),
                None => PathAttribute::Unknown(raw),
            },
            AS_PATH => PathAttribute::AsPath(AsPath::Wire {
                bytes: v,
                four_octet: negotiated.four_octet_as,
            }),
            NEXT_HOP => match u32v() {
                Some(a) => PathAttribute::NextHop(Ipv4Addr::from_bits(a)),
                None => PathAttribute::Unknown(raw),
            },
            MULTI_EXIT_DISC => match u32v() {
                Some(a) => PathAttribute::MultiExitDisc(a),
                None => PathAttribute::Unknown(raw),
            },
            LOCAL_PREF => match u32v() {
                Some(a) => PathAttribute::LocalPref(a),
                None => PathAttribute::Unknown(raw),
            },
            ATOMIC_AGGREGATE => PathAttribute::AtomicAggregate,
            AGGREGATOR => match Aggregator::read(v, negotiated.four_octet_as) {
                Some(a) => PathAttribute::Aggregator(a),
                None => PathAttribute::Unknown(raw),
            },
            COMMUNITIES => PathAttribute::Communities(Items::Wire(v)),
            ORIGINATOR_ID => match u32v() {
                Some(a) => PathAttribute::OriginatorId(Ipv4Addr::from_bits(a)),
                None => PathAttribute::Unknown(raw),
            },
            CLUSTER_LIST => PathAttribute::ClusterList(Items::Wire(v)),
            MP_REACH_NLRI => match MpReachNlri::new_unchecked(v, negotiated) {
                Some(m) => PathAttribute::MpReachNlri(m),
                None => PathAttribute::Unknown(raw),
            },
            MP_UNREACH_NLRI => match MpUnreachNlri::new_unchecked(v, negotiated) {
                Some(m) => PathAttribute::MpUnreachNlri(m),
                None => PathAttribute::Unknown(raw),
            },
            EXTENDED_COMMUNITIES => PathAttribute::ExtendedCommunities(Items::Wire(v)),
            AS4_PATH => PathAttribute::As4Path(AsPath::Wire {
                bytes: v,
                four_octet: true,
            }),
            AS4_AGGREGATOR => match Aggregator::read(v, true) {
                Some(a) => PathAttribute::As4Aggregator(a),
                None => PathAttribute::Unknown(raw),
            },
            LARGE_COMMUNITY => PathAttribute::LargeCommunities(Items::Wire(v)),
            _ => PathAttribute::Unknown(raw),
        }
    }

    /// Octets of the value when encoded for a session with `four_octet_as`.
    pub fn value_len(&self, four_octet_as: bool) -> usize {
        match self {
            PathAttribute::Origin(_) => 1,
            PathAttribute::AsPath(p) => p.value_len(four_octet_as),
            PathAttribute::NextHop(_)
            | PathAttribute::MultiExitDisc(_)
            | PathAttribute::LocalPref(_)
            | PathAttribute::OriginatorId(_) => 4,
            PathAttribute::AtomicAggregate => 0,
            PathAttribute::Aggregator(_) => {
                if four_octet_as {
                    8
                } else {
                    6
                }
            }
            PathAttribute::Communities(c) => c.value_len(),
            PathAttribute::ClusterList(c) => c.value_len(),
            PathAttribute::MpReachNlri(m) => m.value_len(),
            PathAttribute::MpUnreachNlri(m) => m.value_len(),
            PathAttribute::ExtendedCommunities(c) => c.value_len(),
            PathAttribute::As4Path(p) => p.value_len(true),
            PathAttribute::As4Aggregator(_) => 8,
            PathAttribute::LargeCommunities(c) => c.value_len(),
            PathAttribute::Unknown(r) => r.value.len(),
        }
    }

    /// Octets of the whole attribute.
    pub fn buffer_len(&self, four_octet_as: bool) -> usize {
        let v = self.value_len(four_octet_as);
        header_len(self.flags(), v) + v
    }

    /// Writes the attribute for a session with `four_octet_as` (the Extended
    /// Length bit is set exactly when the value exceeds 255 octets, except that an
    /// unknown attribute keeps its flags); returns the bytes written.
    pub fn emit(&self, buffer: &mut [u8], four_octet_as: bool) -> Result<usize, EncodeError> {
        if let PathAttribute::Unknown(r) = self {
            return r.emit(buffer);
        }
        let v = self.value_len(four_octet_as);
        let required = header_len(self.flags(), v) + v;
        if buffer.len() < required {
            return Err(EncodeError::InsufficientSize { required });
        }
        if let PathAttribute::AsPath(p) | PathAttribute::As4Path(p) = self {
            p.check_encodable()?;
        }
        if v > usize::from(u16::MAX) {
            return Err(EncodeError::TooLong {
                length: v,
                max: usize::from(u16::MAX),
            });
        }
        let at = write_header(buffer, self.flags(), self.type_code(), v)?;
        let out = &mut buffer[at..required];
        match self {
            PathAttribute::Origin(o) => out[0] = (*o).into(),
            PathAttribute::AsPath(p) => {
                p.emit_value(out, four_octet_as)?;
            }
            PathAttribute::NextHop(a) | PathAttribute::OriginatorId(a) => {
                out.copy_from_slice(&a.octets())
            }
            PathAttribute::MultiExitDisc(x) | PathAttribute::LocalPref(x) => {
                out.copy_from_slice(&x.to_be_bytes())
            }
            PathAttribute::AtomicAggregate => {}
            PathAttribute::Aggregator(a) => {
                a.write(out, four_octet_as);
            }
            PathAttribute::Communities(c) => {
                c.emit_value(out)?;
            }
            PathAttribute::ClusterList(c) => {
                c.emit_value(out)?;
            }
            PathAttribute::MpReachNlri(m) => {
                m.emit_value(out)?;
            }
            PathAttribute::MpUnreachNlri(m) => {
                m.emit_value(out)?;
            }
            PathAttribute::ExtendedCommunities(c) => {
                c.emit_value(out)?;
            }
            PathAttribute::As4Path(p) => {
                p.emit_value(out, true)?;
            }
            PathAttribute::As4Aggregator(a) => {
                a.write(out, true);
            }
            PathAttribute::LargeCommunities(c) => {
                c.emit_value(out)?;
            }
            PathAttribute::Unknown(_) => {}
        }
        Ok(required)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for RawAttributes<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "RawAttributes");
    }
}
