//! The harness proven against pairs of real daemons (nexthopd is not involved):
//! sessions come up, IPv4 and IPv6 routes with communities and large communities
//! flow both ways with the right attributes, withdrawals propagate, route refresh
//! and kill -9 / restart work, BIRD reflects routes with ORIGINATOR_ID and
//! CLUSTER_LIST, and ADD-PATH carries two paths for one prefix.
//!
//! Needs root and the packages of `scripts/install-peers`; without them every test
//! fails with a message saying so. Each test has its own loopback addresses
//! (127.0.0.1x, 2x, ...), so they run in parallel.

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::{
    Counter, EVERY_DAEMON, assert_no_leftovers, ip, kill9_and_restart, lo, step, tagged_route,
    wait_refresh_answered,
};
use nexthop_interop::{
    AddPath, Bird, Capture, Community, ExaBgp, Frr, GoBgp, LargeCommunity, Neighbor, OpenBgpd,
    Prefix, ReceivedRoute, Route, RunDir, Speaker, SpeakerConfig, WAIT, require, wait_until,
};

fn assert_attrs(
    r: &ReceivedRoute,
    as_path: &[u32],
    nh: &str,
    comms: &[Community],
    large: &[LargeCommunity],
) {
    assert_eq!(r.as_path, as_path, "AS_PATH of {r:?}");
    assert_eq!(r.next_hop, Some(ip(nh)), "NEXT_HOP of {r:?}");
    assert_eq!(r.communities, comms, "COMMUNITIES of {r:?}");
    assert_eq!(r.large_communities, large, "LARGE_COMMUNITY of {r:?}");
}

/// Originates one IPv4 and one IPv6 route from `asn`, tagged with it
/// ([`tagged_route`]), the IPv4 one with a second community `asn:2`.
fn tagged_routes(cfg: SpeakerConfig, v4: &str, v6: &str) -> SpeakerConfig {
    let a = cfg.asn;
    cfg.route(tagged_route(v4, a).community(a as u16, 2))
        .route(tagged_route(v6, a))
}

/// Checks the pair of tagged routes `to` received from `from`.
fn check_tagged(to: &dyn Speaker, from: &dyn Speaker, v4: &str, v6: &str) {
    let f = from.config();
    let a = f.asn;
    let r4 = to
        .wait_route(f.local_address, Prefix::new(v4), WAIT)
        .unwrap();
    assert_attrs(
        &r4,
        &[a],
        &f.next_hop_v4.unwrap().to_string(),
        &[Community(a as u16, 1), Community(a as u16, 2)],
        &[LargeCommunity(a, 1, 2)],
    );
    let r6 = to
        .wait_route(f.local_address, Prefix::new(v6), WAIT)
        .unwrap();
    assert_attrs(
        &r6,
        &[a],
        &f.next_hop_v6.unwrap().to_string(),
        &[Community(a as u16, 6)],
        &[LargeCommunity(a, 6, 6)],
    );
}

/// The IPv4 and IPv6 routes [`pair`] has the daemon at 127.0.0.`n` originate.
fn routes_of(n: u8) -> (String, String) {
    (format!("198.18.{n}.0/24"), format!("2001:db8:{n}::/48"))
}

/// Two daemons for [`exchange`]: at 127.0.0.`n` and .`n+1`, AS 65000 + their
/// last octet, each originating the [`tagged_routes`] of [`routes_of`]; the
/// first or the second only listens.
fn pair(n: u8, first_passive: bool) -> (SpeakerConfig, SpeakerConfig) {
    let speaker = |i: u8, passive: bool| {
        let (v4, v6) = routes_of(i);
        let other = if i == n { n + 1 } else { n };
        let peer = Neighbor::new(lo(other), 65000 + u32::from(other));
        let peer = if passive { peer.passive() } else { peer };
        tagged_routes(SpeakerConfig::new(lo(i), 65000 + u32::from(i)), &v4, &v6).neighbor(peer)
    };
    (speaker(n, first_passive), speaker(n + 1, !first_passive))
}

