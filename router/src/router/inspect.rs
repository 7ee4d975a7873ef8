//! Read-only questions about the router's routes for the control API: why a
//! prefix's best path won (`explain`) and whether and what a peer is sent
//! (`explain --to`), answered through the same code the decision and the export
//! take, so an answer cannot disagree with what the router does.

use super::dissemination::rank;
use super::{Ctx, Router};
use crate::attributes::AttrRef;
use crate::decision::{self, Reason, SelectionKey};
use crate::export::{self, Refusal};
use crate::peer::AddPathSend;
use crate::policy::Outcome;
use crate::prefix::RoutePrefix;
use crate::rib::{Path, PeerId};

/// What became of one candidate path in the decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The best path, chosen at this step.
    Best(Reason),
    /// Removed from the running at this step.
    Lost(Reason),
    /// Left out of the decision: the IGP-cost hook cannot resolve its NEXT_HOP
    /// (RFC 4271 §9.1.2).
    UnresolvableNextHop,
}

/// One candidate path of a prefix, as the decision saw it.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The path.
    pub path: Path,
    /// Its selection key; `None` when it was left out of the decision.
    pub key: Option<SelectionKey>,
    /// What became of it.
    pub verdict: Verdict,
}

/// Why a peer is not sent a prefix, in the order the router applies the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotSent {
    /// The peer's session is not Established.
    SessionNotEstablished,
    /// The session did not negotiate the prefix's family.
    FamilyNotNegotiated,
    /// The router has no usable path for the prefix.
    NoRoute,
    /// The best path was learned from the peer itself.
    SplitHorizon,
    /// An export rule of RFC 4271 / RFC 4456 / RFC 1997 refuses it.
    Rule(Refusal),
    /// The peer's export policy rejects it: rule `Some(i)`, or the default.
    ExportPolicy(Option<usize>),
    /// ADD-PATH sends the `N` best paths (`BestN`): those are refused, and a
    /// path that would pass is ranked past `N`.
    AddPathLimit(u8),
    /// It may be sent and is queued: the update is not out yet.
    Pending,
}

impl NotSent {
    /// The machine-readable name, for the API.
    pub const fn code(self) -> &'static str {
        match self {
            NotSent::SessionNotEstablished => "session_not_established",
            NotSent::FamilyNotNegotiated => "family_not_negotiated",
            NotSent::NoRoute => "no_route",
            NotSent::SplitHorizon => "split_horizon",
            NotSent::Rule(r) => r.code(),
            NotSent::ExportPolicy(_) => "export_policy",
            NotSent::AddPathLimit(_) => "add_path_limit",
            NotSent::Pending => "pending",
        }
    }
}

/// What a peer is sent for one prefix.
#[derive(Clone, Debug)]
pub struct ExportExplanation {
    /// The paths in its Adj-RIB-Out: the peer they came from, the path
    /// identifier sent and the attributes sent.
    pub sent: Vec<(PeerId, u32, AttrRef)>,
    /// When nothing is sent, why not: the reason of the best candidate.
    pub not_sent: Option<NotSent>,
    /// The path the reason is about, when it is about one.
    pub about: Option<Path>,
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

    /// Every candidate path of `prefix` and what the decision process made of
    /// it: the best first, then the others, those that lasted longest first, then
    /// those left out. Empty when the prefix has no path.
    pub fn explain<P: RoutePrefix>(&self, prefix: &P) -> Vec<Candidate> {
        let ctx = self.ctx();
        let paths = self.rib::<P>().paths(prefix);
        let mut keys = Vec::with_capacity(paths.len());
        let mut eligible = Vec::with_capacity(paths.len());
        for (i, p) in paths.iter().enumerate() {
            if let Some(k) = ctx.key_of(p) {
                keys.push(k);
                eligible.push(i);
            }
        }
        let mut lost = Vec::new();
        let best = decision::explain(&keys, ctx.options, &mut lost);
        let mut out: Vec<Candidate> = Vec::with_capacity(paths.len());
        for (j, &i) in eligible.iter().enumerate() {
            let verdict = match (best, lost[j]) {
                (Some((b, reason)), _) if b == j => Verdict::Best(reason),
                (_, Some(step)) => Verdict::Lost(step),
                // Unreachable: every path but the best is removed at a step.
                (_, None) => Verdict::Lost(Reason::PeerAddress),
            };
            out.push(Candidate {
                path: paths[i].clone(),
                key: Some(keys[j]),
                verdict,
            });
        }
        // Best first; then by the step that removed them, latest first.
        out.sort_by_key(|c| match c.verdict {
            Verdict::Best(_) => (0, 0),
            Verdict::Lost(r) => (1, u8::MAX - step_index(r)),
            Verdict::UnresolvableNextHop => (2, 0),
        });
        for p in paths {
            if ctx.key_of(p).is_none() {
                out.push(Candidate {
                    path: p.clone(),
                    key: None,
                    verdict: Verdict::UnresolvableNextHop,
                });
            }
        }
        out
    }

