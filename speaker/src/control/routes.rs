//! The route half of the control API: dumps with a cursor, longest match,
//! summaries, `explain` and `explain --to`, and a router path as an API
//! [`Route`].
//!
//! The dumps themselves live in `dump.rs` (re-exported here).
//!
//! `explain` shows each candidate path with the decision step it lost at
//! (from `Router::explain`, which mirrors the decision process); `explain_to`
//! the rule that keeps a prefix from a neighbour (from
//! `Router::explain_export`, on the export rules' one implementation).

use std::net::IpAddr;

use nexthop_control::{ApiError, Candidate, Explain, ExplainTo};
use nexthop_router::decision::{Reason, SelectionKey};
use nexthop_router::export::Refusal as ExportRule;
use nexthop_router::prefix::{IpPrefix, Ipv4Prefix, Ipv6Prefix, RoutePrefix};
use nexthop_router::rib::PeerId;
use nexthop_router::router::Refusal;

use super::dump::{self, parse_prefix};
use super::policy_text::policy_lines;

pub(crate) use super::dump::{check_routes, route_of, route_summary, routes};
use crate::{Instant, Speaker};

/// Every candidate path of `prefix` and why it won or lost.
pub(crate) fn explain(s: &Speaker, now: Instant, prefix: &str) -> Result<Explain, ApiError> {
    let p = parse_prefix(prefix, false)?;
    let candidates = match p {
        IpPrefix::V4(q) => candidates::<Ipv4Prefix>(s, now, &q),
        IpPrefix::V6(q) => candidates::<Ipv6Prefix>(s, now, &q),
    };
    Ok(Explain {
        prefix: p.to_string(),
        candidates,
    })
}

fn candidates<P: RoutePrefix>(s: &Speaker, now: Instant, prefix: &P) -> Vec<Candidate> {
    let list = s.router.explain(prefix);
    let ip = prefix.to_ip_prefix();
    let age = s
        .router
        .rib::<P>()
        .get(prefix)
        .map_or(0, |e| now_s(now).saturating_sub(e.changed_s));
    let best = list.iter().find(|c| c.best);
    let best_key = best.and_then(|b| b.key);
    let best_from = best.map(|b| from_text(s, b.path.peer));
    list.iter()
        .map(|c| {
            let route = dump::route(
                s,
                &ip,
                c.path.peer,
                c.path.path_id,
                &c.path.attrs,
                c.best,
                age,
            );
            let reason = match (c.best, c.step, c.key, best_key) {
                (_, _, None, _) => "left out of the decision".to_string(),
                (true, None | Some(Reason::OnlyPath), _, _) => "best: the only usable path".into(),
                (true, Some(step), _, _) => format!("best: won at {} ({})", step.name(), rfc(step)),
                (false, Some(step), Some(k), Some(b)) => format!(
                    "lost at {} ({}): {} against {} of the best path from {}",
                    step.name(),
                    rfc(step),
                    value(step, &k),
                    value(step, &b),
                    best_from.clone().unwrap_or_default()
                ),
                (false, _, _, _) => "not chosen: no best path was decided".into(),
            };
            Candidate {
                route,
                step: c
                    .step
                    .filter(|r| *r != Reason::OnlyPath)
                    .map(|r| step_code(r).to_string()),
                reason,
                excluded: c.excluded.map(str::to_string),
            }
        })
        .collect()
}

fn from_text(s: &Speaker, peer: PeerId) -> String {
    match dump::neighbor_of(s, peer) {
        Some(a) => a.to_string(),
        None => "this router (originated)".into(),
    }
}

/// The machine-readable name of a decision step.
fn step_code(r: Reason) -> &'static str {
    match r {
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

fn rfc(r: Reason) -> &'static str {
    match r {
        Reason::OnlyPath => "",
        Reason::LocalPref => "RFC 4271 §9.1.1, higher wins",
        Reason::LocallyOriginated => "our own route over a learned one",
        Reason::AsPathLength => "RFC 4271 §9.1.2.2 (a), shorter wins",
        Reason::Origin => "RFC 4271 §9.1.2.2 (b), IGP < EGP < INCOMPLETE",
        Reason::MultiExitDisc => "RFC 4271 §9.1.2.2 (c), lower wins among paths from the same AS",
        Reason::EbgpOverIbgp => "RFC 4271 §9.1.2.2 (d)",
        Reason::IgpCost => "RFC 4271 §9.1.2.2 (e), lower wins",
        Reason::RouterId => "RFC 4271 §9.1.2.2 (f) and RFC 4456 §9, lower wins",
        Reason::ClusterListLength => "RFC 4456 §9, shorter wins",
        Reason::PeerAddress => "RFC 4271 §9.1.2.2 (g), lower wins",
    }
}

