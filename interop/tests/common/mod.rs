//! What both interop test files use: addresses, tagged route sets and their
//! checks, the refresh and kill -9 rounds, the check for leftover processes.

// Each test file uses a part of this module.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use nexthop_interop::{
    Community, LargeCommunity, MessageCounts, Prefix, RESTART_WAIT, ReceivedRoute, Result, Route,
    RunDir, Speaker, SpeakerConfig, WAIT, wait_until,
};
use nexthop_test_support::process::leftovers_under;

/// The programs of all five daemons, for [`nexthop_interop::require`].
pub const EVERY_DAEMON: &[&str] = &[
    "bird",
    "birdc",
    "gobgpd",
    "gobgp",
    "/usr/lib/frr/bgpd",
    "vtysh",
    "bgpd",
    "bgpctl",
    "exabgp",
];

/// 127.0.0.`last`.
pub fn lo(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, last)
}

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Prints how long a test took to reach a step (run with --nocapture to see).
pub fn step(test: &str, t0: Instant, what: &str) {
    eprintln!("{test}: {what} after {:?}", t0.elapsed());
}

/// Checks that nothing a test started is still there, zombies included.
pub fn assert_no_leftovers(run: &RunDir) {
    let left = leftovers_under(run.path());
    assert!(left.is_empty(), "processes left behind: {left:#?}");
}

/// The community and large community a route for `prefix` tagged with `tag`
/// carries: `tag:1` and `tag:1:2` for IPv4, `tag:6` and `tag:6:6` for IPv6.
fn tags(prefix: Prefix, tag: u32) -> (Community, LargeCommunity) {
    if prefix.is_v6() {
        (Community(tag as u16, 6), LargeCommunity(tag, 6, 6))
    } else {
        (Community(tag as u16, 1), LargeCommunity(tag, 1, 2))
    }
}

/// A route for `prefix` with the [`tags`] of `tag`.
pub fn tagged_route(prefix: &str, tag: u32) -> Route {
    let (Community(a, v), LargeCommunity(g, l1, l2)) = tags(Prefix::new(prefix), tag);
    Route::new(prefix)
        .community(a, v)
        .large_community(g, l1, l2)
}

/// Originates one IPv4 and one IPv6 route tagged with `tag` ([`tagged_route`]).
pub fn tagged(cfg: SpeakerConfig, tag: u32, v4: &str, v6: &str) -> SpeakerConfig {
    cfg.route(tagged_route(v4, tag))
        .route(tagged_route(v6, tag))
}

/// Checks a route of [`tagged`] as received: its AS_PATH, and the community and
/// large community of `tag` for its family. `who` names it in a failure.
pub fn assert_tagged(r: &ReceivedRoute, who: &str, as_path: &[u32], tag: u32) {
    let (c, l) = tags(r.prefix(), tag);
    assert_eq!(r.as_path, as_path, "{who}: {r:?}");
    assert_eq!(r.communities, vec![c], "{who}: {r:?}");
    assert_eq!(r.large_communities, vec![l], "{who}: {r:?}");
}

/// Which end of the session keeps the counts [`wait_refresh_answered`] watches.
#[derive(Clone, Copy)]
pub enum Counter {
    /// The speaker that asks for the refresh: it sends ROUTE-REFRESH and
    /// receives UPDATEs.
    Asker,
    /// The speaker asked: it receives ROUTE-REFRESH and sends UPDATEs.
    Answerer,
}

/// Takes the message counts `counts` of one end of a session, runs `ask` (the
/// refresh request), then waits until that end counts more ROUTE-REFRESH and
/// more UPDATE messages in the directions `counter` says: the refresh went
/// out and routes came back.
pub fn wait_refresh_answered(
    what: &str,
    counter: Counter,
    counts: impl Fn() -> Result<(MessageCounts, MessageCounts)>,
    ask: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let refresh_and_updates = || {
        let (sent, received) = counts().unwrap();
        match counter {
            Counter::Asker => (sent.refresh, received.update),
            Counter::Answerer => (received.refresh, sent.update),
        }
    };
    let (rr0, up0) = refresh_and_updates();
    ask().unwrap();
    wait_until(WAIT, what, || {
        let (rr, up) = refresh_and_updates();
        rr > rr0 && up > up0
    })
}

/// kill -9 of `victim`: `watcher` sees the session go down (and the routes of
/// `gone` withdrawn); `victim` restarts and the session comes back.
pub fn kill9_and_restart(victim: &mut dyn Speaker, watcher: &dyn Speaker, gone: &[Prefix]) {
    let a = victim.config().local_address;
    let t = Instant::now();
    victim.kill9();
    watcher.wait_not_established(a, WAIT).unwrap();
    eprintln!(
        "{}: saw the kill -9 of {} after {:?}",
        watcher.name(),
        victim.name(),
        t.elapsed()
    );
    for p in gone {
        watcher.wait_no_route(a, *p, WAIT).unwrap();
    }
    victim.restart().unwrap();
    watcher.wait_established(a, RESTART_WAIT).unwrap();
}
