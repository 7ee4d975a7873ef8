//! Dynamic neighbours (`[[dynamic_neighbor]]`) with the per-neighbour options of
//! a configured one, over the virtual network: a hub accepts sessions from a
//! range and applies the range's `max_prefix` (Cease 6/1, RFC 4486), `import` /
//! `export` rules and `local_pref`, reflects between the range's route
//! reflector clients (RFC 4456), and restarts the range's sessions with Cease
//! 6/6 when its options change on reload.

mod net;

use std::net::{IpAddr, Ipv4Addr};

use net::{Net, addr, config, neighbor, originate, validated};
use nexthop_speaker::Duration;
use nexthop_speaker::config::Prefix;
use nexthop_speaker::config::file::{ConfigFile, DynamicNeighbor};

fn v4(a: IpAddr) -> Ipv4Addr {
    match a {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => unreachable!("the virtual network is IPv4"),
    }
}

/// The range every node of the virtual network is in (`10.0.0.x`).
fn range() -> Prefix {
    "10.0.0.0/24".parse().unwrap()
}

/// A range of AS `asn` with short timers, like the network's `neighbor()`.
fn dynamic(asn: u32) -> DynamicNeighbor {
    DynamicNeighbor::new(range(), asn)
        .hold_time(9)
        .keepalive_time(3)
        .mrai(0)
}

/// The hub: AS `asn` at `addr(0)`, accepting `range` only (no `[[neighbor]]`).
fn hub(asn: u32, range: DynamicNeighbor) -> ConfigFile {
    config(asn, addr(0)).dynamic(range)
}

#[test]
fn a_dynamic_peer_gets_max_prefix_enforced_with_cease_6_1() {
    let (h, b) = (addr(0), addr(1));
    let mut b_config = config(65002, b).neighbor(neighbor(h, 65001));
    for i in 0..3 {
        b_config = b_config.originate(originate(&format!("203.0.{i}.0/24")));
    }
    let mut net = Net::new();
    let nh = net.add(h, &hub(65001, dynamic(65002).max_prefix(2)));
    net.add(b, &b_config);
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[nh].notifications().contains(&(6, 1))
    }));
    net.drive();
    for i in 0..3 {
        assert!(net.nodes[nh].best(&format!("203.0.{i}.0/24")).is_none());
    }
    // Data: AFI 1, SAFI 1, limit 2 (RFC 4486 §4), sent to the dynamic peer.
    let s = net.nodes[nh]
        .sent_to(b)
        .find(|s| s.notification() == Some((6, 1)))
        .expect("Cease 6/1 to the dynamic peer");
    assert_eq!(&s.bytes[21..], &[0, 1, 1, 0, 0, 0, 2]);
}

#[test]
fn a_range_without_max_prefix_takes_every_route() {
    // The control of the test above: the limit, not the range, refused them.
    let (h, b) = (addr(0), addr(1));
    let mut b_config = config(65002, b).neighbor(neighbor(h, 65001));
    for i in 0..3 {
        b_config = b_config.originate(originate(&format!("203.0.{i}.0/24")));
    }
    let mut net = Net::new();
    let nh = net.add(h, &hub(65001, dynamic(65002)));
    net.add(b, &b_config);
    assert!(net.run_until(Duration::from_secs(30), |n| {
        (0..3).all(|i| n.nodes[nh].best(&format!("203.0.{i}.0/24")).is_some())
    }));
    assert!(net.nodes[nh].notifications().is_empty());
}

#[test]
fn a_dynamic_peer_gets_the_ranges_import_export_and_local_pref() {
    let (h, b) = (addr(0), addr(1));
    let range = dynamic(65002)
        .import(["203.0.0.0/24".parse().unwrap()])
        .export(["198.51.100.0/24".parse().unwrap()])
        .local_pref(250);
    let hub_config = hub(65001, range)
        .originate(originate("198.51.100.0/24"))
        .originate(originate("198.51.101.0/24"));
    let b_config = config(65002, b)
        .neighbor(neighbor(h, 65001))
        .originate(originate("203.0.0.0/24"))
        .originate(originate("203.0.1.0/24"));
    let mut net = Net::new();
    let nh = net.add(h, &hub_config);
    let nb = net.add(b, &b_config);
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[nh].best("203.0.0.0/24").is_some() && n.nodes[nb].best("198.51.100.0/24").is_some()
    }));
    // Let everything that would arrive arrive.
    net.run_for(Duration::from_secs(5));
    assert!(net.established(nh, b));
    // Import: only the allowed prefix, with the range's LOCAL_PREF.
    let p = net.nodes[nh].best("203.0.0.0/24").unwrap();
    assert_eq!(p.attrs.local_pref, Some(250));
    assert!(net.nodes[nh].best("203.0.1.0/24").is_none());
    // Export: only the allowed prefix reaches the dynamic peer.
    assert!(net.nodes[nb].best("198.51.100.0/24").is_some());
    assert!(net.nodes[nb].best("198.51.101.0/24").is_none());
}

