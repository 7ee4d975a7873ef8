//! A network in one process, in virtual time, with no sockets: one route
//! reflector, 100 clients and 3 non-clients (fully meshed with each other and the
//! reflector, RFC 4456 §5), every speaker a `Router`. Each speaker originates a
//! share of the prefixes; afterwards every speaker's tables must hold what RFC 4456
//! §6 and §8 say, and withdrawals must reach everyone. An external peer without the
//! 4-octet AS capability hangs off the reflector: it must see our 4-octet AS as
//! AS_TRANS plus AS4_PATH (merged back on receipt, RFC 6793), and its routes must
//! reach every speaker.

mod common;
use common::*;

use std::net::Ipv4Addr;

use nexthop_router::as_path::AsPath;
use nexthop_router::attributes::{Attributes, NextHop};
use nexthop_router::peer::{AddPathSend, FamilyParams, PeerConfig, SessionParams};
use nexthop_router::policy::{Policy, Verdict};
use nexthop_router::prefix::Ipv4Prefix;
use nexthop_router::rib::PeerId;
use nexthop_router::router::{Router, RouterConfig};

/// A 4-octet AS, so that the 2-octet-AS external peer needs AS4_PATH.
const AS: u32 = 4_200_000_000;
const RR_ID: Ipv4Addr = Ipv4Addr::new(10, 255, 0, 1);
/// The external peer (AS 65100, without the 4-octet AS capability).
const EXT_AS: u32 = 65100;
const EXT_ID: Ipv4Addr = Ipv4Addr::new(172, 16, 0, 1);
/// Prefixes the external peer originates.
const EXT_PREFIXES: u32 = 100;

fn ext_prefix(i: u32) -> Ipv4Prefix {
    Ipv4Prefix::new(Ipv4Addr::new(172, 20, i as u8, 0), 24).unwrap()
}

fn speaker_id(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 + 1 + i as u32)
}

fn ibgp(id: Ipv4Addr) -> PeerConfig {
    peer(&id.to_string(), AS)
}

struct Topology {
    net: Net,
    rr: usize,
    clients: Vec<usize>,
    non_clients: Vec<usize>,
    /// The reflector's peer id for each speaker (clients, then non-clients).
    rr_peer: Vec<PeerId>,
    /// Each speaker's peer id for the reflector.
    to_rr: Vec<PeerId>,
}

fn session(add_path: bool) -> impl Fn(Ipv4Addr) -> SessionParams {
    move |id| {
        let mut s = SessionParams::ipv4(id);
        s.ipv4 = FamilyParams {
            enabled: true,
            add_path_receive: add_path,
            add_path_send: add_path,
        };
        s
    }
}

fn build(clients: usize, non_clients: usize, client_add_path: bool) -> Topology {
    let mut net = Net::new();
    let rr = net.add(Router::new(RouterConfig::new(AS, RR_ID)));
    let mut t = Topology {
        net,
        rr,
        clients: Vec::new(),
        non_clients: Vec::new(),
        rr_peer: Vec::new(),
        to_rr: Vec::new(),
    };
    for i in 0..clients + non_clients {
        let id = speaker_id(i);
        let s = t.net.add(Router::new(RouterConfig::new(AS, id)));
        let mut at_rr = ibgp(id);
        let client = i < clients;
        at_rr.route_reflector_client = client;
        if client && client_add_path {
            at_rr.add_path_send = AddPathSend::All;
        }
        let (a, b) = t.net.link(
            rr,
            at_rr,
            s,
            ibgp(RR_ID),
            session(client && client_add_path),
        );
        t.rr_peer.push(a.peer);
        t.to_rr.push(b.peer);
        if client {
            t.clients.push(s);
        } else {
            t.non_clients.push(s);
        }
    }
    // Non-clients fully meshed.
    for (x, &a) in t.non_clients.iter().enumerate() {
        for &b in &t.non_clients[x + 1..] {
            let ida = t.net.routers[a].config().router_id;
            let idb = t.net.routers[b].config().router_id;
            t.net.link(a, ibgp(idb), b, ibgp(ida), session(false));
        }
    }
    t
}

fn originate(net: &mut Net, speaker: usize, p: Ipv4Prefix) {
    let id = net.routers[speaker].config().router_id;
    let a = Attributes {
        next_hop: Some(NextHop::V4(id)),
        ..Default::default()
    };
    let now = net.now;
    net.routers[speaker].originate(p, a, now);
}

/// Speaker index (into clients ++ non-clients) originating prefix `i`.
fn origin(i: u32, speakers: usize) -> usize {
    i as usize % speakers
}

