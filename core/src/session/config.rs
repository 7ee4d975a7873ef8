//! The session's parameters: RFC 4271 §8.1's session attributes and optional
//! attributes, named as the seed daemon's `SessionInfo` named them, and the
//! capabilities to advertise (RFC 5492).

use core::net::IpAddr;

use crate::time::Duration;
use crate::wire::FamilySet;

/// A jitter range as permille factors of the base interval: RFC 4271 §10 suggests
/// multiplying ConnectRetryTime (and the other timers) by a random factor in
/// 0.75..=1.0, which is `Jitter { min_permille: 750, max_permille: 1000 }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Jitter {
    /// Smallest factor, in thousandths.
    pub min_permille: u16,
    /// Largest factor, in thousandths.
    pub max_permille: u16,
}

impl Jitter {
    /// RFC 4271 §10: 0.75 to 1.0.
    pub const RFC4271: Jitter = Jitter {
        min_permille: 750,
        max_permille: 1000,
    };
}

/// ADD-PATH directions to advertise for a family set (RFC 7911 §4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct AddPathConfig {
    /// Families for which we can receive path identifiers.
    pub receive: FamilySet,
    /// Families for which we can send path identifiers.
    pub send: FamilySet,
}

/// The capabilities this speaker advertises in its OPEN (RFC 5492).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LocalCapabilities {
    /// Multiprotocol families (RFC 4760), one capability each.
    pub families: FamilySet,
    /// Route refresh (RFC 2918).
    pub route_refresh: bool,
    /// Enhanced route refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// Extended messages (RFC 8654).
    pub extended_message: bool,
    /// 4-octet AS numbers (RFC 6793). Always advertised when the local AS needs
    /// four octets.
    pub four_octet_as: bool,
    /// ADD-PATH (RFC 7911).
    pub add_path: AddPathConfig,
    /// Graceful restart (RFC 4724) with this restart time in seconds (12 bits).
    pub graceful_restart: Option<u16>,
}

impl Default for LocalCapabilities {
    /// IPv4 unicast, route refresh and 4-octet AS, as the seed daemon advertised.
    fn default() -> Self {
        let mut families = FamilySet::EMPTY;
        families.insert(crate::wire::Family::IPV4_UNICAST);
        LocalCapabilities {
            families,
            route_refresh: true,
            enhanced_route_refresh: false,
            extended_message: false,
            four_octet_as: true,
            add_path: AddPathConfig::default(),
            graceful_restart: None,
        }
    }
}

/// How the session backs off after repeated failures (RFC 4271 §8.1.1
/// DampPeerOscillations; the method is left to implementations).
///
/// After each failure the restart delay is the idle hold time doubled per
/// consecutive failure, up to `max_idle_hold_time`; a session that stayed
/// Established for `stable_time` forgets its past failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Damping {
    /// The longest restart delay.
    pub max_idle_hold_time: Duration,
    /// Established this long counts as stable and resets the backoff.
    pub stable_time: Duration,
}

impl Default for Damping {
    fn default() -> Self {
        Damping {
            max_idle_hold_time: Duration::from_secs(120),
            stable_time: Duration::from_secs(60),
        }
    }
}

