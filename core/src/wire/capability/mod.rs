//! BGP capabilities (RFC 5492): the Capabilities Optional Parameter of an OPEN,
//! a sequence of (code, length, value) triples, and the capabilities nexthop
//! understands; any other is kept raw. [`negotiate`] turns both sides' lists into
//! the session's [`Negotiated`](crate::wire::Negotiated) parameters.

mod add_path;
mod extended_next_hop;
mod graceful_restart;
mod items;
mod negotiate;
pub(crate) mod parameters;

use core::fmt;

pub use add_path::{AddPathMode, AddPaths};
pub use extended_next_hop::{ExtendedNextHop, ExtendedNextHops};
pub use graceful_restart::{GracefulRestart, GracefulRestartFamilies, GracefulRestartFamily};
pub use items::{Items, ItemsIter, WireItem};
pub use negotiate::negotiate;
pub use parameters::EXTENDED_LENGTH_PARAMETER;

use super::codes::ErrorCode;
use super::error::{DecodeError, EncodeError, ErrorData, ErrorKind};
use super::family::Family;
use items::write_list;

/// Optional Parameter type of the Capabilities parameter (RFC 5492 §4).
pub const CAPABILITIES_PARAMETER: u8 = 2;

/// Capability codes (IANA "Capability Codes" registry).
pub mod code {
    /// 1: Multiprotocol Extensions for BGP-4 (RFC 4760 §8).
    pub const MULTIPROTOCOL: u8 = 1;
    /// 2: Route Refresh Capability for BGP-4 (RFC 2918 §2).
    pub const ROUTE_REFRESH: u8 = 2;
    /// 5: Extended Next Hop Encoding (RFC 8950 §3).
    pub const EXTENDED_NEXT_HOP: u8 = 5;
    /// 6: BGP Extended Message (RFC 8654 §3).
    pub const EXTENDED_MESSAGE: u8 = 6;
    /// 64: Graceful Restart Capability (RFC 4724 §3).
    pub const GRACEFUL_RESTART: u8 = 64;
    /// 65: Support for 4-octet AS number capability (RFC 6793 §3).
    pub const FOUR_OCTET_AS: u8 = 65;
    /// 69: ADD-PATH Capability (RFC 7911 §4).
    pub const ADD_PATH: u8 = 69;
    /// 70: Enhanced Route Refresh Capability (RFC 7313 §3.1).
    pub const ENHANCED_ROUTE_REFRESH: u8 = 70;
}

/// The largest capability value: its length field is one octet (RFC 5492 §4).
pub const MAX_VALUE_LEN: usize = 255;

/// A capability whose value's length does not fit its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MalformedCapability {
    /// The capability code.
    pub code: u8,
}

impl fmt::Display for MalformedCapability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed capability {}", self.code)
    }
}

impl core::error::Error for MalformedCapability {}

