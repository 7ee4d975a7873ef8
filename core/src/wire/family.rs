//! Address families: AFI (IANA "Address Family Numbers") and SAFI (RFC 4760 §6).

/// Address Family Identifier (RFC 4760 §3, IANA registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Afi {
    /// IP version 4 (1).
    Ipv4,
    /// IP version 6 (2).
    Ipv6,
    /// Any other value, kept so it can be reported.
    Unknown(u16),
}

impl From<u16> for Afi {
    fn from(v: u16) -> Self {
        match v {
            1 => Afi::Ipv4,
            2 => Afi::Ipv6,
            other => Afi::Unknown(other),
        }
    }
}

impl From<Afi> for u16 {
    fn from(a: Afi) -> u16 {
        match a {
            Afi::Ipv4 => 1,
            Afi::Ipv6 => 2,
            Afi::Unknown(v) => v,
        }
    }
}

/// Subsequent Address Family Identifier (RFC 4760 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Safi {
    /// Unicast forwarding (1).
    Unicast,
    /// Multicast forwarding (2).
    Multicast,
    /// Any other value, kept so it can be reported.
    Unknown(u8),
}

impl From<u8> for Safi {
    fn from(v: u8) -> Self {
        match v {
            1 => Safi::Unicast,
            2 => Safi::Multicast,
            other => Safi::Unknown(other),
        }
    }
}

impl From<Safi> for u8 {
    fn from(s: Safi) -> u8 {
        match s {
            Safi::Unicast => 1,
            Safi::Multicast => 2,
            Safi::Unknown(v) => v,
        }
    }
}

/// An (AFI, SAFI) pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Family {
    /// Address family.
    pub afi: Afi,
    /// Subsequent address family.
    pub safi: Safi,
}

impl Family {
    /// IPv4 unicast (1/1), the family of RFC 4271's own NLRI fields.
    pub const IPV4_UNICAST: Family = Family {
        afi: Afi::Ipv4,
        safi: Safi::Unicast,
    };
    /// IPv6 unicast (2/1), carried in MP_REACH_NLRI / MP_UNREACH_NLRI.
    pub const IPV6_UNICAST: Family = Family {
        afi: Afi::Ipv6,
        safi: Safi::Unicast,
    };

    /// Builds a family from its wire values.
    pub fn from_wire(afi: u16, safi: u8) -> Self {
        Family {
            afi: afi.into(),
            safi: safi.into(),
        }
    }

    /// The bit this family has in a [`FamilySet`], for the families nexthop routes.
    const fn bit(self) -> Option<u8> {
        match (self.afi, self.safi) {
            (Afi::Ipv4, Safi::Unicast) => Some(1),
            (Afi::Ipv6, Safi::Unicast) => Some(2),
            (Afi::Ipv4, Safi::Multicast) => Some(4),
            (Afi::Ipv6, Safi::Multicast) => Some(8),
            _ => None,
        }
    }
}

impl core::fmt::Display for Family {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match (self.afi, self.safi) {
            (Afi::Ipv4, Safi::Unicast) => f.write_str("ipv4-unicast"),
            (Afi::Ipv6, Safi::Unicast) => f.write_str("ipv6-unicast"),
            (Afi::Ipv4, Safi::Multicast) => f.write_str("ipv4-multicast"),
            (Afi::Ipv6, Safi::Multicast) => f.write_str("ipv6-multicast"),
            (a, s) => write!(f, "{}/{}", u16::from(a), u8::from(s)),
        }
    }
}

/// A set of the address families nexthop routes (IPv4/IPv6 unicast and multicast),
/// as a bitmask: `Copy`, no allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FamilySet(u8);

impl FamilySet {
    /// The empty set.
    pub const EMPTY: FamilySet = FamilySet(0);

    /// Adds a family; returns false (and changes nothing) for a family the set
    /// cannot hold.
    pub fn insert(&mut self, family: Family) -> bool {
        match family.bit() {
            Some(b) => {
                self.0 |= b;
                true
            }
            None => false,
        }
    }

    /// Removes a family.
    pub fn remove(&mut self, family: Family) {
        if let Some(b) = family.bit() {
            self.0 &= !b;
        }
    }

    /// Whether the set holds `family`.
    pub const fn contains(&self, family: Family) -> bool {
        match family.bit() {
            Some(b) => self.0 & b != 0,
            None => false,
        }
    }

    /// Whether the set is empty.
    pub const fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The families in both sets.
    pub const fn intersection(self, other: FamilySet) -> FamilySet {
        FamilySet(self.0 & other.0)
    }
}
