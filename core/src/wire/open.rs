//! The OPEN message (RFC 4271 §4.2) and its error checks (§6.2), with the
//! extended Optional Parameters length of RFC 9072 and the Capabilities
//! parameter of RFC 5492 (see [`capability`](super::capability)).

use core::fmt;

use zerocopy::{
    FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned,
    network_endian::{U16, U32},
};

use super::capability::{self, CAPABILITIES_PARAMETER, Capabilities};
use super::codes::{ErrorCode, header_subcode, open_subcode};
use super::error::{DecodeError, EncodeError, ErrorData, ErrorKind, Layer};
use super::header::{self, HEADER_LEN, Header, MAX_MESSAGE_LEN, MIN_OPEN_LEN, MessageType};

/// The only BGP version nexthop speaks (§4.2).
pub const BGP_VERSION: u8 = 4;
/// AS_TRANS: the My Autonomous System of a speaker whose AS needs 4 octets
/// (RFC 6793 §9).
pub const AS_TRANS: u16 = 23456;
/// Optional Parameter type that marks the extended form (RFC 9072 §2).
pub const EXTENDED_LENGTH_PARAMETER: u8 = 255;

/// Offsets of the OPEN's fields from the first marker byte (§4.2).
mod field {
    pub const VERSION: usize = 19;
    pub const MY_AS: usize = 20;
    pub const HOLD_TIME: usize = 22;
    pub const BGP_IDENTIFIER: usize = 24;
    pub const OPT_PARM_LEN: usize = 28;
    pub const PARAMETERS: usize = 29;
    /// Where the parameters start in the extended form (RFC 9072 §2).
    pub const EXTENDED_PARAMETERS: usize = 32;
}

/// The fixed part of an OPEN after the header.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct OpenFixed {
    version: u8,
    my_as: U16,
    hold_time: U16,
    bgp_identifier: U32,
    opt_parm_len: u8,
}
const _: () = assert!(core::mem::size_of::<OpenFixed>() == MIN_OPEN_LEN - HEADER_LEN);

/// The validated OPEN (RFC 4271 §4.2, RFC 9072). The version is always 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Open<'a> {
    /// My Autonomous System: [`AS_TRANS`] when the real AS needs 4 octets.
    pub my_as: u16,
    /// Hold Time in seconds: 0, or at least 3 (§4.2).
    pub hold_time: u16,
    /// BGP Identifier, non-zero (RFC 6286 §2.1).
    pub bgp_identifier: u32,
    /// The capabilities (RFC 5492), from every Capabilities parameter.
    pub capabilities: Capabilities<'a>,
}

/// The My Autonomous System field for `asn`: itself when it fits two octets,
/// else [`AS_TRANS`] (RFC 6793 §4.1).
pub const fn my_as_field(asn: u32) -> u16 {
    if asn <= u16::MAX as u32 {
        asn as u16
    } else {
        AS_TRANS
    }
}

/// The error the FSM reports when the peer's AS is not the configured one
/// (§6.2 Bad Peer AS, 2/2, no data). `asn` is what [`Open::asn`] gave; the
/// offset is that of My Autonomous System.
pub const fn bad_peer_as(asn: u32) -> DecodeError {
    DecodeError::reset(
        ErrorKind::BadPeerAs { asn },
        field::MY_AS,
        ErrorCode::OpenMessage,
        open_subcode::BAD_PEER_AS,
        ErrorData::Empty,
    )
}

/// Checks the header of a whole message of type `expected` (§6.1) for a
/// session whose largest message is `max_len`, and returns the message cut to
/// its length field.
pub(crate) fn checked_message(
    message: &[u8],
    expected: MessageType,
    max_len: usize,
    layer: Layer,
) -> Result<&[u8], DecodeError> {
    let header = Header::new_checked(message)?;
    let len = header.check(max_len)?;
    let message_type = header.message_type();
    if message_type != expected {
        let t = u8::from(message_type);
        return Err(DecodeError::reset(
            ErrorKind::BadMessageType { message_type: t },
            18,
            ErrorCode::MessageHeader,
            header_subcode::BAD_MESSAGE_TYPE,
            ErrorData::inline(&[t]),
        ));
    }
    message.get(..len).ok_or_else(|| {
        DecodeError::reset(
            ErrorKind::Truncated {
                layer,
                required: len,
                available: message.len(),
            },
            message.len(),
            ErrorCode::MessageHeader,
            header_subcode::BAD_MESSAGE_LENGTH,
            ErrorData::inline(&header.length().to_be_bytes()),
        )
    })
}

/// OPEN Message Error with `subcode`.
const fn open_error(kind: ErrorKind, offset: usize, subcode: u8, data: ErrorData) -> DecodeError {
    DecodeError::reset(kind, offset, ErrorCode::OpenMessage, subcode, data)
}

