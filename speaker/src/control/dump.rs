//! Route dumps for the control API: the Loc-RIB, one neighbour's Adj-RIB-In
//! (after import policy) or Adj-RIB-Out, a page at a time from a cursor, a
//! single prefix (exact or longest match), counts; and a router path as an API
//! [`Route`].
//!
//! An update group's Adj-RIB-Out also holds the paths its members sent: each
//! member is not sent its own (split horizon), so a neighbour's Adj-RIB-Out
//! view leaves out the paths learned from it.
//!
//! A page does at most `max` units of work (a prefix visited, or a route
//! given beyond a prefix's first), so a page costs the same whatever the view
//! and however many paths a prefix has: a neighbour's Adj-RIB-In view walks the
//! Loc-RIB's prefixes and keeps that neighbour's paths, and its Adj-RIB-Out view
//! walks its update group's table. Resuming costs one O(log n) seek.

use std::net::IpAddr;
use std::str::FromStr;

use nexthop_control::{
    ApiError, Family, FamilySummary, RibView, Route, RouteCursor, RouteQuery, RouteSummary,
};
use nexthop_router::attributes::{AttrRef, Attributes, Community, LargeCommunity, NextHop, Origin};
use nexthop_router::prefix::{IpPrefix, Ipv4Prefix, Ipv6Prefix, RoutePrefix};
use nexthop_router::rib::{Path, PeerId};

use crate::{Instant, Speaker};

/// The neighbour a router peer stands for; `None` for our own routes.
pub(crate) fn neighbor_of(s: &Speaker, peer: PeerId) -> Option<IpAddr> {
    if peer == PeerId::LOCAL {
        return None;
    }
    let i = (*s.by_router_peer.get(peer.0 as usize)?)?;
    s.peers.get(i)?.as_ref().map(|p| p.spec.address)
}

/// The router peer of the neighbour at `address`, or `unknown_neighbor`.
pub(crate) fn peer_of(s: &Speaker, address: IpAddr) -> Result<PeerId, ApiError> {
    s.router_peer(address)
        .ok_or_else(|| ApiError::unknown_neighbor(address))
}

/// A prefix given by an operator: `ADDRESS/LEN` (host bits clear), or with
/// `host_ok` a bare address as a host prefix.
pub(crate) fn parse_prefix(text: &str, host_ok: bool) -> Result<IpPrefix, ApiError> {
    if let Ok(p) = IpPrefix::from_str(text) {
        return Ok(p);
    }
    if host_ok && let Ok(a) = text.parse::<IpAddr>() {
        return Ok(match a.to_canonical() {
            IpAddr::V4(a) => {
                IpPrefix::V4(Ipv4Prefix::new(a, 32).ok_or(ApiError::bad_prefix(text))?)
            }
            IpAddr::V6(a) => {
                IpPrefix::V6(Ipv6Prefix::new(a, 128).ok_or(ApiError::bad_prefix(text))?)
            }
        });
    }
    Err(ApiError::bad_prefix(text))
}

fn family_of(p: &IpPrefix) -> Family {
    match p {
        IpPrefix::V4(_) => Family::Ipv4,
        IpPrefix::V6(_) => Family::Ipv6,
    }
}

/// Checks `query` before a dump: `bad_prefix`, `unknown_neighbor`, a family
/// that contradicts the prefix, a pre-policy view the router does not keep.
pub(crate) fn check_routes(s: &Speaker, query: &RouteQuery) -> Result<(), ApiError> {
    match &query.view {
        RibView::LocRib => {}
        RibView::Received {
            neighbor,
            pre_policy,
        } => {
            let peer = peer_of(s, *neighbor)?;
            if *pre_policy && !s.router.keeps_received(peer) {
                return Err(ApiError::conflict(format!(
                    "routes of {neighbor} before import policy are not kept: set keep_received_routes = true on the neighbour (view=received shows them after import policy)"
                )));
            }
        }
        RibView::Advertised { neighbor } => {
            peer_of(s, *neighbor)?;
        }
    }
    if let Some(text) = &query.prefix {
        let p = parse_prefix(text, query.longest_match)?;
        if let Some(f) = query.family
            && f != family_of(&p)
        {
            return Err(ApiError::bad_request(format!(
                "prefix {text} is not in family {f}"
            )));
        }
    }
    Ok(())
}

