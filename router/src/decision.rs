//! The decision process, phase 2 (RFC 4271 §9.1.2.2), with the route reflection
//! tie-breaks of RFC 4456 §9 and the confederation rules of RFC 5065 §5.3.
//!
//! Each candidate path is reduced to a [`SelectionKey`] when it is installed, so
//! choosing among a prefix's paths compares small integers only. The result says
//! which step decided ([`Reason`]), for the API that shows why a path won.

use std::cmp::Ordering;
use std::net::IpAddr;

/// What the decision process needs to know about one path, computed once when the
/// path is installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SelectionKey {
    /// Degree of preference (§9.1.1): LOCAL_PREF for iBGP-learned paths, the
    /// import policy's value for eBGP-learned ones. Higher wins.
    pub local_pref: u32,
    /// The path was originated by this speaker (a configured network or an
    /// aggregate). Among paths of equal preference a speaker keeps its own, as
    /// BIRD, FRR and others do, so that a prefix it originates is never replaced by
    /// a reflected copy of itself or another site's (anycast) and withdrawn.
    pub locally_originated: bool,
    /// AS_PATH length as §9.1.2.2 (a) counts it: an AS_SET counts 1, confederation
    /// segments count 0 (RFC 5065 §5.3). Shorter wins.
    pub as_path_len: u32,
    /// ORIGIN: 0 IGP, 1 EGP, 2 INCOMPLETE. Lower wins.
    pub origin: u8,
    /// MULTI_EXIT_DISC; a path without one counts as 0, the best (§9.1.2.2 (c)).
    pub med: u32,
    /// The neighbouring AS (the first AS of the AS_PATH, §9.1.2.2 (c)); `None` for a
    /// path with an empty AS_PATH (locally originated, or from an iBGP peer of our AS).
    pub neighbor_as: Option<u32>,
    /// Learned over eBGP (a confederation-external peer, RFC 5065, counts as iBGP here).
    pub ebgp: bool,
    /// Interior cost to the NEXT_HOP, from the IGP-cost hook (§9.1.2.2 (e)). Lower wins.
    pub igp_cost: u32,
    /// ORIGINATOR_ID where the path has one, else the BGP Identifier of the peer it
    /// was learned from (§9.1.2.2 (f), RFC 4456 §9). Lower wins.
    pub router_id: u32,
    /// CLUSTER_LIST length (RFC 4456 §9). Shorter wins.
    pub cluster_list_len: u32,
    /// The peer's address (§9.1.2.2 (g)). Lower wins; locally originated paths use
    /// the unspecified address and so win this step.
    pub peer_address: IpAddr,
}

/// Options of the decision process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecisionOptions {
    /// Compare MED between paths from different neighbouring ASes too
    /// (`always-compare-med`; RFC 4271 §9.1.2.2 (c) compares only within one AS).
    pub always_compare_med: bool,
}

/// The step of the decision process that chose the best path: the one at which the
/// last competitor was removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    /// There was only one path.
    OnlyPath,
    /// Highest degree of preference / LOCAL_PREF (§9.1.1).
    LocalPref,
    /// Originated by this speaker, over learned from a peer.
    LocallyOriginated,
    /// Shortest AS_PATH (§9.1.2.2 (a)).
    AsPathLength,
    /// Lowest ORIGIN (§9.1.2.2 (b)).
    Origin,
    /// Lowest MULTI_EXIT_DISC among paths from the same neighbouring AS (§9.1.2.2 (c)).
    MultiExitDisc,
    /// eBGP-learned over iBGP-learned (§9.1.2.2 (d)).
    EbgpOverIbgp,
    /// Lowest interior cost to the NEXT_HOP (§9.1.2.2 (e)).
    IgpCost,
    /// Lowest BGP Identifier or ORIGINATOR_ID (§9.1.2.2 (f), RFC 4456 §9).
    RouterId,
    /// Shortest CLUSTER_LIST (RFC 4456 §9).
    ClusterListLength,
    /// Lowest peer address (§9.1.2.2 (g)).
    PeerAddress,
}

