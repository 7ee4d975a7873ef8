//! The NOTIFICATION message (RFC 4271 §4.5): error code, subcode and data, with
//! the shutdown communication RFC 9003 puts in the data of a Cease /
//! Administrative Shutdown or Administrative Reset.

use core::fmt;

use super::codes::{ErrorCode, NotificationCode, cease_subcode};
use super::error::{DecodeError, EncodeError, Layer};
use super::header::{
    self, HEADER_LEN, MAX_EXTENDED_MESSAGE_LEN, MIN_NOTIFICATION_LEN, MessageType,
};
use super::open::checked_message;

/// The longest shutdown communication: its length is one octet (RFC 9003 §2).
pub const MAX_SHUTDOWN_COMMUNICATION_LEN: usize = 255;

/// A NOTIFICATION (RFC 4271 §4.5). Its data borrows the received message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Notification<'a> {
    /// Error code and subcode.
    pub code: NotificationCode,
    /// The data field: whatever follows the subcode.
    pub data: &'a [u8],
}

impl<'a> Notification<'a> {
    /// Parses a whole NOTIFICATION, header included. Any code, subcode and data
    /// are accepted: a NOTIFICATION is never answered with another (§6.4). The
    /// length may reach 65535 (RFC 8654); the framer enforces the session's limit.
    pub fn parse(message: &'a [u8]) -> Result<Notification<'a>, DecodeError> {
        let message = checked_message(
            message,
            MessageType::Notification,
            MAX_EXTENDED_MESSAGE_LEN,
            Layer::Notification,
        )?;
        // The header check guarantees at least 21 bytes.
        let (code, subcode, data) = match message.get(HEADER_LEN..) {
            Some(&[code, subcode, ref data @ ..]) => (code, subcode, data),
            _ => (0, 0, &[][..]),
        };
        Ok(Notification {
            code: NotificationCode::from_wire(code, subcode),
            data,
        })
    }

    /// Bytes the message takes, header included.
    pub fn buffer_len(&self) -> usize {
        MIN_NOTIFICATION_LEN + self.data.len()
    }

    /// Writes the whole message; returns the bytes written. The data is not
    /// cut: a NOTIFICATION past 4096 bytes needs a peer that negotiated
    /// extended messages (RFC 8654 §4); past 65535 it is `TooLong`.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize, EncodeError> {
        let length = self.buffer_len();
        if length > MAX_EXTENDED_MESSAGE_LEN {
            return Err(EncodeError::TooLong {
                length,
                max: MAX_EXTENDED_MESSAGE_LEN,
            });
        }
        let Some(out) = buffer.get_mut(..length) else {
            return Err(EncodeError::InsufficientSize { required: length });
        };
        header::emit(out, length, MessageType::Notification)?;
        if let Some((head, data)) = out
            .get_mut(HEADER_LEN..)
            .and_then(|b| b.split_first_chunk_mut::<2>())
        {
            *head = [u8::from(self.code.code), self.code.subcode];
            data.copy_from_slice(self.data);
        }
        Ok(length)
    }

    /// The shutdown communication of a Cease / Administrative Shutdown or
    /// Administrative Reset (RFC 9003 §2): a length octet, then that many octets
    /// of UTF-8. `None` for other codes, an empty one, a length past the data,
    /// or invalid UTF-8 (RFC 9003 §4: such a message is still a valid Cease).
    pub fn shutdown_communication(&self) -> Option<&'a str> {
        let carries = self.code.code == ErrorCode::Cease
            && matches!(
                self.code.subcode,
                cease_subcode::ADMINISTRATIVE_SHUTDOWN | cease_subcode::ADMINISTRATIVE_RESET
            );
        if !carries {
            return None;
        }
        let (&len, rest) = self.data.split_first()?;
        let text = rest.get(..usize::from(len)).filter(|t| !t.is_empty())?;
        core::str::from_utf8(text).ok()
    }
}

/// Builds the data field of a Cease with a shutdown communication (RFC 9003 §2)
/// into `buffer`: returns the data slice or EncodeError. `text` may take up to
/// 255 octets of UTF-8; longer is `TooLong`, and nothing is cut.
pub fn shutdown_communication_data<'b>(
    text: &str,
    buffer: &'b mut [u8],
) -> Result<&'b [u8], EncodeError> {
    let len = text.len();
    if len > MAX_SHUTDOWN_COMMUNICATION_LEN {
        return Err(EncodeError::TooLong {
            length: len,
            max: MAX_SHUTDOWN_COMMUNICATION_LEN,
        });
    }
    let Some(out) = buffer.get_mut(..1 + len) else {
        return Err(EncodeError::InsufficientSize { required: 1 + len });
    };
    if let Some((first, rest)) = out.split_first_mut() {
        *first = len as u8;
        rest.copy_from_slice(text.as_bytes());
    }
    Ok(out)
}