/// The next page of a dump (see `Backend::routes`).
pub(crate) fn routes<O: Sink>(
    s: &Speaker,
    now: Instant,
    query: &RouteQuery,
    cursor: &mut RouteCursor,
    max: usize,
    out: &mut O,
) -> Result<(), ApiError> {
    check_routes(s, query)?;
    if cursor.done {
        return Ok(());
    }
    if let Some(text) = &query.prefix {
        let p = parse_prefix(text, query.longest_match)?;
        match p {
            IpPrefix::V4(p) => one::<Ipv4Prefix, O>(s, now, query, p, out)?,
            IpPrefix::V6(p) => one::<Ipv6Prefix, O>(s, now, query, p, out)?,
        }
        cursor.done = true;
        return Ok(());
    }
    let mut budget = max.max(1);
    while budget > 0 && !cursor.done {
        let Some(&family) = Family::ALL.get(cursor.family) else {
            cursor.done = true;
            break;
        };
        let finished = if query.family.is_some_and(|f| f != family) {
            true
        } else {
            match family {
                Family::Ipv4 => page::<Ipv4Prefix, O>(s, now, query, cursor, &mut budget, out)?,
                Family::Ipv6 => page::<Ipv6Prefix, O>(s, now, query, cursor, &mut budget, out)?,
            }
        };
        if finished {
            cursor.family += 1;
            cursor.after = None;
            cursor.done = cursor.family >= Family::ALL.len();
        }
    }
    Ok(())
}

/// Walks one family from the cursor; `true` when the family is done.
fn page<P: RoutePrefix + FromStr + ToString, O: Sink>(
    s: &Speaker,
    now: Instant,
    query: &RouteQuery,
    cursor: &mut RouteCursor,
    budget: &mut usize,
    out: &mut O,
) -> Result<bool, ApiError> {
    let after: Option<P> = match &cursor.after {
        Some(t) => Some(
            t.parse()
                .map_err(|_| ApiError::new(500, "internal", "bad cursor"))?,
        ),
        None => None,
    };
    let now_s = now_s(now);
    let rib = s.router.rib::<P>();
    let age_of = |p: &P| rib.get(p).map_or(0, |e| now_s.saturating_sub(e.changed_s));
    let mut walk = Walk {
        budget,
        last: None,
        finished: true,
        out,
    };
    match &query.view {
        RibView::Received {
            neighbor,
            pre_policy: true,
        } => {
            let peer = peer_of(s, *neighbor)?;
            walk.run(
                s.router.received_after::<P>(peer, after.as_ref()),
                |p, paths, out| {
                    let (ip, age) = (p.to_ip_prefix(), age_of(p));
                    for (id, attrs) in paths {
                        out.put(s, &ip, peer, *id, attrs, false, age);
                    }
                },
            );
        }
        RibView::LocRib | RibView::Received { .. } => {
            let only = match &query.view {
                RibView::Received { neighbor, .. } => Some(peer_of(s, *neighbor)?),
                _ => None,
            };
            walk.run(rib.iter_after(after.as_ref()), |p, e, out| {
                let (ip, age) = (p.to_ip_prefix(), now_s.saturating_sub(e.changed_s));
                for (i, path) in e.paths.iter().enumerate() {
                    if only.is_none_or(|o| o == path.peer) {
                        let best = i == 0 && e.best.is_some();
                        let a = &path.attrs;
                        out.put(s, &ip, path.peer, path.path_id, a, best, age);
                    }
                }
            });
        }
        RibView::Advertised { neighbor } => {
            let peer = peer_of(s, *neighbor)?;
            walk.run(
                s.router.adj_rib_out_after::<P>(peer, after.as_ref()),
                |p, paths, out| {
                    let (ip, age) = (p.to_ip_prefix(), age_of(p));
                    for o in paths {
                        if let Some(attrs) = o.attrs.as_ref().filter(|_| o.source != peer) {
                            out.put(s, &ip, o.source, o.out_id, attrs, false, age);
                        }
                    }
                },
            );
        }
    }
    let (last, finished) = (walk.last, walk.finished);
    if let Some(l) = last {
        cursor.after = Some(l.to_string());
    }
    Ok(finished)
}

