//! The control API's answers ([`nexthop_control::Backend`] for [`Speaker`]):
//! status, neighbours (summary and detail), the operator's actions (in
//! `actions.rs`), watch events (in `watch.rs`) and the metrics snapshot. The
//! route half (dumps, summaries, explain) is in `routes.rs`. Every call does
//! work bounded by the number of neighbours, never by the table.

pub(crate) mod actions;
pub(crate) mod dump;
mod json;
mod policy_text;
pub(crate) mod routes;
pub(crate) mod stats;
pub(crate) mod watch;

use std::collections::HashMap;
use std::net::IpAddr;

use nexthop_control::{
    Action, ActionResult, ApiError, Backend, Explain, ExplainTo, Family, FamilyCounts,
    FamilySummary, MetricsSnapshot, Negotiated, NeighborDetail, NeighborMetrics, NeighborSummary,
    Route, RouteCursor, RouteQuery, RouteSummary, Status, WatchEvent,
};
use nexthop_core::session::State;
use nexthop_core::wire::Family as WireFamily;
use nexthop_router::prefix::{Ipv4Prefix, Ipv6Prefix};

use crate::{Instant, Peer, Speaker};

use actions::GracefulShutdown;
use watch::Watch;

/// The operator's state kept in the speaker.
#[derive(Debug, Default)]
pub(crate) struct ControlState {
    /// Neighbours disabled by the operator, with the shutdown communication:
    /// they stay down (across reloads, and for a dynamic address too) until
    /// enabled.
    disabled: HashMap<IpAddr, String>,
    /// Graceful shutdowns (RFC 8326) waiting for their Cease.
    graceful: Vec<GracefulShutdown>,
    /// `GracefulShutdownAll`: when every session ends.
    shutdown_at: Option<Instant>,
    pub(crate) watch: Watch,
}

impl ControlState {
    pub(crate) fn is_disabled(&self, address: IpAddr) -> bool {
        !self.disabled.is_empty() && self.disabled.contains_key(&address)
    }

    /// The earliest graceful-shutdown deadline.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.graceful
            .iter()
            .map(|g| g.at)
            .chain(self.shutdown_at)
            .min()
    }

    pub(crate) fn watching(&self) -> bool {
        self.watch.on
    }

    pub(crate) fn state_changed(&mut self, neighbor: IpAddr, from: State, to: State) {
        if self.watch.on {
            self.watch.state_changed(neighbor, from, to);
        }
    }

    pub(crate) fn down_reason(&mut self, neighbor: IpAddr, reason: String) {
        if self.watch.on {
            self.watch.down_reason(neighbor, reason);
        }
    }
}

fn api_family(f: WireFamily) -> Option<Family> {
    if f == WireFamily::IPV4_UNICAST {
        Some(Family::Ipv4)
    } else if f == WireFamily::IPV6_UNICAST {
        Some(Family::Ipv6)
    } else {
        None
    }
}

fn secs(now: Instant, since: Instant) -> u64 {
    (now - since).total_secs()
}

impl Speaker {
    /// When a `GracefulShutdownAll` ends every session (the daemon exits once
    /// [`Speaker::is_shut_down`] after it).
    pub fn graceful_shutdown_at(&self) -> Option<Instant> {
        self.control.shutdown_at
    }

    fn peers_sorted(&self) -> Vec<&Peer> {
        let mut v: Vec<&Peer> = self.peers.iter().flatten().collect();
        v.sort_by_key(|p| p.spec.address);
        v
    }

    fn peer_families(&self, p: &Peer) -> Vec<FamilyCounts> {
        let fams = match p.session.session_info() {
            Some(info) => info.families,
            None => p.spec.session.capabilities.families,
        };
        let list: Vec<Family> = [WireFamily::IPV4_UNICAST, WireFamily::IPV6_UNICAST]
            .into_iter()
            .filter(|&f| fams.contains(f))
            .filter_map(api_family)
            .collect();
        let (r, peer) = (&self.router, p.router_peer);
        list.iter()
            .map(|&family| {
                let (received, accepted, advertised) = match family {
                    Family::Ipv4 => (
                        r.received_count::<Ipv4Prefix>(peer),
                        r.accepted_count::<Ipv4Prefix>(peer),
                        r.advertised_count::<Ipv4Prefix>(peer),
                    ),
                    Family::Ipv6 => (
                        r.received_count::<Ipv6Prefix>(peer),
                        r.accepted_count::<Ipv6Prefix>(peer),
                        r.advertised_count::<Ipv6Prefix>(peer),
                    ),
                };
                let (received, accepted, advertised) = (
                    u64::from(received),
                    u64::from(accepted),
                    u64::from(advertised),
                );
                FamilyCounts {
                    family,
                    received,
                    accepted,
                    advertised,
                }
            })
            .collect()
    }

