//! The dissemination rules (RFC 4271 §9.1.3, §5.1; RFC 4456 §6, §8; RFC 7947;
//! RFC 6793), each shown by a router under test, routes in, tables out.

mod common;
use common::*;

use std::net::Ipv4Addr;

use nexthop_router::as_path::{AS_TRANS, AsPath};
use nexthop_router::attributes::{Community, NextHop};
use nexthop_router::encode::path_attributes_of;
use nexthop_router::peer::{AddPathSend, FamilyParams, PeerConfig, SessionParams};
use nexthop_router::rib::PeerId;
use nexthop_router::router::{ImportError, Router, RouterConfig};
use nexthop_router::time::Instant;

const AS: u32 = 65000;

fn up(r: &mut Router, cfg: PeerConfig, id: &str) -> PeerId {
    let p = r.add_peer(cfg);
    r.handle_session_up(p, SessionParams::ipv4(ip(id)), T0);
    p
}

fn ebgp(addr: &str, asn: u32) -> PeerConfig {
    let mut c = peer(addr, asn);
    c.local_v4 = Some(ip("192.0.2.1"));
    c
}

fn client(addr: &str) -> PeerConfig {
    let mut c = peer(addr, AS);
    c.route_reflector_client = true;
    c
}

/// RFC 4271 §9.1.3 / RFC 4456 §6: an iBGP-learned route goes to eBGP peers but
/// not to other iBGP (non-client) peers; towards eBGP our AS is prepended, the next
/// hop is ours, LOCAL_PREF is removed and MED not passed on.
#[test]
fn ibgp_route_goes_to_ebgp_only_with_ebgp_rewrites() {
    let mut r = router(AS, "192.0.2.1");
    let a = up(&mut r, peer("10.0.0.1", AS), "10.0.0.1");
    let b = up(&mut r, peer("10.0.0.2", AS), "10.0.0.2");
    let e = up(&mut r, ebgp("172.16.0.1", 65001), "172.16.0.1");
    let mut t = vec![Table::default(); 3];
    settle(&mut r, T0, &[a, b, e], &mut t);
    assert!(
        t.iter().all(|t| t.end_of_rib == 1),
        "End-of-RIB after the (empty) table"
    );
    let mut at = attrs(&[65010], "10.0.0.1");
    at.local_pref = Some(200);
    at.med = Some(7);
    r.handle_update(a, &[], &[(0, v4("203.0.113.0/24"))], Some(at), T0)
        .unwrap();
    settle(&mut r, T0, &[a, b, e], &mut t);
    assert!(t[0].routes.is_empty(), "not sent back to its source");
    assert!(t[1].routes.is_empty(), "no iBGP to iBGP re-advertisement");
    let got = t[2].get(v4("203.0.113.0/24")).expect("sent to eBGP");
    assert_eq!(got.as_path, AsPath::sequence(&[AS, 65010]));
    assert_eq!(got.next_hop, Some(NextHop::V4(ip("192.0.2.1"))));
    assert_eq!((got.local_pref, got.med), (None, None));
}

/// RFC 4271 §5.1.5, §5.1.4: an eBGP route goes to iBGP with LOCAL_PREF added and
/// the MED and next hop unchanged; the peer it came from does not get it back.
#[test]
fn ebgp_route_goes_to_ibgp_with_local_pref() {
    let mut r = router(AS, "192.0.2.1");
    let a = up(&mut r, peer("10.0.0.1", AS), "10.0.0.1");
    let e = up(&mut r, ebgp("172.16.0.1", 65001), "172.16.0.1");
    let e2 = up(&mut r, ebgp("172.16.0.2", 65002), "172.16.0.2");
    let mut at = attrs(&[65001], "172.16.0.1");
    at.med = Some(5);
    at.local_pref = Some(999); // ignored from eBGP
    r.handle_update(e, &[], &[(0, v4("198.51.100.0/24"))], Some(at), T0)
        .unwrap();
    let mut t = vec![Table::default(); 3];
    settle(&mut r, T0, &[a, e, e2], &mut t);
    let got = t[0].get(v4("198.51.100.0/24")).unwrap();
    assert_eq!(got.local_pref, Some(100));
    assert_eq!(got.med, Some(5));
    assert_eq!(got.next_hop, Some(NextHop::V4(ip("172.16.0.1"))));
    assert!(
        t[1].routes.is_empty(),
        "never back to the peer it came from"
    );
    let other = t[2].get(v4("198.51.100.0/24")).unwrap();
    assert_eq!(other.as_path, AsPath::sequence(&[AS, 65001]));
    assert_eq!(other.med, None);
}

