//! The router's side of core's UPDATE codec (RFC 4271 §4.3, RFC 4760, RFC 7911,
//! RFC 6793): a parsed [`Update`]'s attributes and NLRI become the router's
//! owned forms (taken by `Router::handle_update_message`, in
//! [`crate::router`]), and [`CoreEncoder`] builds the router's UPDATEs with
//! core's [`UpdateBuilder`].
//!
//! Only conversions live here, and nothing here knows the [`crate::router`]
//! module: core's views are read once per UPDATE into the router's owned,
//! interned form, and the router's form is written with core's typed
//! attributes.

use std::net::{Ipv4Addr, Ipv6Addr};

use nexthop_core::session::SessionInfo;
use nexthop_core::wire::attribute::{
    AsPath as WireAsPath, AsSegment, Asns, Items, MpNextHop, PathAttribute,
    RawAttribute as WireRaw, SegmentType as WireSegmentType, type_code,
};
use nexthop_core::wire::attribute::{
    Community as WireCommunity, ExtendedCommunity as WireExtended, LargeCommunity as WireLarge,
};
use nexthop_core::wire::nlri::{Nlri, Prefix};
use nexthop_core::wire::update::{Update, UpdateBuilder};
use nexthop_core::wire::{Family, FamilySet, Negotiated, Safi};

use crate::as_path::{AsPath, Segment, SegmentType};
use crate::attributes::{
    Aggregator, Attributes, Community, ExtendedCommunity, LargeCommunity, NextHop, Origin,
    RawAttribute,
};
use crate::encode::{EncodeParams, UpdateEncoder};
use crate::peer::{FamilyParams, SessionParams};
use crate::prefix::{Ipv4Prefix, Ipv6Prefix, RoutePrefix};

/// The router's AS_PATH from a wire AS_PATH or AS4_PATH.
pub fn as_path_of(p: &WireAsPath<'_>) -> AsPath {
    AsPath {
        segments: p
            .segments()
            .filter_map(|s| {
                let kind = match s.kind {
                    WireSegmentType::AsSet => SegmentType::Set,
                    WireSegmentType::AsSequence => SegmentType::Sequence,
                    WireSegmentType::AsConfedSequence => SegmentType::ConfedSequence,
                    WireSegmentType::AsConfedSet => SegmentType::ConfedSet,
                    // Rejected by core's validation; skipped if ever seen.
                    WireSegmentType::Unknown(_) => return None,
                };
                Some(Segment {
                    kind,
                    asns: s.asns.iter().collect(),
                })
            })
            .collect(),
    }
}

/// The router's next hop from MP_REACH_NLRI's (RFC 4760 §3, RFC 2545 §3).
pub(crate) fn next_hop_of(nh: MpNextHop) -> NextHop {
    match nh {
        MpNextHop::Ipv4(a) => NextHop::V4(a),
        MpNextHop::Ipv6(global) => NextHop::V6 {
            global,
            link_local: None,
        },
        MpNextHop::Ipv6LinkLocal { global, link_local } => NextHop::V6 {
            global,
            link_local: Some(link_local),
        },
    }
}

fn aggregator_of(a: nexthop_core::wire::attribute::Aggregator) -> Aggregator {
    Aggregator {
        asn: a.asn,
        address: a.address,
    }
}