/// What one session needs to know about itself and its peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionConfig {
    /// The peer's address, for logs (`neighbor`). The runtime owns the socket.
    pub neighbor: IpAddr,
    /// Our AS (4 octets; AS_TRANS goes on the wire when it does not fit 2).
    pub local_asn: u32,
    /// Our BGP Identifier (RFC 4271 §4.2, RFC 6286).
    pub router_id: u32,
    /// The AS the peer must announce; `None` accepts any (RFC 4271 §6.2 Bad Peer AS).
    pub remote_asn: Option<u32>,
    /// The BGP Identifier the peer must announce; `None` accepts any.
    pub remote_id: Option<u32>,
    /// PassiveTcpEstablishment (§8.1.1): wait for the peer to connect.
    pub passive_tcp_establishment: bool,
    /// ConnectRetryTime (§10, suggested 120 s).
    pub connect_retry_time: Duration,
    /// Jitter applied to ConnectRetryTime (§10).
    pub connect_retry_jitter: Option<Jitter>,
    /// KeepaliveTime: the longest interval between our KEEPALIVEs; the negotiated
    /// hold time divided by three is used when it is lower (§4.4, §10).
    pub keepalive_time: Duration,
    /// HoldTime we advertise, in seconds (§4.2): 0 or at least 3.
    pub hold_time: u16,
    /// The hold time set after sending an OPEN (§8.2.2 "a large value", 4 min).
    pub open_hold_time: Duration,
    /// IdleHoldTime (§8.1.1): how long to stay Idle before an automatic restart.
    /// Zero means ConnectRetryTime is used, so a failing peer is not redialled at
    /// once.
    pub idle_hold_time: Duration,
    /// Jitter applied to the idle hold time.
    pub idle_hold_jitter: Option<Jitter>,
    /// DelayOpenTime (§8.1.1); zero disables DelayOpen.
    pub delay_open_time: Duration,
    /// CollisionDetectEstablishedState (§8.1.1), the seed's
    /// `deterministic_collision_resolution`: resolve a collision with an
    /// Established connection by BGP Identifier instead of closing the new one.
    pub deterministic_collision_resolution: bool,
    /// DampPeerOscillations (§8.1.1) with its backoff; `None` disables it.
    pub damp_peer_oscillations: Option<Damping>,
    /// AllowAutomaticStart/Stop: restart on its own after a failure (§8.1.1).
    pub automatic_restart: bool,
    /// Check that the first AS of each AS_PATH is the peer's (RFC 4271 §6.3).
    /// The session only carries the flag: the router applies it.
    pub enforce_first_as: bool,
    /// Capabilities to advertise.
    pub capabilities: LocalCapabilities,
    /// Seed of the jitter source, so that runs are reproducible.
    pub rng_seed: u64,
}

impl SessionConfig {
    /// A session with the seed daemon's timers (connect retry 1 s, keepalive 3 s,
    /// hold 6 s, idle hold 0, no DelayOpen) and no jitter.
    pub fn new(neighbor: IpAddr, local_asn: u32, router_id: u32) -> Self {
        SessionConfig {
            neighbor,
            local_asn,
            router_id,
            remote_asn: None,
            remote_id: None,
            passive_tcp_establishment: false,
            connect_retry_time: Duration::from_secs(1),
            connect_retry_jitter: None,
            keepalive_time: Duration::from_secs(3),
            hold_time: 6,
            open_hold_time: Duration::from_secs(240),
            idle_hold_time: Duration::ZERO,
            idle_hold_jitter: None,
            delay_open_time: Duration::ZERO,
            deterministic_collision_resolution: false,
            damp_peer_oscillations: None,
            automatic_restart: true,
            enforce_first_as: false,
            capabilities: LocalCapabilities::default(),
            rng_seed: 0x9e37_79b9_7f4a_7c15,
        }
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SessionConfig {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "SessionConfig {{ neighbor: {}, local_asn: {=u32}, router_id: {=u32:08x}, \
             remote_asn: {}, remote_id: {}, passive_tcp_establishment: {=bool}, \
             connect_retry_time: {}, connect_retry_jitter: {}, keepalive_time: {}, \
             hold_time: {=u16}, idle_hold_time: {}, idle_hold_jitter: {}, \
             delay_open_time: {}, deterministic_collision_resolution: {=bool}, \
             damp_peer_oscillations: {}, enforce_first_as: {=bool}, capabilities: {} }}",
            super::log::DefmtIp(self.neighbor),
            self.local_asn,
            self.router_id,
            self.remote_asn,
            self.remote_id,
            self.passive_tcp_establishment,
            self.connect_retry_time,
            self.connect_retry_jitter,
            self.keepalive_time,
            self.hold_time,
            self.idle_hold_time,
            self.idle_hold_jitter,
            self.delay_open_time,
            self.deterministic_collision_resolution,
            self.damp_peer_oscillations,
            self.enforce_first_as,
            self.capabilities
        )
    }
}
