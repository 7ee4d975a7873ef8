//! Why the router did what it did, for the control API: which path of a prefix
//! won and the decision step at which each other one lost
//! ([`Router::explain`]), and whether a peer is sent a prefix and, when it is
//! not, the rule that stops it ([`Router::explain_export`]). Both read the
//! same state and apply the same rules as the decision and the dissemination
//! code (`decision::removed_at`, `export::refusal`, the export policy's
//! deciding rule); the tests check they agree with what the router did.

use super::*;
use crate::export::Refusal as ExportRule;

/// One candidate path of a prefix.
#[derive(Clone, Debug)]
pub struct Candidate<'a> {
    /// The path.
    pub path: &'a Path,
    /// Its selection key; `None` when it was left out of the decision.
    pub key: Option<SelectionKey>,
    /// It is the best path.
    pub best: bool,
    /// For the best path, the step that decided (the last that removed a
    /// competitor); for another path, the step at which it was removed.
    pub step: Option<Reason>,
    /// Why it was left out of the decision.
    pub excluded: Option<&'static str>,
}

/// Why a peer is not sent a prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The peer's session is not Established.
    SessionNotEstablished,
    /// The session did not negotiate the prefix's family.
    FamilyNotNegotiated,
    /// The prefix has no usable path.
    NoRoute,
    /// The path to send was learned from this peer.
    SplitHorizon,
    /// A rule of RFC 1997, RFC 4271 §9.1.3 or RFC 4456 §8.
    Rule(ExportRule),
    /// The peer's export policy rejects it: the rule's index, or `None` for
    /// the policy's default.
    ExportPolicy(Option<usize>),
    /// It may be sent, and is waiting for the group's next flush (MRAI) or the
    /// peer's catch-up.
    Pending,
}

/// Whether a peer is sent a prefix.
#[derive(Clone, Debug)]
pub struct ExportExplanation {
    /// What the peer's Adj-RIB-Out holds for the prefix (what it was sent):
    /// path identifier, the path's source, the attributes sent.
    pub sent: Vec<(u32, PeerId, AttrRef)>,
    /// Why nothing is sent, when nothing is.
    pub refusal: Option<Refusal>,
    /// Paths that may be sent but are ranked past the ADD-PATH limit.
    pub past_limit: usize,
    /// The ADD-PATH send mode of the peer's group.
    pub mode: Option<AddPathSend>,
}

