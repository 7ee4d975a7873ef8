//! Final-best-path convergence: with overlapping senders every prefix has one
//! sender whose AS_PATH is strictly the shortest (RFC 4271 §9.1.2.2 b), and a
//! receiver knows, per prefix, whether it holds that path.

use std::net::{Ipv4Addr, Ipv6Addr};

use nexthop_core::wire::Negotiated;
use nexthop_loadgen::routes::{PrefixPlan, SenderRoutes, encode_sender};

fn four_octet() -> Negotiated {
    Negotiated {
        four_octet_as: true,
        ..Negotiated::default()
    }
}

fn sender(index: u32, ebgp: bool, per_update: Option<u32>) -> SenderRoutes {
    SenderRoutes {
        index,
        asn: if ebgp { 65100 + index } else { 65000 },
        ebgp,
        next_hop: Ipv4Addr::new(198, 51, 100, 1 + index as u8),
        next_hop_v6: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1 + index as u16),
        per_update,
        seed: 42,
    }
}

/// FNV-1a, 64 bits.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Streams without overlap (or of one sender) are those of before the
/// decisive path lengths, octet for octet: hashes taken from the encoder
/// before the change.
#[test]
fn streams_without_overlap_are_unchanged() {
    let cases: [(u32, u32, u32, f64, bool, Option<u32>); 4] = [
        (3, 500, 100, 0.0, false, None),
        (3, 500, 100, 0.0, true, None),
        (1, 300, 50, 1.0, false, Some(7)),
        (4, 200, 0, 0.0, true, Some(1)),
    ];
    let mut got = Vec::new();
    for (senders, v4, v6, overlap, ebgp, per) in cases {
        let plan = PrefixPlan::new(senders, v4, v6, overlap);
        let mut h = Vec::new();
        for s in 0..senders {
            let r = encode_sender(&plan, &sender(s, ebgp, per), 0.5, &four_octet());
            h.push(fnv(&r.announce.bytes) ^ fnv(&r.withdraw.bytes).rotate_left(1));
        }
        got.push(h.iter().fold(0u64, |a, &x| a.rotate_left(7) ^ x));
    }
    let want: [u64; 4] = [
        0x37b3_2777_fcb6_d166,
        0x501a_e700_2668_090d,
        0xdbdd_1bf0_ee38_8218,
        0x4de4_407e_ac87_6107,
    ];
    assert_eq!(got, want);
}
