//! The counters both runtimes keep, each meaning the same in both.

/// Counters, for logs, tests and the backend comparison.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections accepted and handed to the speaker.
    pub accepted: u64,
    /// Connections accepted and closed at once (no neighbour for the address).
    pub refused: u64,
    /// Outbound connects started.
    pub connects: u64,
    /// Outbound connects that failed or timed out.
    pub connect_failures: u64,
    /// Connections closed because a socket option they need could not be set,
    /// or because the listener lacks their peer's (fail closed).
    pub option_failures: u64,
    /// Accepts that failed (out of descriptors...).
    pub accept_failures: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Bytes the kernel took.
    pub bytes_written: u64,
    /// Largest unwritten output of any connection seen.
    pub max_out_buffered: usize,
    /// Largest read buffer (runtime-uring: receive tail buffer) of any connection.
    pub max_read_buffer: usize,
    /// Loop turns (runtime-uring: each one `io_uring_enter`, plus one per full
    /// submission queue).
    pub turns: u64,
    /// Readiness events (runtime-mio) or completions (runtime-uring) handled.
    pub events: u64,
    /// Write system calls (runtime-mio) or `sendmsg` operations submitted
    /// (runtime-uring).
    pub writes: u64,
    /// Writes the kernel took only part of (the rest is written again).
    pub short_writes: u64,
}
