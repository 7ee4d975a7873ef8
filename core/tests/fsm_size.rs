//! The size of one session, for embedded users: a `Session` holds its config,
//! two connection slots, its timer table, its output queues and a 256-byte
//! NOTIFICATION data buffer, and no I/O buffers (the runtime owns those).

use nexthop_core::session::{NoLog, Session, SessionConfig, SessionInfo};

/// The bound the README states. Raise it only on purpose.
const SESSION_SIZE_BOUND: usize = 1280;

#[test]
fn session_size_stays_under_the_stated_bound() {
    let size = core::mem::size_of::<Session<NoLog>>();
    println!(
        "Session: {size} bytes (SessionConfig {}, SessionInfo {})",
        core::mem::size_of::<SessionConfig>(),
        core::mem::size_of::<SessionInfo>()
    );
    assert!(size <= SESSION_SIZE_BOUND, "Session is {size} bytes");
}
