//! The first byte of every fuzz input: the session parameters (RFC 4271 §4.2 OPEN,
//! with the capabilities of RFC 6793, RFC 8654 and RFC 7911) under which the rest
//! of the input is parsed, so one corpus exercises every negotiated variant.
//!
//! bit 0 4-octet AS, bit 1 extended message, bit 2 ADD-PATH receive IPv4, bit 3
//! ADD-PATH receive IPv6, bit 4 ADD-PATH send as received, bit 5 an external peer.

use nexthop_core::wire::update::PeerType;
use nexthop_core::wire::{Family, Negotiated};

/// Session parameters from the bits of one byte.
pub(crate) fn negotiated(bits: u8) -> Negotiated {
    let mut n = Negotiated {
        four_octet_as: bits & 1 != 0,
        extended_message: bits & 2 != 0,
        ..Negotiated::default()
    };
    if bits & 4 != 0 {
        n.add_path_receive.insert(Family::IPV4_UNICAST);
    }
    if bits & 8 != 0 {
        n.add_path_receive.insert(Family::IPV6_UNICAST);
    }
    if bits & 16 != 0 {
        n.add_path_send = n.add_path_receive;
    }
    n
}

/// The peer type from bit 5: RFC 7606 treats some attributes from an external
/// peer differently.
pub(crate) fn peer_type(bits: u8) -> PeerType {
    if bits & 32 != 0 {
        PeerType::External
    } else {
        PeerType::Internal
    }
}
