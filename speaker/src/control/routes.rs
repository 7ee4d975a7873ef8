//! The route half of the control API: dumps with a cursor, longest match,
//! summaries, `explain` and `explain --to`, and a router path as an API
//! [`Route`].
//!
//! The dumps themselves live in `dump.rs` (re-exported here). `explain` and
//! `explain_to` put the router's own answers ([`Router::explain`],
//! [`Router::explain_export`]) into words.
//!
//! [`Router::explain`]: nexthop_router::router::Router::explain
//! [`Router::explain_export`]: nexthop_router::router::Router::explain_export

use std::net::{IpAddr, Ipv4Addr};

use nexthop_control::{ApiError, Candidate, Explain, ExplainTo, Route};
use nexthop_router::decision::{Reason, SelectionKey};
use nexthop_router::export::Refusal;
use nexthop_router::prefix::{IpPrefix, Ipv4Prefix, Ipv6Prefix, RoutePrefix};
use nexthop_router::rib::{Path, PeerId};
use nexthop_router::router::{ExportExplanation, NotSent, Verdict};

pub(crate) use super::dump::{check_routes, route_of, route_summary, routes};
use super::dump::{neighbor_of, parse_prefix, peer_of};
use crate::{Instant, Speaker};

/// The prefix `text` names for `explain`: the prefix itself when present, else
/// the most specific one covering it (an address alone is a host prefix).
fn explained_prefix(s: &Speaker, text: &str) -> Result<IpPrefix, ApiError> {
    let p = parse_prefix(text, true)?;
    Ok(match p {
        IpPrefix::V4(v) => resolve(s.router.rib::<Ipv4Prefix>(), v).to_ip_prefix(),
        IpPrefix::V6(v) => resolve(s.router.rib::<Ipv6Prefix>(), v).to_ip_prefix(),
    })
}

fn resolve<P: RoutePrefix>(rib: &nexthop_router::rib::Rib<P>, p: P) -> P {
    if rib.get(&p).is_some() {
        return p;
    }
    rib.longest_match(&p).map_or(p, |(m, _)| m)
}

/// Every candidate path of `prefix` and why it won or lost.
pub(crate) fn explain(s: &Speaker, now: Instant, prefix: &str) -> Result<Explain, ApiError> {
    let p = explained_prefix(s, prefix)?;
    let candidates = match p {
        IpPrefix::V4(v) => s.router.explain(&v),
        IpPrefix::V6(v) => s.router.explain(&v),
    };
    let best = candidates
        .first()
        .filter(|c| matches!(c.verdict, Verdict::Best(_)))
        .cloned();
    let best_from = best.as_ref().map(|b| from_text(s, b.path.peer));
    let out = candidates
        .iter()
        .map(|c| {
            let is_best = matches!(c.verdict, Verdict::Best(_));
            let route = route_of(s, now, &p, &c.path, is_best);
            match c.verdict {
                Verdict::Best(Reason::OnlyPath) => Candidate {
                    route,
                    step: None,
                    reason: "the only usable path (RFC 4271 §9.1.2)".into(),
                    excluded: None,
                },
                Verdict::Best(step) => Candidate {
                    route,
                    step: Some(step.code().into()),
                    reason: match c.key {
                        Some(k) => format!(
                            "won at {} ({}): {}",
                            step.name(),
                            step.rule(),
                            value(step, &k)
                        ),
                        None => format!("won at {} ({})", step.name(), step.rule()),
                    },
                    excluded: None,
                },
                Verdict::Lost(step) => {
                    let theirs = best.as_ref().and_then(|b| b.key);
                    let reason = match (c.key, theirs) {
                        (Some(k), Some(b))
                            if step == Reason::MultiExitDisc && k.neighbor_as != b.neighbor_as =>
                        {
                            format!(
                                "lost at {} ({}): {} is higher than another path's from {}",
                                step.name(),
                                step.rule(),
                                value(step, &k),
                                neighbor_as_text(k.neighbor_as)
                            )
                        }
                        (Some(k), Some(b)) => format!(
                            "lost at {} ({}): {} against {} of the best path from {}",
                            step.name(),
                            step.rule(),
                            value(step, &k),
                            value(step, &b),
                            best_from.as_deref().unwrap_or("?")
                        ),
                        _ => format!("lost at {} ({})", step.name(), step.rule()),
                    };
                    Candidate {
                        route,
                        step: Some(step.code().into()),
                        reason,
                        excluded: None,
                    }
                }
                Verdict::UnresolvableNextHop => {
                    let why = format!(
                        "NEXT_HOP {} is unresolvable: the IGP has no route to it (RFC 4271 §9.1.2)",
                        route
                            .next_hop
                            .map_or_else(|| "(none)".to_string(), |a| a.to_string())
                    );
                    Candidate {
                        route,
                        step: None,
                        reason: format!("left out of the decision: {why}"),
                        excluded: Some(why),
                    }
                }
            }
        })
        .collect();
    Ok(Explain {
        prefix: p.to_string(),
        candidates: out,
    })
}