/// Routes flow both ways between the two daemons of [`pair`]`(n, ..)`, a
/// run-time route and its withdrawal propagate in both directions: 198.18.`n+100`.0/24
/// from `a`, 2001:db8:`n+1`:1::/64 from `b`.
fn exchange(a: &mut dyn Speaker, b: &mut dyn Speaker, n: u8) {
    let (a4, a6) = routes_of(n);
    let (b4, b6) = routes_of(n + 1);
    let a_routes = (a4.as_str(), a6.as_str());
    let b_routes = (b4.as_str(), b6.as_str());
    let (x4, x6) = (
        format!("198.18.{}.0/24", u16::from(n) + 100),
        format!("2001:db8:{}:1::/64", n + 1),
    );
    let extra = (x4.as_str(), x6.as_str());
    let (aa, ba) = (a.config().local_address, b.config().local_address);
    let name = format!("{} <-> {}", a.name(), b.name());
    let t0 = Instant::now();
    a.wait_established(ba, WAIT).unwrap();
    b.wait_established(aa, WAIT).unwrap();
    step(&name, t0, "established");
    check_tagged(b, a, a_routes.0, a_routes.1);
    check_tagged(a, b, b_routes.0, b_routes.1);
    step(&name, t0, "tagged routes seen both ways");

    // A route added at run time on each side arrives, then its withdrawal.
    let basn = b.config().asn;
    a.announce(Route::new(extra.0).community(7, 7)).unwrap();
    b.announce(Route::new(extra.1).large_community(basn, 9, 9))
        .unwrap();
    let r = b.wait_route(aa, Prefix::new(extra.0), WAIT).unwrap();
    assert_eq!(r.communities, vec![Community(7, 7)]);
    let r = a.wait_route(ba, Prefix::new(extra.1), WAIT).unwrap();
    assert_eq!(r.large_communities, vec![LargeCommunity(basn, 9, 9)]);
    a.withdraw(Prefix::new(extra.0)).unwrap();
    b.withdraw(Prefix::new(extra.1)).unwrap();
    b.wait_no_route(aa, Prefix::new(extra.0), WAIT).unwrap();
    a.wait_no_route(ba, Prefix::new(extra.1), WAIT).unwrap();

    // Withdrawing an originated route, both families.
    a.withdraw(Prefix::new(a_routes.1)).unwrap();
    b.wait_no_route(aa, Prefix::new(a_routes.1), WAIT).unwrap();
    b.withdraw(Prefix::new(b_routes.0)).unwrap();
    a.wait_no_route(ba, Prefix::new(b_routes.0), WAIT).unwrap();
    // What was not withdrawn stays.
    b.wait_route(aa, Prefix::new(a_routes.0), WAIT).unwrap();
    a.wait_route(ba, Prefix::new(b_routes.1), WAIT).unwrap();
    step(&name, t0, "run-time routes and withdrawals seen");
}

#[test]
fn bird_and_gobgp_exchange_refresh_and_survive_kill9() {
    require(&["bird", "birdc", "gobgpd", "gobgp"]);
    let run = RunDir::new("bird_gobgp").unwrap();
    let (bcfg, gcfg) = pair(11, false);
    let (ab, ag) = (bcfg.local_address, gcfg.local_address);
    let mut capture = Capture::start(&run, "bird_gobgp", &[ab, ag], 179).unwrap();
    let mut bird = Bird::start(&run, bcfg).unwrap();
    let mut gobgp = GoBgp::start(&run, gcfg).unwrap();
    exchange(&mut bird, &mut gobgp, 11);

    // Route refresh asked by BIRD reaches GoBGP, which sends its routes again.
    wait_refresh_answered(
        "GoBGP to receive ROUTE-REFRESH and resend",
        Counter::Answerer,
        || gobgp.message_counts(ab),
        || bird.request_refresh(ag),
    )
    .unwrap();
    // tshark saw the same: OPENs both ways, UPDATEs both ways, BIRD's ROUTE-REFRESH.
    let wire = capture.messages().unwrap();
    let seen =
        |from: Ipv4Addr, kind: u8| wire.iter().any(|m| *m.src.ip() == from && m.kind == kind);
    for (from, kind) in [(ab, 1), (ag, 1), (ab, 2), (ag, 2), (ab, 5)] {
        assert!(
            seen(from, kind),
            "no message type {kind} from {from} on the wire: {wire:?}"
        );
    }
    assert!(!seen(ag, 5), "GoBGP sent a ROUTE-REFRESH");

    // GoBGP cannot be asked to send one: the driver says so instead of pretending.
    assert!(gobgp.request_refresh(ab).is_err());

    // kill -9 of GoBGP: BIRD sees the session go down from the TCP reset, without
    // waiting for its 90 s hold timer; after a restart it comes back with routes.
    kill9_and_restart(&mut gobgp, &bird, &[Prefix::new("2001:db8:12::/48")]);
    bird.wait_route(ag, Prefix::new("2001:db8:12::/48"), WAIT)
        .unwrap();
    // GoBGP forgot its run-time withdrawal of 198.18.12.0/24? No: restart replays
    // the current route set, which no longer has it.
    bird.wait_no_route(ag, Prefix::new("198.18.12.0/24"), Duration::from_secs(1))
        .unwrap();

    drop(gobgp);
    drop(bird);
    assert_no_leftovers(&run);
}

