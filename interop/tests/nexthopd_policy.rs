//! Per-neighbour policy over real sessions with BIRD 2 (README, `[[neighbor]]`
//! keys): a route server client (RFC 7947 §2.2) receives routes without
//! nexthopd's AS prepended and with the next hop unchanged; an `import` rule
//! drops prefixes outside it (nothing passes them on); an `export` rule withholds
//! prefixes from that neighbour only; `communities` and `med` appear on what that
//! neighbour receives; `local_pref` applies to routes learned from the neighbour
//! it is set on (seen by an iBGP peer, RFC 4271 §5.1.5).
//!
//! Addresses: nexthopd on 127.0.0.241; BIRD A (AS 65242, originates) on .242,
//! BIRD B (AS 65243, route server client) on .243, BIRD C (iBGP, AS 65241) on
//! .246; all port 179 on their own address. Needs root and `bird2`.

mod common;

use common::{assert_no_leftovers, lo};
use nexthop_interop::nexthopd::config_file;
use nexthop_interop::{
    Bird, Community, Family, Neighbor, Nexthopd, Prefix, Route, RunDir, Speaker, SpeakerConfig,
    WAIT, require,
};

const OUR_AS: u32 = 65241;

fn or_log<T>(r: nexthop_interop::Result<T>, n: &Nexthopd) -> T {
    r.unwrap_or_else(|e| panic!("{e}\nnexthopd:\n{}", n.log_tail(40)))
}

#[test]
fn nexthopd_applies_route_server_import_export_communities_med_local_pref() {
    require(&["bird", "birdc"]);
    let run = RunDir::new("nexthopd_policy").unwrap();
    let (me, a, b, c) = (lo(241), lo(242), lo(243), lo(246));
    let v4 = &[Family::Ipv4Unicast];
    let peer_of = |addr, asn| {
        SpeakerConfig::new(addr, asn).neighbor(Neighbor::new(me, OUR_AS).passive().families(v4))
    };
    let bird_a = Bird::start(
        &run,
        peer_of(a, 65242)
            .route(Route::new("198.18.42.0/24"))
            .route(Route::new("198.18.43.0/24"))
            .route(Route::new("198.19.99.0/24")),
    )
    .unwrap();
    let bird_b = Bird::start(&run, peer_of(b, 65243)).unwrap();
    let bird_c = Bird::start(&run, peer_of(c, OUR_AS)).unwrap();

    let ncfg = SpeakerConfig::new(me, OUR_AS)
        .neighbor(Neighbor::new(a, 65242).families(v4))
        .neighbor(Neighbor::new(b, 65243).rs_client().families(v4))
        .neighbor(Neighbor::new(c, OUR_AS).families(v4));
    let mut file = config_file(&ncfg).unwrap();
    let na = file.neighbor_mut(a.into()).expect("A");
    *na = na
        .clone()
        .import(["198.18.0.0/16 le 24".parse().unwrap()])
        .local_pref(250);
    let nc = file.neighbor_mut(c.into()).expect("C");
    *nc = nc
        .clone()
        .export(["198.18.42.0/24".parse().unwrap()])
        .community("65241:77".parse().unwrap())
        .med(33);
    let n = Nexthopd::start_file(&run, ncfg, &file).unwrap();
    for bird in [&bird_a, &bird_b, &bird_c] {
        or_log(bird.wait_established(me, WAIT), &n);
    }
    let (p42, p43, p99) = (
        Prefix::new("198.18.42.0/24"),
        Prefix::new("198.18.43.0/24"),
        Prefix::new("198.19.99.0/24"),
    );

    // Route server client: AS_PATH without 65241, next hop of A (RFC 7947 §2.2).
    for p in [p42, p43] {
        let r = or_log(bird_b.wait_route(me, p, WAIT), &n);
        assert_eq!(r.as_path, vec![65242], "RS client, no AS prepended: {r:?}");
        assert_eq!(
            r.next_hop,
            Some("198.51.100.242".parse().unwrap()),
            "RS client, next hop unchanged: {r:?}"
        );
    }

    // iBGP C: only the exported prefix, with LOCAL_PREF from A's import side,
    // C's communities and MED.
    let r = or_log(bird_c.wait_route(me, p42, WAIT), &n);
    assert_eq!(r.as_path, vec![65242], "{r:?}");
    assert_eq!(r.local_pref, Some(250), "local_pref of A's routes: {r:?}");
    assert!(
        r.communities.contains(&Community(65241, 77)),
        "communities of C: {r:?}"
    );
    assert_eq!(r.med, Some(33), "med of C: {r:?}");

    // Everything A sent has arrived where it may (B has 42 and 43, C has 42):
    // what is missing now was held back.
    let at_b: Vec<Prefix> = bird_b
        .received_routes(me)
        .unwrap()
        .iter()
        .map(|r| r.prefix())
        .collect();
    let at_c: Vec<Prefix> = bird_c
        .received_routes(me)
        .unwrap()
        .iter()
        .map(|r| r.prefix())
        .collect();
    assert!(
        !at_c.contains(&p43),
        "export rule of C let 198.18.43.0/24 through: {at_c:?}"
    );
    assert!(
        !at_b.contains(&p99) && !at_c.contains(&p99),
        "import rule of A let 198.19.99.0/24 in: B {at_b:?}, C {at_c:?}"
    );
    // A did send it: BIRD A exports all its statics.
    let sent = bird_a
        .birdc(&[
            "show",
            "route",
            "export",
            &bird_protocol(me),
            "198.19.99.0/24",
        ])
        .unwrap();
    assert!(
        sent.contains("198.19.99.0/24"),
        "BIRD A does not export 198.19.99.0/24: {sent}"
    );

    drop(n);
    drop((bird_a, bird_b, bird_c));
    assert_no_leftovers(&run);
}

/// BIRD's protocol name for its neighbour at `addr`, port 179 (the driver's
/// naming).
fn bird_protocol(addr: std::net::Ipv4Addr) -> String {
    format!("peer_{}", addr.to_string().replace('.', "_"))
}
