//! The BGP message header (RFC 4271 §4.1) and message framing.
//!
//! Every message starts with a 16-byte marker of all ones, a 2-byte length that
//! counts the header, and a 1-byte type. Length checks per type follow §6.1.

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned, network_endian::U16};

use super::codes::{ErrorCode, header_subcode};
use super::error::{DecodeError, EncodeError, ErrorData, ErrorKind, Layer};

/// Length of the header (§4.1).
pub const HEADER_LEN: usize = 19;
/// Largest message without the extended message capability (§4.1).
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Largest message with the extended message capability (RFC 8654 §4).
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;
/// The marker: sixteen bytes of all ones (§4.1).
pub const MARKER: [u8; 16] = [0xff; 16];

/// Smallest OPEN (§4.2).
pub const MIN_OPEN_LEN: usize = 29;
/// Smallest UPDATE (§4.3).
pub const MIN_UPDATE_LEN: usize = 23;
/// Smallest NOTIFICATION (§4.5).
pub const MIN_NOTIFICATION_LEN: usize = 21;
/// The only KEEPALIVE length (§4.4).
pub const KEEPALIVE_LEN: usize = 19;
/// The ROUTE-REFRESH length (RFC 2918 §3, RFC 7313 §3).
pub const ROUTE_REFRESH_LEN: usize = 23;

#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
struct HeaderBytes {
    marker: [u8; 16],
    length: U16,
    message_type: u8,
}
const _: () = assert!(core::mem::size_of::<HeaderBytes>() == HEADER_LEN);

/// The message type (§4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MessageType {
    /// 1: OPEN.
    Open,
    /// 2: UPDATE.
    Update,
    /// 3: NOTIFICATION.
    Notification,
    /// 4: KEEPALIVE.
    Keepalive,
    /// 5: ROUTE-REFRESH (RFC 2918).
    RouteRefresh,
    /// Any other type, kept for the NOTIFICATION's data.
    Unknown(u8),
}

impl From<u8> for MessageType {
    fn from(v: u8) -> Self {
        match v {
            1 => MessageType::Open,
            2 => MessageType::Update,
            3 => MessageType::Notification,
            4 => MessageType::Keepalive,
            5 => MessageType::RouteRefresh,
            other => MessageType::Unknown(other),
        }
    }
}

impl From<MessageType> for u8 {
    fn from(t: MessageType) -> u8 {
        match t {
            MessageType::Open => 1,
            MessageType::Update => 2,
            MessageType::Notification => 3,
            MessageType::Keepalive => 4,
            MessageType::RouteRefresh => 5,
            MessageType::Unknown(v) => v,
        }
    }
}

impl MessageType {
    /// The type's name as the RFC spells it.
    pub const fn name(self) -> &'static str {
        match self {
            MessageType::Open => "OPEN",
            MessageType::Update => "UPDATE",
            MessageType::Notification => "NOTIFICATION",
            MessageType::Keepalive => "KEEPALIVE",
            MessageType::RouteRefresh => "ROUTE-REFRESH",
            MessageType::Unknown(_) => "unknown",
        }
    }

    /// The smallest and largest length this type may have, given the session's
    /// largest message (§6.1, RFC 8654 §4: OPEN and KEEPALIVE stay within 4096).
    const fn length_bounds(self, max_len: usize) -> (usize, usize) {
        let open_max = if max_len < MAX_MESSAGE_LEN {
            max_len
        } else {
            MAX_MESSAGE_LEN
        };
        match self {
            MessageType::Open => (MIN_OPEN_LEN, open_max),
            MessageType::Update => (MIN_UPDATE_LEN, max_len),
            MessageType::Notification => (MIN_NOTIFICATION_LEN, max_len),
            MessageType::Keepalive => (KEEPALIVE_LEN, KEEPALIVE_LEN),
            // RFC 7313 §5 gives subtypes 1 and 2 their own error for a bad length;
            // the ROUTE-REFRESH module checks that, so allow any length here.
            MessageType::RouteRefresh => (HEADER_LEN, max_len),
            MessageType::Unknown(_) => (HEADER_LEN, max_len),
        }
    }
}

