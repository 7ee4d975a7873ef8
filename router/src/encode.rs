//! UPDATE encoding for the router's output (RFC 4271 §4.3, RFC 4760 §3-4 for
//! IPv6, RFC 7911 §3 ADD-PATH NLRI, RFC 6793 §4.2.2 towards 2-octet-AS peers,
//! RFC 4724 §2 End-of-RIB).
//!
//! This is the seam to core's UPDATE builder: the router asks an [`UpdateEncoder`]
//! for messages holding as many prefixes as fit the negotiated maximum size.
//! [`WireEncoder`] is a self-contained implementation until the router is
//! connected to core's codec.

use nexthop_core::wire::MessageType;
use nexthop_core::wire::header::{self, HEADER_LEN};

use crate::as_path::{AS_TRANS, AsPath, SegmentType};
use crate::attributes::{Attributes, NextHop};
use crate::prefix::RoutePrefix;

/// What the session negotiated that changes the encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EncodeParams {
    /// The peer has the 4-octet AS capability (RFC 6793).
    pub four_octet_as: bool,
    /// We send ADD-PATH path identifiers for this family (RFC 7911).
    pub add_path: bool,
    /// The largest message the peer accepts: 4096, or 65535 with the Extended
    /// Message capability (RFC 8654).
    pub max_message_len: usize,
}

/// Builds UPDATE messages. Each call appends one message to `out` and returns how
/// many entries of `nlri` it holds (at least one, if `nlri` is not empty).
pub trait UpdateEncoder {
    /// The path attributes of `attrs` in wire form, for [`UpdateEncoder::announce`];
    /// computed once per attribute set and reused for every message that carries it.
    fn path_attributes(&mut self, params: &EncodeParams, attrs: &Attributes) -> Vec<u8>;
    /// An UPDATE announcing a leading run of `nlri` with attributes `attrs`
    /// (whose wire form is `encoded`).
    fn announce<P: RoutePrefix>(
        &mut self,
        params: &EncodeParams,
        attrs: &Attributes,
        encoded: &[u8],
        nlri: &[(u32, P)],
        out: &mut Vec<u8>,
    ) -> usize;
    /// An UPDATE withdrawing a leading run of `nlri`.
    fn withdraw<P: RoutePrefix>(
        &mut self,
        params: &EncodeParams,
        nlri: &[(u32, P)],
        out: &mut Vec<u8>,
    ) -> usize;
    /// The End-of-RIB marker of `P`'s family (RFC 4724 §2).
    fn end_of_rib<P: RoutePrefix>(&mut self, out: &mut Vec<u8>);
}

/// The router's own UPDATE encoder.
#[derive(Debug, Default)]
pub struct WireEncoder;

const ORIGIN: u8 = 1;
const AS_PATH: u8 = 2;
const NEXT_HOP: u8 = 3;
const MED: u8 = 4;
const LOCAL_PREF: u8 = 5;
const ATOMIC_AGGREGATE: u8 = 6;
const AGGREGATOR: u8 = 7;
const COMMUNITIES: u8 = 8;
const ORIGINATOR_ID: u8 = 9;
const CLUSTER_LIST: u8 = 10;
const MP_REACH_NLRI: u8 = 14;
const MP_UNREACH_NLRI: u8 = 15;
const EXTENDED_COMMUNITIES: u8 = 16;
const AS4_PATH: u8 = 17;
const AS4_AGGREGATOR: u8 = 18;
const LARGE_COMMUNITY: u8 = 32;

const OPTIONAL: u8 = 0x80;
const TRANSITIVE: u8 = 0x40;
const EXTENDED: u8 = 0x10;

/// Writes one attribute with its header, using the extended length when needed.
fn attribute(out: &mut Vec<u8>, flags: u8, type_code: u8, value: &[u8]) {
    if value.len() > 255 {
        out.extend_from_slice(&[flags | EXTENDED, type_code]);
        out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    } else {
        out.extend_from_slice(&[flags & !EXTENDED, type_code, value.len() as u8]);
    }
    out.extend_from_slice(value);
}

