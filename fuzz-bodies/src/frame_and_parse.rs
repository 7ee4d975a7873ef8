//! Any bytes, framed as a BGP stream (RFC 4271 §4.1) and each whole message handed
//! to the parser of its type. Nothing may panic, loop, or read past a message; every
//! error must point inside the message it came from.
//!
//! The first input byte picks the session's negotiated parameters, so UPDATEs are
//! parsed with 2- and 4-octet AS numbers, ADD-PATH for IPv4/IPv6, extended
//! messages, and from an internal or external peer.

use std::fmt::Write;
use std::hint::black_box;

use nexthop_core::wire::attribute::PathAttribute;
use nexthop_core::wire::capability::negotiate;
use nexthop_core::wire::header::{HEADER_LEN, frame};
use nexthop_core::wire::notification::Notification;
use nexthop_core::wire::open::Open;
use nexthop_core::wire::route_refresh::RouteRefresh;
use nexthop_core::wire::update::{PeerType, Update};
use nexthop_core::wire::{DecodeError, MessageType, Negotiated};

use crate::session_byte::{negotiated, peer_type};

/// An error must point inside the message, and its data must resolve.
fn check_error(e: &DecodeError, message: &[u8]) {
    assert!(
        e.offset <= message.len(),
        "error offset {} past a {}-byte message: {e:?}",
        e.offset,
        message.len()
    );
    let _ = e.data.resolve(message);
}

/// Formats a value the way a log line would, so Display impls are fuzzed too.
fn display(value: &dyn std::fmt::Display) {
    let mut s = String::new();
    let _ = write!(s, "{value}");
}

/// Hands one whole message to the parser of its type and visits everything the
/// parsed value offers.
fn parse(message: &[u8], negotiated: &Negotiated, peer: PeerType) {
    let result = match MessageType::from(message[HEADER_LEN - 1]) {
        MessageType::Open => Open::parse(message).map(|open| {
            for capability in open.capabilities.iter() {
                black_box(capability);
            }
            let _ = open.asn();
            let _ = negotiate(&open, &open);
            display(&open);
        }),
        MessageType::Update => {
            Update::parse_from(message, negotiated, peer).map(|update| walk_update(&update))
        }
        MessageType::Notification => Notification::parse(message).map(|n| {
            let _ = n.shutdown_communication();
            display(&n);
        }),
        MessageType::RouteRefresh => RouteRefresh::parse(message).map(|r| display(&r)),
        MessageType::Keepalive | MessageType::Unknown(_) => Ok(()),
    };
    if let Err(e) = result {
        check_error(&e, message);
        display(&e);
    }
}

/// Visits everything a parsed UPDATE offers: every prefix of every field, every
/// attribute raw and typed (down to each AS number and community), every
/// accessor, and the errors it keeps for RFC 7606.
fn walk_update(u: &Update<'_>) {
    let message = u.message();
    let bound = message.len();
    // An iterator over a field can never yield more entries than the field has
    // octets: a parser that loops without consuming input trips this.
    let count = |n: usize, what: &str| assert!(n <= bound, "{what}: {n} items in {bound} bytes");
    count(u.withdrawn().map(black_box).count(), "withdrawn");
    count(u.nlri().map(black_box).count(), "nlri");
    count(u.all_announced().map(black_box).count(), "all_announced");
    count(u.all_withdrawn().map(black_box).count(), "all_withdrawn");
    for (at, raw) in u.raw_attributes() {
        assert!(at < bound, "raw attribute at {at} past {bound}");
        black_box(raw);
    }
    let mut n = 0;
    for attribute in u.attributes() {
        n += 1;
        walk_attribute(&attribute);
    }
    count(n, "attributes");
    black_box((
        u.origin(),
        u.next_hop(),
        u.med(),
        u.local_pref(),
        u.atomic_aggregate(),
        u.aggregator(),
        u.originator_id(),
        u.as4_aggregator(),
        u.is_end_of_rib(),
    ));
    for path in [u.as_path(), u.as4_path()].into_iter().flatten() {
        walk_attribute(&PathAttribute::AsPath(path));
    }
    u.communities().map(|c| c.iter().map(black_box).count());
    u.extended_communities()
        .map(|c| c.iter().map(black_box).count());
    u.large_communities()
        .map(|c| c.iter().map(black_box).count());
    u.cluster_list().map(|c| c.iter().map(black_box).count());
    u.mp_reach().map(|m| m.nlri.iter().map(black_box).count());
    u.mp_unreach()
        .map(|m| m.withdrawn.iter().map(black_box).count());
    for e in [u.treat_as_withdraw(), u.discard_error()]
        .into_iter()
        .flatten()
    {
        check_error(&e, message);
        display(&e);
    }
    black_box(u.discarded().iter().count());
}

/// Reads a typed attribute down to its last value.
fn walk_attribute(a: &PathAttribute<'_>) {
    match a {
        PathAttribute::AsPath(p) | PathAttribute::As4Path(p) => {
            for segment in p.segments() {
                black_box(segment.kind);
                segment.asns.iter().for_each(|asn| {
                    black_box(asn);
                });
            }
            black_box((p.route_selection_len(), p.first_asn(), p.origin_asn()));
        }
        PathAttribute::Communities(c) => c.iter().for_each(|v| {
            black_box(v);
        }),
        PathAttribute::ExtendedCommunities(c) => c.iter().for_each(|v| {
            black_box(v);
        }),
        PathAttribute::LargeCommunities(c) => c.iter().for_each(|v| {
            black_box(v);
        }),
        PathAttribute::ClusterList(c) => c.iter().for_each(|v| {
            black_box(v);
        }),
        PathAttribute::MpReachNlri(m) => {
            black_box(m.next_hop);
            m.nlri.iter().for_each(|v| {
                black_box(v);
            });
        }
        PathAttribute::MpUnreachNlri(m) => m.withdrawn.iter().for_each(|v| {
            black_box(v);
        }),
        other => {
            black_box(other);
        }
    }
}

/// The target: frames `data` (after its session byte) into messages and parses
/// each; panics on a defect.
pub fn fuzz(data: &[u8]) {
    let Some((&bits, mut stream)) = data.split_first() else {
        return;
    };
    let negotiated = negotiated(bits);
    let peer = peer_type(bits);
    let max_len = negotiated.max_message_len();
    loop {
        match frame(stream, max_len) {
            Ok(Some(len)) => {
                assert!((HEADER_LEN..=max_len).contains(&len) && len <= stream.len());
                parse(&stream[..len], &negotiated, peer);
                stream = &stream[len..];
            }
            Ok(None) => break,
            Err(e) => {
                check_error(&e, &stream[..HEADER_LEN]);
                break;
            }
        }
    }
}