/// RFC 4456 §6 and §8: from a client to all clients and non-clients, from a
/// non-client to clients only; ORIGINATOR_ID set, CLUSTER_ID prepended.
#[test]
fn route_reflection_rules() {
    let mut r = router(AS, "192.0.2.1");
    let c1 = up(&mut r, client("10.0.0.1"), "10.0.0.1");
    let c2 = up(&mut r, client("10.0.0.2"), "10.0.0.2");
    let n1 = up(&mut r, ibgp("10.0.1.1"), "10.0.1.1");
    let n2 = up(&mut r, ibgp("10.0.1.2"), "10.0.1.2");
    let from_client = v4("203.0.113.0/24");
    let from_non_client = v4("203.0.114.0/24");
    r.handle_update(
        c1,
        &[],
        &[(0, from_client)],
        Some(attrs(&[], "10.0.0.1")),
        T0,
    )
    .unwrap();
    r.handle_update(
        n1,
        &[],
        &[(0, from_non_client)],
        Some(attrs(&[], "10.0.1.1")),
        T0,
    )
    .unwrap();
    let mut t = vec![Table::default(); 4];
    let ps = [c1, c2, n1, n2];
    settle(&mut r, T0, &ps, &mut t);
    // From client c1: to c2, n1, n2, not back to c1.
    assert!(t[0].get(from_client).is_none());
    for table in &t[1..] {
        let a = table.get(from_client).expect("reflected");
        assert_eq!(a.originator_id, Some(ip("10.0.0.1")));
        assert_eq!(a.cluster_list, vec![ip("192.0.2.1")]);
        assert_eq!(a.next_hop, Some(NextHop::V4(ip("10.0.0.1"))));
    }
    // From non-client n1: to clients only.
    assert!(t[0].get(from_non_client).is_some());
    assert!(t[1].get(from_non_client).is_some());
    assert!(t[2].get(from_non_client).is_none());
    assert!(t[3].get(from_non_client).is_none());
    assert_eq!(
        t[0].get(from_non_client).unwrap().originator_id,
        Some(ip("10.0.1.1"))
    );
}

fn ibgp(addr: &str) -> PeerConfig {
    peer(addr, AS)
}

/// RFC 4456 §8: a route whose ORIGINATOR_ID is our router ID, or whose
/// CLUSTER_LIST holds our CLUSTER_ID, is a loop and is not installed; RFC 4271
/// §9.1.2: neither is one with our AS in its AS_PATH; enforce-first-AS.
#[test]
fn loop_detection_on_import() {
    let mut cfg = RouterConfig::new(AS, ip("192.0.2.1"));
    cfg.cluster_id = Some(ip("192.0.2.100"));
    let mut r = Router::new(cfg);
    let a = up(&mut r, ibgp("10.0.0.1"), "10.0.0.1");
    let mut e_cfg = ebgp("172.16.0.1", 65001);
    e_cfg.enforce_first_as = true;
    let e = up(&mut r, e_cfg, "172.16.0.1");
    let p = v4("203.0.113.0/24");
    let mut own_originator = attrs(&[], "10.0.0.1");
    own_originator.originator_id = Some(ip("192.0.2.1"));
    let mut own_cluster = attrs(&[], "10.0.0.1");
    own_cluster.cluster_list = vec![ip("10.9.9.9"), ip("192.0.2.100")];
    let own_as = attrs(&[65001, AS, 65002], "172.16.0.1");
    let wrong_first = attrs(&[65005], "172.16.0.1");
    for (peer, a_) in [
        (a, own_originator),
        (a, own_cluster),
        (e, own_as),
        (e, wrong_first),
    ] {
        r.handle_update(peer, &[], &[(0, p)], Some(a_), T0).unwrap();
        r.handle_timeout(T0);
        assert!(r.best(&p).is_none());
    }
    assert_eq!(r.stats().rejected_paths, 4);
    // A clean route is taken, and a looped re-announcement withdraws it.
    r.handle_update(e, &[], &[(0, p)], Some(attrs(&[65001], "172.16.0.1")), T0)
        .unwrap();
    r.handle_timeout(T0);
    assert!(r.best(&p).is_some());
    r.handle_update(
        e,
        &[],
        &[(0, p)],
        Some(attrs(&[65001, AS], "172.16.0.1")),
        T0,
    )
    .unwrap();
    r.handle_timeout(T0);
    assert!(r.best(&p).is_none());
}