    /// Whether `peer` is sent `prefix`: the paths in its Adj-RIB-Out, or why
    /// there are none, by the same rules [`export_paths`](super::dissemination)
    /// applies, in its order.
    pub fn explain_export<P: RoutePrefix>(&self, peer: PeerId, prefix: &P) -> ExportExplanation {
        let mut e = ExportExplanation {
            sent: Vec::new(),
            not_sent: None,
            about: None,
        };
        let Some(session) = self.session(peer) else {
            e.not_sent = Some(NotSent::SessionNotEstablished);
            return e;
        };
        let fam = if P::IPV6 { session.ipv6 } else { session.ipv4 };
        let group = self.group_of(peer).and_then(|g| self.groups[g].as_ref());
        let mode = group.and_then(|g| *g.key.modes.get::<P>());
        let (false, Some(mode), Some(group)) = (!fam.enabled, mode, group) else {
            e.not_sent = Some(NotSent::FamilyNotNegotiated);
            return e;
        };
        e.sent = self
            .adj_rib_out(peer, prefix)
            .iter()
            .filter(|o| o.source != peer)
            .filter_map(|o| Some((o.source, o.out_id, o.attrs.clone()?)))
            .collect();
        if !e.sent.is_empty() {
            return e;
        }
        let rib = self.rib::<P>();
        let Some(paths) = rib.decided(prefix) else {
            e.not_sent = Some(NotSent::NoRoute);
            return e;
        };
        let ctx = self.ctx();
        let mut order = Vec::new();
        match mode {
            AddPathSend::BestOnly => order.push(0),
            AddPathSend::All => {
                order.extend((0..paths.len()).filter(|&i| ctx.key_of(&paths[i]).is_some()))
            }
            AddPathSend::BestN(n) => rank(
                &ctx,
                paths,
                usize::from(n),
                &mut Vec::new(),
                &mut Vec::new(),
                &mut Vec::new(),
                &mut order,
            ),
        }
        let ip = prefix.to_ip_prefix();
        let target = &group.key.target;
        let why_not = |path: &Path| {
            if path.peer == peer {
                Some(NotSent::SplitHorizon)
            } else if let Some(r) = export::refusal(ctx.source(path.peer), &path.attrs, target) {
                Some(NotSent::Rule(r))
            } else if group.key.export.evaluate(&ip, &path.attrs) == Outcome::Reject {
                Some(NotSent::ExportPolicy(
                    group.key.export.deciding_rule(&ip, &path.attrs),
                ))
            } else {
                None
            }
        };
        let mut first = None;
        for &i in &order {
            let path = &paths[i];
            match why_not(path) {
                // A path that passes every rule: it is on its way.
                None => {
                    e.not_sent = Some(NotSent::Pending);
                    e.about = Some(path.clone());
                    return e;
                }
                Some(w) if first.is_none() => first = Some((w, path.clone())),
                Some(_) => {}
            }
        }
        if let AddPathSend::BestN(n) = mode
            && let Some(past) = (0..paths.len()).find(|i| {
                !order.contains(i)
                    && ctx.key_of(&paths[*i]).is_some()
                    && why_not(&paths[*i]).is_none()
            })
        {
            e.not_sent = Some(NotSent::AddPathLimit(n));
            e.about = Some(paths[past].clone());
            return e;
        }
        match first {
            Some((w, p)) => {
                e.not_sent = Some(w);
                e.about = Some(p);
            }
            None => e.not_sent = Some(NotSent::NoRoute),
        }
        e
    }
}

/// The position of a step in the decision process.
fn step_index(r: Reason) -> u8 {
    match r {
        Reason::OnlyPath => 0,
        Reason::LocalPref => 1,
        Reason::LocallyOriginated => 2,
        Reason::AsPathLength => 3,
        Reason::Origin => 4,
        Reason::MultiExitDisc => 5,
        Reason::EbgpOverIbgp => 6,
        Reason::IgpCost => 7,
        Reason::RouterId => 8,
        Reason::ClusterListLength => 9,
        Reason::PeerAddress => 10,
    }
}
