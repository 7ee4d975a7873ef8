//! The Extended Next Hop Encoding capability (RFC 8950 §3): which NLRI families
//! the speaker accepts with a next hop of another address family (typically IPv4
//! routes with IPv6 next hops).

use core::fmt;

use super::items::{Items, WireItem};
use crate::wire::family::{Afi, Family};

/// One item of the capability: NLRI AFI (2 octets), NLRI SAFI (2 octets),
/// Nexthop AFI (2 octets) (RFC 8950 §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ExtendedNextHop {
    /// The NLRI's family.
    pub family: Family,
    /// The address family of the next hop it may carry.
    pub next_hop_afi: Afi,
}

impl WireItem for ExtendedNextHop {
    const LEN: usize = 6;

    /// `None` for an NLRI SAFI over 255, which no [`Family`] can hold: such a
    /// capability is kept raw.
    fn decode(bytes: &[u8]) -> Option<Self> {
        let &[a0, a1, s0, s1, n0, n1] = bytes else {
            return None;
        };
        let safi = u8::try_from(u16::from_be_bytes([s0, s1])).ok()?;
        Some(ExtendedNextHop {
            family: Family::from_wire(u16::from_be_bytes([a0, a1]), safi),
            next_hop_afi: u16::from_be_bytes([n0, n1]).into(),
        })
    }

    fn encode(&self, out: &mut [u8]) {
        let afi = u16::from(self.family.afi).to_be_bytes();
        let nh = u16::from(self.next_hop_afi).to_be_bytes();
        out.copy_from_slice(&[afi[0], afi[1], 0, u8::from(self.family.safi), nh[0], nh[1]]);
    }
}

impl fmt::Display for ExtendedNextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} via ", self.family)?;
        match self.next_hop_afi {
            Afi::Ipv4 => f.write_str("ipv4"),
            Afi::Ipv6 => f.write_str("ipv6"),
            Afi::Unknown(v) => write!(f, "AFI {v}"),
        }
    }
}

/// The items of an Extended Next Hop Encoding capability.
pub type ExtendedNextHops<'a> = Items<'a, ExtendedNextHop>;
