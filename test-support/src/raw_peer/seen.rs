//! What a raw peer has received on its session, read with core's views: the
//! routes announced and not withdrawn since (its Adj-RIB-In, RFC 4271 §3.2),
//! the NOTIFICATIONs (with an RFC 9003 shutdown communication), and whether the
//! speaker closed the connection.

use std::net::IpAddr;

use nexthop_core::wire::attribute::MpNextHop;
use nexthop_core::wire::nlri::Prefix;
use nexthop_core::wire::notification::Notification;
use nexthop_core::wire::update::Update;

/// A route as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The prefix.
    pub prefix: Prefix,
    /// The AS numbers of its AS_PATH, in order (every segment).
    pub as_path: Vec<u32>,
    /// NEXT_HOP, or MP_REACH_NLRI's (global) next hop (RFC 4760 §3).
    pub next_hop: Option<IpAddr>,
}

/// A NOTIFICATION as received (RFC 4271 §4.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notified {
    /// Error code.
    pub code: u8,
    /// Error subcode.
    pub subcode: u8,
    /// The shutdown communication of a Cease 6/2 or 6/4 (RFC 9003), if any.
    pub communication: Option<String>,
}

impl Notified {
    /// The NOTIFICATION `n`.
    pub fn of(n: &Notification<'_>) -> Notified {
        Notified {
            code: n.code.code.into(),
            subcode: n.code.subcode,
            communication: n.shutdown_communication().map(str::to_string),
        }
    }
}

/// Everything the raw peer received after the handshake.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Routes announced and not withdrawn since, in the order they came.
    pub routes: Vec<Route>,
    /// NOTIFICATIONs, in order.
    pub notifications: Vec<Notified>,
    /// Whether the speaker closed (or reset) the connection.
    pub closed: bool,
}

impl Seen {
    /// The route for `prefix`, if one is held.
    pub fn route(&self, prefix: Prefix) -> Option<&Route> {
        self.routes.iter().find(|r| r.prefix == prefix)
    }

    /// Applies an UPDATE: its withdrawals, then its announcements (RFC 4271
    /// §3.1: a new announcement of a prefix replaces the one held).
    pub fn apply(&mut self, u: &Update<'_>) {
        for w in u.all_withdrawn() {
            self.routes.retain(|r| r.prefix != w.prefix);
        }
        let as_path: Vec<u32> = u
            .as_path()
            .map(|p| p.segments().flat_map(|s| s.asns.iter()).collect())
            .unwrap_or_default();
        let classic = u.next_hop().map(IpAddr::V4);
        let mp = u.mp_reach().map(|m| match m.next_hop {
            MpNextHop::Ipv4(a) => IpAddr::V4(a),
            MpNextHop::Ipv6(a) => IpAddr::V6(a),
            MpNextHop::Ipv6LinkLocal { global, .. } => IpAddr::V6(global),
        });
        let announced = u.nlri().map(|n| (n.prefix, classic)).chain(
            u.mp_reach()
                .into_iter()
                .flat_map(|m| m.nlri.iter())
                .map(|n| (n.prefix, mp)),
        );
        for (prefix, next_hop) in announced {
            self.routes.retain(|r| r.prefix != prefix);
            self.routes.push(Route {
                prefix,
                as_path: as_path.clone(),
                next_hop,
            });
        }
    }
}