/// A view of a message header over the caller's bytes (§4.1).
#[derive(Clone, Copy, Debug)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// A view with no checks; accessors may panic on a buffer under 19 bytes.
    pub const fn new_unchecked(buffer: T) -> Self {
        Header { buffer }
    }

    /// A view after [`Header::check_len`].
    pub fn new_checked(buffer: T) -> Result<Self, DecodeError> {
        let h = Header { buffer };
        h.check_len()?;
        Ok(h)
    }

    /// Ensures the buffer holds a whole header, so that no accessor panics.
    pub fn check_len(&self) -> Result<(), DecodeError> {
        let available = self.buffer.as_ref().len();
        if available < HEADER_LEN {
            return Err(DecodeError::reset(
                ErrorKind::Truncated {
                    layer: Layer::Header,
                    required: HEADER_LEN,
                    available,
                },
                available,
                ErrorCode::MessageHeader,
                header_subcode::BAD_MESSAGE_LENGTH,
                ErrorData::Empty,
            ));
        }
        Ok(())
    }

    fn bytes(&self) -> &HeaderBytes {
        match HeaderBytes::ref_from_prefix(self.buffer.as_ref()) {
            Ok((h, _)) => h,
            Err(_) => panic!("Header accessor used on a buffer under 19 bytes; call check_len"),
        }
    }

    /// Whether the marker is all ones.
    pub fn marker_valid(&self) -> bool {
        self.bytes().marker == MARKER
    }

    /// The length field: the whole message, header included.
    pub fn length(&self) -> u16 {
        self.bytes().length.get()
    }

    /// The type field.
    pub fn message_type(&self) -> MessageType {
        self.bytes().message_type.into()
    }

    /// Checks marker, type and length as RFC 4271 §6.1 requires, for a session
    /// whose largest message is `max_len` (4096, or 65535 with RFC 8654).
    /// Returns the message length.
    pub fn check(&self, max_len: usize) -> Result<usize, DecodeError> {
        if !self.marker_valid() {
            return Err(DecodeError::reset(
                ErrorKind::BadMarker,
                0,
                ErrorCode::MessageHeader,
                header_subcode::CONNECTION_NOT_SYNCHRONIZED,
                ErrorData::Empty,
            ));
        }
        let length = self.length();
        let message_type = self.message_type();
        if let MessageType::Unknown(t) = message_type {
            return Err(DecodeError::reset(
                ErrorKind::BadMessageType { message_type: t },
                18,
                ErrorCode::MessageHeader,
                header_subcode::BAD_MESSAGE_TYPE,
                ErrorData::inline(&[t]),
            ));
        }
        let (min, max) = message_type.length_bounds(max_len);
        let len = usize::from(length);
        if len < min || len > max {
            return Err(DecodeError::reset(
                ErrorKind::BadMessageLength { length },
                16,
                ErrorCode::MessageHeader,
                header_subcode::BAD_MESSAGE_LENGTH,
                ErrorData::inline(&length.to_be_bytes()),
            ));
        }
        Ok(len)
    }
}

/// Finds the first whole message in a byte stream.
///
/// Returns `Ok(None)` while fewer bytes than a whole message are there, and
/// `Ok(Some(len))` once `stream[..len]` is a whole message whose header passed
/// [`Header::check`]. A bad header is reported as soon as its 19 bytes arrive, so
/// a desynchronized peer is caught before its garbage length is waited for.
pub fn frame(stream: &[u8], max_len: usize) -> Result<Option<usize>, DecodeError> {
    if stream.len() < HEADER_LEN {
        return Ok(None);
    }
    let len = Header::new_unchecked(stream).check(max_len)?;
    Ok(if stream.len() >= len { Some(len) } else { None })
}