#[test]
fn bird_and_frr_exchange_and_refresh() {
    require(&["bird", "birdc", "/usr/lib/frr/bgpd", "vtysh"]);
    let run = RunDir::new("bird_frr").unwrap();
    let (bcfg, fcfg) = pair(21, true);
    let (ab, af) = (bcfg.local_address, fcfg.local_address);
    let mut bird = Bird::start(&run, bcfg).unwrap();
    let mut frr = Frr::start(&run, fcfg).unwrap();
    exchange(&mut bird, &mut frr, 21);

    // FRR's `clear bgp ... soft in` sends ROUTE-REFRESH; BIRD answers with UPDATEs.
    wait_refresh_answered(
        "FRR to send ROUTE-REFRESH and get UPDATEs back",
        Counter::Asker,
        || frr.message_counts(ab),
        || frr.request_refresh(ab),
    )
    .unwrap();

    // kill -9 of FRR: BIRD sees the session drop; FRR restarts with its routes.
    kill9_and_restart(&mut frr, &bird, &[Prefix::new("2001:db8:22::/48")]);
    bird.wait_route(af, Prefix::new("2001:db8:22::/48"), WAIT)
        .unwrap();
    // kill -9 of BIRD: FRR sees it, BIRD restarts from its current config (the
    // run-time withdrawal of 2001:db8:21::/48 included).
    kill9_and_restart(&mut bird, &frr, &[]);
    frr.wait_route(ab, Prefix::new("198.18.21.0/24"), WAIT)
        .unwrap();
    frr.wait_no_route(ab, Prefix::new("2001:db8:21::/48"), Duration::from_secs(1))
        .unwrap();

    drop(frr);
    drop(bird);
    assert_no_leftovers(&run);
}

#[test]
fn gobgp_and_openbgpd_exchange_and_refresh() {
    require(&["gobgpd", "gobgp", "bgpd", "bgpctl"]);
    let run = RunDir::new("gobgp_openbgpd").unwrap();
    let (gcfg, ocfg) = pair(31, true);
    let (ag, ao) = (gcfg.local_address, ocfg.local_address);
    let mut gobgp = GoBgp::start(&run, gcfg).unwrap();
    let mut obgpd = OpenBgpd::start(&run, ocfg).unwrap();
    let t0 = Instant::now();
    exchange(&mut gobgp, &mut obgpd, 31);

    // bgpctl neighbor refresh: GoBGP receives ROUTE-REFRESH and resends.
    wait_refresh_answered(
        "GoBGP to receive OpenBGPD's ROUTE-REFRESH",
        Counter::Answerer,
        || gobgp.message_counts(ao),
        || obgpd.request_refresh(ag),
    )
    .unwrap();

    step("gobgp_openbgpd", t0, "refresh seen");
    // kill -9 of OpenBGPD (three processes) and restart.
    kill9_and_restart(&mut obgpd, &gobgp, &[]);
    gobgp
        .wait_route(ao, Prefix::new("2001:db8:32::/48"), WAIT)
        .unwrap();
    step("gobgp_openbgpd", t0, "back after restart");

    drop(obgpd);
    drop(gobgp);
    assert_no_leftovers(&run);
}

