//! The routing table of one address family: for each prefix, the paths learned from
//! every peer (the Adj-RIBs-In after import policy, RFC 4271 §3.2) and the best of
//! them (the Loc-RIB, chosen by §9.1.2).
//!
//! A path is 16 bytes: peer, ADD-PATH path identifier (RFC 7911 §3) and a reference
//! to its interned attributes. The best path is kept first in its prefix's list.
//! Changes are collected as dirty prefixes and decided in a batch, so the work per
//! batch is proportional to the prefixes that changed.

use smallvec::SmallVec;

use crate::attributes::{AttrRef, AttributeStore};
use crate::chunk_map::ChunkMap;
use crate::decision::{self, DecisionOptions, Reason, SelectionKey};

/// A peer's index in the router. [`PeerId::LOCAL`] stands for routes the router
/// originates itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub u32);

impl PeerId {
    /// The router itself, as the source of originated routes.
    pub const LOCAL: PeerId = PeerId(u32::MAX);
}

/// One path to a prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// Where it was learned.
    pub peer: PeerId,
    /// Its ADD-PATH path identifier (RFC 7911 §3); 0 from a peer without ADD-PATH.
    pub path_id: u32,
    /// Its attributes after import policy.
    pub attrs: AttrRef,
}

const _: () = assert!(std::mem::size_of::<Path>() == 16);

/// Everything known about one prefix.
#[derive(Debug, Default)]
struct Destination {
    /// Every peer's paths; after a decision, the best is first. A lone path is
    /// kept inline, without a heap block of its own.
    paths: SmallVec<[Path; 1]>,
    /// Why `paths[0]` won, or `None` when the prefix is awaiting a decision or has
    /// no usable path.
    best: Option<Reason>,
    /// Whether it is on the dirty list.
    dirty: bool,
    /// Whether the decided best path was removed or replaced since the decision.
    best_lost: bool,
    /// When its paths last changed (the decision that followed), in seconds of
    /// the router's clock ([`Rib::set_clock`]); it fits in the padding.
    changed_s: u32,
}

// A prefix's entry stays two words of paths plus flags: the change time is
// kept in what was padding.
const _: () = assert!(std::mem::size_of::<Destination>() == 32);

/// What a decision changed for one prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change<P> {
    /// The prefix.
    pub prefix: P,
    /// The best path is a different path, or has different attributes, or appeared
    /// or went. When false only a non-best path changed, which matters to ADD-PATH.
    pub best_changed: bool,
}

/// One prefix's entry, as the API reads it.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    /// Every path, the best first once decided.
    pub paths: &'a [Path],
    /// Why `paths[0]` won; `None` while awaiting a decision or with no usable
    /// path.
    pub best: Option<Reason>,
    /// When the paths last changed, in seconds of the router's clock.
    pub changed_s: u32,
}

impl<'a> Entry<'a> {
    fn of(d: &'a Destination) -> Self {
        Entry {
            paths: &d.paths,
            best: d.best,
            changed_s: d.changed_s,
        }
    }
}

/// The table of one family, keyed by prefix type `P`.
#[derive(Debug)]
pub struct Rib<P> {
    dests: ChunkMap<P, Destination>,
    clock_s: u32,
    dirty: Vec<P>,
    keys: Vec<SelectionKey>,
    eligible: Vec<usize>,
    scratch: Vec<usize>,
    paths: usize,
}

impl<P: Ord + Copy> Default for Rib<P> {
    fn default() -> Self {
        Rib {
            dests: ChunkMap::default(),
            clock_s: 0,
            dirty: Vec::new(),
            keys: Vec::new(),
            eligible: Vec::new(),
            scratch: Vec::new(),
            paths: 0,
        }
    }
}

impl<P: Copy + Eq + std::hash::Hash + Ord> Rib<P> {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    fn mark(dirty: &mut Vec<P>, prefix: P, dest: &mut Destination) {
        if !dest.dirty {
            dest.dirty = true;
            dirty.push(prefix);
        }
    }

