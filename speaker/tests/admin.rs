//! Administrative events: shutdown (Cease 6/2 with an RFC 9003 shutdown
//! communication) and reload (Cease 6/3 for removed neighbours, 6/6 for changed
//! ones, untouched ones kept).

mod net;

use net::{Net, addr, config, neighbor, neighbor_hold, originate, validated};
use nexthop_core::session::State;
use nexthop_core::wire::Family;
use nexthop_core::wire::route_refresh::{RouteRefresh, RouteRefreshSubtype};
use nexthop_speaker::{Duration, ReloadSummary};

#[test]
fn shutdown_sends_cease_6_2_with_the_communication_to_every_peer() {
    let s = addr(0);
    let peers: Vec<_> = (1..=3).map(addr).collect();
    let mut net = Net::new();
    let mut cfg = config(65001, s);
    for &p in &peers {
        cfg = cfg.neighbor(neighbor(p, 65002));
    }
    let ns = net.add(s, &cfg);
    let np: Vec<_> = peers
        .iter()
        .map(|&p| net.add(p, &config(65002, p).neighbor(neighbor(s, 65001))))
        .collect();
    assert!(net.run_until(Duration::from_secs(30), |n| {
        peers.iter().all(|&p| n.established(ns, p))
    }));
    let mark = net.nodes[ns].sent.len();

    net.nodes[ns]
        .speaker
        .handle_shutdown(net.now, "maintenance window");
    assert!(!net.nodes[ns].speaker.is_shut_down());
    net.drive();
    assert!(net.nodes[ns].speaker.is_shut_down());
    for &p in &peers {
        let n: Vec<_> = net.nodes[ns].sent[mark..]
            .iter()
            .filter(|m| m.to == Some(p))
            .collect();
        assert_eq!(n.len(), 1, "one message to {p}: {n:?}");
        assert_eq!(n[0].notification(), Some((6, 2)));
        // RFC 9003 §2: a length octet, then the UTF-8 text.
        let data = &n[0].bytes[21..];
        assert_eq!(data[0] as usize, "maintenance window".len());
        assert_eq!(&data[1..], b"maintenance window");
    }
    // The peers saw it, and the speaker takes no new connection.
    for (&i, &_p) in np.iter().zip(&peers) {
        assert_ne!(net.nodes[i].state_of(s), Some(State::Established));
    }
    net.run_for(Duration::from_secs(10));
    assert!(net.nodes[ns].refused > 0);
    assert!(net.nodes[ns].speaker.is_shut_down());
    assert_eq!(net.nodes[ns].speaker.connection_count(), 0);
}

#[test]
fn reload_adds_removes_and_changes_neighbours_without_touching_the_others() {
    let s = addr(0);
    let (b, c, d, e, f, g) = (addr(1), addr(2), addr(3), addr(4), addr(5), addr(6));
    let old = config(65001, s)
        .neighbor(neighbor(b, 65002))
        .neighbor(neighbor(c, 65003))
        .neighbor(neighbor(d, 65004))
        .neighbor(neighbor(f, 65006))
        .neighbor(neighbor(g, 65007))
        .originate(originate("198.51.100.0/24"));
    // B untouched, C removed, D's export policy changed (no reset), E added,
    // F's hold time changed (reset), G's import policy changed (ROUTE-REFRESH).
    let new = config(65001, s)
        .neighbor(neighbor(b, 65002))
        .neighbor(neighbor(d, 65004).med(50))
        .neighbor(neighbor(e, 65005))
        .neighbor(neighbor_hold(f, 65006, 12))
        .neighbor(neighbor(g, 65007).local_pref(250))
        .originate(originate("198.51.100.0/24"));
    let mut net = Net::new();
    let ns = net.add(s, &old);
    let peer = |p, asn| config(asn, p).neighbor(neighbor(s, 65001));
    let nb = net.add(b, &peer(b, 65002));
    let nc = net.add(c, &peer(c, 65003));
    let nd = net.add(d, &peer(d, 65004));
    let ne = net.add(e, &peer(e, 65005));
    let nf = net.add(f, &peer(f, 65006));
    let ng = net.add(g, &peer(g, 65007).originate(originate("203.0.113.0/24")));
    assert!(net.run_until(Duration::from_secs(30), |n| {
        [b, c, d, f, g].iter().all(|&p| n.established(ns, p))
            && n.nodes[nb].best("198.51.100.0/24").is_some()
            && n.nodes[ns].best("203.0.113.0/24").is_some()
    }));
    assert_eq!(
        net.nodes[ns]
            .best("203.0.113.0/24")
            .unwrap()
            .attrs
            .local_pref,
        None
    );
    let mark_s = net.nodes[ns].sent.len();
    let mark: Vec<usize> = net.nodes.iter().map(|n| n.sent.len()).collect();

    let summary = net.nodes[ns]
        .speaker
        .handle_reload(net.now, validated(&new));
    assert_eq!(
        summary,
        ReloadSummary {
            added: 1,
            removed: 1,
            changed: 3,
            unchanged: 1,
            control_changed: false,
        }
    );
    net.drive();
    let to = |net: &Net, p| -> Vec<_> {
        net.nodes[ns].sent[mark_s..]
            .iter()
            .filter(|m| m.to == Some(p))
            .filter_map(|m| m.notification())
            .collect()
    };
    assert_eq!(to(&net, c), vec![(6, 3)]);
    assert_eq!(to(&net, f), vec![(6, 6)]);
    assert_eq!(net.nodes[ns].state_of(c), None);

    assert!(
        net.run_until(Duration::from_secs(30), |n| n.established(ns, f)
            && n.established(ns, e)
            && n.nodes[ne].best("198.51.100.0/24").is_some()
            && n.nodes[nf].best("198.51.100.0/24").is_some()
            && n.nodes[nd].best("198.51.100.0/24").unwrap().attrs.med == Some(50)
            && n.nodes[ns].best("203.0.113.0/24").unwrap().attrs.local_pref
                == Some(250))
    );
    // G was asked for its routes, once, with a ROUTE-REFRESH the session wrote
    // (RFC 2918 §3: IPv4 unicast, a Normal request) ...
    let refresh: Vec<_> = net.nodes[ns].sent[mark_s..]
        .iter()
        .filter(|m| m.to == Some(g) && m.message_type() == 5)
        .map(|m| RouteRefresh::parse(&m.bytes).unwrap())
        .collect();
    assert_eq!(
        refresh,
        vec![RouteRefresh {
            family: Family::IPV4_UNICAST,
            subtype: RouteRefreshSubtype::Normal
        }]
    );
    // ... G received it, and sent its route again.
    assert!(
        net.nodes[ng].sent[mark[ng]..]
            .iter()
            .any(|m| m.to == Some(s)
                && m.message_type() == 2
                && m.bytes.ends_with(&[24, 203, 0, 113])),
        "G re-sent 203.0.113.0/24"
    );
    net.run_for(Duration::from_secs(20));
    // B's, D's and G's sessions were never reset: no OPEN, no NOTIFICATION since.
    for (p, i) in [(b, nb), (d, nd), (g, ng)] {
        assert!(net.established(ns, p));
        assert!(to(&net, p).is_empty());
        assert!(
            net.nodes[i].sent[mark[i]..]
                .iter()
                .all(|m| m.message_type() != 1)
        );
    }
    assert!(
        net.nodes[ns].sent[mark_s..]
            .iter()
            .filter(|m| m.to == Some(b))
            .all(|m| m.message_type() == 4)
    );
    // C is refused from now on.
    assert!(!net.established(nc, s));
    assert!(net.nodes[ns].refused > 0);
}