/// Three iBGP speakers connect to a reflector whose only peers are a range:
/// with `route_reflector_client` each client's route reaches the others with
/// ORIGINATOR_ID and CLUSTER_LIST (RFC 4456 §8); without it, an iBGP route is
/// not passed on (RFC 4271 §9.2), so the option is what reflects.
#[test]
fn a_range_of_route_reflector_clients_is_reflected_between() {
    for rr_client in [true, false] {
        let rr = addr(0);
        let clients: Vec<IpAddr> = (1..=3).map(addr).collect();
        let cluster: Ipv4Addr = "192.0.2.100".parse().unwrap();
        let mut net = Net::new();
        net.add(
            rr,
            &hub(65000, dynamic(65000).route_reflector_client(rr_client)).cluster_id(cluster),
        );
        let nc: Vec<usize> = clients
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                net.add(
                    c,
                    &config(65000, c)
                        .neighbor(neighbor(rr, 65000))
                        .originate(originate(&format!("203.0.{i}.0/24"))),
                )
            })
            .collect();
        let everything = |n: &Net| {
            nc.iter().all(|&i| {
                (0..clients.len()).all(|j| n.nodes[i].best(&format!("203.0.{j}.0/24")).is_some())
            })
        };
        let reflected = net.run_until(Duration::from_secs(30), everything);
        assert!(
            nc.iter().all(|&i| net.established(i, rr)),
            "rr_client = {rr_client}: every client is up"
        );
        assert_eq!(reflected, rr_client, "rr_client = {rr_client}");
        if !rr_client {
            // Each client still has its own route only.
            for (i, &ni) in nc.iter().enumerate() {
                for j in 0..clients.len() {
                    let best = net.nodes[ni].best(&format!("203.0.{j}.0/24"));
                    assert_eq!(best.is_some(), i == j, "client {i} prefix {j}");
                }
            }
            continue;
        }
        for (i, &ni) in nc.iter().enumerate() {
            for (j, &cj) in clients.iter().enumerate() {
                if i == j {
                    continue;
                }
                let p = net.nodes[ni].best(&format!("203.0.{j}.0/24")).unwrap();
                assert_eq!(p.attrs.originator_id, Some(v4(cj)), "client {i} prefix {j}");
                assert_eq!(p.attrs.cluster_list, vec![cluster]);
            }
        }
    }
}

/// A reload that changes a range's options restarts its sessions with Cease
/// 6/6 (Other Configuration Change), and they come back with the new options;
/// the same config leaves them alone; a removed range ends them with Cease 6/3.
#[test]
fn a_range_whose_options_change_restarts_its_sessions() {
    let (h, b) = (addr(0), addr(1));
    let b_config = config(65002, b)
        .neighbor(neighbor(h, 65001))
        .originate(originate("203.0.0.0/24"))
        .originate(originate("203.0.1.0/24"));
    let mut net = Net::new();
    let first = hub(65001, dynamic(65002));
    let nh = net.add(h, &first);
    let nb = net.add(b, &b_config);
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[nh].best("203.0.1.0/24").is_some()
    }));

    // The same options: nothing happens.
    net.nodes[nh]
        .speaker
        .handle_reload(net.now, validated(&first));
    net.run_for(Duration::from_secs(5));
    assert!(net.nodes[nh].notifications().is_empty());
    assert!(net.established(nh, b));

    // Only an option of the router's side changes (import): still a restart,
    // as a changed range.
    let second = hub(
        65001,
        dynamic(65002).import(["203.0.0.0/24".parse().unwrap()]),
    );
    net.nodes[nh]
        .speaker
        .handle_reload(net.now, validated(&second));
    net.drive();
    assert_eq!(net.nodes[nh].notifications(), vec![(6, 6)]);
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.established(nh, b)
            && n.nodes[nh].best("203.0.0.0/24").is_some()
            && n.nodes[nh].best("203.0.1.0/24").is_none()
    }));

    // The range goes away: Cease 6/3 (Peer De-configured), and B is refused.
    net.nodes[nh]
        .speaker
        .handle_reload(net.now, validated(&config(65001, h)));
    net.drive();
    assert_eq!(net.nodes[nh].notifications(), vec![(6, 6), (6, 3)]);
    net.run_for(Duration::from_secs(10));
    assert!(!net.established(nb, h));
    assert!(net.nodes[nh].refused > 0);
}
