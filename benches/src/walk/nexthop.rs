//! The stream parsed by nexthop-core: `Update::parse` validates the message
//! (RFC 4271 §6.3, RFC 7606) and gives a view over its bytes; the walk then reads
//! every typed attribute (each AS number of each AS_PATH segment, each community,
//! MULTI_EXIT_DISC, LOCAL_PREF, the MP_REACH_NLRI next hop) and every prefix of
//! every field.

use std::hint::black_box;

use nexthop_core::wire::Negotiated;
use nexthop_core::wire::attribute::PathAttribute;
use nexthop_core::wire::nlri::{Nlri, Prefix};
use nexthop_core::wire::update::Update;

use super::{Counts, messages};

#[inline(always)]
fn prefix(c: &mut Counts, withdrawn: bool, nlri: Nlri) {
    match nlri.prefix {
        Prefix::V4(p) => c.ipv4(withdrawn, p.bits(), p.prefix_len()),
        Prefix::V6(p) => c.ipv6(withdrawn, p.bits(), p.prefix_len()),
    }
}

/// Walks every message of `stream` with nexthop-core (4-octet AS, no ADD-PATH).
pub fn walk(stream: &[u8]) -> Counts {
    let negotiated = Negotiated {
        four_octet_as: true,
        ..Negotiated::default()
    };
    let mut c = Counts::default();
    for range in messages(stream) {
        let update = Update::parse(&stream[range], &negotiated)
            .expect("nexthop-core rejected a generated UPDATE");
        c.messages += 1;
        update.withdrawn().for_each(|n| prefix(&mut c, true, n));
        for attribute in update.attributes() {
            c.attributes += 1;
            match attribute {
                PathAttribute::AsPath(path) => {
                    for segment in path.segments() {
                        segment.asns.iter().for_each(|asn| c.asn(asn));
                    }
                }
                PathAttribute::MultiExitDisc(v) => c.med(v),
                PathAttribute::LocalPref(v) => c.local_pref(v),
                PathAttribute::Communities(list) => list.iter().for_each(|v| c.community(v.0)),
                PathAttribute::LargeCommunities(list) => {
                    for lc in list.iter() {
                        c.large_community(lc.global_admin, lc.local_data_1, lc.local_data_2);
                    }
                }
                PathAttribute::MpReachNlri(mp) => {
                    black_box(mp.next_hop);
                    mp.nlri.iter().for_each(|n| prefix(&mut c, false, n));
                }
                PathAttribute::MpUnreachNlri(mp) => {
                    mp.withdrawn.iter().for_each(|n| prefix(&mut c, true, n));
                }
                other => {
                    black_box(other);
                }
            }
        }
        update.nlri().for_each(|n| prefix(&mut c, false, n));
    }
    c
}
