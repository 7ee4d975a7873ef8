//! A route dump's page written straight as the API's JSON lines, without
//! building a [`nexthop_control::Route`] per path: the bytes
//! [`nexthop_control::write_route_line`] gives for the same route (a test
//! holds them equal), written into one buffer. The attributes' part of a line
//! (AS_PATH to CLUSTER_LIST) is rendered once per attribute set in a page and
//! copied for every path that shares it, as most of a full table does; a
//! neighbour's address once per neighbour.
//!
//! No string here needs JSON escaping: prefixes, addresses, AS paths, origins
//! and communities are digits, dots, colons, letters, braces and spaces.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::IpAddr;
use std::ops::Range;

use nexthop_router::attributes::{AttrRef, Attributes, NextHop, Origin};
use nexthop_router::prefix::IpPrefix;
use nexthop_router::rib::PeerId;

use super::dump::{Sink, community, neighbor_of};
use crate::Speaker;

/// JSON lines into a caller's buffer, with the page's caches.
pub(crate) struct JsonSink<'o> {
    out: &'o mut Vec<u8>,
    routes: usize,
    /// Rendered attribute parts, by attribute set, in `arena`.
    attrs: HashMap<usize, Range<usize>>,
    /// Rendered `from` values, by peer, in `arena`.
    from: HashMap<PeerId, Range<usize>>,
    arena: Vec<u8>,
}

impl<'o> JsonSink<'o> {
    /// Appends to `out`.
    pub(crate) fn new(out: &'o mut Vec<u8>) -> Self {
        JsonSink {
            out,
            routes: 0,
            attrs: HashMap::new(),
            from: HashMap::new(),
            arena: Vec::new(),
        }
    }
}

impl Sink for JsonSink<'_> {
    fn len(&self) -> usize {
        self.routes
    }

    fn put(
        &mut self,
        s: &Speaker,
        prefix: &IpPrefix,
        peer: PeerId,
        path_id: u32,
        attrs: &AttrRef,
        best: bool,
        age_s: u32,
    ) {
        self.routes += 1;
        let arena = &mut self.arena;
        let from = self
            .from
            .entry(peer)
            .or_insert_with(|| {
                let start = arena.len();
                opt_str(arena, neighbor_of(s, peer));
                start..arena.len()
            })
            .clone();
        let tail = self
            .attrs
            .entry(attrs.addr())
            .or_insert_with(|| {
                let start = arena.len();
                attributes(arena, attrs);
                start..arena.len()
            })
            .clone();
        let o = &mut *self.out;
        o.extend_from_slice(b",{\"prefix\":\"");
        let _ = write!(o, "{prefix}");
        o.extend_from_slice(b"\",\"path_id\":");
        o.extend_from_slice(itoa::Buffer::new().format(path_id).as_bytes());
        o.extend_from_slice(if best {
            b",\"best\":true,\"from\":"
        } else {
            b",\"best\":false,\"from\":"
        });
        o.extend_from_slice(&self.arena[from]);
        o.push(b',');
        o.extend_from_slice(&self.arena[tail]);
        o.extend_from_slice(b",\"age_s\":");
        o.extend_from_slice(itoa::Buffer::new().format(age_s).as_bytes());
        o.extend_from_slice(b"}\n");
    }
}

/// `"as_path":...` to `"cluster_list":[...]`, as serde_json writes a Route's
/// fields in declaration order.
fn attributes(o: &mut Vec<u8>, a: &Attributes) {
    o.extend_from_slice(b"\"as_path\":\"");
    let _ = write!(o, "{}", a.as_path);
    o.extend_from_slice(b"\",\"next_hop\":");
    opt_str(
        o,
        a.next_hop.map(|n| match n {
            NextHop::V4(a) => IpAddr::V4(a),
            NextHop::V6 { global, .. } => IpAddr::V6(global),
        }),
    );
    o.extend_from_slice(match a.origin {
        Origin::Igp => b",\"origin\":\"igp\"",
        Origin::Egp => b",\"origin\":\"egp\"",
        Origin::Incomplete => b",\"origin\":\"incomplete\"",
    });
    o.extend_from_slice(b",\"local_pref\":");
    opt_num(o, a.local_pref);
    o.extend_from_slice(b",\"med\":");
    opt_num(o, a.med);
    o.extend_from_slice(b",\"communities\":[");
    for (i, c) in a.communities.iter().enumerate() {
        if i > 0 {
            o.push(b',');
        }
        let _ = write!(o, "\"{}\"", community(*c));
    }
    o.extend_from_slice(b"],\"large_communities\":[");
    for (i, c) in a.large_communities.iter().enumerate() {
        if i > 0 {
            o.push(b',');
        }
        let _ = write!(
            o,
            "\"{}:{}:{}\"",
            c.global_admin, c.local_data_1, c.local_data_2
        );
    }
    o.extend_from_slice(b"],\"originator_id\":");
    opt_str(o, a.originator_id);
    o.extend_from_slice(b",\"cluster_list\":[");
    for (i, c) in a.cluster_list.iter().enumerate() {
        if i > 0 {
            o.push(b',');
        }
        let _ = write!(o, "\"{c}\"");
    }
    o.push(b']');
}

