//! Decode and encode errors.
//!
//! A [`DecodeError`] says what was wrong ([`ErrorKind`]) and at which byte offset
//! of the message (counted from the first marker byte), the NOTIFICATION that
//! RFC 4271 §6 requires for it (code, subcode and data), and what RFC 7606 §2 says
//! to do about it ([`ErrorAction`]).

use core::fmt;

use super::codes::{ErrorCode, NotificationCode};
use super::family::Family;

/// What RFC 7606 §2 says to do about a malformed message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ErrorAction {
    /// Send the NOTIFICATION and close the session (RFC 4271 §6, RFC 7606 "session reset").
    SessionReset,
    /// Stop exchanging this family with the peer (RFC 4760 §7, RFC 7606 "AFI/SAFI
    /// disable"); nexthop negotiates no way to do that alone, so callers reset.
    AfiSafiDisable(Family),
    /// Keep the session; treat every prefix the UPDATE carried as withdrawn (RFC 7606 §2).
    TreatAsWithdraw,
    /// Keep the session and the routes; ignore the malformed attribute (RFC 7606 §2).
    AttributeDiscard,
}

impl ErrorAction {
    /// How severe the action is: when one UPDATE has several errors, the most
    /// severe one decides (RFC 7606 §3 (j)).
    pub const fn severity(self) -> u8 {
        match self {
            ErrorAction::AttributeDiscard => 0,
            ErrorAction::TreatAsWithdraw => 1,
            ErrorAction::AfiSafiDisable(_) => 2,
            ErrorAction::SessionReset => 3,
        }
    }

    /// The RFC's words for the action.
    pub const fn name(self) -> &'static str {
        match self {
            ErrorAction::SessionReset => "session reset",
            ErrorAction::AfiSafiDisable(_) => "AFI/SAFI disable",
            ErrorAction::TreatAsWithdraw => "treat-as-withdraw",
            ErrorAction::AttributeDiscard => "attribute discard",
        }
    }
}

/// The part of a message where a length ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Layer {
    /// The 19-byte message header (§4.1).
    Header,
    /// The fixed part of an OPEN (§4.2).
    Open,
    /// An optional parameter of an OPEN (§4.2, RFC 9072).
    OptionalParameter,
    /// A capability (RFC 5492).
    Capability,
    /// The withdrawn routes field of an UPDATE (§4.3).
    WithdrawnRoutes,
    /// The path attributes field of an UPDATE (§4.3).
    PathAttributes,
    /// One path attribute (§4.3, §5).
    PathAttribute,
    /// An NLRI field (§4.3, RFC 4760, RFC 7911).
    Nlri,
    /// A NOTIFICATION (§4.5).
    Notification,
    /// A ROUTE-REFRESH (RFC 2918, RFC 7313).
    RouteRefresh,
}

