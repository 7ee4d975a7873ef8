//! The OPEN message (RFC 4271 §4.2) and its error checks (§6.2), with the
//! extended Optional Parameters length of RFC 9072 and the Capabilities
//! parameter of RFC 5492 (see [`capability`](super::capability)).

use core::fmt;

use zerocopy::{
    FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned,
    network_endian::{U16, U32},
};

use super::capability::Capabilities;
pub use super::capability::EXTENDED_LENGTH_PARAMETER;
use super::capability::parameters::{self, Layout};
use super::codes::{ErrorCode, header_subcode, open_subcode};
use super::error::{DecodeError, EncodeError, ErrorData, ErrorKind, Layer};
use super::header::{self, HEADER_LEN, Header, MAX_MESSAGE_LEN, MIN_OPEN_LEN, MessageType};

/// The only BGP version nexthop speaks (§4.2).
pub const BGP_VERSION: u8 = 4;
/// AS_TRANS: the My Autonomous System of a speaker whose AS needs 4 octets
/// (RFC 6793 §3).
pub const AS_TRANS: u16 = 23456;

/// Offsets of the OPEN's fields from the first marker byte (§4.2).
mod field {
    pub const VERSION: usize = 19;
    pub const MY_AS: usize = 20;
    pub const HOLD_TIME: usize = 22;
    pub const BGP_IDENTIFIER: usize = 24;
    pub const OPT_PARM_LEN: usize = 28;
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
/// else [`AS_TRANS`] (RFC 6793 §3).
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
        let capabilities = parameters::parse(message, fixed.opt_parm_len)?;
        Ok(Open {
            my_as: fixed.my_as.get(),
            hold_time,
            bgp_identifier,
            capabilities,
        })
    }

    /// The speaker's AS: the 4-octet AS capability's value where it sent one
    /// (RFC 6793 §3), else My Autonomous System.
    pub fn asn(&self) -> u32 {
        self.capabilities
            .four_octet_as()
            .unwrap_or(u32::from(self.my_as))
    }

    /// Bytes the message takes, header included.
    pub fn buffer_len(&self) -> usize {
        field::OPT_PARM_LEN + Layout::new(self.capabilities.byte_len()).field_len()
    }

    /// Writes the whole message; returns the bytes written.
    ///
    /// The capabilities go into one Capabilities parameter (none if there are
    /// none), in the extended form of RFC 9072 only when that parameter would
    /// exceed 255 octets. Fails with `TooLong` past 4096 bytes (RFC 8654 §4
    /// keeps OPEN within 4096) or for a capability value past 255 octets,
    /// `Invalid` for a field that does not fit its bits, and
    /// `InsufficientSize` for a short buffer; the buffer is then untouched.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize, EncodeError> {
        let layout = Layout::new(self.capabilities.byte_len());
        let length = self.buffer_len();
        if length > MAX_MESSAGE_LEN {
            return Err(EncodeError::TooLong {
                length,
                max: MAX_MESSAGE_LEN,
            });
        }
        let Some(out) = buffer.get_mut(..length) else {
            return Err(EncodeError::InsufficientSize { required: length });
        };
        let (head, head_len) = layout.header();
        let caps_at = field::OPT_PARM_LEN + head_len;
        // The capabilities go first, at their final place: one that cannot be
        // encoded fails there, before anything is written.
        self.capabilities
            .emit(out.get_mut(caps_at..).unwrap_or_default())?;
        header::emit(out, length, MessageType::Open)?;
        let fixed = OpenFixed {
            version: BGP_VERSION,
            my_as: U16::new(self.my_as),
            hold_time: U16::new(self.hold_time),
            bgp_identifier: U32::new(self.bgp_identifier),
            opt_parm_len: head[0],
        };
        let insufficient = EncodeError::InsufficientSize { required: length };
        fixed
            .write_to_prefix(out.get_mut(HEADER_LEN..).unwrap_or_default())
            .map_err(|_| insufficient)?;
        out.get_mut(field::OPT_PARM_LEN..caps_at)
            .ok_or(insufficient)?
            .copy_from_slice(head.get(..head_len).ok_or(insufficient)?);
        Ok(length)
    }
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

