//! Final-best-path convergence: with overlapping senders every prefix has one
//! sender whose AS_PATH is strictly the shortest (RFC 4271 §9.1.2.2 b), and a
//! receiver knows, per prefix, whether it holds that path.

use std::collections::HashSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use nexthop_core::wire::Negotiated;
use nexthop_core::wire::update::Update;
use nexthop_loadgen::routes::{
    BLOCK, EncodedRoutes, FinalLengths, PrefixPlan, SenderRoutes, encode_sender,
};
use nexthop_loadgen::table::PrefixTable;

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

/// Each announced prefix of a sender's stream, by dense index, with the
/// AS_PATH length and first AS of its UPDATE; checks that no UPDATE spans
/// two blocks of a family.
fn announced(plan: &PrefixPlan, routes: &EncodedRoutes) -> Vec<(u32, usize, Option<u32>)> {
    let mut out = Vec::new();
    for m in routes.announce.split() {
        let u = Update::parse(m, &routes.negotiated).unwrap();
        let path = u.as_path().unwrap();
        let len = path.route_selection_len();
        let blocks: HashSet<u32> = u
            .all_announced()
            .map(|n| {
                let i = plan.index(&n.prefix).unwrap();
                out.push((i, len, path.first_asn()));
                let in_family = if i >= plan.v4_union() {
                    (1 << 31) | (i - plan.v4_union())
                } else {
                    i
                };
                (in_family & (1 << 31)) | ((in_family & !(1 << 31)) / BLOCK)
            })
            .collect();
        assert_eq!(blocks.len(), 1, "one UPDATE, one block");
    }
    out
}

/// (a) With 10 overlapping senders every prefix has exactly one holder of the
/// shortest AS_PATH, strictly shorter than the others', and that length is
/// the one [`FinalLengths`] expects.
#[test]
fn decisive_lengths_make_one_sender_the_best() {
    for (overlap, ebgp) in [(1.0, false), (0.5, false), (0.5, true)] {
        let senders = 10;
        let plan = PrefixPlan::new(senders, 300, 130, overlap);
        assert!(plan.overlapping());
        let finals = FinalLengths::new(&plan, 42).unwrap();
        assert_eq!(finals.lengths.len(), plan.total() as usize);
        // Per dense index: the (length, sender) of each holder.
        let mut holders: Vec<Vec<(usize, u32)>> = vec![Vec::new(); plan.total() as usize];
        for s in 0..senders {
            let sr = sender(s, ebgp, None);
            let routes = encode_sender(&plan, &sr, 0.0, &four_octet());
            for (i, len, first) in announced(&plan, &routes) {
                assert!((1..=4 + 9).contains(&len), "length {len}");
                if ebgp {
                    assert_eq!(first, Some(sr.asn), "the sender's own AS first");
                }
                holders[i as usize].push((len, s));
            }
        }
        let mut winners = HashSet::new();
        for (i, h) in holders.iter_mut().enumerate() {
            assert!(!h.is_empty(), "index {i} is announced");
            h.sort();
            let best = h[0].0;
            assert!(
                h.get(1).is_none_or(|second| second.0 > best),
                "overlap {overlap}: index {i} has two shortest paths: {h:?}"
            );
            assert_eq!(finals.get(i as u32), Some(best as u8), "index {i}");
            winners.insert(h[0].1);
        }
        if overlap == 1.0 {
            assert!(holders.iter().all(|h| h.len() == senders as usize));
        }
        // The ranks vary by block: more than one sender wins somewhere.
        assert!(winners.len() > 3, "winners {winners:?}");
    }
}

/// (b) A receiver fed a losing sender's stream, then the winner's, holds the
/// final path exactly for the winner's prefixes (the fast walk and the
/// reference alike); the withdrawals clear them.
#[test]
fn a_receiver_holds_the_final_path_only_from_the_winner() {
    let senders = 10;
    let plan = PrefixPlan::new(senders, 640, 200, 1.0);
    let finals = Arc::new(FinalLengths::new(&plan, 42).unwrap());
    let routes: Vec<EncodedRoutes> = (0..senders)
        .map(|s| encode_sender(&plan, &sender(s, false, None), 1.0, &four_octet()))
        .collect();
    // Which prefixes each sender wins: its path there is the final length.
    let wins: Vec<HashSet<u32>> = routes
        .iter()
        .map(|r| {
            announced(&plan, r)
                .into_iter()
                .filter(|&(i, len, _)| finals.get(i) == Some(len as u8))
                .map(|(i, _, _)| i)
                .collect()
        })
        .collect();
    let winner = (0..senders as usize)
        .find(|&s| wins[s].contains(&0))
        .unwrap();
    let loser = (0..senders as usize)
        .find(|&s| s != winner && !wins[s].is_empty())
        .unwrap();
    assert!(wins[loser].is_disjoint(&wins[winner]));
    for fast in [true, false] {
        let mut t = PrefixTable::new(plan.total()).with_final(Arc::clone(&finals));
        let feed = |t: &mut PrefixTable, stream: &nexthop_loadgen::routes::UpdateStream| {
            for m in stream.split() {
                let u = Update::parse(m, &four_octet()).unwrap();
                if fast {
                    t.apply(&u, &plan);
                } else {
                    t.apply_generic(&u, &plan);
                }
            }
        };
        let finals_of = |t: &PrefixTable| (0..plan.total()).filter(|&i| t.holds_final(i)).collect();
        feed(&mut t, &routes[loser].announce);
        assert_eq!(t.count(), plan.total());
        assert_eq!(finals_of(&t), wins[loser]);
        assert_eq!(t.final_count() as usize, wins[loser].len());
        feed(&mut t, &routes[winner].announce);
        let got: HashSet<u32> = finals_of(&t);
        assert_eq!(got, wins[winner], "fast {fast}");
        assert_eq!(t.final_count() as usize, wins[winner].len());
        assert!(got.contains(&0));
        feed(&mut t, &routes[winner].withdraw);
        assert_eq!((t.count(), t.final_count()), (0, 0));
    }
}

/// The final lengths follow the seed (another seed, other lengths); a plan
/// without overlap, or of one sender, has none.
#[test]
fn final_lengths_follow_the_seed() {
    let plan = PrefixPlan::new(10, 6400, 0, 1.0);
    let a = FinalLengths::new(&plan, 1).unwrap();
    let b = FinalLengths::new(&plan, 2).unwrap();
    assert_ne!(a, b);
    assert!(a.lengths.iter().all(|&l| (1..=4).contains(&l)));
    assert!(FinalLengths::new(&PrefixPlan::new(10, 100, 0, 0.0), 1).is_none());
    assert!(FinalLengths::new(&PrefixPlan::new(1, 100, 0, 1.0), 1).is_none());
}
