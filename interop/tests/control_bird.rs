//! Issue 13 end to end: `nexthopctl` and the control API of a nexthopd with
//! BIRD 2 neighbours on loopback. What the CLI shows is checked against what
//! BIRD was told to announce (its static routes) and what BIRD sees
//! (`birdc show protocols all`, `show route`): neighbours and counts, routes
//! and their attributes, `/metrics` through `promtool check metrics`, an
//! administrative disable with a shutdown message (RFC 9003) that holds across
//! a reload, enable, reset, soft reset and ROUTE-REFRESH (RFC 2918) without a
//! flap, graceful shutdown (RFC 8326), `watch`, and `explain` (RFC 4271 §9.1.2
//! ties, and the refusals of `explain --to`).
//!
//! Addresses: nexthopd on 127.0.0.171 (first test) and 127.0.0.181 (second);
//! BIRDs on the following addresses. Needs root, `bird2` and `promtool`.

mod common;

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::lo;
use nexthop_interop::nexthopd::config_file;
use nexthop_interop::{
    Bird, Community, Family, Neighbor, Nexthopd, Prefix, Route, RunDir, Speaker, SpeakerConfig,
    WAIT, require,
};
use nexthop_test_support::http;
use nexthop_test_support::nexthopd::{CtlOutput, control_socket, ctl, ctl_binary};
use serde_json::Value;

const OUR_AS: u32 = 65171;

fn or_log<T, E: std::fmt::Display>(r: Result<T, E>, n: &Nexthopd) -> T {
    r.unwrap_or_else(|e| panic!("{e}\nnexthopd:\n{}", n.log_tail(60)))
}

/// nexthopd's control socket in the harness's run directory.
fn socket(run: &RunDir, me: Ipv4Addr) -> PathBuf {
    control_socket(&run.path().join(format!("nexthopd-{me}")))
}

fn run_ctl(sock: &Path, args: &[&str]) -> CtlOutput {
    ctl(sock, args).unwrap_or_else(|e| panic!("nexthopctl {args:?}: {e}"))
}

fn json(sock: &Path, args: &[&str]) -> Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    run_ctl(sock, &a).json()
}