    fn summary_of(&self, now: Instant, p: &Peer) -> NeighborSummary {
        let state = p.session.state();
        let up = state == State::Established;
        let families = self.peer_families(p);
        let remote_asn = p
            .session
            .session_info()
            .map(|i| i.peer_asn)
            .or(p.spec.session.remote_asn);
        NeighborSummary {
            address: p.spec.address,
            remote_asn,
            state: state.name().to_string(),
            dynamic: p.dynamic,
            disabled: self.control.is_disabled(p.spec.address),
            uptime_s: up.then(|| secs(now, p.stats.up_since.unwrap_or(now))),
            downtime_s: (!up).then(|| secs(now, p.stats.down_since.unwrap_or(self.started))),
            prefixes_received: families.iter().map(|f| f.received).sum(),
            prefixes_accepted: families.iter().map(|f| f.accepted).sum(),
            prefixes_advertised: families.iter().map(|f| f.advertised).sum(),
            families,
            last_error: p.stats.last_error.as_ref().map(|e| e.to_api(now)),
            flaps: p.stats.flaps,
        }
    }

    fn negotiated_of(&self, p: &Peer) -> Option<Negotiated> {
        let info = p.session.session_info()?;
        let families = [WireFamily::IPV4_UNICAST, WireFamily::IPV6_UNICAST]
            .into_iter()
            .filter(|&f| info.families.contains(f))
            .filter_map(api_family)
            .collect();
        let mut add_path = Vec::new();
        for f in [WireFamily::IPV4_UNICAST, WireFamily::IPV6_UNICAST] {
            let Some(af) = api_family(f) else { continue };
            let receive = info.negotiated.add_path_receive.contains(f);
            let send = info.negotiated.add_path_send.contains(f);
            let mode = match (receive, send) {
                (true, true) => "both",
                (true, false) => "receive",
                (false, true) => "send",
                (false, false) => continue,
            };
            add_path.push((af, mode.to_string()));
        }
        let local_address = p
            .established
            .and_then(|k| self.conns.get(&k))
            .and_then(|c| c.local)
            .map(|a| a.ip().to_canonical());
        Some(Negotiated {
            peer_router_id: std::net::Ipv4Addr::from(info.peer_id),
            hold_time_s: info.hold_time,
            keepalive_s: info.keepalive_time.total_secs(),
            families,
            four_octet_as: info.negotiated.four_octet_as,
            route_refresh: info.route_refresh,
            enhanced_route_refresh: info.enhanced_route_refresh,
            extended_message: info.negotiated.extended_message,
            add_path,
            graceful_restart: info.graceful_restart.is_some(),
            internal: info.internal,
            local_address,
        })
    }

    fn config_lines(p: &Peer) -> Vec<(String, String)> {
        let s = &p.spec.session;
        let r = &p.spec.router;
        let kv = |k: &str, v: String| (k.to_string(), v);
        let mut v = vec![
            kv("port", p.spec.port.to_string()),
            kv("hold_time", s.hold_time.to_string()),
            kv("keepalive_time", s.keepalive_time.total_secs().to_string()),
            kv(
                "connect_retry_time",
                s.connect_retry_time.total_secs().to_string(),
            ),
            kv("passive", s.passive_tcp_establishment.to_string()),
            kv(
                "route_reflector_client",
                r.route_reflector_client.to_string(),
            ),
            kv("route_server_client", r.route_server_client.to_string()),
            kv("enforce_first_as", r.enforce_first_as.to_string()),
            kv("add_path_send", format!("{:?}", r.add_path_send)),
            kv(
                "md5_key",
                if p.spec.md5_key.is_some() {
                    "set"
                } else {
                    "unset"
                }
                .to_string(),
            ),
        ];
        if let Some(remote_asn) = s.remote_asn {
            v.insert(0, kv("remote_asn", remote_asn.to_string()));
        }
        if let Some(m) = r.max_prefix {
            v.push(kv("max_prefix", m.to_string()));
        }
        if let Some(t) = p.spec.min_ttl {
            v.push(kv("min_ttl", t.to_string()));
        }
        if let Some(b) = p.spec.bind {
            v.push(kv("bind_addr", b.to_string()));
        }
        if let Some(m) = r.mrai {
            v.push(kv("mrai", m.total_secs().to_string()));
        }
        v
    }

    fn detail_of(&self, now: Instant, p: &Peer) -> NeighborDetail {
        let rules = policy_text::policy_lines;
        let router_config = self.router_peer_config(p);
        NeighborDetail {
            summary: self.summary_of(now, p),
            config: Self::config_lines(p),
            negotiated: self.negotiated_of(p),
            messages_received: p.stats.received,
            messages_sent: p.stats.sent,
            notifications: p.stats.notification_counts(),
            import_policy: rules(&router_config.import),
            export_policy: rules(&router_config.export),
            graceful_shutdown_in_s: self
                .control
                .graceful
                .iter()
                .find(|g| g.address == p.spec.address)
                .map(|g| secs(g.at, now)),
            update_group: self.router.group_of(p.router_peer),
            output_pending_bytes: self.pending_bytes(p),
        }
    }