/// What was wrong with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ErrorKind {
    /// A field needed more bytes than its enclosing length left.
    Truncated {
        /// Where it ran out.
        layer: Layer,
        /// Bytes the field needed.
        required: usize,
        /// Bytes that were there.
        available: usize,
    },
    /// The marker is not all ones (§6.1: Connection Not Synchronized).
    BadMarker,
    /// The header's length is out of range for the message type (§6.1).
    BadMessageLength {
        /// The length field.
        length: u16,
    },
    /// The header's type is not one we know (§6.1).
    BadMessageType {
        /// The type field.
        message_type: u8,
    },
    /// OPEN version is not 4 (§6.2).
    UnsupportedVersion {
        /// The version received.
        version: u8,
    },
    /// The peer's AS is not the one configured (§6.2).
    BadPeerAs {
        /// The AS the peer announced (4-octet where it sent the capability).
        asn: u32,
    },
    /// The BGP Identifier is not a valid unicast host address, or clashes (§6.2, RFC 6286).
    BadBgpIdentifier {
        /// The identifier received.
        identifier: u32,
    },
    /// Hold time of 1 or 2 seconds (§6.2), or one the local policy refuses.
    UnacceptableHoldTime {
        /// The hold time received.
        hold_time: u16,
    },
    /// An optional parameter we do not know (§6.2).
    UnsupportedOptionalParameter {
        /// Its type.
        parameter_type: u8,
    },
    /// Optional parameter lengths do not add up (§6.2, RFC 9072).
    MalformedOptionalParameters,
    /// A capability's length does not fit its code (RFC 5492 and each capability's RFC).
    MalformedCapability {
        /// The capability code.
        code: u8,
    },
    /// A capability the peer requires that we do not support (RFC 5492 §5).
    UnsupportedCapability {
        /// The capability code.
        code: u8,
    },
    /// Withdrawn Routes Length or Total Path Attribute Length do not fit the message,
    /// or the attribute list cannot be walked (§6.3, RFC 7606 §4).
    MalformedAttributeList,
    /// The same attribute appears twice (§6.3; RFC 7606 §3 (g)).
    DuplicateAttribute {
        /// Its type code.
        type_code: u8,
    },
    /// A well-known attribute we do not recognize (§6.3).
    UnrecognizedWellKnownAttribute {
        /// Its type code.
        type_code: u8,
    },
    /// A mandatory well-known attribute is missing (§6.3, RFC 7606 §3 (d)).
    MissingWellKnownAttribute {
        /// The missing type code.
        type_code: u8,
    },
    /// An attribute's flags conflict with its type code (§6.3).
    AttributeFlags {
        /// Its type code.
        type_code: u8,
        /// The flags received.
        flags: u8,
    },
    /// An attribute's length does not fit its type (§6.3).
    AttributeLength {
        /// Its type code.
        type_code: u8,
        /// The length received.
        length: u16,
    },
    /// ORIGIN is not 0, 1 or 2 (§6.3).
    InvalidOrigin {
        /// The value received.
        origin: u8,
    },
    /// NEXT_HOP is not a valid unicast address (§6.3), or an MP_REACH next hop
    /// length fits no form (RFC 4760, RFC 8950).
    InvalidNextHop,
    /// An optional attribute's value is malformed (§6.3).
    OptionalAttribute {
        /// Its type code.
        type_code: u8,
    },
    /// A prefix in an NLRI field is malformed (§6.3): length over the family's
    /// maximum, or the prefix runs past its field.
    InvalidNetworkField {
        /// The prefix length octet received.
        prefix_len: u8,
    },
    /// AS_PATH is syntactically wrong (§6.3, RFC 7606 §7.2).
    MalformedAsPath,
    /// The first AS in AS_PATH is not the peer's (§6.3 enforce-first-AS).
    FirstAsMismatch,
    /// A ROUTE-REFRESH whose length is not 23 (RFC 7313 §5).
    InvalidRouteRefreshLength {
        /// The length field.
        length: u16,
    },
    /// An UPDATE for an address family that was not negotiated (RFC 4760 §7).
    UnnegotiatedFamily {
        /// The family.
        family: Family,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorKind::*;
        match *self {
            Truncated {
                layer,
                required,
                available,
            } => write!(
                f,
                "{layer:?} truncated: {required} bytes required, {available} available"
            ),
            BadMarker => f.write_str("marker is not all ones"),
            BadMessageLength { length } => write!(f, "bad message length {length}"),
            BadMessageType { message_type } => write!(f, "bad message type {message_type}"),
            UnsupportedVersion { version } => write!(f, "unsupported BGP version {version}"),
            BadPeerAs { asn } => write!(f, "bad peer AS {asn}"),
            BadBgpIdentifier { identifier } => write!(
                f,
                "bad BGP identifier {}.{}.{}.{}",
                identifier >> 24,
                (identifier >> 16) & 0xff,
                (identifier >> 8) & 0xff,
                identifier & 0xff
            ),
            UnacceptableHoldTime { hold_time } => write!(f, "unacceptable hold time {hold_time}"),
            UnsupportedOptionalParameter { parameter_type } => {
                write!(f, "unsupported optional parameter type {parameter_type}")
            }
            MalformedOptionalParameters => f.write_str("optional parameter lengths do not add up"),
            MalformedCapability { code } => write!(f, "malformed capability {code}"),
            UnsupportedCapability { code } => write!(f, "unsupported capability {code}"),
            MalformedAttributeList => f.write_str("malformed attribute list"),
            DuplicateAttribute { type_code } => write!(f, "attribute {type_code} appears twice"),
            UnrecognizedWellKnownAttribute { type_code } => {
                write!(f, "unrecognized well-known attribute {type_code}")
            }
            MissingWellKnownAttribute { type_code } => {
                write!(f, "missing well-known attribute {type_code}")
            }
            AttributeFlags { type_code, flags } => {
                write!(f, "attribute {type_code} has wrong flags {flags:#04x}")
            }
            AttributeLength { type_code, length } => {
                write!(f, "attribute {type_code} has wrong length {length}")
            }
            InvalidOrigin { origin } => write!(f, "invalid ORIGIN {origin}"),
            InvalidNextHop => f.write_str("invalid NEXT_HOP"),
            OptionalAttribute { type_code } => {
                write!(f, "malformed optional attribute {type_code}")
            }
            InvalidNetworkField { prefix_len } => {
                write!(f, "invalid network field (prefix length {prefix_len})")
            }
            MalformedAsPath => f.write_str("malformed AS_PATH"),
            FirstAsMismatch => f.write_str("first AS in AS_PATH is not the peer's AS"),
            InvalidRouteRefreshLength { length } => {
                write!(f, "invalid ROUTE-REFRESH length {length}")
            }
            UnnegotiatedFamily { family } => write!(f, "address family {family} not negotiated"),
        }
    }
}