fn opt_str(o: &mut Vec<u8>, v: Option<impl std::fmt::Display>) {
    match v {
        Some(v) => {
            let _ = write!(o, "\"{v}\"");
        }
        None => o.extend_from_slice(b"null"),
    }
}

fn opt_num(o: &mut Vec<u8>, v: Option<u32>) {
    match v {
        Some(v) => o.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
        None => o.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::control::dump::route;
    use nexthop_router::as_path::{AsPath, Segment, SegmentType};
    use nexthop_router::attributes::{AttributeStore, Community, LargeCommunity};

    /// The lines are byte for byte what serde_json writes for the same
    /// routes, with attribute sets shared between routes and not.
    #[test]
    fn lines_equal_serde_jsons() {
        let s = Speaker::new(
            Config::from_toml(
                "[router]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n\n[[neighbor]]\naddress = \"192.0.2.2\"\nremote_asn = 65001\n",
            )
            .unwrap(),
            crate::Instant::ZERO,
        );
        let peer = s.router_peer("192.0.2.2".parse().unwrap()).unwrap();
        let mut store = AttributeStore::new();
        let mut full = Attributes {
            origin: Origin::Incomplete,
            as_path: AsPath {
                segments: vec![
                    Segment {
                        kind: SegmentType::Sequence,
                        asns: vec![65001, 4_200_000_000],
                    },
                    Segment {
                        kind: SegmentType::Set,
                        asns: vec![1, 2],
                    },
                ],
            },
            next_hop: Some(NextHop::V6 {
                global: "2001:db8::1".parse().unwrap(),
                link_local: None,
            }),
            med: Some(0),
            local_pref: Some(u32::MAX),
            communities: vec![Community::NO_EXPORT, Community::new(65000, 7)],
            large_communities: vec![LargeCommunity {
                global_admin: 1,
                local_data_1: 2,
                local_data_2: 3,
            }],
            originator_id: Some("10.0.0.1".parse().unwrap()),
            cluster_list: vec!["10.0.0.2".parse().unwrap(), "10.0.0.3".parse().unwrap()],
            ..Attributes::default()
        };
        full.normalize();
        let empty = Attributes::default();
        let a = store.intern(full);
        let b = store.intern(empty);
        let cases: Vec<(IpPrefix, PeerId, u32, &AttrRef, bool, u32)> = vec![
            ("2001:db8::/32".parse().unwrap(), peer, 7, &a, true, 0),
            (
                "10.0.0.0/8".parse().unwrap(),
                PeerId::LOCAL,
                0,
                &b,
                false,
                12345,
            ),
            (
                "2001:db8:1::/48".parse().unwrap(),
                peer,
                0,
                &a,
                false,
                u32::MAX,
            ),
            ("0.0.0.0/0".parse().unwrap(), peer, u32::MAX, &b, true, 1),
        ];
        let mut fast = Vec::new();
        let mut sink = JsonSink::new(&mut fast);
        let mut slow = Vec::new();
        for &(p, from, id, attrs, best, age) in &cases {
            sink.put(&s, &p, from, id, attrs, best, age);
            nexthop_control::write_route_line(
                &mut slow,
                &route(&s, &p, from, id, attrs, best, age),
            );
        }
        assert_eq!(sink.len(), cases.len());
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            String::from_utf8(slow).unwrap()
        );
    }
}
