//! The control API's speaker half over sessions in virtual time: neighbour
//! state and counters, disable/enable (Cease 6/2 with RFC 9003 text, kept down
//! across reloads), reset (6/4), soft reset and refresh (RFC 2918), graceful
//! shutdown (RFC 8326), watch events and the metrics snapshot. No route view is
//! called (routes.rs is another helper's).

mod net;

use std::net::IpAddr;

use net::{Net, addr, config, neighbor, originate, validated};
use nexthop_control::{Action, Backend, Direction, WatchEvent};
use nexthop_core::session::State;
use nexthop_router::attributes::Community;
use nexthop_speaker::{Duration, Instant, Speaker};

/// The API's neighbour rows (`Speaker::neighbors` of its own is another list).
fn rows(s: &Speaker, now: Instant) -> Vec<nexthop_control::NeighborSummary> {
    Backend::neighbors(s, now)
}

const GRACEFUL_SHUTDOWN: Community = Community(0xffff_0000);

/// S (AS 65001) with eBGP neighbour P (AS 65002), both up.
fn pair() -> (Net, usize, usize, IpAddr, IpAddr) {
    let (s, p) = (addr(0), addr(1));
    let mut net = Net::new();
    let ns = net.add(
        s,
        &config(65001, s)
            .neighbor(neighbor(p, 65002))
            .originate(originate("198.51.100.0/24")),
    );
    let np = net.add(p, &config(65002, p).neighbor(neighbor(s, 65001)));
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.established(ns, p) && n.nodes[np].best("198.51.100.0/24").is_some()
    }));
    (net, ns, np, s, p)
}

#[test]
fn neighbors_show_state_counters_and_the_peers_shutdown_communication() {
    let (mut net, ns, np, s, p) = pair();
    let now = net.now;
    let list = rows(&net.nodes[ns].speaker, now);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].address, p);
    assert_eq!(list[0].state, "Established");
    assert_eq!(list[0].remote_asn, Some(65002));
    assert!(list[0].uptime_s.is_some() && list[0].downtime_s.is_none());
    // P accepted our one route.
    assert_eq!(rows(&net.nodes[np].speaker, now)[0].prefixes_accepted, 1);

    let d = net.nodes[ns].speaker.neighbor(now, p).unwrap();
    let neg = d.negotiated.as_ref().expect("Established: negotiated");
    assert_eq!(neg.hold_time_s, 9);
    assert!(neg.route_refresh && neg.four_octet_as && !neg.internal);
    // Both sides connect (RFC 4271 §6.8 collision): an OPEN on each.
    let opens = |from: usize, to: IpAddr| {
        net.nodes[from]
            .sent_to(to)
            .filter(|m| m.message_type() == 1)
            .count() as u64
    };
    assert!(d.messages_received.open >= 1);
    assert_eq!(d.messages_received.open, opens(np, s));
    assert_eq!(d.messages_sent.open, opens(ns, p));
    assert!(d.messages_received.keepalive >= 1);
    // One UPDATE with the route, one End-of-RIB at least.
    assert!(d.messages_sent.update >= 1, "{:?}", d.messages_sent);
    // The UPDATEs S sent are the ones P received (OPENs differ: a collision
    // loser's connection closes with its OPEN unread).
    let dp = net.nodes[np].speaker.neighbor(now, s).unwrap();
    assert_eq!(dp.messages_received.update, d.messages_sent.update);
    let sent_bytes: usize = net.nodes[ns].sent_to(p).map(|m| m.bytes.len()).sum();
    assert_eq!(d.messages_sent.bytes, sent_bytes as u64);

    // P is disabled by its operator with a message: S shows it in words.
    net.nodes[np]
        .speaker
        .act(
            net.now,
            Action::Disable {
                neighbor: s,
                message: Some("maintenance 42".into()),
                graceful: false,
                after_s: None,
            },
        )
        .unwrap();
    net.drive();
    net.run_for(Duration::from_secs(1));
    let now = net.now;
    let row = &rows(&net.nodes[ns].speaker, now)[0];
    assert_ne!(row.state, "Established");
    assert_eq!(row.flaps, 1);
    assert!(row.uptime_s.is_none() && row.downtime_s.is_some());
    let e = row.last_error.as_ref().expect("a last error");
    assert_eq!(e.kind, "notification_received");
    assert_eq!((e.code, e.subcode), (Some(6), Some(2)));
    assert!(e.text.contains("maintenance 42"), "{}", e.text);
    let d = net.nodes[ns].speaker.neighbor(now, p).unwrap();
    assert!(d.notifications.iter().any(|n| n.direction == "received"
        && (n.code, n.subcode, n.count) == (6, 2, 1)
        && n.name == "Cease / Administrative Shutdown"));
    let dp = net.nodes[np].speaker.neighbor(now, s).unwrap();
    assert!(dp.summary.disabled);
    assert!(
        dp.notifications
            .iter()
            .any(|n| n.direction == "sent" && (n.code, n.subcode) == (6, 2))
    );
}