/// The owned attributes of a parsed UPDATE, with NEXT_HOP as the next hop; on a
/// session without the 4-octet AS capability AS4_PATH and AS4_AGGREGATOR are
/// merged in (RFC 6793 §4.2.3), on one with it they are discarded (§4.1).
pub fn attributes_of(u: &Update<'_>, four_octet_as: bool) -> Attributes {
    let mut a = Attributes::default();
    let mut as4_path = None;
    let mut as4_aggregator = None;
    for attr in u.attributes() {
        match attr {
            PathAttribute::Origin(o) => {
                a.origin = match u8::from(o) {
                    0 => Origin::Igp,
                    1 => Origin::Egp,
                    _ => Origin::Incomplete,
                }
            }
            PathAttribute::AsPath(p) => a.as_path = as_path_of(&p),
            PathAttribute::NextHop(nh) => a.next_hop = Some(NextHop::V4(nh)),
            PathAttribute::MultiExitDisc(m) => a.med = Some(m),
            PathAttribute::LocalPref(l) => a.local_pref = Some(l),
            PathAttribute::AtomicAggregate => a.atomic_aggregate = true,
            PathAttribute::Aggregator(g) => a.aggregator = Some(aggregator_of(g)),
            PathAttribute::Communities(c) => {
                a.communities = c.iter().map(|c| Community(c.0)).collect()
            }
            PathAttribute::OriginatorId(id) => a.originator_id = Some(id),
            PathAttribute::ClusterList(c) => a.cluster_list = c.iter().collect(),
            PathAttribute::ExtendedCommunities(c) => {
                a.extended_communities = c.iter().map(|c| ExtendedCommunity(c.0)).collect()
            }
            PathAttribute::LargeCommunities(c) => {
                a.large_communities = c
                    .iter()
                    .map(|c| LargeCommunity {
                        global_admin: c.global_admin,
                        local_data_1: c.local_data_1,
                        local_data_2: c.local_data_2,
                    })
                    .collect()
            }
            PathAttribute::As4Path(p) => as4_path = Some(as_path_of(&p)),
            PathAttribute::As4Aggregator(g) => as4_aggregator = Some(aggregator_of(g)),
            PathAttribute::MpReachNlri(_) | PathAttribute::MpUnreachNlri(_) => {}
            PathAttribute::Unknown(r) => {
                if matches!(r.type_code, type_code::AS4_PATH | type_code::AS4_AGGREGATOR) {
                    continue;
                }
                a.unknown.push(RawAttribute {
                    flags: r.flags.0,
                    type_code: r.type_code,
                    value: r.value.into(),
                });
            }
        }
    }
    if !four_octet_as {
        a.merge_as4(as4_path.as_ref(), as4_aggregator);
    }
    a.normalize();
    a
}

/// An IPv4 NLRI as a (path identifier, prefix) pair; `None` for IPv6.
pub(crate) fn v4_of(n: &Nlri) -> Option<(u32, Ipv4Prefix)> {
    match n.prefix {
        Prefix::V4(p) => Some((
            n.path_id.unwrap_or(0),
            Ipv4Prefix::new(p.addr(), p.prefix_len())?,
        )),
        Prefix::V6(_) => None,
    }
}

/// An IPv6 NLRI as a (path identifier, prefix) pair; `None` for IPv4.
pub(crate) fn v6_of(n: &Nlri) -> Option<(u32, Ipv6Prefix)> {
    match n.prefix {
        Prefix::V6(p) => Some((
            n.path_id.unwrap_or(0),
            Ipv6Prefix::new(p.addr(), p.prefix_len())?,
        )),
        Prefix::V4(_) => None,
    }
}

/// Whether `f` is a unicast family, the ones the router carries.
pub(crate) fn unicast(f: Family) -> bool {
    f.safi == Safi::Unicast
}

impl From<&SessionInfo> for SessionParams {
    /// What the router needs of a session that reached Established.
    fn from(info: &SessionInfo) -> Self {
        let n = &info.negotiated;
        let family = |f: Family| FamilyParams {
            enabled: info.families.contains(f),
            add_path_receive: n.add_path_receive.contains(f),
            add_path_send: n.add_path_send.contains(f),
        };
        SessionParams {
            remote_id: Ipv4Addr::from(info.peer_id),
            four_octet_as: n.four_octet_as,
            ipv4: family(Family::IPV4_UNICAST),
            ipv6: family(Family::IPV6_UNICAST),
            max_message_len: n.max_message_len(),
            local_address: None,
        }
    }
}

/// The [`Negotiated`] parameters core's codec needs for a session.
pub fn negotiated_of(s: &SessionParams) -> Negotiated {
    let mut add_path_receive = FamilySet::EMPTY;
    let mut add_path_send = FamilySet::EMPTY;
    for (f, p) in [
        (Family::IPV4_UNICAST, s.ipv4),
        (Family::IPV6_UNICAST, s.ipv6),
    ] {
        if p.enabled && p.add_path_receive {
            add_path_receive.insert(f);
        }
        if p.enabled && p.add_path_send {
            add_path_send.insert(f);
        }
    }
    Negotiated {
        four_octet_as: s.four_octet_as,
        extended_message: s.max_message_len > 4096,
        add_path_receive,
        add_path_send,
    }
}

/// Builds the router's UPDATEs with core's [`UpdateBuilder`].
#[derive(Debug, Default)]
pub struct CoreEncoder;

fn negotiated<P: RoutePrefix>(params: &EncodeParams) -> Negotiated {
    let mut add_path_send = FamilySet::EMPTY;
    if params.add_path {
        add_path_send.insert(P::FAMILY);
    }
    Negotiated {
        four_octet_as: params.four_octet_as,
        extended_message: params.max_message_len > 4096,
        add_path_receive: FamilySet::EMPTY,
        add_path_send,
    }
}

