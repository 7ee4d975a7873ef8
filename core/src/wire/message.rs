//! Any BGP message (RFC 4271 §4): the header's type picks the body's parser.

use core::fmt;

use super::Negotiated;
use super::error::{DecodeError, EncodeError};
use super::header::{Header, MessageType};
use super::keepalive::Keepalive;
use super::notification::Notification;
use super::open::Open;
use super::route_refresh::RouteRefresh;
use super::update::Update;

/// A parsed BGP message, borrowing the caller's bytes.
#[derive(Clone, Copy, Debug)]
pub enum Message<'a> {
    /// OPEN (§4.2).
    Open(Open<'a>),
    /// UPDATE (§4.3). It may carry a treat-as-withdraw or attribute-discard error
    /// ([`Update::treat_as_withdraw`]); errors that reset the session are `Err`.
    Update(Update<'a>),
    /// NOTIFICATION (§4.5).
    Notification(Notification<'a>),
    /// KEEPALIVE (§4.4).
    Keepalive(Keepalive),
    /// ROUTE-REFRESH (RFC 2918, RFC 7313).
    RouteRefresh(RouteRefresh),
}

impl<'a> Message<'a> {
    /// Parses one whole message (header included; use [`super::header::frame`] to
    /// find it in a stream), for a session with the given negotiated parameters.
    pub fn parse(message: &'a [u8], negotiated: &Negotiated) -> Result<Message<'a>, DecodeError> {
        let header = Header::new_checked(message)?;
        header.check(negotiated.max_message_len())?;
        Ok(match header.message_type() {
            MessageType::Open => Message::Open(Open::parse(message)?),
            MessageType::Update => Message::Update(Update::parse(message, negotiated)?),
            MessageType::Notification => Message::Notification(Notification::parse(message)?),
            MessageType::Keepalive => Message::Keepalive(Keepalive),
            MessageType::RouteRefresh => Message::RouteRefresh(RouteRefresh::parse(message)?),
            // Header::check refuses unknown types (1/3).
            MessageType::Unknown(_) => unreachable_unknown(message)?,
        })
    }

    /// The message's type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Open(_) => MessageType::Open,
            Message::Update(_) => MessageType::Update,
            Message::Notification(_) => MessageType::Notification,
            Message::Keepalive(_) => MessageType::Keepalive,
            Message::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }

    /// Writes the message into `buffer`; returns the bytes written. UPDATEs are
    /// written with [`super::update::UpdateBuilder`], not here: an UPDATE view
    /// re-emits its own bytes.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize, EncodeError> {
        match self {
            Message::Open(m) => m.emit(buffer),
            Message::Update(u) => {
                let bytes = u.as_bytes();
                let out = buffer
                    .get_mut(..bytes.len())
                    .ok_or(EncodeError::InsufficientSize {
                        required: bytes.len(),
                    })?;
                out.copy_from_slice(bytes);
                Ok(bytes.len())
            }
            Message::Notification(m) => m.emit(buffer),
            Message::Keepalive(m) => m.emit(buffer),
            Message::RouteRefresh(m) => m.emit(buffer),
        }
    }
}

/// Kept apart so `parse` stays total without a panic: re-runs the header check,
/// which refuses the unknown type with 1/3.
fn unreachable_unknown<'a>(message: &'a [u8]) -> Result<Message<'a>, DecodeError> {
    Header::new_unchecked(message)
        .check(usize::MAX)
        .map(|_| Message::Keepalive(Keepalive))
}

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Open(m) => write!(f, "OPEN {m}"),
            Message::Update(u) => write!(f, "UPDATE ({} bytes)", u.as_bytes().len()),
            Message::Notification(m) => write!(f, "NOTIFICATION {m}"),
            Message::Keepalive(_) => f.write_str("KEEPALIVE"),
            Message::RouteRefresh(m) => write!(f, "ROUTE-REFRESH {m}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::codes::NotificationCode;

    #[test]
    fn dispatches_on_type() {
        let mut buf = [0u8; 64];
        let n = Keepalive.emit(&mut buf).unwrap();
        let m = Message::parse(&buf[..n], &Negotiated::default()).unwrap();
        assert_eq!(m.message_type(), MessageType::Keepalive);
        let mut out = [0xa5u8; 19];
        assert_eq!(m.emit(&mut out), Ok(19));
        assert_eq!(out, buf[..19]);

        let note = Notification {
            code: NotificationCode::HOLD_TIMER_EXPIRED,
            data: &[],
        };
        let n = note.emit(&mut buf).unwrap();
        match Message::parse(&buf[..n], &Negotiated::default()).unwrap() {
            Message::Notification(p) => assert_eq!(p.code, NotificationCode::HOLD_TIMER_EXPIRED),
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn unknown_type_is_bad_message_type() {
        let mut b = [0xffu8; 19];
        b[16] = 0;
        b[17] = 19;
        b[18] = 7;
        let e = Message::parse(&b, &Negotiated::default()).unwrap_err();
        assert_eq!(e.notification, NotificationCode::from_wire(1, 3));
    }
}