#[test]
fn a_disabled_neighbour_stays_down_across_a_reload_until_enabled() {
    let (s, p) = (addr(0), addr(1));
    let mut net = Net::new();
    let cfg = config(65001, s).neighbor(neighbor(p, 65002));
    let ns = net.add(s, &cfg);
    let np = net.add(p, &config(65002, p).neighbor(neighbor(s, 65001)));
    assert!(net.run_until(Duration::from_secs(30), |n| n.established(ns, p)));
    let mark = net.nodes[ns].sent.len();
    let r = net.nodes[ns].speaker.act(
        net.now,
        Action::Disable {
            neighbor: p,
            message: Some("down for fibre work".into()),
            graceful: false,
            after_s: None,
        },
    );
    assert!(r.is_ok(), "{r:?}");
    net.drive();
    let cease: Vec<_> = net.nodes[ns].sent[mark..]
        .iter()
        .filter(|m| m.notification().is_some())
        .collect();
    assert_eq!(cease.len(), 1);
    assert_eq!(cease[0].notification(), Some((6, 2)));
    assert_eq!(&cease[0].bytes[22..], b"down for fibre work");

    // A reload that changes the neighbour (hold time) does not start it.
    let changed = config(65001, s).neighbor(neighbor(p, 65002).hold_time(12).keepalive_time(4));
    net.nodes[ns]
        .speaker
        .handle_reload(net.now, validated(&changed));
    net.run_for(Duration::from_secs(30));
    assert_eq!(net.nodes[ns].state_of(p), Some(State::Idle));
    assert_ne!(net.nodes[np].state_of(s), Some(State::Established));
    assert!(rows(&net.nodes[ns].speaker, net.now)[0].disabled);

    let r = net.nodes[ns]
        .speaker
        .act(net.now, Action::Enable { neighbor: p })
        .unwrap();
    assert!(r.message.contains("enabled"), "{}", r.message);
    assert!(net.run_until(Duration::from_secs(30), |n| n.established(ns, p)));
    assert!(!rows(&net.nodes[ns].speaker, net.now)[0].disabled);
}

#[test]
fn a_hard_reset_sends_cease_6_4_and_the_session_comes_back() {
    let (mut net, ns, _np, _s, p) = pair();
    let opens = net.nodes[ns]
        .speaker
        .neighbor(net.now, p)
        .unwrap()
        .messages_sent
        .open;
    let mark = net.nodes[ns].sent.len();
    net.nodes[ns]
        .speaker
        .act(
            net.now,
            Action::Reset {
                neighbor: p,
                soft: false,
            },
        )
        .unwrap();
    net.drive();
    assert_eq!(
        net.nodes[ns].sent[mark..]
            .iter()
            .filter_map(|m| m.notification())
            .collect::<Vec<_>>(),
        vec![(6, 4)]
    );
    assert!(net.run_until(Duration::from_secs(30), |n| n.established(ns, p)));
    let d = net.nodes[ns].speaker.neighbor(net.now, p).unwrap();
    assert_eq!(d.summary.flaps, 1);
    assert!(d.messages_sent.open > opens);
}

