//! The nexthopd binary: `check`, the refusal of the uring runtime, JSON logs,
//! SIGHUP with a broken and then a good config, SIGTERM's exit status 0.
//! Listens on 127.0.0.95-96, port 10179 (no root needed for ports above 1024).

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_nexthopd")
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nexthopd-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn config(addr: &str) -> String {
    format!(
        "[router]\nasn = 65095\nrouter_id = \"192.0.2.95\"\nlisten = [\"{addr}:10179\"]\n\n\
         [[neighbor]]\naddress = \"127.0.0.97\"\nremote_asn = 65097\npassive = true\n"
    )
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig}");
}

/// Waits (bounded) until the log file holds `what`; returns the log.
fn wait_log(path: &PathBuf, what: &str) -> String {
    let end = Instant::now() + Duration::from_secs(10);
    loop {
        let log = std::fs::read_to_string(path).unwrap_or_default();
        if log.contains(what) {
            return log;
        }
        assert!(Instant::now() < end, "no {what:?} in the log:\n{log}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn check_names_the_key_and_line_of_an_error() {
    let d = dir("check");
    let good = d.join("good.toml");
    std::fs::write(&good, config("127.0.0.95")).unwrap();
    let out = Command::new(bin())
        .arg("check")
        .arg("--config")
        .arg(&good)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid: AS 65095"));

    let bad = d.join("bad.toml");
    std::fs::write(
        &bad,
        config("127.0.0.95").replace("passive = true", "hold_time = 2"),
    )
    .unwrap();
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
            err.contains("line 9: neighbor[0].hold_time"),
            "{sub}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_uring_runtime_runs_and_sigterm_exits_0() {
    if let Err(why) = nexthop_runtime_uring::probe() {
        eprintln!("io_uring unavailable here ({why}): nothing to test");
        return;
    }
    let d = dir("uring");
    let p = d.join("uring.toml");
    std::fs::write(
        &p,
        config("127.0.0.95").replace("listen =", "runtime = \"uring\"\nlisten ="),
    )
    .unwrap();
    let child = Command::new(bin())
        .arg("run")
        .arg("--config")
        .arg(&p)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("runtime=\"uring\""), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn reload_keeps_running_on_a_bad_config_and_sigterm_exits_0() {
    let d = dir("signals");
    let conf = d.join("nexthopd.toml");
    let log = d.join("nexthopd.log");
    std::fs::write(&conf, config("127.0.0.96")).unwrap();
    let mut child = Command::new(bin())
        .args(["--log-format", "json", "run", "--config"])
        .arg(&conf)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_log(&log, "listening");

    // A broken config: logged, the running one stays.
    std::fs::write(&conf, "[router]\nasn = 0\n").unwrap();
    signal(&child, "-HUP");
    wait_log(&log, "config reload failed");
    assert!(child.try_wait().unwrap().is_none(), "still running");
    // A good one, with a neighbour more.
    let more = format!(
        "{}\n[[neighbor]]\naddress = \"127.0.0.98\"\nremote_asn = 65098\npassive = true\n",
        config("127.0.0.96")
    );
    std::fs::write(&conf, more).unwrap();
    signal(&child, "-HUP");
    let text = wait_log(&log, "config reloaded");

    signal(&child, "-TERM");
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < end, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let mut all = String::new();
    std::fs::File::open(&log)
        .unwrap()
        .read_to_string(&mut all)
        .unwrap();
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
    let _ = std::fs::remove_dir_all(&d);
}