/// The value a step compared, in words.
fn value(r: Reason, k: &SelectionKey) -> String {
    match r {
        Reason::OnlyPath => String::new(),
        Reason::LocalPref => format!("LOCAL_PREF {}", k.local_pref),
        Reason::LocallyOriginated => if k.locally_originated {
            "originated here"
        } else {
            "learned"
        }
        .into(),
        Reason::AsPathLength => format!("AS_PATH length {}", k.as_path_len),
        Reason::Origin => format!(
            "ORIGIN {}",
            ["IGP", "EGP", "INCOMPLETE"]
                .get(usize::from(k.origin))
                .unwrap_or(&"?")
        ),
        Reason::MultiExitDisc => format!(
            "MED {} (AS {})",
            k.med,
            k.neighbor_as.map_or("-".into(), |a| a.to_string())
        ),
        Reason::EbgpOverIbgp => if k.ebgp { "eBGP" } else { "iBGP" }.into(),
        Reason::IgpCost => format!("IGP cost {}", k.igp_cost),
        Reason::RouterId => format!("router ID {}", std::net::Ipv4Addr::from(k.router_id)),
        Reason::ClusterListLength => format!("CLUSTER_LIST length {}", k.cluster_list_len),
        Reason::PeerAddress => format!("peer address {}", k.peer_address),
    }
}

/// Whether `neighbor` is sent `prefix`, and why not.
pub(crate) fn explain_to(
    s: &Speaker,
    now: Instant,
    prefix: &str,
    neighbor: IpAddr,
) -> Result<ExplainTo, ApiError> {
    let p = parse_prefix(prefix, false)?;
    let peer = dump::peer_of(s, neighbor)?;
    let x = match p {
        IpPrefix::V4(q) => s.router.explain_export(&q, peer),
        IpPrefix::V6(q) => s.router.explain_export(&q, peer),
    };
    let age = match p {
        IpPrefix::V4(q) => s.router.rib::<Ipv4Prefix>().get(&q).map(|e| e.changed_s),
        IpPrefix::V6(q) => s.router.rib::<Ipv6Prefix>().get(&q).map(|e| e.changed_s),
    }
    .map_or(0, |c| now_s(now).saturating_sub(c));
    let sent: Vec<_> = x
        .sent
        .iter()
        .map(|(id, src, attrs)| dump::route(s, &p, *src, *id, attrs, false, age))
        .collect();
    let family = match p {
        IpPrefix::V4(_) => "IPv4 unicast",
        IpPrefix::V6(_) => "IPv6 unicast",
    };
    let (code, reason) = match x.refusal {
        None if x.past_limit > 0 => (
            None,
            format!(
                "advertised ({} path(s) sent; {} more past the ADD-PATH limit of {:?})",
                sent.len(),
                x.past_limit,
                x.mode
            ),
        ),
        None => (None, format!("advertised ({} path(s))", sent.len())),
        Some(r) => {
            let (code, words) = match r {
                Refusal::SessionNotEstablished => (
                    "session_not_established",
                    format!(
                        "the session with {neighbor} is not Established (it is {})",
                        s.session_state(neighbor).map_or("unknown".into(), |st| st.to_string())
                    ),
                ),
                Refusal::FamilyNotNegotiated => (
                    "family_not_negotiated",
                    format!("the session with {neighbor} did not negotiate {family} (RFC 4760)"),
                ),
                Refusal::NoRoute => ("no_route", format!("there is no usable path for {p}")),
                Refusal::SplitHorizon => (
                    "split_horizon",
                    format!("the path to send was learned from {neighbor} itself: it is not sent back"),
                ),
                Refusal::Rule(ExportRule::NoAdvertise) => (
                    "no_advertise",
                    "it carries the NO_ADVERTISE community (RFC 1997): sent to no peer".into(),
                ),
                Refusal::Rule(ExportRule::NoExport) => (
                    "no_export",
                    format!("it carries the NO_EXPORT community (RFC 1997) and {neighbor} is an external peer"),
                ),
                Refusal::Rule(ExportRule::IbgpNonClient) => (
                    "ibgp_to_ibgp_non_client",
                    format!(
                        "it was learned from an iBGP peer that is not a route reflector client, and {neighbor} is an iBGP non-client: RFC 4456 §8 reflects a non-client's routes to clients only"
                    ),
                ),
                Refusal::ExportPolicy(rule) => {
                    let lines = s
                        .peer_at(neighbor)
                        .map(|p| policy_lines(&p.spec.router.export))
                        .unwrap_or_default();
                    let which = match rule {
                        Some(i) => lines
                            .get(i)
                            .cloned()
                            .unwrap_or_else(|| format!("rule {}", i + 1)),
                        None => lines.last().cloned().unwrap_or_else(|| "default: reject".into()),
                    };
                    (
                        "export_policy",
                        format!("{neighbor}'s export policy rejects it: {which}"),
                    )
                }
                Refusal::Pending => (
                    "pending",
                    "it may be sent, and is waiting for the update group's next flush (MRAI) or the peer's catch-up".into(),
                ),
            };
            (Some(code.to_string()), words)
        }
    };
    Ok(ExplainTo {
        prefix: p.to_string(),
        neighbor,
        advertised: !sent.is_empty(),
        sent,
        reason_code: code,
        reason,
    })
}

fn now_s(now: Instant) -> u32 {
    (now.total_millis() / 1000).min(u64::from(u32::MAX)) as u32
}
