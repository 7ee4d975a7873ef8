//! TEMPORARY: the speaker API types of /work/briefs/api-speaker.md, until the
//! speaker crate lands (then re-exported from it).
#![allow(missing_docs)]
use std::net::{IpAddr, SocketAddr};

pub use nexthop_core::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnKey(pub u32);

#[derive(Debug)]
pub enum Command {
    Connect {
        conn: ConnKey,
        remote: SocketAddr,
        bind: Option<IpAddr>,
        md5_key: Option<Vec<u8>>,
        min_ttl: Option<u8>,
        timeout: Duration,
    },
    Close {
        conn: ConnKey,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    PeerClosed,
    Reset,
    SendFailed,
    LocalError,
}
