//! Many speakers, and a slow one: a network of 50 speakers converges; a peer
//! whose runtime never drains its connection is bounded by the router's output
//! limit and does not hold back the others (it catches up from the
//! Adj-RIB-Out when it reads again).

mod net;

use std::net::IpAddr;

use net::{Net, OUTPUT_BOUND, addr, config, neighbor, neighbor_hold, originate, validated};
use nexthop_speaker::Duration;

#[test]
fn fifty_speakers_converge() {
    // Five ASes, each a reflector with nine clients; the reflectors in an eBGP
    // ring. Every speaker originates one prefix.
    const ASES: usize = 5;
    const PER_AS: usize = 10;
    let mut net = Net::new();
    let node = |a: usize, k: usize| addr(a * PER_AS + k);
    let asn = |a: usize| 65100 + a as u32;
    let prefix = |a: usize, k: usize| format!("10.{}.{}.0/24", 100 + a, k);
    for a in 0..ASES {
        for k in 0..PER_AS {
            let me = node(a, k);
            let mut cfg = config(asn(a), me);
            if k == 0 {
                for c in 1..PER_AS {
                    cfg = cfg.neighbor(neighbor(node(a, c), asn(a)).route_reflector_client(true));
                }
                let (next, previous) = ((a + 1) % ASES, (a + ASES - 1) % ASES);
                cfg = cfg
                    .neighbor(neighbor(node(next, 0), asn(next)))
                    .neighbor(neighbor(node(previous, 0), asn(previous)));
            } else {
                cfg = cfg.neighbor(neighbor(node(a, 0), asn(a)));
            }
            net.add(me, &cfg.originate(originate(&prefix(a, k))));
        }
    }
    let total = ASES * PER_AS;
    assert_eq!(net.nodes.len(), 50);
    // Converged: every speaker's best path to every prefix is the shortest way
    // around the ring, at most two ASes away. (A longer path may be seen first:
    // BGP only promises where it ends up.)
    let shortest = |i: usize, b: usize| {
        let hops = (b + ASES - i / PER_AS) % ASES;
        hops.min(ASES - hops) as u32
    };
    let converged = |n: &Net| {
        (0..total).all(|i| {
            (0..ASES).all(|b| {
                (0..PER_AS).all(|k| {
                    n.nodes[i]
                        .best(&prefix(b, k))
                        .is_some_and(|p| p.attrs.as_path.route_selection_len() == shortest(i, b))
                })
            })
        })
    };
    assert!(net.run_until(Duration::from_secs(120), converged));
    // Stable: still the same paths 30 s later, and no session reset.
    net.run_for(Duration::from_secs(30));
    assert!(converged(&net));
    for n in &net.nodes {
        assert!(n.notifications().iter().all(|&x| x == (6, 7)));
        assert!(
            n.speaker
                .neighbors()
                .iter()
                .all(|(_, s)| *s == nexthop_core::session::State::Established)
        );
    }
}

#[test]
fn a_slow_reader_is_bounded_and_does_not_delay_the_others() {
    let rr = addr(0);
    let clients: Vec<IpAddr> = (1..=4).map(addr).collect();
    let slow = clients[3];
    let mut head = config(65000, rr);
    for &c in &clients {
        head = head.neighbor(neighbor_hold(c, 65000, 240).route_reflector_client(true));
    }
    let mut net = Net::new();
    let nrr = net.add(rr, &head);
    let nc: Vec<usize> = clients
        .iter()
        .map(|&c| net.add(c, &config(65000, c).neighbor(neighbor_hold(rr, 65000, 240))))
        .collect();
    let ns = nc[3];
    assert!(net.run_until(Duration::from_secs(30), |n| {
        clients.iter().all(|&c| n.established(nrr, c))
    }));
    net.drive();
    // The slow client's runtime stops reading its socket.
    net.nodes[ns].reading = false;

    // A burst: 1 500 prefixes, each with its own attributes and 80 large
    // communities (one UPDATE of about 1 KB each, 1.5 MB per peer, more than the
    // router's 1 MiB output bound).
    const N: usize = 1_500;
    let mut burst = head;
    for i in 0..N {
        let mut o = originate(&format!("10.{}.{}.0/24", i / 256, i % 256))
            .large_community(65000, i as u32, 0);
        for c in 1..80 {
            o = o.large_community(65001, c, 0);
        }
        burst = burst.originate(o);
    }
    let limit = net.nodes[nrr].speaker.router().config().output_limit;
    let cfg = validated(&burst);
    net.nodes[nrr].speaker.handle_reload(net.now, cfg);
    let last = format!("10.{}.{}.0/24", (N - 1) / 256, (N - 1) % 256);
    let fast_done = |n: &Net| {
        nc[..3].iter().all(|&i| {
            n.nodes[i].best(&last).is_some()
                && n.nodes[i]
                    .speaker
                    .router()
                    .rib::<nexthop_router::prefix::Ipv4Prefix>()
                    .len()
                    == N
        })
    };
    let slow_peer = net.nodes[nrr].speaker.router_peer(slow).unwrap();
    let mut peak = 0;
    assert!(net.run_until(Duration::from_secs(10), |n| {
        peak = peak.max(n.nodes[nrr].speaker.router().pending_output(slow_peer));
        fast_done(n)
    }));
    assert!(net.nodes[nc[0]].best(&last).is_some());
    // Each transmit of UPDATEs is a run of whole messages: count those of ~1 KB.
    let big: usize = net.nodes[nrr]
        .sent
        .iter()
        .filter(|s| s.to == Some(clients[0]) && s.message_type() == 2)
        .map(|s| {
            let mut rest = &s.bytes[..];
            let mut n = 0;
            while !rest.is_empty() {
                let len = nexthop_core::wire::header::frame(rest, usize::MAX)
                    .ok()
                    .flatten()
                    .expect("whole messages");
                n += usize::from(rest[18] == 2 && len > 1000);
                rest = &rest[len..];
            }
            n
        })
        .sum();
    assert!(big >= N, "{big}");
    // The slow peer got (almost) nothing, and what waits for it is bounded: the
    // runtime's buffer by its bound, the router's queue by its output limit, the
    // speaker's own queue by a message or two.
    assert!(net.nodes[ns].best(&last).is_none());
    let run = nexthop_router::group::COALESCE_BYTES;
    assert!(peak <= limit + run, "{peak} > {limit}");
    let conn = net.nodes[nrr]
        .sent
        .iter()
        .rev()
        .find(|s| s.to == Some(slow))
        .unwrap()
        .conn;
    assert!(net.nodes[nrr].buffered(conn) <= OUTPUT_BOUND + run);
    assert!(net.nodes[nrr].speaker.queued_bytes(conn) <= 2 * 19);
    assert!(net.nodes[nrr].speaker.router().stats().catch_ups >= 1);

    // Still stalled a while later (KEEPALIVEs keep coming due): nothing grows.
    net.run_for(Duration::from_secs(60));
    assert!(net.nodes[nrr].speaker.router().pending_output(slow_peer) <= limit + 65535);
    assert!(net.nodes[nrr].speaker.queued_bytes(conn) <= 2 * 19);
    assert!(net.established(nrr, slow));

    // It reads again: it catches up from the Adj-RIB-Out, the whole table.
    net.nodes[ns].reading = true;
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[ns].best(&last).is_some()
            && n.nodes[ns]
                .speaker
                .router()
                .rib::<nexthop_router::prefix::Ipv4Prefix>()
                .len()
                == N
    }));
    assert!(net.established(nrr, slow));
}