/// RFC 7947 §2.2: a route server passes routes between its clients with no AS of
/// its own, and the NEXT_HOP and MED unchanged.
#[test]
fn route_server_mode() {
    let mut r = router(64999, "192.0.2.1");
    let rs = |addr: &str, asn: u32| {
        let mut c = ebgp(addr, asn);
        c.route_server_client = true;
        c
    };
    let e1 = up(&mut r, rs("172.16.0.1", 65001), "172.16.0.1");
    let e2 = up(&mut r, rs("172.16.0.2", 65002), "172.16.0.2");
    let mut at = attrs(&[65001], "172.16.0.1");
    at.med = Some(50);
    r.handle_update(e1, &[], &[(0, v4("198.51.100.0/24"))], Some(at), T0)
        .unwrap();
    let mut t = vec![Table::default(); 2];
    settle(&mut r, T0, &[e1, e2], &mut t);
    let got = t[1].get(v4("198.51.100.0/24")).unwrap();
    assert_eq!(got.as_path, AsPath::sequence(&[65001]));
    assert_eq!(got.next_hop, Some(NextHop::V4(ip("172.16.0.1"))));
    assert_eq!(got.med, Some(50));
    assert!(t[0].routes.is_empty());
}

fn add_path_session(id: &str) -> SessionParams {
    let mut s = SessionParams::ipv4(ip(id));
    s.ipv4 = FamilyParams {
        enabled: true,
        add_path_receive: true,
        add_path_send: true,
    };
    s
}

/// RFC 7911: with ADD-PATH "all" a client gets every path, each with its own path
/// identifier; with "best 2" the two best in decision order; a withdrawn path is
/// withdrawn by its identifier.
#[test]
fn add_path_all_and_best_n() {
    let mut r = router(AS, "192.0.2.1");
    let mut all_cfg = client("10.0.9.1");
    all_cfg.add_path_send = AddPathSend::All;
    let mut best2_cfg = client("10.0.9.2");
    best2_cfg.add_path_send = AddPathSend::BestN(2);
    let all = r.add_peer(all_cfg);
    r.handle_session_up(all, add_path_session("10.0.9.1"), T0);
    let best2 = r.add_peer(best2_cfg);
    r.handle_session_up(best2, add_path_session("10.0.9.2"), T0);
    let plain = up(&mut r, client("10.0.9.3"), "10.0.9.3");
    let srcs: Vec<PeerId> = (1..=3)
        .map(|i| {
            up(
                &mut r,
                client(&format!("10.0.0.{i}")),
                &format!("10.0.0.{i}"),
            )
        })
        .collect();
    let p = v4("203.0.113.0/24");
    for (i, s) in srcs.iter().enumerate() {
        let mut a = attrs(&[], &format!("10.0.0.{}", i + 1));
        a.local_pref = Some(100 + i as u32 * 10); // source 3 best, then 2, then 1
        r.handle_update(*s, &[], &[(0, p)], Some(a), T0).unwrap();
    }
    let mut t = vec![Table::default(); 3];
    settle(&mut r, T0, &[all, best2, plain], &mut t);
    assert_ne!(r.group_of(all), r.group_of(best2));
    assert_ne!(r.group_of(all), r.group_of(plain));
    assert_eq!(t[0].paths(p).len(), 3);
    let mut ids: Vec<u32> = t[0].routes.keys().map(|k| k.1).collect();
    ids.sort();
    assert_eq!(ids, vec![1, 2, 3]);
    let lp: Vec<u32> = t[1]
        .paths(p)
        .iter()
        .map(|a| a.local_pref.unwrap())
        .collect();
    assert_eq!(lp.len(), 2);
    assert!(lp.contains(&120) && lp.contains(&110));
    assert_eq!(t[2].paths(p).len(), 1);
    assert_eq!(t[2].get(p).unwrap().local_pref, Some(120));
    // Withdraw the best: "all" loses one path, "best 2" moves to the next two.
    r.handle_update(srcs[2], &[(0, p)], &[], None, T0).unwrap();
    settle(&mut r, T0, &[all, best2, plain], &mut t);
    assert_eq!(t[0].paths(p).len(), 2);
    let lp: Vec<u32> = t[1]
        .paths(p)
        .iter()
        .map(|a| a.local_pref.unwrap())
        .collect();
    assert_eq!(lp.len(), 2);
    assert!(lp.contains(&110) && lp.contains(&100), "{lp:?}");
    assert_eq!(t[2].get(p).unwrap().local_pref, Some(110));
}

