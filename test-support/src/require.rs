//! A test whose dependency is missing (a daemon, io_uring, a tool) says so.
//! Locally it is skipped with the reason printed; under `CI=true` it fails with
//! that reason, so that a CI run never passes a test that did not run.

use std::path::Path;

/// Whether this runs under CI (`CI=true`, as CI services and `.ci/run` set it).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Whether `program` can be run: an absolute path that exists, or a name
/// found in a directory of `PATH`.
pub fn installed(program: &str) -> bool {
    if program.starts_with('/') {
        return Path::new(program).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(program).is_file()))
}

/// A test cannot run because of `reason`: prints that it is skipped, or
/// panics with `reason` under CI. The caller returns right after.
pub fn skip(reason: &str) {
    skip_where(in_ci(), reason);
}

fn skip_where(ci: bool, reason: &str) {
    assert!(
        !ci,
        "CI=true: a test may not be skipped, and this one would be: {reason}"
    );
    eprintln!("skipped: {reason}");
}

/// `true` when `program` is installed; otherwise [`skip`]s (locally: `false`,
/// with the reason printed; under CI: a panic).
///
/// ```no_run
/// # fn through_bird() {
/// if !nexthop_test_support::require("bird") {
///     return;
/// }
/// # }
/// ```
pub fn require(program: &str) -> bool {
    if installed(program) {
        return true;
    }
    skip(&format!(
        "{program} is not installed (scripts/install-peers installs the BGP daemons)"
    ));
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn programs_are_found_on_path_or_by_absolute_path() {
        assert!(installed("sh"));
        assert!(installed("/bin/sh"));
        assert!(!installed("nexthop-no-such-program"));
        assert!(!installed("/nonexistent/sh"));
        assert!(require("sh"));
    }

    #[test]
    fn a_skip_is_a_failure_in_ci() {
        let e = std::panic::catch_unwind(|| skip_where(true, "no frobnicator"))
            .expect_err("CI=true fails the test");
        let msg = e.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            msg.contains("no frobnicator") && msg.contains("CI=true"),
            "{msg}"
        );
        assert!(std::panic::catch_unwind(|| skip_where(false, "no frobnicator")).is_ok());
    }
}