    /// Installs `path` for `prefix`. A path from the same peer with the same path
    /// identifier is replaced (an implicit withdrawal, RFC 4271 §3.1) and returned.
    pub fn insert(&mut self, prefix: P, path: Path) -> Option<Path> {
        let dest = self.dests.get_or_insert_with(prefix, Destination::default);
        Self::mark(&mut self.dirty, prefix, dest);
        if let Some(i) = dest
            .paths
            .iter()
            .position(|p| p.peer == path.peer && p.path_id == path.path_id)
        {
            dest.best_lost |= i == 0 && dest.best.is_some();
            return Some(std::mem::replace(&mut dest.paths[i], path));
        }
        // Grow by one: most prefixes have few paths, and doubling would leave up
        // to three empty 16-byte slots per prefix.
        dest.paths.reserve_exact(1);
        dest.paths.push(path);
        self.paths += 1;
        None
    }

    /// Withdraws the path of `peer` with `path_id` from `prefix`; returns it.
    pub fn remove(&mut self, prefix: P, peer: PeerId, path_id: u32) -> Option<Path> {
        let dest = self.dests.get_mut(&prefix)?;
        let i = dest
            .paths
            .iter()
            .position(|p| p.peer == peer && p.path_id == path_id)?;
        Self::mark(&mut self.dirty, prefix, dest);
        self.paths -= 1;
        dest.best_lost |= i == 0 && dest.best.is_some();
        let old = dest.paths.remove(i);
        if dest.paths.capacity() > dest.paths.len() + 4 {
            dest.paths.shrink_to_fit();
        }
        Some(old)
    }

    /// Removes every path learned from `peer` (its session went down, RFC 4271
    /// §8.2.2 event handling) and gives their attributes back to `store`. Returns
    /// how many were removed. Walks the whole table.
    pub fn flush_peer(&mut self, peer: PeerId, store: &mut AttributeStore) -> usize {
        let mut removed = 0;
        for (prefix, dest) in self.dests.iter_mut() {
            let before = dest.paths.len();
            if !dest.paths.iter().any(|p| p.peer == peer) {
                continue;
            }
            let mut i = 0;
            while i < dest.paths.len() {
                if dest.paths[i].peer == peer {
                    dest.best_lost |= i == 0 && dest.best.is_some();
                    store.release(dest.paths.remove(i).attrs);
                } else {
                    i += 1;
                }
            }
            removed += before - dest.paths.len();
            if !dest.dirty {
                dest.dirty = true;
                self.dirty.push(*prefix);
            }
        }
        self.paths -= removed;
        removed
    }

    /// Number of prefixes awaiting a decision.
    pub fn pending(&self) -> usize {
        self.dirty.len()
    }

    /// Marks every prefix for a new decision (after the IGP-cost hook's answers
    /// changed). O(prefixes).
    pub fn mark_all(&mut self) {
        for (prefix, dest) in self.dests.iter_mut() {
            if !dest.dirty {
                dest.dirty = true;
                self.dirty.push(*prefix);
            }
        }
    }

    /// Runs the decision process (RFC 4271 §9.1.2) on every dirty prefix, with
    /// `key_of` giving each path's [`SelectionKey`], or `None` for a path that
    /// must be left out (an unresolvable NEXT_HOP, §9.1.2). Appends what changed
    /// to `changes`; prefixes left without paths are removed.
    pub fn decide(
        &mut self,
        options: &DecisionOptions,
        mut key_of: impl FnMut(&Path) -> Option<SelectionKey>,
        changes: &mut Vec<Change<P>>,
    ) {
        let mut dirty = std::mem::take(&mut self.dirty);
        // In prefix order, each lookup lands in or next to the last one's chunk,
        // however the prefixes arrived.
        dirty.sort_unstable();
        for prefix in dirty {
            let Some(dest) = self.dests.get_mut(&prefix) else {
                continue;
            };
            dest.dirty = false;
            dest.changed_s = self.clock_s;
            let lost = std::mem::take(&mut dest.best_lost);
            let old_best = dest
                .best
                .and_then(|_| dest.paths.first())
                .map(|p| (p.peer, p.path_id, p.attrs.addr()));
            self.keys.clear();
            self.eligible.clear();
            for (i, p) in dest.paths.iter().enumerate() {
                if let Some(k) = key_of(p) {
                    self.keys.push(k);
                    self.eligible.push(i);
                }
            }
            match decision::select(&self.keys, options, &mut self.scratch) {
                Some((i, reason)) => {
                    dest.paths.swap(0, self.eligible[i]);
                    dest.best = Some(reason);
                }
                None => dest.best = None,
            }
            let new_best = dest
                .best
                .and_then(|_| dest.paths.first())
                .map(|p| (p.peer, p.path_id, p.attrs.addr()));
            if dest.paths.is_empty() {
                self.dests.remove(&prefix);
            }
            changes.push(Change {
                prefix,
                best_changed: lost || old_best != new_best,
            });
        }
    }

