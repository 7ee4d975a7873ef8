//! The stream parsed by bgpkit-parser: `parse_bgp_update_message` builds its full
//! `BgpUpdateMessage` (owned prefixes and attribute values), which is its normal work.

use std::hint::black_box;

use bgpkit_parser::models::{AsPathSegment, AsnLength, AttributeValue};
use bgpkit_parser::parser::bgp::messages::parse_bgp_update_message;
use bytes::Bytes;

use super::{Counts, HEADER, messages};

/// Walks every message of `stream` with bgpkit-parser (4-octet AS, no ADD-PATH).
pub fn walk(stream: &Bytes) -> Counts {
    let mut c = Counts::default();
    for range in messages(stream) {
        // `Bytes::slice` shares the buffer: no copy, as for the other parsers.
        let body = stream.slice(range.start + HEADER..range.end);
        let update = parse_bgp_update_message(body, false, &AsnLength::Bits32)
            .expect("bgpkit-parser rejected a generated UPDATE");
        c.messages += 1;
        c.ipv4_withdrawn += update.withdrawn_prefixes.len();
        c.ipv4_announced += update.announced_prefixes.len();
        for value in &update.attributes {
            c.attributes += 1;
            match value {
                AttributeValue::AsPath(path) => {
                    for segment in &path.segments {
                        c.as_path_asns += match segment {
                            AsPathSegment::AsSequence(a)
                            | AsPathSegment::AsSet(a)
                            | AsPathSegment::ConfedSequence(a)
                            | AsPathSegment::ConfedSet(a) => a.len(),
                        };
                    }
                }
                AttributeValue::Communities(v) => c.communities += v.len(),
                AttributeValue::LargeCommunities(v) => c.large_communities += v.len(),
                AttributeValue::MpReachNlri(nlri) => c.ipv6_announced += nlri.prefixes.len(),
                AttributeValue::MpUnreachNlri(nlri) => c.ipv6_withdrawn += nlri.prefixes.len(),
                _ => {}
            }
        }
        black_box(update);
    }
    c
}