impl fmt::Display for Notification<'_> {
    /// `6 (Cease) / 2 (Administrative Shutdown): "maintenance"`; other data is
    /// shown in hex: `1 (Message Header Error) / 2 (Bad Message Length), data 00 11`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(text) = self.shutdown_communication() {
            return write!(f, ": {text:?}");
        }
        if !self.data.is_empty() {
            f.write_str(", data")?;
            for b in self.data {
                write!(f, " {b:02x}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::string::ToString;
    use std::vec::Vec;

    use super::*;
    use crate::wire::error::{ErrorAction, ErrorKind};

    fn notification_bytes(code: u8, subcode: u8, data: &[u8]) -> Vec<u8> {
        let mut m = Vec::from([0xffu8; 16]);
        m.extend_from_slice(&((21 + data.len()) as u16).to_be_bytes());
        m.extend_from_slice(&[3, code, subcode]);
        m.extend_from_slice(data);
        m
    }

    /// RFC 4271 §4.5: code, subcode, data; both ways, into a 0xa5 buffer.
    #[test]
    fn update_error_with_data() {
        let m = notification_bytes(3, 5, &[0x40, 0x01, 0x02, 0x00, 0x00]);
        let n = Notification::parse(&m).unwrap();
        assert_eq!(n.code, NotificationCode::from_wire(3, 5));
        assert_eq!(n.data, &[0x40, 0x01, 0x02, 0x00, 0x00]);
        let mut buf = [0xa5u8; 40];
        assert_eq!(n.emit(&mut buf), Ok(26));
        assert_eq!(&buf[..26], &m[..]);
        assert!(buf[26..].iter().all(|&b| b == 0xa5));
        assert_eq!(
            n.to_string(),
            "3 (UPDATE Message Error) / 5 (Attribute Length Error), data 40 01 02 00 00"
        );
        let mut short = [0xa5u8; 25];
        assert_eq!(
            n.emit(&mut short),
            Err(EncodeError::InsufficientSize { required: 26 })
        );
        assert_eq!(short, [0xa5; 25]);
    }

    /// Unknown codes are kept (a NOTIFICATION is never answered, §6.4).
    #[test]
    fn unknown_code_is_kept() {
        let m = notification_bytes(42, 7, &[]);
        let n = Notification::parse(&m).unwrap();
        assert_eq!(n.code, NotificationCode::from_wire(42, 7));
        assert_eq!(n.to_string(), "42 (Unknown error code) / 7");
    }

    /// §6.1: a NOTIFICATION shorter than 21 octets is Bad Message Length.
    #[test]
    fn shorter_than_21_octets_is_1_2() {
        let mut m = notification_bytes(6, 2, &[]);
        m.pop();
        m[17] = 20;
        let e = Notification::parse(&m).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadMessageLength { length: 20 });
        assert_eq!(e.offset, 16);
        assert_eq!(e.notification, NotificationCode::from_wire(1, 2));
        assert_eq!(e.data.resolve(&m), &[0, 20]);
        assert_eq!(e.action, ErrorAction::SessionReset);
    }

    /// RFC 9003 §2: Cease / Administrative Shutdown with a length-prefixed
    /// UTF-8 communication.
    #[test]
    fn shutdown_communication() {
        let mut data = [0u8; 32];
        let d = shutdown_communication_data("maintenance", &mut data).unwrap();
        assert_eq!(d, b"\x0bmaintenance");
        let m = notification_bytes(6, 2, d);
        let n = Notification::parse(&m).unwrap();
        assert_eq!(n.shutdown_communication(), Some("maintenance"));
        assert_eq!(
            n.to_string(),
            r#"6 (Cease) / 2 (Administrative Shutdown): "maintenance""#
        );
        // Administrative Reset carries one too; multi-octet UTF-8 counts octets.
        let d = shutdown_communication_data("redémarrage", &mut data).unwrap();
        assert_eq!(d[0], 12);
        let m = notification_bytes(6, 4, d);
        let n = Notification::parse(&m).unwrap();
        assert_eq!(n.shutdown_communication(), Some("redémarrage"));
        // Other Cease subcodes do not.
        let m = notification_bytes(6, 3, b"\x0bmaintenance");
        assert_eq!(
            Notification::parse(&m).unwrap().shutdown_communication(),
            None
        );
    }

    /// RFC 9003 §4: a bad communication does not make the NOTIFICATION bad;
    /// there is just no communication.
    #[test]
    fn malformed_shutdown_communication_gives_none() {
        for data in [
            &b"\x0cmaintenance"[..], // length past the data
            &[2, 0xc3, 0x28][..],    // invalid UTF-8
            &[0][..],                // empty
            &[][..],                 // no length octet
        ] {
            let m = notification_bytes(6, 2, data);
            let n = Notification::parse(&m).unwrap();
            assert_eq!(n.data, data);
            assert_eq!(n.shutdown_communication(), None, "{data:?}");
        }
    }

    /// RFC 9003 §2: up to 255 octets; more cannot be encoded; a short buffer
    /// is left untouched.
    #[test]
    fn shutdown_communication_data_limits() {
        let text: std::string::String = "x".repeat(255);
        let mut buf = [0xa5u8; 300];
        assert_eq!(
            shutdown_communication_data(&text, &mut buf).unwrap().len(),
            256
        );
        let long = "x".repeat(256);
        let mut buf = [0xa5u8; 300];
        assert_eq!(
            shutdown_communication_data(&long, &mut buf),
            Err(EncodeError::TooLong {
                length: 256,
                max: 255
            })
        );
        let mut short = [0xa5u8; 5];
        assert_eq!(
            shutdown_communication_data("hello", &mut short),
            Err(EncodeError::InsufficientSize { required: 6 })
        );
        assert_eq!(short, [0xa5; 5]);
    }
}
