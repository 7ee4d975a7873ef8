//! Configuration reload (SIGHUP): neighbours added, removed (Cease 6/3, RFC
//! 4486), changed (Cease 6/6, or in place when only the router's side of the
//! neighbour changed, with ROUTE-REFRESH, RFC 2918, for an import change), and
//! originated routes updated.

use std::collections::{HashMap, HashSet};

use nexthop_core::wire::Family;
use nexthop_core::wire::codes::cease_subcode;
use nexthop_router::prefix::IpPrefix;
use nexthop_router::router::{Reconfigured, Router};

use crate::config::Config;
use crate::neighbor::{self, PeerSpec};
use crate::{Instant, ReloadSummary, Speaker};

impl Speaker {
    /// Applies a new config (SIGHUP): untouched neighbours keep their sessions,
    /// removed ones get Cease 6/3 (Peer De-configured), changed ones Cease 6/6
    /// (Other Configuration Change) and restart, new ones start. Dynamic sessions
    /// no longer covered by a range end with Cease 6/3; those whose range's
    /// options changed (any of them: the session is rebuilt from the range and
    /// compared whole) end with Cease 6/6, and the peer may connect again. A
    /// change of `[router]` AS, router ID or cluster ID resets every session.
    /// Listen addresses are the runtime's to compare
    /// ([`Speaker::listen_addresses`]).
    pub fn handle_reload(&mut self, now: Instant, config: Config) -> ReloadSummary {
        let mut summary = ReloadSummary::default();
        if self.shutting_down {
            return summary;
        }
        let old = std::mem::replace(&mut self.config, config);
        if old.control != self.config.control {
            tracing::warn!("[control] changed: it takes effect at the next start");
            summary.control_changed = true;
        }
        let r = &self.config.router;
        if (r.asn, r.router_id, r.cluster_id)
            != (old.router.asn, old.router.router_id, old.router.cluster_id)
        {
            tracing::info!("router identity changed: every session restarts");
            for i in 0..self.peers.len() {
                if self.peers[i].is_some() {
                    self.stop_peer(i, now, cease_subcode::OTHER_CONFIGURATION_CHANGE);
                }
            }
            self.router = Router::new(neighbor::router_config(&self.config.router));
            self.idle_router_peers.clear();
            for n in &self.config.neighbors.clone() {
                if old.neighbors.iter().any(|o| o.address == n.address) {
                    summary.changed += 1;
                } else {
                    summary.added += 1;
                }
                let i = self.add_peer(neighbor::static_peer(&self.config.router, n), false);
                self.start(i, now);
            }
            summary.removed = old
                .neighbors
                .iter()
                .filter(|o| !self.config.neighbors.iter().any(|n| n.address == o.address))
                .count();
            for o in &self.config.originate.clone() {
                self.originate(o, now);
            }
            self.take_router_output();
            return summary;
        }

        // Removed neighbours.
        for o in &old.neighbors {
            if !self.config.neighbors.iter().any(|n| n.address == o.address)
                && let Some(&i) = self.by_addr.get(&o.address)
            {
                tracing::info!(neighbor = %o.address, "neighbour removed");
                self.stop_peer(i, now, cease_subcode::PEER_DECONFIGURED);
                summary.removed += 1;
            }
        }
        // Changed and new ones.
        for n in &self.config.neighbors.clone() {
            let spec = neighbor::static_peer(&self.config.router, n);
            match self.by_addr.get(&n.address).copied() {
                Some(i) => {
                    let same = self.peers[i]
                        .as_ref()
                        .is_some_and(|p| !p.dynamic && p.spec == spec);
                    if same {
                        summary.unchanged += 1;
                        continue;
                    }
                    if self.reconfigure_in_place(i, &spec, now) {
                        tracing::info!(neighbor = %n.address, "neighbour policy changed in place");
                        summary.changed += 1;
                        continue;
                    }
                    let was_static = self.peers[i].as_ref().is_some_and(|p| !p.dynamic);
                    tracing::info!(neighbor = %n.address, "neighbour changed");
                    self.stop_peer(i, now, cease_subcode::OTHER_CONFIGURATION_CHANGE);
                    if was_static {
                        summary.changed += 1;
                    } else {
                        summary.added += 1;
                    }
                }
                None => summary.added += 1,
            }
            let i = self.add_peer(spec, false);
            self.start(i, now);
        }
        // Dynamic sessions.
        for i in 0..self.peers.len() {
            let Some(p) = self.peers[i].as_ref().filter(|p| p.dynamic) else {
                continue;
            };
            let address = p.spec.address;
            let want = neighbor::dynamic_neighbor_for(&self.config, address)
                .map(|d| neighbor::dynamic_peer(&self.config.router, d, address));
            match want {
                Some(spec) if spec == p.spec => {}
                Some(_) => self.stop_peer(i, now, cease_subcode::OTHER_CONFIGURATION_CHANGE),
                None => self.stop_peer(i, now, cease_subcode::PEER_DECONFIGURED),
            }
        }
        // A disabled address no longer configured nor in a range is forgotten.
        self.forget_unconfigured_disabled();
        self.reapply_graceful(now);
        // Originated routes.
        let before: HashMap<_, _> = old.originate.iter().map(|o| (o.prefix, o)).collect();
        let after: HashSet<_> = self.config.originate.iter().map(|o| o.prefix).collect();
        for o in &old.originate {
            if !after.contains(&o.prefix) {
                match neighbor::ip_prefix(&o.prefix) {
                    IpPrefix::V4(p) => self.router.withdraw_originated(p, now),
                    IpPrefix::V6(p) => self.router.withdraw_originated(p, now),
                }
            }
        }
        for o in &self.config.originate.clone() {
            if before.get(&o.prefix) != Some(&o) {
                self.originate(o, now);
            }
        }
        summary
    }

