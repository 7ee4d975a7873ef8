//! The stream parsed by bgpkit-parser: `parse_bgp_update_message` builds its full
//! `BgpUpdateMessage` (owned prefixes and attribute values), which is its normal
//! work; the walk then reads every prefix and value out of it.

use std::hint::black_box;
use std::net::IpAddr;

use bgpkit_parser::models::{AsPathSegment, AsnLength, AttributeValue, Community, NetworkPrefix};
use bgpkit_parser::parser::bgp::messages::parse_bgp_update_message;
use bytes::Bytes;

use super::{Counts, HEADER, messages};

#[inline(always)]
fn prefix(c: &mut Counts, withdrawn: bool, p: &NetworkPrefix) {
    match p.prefix.addr() {
        IpAddr::V4(a) => c.ipv4(withdrawn, a.to_bits(), p.prefix.prefix_len()),
        IpAddr::V6(a) => c.ipv6(withdrawn, a.to_bits(), p.prefix.prefix_len()),
    }
}

/// Walks every message of `stream` with bgpkit-parser (4-octet AS, no ADD-PATH).
pub fn walk(stream: &Bytes) -> Counts {
    let mut c = Counts::default();
    for range in messages(stream) {
        // `Bytes::slice` shares the buffer: no copy, as for the other parsers.
        let body = stream.slice(range.start + HEADER..range.end);
        let update = parse_bgp_update_message(body, false, &AsnLength::Bits32)
            .expect("bgpkit-parser rejected a generated UPDATE");
        c.messages += 1;
        update
            .withdrawn_prefixes
            .iter()
            .for_each(|p| prefix(&mut c, true, p));
        for value in &update.attributes {
            c.attributes += 1;
            match value {
                AttributeValue::AsPath(path) => {
                    for segment in &path.segments {
                        let (AsPathSegment::AsSequence(asns)
                        | AsPathSegment::AsSet(asns)
                        | AsPathSegment::ConfedSequence(asns)
                        | AsPathSegment::ConfedSet(asns)) = segment;
                        asns.iter().for_each(|&asn| c.asn(asn.into()));
                    }
                }
                AttributeValue::MultiExitDiscriminator(v) => c.med(*v),
                AttributeValue::LocalPreference(v) => c.local_pref(*v),
                AttributeValue::Communities(list) => {
                    for community in list {
                        c.community(match *community {
                            Community::NoExport => 0xffff_ff01,
                            Community::NoAdvertise => 0xffff_ff02,
                            Community::NoExportSubConfed => 0xffff_ff03,
                            Community::Custom(asn, value) => {
                                u32::from(asn) << 16 | u32::from(value)
                            }
                        });
                    }
                }
                AttributeValue::LargeCommunities(list) => {
                    for lc in list {
                        c.large_community(lc.global_admin, lc.local_data[0], lc.local_data[1]);
                    }
                }
                AttributeValue::MpReachNlri(nlri) => {
                    nlri.prefixes.iter().for_each(|p| prefix(&mut c, false, p))
                }
                AttributeValue::MpUnreachNlri(nlri) => {
                    nlri.prefixes.iter().for_each(|p| prefix(&mut c, true, p))
                }
                other => {
                    black_box(other);
                }
            }
        }
        update
            .announced_prefixes
            .iter()
            .for_each(|p| prefix(&mut c, false, p));
        black_box(update);
    }
    c
}