/// The data field of the NOTIFICATION an error calls for (RFC 4271 §6).
///
/// Where the data is a piece of the received message (an attribute, a length
/// field), it is kept as a span of that message rather than copied, so the error
/// stays small and `Copy`; [`ErrorData::resolve`] gives the bytes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ErrorData {
    /// No data.
    Empty,
    /// Up to 8 bytes held in the error itself.
    Inline {
        /// The bytes; only the first `len` count.
        bytes: [u8; 8],
        /// How many bytes count.
        len: u8,
    },
    /// `len` bytes of the received message starting at `offset` (from the marker).
    Message {
        /// Start of the span, from the first byte of the message.
        offset: u32,
        /// Length of the span.
        len: u32,
    },
}

impl ErrorData {
    /// Data held inline; more than 8 bytes are cut to 8.
    pub fn inline(data: &[u8]) -> Self {
        let mut bytes = [0u8; 8];
        let len = data.len().min(8);
        bytes[..len].copy_from_slice(&data[..len]);
        ErrorData::Inline {
            bytes,
            len: len as u8,
        }
    }

    /// A span of the received message.
    pub fn span(offset: usize, len: usize) -> Self {
        ErrorData::Message {
            offset: offset as u32,
            len: len as u32,
        }
    }

    /// The data's bytes, given the message the error came from. A span that does
    /// not fit `message` gives what part of it does.
    pub fn resolve<'a>(&'a self, message: &'a [u8]) -> &'a [u8] {
        match self {
            ErrorData::Empty => &[],
            ErrorData::Inline { bytes, len } => &bytes[..usize::from(*len).min(8)],
            ErrorData::Message { offset, len } => {
                let start = (*offset as usize).min(message.len());
                let end = start.saturating_add(*len as usize).min(message.len());
                &message[start..end]
            }
        }
    }
}

/// A malformed message: what, where, the NOTIFICATION it calls for and the RFC 7606
/// action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DecodeError {
    /// What was wrong.
    pub kind: ErrorKind,
    /// Byte offset of the fault, counted from the first byte of the message's marker.
    pub offset: usize,
    /// Code and subcode of the NOTIFICATION to send (RFC 4271 §6), also where the
    /// action is not a session reset: it is what the log should say.
    pub notification: NotificationCode,
    /// Data field of that NOTIFICATION.
    pub data: ErrorData,
    /// What to do about it (RFC 7606 §2).
    pub action: ErrorAction,
}

impl DecodeError {
    /// An error that resets the session.
    pub const fn reset(
        kind: ErrorKind,
        offset: usize,
        code: ErrorCode,
        subcode: u8,
        data: ErrorData,
    ) -> Self {
        DecodeError {
            kind,
            offset,
            notification: NotificationCode::new(code, subcode),
            data,
            action: ErrorAction::SessionReset,
        }
    }

    /// The same error with another action.
    pub const fn with_action(mut self, action: ErrorAction) -> Self {
        self.action = action;
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at offset {} (NOTIFICATION {}; {})",
            self.kind,
            self.offset,
            self.notification,
            self.action.name()
        )
    }
}

impl core::error::Error for DecodeError {}

/// An encoding failure. The output buffer is left untouched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum EncodeError {
    /// The buffer is too small: `required` bytes are needed.
    InsufficientSize {
        /// Bytes the encoding needs.
        required: usize,
    },
    /// The value does not fit the wire format: the message or a length field would
    /// exceed `max` bytes.
    TooLong {
        /// Bytes the value would take.
        length: usize,
        /// The most the field or message can hold.
        max: usize,
    },
    /// The value cannot be encoded as asked (`what` says why).
    Invalid {
        /// Why.
        what: &'static str,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::InsufficientSize { required } => {
                write!(f, "buffer too small: {required} bytes required")
            }
            EncodeError::TooLong { length, max } => {
                write!(f, "value of {length} bytes exceeds the maximum of {max}")
            }
            EncodeError::Invalid { what } => write!(f, "cannot encode: {what}"),
        }
    }
}

impl core::error::Error for EncodeError {}