/// Optional parameter lengths that do not add up: OPEN Message Error /
/// Unspecific (§6.2: a recognized optional parameter that is malformed).
const fn malformed_parameters(offset: usize) -> DecodeError {
    open_error(
        ErrorKind::MalformedOptionalParameters,
        offset,
        0,
        ErrorData::Empty,
    )
}

impl<'a> Open<'a> {
    /// Parses and checks a whole OPEN message, header included (§4.2, §6.1,
    /// §6.2, RFC 9072 §2, RFC 5492 §4).
    ///
    /// Checks, in order: the header; the version (2/1, data: the largest
    /// version we support, 2 octets); the Hold Time (1 or 2 is 2/6); the BGP
    /// Identifier (0 is 2/3, RFC 6286); the optional parameters (lengths that do
    /// not add up to the message are 2/0, a type other than Capabilities is 2/4,
    /// a malformed capability 2/0). The peer's AS is the FSM's to check
    /// ([`bad_peer_as`]).
    pub fn parse(message: &'a [u8]) -> Result<Open<'a>, DecodeError> {
        let message = checked_message(message, MessageType::Open, MAX_MESSAGE_LEN, Layer::Open)?;
        let truncated = || {
            DecodeError::reset(
                ErrorKind::Truncated {
                    layer: Layer::Open,
                    required: MIN_OPEN_LEN,
                    available: message.len(),
                },
                message.len(),
                ErrorCode::MessageHeader,
                header_subcode::BAD_MESSAGE_LENGTH,
                ErrorData::inline(&(message.len() as u16).to_be_bytes()),
            )
        };
        let body = message.get(HEADER_LEN..).ok_or_else(truncated)?;
        let (fixed, _) = OpenFixed::ref_from_prefix(body).map_err(|_| truncated())?;

        if fixed.version != BGP_VERSION {
            return Err(open_error(
                ErrorKind::UnsupportedVersion {
                    version: fixed.version,
                },
                field::VERSION,
                open_subcode::UNSUPPORTED_VERSION_NUMBER,
                ErrorData::inline(&u16::from(BGP_VERSION).to_be_bytes()),
            ));
        }
        let hold_time = fixed.hold_time.get();
        if hold_time == 1 || hold_time == 2 {
            return Err(open_error(
                ErrorKind::UnacceptableHoldTime { hold_time },
                field::HOLD_TIME,
                open_subcode::UNACCEPTABLE_HOLD_TIME,
                ErrorData::Empty,
            ));
        }
        let bgp_identifier = fixed.bgp_identifier.get();
        if bgp_identifier == 0 {
            return Err(open_error(
                ErrorKind::BadBgpIdentifier {
                    identifier: bgp_identifier,
                },
                field::BGP_IDENTIFIER,
                open_subcode::BAD_BGP_IDENTIFIER,
                ErrorData::Empty,
            ));
        }
        let capabilities = parse_parameters(message, fixed.opt_parm_len)?;
        Ok(Open {
            my_as: fixed.my_as.get(),
            hold_time,
            bgp_identifier,
            capabilities,
        })
    }

    /// The speaker's AS: the 4-octet AS capability's value where it sent one
    /// (RFC 6793 §4.1), else My Autonomous System.
    pub fn asn(&self) -> u32 {
        self.capabilities
            .four_octet_as()
            .unwrap_or(u32::from(self.my_as))
    }

    /// Whether the optional parameters take the extended form (RFC 9072 §2):
    /// only when one Capabilities parameter would exceed 255 octets.
    fn extended(capabilities_len: usize) -> bool {
        2 + capabilities_len > 255
    }

    /// Bytes of the Optional Parameters field, its length octet(s) excluded.
    fn parameters_len(capabilities_len: usize) -> usize {
        match capabilities_len {
            0 => 0,
            n if Self::extended(n) => 3 + n,
            n => 2 + n,
        }
    }

    /// Bytes the message takes, header included.
    pub fn buffer_len(&self) -> usize {
        let caps = self.capabilities.byte_len();
        let length_fields = if Self::extended(caps) { 3 } else { 0 };
        MIN_OPEN_LEN + length_fields + Self::parameters_len(caps)
    }

    /// Writes the whole message; returns the bytes written.
    ///
    /// The capabilities go into one Capabilities parameter (none if there are
    /// none), in the extended form of RFC 9072 only when that parameter would
    /// exceed 255 octets. Fails with `TooLong` past 4096 bytes (RFC 8654 §4
    /// keeps OPEN within 4096), `Invalid` for a field that does not fit its
    /// bits, and `InsufficientSize` for a short buffer; the buffer is then
    /// untouched.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize, EncodeError> {
        let caps = self.capabilities.byte_len();
        let length = self.buffer_len();
        if length > MAX_MESSAGE_LEN {
            return Err(EncodeError::TooLong {
                length,
                max: MAX_MESSAGE_LEN,
            });
        }
        if buffer.len() < length {
            return Err(EncodeError::InsufficientSize { required: length });
        }
        // The capabilities go first, at their final place: a value that cannot
        // be encoded fails there before anything is written.
        let extended = Self::extended(caps);
        let caps_at = if caps == 0 {
            MIN_OPEN_LEN
        } else if extended {
            field::EXTENDED_PARAMETERS + 3
        } else {
            field::PARAMETERS + 2
        };
        let out = &mut buffer[..length];
        self.capabilities.emit(&mut out[caps_at..])?;
        header::emit(out, length, MessageType::Open)?;
        let opt_parm_len = if extended {
            255
        } else {
            Self::parameters_len(caps) as u8
        };
        let fixed = OpenFixed {
            version: BGP_VERSION,
            my_as: U16::new(self.my_as),
            hold_time: U16::new(self.hold_time),
            bgp_identifier: U32::new(self.bgp_identifier),
            opt_parm_len,
        };
        fixed
            .write_to_prefix(&mut out[HEADER_LEN..])
            .map_err(|_| EncodeError::InsufficientSize { required: length })?;
        if caps == 0 {
            return Ok(length);
        }
        let rest = &mut out[field::PARAMETERS..caps_at];
        if extended {
            let ext = ((3 + caps) as u16).to_be_bytes();
            let cap = (caps as u16).to_be_bytes();
            rest.copy_from_slice(&[
                EXTENDED_LENGTH_PARAMETER,
                ext[0],
                ext[1],
                CAPABILITIES_PARAMETER,
                cap[0],
                cap[1],
            ]);
        } else {
            rest.copy_from_slice(&[CAPABILITIES_PARAMETER, caps as u8]);
        }
        Ok(length)
    }
}