/// One page's walk over a table in prefix order: where it stopped, and
/// whether it reached the end.
struct Walk<'b, P, O> {
    budget: &'b mut usize,
    last: Option<P>,
    finished: bool,
    out: &'b mut O,
}

impl<P: Copy, O: Sink> Walk<'_, P, O> {
    /// Hands each entry of `entries` to `emit` until the budget is spent. A
    /// page's work is prefixes visited plus routes given beyond one each: a
    /// prefix with thousands of paths (every peer's) costs like thousands of
    /// prefixes, so a page stays bounded whatever the table's shape.
    fn run<'a, V>(
        &mut self,
        entries: impl Iterator<Item = (&'a P, V)>,
        mut emit: impl FnMut(&P, V, &mut O),
    ) where
        P: 'a,
    {
        for (p, v) in entries {
            if *self.budget == 0 {
                self.finished = false;
                return;
            }
            let before = self.out.len();
            emit(p, v, self.out);
            self.last = Some(*p);
            let given = self.out.len() - before;
            *self.budget = self.budget.saturating_sub(given.max(1));
        }
    }
}

/// One prefix (exact, or the longest match) in the query's view.
fn one<P: RoutePrefix, O: Sink>(
    s: &Speaker,
    now: Instant,
    query: &RouteQuery,
    p: P,
    out: &mut O,
) -> Result<(), ApiError> {
    let rib = s.router.rib::<P>();
    let found = if query.longest_match {
        rib.longest_match(&p)
    } else {
        rib.get(&p).map(|e| (p, e))
    };
    let now_s = now_s(now);
    match &query.view {
        RibView::Received {
            neighbor,
            pre_policy: true,
        } => {
            let peer = peer_of(s, *neighbor)?;
            // The most specific received prefix covering `p` (or `p` itself).
            let lens: Vec<u8> = if query.longest_match {
                (0..=p.prefix_len()).rev().collect()
            } else {
                vec![p.prefix_len()]
            };
            for len in lens {
                let Some(q) = P::from_nlri(len, p.octets()) else {
                    continue;
                };
                if let Some((k, paths)) = received_at(s, peer, &q) {
                    let ip = k.to_ip_prefix();
                    let age = rib.get(&k).map_or(0, |e| now_s.saturating_sub(e.changed_s));
                    for (id, attrs) in paths {
                        out.put(s, &ip, peer, *id, attrs, false, age);
                    }
                    break;
                }
            }
        }
        RibView::LocRib | RibView::Received { .. } => {
            let only = match &query.view {
                RibView::Received { neighbor, .. } => Some(peer_of(s, *neighbor)?),
                _ => None,
            };
            let Some((p, e)) = found else {
                return Ok(());
            };
            let ip = p.to_ip_prefix();
            let age = now_s.saturating_sub(e.changed_s);
            for (i, path) in e.paths.iter().enumerate() {
                if only.is_none_or(|o| o == path.peer) {
                    let best = i == 0 && e.best.is_some();
                    out.put(s, &ip, path.peer, path.path_id, &path.attrs, best, age);
                }
            }
        }
        RibView::Advertised { neighbor } => {
            let peer = peer_of(s, *neighbor)?;
            let target = match (query.longest_match, found) {
                (true, Some((q, _))) => q,
                (true, None) => return Ok(()),
                (false, _) => p,
            };
            let ip = target.to_ip_prefix();
            let age = rib
                .get(&target)
                .map_or(0, |e| now_s.saturating_sub(e.changed_s));
            for o in s.router.adj_rib_out(peer, &target) {
                if let Some(attrs) = o.attrs.as_ref().filter(|_| o.source != peer) {
                    out.put(s, &ip, o.source, o.out_id, attrs, false, age);
                }
            }
        }
    }
    Ok(())
}