/// One capability (RFC 5492 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Capability<'a> {
    /// Multiprotocol Extensions (RFC 4760 §8), code 1: AFI, reserved octet, SAFI.
    Multiprotocol(Family),
    /// Route Refresh (RFC 2918 §2), code 2, no value.
    RouteRefresh,
    /// Extended Next Hop Encoding (RFC 8950 §3), code 5.
    ExtendedNextHop(ExtendedNextHops<'a>),
    /// BGP Extended Message (RFC 8654 §3), code 6, no value.
    ExtendedMessage,
    /// Graceful Restart (RFC 4724 §3), code 64.
    GracefulRestart(GracefulRestart<'a>),
    /// Support for 4-octet AS numbers (RFC 6793 §3), code 65: the speaker's AS.
    FourOctetAs(u32),
    /// ADD-PATH (RFC 7911 §4), code 69: (family, mode) items.
    AddPath(AddPaths<'a>),
    /// Enhanced Route Refresh (RFC 7313 §3.1), code 70, no value.
    EnhancedRouteRefresh,
    /// Any other capability, or a known one whose value holds something this
    /// crate cannot represent (an ADD-PATH mode other than 1-3, an extended next
    /// hop SAFI over 255): kept as received.
    Unknown {
        /// The capability code.
        code: u8,
        /// The value.
        value: &'a [u8],
    },
}

impl<'a> Capability<'a> {
    /// Reads a capability from its code and value. Fails when the value's
    /// length does not fit a known code.
    pub fn from_value(code: u8, value: &'a [u8]) -> Result<Self, MalformedCapability> {
        let malformed = MalformedCapability { code };
        let empty = |c: Capability<'a>| {
            if value.is_empty() {
                Ok(c)
            } else {
                Err(malformed)
            }
        };
        match code {
            code::MULTIPROTOCOL => match *value {
                // The reserved octet is ignored on receipt (RFC 4760 §8).
                [a0, a1, _reserved, safi] => Ok(Capability::Multiprotocol(Family::from_wire(
                    u16::from_be_bytes([a0, a1]),
                    safi,
                ))),
                _ => Err(malformed),
            },
            code::ROUTE_REFRESH => empty(Capability::RouteRefresh),
            code::EXTENDED_MESSAGE => empty(Capability::ExtendedMessage),
            code::ENHANCED_ROUTE_REFRESH => empty(Capability::EnhancedRouteRefresh),
            code::FOUR_OCTET_AS => match *value {
                [a, b, c, d] => Ok(Capability::FourOctetAs(u32::from_be_bytes([a, b, c, d]))),
                _ => Err(malformed),
            },
            code::EXTENDED_NEXT_HOP => {
                Ok(match Items::from_wire(value).map_err(|()| malformed)? {
                    Some(items) => Capability::ExtendedNextHop(items),
                    None => Capability::Unknown { code, value },
                })
            }
            code::ADD_PATH => Ok(match Items::from_wire(value).map_err(|()| malformed)? {
                Some(items) => Capability::AddPath(items),
                None => Capability::Unknown { code, value },
            }),
            code::GRACEFUL_RESTART => GracefulRestart::from_value(value)
                .map(Capability::GracefulRestart)
                .map_err(|()| malformed),
            _ => Ok(Capability::Unknown { code, value }),
        }
    }

    /// The capability code.
    pub const fn code(&self) -> u8 {
        match self {
            Capability::Multiprotocol(_) => code::MULTIPROTOCOL,
            Capability::RouteRefresh => code::ROUTE_REFRESH,
            Capability::ExtendedNextHop(_) => code::EXTENDED_NEXT_HOP,
            Capability::ExtendedMessage => code::EXTENDED_MESSAGE,
            Capability::GracefulRestart(_) => code::GRACEFUL_RESTART,
            Capability::FourOctetAs(_) => code::FOUR_OCTET_AS,
            Capability::AddPath(_) => code::ADD_PATH,
            Capability::EnhancedRouteRefresh => code::ENHANCED_ROUTE_REFRESH,
            Capability::Unknown { code, .. } => *code,
        }
    }

    /// Bytes the value takes (without the code and length octets).
    pub fn value_len(&self) -> usize {
        match self {
            Capability::Multiprotocol(_) | Capability::FourOctetAs(_) => 4,
            Capability::RouteRefresh
            | Capability::ExtendedMessage
            | Capability::EnhancedRouteRefresh => 0,
            Capability::ExtendedNextHop(items) => items.byte_len(),
            Capability::GracefulRestart(gr) => gr.value_len(),
            Capability::AddPath(items) => items.byte_len(),
            Capability::Unknown { value, .. } => value.len(),
        }
    }

    /// Bytes the capability takes: code, length and value.
    pub fn buffer_len(&self) -> usize {
        2 + self.value_len()
    }

    /// Checks that the capability can be encoded: its value fits the one-octet
    /// length, and every field fits its bits.
    fn check_encodable(&self) -> Result<(), EncodeError> {
        let length = self.value_len();
        if length > MAX_VALUE_LEN {
            return Err(EncodeError::TooLong {
                length,
                max: MAX_VALUE_LEN,
            });
        }
        if let Capability::GracefulRestart(gr) = self {
            if gr.restart_flags > 0x0f {
                return Err(EncodeError::Invalid {
                    what: "Graceful Restart flags are 4 bits",
                });
            }
            if gr.restart_time > GracefulRestart::MAX_RESTART_TIME {
                return Err(EncodeError::Invalid {
                    what: "Graceful Restart time is 12 bits",
                });
            }
        }
        Ok(())
    }

    /// Writes code, length and value; returns the bytes written.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize, EncodeError> {
        self.check_encodable()?;
        let len = self.buffer_len();
        let Some(out) = buffer.get_mut(..len) else {
            return Err(EncodeError::InsufficientSize { required: len });
        };
        let Some((head, value)) = out.split_first_chunk_mut::<2>() else {
            return Err(EncodeError::InsufficientSize { required: len });
        };
        *head = [self.code(), (len - 2) as u8];
        match self {
            Capability::Multiprotocol(f) => {
                let afi = u16::from(f.afi).to_be_bytes();
                value.copy_from_slice(&[afi[0], afi[1], 0, u8::from(f.safi)]);
            }
            Capability::FourOctetAs(asn) => value.copy_from_slice(&asn.to_be_bytes()),
            Capability::RouteRefresh
            | Capability::ExtendedMessage
            | Capability::EnhancedRouteRefresh => {}
            Capability::ExtendedNextHop(items) => items.encode(value),
            Capability::GracefulRestart(gr) => gr.encode(value),
            Capability::AddPath(items) => items.encode(value),
            Capability::Unknown { value: v, .. } => value.copy_from_slice(v),
        }
        Ok(len)
    }
}

