//! The nexthopd binary: `check`, the uring runtime, JSON logs, SIGHUP with a
//! broken and then a good config, SIGTERM's exit status 0 (the signals' Cease
//! to a peer: `signals.rs`; a session over ::1: `ipv6_session.rs`). Configs come
//! from the speaker's typed builder; nexthopd runs under test-support (stopped
//! by PID, also when a test fails) on loopback addresses no socket uses and
//! ports the kernel hands out.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nexthop_speaker::config::file::{ConfigFile, Neighbor};
use nexthop_test_support::RunDir;
use nexthop_test_support::address::{free_loopback_v4, free_port};
use nexthop_test_support::nexthopd::{Nexthopd, Options};

fn bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_nexthopd"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A free port on `addr`, as a listen address.
fn listen_on(addr: IpAddr) -> SocketAddr {
    SocketAddr::new(addr, free_port(addr).unwrap())
}

/// Where nexthopd listens and where its peer is: loopback addresses no
/// socket uses.
fn addresses() -> (SocketAddr, IpAddr) {
    let me = IpAddr::V4(free_loopback_v4().unwrap());
    let peer = IpAddr::V4(free_loopback_v4().unwrap());
    (listen_on(me), peer)
}

/// AS 65095 listening on `listen`, with a passive neighbour `peer` of AS 65097.
fn config(listen: SocketAddr, peer: IpAddr) -> ConfigFile {
    ConfigFile::new(65095, Ipv4Addr::new(192, 0, 2, 95))
        .listen(listen)
        .neighbor(Neighbor::new(peer, 65097).passive(true))
}

fn run_dir(test: &str) -> RunDir {
    RunDir::new(&format!("nexthopd-cli-{test}")).unwrap()
}

/// Waits (bounded) until the log of `n` holds `what`; returns the log.
fn wait_log(n: &Nexthopd, what: &str) -> String {
    n.wait_log(what, Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn check(path: &PathBuf) -> std::process::Output {
    Command::new(bin())
        .arg("check")
        .arg("--config")
        .arg(path)
        .output()
        .unwrap()
}

#[test]
fn check_names_the_key_and_line_of_an_error() {
    let run = run_dir("check");
    let (listen, peer) = addresses();
    let good = run.path().join("good.toml");
    std::fs::write(&good, config(listen, peer).to_toml()).unwrap();
    let out = check(&good);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid: AS 65095"));

    let bad_config = config(listen, peer).neighbor(Neighbor::new(ip("127.0.0.98"), 1).hold_time(2));
    let text = bad_config.to_toml();
    let line = 1 + text.lines().position(|l| l == "hold_time = 2").unwrap();
    let bad = run.path().join("bad.toml");
    std::fs::write(&bad, &text).unwrap();
    for sub in ["check", "run"] {
        let out = Command::new(bin())
            .arg(sub)
            .arg("--config")
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{sub}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("line {line}: neighbor[1].hold_time")),
            "{sub}: {err}"
        );
    }
}

#[test]
fn the_uring_runtime_runs_and_sigterm_exits_0() {
    if let Err(why) = nexthop_runtime_uring::probe() {
        nexthop_test_support::skip(&format!("io_uring is unavailable here: {why}"));
        return;
    }
    let run = run_dir("uring");
    let (listen, peer) = addresses();
    let cfg = config(listen, peer).runtime(nexthop_speaker::config::RuntimeKind::Uring);
    let mut n = Nexthopd::start(bin(), run.path(), &cfg.to_toml(), listen).unwrap();
    let status = n.terminate(Duration::from_secs(10));
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{}", n.log());
    assert!(n.log().contains("runtime=\"uring\""), "{}", n.log());
}

#[test]
fn reload_keeps_running_on_a_bad_config_and_sigterm_exits_0() {
    let run = run_dir("signals");
    let (listen, peer) = addresses();
    let options = Options {
        args: vec!["--log-format".into(), "json".into()],
        ..Options::default()
    };
    let mut n = Nexthopd::start_with(
        bin(),
        run.path(),
        &config(listen, peer).to_toml(),
        listen,
        options,
    )
    .unwrap();
    wait_log(&n, "listening");

    // A broken config: logged, the running one stays.
    std::fs::write(n.config_path(), "[router]\nasn = 0\n").unwrap();
    n.signal(libc::SIGHUP).unwrap();
    wait_log(&n, "config reload failed");
    assert!(n.exit_status().is_none(), "still running");
    // A good one, with a neighbour more.
    let more = config(listen, peer).neighbor(Neighbor::new(ip("127.0.0.98"), 65098).passive(true));
    n.reload(&more.to_toml()).unwrap();
    let text = wait_log(&n, "config reloaded");

    let status = n.terminate(Duration::from_secs(10));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    let all = n.log();
    assert!(all.contains("shut down"), "{all}");

    // Every line is a JSON object with the level and the message as keys.
    for line in all.lines() {
        assert!(
            line.starts_with('{') && line.ends_with('}') && line.contains("\"level\""),
            "{line}"
        );
    }
    let reloaded = text
        .lines()
        .find(|l| l.contains("config reloaded"))
        .unwrap();
    assert!(reloaded.contains("\"added\":1"), "{reloaded}");
}