#[test]
fn bird_reflects_between_ibgp_clients_with_originator_and_cluster_list() {
    require(EVERY_DAEMON);
    let run = RunDir::new("bird_rr").unwrap();
    let asn = 65040;
    let (arr, ag, af, ae, ao) = (lo(41), lo(42), lo(43), lo(44), lo(45));
    let cluster = Ipv4Addr::new(192, 0, 2, 200);
    let rr = SpeakerConfig::new(arr, asn)
        .cluster_id(cluster)
        .neighbor(Neighbor::new(ag, asn).rr_client())
        .neighbor(Neighbor::new(af, asn).rr_client())
        .neighbor(Neighbor::new(ae, asn).rr_client())
        .neighbor(Neighbor::new(ao, asn).rr_client());
    // BIRD connects (it retries every 2 s); the clients only listen.
    let client =
        |a: Ipv4Addr| SpeakerConfig::new(a, asn).neighbor(Neighbor::new(arr, asn).passive());
    let gcfg = client(ag)
        .route(
            Route::new("198.18.42.0/24")
                .community(65040, 42)
                .large_community(65040, 42, 1),
        )
        .route(Route::new("2001:db8:42::/48").community(65040, 42));
    let fcfg = client(af).route(Route::new("198.18.43.0/24").community(65040, 43));
    let ecfg = client(ae);
    let ocfg = client(ao);
    let t0 = Instant::now();
    let bird = Bird::start(&run, rr).unwrap();
    let gobgp = GoBgp::start(&run, gcfg.clone()).unwrap();
    let frr = Frr::start(&run, fcfg.clone()).unwrap();
    let mut exa = ExaBgp::start(&run, ecfg).unwrap();
    let obgpd = OpenBgpd::start(&run, ocfg).unwrap();
    step("bird_rr", t0, "daemons started");
    for a in [ag, af, ae, ao] {
        bird.wait_established(a, WAIT).unwrap();
        step("bird_rr", t0, &format!("{a} established"));
    }

    // GoBGP's routes reach FRR, ExaBGP and OpenBGPD through BIRD: AS_PATH empty (iBGP),
    // NEXT_HOP unchanged, ORIGINATOR_ID = GoBGP's router id, CLUSTER_LIST = [cluster].
    for (who, r) in [
        (
            "frr",
            frr.wait_route(arr, Prefix::new("198.18.42.0/24"), WAIT)
                .unwrap(),
        ),
        (
            "exabgp",
            exa.wait_route(arr, Prefix::new("198.18.42.0/24"), WAIT)
                .unwrap(),
        ),
        (
            "openbgpd",
            obgpd
                .wait_route(arr, Prefix::new("198.18.42.0/24"), WAIT)
                .unwrap(),
        ),
    ] {
        assert!(r.as_path.is_empty(), "{who}: {r:?}");
        assert_eq!(r.next_hop, Some(ip("198.51.100.42")), "{who}: {r:?}");
        assert_eq!(r.originator_id, Some(gcfg.router_id), "{who}: {r:?}");
        assert_eq!(r.cluster_list, vec![cluster], "{who}: {r:?}");
        assert_eq!(r.communities, vec![Community(65040, 42)], "{who}: {r:?}");
        assert_eq!(
            r.large_communities,
            vec![LargeCommunity(65040, 42, 1)],
            "{who}: {r:?}"
        );
        assert_eq!(r.local_pref, Some(100), "{who}: {r:?}");
    }
    let r6 = exa
        .wait_route(arr, Prefix::new("2001:db8:42::/48"), WAIT)
        .unwrap();
    assert_eq!(r6.next_hop, Some(ip("2001:db8::42")));
    assert_eq!(r6.originator_id, Some(gcfg.router_id));
    assert_eq!(r6.cluster_list, vec![cluster]);

    // FRR's route reaches GoBGP the same way.
    let r = gobgp
        .wait_route(arr, Prefix::new("198.18.43.0/24"), WAIT)
        .unwrap();
    assert_eq!(r.originator_id, Some(fcfg.router_id), "{r:?}");
    assert_eq!(r.cluster_list, vec![cluster], "{r:?}");
    assert_eq!(r.next_hop, Some(ip("198.51.100.43")), "{r:?}");
    // BIRD itself sees the originals without reflection attributes.
    let r = bird
        .wait_route(ag, Prefix::new("198.18.42.0/24"), WAIT)
        .unwrap();
    assert_eq!(r.originator_id, None);
    assert!(r.cluster_list.is_empty());

    // kill -9 of ExaBGP (and its API process), restart: the reflected routes
    // arrive again in a fresh JSON stream.
    kill9_and_restart(&mut exa, &bird, &[]);
    let r = exa
        .wait_route(arr, Prefix::new("198.18.43.0/24"), WAIT)
        .unwrap();
    assert_eq!(r.originator_id, Some(fcfg.router_id), "{r:?}");
    step("bird_rr", t0, "ExaBGP back after kill -9");

    drop(obgpd);
    drop(exa);
    drop(frr);
    drop(gobgp);
    drop(bird);
    assert_no_leftovers(&run);
}

