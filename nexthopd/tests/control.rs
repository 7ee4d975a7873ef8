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

/// `GET target` over the control socket; the status and the whole body.
fn http_get(socket: &Path, target: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(socket).unwrap();
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (head[9..12].parse().unwrap(), body.to_string())
}

fn neighbor<'a>(all: &'a serde_json::Value, address: &str) -> &'a serde_json::Value {
    all.as_array()
        .unwrap()
        .iter()
        .find(|n| n["address"] == address)
        .unwrap_or_else(|| panic!("no {address} in {all}"))
}

/// Polls `show neighbors --json` until `ok` holds for `address` (bounded).
fn wait_neighbor(
    n: &Nexthopd,
    address: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    for _ in 0..300 {
        last = n.ctl(&["--json", "show", "neighbors"]).unwrap().json();
        if ok(neighbor(&last, address)) {
            return last;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{address} never got there: {last}\n{}", n.log());
}

fn neighbors_actions_watch_metrics(runtime: RuntimeKind) {
    let run = RunDir::new(&format!("nexthopd-control-ops-{runtime}")).unwrap();
    let me = ip("127.0.0.243");
    let listen = SocketAddr::new(me, free_port(me).unwrap());
    let toml = ConfigFile::new(OUR_AS, Ipv4Addr::new(192, 0, 2, 243))
        .runtime(runtime)
        .listen(listen)
        .neighbor(Neighbor::new(ip("127.0.0.244"), PEER_AS).passive(true))
        .neighbor(Neighbor::new(ip("127.0.0.245"), PEER_AS + 1).passive(true))
        .originate(Originate::new("198.51.100.0/24".parse().unwrap()))
        .to_toml();
    let n = Nexthopd::start(
        Path::new(env!("CARGO_BIN_EXE_nexthopd")),
        run.path(),
        &toml,
        listen,
    )
    .unwrap();
    // A watcher from the start: it must see the session come up and go down.
    let mut watch =
        std::process::Command::new(nexthop_test_support::nexthopd::ctl_binary().unwrap())
            .arg("--socket")
            .arg(n.control_socket())
            .args(["--json", "watch"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    let watch_out = watch.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        use std::io::BufRead;
        std::io::BufReader::new(watch_out)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    std::thread::sleep(Duration::from_millis(300));

    let open = OpenSettings::new(PEER_AS, 90, Ipv4Addr::new(192, 0, 2, 244));
    let mut peer = RawPeer::establish(ip("127.0.0.244"), listen, &open, &TcpOptions::default())
        .unwrap_or_else(|e| panic!("{e}\n{}", n.log()));
    for p in ["203.0.113.0/24", "10.2.0.0/16"] {
        peer.announce(v4(p), ip("127.0.0.244")).unwrap();
    }
    peer.wait_route(v4("198.51.100.0/24"), WAIT).unwrap();
    let all = wait_neighbor(&n, "127.0.0.244", |x| {
        x["prefixes_accepted"] == 2 && x["prefixes_advertised"] == 1
    });
    let up = neighbor(&all, "127.0.0.244");
    assert_eq!(up["state"], "Established", "{all}");
    assert_eq!(up["remote_asn"], PEER_AS);
    assert_eq!(up["prefixes_received"], 2, "{all}");
    assert!(up["uptime_s"].is_u64(), "{all}");
    let idle = neighbor(&all, "127.0.0.245");
    assert_ne!(idle["state"], "Established");
    assert_eq!(idle["remote_asn"], PEER_AS + 1);
    assert_eq!(all.as_array().unwrap().len(), 2);
    let table = n.ctl(&["show", "neighbors"]).unwrap();
    assert!(
        table.stdout.contains("127.0.0.244") && table.stdout.contains("Established"),
        "{}",
        table.stdout
    );
    let detail = n
        .ctl(&["--json", "show", "neighbor", "127.0.0.244"])
        .unwrap()
        .json();
    assert_eq!(detail["negotiated"]["hold_time_s"], 90, "{detail}");
    assert!(
        detail["messages_received"]["update"].as_u64().unwrap() >= 2,
        "{detail}"
    );
    assert!(
        detail["negotiated"]["route_refresh"].as_bool().unwrap(),
        "{detail}"
    );

    // /metrics, live, passes promtool and says what show neighbors says.
    let (st, metrics) = http_get(&n.control_socket(), "/metrics");
    assert_eq!(st, 200);
    assert!(
        metrics.contains("nexthop_neighbor_up{neighbor=\"127.0.0.244\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("nexthop_neighbor_prefixes{neighbor=\"127.0.0.244\",family=\"ipv4\",kind=\"accepted\"} 2"), "{metrics}");
    if nexthop_test_support::require("promtool") {
        let mut c = std::process::Command::new("promtool")
            .args(["check", "metrics"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        c.stdin
            .take()
            .unwrap()
            .write_all(metrics.as_bytes())
            .unwrap();
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "promtool: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Soft reset: the peer is asked for its routes (ROUTE-REFRESH), the
    // session stays.
    let r = n
        .ctl(&["neighbor", "127.0.0.244", "reset", "--soft"])
        .unwrap();
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    peer.set_read_timeout(Some(WAIT)).unwrap();
    let mut refreshed = false;
    for _ in 0..100 {
        match peer.read_message().unwrap() {
            Some(m)
                if m.message_type() == nexthop_core::wire::header::MessageType::RouteRefresh =>
            {
                refreshed = true;
                break;
            }
            Some(_) => {}
            None => panic!("closed on a soft reset\n{}", n.log()),
        }
    }
    assert!(refreshed, "no ROUTE-REFRESH after reset --soft");

    // Disable: Cease 6/2 with the operator's message (RFC 9003), and it stays
    // down until enabled.
    let r = n
        .ctl(&[
            "neighbor",
            "127.0.0.244",
            "disable",
            "--message",
            "maintenance window",
        ])
        .unwrap();
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    let notified = peer.wait_notification(WAIT).unwrap();
    assert_eq!((notified.code, notified.subcode), (6, 2));
    assert_eq!(
        notified.communication.as_deref(),
        Some("maintenance window")
    );
    let all = wait_neighbor(&n, "127.0.0.244", |x| x["state"] != "Established");
    let down = neighbor(&all, "127.0.0.244");
    assert_eq!(down["disabled"], true, "{all}");
    assert!(
        down["last_error"]["text"]
            .as_str()
            .unwrap()
            .contains("Administrative Shutdown"),
        "{all}"
    );
    assert_eq!(down["flaps"], 1, "{all}");
    assert!(
        RawPeer::establish(ip("127.0.0.244"), listen, &open, &TcpOptions::default()).is_err(),
        "a disabled neighbour's connection was taken"
    );
    let r = n.ctl(&["neighbor", "127.0.0.244", "enable"]).unwrap();
    assert_eq!(r.code, Some(0), "{}{}", r.stdout, r.stderr);
    let _again = RawPeer::establish(ip("127.0.0.244"), listen, &open, &TcpOptions::default())
        .unwrap_or_else(|e| panic!("enabled, yet: {e}\n{}", n.log()));
    wait_neighbor(&n, "127.0.0.244", |x| x["state"] == "Established");

    // The watcher saw it all: up, best paths, down.
    let _ = watch.kill();
    let _ = watch.wait();
    let lines = lines.join().unwrap();
    let events: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let state = |to: &str| {
        events
            .iter()
            .any(|e| e["type"] == "state" && e["neighbor"] == "127.0.0.244" && e["to"] == to)
    };
    assert!(state("Established"), "{lines:#?}");
    assert!(state("Idle"), "{lines:#?}");
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "best_path" && e["prefix"] == "10.2.0.0/16"),
        "{lines:#?}"
    );
}

#[test]
fn neighbors_actions_watch_and_metrics_mio() {
    neighbors_actions_watch_metrics(RuntimeKind::Mio);
}

#[test]
fn neighbors_actions_watch_and_metrics_uring() {
    neighbors_actions_watch_metrics(RuntimeKind::Uring);
}