/// Polls `nexthopctl --json ARGS` until `ok` holds (bounded by [`WAIT`]); the
/// last answer either way.
fn wait_json(sock: &Path, args: &[&str], n: &Nexthopd, ok: impl Fn(&Value) -> bool) -> Value {
    let t0 = Instant::now();
    loop {
        let v = json(sock, args);
        if ok(&v) {
            return v;
        }
        if t0.elapsed() > WAIT {
            panic!(
                "nexthopctl {args:?} never satisfied the wait; last: {v:#}\nnexthopd:\n{}",
                n.log_tail(60)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn neighbor(list: &Value, addr: Ipv4Addr) -> &Value {
    list.as_array()
        .and_then(|a| a.iter().find(|x| x["address"] == addr.to_string()))
        .unwrap_or_else(|| panic!("{addr} not in {list:#}"))
}

fn birdc_protocol(bird: &Bird, me: Ipv4Addr) -> String {
    let name = format!("peer_{}", me.to_string().replace('.', "_"));
    bird.birdc(&["show", "protocols", "all", &name])
        .unwrap_or_else(|e| panic!("birdc: {e}"))
}

/// `nexthopctl --json watch` running, its lines collected by a thread; killed
/// by PID on drop.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<Value>,
}

impl Watch {
    /// `GET /v1/watch` read straight off the socket: the JSON lines of the
    /// chunked body (chunk-size lines are not JSON objects and are skipped).
    fn start_raw(sock: &Path) -> Watch {
        use std::io::Write;
        let mut s = std::os::unix::net::UnixStream::connect(sock).expect("control socket");
        write!(s, "GET /v1/watch HTTP/1.1\r\nHost: nexthopd\r\n\r\n").unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(s).lines().map_while(Result::ok) {
                if l.starts_with('{') && tx.send(l).is_err() {
                    return;
                }
            }
        });
        // No process: a `true` that has exited stands in, for Drop.
        let child = Command::new("true").spawn().unwrap();
        Watch {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    fn start(sock: &Path) -> Watch {
        let mut child = Command::new(ctl_binary().unwrap())
            .arg("--socket")
            .arg(sock)
            .args(["--json", "watch"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("nexthopctl watch");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    return;
                }
            }
        });
        Watch {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (bounded by [`WAIT`]) for an event `ok` accepts, keeping all it read.
    fn wait(&mut self, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
        let t0 = Instant::now();
        while t0.elapsed() < WAIT {
            if let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
                let v: Value = serde_json::from_str(&l)
                    .unwrap_or_else(|e| panic!("watch printed a line that is not JSON ({e}): {l}"));
                self.seen.push(v.clone());
                if ok(&v) {
                    return v;
                }
            }
        }
        panic!("watch never showed {what}; it showed: {:#?}", self.seen);
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn is_state(v: &Value, who: Ipv4Addr, to: &str) -> bool {
    v["type"] == "state" && v["neighbor"] == who.to_string() && v["to"] == to
}

/// BIRD A (eBGP, two routes, one with a community), B (eBGP, one route), C
/// (iBGP, none): neighbours, routes, summary, /metrics, watch, disable with a
/// message across a reload, enable, reset, soft reset, refresh, graceful.
#[test]
fn nexthopctl_shows_and_acts_on_bird_neighbours() {
    require(&["bird", "birdc", "promtool"]);
    let run = RunDir::new("control_bird_show").unwrap();
    let (me, a, b, c) = (lo(171), lo(172), lo(173), lo(176));
    let v4 = &[Family::Ipv4Unicast];
    let peer_of = |addr, asn| {
        SpeakerConfig::new(addr, asn).neighbor(Neighbor::new(me, OUR_AS).passive().families(v4))
    };
    let a_cfg = peer_of(a, 65172)
        .route(Route::new("198.18.72.0/24").community(65172, 7))
        .route(Route::new("198.18.73.0/24"));
    let bird_a = Bird::start(&run, a_cfg.clone()).unwrap();
    let bird_b = Bird::start(&run, peer_of(b, 65173).route(Route::new("198.18.74.0/24"))).unwrap();
    let bird_c = Bird::start(&run, peer_of(c, OUR_AS)).unwrap();
    let ncfg = SpeakerConfig::new(me, OUR_AS)
        .neighbor(Neighbor::new(a, 65172).families(v4))
        .neighbor(Neighbor::new(b, 65173).families(v4))
        .neighbor(Neighbor::new(c, OUR_AS).families(v4));
    let file = config_file(&ncfg).unwrap();
    let mut n = Nexthopd::start_file(&run, ncfg, &file).unwrap();
    for bird in [&bird_a, &bird_b, &bird_c] {
        or_log(bird.wait_established(me, WAIT), &n);
    }
    let sock = socket(&run, me);

    // Neighbours: Established, remote AS, prefixes as BIRD announced them. A
    // and B are sent the other's routes, C (iBGP) all three.
    let expect = [(a, 65172, 2, 1), (b, 65173, 1, 2), (c, OUR_AS, 0, 3)];
    let list = wait_json(&sock, &["show", "neighbors"], &n, |v| {
        expect.iter().all(|&(addr, _, rx, _)| {
            let x = neighbor(v, addr);
            x["state"] == "Established" && x["prefixes_accepted"] == rx
        })
    });
    assert_eq!(list.as_array().unwrap().len(), 3, "{list:#}");
    for (addr, asn, rx, _) in expect {
        let x = neighbor(&list, addr);
        assert_eq!(x["remote_asn"], asn, "{x:#}");
        assert_eq!(x["prefixes_received"], rx, "{x:#}");
        assert_eq!(x["prefixes_accepted"], rx, "{x:#}");
        assert_eq!(x["disabled"], false, "{x:#}");
    }
    // What C (iBGP) holds from nexthopd; the advertised counters are
    // checked at the end, so that the rest is shown whatever they say.
    for p in ["198.18.72.0/24", "198.18.73.0/24", "198.18.74.0/24"] {
        or_log(bird_c.wait_route(me, Prefix::new(p), WAIT), &n);
    }
    let advertised_at_start = json(&sock, &["show", "neighbors"]);

    // One route as BIRD A announced it: AS path, next hop, origin, community.
    let r = json(&sock, &["show", "routes", "198.18.72.0/24"]);
    let r = r.as_array().unwrap();
    assert_eq!(r.len(), 1, "{r:#?}");
    let r = &r[0];
    let sent = Route::new("198.18.72.0/24").community(65172, 7);
    assert_eq!(r["from"], a.to_string(), "{r:#}");
    assert_eq!(r["best"], true, "{r:#}");
    assert_eq!(r["as_path"], "65172", "{r:#}");
    assert_eq!(
        r["next_hop"],
        a_cfg.next_hop_of(&sent).unwrap().to_string(),
        "{r:#}"
    );
    assert_eq!(r["origin"], "igp", "{r:#}");
    assert_eq!(r["communities"], serde_json::json!(["65172:7"]), "{r:#}");
    assert_eq!(r["med"], Value::Null, "{r:#}");
    let summary = json(&sock, &["show", "routes", "--summary"]);
    let fam = &summary["families"][0];
    assert_eq!(
        (&fam["family"], &fam["prefixes"], &fam["paths"]),
        (
            &serde_json::json!("ipv4"),
            &serde_json::json!(3),
            &serde_json::json!(3)
        ),
        "{summary:#}"
    );
    let adv = json(
        &sock,
        &[
            "show",
            "routes",
            "--neighbor",
            &c.to_string(),
            "--advertised",
            "--summary",
        ],
    );
    assert_eq!(adv["families"][0]["prefixes"], 3, "{adv:#}");

    // /metrics: valid exposition (promtool), and values that match.
    let m = or_log(http::get(&sock, "/metrics", WAIT), &n);
    assert_eq!(m.status, 200, "{}", m.text());
    let text = m.text();
    let prom = run.path().join("metrics.txt");
    std::fs::write(&prom, &text).unwrap();
    let out = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&prom).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        format!("nexthop_neighbor_up{{neighbor=\"{a}\"}} 1"),
        format!("nexthop_neighbor_state{{neighbor=\"{b}\",state=\"Established\"}} 1"),
        format!(
            "nexthop_neighbor_prefixes{{neighbor=\"{a}\",family=\"ipv4\",kind=\"accepted\"}} 2"
        ),
        "nexthop_rib_prefixes{family=\"ipv4\"} 3".to_string(),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "no `{line}` in /metrics:\n{text}"
        );
    }

    // Disable A with a message: BIRD sees the Cease and the message; watch
    // sees the session leave Established and A's routes lose their best path.
    let mut watch = Watch::start_raw(&sock);
    let mut ctl_watch = Watch::start(&sock);
    std::thread::sleep(Duration::from_millis(300));
    let out = run_ctl(
        &sock,
        &[
            "neighbor",
            &a.to_string(),
            "disable",
            "--message",
            "maintenance",
        ],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    or_log(bird_a.wait_not_established(me, WAIT), &n);
    let shown = birdc_protocol(&bird_a, me);
    assert!(
        shown.contains("maintenance") && shown.contains("Administrative shutdown"),
        "BIRD shows no administrative shutdown with the message:\n{shown}"
    );
    watch.wait("A leaving Established", |v| {
        v["type"] == "state" && v["neighbor"] == a.to_string() && v["from"] == "Established"
    });
    watch.wait("198.18.73.0/24 withdrawn", |v| {
        v["type"] == "best_path" && v["prefix"] == "198.18.73.0/24" && v["best"].is_null()
    });
    or_log(
        bird_c.wait_no_route(me, Prefix::new("198.18.73.0/24"), WAIT),
        &n,
    );

    // A reload keeps it down.
    let out = run_ctl(&sock, &["reload"]);
    assert_eq!(out.code, Some(0), "reload: {out:?}");
    let x = json(&sock, &["show", "neighbor", &a.to_string()]);
    assert_eq!(x["disabled"], true, "{x:#}");
    // Given time to come back were it not disabled (BIRD is passive, nexthopd
    // would connect at once): still down at both ends.
    std::thread::sleep(Duration::from_secs(3));
    let x = json(&sock, &["show", "neighbors"]);
    assert_ne!(neighbor(&x, a)["state"], "Established", "{x:#}");
    assert_ne!(
        bird_a.session_state(me).unwrap(),
        nexthop_interop::SessionState::Established
    );

    // Enable: back, routes back, watch sees Established and the best path.
    let out = run_ctl(&sock, &["neighbor", &a.to_string(), "enable"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    or_log(bird_a.wait_established(me, WAIT), &n);
    watch.wait("A Established again", |v| is_state(v, a, "Established"));
    watch.wait("198.18.73.0/24 best from A again", |v| {
        v["type"] == "best_path"
            && v["prefix"] == "198.18.73.0/24"
            && v["best"]["from"] == a.to_string()
    });
    drop(watch);

    // Reset: a flap at BIRD (its session went down and came back), counted.
    let flaps = |n: &Nexthopd| {
        let _ = n;
        json(&sock, &["show", "neighbor", &b.to_string()])["flaps"]
            .as_u64()
            .unwrap()
    };
    let before = flaps(&n);
    let out = run_ctl(&sock, &["neighbor", &b.to_string(), "reset"]);
    assert_eq!(out.code, Some(0), "{out:?}");
    wait_json(&sock, &["show", "neighbor", &b.to_string()], &n, |v| {
        v["flaps"].as_u64() > Some(before) && v["state"] == "Established"
    });
    or_log(bird_b.wait_established(me, WAIT), &n);

    // Soft reset and refresh in: a ROUTE-REFRESH sent to B (counted at
    // nexthopd's end), no flap, B's route still there.
    let detail = json(&sock, &["show", "neighbor", &b.to_string()]);
    let (flaps0, rr0) = (
        detail["flaps"].as_u64().unwrap(),
        detail["messages_sent"]["route_refresh"].as_u64().unwrap(),
    );
    for args in [vec!["reset", "--soft"], vec!["refresh", "in"]] {
        let mut a2 = vec!["neighbor", &*b.to_string().leak()];
        a2.extend(args);
        let out = run_ctl(&sock, &a2);
        assert_eq!(out.code, Some(0), "{a2:?}: {out:?}");
    }
    let detail = wait_json(&sock, &["show", "neighbor", &b.to_string()], &n, |v| {
        v["messages_sent"]["route_refresh"].as_u64() >= Some(rr0 + 2)
    });
    assert_eq!(detail["flaps"].as_u64().unwrap(), flaps0, "{detail:#}");
    assert_eq!(detail["state"], "Established", "{detail:#}");
    let shown = birdc_protocol(&bird_b, me);
    assert!(shown.contains("Established"), "{shown}");

    // Graceful disable: B first receives its routes again with
    // GRACEFUL_SHUTDOWN (65535:0), then the session goes down.
    let out = run_ctl(
        &sock,
        &[
            "neighbor",
            &b.to_string(),
            "disable",
            "--graceful",
            "--after",
            "2",
        ],
    );
    assert_eq!(out.code, Some(0), "{out:?}");
    let gshut = Community(65535, 0);
    let t0 = Instant::now();
    let seen = loop {
        let routes = bird_b.received_routes(me).unwrap_or_default();
        if routes
            .iter()
            .any(|r| r.prefix() == Prefix::new("198.18.72.0/24") && r.communities.contains(&gshut))
        {
            break true;
        }
        if t0.elapsed() > WAIT
            || bird_b.session_state(me).ok() != Some(nexthop_interop::SessionState::Established)
        {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        seen,
        "BIRD B never saw 65535:0 on 198.18.72.0/24 before the session went down\n{}",
        n.log_tail(40)
    );
    or_log(bird_b.wait_not_established(me, WAIT), &n);

    let line = format!(
        "nexthop_neighbor_prefixes{{neighbor=\"{c}\",family=\"ipv4\",kind=\"advertised\"}} 3"
    );
    assert!(
        text.lines().any(|l| l == line),
        "no `{line}` in /metrics:\n{text}"
    );
    for (addr, _, _, tx) in expect {
        let x = neighbor(&advertised_at_start, addr);
        assert_eq!(
            x["prefixes_advertised"], tx,
            "prefixes_advertised of {addr}: {x:#}"
        );
    }
    // nexthopctl watch printed the same, as it happened (its lines are read
    // while it runs, before it is stopped).
    ctl_watch.wait("(nexthopctl watch) A leaving Established", |v| {
        v["type"] == "state" && v["neighbor"] == a.to_string() && v["from"] == "Established"
    });
    ctl_watch.wait("(nexthopctl watch) A Established again", |v| {
        is_state(v, a, "Established")
    });
    drop(ctl_watch);
    let _ = n.terminate(Duration::from_secs(5));
}

/// Ties and refusals for `explain`: A and B (eBGP) both announce two
/// prefixes, A's with a higher LOCAL_PREF on import; C and D are iBGP
/// non-clients; E is configured and never comes up.
#[test]
fn explain_names_the_decision_step_and_the_refusal() {
    require(&["bird", "birdc"]);
    let run = RunDir::new("control_bird_explain").unwrap();
    let (me, a, b, c, d, e) = (lo(181), lo(182), lo(183), lo(186), lo(187), lo(189));
    let v4 = &[Family::Ipv4Unicast];
    let peer_of = |addr, asn| {
        SpeakerConfig::new(addr, asn).neighbor(Neighbor::new(me, OUR_AS).passive().families(v4))
    };
    let bird_a = Bird::start(
        &run,
        peer_of(a, 65182)
            .route(Route::new("198.18.80.0/24"))
            .route(Route::new("198.18.81.0/24"))
            .route(Route::new("198.18.85.0/24").community(65535, 65281)),
    )
    .unwrap();
    let bird_b = Bird::start(
        &run,
        peer_of(b, 65183)
            .route(Route::new("198.18.80.0/24"))
            .route(Route::new("198.18.81.0/24")),
    )
    .unwrap();
    let bird_c = Bird::start(&run, peer_of(c, OUR_AS).route(Route::new("198.18.86.0/24"))).unwrap();
    let bird_d = Bird::start(&run, peer_of(d, OUR_AS)).unwrap();
    let ncfg = SpeakerConfig::new(me, OUR_AS)
        .neighbor(Neighbor::new(a, 65182).families(v4))
        .neighbor(Neighbor::new(b, 65183).families(v4))
        .neighbor(Neighbor::new(c, OUR_AS).families(v4))
        .neighbor(Neighbor::new(d, OUR_AS).families(v4))
        .neighbor(Neighbor::new(e, 65189).families(v4));
    let mut file = config_file(&ncfg).unwrap();
    let na = file.neighbor_mut(a.into()).expect("A");
    *na = na.clone().local_pref(200);
    let nd = file.neighbor_mut(d.into()).expect("D");
    *nd = nd.clone().export(["198.18.80.0/24".parse().unwrap()]);
    let n = Nexthopd::start_file(&run, ncfg, &file).unwrap();
    for bird in [&bird_a, &bird_b, &bird_c, &bird_d] {
        or_log(bird.wait_established(me, WAIT), &n);
    }
    or_log(
        bird_d.wait_route(me, Prefix::new("198.18.80.0/24"), WAIT),
        &n,
    );
    let sock = socket(&run, me);
    wait_json(&sock, &["show", "routes", "--summary"], &n, |v| {
        v["families"][0]["paths"] == 6
    });

    // 198.18.81.0/24: A's path has LOCAL_PREF 200 (nexthopd's import on A),
    // B's the default 100; the rest is equal (AS path length 1, IGP): B's
    // loses at LOCAL_PREF (RFC 4271 §9.1.1).
    let x = json(&sock, &["explain", "198.18.81.0/24"]);
    let cands = x["candidates"]
        .as_array()
        .unwrap_or_else(|| panic!("{x:#}"));
    assert_eq!(cands.len(), 2, "{x:#}");
    assert_eq!(cands[0]["route"]["from"], a.to_string(), "{x:#}");
    assert_eq!(cands[0]["route"]["best"], true, "{x:#}");
    assert_eq!(cands[1]["route"]["from"], b.to_string(), "{x:#}");
    assert_eq!(cands[1]["step"], "local_pref", "{x:#}");

    // explain --to: each refusal by its code.
    let to = |p: &str, who: Ipv4Addr| json(&sock, &["explain", p, "--to", &who.to_string()]);
    let cases = [
        ("198.18.81.0/24", d, "export_policy"),
        ("198.18.85.0/24", b, "no_export"),
        ("198.18.81.0/24", a, "split_horizon"),
        ("198.18.86.0/24", d, "ibgp_to_ibgp_non_client"),
        ("198.18.80.0/24", e, "session_not_established"),
    ];
    for (p, who, code) in cases {
        let v = to(p, who);
        assert_eq!(v["advertised"], false, "{p} to {who}: {v:#}");
        assert_eq!(v["reason_code"], code, "{p} to {who}: {v:#}");
        assert!(!v["reason"].as_str().unwrap_or("").is_empty(), "{v:#}");
    }
    // And an advertised one: sent, with what it is sent.
    let v = to("198.18.80.0/24", d);
    assert_eq!(v["advertised"], true, "{v:#}");
    assert_eq!(v["reason_code"], Value::Null, "{v:#}");
    assert_eq!(v["sent"][0]["prefix"], "198.18.80.0/24", "{v:#}");
}
