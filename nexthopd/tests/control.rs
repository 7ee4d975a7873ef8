//! The control API and `nexthopctl` against a running nexthopd with a real
//! session: a raw peer (test-support's) from 127.0.0.242 announces routes to
//! nexthopd on 127.0.0.241, and `nexthopctl` (a process, over the Unix
//! socket) shows them: the Loc-RIB, the neighbour's Adj-RIB-In and
//! Adj-RIB-Out, longest match, counts; errors are one line with exit 1,
//! usage errors exit 2. On both runtimes.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use nexthop_core::wire::nlri::{Ipv4Prefix, Prefix};
use nexthop_speaker::config::RuntimeKind;
use nexthop_speaker::config::file::{ConfigFile, Neighbor, Originate};
use nexthop_test_support::address::free_port;
use nexthop_test_support::nexthopd::{Nexthopd, ctl};
use nexthop_test_support::raw_peer::{OpenSettings, TcpOptions};
use nexthop_test_support::{RawPeer, RunDir};

const OUR_AS: u32 = 65241;
const PEER_AS: u32 = 65242;
const WAIT: Duration = Duration::from_secs(30);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn v4(s: &str) -> Prefix {
    let (a, l) = s.split_once('/').unwrap();
    Prefix::V4(Ipv4Prefix::new(a.parse::<Ipv4Addr>().unwrap(), l.parse().unwrap()).unwrap())
}

fn routes(v: &serde_json::Value) -> Vec<(String, Option<String>, bool)> {
    let mut r: Vec<_> = v
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|r| {
            (
                r["prefix"].as_str().unwrap().to_string(),
                r["from"].as_str().map(str::to_string),
                r["best"].as_bool().unwrap(),
            )
        })
        .collect();
    r.sort();
    r
}

