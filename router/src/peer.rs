//! A neighbour as the router sees it: its configuration, and what its session
//! negotiated (RFC 4271 §4.2 OPEN, RFC 6793 4-octet AS, RFC 7911 ADD-PATH,
//! RFC 8654 Extended Message).

use crate::time::Duration;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::policy::Policy;

/// Which paths are sent to a peer that can receive ADD-PATH (RFC 7911 §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AddPathSend {
    /// Only the best path (plain BGP).
    #[default]
    BestOnly,
    /// Every path that may be advertised.
    All,
    /// The N best paths, in decision order.
    BestN(u8),
}

/// A neighbour's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerConfig {
    /// The neighbour's address (the last tie-break of the decision, §9.1.2.2 (g)).
    pub address: IpAddr,
    /// Its AS; equal to ours for an iBGP peer.
    pub remote_asn: u32,
    /// A route reflector client (RFC 4456); iBGP only.
    pub route_reflector_client: bool,
    /// A route server client (RFC 7947); eBGP only.
    pub route_server_client: bool,
    /// ADD-PATH send mode, used when the session negotiated sending.
    pub add_path_send: AddPathSend,
    /// Reject eBGP routes whose AS_PATH does not start with the peer's AS.
    pub enforce_first_as: bool,
    /// The largest number of prefixes accepted from the peer in each family
    /// (IPv4 and IPv6 unicast counted apart); more is reported
    /// by [`crate::router::ImportError::MaxPrefix`] so the session can send
    /// Cease/Maximum Number of Prefixes Reached (RFC 4486 §4, subcode 1).
    pub max_prefix: Option<u32>,
    /// Import policy.
    pub import: Policy,
    /// Export policy.
    pub export: Policy,
    /// Our IPv4 address on the session, the next hop we advertise as "self".
    pub local_v4: Option<Ipv4Addr>,
    /// Our IPv6 address on the session.
    pub local_v6: Option<Ipv6Addr>,
    /// MinRouteAdvertisementInterval (RFC 4271 §9.2.1.1); `None` for the RFC's
    /// suggestion: 5 s for iBGP, 30 s for eBGP (§10).
    pub mrai: Option<Duration>,
    /// Keep each path the peer announces as received, before import policy
    /// (a pre-policy Adj-RIB-In, RFC 4271 §3.2), for the control API. The
    /// attributes are interned, so a shared set costs one reference.
    pub keep_received: bool,
}

impl PeerConfig {
    /// A neighbour at `address` in AS `remote_asn` with default settings.
    pub fn new(address: IpAddr, remote_asn: u32) -> Self {
        PeerConfig {
            address,
            remote_asn,
            route_reflector_client: false,
            route_server_client: false,
            add_path_send: AddPathSend::BestOnly,
            enforce_first_as: false,
            max_prefix: None,
            import: Policy::default(),
            export: Policy::default(),
            local_v4: None,
            local_v6: None,
            mrai: None,
            keep_received: false,
        }
    }
}

/// What one family's session negotiated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FamilyParams {
    /// The family was negotiated (RFC 4760 §8).
    pub enabled: bool,
    /// The peer sends us path identifiers (RFC 7911).
    pub add_path_receive: bool,
    /// We may send the peer path identifiers.
    pub add_path_send: bool,
}

/// What a session negotiated, handed to the router when it reaches Established.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionParams {
    /// The peer's BGP Identifier.
    pub remote_id: Ipv4Addr,
    /// Both sides have the 4-octet AS capability (RFC 6793).
    pub four_octet_as: bool,
    /// IPv4 unicast.
    pub ipv4: FamilyParams,
    /// IPv6 unicast.
    pub ipv6: FamilyParams,
    /// The largest message the peer accepts (4096, or 65535 with RFC 8654).
    pub max_message_len: usize,
    /// Our address on the session's connection: the next hop "self" of its
    /// family when the neighbour's configuration names none.
    pub local_address: Option<IpAddr>,
}

impl SessionParams {
    /// A session with IPv4 unicast only, 4-octet AS and no ADD-PATH.
    pub fn ipv4(remote_id: Ipv4Addr) -> Self {
        SessionParams {
            remote_id,
            four_octet_as: true,
            ipv4: FamilyParams {
                enabled: true,
                ..Default::default()
            },
            ipv6: FamilyParams::default(),
            max_message_len: 4096,
            local_address: None,
        }
    }
}