    /// The best path for `prefix` and why it won, once decided.
    pub fn best(&self, prefix: &P) -> Option<(&Path, Reason)> {
        let d = self.dests.get(prefix)?;
        Some((d.paths.first()?, d.best?))
    }

    /// The paths for `prefix`, best first, when it has a decided best path.
    pub fn decided(&self, prefix: &P) -> Option<&[Path]> {
        let d = self.dests.get(prefix)?;
        d.best?;
        Some(&d.paths)
    }

    /// Every path for `prefix`, the best first once decided.
    pub fn paths(&self, prefix: &P) -> &[Path] {
        self.dests.get(prefix).map_or(&[], |d| &d.paths)
    }

    /// Every prefix with its paths, in prefix order.
    pub fn iter(&self) -> impl Iterator<Item = (&P, &[Path])> {
        self.dests.iter().map(|(p, d)| (p, d.paths.as_slice()))
    }

    /// The time, in seconds of the router's clock, that decisions from now on
    /// record as the change time of the prefixes they decide.
    pub fn set_clock(&mut self, now_s: u32) {
        self.clock_s = now_s;
    }

    /// `prefix`'s entry.
    pub fn get(&self, prefix: &P) -> Option<Entry<'_>> {
        self.dests.get(prefix).map(Entry::of)
    }

    /// The entries after `after` (from the first for `None`), in prefix order:
    /// a cursor over the table that costs O(log n) to resume.
    pub fn iter_after(&self, after: Option<&P>) -> impl Iterator<Item = (&P, Entry<'_>)> {
        self.dests.iter_after(after).map(|(p, d)| (p, Entry::of(d)))
    }

    /// Number of prefixes.
    pub fn len(&self) -> usize {
        self.dests.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.dests.is_empty()
    }

    /// Number of paths, over all prefixes and peers.
    pub fn path_count(&self) -> usize {
        self.paths
    }
}