fn as_path_value(path: &AsPath, four_octet: bool) -> Vec<u8> {
    let mut v = Vec::new();
    for seg in &path.segments {
        for chunk in seg.asns.chunks(255) {
            v.push(match seg.kind {
                SegmentType::Set => 1,
                SegmentType::Sequence => 2,
                SegmentType::ConfedSequence => 3,
                SegmentType::ConfedSet => 4,
            });
            v.push(chunk.len() as u8);
            for &asn in chunk {
                if four_octet {
                    v.extend_from_slice(&asn.to_be_bytes());
                } else {
                    v.extend_from_slice(&(asn as u16).to_be_bytes());
                }
            }
        }
    }
    v
}

fn nlri_len<P: RoutePrefix>(add_path: bool, p: &P) -> usize {
    usize::from(add_path) * 4 + 1 + usize::from(p.prefix_len()).div_ceil(8)
}

fn put_nlri<P: RoutePrefix>(out: &mut Vec<u8>, add_path: bool, id: u32, p: &P) {
    if add_path {
        out.extend_from_slice(&id.to_be_bytes());
    }
    out.push(p.prefix_len());
    let n = usize::from(p.prefix_len()).div_ceil(8);
    out.extend_from_slice(&p.octets()[..n]);
}

/// How many leading entries of `nlri` fit in `room` bytes.
fn fitting<P: RoutePrefix>(add_path: bool, nlri: &[(u32, P)], room: usize) -> (usize, usize) {
    let mut used = 0;
    for (i, (_, p)) in nlri.iter().enumerate() {
        let l = nlri_len(add_path, p);
        if used + l > room {
            return (i, used);
        }
        used += l;
    }
    (nlri.len(), used)
}

fn next_hop_v6(nh: Option<NextHop>) -> Vec<u8> {
    match nh {
        Some(NextHop::V6 { global, link_local }) => {
            let mut v = global.octets().to_vec();
            if let Some(ll) = link_local {
                v.extend_from_slice(&ll.octets());
            }
            v
        }
        Some(NextHop::V4(a)) => a.to_ipv6_mapped().octets().to_vec(),
        None => vec![0; 16],
    }
}

/// Appends header, withdrawn routes and the path attribute length field to start
/// an UPDATE; the caller then appends the rest and calls [`finish`].
fn begin(out: &mut Vec<u8>) -> usize {
    let start = out.len();
    out.resize(start + HEADER_LEN, 0);
    start
}

fn finish(out: &mut [u8], start: usize) {
    let len = out.len() - start;
    // The length was bounded by `max_message_len` (at most 65535) before writing.
    let _ = header::emit(&mut out[start..], len, MessageType::Update);
}