#[cfg(test)]
pub(crate) mod tests {
    use std::vec::Vec;

    use super::*;
    use crate::wire::capability::Capability;
    use crate::wire::codes::NotificationCode;
    use crate::wire::error::ErrorAction;

    /// An OPEN with the given fixed fields, Optional Parameters Length octet and
    /// parameter bytes; the header's length counts whatever is there.
    pub(crate) fn open_bytes(
        version: u8,
        hold_time: u16,
        id: u32,
        opt_len: u8,
        params: &[u8],
    ) -> Vec<u8> {
        let mut m = Vec::from([0xffu8; 16]);
        m.extend_from_slice(&[0, 0, 1, version]);
        m.extend_from_slice(&65001u16.to_be_bytes());
        m.extend_from_slice(&hold_time.to_be_bytes());
        m.extend_from_slice(&id.to_be_bytes());
        m.push(opt_len);
        m.extend_from_slice(params);
        let len = (m.len() as u16).to_be_bytes();
        m[16..18].copy_from_slice(&len);
        m
    }

    /// A well-formed OPEN with these parameters.
    pub(crate) fn with_params(params: &[u8]) -> Vec<u8> {
        open_bytes(4, 90, 0x0a00_0001, params.len() as u8, params)
    }

    /// Checks every part of a session-reset error.
    #[track_caller]
    pub(crate) fn assert_error(
        message: &[u8],
        kind: ErrorKind,
        offset: usize,
        (code, subcode): (u8, u8),
        data: &[u8],
    ) {
        let e = Open::parse(message).unwrap_err();
        assert_eq!(e.kind, kind);
        assert_eq!(e.offset, offset, "offset of {kind}");
        assert_eq!(e.notification, NotificationCode::from_wire(code, subcode));
        assert_eq!(e.data.resolve(message), data);
        assert_eq!(e.action, ErrorAction::SessionReset);
    }

    /// §6.2: "If the version number in the Version field of the received OPEN
    /// message is not supported, then the Error Subcode MUST be set to
    /// Unsupported Version Number. The Data field is a 2-octet unsigned integer,
    /// which indicates the largest, locally-supported version number".
    #[test]
    fn unsupported_version_is_2_1_with_largest_supported_version() {
        for version in [0u8, 3, 5, 255] {
            let m = open_bytes(version, 90, 1, 0, &[]);
            assert_error(
                &m,
                ErrorKind::UnsupportedVersion { version },
                19,
                (2, 1),
                &[0, 4],
            );
        }
    }

    /// §6.2: a Hold Time of one or two seconds "MUST" be rejected with
    /// Unacceptable Hold Time; 0 and 3 are fine (§4.2).
    #[test]
    fn hold_time_of_one_or_two_seconds_is_2_6() {
        for hold_time in [1u16, 2] {
            let m = open_bytes(4, hold_time, 1, 0, &[]);
            assert_error(
                &m,
                ErrorKind::UnacceptableHoldTime { hold_time },
                22,
                (2, 6),
                &[],
            );
        }
        for hold_time in [0u16, 3, 65535] {
            let m = open_bytes(4, hold_time, 1, 0, &[]);
            assert_eq!(Open::parse(&m).unwrap().hold_time, hold_time);
        }
    }

    /// §6.2 and RFC 6286 §2.2: a BGP Identifier of 0 is Bad BGP Identifier.
    #[test]
    fn bgp_identifier_zero_is_2_3() {
        let m = open_bytes(4, 90, 0, 0, &[]);
        assert_error(
            &m,
            ErrorKind::BadBgpIdentifier { identifier: 0 },
            24,
            (2, 3),
            &[],
        );
        // RFC 6286: any other value, even one that is no unicast IPv4 address.
        let m = open_bytes(4, 90, 0xffff_ffff, 0, &[]);
        assert_eq!(Open::parse(&m).unwrap().bgp_identifier, 0xffff_ffff);
    }

