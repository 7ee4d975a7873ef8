//! nexthopd (on the runtime NEXTHOP_RUNTIME names: scripts/test runs it on io_uring and on mio) against real daemons, issue 5: Established with BIRD 2,
//! GoBGP, FRR bgpd and OpenBGPD; IPv4 and IPv6 routes with communities and large
//! communities both ways (and in transit between GoBGP and FRR over eBGP);
//! withdrawals; route reflection between two BIRD iBGP
//! clients; ADD-PATH; route refresh; a peer's SIGKILL seen at once (90 s hold
//! time) and its return; NOTIFICATION 2/2 for a wrong AS; an unconfigured
//! address closed; a dynamic neighbour range; SIGHUP reload and SIGTERM's
//! Cease 6/2 with exit status 0.
//!
//! nexthopd has no query interface: what it received is observed through what
//! it sends on, decoded by ExaBGP (which accepts any next hop) and the daemons.
//! Addresses: nexthopd on 127.0.0.2-10, its peers on 127.0.0.101 and up (the
//! harness's own tests use .11-.60, runtime-mio's .71-.89).
//!
//! Needs root and the packages of `scripts/install-peers`.

mod common;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::{
    Counter, EVERY_DAEMON, assert_no_leftovers, assert_tagged, ip, lo, step, tagged,
    wait_refresh_answered,
};
use nexthop_interop::{
    AddPath, Bird, Community, ExaBgp, Frr, GoBgp, LargeCommunity, Neighbor, Nexthopd, OpenBgpd,
    Prefix, Probe, RESTART_WAIT, Route, RunDir, Speaker, SpeakerConfig, WAIT, probe_connection,
    require, wait_for, wait_until,
};

/// UPDATEs from `peer` that ExaBGP decoded and that mention `prefix`.
fn updates_with(exa: &ExaBgp, peer: Ipv4Addr, prefix: &str) -> usize {
    exa.messages()
        .unwrap()
        .iter()
        .filter(|m| m.kind == "update" && m.peer == Some(peer))
        .filter(|m| m.json.to_string().contains(prefix))
        .count()
}

/// Fails with nexthopd's log when `r` is an error.
fn or_log<T>(r: nexthop_interop::Result<T>, n: &Nexthopd) -> T {
    r.unwrap_or_else(|e| panic!("{e}\n--- nexthopd log ---\n{}", n.log_tail(60)))
}