impl UpdateEncoder for WireEncoder {
    fn path_attributes(&mut self, params: &EncodeParams, a: &Attributes) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        attribute(&mut out, TRANSITIVE, ORIGIN, &[a.origin.code()]);
        let (as_path, as4_path) = if params.four_octet_as {
            (a.as_path.clone(), None)
        } else {
            a.as_path.to_two_octet()
        };
        attribute(
            &mut out,
            TRANSITIVE,
            AS_PATH,
            &as_path_value(&as_path, params.four_octet_as),
        );
        if let Some(NextHop::V4(nh)) = a.next_hop {
            attribute(&mut out, TRANSITIVE, NEXT_HOP, &nh.octets());
        }
        if let Some(med) = a.med {
            attribute(&mut out, OPTIONAL, MED, &med.to_be_bytes());
        }
        if let Some(lp) = a.local_pref {
            attribute(&mut out, TRANSITIVE, LOCAL_PREF, &lp.to_be_bytes());
        }
        if a.atomic_aggregate {
            attribute(&mut out, TRANSITIVE, ATOMIC_AGGREGATE, &[]);
        }
        let mut as4_aggregator = None;
        if let Some(agg) = a.aggregator {
            let mut v = Vec::with_capacity(8);
            if params.four_octet_as {
                v.extend_from_slice(&agg.asn.to_be_bytes());
            } else if agg.asn > 0xffff {
                v.extend_from_slice(&(AS_TRANS as u16).to_be_bytes());
                as4_aggregator = Some(agg);
            } else {
                v.extend_from_slice(&(agg.asn as u16).to_be_bytes());
            }
            v.extend_from_slice(&agg.address.octets());
            attribute(&mut out, OPTIONAL | TRANSITIVE, AGGREGATOR, &v);
        }
        if !a.communities.is_empty() {
            let v: Vec<u8> = a
                .communities
                .iter()
                .flat_map(|c| c.0.to_be_bytes())
                .collect();
            attribute(&mut out, OPTIONAL | TRANSITIVE, COMMUNITIES, &v);
        }
        if let Some(id) = a.originator_id {
            attribute(&mut out, OPTIONAL, ORIGINATOR_ID, &id.octets());
        }
        if !a.cluster_list.is_empty() {
            let v: Vec<u8> = a.cluster_list.iter().flat_map(|c| c.octets()).collect();
            attribute(&mut out, OPTIONAL, CLUSTER_LIST, &v);
        }
        if !a.extended_communities.is_empty() {
            let v: Vec<u8> = a.extended_communities.iter().flat_map(|c| c.0).collect();
            attribute(&mut out, OPTIONAL | TRANSITIVE, EXTENDED_COMMUNITIES, &v);
        }
        if let Some(as4) = as4_path {
            attribute(
                &mut out,
                OPTIONAL | TRANSITIVE,
                AS4_PATH,
                &as_path_value(&as4, true),
            );
        }
        if let Some(agg) = as4_aggregator {
            let mut v = agg.asn.to_be_bytes().to_vec();
            v.extend_from_slice(&agg.address.octets());
            attribute(&mut out, OPTIONAL | TRANSITIVE, AS4_AGGREGATOR, &v);
        }
        if !a.large_communities.is_empty() {
            let v: Vec<u8> = a
                .large_communities
                .iter()
                .flat_map(|c| {
                    let mut b = [0u8; 12];
                    b[..4].copy_from_slice(&c.global_admin.to_be_bytes());
                    b[4..8].copy_from_slice(&c.local_data_1.to_be_bytes());
                    b[8..].copy_from_slice(&c.local_data_2.to_be_bytes());
                    b
                })
                .collect();
            attribute(&mut out, OPTIONAL | TRANSITIVE, LARGE_COMMUNITY, &v);
        }
        for u in &a.unknown {
            attribute(&mut out, u.flags, u.type_code, &u.value);
        }
        out
    }

    fn announce<P: RoutePrefix>(
        &mut self,
        params: &EncodeParams,
        attrs: &Attributes,
        encoded: &[u8],
        nlri: &[(u32, P)],
        out: &mut Vec<u8>,
    ) -> usize {
        let start = begin(out);
        out.extend_from_slice(&[0, 0]); // no withdrawn routes
        let fixed = HEADER_LEN + 4 + encoded.len();
        if !P::IPV6 {
            let room = params.max_message_len.saturating_sub(fixed);
            let (n, _) = fitting(params.add_path, nlri, room);
            out.extend_from_slice(&(encoded.len() as u16).to_be_bytes());
            out.extend_from_slice(encoded);
            for (id, p) in &nlri[..n] {
                put_nlri(out, params.add_path, *id, p);
            }
            finish(out, start);
            return n;
        }
        // MP_REACH_NLRI first (RFC 7606 §5.1), with the extended length.
        let nh = next_hop_v6(attrs.next_hop);
        let mp_fixed = 4 + 5 + nh.len();
        let room = params.max_message_len.saturating_sub(fixed + mp_fixed);
        let (n, used) = fitting(params.add_path, nlri, room);
        let mp_len = 5 + nh.len() + used;
        out.extend_from_slice(&((mp_fixed + used + encoded.len()) as u16).to_be_bytes());
        out.extend_from_slice(&[OPTIONAL | EXTENDED, MP_REACH_NLRI]);
        out.extend_from_slice(&(mp_len as u16).to_be_bytes());
        out.extend_from_slice(&[0, 2, 1, nh.len() as u8]);
        out.extend_from_slice(&nh);
        out.push(0);
        for (id, p) in &nlri[..n] {
            put_nlri(out, params.add_path, *id, p);
        }
        out.extend_from_slice(encoded);
        finish(out, start);
        n
    }

    fn withdraw<P: RoutePrefix>(
        &mut self,
        params: &EncodeParams,
        nlri: &[(u32, P)],
        out: &mut Vec<u8>,
    ) -> usize {
        let start = begin(out);
        if !P::IPV6 {
            let room = params.max_message_len.saturating_sub(HEADER_LEN + 4);
            let (n, used) = fitting(params.add_path, nlri, room);
            out.extend_from_slice(&(used as u16).to_be_bytes());
            for (id, p) in &nlri[..n] {
                put_nlri(out, params.add_path, *id, p);
            }
            out.extend_from_slice(&[0, 0]);
            finish(out, start);
            return n;
        }
        let room = params
            .max_message_len
            .saturating_sub(HEADER_LEN + 4 + 4 + 3);
        let (n, used) = fitting(params.add_path, nlri, room);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&((used + 7) as u16).to_be_bytes());
        out.extend_from_slice(&[OPTIONAL | EXTENDED, MP_UNREACH_NLRI]);
        out.extend_from_slice(&((used + 3) as u16).to_be_bytes());
        out.extend_from_slice(&[0, 2, 1]);
        for (id, p) in &nlri[..n] {
            put_nlri(out, params.add_path, *id, p);
        }
        finish(out, start);
        n
    }

    fn end_of_rib<P: RoutePrefix>(&mut self, out: &mut Vec<u8>) {
        let start = begin(out);
        if P::IPV6 {
            out.extend_from_slice(&[0, 0, 0, 6, OPTIONAL, MP_UNREACH_NLRI, 3, 0, 2, 1]);
        } else {
            out.extend_from_slice(&[0, 0, 0, 0]);
        }
        finish(out, start);
    }
}

