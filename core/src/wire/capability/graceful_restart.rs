//! The Graceful Restart capability (RFC 4724 §3, with the N bit of RFC 8538 §2):
//! restart flags, restart time, and per family whether forwarding state was kept.

use core::fmt;

use super::items::{Items, WireItem, write_list};
use crate::wire::family::Family;

/// Restart Flags (the high 4 bits of the first two octets) and Restart Time
/// (the low 12 bits), then one [`GracefulRestartFamily`] per family (RFC 4724 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GracefulRestart<'a> {
    /// The 4 Restart Flags bits, in the low bits of this octet
    /// ([`GracefulRestart::RESTART_STATE`], [`GracefulRestart::NOTIFICATION`]).
    pub restart_flags: u8,
    /// Restart Time in seconds, 0..=4095.
    pub restart_time: u16,
    /// The families, each with its Flags for Address Family.
    pub families: GracefulRestartFamilies<'a>,
}

impl<'a> GracefulRestart<'a> {
    /// Restart State (R) bit: the speaker has restarted (RFC 4724 §3).
    pub const RESTART_STATE: u8 = 0x8;
    /// Graceful Notification (N) bit: the speaker supports graceful restart for
    /// NOTIFICATION messages (RFC 8538 §2).
    pub const NOTIFICATION: u8 = 0x4;
    /// Largest Restart Time (12 bits).
    pub const MAX_RESTART_TIME: u16 = 0xfff;

    /// Whether the R bit is set.
    pub const fn restart_state(&self) -> bool {
        self.restart_flags & Self::RESTART_STATE != 0
    }

    /// Whether the N bit is set.
    pub const fn notification(&self) -> bool {
        self.restart_flags & Self::NOTIFICATION != 0
    }

    /// Reads a capability value: 2 octets, then 4 per family. `Err(())` for
    /// another length.
    pub(crate) fn from_value(value: &'a [u8]) -> Result<Self, ()> {
        let [b0, b1, rest @ ..] = value else {
            return Err(());
        };
        let families = match Items::from_wire(rest)? {
            Some(items) => items,
            None => return Err(()),
        };
        Ok(GracefulRestart {
            restart_flags: b0 >> 4,
            restart_time: u16::from_be_bytes([b0 & 0x0f, *b1]),
            families,
        })
    }

    /// Bytes the value takes.
    pub fn value_len(&self) -> usize {
        2 + self.families.byte_len()
    }

    /// Writes the value into `out` ([`GracefulRestart::value_len`] bytes).
    pub(crate) fn encode(&self, out: &mut [u8]) {
        let head = (u16::from(self.restart_flags & 0x0f) << 12)
            | (self.restart_time & Self::MAX_RESTART_TIME);
        if let Some((h, rest)) = out.split_first_chunk_mut::<2>() {
            *h = head.to_be_bytes();
            self.families.encode(rest);
        }
    }
}

impl fmt::Display for GracefulRestart<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Graceful Restart")?;
        if self.restart_state() {
            f.write_str(" restarting")?;
        }
        if self.notification() {
            f.write_str(" notification")?;
        }
        let other = self.restart_flags & !(Self::RESTART_STATE | Self::NOTIFICATION);
        if other != 0 {
            write!(f, " flags {other:#x}")?;
        }
        write!(f, " time {}s ", self.restart_time)?;
        write_list(f, &self.families, |f, x| write!(f, "{x}"))
    }
}

/// One family of a Graceful Restart capability: AFI (2 octets), SAFI (1),
/// Flags for Address Family (1) (RFC 4724 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GracefulRestartFamily {
    /// The family.
    pub family: Family,
    /// Flags for Address Family; only [`GracefulRestartFamily::FORWARDING_STATE`]
    /// is defined.
    pub flags: u8,
}

impl GracefulRestartFamily {
    /// Forwarding State (F) bit: forwarding state was preserved across the restart.
    pub const FORWARDING_STATE: u8 = 0x80;

    /// Whether the F bit is set.
    pub const fn forwarding_state(&self) -> bool {
        self.flags & Self::FORWARDING_STATE != 0
    }
}

impl WireItem for GracefulRestartFamily {
    const LEN: usize = 4;

    fn decode(bytes: &[u8]) -> Option<Self> {
        let &[a0, a1, safi, flags] = bytes else {
            return None;
        };
        Some(GracefulRestartFamily {
            family: Family::from_wire(u16::from_be_bytes([a0, a1]), safi),
            flags,
        })
    }

    fn encode(&self, out: &mut [u8]) {
        let afi = u16::from(self.family.afi).to_be_bytes();
        out.copy_from_slice(&[afi[0], afi[1], u8::from(self.family.safi), self.flags]);
    }
}

impl fmt::Display for GracefulRestartFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.family)?;
        if self.forwarding_state() {
            f.write_str(" forwarding preserved")?;
        }
        let other = self.flags & !Self::FORWARDING_STATE;
        if other != 0 {
            write!(f, " flags {other:#04x}")?;
        }
        Ok(())
    }
}

/// The families of a Graceful Restart capability.
pub type GracefulRestartFamilies<'a> = Items<'a, GracefulRestartFamily>;
