//! The ROUTE-REFRESH message (RFC 2918 §3) with the message subtypes of
//! Enhanced Route Refresh (RFC 7313 §3.2) and its length check (§5).

use core::fmt;

use super::codes::{ErrorCode, header_subcode, route_refresh_subcode};
use super::error::{DecodeError, EncodeError, ErrorData, ErrorKind, Layer};
use super::family::Family;
use super::header::{self, HEADER_LEN, MAX_EXTENDED_MESSAGE_LEN, MessageType, ROUTE_REFRESH_LEN};
use super::open::checked_message;

/// The Message Subtype octet (RFC 7313 §3.2; "Reserved" in RFC 2918 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RouteRefreshSubtype {
    /// 0: Normal route refresh request (RFC 2918).
    Normal,
    /// 1: Demarcation of the beginning of a route refresh (BoRR).
    BeginningOfRouteRefresh,
    /// 2: Demarcation of the ending of a route refresh (EoRR).
    EndOfRouteRefresh,
    /// Any other value; RFC 7313 §3.2 says to ignore such a message.
    Unknown(u8),
}

impl From<u8> for RouteRefreshSubtype {
    fn from(v: u8) -> Self {
        match v {
            0 => RouteRefreshSubtype::Normal,
            1 => RouteRefreshSubtype::BeginningOfRouteRefresh,
            2 => RouteRefreshSubtype::EndOfRouteRefresh,
            other => RouteRefreshSubtype::Unknown(other),
        }
    }
}

impl From<RouteRefreshSubtype> for u8 {
    fn from(s: RouteRefreshSubtype) -> u8 {
        match s {
            RouteRefreshSubtype::Normal => 0,
            RouteRefreshSubtype::BeginningOfRouteRefresh => 1,
            RouteRefreshSubtype::EndOfRouteRefresh => 2,
            RouteRefreshSubtype::Unknown(v) => v,
        }
    }
}

impl RouteRefreshSubtype {
    /// The RFC's words for the subtype.
    pub const fn name(self) -> &'static str {
        match self {
            RouteRefreshSubtype::Normal => "Normal route refresh request",
            RouteRefreshSubtype::BeginningOfRouteRefresh => "BoRR",
            RouteRefreshSubtype::EndOfRouteRefresh => "EoRR",
            RouteRefreshSubtype::Unknown(_) => "unknown subtype",
        }
    }
}

/// A ROUTE-REFRESH: AFI (2 octets), Message Subtype (1), SAFI (1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RouteRefresh {
    /// The family whose routes are asked for or demarcated.
    pub family: Family,
    /// The message subtype.
    pub subtype: RouteRefreshSubtype,
}

impl RouteRefresh {
    /// Parses a whole ROUTE-REFRESH, header included.
    ///
    /// A subtype other than 0, 1 or 2 parses as [`RouteRefreshSubtype::Unknown`]
    /// for the caller to ignore (RFC 7313 §3.2), whatever follows the SAFI.
    /// Errors: subtype 1 or 2 with a length other than 23 is ROUTE-REFRESH
    /// Message Error / Invalid Message Length with the whole message as data
    /// (RFC 7313 §5); a length that cannot hold the AFI, subtype and SAFI, or a
    /// subtype 0 with a length other than 23, is Message Header Error / Bad
    /// Message Length with the length field as data (RFC 4271 §6.1).
    pub fn parse(message: &[u8]) -> Result<RouteRefresh, DecodeError> {
        let message = checked_message(
            message,
            MessageType::RouteRefresh,
            MAX_EXTENDED_MESSAGE_LEN,
            Layer::RouteRefresh,
        )?;
        let len = message.len();
        let length = len as u16;
        let bad_length = || {
            DecodeError::reset(
                ErrorKind::BadMessageLength { length },
                16,
                ErrorCode::MessageHeader,
                header_subcode::BAD_MESSAGE_LENGTH,
                ErrorData::inline(&length.to_be_bytes()),
            )
        };
        let subtype = match message.get(HEADER_LEN + 2) {
            Some(&s) => RouteRefreshSubtype::from(s),
            None => return Err(bad_length()),
        };
        match subtype {
            RouteRefreshSubtype::BeginningOfRouteRefresh
            | RouteRefreshSubtype::EndOfRouteRefresh
                if len != ROUTE_REFRESH_LEN =>
            {
                return Err(DecodeError::reset(
                    ErrorKind::InvalidRouteRefreshLength { length },
                    16,
                    ErrorCode::RouteRefreshMessage,
                    route_refresh_subcode::INVALID_MESSAGE_LENGTH,
                    ErrorData::span(0, len),
                ));
            }
            RouteRefreshSubtype::Normal if len != ROUTE_REFRESH_LEN => return Err(bad_length()),
            _ => {}
        }
        let Some(&[a0, a1, _, safi]) = message.get(HEADER_LEN..ROUTE_REFRESH_LEN) else {
            return Err(bad_length());
        };
        Ok(RouteRefresh {
            family: Family::from_wire(u16::from_be_bytes([a0, a1]), safi),
            subtype,
        })
    }

    /// Bytes the message takes: always 23.
    pub const fn buffer_len(&self) -> usize {
        ROUTE_REFRESH_LEN
    }