    /// A change of the router side only (policy, reflection, max-prefix) applied
    /// to peer `i` without a reset; an import change asks the peer for its
    /// routes again with ROUTE-REFRESH (RFC 2918) when it supports it. `false`
    /// when the session must be reset instead.
    fn reconfigure_in_place(&mut self, i: usize, spec: &PeerSpec, now: Instant) -> bool {
        let Some(p) = self.peers[i].as_mut().filter(|p| !p.dynamic) else {
            return false;
        };
        let old = &p.spec;
        let session_same = old.session == spec.session
            && (
                old.port,
                old.bind,
                &old.md5_key,
                old.min_ttl,
                old.connect_timeout,
            ) == (
                spec.port,
                spec.bind,
                &spec.md5_key,
                spec.min_ttl,
                spec.connect_timeout,
            );
        if !session_same {
            return false;
        }
        let info = p.session.session_info().copied();
        let refresh_ok = info.is_some_and(|i| i.route_refresh) && p.established.is_some();
        if p.established.is_some() && !refresh_ok && old.router.import != spec.router.import {
            // The peer's routes cannot be asked for again.
            return false;
        }
        match self
            .router
            .reconfigure_peer(p.router_peer, spec.router.clone(), now)
        {
            Reconfigured::Applied => {}
            Reconfigured::RouteRefreshNeeded => {
                let Some(info) = info.filter(|_| refresh_ok) else {
                    return false;
                };
                // Through the session: it writes the ROUTE-REFRESH with core's
                // emitter, and refuses where RFC 2918 §4 forbids it.
                for f in [Family::IPV4_UNICAST, Family::IPV6_UNICAST] {
                    if info.families.contains(f)
                        && let Err(e) = p.session.request_route_refresh(f)
                    {
                        tracing::warn!(neighbor = %p.spec.address, family = %f, error = %e, "route refresh not sent");
                    }
                }
            }
            Reconfigured::ResetNeeded => return false,
        }
        p.spec = spec.clone();
        self.drive(i, now);
        self.take_router_output();
        true
    }
}
