//! The BGP-4 wire codec (RFC 4271 §4), as zero-copy views and validated reprs.
//!
//! Every message type has a view over the caller's bytes (`T: AsRef<[u8]>`) whose
//! accessors never panic once `check_len` (or `new_checked`) has succeeded, and a
//! `Repr` that is the validated value with `parse`, `buffer_len` and `emit`.
//! Decoding failures are [`DecodeError`]s that carry the NOTIFICATION RFC 4271 §6
//! requires and the RFC 7606 action; encoding into a buffer that is too small
//! returns [`EncodeError::InsufficientSize`] and leaves the buffer untouched.

pub mod codes;
pub mod error;
pub mod family;
pub mod header;

pub mod capability;
pub mod keepalive;
pub mod notification;
pub mod open;
pub mod route_refresh;

pub mod attribute;
pub mod nlri;
pub mod update;

pub mod message;

pub use codes::{ErrorCode, NotificationCode};
pub use error::{DecodeError, EncodeError, ErrorAction, ErrorData, ErrorKind};
pub use family::{Afi, Family, FamilySet, Safi};
pub use header::{Header, MessageType};
pub use message::Message;

/// Session parameters that change how messages are decoded and encoded.
///
/// They come from capability negotiation (RFC 5492): the FSM fills one in when the
/// session reaches OpenConfirm, and every UPDATE of that session is parsed with it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Negotiated {
    /// Both sides advertised the 4-octet AS capability (RFC 6793): AS_PATH and
    /// AGGREGATOR carry 4-octet AS numbers.
    pub four_octet_as: bool,
    /// Both sides advertised the extended message capability (RFC 8654): messages
    /// other than OPEN and KEEPALIVE may be up to 65535 bytes.
    pub extended_message: bool,
    /// Families for which we receive ADD-PATH path identifiers (RFC 7911 §4):
    /// we advertised "receive" and the peer advertised "send".
    pub add_path_receive: FamilySet,
    /// Families for which we send ADD-PATH path identifiers.
    pub add_path_send: FamilySet,
}

impl Negotiated {
    /// The largest message this session accepts or sends (RFC 4271 §4.1, RFC 8654).
    pub const fn max_message_len(&self) -> usize {
        if self.extended_message {
            header::MAX_EXTENDED_MESSAGE_LEN
        } else {
            header::MAX_MESSAGE_LEN
        }
    }
}
