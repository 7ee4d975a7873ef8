//! `nexthopd lab` end to end: a small run (10 iBGP clients, 2,000 prefixes)
//! completes, exits 0 and prints the summary table. No timing thresholds.

use std::process::Command;

#[test]
fn small_lab_run_completes_with_a_summary() {
    let out = Command::new(env!("CARGO_BIN_EXE_nexthopd"))
        .args([
            "lab",
            "--peers",
            "10",
            "--prefixes",
            "2000",
            "--listen",
            "127.0.0.73:1790",
            "--peer-base",
            "127.0.3.1",
            "--timeout",
            "60",
            "--quiet",
        ])
        .output()
        .expect("nexthopd runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "nexthopd lab failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for row in [
        "| complete | true |",
        "| all sessions up after |",
        "| routes reflected | 18000 |",
        "| convergence |",
        "| routes/s |",
        "| nexthopd peak RSS |",
        "| nexthopd CPU |",
        "| loadgen CPU |",
    ] {
        assert!(stdout.contains(row), "{row} missing from\n{stdout}");
    }
}

#[test]
fn json_summary_counts_every_route() {
    let out = Command::new(env!("CARGO_BIN_EXE_nexthopd"))
        .args([
            "lab",
            "--peers",
            "4",
            "--senders",
            "2",
            "--prefixes",
            "500",
            "--overlap",
            "1",
            "--listen",
            "127.0.0.74:1790",
            "--peer-base",
            "127.0.4.1",
            "--timeout",
            "60",
            "--quiet",
            "--json",
        ])
        .output()
        .expect("nexthopd runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 2 receivers x 500 shared prefixes.
    assert!(stdout.contains("\"routes_received\":1000"), "{stdout}");
    assert!(stdout.contains("\"complete\":true"), "{stdout}");
    assert!(stdout.contains("\"dut_peak_rss_bytes\":"), "{stdout}");
}

#[test]
fn address_taken_fails_non_zero() {
    let _l = std::net::TcpListener::bind("127.0.0.75:1790").expect("bind");
    let out = Command::new(env!("CARGO_BIN_EXE_nexthopd"))
        .args([
            "lab",
            "--peers",
            "3",
            "--prefixes",
            "10",
            "--listen",
            "127.0.0.75:1790",
            "--quiet",
        ])
        .output()
        .expect("nexthopd runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("taken"));
}