impl Reason {
    /// The step's machine-readable name (snake case), for the API.
    pub const fn code(self) -> &'static str {
        match self {
            Reason::OnlyPath => "only_path",
            Reason::LocalPref => "local_pref",
            Reason::LocallyOriginated => "locally_originated",
            Reason::AsPathLength => "as_path_length",
            Reason::Origin => "origin",
            Reason::MultiExitDisc => "med",
            Reason::EbgpOverIbgp => "ebgp_over_ibgp",
            Reason::IgpCost => "igp_cost",
            Reason::RouterId => "router_id",
            Reason::ClusterListLength => "cluster_list_length",
            Reason::PeerAddress => "peer_address",
        }
    }

    /// The rule that defines the step.
    pub const fn rule(self) -> &'static str {
        match self {
            Reason::OnlyPath => "RFC 4271 §9.1.2",
            Reason::LocalPref => "RFC 4271 §9.1.1",
            Reason::LocallyOriginated => "local preference for own routes",
            Reason::AsPathLength => "RFC 4271 §9.1.2.2 (a)",
            Reason::Origin => "RFC 4271 §9.1.2.2 (b)",
            Reason::MultiExitDisc => "RFC 4271 §9.1.2.2 (c)",
            Reason::EbgpOverIbgp => "RFC 4271 §9.1.2.2 (d)",
            Reason::IgpCost => "RFC 4271 §9.1.2.2 (e)",
            Reason::RouterId => "RFC 4271 §9.1.2.2 (f), RFC 4456 §9",
            Reason::ClusterListLength => "RFC 4456 §9",
            Reason::PeerAddress => "RFC 4271 §9.1.2.2 (g)",
        }
    }

    /// The step's name, for logs and the API.
    pub const fn name(self) -> &'static str {
        match self {
            Reason::OnlyPath => "only path",
            Reason::LocalPref => "LOCAL_PREF",
            Reason::LocallyOriginated => "locally originated",
            Reason::AsPathLength => "AS_PATH length",
            Reason::Origin => "ORIGIN",
            Reason::MultiExitDisc => "MULTI_EXIT_DISC",
            Reason::EbgpOverIbgp => "eBGP over iBGP",
            Reason::IgpCost => "IGP cost",
            Reason::RouterId => "router ID",
            Reason::ClusterListLength => "CLUSTER_LIST length",
            Reason::PeerAddress => "peer address",
        }
    }
}

/// Chooses the best of `paths` (§9.1.2.2). Returns its index and the step that
/// decided, or `None` when `paths` is empty.
///
/// `scratch` is working space the caller keeps between calls, so the choice does not
/// allocate once it has grown to the largest number of paths seen.
///
/// Every step but (c) is a total order, so it keeps the candidates that tie at the
/// best value. Step (c) is not: a path is removed when another path from the same
/// neighbouring AS has a lower MED, which can leave several ASes' paths standing.
pub fn select(
    paths: &[SelectionKey],
    options: &DecisionOptions,
    scratch: &mut Vec<usize>,
) -> Option<(usize, Reason)> {
    run(paths, options, scratch, &mut |_, _| {})
}

/// The decision process of [`select`] with, for every path, the step that removed
/// it from the running (`None` for the best): `lost[i]` for `paths[i]`. The same
/// steps, in the same order, on the same values as [`select`], so the best it
/// names is the one [`select`] chooses.
pub fn explain(
    paths: &[SelectionKey],
    options: &DecisionOptions,
    lost: &mut Vec<Option<Reason>>,
) -> Option<(usize, Reason)> {
    lost.clear();
    lost.resize(paths.len(), None);
    let mut scratch = Vec::with_capacity(paths.len());
    run(paths, options, &mut scratch, &mut |i, step| {
        lost[i] = Some(step)
    })
}

