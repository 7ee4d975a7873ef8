//! What the two OPENs agree on (RFC 4271 §4.2, §6.2, §10; RFC 5492 and the
//! capability RFCs), and the checks that reject a peer's OPEN.

use crate::time::Duration;
use crate::wire::codes::{ErrorCode, open_subcode};
use crate::wire::error::{DecodeError, ErrorData, ErrorKind};
use crate::wire::family::{Family, FamilySet};
use crate::wire::{Negotiated, header::HEADER_LEN};

use super::config::SessionConfig;
use super::messages::{GracefulRestartInfo, PeerOpen};

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
    /// Families both sides advertised (RFC 4760).
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

fn open_error(kind: ErrorKind, offset: usize, subcode: u8) -> DecodeError {
    DecodeError::reset(
        kind,
        offset,
        ErrorCode::OpenMessage,
        subcode,
        ErrorData::Empty,
    )
}

/// Checks the peer's OPEN against the config (RFC 4271 §6.2, RFC 6286) and
/// negotiates; the error carries the NOTIFICATION to send.
pub fn negotiate(config: &SessionConfig, peer: &PeerOpen) -> Result<SessionInfo, DecodeError> {
    // Offsets of the fields in the OPEN, for the error report.
    const AS_AT: usize = HEADER_LEN + 1;
    const HOLD_AT: usize = HEADER_LEN + 3;
    const ID_AT: usize = HEADER_LEN + 5;
    if config.remote_asn.is_some_and(|asn| asn != peer.asn) {
        return Err(open_error(
            ErrorKind::BadPeerAs { asn: peer.asn },
            AS_AT,
            open_subcode::BAD_PEER_AS,
        ));
    }
    let internal = peer.asn == config.local_asn;
    let id = peer.bgp_identifier;
    if id == 0
        || config.remote_id.is_some_and(|want| want != id)
        || (internal && id == config.router_id)
    {
        return Err(open_error(
            ErrorKind::BadBgpIdentifier { identifier: id },
            ID_AT,
            open_subcode::BAD_BGP_IDENTIFIER,
        ));
    }
    if matches!(peer.hold_time, 1 | 2) {
        return Err(open_error(
            ErrorKind::UnacceptableHoldTime {
                hold_time: peer.hold_time,
            },
            HOLD_AT,
            open_subcode::UNACCEPTABLE_HOLD_TIME,
        ));
    }
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
    let local = &config.capabilities;
    let theirs = &peer.capabilities;
    let mut peer_families = theirs.families;
    if !theirs.multiprotocol {
        peer_families.insert(Family::IPV4_UNICAST);
    }
    let families = local.families.intersection(peer_families);
    let negotiated = Negotiated {
        four_octet_as: (local.four_octet_as || config.local_asn > u32::from(u16::MAX))
            && theirs.four_octet_as.is_some(),
        extended_message: local.extended_message && theirs.extended_message,
        add_path_receive: local.add_path.receive.intersection(theirs.add_path.send),
        add_path_send: local.add_path.send.intersection(theirs.add_path.receive),
    };
    Ok(SessionInfo {
        peer_asn: peer.asn,
        peer_id: id,
        hold_time,
        keepalive_time,
        negotiated,
        families,
        route_refresh: local.route_refresh && theirs.route_refresh,
        enhanced_route_refresh: local.enhanced_route_refresh && theirs.enhanced_route_refresh,
        graceful_restart: if local.graceful_restart.is_some() {
            theirs.graceful_restart
        } else {
            None
        },
        enforce_first_as: config.enforce_first_as,
        internal,
    })
}