#[test]
fn soft_reset_and_refresh_send_route_refresh_in_and_our_routes_out() {
    let (mut net, ns, _np, _s, p) = pair();
    let mark = net.nodes[ns].sent.len();
    net.nodes[ns]
        .speaker
        .act(
            net.now,
            Action::Refresh {
                neighbor: p,
                direction: Direction::In,
            },
        )
        .unwrap();
    net.drive();
    let types: Vec<u8> = net.nodes[ns].sent[mark..]
        .iter()
        .map(|m| m.message_type())
        .collect();
    assert_eq!(types, vec![5], "one ROUTE-REFRESH for IPv4 unicast");

    let mark = net.nodes[ns].sent.len();
    net.nodes[ns]
        .speaker
        .act(
            net.now,
            Action::Refresh {
                neighbor: p,
                direction: Direction::Out,
            },
        )
        .unwrap();
    net.drive();
    assert!(
        net.nodes[ns].sent[mark..]
            .iter()
            .any(|m| m.message_type() == 2),
        "our route sent again"
    );

    let mark = net.nodes[ns].sent.len();
    net.nodes[ns]
        .speaker
        .act(
            net.now,
            Action::Reset {
                neighbor: p,
                soft: true,
            },
        )
        .unwrap();
    net.drive();
    let types: Vec<u8> = net.nodes[ns].sent[mark..]
        .iter()
        .map(|m| m.message_type())
        .collect();
    assert!(types.contains(&5) && types.contains(&2), "{types:?}");
    assert_eq!(net.nodes[ns].state_of(p), Some(State::Established));
}

#[test]
fn actions_on_unknown_or_down_neighbours_are_clear_errors() {
    let (mut net, ns, _np, _s, p) = pair();
    let stranger: IpAddr = "192.0.2.77".parse().unwrap();
    let e = net.nodes[ns]
        .speaker
        .act(net.now, Action::Enable { neighbor: stranger })
        .unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (404, "unknown_neighbor"));
    assert!(net.nodes[ns].speaker.neighbor(net.now, stranger).is_err());
    let e = net.nodes[ns]
        .speaker
        .act(
            net.now,
            Action::Disable {
                neighbor: p,
                message: Some("x".repeat(256)),
                graceful: false,
                after_s: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.code, "bad_request");
    net.nodes[ns]
        .speaker
        .act(
            net.now,
            Action::Disable {
                neighbor: p,
                message: None,
                graceful: false,
                after_s: None,
            },
        )
        .unwrap();
    net.drive();
    let e = net.nodes[ns]
        .speaker
        .act(
            net.now,
            Action::Refresh {
                neighbor: p,
                direction: Direction::In,
            },
        )
        .unwrap_err();
    assert_eq!((e.status, e.code.as_str()), (409, "conflict"));
}

#[test]
fn graceful_shutdown_tags_routes_both_ways_then_ceases_after_the_delay() {
    // S originates a route to P; P originates one to S.
    let (s, p) = (addr(0), addr(1));
    let mut net = Net::new();
    let ns = net.add(
        s,
        &config(65001, s)
            .neighbor(neighbor(p, 65002))
            .originate(originate("198.51.100.0/24")),
    );
    let np = net.add(
        p,
        &config(65002, p)
            .neighbor(neighbor(s, 65001))
            .originate(originate("203.0.113.0/24")),
    );
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[np].best("198.51.100.0/24").is_some()
            && n.nodes[ns].best("203.0.113.0/24").is_some()
    }));
    let start = net.now;
    let r = net.nodes[ns]
        .speaker
        .act(
            net.now,
            Action::Disable {
                neighbor: p,
                message: Some("maintenance".into()),
                graceful: true,
                after_s: Some(30),
            },
        )
        .unwrap();
    assert!(r.message.contains("30 s"), "{}", r.message);
    net.drive();
    // RFC 8326 §4: P receives our route with GRACEFUL_SHUTDOWN; the route we
    // learned from P is lowered to LOCAL_PREF 0 with the community (by a
    // ROUTE-REFRESH through the new import policy).
    assert!(net.run_until(Duration::from_secs(5), |n| {
        n.nodes[np]
            .best("198.51.100.0/24")
            .is_some_and(|b| b.attrs.communities.contains(&GRACEFUL_SHUTDOWN))
            && n.nodes[ns].best("203.0.113.0/24").is_some_and(|b| {
                b.attrs.local_pref == Some(0) && b.attrs.communities.contains(&GRACEFUL_SHUTDOWN)
            })
    }));
    assert_eq!(net.nodes[ns].state_of(p), Some(State::Established));
    let d = net.nodes[ns].speaker.neighbor(net.now, p).unwrap();
    // The policy in force says so.
    assert!(
        d.export_policy
            .iter()
            .any(|l| l.contains("accept, add community graceful-shutdown")),
        "{:?}",
        d.export_policy
    );
    assert!(
        d.import_policy
            .iter()
            .any(|l| l.contains("set LOCAL_PREF 0")),
        "{:?}",
        d.import_policy
    );
    let left = d.graceful_shutdown_in_s.expect("graceful shutdown running");
    assert!((25..=30).contains(&left), "{left}");
    // The Cease comes from the speaker's own deadline, 30 s after the action.
    assert!(net.run_until(Duration::from_secs(40), |n| {
        n.nodes[ns].notifications().contains(&(6, 2))
    }));
    let at = net.nodes[ns]
        .sent
        .iter()
        .find(|m| m.notification() == Some((6, 2)))
        .unwrap()
        .at;
    assert_eq!(at - start, Duration::from_secs(30));
    net.run_for(Duration::from_secs(20));
    assert_eq!(net.nodes[ns].state_of(p), Some(State::Idle));
    // Enabled again, it comes back without the community.
    net.nodes[ns]
        .speaker
        .act(net.now, Action::Enable { neighbor: p })
        .unwrap();
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[np]
            .best("198.51.100.0/24")
            .is_some_and(|b| !b.attrs.communities.contains(&GRACEFUL_SHUTDOWN))
    }));
}