/// RFC 4456 §6/§8: what `speaker` must hold for a prefix originated by `o`.
fn check_speaker(
    t: &Topology,
    n_clients: usize,
    speaker: usize,
    prefixes: u32,
    gone: &dyn Fn(u32) -> bool,
) {
    let node = t
        .clients
        .iter()
        .chain(&t.non_clients)
        .copied()
        .nth(speaker)
        .unwrap();
    let r = &t.net.routers[node];
    let rib = r.rib::<Ipv4Prefix>();
    let speakers = t.clients.len() + t.non_clients.len();
    let me_client = speaker < n_clients;
    let mut expected_len = 0;
    for i in 0..prefixes {
        let p = nth(i);
        let paths = rib.paths(&p);
        if gone(i) {
            assert!(
                paths.is_empty(),
                "speaker {speaker}: withdrawn {p} still held"
            );
            continue;
        }
        expected_len += 1;
        let o = origin(i, speakers);
        let o_id = speaker_id(o);
        assert!(r.best(&p).is_some(), "speaker {speaker}: no best for {p}");
        if o == speaker {
            assert_eq!(paths.len(), 1, "own prefix {p}: only the local path");
            assert_eq!(paths[0].peer, PeerId::LOCAL);
            continue;
        }
        let o_client = o < n_clients;
        if !me_client && !o_client {
            // Non-client to non-client: directly over the full mesh, never reflected.
            assert_eq!(paths.len(), 1, "speaker {speaker} {p}: {paths:?}");
            assert_eq!(paths[0].attrs.originator_id, None);
            assert!(paths[0].attrs.cluster_list.is_empty());
            continue;
        }
        // Everything else arrives reflected, once, from the reflector.
        assert_eq!(paths.len(), 1, "speaker {speaker} {p}: {paths:?}");
        assert_eq!(paths[0].peer, t.to_rr[speaker]);
        assert_eq!(paths[0].attrs.originator_id, Some(o_id), "{p}");
        assert_eq!(paths[0].attrs.cluster_list, vec![RR_ID]);
        assert_eq!(paths[0].attrs.next_hop, Some(NextHop::V4(o_id)));
        assert_eq!(paths[0].attrs.local_pref, Some(100));
    }
    for i in 0..EXT_PREFIXES {
        let paths = rib.paths(&ext_prefix(i));
        assert_eq!(paths.len(), 1, "speaker {speaker}: external {i}");
        assert_eq!(paths[0].peer, t.to_rr[speaker]);
        assert_eq!(paths[0].attrs.as_path, AsPath::sequence(&[EXT_AS]));
        assert_eq!(paths[0].attrs.originator_id, None, "not a reflection");
        assert_eq!(paths[0].attrs.next_hop, Some(NextHop::V4(EXT_ID)));
        assert_eq!(paths[0].attrs.local_pref, Some(100));
    }
    assert_eq!(
        rib.len(),
        expected_len + EXT_PREFIXES as usize,
        "speaker {speaker}: nothing extra"
    );
}

/// What the external peer holds: every internal prefix still announced, from
/// the reflector, with our AS (merged from AS_TRANS and AS4_PATH) and next hop.
fn check_external(net: &Net, ext: usize, prefixes: u32, gone: &dyn Fn(u32) -> bool) {
    let rib = net.routers[ext].rib::<Ipv4Prefix>();
    let mut held = 0;
    for i in 0..prefixes {
        let paths = rib.paths(&nth(i));
        if gone(i) {
            assert!(paths.is_empty());
            continue;
        }
        held += 1;
        assert_eq!(paths.len(), 1);
        assert_eq!(paths[0].attrs.as_path, AsPath::sequence(&[AS]));
        assert_eq!(paths[0].attrs.next_hop, Some(NextHop::V4(RR_ID)));
        assert_eq!(paths[0].attrs.local_pref, None);
    }
    assert_eq!(rib.len(), held + EXT_PREFIXES as usize);
}

fn run_reflector_network(n_clients: usize, n_non_clients: usize, prefixes: u32) {
    let mut t = build(n_clients, n_non_clients, false);
    let speakers = n_clients + n_non_clients;
    let nodes: Vec<usize> = t.clients.iter().chain(&t.non_clients).copied().collect();
    let ext = t.net.add(Router::new(RouterConfig::new(EXT_AS, EXT_ID)));
    let mut at_rr = peer(&EXT_ID.to_string(), EXT_AS);
    at_rr.local_v4 = Some(RR_ID);
    let two_octet = |id| SessionParams {
        four_octet_as: false,
        ..SessionParams::ipv4(id)
    };
    t.net.link(t.rr, at_rr, ext, ibgp(RR_ID), two_octet);
    for i in 0..prefixes {
        originate(&mut t.net, nodes[origin(i, speakers)], nth(i));
    }
    for i in 0..EXT_PREFIXES {
        originate(&mut t.net, ext, ext_prefix(i));
    }
    t.net.run();
    // The reflector holds one path per prefix, from its originator.
    let rr_rib = t.net.routers[t.rr].rib::<Ipv4Prefix>();
    let all = (prefixes + EXT_PREFIXES) as usize;
    assert_eq!(rr_rib.len(), all);
    assert_eq!(rr_rib.path_count(), all);
    check_external(&t.net, ext, prefixes, &|_| false);
    // The clients form one update group: one encoding for all of them.
    let g = t.net.routers[t.rr].group_of(t.rr_peer[0]);
    assert!(
        t.rr_peer[..n_clients]
            .iter()
            .all(|&p| t.net.routers[t.rr].group_of(p) == g)
    );
    for s in 0..speakers {
        check_speaker(&t, n_clients, s, prefixes, &|_| false);
    }
    // Every 10th prefix is withdrawn by its originator.
    let now = t.net.now;
    for i in (0..prefixes).step_by(10) {
        t.net.routers[nodes[origin(i, speakers)]].withdraw_originated(nth(i), now);
    }
    t.net.run();
    let gone = |i: u32| i.is_multiple_of(10);
    for s in 0..speakers {
        check_speaker(&t, n_clients, s, prefixes, &gone);
    }
    check_external(&t.net, ext, prefixes, &gone);
    // A client goes down: its prefixes are gone everywhere else.
    let dead = 0;
    let now = t.net.now;
    t.net.routers[t.rr].handle_session_down(t.rr_peer[dead], now);
    t.net.routers[nodes[dead]].handle_session_down(t.to_rr[dead], now);
    t.net
        .links
        .retain(|(a, b)| !(a.router == t.rr && b.router == nodes[dead]));
    t.net.run();
    for &node in &nodes[1..] {
        let rib = t.net.routers[node].rib::<Ipv4Prefix>();
        for i in (0..prefixes).filter(|&i| origin(i, speakers) == dead) {
            assert!(rib.paths(&nth(i)).is_empty());
        }
    }
}