impl fmt::Display for Capability<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capability::Multiprotocol(family) => write!(f, "Multiprotocol Extensions {family}"),
            Capability::RouteRefresh => f.write_str("Route Refresh"),
            Capability::ExtendedNextHop(items) => {
                f.write_str("Extended Next Hop Encoding ")?;
                write_list(f, items, |f, x| write!(f, "{x}"))
            }
            Capability::ExtendedMessage => f.write_str("Extended Message"),
            Capability::GracefulRestart(gr) => write!(f, "{gr}"),
            Capability::FourOctetAs(asn) => write!(f, "4-octet AS {asn}"),
            Capability::AddPath(items) => {
                f.write_str("ADD-PATH ")?;
                write_list(f, items, |f, (family, mode)| write!(f, "{family} {mode}"))
            }
            Capability::EnhancedRouteRefresh => f.write_str("Enhanced Route Refresh"),
            Capability::Unknown { code, value } => {
                write!(f, "capability {code} (")?;
                for (i, b) in value.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{b:02x}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// The capabilities of an OPEN. Parsed ones borrow the received message; to
/// emit, a caller hands a slice. Two values are equal when they hold the same
/// capabilities in the same order, whatever their form.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Capabilities<'a> {
    /// Concatenated capability triples, already validated: the value of the
    /// OPEN's only Capabilities parameter, or empty for an OPEN without one.
    Wire(&'a [u8]),
    /// Capabilities to emit.
    List(&'a [Capability<'a>]),
    /// Several Capabilities parameters, already validated: the Optional
    /// Parameters field (after its length), whose parameter lengths are 2
    /// octets if `extended` (RFC 9072 §2), else 1 octet.
    Parameters {
        /// The Optional Parameters field.
        parameters: &'a [u8],
        /// Whether parameter lengths are 2 octets (RFC 9072).
        extended: bool,
    },
}

impl<'a> Capabilities<'a> {
    /// No capabilities.
    pub const EMPTY: Capabilities<'static> = Capabilities::List(&[]);

    /// The capabilities, in order.
    pub fn iter(&self) -> CapabilityIter<'a> {
        CapabilityIter {
            triples: self.triples(),
        }
    }

    /// The raw (code, value, whole triple) of each capability.
    fn triples(&self) -> Triples<'a> {
        match *self {
            Capabilities::Wire(bytes) => Triples::Wire(bytes),
            Capabilities::List(list) => Triples::List(list.iter()),
            Capabilities::Parameters {
                parameters,
                extended,
            } => Triples::Parameters {
                parameters,
                extended,
                current: &[],
            },
        }
    }

    /// Bytes the capabilities take as triples, without any parameter header.
    pub fn byte_len(&self) -> usize {
        match *self {
            Capabilities::Wire(bytes) => bytes.len(),
            Capabilities::List(list) => list.iter().map(Capability::buffer_len).sum(),
            Capabilities::Parameters { .. } => {
                let mut t = self.triples();
                let mut n = 0;
                while let Some(item) = t.next_item() {
                    n += match item {
                        Triple::Raw { whole, .. } => whole.len(),
                        Triple::Parsed(c) => c.buffer_len(),
                    };
                }
                n
            }
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.byte_len() == 0
    }

    /// Writes the triples; returns the bytes written.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize, EncodeError> {
        if let Capabilities::List(list) = self {
            for c in list.iter() {
                c.check_encodable()?;
            }
        }
        let required = self.byte_len();
        let Some(out) = buffer.get_mut(..required) else {
            return Err(EncodeError::InsufficientSize { required });
        };
        if let Capabilities::Wire(bytes) = self {
            out.copy_from_slice(bytes);
            return Ok(required);
        }
        let mut t = self.triples();
        let mut at = 0;
        while let Some(item) = t.next_item() {
            let rest = out.get_mut(at..).unwrap_or_default();
            at += match item {
                Triple::Raw { whole, .. } => match rest.get_mut(..whole.len()) {
                    Some(dst) => {
                        dst.copy_from_slice(whole);
                        whole.len()
                    }
                    None => return Err(EncodeError::InsufficientSize { required }),
                },
                Triple::Parsed(c) => c.emit(rest)?,
            };
        }
        Ok(at)
    }

    /// The 4-octet AS capability's value, if there is one (RFC 6793 §3).
    pub fn four_octet_as(&self) -> Option<u32> {
        self.iter().find_map(|c| match c {
            Capability::FourOctetAs(asn) => Some(asn),
            _ => None,
        })
    }

    /// The families of the Multiprotocol Extensions capabilities (RFC 4760 §8),
    /// in order.
    pub fn multiprotocol(&self) -> impl Iterator<Item = Family> + 'a {
        self.iter().filter_map(|c| match c {
            Capability::Multiprotocol(family) => Some(family),
            _ => None,
        })
    }

    /// Whether a capability with `code` is there.
    pub fn contains(&self, code: u8) -> bool {
        self.iter().any(|c| c.code() == code)
    }
}