#[test]
fn graceful_shutdown_of_all_shuts_the_speaker_down_after_the_delay() {
    let (mut net, ns, np, _s, p) = pair();
    net.nodes[ns]
        .speaker
        .act(net.now, Action::GracefulShutdownAll { after_s: 10 })
        .unwrap();
    net.drive();
    assert!(net.run_until(Duration::from_secs(5), |n| {
        n.nodes[np]
            .best("198.51.100.0/24")
            .is_some_and(|b| b.attrs.communities.contains(&GRACEFUL_SHUTDOWN))
    }));
    assert!(net.nodes[ns].speaker.status(net.now).shutting_down);
    assert!(!net.nodes[ns].speaker.is_shut_down());
    assert!(net.run_until(Duration::from_secs(15), |n| {
        n.nodes[ns].speaker.is_shut_down()
    }));
    assert!(net.nodes[ns].notifications().contains(&(6, 2)));
    assert_ne!(net.nodes[ns].state_of(p), Some(State::Established));
}

#[test]
fn watch_sees_a_flap_with_its_reason_and_nothing_when_off() {
    // No routes: best-path events are the route half's.
    let (s, p) = (addr(0), addr(1));
    let mut net = Net::new();
    let ns = net.add(s, &config(65001, s).neighbor(neighbor(p, 65002)));
    let np = net.add(p, &config(65002, p).neighbor(neighbor(s, 65001)));
    assert!(net.run_until(Duration::from_secs(30), |n| n.established(ns, p)));
    assert_eq!(
        net.nodes[ns].speaker.poll_event(),
        None,
        "off: nothing kept"
    );

    net.nodes[ns].speaker.set_watching(true);
    net.nodes[np]
        .speaker
        .act(
            net.now,
            Action::Reset {
                neighbor: s,
                soft: false,
            },
        )
        .unwrap();
    net.drive();
    assert!(net.run_until(Duration::from_secs(30), |n| n.established(ns, p)));
    let mut events = Vec::new();
    while let Some(e) = net.nodes[ns].speaker.poll_event() {
        events.push(e);
    }
    let states: Vec<(String, String, Option<String>)> = events
        .iter()
        .filter_map(|e| match e {
            WatchEvent::State {
                neighbor,
                from,
                to,
                reason,
                ..
            } if *neighbor == p => Some((from.clone(), to.clone(), reason.clone())),
            _ => None,
        })
        .collect();
    let (_, _, reason) = states
        .iter()
        .find(|(from, _, _)| from == "Established")
        .unwrap_or_else(|| panic!("a transition out of Established: {states:?}"));
    assert!(
        reason
            .as_deref()
            .is_some_and(|r| r.contains("Administrative Reset")),
        "{states:?}"
    );
    assert_eq!(states.last().map(|s| s.1.as_str()), Some("Established"));

    net.nodes[ns].speaker.set_watching(false);
    net.nodes[np]
        .speaker
        .act(
            net.now,
            Action::Reset {
                neighbor: s,
                soft: false,
            },
        )
        .unwrap();
    net.drive();
    net.run_for(Duration::from_secs(10));
    assert_eq!(net.nodes[ns].speaker.poll_event(), None);
}