fn nlri<P: RoutePrefix>(add_path: bool, id: u32, p: &P) -> Option<Nlri> {
    let mut octets = [0u8; 16];
    let src = p.octets();
    octets.get_mut(..src.len())?.copy_from_slice(src);
    let prefix: Prefix = if P::IPV6 {
        nexthop_core::wire::nlri::Ipv6Prefix::new(Ipv6Addr::from(octets), p.prefix_len())?.into()
    } else {
        let [a, b, c, d, ..] = octets;
        nexthop_core::wire::nlri::Ipv4Prefix::new([a, b, c, d].into(), p.prefix_len())?.into()
    };
    Some(if add_path {
        Nlri::with_path_id(id, prefix)
    } else {
        Nlri::new(prefix)
    })
}

fn mp_next_hop(nh: Option<NextHop>) -> MpNextHop {
    match nh {
        Some(NextHop::V6 {
            global,
            link_local: Some(link_local),
        }) => MpNextHop::Ipv6LinkLocal { global, link_local },
        Some(NextHop::V6 { global, .. }) => MpNextHop::Ipv6(global),
        Some(NextHop::V4(a)) => MpNextHop::Ipv6(a.to_ipv6_mapped()),
        None => MpNextHop::Ipv6(Ipv6Addr::UNSPECIFIED),
    }
}