/// 100 clients, 3 non-clients, 10 000 prefixes (debug-build friendly).
#[test]
fn route_reflector_100_clients_3_non_clients() {
    run_reflector_network(100, 3, 10_000);
}

/// The same with 100 000 prefixes: `cargo test --release -p nexthop-router
/// --test simulation -- --ignored`.
#[test]
#[ignore]
fn route_reflector_100_clients_3_non_clients_100k() {
    run_reflector_network(100, 3, 100_000);
}

/// Two reflectors with different cluster IDs serving the same clients (a
/// redundant pair, non-clients of each other): a client's route comes back to it
/// through the other reflector and is rejected by ORIGINATOR_ID (RFC 4456 §8). With
/// ADD-PATH the client sees every other client's path, still never its own.
#[test]
fn client_rejects_its_own_route_by_originator_id() {
    for add_path in [false, true] {
        let mut net = Net::new();
        let rr1_id = Ipv4Addr::new(10, 255, 0, 1);
        let rr2_id = Ipv4Addr::new(10, 255, 0, 2);
        let rr1 = net.add(Router::new(RouterConfig::new(AS, rr1_id)));
        let rr2 = net.add(Router::new(RouterConfig::new(AS, rr2_id)));
        net.link(rr1, ibgp(rr2_id), rr2, ibgp(rr1_id), session(false));
        let mut clients = Vec::new();
        for i in 0..5 {
            let id = speaker_id(i);
            let mut router = Router::new(RouterConfig::new(AS, id));
            // The interior cost to our own next hop is 0, to others' 10, so each
            // anycast origin prefers its own route (RFC 4271 §9.1.2.2 (e)).
            router.set_igp_cost(Box::new(move |nh| {
                Some(u32::from(*nh != NextHop::V4(id)) * 10)
            }));
            let c = net.add(router);
            for (rr, rr_id) in [(rr1, rr1_id), (rr2, rr2_id)] {
                let mut cfg = ibgp(id);
                cfg.route_reflector_client = true;
                if add_path {
                    cfg.add_path_send = AddPathSend::All;
                }
                let mut towards_rr = ibgp(rr_id);
                if i == 0 && rr == rr2 {
                    // Client 0 announces to the first reflector only, so the second
                    // learns its route by reflection and reflects it back to it.
                    towards_rr.export = Policy {
                        rules: Vec::new(),
                        default: Verdict::Reject,
                    };
                }
                net.link(rr, cfg, c, towards_rr, session(add_path));
            }
            clients.push(c);
        }
        // Prefix 0 is originated by clients 0 and 1 (anycast).
        originate(&mut net, clients[0], nth(0));
        originate(&mut net, clients[1], nth(0));
        net.run();
        let c0 = &net.routers[clients[0]];
        assert!(
            c0.stats().rejected_paths > 0,
            "own route came back and was rejected"
        );
        let paths = c0.rib::<Ipv4Prefix>().paths(&nth(0));
        assert!(
            paths
                .iter()
                .all(|p| p.attrs.originator_id != Some(speaker_id(0)))
        );
        // Client 4 hears prefix 0 from both reflectors; with ADD-PATH both origins
        // from each.
        let c4 = net.routers[clients[4]].rib::<Ipv4Prefix>().paths(&nth(0));
        let expected = if add_path { 4 } else { 2 };
        assert_eq!(c4.len(), expected, "add_path={add_path}: {c4:?}");
        let mut origins: Vec<_> = c4.iter().map(|p| p.attrs.originator_id.unwrap()).collect();
        origins.sort();
        origins.dedup();
        let want = if add_path { 2 } else { 1 };
        assert_eq!(origins.len(), want);
    }
}