#[test]
fn metrics_and_status_count_what_the_speaker_holds() {
    let (net, ns, _np, _s, p) = pair();
    let sp = &net.nodes[ns].speaker;
    let m = sp.metrics(net.now);
    assert_eq!(m.neighbors.len(), 1);
    assert_eq!(m.neighbors[0].address, p);
    assert_eq!(m.neighbors[0].state, "Established");
    assert_eq!(m.neighbors[0].established_total, 1);
    let v4 = m.rib.iter().find(|f| f.family.name() == "ipv4").unwrap();
    assert_eq!((v4.prefixes, v4.paths), (1, 1));
    assert!(m.update_groups >= 1);
    let st = sp.status(net.now);
    assert_eq!((st.asn, st.neighbors, st.established), (65001, 1, 1));
    assert!(!st.shutting_down);
}

#[test]
fn a_reload_that_changes_control_says_it_waits_for_the_next_start() {
    let (mut net, ns, _np, s, p) = pair();
    let same = config(65001, s)
        .neighbor(neighbor(p, 65002))
        .originate(originate("198.51.100.0/24"));
    let moved = same
        .clone()
        .control(nexthop_speaker::config::file::Control {
            socket: Some("/tmp/elsewhere.sock".into()),
            ..Default::default()
        });
    let r = net.nodes[ns]
        .speaker
        .handle_reload(net.now, validated(&same));
    assert!(!r.control_changed);
    let r = net.nodes[ns]
        .speaker
        .handle_reload(net.now, validated(&moved));
    assert!(r.control_changed);
    assert_eq!(r.unchanged, 1);
    net.drive();
    assert_eq!(net.nodes[ns].state_of(p), Some(State::Established));
}

#[test]
fn a_disabled_dynamic_neighbour_is_refused_until_enabled() {
    let (s, p) = (addr(0), addr(1));
    let mut net = Net::new();
    let range =
        nexthop_speaker::config::file::DynamicNeighbor::new("10.0.0.0/24".parse().unwrap(), 65002)
            .hold_time(9)
            .keepalive_time(3)
            .mrai(0);
    let ns = net.add(s, &config(65001, s).dynamic(range));
    let np = net.add(p, &config(65002, p).neighbor(neighbor(s, 65001)));
    assert!(net.run_until(Duration::from_secs(30), |n| n.established(ns, p)));
    assert!(rows(&net.nodes[ns].speaker, net.now)[0].dynamic);

    net.nodes[ns]
        .speaker
        .act(
            net.now,
            Action::Disable {
                neighbor: p,
                message: Some("range maintenance".into()),
                graceful: false,
                after_s: None,
            },
        )
        .unwrap();
    net.drive();
    assert!(net.nodes[ns].notifications().contains(&(6, 2)));
    // The peer keeps trying; every connection from it is refused.
    let refused = net.nodes[ns].refused;
    net.run_for(Duration::from_secs(60));
    assert!(net.nodes[ns].refused > refused);
    assert_ne!(net.nodes[np].state_of(s), Some(State::Established));
    // Still known, so it can be enabled.
    net.nodes[ns]
        .speaker
        .act(net.now, Action::Enable { neighbor: p })
        .unwrap();
    assert!(net.run_until(Duration::from_secs(60), |n| n.established(ns, p)));
}

#[test]
fn graceful_shutdown_toward_an_ibgp_peer_sets_local_pref_0() {
    let (s, p) = (addr(0), addr(1));
    let mut net = Net::new();
    let ns = net.add(
        s,
        &config(65001, s)
            .neighbor(neighbor(p, 65001))
            .originate(originate("198.51.100.0/24")),
    );
    let np = net.add(p, &config(65001, p).neighbor(neighbor(s, 65001)));
    assert!(net.run_until(Duration::from_secs(30), |n| {
        n.nodes[np].best("198.51.100.0/24").is_some()
    }));
    net.nodes[ns]
        .speaker
        .act(
            net.now,
            Action::Disable {
                neighbor: p,
                message: None,
                graceful: true,
                after_s: None,
            },
        )
        .unwrap();
    net.drive();
    assert!(net.run_until(Duration::from_secs(5), |n| {
        n.nodes[np].best("198.51.100.0/24").is_some_and(|b| {
            b.attrs.local_pref == Some(0) && b.attrs.communities.contains(&GRACEFUL_SHUTDOWN)
        })
    }));
    // The default delay is 60 s.
    let start = net.now;
    assert!(net.run_until(Duration::from_secs(70), |n| {
        n.nodes[ns].notifications().contains(&(6, 2))
    }));
    assert!(net.now - start <= Duration::from_secs(60));
    assert!(net.now - start >= Duration::from_secs(59));
}

