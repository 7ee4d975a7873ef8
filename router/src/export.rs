//! The rules that decide whether a best path may be sent to a peer and how its
//! attributes change on the way: RFC 4271 §9.1.3 and §5.1 (iBGP/eBGP), RFC 4456 §6
//! and §8 (route reflection), RFC 7947 §2.2 (route server), RFC 1997 (well-known
//! communities).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::attributes::{Attributes, Community, NextHop, RawAttribute};

/// Where a path came from, as the export rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// Originated by this router.
    Local,
    /// Learned from an eBGP peer.
    Ebgp,
    /// Learned from an iBGP peer; `client` if it is one of our route reflector
    /// clients; `router_id` is its BGP Identifier (for ORIGINATOR_ID).
    Ibgp {
        /// Whether the peer is a route reflector client.
        client: bool,
        /// The peer's BGP Identifier.
        router_id: Ipv4Addr,
    },
}

/// The kind of peer a route is sent to; what an update group shares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Target {
    /// An internal peer (same AS).
    pub ibgp: bool,
    /// A route reflector client (RFC 4456), iBGP only.
    pub rr_client: bool,
    /// A route server client (RFC 7947), eBGP only.
    pub rs_client: bool,
    /// Our address on the session towards IPv4 next hops (next hop self).
    pub local_v4: Option<Ipv4Addr>,
    /// Our address on the session towards IPv6 next hops.
    pub local_v6: Option<Ipv6Addr>,
}

/// The local speaker's identity, which the rules add to exported paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Local {
    /// Our AS.
    pub asn: u32,
    /// Our BGP Identifier.
    pub router_id: Ipv4Addr,
    /// Our CLUSTER_ID (RFC 4456 §7); the router ID when not configured.
    pub cluster_id: Ipv4Addr,
    /// LOCAL_PREF put on paths sent to iBGP peers that have none (RFC 4271 §5.1.5).
    pub default_local_pref: u32,
}

/// Why the export rules refuse a path to a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// It carries NO_ADVERTISE (RFC 1997).
    NoAdvertise,
    /// It carries NO_EXPORT and the target is external (RFC 1997).
    NoExport,
    /// Learned from an iBGP non-client, and the target is an iBGP non-client
    /// (RFC 4271 §9.1.3, RFC 4456 §8): not reflected between them.
    IbgpToIbgpNonClient,
}

impl Refusal {
    /// The machine-readable name, for the API.
    pub const fn code(self) -> &'static str {
        match self {
            Refusal::NoAdvertise => "no_advertise",
            Refusal::NoExport => "no_export",
            Refusal::IbgpToIbgpNonClient => "ibgp_to_ibgp_non_client",
        }
    }
}

/// Why a path from `source` with `attrs` may not be advertised to `target`, or
/// `None` when it may; the rules in the order they are applied.
///
/// - RFC 4271 §9.1.3 / RFC 4456 §6: a path learned over iBGP goes to iBGP peers only
///   when reflected: from a client to all clients and non-clients, from a non-client
///   to clients only.
/// - RFC 1997: NO_ADVERTISE to nobody, NO_EXPORT not over eBGP (a route server's
///   clients included, RFC 7947 §2.2 leaves them to the well-known rules).
///
/// Not sending a path back to the peer it came from is the update group's job.
pub fn refusal(source: Source, attrs: &Attributes, target: &Target) -> Option<Refusal> {
    if let Source::Ibgp { client: false, .. } = source
        && target.ibgp
        && !target.rr_client
    {
        return Some(Refusal::IbgpToIbgpNonClient);
    }
    if attrs
        .communities
        .binary_search(&Community::NO_ADVERTISE)
        .is_ok()
    {
        return Some(Refusal::NoAdvertise);
    }
    if !target.ibgp
        && attrs
            .communities
            .binary_search(&Community::NO_EXPORT)
            .is_ok()
    {
        return Some(Refusal::NoExport);
    }
    None
}

/// Whether a path from `source` with `attrs` may be advertised to `target`:
/// [`refusal`] has no objection.
pub fn may_advertise(source: Source, attrs: &Attributes, target: &Target) -> bool {
    refusal(source, attrs, target).is_none()
}

