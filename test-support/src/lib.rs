//! What nexthop's tests and tools share, written once: processes they start
//! and stop by PID ([`Daemon`], [`RunDir`]), what /proc says about processes
//! and sockets ([`Usage`], [`procfs`]), free loopback ports and addresses
//! ([`address`]), starting nexthopd from its config and waiting for its
//! listener ([`Nexthopd`]), a BGP peer that speaks bytes through core's
//! emitters and views ([`RawPeer`], RFC 4271 §4), and the rule for a missing
//! dependency ([`require`]: skipped with a reason locally, a failure under
//! `CI=true`).
//!
//! Linux only (/proc, process groups, the child subreaper). Every address is
//! on loopback.

#![deny(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;
use std::path::Path;
use std::time::Duration;

pub mod address;
pub mod http;
pub mod nexthopd;
pub mod process;
pub mod procfs;
pub mod promtool;
pub mod raw_peer;
mod require;
mod sys;

pub use nexthopd::Nexthopd;
pub use process::{Daemon, RunDir};
pub use procfs::Usage;
pub use raw_peer::RawPeer;
pub use require::{in_ci, installed, require, skip};
pub use sys::is_root;

/// What went wrong while starting, stopping or asking a process.
#[derive(Debug)]
pub enum Error {
    /// A file or socket operation failed.
    Io {
        /// What was being done, with the path or address.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// A command failed, could not start, or did not finish in time.
    Command {
        /// The command.
        command: String,
        /// How it failed, with what it wrote.
        message: String,
    },
    /// A process did not become ready: it exited, or the wait ran out.
    NotReady {
        /// The process.
        name: String,
        /// Why.
        reason: String,
        /// The end of its output.
        output: String,
    },
    /// What a wait was for did not happen in time.
    Timeout {
        /// What was waited for, and how long.
        what: String,
        /// The end of the process's output.
        output: String,
    },
    /// A signal or request went to a process that has stopped.
    NotRunning {
        /// The process.
        name: String,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            context: path.display().to_string(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { context, source } => write!(f, "{context}: {source}"),
            Error::Command { command, message } => write!(f, "`{command}`: {message}"),
            Error::NotReady {
                name,
                reason,
                output,
            } => write!(f, "{name} did not start: {reason}\n{output}"),
            Error::Timeout { what, output } => write!(f, "timed out: {what}\n{output}"),
            Error::NotRunning { name } => write!(f, "{name} is not running"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Result of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Polls `probe` every 20 ms until it returns a value or `timeout` has passed:
/// `None` then. A bound for a wait that must not hang, not a timing test.
pub fn poll<T>(timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    let end = std::time::Instant::now() + timeout;
    loop {
        if let Some(v) = probe() {
            return Some(v);
        }
        if std::time::Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