/// RFC 6793 §4.2.2: a peer without the 4-octet AS capability gets AS_TRANS in
/// AS_PATH for each 4-octet AS, and the real path in AS4_PATH.
#[test]
fn two_octet_peer_gets_as_path_and_as4_path() {
    let mut r = router(4_200_000_000, "192.0.2.1");
    let e4 = up(&mut r, ebgp("172.16.0.1", 4_200_000_001), "172.16.0.1");
    let old = r.add_peer(ebgp("172.16.0.2", 65002));
    let mut s = SessionParams::ipv4(ip("172.16.0.2"));
    s.four_octet_as = false;
    r.handle_session_up(old, s, T0);
    r.handle_update(
        e4,
        &[],
        &[(0, v4("198.51.100.0/24"))],
        Some(attrs(&[4_200_000_001, 65010], "172.16.0.1")),
        T0,
    )
    .unwrap();
    r.handle_timeout(T0);
    let msgs = drain(&mut r, old);
    let update = msgs
        .iter()
        .flat_map(|m| m.updates().zip(&m.content))
        .find(|(_, c)| matches!(c, nexthop_router::group::Content::Ipv4(u) if !u.announced.is_empty()))
        .map(|(bytes, _)| bytes)
        .expect("an UPDATE");
    let found = path_attributes_of(update).unwrap();
    let as_path = found.iter().find(|a| a.1 == 2).unwrap();
    let t = (AS_TRANS as u16).to_be_bytes();
    let last = 65010u16.to_be_bytes();
    assert_eq!(as_path.2, &[2, 3, t[0], t[1], t[0], t[1], last[0], last[1]]);
    let as4 = found.iter().find(|a| a.1 == 17).expect("AS4_PATH");
    let mut expected = vec![2, 3];
    for asn in [4_200_000_000u32, 4_200_000_001, 65010] {
        expected.extend_from_slice(&asn.to_be_bytes());
    }
    assert_eq!(as4.2, &expected[..]);
    // Merged back as RFC 6793 §4.2.3 says, it is the real path.
    let two = AsPath::sequence(&[AS_TRANS, AS_TRANS, 65010]);
    let four = AsPath::sequence(&[4_200_000_000, 4_200_000_001, 65010]);
    assert_eq!(two.merge_as4(&four), four);
}

/// Consecutive UPDATEs for the same members go out as runs of at most
/// COALESCE_BYTES (whole UPDATEs back to back), with or without Extended
/// Messages (RFC 8654) on the session.
#[test]
fn updates_go_out_in_runs_of_whole_messages() {
    use nexthop_router::group::COALESCE_BYTES;
    for max_message_len in [4096, 65535] {
        let mut r = router(AS, "192.0.2.1");
        let src = up(&mut r, ebgp("172.16.0.9", 65009), "172.16.0.9");
        let dst = r.add_peer(ebgp("172.16.0.1", 65001));
        r.handle_session_up(
            dst,
            SessionParams {
                max_message_len,
                ..SessionParams::ipv4(ip("172.16.0.1"))
            },
            T0,
        );
        r.handle_timeout(T0);
        drain(&mut r, dst);
        drain(&mut r, src);
        // 3000 prefixes, each with its own AS_PATH: one UPDATE each, ~150 KB.
        for i in 0..3000u32 {
            r.handle_update(
                src,
                &[],
                &[(0, nth(i))],
                Some(attrs(
                    &[65009, 4_200_000_000 + (i % 1000), 100_000 + i],
                    "172.16.0.9",
                )),
                T0,
            )
            .unwrap();
        }
        r.handle_timeout(T0);
        let msgs = drain(&mut r, dst);
        let updates: usize = msgs.iter().map(|m| m.updates().count()).sum();
        assert_eq!(updates, 3000, "max_message_len {max_message_len}");
        for m in &msgs {
            let total: usize = m.updates().map(<[u8]>::len).sum();
            assert_eq!(total, m.bytes.len(), "whole UPDATEs back to back");
            assert!(m.updates().all(|u| u[18] == 2));
            assert!(
                m.bytes.len() <= COALESCE_BYTES || m.updates().count() == 1,
                "a run past COALESCE_BYTES: {}",
                m.bytes.len()
            );
        }
        let kept: usize = msgs.iter().map(|m| m.content.len()).sum();
        assert_eq!(kept, 3000, "one content per UPDATE");
        assert!(
            msgs.len() <= 4,
            "{} messages for 3000 UPDATEs (max_message_len {max_message_len})",
            msgs.len()
        );
    }
}