/// `peer`'s paths of exactly `prefix` as received (before import policy).
fn received_at<'a, P: RoutePrefix>(
    s: &'a Speaker,
    peer: PeerId,
    prefix: &P,
) -> Option<(P, &'a [(u32, nexthop_router::attributes::AttrRef)])> {
    let v = s.router.received_of(peer, prefix);
    (!v.is_empty()).then_some((*prefix, v))
}

/// Counts of the table `query` names.
pub(crate) fn route_summary(s: &Speaker, query: &RouteQuery) -> Result<RouteSummary, ApiError> {
    check_routes(s, query)?;
    let mut families = Vec::new();
    for f in Family::ALL {
        if query.family.is_some_and(|q| q != f) {
            continue;
        }
        let (prefixes, paths) = match f {
            Family::Ipv4 => count::<Ipv4Prefix>(s, &query.view)?,
            Family::Ipv6 => count::<Ipv6Prefix>(s, &query.view)?,
        };
        families.push(FamilySummary {
            family: f,
            prefixes,
            paths,
        });
    }
    Ok(RouteSummary {
        view: query.view.clone(),
        families,
    })
}

/// Prefixes and paths of one family's table in `view`. The Loc-RIB's are
/// kept as counts; a neighbour's view is counted by a walk.
fn count<P: RoutePrefix>(s: &Speaker, view: &RibView) -> Result<(u64, u64), ApiError> {
    let rib = s.router.rib::<P>();
    Ok(match view {
        RibView::LocRib => (rib.len() as u64, rib.path_count() as u64),
        RibView::Received {
            neighbor,
            pre_policy: true,
        } => {
            let peer = peer_of(s, *neighbor)?;
            let (mut prefixes, mut paths) = (0, 0);
            for (_, v) in s.router.received_after::<P>(peer, None) {
                prefixes += 1;
                paths += v.len() as u64;
            }
            (prefixes, paths)
        }
        RibView::Received { neighbor, .. } => {
            let peer = peer_of(s, *neighbor)?;
            let (mut prefixes, mut paths) = (0, 0);
            for (_, e) in rib.iter_after(None) {
                let n = e.paths.iter().filter(|p| p.peer == peer).count() as u64;
                prefixes += u64::from(n > 0);
                paths += n;
            }
            (prefixes, paths)
        }
        RibView::Advertised { neighbor } => {
            let peer = peer_of(s, *neighbor)?;
            let (mut prefixes, mut paths) = (0, 0);
            for (_, out) in s.router.adj_rib_out_after::<P>(peer, None) {
                let n = out
                    .iter()
                    .filter(|o| o.attrs.is_some() && o.source != peer)
                    .count() as u64;
                prefixes += u64::from(n > 0);
                paths += n;
            }
            (prefixes, paths)
        }
    })
}

fn now_s(now: Instant) -> u32 {
    (now.total_millis() / 1000).min(u64::from(u32::MAX)) as u32
}

/// Where a page's routes go: API [`Route`]s, or their JSON lines directly
/// ([`super::json::JsonSink`]).
pub(crate) trait Sink {
    /// Routes put so far.
    fn len(&self) -> usize;
    /// One path of `prefix`, learned from `peer`.
    #[allow(clippy::too_many_arguments)]
    fn put(
        &mut self,
        s: &Speaker,
        prefix: &IpPrefix,
        peer: PeerId,
        path_id: u32,
        attrs: &AttrRef,
        best: bool,
        age_s: u32,
    );
}

impl Sink for Vec<Route> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn put(
        &mut self,
        s: &Speaker,
        prefix: &IpPrefix,
        peer: PeerId,
        path_id: u32,
        attrs: &AttrRef,
        best: bool,
        age_s: u32,
    ) {
        self.push(route(s, prefix, peer, path_id, attrs, best, age_s));
    }
}