/// Whether `neighbor` is sent `prefix`, and why not.
pub(crate) fn explain_to(
    s: &Speaker,
    now: Instant,
    prefix: &str,
    neighbor: IpAddr,
) -> Result<ExplainTo, ApiError> {
    let peer = peer_of(s, neighbor)?;
    let p = explained_prefix(s, prefix)?;
    let e = match p {
        IpPrefix::V4(v) => s.router.explain_export(peer, &v),
        IpPrefix::V6(v) => s.router.explain_export(peer, &v),
    };
    Ok(export_answer(s, now, &p, neighbor, peer, e))
}

fn export_answer(
    s: &Speaker,
    now: Instant,
    p: &IpPrefix,
    neighbor: IpAddr,
    peer: PeerId,
    e: ExportExplanation,
) -> ExplainTo {
    let sent: Vec<Route> = e
        .sent
        .into_iter()
        .map(|(source, out_id, attrs)| {
            let path = Path {
                peer: source,
                path_id: out_id,
                attrs,
            };
            route_of(s, now, p, &path, false)
        })
        .collect();
    let Some(why) = e.not_sent else {
        return ExplainTo {
            prefix: p.to_string(),
            neighbor,
            advertised: true,
            reason: format!("{} path(s) of {p} advertised to {neighbor}", sent.len()),
            sent,
            reason_code: None,
        };
    };
    let from = e
        .about
        .as_ref()
        .map_or_else(|| "?".to_string(), |a| from_text(s, a.peer));
    let internal = s.router.is_internal(peer);
    let reason = match why {
        NotSent::SessionNotEstablished => {
            format!("the session with {neighbor} is not Established")
        }
        NotSent::FamilyNotNegotiated => format!(
            "the session with {neighbor} did not negotiate {} unicast (RFC 4760)",
            match p {
                IpPrefix::V4(_) => "IPv4",
                IpPrefix::V6(_) => "IPv6",
            }
        ),
        NotSent::NoRoute => format!("no usable route to {p}"),
        NotSent::SplitHorizon => format!(
            "the best path was learned from {neighbor} itself: not sent back to it (split horizon)"
        ),
        NotSent::Rule(Refusal::IbgpToIbgpNonClient) => format!(
            "learned from iBGP peer {from}, a non-client, and {neighbor} is a non-client: RFC 4456 §8 does not reflect between them"
        ),
        NotSent::Rule(Refusal::NoAdvertise) => {
            format!("the path from {from} carries NO_ADVERTISE (RFC 1997): sent to no peer")
        }
        NotSent::Rule(Refusal::NoExport) => format!(
            "the path from {from} carries NO_EXPORT (RFC 1997) and {neighbor} is {}",
            if internal {
                "outside the AS"
            } else {
                "an eBGP peer"
            }
        ),
        NotSent::ExportPolicy(Some(i)) => {
            format!("export policy rule {i} of {neighbor} rejects the path from {from}")
        }
        NotSent::ExportPolicy(None) => format!(
            "the default of {neighbor}'s export policy rejects the path from {from}: no rule accepts it"
        ),
        NotSent::AddPathLimit(n) => format!(
            "ADD-PATH sends {neighbor} the {n} best path(s) (RFC 7911), which the rules refuse; the path from {from} that would pass is ranked past {n}"
        ),
        NotSent::Pending => format!(
            "the path from {from} may be sent to {neighbor}: the update is queued and not out yet"
        ),
    };
    ExplainTo {
        prefix: p.to_string(),
        neighbor,
        advertised: false,
        sent,
        reason_code: Some(why.code().into()),
        reason,
    }
}

/// Where a path came from, in words.
fn from_text(s: &Speaker, peer: PeerId) -> String {
    neighbor_of(s, peer).map_or_else(|| "this router".to_string(), |a| a.to_string())
}

fn neighbor_as_text(asn: Option<u32>) -> String {
    asn.map_or_else(|| "our own AS".to_string(), |a| format!("AS {a}"))
}

/// The value a path has at decision step `step`, in words.
fn value(step: Reason, k: &SelectionKey) -> String {
    match step {
        Reason::OnlyPath => String::new(),
        Reason::LocalPref => format!("LOCAL_PREF {}", k.local_pref),
        Reason::LocallyOriginated => if k.locally_originated {
            "originated here"
        } else {
            "learned from a peer"
        }
        .into(),
        Reason::AsPathLength => format!("AS_PATH length {}", k.as_path_len),
        Reason::Origin => format!(
            "ORIGIN {}",
            match k.origin {
                0 => "IGP",
                1 => "EGP",
                _ => "INCOMPLETE",
            }
        ),
        Reason::MultiExitDisc => format!("MED {} ({})", k.med, neighbor_as_text(k.neighbor_as)),
        Reason::EbgpOverIbgp => if k.ebgp { "eBGP" } else { "iBGP" }.into(),
        Reason::IgpCost => format!("IGP cost {}", k.igp_cost),
        Reason::RouterId => format!("router ID {}", Ipv4Addr::from(k.router_id)),
        Reason::ClusterListLength => format!("CLUSTER_LIST length {}", k.cluster_list_len),
        Reason::PeerAddress => format!("peer address {}", k.peer_address),
    }
}

#[cfg(test)]
#[path = "routes_tests.rs"]
mod tests;