    /// §6.2: the Bad Peer AS check belongs to the FSM, which knows the
    /// configured AS; this is the error it sends.
    #[test]
    fn bad_peer_as_is_2_2() {
        let e = bad_peer_as(4_200_000_009);
        assert_eq!(e.kind, ErrorKind::BadPeerAs { asn: 4_200_000_009 });
        assert_eq!(e.offset, 20);
        assert_eq!(e.notification, NotificationCode::from_wire(2, 2));
        assert_eq!(e.data, ErrorData::Empty);
        assert_eq!(e.action, ErrorAction::SessionReset);
    }

    /// §6.1: an OPEN shorter than 29 or longer than 4096 octets (even with
    /// extended messages, RFC 8654 §4) is Bad Message Length with the length.
    #[test]
    fn open_length_out_of_range_is_1_2() {
        let mut m = open_bytes(4, 90, 1, 0, &[]);
        m.pop();
        m[17] = 28;
        let e = Open::parse(&m).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadMessageLength { length: 28 });
        assert_eq!(e.notification, NotificationCode::from_wire(1, 2));
        assert_eq!(e.data.resolve(&m), &[0, 28]);

        let mut m = open_bytes(4, 90, 1, 0, &[]);
        m.resize(4097, 0);
        m[16..18].copy_from_slice(&4097u16.to_be_bytes());
        let e = Open::parse(&m).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadMessageLength { length: 4097 });
        assert_eq!(e.data.resolve(&m), &[0x10, 0x01]);
    }

    /// A buffer shorter than the length field says is truncated: 1/2, nothing
    /// read past it.
    #[test]
    fn message_shorter_than_its_length_is_truncated() {
        let mut m = with_params(&[2, 2, 70, 0]);
        m[17] += 1;
        let e = Open::parse(&m).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                layer: Layer::Open,
                required: 34,
                available: 33
            }
        );
        assert_eq!(e.notification, NotificationCode::from_wire(1, 2));
        assert_eq!(e.data.resolve(&m), &[0, 34]);
    }

    /// Bytes after the length field are not part of the message.
    #[test]
    fn bytes_past_the_length_are_ignored() {
        let mut m = with_params(&[2, 2, 70, 0]);
        m.extend_from_slice(&[0xde, 0xad]);
        let open = Open::parse(&m).unwrap();
        assert!(
            open.capabilities
                .iter()
                .eq([Capability::EnhancedRouteRefresh])
        );
    }

    /// Another message type handed to the OPEN parser is 1/3 with the type.
    #[test]
    fn another_type_is_bad_message_type() {
        let mut m = Vec::from([0xffu8; 16]);
        m.extend_from_slice(&[0, 19, 4]);
        let e = Open::parse(&m).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadMessageType { message_type: 4 });
        assert_eq!(e.notification, NotificationCode::from_wire(1, 3));
        assert_eq!(e.data.resolve(&m), &[4]);
    }

    /// An OPEN past 4096 octets cannot be sent; a short buffer is untouched.
    #[test]
    fn emit_errors_leave_the_buffer_untouched() {
        let value = [0u8; 255];
        let caps = [Capability::Unknown {
            code: 200,
            value: &value,
        }; 17];
        let open = Open {
            my_as: 1,
            hold_time: 0,
            bgp_identifier: 1,
            capabilities: Capabilities::List(&caps),
        };
        let mut buf = [0xa5u8; 8192];
        assert_eq!(
            open.emit(&mut buf),
            Err(EncodeError::TooLong {
                length: 29 + 6 + 17 * 257,
                max: 4096
            })
        );
        assert!(buf.iter().all(|&b| b == 0xa5));

        let long = [0u8; 256];
        let caps = [
            Capability::RouteRefresh,
            Capability::Unknown {
                code: 200,
                value: &long,
            },
        ];
        let open = Open {
            capabilities: Capabilities::List(&caps),
            ..open
        };
        assert_eq!(
            open.emit(&mut buf),
            Err(EncodeError::TooLong {
                length: 256,
                max: 255
            })
        );
        assert!(buf.iter().all(|&b| b == 0xa5));
    }

    /// RFC 6793 §3: the My AS field of a 4-octet AS is AS_TRANS.
    #[test]
    fn my_as_field_is_as_trans_past_65535() {
        assert_eq!(my_as_field(65535), 65535);
        assert_eq!(my_as_field(65536), AS_TRANS);
        assert_eq!(my_as_field(4_200_000_001), 23456);
    }
}
