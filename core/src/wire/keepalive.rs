//! KEEPALIVE (RFC 4271 §4.4): a header alone, 19 bytes.

use super::error::EncodeError;
use super::header::{self, KEEPALIVE_LEN, MessageType};

/// The KEEPALIVE message. It has no fields; its length is checked by the header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Keepalive;

impl Keepalive {
    /// Bytes the message takes.
    pub const fn buffer_len(&self) -> usize {
        KEEPALIVE_LEN
    }

    /// Writes the message; returns the bytes written.
    pub fn emit(&self, buffer: &mut [u8]) -> Result<usize, EncodeError> {
        if buffer.len() < KEEPALIVE_LEN {
            return Err(EncodeError::InsufficientSize {
                required: KEEPALIVE_LEN,
            });
        }
        header::emit(buffer, KEEPALIVE_LEN, MessageType::Keepalive)?;
        Ok(KEEPALIVE_LEN)
    }
}
