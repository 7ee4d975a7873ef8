//! The seam between the router and UPDATE encoding (RFC 4271 §4.3, RFC 4760 §3-4
//! for IPv6, RFC 7911 §3 ADD-PATH NLRI, RFC 6793 §4.2.2 towards 2-octet-AS peers,
//! RFC 4724 §2 End-of-RIB): the router asks an [`UpdateEncoder`] for messages
//! holding as many prefixes as fit the negotiated maximum size. The implementation
//! is [`crate::wire::CoreEncoder`], over core's `UpdateBuilder`.

use nexthop_core::wire::header::HEADER_LEN;

use crate::attributes::Attributes;
use crate::prefix::RoutePrefix;

const EXTENDED: u8 = 0x10;

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
    use crate::as_path::AsPath;
    use crate::attributes::NextHop;
    use crate::prefix::{Ipv4Prefix, Ipv6Prefix};
    use crate::wire::CoreEncoder;
    use std::net::Ipv4Addr;

    const AS_PATH: u8 = 2;
    const MP_REACH_NLRI: u8 = 14;
    const AS4_PATH: u8 = 17;

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
        let mut e = CoreEncoder;
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
        let mut e = CoreEncoder;
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
        let mut e = CoreEncoder;
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
        let enc = CoreEncoder.path_attributes(&params, &a);
        let mut out = Vec::new();
        CoreEncoder.announce(&params, &a, &enc, &[v4(1)], &mut out);
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
        CoreEncoder.end_of_rib::<Ipv4Prefix>(&mut v4);
        assert_eq!(v4.len(), 23);
        let mut v6 = Vec::new();
        CoreEncoder.end_of_rib::<Ipv6Prefix>(&mut v6);
        assert_eq!(v6.len(), 29);
        assert_eq!(
            path_attributes_of(&v6).unwrap(),
            vec![(0x80, 15, &[0u8, 2, 1][..])]
        );
    }
}
