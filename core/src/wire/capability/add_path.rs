//! The ADD-PATH capability (RFC 7911 §4): for each (AFI, SAFI), whether the
//! speaker can receive, send, or both receive and send several paths per prefix.

use core::fmt;

use super::items::{Items, WireItem};
use crate::wire::family::Family;

/// The Send/Receive field of an ADD-PATH item (RFC 7911 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AddPathMode {
    /// 1: willing to receive several paths from the peer.
    Receive,
    /// 2: would like to send several paths to the peer.
    Send,
    /// 3: both.
    Both,
}

impl AddPathMode {
    /// The mode for a wire value; `None` for any value but 1, 2 and 3, which
    /// RFC 7911 §4 says makes the capability "not understood" (so it is kept raw).
    pub const fn from_wire(v: u8) -> Option<Self> {
        match v {
            1 => Some(AddPathMode::Receive),
            2 => Some(AddPathMode::Send),
            3 => Some(AddPathMode::Both),
            _ => None,
        }
    }

    /// The wire value.
    pub const fn to_wire(self) -> u8 {
        match self {
            AddPathMode::Receive => 1,
            AddPathMode::Send => 2,
            AddPathMode::Both => 3,
        }
    }

    /// Whether this side may receive several paths (Receive or Both).
    pub const fn receives(self) -> bool {
        matches!(self, AddPathMode::Receive | AddPathMode::Both)
    }

    /// Whether this side may send several paths (Send or Both).
    pub const fn sends(self) -> bool {
        matches!(self, AddPathMode::Send | AddPathMode::Both)
    }

    /// The RFC's word for the mode.
    pub const fn name(self) -> &'static str {
        match self {
            AddPathMode::Receive => "receive",
            AddPathMode::Send => "send",
            AddPathMode::Both => "send/receive",
        }
    }
}

impl fmt::Display for AddPathMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One ADD-PATH item: AFI (2 octets), SAFI (1), Send/Receive (1).
impl WireItem for (Family, AddPathMode) {
    const LEN: usize = 4;

    fn decode(bytes: &[u8]) -> Option<Self> {
        let &[a0, a1, safi, mode] = bytes else {
            return None;
        };
        let family = Family::from_wire(u16::from_be_bytes([a0, a1]), safi);
        Some((family, AddPathMode::from_wire(mode)?))
    }

    fn encode(&self, out: &mut [u8]) {
        let afi = u16::from(self.0.afi).to_be_bytes();
        out.copy_from_slice(&[afi[0], afi[1], u8::from(self.0.safi), self.1.to_wire()]);
    }
}

/// The items of an ADD-PATH capability: (family, mode) pairs.
pub type AddPaths<'a> = Items<'a, (Family, AddPathMode)>;