    /// Writes the whole message; returns the bytes written.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize, EncodeError> {
        let Some(out) = buffer.get_mut(..ROUTE_REFRESH_LEN) else {
            return Err(EncodeError::InsufficientSize {
                required: ROUTE_REFRESH_LEN,
            });
        };
        header::emit(out, ROUTE_REFRESH_LEN, MessageType::RouteRefresh)?;
        let afi = u16::from(self.family.afi).to_be_bytes();
        if let Some(body) = out.get_mut(HEADER_LEN..) {
            body.copy_from_slice(&[
                afi[0],
                afi[1],
                u8::from(self.subtype),
                u8::from(self.family.safi),
            ]);
        }
        Ok(ROUTE_REFRESH_LEN)
    }
}

impl fmt::Display for RouteRefresh {
    /// `ROUTE-REFRESH ipv4-unicast (BoRR)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ROUTE-REFRESH {}", self.family)?;
        match self.subtype {
            RouteRefreshSubtype::Normal => Ok(()),
            RouteRefreshSubtype::Unknown(v) => write!(f, " (subtype {v})"),
            s => write!(f, " ({})", s.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::string::ToString;
    use std::vec::Vec;

    use super::*;
    use crate::wire::codes::NotificationCode;
    use crate::wire::error::ErrorAction;

    fn rr_bytes(afi: u16, subtype: u8, safi: u8, extra: &[u8]) -> Vec<u8> {
        let mut m = Vec::from([0xffu8; 16]);
        m.extend_from_slice(&((23 + extra.len()) as u16).to_be_bytes());
        m.push(5);
        m.extend_from_slice(&afi.to_be_bytes());
        m.extend_from_slice(&[subtype, safi]);
        m.extend_from_slice(extra);
        m
    }

    /// RFC 2918 §3 and RFC 7313 §3.2: each subtype, both ways.
    #[test]
    fn subtypes_round_trip() {
        for (subtype, s, text) in [
            (
                0u8,
                RouteRefreshSubtype::Normal,
                "ROUTE-REFRESH ipv6-unicast",
            ),
            (
                1,
                RouteRefreshSubtype::BeginningOfRouteRefresh,
                "ROUTE-REFRESH ipv6-unicast (BoRR)",
            ),
            (
                2,
                RouteRefreshSubtype::EndOfRouteRefresh,
                "ROUTE-REFRESH ipv6-unicast (EoRR)",
            ),
        ] {
            let m = rr_bytes(2, subtype, 1, &[]);
            let rr = RouteRefresh::parse(&m).unwrap();
            assert_eq!(
                rr,
                RouteRefresh {
                    family: Family::IPV6_UNICAST,
                    subtype: s
                }
            );
            assert_eq!(rr.to_string(), text);
            let mut buf = [0xa5u8; 30];
            assert_eq!(rr.emit(&mut buf), Ok(23));
            assert_eq!(&buf[..23], &m[..]);
            assert!(buf[23..].iter().all(|&b| b == 0xa5));
            let mut short = [0xa5u8; 22];
            assert_eq!(
                rr.emit(&mut short),
                Err(EncodeError::InsufficientSize { required: 23 })
            );
            assert_eq!(short, [0xa5; 22]);
        }
    }

    /// RFC 7313 §5: BoRR or EoRR whose length is not 23 is ROUTE-REFRESH Message
    /// Error / Invalid Message Length, with the complete message as data.
    #[test]
    fn borr_eorr_with_bad_length_is_7_1() {
        for (subtype, extra) in [(1u8, &[0u8][..]), (2, &[1, 2, 3][..])] {
            let m = rr_bytes(1, subtype, 1, extra);
            let e = RouteRefresh::parse(&m).unwrap_err();
            let length = m.len() as u16;
            assert_eq!(e.kind, ErrorKind::InvalidRouteRefreshLength { length });
            assert_eq!(e.offset, 16);
            assert_eq!(e.notification, NotificationCode::from_wire(7, 1));
            assert_eq!(e.data.resolve(&m), &m[..]);
            assert_eq!(e.action, ErrorAction::SessionReset);
        }
        // 22 octets: the subtype is there, the SAFI is not.
        let mut m = rr_bytes(1, 1, 1, &[]);
        m.pop();
        m[17] = 22;
        let e = RouteRefresh::parse(&m).unwrap_err();
        assert_eq!(e.notification, NotificationCode::from_wire(7, 1));
        assert_eq!(e.data.resolve(&m), &m[..]);
    }

    /// RFC 7313 §3.2: another subtype is to be ignored, so it parses (as
    /// Unknown) whatever its length; the caller drops it.
    #[test]
    fn unknown_subtype_parses() {
        let m = rr_bytes(1, 7, 1, &[]);
        assert_eq!(
            RouteRefresh::parse(&m).unwrap().subtype,
            RouteRefreshSubtype::Unknown(7)
        );
        let m = rr_bytes(1, 255, 1, &[9, 9]);
        let rr = RouteRefresh::parse(&m).unwrap();
        assert_eq!(rr.subtype, RouteRefreshSubtype::Unknown(255));
        assert_eq!(rr.family, Family::IPV4_UNICAST);
    }

    /// RFC 4271 §6.1: a plain request of the wrong length, or one too short to
    /// hold a subtype, is Bad Message Length with the length.
    #[test]
    fn other_bad_lengths_are_1_2() {
        let m = rr_bytes(1, 0, 1, &[0]);
        let e = RouteRefresh::parse(&m).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadMessageLength { length: 24 });
        assert_eq!(e.notification, NotificationCode::from_wire(1, 2));
        assert_eq!(e.data.resolve(&m), &[0, 24]);
        let mut m = rr_bytes(1, 0, 1, &[]);
        m.truncate(21);
        m[17] = 21;
        let e = RouteRefresh::parse(&m).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadMessageLength { length: 21 });
        assert_eq!(e.data.resolve(&m), &[0, 21]);
    }
}