/// Runs `fill` on a builder over a buffer of the session's maximum size, and
/// appends the finished message to `out`; returns what `fill` returned.
///
/// The builder writes into a per-thread scratch buffer that is zeroed once, so an
/// UPDATE costs a copy of its own length, not a clear of the largest message
/// (64 KiB with extended messages).
fn build<P: RoutePrefix>(
    params: &EncodeParams,
    out: &mut Vec<u8>,
    fill: impl FnOnce(&mut UpdateBuilder<'_>) -> usize,
) -> usize {
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SCRATCH.with_borrow_mut(|scratch| {
        if scratch.len() < params.max_message_len {
            scratch.resize(params.max_message_len, 0);
        }
        let n = negotiated::<P>(params);
        let Ok(mut b) = UpdateBuilder::new(&mut scratch[..params.max_message_len], &n) else {
            return 0;
        };
        let count = fill(&mut b);
        match b.finish() {
            Ok(len) => {
                out.extend_from_slice(&scratch[..len]);
                count
            }
            Err(_) => 0,
        }
    })
}

impl UpdateEncoder for CoreEncoder {
    fn path_attributes(&mut self, params: &EncodeParams, a: &Attributes) -> Vec<u8> {
        let (as_path, as4_path) = if params.four_octet_as {
            (a.as_path.clone(), None)
        } else {
            a.as_path.to_two_octet()
        };
        let segments = |p: &AsPath| -> Vec<(WireSegmentType, Vec<u32>)> {
            p.segments
                .iter()
                .map(|s| {
                    let kind = match s.kind {
                        SegmentType::Set => WireSegmentType::AsSet,
                        SegmentType::Sequence => WireSegmentType::AsSequence,
                        SegmentType::ConfedSequence => WireSegmentType::AsConfedSequence,
                        SegmentType::ConfedSet => WireSegmentType::AsConfedSet,
                    };
                    (kind, s.asns.clone())
                })
                .collect()
        };
        let path_lists = segments(&as_path);
        let path_segs: Vec<AsSegment<'_>> = path_lists
            .iter()
            .map(|(kind, asns)| AsSegment {
                kind: *kind,
                asns: Asns::List(asns),
            })
            .collect();
        let as4_lists = as4_path.as_ref().map(segments).unwrap_or_default();
        let as4_segs: Vec<AsSegment<'_>> = as4_lists
            .iter()
            .map(|(kind, asns)| AsSegment {
                kind: *kind,
                asns: Asns::List(asns),
            })
            .collect();
        let communities: Vec<WireCommunity> =
            a.communities.iter().map(|c| WireCommunity(c.0)).collect();
        let extended: Vec<WireExtended> = a
            .extended_communities
            .iter()
            .map(|c| WireExtended(c.0))
            .collect();
        let large: Vec<WireLarge> = a
            .large_communities
            .iter()
            .map(|c| WireLarge {
                global_admin: c.global_admin,
                local_data_1: c.local_data_1,
                local_data_2: c.local_data_2,
            })
            .collect();
        let wire_aggregator = a
            .aggregator
            .map(|g| nexthop_core::wire::attribute::Aggregator {
                asn: g.asn,
                address: g.address,
            });
        let mut list: Vec<PathAttribute<'_>> = Vec::with_capacity(16);
        list.push(PathAttribute::Origin(a.origin.code().into()));
        list.push(PathAttribute::AsPath(WireAsPath::List(&path_segs)));
        if let Some(NextHop::V4(nh)) = a.next_hop {
            list.push(PathAttribute::NextHop(nh));
        }
        if let Some(m) = a.med {
            list.push(PathAttribute::MultiExitDisc(m));
        }
        if let Some(l) = a.local_pref {
            list.push(PathAttribute::LocalPref(l));
        }
        if a.atomic_aggregate {
            list.push(PathAttribute::AtomicAggregate);
        }
        if let Some(g) = wire_aggregator {
            list.push(PathAttribute::Aggregator(g));
        }
        if !communities.is_empty() {
            list.push(PathAttribute::Communities(Items::List(&communities)));
        }
        if let Some(id) = a.originator_id {
            list.push(PathAttribute::OriginatorId(id));
        }
        if !a.cluster_list.is_empty() {
            list.push(PathAttribute::ClusterList(Items::List(&a.cluster_list)));
        }
        if !extended.is_empty() {
            list.push(PathAttribute::ExtendedCommunities(Items::List(&extended)));
        }
        if as4_path.is_some() {
            list.push(PathAttribute::As4Path(WireAsPath::List(&as4_segs)));
        }
        if let Some(g) = wire_aggregator.filter(|g| !params.four_octet_as && g.asn > 0xffff) {
            list.push(PathAttribute::As4Aggregator(g));
        }
        if !large.is_empty() {
            list.push(PathAttribute::LargeCommunities(Items::List(&large)));
        }
        for u in &a.unknown {
            list.push(PathAttribute::Unknown(WireRaw {
                flags: nexthop_core::wire::attribute::Flags(u.flags),
                type_code: u.type_code,
                value: &u.value,
            }));
        }
        list.sort_by_key(PathAttribute::type_code);
        let mut out = Vec::new();
        for attr in &list {
            let at = out.len();
            out.resize(at + attr.buffer_len(params.four_octet_as), 0);
            match attr.emit(&mut out[at..], params.four_octet_as) {
                Ok(n) => out.truncate(at + n),
                Err(_) => out.truncate(at),
            }
        }
        out
    }

    fn announce<P: RoutePrefix>(
        &mut self,
        params: &EncodeParams,
        attrs: &Attributes,
        encoded: &[u8],
        nlri_list: &[(u32, P)],
        out: &mut Vec<u8>,
    ) -> usize {
        build::<P>(params, out, |b| {
            if b.raw_attributes(encoded).is_err() {
                return 0;
            }
            let mut n = 0;
            if P::IPV6 {
                if b.begin_mp_reach(P::FAMILY, mp_next_hop(attrs.next_hop))
                    .is_err()
                {
                    return 0;
                }
                for (id, p) in nlri_list {
                    match nlri(params.add_path, *id, p).map(|x| b.mp_nlri(&x)) {
                        Some(Ok(true)) => n += 1,
                        _ => break,
                    }
                }
            } else {
                for (id, p) in nlri_list {
                    match nlri(params.add_path, *id, p).map(|x| b.nlri(&x)) {
                        Some(Ok(true)) => n += 1,
                        _ => break,
                    }
                }
            }
            n
        })
    }

    fn withdraw<P: RoutePrefix>(
        &mut self,
        params: &EncodeParams,
        nlri_list: &[(u32, P)],
        out: &mut Vec<u8>,
    ) -> usize {
        build::<P>(params, out, |b| {
            let mut n = 0;
            if P::IPV6 {
                if b.begin_mp_unreach(P::FAMILY).is_err() {
                    return 0;
                }
                for (id, p) in nlri_list {
                    match nlri(params.add_path, *id, p).map(|x| b.mp_nlri(&x)) {
                        Some(Ok(true)) => n += 1,
                        _ => break,
                    }
                }
            } else {
                for (id, p) in nlri_list {
                    match nlri(params.add_path, *id, p).map(|x| b.withdraw(&x)) {
                        Some(Ok(true)) => n += 1,
                        _ => break,
                    }
                }
            }
            n
        })
    }

    fn end_of_rib<P: RoutePrefix>(&mut self, out: &mut Vec<u8>) {
        let params = EncodeParams {
            four_octet_as: true,
            add_path: false,
            max_message_len: 4096,
        };
        build::<P>(&params, out, |b| {
            if P::IPV6 {
                let _ = b.begin_mp_unreach(P::FAMILY);
            }
            0
        });
    }
}
