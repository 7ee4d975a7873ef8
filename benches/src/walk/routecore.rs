//! The stream parsed by routecore. Its `UpdateMessage` is lazy (`from_octets`
//! validates and records ranges), so the walk asks for what a router needs: every
//! path attribute as its owned typed value (`to_owned`), and every announced and
//! withdrawn NLRI, conventional and multiprotocol.

use std::hint::black_box;
use std::net::IpAddr;

use routecore::bgp::aspath::Hop;
use routecore::bgp::message::{SessionConfig, UpdateMessage};
use routecore::bgp::nlri::afisafi::{IsPrefix, Nlri};
use routecore::bgp::path_attributes::PathAttribute;

use super::{Counts, messages};

#[inline(always)]
fn prefix<O>(c: &mut Counts, withdrawn: bool, nlri: Nlri<O>) {
    let p = match nlri {
        Nlri::Ipv4Unicast(n) => n.prefix(),
        Nlri::Ipv6Unicast(n) => n.prefix(),
        _ => panic!("unexpected NLRI family"),
    };
    match p.addr() {
        IpAddr::V4(a) => c.ipv4(withdrawn, a.to_bits(), p.len()),
        IpAddr::V6(a) => c.ipv6(withdrawn, a.to_bits(), p.len()),
    }
}

/// Walks every message of `stream` with routecore (4-octet AS, no ADD-PATH).
pub fn walk(stream: &[u8]) -> Counts {
    let config = SessionConfig::modern();
    let mut c = Counts::default();
    for range in messages(stream) {
        let update = UpdateMessage::from_octets(&stream[range], &config)
            .expect("routecore rejected a generated UPDATE");
        c.messages += 1;
        for attribute in update.path_attributes().expect("path attributes") {
            let value = attribute
                .expect("routecore rejected an attribute")
                .to_owned()
                .expect("routecore could not own an attribute");
            c.attributes += 1;
            match &value {
                PathAttribute::AsPath(path) => {
                    for hop in path.iter() {
                        match hop {
                            Hop::Asn(asn) => c.asn(asn.into_u32()),
                            Hop::Segment(s) => s.asns().for_each(|asn| c.asn(asn.into_u32())),
                        }
                    }
                }
                PathAttribute::MultiExitDisc(v) => c.med(v.0),
                PathAttribute::LocalPref(v) => c.local_pref(v.0),
                PathAttribute::StandardCommunities(list) => list
                    .communities()
                    .iter()
                    .for_each(|v| c.community(v.to_u32())),
                PathAttribute::LargeCommunities(list) => {
                    for lc in list.communities() {
                        let raw = lc.to_raw();
                        let word = |i: usize| {
                            u32::from_be_bytes([raw[i], raw[i + 1], raw[i + 2], raw[i + 3]])
                        };
                        c.large_community(word(0), word(4), word(8));
                    }
                }
                _ => {}
            }
            black_box(value);
        }
        for nlri in update.announcements().expect("announcements") {
            prefix(
                &mut c,
                false,
                nlri.expect("routecore rejected an announced prefix"),
            );
        }
        for nlri in update.withdrawals().expect("withdrawals") {
            prefix(
                &mut c,
                true,
                nlri.expect("routecore rejected a withdrawn prefix"),
            );
        }
    }
    c
}