/// One path attribute found in an encoded UPDATE: its flags, type and value.
pub type RawPathAttribute<'a> = (u8, u8, &'a [u8]);

/// Lists the path attributes of an UPDATE this module encoded (for tests and
/// diagnostics; core's parser is the real one). `None` if the message is malformed.
pub fn path_attributes_of(msg: &[u8]) -> Option<Vec<RawPathAttribute<'_>>> {
    let body = msg.get(HEADER_LEN..)?;
    let wlen = usize::from(u16::from_be_bytes([*body.first()?, *body.get(1)?]));
    let rest = body.get(2 + wlen..)?;
    let alen = usize::from(u16::from_be_bytes([*rest.first()?, *rest.get(1)?]));
    let mut attrs = rest.get(2..2 + alen)?;
    let mut found = Vec::new();
    while !attrs.is_empty() {
        let flags = *attrs.first()?;
        let type_code = *attrs.get(1)?;
        let (len, hdr) = if flags & EXTENDED != 0 {
            (
                usize::from(u16::from_be_bytes([*attrs.get(2)?, *attrs.get(3)?])),
                4,
            )
        } else {
            (usize::from(*attrs.get(2)?), 3)
        };
        found.push((flags, type_code, attrs.get(hdr..hdr + len)?));
        attrs = attrs.get(hdr + len..)?;
    }
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prefix::{Ipv4Prefix, Ipv6Prefix};
    use std::net::Ipv4Addr;

    const PARAMS: EncodeParams = EncodeParams {
        four_octet_as: true,
        add_path: false,
        max_message_len: 4096,
    };

    fn v4(i: u32) -> (u32, Ipv4Prefix) {
        (
            0,
            Ipv4Prefix::new(Ipv4Addr::from(0x0a00_0000 | (i << 8)), 24).unwrap(),
        )
    }

    #[test]
    fn ipv4_announce_bytes() {
        let a = Attributes {
            as_path: AsPath::sequence(&[65001]),
            next_hop: Some(NextHop::V4(Ipv4Addr::new(192, 0, 2, 1))),
            ..Default::default()
        };
        let mut e = WireEncoder;
        let enc = e.path_attributes(&PARAMS, &a);
        let mut out = Vec::new();
        assert_eq!(e.announce(&PARAMS, &a, &enc, &[v4(1)], &mut out), 1);
        let mut expected = vec![0xff; 16];
        expected.extend_from_slice(&[0, 47, 2, 0, 0, 0, 20]);
        expected.extend_from_slice(&[0x40, 1, 1, 0]);
        expected.extend_from_slice(&[0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9]);
        expected.extend_from_slice(&[0x40, 3, 4, 192, 0, 2, 1]);
        expected.extend_from_slice(&[24, 10, 0, 1]);
        assert_eq!(out, expected);
    }

    #[test]
    fn packing_stops_at_the_maximum_size() {
        let a = Attributes::default();
        let mut e = WireEncoder;
        let enc = e.path_attributes(&PARAMS, &a);
        let nlri: Vec<_> = (0..2000).map(v4).collect();
        let mut out = Vec::new();
        let n = e.announce(&PARAMS, &a, &enc, &nlri, &mut out);
        assert!(out.len() <= 4096 && out.len() + 4 > 4096, "{}", out.len());
        assert_eq!(n, (4096 - 23 - enc.len()) / 4);
        let mut w = Vec::new();
        let m = e.withdraw(&PARAMS, &nlri, &mut w);
        assert_eq!(m, (4096 - 23) / 4);
        assert_eq!(usize::from(u16::from_be_bytes([w[16], w[17]])), w.len());
    }

    #[test]
    fn ipv6_announce_uses_mp_reach_with_link_local() {
        let a = Attributes {
            next_hop: Some(NextHop::V6 {
                global: "2001:db8::1".parse().unwrap(),
                link_local: Some("fe80::1".parse().unwrap()),
            }),
            ..Default::default()
        };
        let mut e = WireEncoder;
        let enc = e.path_attributes(&PARAMS, &a);
        let p: Ipv6Prefix = "2001:db8:1::/48".parse().unwrap();
        let mut out = Vec::new();
        e.announce(&PARAMS, &a, &enc, &[(0, p)], &mut out);
        let attrs = path_attributes_of(&out).unwrap();
        assert_eq!(attrs[0].1, MP_REACH_NLRI);
        let mp = attrs[0].2;
        assert_eq!(&mp[..4], &[0, 2, 1, 32]);
        assert_eq!(&mp[36..], &[0, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1]);
        assert_eq!(
            usize::from(u16::from_be_bytes([out[16], out[17]])),
            out.len()
        );
        assert_eq!(
            attrs.iter().map(|a| a.1).collect::<Vec<_>>(),
            vec![14, 1, 2]
        );
    }

    #[test]
    fn two_octet_peer_gets_as_trans_and_as4_path() {
        let a = Attributes {
            as_path: AsPath::sequence(&[65000, 4_200_000_001]),
            ..Default::default()
        };
        let params = EncodeParams {
            four_octet_as: false,
            ..PARAMS
        };
        let enc = WireEncoder.path_attributes(&params, &a);
        let mut out = Vec::new();
        WireEncoder.announce(&params, &a, &enc, &[v4(1)], &mut out);
        let attrs = path_attributes_of(&out).unwrap();
        let as_path = attrs.iter().find(|a| a.1 == AS_PATH).unwrap();
        assert_eq!(as_path.2, &[2, 2, 0xfd, 0xe8, 0x5b, 0xa0]);
        let as4 = attrs.iter().find(|a| a.1 == AS4_PATH).unwrap();
        assert_eq!(as4.0, 0xc0);
        assert_eq!(as4.2, &[2, 2, 0, 0, 0xfd, 0xe8, 0xfa, 0x56, 0xea, 0x01]);
    }

    #[test]
    fn end_of_rib_markers() {
        let mut v4 = Vec::new();
        WireEncoder.end_of_rib::<Ipv4Prefix>(&mut v4);
        assert_eq!(v4.len(), 23);
        let mut v6 = Vec::new();
        WireEncoder.end_of_rib::<Ipv6Prefix>(&mut v6);
        assert_eq!(v6.len(), 29);
        assert_eq!(
            path_attributes_of(&v6).unwrap(),
            vec![(0x80, 15, &[0u8, 2, 1][..])]
        );
    }
}