/// Subtypes of the ROUTE-REFRESH messages ExaBGP decoded from `peer`
/// (query: a request; begin/end: RFC 7313 markers).
fn refreshes(e: &ExaBgp, peer: Ipv4Addr) -> Vec<String> {
    e.messages()
        .unwrap()
        .iter()
        .filter(|m| m.kind == "refresh" && m.peer == Some(peer))
        .filter_map(|m| {
            m.json["neighbor"]["route-refresh"]["subtype"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

#[test]
fn add_path_from_bird_to_gobgp_carries_two_paths() {
    require(EVERY_DAEMON);
    let run = RunDir::new("bird_gobgp_addpath").unwrap();
    let (ab, ag, ax, ay) = (lo(51), lo(52), lo(53), lo(54));
    let (af, ao, az) = (lo(55), lo(56), lo(57));
    let p = "198.18.50.0/24";
    // Two ExaBGP speakers give BIRD two paths for one prefix; BIRD sends both over
    // ADD-PATH to GoBGP, and also to FRR, OpenBGPD and a third ExaBGP (the
    // independent decoder of the path ids).
    let bcfg = SpeakerConfig::new(ab, 65051)
        .neighbor(Neighbor::new(ag, 65052).add_path(AddPath::Send))
        .neighbor(Neighbor::new(ax, 65053).passive())
        .neighbor(Neighbor::new(ay, 65054).passive())
        .neighbor(Neighbor::new(af, 65055).add_path(AddPath::Send))
        .neighbor(Neighbor::new(ao, 65056).add_path(AddPath::Send))
        .neighbor(Neighbor::new(az, 65057).add_path(AddPath::Send));
    let receiver = |a: Ipv4Addr, asn: u32| {
        SpeakerConfig::new(a, asn).neighbor(
            Neighbor::new(ab, 65051)
                .passive()
                .add_path(AddPath::Receive),
        )
    };
    let gcfg = SpeakerConfig::new(ag, 65052).neighbor(
        Neighbor::new(ab, 65051)
            .passive()
            .add_path(AddPath::Receive),
    );
    let exa_cfg = |a: Ipv4Addr, asn: u32| {
        SpeakerConfig::new(a, asn)
            .neighbor(Neighbor::new(ab, 65051))
            .route(Route::new(p).community(asn as u16, 1))
    };
    let bird = Bird::start(&run, bcfg).unwrap();
    let gobgp = GoBgp::start(&run, gcfg).unwrap();
    let x = ExaBgp::start(&run, exa_cfg(ax, 65053)).unwrap();
    let y = ExaBgp::start(&run, exa_cfg(ay, 65054)).unwrap();
    let frr = Frr::start(&run, receiver(af, 65055)).unwrap();
    let obgpd = OpenBgpd::start(&run, receiver(ao, 65056)).unwrap();
    let z = ExaBgp::start(&run, receiver(az, 65057)).unwrap();
    bird.wait_paths(ax, Prefix::new(p), 1, WAIT).unwrap();
    bird.wait_paths(ay, Prefix::new(p), 1, WAIT).unwrap();

    let mut paths = gobgp.wait_paths(ab, Prefix::new(p), 2, WAIT).unwrap();
    paths.sort_by_key(|r| r.as_path.clone());
    assert_eq!(paths[0].as_path, vec![65051, 65053]);
    assert_eq!(paths[0].communities, vec![Community(65053, 1)]);
    assert_eq!(paths[1].as_path, vec![65051, 65054]);
    assert_eq!(paths[1].communities, vec![Community(65054, 1)]);
    for r in &paths {
        assert_eq!(r.next_hop, Some(ip("198.51.100.51")), "{r:?}");
    }
    // GoBGP shows the received path identifiers (ADD-PATH) in its ID column.
    let (a, b) = (paths[0].path_id, paths[1].path_id);
    assert!(a.is_some() && b.is_some() && a != b, "path ids {a:?} {b:?}");

    // ExaBGP decodes the identifiers BIRD sent: two distinct ones. FRR and OpenBGPD
    // show the same two paths with the same identifiers.
    let by_path = |s: &dyn Speaker| {
        let mut got = s.wait_paths(ab, Prefix::new(p), 2, WAIT).unwrap();
        got.sort_by_key(|r| r.as_path.clone());
        got.iter()
            .map(|r| (r.as_path.clone(), r.path_id))
            .collect::<Vec<_>>()
    };
    let decoded = by_path(&z);
    assert_eq!(decoded[0].0, vec![65051, 65053]);
    assert_eq!(decoded[1].0, vec![65051, 65054]);
    assert!(
        decoded.iter().all(|d| d.1.is_some()) && decoded[0].1 != decoded[1].1,
        "{decoded:?}"
    );
    assert_eq!(by_path(&frr), decoded, "frr");
    assert_eq!(by_path(&obgpd), decoded, "openbgpd");
    // GoBGP's ID column shows the received identifiers too.
    assert_eq!(
        vec![(paths[0].as_path.clone(), a), (paths[1].as_path.clone(), b)],
        decoded,
        "gobgp"
    );

    // ExaBGP asks BIRD for a refresh; BIRD answers with an enhanced route refresh
    // (RFC 7313): BoRR, its routes for x (none: x's own path is BIRD's best), EoRR.
    x.request_refresh(ab).unwrap();
    for subtype in ["begin", "end"] {
        wait_until(
            WAIT,
            &format!("ExaBGP to decode BIRD's {subtype} of refresh"),
            || refreshes(&x, ab).contains(&subtype.to_string()),
        )
        .unwrap();
    }

    // One path withdrawn: GoBGP keeps the other.
    let mut y = y;
    y.withdraw(Prefix::new(p)).unwrap();
    let left = gobgp.wait_paths(ab, Prefix::new(p), 1, WAIT).unwrap();
    assert_eq!(left[0].as_path, vec![65051, 65053]);

    // BIRD's `reload in` towards ExaBGP: the JSON decoder sees a ROUTE-REFRESH
    // request. (ExaBGP 4.2 then resets the session: this comes last.)
    bird.request_refresh(ax).unwrap();
    wait_until(WAIT, "ExaBGP to decode a ROUTE-REFRESH from BIRD", || {
        refreshes(&x, ab).contains(&"query".to_string())
    })
    .unwrap();

    drop(z);
    drop(obgpd);
    drop(frr);
    drop(y);
    drop(x);
    drop(gobgp);
    drop(bird);
    assert_no_leftovers(&run);
}

#[test]
fn wrong_peer_as_is_refused_with_notification_2_2() {
    require(&["bird", "birdc", "exabgp"]);
    let run = RunDir::new("wrong_as").unwrap();
    let (ab, ae) = (lo(58), lo(59));
    // BIRD expects AS 65099 at 127.0.0.59; ExaBGP there speaks AS 65059.
    let bird = Bird::start(
        &run,
        SpeakerConfig::new(ab, 65058).neighbor(Neighbor::new(ae, 65099).passive()),
    )
    .unwrap();
    let exa = ExaBgp::start(
        &run,
        SpeakerConfig::new(ae, 65059).neighbor(Neighbor::new(ab, 65058)),
    )
    .unwrap();
    // The independent decoder sees OPEN Message Error / Bad Peer AS (RFC 4271 §6.2).
    let got = nexthop_interop::wait_for(WAIT, "NOTIFICATION from BIRD", || {
        let n = exa.notifications(ab).unwrap();
        (!n.is_empty()).then_some(n)
    })
    .unwrap();
    assert_eq!(got[0], (2, 2), "{got:?}");
    assert_ne!(
        bird.session_state(ae).unwrap(),
        nexthop_interop::SessionState::Established
    );

    // A connection from an address BIRD has no neighbour for is closed at once,
    // without an OPEN.
    let probe = nexthop_interop::probe_connection(
        lo(60),
        std::net::SocketAddrV4::new(ab, 179),
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(probe, nexthop_interop::Probe::Closed(Vec::new()));

    drop(exa);
    drop(bird);
    assert_no_leftovers(&run);
}

#[test]
fn nexthopd_accepts_the_config_the_harness_renders() {
    // The harness's config for nexthopd against nexthopd's own parser.
    let run = RunDir::new("nexthopd_config").unwrap();
    let cfg = SpeakerConfig::new(lo(60), 65060)
        .cluster_id(Ipv4Addr::new(192, 0, 2, 60))
        .neighbor(Neighbor::new(lo(11), 65011).passive())
        .neighbor(
            Neighbor::new(lo(12), 65060)
                .rr_client()
                .add_path(AddPath::Both)
                .hold_time(9),
        )
        .neighbor(Neighbor::new(lo(13), 65013).families(&[nexthop_interop::Family::Ipv6Unicast]))
        .route(Route::new("198.18.60.0/24"))
        .route(Route::new("2001:db8:60::/48"));
    let out = nexthop_interop::nexthopd::check_config(&run, &cfg)
        .unwrap_or_else(|e| panic!("nexthopd check refused the rendered config: {e}"));
    assert!(out.contains("valid"), "{out}");
}

#[test]
fn sessions_on_ports_other_than_179() {
    require(&["bird", "birdc", "gobgpd", "gobgp", "bgpd", "bgpctl"]);
    let run = RunDir::new("other_ports").unwrap();
    let (ab, ag, ao) = (lo(16), lo(17), lo(18));
    let mut bcfg = SpeakerConfig::new(ab, 65016)
        .neighbor(Neighbor::new(ag, 65017).port(1792))
        .neighbor(Neighbor::new(ao, 65018).port(1793).passive())
        .route(Route::new("198.18.16.0/24"));
    bcfg.port = 1791;
    let mut gcfg = SpeakerConfig::new(ag, 65017)
        .neighbor(Neighbor::new(ab, 65016).port(1791).passive())
        .route(Route::new("198.18.17.0/24"));
    gcfg.port = 1792;
    let mut ocfg = SpeakerConfig::new(ao, 65018)
        .neighbor(Neighbor::new(ab, 65016).port(1791))
        .route(Route::new("198.18.18.0/24"));
    ocfg.port = 1793;
    let bird = Bird::start(&run, bcfg).unwrap();
    let gobgp = GoBgp::start(&run, gcfg).unwrap();
    let obgpd = OpenBgpd::start(&run, ocfg).unwrap();
    assert!(nexthop_test_support::procfs::is_listening(
        (ab, 1791).into()
    ));
    bird.wait_route(ag, Prefix::new("198.18.17.0/24"), WAIT)
        .unwrap();
    bird.wait_route(ao, Prefix::new("198.18.18.0/24"), WAIT)
        .unwrap();
    gobgp
        .wait_route(ab, Prefix::new("198.18.16.0/24"), WAIT)
        .unwrap();
    obgpd
        .wait_route(ab, Prefix::new("198.18.16.0/24"), WAIT)
        .unwrap();

    drop(obgpd);
    drop(gobgp);
    drop(bird);
    assert_no_leftovers(&run);
}
