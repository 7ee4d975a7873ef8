//! What the two OPENs agree on (RFC 4271 §4.2, §6.2, §10; RFC 5492 and the
//! capability RFCs), and the checks the FSM adds to the codec's: the peer's AS
//! and BGP Identifier against the config (RFC 4271 §6.2, RFC 6286).

use crate::time::Duration;
use crate::wire::capability::{self, Capability};
use crate::wire::codes::{ErrorCode, open_subcode};
use crate::wire::error::{DecodeError, ErrorData, ErrorKind};
use crate::wire::family::{Family, FamilySet};
use crate::wire::open::{Open, bad_peer_as};
use crate::wire::{Negotiated, header::HEADER_LEN};

use super::config::SessionConfig;
use super::messages::{GracefulRestartInfo, with_local_open};

/// What the router learns when a session reaches Established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SessionInfo {
    /// The peer's AS (4-octet where it sent the capability).
    pub peer_asn: u32,
    /// The peer's BGP Identifier.
    pub peer_id: u32,
    /// The negotiated hold time, in seconds (the smaller of the two; 0: none).
    pub hold_time: u16,
    /// The interval between our KEEPALIVEs; zero when the hold time is zero.
    pub keepalive_time: Duration,
    /// Parameters that change how UPDATEs are parsed and written.
    pub negotiated: Negotiated,
    /// Families both sides advertised (RFC 4760; IPv4 unicast is implied for a
    /// peer that advertised none, RFC 4760 §8).
    pub families: FamilySet,
    /// Both sides advertised route refresh (RFC 2918).
    pub route_refresh: bool,
    /// Both sides advertised enhanced route refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// The peer's graceful restart capability, where both advertised one (RFC 4724).
    pub graceful_restart: Option<GracefulRestartInfo>,
    /// Whether the router must check the first AS of each AS_PATH (RFC 4271 §6.3).
    pub enforce_first_as: bool,
    /// Whether this is an internal session (same AS).
    pub internal: bool,
}

/// Checks the peer's OPEN (already validated by [`Open::parse`]) against the
/// config and negotiates; an error carries the NOTIFICATION to send: 2/2 for an
/// AS other than `remote_asn`, 2/3 for an identifier other than `remote_id` or,
/// on an internal session, equal to ours (RFC 6286 §2.1).
pub fn negotiate(config: &SessionConfig, peer: &Open<'_>) -> Result<SessionInfo, DecodeError> {
    let asn = peer.asn();
    if config.remote_asn.is_some_and(|want| want != asn) {
        return Err(bad_peer_as(asn));
    }
    let internal = asn == config.local_asn;
    let id = peer.bgp_identifier;
    if config.remote_id.is_some_and(|want| want != id) || (internal && id == config.router_id) {
        return Err(DecodeError::reset(
            ErrorKind::BadBgpIdentifier { identifier: id },
            HEADER_LEN + 5,
            ErrorCode::OpenMessage,
            open_subcode::BAD_BGP_IDENTIFIER,
            ErrorData::Empty,
        ));
    }
    // Open::parse refused 1 and 2 (2/6).
    let hold_time = peer.hold_time.min(config.hold_time);
    let keepalive_time = if hold_time == 0 {
        Duration::ZERO
    } else {
        let third = Duration::from_millis(u64::from(hold_time) * 1000 / 3);
        if config.keepalive_time.is_zero() {
            third
        } else {
            third.min(config.keepalive_time)
        }
    };
    let negotiated: Negotiated =
        with_local_open(config, |local| capability::negotiate(local, peer));

    let local = &config.capabilities;
    let mut peer_families = FamilySet::EMPTY;
    let mut multiprotocol = false;
    let (mut route_refresh, mut enhanced_route_refresh) = (false, false);
    let mut graceful_restart = None;
    for c in peer.capabilities.iter() {
        match c {
            Capability::Multiprotocol(f) => {
                multiprotocol = true;
                peer_families.insert(f);
            }
            Capability::RouteRefresh => route_refresh = true,
            Capability::EnhancedRouteRefresh => enhanced_route_refresh = true,
            Capability::GracefulRestart(gr) => {
                graceful_restart = Some(GracefulRestartInfo::from_capability(&gr))
            }
            _ => {}
        }
    }
    if !multiprotocol {
        peer_families.insert(Family::IPV4_UNICAST);
    }
    Ok(SessionInfo {
        peer_asn: asn,
        peer_id: id,
        hold_time,
        keepalive_time,
        negotiated,
        families: local.families.intersection(peer_families),
        route_refresh: local.route_refresh && route_refresh,
        enhanced_route_refresh: local.enhanced_route_refresh && enhanced_route_refresh,
        graceful_restart: graceful_restart.filter(|_| local.graceful_restart.is_some()),
        enforce_first_as: config.enforce_first_as,
        internal,
    })
}