/// `path` of `prefix` as an API route (`best`: it is the prefix's best path).
pub(crate) fn route_of(
    s: &Speaker,
    now: Instant,
    prefix: &IpPrefix,
    path: &Path,
    best: bool,
) -> Route {
    let age = match prefix {
        IpPrefix::V4(p) => s.router.rib::<Ipv4Prefix>().get(p).map(|e| e.changed_s),
        IpPrefix::V6(p) => s.router.rib::<Ipv6Prefix>().get(p).map(|e| e.changed_s),
    }
    .map_or(0, |c| now_s(now).saturating_sub(c));
    route(s, prefix, path.peer, path.path_id, &path.attrs, best, age)
}

pub(crate) fn route(
    s: &Speaker,
    prefix: &IpPrefix,
    peer: PeerId,
    path_id: u32,
    a: &Attributes,
    best: bool,
    age_s: u32,
) -> Route {
    Route {
        prefix: prefix.to_string(),
        path_id,
        best,
        from: neighbor_of(s, peer),
        as_path: a.as_path.to_string(),
        next_hop: a.next_hop.map(|n| match n {
            NextHop::V4(a) => IpAddr::V4(a),
            NextHop::V6 { global, .. } => IpAddr::V6(global),
        }),
        origin: match a.origin {
            Origin::Igp => "igp",
            Origin::Egp => "egp",
            Origin::Incomplete => "incomplete",
        }
        .to_string(),
        local_pref: a.local_pref,
        med: a.med,
        communities: a.communities.iter().map(|c| community(*c)).collect(),
        large_communities: a
            .large_communities
            .iter()
            .map(|c| large_community(*c))
            .collect(),
        originator_id: a.originator_id,
        cluster_list: a.cluster_list.clone(),
        age_s: u64::from(age_s),
    }
}

/// A large community as text, `GLOBAL:LOCAL1:LOCAL2` (RFC 8092).
pub(crate) fn large_community(c: LargeCommunity) -> String {
    format!("{}:{}:{}", c.global_admin, c.local_data_1, c.local_data_2)
}

/// A standard community as text: the well-known ones by name (RFC 1997,
/// RFC 3765, RFC 7999, RFC 8326), else `ASN:VALUE`.
pub(crate) fn community(c: Community) -> String {
    match c.0 {
        0xffff_ff01 => "no-export".into(),
        0xffff_ff02 => "no-advertise".into(),
        0xffff_ff03 => "no-export-subconfed".into(),
        0xffff_ff04 => "no-peer".into(),
        0xffff_029a => "blackhole".into(),
        0xffff_0000 => "graceful-shutdown".into(),
        v => format!("{}:{}", v >> 16, v & 0xffff),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn communities_by_name() {
        assert_eq!(community(Community::NO_EXPORT), "no-export");
        assert_eq!(community(Community(0xffff_0000)), "graceful-shutdown");
        assert_eq!(community(Community::new(65000, 1)), "65000:1");
    }

    #[test]
    fn prefixes_as_operators_write_them() {
        assert!(parse_prefix("10.0.0.0/8", false).is_ok());
        assert_eq!(
            parse_prefix("10.0.0.1/8", false).unwrap_err().code,
            "bad_prefix"
        );
        assert_eq!(
            parse_prefix("10.0.0.1", false).unwrap_err().code,
            "bad_prefix"
        );
        assert_eq!(
            parse_prefix("10.0.0.1", true).unwrap(),
            "10.0.0.1/32".parse::<IpPrefix>().unwrap()
        );
        assert_eq!(
            parse_prefix("2001:db8::1", true).unwrap(),
            "2001:db8::1/128".parse::<IpPrefix>().unwrap()
        );
        assert!(parse_prefix("nonsense", true).is_err());
        assert!(parse_prefix("10.0.0.0/33", false).is_err());
    }
}