/// Peers with the same kind and policy share a group: one encoding, the same bytes.
#[test]
fn update_group_members_share_encoded_bytes() {
    let mut r = router(AS, "192.0.2.1");
    let src = up(&mut r, ebgp("172.16.0.9", 65009), "172.16.0.9");
    let a = up(&mut r, ebgp("172.16.0.1", 65001), "172.16.0.1");
    let b = up(&mut r, ebgp("172.16.0.2", 65002), "172.16.0.2");
    assert_eq!(r.group_of(a), r.group_of(b));
    r.handle_timeout(T0);
    drain(&mut r, a);
    drain(&mut r, b);
    drain(&mut r, src);
    let before = r.stats().encoded_messages;
    let prefixes: Vec<_> = (0..2000).map(|i| (0, nth(i))).collect();
    r.handle_update(src, &[], &prefixes, Some(attrs(&[65009], "172.16.0.9")), T0)
        .unwrap();
    r.handle_timeout(T0);
    let ma = drain(&mut r, a);
    let mb = drain(&mut r, b);
    assert_eq!(ma.len(), mb.len());
    assert!(
        ma.iter()
            .zip(&mb)
            .all(|(x, y)| std::sync::Arc::ptr_eq(x, y))
    );
    let updates: Vec<&[u8]> = ma.iter().flat_map(|m| m.updates()).collect();
    assert!(
        updates.len() >= 2,
        "2000 prefixes need more than one 4096-byte UPDATE"
    );
    assert!(updates.iter().all(|u| u.len() <= 4096));
    assert_eq!(
        updates.iter().map(|u| u.len()).sum::<usize>(),
        ma.iter().map(|m| m.bytes.len()).sum::<usize>(),
        "each message is whole UPDATEs back to back"
    );
    assert!(
        ma.len() < updates.len(),
        "consecutive UPDATEs for the same members share one message"
    );
    let total: usize = ma
        .iter()
        .flat_map(|m| &m.content)
        .map(|c| match c {
            nexthop_router::group::Content::Ipv4(u) => u.announced.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(total, 2000);
    assert_eq!(
        r.stats().encoded_messages - before,
        updates.len() as u64,
        "encoded once"
    );
    // A different export policy makes a different group.
    let mut c_cfg = ebgp("172.16.0.3", 65003);
    c_cfg.export = nexthop_router::policy::NeighborPolicy {
        med: Some(10),
        ..Default::default()
    }
    .compile()
    .1;
    let c = up(&mut r, c_cfg, "172.16.0.3");
    assert_ne!(r.group_of(a), r.group_of(c));
    assert_eq!(r.group_count(), 2);
}

/// MRAI: changes within the interval are batched into one flush.
#[test]
fn mrai_batches_changes() {
    let mut r = router(AS, "192.0.2.1");
    let src = up(&mut r, ebgp("172.16.0.9", 65009), "172.16.0.9");
    let mut cfg = ebgp("172.16.0.1", 65001);
    cfg.mrai = Some(nexthop_router::time::Duration::from_secs(30));
    let a = up(&mut r, cfg, "172.16.0.1");
    let mut t = vec![Table::default()];
    settle(&mut r, T0, &[a], &mut t);
    drain(&mut r, src);
    let p = v4("198.51.100.0/24");
    // First change after a quiet period: sent at once (the last flush was at T0,
    // so the MRAI runs to T0+30 s).
    let t1 = Instant::from_millis(31_000);
    r.handle_update(src, &[], &[(0, p)], Some(attrs(&[65009], "172.16.0.9")), t1)
        .unwrap();
    settle(&mut r, t1, &[a], &mut t);
    assert!(t[0].get(p).is_some());
    // A flap storm within the interval: nothing until the MRAI expires.
    for i in 0..50u32 {
        let now = Instant::from_millis(32_000 + u64::from(i) * 10);
        r.handle_update(src, &[(0, p)], &[], None, now).unwrap();
        r.handle_update(
            src,
            &[],
            &[(0, p)],
            Some(attrs(&[65009, i], "172.16.0.9")),
            now,
        )
        .unwrap();
        settle(&mut r, now, &[a], &mut t);
    }
    let sent = t[0].messages;
    assert_eq!(r.poll_timeout(), Some(Instant::from_millis(61_000)));
    settle(&mut r, Instant::from_millis(61_000), &[a], &mut t);
    assert_eq!(t[0].messages, sent + 1, "one UPDATE for the whole storm");
    assert_eq!(
        t[0].get(p).unwrap().as_path,
        AsPath::sequence(&[AS, 65009, 49])
    );
}

/// Withdrawals propagate, and a peer's routes are withdrawn when its session goes
/// down.
#[test]
fn withdrawals_and_peer_flush_propagate() {
    let mut r = router(AS, "192.0.2.1");
    let src = up(&mut r, ebgp("172.16.0.9", 65009), "172.16.0.9");
    let a = up(&mut r, ibgp("10.0.0.1"), "10.0.0.1");
    let prefixes: Vec<_> = (0..100).map(|i| (0, nth(i))).collect();
    r.handle_update(src, &[], &prefixes, Some(attrs(&[65009], "172.16.0.9")), T0)
        .unwrap();
    let mut t = vec![Table::default()];
    settle(&mut r, T0, &[a], &mut t);
    assert_eq!(t[0].routes.len(), 100);
    r.handle_update(src, &prefixes[..10], &[], None, T0)
        .unwrap();
    settle(&mut r, T0, &[a], &mut t);
    assert_eq!(t[0].routes.len(), 90);
    assert_eq!(r.prefix_count(src), 90);
    r.handle_session_down(src, T0);
    settle(&mut r, T0, &[a], &mut t);
    assert!(t[0].routes.is_empty());
    assert!(r.rib::<nexthop_router::prefix::Ipv4Prefix>().is_empty());
    r.sweep();
    assert_eq!(r.attribute_sets(), 0, "every attribute set freed");
    assert_eq!(
        r.handle_update(src, &[], &prefixes, Some(attrs(&[65009], "172.16.0.9")), T0),
        Err(ImportError::NotEstablished)
    );
}

/// Treat-as-withdraw (RFC 7606 §2) removes the prefixes' earlier routes.
#[test]
fn treat_as_withdraw() {
    let mut r = router(AS, "192.0.2.1");
    let src = up(&mut r, ebgp("172.16.0.9", 65009), "172.16.0.9");
    let p = v4("198.51.100.0/24");
    r.handle_update(src, &[], &[(0, p)], Some(attrs(&[65009], "172.16.0.9")), T0)
        .unwrap();
    r.handle_timeout(T0);
    assert!(r.best(&p).is_some());
    r.handle_treat_as_withdraw(src, &[(0, p)], T0).unwrap();
    r.handle_timeout(T0);
    assert!(r.best(&p).is_none());
}

/// RFC 1997: NO_EXPORT stays inside the AS.
#[test]
fn no_export_community() {
    let mut r = router(AS, "192.0.2.1");
    let src = up(&mut r, ebgp("172.16.0.9", 65009), "172.16.0.9");
    let i = up(&mut r, ibgp("10.0.0.1"), "10.0.0.1");
    let e = up(&mut r, ebgp("172.16.0.1", 65001), "172.16.0.1");
    let mut a = attrs(&[65009], "172.16.0.9");
    a.communities = vec![Community::NO_EXPORT];
    r.handle_update(src, &[], &[(0, v4("198.51.100.0/24"))], Some(a), T0)
        .unwrap();
    let mut t = vec![Table::default(); 2];
    settle(&mut r, T0, &[i, e], &mut t);
    assert_eq!(t[0].routes.len(), 1);
    assert!(t[1].routes.is_empty());
}

/// The router's locally originated routes go everywhere: to iBGP with our next
/// hop when none is given, to eBGP with our AS.
#[test]
fn originated_routes() {
    let mut r = router(AS, "192.0.2.1");
    let mut icfg = ibgp("10.0.0.1");
    icfg.local_v4 = Some(ip("10.0.0.254"));
    let i = up(&mut r, icfg, "10.0.0.1");
    let e = up(&mut r, ebgp("172.16.0.1", 65001), "172.16.0.1");
    let p = v4("198.51.100.0/24");
    r.originate(p, Default::default(), T0);
    let mut t = vec![Table::default(); 2];
    settle(&mut r, T0, &[i, e], &mut t);
    assert_eq!(
        t[0].get(p).unwrap().next_hop,
        Some(NextHop::V4(Ipv4Addr::new(10, 0, 0, 254)))
    );
    assert_eq!(t[1].get(p).unwrap().as_path, AsPath::sequence(&[AS]));
    r.withdraw_originated(p, T0);
    settle(&mut r, T0, &[i, e], &mut t);
    assert!(t[0].routes.is_empty() && t[1].routes.is_empty());
}

/// IPv6 unicast (RFC 4760, RFC 2545): MP_REACH_NLRI with the next hop rewritten to
/// ours towards eBGP and left alone (global and link-local) towards iBGP.
#[test]
fn ipv6_routes_flow_with_mp_reach() {
    use nexthop_router::prefix::Ipv6Prefix;
    let mut r = router(AS, "192.0.2.1");
    let v6 = |id: &str| {
        let mut s = SessionParams::ipv4(ip(id));
        s.ipv6 = FamilyParams {
            enabled: true,
            ..Default::default()
        };
        s
    };
    let mut src_cfg = ebgp("172.16.0.9", 65009);
    src_cfg.local_v6 = Some("2001:db8::1".parse().unwrap());
    let src = r.add_peer(src_cfg);
    r.handle_session_up(src, v6("172.16.0.9"), T0);
    let mut e_cfg = ebgp("172.16.0.1", 65001);
    e_cfg.local_v6 = Some("2001:db8::1".parse().unwrap());
    let e = r.add_peer(e_cfg);
    r.handle_session_up(e, v6("172.16.0.1"), T0);
    let i = r.add_peer(peer("10.0.0.1", AS));
    r.handle_session_up(i, v6("10.0.0.1"), T0);
    let p: Ipv6Prefix = "2001:db8:100::/48".parse().unwrap();
    let nh = NextHop::V6 {
        global: "2001:db8:9::9".parse().unwrap(),
        link_local: Some("fe80::9".parse().unwrap()),
    };
    let a = nexthop_router::attributes::Attributes {
        as_path: AsPath::sequence(&[65009]),
        next_hop: Some(nh),
        ..Default::default()
    };
    r.handle_update(src, &[], &[(0, p)], Some(a), T0).unwrap();
    let mut t = vec![Table::default(); 2];
    settle(&mut r, T0, &[e, i], &mut t);
    let key = (nexthop_router::prefix::IpPrefix::V6(p), 0);
    let to_e = &t[0].routes[&key];
    assert_eq!(
        to_e.next_hop,
        Some(NextHop::V6 {
            global: "2001:db8::1".parse().unwrap(),
            link_local: None
        })
    );
    assert_eq!(t[1].routes[&key].next_hop, Some(nh));
    assert_eq!(t[0].end_of_rib, 2, "End-of-RIB for both families");
    // A route refresh re-sends the table.
    r.handle_route_refresh(e, T0);
    let again = drain(&mut r, e);
    assert!(again.iter().flat_map(|m| &m.content).any(|c| matches!(c,
        nexthop_router::group::Content::Ipv6(u) if u.announced == vec![(0, p)])));
    let bytes = &again[0].bytes;
    assert_eq!(
        path_attributes_of(bytes).unwrap()[0].1,
        14,
        "MP_REACH_NLRI first"
    );
}

/// RFC 4271 §9.1.2: a path whose NEXT_HOP is unresolvable (the IGP-cost hook says
/// so) is left out of the decision, and comes back when the IGP changes.
#[test]
fn unresolvable_next_hop_is_left_out() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let mut r = router(AS, "192.0.2.1");
    let reachable = Arc::new(AtomicBool::new(false));
    let flag = reachable.clone();
    r.set_igp_cost(Box::new(move |nh| {
        (*nh != NextHop::V4(ip("10.9.9.9")) || flag.load(Ordering::Relaxed)).then_some(1)
    }));
    let a = up(&mut r, ibgp("10.0.0.1"), "10.0.0.1");
    let b = up(&mut r, ibgp("10.0.0.2"), "10.0.0.2");
    let e = up(&mut r, ebgp("172.16.0.1", 65001), "172.16.0.1");
    let p = v4("203.0.113.0/24");
    let q = v4("203.0.114.0/24");
    let mut better = attrs(&[65010], "10.9.9.9");
    better.local_pref = Some(500);
    r.handle_update(a, &[], &[(0, p), (0, q)], Some(better), T0)
        .unwrap();
    r.handle_update(b, &[], &[(0, p)], Some(attrs(&[65010], "10.0.0.2")), T0)
        .unwrap();
    let mut t = vec![Table::default()];
    settle(&mut r, T0, &[e], &mut t);
    assert_eq!(
        r.best(&p).unwrap().0.peer,
        b,
        "the better path is unresolvable"
    );
    assert!(r.best(&q).is_none(), "its only path is unresolvable");
    assert!(t[0].get(q).is_none());
    reachable.store(true, Ordering::Relaxed);
    r.handle_igp_change(T0);
    settle(&mut r, T0, &[e], &mut t);
    assert_eq!(r.best(&p).unwrap().0.peer, a);
    assert!(t[0].get(q).is_some());
}

/// Loc-RIB changes are reported as a batch of prefixes, each once per decision.
#[test]
fn loc_rib_changes_are_reported_in_batches() {
    let mut cfg = RouterConfig::new(AS, ip("192.0.2.1"));
    cfg.report_loc_rib = true;
    let mut r = Router::new(cfg);
    let a = up(&mut r, ibgp("10.0.0.1"), "10.0.0.1");
    let b = up(&mut r, ibgp("10.0.0.2"), "10.0.0.2");
    let p = v4("203.0.113.0/24");
    r.handle_update(a, &[], &[(0, p)], Some(attrs(&[65010], "10.0.0.1")), T0)
        .unwrap();
    r.handle_update(b, &[], &[(0, p)], Some(attrs(&[65010, 1], "10.0.0.2")), T0)
        .unwrap();
    r.handle_timeout(T0);
    assert_eq!(r.take_loc_rib_changes(), vec![p.into()]);
    // A worse path going changes nothing in the Loc-RIB.
    r.handle_update(b, &[(0, p)], &[], None, T0).unwrap();
    r.handle_timeout(T0);
    assert!(r.take_loc_rib_changes().is_empty());
    r.handle_update(a, &[(0, p)], &[], None, T0).unwrap();
    r.handle_timeout(T0);
    assert_eq!(r.take_loc_rib_changes(), vec![p.into()]);
    assert!(r.best(&p).is_none());
}

/// Next hop self comes from the session's local address when the neighbour's
/// configuration names none.
#[test]
fn next_hop_self_from_the_session_address() {
    let mut r = router(AS, "192.0.2.1");
    let src = up(&mut r, ebgp("172.16.0.9", 65009), "172.16.0.9");
    let e = r.add_peer(peer("172.16.0.1", 65001));
    let mut s = SessionParams::ipv4(ip("172.16.0.1"));
    s.local_address = Some(std::net::IpAddr::V4(ip("172.16.0.254")));
    r.handle_session_up(e, s, T0);
    let p = v4("198.51.100.0/24");
    r.handle_update(src, &[], &[(0, p)], Some(attrs(&[65009], "172.16.0.9")), T0)
        .unwrap();
    let mut t = vec![Table::default()];
    settle(&mut r, T0, &[e], &mut t);
    assert_eq!(
        t[0].get(p).unwrap().next_hop,
        Some(NextHop::V4(ip("172.16.0.254")))
    );
}