impl Router {
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            local: &self.local,
            facts: &self.facts,
            igp_cost: self.igp_cost.as_ref(),
            options: &self.config.decision,
        }
    }

    /// The selection key of `path` (None: left out of the decision).
    pub fn selection_key(&self, path: &Path) -> Option<SelectionKey> {
        self.ctx().key_of(path)
    }

    /// Every path of `prefix`, best first, with the decision step each lost at
    /// (RFC 4271 §9.1.2.2, RFC 4456 §9); then, by the step they lost at, the
    /// ones that went furthest first.
    pub fn explain<P: RoutePrefix>(&self, prefix: &P) -> Vec<Candidate<'_>> {
        let ctx = self.ctx();
        let paths = self.ribs.get::<P>().paths(prefix);
        let keys: Vec<Option<SelectionKey>> = paths.iter().map(|p| ctx.key_of(p)).collect();
        let eligible: Vec<usize> = (0..paths.len()).filter(|&i| keys[i].is_some()).collect();
        let ks: Vec<SelectionKey> = eligible.iter().filter_map(|&i| keys[i]).collect();
        let removed = decision::removed_at(&ks, &self.config.decision);
        let decided = self.ribs.get::<P>().best(prefix).map(|(_, r)| r);
        let mut out: Vec<Candidate<'_>> = paths
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let e = eligible.iter().position(|&j| j == i);
                let best = decided.is_some() && e.is_some_and(|e| removed[e].is_none());
                Candidate {
                    path,
                    key: keys[i],
                    best,
                    step: match e {
                        Some(_) if best => decided,
                        Some(e) => removed[e],
                        None => None,
                    },
                    excluded: keys[i]
                        .is_none()
                        .then_some("its NEXT_HOP is unresolvable (RFC 4271 §9.1.2)"),
                }
            })
            .collect();
        let rank = |c: &Candidate<'_>| -> usize {
            if c.best {
                return 0;
            }
            match c.step {
                Some(r) => 100 - STEPS.iter().position(|s| *s == r).unwrap_or(0),
                None => 1000,
            }
        };
        out.sort_by_key(rank);
        out
    }

    /// Whether `peer` is sent `prefix`: what its Adj-RIB-Out holds and, when
    /// it holds nothing, the first rule that stops it, in the order the router
    /// applies them.
    pub fn explain_export<P: RoutePrefix>(&self, prefix: &P, peer: PeerId) -> ExportExplanation {
        let sent: Vec<(u32, PeerId, AttrRef)> = self
            .adj_rib_out(peer, prefix)
            .iter()
            .filter(|o| o.source != peer)
            .filter_map(|o| o.attrs.as_ref().map(|a| (o.out_id, o.source, a.clone())))
            .collect();
        let mut x = ExportExplanation {
            sent,
            refusal: None,
            past_limit: 0,
            mode: None,
        };
        let Some(group) = self.group_of(peer).and_then(|g| self.groups[g].as_ref()) else {
            x.refusal = Some(Refusal::SessionNotEstablished);
            return x;
        };
        if self.session(peer).is_none() {
            x.refusal = Some(Refusal::SessionNotEstablished);
            return x;
        }
        let Some(mode) = group.key.mode::<P>() else {
            x.refusal = Some(Refusal::FamilyNotNegotiated);
            return x;
        };
        x.mode = Some(mode);
        let rib = self.ribs.get::<P>();
        let Some(paths) = rib.decided(prefix) else {
            x.refusal = Some(Refusal::NoRoute);
            return x;
        };
        let ctx = self.ctx();
        // The candidates in the order the group considers them.
        let order: Vec<usize> = match mode {
            AddPathSend::BestOnly => vec![0],
            AddPathSend::All => (0..paths.len())
                .filter(|&i| ctx.key_of(&paths[i]).is_some())
                .collect(),
            AddPathSend::BestN(_) => {
                let mut order = Vec::new();
                let (mut k, mut s, mut l) = (Vec::new(), Vec::new(), Vec::new());
                super::dissemination::rank(
                    &ctx,
                    paths,
                    paths.len(),
                    &mut k,
                    &mut s,
                    &mut l,
                    &mut order,
                );
                order
            }
        };
        let limit = match mode {
            AddPathSend::BestOnly => 1,
            AddPathSend::All => usize::MAX,
            AddPathSend::BestN(n) => usize::from(n),
        };
        let ip = prefix.to_ip_prefix();
        let mut first_refusal = None;
        let mut may = 0usize;
        let mut may_to_peer = 0usize;
        for &i in &order {
            let path = &paths[i];
            let refusal = if let Some(rule) =
                export::refusal(ctx.source(path.peer), &path.attrs, &group.key.target)
            {
                Some(Refusal::Rule(rule))
            } else if matches!(group.key.export.evaluate(&ip, &path.attrs), Outcome::Reject) {
                Some(Refusal::ExportPolicy(
                    group.key.export.deciding_rule(&ip, &path.attrs),
                ))
            } else {
                None
            };
            match refusal {
                Some(r) => {
                    first_refusal.get_or_insert(r);
                }
                None => {
                    // The group sends it (within the limit) to every member
                    // but its source.
                    if may < limit {
                        if path.peer == peer {
                            first_refusal.get_or_insert(Refusal::SplitHorizon);
                        } else {
                            may_to_peer += 1;
                        }
                    } else {
                        x.past_limit += 1;
                    }
                    may += 1;
                }
            }
        }
        if x.sent.is_empty() {
            x.refusal = Some(if may_to_peer > 0 {
                Refusal::Pending
            } else {
                first_refusal.unwrap_or(Refusal::NoRoute)
            });
        }
        x
    }
}

/// The decision's steps in order, for ranking losers by how far they went.
const STEPS: [Reason; 10] = [
    Reason::LocalPref,
    Reason::LocallyOriginated,
    Reason::AsPathLength,
    Reason::Origin,
    Reason::MultiExitDisc,
    Reason::EbgpOverIbgp,
    Reason::IgpCost,
    Reason::RouterId,
    Reason::ClusterListLength,
    Reason::PeerAddress,
];
