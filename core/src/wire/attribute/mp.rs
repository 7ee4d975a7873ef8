//! MP_REACH_NLRI (type 14) and MP_UNREACH_NLRI (type 15), RFC 4760 §3 and §4,
//! for IPv4 and IPv6 unicast and multicast; next hops of 4, 16 or 32 octets
//! (global + link-local, RFC 2545 §3) and IPv6 next hops for IPv4 NLRI (RFC 8950).
//! Malformations follow RFC 7606 §7.11 and §5.3 (see [`MpReachNlri::parse`]).

use core::net::{Ipv4Addr, Ipv6Addr};

use super::super::Negotiated;
use super::super::codes::update_subcode;
use super::super::error::{DecodeError, EncodeError, ErrorAction, ErrorKind};
use super::super::family::{Afi, Family, Safi};
use super::super::nlri::{self, Nlri, NlriIter};
use super::Span;

/// The next hop of an MP_REACH_NLRI (RFC 4760 §3, RFC 2545 §3, RFC 8950 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MpNextHop {
    /// 4 octets: an IPv4 address.
    Ipv4(#[cfg_attr(feature = "defmt", defmt(Debug2Format))] Ipv4Addr),
    /// 16 octets: a global IPv6 address.
    Ipv6(#[cfg_attr(feature = "defmt", defmt(Debug2Format))] Ipv6Addr),
    /// 32 octets: a global and a link-local IPv6 address.
    Ipv6LinkLocal {
        /// The global address.
        #[cfg_attr(feature = "defmt", defmt(Debug2Format))]
        global: Ipv6Addr,
        /// The link-local address.
        #[cfg_attr(feature = "defmt", defmt(Debug2Format))]
        link_local: Ipv6Addr,
    },
}

impl MpNextHop {
    /// Octets of the next hop.
    pub const fn wire_len(&self) -> usize {
        match self {
            MpNextHop::Ipv4(_) => 4,
            MpNextHop::Ipv6(_) => 16,
            MpNextHop::Ipv6LinkLocal { .. } => 32,
        }
    }

    fn read(afi: Afi, b: &[u8]) -> Option<Self> {
        Some(match (afi, b.len()) {
            (Afi::Ipv4, 4) => MpNextHop::Ipv4(Ipv4Addr::from(<[u8; 4]>::try_from(b).ok()?)),
            (Afi::Ipv4 | Afi::Ipv6, 16) => {
                MpNextHop::Ipv6(Ipv6Addr::from(<[u8; 16]>::try_from(b).ok()?))
            }
            (Afi::Ipv4 | Afi::Ipv6, 32) => MpNextHop::Ipv6LinkLocal {
                global: Ipv6Addr::from(<[u8; 16]>::try_from(&b[..16]).ok()?),
                link_local: Ipv6Addr::from(<[u8; 16]>::try_from(&b[16..]).ok()?),
            },
            _ => return None,
        })
    }

    pub(crate) fn write(&self, out: &mut [u8]) {
        match self {
            MpNextHop::Ipv4(a) => out[..4].copy_from_slice(&a.octets()),
            MpNextHop::Ipv6(a) => out[..16].copy_from_slice(&a.octets()),
            MpNextHop::Ipv6LinkLocal { global, link_local } => {
                out[..16].copy_from_slice(&global.octets());
                out[16..32].copy_from_slice(&link_local.octets());
            }
        }
    }
}

/// The prefixes of an MP attribute: a validated wire field or a caller's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefixes<'a> {
    /// A validated NLRI field.
    Wire(NlriIter<'a>),
    /// A list, for encoding; entries with a path identifier emit it.
    List(&'a [Nlri]),
}

#[cfg(feature = "defmt")]
impl defmt::Format for Prefixes<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "{=usize} prefixes", self.iter().count());
    }
}

impl<'a> Prefixes<'a> {
    /// The entries.
    pub fn iter(&self) -> PrefixIter<'a> {
        match *self {
            Prefixes::Wire(i) => PrefixIter {
                wire: i,
                list: [].iter(),
            },
            Prefixes::List(l) => PrefixIter {
                wire: NlriIter::empty(),
                list: l.iter(),
            },
        }
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        match self {
            Prefixes::Wire(i) => i.as_bytes().is_empty(),
            Prefixes::List(l) => l.is_empty(),
        }
    }

    /// Octets of the encoded field.
    pub fn value_len(&self) -> usize {
        match self {
            Prefixes::Wire(i) => i.as_bytes().len(),
            Prefixes::List(l) => l.iter().map(Nlri::buffer_len).sum(),
        }
    }

    fn write(&self, out: &mut [u8]) {
        match self {
            Prefixes::Wire(i) => out[..i.as_bytes().len()].copy_from_slice(i.as_bytes()),
            Prefixes::List(l) => {
                let mut at = 0;
                for n in *l {
                    at += n.emit(&mut out[at..]).unwrap_or(0);
                }
            }
        }
    }
}