fn shows_routes_and_errors(runtime: RuntimeKind) {
    let run = RunDir::new(&format!("nexthopd-control-{runtime}")).unwrap();
    let me = ip("127.0.0.241");
    let listen = SocketAddr::new(me, free_port(me).unwrap());
    let toml = ConfigFile::new(OUR_AS, Ipv4Addr::new(192, 0, 2, 241))
        .runtime(runtime)
        .listen(listen)
        .neighbor(Neighbor::new(ip("127.0.0.242"), PEER_AS).passive(true))
        .originate(Originate::new("198.51.100.0/24".parse().unwrap()))
        .to_toml();
    let n = Nexthopd::start(
        Path::new(env!("CARGO_BIN_EXE_nexthopd")),
        run.path(),
        &toml,
        listen,
    )
    .unwrap();
    let open = OpenSettings::new(PEER_AS, 90, Ipv4Addr::new(192, 0, 2, 242));
    let mut peer = RawPeer::establish(ip("127.0.0.242"), listen, &open, &TcpOptions::default())
        .unwrap_or_else(|e| panic!("{e}\n{}", n.log()));
    for p in ["203.0.113.0/24", "10.1.0.0/16", "10.1.2.0/24"] {
        peer.announce(v4(p), ip("127.0.0.242")).unwrap();
    }
    // Our originated route reaches the peer: nexthopd has decided by then.
    peer.wait_route(v4("198.51.100.0/24"), WAIT).unwrap();
    let learned = |n: &Nexthopd| {
        let v = n.ctl(&["--json", "show", "routes"]).unwrap().json();
        v.as_array().map_or(0, |a| a.len())
    };
    for _ in 0..300 {
        if learned(&n) == 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let status = n.ctl(&["--json", "status"]).unwrap().json();
    assert_eq!(status["asn"], OUR_AS);
    assert_eq!(status["runtime"], runtime.to_string());

    let all = n.ctl(&["--json", "show", "routes"]).unwrap().json();
    let peer_s = Some("127.0.0.242".to_string());
    assert_eq!(
        routes(&all),
        [
            ("10.1.0.0/16".into(), peer_s.clone(), true),
            ("10.1.2.0/24".into(), peer_s.clone(), true),
            ("198.51.100.0/24".into(), None, true),
            ("203.0.113.0/24".into(), peer_s.clone(), true),
        ],
        "{all}\n{}",
        n.log()
    );
    let r = &all.as_array().unwrap()[0];
    assert_eq!(r["as_path"], PEER_AS.to_string());
    assert_eq!(r["next_hop"], "127.0.0.242");
    assert_eq!(r["origin"], "igp");

    let lm = n
        .ctl(&["--json", "show", "routes", "10.1.2.99", "--longest-match"])
        .unwrap()
        .json();
    assert_eq!(routes(&lm), [("10.1.2.0/24".into(), peer_s.clone(), true)]);
    let lm = n
        .ctl(&["--json", "show", "routes", "10.1.3.0/24", "--longest-match"])
        .unwrap()
        .json();
    assert_eq!(routes(&lm), [("10.1.0.0/16".into(), peer_s.clone(), true)]);
    let exact = n
        .ctl(&["--json", "show", "routes", "10.1.3.0/24"])
        .unwrap()
        .json();
    assert_eq!(exact, serde_json::json!([]));

    let received = n
        .ctl(&[
            "--json",
            "show",
            "routes",
            "--neighbor",
            "127.0.0.242",
            "--received",
        ])
        .unwrap()
        .json();
    assert_eq!(routes(&received).len(), 3, "{received}");
    let advertised = n
        .ctl(&[
            "--json",
            "show",
            "routes",
            "--neighbor",
            "127.0.0.242",
            "--advertised",
        ])
        .unwrap()
        .json();
    let adv = routes(&advertised);
    assert_eq!(adv.len(), 1, "{advertised}");
    assert_eq!(adv[0].0, "198.51.100.0/24");
    // What it is sent: our AS prepended (eBGP), next hop self.
    assert_eq!(advertised[0]["as_path"], OUR_AS.to_string());

    let summary = n
        .ctl(&["--json", "show", "routes", "--summary", "--family", "ipv4"])
        .unwrap()
        .json();
    assert_eq!(summary["families"][0]["prefixes"], 4, "{summary}");
    let table = n.ctl(&["show", "routes"]).unwrap();
    assert_eq!(table.code, Some(0));
    assert!(table.stdout.contains("*> 10.1.2.0/24"), "{}", table.stdout);

    // Errors: one line, exit 1, naming the problem.
    let e = n.ctl(&["show", "neighbor", "192.0.2.99"]).unwrap();
    assert_eq!(e.code, Some(1));
    assert!(
        e.stderr.starts_with("nexthopctl: no neighbor 192.0.2.99"),
        "{}",
        e.stderr
    );
    assert_eq!(e.stderr.lines().count(), 1);
    let e = n.ctl(&["show", "routes", "10.1.2.1/24"]).unwrap();
    assert_eq!(e.code, Some(1));
    assert!(
        e.stderr.contains("malformed prefix \"10.1.2.1/24\""),
        "{}",
        e.stderr
    );
    let e = n
        .ctl(&["show", "routes", "--neighbor", "192.0.2.99", "--advertised"])
        .unwrap();
    assert_eq!(e.code, Some(1));
    assert!(e.stderr.contains("no neighbor 192.0.2.99"), "{}", e.stderr);
    // Usage: exit 2.
    assert_eq!(n.ctl(&["frobnicate"]).unwrap().code, Some(2));
    assert_eq!(
        n.ctl(&["show", "routes", "--received"]).unwrap().code,
        Some(2)
    );
    // No daemon: exit 1 naming the socket.
    let gone = run.path().join("nobody.sock");
    let e = ctl(&gone, &["status"]).unwrap();
    assert_eq!(e.code, Some(1));
    assert!(
        e.stderr.contains("cannot connect to") && e.stderr.contains("nobody.sock"),
        "{}",
        e.stderr
    );
    drop(peer);
}

#[test]
fn nexthopctl_shows_routes_and_errors_mio() {
    shows_routes_and_errors(RuntimeKind::Mio);
}

#[test]
fn nexthopctl_shows_routes_and_errors_uring() {
    shows_routes_and_errors(RuntimeKind::Uring);
}
