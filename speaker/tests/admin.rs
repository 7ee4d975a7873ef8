//! Administrative events: shutdown (Cease 6/2 with an RFC 9003 shutdown
//! communication) and reload (Cease 6/3 for removed neighbours, 6/6 for changed
//! ones, untouched ones kept).

mod net;

use net::{Net, addr, config, neighbor, originate};
use nexthop_core::session::State;
use nexthop_speaker::config::Config;
use nexthop_speaker::{Duration, ReloadSummary};

#[test]
fn shutdown_sends_cease_6_2_with_the_communication_to_every_peer() {
    let s = addr(0);
    let peers: Vec<_> = (1..=3).map(addr).collect();
    let mut net = Net::new();
    let mut text = String::new();
    for &p in &peers {
        text += &neighbor(p, 65002, "");
    }
    let ns = net.add(s, &config(65001, s, &text));
    let np: Vec<_> = peers
        .iter()
        .map(|&p| net.add(p, &config(65002, p, &neighbor(s, 65001, ""))))
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
    let (b, c, d, e) = (addr(1), addr(2), addr(3), addr(4));
    let old = config(
        65001,
        s,
        &(neighbor(b, 65002, "")
            + &neighbor(c, 65003, "")
            + &neighbor(d, 65004, "")
            + &originate("198.51.100.0/24", "")),
    );
    let new = config(
        65001,
        s,
        &(neighbor(b, 65002, "")
            + &neighbor(d, 65004, "med = 50")
            + &neighbor(e, 65005, "")
            + &originate("198.51.100.0/24", "")),
    );
    let mut net = Net::new();
    let ns = net.add(s, &old);
    let nb = net.add(b, &config(65002, b, &neighbor(s, 65001, "")));
    let nc = net.add(c, &config(65003, c, &neighbor(s, 65001, "")));
    let nd = net.add(d, &config(65004, d, &neighbor(s, 65001, "")));
    let ne = net.add(e, &config(65005, e, &neighbor(s, 65001, "")));
    assert!(net.run_until(Duration::from_secs(30), |n| {
        [b, c, d].iter().all(|&p| n.established(ns, p))
            && n.nodes[nb].best("198.51.100.0/24").is_some()
    }));
    let mark_s = net.nodes[ns].sent.len();
    let mark_b = net.nodes[nb].sent.len();

    let summary = net.nodes[ns]
        .speaker
        .handle_reload(net.now, Config::from_toml(&new).unwrap());
    assert_eq!(
        summary,
        ReloadSummary {
            added: 1,
            removed: 1,
            changed: 1,
            unchanged: 1
        }
    );
    net.drive();
    let to = |p| -> Vec<_> {
        net.nodes[ns].sent[mark_s..]
            .iter()
            .filter(|m| m.to == Some(p))
            .filter_map(|m| m.notification())
            .collect()
    };
    assert_eq!(to(c), vec![(6, 3)]);
    assert_eq!(to(d), vec![(6, 6)]);
    assert_eq!(to(b), vec![]);
    assert_eq!(net.nodes[ns].state_of(c), None);

    assert!(
        net.run_until(Duration::from_secs(30), |n| n.established(ns, d)
            && n.established(ns, e)
            && n.nodes[nd].best("198.51.100.0/24").is_some()
            && n.nodes[ne].best("198.51.100.0/24").is_some())
    );
    // The changed policy is in force: MED 50 towards D.
    assert_eq!(
        net.nodes[nd].best("198.51.100.0/24").unwrap().attrs.med,
        Some(50)
    );
    net.run_for(Duration::from_secs(20));
    // B's session was never touched: no OPEN, no NOTIFICATION since.
    assert!(net.established(ns, b));
    assert!(
        net.nodes[nb].sent[mark_b..]
            .iter()
            .all(|m| m.message_type() == 4)
    );
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
