//! The OPEN and NOTIFICATION messages as the session writes them (RFC 4271 §4.2,
//! §4.5; RFC 5492 capabilities; RFC 9003 shutdown communication).
//!
//! This is the seam between the FSM and the wire codec ([`crate::wire::open`],
//! [`crate::wire::capability`], [`crate::wire::notification`]): our OPEN is
//! built from the config on the stack whenever it is written or negotiated
//! against, so the session stores no copy of it.

use crate::wire::EncodeError;
use crate::wire::capability::{
    AddPathMode, Capabilities, Capability, GracefulRestart, GracefulRestartFamily, Items,
};
use crate::wire::family::{Afi, Family, FamilySet, Safi};
use crate::wire::notification::{MAX_SHUTDOWN_COMMUNICATION_LEN, shutdown_communication_data};
use crate::wire::open::{Open, my_as_field};

use super::config::SessionConfig;

/// Graceful restart as the peer advertised it (RFC 4724 §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GracefulRestartInfo {
    /// The Restart State bit: the peer has restarted.
    pub restarting: bool,
    /// Restart Time in seconds.
    pub restart_time: u16,
    /// Families whose forwarding state the peer preserved.
    pub forwarding_preserved: FamilySet,
    /// Families the peer can restart gracefully for.
    pub families: FamilySet,
}

impl GracefulRestartInfo {
    /// The summary of a received capability.
    pub fn from_capability(gr: &GracefulRestart<'_>) -> Self {
        let mut info = GracefulRestartInfo {
            restarting: gr.restart_state(),
            restart_time: gr.restart_time,
            ..GracefulRestartInfo::default()
        };
        for f in gr.families.iter() {
            info.families.insert(f.family);
            if f.forwarding_state() {
                info.forwarding_preserved.insert(f.family);
            }
        }
        info
    }
}

/// The families a [`FamilySet`] can hold, in the order they are advertised.
pub(crate) const FAMILIES: [Family; 4] = [
    Family::IPV4_UNICAST,
    Family::IPV6_UNICAST,
    Family {
        afi: Afi::Ipv4,
        safi: Safi::Multicast,
    },
    Family {
        afi: Afi::Ipv6,
        safi: Safi::Multicast,
    },
];

/// Most capabilities our OPEN carries: 4 families, route refresh, enhanced route
/// refresh, extended message, graceful restart, 4-octet AS, ADD-PATH.
const MAX_CAPABILITIES: usize = FAMILIES.len() + 6;

/// Calls `f` with our OPEN as the config describes it (built on the stack).
pub fn with_local_open<R>(config: &SessionConfig, f: impl FnOnce(&Open<'_>) -> R) -> R {
    let c = &config.capabilities;
    let mut add_paths = [(Family::IPV4_UNICAST, AddPathMode::Receive); FAMILIES.len()];
    let mut n_add_paths = 0;
    for family in FAMILIES {
        let mode = match (
            c.add_path.receive.contains(family),
            c.add_path.send.contains(family),
        ) {
            (true, true) => AddPathMode::Both,
            (true, false) => AddPathMode::Receive,
            (false, true) => AddPathMode::Send,
            (false, false) => continue,
        };
        add_paths[n_add_paths] = (family, mode);
        n_add_paths += 1;
    }
    let mut gr_families = [GracefulRestartFamily {
        family: Family::IPV4_UNICAST,
        flags: 0,
    }; FAMILIES.len()];
    let mut n_gr = 0;
    for family in FAMILIES.into_iter().filter(|f| c.families.contains(*f)) {
        gr_families[n_gr].family = family;
        n_gr += 1;
    }

    let mut caps = [Capability::RouteRefresh; MAX_CAPABILITIES];
    let mut n = 0;
    let mut push = |cap| {
        caps[n] = cap;
        n += 1;
    };
    for family in FAMILIES.into_iter().filter(|f| c.families.contains(*f)) {
        push(Capability::Multiprotocol(family));
    }
    if c.route_refresh {
        push(Capability::RouteRefresh);
    }
    if c.enhanced_route_refresh {
        push(Capability::EnhancedRouteRefresh);
    }
    if c.extended_message {
        push(Capability::ExtendedMessage);
    }
    if let Some(time) = c.graceful_restart {
        push(Capability::GracefulRestart(GracefulRestart {
            restart_flags: 0,
            restart_time: time.min(GracefulRestart::MAX_RESTART_TIME),
            families: Items::List(&gr_families[..n_gr]),
        }));
    }
    if c.four_octet_as || config.local_asn > u32::from(u16::MAX) {
        push(Capability::FourOctetAs(config.local_asn));
    }
    if n_add_paths > 0 {
        push(Capability::AddPath(Items::List(&add_paths[..n_add_paths])));
    }
    let open = Open {
        my_as: my_as_field(config.local_asn),
        hold_time: config.hold_time,
        bgp_identifier: config.router_id,
        capabilities: Capabilities::List(&caps[..n]),
    };
    f(&open)
}

/// Writes our OPEN (header included); returns its length.
pub fn emit_open(config: &SessionConfig, buffer: &mut [u8]) -> Result<usize, EncodeError> {
    with_local_open(config, |open| open.emit(buffer))
}

/// Builds a Cease data field carrying a shutdown communication (RFC 9003 §2)
/// into `buffer`: a length octet and up to 255 octets of UTF-8, longer text cut
/// at a character boundary. Returns the data's length.
pub fn shutdown_communication(text: &str, buffer: &mut [u8; 256]) -> usize {
    let mut n = text.len().min(MAX_SHUTDOWN_COMMUNICATION_LEN);
    while !text.is_char_boundary(n) {
        n -= 1;
    }
    shutdown_communication_data(&text[..n], buffer).map_or(0, |d| d.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{IpAddr, Ipv4Addr};

    /// The seed log's OPEN (entry 16): AS 4200000001, hold 6, id 1, MP 1/1, route
    /// refresh, 4-octet AS, ADD-PATH 1/1 receive.
    #[test]
    fn seed_open_bytes() {
        let seed: [u8; 51] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0, 0x33, 1, 4, 0x5b, 0xa0, 0, 6, 0, 0, 0, 1, 0x16, 2, 0x14, 1, 4, 0, 1, 0,
            1, 2, 0, 0x41, 4, 0xfa, 0x56, 0xea, 1, 0x45, 4, 0, 1, 1, 1,
        ];
        let mut config = SessionConfig::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 4_200_000_001, 1);
        config
            .capabilities
            .add_path
            .receive
            .insert(Family::IPV4_UNICAST);
        let mut buf = [0xa5u8; 64];
        let n = emit_open(&config, &mut buf).unwrap();
        assert_eq!(&buf[..n], &seed[..]);
        assert_eq!(buf[n], 0xa5);
    }

    #[test]
    fn shutdown_communication_is_cut_at_a_character_boundary() {
        let mut buf = [0u8; 256];
        assert_eq!(shutdown_communication("bye", &mut buf), 4);
        assert_eq!(&buf[..4], b"\x03bye");
        let long = "é".repeat(200); // 400 octets
        let n = shutdown_communication(&long, &mut buf);
        assert_eq!(n, 1 + 254);
        assert!(core::str::from_utf8(&buf[1..n]).is_ok());
    }
}