    /// The policy in force for `p`: the configured one, or the graceful
    /// shutdown's while one runs.
    fn router_peer_config<'a>(&'a self, p: &'a Peer) -> &'a nexthop_router::peer::PeerConfig {
        self.control
            .graceful
            .iter()
            .find(|g| g.address == p.spec.address)
            .map_or(&p.spec.router, |g| &g.in_force)
    }

    fn pending_bytes(&self, p: &Peer) -> u64 {
        let session: usize = p.conns.iter().map(|&(_, k)| self.queued_bytes(k)).sum();
        (session + self.router.pending_output(p.router_peer)) as u64
    }

    fn peer_index(&self, address: IpAddr) -> Option<usize> {
        self.by_addr.get(&address.to_canonical()).copied()
    }
}

impl Backend for Speaker {
    type Instant = Instant;

    fn status(&self, now: Instant) -> Status {
        let peers = self.peers.iter().flatten();
        Status {
            version: String::new(),
            asn: self.config.router.asn,
            router_id: self.config.router.router_id,
            uptime_s: secs(now, self.started),
            runtime: String::new(),
            neighbors: self.by_addr.len(),
            established: peers
                .filter(|p| p.session.state() == State::Established)
                .count(),
            shutting_down: self.shutting_down || self.control.shutdown_at.is_some(),
        }
    }

    fn neighbors(&self, now: Instant) -> Vec<NeighborSummary> {
        self.peers_sorted()
            .into_iter()
            .map(|p| self.summary_of(now, p))
            .collect()
    }

    fn neighbor(&self, now: Instant, address: IpAddr) -> Result<NeighborDetail, ApiError> {
        self.peer_at(address)
            .map(|p| self.detail_of(now, p))
            .ok_or_else(|| ApiError::unknown_neighbor(address))
    }

    fn check_routes(&self, query: &RouteQuery) -> Result<(), ApiError> {
        routes::check_routes(self, query)
    }

    fn routes(
        &self,
        now: Instant,
        query: &RouteQuery,
        cursor: &mut RouteCursor,
        max: usize,
        out: &mut Vec<Route>,
    ) -> Result<(), ApiError> {
        routes::routes(self, now, query, cursor, max, out)
    }

    fn routes_json(
        &self,
        now: Instant,
        query: &RouteQuery,
        cursor: &mut RouteCursor,
        max: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, ApiError> {
        let mut sink = json::JsonSink::new(out);
        routes::routes(self, now, query, cursor, max, &mut sink)?;
        Ok(dump::Sink::len(&sink))
    }

    fn route_summary(&self, query: &RouteQuery) -> Result<RouteSummary, ApiError> {
        routes::route_summary(self, query)
    }

    fn explain(&self, now: Instant, prefix: &str) -> Result<Explain, ApiError> {
        routes::explain(self, now, prefix)
    }

    fn explain_to(
        &self,
        now: Instant,
        prefix: &str,
        neighbor: IpAddr,
    ) -> Result<ExplainTo, ApiError> {
        routes::explain_to(self, now, prefix, neighbor)
    }

    fn act(&mut self, now: Instant, action: Action) -> Result<ActionResult, ApiError> {
        self.handle_action(now, action)
    }

    fn set_watching(&mut self, on: bool) {
        self.control.watch.set(on);
        // Best-path changes are collected only while someone watches.
        self.router.set_report_loc_rib(on);
    }

    fn poll_event(&mut self) -> Option<WatchEvent> {
        self.control.watch.pop()
    }

    fn metrics(&self, now: Instant) -> MetricsSnapshot {
        let neighbors = self
            .peers_sorted()
            .into_iter()
            .map(|p| NeighborMetrics {
                address: p.spec.address,
                remote_asn: self.summary_of(now, p).remote_asn,
                state: p.session.state().name(),
                established_total: p.stats.established_total,
                flaps: p.stats.flaps,
                families: self.peer_families(p),
                received: p.stats.received,
                sent: p.stats.sent,
                notifications: p.stats.notification_counts(),
                output_pending_bytes: self.pending_bytes(p),
            })
            .collect();
        let v4 = self.router.rib::<Ipv4Prefix>();
        let v6 = self.router.rib::<Ipv6Prefix>();
        MetricsSnapshot {
            neighbors,
            rib: vec![
                FamilySummary {
                    family: Family::Ipv4,
                    prefixes: v4.len() as u64,
                    paths: v4.path_count() as u64,
                },
                FamilySummary {
                    family: Family::Ipv6,
                    prefixes: v6.len() as u64,
                    paths: v6.path_count() as u64,
                },
            ],
            update_groups: self.router.group_count() as u64,
            attribute_sets: self.router.attribute_sets() as u64,
            rejected_paths: self.router.stats().rejected_paths,
            events_lost: self.control.watch.lost_total,
        }
    }
}