impl<P: crate::prefix::RoutePrefix> Rib<P> {
    /// The most specific prefix present that covers `prefix` (itself
    /// included), with its entry: at most one lookup per prefix length.
    pub fn longest_match(&self, prefix: &P) -> Option<(P, Entry<'_>)> {
        (0..=prefix.prefix_len()).rev().find_map(|len| {
            let p = P::from_nlri(len, prefix.octets())?;
            self.dests.get(&p).map(|d| (p, Entry::of(d)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::as_path::AsPath;
    use crate::attributes::Attributes;
    use std::net::{IpAddr, Ipv4Addr};

    fn key(p: &Path) -> Option<SelectionKey> {
        Some(SelectionKey {
            local_pref: p.attrs.local_pref.unwrap_or(100),
            locally_originated: false,
            as_path_len: p.attrs.as_path.route_selection_len(),
            origin: 0,
            med: 0,
            neighbor_as: p.attrs.as_path.neighbor_as(),
            ebgp: false,
            igp_cost: 0,
            router_id: p.peer.0,
            cluster_list_len: 0,
            peer_address: IpAddr::V4(Ipv4Addr::from(p.peer.0)),
        })
    }

    fn path(store: &mut AttributeStore, peer: u32, id: u32, lp: u32) -> Path {
        Path {
            peer: PeerId(peer),
            path_id: id,
            attrs: store.intern(Attributes {
                local_pref: Some(lp),
                as_path: AsPath::sequence(&[65001]),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn best_path_withdrawal_and_implicit_withdrawal() {
        let mut store = AttributeStore::new();
        let mut rib: Rib<u32> = Rib::new();
        let mut changes = Vec::new();
        let o = DecisionOptions::default();
        rib.insert(7, path(&mut store, 1, 0, 100));
        rib.insert(7, path(&mut store, 2, 0, 200));
        rib.decide(&o, key, &mut changes);
        assert_eq!(
            changes,
            vec![Change {
                prefix: 7,
                best_changed: true
            }]
        );
        assert_eq!(rib.best(&7).unwrap().0.peer, PeerId(2));
        assert_eq!(rib.best(&7).unwrap().1, Reason::LocalPref);
        // Implicit withdrawal: peer 2 re-announces with a lower LOCAL_PREF.
        changes.clear();
        assert!(rib.insert(7, path(&mut store, 2, 0, 50)).is_some());
        assert_eq!(rib.path_count(), 2);
        rib.decide(&o, key, &mut changes);
        assert!(changes[0].best_changed);
        assert_eq!(rib.best(&7).unwrap().0.peer, PeerId(1));
        // A non-best withdrawal does not change the best.
        changes.clear();
        rib.remove(7, PeerId(2), 0).unwrap();
        rib.decide(&o, key, &mut changes);
        assert!(!changes[0].best_changed);
        // Flushing the last peer empties the table.
        changes.clear();
        assert_eq!(rib.flush_peer(PeerId(1), &mut store), 1);
        rib.decide(&o, key, &mut changes);
        assert!(changes[0].best_changed);
        assert!(rib.is_empty());
        assert_eq!(rib.path_count(), 0);
    }

    #[test]
    fn dirty_prefixes_are_decided_once_per_batch() {
        let mut store = AttributeStore::new();
        let mut rib: Rib<u32> = Rib::new();
        for id in 0..3 {
            rib.insert(1, path(&mut store, 1, id, 100 + id));
        }
        assert_eq!(rib.pending(), 1);
        let mut changes = Vec::new();
        rib.decide(&DecisionOptions::default(), key, &mut changes);
        assert_eq!(changes.len(), 1);
        assert_eq!(rib.best(&1).unwrap().0.path_id, 2);
    }

    #[test]
    fn cursor_longest_match_and_change_time() {
        use crate::prefix::Ipv4Prefix;
        let mut store = AttributeStore::new();
        let mut rib: Rib<Ipv4Prefix> = Rib::new();
        let p = |s: &str| s.parse::<Ipv4Prefix>().unwrap();
        rib.set_clock(7);
        for pre in ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "192.0.2.0/24"] {
            rib.insert(p(pre), path(&mut store, 1, 0, 100));
        }
        let mut changes = Vec::new();
        rib.decide(&DecisionOptions::default(), key, &mut changes);
        let (got, e) = rib.longest_match(&p("10.1.2.128/25")).unwrap();
        assert_eq!((got, e.changed_s, e.paths.len()), (p("10.1.2.0/24"), 7, 1));
        assert_eq!(
            rib.longest_match(&p("10.2.0.0/16")).unwrap().0,
            p("10.0.0.0/8")
        );
        assert!(rib.longest_match(&p("11.0.0.0/8")).is_none());
        let after: Vec<_> = rib
            .iter_after(Some(&p("10.1.0.0/16")))
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(after, [p("10.1.2.0/24"), p("192.0.2.0/24")]);
        // A later change records the later time, only for what changed.
        rib.set_clock(9);
        rib.insert(p("192.0.2.0/24"), path(&mut store, 2, 0, 200));
        rib.decide(&DecisionOptions::default(), key, &mut changes);
        assert_eq!(rib.get(&p("192.0.2.0/24")).unwrap().changed_s, 9);
        assert_eq!(rib.get(&p("10.0.0.0/8")).unwrap().changed_s, 7);
    }
}