impl PartialEq for Capabilities<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Capabilities<'_> {}

impl fmt::Display for Capabilities<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, c) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{c}")?;
        }
        f.write_str("]")
    }
}

/// One capability as [`Triples`] yields it.
enum Triple<'a> {
    /// From the wire: code, value and the whole triple.
    Raw {
        code: u8,
        value: &'a [u8],
        whole: &'a [u8],
    },
    /// From a caller's list.
    Parsed(Capability<'a>),
}

/// Walks the capabilities of any form of [`Capabilities`].
#[derive(Clone, Debug)]
enum Triples<'a> {
    Wire(&'a [u8]),
    List(core::slice::Iter<'a, Capability<'a>>),
    Parameters {
        parameters: &'a [u8],
        extended: bool,
        current: &'a [u8],
    },
}

impl<'a> Triples<'a> {
    fn next_item(&mut self) -> Option<Triple<'a>> {
        match self {
            Triples::Wire(bytes) => next_triple(bytes),
            Triples::List(list) => list.next().copied().map(Triple::Parsed),
            Triples::Parameters {
                parameters,
                extended,
                current,
            } => loop {
                if let Some(t) = next_triple(current) {
                    return Some(t);
                }
                let (parameter_type, value, _) = parameters::next_parameter(parameters, *extended)?;
                if parameter_type == CAPABILITIES_PARAMETER {
                    *current = value;
                }
            },
        }
    }
}

/// Splits the first capability triple off `bytes`; `None` (and `bytes` emptied)
/// when it does not fit.
fn next_triple<'a>(bytes: &mut &'a [u8]) -> Option<Triple<'a>> {
    let all: &'a [u8] = bytes;
    let (code, len) = match *all {
        [code, len, ..] => (code, usize::from(len)),
        _ => {
            *bytes = &[];
            return None;
        }
    };
    let Some((whole, rest)) = all.split_at_checked(2 + len) else {
        *bytes = &[];
        return None;
    };
    *bytes = rest;
    Some(Triple::Raw {
        code,
        value: whole.get(2..).unwrap_or_default(),
        whole,
    })
}

/// Iterator over [`Capabilities`].
#[derive(Clone, Debug)]
pub struct CapabilityIter<'a> {
    triples: Triples<'a>,
}

impl<'a> Iterator for CapabilityIter<'a> {
    type Item = Capability<'a>;

    fn next(&mut self) -> Option<Capability<'a>> {
        Some(match self.triples.next_item()? {
            // Validated triples always read; a caller-built `Wire` whose triple
            // does not is shown raw rather than dropped.
            Triple::Raw { code, value, .. } => {
                Capability::from_value(code, value).unwrap_or(Capability::Unknown { code, value })
            }
            Triple::Parsed(c) => c,
        })
    }
}

/// Checks the value of one Capabilities parameter, which starts at `offset` of
/// the message: a sequence of whole triples, each well formed for its code.
/// A triple that runs past the parameter, or whose length does not fit its
/// code, is OPEN Message Error / Unspecific (RFC 4271 §6.2: a recognized
/// optional parameter that is malformed).
pub(crate) fn validate(mut bytes: &[u8], offset: usize) -> Result<(), DecodeError> {
    let total = bytes.len();
    loop {
        let at = offset + (total - bytes.len());
        let first = bytes.first().copied();
        match next_triple(&mut bytes) {
            None => {
                return match first {
                    None => Ok(()),
                    Some(code) => Err(malformed_capability(code, at)),
                };
            }
            Some(Triple::Raw { code, value, .. }) => {
                if Capability::from_value(code, value).is_err() {
                    return Err(malformed_capability(code, at));
                }
            }
            Some(Triple::Parsed(_)) => {}
        }
    }
}

/// OPEN Message Error / Unspecific for a malformed capability at `offset`.
fn malformed_capability(code: u8, offset: usize) -> DecodeError {
    DecodeError::reset(
        ErrorKind::MalformedCapability { code },
        offset,
        ErrorCode::OpenMessage,
        0,
        ErrorData::Empty,
    )
}

#[cfg(test)]
mod tests;