#[test]
fn a_disabled_neighbour_removed_by_a_reload_is_forgotten() {
    let (mut net, ns, _np, s, p) = pair();
    net.nodes[ns]
        .speaker
        .act(
            net.now,
            Action::Disable {
                neighbor: p,
                message: None,
                graceful: false,
                after_s: None,
            },
        )
        .unwrap();
    net.drive();
    let r = net.nodes[ns]
        .speaker
        .handle_reload(net.now, validated(&config(65001, s)));
    assert_eq!(r.removed, 1);
    let e = net.nodes[ns]
        .speaker
        .act(net.now, Action::Enable { neighbor: p })
        .unwrap_err();
    assert_eq!(e.code, "unknown_neighbor");
}

#[test]
fn a_reload_during_a_graceful_shutdown_keeps_the_community_on() {
    let (mut net, ns, np, s, p) = pair();
    net.nodes[ns]
        .speaker
        .act(
            net.now,
            Action::Disable {
                neighbor: p,
                message: None,
                graceful: true,
                after_s: Some(100),
            },
        )
        .unwrap();
    net.drive();
    let tagged = |n: &Net| {
        n.nodes[np]
            .best("198.51.100.0/24")
            .is_some_and(|b| b.attrs.communities.contains(&GRACEFUL_SHUTDOWN))
    };
    assert!(net.run_until(Duration::from_secs(5), tagged));
    // The export policy changes (a MED): applied in place, the community stays.
    let new = config(65001, s)
        .neighbor(neighbor(p, 65002).med(7))
        .originate(originate("198.51.100.0/24"));
    let r = net.nodes[ns]
        .speaker
        .handle_reload(net.now, validated(&new));
    assert_eq!(r.changed, 1);
    assert!(net.run_until(Duration::from_secs(5), |n| {
        n.nodes[np]
            .best("198.51.100.0/24")
            .is_some_and(|b| b.attrs.med == Some(7))
    }));
    assert!(tagged(&net));
    assert_eq!(net.nodes[ns].state_of(p), Some(State::Established));
}

#[test]
fn the_last_error_names_a_closed_connection() {
    let (mut net, ns, np, _s, _p) = pair();
    // P's process dies: S reads zero bytes.
    net.kill(np);
    let e = rows(&net.nodes[ns].speaker, net.now)[0]
        .last_error
        .clone()
        .unwrap();
    assert_eq!(e.kind, "connection");
    assert_eq!(e.text, "connection closed by peer");
    assert_eq!((e.code, e.subcode), (None, None));
}

#[test]
fn a_silent_peer_ends_in_hold_timer_expired_counted_as_sent() {
    let (mut net, ns, np, _s, p) = pair();
    // P stops reading and writing: S's hold timer (9 s) expires.
    net.nodes[np].alive = false;
    assert!(net.run_until(Duration::from_secs(20), |n| !n.established(ns, p)));
    let d = net.nodes[ns].speaker.neighbor(net.now, p).unwrap();
    let e = d.summary.last_error.unwrap();
    assert_eq!(e.kind, "hold_timer_expired");
    assert_eq!((e.code, e.subcode), (Some(4), Some(0)));
    assert!(d.notifications.iter().any(|n| n.direction == "sent"
        && (n.code, n.subcode, n.count) == (4, 0, 1)
        && n.name == "Hold Timer Expired"));
    let m = net.nodes[ns].speaker.metrics(net.now);
    assert_eq!(m.neighbors[0].flaps, 1);
    // Every NOTIFICATION sent is counted by code too (a collision's 6/7 as
    // well as the 4/0).
    let by_code: u64 = m.neighbors[0]
        .notifications
        .iter()
        .filter(|n| n.direction == "sent")
        .map(|n| n.count)
        .sum();
    assert_eq!(m.neighbors[0].sent.notification, by_code);
}
