//! The stream parsed by routecore. Its `UpdateMessage` is lazy (`from_octets`
//! validates and records ranges), so the walk asks for what a router needs: every
//! path attribute as its owned typed value (`to_owned`), and every announced and
//! withdrawn NLRI, conventional and multiprotocol.

use std::hint::black_box;

use routecore::bgp::aspath::Hop;
use routecore::bgp::message::{SessionConfig, UpdateMessage};
use routecore::bgp::nlri::afisafi::Nlri;
use routecore::bgp::path_attributes::PathAttribute;

use super::{Counts, messages};

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
                        c.as_path_asns += match hop {
                            Hop::Asn(_) => 1,
                            Hop::Segment(s) => s.asns().count(),
                        };
                    }
                }
                PathAttribute::StandardCommunities(l) => c.communities += l.communities().len(),
                PathAttribute::LargeCommunities(l) => c.large_communities += l.communities().len(),
                _ => {}
            }
            black_box(value);
        }
        for nlri in update.announcements().expect("announcements") {
            match nlri.expect("routecore rejected an announced prefix") {
                Nlri::Ipv4Unicast(p) => {
                    c.ipv4_announced += 1;
                    black_box(p);
                }
                Nlri::Ipv6Unicast(p) => {
                    c.ipv6_announced += 1;
                    black_box(p);
                }
                other => panic!("unexpected NLRI {other:?}"),
            }
        }
        for nlri in update.withdrawals().expect("withdrawals") {
            match nlri.expect("routecore rejected a withdrawn prefix") {
                Nlri::Ipv4Unicast(p) => {
                    c.ipv4_withdrawn += 1;
                    black_box(p);
                }
                Nlri::Ipv6Unicast(p) => {
                    c.ipv6_withdrawn += 1;
                    black_box(p);
                }
                other => panic!("unexpected NLRI {other:?}"),
            }
        }
    }
    c
}