/// Reads the Optional Parameters of `message` (a whole OPEN of at least 29
/// bytes) in the form RFC 9072 §2 tells apart by the first parameter type.
fn parse_parameters<'a>(
    message: &'a [u8],
    opt_parm_len: u8,
) -> Result<Capabilities<'a>, DecodeError> {
    let rest = message.get(field::PARAMETERS..).unwrap_or_default();
    // RFC 9072 §2: a non-zero length followed by type 255 is the extended form,
    // whose 2-octet length follows; the 1-octet length is then ignored.
    let extended = opt_parm_len != 0 && rest.first() == Some(&EXTENDED_LENGTH_PARAMETER);
    let (start, parameters) = if extended {
        let Some(&[l0, l1]) = rest.get(1..3) else {
            return Err(malformed_parameters(field::OPT_PARM_LEN));
        };
        let len = usize::from(u16::from_be_bytes([l0, l1]));
        (
            field::EXTENDED_PARAMETERS,
            rest.get(3..)
                .unwrap_or_default()
                .get(..len)
                .filter(|p| p.len() + 3 == rest.len()),
        )
    } else {
        let len = usize::from(opt_parm_len);
        (field::PARAMETERS, Some(rest).filter(|p| p.len() == len))
    };
    // The parameters must fill the message exactly.
    let Some(parameters) = parameters else {
        return Err(malformed_parameters(field::OPT_PARM_LEN));
    };

    let mut walk = parameters;
    let mut count = 0;
    let mut only = &[][..];
    while !walk.is_empty() {
        let at = start + (parameters.len() - walk.len());
        let Some((parameter_type, value, header)) = capability::next_parameter(&mut walk, extended)
        else {
            return Err(malformed_parameters(at));
        };
        if parameter_type != CAPABILITIES_PARAMETER {
            return Err(open_error(
                ErrorKind::UnsupportedOptionalParameter { parameter_type },
                at,
                open_subcode::UNSUPPORTED_OPTIONAL_PARAMETER,
                ErrorData::Empty,
            ));
        }
        capability::validate(value, at + header)?;
        count += 1;
        only = value;
    }
    Ok(if count <= 1 {
        Capabilities::Wire(only)
    } else {
        Capabilities::Parameters {
            parameters,
            extended,
        }
    })
}

/// Writes an IPv4-style dotted quad.
pub(crate) fn write_dotted(f: &mut fmt::Formatter<'_>, v: u32) -> fmt::Result {
    let [a, b, c, d] = v.to_be_bytes();
    write!(f, "{a}.{b}.{c}.{d}")
}

impl fmt::Display for Open<'_> {
    /// `OPEN version 4, My AS 23456, Hold Time 6, BGP Identifier 0.0.0.1,
    /// capabilities [Multiprotocol Extensions ipv4-unicast, Route Refresh, ...]`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OPEN version {BGP_VERSION}, My AS {}, Hold Time {}, BGP Identifier ",
            self.my_as, self.hold_time
        )?;
        write_dotted(f, self.bgp_identifier)?;
        write!(f, ", capabilities {}", self.capabilities)
    }
}