/// Iterator over [`Prefixes`].
#[derive(Clone, Debug)]
pub struct PrefixIter<'a> {
    wire: NlriIter<'a>,
    list: core::slice::Iter<'a, Nlri>,
}

impl Iterator for PrefixIter<'_> {
    type Item = Nlri;

    #[inline]
    fn next(&mut self) -> Option<Nlri> {
        match self.wire.next() {
            Some(n) => Some(n),
            None => self.list.next().copied(),
        }
    }

    /// The wire field's own `fold`, then the list's.
    #[inline]
    fn fold<B, F>(self, init: B, mut f: F) -> B
    where
        F: FnMut(B, Nlri) -> B,
    {
        let acc = self.wire.fold(init, &mut f);
        self.list.copied().fold(acc, f)
    }
}

/// MP_REACH_NLRI (RFC 4760 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MpReachNlri<'a> {
    /// AFI and SAFI of the prefixes.
    pub family: Family,
    /// The next hop.
    pub next_hop: MpNextHop,
    /// The reachable prefixes.
    pub nlri: Prefixes<'a>,
}

/// MP_UNREACH_NLRI (RFC 4760 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MpUnreachNlri<'a> {
    /// AFI and SAFI of the prefixes.
    pub family: Family,
    /// The withdrawn prefixes.
    pub withdrawn: Prefixes<'a>,
}

/// Whether nexthop can parse the NLRI of `family` (IPv4/IPv6 unicast/multicast).
pub const fn family_supported(family: Family) -> bool {
    matches!(family.afi, Afi::Ipv4 | Afi::Ipv6)
        && matches!(family.safi, Safi::Unicast | Safi::Multicast)
}

/// Reads AFI/SAFI; a value under 3 octets cannot name a family: session reset.
fn family(message: &[u8], span: Span, type_code: u8) -> Result<Family, DecodeError> {
    match message.get(span.value..span.value + 3) {
        Some(&[a0, a1, safi]) if span.value + 3 <= span.end => {
            let family = Family::from_wire(u16::from_be_bytes([a0, a1]), safi);
            if family_supported(family) {
                Ok(family)
            } else {
                Err(span.error(
                    message,
                    ErrorKind::UnnegotiatedFamily { family },
                    update_subcode::OPTIONAL_ATTRIBUTE_ERROR,
                    ErrorAction::AfiSafiDisable(family),
                ))
            }
        }
        _ => Err(span.error(
            message,
            ErrorKind::AttributeLength {
                type_code,
                length: (span.end - span.value) as u16,
            },
            update_subcode::ATTRIBUTE_LENGTH_ERROR,
            ErrorAction::SessionReset,
        )),
    }
}

impl<'a> MpReachNlri<'a> {
    /// Parses and validates a value standing alone (offsets count from its start).
    pub fn parse(value: &'a [u8], negotiated: &Negotiated) -> Result<Self, DecodeError> {
        let span = Span {
            start: 0,
            value: 0,
            end: value.len(),
        };
        Self::parse_in(value, span, negotiated)
    }

    /// Parses the attribute at `span` of `message` (RFC 7606 §7.11, §5.3).
    ///
    /// A value too short to hold AFI/SAFI is a session reset. Anything else
    /// malformed (a family nexthop cannot parse, a next hop length that fits no
    /// form, a next hop running past the value, a bad prefix) is reported with
    /// the action "AFI/SAFI disable" for the family, as RFC 7606 §7.11 allows when
    /// the family is known. nexthop negotiates no way to disable one family, so the
    /// caller resets the session for either action; the action still says which
    /// family was at fault.
    pub(crate) fn parse_in(
        message: &'a [u8],
        span: Span,
        negotiated: &Negotiated,
    ) -> Result<Self, DecodeError> {
        let family = family(message, span, 14)?;
        let disable = ErrorAction::AfiSafiDisable(family);
        let bad_next_hop = || {
            span.error(
                message,
                ErrorKind::InvalidNextHop,
                update_subcode::OPTIONAL_ATTRIBUTE_ERROR,
                disable,
            )
        };
        let nh_len = match message.get(span.value + 3) {
            Some(&l) if span.value + 4 <= span.end => usize::from(l),
            _ => return Err(bad_next_hop()),
        };
        let nh_start = span.value + 4;
        // Next hop, then the Reserved octet (RFC 4760 §3), must fit the value.
        if nh_start + nh_len + 1 > span.end {
            return Err(bad_next_hop());
        }
        let next_hop = message
            .get(nh_start..nh_start + nh_len)
            .and_then(|b| MpNextHop::read(family.afi, b))
            .ok_or_else(bad_next_hop)?;
        let nlri_start = nh_start + nh_len + 1;
        let add_path = negotiated.add_path_receive.contains(family);
        let count = nlri::check(message, nlri_start, span.end, family.afi, add_path)
            .map_err(|e| e.with_action(disable))?;
        Ok(MpReachNlri {
            family,
            next_hop,
            nlri: Prefixes::Wire(NlriIter::new_unchecked(
                &message[nlri_start..span.end],
                count,
                family.afi,
                add_path,
            )),
        })
    }