/// The attributes to send to `target` for a path from `source`; `ipv6` says which
/// family's next hop to set when the next hop becomes this router.
///
/// Towards iBGP (RFC 4271 §5.1.5, RFC 4456 §8): LOCAL_PREF included; when
/// reflecting an iBGP path, ORIGINATOR_ID set to the source's router ID if absent
/// and our CLUSTER_ID prepended to CLUSTER_LIST; the next hop unchanged, except a
/// locally originated path without one gets ours.
///
/// Towards eBGP (§5.1.2-§5.1.5): our AS prepended, next hop self, LOCAL_PREF,
/// ORIGINATOR_ID and CLUSTER_LIST removed, MED removed unless we originated the
/// path. Towards a route server client (RFC 7947 §2.2): no AS prepended, next hop and
/// MED unchanged.
///
/// Unrecognised optional transitive attributes are passed on with the Partial bit
/// set (§5) when the path was learned from a peer.
pub fn export_attributes(
    attrs: &Attributes,
    source: Source,
    target: &Target,
    local: &Local,
    ipv6: bool,
) -> Attributes {
    let mut out = attrs.clone();
    let self_next_hop = if ipv6 {
        target.local_v6.map(|global| NextHop::V6 {
            global,
            link_local: None,
        })
    } else {
        target.local_v4.map(NextHop::V4)
    };
    if source != Source::Local {
        for u in &mut out.unknown {
            u.flags |= RawAttribute::PARTIAL;
        }
    }
    if target.ibgp {
        out.local_pref = Some(attrs.local_pref.unwrap_or(local.default_local_pref));
        if let Source::Ibgp { router_id, .. } = source {
            out.originator_id = Some(attrs.originator_id.unwrap_or(router_id));
            out.cluster_list.insert(0, local.cluster_id);
        }
        if source == Source::Local && out.next_hop.is_none() {
            out.next_hop = self_next_hop;
        }
    } else {
        out.local_pref = None;
        out.originator_id = None;
        out.cluster_list.clear();
        if !target.rs_client {
            out.as_path.prepend(local.asn);
            if self_next_hop.is_some() {
                out.next_hop = self_next_hop;
            }
            if source != Source::Local {
                out.med = None;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::as_path::AsPath;

    const LOCAL: Local = Local {
        asn: 65000,
        router_id: Ipv4Addr::new(192, 0, 2, 1),
        cluster_id: Ipv4Addr::new(192, 0, 2, 100),
        default_local_pref: 100,
    };

    fn target(ibgp: bool, rr_client: bool, rs_client: bool) -> Target {
        Target {
            ibgp,
            rr_client,
            rs_client,
            local_v4: Some(Ipv4Addr::new(192, 0, 2, 1)),
            local_v6: None,
        }
    }

    #[test]
    fn reflection_rules_of_rfc4456_section6() {
        let a = Attributes::default();
        let client = Source::Ibgp {
            client: true,
            router_id: Ipv4Addr::new(10, 0, 0, 1),
        };
        let non_client = Source::Ibgp {
            client: false,
            router_id: Ipv4Addr::new(10, 0, 0, 2),
        };
        let (c, nc, e) = (
            target(true, true, false),
            target(true, false, false),
            target(false, false, false),
        );
        assert!(may_advertise(client, &a, &c));
        assert!(may_advertise(client, &a, &nc));
        assert!(may_advertise(non_client, &a, &c));
        assert!(!may_advertise(non_client, &a, &nc));
        assert!(may_advertise(non_client, &a, &e));
        assert!(may_advertise(Source::Ebgp, &a, &nc));
    }

    #[test]
    fn well_known_communities() {
        let mut a = Attributes::default();
        a.add_community(Community::NO_EXPORT);
        assert!(may_advertise(Source::Ebgp, &a, &target(true, false, false)));
        assert!(!may_advertise(
            Source::Ebgp,
            &a,
            &target(false, false, false)
        ));
        let mut b = Attributes::default();
        b.add_community(Community::NO_ADVERTISE);
        assert!(!may_advertise(
            Source::Ebgp,
            &b,
            &target(true, false, false)
        ));
    }

    #[test]
    fn reflected_path_gets_originator_id_and_cluster_list() {
        let a = Attributes {
            local_pref: Some(120),
            ..Default::default()
        };
        let src = Source::Ibgp {
            client: true,
            router_id: Ipv4Addr::new(10, 0, 0, 1),
        };
        let out = export_attributes(&a, src, &target(true, true, false), &LOCAL, false);
        assert_eq!(out.originator_id, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(out.cluster_list, vec![LOCAL.cluster_id]);
        assert_eq!(out.local_pref, Some(120));
        // An ORIGINATOR_ID already present is kept.
        let again = export_attributes(&out, src, &target(true, true, false), &LOCAL, false);
        assert_eq!(again.originator_id, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(again.cluster_list.len(), 2);
    }

    #[test]
    fn ebgp_and_route_server_exports() {
        let a = Attributes {
            as_path: AsPath::sequence(&[65001]),
            next_hop: Some(NextHop::V4(Ipv4Addr::new(203, 0, 113, 1))),
            med: Some(5),
            local_pref: Some(300),
            ..Default::default()
        };
        let e = export_attributes(
            &a,
            Source::Ebgp,
            &target(false, false, false),
            &LOCAL,
            false,
        );
        assert_eq!(e.as_path, AsPath::sequence(&[65000, 65001]));
        assert_eq!(e.next_hop, Some(NextHop::V4(Ipv4Addr::new(192, 0, 2, 1))));
        assert_eq!((e.med, e.local_pref), (None, None));
        let rs = export_attributes(&a, Source::Ebgp, &target(false, false, true), &LOCAL, false);
        assert_eq!(rs.as_path, a.as_path);
        assert_eq!(rs.next_hop, a.next_hop);
        assert_eq!((rs.med, rs.local_pref), (Some(5), None));
        let i = export_attributes(&a, Source::Ebgp, &target(true, false, false), &LOCAL, false);
        assert_eq!(i.local_pref, Some(300));
        assert_eq!(i.next_hop, a.next_hop);
        assert_eq!(i.originator_id, None);
    }
}
