//! The tunables both runtimes share (runtime-uring keeps its ring's beside them).

use crate::Duration;

/// Tunables of a runtime.
#[derive(Clone, Debug)]
pub struct Options {
    /// Most unwritten bytes per connection before the runtime stops pulling from
    /// the speaker (one transmit may overshoot it).
    pub output_bound: usize,
    /// How long a connection the speaker closed may take to write what it was
    /// handed and see the peer's FIN.
    pub linger: Duration,
    /// Listen backlog.
    pub backlog: i32,
    /// SO_SNDBUF of every connection; `None` leaves the kernel's autotuning.
    /// A small value moves a slow peer's backlog from kernel memory to the
    /// speaker, which keeps it bounded.
    pub send_buffer: Option<usize>,
    /// Received bytes handed to the speaker in one loop turn, shared fairly
    /// among the connections with data ([`crate::ReceiveBudget`]; one read or
    /// completion past a connection's share at most); past it, the rest waits
    /// for the next turn, where the connections it did not reach go first.
    pub recv_budget: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            output_bound: 256 * 1024,
            linger: Duration::from_secs(2),
            backlog: 1024,
            send_buffer: None,
            recv_budget: 256 * 1024,
        }
    }
}