/// The decision process; `removed(i, step)` is told of each path `step` removes.
fn run(
    paths: &[SelectionKey],
    options: &DecisionOptions,
    scratch: &mut Vec<usize>,
    removed: &mut dyn FnMut(usize, Reason),
) -> Option<(usize, Reason)> {
    match paths.len() {
        0 => return None,
        1 => return Some((0, Reason::OnlyPath)),
        _ => {}
    }
    scratch.clear();
    scratch.extend(0..paths.len());
    let mut reason = Reason::OnlyPath;

    // Keeps the candidates that are best by `better` (Less = better); notes the step
    // if it removed anything.
    let keep_best = |scratch: &mut Vec<usize>,
                     reason: &mut Reason,
                     removed: &mut dyn FnMut(usize, Reason),
                     step: Reason,
                     cmp: &dyn Fn(&SelectionKey, &SelectionKey) -> Ordering| {
        if scratch.len() < 2 {
            return;
        }
        let mut best = scratch[0];
        for &i in scratch.iter().skip(1) {
            if cmp(&paths[i], &paths[best]) == Ordering::Less {
                best = i;
            }
        }
        let before = scratch.len();
        scratch.retain(|&i| {
            let keep = cmp(&paths[i], &paths[best]) != Ordering::Greater;
            if !keep {
                removed(i, step);
            }
            keep
        });
        if scratch.len() < before {
            *reason = step;
        }
    };

    keep_best(scratch, &mut reason, removed, Reason::LocalPref, &|a, b| {
        b.local_pref.cmp(&a.local_pref)
    });
    keep_best(
        scratch,
        &mut reason,
        removed,
        Reason::LocallyOriginated,
        &|a, b| b.locally_originated.cmp(&a.locally_originated),
    );
    keep_best(
        scratch,
        &mut reason,
        removed,
        Reason::AsPathLength,
        &|a, b| a.as_path_len.cmp(&b.as_path_len),
    );
    keep_best(scratch, &mut reason, removed, Reason::Origin, &|a, b| {
        a.origin.cmp(&b.origin)
    });

    // (c): within each neighbouring AS (or among all, with always-compare-med),
    // remove paths whose MED is higher than the lowest of that group.
    if scratch.len() > 1 {
        let before = scratch.len();
        if options.always_compare_med {
            keep_best(
                scratch,
                &mut reason,
                removed,
                Reason::MultiExitDisc,
                &|a, b| a.med.cmp(&b.med),
            );
        } else {
            // Compacting in place is sound: a removed path never holds its AS's
            // lowest MED, so every test below sees the same minimum.
            let mut kept = 0;
            for r in 0..scratch.len() {
                let i = scratch[r];
                let dominated = scratch.iter().any(|&j| {
                    paths[j].neighbor_as == paths[i].neighbor_as && paths[j].med < paths[i].med
                });
                if dominated {
                    removed(i, Reason::MultiExitDisc);
                } else {
                    scratch[kept] = i;
                    kept += 1;
                }
            }
            scratch.truncate(kept);
            if scratch.len() < before {
                reason = Reason::MultiExitDisc;
            }
        }
    }

    keep_best(
        scratch,
        &mut reason,
        removed,
        Reason::EbgpOverIbgp,
        &|a, b| b.ebgp.cmp(&a.ebgp),
    );
    keep_best(scratch, &mut reason, removed, Reason::IgpCost, &|a, b| {
        a.igp_cost.cmp(&b.igp_cost)
    });
    keep_best(scratch, &mut reason, removed, Reason::RouterId, &|a, b| {
        a.router_id.cmp(&b.router_id)
    });
    keep_best(
        scratch,
        &mut reason,
        removed,
        Reason::ClusterListLength,
        &|a, b| a.cluster_list_len.cmp(&b.cluster_list_len),
    );
    keep_best(
        scratch,
        &mut reason,
        removed,
        Reason::PeerAddress,
        &|a, b| a.peer_address.cmp(&b.peer_address),
    );
    // Identical keys (the same peer announcing twice with ADD-PATH): the first wins;
    // the others lose at the last step, where they tie.
    for &i in scratch.iter().skip(1) {
        removed(i, Reason::PeerAddress);
    }
    scratch.first().map(|&i| (i, reason))
}