#[test]
fn nexthopd_peers_with_bird_gobgp_frr_openbgpd() {
    require(EVERY_DAEMON);
    let t0 = Instant::now();
    let run = RunDir::new("nexthopd_peers").unwrap();
    let me = lo(2);
    let (ab, ag, af, ao, ax) = (lo(101), lo(102), lo(103), lo(104), lo(105));
    // BIRD and OpenBGPD are external peers. GoBGP and FRR are internal ones: on
    // eBGP nexthopd sends its own address (127.0.0.2) as next hop, which GoBGP
    // drops and FRR answers with NOTIFICATION 3/8 (martian next hop); on iBGP the
    // next hops stay the originators' (198.51.100.x, 2001:db8::x).
    // (address, AS, tag, IPv4 route, IPv6 route)
    let peers = [
        (
            ab,
            65101u32,
            65101u32,
            "198.18.101.0/24",
            "2001:db8:101::/48",
        ),
        (ag, 65002, 65102, "198.18.102.0/24", "2001:db8:102::/48"),
        (af, 65002, 65103, "198.18.103.0/24", "2001:db8:103::/48"),
        (ao, 65104, 65104, "198.18.104.0/24", "2001:db8:104::/48"),
    ];
    let cfg = |i: usize| {
        let (a, asn, tag, v4, v6) = peers[i];
        tagged(
            SpeakerConfig::new(a, asn).neighbor(Neighbor::new(me, 65002).passive()),
            tag,
            v4,
            v6,
        )
    };
    let mut bird = Bird::start(&run, cfg(0)).unwrap();
    let mut gobgp = GoBgp::start(&run, cfg(1)).unwrap();
    let mut frr = Frr::start(&run, cfg(2)).unwrap();
    let mut obgpd = OpenBgpd::start(&run, cfg(3)).unwrap();
    let exa = ExaBgp::start(
        &run,
        SpeakerConfig::new(ax, 65105).neighbor(Neighbor::new(me, 65002).passive()),
    )
    .unwrap();
    let mut ncfg = tagged(
        SpeakerConfig::new(me, 65002),
        65002,
        "198.18.2.0/24",
        "2001:db8:2::/48",
    );
    for (a, asn, ..) in peers {
        ncfg = ncfg.neighbor(Neighbor::new(a, asn));
    }
    ncfg = ncfg.neighbor(Neighbor::new(ax, 65105));
    let mut n = Nexthopd::start(&run, ncfg.clone()).unwrap();
    step("peers", t0, "started");

    let daemons: [&mut dyn Speaker; 4] = [&mut bird, &mut gobgp, &mut frr, &mut obgpd];
    for d in daemons.iter() {
        or_log(d.wait_established(me, WAIT), &n);
    }
    or_log(exa.wait_established(me, WAIT), &n);
    step("peers", t0, "all Established");

    // nexthopd's own routes reach every daemon with their attributes.
    for d in daemons.iter() {
        let ibgp = d.config().asn == 65002;
        let path: Vec<u32> = if ibgp { vec![] } else { vec![65002] };
        let name = d.name();
        let r4 = or_log(d.wait_route(me, Prefix::new("198.18.2.0/24"), WAIT), &n);
        assert_tagged(&r4, &name, &path, 65002);
        let r6 = or_log(d.wait_route(me, Prefix::new("2001:db8:2::/48"), WAIT), &n);
        assert_tagged(&r6, &name, &path, 65002);
        if ibgp {
            assert_eq!(r4.next_hop, Some(ip("198.51.100.2")), "{name}: {r4:?}");
            assert_eq!(r6.next_hop, Some(ip("2001:db8::2")), "{name}: {r6:?}");
            assert_eq!(r4.local_pref, Some(100), "{name}: {r4:?}");
        } else {
            assert!(
                r4.next_hop.is_some() && r6.next_hop.is_some(),
                "{name}: {r4:?} {r6:?}"
            );
        }
    }
    step("peers", t0, "nexthopd's routes at every daemon");

    // Every daemon's routes reach nexthopd: it passes them on (ExaBGP decodes them)
    // with its AS prepended and the communities kept.
    for (a, asn, tag, v4, v6) in peers {
        let path = if asn == 65002 {
            vec![65002]
        } else {
            vec![65002, asn]
        };
        for p in [v4, v6] {
            let r = or_log(exa.wait_route(me, Prefix::new(p), WAIT), &n);
            assert_tagged(&r, &format!("from {a}"), &path, tag);
        }
    }
    // Between daemons through nexthopd: BIRD's route at FRR (iBGP: next hop kept),
    // GoBGP's at OpenBGPD.
    let r = or_log(frr.wait_route(me, Prefix::new("198.18.101.0/24"), WAIT), &n);
    assert_eq!(r.as_path, vec![65101], "{r:?}");
    assert_eq!(r.next_hop, Some(ip("198.51.100.101")), "{r:?}");
    let r = or_log(
        obgpd.wait_route(me, Prefix::new("198.18.102.0/24"), WAIT),
        &n,
    );
    assert_eq!(r.as_path, vec![65002], "{r:?}");
    step("peers", t0, "every daemon's routes passed on");

    // Run-time announcements and withdrawals from each daemon propagate.
    let mut daemons: [&mut dyn Speaker; 4] = [&mut bird, &mut gobgp, &mut frr, &mut obgpd];
    for (i, d) in daemons.iter_mut().enumerate() {
        let p = format!("198.18.{}.0/24", 151 + i);
        let tag = peers[i].2;
        d.announce(Route::new(&p).large_community(tag, 9, 9))
            .unwrap();
        let r = or_log(exa.wait_route(me, Prefix::new(&p), WAIT), &n);
        assert_eq!(
            r.large_communities,
            vec![LargeCommunity(tag, 9, 9)],
            "{r:?}"
        );
        d.withdraw(Prefix::new(&p)).unwrap();
        or_log(exa.wait_no_route(me, Prefix::new(&p), WAIT), &n);
        // An originated route withdrawn, IPv6.
        let v6 = Prefix::new(peers[i].4);
        d.withdraw(v6).unwrap();
        or_log(exa.wait_no_route(me, v6, WAIT), &n);
        or_log(exa.wait_route(me, Prefix::new(peers[i].3), WAIT), &n);
    }
    step("peers", t0, "run-time routes and withdrawals propagated");

    // Route refresh from FRR (`clear bgp soft in`) and ExaBGP: nexthopd sends its
    // routes again.
    or_log(
        wait_refresh_answered(
            "FRR to get UPDATEs after its ROUTE-REFRESH",
            Counter::Asker,
            || frr.message_counts(me),
            || frr.request_refresh(me),
        ),
        &n,
    );
    let before = updates_with(&exa, me, "198.18.2.0/24");
    exa.request_refresh(me).unwrap();
    or_log(
        wait_until(
            WAIT,
            "ExaBGP to decode 198.18.2.0/24 again after its refresh",
            || updates_with(&exa, me, "198.18.2.0/24") > before,
        ),
        &n,
    );
    step("peers", t0, "route refresh answered");

    // SIGHUP with nexthopd's IPv6 route removed from the config: it is withdrawn
    // everywhere; the sessions stay up.
    let mut reduced = ncfg.clone();
    reduced.routes.retain(|r| !r.prefix.is_v6());
    n.reload(&nexthop_interop::nexthopd::config_file(&reduced).unwrap())
        .unwrap();
    let daemons: [&mut dyn Speaker; 4] = [&mut bird, &mut gobgp, &mut frr, &mut obgpd];
    for d in daemons.iter() {
        or_log(
            d.wait_no_route(me, Prefix::new("2001:db8:2::/48"), WAIT),
            &n,
        );
        or_log(d.wait_route(me, Prefix::new("198.18.2.0/24"), WAIT), &n);
        assert_eq!(
            d.session_state(me),
            Ok(nexthop_interop::SessionState::Established)
        );
    }
    assert!(n.log().contains("config reloaded"), "{}", n.log_tail(30));
    step("peers", t0, "reload withdrew the removed route");

    // SIGTERM: Cease 6/2 with the shutdown communication to every peer, exit
    // status 0. (ExaBGP 4.2 cannot decode an RFC 9003 communication: a bytes/str
    // mix-up in its Notification class; BIRD and FRR show it.)
    let status = n.terminate(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    let frr_reason = wait_for(WAIT, "FRR to report the Cease", || {
        let out = frr
            .vtysh(&[&format!("show bgp neighbors {me} json")])
            .ok()?;
        out.contains("nexthopd shutting down").then_some(out)
    });
    let frr_reason = or_log(frr_reason, &n);
    assert!(
        frr_reason.contains("Administrative Shutdown"),
        "{frr_reason}"
    );
    let bird_reason = wait_for(WAIT, "BIRD to report the Cease", || {
        let out = bird.birdc(&["show", "protocols", "all"]).ok()?;
        out.contains("Administrative shutdown").then_some(out)
    });
    or_log(bird_reason, &n);
    step("peers", t0, "SIGTERM: Cease 6/2, exit 0");

    drop(n);
    drop(exa);
    drop(obgpd);
    drop(frr);
    drop(gobgp);
    drop(bird);
    assert_no_leftovers(&run);
}

#[test]
fn nexthopd_transits_between_gobgp_and_frr_over_ebgp() {
    require(&["gobgpd", "gobgp", "/usr/lib/frr/bgpd", "vtysh"]);
    let t0 = Instant::now();
    let run = RunDir::new("nexthopd_transit").unwrap();
    let (me, ag, af) = (lo(7), lo(106), lo(107));
    let peer = |a: Ipv4Addr, asn: u32, v4: &str, v6: &str| {
        tagged(
            SpeakerConfig::new(a, asn).neighbor(Neighbor::new(me, 65007).passive()),
            asn,
            v4,
            v6,
        )
    };
    let gobgp = GoBgp::start(
        &run,
        peer(ag, 65106, "198.18.106.0/24", "2001:db8:106::/48"),
    )
    .unwrap();
    let frr = Frr::start(
        &run,
        peer(af, 65107, "198.18.107.0/24", "2001:db8:107::/48"),
    )
    .unwrap();
    // On eBGP nexthopd sends itself as next hop: a documentation address, which
    // GoBGP and FRR take (they refuse its 127.0.0.7).
    let ncfg = SpeakerConfig::new(me, 65007)
        .neighbor(Neighbor::new(ag, 65106))
        .neighbor(Neighbor::new(af, 65107));
    let mut file = nexthop_interop::nexthopd::config_file(&ncfg).unwrap();
    for a in [ag, af] {
        let nb = file.neighbor_mut(a.into()).unwrap();
        nb.next_hop_v4 = Some("198.51.100.7".parse().unwrap());
        nb.next_hop_v6 = Some("2001:db8::7".parse().unwrap());
    }
    let n = Nexthopd::start_file(&run, ncfg, &file).unwrap();
    or_log(gobgp.wait_established(me, WAIT), &n);
    or_log(frr.wait_established(me, WAIT), &n);
    step("transit", t0, "Established");
    for (to, from_asn, v4, v6) in [
        (
            &frr as &dyn Speaker,
            65106u32,
            "198.18.106.0/24",
            "2001:db8:106::/48",
        ),
        (&gobgp, 65107, "198.18.107.0/24", "2001:db8:107::/48"),
    ] {
        let r4 = or_log(to.wait_route(me, Prefix::new(v4), WAIT), &n);
        assert_tagged(&r4, &to.name(), &[65007, from_asn], from_asn);
        assert_eq!(
            r4.next_hop,
            Some(ip("198.51.100.7")),
            "{}: {r4:?}",
            to.name()
        );
        let r6 = or_log(to.wait_route(me, Prefix::new(v6), WAIT), &n);
        assert_eq!(r6.as_path, vec![65007, from_asn], "{}: {r6:?}", to.name());
        assert_eq!(
            r6.next_hop,
            Some(ip("2001:db8::7")),
            "{}: {r6:?}",
            to.name()
        );
        assert_eq!(
            r6.large_communities,
            vec![LargeCommunity(from_asn, 6, 6)],
            "{r6:?}"
        );
    }
    step(
        "transit",
        t0,
        "GoBGP's routes at FRR and FRR's at GoBGP through nexthopd",
    );
    let mut gobgp = gobgp;
    gobgp.withdraw(Prefix::new("198.18.106.0/24")).unwrap();
    or_log(
        frr.wait_no_route(me, Prefix::new("198.18.106.0/24"), WAIT),
        &n,
    );
    or_log(
        frr.wait_route(me, Prefix::new("2001:db8:106::/48"), WAIT),
        &n,
    );
    step("transit", t0, "withdrawal passed on");
    drop(n);
    drop(frr);
    drop(gobgp);
    assert_no_leftovers(&run);
}

#[test]
fn nexthopd_reflects_between_two_bird_ibgp_clients() {
    require(&["bird", "birdc"]);
    let t0 = Instant::now();
    let run = RunDir::new("nexthopd_rr").unwrap();
    let asn = 65003;
    let (me, a, b) = (lo(3), lo(111), lo(112));
    let cluster = Ipv4Addr::new(192, 0, 2, 203);
    let client = |addr: Ipv4Addr, v4: &str, v6: &str| {
        tagged(
            SpeakerConfig::new(addr, asn).neighbor(Neighbor::new(me, asn).passive()),
            u32::from(addr.octets()[3]),
            v4,
            v6,
        )
    };
    let acfg = client(a, "198.18.111.0/24", "2001:db8:111::/48");
    let bcfg = client(b, "198.18.112.0/24", "2001:db8:112::/48");
    let ba = Bird::start(&run, acfg.clone()).unwrap();
    let bb = Bird::start(&run, bcfg.clone()).unwrap();
    let n = Nexthopd::start(
        &run,
        SpeakerConfig::new(me, asn)
            .cluster_id(cluster)
            .neighbor(Neighbor::new(a, asn).rr_client())
            .neighbor(Neighbor::new(b, asn).rr_client()),
    )
    .unwrap();
    or_log(ba.wait_established(me, WAIT), &n);
    or_log(bb.wait_established(me, WAIT), &n);
    step("rr", t0, "both clients Established");
    for (to, from, fcfg, v4, v6) in [
        (&bb, a, &acfg, "198.18.111.0/24", "2001:db8:111::/48"),
        (&ba, b, &bcfg, "198.18.112.0/24", "2001:db8:112::/48"),
    ] {
        for p in [v4, v6] {
            let r = or_log(to.wait_route(me, Prefix::new(p), WAIT), &n);
            assert!(r.as_path.is_empty(), "iBGP: {r:?}");
            let orig = fcfg
                .routes
                .iter()
                .find(|r| r.prefix == Prefix::new(p))
                .unwrap();
            assert_eq!(
                r.next_hop,
                fcfg.next_hop_of(orig),
                "next hop unchanged: {r:?}"
            );
            assert_eq!(r.originator_id, Some(fcfg.router_id), "from {from}: {r:?}");
            assert_eq!(r.cluster_list, vec![cluster], "from {from}: {r:?}");
            assert_eq!(r.local_pref, Some(100), "{r:?}");
        }
        let r = or_log(to.wait_route(me, Prefix::new(v4), WAIT), &n);
        let tag = u32::from(from.octets()[3]);
        assert_eq!(r.communities, vec![Community(tag as u16, 1)], "{r:?}");
        assert_eq!(
            r.large_communities,
            vec![LargeCommunity(tag, 1, 2)],
            "{r:?}"
        );
    }
    step(
        "rr",
        t0,
        "reflected both ways with ORIGINATOR_ID and CLUSTER_LIST",
    );
    drop(n);
    drop(bb);
    drop(ba);
    assert_no_leftovers(&run);
}

#[test]
fn nexthopd_sends_several_paths_over_add_path() {
    require(&["bird", "birdc", "exabgp"]);
    let t0 = Instant::now();
    let run = RunDir::new("nexthopd_addpath").unwrap();
    let me = lo(4);
    let (x, y, ab, az) = (lo(121), lo(122), lo(123), lo(124));
    let p = "198.18.120.0/24";
    // Two ExaBGP speakers give nexthopd two paths for one prefix; nexthopd sends
    // both over ADD-PATH to BIRD and to a third ExaBGP, which decodes the path
    // identifiers. (GoBGP would refuse nexthopd's 127.x next hop on eBGP.)
    let source = |a: Ipv4Addr, asn: u32| {
        SpeakerConfig::new(a, asn)
            .neighbor(Neighbor::new(me, 65004).passive())
            .route(Route::new(p).community(asn as u16, 1))
    };
    let receiver = |a: Ipv4Addr, asn: u32| {
        SpeakerConfig::new(a, asn).neighbor(
            Neighbor::new(me, 65004)
                .passive()
                .add_path(AddPath::Receive),
        )
    };
    let ex = ExaBgp::start(&run, source(x, 65121)).unwrap();
    let mut ey = ExaBgp::start(&run, source(y, 65122)).unwrap();
    let bird = Bird::start(&run, receiver(ab, 65123)).unwrap();
    let ez = ExaBgp::start(&run, receiver(az, 65124)).unwrap();
    let n = Nexthopd::start(
        &run,
        SpeakerConfig::new(me, 65004)
            .neighbor(Neighbor::new(x, 65121))
            .neighbor(Neighbor::new(y, 65122))
            .neighbor(Neighbor::new(ab, 65123).add_path(AddPath::Send))
            .neighbor(Neighbor::new(az, 65124).add_path(AddPath::Send)),
    )
    .unwrap();
    for d in [&ex as &dyn Speaker, &ey, &bird, &ez] {
        or_log(d.wait_established(me, WAIT), &n);
    }
    step("addpath", t0, "Established");
    for d in [&bird as &dyn Speaker, &ez] {
        let mut paths = or_log(d.wait_paths(me, Prefix::new(p), 2, WAIT), &n);
        paths.sort_by_key(|r| r.as_path.clone());
        assert_eq!(
            paths[0].as_path,
            vec![65004, 65121],
            "{}: {paths:?}",
            d.name()
        );
        assert_eq!(paths[0].communities, vec![Community(65121, 1)]);
        assert_eq!(
            paths[1].as_path,
            vec![65004, 65122],
            "{}: {paths:?}",
            d.name()
        );
        assert_eq!(paths[1].communities, vec![Community(65122, 1)]);
    }
    let z = ez.wait_paths(me, Prefix::new(p), 2, WAIT).unwrap();
    assert!(
        z[0].path_id.is_some() && z[1].path_id.is_some() && z[0].path_id != z[1].path_id,
        "distinct path ids: {z:?}"
    );
    step("addpath", t0, "two paths at BIRD and ExaBGP");
    // One source withdraws: one path is left.
    ey.withdraw(Prefix::new(p)).unwrap();
    for d in [&bird as &dyn Speaker, &ez] {
        let left = or_log(d.wait_paths(me, Prefix::new(p), 1, WAIT), &n);
        assert_eq!(left[0].as_path, vec![65004, 65121], "{}", d.name());
    }
    step("addpath", t0, "one path after a withdrawal");
    drop(n);
    drop(ez);
    drop(bird);
    drop(ey);
    drop(ex);
    assert_no_leftovers(&run);
}

#[test]
fn nexthopd_sees_a_killed_peer_at_once_and_it_comes_back() {
    require(&["bird", "birdc"]);
    let t0 = Instant::now();
    let run = RunDir::new("nexthopd_kill9").unwrap();
    let (me, ab) = (lo(5), lo(131));
    let mut bird = Bird::start(
        &run,
        SpeakerConfig::new(ab, 65131)
            .neighbor(Neighbor::new(me, 65005).passive().hold_time(90))
            .route(Route::new("198.18.131.0/24")),
    )
    .unwrap();
    let n = Nexthopd::start(
        &run,
        SpeakerConfig::new(me, 65005)
            .neighbor(Neighbor::new(ab, 65131).hold_time(90))
            .route(Route::new("198.18.5.0/24")),
    )
    .unwrap();
    or_log(bird.wait_established(me, WAIT), &n);
    or_log(bird.wait_route(me, Prefix::new("198.18.5.0/24"), WAIT), &n);
    let logged_before = n.log().len();
    let t = Instant::now();
    bird.kill9();
    // The session goes down from the TCP close, not at the 90 s hold timer; the
    // bounded wait only keeps a broken build from hanging.
    let down = |log: &str| {
        log[logged_before.min(log.len())..]
            .lines()
            .any(|l| l.contains("session down") && l.contains(&ab.to_string()))
    };
    or_log(
        wait_until(
            Duration::from_secs(20),
            "nexthopd to log the session down",
            || down(&n.log()),
        ),
        &n,
    );
    eprintln!(
        "kill9: nexthopd logged the session down {:?} after the kill",
        t.elapsed()
    );
    bird.restart().unwrap();
    or_log(bird.wait_established(me, RESTART_WAIT), &n);
    or_log(bird.wait_route(me, Prefix::new("198.18.5.0/24"), WAIT), &n);
    step("kill9", t0, "session back after restart");
    drop(n);
    drop(bird);
    assert_no_leftovers(&run);
}

#[test]
fn nexthopd_refuses_a_wrong_as_and_an_unknown_address() {
    require(&["exabgp"]);
    let run = RunDir::new("nexthopd_refuse").unwrap();
    let (me, ae) = (lo(6), lo(141));
    // nexthopd expects AS 65999 at 127.0.0.141; ExaBGP there speaks AS 65141.
    let exa = ExaBgp::start(
        &run,
        SpeakerConfig::new(ae, 65141).neighbor(Neighbor::new(me, 65006)),
    )
    .unwrap();
    // A dynamic range 127.0.0.144/30: ExaBGP at .145 gets a session without a
    // [[neighbor]] of its own.
    let ad = lo(145);
    let dynamic = ExaBgp::start(
        &run,
        SpeakerConfig::new(ad, 65144).neighbor(Neighbor::new(me, 65006)),
    )
    .unwrap();
    let ncfg = SpeakerConfig::new(me, 65006).neighbor(Neighbor::new(ae, 65999).passive());
    let file = nexthop_interop::nexthopd::config_file(&ncfg)
        .unwrap()
        .dynamic_neighbor("127.0.0.144/30".parse().unwrap(), 65144);
    let n = Nexthopd::start_file(&run, ncfg, &file).unwrap();
    or_log(dynamic.wait_established(me, WAIT), &n);
    let got = or_log(
        wait_for(WAIT, "NOTIFICATION from nexthopd", || {
            let v = exa.notifications(me).unwrap();
            (!v.is_empty()).then_some(v)
        }),
        &n,
    );
    assert_eq!(got[0], (2, 2), "OPEN Message Error / Bad Peer AS: {got:?}");

    // A connection from an address with no neighbour is closed at once, no OPEN.
    let probe = probe_connection(
        lo(142),
        std::net::SocketAddrV4::new(me, 179),
        Duration::from_secs(5),
    )
    .unwrap();
    assert_eq!(probe, Probe::Closed(Vec::new()), "{}", n.log_tail(20));
    assert!(
        n.log()
            .contains("connection from an unconfigured address closed"),
        "{}",
        n.log_tail(20)
    );
    drop(n);
    drop(dynamic);
    drop(exa);
    assert_no_leftovers(&run);
}