    /// A view of a value that [`MpReachNlri::parse`] (or the UPDATE walk)
    /// accepted, without checking its prefixes again; `None` where the fixed part
    /// does not fit.
    pub fn new_unchecked(value: &'a [u8], negotiated: &Negotiated) -> Option<Self> {
        let (&[a0, a1, safi, nh_len], rest) = value.split_first_chunk::<4>()?;
        let family = Family::from_wire(u16::from_be_bytes([a0, a1]), safi);
        let nh_len = usize::from(nh_len);
        let next_hop = MpNextHop::read(family.afi, rest.get(..nh_len)?)?;
        let field = rest.get(nh_len + 1..)?;
        let add_path = negotiated.add_path_receive.contains(family);
        Some(MpReachNlri {
            family,
            next_hop,
            nlri: Prefixes::Wire(NlriIter::new_unchecked(
                field,
                usize::MAX,
                family.afi,
                add_path,
            )),
        })
    }

    /// Octets of the value.
    pub fn value_len(&self) -> usize {
        5 + self.next_hop.wire_len() + self.nlri.value_len()
    }

    /// Writes the value; returns the bytes written.
    pub fn emit_value(&self, buffer: &mut [u8]) -> Result<usize, EncodeError> {
        let required = self.value_len();
        let Some(out) = buffer.get_mut(..required) else {
            return Err(EncodeError::InsufficientSize { required });
        };
        out[..2].copy_from_slice(&u16::from(self.family.afi).to_be_bytes());
        out[2] = self.family.safi.into();
        let nh = self.next_hop.wire_len();
        out[3] = nh as u8;
        self.next_hop.write(&mut out[4..]);
        out[4 + nh] = 0;
        self.nlri.write(&mut out[5 + nh..]);
        Ok(required)
    }
}

impl<'a> MpUnreachNlri<'a> {
    /// Parses and validates a value standing alone (offsets count from its start).
    pub fn parse(value: &'a [u8], negotiated: &Negotiated) -> Result<Self, DecodeError> {
        let span = Span {
            start: 0,
            value: 0,
            end: value.len(),
        };
        Self::parse_in(value, span, negotiated)
    }

    /// Parses the attribute at `span` of `message`, with the actions of
    /// [`MpReachNlri::parse_in`].
    pub(crate) fn parse_in(
        message: &'a [u8],
        span: Span,
        negotiated: &Negotiated,
    ) -> Result<Self, DecodeError> {
        let family = family(message, span, 15)?;
        let start = span.value + 3;
        let add_path = negotiated.add_path_receive.contains(family);
        let count = nlri::check(message, start, span.end, family.afi, add_path)
            .map_err(|e| e.with_action(ErrorAction::AfiSafiDisable(family)))?;
        Ok(MpUnreachNlri {
            family,
            withdrawn: Prefixes::Wire(NlriIter::new_unchecked(
                &message[start..span.end],
                count,
                family.afi,
                add_path,
            )),
        })
    }

    /// A view of a value that [`MpUnreachNlri::parse`] (or the UPDATE walk)
    /// accepted, without checking its prefixes again.
    pub fn new_unchecked(value: &'a [u8], negotiated: &Negotiated) -> Option<Self> {
        let (&[a0, a1, safi], field) = value.split_first_chunk::<3>()?;
        let family = Family::from_wire(u16::from_be_bytes([a0, a1]), safi);
        let add_path = negotiated.add_path_receive.contains(family);
        Some(MpUnreachNlri {
            family,
            withdrawn: Prefixes::Wire(NlriIter::new_unchecked(
                field,
                usize::MAX,
                family.afi,
                add_path,
            )),
        })
    }

    /// Octets of the value.
    pub fn value_len(&self) -> usize {
        3 + self.withdrawn.value_len()
    }

    /// Writes the value; returns the bytes written.
    pub fn emit_value(&self, buffer: &mut [u8]) -> Result<usize, EncodeError> {
        let required = self.value_len();
        let Some(out) = buffer.get_mut(..required) else {
            return Err(EncodeError::InsufficientSize { required });
        };
        out[..2].copy_from_slice(&u16::from(self.family.afi).to_be_bytes());
        out[2] = self.family.safi.into();
        self.withdrawn.write(&mut out[3..]);
        Ok(required)
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for PrefixIter<'_> {
    fn format(&self, f: defmt::Formatter) {
        defmt::write!(f, "PrefixIter");
    }
}