/// Writes a header for a message of `length` bytes (header included) and type
/// `message_type` into the first 19 bytes of `buffer`.
pub fn emit(
    buffer: &mut [u8],
    length: usize,
    message_type: MessageType,
) -> Result<(), EncodeError> {
    if length > MAX_EXTENDED_MESSAGE_LEN {
        return Err(EncodeError::TooLong {
            length,
            max: MAX_EXTENDED_MESSAGE_LEN,
        });
    }
    if buffer.len() < HEADER_LEN {
        return Err(EncodeError::InsufficientSize {
            required: HEADER_LEN,
        });
    }
    let h = HeaderBytes {
        marker: MARKER,
        length: U16::new(length as u16),
        message_type: message_type.into(),
    };
    h.write_to_prefix(buffer)
        .map_err(|_| EncodeError::InsufficientSize {
            required: HEADER_LEN,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::codes::NotificationCode;

    fn header(len: u16, ty: u8) -> [u8; 19] {
        let mut b = [0xffu8; 19];
        b[16..18].copy_from_slice(&len.to_be_bytes());
        b[18] = ty;
        b
    }

    #[test]
    fn keepalive_header_roundtrip() {
        let mut buf = [0xa5u8; 19];
        emit(&mut buf, 19, MessageType::Keepalive).unwrap();
        assert_eq!(buf, header(19, 4));
        let h = Header::new_checked(&buf[..]).unwrap();
        assert_eq!(h.check(MAX_MESSAGE_LEN), Ok(19));
        assert_eq!(h.message_type(), MessageType::Keepalive);
    }

    #[test]
    fn emit_into_short_buffer_leaves_it_untouched() {
        let mut buf = [0xa5u8; 18];
        assert_eq!(
            emit(&mut buf, 19, MessageType::Keepalive),
            Err(EncodeError::InsufficientSize { required: 19 })
        );
        assert_eq!(buf, [0xa5u8; 18]);
    }

    /// RFC 4271 §6.1: marker not all ones -> 1/1, no data.
    #[test]
    fn marker_not_all_ones_is_connection_not_synchronized() {
        let mut b = header(19, 4);
        b[3] = 0;
        let e = Header::new_unchecked(&b[..])
            .check(MAX_MESSAGE_LEN)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadMarker);
        assert_eq!(e.notification, NotificationCode::from_wire(1, 1));
        assert_eq!(e.data.resolve(&b), &[] as &[u8]);
    }

    /// RFC 4271 §6.1: length out of range, or wrong for the type -> 1/2 with the
    /// erroneous length field as data.
    #[test]
    fn bad_lengths_are_bad_message_length() {
        for (len, ty) in [
            (18u16, 4u8),
            (4097, 2),
            (20, 4),
            (28, 1),
            (22, 2),
            (20, 3),
            (5000, 1),
        ] {
            let b = header(len, ty);
            let e = Header::new_unchecked(&b[..])
                .check(MAX_MESSAGE_LEN)
                .unwrap_err();
            assert_eq!(
                e.kind,
                ErrorKind::BadMessageLength { length: len },
                "len {len} type {ty}"
            );
            assert_eq!(e.notification, NotificationCode::from_wire(1, 2));
            assert_eq!(e.data.resolve(&b), &len.to_be_bytes());
            assert_eq!(e.offset, 16);
        }
    }

    /// RFC 8654 §4: with extended messages an UPDATE may reach 65535, an OPEN may not.
    #[test]
    fn extended_message_lengths() {
        let b = header(65535, 2);
        assert_eq!(
            Header::new_unchecked(&b[..]).check(MAX_EXTENDED_MESSAGE_LEN),
            Ok(65535)
        );
        assert!(
            Header::new_unchecked(&b[..])
                .check(MAX_MESSAGE_LEN)
                .is_err()
        );
        let b = header(4097, 1);
        assert!(
            Header::new_unchecked(&b[..])
                .check(MAX_EXTENDED_MESSAGE_LEN)
                .is_err()
        );
    }

    /// RFC 4271 §6.1: unknown type -> 1/3 with the type as data.
    #[test]
    fn unknown_type_is_bad_message_type() {
        let b = header(19, 9);
        let e = Header::new_unchecked(&b[..])
            .check(MAX_MESSAGE_LEN)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadMessageType { message_type: 9 });
        assert_eq!(e.notification, NotificationCode::from_wire(1, 3));
        assert_eq!(e.data.resolve(&b), &[9]);
    }

    #[test]
    fn framing_waits_for_whole_message_and_fails_early() {
        let mut stream = [0u8; 40];
        stream[..19].copy_from_slice(&header(23, 5));
        assert_eq!(frame(&stream[..10], MAX_MESSAGE_LEN), Ok(None));
        assert_eq!(frame(&stream[..19], MAX_MESSAGE_LEN), Ok(None));
        assert_eq!(frame(&stream[..23], MAX_MESSAGE_LEN), Ok(Some(23)));
        stream[0] = 0;
        assert!(frame(&stream[..19], MAX_MESSAGE_LEN).is_err());
    }
}
