//! A route reflector speaker with several client speakers and a non-client
//! (RFC 4456): client routes reach every other client and the non-client with
//! ORIGINATOR_ID and CLUSTER_LIST set; the non-client's reach the clients.

mod net;

use std::net::{IpAddr, Ipv4Addr};

use net::{Net, addr, config, neighbor, originate, validated};
use nexthop_speaker::Duration;

fn v4(a: IpAddr) -> Ipv4Addr {
    match a {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => unreachable!(),
    }
}

#[test]
fn reflector_reflects_with_originator_id_and_cluster_list() {
    let rr = addr(0);
    let clients: Vec<IpAddr> = (1..=4).map(addr).collect();
    let non_client = addr(5);
    let cluster: Ipv4Addr = "192.0.2.100".parse().unwrap();
    let mut net = Net::new();
    let mut cfg = config(65000, rr).cluster_id(cluster);
    for &c in &clients {
        cfg = cfg.neighbor(neighbor(c, 65000).route_reflector_client(true));
    }
    let nrr = net.add(rr, &cfg.neighbor(neighbor(non_client, 65000)));
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
    let nn = net.add(
        non_client,
        &config(65000, non_client)
            .neighbor(neighbor(rr, 65000))
            .originate(originate("198.51.100.0/24")),
    );
    let all = |n: &net::Net| {
        nc.iter().chain([&nn]).all(|&i| {
            (0..clients.len()).all(|j| n.nodes[i].best(&format!("203.0.{j}.0/24")).is_some())
                && n.nodes[i].best("198.51.100.0/24").is_some()
        })
    };
    assert!(net.run_until(Duration::from_secs(60), all));

    for (i, &ni) in nc.iter().enumerate() {
        for (j, &cj) in clients.iter().enumerate() {
            let p = net.nodes[ni].best(&format!("203.0.{j}.0/24")).unwrap();
            if i == j {
                // Its own route: local, not the reflected copy.
                assert_eq!(p.attrs.originator_id, None);
                continue;
            }
            assert_eq!(p.attrs.originator_id, Some(v4(cj)), "client {i} prefix {j}");
            assert_eq!(p.attrs.cluster_list, vec![cluster]);
            // The next hop is the originating client's (iBGP leaves it alone).
            assert_eq!(
                p.attrs.next_hop,
                Some(nexthop_router::attributes::NextHop::V4(v4(cj)))
            );
        }
        // The non-client's route, reflected to clients.
        let p = net.nodes[ni].best("198.51.100.0/24").unwrap();
        assert_eq!(p.attrs.originator_id, Some(v4(non_client)));
        assert_eq!(p.attrs.cluster_list, vec![cluster]);
    }
    for (j, &cj) in clients.iter().enumerate() {
        let p = net.nodes[nn].best(&format!("203.0.{j}.0/24")).unwrap();
        assert_eq!(p.attrs.originator_id, Some(v4(cj)));
        assert_eq!(p.attrs.cluster_list, vec![cluster]);
    }
    // The reflector holds one path per prefix, from the originator.
    for j in 0..clients.len() {
        let p = net.nodes[nrr].best(&format!("203.0.{j}.0/24")).unwrap();
        assert!(p.attrs.cluster_list.is_empty());
    }
    // Clients with identical export policy share one update group: the same
    // UPDATE allocation went to several of them.
    assert!(net.nodes[nrr].speaker.router().group_count() <= 2);

    // A client withdraws (removed from its config): gone everywhere.
    let c0 = clients[0];
    let summary = net.nodes[nc[0]].speaker.handle_reload(
        net.now,
        validated(&config(65000, c0).neighbor(neighbor(rr, 65000))),
    );
    assert_eq!(summary.unchanged, 1);
    assert!(net.run_until(Duration::from_secs(30), |n| {
        nc[1..]
            .iter()
            .chain([&nn])
            .all(|&i| n.nodes[i].best("203.0.0.0/24").is_none())
    }));
}
